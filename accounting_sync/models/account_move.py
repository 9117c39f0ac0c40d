from odoo import api, models

from ..const import MOVE_KINDS, SENT_FIELDS
from ..providers import documents as doc
from .run_context import MappingError, dec


class AccountMove(models.Model):
    """Invoices, credit notes, bills, vendor refunds and miscellaneous entries: what each is
    sent as, its provider-neutral record, and the queue marks of posting, editing and
    cancelling."""

    _name = "account.move"
    _inherit = ["account.move", "accounting.sync.mixin"]

    # -- the queue -------------------------------------------------------------------------------

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._accounting_sync_mark_due()
        return posted

    def button_cancel(self):
        result = super().button_cancel()
        # Only what was sent is voided (a cancelled move never sent is forgotten).
        self.filtered(lambda m: m.state == "cancel")._accounting_sync_mark_due(void=True)
        return result

    def write(self, vals):
        result = super().write(vals)
        if SENT_FIELDS["account.move"] & set(vals):
            self.filtered(lambda m: m.state == "posted")._accounting_sync_mark_due(
                create=False)
        return result

    # -- the contract -----------------------------------------------------------------------------

    def _accounting_sync_kind(self, connection):
        self.ensure_one()
        if self.state not in ("posted", "cancel") or self.date < connection.sync_start_date:
            return None
        if self.move_type in MOVE_KINDS:
            return MOVE_KINDS[self.move_type]
        if self.move_type == "entry" and self.journal_id.type == "general" and \
                not self.origin_payment_id and not self.statement_line_id:
            return "journal_entry"
        return None

    def _accounting_sync_dependencies(self, connection):
        documents = self.filtered(lambda m: m.move_type in MOVE_KINDS)
        return [documents.commercial_partner_id, documents.invoice_line_ids.product_id,
                self._accounting_sync_default_product(connection)]

    def _accounting_sync_default_product(self, connection):
        """The connection's Default Product, if a line of these needs it (no product, on a
        document whose provider needs an item on every line)."""
        product = connection.default_product_id
        required = connection._capabilities().item_required_kinds
        if product and any(MOVE_KINDS.get(m.move_type) in required and m.invoice_line_ids.filtered(
                lambda l: l.display_type == "product" and not l.product_id) for m in self):
            return product
        return self.env["product.product"]

    def _accounting_sync_references(self, connection):
        return list(self.commercial_partner_id) + list(
            self.invoice_line_ids.product_id | connection.default_product_id) + list(
            self.line_ids.partner_id.commercial_partner_id)

    def _accounting_sync_prefetch(self):
        lines = self.line_ids
        lines.mapped("tax_ids")
        lines.mapped("account_id")

    def _accounting_sync_build(self, context, binding):
        self.ensure_one()
        if binding.remote_type == "journal_entry":
            return self._accounting_sync_build_entry(context)
        party = context.dependency_ref(self.commercial_partner_id)
        lines = []
        for line in self.invoice_line_ids.filtered(lambda l: l.display_type == "product"):
            if len(line.tax_ids) > 1:
                raise MappingError(self.env._(
                    "Line “%(line)s” has several taxes; send it with one (combined) tax.",
                    line=line.name))
            lines.append(doc.Line(
                description=line.name or line.product_id.display_name or "/",
                quantity=dec(line.quantity, 4), unit_price=dec(line.price_unit, 6),
                amount=dec(line.price_subtotal),
                account=context.account_ref(line.account_id),
                tax=context.tax_ref(line.tax_ids) if line.tax_ids else None,
                tax_amount=dec(line.price_total - line.price_subtotal),
                item=context.item_ref(line.product_id, binding.remote_type),
                discount_percent=dec(line.discount) if line.discount else None,
            ))
        if not lines:
            raise MappingError(self.env._("The document has no lines to send."))
        connection = context.connection
        return doc.Document(
            key=None, kind=binding.remote_type, number=self.name,
            date=self.invoice_date or self.date, due_date=self.invoice_date_due or None,
            party=party, currency=self.currency_id.name, lines=lines,
            amount_untaxed=dec(self.amount_untaxed), amount_tax=dec(self.amount_tax),
            amount_total=dec(self.amount_total),
            exchange_rate=context.exchange_rate(self.currency_id, self.amount_total,
                                                self.amount_total_signed),
            reference=self.ref or None,
            tax_code=doc.Ref(connection.remote_tax_code)
            if connection.remote_tax_code and self.amount_tax else None,
        )

    def _accounting_sync_build_entry(self, context):
        lines = []
        for line in self.line_ids:
            partner = line.partner_id.commercial_partner_id
            partner_binding = partner and context.binding_of(partner)
            lines.append(doc.JournalLine(
                account=context.account_ref(line.account_id),
                debit=dec(line.debit), credit=dec(line.credit),
                description=line.name or None,
                party=doc.Ref(partner_binding.remote_id, partner.name)
                if partner_binding and partner_binding.remote_id else None,
            ))
        return doc.JournalEntry(
            key=None, kind="journal_entry", date=self.date, number=self.name, lines=lines,
            currency=self.company_id.currency_id.name, narration=self.ref or self.name,
        )

    @api.model
    def _accounting_sync_scope(self, connection):
        """The moves in ``connection``'s scope (used once, when the scope or the start date
        changes: what that brings in is queued)."""
        types = list(connection._allowed_move_types())
        domain = [("company_id", "=", connection.company_id.id), ("state", "=", "posted"),
                  ("date", ">=", connection.sync_start_date)]
        moves = self.search(domain + [("move_type", "in", types)], order="date, id")
        if "journal_entry" in connection._allowed_kinds():
            moves |= self.search(domain + [
                ("move_type", "=", "entry"), ("journal_id.type", "=", "general"),
                ("origin_payment_id", "=", False), ("statement_line_id", "=", False)],
                order="date, id")
        return moves

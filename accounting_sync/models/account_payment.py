from odoo import api, models

from ..const import MOVE_KINDS, PAYMENT_KINDS, SENT_FIELDS
from ..providers import documents as doc
from .run_context import MappingError, dec


class AccountPayment(models.Model):
    """Customer and vendor payments: what each is sent as, its provider-neutral record (with
    the documents it pays), and the queue marks of posting, cancelling and reconciling."""

    _name = "account.payment"
    _inherit = ["account.payment", "accounting.sync.mixin"]

    # -- the queue -------------------------------------------------------------------------------

    def action_post(self):
        result = super().action_post()
        self.filtered(lambda p: p.state in ("in_process", "paid"))._accounting_sync_mark_due()
        return result

    def action_cancel(self):
        result = super().action_cancel()
        self.filtered(lambda p: p.state == "canceled")._accounting_sync_mark_due(void=True)
        return result

    def write(self, vals):
        result = super().write(vals)
        if SENT_FIELDS["account.payment"] & set(vals):
            self.filtered(lambda p: p.state in ("in_process", "paid"))._accounting_sync_mark_due(
                create=False)
        return result

    # -- the contract -----------------------------------------------------------------------------

    def _accounting_sync_kind(self, connection):
        self.ensure_one()
        if self.state not in ("in_process", "paid", "canceled") or \
                self.date < connection.sync_start_date:
            return None
        return PAYMENT_KINDS.get(self.partner_type)

    def _accounting_sync_dependencies(self, connection):  # pylint: disable=unused-argument
        invoices = self.reconciled_invoice_ids | self.reconciled_bill_ids
        return [self.partner_id.commercial_partner_id, invoices]

    def _accounting_sync_references(self, connection):  # pylint: disable=unused-argument
        return list(self.partner_id.commercial_partner_id) + list(
            self.reconciled_invoice_ids | self.reconciled_bill_ids)

    def _accounting_sync_prefetch(self):
        lines = self.move_id.line_ids
        lines.mapped("account_id")
        partials = lines.mapped("matched_debit_ids") | lines.mapped("matched_credit_ids")
        (partials.mapped("debit_move_id") | partials.mapped("credit_move_id")).mapped("move_id")

    def _accounting_sync_build(self, context, binding):
        self.ensure_one()
        party = context.dependency_ref(self.partner_id.commercial_partner_id)
        allocations = []
        counterpart_lines = self.move_id.line_ids.filtered(
            lambda l: l.account_id.account_type in ("asset_receivable", "liability_payable"))
        for partial in counterpart_lines.matched_debit_ids | counterpart_lines.matched_credit_ids:
            other = (partial.debit_move_id | partial.credit_move_id) - counterpart_lines
            move = other.move_id
            if move.move_type not in MOVE_KINDS:
                continue
            same_currency = move.currency_id == self.currency_id
            amount = (partial.debit_amount_currency if partial.debit_move_id == other
                      else partial.credit_amount_currency) if same_currency else partial.amount
            allocations.append(doc.Allocation(
                document=context.dependency_ref(move),
                document_kind=MOVE_KINDS[move.move_type], amount=dec(amount)))
        if not allocations:
            raise MappingError(self.env._(
                "The payment is not reconciled with a synced invoice or bill yet."))
        return doc.Payment(
            key=None, kind=binding.remote_type, date=self.date, party=party,
            amount=dec(self.amount), currency=self.currency_id.name,
            account=context.account_ref(self.journal_id.default_account_id),
            allocations=allocations,
            exchange_rate=context.exchange_rate(self.currency_id, self.amount,
                                                self.amount_company_currency_signed),
            number=self.name, reference=self.memo or None,
        )

    @api.model
    def _accounting_sync_scope(self, connection):
        kinds = connection._allowed_kinds()
        types = [t for t, kind in PAYMENT_KINDS.items() if kind in kinds]
        return self.search([("company_id", "=", connection.company_id.id),
                            ("partner_type", "in", types), ("state", "in", ("in_process", "paid")),
                            ("date", ">=", connection.sync_start_date)], order="date, id")

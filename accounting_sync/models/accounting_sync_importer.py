from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..providers import ProviderError
from ..providers.matching import Candidate, choose_party, choose_product, index

# Remote document kinds -> Odoo move types.
MOVE_TYPES = {"invoice": "out_invoice", "credit_note": "out_refund", "bill": "in_invoice",
              "vendor_credit": "in_refund"}
SALES_KINDS = ("invoice", "credit_note")


class AccountingSyncImporter(models.AbstractModel):
    """Records made remotely, brought into Odoo where the connection says so (each kind is
    off by default): contacts and items linked to the Odoo partner or product the push's
    matching rules would link them to, or created; invoices, credit notes, bills and vendor
    credits created as **drafts** through the reverse of the account and tax mappings, for
    the accountant to review and post. Each is bound to its remote record (recorded
    remotely), so it is never sent back as new."""

    _name = "accounting.sync.importer"
    _description = "Accounting Sync: import records made remotely"

    @api.model
    def _enabled(self, connection, kind):
        return {"customer": connection.import_contacts, "vendor": connection.import_contacts,
                "contact": connection.import_contacts, "product": connection.import_products,
                "invoice": connection.import_sales, "credit_note": connection.import_sales,
                "bill": connection.import_purchases,
                "vendor_credit": connection.import_purchases}.get(kind, False)

    def _bind(self, connection, record, kind, remote):
        return self.env["accounting.sync.binding"].sudo().create({
            "connection_id": connection.id, "res_model": record._name, "res_id": record.id,
            "record_name": record.display_name, "remote_type": kind, "origin": "remote",
            "state": "synced", "remote_id": remote.remote_id,
            "remote_version": remote.remote_version,
            "remote_number": getattr(remote, "number", None),
            "remote_company_id": connection.remote_company_id,
            "last_synced_at": fields.Datetime.now()})

    def _refuse(self, connection, decision):
        raise UserError(connection._message(ProviderError(code=decision.code,
                                                          params=decision.params)))

    def _unbound(self, connection, records):
        """``records`` less those already bound on ``connection``."""
        bound = self.env["accounting.sync.binding"].sudo().search([
            ("connection_id", "=", connection.id), ("res_model", "=", records._name),
            ("res_id", "in", records.ids)]).mapped("res_id")
        return records.filtered(lambda r: r.id not in bound)

    # -- contacts and items -------------------------------------------------------------------

    def _import_party(self, connection, record):
        kind = next((k for k in record.kinds if k in ("customer", "vendor")), "customer")
        Partner = self.env["res.partner"].sudo().with_company(connection.company_id)
        company = [("company_id", "in", (False, connection.company_id.id))]
        found = Partner.search(company + ["|", ("name", "=ilike", record.name or ""),
                                          ("email", "=ilike", record.email or "-")], limit=50)
        found = self._unbound(connection, found)
        candidates = [Candidate(id=p.id, name=p.name, email=p.email) for p in found]
        decision = choose_party(connection._provider_label(), kind, record.name, record.email,
                                index(candidates, "name"), index(candidates, "email"))
        if decision.code:
            self._refuse(connection, decision)
        if decision.candidate:
            partner = Partner.browse(decision.candidate.id)
            said = self.env._("Linked to the Odoo contact %(name)s.", name=partner.display_name)
        else:
            values = {"name": record.name, "email": record.email, "phone": record.phone,
                      "vat": record.vat, "is_company": True,
                      "company_id": connection.company_id.id}
            address = record.address
            if address:
                country = self.env["res.country"].search(
                    [("code", "=", (address.country_code or "").upper())], limit=1)
                values.update(street=address.street, street2=address.street2,
                              city=address.city, zip=address.zip, country_id=country.id)
            partner = Partner.with_context(
                accounting_sync_from_connection=connection.id).create(values)
            said = self.env._("Created in Odoo as %(name)s.", name=partner.display_name)
        return self._bind(connection, partner, kind, record), said

    def _import_product(self, connection, record):
        Product = self.env["product.product"].sudo().with_company(connection.company_id)
        company = [("company_id", "in", (False, connection.company_id.id))]
        domain = [("name", "=ilike", record.name or "")]
        if record.code:
            domain = ["|", ("default_code", "=ilike", record.code)] + domain
        found = self._unbound(connection, Product.search(company + domain, limit=50))
        candidates = [Candidate(id=p.id, name=p.name, code=p.default_code) for p in found]
        decision = choose_product(connection._provider_label(), record.name, record.code,
                                  index(candidates, "code"), index(candidates, "name"),
                                  own_code=record.code)
        if decision.code:
            self._refuse(connection, decision)
        if decision.candidate:
            product = Product.browse(decision.candidate.id)
            said = self.env._("Linked to the Odoo product %(name)s.", name=product.display_name)
        else:
            product = Product.with_context(accounting_sync_from_connection=connection.id).create({
                "name": record.name, "default_code": record.code, "type": "service",
                "description_sale": record.description,
                "list_price": float(record.sale_price or 0.0),
                "standard_price": float(record.purchase_price or 0.0)})
            said = self.env._("Created in Odoo as %(name)s.", name=product.display_name)
        return self._bind(connection, product, "product", record), said

    # -- documents ------------------------------------------------------------------------------

    def _import_document(self, connection, record):
        """A draft Odoo invoice, credit note, bill or vendor credit of ``record``."""
        provider = connection._provider_label()
        Binding = self.env["accounting.sync.binding"].sudo()
        sales = record.kind in SALES_KINDS
        party = Binding.search([("connection_id", "=", connection.id),
                                ("remote_type", "in", ("customer", "vendor")),
                                ("remote_id", "=", record.party_id)], limit=1)
        if not party:
            raise UserError(self.env._(
                "Its %(role)s (%(provider)s id %(id)s) is not in Odoo: bring contacts in too "
                "(or sync that contact), then apply this change again.",
                role=self.env._("customer") if sales else self.env._("vendor"),
                provider=provider, id=record.party_id or "?"))
        currency = self.env["res.currency"].with_context(active_test=False).search(
            [("name", "=", record.currency)], limit=1) if record.currency \
            else connection.company_id.currency_id
        if not currency.active:
            raise UserError(self.env._(
                "Its currency %(currency)s is not active in Odoo: activate it (with its "
                "rates), then apply this change again.", currency=record.currency))
        lines = [Command.create(self._line_values(connection, line, sales))
                 for line in record.lines]
        move = self.env["account.move"].sudo().with_company(connection.company_id).with_context(
            accounting_sync_from_connection=connection.id).create({
                "move_type": MOVE_TYPES[record.kind], "partner_id": party.res_id,
                "invoice_date": record.date, "date": record.date,
                "invoice_date_due": record.due_date, "currency_id": currency.id,
                "ref": record.reference or record.number,
                "narration": self.env._("Made in %(provider)s (%(number)s).",
                                        provider=provider, number=record.number or ""),
                "company_id": connection.company_id.id, "invoice_line_ids": lines})
        said = self.env._("Created in Odoo as a draft to review and post.")
        return self._bind(connection, move, record.kind, record), said

    def _line_values(self, connection, line, sales):
        provider = connection._provider_label()
        Binding = self.env["accounting.sync.binding"].sudo()
        product = self.env["product.product"]
        if line.item_id:
            bound = Binding.search([("connection_id", "=", connection.id),
                                    ("remote_type", "=", "product"),
                                    ("remote_id", "=", line.item_id)], limit=1)
            product = product.browse(bound.res_id) if bound else product
        values = {"name": line.description or product.display_name or "/",
                  "quantity": float(line.quantity) if line.quantity else 1.0,
                  "price_unit": float(line.unit_price) if line.unit_price is not None else (
                      float(line.amount or 0.0))}
        if product:
            values["product_id"] = product.id
        account = self._mapped(connection, "account", line.account_id)
        if account:
            values["account_id"] = account.id
        elif line.account_id or not product:
            raise UserError(self.env._(
                "The %(provider)s account %(account)s of a line is not mapped to an Odoo "
                "account: map it (Mappings), then apply this change again.",
                provider=provider, account=line.account_id or "?"))
        if line.tax_id:
            tax = self._mapped(connection, "tax", line.tax_id, sales=sales)
            if tax:
                values["tax_ids"] = [Command.set(tax.ids)]
            elif not self._exempt(connection, line.tax_id):
                raise UserError(self.env._(
                    "The %(provider)s tax %(tax)s of a line is not mapped to an Odoo tax: map "
                    "it (Mappings), then apply this change again.",
                    provider=provider, tax=line.tax_id))
            else:
                values["tax_ids"] = [Command.clear()]
        return values

    def _mapped(self, connection, kind, remote_id, sales=True):
        """The Odoo account or tax mapped to the remote one (the first, if several)."""
        if not remote_id:
            return None
        mappings = self.env["accounting.sync.mapping"].sudo().search([
            ("connection_id", "=", connection.id), ("kind", "=", kind),
            ("remote_record_id.remote_id", "=", remote_id)], order="id")
        if kind == "account":
            return mappings.account_id[:1]
        use = "sale" if sales else "purchase"
        return mappings.tax_id.filtered(lambda t: t.type_tax_use == use)[:1]

    def _exempt(self, connection, remote_id):
        remote = self.env["accounting.sync.remote.record"].sudo().search([
            ("connection_id", "=", connection.id), ("kind", "=", "tax"),
            ("remote_id", "=", remote_id)], limit=1)
        return bool(remote and (remote.exempt or (remote.rate_known and not remote.rate)))

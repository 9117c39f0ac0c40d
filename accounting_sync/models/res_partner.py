from odoo import models

from ..const import SENT_FIELDS
from ..providers import documents as doc


class ResPartner(models.Model):
    """Customers and vendors: sent as the commercial partner of the documents and payments
    that need them; an edit of what is sent marks their sync states due."""

    _name = "res.partner"
    _inherit = ["res.partner", "accounting.sync.mixin"]

    def write(self, vals):
        result = super().write(vals)
        if SENT_FIELDS["res.partner"] & set(vals):
            self.commercial_partner_id._accounting_sync_mark_due(create=False)
        return result

    def _accounting_sync_kind(self, connection):
        self.ensure_one()
        kind = "customer" if self.customer_rank >= self.supplier_rank else "vendor"
        if kind == "vendor":
            # A partner already sent as a customer stays one remote record.
            existing = self.env["accounting.sync.binding"].sudo().search([
                ("connection_id", "=", connection.id), ("res_model", "=", self._name),
                ("res_id", "=", self.id)], limit=1)
            if existing:
                return existing.remote_type
        return kind

    def _accounting_sync_build(self, context, binding):  # pylint: disable=unused-argument
        self.ensure_one()
        return doc.Party(
            key=None, kind=binding.remote_type, name=self.name.strip(),
            email=self.email or None, phone=self.phone or self.mobile or None,
            vat=self.vat or None, company_name=self.name if self.is_company else None,
            address=doc.Address(street=self.street or None, street2=self.street2 or None,
                                city=self.city or None, zip=self.zip or None,
                                state=self.state_id.code or None,
                                country_code=self.country_id.code or None),
        )

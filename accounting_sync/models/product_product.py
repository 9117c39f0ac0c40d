from odoo import models

from ..const import SENT_FIELDS
from ..providers import documents as doc
from .run_context import dec


class ProductProduct(models.Model):
    """Products: sent as the items of the documents that need them; an edit of what is sent
    marks their sync states due."""

    _name = "product.product"
    _inherit = ["product.product", "accounting.sync.mixin"]

    def write(self, vals):
        result = super().write(vals)
        if SENT_FIELDS["product.product"] & set(vals):
            self._accounting_sync_mark_due(create=False)
        return result

    def _accounting_sync_kind(self, connection):  # pylint: disable=unused-argument
        return "product"

    def _accounting_sync_build(self, context, binding):  # pylint: disable=unused-argument
        self.ensure_one()
        income = self.property_account_income_id or \
            self.categ_id.property_account_income_categ_id
        expense = self.property_account_expense_id or \
            self.categ_id.property_account_expense_categ_id
        return doc.Product(
            key=None, name=self.name, code=self.default_code or None,
            description=self.description_sale or None,
            sale_price=dec(self.list_price, 4), purchase_price=dec(self.standard_price, 4),
            income_account=context.account_ref(income) if income else None,
            # Only products that are bought need their expense account: unmapped, it is left out.
            expense_account=context.optional_account_ref(expense),
            service=self.type == "service",
        )

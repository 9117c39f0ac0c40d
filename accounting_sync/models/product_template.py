from odoo import fields, models

from ..const import SENT_FIELDS
from .accounting_sync_mixin import SYNC_STATES, summary_state


class ProductTemplate(models.Model):
    """Invoicing lists product templates; their variants are what is synced."""

    _inherit = "product.template"

    accounting_sync_state = fields.Selection(
        SYNC_STATES, compute="_compute_accounting_sync_state",
        string="Sync State", groups="accounting_sync.group_accounting_sync_user",
        search="_search_accounting_sync_state")

    def write(self, vals):
        result = super().write(vals)
        if SENT_FIELDS["product.product"] & set(vals):
            self.product_variant_ids._accounting_sync_mark_due(create=False)
        return result

    def _compute_accounting_sync_state(self):
        for template in self:
            template.accounting_sync_state = summary_state(template.with_context(
                active_test=False).product_variant_ids.mapped("accounting_sync_state"))

    def _search_accounting_sync_state(self, operator, value):
        variants = self.env["product.product"].with_context(active_test=False)._search(
            [("accounting_sync_state", operator, value)])
        return [("product_variant_ids", "in", variants)]

    def action_accounting_sync(self):
        return self.product_variant_ids.action_accounting_sync()

    def action_open_accounting_sync_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "accounting_sync.accounting_sync_binding_action")
        action["domain"] = [("res_model", "=", "product.product"),
                            ("res_id", "in", self.product_variant_ids.ids)]
        action["context"] = {}
        return action

from odoo import fields, models


class AccountingSyncReconciliationIgnore(models.TransientModel):
    """Ignore reconciliation differences, saying why (kept for the next runs)."""

    _name = "accounting.sync.reconciliation.ignore"
    _description = "Accounting Sync: ignore reconciliation differences"

    line_ids = fields.Many2many("accounting.sync.reconciliation.line",
                                "accounting_sync_reconciliation_ignore_line_rel", "wizard_id",
                                "line_id", string="Differences", readonly=True)
    reason = fields.Char(required=True)

    def action_ignore(self):
        self.ensure_one()
        self.line_ids._ignore(self.reason)
        return {"type": "ir.actions.act_window_close"}

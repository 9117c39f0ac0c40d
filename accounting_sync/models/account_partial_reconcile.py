from odoo import api, models


class AccountPartialReconcile(models.Model):
    """A payment reconciled with (or unreconciled from) a document pays other documents: its
    sync state is due again."""

    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._accounting_sync_payments()._accounting_sync_mark_due(create=False)
        return partials

    def unlink(self):
        payments = self._accounting_sync_payments()
        result = super().unlink()
        payments.exists()._accounting_sync_mark_due(create=False)
        return result

    def _accounting_sync_payments(self):
        lines = self.debit_move_id | self.credit_move_id
        return lines.move_id.origin_payment_id.filtered(
            lambda p: p.state in ("in_process", "paid"))

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.preflight import Preflight


class AccountingSyncStartWizard(models.TransientModel):
    """The first sync: the go-live date, and what the records from then on need before they
    can be sent (the pre-flight), once, before anything is sent."""

    _name = "accounting.sync.start.wizard"
    _description = "Accounting Sync: start syncing"

    connection_id = fields.Many2one("accounting.sync.connection", required=True,
                                    ondelete="cascade", readonly=True)
    sync_start_date = fields.Date(
        required=True, help="Go-live date: nothing dated before it is sent.")
    preflight_summary = fields.Text(compute="_compute_preflight", string="Before syncing")
    missing_count = fields.Integer(compute="_compute_preflight")
    suggestion_count = fields.Integer(compute="_compute_preflight")

    @api.depends("connection_id", "sync_start_date")
    def _compute_preflight(self):
        for wizard in self:
            if not wizard.connection_id or not wizard.sync_start_date:
                wizard.preflight_summary = False
                wizard.missing_count = wizard.suggestion_count = 0
                continue
            preflight = Preflight(wizard.connection_id.sudo(), start=wizard.sync_start_date,
                                  apply=False, scan=True)
            wizard.preflight_summary = preflight.summary()
            wizard.missing_count = len(preflight.missing)
            wizard.suggestion_count = len(preflight.suggestions)

    def _check(self):
        self.ensure_one()
        self.connection_id._check_sync_admin()  # the go-live date is an administrator's
        if not self.sync_start_date:
            raise UserError(self.env._("Choose the date syncing starts from."))

    def action_review_mappings(self):
        """The mapping screen on what the records from the start date need."""
        self._check()
        connection = self.connection_id
        Preflight(connection.sudo(), start=self.sync_start_date, scan=True)
        return connection._open_action("accounting_sync.accounting_sync_mapping_action",
                                       context={"default_connection_id": connection.id,
                                                "search_default_needed": 1})

    def action_accept_suggestions(self):
        self._check()
        connection = self.connection_id
        Preflight(connection.sudo(), start=self.sync_start_date, scan=True)
        connection.mapping_ids.filtered(
            lambda m: m.needed and m.suggested_remote_id and not m.remote_record_id
        ).action_accept_suggestion()
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new", "name": self.env._("Start syncing")}

    def action_start(self):
        self._check()
        connection = self.connection_id
        connection.sync_start_date = self.sync_start_date
        action = connection.action_sync_now()
        action.setdefault("params", {})["next"] = {"type": "ir.actions.act_window_close"}
        return action

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

SYNC_STATES = [("pending", "Pending"), ("synced", "Synced"), ("failed", "Failed"),
               ("skipped", "Never sync")]


def summary_state(states):
    """One record's sync state over its connections: the worst of them."""
    states = set(states)
    return next((s for s in ("failed", "pending", "synced", "skipped") if s in states), False)


class AccountingSyncMixin(models.AbstractModel):
    """Sync state and a Sync action on the records the engine sends."""

    _name = "accounting.sync.mixin"
    _description = "Accounting Sync: synced record"

    accounting_sync_binding_ids = fields.One2many(
        "accounting.sync.binding", compute="_compute_accounting_sync_binding_ids",
        string="Sync States", groups="accounting_sync.group_accounting_sync_user")
    accounting_sync_state = fields.Selection(
        SYNC_STATES, compute="_compute_accounting_sync_binding_ids",
        string="Sync State", groups="accounting_sync.group_accounting_sync_user",
        search="_search_accounting_sync_state")

    def _compute_accounting_sync_binding_ids(self):
        bindings = self.env["accounting.sync.binding"].search([
            ("res_model", "=", self._name), ("res_id", "in", self.ids)])
        by_record = {}
        for binding in bindings:
            by_record.setdefault(binding.res_id, self.env["accounting.sync.binding"])
            by_record[binding.res_id] |= binding
        for record in self:
            mine = by_record.get(record.id, self.env["accounting.sync.binding"])
            record.accounting_sync_binding_ids = mine
            record.accounting_sync_state = summary_state(mine.mapped("state"))

    def _search_accounting_sync_state(self, operator, value):
        """Records with a sync state ``value`` on some connection (False: on none)."""
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on the sync state."))
        Binding = self.env["accounting.sync.binding"]
        domain = [("res_model", "=", self._name)]
        if value:
            domain.append(("state", "=", value))
        bound = Binding._search(domain).subselect("res_id")
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", bound)]

    def action_accounting_sync(self):
        """Sync these records (and what they depend on) to the connected remote companies of
        their own company: a record never goes through another company's connection."""
        if not self.env.user.has_group("accounting_sync.group_accounting_sync_user"):
            raise AccessError(self.env._("Only Accounting Sync users can sync records."))
        self.check_access("read")
        # The user's connections (record rules: their allowed companies).
        connections = self.env["accounting.sync.connection"].search([
            ("state", "=", "connected"), ("sync_start_date", "!=", False)])
        Engine = self.env["accounting.sync.engine"]
        runs = self.env["accounting.sync.run"]
        for connection in connections:
            mine = self.filtered(lambda r, c=connection: not Engine._foreign_company(c, r) and (
                "company_id" not in r._fields or r.company_id or c.company_id in self.env.companies))
            if mine:
                runs |= Engine._sync_records(connection, mine)
        if not runs:
            raise UserError(self.env._(
                "No connected Accounting Sync connection of these records' company."))
        problems = any(run.state != "done" for run in runs)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "warning" if problems else "success",
            "title": self.env._("Accounting Sync"),
            "message": "\n".join(run._summary() + (". " + run.outcome if run.outcome and
                                                   run.state != "done" else "")
                                 for run in runs),
            "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}

    def action_open_accounting_sync_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "accounting_sync.accounting_sync_binding_action")
        action["domain"] = [("res_model", "=", self._name), ("res_id", "=", self.id)]
        action["context"] = {}
        return action

from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class AccountingSyncMixin(models.AbstractModel):
    """Sync state and a Sync action on the records the engine sends."""

    _name = "accounting.sync.mixin"
    _description = "Accounting Sync: synced record"

    accounting_sync_binding_ids = fields.One2many(
        "accounting.sync.binding", compute="_compute_accounting_sync_binding_ids",
        string="Sync States", groups="accounting_sync.group_accounting_sync_user")
    accounting_sync_state = fields.Selection(
        [("pending", "Pending"), ("synced", "Synced"), ("failed", "Failed"),
         ("skipped", "Never sync")], compute="_compute_accounting_sync_binding_ids",
        string="Sync State", groups="accounting_sync.group_accounting_sync_user")

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
            states = set(mine.mapped("state"))
            record.accounting_sync_state = next(
                (s for s in ("failed", "pending", "synced", "skipped") if s in states), False)

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
        failed = sum(runs.mapped("failed"))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "warning" if failed else "success",
            "message": self.env._("%(created)s created, %(updated)s updated, %(failed)s "
                                  "failed.", created=sum(runs.mapped("created")),
                                  updated=sum(runs.mapped("updated")), failed=failed),
            "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}

    def action_open_accounting_sync_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "accounting_sync.accounting_sync_binding_action")
        action["domain"] = [("res_model", "=", self._name), ("res_id", "=", self.id)]
        action["context"] = {}
        return action

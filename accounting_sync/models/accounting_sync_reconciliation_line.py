from odoo import api, fields, models
from odoo.exceptions import UserError

LEVELS = [("document", "Document"), ("partner", "Customer / Vendor"), ("account", "Account"),
          ("total", "Total")]
CLASSES = [
    ("missing_remote", "Missing remotely"), ("missing_odoo", "Missing in Odoo"),
    ("amount_differs", "Amount differs"), ("rounding", "Rounding"),
    ("open_balance_differs", "Open balance differs"), ("voided", "Voided on one side"),
    ("unmapped_account", "Unmapped account"),
]


class AccountingSyncReconciliationLine(models.Model):
    """One figure compared by a reconciliation: a document, a customer's or vendor's open
    balance, an account of the trial balance or a total; ``difference_class`` says what a
    bookkeeper should make of a difference (empty: the two sides agree)."""

    _name = "accounting.sync.reconciliation.line"
    _description = "Accounting Sync: reconciliation line"
    _order = "reconciliation_id desc, sequence, level_sequence, id"
    _check_company_auto = True

    reconciliation_id = fields.Many2one("accounting.sync.reconciliation", required=True,
                                        index=True, ondelete="cascade", readonly=True)
    connection_id = fields.Many2one(related="reconciliation_id.connection_id", store=True,
                                    index=True)
    company_id = fields.Many2one(related="reconciliation_id.company_id", store=True,
                                 index=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    level = fields.Selection(LEVELS, required=True, readonly=True, index=True)
    level_sequence = fields.Integer(readonly=True)
    sequence = fields.Integer(readonly=True, help="Differences first, then what agrees.")
    name = fields.Char(string="What", readonly=True)
    res_model = fields.Char(string="Odoo Model", readonly=True)
    res_id = fields.Many2oneReference(string="Odoo Record ID", model_field="res_model",
                                      readonly=True)
    remote_kind = fields.Char(readonly=True, help="What the remote record is (a sync kind).")
    remote_id = fields.Char(string="Remote ID", readonly=True)
    odoo_amount = fields.Monetary(readonly=True)
    remote_amount = fields.Monetary(readonly=True)
    difference = fields.Monetary(readonly=True, help="Odoo minus remote.")
    difference_class = fields.Selection(CLASSES, string="Class", readonly=True, index=True)
    message = fields.Char(readonly=True)
    key = fields.Char(readonly=True, index=True,
                      help="What this line is about, the same from one run to the next: an "
                           "ignored difference stays ignored while it is the same.")
    ignored = fields.Boolean(readonly=True)
    ignore_reason = fields.Char(readonly=True)
    ignored_by_id = fields.Many2one("res.users", readonly=True)
    remote_url = fields.Char(compute="_compute_remote_url", string="Open Remote")

    @api.depends("remote_id", "remote_kind", "connection_id")
    def _compute_remote_url(self):
        for line in self:
            line.remote_url = line.remote_id and line.remote_kind and \
                line.connection_id._remote_url(line.remote_kind, line.remote_id)

    def _record(self):
        self.ensure_one()
        if not (self.res_model and self.res_id):
            return None
        return self.env[self.res_model].browse(self.res_id).exists()

    def action_open_record(self):
        self.ensure_one()
        record = self._record()
        if not record:
            raise UserError(self.env._("This line has no Odoo record."))
        return {"type": "ir.actions.act_window", "res_model": record._name,
                "res_id": record.id, "view_mode": "form", "target": "current"}

    def action_open_remote(self):
        self.ensure_one()
        if not self.remote_url:
            raise UserError(self.env._("This line has no remote record."))
        return {"type": "ir.actions.act_url", "url": self.remote_url, "target": "new"}

    def action_sync_again(self):
        """Send these lines' Odoo documents again: a document the remote company no longer
        has is sent anew (its remote link forgotten); another one is sent as it is in Odoo
        now, over what the remote company holds."""
        self.check_access("read")
        self.connection_id._check_sync_user()
        moves = self.env["account.move"]
        for line in self:
            record = line._record()
            if line.level != "document" or not record or record._name != "account.move":
                raise UserError(self.env._(
                    "Only documents can be synced again from a reconciliation: %(line)s is "
                    "not one.", line=line.name))
            moves |= record
        bindings = self.env["accounting.sync.binding"].sudo().search([
            ("connection_id", "in", self.connection_id.ids), ("res_model", "=", "account.move"),
            ("res_id", "in", moves.ids)])
        gone = self.filtered(lambda l: l.difference_class == "missing_remote" and l.remote_id)
        gone_ids = set(gone.mapped("res_id"))
        bindings.filtered(lambda b: b.res_id in gone_ids and b.remote_id)._forget()
        bindings.filtered(lambda b: b.res_id not in gone_ids).write(
            {"state": "pending", "attempts": 0, "payload_hash": False})
        summaries = []
        for connection in self.connection_id:
            mine = self.filtered(lambda l, c=connection: l.connection_id == c)
            run = connection._start_run("records", records=moves.browse(
                mine.mapped("res_id")).exists())
            summaries.append(run._summary() + (". " + run.outcome if run.outcome and
                                               run.state != "done" else ""))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "title": self.env._("Accounting Sync"),
            "message": "\n".join(summaries),
            "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}

    def action_open_ignore_wizard(self):
        self.check_access("read")
        return {"type": "ir.actions.act_window", "name": self.env._("Ignore differences"),
                "res_model": "accounting.sync.reconciliation.ignore", "view_mode": "form",
                "target": "new", "context": {"default_line_ids": self.ids}}

    def _ignore(self, reason):
        """Ignore these differences for ``reason``: they stay ignored in the next runs while
        they are the same (same record, class and difference)."""
        self.check_access("read")
        self.connection_id._check_sync_user()
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Say why these differences may be ignored."))
        if any(not line.difference_class for line in self):
            raise UserError(self.env._("Only differences can be ignored."))
        self.sudo().write({"ignored": True, "ignore_reason": reason,
                           "ignored_by_id": self.env.user.id})
        for reconciliation in self.reconciliation_id:
            reconciliation.sudo()._count_lines()
        return True

    def action_unignore(self):
        self.check_access("read")
        self.connection_id._check_sync_user()
        self.sudo().write({"ignored": False, "ignore_reason": False, "ignored_by_id": False})
        for reconciliation in self.reconciliation_id:
            reconciliation.sudo()._count_lines()
        return True

import logging
from datetime import timedelta

from odoo import api, fields, models

from .params import run_lease_seconds

_logger = logging.getLogger(__name__)


class AccountingSyncRun(models.Model):
    """One sync run of one connection: what an accountant watches."""

    _name = "accounting.sync.run"
    _description = "Accounting Sync Run"
    _order = "id desc"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True, index=True,
                                    ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="connection_id.company_id", store=True)
    trigger = fields.Selection(
        [("schedule", "Schedule"), ("button", "Sync now"), ("records", "Selected records"),
         ("webhook", "Webhook"), ("web_connector", "Web Connector"),
         ("pull", "Changes pulled")],
        required=True, readonly=True)
    user_id = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user)
    state = fields.Selection(
        [("running", "Running"), ("paused", "Paused"), ("done", "Done"),
         ("partial", "Done with failures"), ("interrupted", "Interrupted"),
         ("failed", "Failed")],
        default="running", required=True, readonly=True, index=True,
        help="Paused: it used its time share and the scheduled job resumes it at once. A "
             "running run whose worker stopped (its lease ran out) is taken over by the next "
             "call of the job.")
    start = fields.Datetime(default=fields.Datetime.now, readonly=True)
    end = fields.Datetime(readonly=True)
    created = fields.Integer(readonly=True)
    linked = fields.Integer(readonly=True, help="Found in the remote company and linked, "
                                                "instead of created a second time")
    updated = fields.Integer(readonly=True)
    records_synced = fields.Integer(
        compute="_compute_records_synced", store=True,
        help="Created, linked and updated: the records this run put in step with the remote "
             "company (what the Records Synced graph adds up).")
    unchanged = fields.Integer(readonly=True)
    failed = fields.Integer(readonly=True)
    skipped = fields.Integer(readonly=True)
    voided = fields.Integer(readonly=True)
    waiting = fields.Integer(
        readonly=True, help="Records waiting for a mapping, or for a record they need, to be "
                            "synced first; they are not failed.")
    unanswered = fields.Integer(
        readonly=True, help="Records whose answer never came (or could not be read): they "
                            "stay pending and are looked up in the remote company next time.")
    batches = fields.Integer(string="Requests", readonly=True,
                             help="Write requests sent (each carries up to a batch of records)")
    remaining = fields.Integer(
        readonly=True, help="Records still to send when the run paused after its time share; "
                            "the scheduled job resumes it at once.")
    # A pull run: the changes it read from the remote company and what they did.
    changes_received = fields.Integer(string="Changes Read", readonly=True)
    changes_applied = fields.Integer(readonly=True)
    changes_conflict = fields.Integer(string="Conflicts", readonly=True)
    changes_ignored = fields.Integer(readonly=True)
    changes_failed = fields.Integer(readonly=True)
    reads = fields.Integer(string="API Reads", readonly=True,
                           help="Read calls made (metered by the providers)")
    change_ids = fields.One2many("accounting.sync.change", "run_id", string="Changes",
                                 readonly=True)
    outcome = fields.Text(readonly=True)
    lease_until = fields.Datetime(
        readonly=True, copy=False,
        help="The worker running it renews this after every batch; once it has passed, the "
             "worker is gone and the next call of the job takes the run over.")
    binding_ids = fields.One2many("accounting.sync.binding", "run_id", readonly=True)
    failed_binding_ids = fields.One2many(
        "accounting.sync.binding", "run_id", domain=[("state", "=", "failed")],
        string="Failed Items", readonly=True)

    @api.depends("created", "linked", "updated")
    def _compute_records_synced(self):
        for run in self:
            run.records_synced = run.created + run.linked + run.updated

    @api.depends("connection_id", "start")
    def _compute_display_name(self):
        for run in self:
            run.display_name = "%s – %s" % (run.connection_id.name,
                                            fields.Datetime.to_string(run.start))

    @api.model
    def _resume_or_create(self, connection, trigger, user):
        """The run a committing sync of ``connection`` works on: the one that paused after
        its time share or whose worker died (its lease ran out), else a new one."""
        now = fields.Datetime.now()
        lease = now + timedelta(seconds=run_lease_seconds(self.env))
        paused = self.search([("connection_id", "=", connection.id), "|",
                              ("state", "=", "paused"), "&", ("state", "=", "running"),
                              ("lease_until", "<=", now)], order="id desc", limit=1)
        if paused:
            abandoned = paused.state == "running"
            paused.write({"state": "running", "remaining": 0, "lease_until": lease,
                          "outcome": self.env._("Taken over: the worker running it stopped "
                                                "before it ended.") if abandoned else False})
            if abandoned:
                _logger.warning("Accounting sync: run %s of connection %s was abandoned by its "
                                "worker; resuming it", paused.id, connection.id)
            return paused
        return self.create({"connection_id": connection.id, "trigger": trigger,
                            "user_id": user.id, "lease_until": lease})

    def _processed(self):
        self.ensure_one()
        return self.created + self.linked + self.updated + self.unchanged + self.failed \
            + self.skipped + self.voided + self.unanswered + self.waiting

    def _count(self, **increments):
        """Add to the counters (kept in the database as the run goes)."""
        self.ensure_one()
        self.write({name: self[name] + value for name, value in increments.items() if value})

    def _summary(self):
        """The run in one line: its connection and what it did."""
        self.ensure_one()
        parts = [text for count, text in (
            (self.created, self.env._("%s created", self.created)),
            (self.linked, self.env._("%s linked", self.linked)),
            (self.updated, self.env._("%s updated", self.updated)),
            (self.voided, self.env._("%s voided", self.voided)),
            (self.unchanged, self.env._("%s unchanged", self.unchanged)),
            (self.waiting, self.env._("%s waiting", self.waiting)),
            (self.unanswered, self.env._("%s awaiting an answer", self.unanswered)),
            (self.failed, self.env._("%s failed", self.failed)),
            (self.changes_applied, self.env._("%s changes applied", self.changes_applied)),
            (self.changes_conflict, self.env._("%s conflicts", self.changes_conflict)),
            (self.changes_failed, self.env._("%s changes failed", self.changes_failed)),
        ) if count]
        return "%s: %s" % (self.connection_id.name, ", ".join(parts) or (
            self.env._("no change to apply") if self.trigger == "pull"
            else self.env._("nothing to send")))

    def _pause(self, remaining):
        """The run used its time share: the next call of the job resumes it at once."""
        self.ensure_one()
        self.write({"state": "paused", "remaining": remaining, "lease_until": False,
                    "outcome": self.env._(
                        "Paused after its time share with at least %(count)s records to go; "
                        "it continues at once.", count=remaining)})

    def _finish(self, state=None, outcome=None):
        self.ensure_one()
        if not state:
            state = "partial" if self.failed or self.unanswered or self.waiting \
                or self.changes_failed else "done"
        self.write({"state": state, "end": fields.Datetime.now(), "lease_until": False,
                    "outcome": outcome or self.outcome})
        if self.user_id and self.trigger == "button":
            # Sync now runs in the cron: tell the user who asked, and let the connection's
            # form refresh its counts (accounting_sync_run_done, static/src).
            message = self._summary()
            if self.outcome and state != "done":
                message += ". " + self.outcome
            self.user_id._bus_send("simple_notification", {
                "type": "warning" if state != "done" else "success",
                "title": self.env._("Accounting Sync"), "message": message})
            self.user_id._bus_send("accounting_sync_run_done", {
                "connection_id": self.connection_id.id, "run_id": self.id})

import json
import logging

from markupsafe import Markup, escape
from psycopg2.extras import execute_values

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

CHANGE_STATES = [("new", "New"), ("applied", "Applied"), ("ignored", "Ignored"),
                 ("conflict", "Conflict"), ("failed", "Failed")]
# How far a webhook event's time may be from the remote time our own write recorded and
# still be that write coming back (providers round their times).
ECHO_TOLERANCE_SECONDS = 1


class AccountingSyncChange(models.Model):
    """One change received from a remote company: a webhook event (a notification that
    something changed, read by the next pull), or a record version read by an incremental
    pull (applied to the books once, in order of the provider's own times). Recorded as it
    arrives — no API call and no business write inside the provider's request —
    deduplicated by the provider's event id."""

    _name = "accounting.sync.change"
    _description = "Accounting Sync: change received from a remote company"
    _order = "occurred_at desc, id desc"
    _rec_name = "remote_id"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True, readonly=True,
                                    index=True, ondelete="cascade")
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    provider = fields.Selection(related="connection_id.provider")
    event_id = fields.Char(string="Provider Event ID", required=True, readonly=True)
    source = fields.Selection([("webhook", "Webhook"), ("pull", "Pull")], default="webhook",
                              required=True, readonly=True)
    remote_type = fields.Char(readonly=True, help="What changed, as the provider names it")
    pull_type = fields.Char(readonly=True, help="The remote type the pull read it under")
    remote_id = fields.Char(readonly=True, index=True)
    remote_version = fields.Char(readonly=True)
    operation = fields.Char(readonly=True)
    occurred_at = fields.Datetime(string="Event Time", readonly=True)
    state = fields.Selection(CHANGE_STATES, required=True, default="new", readonly=True,
                             index=True)
    message = fields.Text(readonly=True)
    data = fields.Text(readonly=True, help="What else the event said")
    record = fields.Text(string="Remote Record", readonly=True,
                         help="The remote record as the pull read it (JSON)")
    binding_id = fields.Many2one("accounting.sync.binding", string="Sync State", readonly=True,
                                 ondelete="set null", index="btree_not_null")
    res_model = fields.Char(string="Odoo Model", readonly=True)
    res_id = fields.Many2oneReference(string="Odoo Record ID", model_field="res_model",
                                      readonly=True)
    record_name = fields.Char(string="Odoo Record", readonly=True)
    odoo_values = fields.Text(readonly=True, help="Odoo's values of a conflict (JSON)")
    remote_values = fields.Text(readonly=True, help="The remote values of a conflict (JSON)")
    acceptable = fields.Char(readonly=True,
                             help="The fields of a conflict that Odoo lets change (JSON)")
    comparison = fields.Html(compute="_compute_comparison", sanitize=False)
    can_accept = fields.Boolean(compute="_compute_comparison")
    run_id = fields.Many2one("accounting.sync.run", readonly=True, index="btree_not_null",
                             ondelete="set null")
    applied_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("event_unique", "unique(connection_id, event_id)",
         "A provider event is recorded once per connection."),
    ]

    def init(self):
        # The pull applies what is new, oldest first: a few rows, however long the history.
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS accounting_sync_change_todo_index
                ON accounting_sync_change (connection_id, occurred_at, id)
             WHERE state IN ('new', 'failed', 'conflict')
        """)

    @api.depends("odoo_values", "remote_values", "acceptable", "state")
    def _compute_comparison(self):
        labels = self._comparison_labels()
        for change in self:
            odoo, remote = change._json("odoo_values"), change._json("remote_values")
            acceptable = change._json("acceptable") or []
            change.can_accept = change.state == "conflict" and bool(acceptable) and not (
                set(remote) - set(acceptable))
            if not (odoo or remote):
                change.comparison = False
                continue
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                    labels.get(key, key), escape(str(odoo.get(key, ""))),
                    escape(str(remote.get(key, ""))))
                for key in sorted(set(odoo) | set(remote)))
            change.comparison = Markup(
                "<table class='table table-sm o_accounting_sync_comparison'><thead><tr>"
                "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody></table>") % (
                self.env._("Field"), self.env._("Odoo"), self.env._("Remote"), rows)

    def _comparison_labels(self):
        return {"amount_total": self.env._("Total"), "amount_tax": self.env._("Tax"),
                "amount_untaxed": self.env._("Untaxed amount"), "date": self.env._("Date"),
                "due_date": self.env._("Due date"), "reference": self.env._("Reference"),
                "lines": self.env._("Lines"), "currency": self.env._("Currency"),
                "party": self.env._("Partner")}

    def _json(self, name):
        try:
            return json.loads(self[name] or "null") or {}
        except ValueError:
            return {}

    # ------------------------------------------------------------------------------------
    # Recording (webhooks, pulls)
    # ------------------------------------------------------------------------------------

    @api.model
    def _record(self, provider, changes):
        """Record the webhook events ``changes`` (providers.Change) of ``provider``, each
        for the connections of its own remote company (one delivery may span several; an
        unknown company's events are ignored); an event already recorded, or our own write
        coming back, is left out. Return the connections that got new rows."""
        by_company = {}
        for change in changes:
            by_company.setdefault(change.company_id, []).append(change)
        Connection = self.env["accounting.sync.connection"]
        if not by_company:
            return Connection
        connections = Connection.sudo().with_context(active_test=False).search(
            [("provider", "=", provider), ("remote_company_id", "in", list(by_company))])
        rows = []
        for connection in connections:
            mine = by_company[connection.remote_company_id]
            echoes = self._echoes(connection, mine)
            rows += [(connection.id, connection.company_id.id, change.event_id, "webhook",
                      change.remote_type, change.remote_id, None, change.operation,
                      change.occurred_at, json.dumps(change.data, default=str), None, None)
                     for change in mine if change.event_id not in echoes]
        inserted = self._insert(rows)
        unknown = set(by_company) - set(connections.mapped("remote_company_id"))
        if unknown:
            _logger.info("Accounting sync: %s webhook events of %s remote companies no "
                         "connection syncs were acknowledged and ignored",
                         sum(len(by_company[c]) for c in unknown), len(unknown))
        return connections.browse(sorted({connection_id for connection_id, in inserted}))

    @api.model
    def _echoes(self, connection, changes):
        """The event ids of ``changes`` (webhook events) that are our own writes coming
        back: the remote record's time is not after the one our write recorded. One
        query."""
        wanted = [(kind, c.remote_id) for c in changes for kind in (c.kinds or ())
                  if c.remote_id and c.operation in ("create", "update", "void", "delete")]
        if not wanted:
            return set()
        self.env.cr.execute("""
            SELECT remote_type, remote_id, remote_updated_at FROM accounting_sync_binding
             WHERE connection_id = %s AND remote_updated_at IS NOT NULL
               AND (remote_type, remote_id) IN %s
        """, (connection.id, tuple(wanted)))
        ours = {(kind, remote_id): at for kind, remote_id, at in self.env.cr.fetchall()}
        echoes = set()
        for change in changes:
            for kind in change.kinds or ():
                at = ours.get((kind, change.remote_id))
                if at and change.occurred_at and (
                        change.occurred_at - at).total_seconds() <= ECHO_TOLERANCE_SECONDS:
                    echoes.add(change.event_id)
        return echoes

    @api.model
    def _insert(self, rows):
        """Insert change rows — (connection, company, event id, source, remote type, remote
        id, remote version, operation, time, data, record, pull type) — one statement
        however many; an event already recorded for its connection is left as it is.
        Return the (connection id,) of the new rows."""
        if not rows:
            return []
        uid = self.env.uid
        return execute_values(self.env.cr._obj, """
            INSERT INTO accounting_sync_change
                        (connection_id, company_id, event_id, source, remote_type, remote_id,
                         remote_version, operation, occurred_at, data, record, pull_type,
                         create_uid, write_uid, state, create_date, write_date)
                 SELECT v.*, 'new', now() at time zone 'UTC', now() at time zone 'UTC'
                   FROM (VALUES %s) AS v
            ON CONFLICT (connection_id, event_id) DO NOTHING
              RETURNING connection_id
        """, [tuple(row) + (uid, uid) for row in rows],
            template="(%s, %s, %s, %s, %s, %s, %s, %s, %s::timestamp, %s, %s, %s, %s, %s)",
            fetch=True)

    # ------------------------------------------------------------------------------------
    # What a person does with a change
    # ------------------------------------------------------------------------------------

    def _check_user(self):
        self.check_access("read")
        self.connection_id._check_sync_user()

    def action_apply_again(self):
        """Apply these changes again (after fixing what made them fail)."""
        self._check_user()
        changes = self.sudo().filtered(lambda c: c.source == "pull" and c.state in (
            "failed", "new", "ignored"))
        if not changes:
            raise UserError(self.env._("Only changes read by a pull that are new, failed or "
                                       "ignored can be applied again."))
        for connection in changes.connection_id:
            self.env["accounting.sync.puller"]._lock(connection)
            self.env["accounting.sync.applier"]._apply_changes(
                connection, changes.filtered(lambda c, k=connection: c.connection_id == k),
                again=True)
        return True

    def action_ignore(self):
        """Leave these changes as they are: they change nothing in Odoo."""
        self._check_user()
        todo = self.sudo().filtered(lambda c: c.state in ("new", "failed", "conflict"))
        todo.write({"state": "ignored", "message": self.env._(
            "Ignored by %(user)s.", user=self.env.user.name)})
        return True

    def action_keep_odoo(self):
        """A conflict settled for Odoo's version: the document is sent again with the next
        sync, over the remote version read."""
        self._check_user()
        for change in self.sudo().filtered(lambda c: c.state == "conflict"):
            binding = change.binding_id
            if binding:
                binding.write({"remote_version": change.remote_version, "state": "pending",
                               "attempts": 0, "payload_hash": False})
            change.write({"state": "applied", "applied_at": fields.Datetime.now(),
                          "message": self.env._(
                              "Odoo's version kept by %(user)s: it is sent again with the "
                              "next sync.", user=self.env.user.name)})
        return True

    def action_accept_remote(self):
        """A conflict settled for the remote version, for the fields Odoo lets change on a
        posted document (due date, reference)."""
        self._check_user()
        for connection in self.connection_id:
            self.env["accounting.sync.puller"]._lock(connection)
        for change in self.sudo().filtered(lambda c: c.state == "conflict"):
            if not change.can_accept:
                raise UserError(self.env._(
                    "%(record)s: the remote version changes amounts, lines or dates Odoo "
                    "does not let change on a posted document. Keep Odoo's, or correct the "
                    "document in Odoo (reset to draft) and sync it again.",
                    record=change.record_name or change.remote_id))
            self.env["accounting.sync.applier"]._accept_remote(change)
        return True

    def action_open_record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            raise UserError(self.env._("This change concerns no Odoo record."))
        return {"type": "ir.actions.act_window", "res_model": self.res_model,
                "res_id": self.res_id, "view_mode": "form", "target": "current"}

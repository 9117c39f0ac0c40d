import logging
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..const import (
    PARAM_LOCAL_URL, PARAM_TIME_SCALE, PARAM_TIMEOUT, SCOPE_KINDS, SCOPE_MOVE_TYPES,
)
from ..providers import ADAPTERS, PROVIDERS, ProviderError, capabilities, get_adapter
from .messages import translated_message
from .params import positive_param, run_time_budget
from .preflight import Preflight

_logger = logging.getLogger(__name__)

ADMIN_GROUP = "accounting_sync.group_accounting_sync_admin"
USER_GROUP = "accounting_sync.group_accounting_sync_user"
# Where a connection talks to: system administrators only, and never while connected.
ROUTING_FIELDS = ("environment", "local_url")
# What a connected connection (or one with synced records) keeps.
IDENTITY_FIELDS = ("provider", "company_id")
# How long a write from a sync run waits for the connection's row (see _write_outside).
OUTSIDE_LOCK_TIMEOUT_MS = 2000


class AccountingSyncConnection(models.Model):
    _name = "accounting.sync.connection"
    _description = "Accounting Sync Connection"
    _inherit = ["mail.thread", "mail.activity.mixin", "accounting.sync.oauth.mixin",
                "accounting.sync.qbwc.mixin"]
    _order = "company_id, name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True,
                                 default=lambda self: self.env.company)
    provider = fields.Selection(selection=lambda self: list(PROVIDERS), required=True,
                                default=lambda self: PROVIDERS[0][0], tracking=True)
    environment = fields.Selection(
        [("production", "Production"), ("sandbox", "Provider sandbox"),
         ("local", "Local provider sandbox")],
        required=True, default=lambda self: self._default_environment(), tracking=True,
        help="Production and Provider sandbox talk to Intuit or Xero; Local provider sandbox "
             "talks to the server at Sandbox URL (this project's provider_sandbox).")
    local_url = fields.Char(
        string="Sandbox URL", default=lambda self: self._default_local_url(), tracking=True,
        help="Base URL of the local provider sandbox, e.g. http://127.0.0.1:8077. Only the URL "
             "a system administrator set in Settings is ever called.")
    state = fields.Selection(
        [("draft", "Not connected"), ("connected", "Connected"),
         ("needs_reconnect", "Needs reconnect"), ("disconnected", "Disconnected")],
        required=True, default="draft", readonly=True, copy=False, tracking=True)
    access_scope = fields.Selection(
        [("all_accounting", "All Accounting"), ("customers_sales", "Customers and Sales")],
        required=True, default="all_accounting", tracking=True,
        help="What this connection may send: everything, or only customers, products, "
             "customer invoices, credit notes and payments.")
    remote_company_id = fields.Char(
        string="Remote Company ID", readonly=True, copy=False, tracking=True,
        help="QuickBooks Online realm id or Xero tenant id.")
    remote_company_name = fields.Char(readonly=True, copy=False, tracking=True)
    remote_currency = fields.Char(readonly=True, copy=False,
                                  help="The remote company's home currency.")
    remote_country = fields.Char(readonly=True, copy=False)
    remote_tax_code = fields.Char(
        readonly=True, copy=False, help="The remote company's tax code for a document as a "
                                        "whole (QuickBooks Online US companies).")
    needs_reset = fields.Boolean(
        readonly=True, copy=False,
        help="Re-pointed at another remote company while records were linked to the old "
             "one: syncing waits until they are reset.")
    remote_connection_id = fields.Char(
        readonly=True, copy=False, help="Xero's id of this app's connection to the tenant.")
    last_error = fields.Text(readonly=True, copy=False)
    display_status = fields.Char(compute="_compute_display_status")
    can_route = fields.Boolean(compute="_compute_can_route",
                               help="The current user may choose where the connection talks to.")

    # Syncing
    sync_start_date = fields.Date(
        copy=False, tracking=True,
        help="Go-live date: nothing dated before it is sent. Asked for at the first sync; "
             "only an administrator may change it.")
    sync_interval = fields.Integer(string="Sync Every (minutes)", default=15)
    next_sync_at = fields.Datetime(copy=False, readonly=True)
    sync_requested_by_id = fields.Many2one("res.users", copy=False, readonly=True)
    cron_id = fields.Many2one(
        "ir.cron", string="Scheduled Job", readonly=True, copy=False, ondelete="set null",
        groups="base.group_system",
        help="This connection's own job, so that different connections sync in parallel.")
    default_product_id = fields.Many2one(
        "product.product", check_company=True,
        help="Sent as the item of invoice and bill lines without a product (QuickBooks "
             "Online needs an item on every sales line).")
    binding_ids = fields.One2many("accounting.sync.binding", "connection_id")
    run_ids = fields.One2many("accounting.sync.run", "connection_id")
    mapping_ids = fields.One2many("accounting.sync.mapping", "connection_id")
    remote_record_ids = fields.One2many("accounting.sync.remote.record", "connection_id")
    synced_count = fields.Integer(compute="_compute_binding_counts")
    failed_count = fields.Integer(compute="_compute_binding_counts")
    waiting_count = fields.Integer(compute="_compute_binding_counts",
                                   help="Records waiting for a mapping or another record")
    run_count = fields.Integer(compute="_compute_run_info")
    last_sync_at = fields.Datetime(string="Last Sync", compute="_compute_run_info",
                                   help="When the last finished run ended")
    reconnect_hint = fields.Char(compute="_compute_reconnect_hint")

    # Two-way: what comes back from the remote company
    payment_journal_id = fields.Many2one(
        "account.journal", string="Journal for Remote Payments", check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Payments recorded remotely go to the bank journal of the Odoo account mapped to "
             "their deposit account; to this one when that account is not mapped.")
    remote_void_policy = fields.Selection(
        [("activity", "Activity for the accountant"),
         ("cancel", "Cancel the Odoo document")], string="Documents Voided Remotely",
        default="activity", required=True,
        help="What a document sent from Odoo and voided or deleted remotely does in Odoo: an "
             "activity always; with Cancel, the document is also cancelled (reversed when "
             "its date is locked; left as it is when it has payments).")
    master_data_policy = fields.Selection(
        [("odoo_wins", "Odoo wins"), ("remote_wins", "Remote wins"),
         ("newest_wins", "Newest wins")], string="Contacts and Items Edited Remotely",
        default="newest_wins", required=True,
        help="Odoo wins: Odoo's version is sent again. Remote wins: the Odoo record is "
             "updated. Newest wins: whichever was changed last.")
    import_contacts = fields.Boolean(
        string="Bring In Contacts Made Remotely",
        help="Customers, vendors and Xero contacts made in the remote company are linked to "
             "the Odoo partner of the same name (or e-mail), or created.")
    import_products = fields.Boolean(
        string="Bring In Items Made Remotely",
        help="Items made in the remote company are linked to the Odoo product of the same "
             "code (or name), or created.")
    import_sales = fields.Boolean(
        string="Bring In Invoices Made Remotely",
        help="Invoices and credit notes made in the remote company are created in Odoo as "
             "drafts to review and post, through the account and tax mappings.")
    import_purchases = fields.Boolean(
        string="Bring In Bills Made Remotely",
        help="Bills and vendor credits made in the remote company are created in Odoo as "
             "drafts to review and post, through the account and tax mappings.")
    pull_interval = fields.Integer(
        string="Pull Changes Every (minutes)", default=60,
        help="The backstop of the webhooks (which make a pull at once); once a day the pull "
             "also reads the whole last day again.")
    last_pull_at = fields.Datetime(readonly=True, copy=False)
    last_full_pull_at = fields.Datetime(readonly=True, copy=False)
    cursor_ids = fields.One2many("accounting.sync.cursor", "connection_id", string="Cursors")
    change_ids = fields.One2many("accounting.sync.change", "connection_id")
    last_webhook_at = fields.Datetime(string="Last Webhook Event",
                                      compute="_compute_change_counts")
    changes_waiting_count = fields.Integer(compute="_compute_change_counts")
    changes_conflict_count = fields.Integer(compute="_compute_change_counts")
    changes_failed_count = fields.Integer(compute="_compute_change_counts")
    webhook_url = fields.Char(compute="_compute_webhook_url",
                              help="Where the provider's webhooks are to be sent")
    # Reconciliation (accounting.sync.reconciliation)
    responsible_id = fields.Many2one(
        "res.users", default=lambda self: self.env.user, tracking=True,
        help="Gets an activity when a reconciliation finds the books differ.")
    reconcile_interval_days = fields.Integer(
        string="Reconcile Every (days)", default=7,
        help="How often the books are compared by themselves; 0: only with the Reconcile "
             "button.")
    next_reconciliation_at = fields.Datetime(readonly=True, copy=False)
    reconciliation_read_budget = fields.Integer(
        string="Reads per Reconciliation", default=500,
        help="The provider meters reads (QuickBooks Online CorePlus, Xero egress): a "
             "reconciliation makes at most this many calls and says what it left unread.")
    reconciliation_ids = fields.One2many("accounting.sync.reconciliation", "connection_id")
    last_reconciliation_id = fields.Many2one(
        "accounting.sync.reconciliation", compute="_compute_last_reconciliation")
    last_reconciliation_state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("partial", "Partly read"),
         ("failed", "Failed")], compute="_compute_last_reconciliation")
    last_reconciliation_summary = fields.Char(compute="_compute_last_reconciliation")
    last_reconciliation_difference_count = fields.Integer(
        compute="_compute_last_reconciliation")
    # Overview
    last_run_id = fields.Many2one("accounting.sync.run", compute="_compute_last_run",
                                  help="The newest run of this connection, finished or not.")
    last_run_at = fields.Datetime(string="Last Run Started", compute="_compute_last_run")
    last_run_state = fields.Selection(
        selection=lambda self: self.env["accounting.sync.run"]._fields[
            "state"]._description_selection(self.env),
        string="Last Run Status", compute="_compute_last_run")
    last_run_outcome = fields.Char(compute="_compute_last_run",
                                   help="What the last run did, or what stopped it.")
    renewal_date = fields.Date(
        string="Authorization Ends", compute="_compute_renewal",
        help="The day the provider stops honouring this connection's authorization unless it "
             "is renewed first. Empty when there is none (not connected, QuickBooks Desktop).")
    days_until_renewal = fields.Integer(
        compute="_compute_renewal",
        help="Days left before the authorization given at Connect expires (0: today or "
             "already). The daily keep-alive renews it where the provider allows; otherwise "
             "someone must click Connect and sign in again before then. Not used by "
             "QuickBooks Desktop, which has no token.")

    _sql_constraints = [
        ("remote_company_unique", "unique(company_id, provider, remote_company_id)",
         "This remote company is already connected to this Odoo company."),
    ]

    # ------------------------------------------------------------------------------------
    # Defaults, computes
    # ------------------------------------------------------------------------------------

    @api.model
    def _default_local_url(self):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM_LOCAL_URL) or ""

    @api.model
    def _default_environment(self):
        return "local" if self._default_local_url() else "production"

    @api.depends("state", "remote_company_name")
    def _compute_display_status(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for connection in self:
            if connection.state == "connected" and connection.remote_company_name:
                connection.display_status = self.env._("Connected to %s",
                                                       connection.remote_company_name)
            else:
                connection.display_status = labels.get(connection.state)

    def _compute_binding_counts(self):
        counts = {(connection.id, state): count for connection, state, count in
                  self.env["accounting.sync.binding"]._read_group(
                      [("connection_id", "in", self.ids)], ["connection_id", "state"],
                      ["__count"])}
        for connection in self:
            connection.synced_count = counts.get((connection.id, "synced"), 0)
            connection.failed_count = counts.get((connection.id, "failed"), 0)
            connection.waiting_count = counts.get((connection.id, "waiting"), 0)

    def _compute_change_counts(self):
        Change = self.env["accounting.sync.change"]
        counts = {(connection.id, state): count for connection, state, count in
                  Change._read_group([("connection_id", "in", self.ids),
                                      ("state", "in", ("new", "conflict", "failed"))],
                                     ["connection_id", "state"], ["__count"])}
        last = dict(Change._read_group([("connection_id", "in", self.ids),
                                        ("source", "=", "webhook")], ["connection_id"],
                                       ["create_date:max"]))
        for connection in self:
            connection.changes_waiting_count = counts.get((connection.id, "new"), 0)
            connection.changes_conflict_count = counts.get((connection.id, "conflict"), 0)
            connection.changes_failed_count = counts.get((connection.id, "failed"), 0)
            connection.last_webhook_at = last.get(connection)

    def _compute_last_run(self):
        """The newest run of each connection, its state and outcome: one query for all."""
        Run = self.env["accounting.sync.run"]
        rows = {}
        if self.ids:
            Run.flush_model(["connection_id", "start", "state", "outcome", "records_synced",
                             "failed", "changes_applied"])
            self.env.cr.execute("""
                SELECT DISTINCT ON (connection_id) connection_id, id, start, state, outcome,
                       records_synced, failed, changes_applied
                  FROM accounting_sync_run
                 WHERE connection_id = ANY(%s)
                 ORDER BY connection_id, id DESC
            """, (self.ids,))
            rows = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for connection in self:
            run_id, start, state, outcome, synced, failed, applied = rows.get(
                connection.id, (False,) * 7)
            connection.last_run_id = Run.browse(run_id)
            connection.last_run_at = start
            connection.last_run_state = state
            connection.last_run_outcome = outcome or (
                run_id and self._run_outcome(synced, failed, applied))

    def _run_outcome(self, synced, failed, applied):
        """A run's counters in a few words, for a run that said nothing itself."""
        parts = [text for count, text in (
            (synced, self.env._("%s records synced", synced)),
            (applied, self.env._("%s changes applied", applied)),
            (failed, self.env._("%s failed", failed)),
        ) if count]
        return ", ".join(parts) or self.env._("Nothing to do")

    @api.depends("provider", "state", "refresh_token_expires_at")
    def _compute_renewal(self):
        """From the refresh token's expiry (a secret field, read as superuser): only the
        date and the days left, which are not secret."""
        now = fields.Datetime.now()
        for connection, conn in zip(self, self.sudo()):
            expires_at = connection.provider and connection.state != "draft" and \
                connection._capabilities().credentials == "oauth" and \
                conn.refresh_token_expires_at
            connection.renewal_date = expires_at and expires_at.date()
            connection.days_until_renewal = max((expires_at - now).days, 0) \
                if expires_at else 0

    def _compute_last_reconciliation(self):
        """The last finished reconciliation of each connection: one query for all."""
        Reconciliation = self.env["accounting.sync.reconciliation"]
        last = {}
        if self.ids:
            Reconciliation.flush_model(["connection_id", "state"])
            self.env.cr.execute("""
                SELECT DISTINCT ON (connection_id) connection_id, id
                  FROM accounting_sync_reconciliation
                 WHERE connection_id = ANY(%s) AND state NOT IN ('queued', 'running')
                 ORDER BY connection_id, id DESC
            """, (self.ids,))
            last = dict(self.env.cr.fetchall())
        for connection in self:
            rec = Reconciliation.browse(last.get(connection.id)).with_prefetch(
                tuple(last.values()))
            connection.last_reconciliation_id = rec
            connection.last_reconciliation_state = rec.state
            connection.last_reconciliation_summary = rec._summary() if rec else False
            connection.last_reconciliation_difference_count = rec.difference_count

    @api.depends("provider")
    def _compute_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for connection in self:
            connection.webhook_url = connection.provider and \
                connection._capabilities().webhooks and "%s/accounting_sync/webhook/%s" % (
                    base.rstrip("/"), connection.provider)

    def _compute_run_info(self):
        Run = self.env["accounting.sync.run"]
        counts = dict(Run._read_group([("connection_id", "in", self.ids)], ["connection_id"],
                                      ["__count"]))
        last = dict(Run._read_group([("connection_id", "in", self.ids), ("end", "!=", False)],
                                    ["connection_id"], ["end:max"]))
        for connection in self:
            connection.run_count = counts.get(connection, 0)
            connection.last_sync_at = last.get(connection, False)

    @api.depends("state")
    @api.depends_context("uid")
    def _compute_reconnect_hint(self):
        admin = self._is_sync_admin()
        for connection in self:
            connection.reconnect_hint = self.env._(
                "Click Reconnect and sign in again.") if admin else self.env._(
                "Ask an Accounting Sync administrator to reconnect it.")

    @api.depends_context("uid")
    def _compute_can_route(self):
        self.can_route = self.env.is_system()

    def _is_sync_admin(self):
        return self.env.su or self.env.user.has_group(ADMIN_GROUP)

    def _check_sync_admin(self):
        """The caller administers syncs and may change these connections (their company):
        checked before anything leaves Odoo."""
        if not self._is_sync_admin():
            raise AccessError(self.env._("Only Accounting Sync administrators can do this."))
        self.check_access("write")

    def _check_sync_user(self):
        """The caller may sync these connections: the sync group and their company."""
        if not (self.env.su or self.env.user.has_group(USER_GROUP)):
            raise AccessError(self.env._("Only Accounting Sync users can do this."))
        self.check_access("read")

    def _log(self, body, **kwargs):
        """Post ``body`` in the chatter as the current user, also when the user has no e-mail
        address (a log line must never make the action it reports fail)."""
        for connection in self:
            connection.sudo().message_post(body=body, author_id=self.env.user.partner_id.id,
                                           **kwargs)

    def _local_base_url(self):
        """The local sandbox URL this connection may call: the one a system administrator set
        in Settings, and only if the connection names that one."""
        allowed = (self._default_local_url() or "").strip().rstrip("/")
        mine = (self.local_url or "").strip().rstrip("/")
        if not allowed or mine != allowed:
            raise UserError(self.env._(
                "%(connection)s is set to call the local provider sandbox at %(url)s, which is "
                "not the Local Provider Sandbox URL set in Settings. A system administrator must "
                "set that URL in Settings, or the connection's environment to Production.",
                connection=self.name, url=mine or "-"))
        return allowed

    def _adapter(self):
        """The provider's adapter for this connection: its app settings, where it talks to
        (only the local sandbox set in Settings), a total deadline on every call."""
        self.ensure_one()
        base_url = self._local_base_url() if self.environment == "local" and \
            not self._capabilities().queued else None
        try:
            return get_adapter(
                self.provider,
                settings=self.env["accounting.sync.app.setting"]._values(self.provider),
                environment=self.environment,
                base_url=base_url,
                timeout=positive_param(self.env, PARAM_TIMEOUT, 30.0),
                # the local sandbox's --time-scale, so that pacing follows its clock
                time_scale=positive_param(self.env, PARAM_TIME_SCALE, 1.0),
                **self._adapter_options(),
            )
        except ProviderError as e:
            raise UserError(self.env._(
                "%(provider)s is not configured: %(error)s. Set the app keys in Settings → "
                "Accounting Sync → App Keys.",
                provider=self._provider_label(), error=self._message(e))) from e

    def _provider_label(self):
        return dict(PROVIDERS).get(self.provider)

    def _form_url(self):
        """The connection's form in the web client, within its menu and action."""
        return "/odoo/accounting-sync-connections/%s" % self.id

    def _notification(self, message, kind="success", title=None, next_action=None,
                      sticky=False):
        params = {"message": message, "type": kind, "sticky": sticky}
        if title:
            params["title"] = title
        if next_action:
            params["next"] = next_action
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.is_system():
            defaults = {"environment": self._default_environment(),
                        "local_url": self._default_local_url()}
            for vals in vals_list:
                for name in ROUTING_FIELDS:
                    if name in vals and (vals[name] or "") != (defaults[name] or ""):
                        raise AccessError(self.env._(
                            "Only system administrators choose where a connection talks to "
                            "(%s).", self._fields[name].string))
        connections = super().create(vals_list)
        connections._ensure_cron()
        connections._enqueue_scope()  # created with a start date: its scope is due once
        return connections

    def unlink(self):
        crons = self.sudo().cron_id
        result = super().unlink()
        crons.unlink()
        return result

    def _ensure_cron(self):
        """Each connection has its own scheduled job (parallel syncs, one per connection),
        active only while the connection is connected (a neutralized copy stays still)."""
        model = self.env["ir.model"]._get_id(self._name)
        for connection in self.sudo():
            values = {
                "name": "Accounting Sync: %s" % connection.name,
                "interval_number": max(connection.sync_interval, 1),
                "interval_type": "minutes",
                # (a queued provider's connector calls in: nothing to schedule)
                "active": connection.active and connection.state == "connected"
                and not connection._capabilities().queued,
            }
            if connection.cron_id:
                connection.cron_id.write(values)
            else:
                connection.cron_id = connection.env["ir.cron"].create(dict(
                    values, model_id=model, state="code",
                    code="model._cron_sync(%d)" % connection.id))

    def _check_routing_write(self, vals):
        """Environment and sandbox URL: system administrators only, never while connected;
        provider and company: never while connected or once records are linked."""
        for name in ROUTING_FIELDS:
            if name not in vals:
                continue
            changed = self.filtered(lambda c, n=name: (c[n] or "") != (vals[n] or ""))
            if not changed:
                continue
            if not self.env.is_system():
                raise AccessError(self.env._(
                    "Only system administrators choose where a connection talks to (%s).",
                    self._fields[name].string))
            if changed.filtered(lambda c: c.state == "connected"):
                raise UserError(self.env._(
                    "%(field)s cannot change while the connection is connected: Reset "
                    "Credentials first.", field=self._fields[name].string))
        for name in IDENTITY_FIELDS:
            if name not in vals:
                continue
            value = vals[name]
            changed = self.filtered(lambda c, n=name, v=value: (c[n].id if c._fields[n].type
                                                                == "many2one" else c[n]) != v)
            if changed.filtered(lambda c: c.state == "connected") or \
                    self.env["accounting.sync.binding"].sudo().search_count(
                        [("connection_id", "in", changed.ids)], limit=1):
                raise UserError(self.env._(
                    "%(field)s cannot change on a connection that is connected or has synced "
                    "records: create another connection.", field=self._fields[name].string))

    def write(self, vals):
        if not self.env.su:
            self._check_routing_write(vals)
        if "sync_start_date" in vals and not self.env.su:
            for connection in self.filtered("sync_start_date"):
                if connection.sync_start_date != vals["sync_start_date"]:
                    connection._check_sync_admin()
                    connection._log(self.env._(
                        "Sync start date changed from %(old)s to %(new)s by %(user)s: records "
                        "dated before the new date are no longer sent; those already sent "
                        "stay in the remote company.", old=connection.sync_start_date,
                        new=vals["sync_start_date"] or "-", user=self.env.user.name))
        if vals.get("remote_company_id"):
            # Pointed at another remote company under linked records: they are reset first.
            moved = self.filtered(lambda c: c.remote_company_id and
                                  c.remote_company_id != vals["remote_company_id"])
            if moved and self.env["accounting.sync.binding"].sudo().search_count(
                    [("connection_id", "in", moved.ids), ("remote_id", "!=", False)], limit=1):
                vals = dict(vals, needs_reset=True)
        result = super().write(vals)
        if {"name", "sync_interval", "active", "state"} & set(vals):
            self._ensure_cron()
        if {"sync_start_date", "access_scope"} & set(vals):
            # What the change brings into scope is queued, once.
            self._enqueue_scope()
        return result

    def _write_outside(self, values):
        """Write ``values`` on this connection in a transaction of its own, committed at once.

        A sync run must not write its connection's row in its own transaction: a token
        refresh commits that row from another transaction meanwhile, and the run's older
        snapshot would then fail with a serialization error and lose its work."""
        self.ensure_one()
        for _attempt in range(5):
            try:
                with self.env.registry.cursor() as cr:
                    cr.execute("SET LOCAL lock_timeout = %s", (OUTSIDE_LOCK_TIMEOUT_MS,))
                    # Take the row first, quietly: a lock held by our own transaction must
                    # not end in an error in the log.
                    cr.execute("SELECT id FROM accounting_sync_connection WHERE id = %s "
                               "FOR NO KEY UPDATE", (self.id,), log_exceptions=False)
                    self.with_env(self.env(cr=cr, su=True)).write(values)
                break
            except psycopg2.errors.SerializationFailure:
                continue  # another transaction wrote the row: again, with a new snapshot
            except psycopg2.errors.LockNotAvailable:
                self.sudo().write(values)  # our own transaction holds the row: write in it
                break
        self.invalidate_recordset(list(values))

    def _schedule_sync(self, seconds=0, outside=False):
        """Run the scheduled sync of this connection in ``seconds`` (``outside``: from a
        sync run, see :meth:`_write_outside`)."""
        at = fields.Datetime.now() + timedelta(seconds=seconds)
        if outside:
            self._write_outside({"next_sync_at": at})
        else:
            self.sudo().next_sync_at = at
        if not self.sudo().cron_id:
            self._ensure_cron()
        self.sudo().cron_id._trigger(at)

    def action_refresh_chart(self):
        self.ensure_one()
        self._check_sync_admin()
        try:
            chart = self.sudo()._refresh_chart()
        except ProviderError as e:
            raise UserError(self.env._("%(connection)s: reading the remote chart failed: "
                                       "%(error)s", connection=self.name, error=e)) from e
        preflight = self.sudo()._preflight()
        return self._notification(self.env._(
            "Read %(accounts)s accounts and %(taxes)s taxes from %(remote)s; %(summary)s",
            accounts=len(chart.accounts), taxes=len(chart.taxes),
            remote=self.remote_company_name, summary=preflight.summary()))

    def _preflight(self):
        """What the records in scope that are not synced yet need and lack: the accounts
        and taxes they use with no counterpart (matched first where they have no mapping),
        the suggestions waiting for a click, the warnings, and documents in a currency the
        remote company may not take. Marks the mappings it looked at as needed."""
        self.ensure_one()
        return Preflight(self.sudo())

    def action_open_preflight_mappings(self):
        """The mapping screen, on what the records waiting to be synced need."""
        self.ensure_one()
        self._check_sync_user()
        self.sudo()._preflight()
        action = self._open_action("accounting_sync.accounting_sync_mapping_action",
                                   context={"default_connection_id": self.id,
                                            "search_default_needed": 1})
        return action

    def action_accept_suggestions(self):
        self.ensure_one()
        self._check_sync_admin()
        self.mapping_ids.filtered(lambda m: m.suggested_remote_id and
                                  not m.remote_record_id).action_accept_suggestion()
        preflight = self.sudo()._preflight()
        return self._notification(preflight.summary(), kind="info" if preflight.ok
                                  else "warning", next_action={
                                      "type": "ir.actions.client", "tag": "soft_reload"})

    def _remote_url(self, kind, remote_id):
        """Where an accountant sees the remote record (the provider's web app, or the local
        sandbox's record page)."""
        adapter_class = ADAPTERS.get(self.provider)
        if not adapter_class or not remote_id:
            return False
        base_url = (self.local_url or "") if self.environment == "local" else None
        return adapter_class.record_url(self.environment, base_url, self.remote_company_id,
                                        kind, remote_id)

    def action_sync_now(self):
        """Queue a sync of this connection for the cron worker; it reports back here. The
        first time, ask for the go-live date and show the pre-flight."""
        self.ensure_one()
        self._check_sync_user()
        if not self.sync_start_date:
            self._check_sync_admin()  # the go-live date is an administrator's decision
            wizard = self.env["accounting.sync.start.wizard"].create({
                "connection_id": self.id,
                "sync_start_date": fields.Date.context_today(self).replace(month=1, day=1)})
            return {"type": "ir.actions.act_window", "res_model": wizard._name,
                    "res_id": wizard.id, "view_mode": "form", "target": "new",
                    "name": self.env._("When does syncing start?")}
        self._check_can_sync()
        if self._capabilities().queued:
            return self._notification(self.env._(
                "%(connection)s syncs when the Web Connector runs: %(count)s records are "
                "queued for it.", connection=self.name, count=self.qbwc_queued_count),
                kind="info")
        self.sudo().sync_requested_by_id = self.env.user
        self._schedule_sync()
        return self._notification(self.env._(
            "Sync of %s started: you will be notified when it ends.", self.name))

    def _claim_for_sync(self):
        """Lock the connection's row unless another worker has it (or has just claimed it,
        which this transaction's snapshot would not show yet)."""
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM accounting_sync_connection WHERE id = %s "
                    "FOR NO KEY UPDATE SKIP LOCKED", (self.id,), log_exceptions=False)
                return bool(self.env.cr.fetchone())
        except psycopg2.errors.SerializationFailure:
            return False

    def _open_action(self, xmlid, context=None, **domain):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("connection_id", "=", self.id)] + [
            (field, "=", value) for field, value in domain.items()]
        if context is not None:
            action["context"] = context
        return action

    def _form_action(self):
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "current"}

    def action_open_failed(self):
        return self._open_action("accounting_sync.accounting_sync_binding_action_failed",
                                 state="failed")

    def action_open_runs(self):
        return self._open_action("accounting_sync.accounting_sync_run_action")

    def action_open_reset_wizard(self):
        """Reset Record Sync State, starting from nothing: the records are chosen there."""
        self.ensure_one()
        self._check_sync_admin()
        return {"type": "ir.actions.act_window", "res_model": "accounting.sync.reset.wizard",
                "view_mode": "form", "target": "new",
                "name": self.env._("Reset Record Sync State"),
                "context": {"active_model": self._name, "active_id": self.id}}

    def action_open_waiting(self):
        return self._open_action("accounting_sync.accounting_sync_binding_action",
                                 state="waiting")

    def action_open_changes(self):
        self.ensure_one()
        return self._open_action("accounting_sync.accounting_sync_change_action",
                                 connection_id=self.id)

    def action_pull_now(self):
        """Read what changed in the remote company now, and apply it."""
        self.ensure_one()
        self._check_sync_user()
        self._check_can_sync()
        run = self.env["accounting.sync.puller"]._pull(self, user=self.env.user)
        if not run:
            return self._notification(self.env._(
                "Changes of %(connection)s are being read already.", connection=self.name),
                kind="info")
        return self._notification(run._summary() + (
            ". " + run.outcome if run.outcome else ""),
            kind="success" if run.state == "done" else "warning",
            next_action={"type": "ir.actions.client", "tag": "soft_reload"})

    @api.model
    def _cron_pull(self):
        """The pull job (triggered at once by webhook deliveries, and every few minutes):
        each connected connection whose webhook events wait, or whose pull interval has
        passed, pulls and applies its changes — once a day reading the whole last day again.
        Each connection's pull is committed on its own; one that fails does not stop the
        others."""
        now = fields.Datetime.now()
        for connection in self.search([("state", "=", "connected"),
                                       ("sync_start_date", "!=", False),
                                       ("needs_reset", "=", False)]):
            try:
                connection._pull_if_due(now)
            except Exception:  # noqa: BLE001 - one connection's failure is its own
                _logger.exception("Accounting sync: pull of connection %s failed",
                                  connection.id)
                self.env.cr.rollback()  # pylint: disable=invalid-commit

    def _pull_if_due(self, now):
        self.ensure_one()
        if not self._capabilities().pulls_changes:
            return
        notified = self.env["accounting.sync.change"].search_count(
            [("connection_id", "=", self.id), ("source", "=", "webhook"),
             ("state", "=", "new")], limit=1)
        full = not self.last_full_pull_at or self.last_full_pull_at <= now - timedelta(days=1)
        due = not self.last_pull_at or self.last_pull_at <= now - timedelta(
            minutes=max(self.pull_interval, 1))
        if not (notified or due or full):
            return
        run = self.env["accounting.sync.puller"]._pull(
            self, trigger="webhook" if notified else "pull", full=full, commit=True,
            keep_empty=False, notified_only=bool(notified) and not due)
        # False: another worker is pulling; an empty recordset: it read nothing new.
        if full and run is not False and (not run or run.state != "failed"):
            self._write_outside({"last_full_pull_at": now})

    # ------------------------------------------------------------------------------------
    # Reconciliation
    # ------------------------------------------------------------------------------------

    def action_reconcile(self):
        """Compare the books now, as of today, and open the result (QuickBooks Desktop: asked
        now, read at the connector's next session)."""
        self.ensure_one()
        self._check_sync_user()
        self._check_can_sync()
        rec = self.env["accounting.sync.reconciliation"]._reconcile(self, user=self.env.user)
        self.sudo()._write_outside({"next_reconciliation_at": self._next_reconciliation()})
        return {"type": "ir.actions.act_window", "res_model": rec._name, "res_id": rec.id,
                "view_mode": "form", "target": "current"}

    def action_open_reconciliations(self):
        return self._open_action("accounting_sync.accounting_sync_reconciliation_action",
                                 connection_id=self.id)

    def action_open_last_reconciliation(self):
        self.ensure_one()
        if not self.last_reconciliation_id:
            return self.action_open_reconciliations()
        return {"type": "ir.actions.act_window", "res_model": "accounting.sync.reconciliation",
                "res_id": self.last_reconciliation_id.id, "view_mode": "form",
                "target": "current"}

    def _next_reconciliation(self):
        days = self.reconcile_interval_days
        return fields.Datetime.now() + timedelta(days=days) if days > 0 else False

    @api.model
    def _cron_reconcile(self, commit=True):
        """Each connected connection whose reconciliation is due compares its books (the
        first one an interval after it was scheduled); each committed on its own (``commit``),
        one that fails does not stop the others."""
        now = fields.Datetime.now()
        for connection in self.search([("state", "=", "connected"),
                                       ("sync_start_date", "!=", False),
                                       ("needs_reset", "=", False),
                                       ("reconcile_interval_days", ">", 0)]):
            if not connection.next_reconciliation_at:
                connection.next_reconciliation_at = connection._next_reconciliation()
                continue
            if connection.next_reconciliation_at > now:
                continue
            # The slot is claimed (committed) before the provider is called: a token refresh
            # commits this row from another transaction meanwhile.
            connection.next_reconciliation_at = connection._next_reconciliation()
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
            try:
                self.env["accounting.sync.reconciliation"]._reconcile(
                    connection, trigger="schedule", user=connection.responsible_id)
                if commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
            except Exception:  # noqa: BLE001 - one connection's failure is its own
                _logger.exception("Accounting sync: reconciliation of connection %s failed",
                                  connection.id)
                if not commit:
                    raise
                self.env.cr.rollback()  # pylint: disable=invalid-commit

    # Overview: each figure of a card opens exactly the records it counts (the actions'
    # default filters that would narrow or group them further are replaced).

    def action_open_failed_items(self):
        return self._open_action("accounting_sync.accounting_sync_binding_action_failed",
                                 context={"search_default_failed": 1}, state="failed")

    def action_open_changes_waiting(self):
        return self._open_action("accounting_sync.accounting_sync_change_action",
                                 context={"search_default_todo": 1}, state="new")

    def action_open_changes_conflict(self):
        return self._open_action("accounting_sync.accounting_sync_change_action",
                                 context={"search_default_conflict": 1}, state="conflict")

    def action_open_last_run(self):
        self.ensure_one()
        if not self.last_run_id:
            return self.action_open_runs()
        return {"type": "ir.actions.act_window", "res_model": "accounting.sync.run",
                "res_id": self.last_run_id.id, "view_mode": "form", "views": [(False, "form")],
                "target": "current"}

    def action_open_reconciliation_differences(self):
        """The differences of the last reconciliation that are not ignored (its count)."""
        self.ensure_one()
        if not self.last_reconciliation_id:
            return self.action_open_reconciliations()
        return {"type": "ir.actions.act_window",
                "res_model": "accounting.sync.reconciliation.line",
                "name": self.env._("Differences: %s", self.last_reconciliation_id.display_name),
                "view_mode": "list,form", "views": [(False, "list"), (False, "form")],
                "domain": [("reconciliation_id", "=", self.last_reconciliation_id.id),
                           ("difference_class", "!=", False), ("ignored", "=", False)],
                "context": {}, "target": "current"}

    def action_open_runs_graph(self):
        """Records synced per day by connection (of these connections), from their runs."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "accounting_sync.accounting_sync_run_action")
        graph = self.env.ref("accounting_sync.accounting_sync_run_view_graph")
        action.update({
            "name": self.env._("Records Synced"),
            "domain": [("connection_id", "in", self.ids)],
            "view_mode": "graph,pivot,list,form",
            "views": [(graph.id, "graph"), (False, "pivot"), (False, "list"), (False, "form")],
        })
        return action

    def action_open_mappings(self):
        return self._open_action("accounting_sync.accounting_sync_mapping_action",
                                 context={"default_connection_id": self.id})

    # ------------------------------------------------------------------------------------
    # The provider: capabilities, adapter, messages
    # ------------------------------------------------------------------------------------

    def _capabilities(self):
        """What this connection's provider can do (providers: batch size, items, taxes,
        webhooks...), without building an adapter."""
        return capabilities(self.provider)

    def _message(self, error):
        """A provider's error in the user's language: the translated sentence of its code
        (messages.py), else its own words."""
        return translated_message(self.env, error)

    def _foreign(self, record):
        """The company of ``record`` when it is not this connection's (a partner or product
        shared by every company belongs to none), else False."""
        company = record.company_id if "company_id" in record._fields else None
        return company if company and company != self.company_id else False

    # ------------------------------------------------------------------------------------
    # Scope
    # ------------------------------------------------------------------------------------

    def _allowed_move_types(self):
        return SCOPE_MOVE_TYPES[self.access_scope]

    def _allowed_kinds(self):
        return SCOPE_KINDS[self.access_scope]

    def _tax_total_on_document(self):
        return self._capabilities().tax_total_on_document

    def _item_required_kinds(self):
        return self._capabilities().item_required_kinds

    def _enqueue_scope(self):
        """Queue, once, what the connection's scope and start date bring in: the posted
        documents and payments dated from the start date that have no sync state yet (and
        what they need). Called when the start date or the scope changes — never by a run."""
        for connection in self.sudo().filtered("sync_start_date"):
            for model in ("account.move", "account.payment"):
                records = connection.env[model]._accounting_sync_scope(connection)
                bound = set(connection.env["accounting.sync.binding"].search([
                    ("connection_id", "=", connection.id), ("res_model", "=", model),
                    ("res_id", "in", records.ids)]).mapped("res_id"))
                records.filtered(lambda r, b=bound: r.id not in b)._accounting_sync_mark_due(
                    connections=connection)

    def _check_can_sync(self):
        """Refuse to sync what would go wrong: not connected, no start date, or a connection
        re-pointed at another remote company while records still point at the old one."""
        self.ensure_one()
        if self.state != "connected":
            self._raise_authorization_case(self._authorization_case())
        if not self.sync_start_date:
            raise UserError(self.env._("%s: set the sync start date (go-live date) first.",
                                       self.name))
        if not self.needs_reset:
            return
        stale = self.env["accounting.sync.binding"].sudo().search_count([
            ("connection_id", "=", self.id), ("remote_id", "!=", False),
            ("remote_company_id", "!=", False),
            ("remote_company_id", "!=", self.remote_company_id)])
        if stale:
            raise UserError(self.env._(
                "%(connection)s now points at %(remote)s, but %(count)s records are still "
                "linked to another remote company. Use Reset Record Sync State on them "
                "first, so that they are not mixed with this company's records.",
                connection=self.name, remote=self.remote_company_name, count=stale))
        self._write_outside({"needs_reset": False})

    # ------------------------------------------------------------------------------------
    # Runs: one entry point
    # ------------------------------------------------------------------------------------

    def _start_run(self, trigger, records=None, bindings=None, commit=False, user=None):
        """Start a sync run of this connection now, in this transaction — the one way in:
        Sync now and the schedule (everything due; ``commit`` per batch and within a time
        share, a paused run resumed), *Sync to…* (``records`` and what they need, queued
        here first) and Retry (``bindings``). The caller checked the user's rights."""
        self.ensure_one()
        connection = self.sudo()
        user = user or self.env.user
        if records is not None:
            bindings = self.env["accounting.sync.binding"].sudo()._queue(connection, records)
        if commit and bindings is None:
            run = self.env["accounting.sync.run"].sudo()._resume_or_create(connection, trigger, user)
        else:
            run = self.env["accounting.sync.run"].sudo().create({
                "connection_id": self.id, "trigger": trigger, "user_id": user.id})
        return self.env["accounting.sync.engine"]._execute(
            run, bindings=bindings, commit=commit,
            budget=run_time_budget(self.env) if commit else None)

    def _sync(self, trigger="button", bindings=None, commit=False):
        """Sync now (everything due, or ``bindings``): :meth:`_start_run`."""
        return self._start_run(trigger, bindings=bindings, commit=commit)

    @api.model
    def _cron_sync(self, connection_id=None):
        """Sync the due connection (each connection's job passes its id), never two runs of
        one connection at once across workers, each batch committed. A connection with
        nothing due costs a few queries and makes no run."""
        now = fields.Datetime.now()
        Run = self.env["accounting.sync.run"]
        domain = [("state", "=", "connected"), ("sync_start_date", "!=", False)]
        if connection_id:
            domain.append(("id", "=", connection_id))
        for connection in self.search(domain):
            if connection._capabilities().queued:
                continue  # its connector calls in (QuickBooks Desktop: the Web Connector)
            running = Run.search([("connection_id", "=", connection.id),
                                  ("state", "=", "running")], limit=1)
            if running and running.lease_until and running.lease_until > now:
                # Held by a worker: if that worker dies, its lease runs out; be called then.
                connection.sudo().cron_id._trigger(running.lease_until)
                continue
            due_by_time = not connection.next_sync_at or connection.next_sync_at <= now
            if not (due_by_time or running) or not connection._claim_for_sync():
                continue  # not due yet, or another worker has it
            interval = timedelta(minutes=max(connection.sync_interval, 1))
            if not self.env["accounting.sync.binding"]._due_exists(connection):
                connection.sudo().write({"next_sync_at": now + interval,
                                         "sync_requested_by_id": False})
                self.env.cr.commit()  # pylint: disable=invalid-commit
                continue
            user = connection.sync_requested_by_id
            connection.sudo().write({"next_sync_at": now + interval,
                                     "sync_requested_by_id": False})
            run = Run.sudo()._resume_or_create(connection, "button" if user else "schedule",
                                                user or self.env.user)
            # Claim the connection (next_sync_at moved on) and show the run at once; the
            # engine then commits per batch.
            self.env.cr.commit()  # pylint: disable=invalid-commit
            try:
                self.env["accounting.sync.engine"]._execute(run, commit=True,
                                                            budget=run_time_budget(self.env))
            except Exception:  # noqa: BLE001 - a lost transaction must not leave a run running
                _logger.exception("Accounting sync: run %s of connection %s lost its "
                                  "transaction", run.id, connection.id)
                self.env.cr.rollback()  # pylint: disable=invalid-commit
                run.sudo()._finish("interrupted", self.env._(
                    "The run's database transaction was lost (a conflict with another "
                    "worker, or a database error); what was committed stays, and the sync "
                    "resumes shortly."))
                connection._schedule_sync(seconds=10, outside=True)
            if run.state == "paused":
                # Due again at once, and Odoo calls this job again right away (ir.cron
                # progress) instead of at the next interval.
                connection._write_outside({"next_sync_at": fields.Datetime.now()})
                self.env["ir.cron"]._notify_progress(done=max(run._processed(), 1),
                                                     remaining=run.remaining)
            self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------------------------
    # Chart and Troubleshoot
    # ------------------------------------------------------------------------------------

    def _refresh_chart(self, outside=False):
        """Read the remote accounts and taxes (and the company's currency and tax code);
        ``outside``: from a sync run (see :meth:`_write_outside`)."""
        self.ensure_one()
        chart = self._call_provider(
            lambda adapter, tokens: adapter.fetch_chart(tokens, self.remote_company_id))
        values = self.env["accounting.sync.remote.record"]._store_chart(self, chart)
        if any(self[name] != value for name, value in values.items()):
            if outside:
                self._write_outside(values)
            else:
                self.sudo().write(values)
        return chart

    def action_troubleshoot(self):
        """One CSV of every current problem, with what support needs; attached here,
        e-mailed to the support address set in Settings, downloaded — and the user told
        which."""
        self.ensure_one()
        self._check_sync_user()
        attachment, count = self.env["accounting.sync.binding"].sudo()._troubleshoot_report(
            self)
        said = self.env["accounting.sync.binding"].sudo()._mail_troubleshoot_report(
            self, attachment, count)
        self._log(said, attachment_ids=attachment.ids)
        return self._notification(said, kind="info", next_action={
            "type": "ir.actions.act_url", "target": "self",
            "url": "/web/content/%s?download=true" % attachment.id})

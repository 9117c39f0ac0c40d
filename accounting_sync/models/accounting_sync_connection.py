import csv
import io
import logging
import secrets
from datetime import timedelta

import psycopg2.errors
from werkzeug.exceptions import Forbidden

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac as odoo_hmac

from ..providers import (
    ADAPTERS,
    AuthorizationError,
    InvalidGrantError,
    ProviderError,
    RemoteCompany,
    TokenSet,
    get_adapter,
)
from ..providers.base import utcnow
from ..providers.documents import KINDS
from .preflight import Preflight
from .accounting_sync_engine import (
    SALES_KINDS, positive_param, run_lease_seconds, run_time_budget,
)

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/accounting_sync/oauth/callback"
ADMIN_GROUP = "accounting_sync.group_accounting_sync_admin"
USER_GROUP = "accounting_sync.group_accounting_sync_user"
# Where a connection talks to: system administrators only, and never while connected.
ROUTING_FIELDS = ("environment", "local_url")
# What a connected connection (or one with synced records) keeps.
IDENTITY_FIELDS = ("provider", "company_id")
# Refresh an access token this long before it expires (QBO lives 60 min, Xero 30 min).
REFRESH_MARGIN = timedelta(minutes=5)
# How long a second worker waits for the one refreshing the same connection.
REFRESH_LOCK_TIMEOUT_MS = 15000
# How long a write from a sync run waits for the connection's row (see _write_outside).
OUTSIDE_LOCK_TIMEOUT_MS = 2000
TOKEN_FIELDS = ("access_token", "refresh_token", "access_token_expires_at",
                "refresh_token_expires_at")
STATE_HMAC_SCOPE = "accounting_sync.oauth_state"


class AccountingSyncConnection(models.Model):
    _name = "accounting.sync.connection"
    _description = "Accounting Sync Connection"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "company_id, name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True,
                                 default=lambda self: self.env.company)
    provider = fields.Selection(
        [("quickbooks_online", "QuickBooks Online"), ("xero", "Xero")],
        required=True, default="quickbooks_online", tracking=True)
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
    remote_connection_id = fields.Char(
        readonly=True, copy=False, help="Xero's id of this app's connection to the tenant.")
    token_holder_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True,
                                      help="The Odoo user whose authorization the tokens are.")
    remote_login = fields.Char(readonly=True, copy=False, tracking=True,
                               help="The remote login (e-mail) that authorized the tokens.")
    last_error = fields.Text(readonly=True, copy=False)
    display_status = fields.Char(compute="_compute_display_status")
    can_release = fields.Boolean(compute="_compute_can_release",
                                 help="The current user holds the token or administers syncs.")
    pending_connect_id = fields.Many2one(
        "accounting.sync.connect.wizard", compute="_compute_pending_connect",
        help="An authorization that came back from the provider and waits for your decision.")
    pending_connect_reason = fields.Char(compute="_compute_pending_connect")
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

    # Secrets: system administrators only, never copied, never shown in clear.
    access_token = fields.Char(groups="base.group_system", copy=False)
    refresh_token = fields.Char(groups="base.group_system", copy=False)
    access_token_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    refresh_token_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    oauth_nonce = fields.Char(groups="base.group_system", copy=False)
    oauth_code_verifier = fields.Char(groups="base.group_system", copy=False)
    expiry_warning_sent_for = fields.Datetime(groups="base.group_system", copy=False)

    _sql_constraints = [
        ("remote_company_unique", "unique(company_id, provider, remote_company_id)",
         "This remote company is already connected to this Odoo company."),
    ]

    # ------------------------------------------------------------------------------------
    # Defaults, computes
    # ------------------------------------------------------------------------------------

    @api.model
    def _default_local_url(self):
        return self.env["ir.config_parameter"].sudo().get_param("accounting_sync.local_url") or ""

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
        waiting = dict(self.env["accounting.sync.binding"]._read_group(
            [("connection_id", "in", self.ids), ("state", "=", "pending"),
             ("error_code", "in", ("mapping", "blocked"))], ["connection_id"], ["__count"]))
        for connection in self:
            connection.synced_count = counts.get((connection.id, "synced"), 0)
            connection.failed_count = counts.get((connection.id, "failed"), 0)
            connection.waiting_count = waiting.get(connection, 0)

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

    @api.depends("token_holder_id")
    @api.depends_context("uid")
    def _compute_can_release(self):
        admin = self._is_sync_admin()
        for connection in self:
            connection.can_release = bool(connection.token_holder_id) and (
                admin or connection.token_holder_id == self.env.user)

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

    # ------------------------------------------------------------------------------------
    # Provider adapter
    # ------------------------------------------------------------------------------------

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
        self.ensure_one()
        ICP = self.env["ir.config_parameter"].sudo()
        prefix = "accounting_sync.%s_" % ("qbo" if self.provider == "quickbooks_online" else "xero")
        base_url = self._local_base_url() if self.environment == "local" else None
        try:
            return get_adapter(
                self.provider,
                client_id=ICP.get_param(prefix + "client_id"),
                client_secret=ICP.get_param(prefix + "client_secret"),
                environment=self.environment,
                base_url=base_url,
                timeout=positive_param(self.env, "accounting_sync.timeout", 30.0),
                # the local sandbox's --time-scale, so that pacing follows its clock
                time_scale=positive_param(self.env, "accounting_sync.local_time_scale", 1.0),
            )
        except ProviderError as e:
            raise UserError(self.env._(
                "%(provider)s is not configured: %(error)s. Set the app keys in Settings → "
                "Accounting Sync.",
                              provider=self._provider_label(), error=e.message)) from e

    def _provider_label(self):
        return dict(self._fields["provider"].selection).get(self.provider)

    @api.model
    def _redirect_uri(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        return base_url.rstrip("/") + CALLBACK_PATH

    def _token_set(self):
        self.ensure_one()
        conn = self.sudo()
        return TokenSet(
            access_token=conn.access_token,
            refresh_token=conn.refresh_token,
            expires_at=conn.access_token_expires_at,
            refresh_expires_at=conn.refresh_token_expires_at,
        )

    @api.model
    def _token_values(self, tokens):
        return {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "access_token_expires_at": tokens.expires_at,
            "refresh_token_expires_at": tokens.refresh_expires_at,
        }

    # ------------------------------------------------------------------------------------
    # Connect: authorize URL, state, callback
    # ------------------------------------------------------------------------------------

    def _oauth_state(self, nonce):
        message = (self.id, self.env.uid, nonce)
        mac = odoo_hmac(self.env(su=True), STATE_HMAC_SCOPE, message)
        return "%s.%s.%s.%s" % (self.id, self.env.uid, nonce, mac)

    @api.model
    def _connection_from_oauth_state(self, state):
        """The connection an OAuth ``state`` was issued for, consuming it (single use).

        Raise Forbidden when the state is malformed, forged, replayed, or was issued to
        another user.
        """
        try:
            connection_id, uid, nonce, mac = (state or "").split(".")
            connection_id, uid = int(connection_id), int(uid)
        except ValueError:
            _logger.warning("Accounting sync: malformed OAuth state %r", state)
            raise Forbidden() from None
        expected = odoo_hmac(self.env(su=True), STATE_HMAC_SCOPE, (connection_id, uid, nonce))
        if not consteq(mac, expected) or uid != self.env.uid:
            _logger.warning("Accounting sync: forged or foreign OAuth state for connection %s",
                            connection_id)
            raise Forbidden()
        connection = self.browse(connection_id).exists()
        if not connection:
            raise Forbidden()
        stored = connection.sudo().oauth_nonce or ""
        if not stored or not consteq(stored, nonce):
            _logger.warning("Accounting sync: replayed OAuth state for connection %s",
                            connection_id)
            raise Forbidden()
        connection.check_access("write")
        connection.sudo().oauth_nonce = False
        return connection

    def action_connect(self):
        """Send the admin to the provider's authorize page."""
        self.ensure_one()
        self._check_sync_admin()
        adapter = self._adapter()
        nonce = secrets.token_urlsafe(24)
        url, verifier = adapter.authorization_url(
            self._redirect_uri(), self.access_scope, self._oauth_state(nonce))
        self.sudo().write({"oauth_nonce": nonce, "oauth_code_verifier": verifier or False})
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def _oauth_callback(self, code, params):
        """Finish the authorization; return the URL to send the admin's browser to."""
        self.ensure_one()
        adapter = self._adapter()
        verifier = self.sudo().oauth_code_verifier
        self.sudo().oauth_code_verifier = False
        tokens = adapter.exchange_code(code, self._redirect_uri(), code_verifier=verifier)
        identity = adapter.identity(tokens)
        companies = adapter.companies(tokens, params)
        if not companies:
            raise UserError(self.env._(
                "The authorization gives access to no company. Sign in again and choose one."))

        # Only live tokens are held: once the authorization is lost, anyone may reconnect.
        holder = self.token_holder_id if self.state == "connected" else self.env["res.users"]
        if holder and holder != self.env.user and not self._same_login(identity.login):
            raise UserError(self.env._(
                "This connection is held by %(holder)s (signed in at %(provider)s as "
                "%(login)s). You signed in as %(you)s. Ask %(holder)s or an Accounting Sync "
                "administrator to Release the connection first, then connect again.",
                holder=holder.name, provider=self._provider_label(), login=self.remote_login,
                you=identity.login))

        chosen = None
        if self.remote_company_id:
            chosen = next((c for c in companies if c.id == self.remote_company_id), None)
        if not chosen and len(companies) == 1:
            chosen = companies[0]
        takeover = bool(holder and holder != self.env.user)
        repoint = bool(chosen and self.remote_company_id and chosen.id != self.remote_company_id)
        if chosen and not takeover and not repoint:
            self._apply_authorization(tokens, identity, chosen)
            self._disconnect_unchosen(tokens, companies, chosen)
        else:
            # One more decision: the connection's form offers it (a dialog), with menu and
            # breadcrumb, since the browser lands there.
            self.env["accounting.sync.connect.wizard"]._create_pending(
                self, tokens, identity, companies, chosen)
        return self._form_url()

    def _form_url(self):
        """The connection's form in the web client, within its menu and action."""
        return "/odoo/accounting-sync-connections/%s" % self.id

    def _disconnect_unchosen(self, tokens, companies, chosen=None):
        """Drop this app's access to the remote companies approved at the consent page but
        not chosen (Xero organisations), unless another connection of this database uses
        one. Best effort: a failure is logged in the chatter, nothing else."""
        self.ensure_one()
        in_use = set(self.sudo().with_context(active_test=False).search([
            ("provider", "=", self.provider), ("state", "=", "connected"),
            ("remote_company_id", "!=", False)]).mapped("remote_company_id"))
        others = [c for c in companies if (not chosen or c.id != chosen.id)
                  and c.id not in in_use and c.connection_id]
        if not others:
            return
        adapter = self._adapter()
        dropped, failed = [], []
        for company in others:
            try:
                adapter.disconnect(tokens, company)
                dropped.append(company.name)
            except ProviderError as e:
                failed.append("%s (%s)" % (company.name, e))
        if dropped:
            self._log(self.env._("Disconnected at %(provider)s the organisations approved but "
                                 "not chosen: %(names)s.", provider=self._provider_label(),
                                 names=", ".join(dropped)))
        if failed:
            self._log(self.env._("Could not disconnect at %(provider)s: %(names)s. Remove them "
                                 "from the app's connections there.",
                                 provider=self._provider_label(), names="; ".join(failed)))

    def _verify_remote_company(self, tokens, company):
        """Read the remote company (QBO CompanyInfo, Xero Organisation) with the new tokens:
        its current name, and proof that the tokens work for it. Pending tokens may have
        expired while the admin decided: refresh them once then."""
        adapter = self._adapter()
        try:
            info = adapter.company_info(tokens, company.id)
        except AuthorizationError as e:
            if e.forbidden:
                raise
            tokens = adapter.refresh(tokens.refresh_token)
            info = adapter.company_info(tokens, company.id)
        info.connection_id = company.connection_id
        return tokens, info

    def _same_login(self, login):
        return bool(login and self.remote_login
                    and login.strip().lower() == self.remote_login.strip().lower())

    def _apply_authorization(self, tokens, identity, company):
        """Store a finished authorization on the connection and log what happened."""
        self.ensure_one()
        self._check_sync_admin()
        previous_holder = self.token_holder_id
        previous_company = self.remote_company_id
        twin = self.sudo().with_context(active_test=False).search([
            ("id", "!=", self.id), ("company_id", "=", self.company_id.id),
            ("provider", "=", self.provider), ("remote_company_id", "=", company.id),
        ], limit=1)
        if twin:
            raise UserError(self.env._(
                "%(remote)s is already connected to this company by %(connection)s. Use that "
                "connection, or reset it first.", remote=company.name, connection=twin.name))
        tokens, company = self._verify_remote_company(tokens, company)
        values = self._token_values(tokens)
        values.update({
            "state": "connected",
            "remote_company_id": company.id,
            "remote_company_name": company.name,
            "remote_connection_id": company.connection_id or False,
            "token_holder_id": self.env.user.id,
            "remote_login": identity.login,
            "last_error": False,
            "expiry_warning_sent_for": False,
        })
        self.sudo().write(values)
        if previous_holder and previous_holder != self.env.user:
            self._log(self.env._(
                "%(user)s took over the token from %(previous)s (same %(provider)s login "
                "%(login)s).", user=self.env.user.name, previous=previous_holder.name,
                provider=self._provider_label(), login=identity.login))
        if previous_company and previous_company != company.id:
            self._log(self.env._(
                "Re-pointed from remote company %(old)s to %(new)s (%(name)s), confirmed by "
                "%(user)s.", old=previous_company, new=company.id, name=company.name,
                user=self.env.user.name))
        self._log(self.env._(
            "Connected to %(company)s as %(login)s by %(user)s.", company=company.name,
            login=identity.login, user=self.env.user.name))
        # The remote chart, matched at once: the first sync then asks for what remains only.
        try:
            with self.env.cr.savepoint():
                self.sudo()._refresh_chart()
                if self.sync_start_date:
                    self.sudo()._preflight()
        except (ProviderError, UserError) as e:
            self._log(self.env._("The remote accounts and taxes could not be read yet (%s); "
                                 "they are read at the first sync.", e))
        # The to-dos that asked for this (reconnect, authorization expiring) are done.
        warning = self.env.ref("mail.mail_activity_data_warning")
        self.sudo().activity_ids.filtered(lambda a: a.activity_type_id == warning).action_feedback(
            feedback=self.env._("Reconnected by %s.", self.env.user.name))

    # ------------------------------------------------------------------------------------
    # Tokens: refresh under a row lock, in a transaction of its own
    # ------------------------------------------------------------------------------------

    def _needs_refresh(self, tokens):
        return not tokens.access_token or not tokens.expires_at or (
            tokens.expires_at - utcnow() <= REFRESH_MARGIN)

    def _get_access_tokens(self, force_refresh=False):
        """A token set whose access token is valid for a while, refreshing it if needed.

        The refresh runs in a transaction of its own that holds the connection's row lock
        and re-reads the tokens once it has it: two workers refreshing at once make one
        refresh call, and the rotated refresh token is committed at once, whatever happens
        to the caller's transaction afterwards. Use the returned token set: the caller's
        transaction may still see the old tokens (its snapshot predates the refresh).
        """
        self.ensure_one()
        tokens = self._token_set()
        if self.state in ("draft", "disconnected") or not (tokens.refresh_token
                                                            or tokens.access_token):
            self._raise_authorization_case(self._authorization_case())
        if not force_refresh and not self._needs_refresh(tokens):
            return tokens
        stale_access_token = tokens.access_token
        for _attempt in range(5):
            try:
                with self.env.registry.cursor() as cr:
                    cr.execute("SET LOCAL lock_timeout = %s", (REFRESH_LOCK_TIMEOUT_MS,))
                    outcome = self.with_env(self.env(cr=cr))._refresh_locked(
                        stale_access_token, force_refresh)
                break
            except psycopg2.errors.SerializationFailure:
                continue  # another worker refreshed meanwhile: look again with a new snapshot
            except psycopg2.errors.LockNotAvailable:
                # Our own transaction may hold the row lock: refresh in it instead.
                outcome = self._refresh_locked(stale_access_token, force_refresh)
                break
        else:
            raise UserError(self.env._(
                "%s: the token could not be refreshed because the connection is busy. Try "
                "again in a moment.", self.name))
        state, tokens, last_error = outcome
        if state != "connected":
            self.invalidate_recordset(TOKEN_FIELDS + ("state", "last_error"))
            self._raise_authorization_case(self._authorization_case(state, last_error))
        return tokens

    def _refresh_locked(self, stale_access_token, force_refresh):
        """Lock the row, re-read the tokens, and refresh unless someone else just did.
        Return ``(state, tokens, last_error)`` as this transaction leaves them."""
        # NO KEY UPDATE: a run's own transaction holds KEY SHARE locks on this row (the rows
        # it inserts refer to it); a FOR UPDATE would wait for that run to end.
        self.env.cr.execute("SELECT id FROM accounting_sync_connection WHERE id = %s "
                            "FOR NO KEY UPDATE", (self.id,), log_exceptions=False)
        self.invalidate_recordset()
        conn = self.sudo()
        tokens = conn._token_set()
        someone_refreshed = tokens.access_token != stale_access_token
        if conn.state != "connected" or someone_refreshed or (
                not force_refresh and not self._needs_refresh(tokens)):
            return conn.state, tokens, conn.last_error
        try:
            new_tokens = conn._adapter().refresh(tokens.refresh_token)
        except InvalidGrantError as e:
            conn._lose_authorization(e, tokens)
            return conn.state, None, conn.last_error
        if not new_tokens.refresh_expires_at:
            new_tokens.refresh_expires_at = tokens.refresh_expires_at
        conn.write(self._token_values(new_tokens))
        _logger.info("Accounting sync: refreshed the access token of connection %s", self.id)
        return conn.state, new_tokens, conn.last_error

    def _lose_authorization(self, error, tokens):
        """The provider no longer honours the refresh token: forget it and tell people."""
        expired = bool(tokens.refresh_expires_at and tokens.refresh_expires_at <= utcnow())
        case = "expired" if expired else "revoked"
        reason = self._authorization_case_message(case)
        self.write({
            "state": "needs_reconnect", "last_error": "%s (%s)" % (reason, error),
            "access_token": False, "refresh_token": False,
            "access_token_expires_at": False, "refresh_token_expires_at": False,
        })
        self._log(self.env._("%(provider)s refused to refresh the token: %(reason)s "
                                 "Click Connect to authorize again.",
                                 provider=self._provider_label(), reason=reason))
        self._notify_admins(self.env._("Reconnect %s", self.name), reason)

    def _authorization_case(self, state=None, last_error=None):
        """Why a connection in ``state`` (default: its own) cannot be used."""
        state = state or self.state
        if state in ("draft", "disconnected"):
            return "never_authorized"
        if state == "needs_reconnect":
            expired = self._authorization_case_message("expired")
            return "expired" if (last_error or self.last_error or "").startswith(expired) \
                else "revoked"
        return "never_authorized"

    @api.model
    def _authorization_case_message(self, case):
        return {
            "never_authorized": self.env._("The connection is not authorized: click Connect.")
            if self._is_sync_admin() else self.env._(
                "The connection is not authorized: ask an Accounting Sync administrator to "
                "connect it."),
            "expired": self.env._("The authorization has expired (QuickBooks Online authorizations "
                         "last at most 5 years and lapse after 100 days unused; Xero's after "
                         "60 days unused)."),
            "revoked": self.env._("The authorization was revoked at the provider, or another "
                         "application or user took it over."),
            "wrong_environment": self.env._(
                "The provider refused a valid token for this company: the connection's "
                "environment or remote company does not match the authorization."),
        }[case]

    def _raise_authorization_case(self, case):
        raise UserError(self.env._("%(connection)s: %(reason)s", connection=self.name,
                          reason=self._authorization_case_message(case)))

    def _call_provider(self, func):
        """Call ``func(adapter, tokens)`` with a fresh token; on a 401, refresh once and
        retry once; then name the case."""
        self.ensure_one()
        adapter = self._adapter()
        tokens = self._get_access_tokens()
        try:
            return self._guarded(adapter, func, tokens)
        except AuthorizationError as e:
            if e.forbidden:
                self._raise_authorization_case("wrong_environment")
            _logger.info("Accounting sync: 401 from %s on connection %s, refreshing once",
                         adapter.label, self.id)
        tokens = self._get_access_tokens(force_refresh=True)
        try:
            return self._guarded(adapter, func, tokens)
        except AuthorizationError:
            self._raise_authorization_case("wrong_environment")

    def _guarded(self, adapter, func, tokens):
        """``func(adapter, tokens)``; anything but the typed provider errors (an answer of a
        shape the adapter did not expect) becomes a plain error, never a traceback text."""
        try:
            return func(adapter, tokens)
        except (ProviderError, UserError):
            raise
        except Exception as e:  # noqa: BLE001 - the provider's answer, not our state
            _logger.exception("Accounting sync: unexpected answer from %s for connection %s",
                              adapter.label, self.id)
            raise UserError(self.env._(
                "%(provider)s answered in a form this module does not understand; nothing was "
                "changed on this side. Try again later; if it persists, send the server log "
                "to support.", provider=adapter.label)) from e

    # ------------------------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------------------------

    def _notification(self, message, kind="success", title=None, next_action=None):
        params = {"message": message, "type": kind, "sticky": False}
        if title:
            params["title"] = title
        if next_action:
            params["next"] = next_action
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

    def action_test_connection(self):
        self.ensure_one()
        self._check_sync_user()
        try:
            company = self._call_provider(
                lambda adapter, tokens: adapter.company_info(tokens, self.remote_company_id))
        except (ProviderError, UserError) as e:
            message = e.args[0] if isinstance(e, UserError) else str(e)
            return self._notification(self.env._("Test failed: %s", message), kind="danger")
        # Write only what changed: a refresh may just have updated this row elsewhere.
        if company.name != self.remote_company_name:
            self.sudo().remote_company_name = company.name
        return self._notification(
            self.env._("Connected to %(name)s (%(id)s).", name=company.name, id=company.id),
            title=self.env._("Connection works"))

    def action_release(self):
        """The holder (or an admin) gives up holding the token; the tokens stay, so syncing
        goes on, and the next Connect may use any remote login."""
        self._check_sync_user()
        for connection in self:
            if connection.token_holder_id != self.env.user:
                connection._check_sync_admin()
            holder = connection.token_holder_id
            connection.sudo().token_holder_id = False
            connection._log(self.env._(
                "%(user)s released the token held by %(holder)s.",
                                           user=self.env.user.name,
                                           holder=holder.name or self.env._("nobody")))
        return True

    def action_reset_credentials(self):
        """Revoke at the provider, forget the tokens, and mark the connection disconnected.
        Works even when the provider cannot be reached."""
        self._check_sync_admin()
        problems = []
        for connection in self:
            conn = connection.sudo()
            tokens = conn._token_set()
            failure = None
            if tokens.refresh_token or tokens.access_token:
                try:
                    connection._revoke_remote(tokens)
                except (ProviderError, UserError) as e:
                    failure = str(e)
            conn.write({
                "state": "disconnected", "token_holder_id": False, "last_error": failure,
                "access_token": False, "refresh_token": False,
                "access_token_expires_at": False, "refresh_token_expires_at": False,
                "oauth_nonce": False, "oauth_code_verifier": False,
            })
            if failure:
                problems.append(failure)
                connection._log(self.env._(
                    "Credentials reset by %(user)s. The tokens were forgotten here, but "
                    "revoking them at %(provider)s failed: %(error)s. Remove the app in "
                    "the %(provider)s company's settings to be sure.",
                    user=self.env.user.name, provider=connection._provider_label(),
                    error=failure))
            else:
                connection._log(self.env._(
                    "Credentials reset by %(user)s: the tokens were revoked at %(provider)s "
                    "and forgotten.", user=self.env.user.name,
                    provider=connection._provider_label()))
        if problems:
            return self._notification(
                self.env._("Tokens forgotten, but the provider could not revoke them: %s",
                  "; ".join(problems)), kind="warning", next_action={
                      "type": "ir.actions.client", "tag": "soft_reload"})
        return self._notification(self.env._("Credentials reset."), next_action={
            "type": "ir.actions.client", "tag": "soft_reload"})

    def _revoke_remote(self, tokens):
        """Drop the Xero tenant connection (best effort), then revoke the grant. Tokens
        refreshed here are not stored: they are revoked a moment later."""
        adapter = self._adapter()
        if self.provider == "xero" and self.remote_company_id:
            try:
                if self._needs_refresh(tokens) and tokens.refresh_token:
                    tokens = adapter.refresh(tokens.refresh_token)
                adapter.disconnect(tokens, self._remote_company())
            except ProviderError as e:
                _logger.info("Accounting sync: could not drop the Xero connection: %s", e)
        adapter.revoke(tokens.refresh_token or tokens.access_token)

    def _remote_company(self):
        return RemoteCompany(id=self.remote_company_id, name=self.remote_company_name,
                             connection_id=self.remote_connection_id)

    # ------------------------------------------------------------------------------------
    # Keep-alive cron and warnings
    # ------------------------------------------------------------------------------------

    @api.model
    def _cron_keep_alive(self):
        """Refresh idle connections so their rolling authorization never lapses, and warn
        before an authorization that cannot be renewed expires."""
        warn_days = int(self.env["ir.config_parameter"].sudo().get_param(
            "accounting_sync.expiry_warning_days", 14))
        self.sudo().search([("cron_id", "=", False)])._ensure_cron()
        for connection in self.search([("state", "=", "connected")]):
            try:
                # The refresh commits in a transaction of its own; the warning is ours.
                with self.env.cr.savepoint():
                    connection._get_access_tokens(force_refresh=True)
                    connection._warn_if_expiring(warn_days)
            except (ProviderError, UserError) as e:
                _logger.warning("Accounting sync: keep-alive of connection %s failed: %s",
                                connection.id, e)

    def _warn_if_expiring(self, warn_days):
        conn = self.sudo()
        expires_at = conn.refresh_token_expires_at
        if not expires_at or expires_at - utcnow() > timedelta(days=warn_days):
            return
        warned_for = conn.expiry_warning_sent_for
        if warned_for and abs(warned_for - expires_at) < timedelta(days=1):
            return  # already warned about this expiry
        message = self.env._("The %(provider)s authorization of %(name)s expires on %(date)s and "
                    "cannot be renewed automatically: click Connect before then.",
                    provider=self._provider_label(), name=self.name,
                    date=fields.Datetime.to_string(expires_at))
        self._log(message)
        self._notify_admins(self.env._("Authorization of %s expires soon", self.name), message,
                            deadline=expires_at.date())
        conn.expiry_warning_sent_for = expires_at

    def _notify_admins(self, summary, note, deadline=None):
        """A to-do for the token holder and every Accounting Sync administrator."""
        admins = self.env.ref(ADMIN_GROUP).users.filtered(
            lambda u: not u.share and self.company_id in u.company_ids)
        users = (self.token_holder_id | admins) - self.env.ref("base.user_root")
        for user in users:
            self.sudo().activity_schedule(
                "mail.mail_activity_data_warning", date_deadline=deadline,
                summary=summary, note=note, user_id=user.id)

    # ------------------------------------------------------------------------------------
    # Syncing
    # ------------------------------------------------------------------------------------

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
        return connections

    def unlink(self):
        crons = self.sudo().cron_id
        self.env["accounting.sync.attempt"].sudo()._forget_connections(self.ids)
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
                "active": connection.active and connection.state == "connected",
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
        result = super().write(vals)
        if {"name", "sync_interval", "active", "state"} & set(vals):
            self._ensure_cron()
        return result

    def _allowed_move_types(self):
        sales = ("out_invoice", "out_refund")
        return sales if self.access_scope == "customers_sales" else sales + (
            "in_invoice", "in_refund")

    def _tax_total_on_document(self):
        """Whether the provider keeps the tax total sent with a document, whatever its
        lines' tax codes (QuickBooks Online), rather than line by line (Xero)."""
        return bool(getattr(ADAPTERS.get(self.provider), "TAX_TOTAL_ON_DOCUMENT", False))

    def _item_required_kinds(self):
        """The kinds of document whose every line needs an item at this provider."""
        return tuple(getattr(ADAPTERS.get(self.provider), "ITEM_REQUIRED_KINDS", ()))

    def _allowed_kinds(self):
        if self.access_scope == "customers_sales":
            return [kind for kind in KINDS if kind in SALES_KINDS]
        return list(KINDS)

    def _check_can_sync(self):
        """Refuse to sync what would go wrong: not connected, no start date, or a
        connection re-pointed at another remote company while records still point at the
        old one."""
        self.ensure_one()
        if self.state != "connected":
            self._raise_authorization_case(self._authorization_case())
        if not self.sync_start_date:
            raise UserError(self.env._("%s: set the sync start date (go-live date) first.",
                                       self.name))
        stale = self.env["accounting.sync.binding"].search_count([
            ("connection_id", "=", self.id), ("remote_id", "!=", False),
            ("remote_company_id", "!=", False),
            ("remote_company_id", "!=", self.remote_company_id)])
        if stale:
            raise UserError(self.env._(
                "%(connection)s now points at %(remote)s, but %(count)s records are still "
                "linked to another remote company. Use Reset Record Sync State on them "
                "first, so that they are not mixed with this company's records.",
                connection=self.name, remote=self.remote_company_name, count=stale))

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

    def _refresh_chart(self, outside=False):
        """Read the remote accounts and taxes (and the company's currency); ``outside``: from
        a sync run (see :meth:`_write_outside`)."""
        self.ensure_one()
        chart = self._call_provider(
            lambda adapter, tokens: adapter.fetch_chart(tokens, self.remote_company_id))
        self.env["accounting.sync.remote.record"]._store_chart(self, chart)
        values = {"remote_currency": chart.currency or False,
                  "remote_country": chart.country or False,
                  "remote_tax_code": getattr(chart, "default_tax_code", None) or False}
        if any(self[name] != value for name, value in values.items()):
            if outside:
                self._write_outside(values)
            else:
                self.sudo().write(values)
        return chart

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

    def _remote_for(self, account=None, tax=None):
        """The remote account or tax an Odoo one is sent as: its mapping (matched now if it
        has none yet), or nothing."""
        self.ensure_one()
        mapping = self.env["accounting.sync.mapping"]._match(
            self, accounts=account, taxes=tax)
        return mapping.remote_record_id

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

    def _sync(self, trigger="button", bindings=None, commit=False):
        """Run one sync now, in this transaction (``commit``: per batch, for the cron, and
        for a limited time: a paused run is resumed by the next call)."""
        self.ensure_one()
        run = self._run_for(trigger, self.env.user) if commit and bindings is None else \
            self.env["accounting.sync.run"].sudo().create({
                "connection_id": self.id, "trigger": trigger, "user_id": self.env.uid})
        return self.env["accounting.sync.engine"]._execute(
            run, only=bindings, commit=commit,
            budget=run_time_budget(self.env) if commit else None)

    def _run_for(self, trigger, user):
        """The run a committing sync works on: the one that paused after its time share,
        else a new one."""
        self.ensure_one()
        Run = self.env["accounting.sync.run"].sudo()
        now = fields.Datetime.now()
        lease = now + timedelta(seconds=run_lease_seconds(self.env))
        paused = Run.search([
            ("connection_id", "=", self.id), ("state", "=", "running"),
            "|", ("remaining", ">", 0), ("lease_until", "<=", now)], order="id desc", limit=1)
        if paused:
            abandoned = not paused.remaining
            paused.write({"remaining": 0, "lease_until": lease, "outcome": self.env._(
                "Taken over: the worker running it stopped before it ended.")
                if abandoned else False})
            if abandoned:
                _logger.warning("Accounting sync: run %s of connection %s was abandoned by its "
                                "worker; resuming it", paused.id, self.id)
            return paused
        return Run.create({"connection_id": self.id, "trigger": trigger, "user_id": user.id,
                           "lease_until": lease})

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
        self.sudo().sync_requested_by_id = self.env.user
        self._schedule_sync()
        return self._notification(self.env._(
            "Sync of %s started: you will be notified when it ends.", self.name))

    @api.model
    def _cron_sync(self, connection_id=None):
        """Sync the due connection (each connection's job passes its id), never two runs of
        one connection at once across workers, each batch committed."""
        now = fields.Datetime.now()
        # A run at work renews its lease after every batch; a paused one waits for us, and
        # one whose worker died (its lease ran out) is taken over.
        Run = self.env["accounting.sync.run"]
        held = Run.search([("state", "=", "running"), ("remaining", "=", 0),
                           ("lease_until", ">", now)])
        abandoned = Run.search([("state", "=", "running"), ("remaining", "=", 0),
                                ("lease_until", "<=", now)]).connection_id
        domain = [("state", "=", "connected"), ("sync_start_date", "!=", False),
                  ("id", "not in", held.connection_id.ids),
                  "|", "|", ("next_sync_at", "=", False), ("next_sync_at", "<=", now),
                  ("id", "in", abandoned.ids)]
        if connection_id:
            domain.append(("id", "=", connection_id))
            # Held by a worker: if that worker dies, its lease runs out; be called then.
            for run in held.filtered(lambda r: r.connection_id.id == connection_id):
                run.connection_id.sudo().cron_id._trigger(run.lease_until)
        due = self.search(domain)
        for connection in due:
            if not connection._claim_for_sync():
                continue  # another worker is syncing it
            user = connection.sync_requested_by_id
            connection.sudo().write({
                "next_sync_at": now + timedelta(minutes=max(connection.sync_interval, 1)),
                "sync_requested_by_id": False})
            run = connection._run_for("button" if user else "schedule", user or self.env.user)
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
            if run.state == "running" and run.remaining:
                # Paused after its time share: due again at once, and Odoo calls this job
                # again right away (ir.cron progress) instead of at the next interval.
                connection._write_outside({"next_sync_at": fields.Datetime.now()})
                self.env["ir.cron"]._notify_progress(done=max(run._processed(), 1),
                                                     remaining=run.remaining)
            self.env.cr.commit()  # pylint: disable=invalid-commit

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

    @api.depends_context("uid")
    def _compute_pending_connect(self):
        """The authorization waiting for this user's decision on this connection."""
        pending = self.env["accounting.sync.connect.wizard"].sudo().search([
            ("connection_id", "in", self.ids), ("create_uid", "=", self.env.uid)],
            order="id desc")
        for connection in self:
            wizard = pending.filtered(lambda w, c=connection: w.connection_id == c)[:1]
            connection.pending_connect_id = wizard.id
            connection.pending_connect_reason = wizard._reason() if wizard else False

    def action_open_pending_connect(self):
        """Finish connecting: the choice of organisation, a take-over or a re-point."""
        self.ensure_one()
        self._check_sync_admin()
        wizard = self.pending_connect_id
        if not wizard:
            raise UserError(self.env._("No authorization is waiting for you on %s: click "
                                       "Connect.", self.name))
        return {
            "type": "ir.actions.act_window", "res_model": wizard._name, "res_id": wizard.id,
            "view_mode": "form", "target": "new", "name": self.env._("Finish connecting"),
            "views": [(self.env.ref(
                "accounting_sync.accounting_sync_connect_wizard_view_form").id, "form")],
        }

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
                                 state="pending", context={"search_default_waiting": 1})

    def action_open_mappings(self):
        return self._open_action("accounting_sync.accounting_sync_mapping_action",
                                 context={"default_connection_id": self.id})

    def action_troubleshoot(self):
        """One CSV of every current problem (failed records, and those waiting for a mapping,
        a record they need or an answer), with what support needs; attached here, e-mailed
        to the support address set in Settings, and downloaded — and the user is told which."""
        self.ensure_one()
        self._check_sync_user()
        problems = self.env["accounting.sync.binding"].search(
            [("connection_id", "=", self.id), "|", ("state", "=", "failed"),
             "&", ("state", "=", "pending"), ("error_kind", "!=", False)],
            order="error_kind, remote_type, id")
        kinds = dict(problems._fields["error_kind"]._description_selection(self.env))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["Record", "Type", "Problem", "State", "Odoo model", "Odoo id",
                         "Remote company", "Remote id", "Provider code", "Provider request id",
                         "Message", "Attempts", "Last run"])
        for binding in problems:
            writer.writerow([binding.record_name, binding.remote_type,
                             kinds.get(binding.error_kind, ""), binding.state,
                             binding.res_model, binding.res_id,
                             "%s (%s)" % (self.remote_company_name, self.remote_company_id),
                             binding.remote_id or "", binding.error_code or "",
                             binding.request_id or "", binding.last_error or "",
                             binding.attempts, binding.run_id.display_name or ""])
        name = "accounting-sync-%s-%s.csv" % (self.id, fields.Date.today())
        attachment = self.env["ir.attachment"].sudo().create({
            "name": name, "raw": buffer.getvalue().encode(), "mimetype": "text/csv",
            "res_model": self._name, "res_id": self.id})
        support = self.env["ir.config_parameter"].sudo().get_param(
            "accounting_sync.support_email")
        if support:
            self.env["mail.mail"].sudo().create({
                "subject": self.env._("Accounting Sync errors: %(connection)s (%(count)s)",
                                      connection=self.name, count=len(problems)),
                "email_to": support, "auto_delete": False, "body_html": self.env._(
                    "<p>%(count)s records of %(connection)s (%(provider)s, %(remote)s) that "
                    "could not be synced are listed in the attached report.</p>",
                    count=len(problems), connection=self.name,
                    provider=self._provider_label(), remote=self.remote_company_name),
                "attachment_ids": [fields.Command.link(attachment.id)],
            }).send()
            said = self.env._("Troubleshooting report of %(count)s problems downloaded and "
                              "e-mailed to %(support)s.", count=len(problems), support=support)
        else:
            said = self.env._("Troubleshooting report of %(count)s problems downloaded. No "
                              "support address is set in Settings, so it was not e-mailed.",
                              count=len(problems))
        self._log(said, attachment_ids=attachment.ids)
        return self._notification(said, kind="info", next_action={
            "type": "ir.actions.act_url", "target": "self",
            "url": "/web/content/%s?download=true" % attachment.id})

import logging
import secrets
from datetime import timedelta

import psycopg2.errors
from werkzeug.exceptions import Forbidden

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac as odoo_hmac

from ..const import PARAM_EXPIRY_DAYS
from ..providers import (
    AuthorizationError,
    InvalidGrantError,
    ProviderError,
    RemoteCompany,
    TokenSet,
)
from ..providers.base import utcnow
from .params import positive_param

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/accounting_sync/oauth/callback"
ADMIN_GROUP = "accounting_sync.group_accounting_sync_admin"
# Refresh an access token this long before it expires (QBO lives 60 min, Xero 30 min).
REFRESH_MARGIN = timedelta(minutes=5)
# How long a second worker waits for the one refreshing the same connection.
REFRESH_LOCK_TIMEOUT_MS = 15000
TOKEN_FIELDS = ("access_token", "refresh_token", "access_token_expires_at",
                "refresh_token_expires_at")
STATE_HMAC_SCOPE = "accounting_sync.oauth_state"


class AccountingSyncOAuthMixin(models.AbstractModel):
    """OAuth 2.0 for a connection, done by an administrator (as google.gmail.mixin): the
    HMAC-bound state, the callback and the decisions it may need, the tokens (system
    administrators only), their refresh under the connection's row lock in a transaction of
    their own, the calls that refresh once on a 401, keep-alive and expiry warnings, the token
    holder, and the revoke of Reset Credentials."""

    _name = "accounting.sync.oauth.mixin"
    _description = "Accounting Sync: OAuth authorization of a connection"

    token_holder_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True,
                                      help="The Odoo user whose authorization the tokens are.")
    remote_login = fields.Char(readonly=True, copy=False, tracking=True,
                               help="The remote login (e-mail) that authorized the tokens.")
    can_release = fields.Boolean(compute="_compute_can_release",
                                 help="The current user holds the token or administers syncs.")
    pending_connect_id = fields.Many2one(
        "accounting.sync.connect.wizard", compute="_compute_pending_connect",
        help="An authorization that came back from the provider and waits for your decision.")
    pending_connect_reason = fields.Char(compute="_compute_pending_connect")

    # Secrets: system administrators only, never copied, never shown in clear.
    access_token = fields.Char(groups="base.group_system", copy=False)
    refresh_token = fields.Char(groups="base.group_system", copy=False)
    access_token_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    refresh_token_expires_at = fields.Datetime(groups="base.group_system", copy=False)
    oauth_nonce = fields.Char(groups="base.group_system", copy=False)
    oauth_code_verifier = fields.Char(groups="base.group_system", copy=False)
    expiry_warning_sent_for = fields.Datetime(groups="base.group_system", copy=False)
    authorization_lost = fields.Selection(
        [("expired", "Expired"), ("revoked", "Revoked")], readonly=True, copy=False,
        help="Why the provider no longer honours the authorization")

    @api.depends("token_holder_id")
    @api.depends_context("uid")
    def _compute_can_release(self):
        admin = self._is_sync_admin()
        for connection in self:
            connection.can_release = bool(connection.token_holder_id) and (
                admin or connection.token_holder_id == self.env.user)

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
            "state": "connected", "authorization_lost": False,
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
        state, tokens, lost = outcome
        if state != "connected":
            self.invalidate_recordset(TOKEN_FIELDS + ("state", "last_error",
                                                      "authorization_lost"))
            self._raise_authorization_case(self._authorization_case(state, lost))
        return tokens

    def _refresh_locked(self, stale_access_token, force_refresh):
        """Lock the row, re-read the tokens, and refresh unless someone else just did.
        Return ``(state, tokens, why the authorization was lost)`` as this transaction leaves
        them."""
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
            return conn.state, tokens, conn.authorization_lost
        try:
            new_tokens = conn._adapter().refresh(tokens.refresh_token)
        except InvalidGrantError as e:
            conn._lose_authorization(e, tokens)
            return conn.state, None, conn.authorization_lost
        if not new_tokens.refresh_expires_at:
            new_tokens.refresh_expires_at = tokens.refresh_expires_at
        conn.write(self._token_values(new_tokens))
        _logger.info("Accounting sync: refreshed the access token of connection %s", self.id)
        return conn.state, new_tokens, conn.authorization_lost

    def _lose_authorization(self, error, tokens):
        """The provider no longer honours the refresh token: forget it and tell people."""
        expired = bool(tokens.refresh_expires_at and tokens.refresh_expires_at <= utcnow())
        case = "expired" if expired else "revoked"
        reason = self._authorization_case_message(case)
        self.write({
            "state": "needs_reconnect", "last_error": "%s (%s)" % (reason, self._message(error)),
            "authorization_lost": case,
            "access_token": False, "refresh_token": False,
            "access_token_expires_at": False, "refresh_token_expires_at": False,
        })
        self._log(self.env._("%(provider)s refused to refresh the token: %(reason)s "
                                 "Click Connect to authorize again.",
                                 provider=self._provider_label(), reason=reason))
        self._notify_admins(self.env._("Reconnect %s", self.name), reason)

    def _authorization_case(self, state=None, lost=None):
        """Why a connection in ``state`` (default: its own) cannot be used."""
        state = state or self.state
        if state == "needs_reconnect":
            return (lost or self.authorization_lost) or "revoked"
        return "never_authorized"

    @api.model
    def _authorization_case_message(self, case):
        return {
            "never_authorized": self.env._("The connection is not authorized: click Connect.")
            if self._is_sync_admin() else self.env._(
                "The connection is not authorized: ask an Accounting Sync administrator to "
                "connect it."),
            "expired": self.env._(
                "The authorization has expired (%(provider)s authorizations last %(lifetime)s).",
                provider=self._provider_label(),
                lifetime=self._capabilities().refresh_ttl_note if self.provider else ""),
            "revoked": self.env._("The authorization was revoked at the provider, or another "
                         "application or user took it over."),
            "wrong_environment": self.env._(
                "The provider refused a valid token for this company: the connection's "
                "environment or remote company does not match the authorization."),
        }[case]

    def _raise_authorization_case(self, case):
        raise UserError(self.env._("%(connection)s: %(reason)s", connection=self.name,
                          reason=self._authorization_case_message(case)))

    def _call_provider(self, func, adapter=None):
        """Call ``func(adapter, tokens)`` with a fresh token; on a 401, refresh once and
        retry once; then name the case. A queued provider is never called: its connector
        calls in (QuickBooks Desktop: the Web Connector)."""
        self.ensure_one()
        if self._capabilities().queued:
            raise UserError(self.env._(
                "%(connection)s is reached only when its %(provider)s connector calls in: "
                "what is queued is sent at its next run.", connection=self.name,
                provider=self._provider_label()))
        adapter = adapter or self._adapter()
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
            raise  # not reached: the case is raised in words

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
        """Drop the tenant connection where the provider has them (best effort), then revoke
        the grant. Tokens refreshed here are not stored: they are revoked a moment later."""
        adapter = self._adapter()
        if self._capabilities().disconnects_tenants and self.remote_company_id:
            try:
                if self._needs_refresh(tokens) and tokens.refresh_token:
                    tokens = adapter.refresh(tokens.refresh_token)
                adapter.disconnect(tokens, self._remote_company())
            except ProviderError as e:
                _logger.info("Accounting sync: could not drop the tenant connection: %s", e)
        adapter.revoke(tokens.refresh_token or tokens.access_token)

    def _remote_company(self):
        return RemoteCompany(id=self.remote_company_id, name=self.remote_company_name,
                             connection_id=self.remote_connection_id)

    @api.model
    def _cron_keep_alive(self):
        """Refresh idle connections so their rolling authorization never lapses, and warn
        before an authorization that cannot be renewed expires."""
        warn_days = int(positive_param(self.env, PARAM_EXPIRY_DAYS, 14))
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

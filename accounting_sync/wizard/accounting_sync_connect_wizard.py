from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..providers import RemoteCompany, RemoteIdentity, TokenSet


class AccountingSyncConnectWizard(models.TransientModel):
    """An authorization that came back from the provider and needs one more decision:
    which remote company (Xero tenants), taking the token over from its holder, or
    re-pointing the connection at another remote company. The new tokens wait here
    (system-only fields) until the admin confirms; cancelling forgets them."""

    _name = "accounting.sync.connect.wizard"
    _description = "Accounting Sync: finish connecting"

    connection_id = fields.Many2one("accounting.sync.connection", required=True,
                                    ondelete="cascade", readonly=True)
    provider = fields.Selection(related="connection_id.provider")
    company_line_ids = fields.One2many("accounting.sync.connect.wizard.company", "wizard_id",
                                       readonly=True)
    company_line_id = fields.Many2one(
        "accounting.sync.connect.wizard.company", string="Remote company",
        domain="[('wizard_id', '=', id)]")
    remote_login = fields.Char(readonly=True)
    remote_subject = fields.Char(readonly=True)
    remote_name = fields.Char(readonly=True)
    current_holder_id = fields.Many2one(related="connection_id.token_holder_id")
    current_remote_company_id = fields.Char(related="connection_id.remote_company_id")
    current_remote_company_name = fields.Char(related="connection_id.remote_company_name")
    takeover = fields.Boolean(compute="_compute_takeover")
    repoint = fields.Boolean(compute="_compute_repoint")
    confirm_repoint = fields.Boolean(
        string="Yes, point this connection at another remote company")

    access_token = fields.Char(groups="base.group_system")
    refresh_token = fields.Char(groups="base.group_system")
    access_token_expires_at = fields.Datetime(groups="base.group_system")
    refresh_token_expires_at = fields.Datetime(groups="base.group_system")

    @api.depends("current_holder_id", "connection_id.state")
    def _compute_takeover(self):
        for wizard in self:
            holder = wizard.current_holder_id
            wizard.takeover = bool(holder and holder != self.env.user
                                   and wizard.connection_id.state == "connected")

    @api.depends("company_line_id", "current_remote_company_id")
    def _compute_repoint(self):
        for wizard in self:
            wizard.repoint = bool(
                wizard.company_line_id and wizard.current_remote_company_id
                and wizard.company_line_id.remote_id != wizard.current_remote_company_id)

    @api.model
    def _create_pending(self, connection, tokens, identity, companies, chosen):
        wizard = self.sudo().create({
            "connection_id": connection.id,
            "remote_login": identity.login,
            "remote_subject": identity.subject,
            "remote_name": identity.name,
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "access_token_expires_at": tokens.expires_at,
            "refresh_token_expires_at": tokens.refresh_expires_at,
            "company_line_ids": [
                fields.Command.create({"remote_id": c.id, "name": c.name,
                                       "remote_connection_id": c.connection_id})
                for c in companies
            ],
        })
        if chosen:
            wizard.company_line_id = wizard.company_line_ids.filtered(
                lambda line: line.remote_id == chosen.id)[:1]
        # Created with sudo to hold the tokens; it still belongs to (create_uid) the admin.
        return wizard.sudo(False)

    def _check_owner(self):
        """A pending authorization belongs to the admin who signed in at the provider."""
        self.ensure_one()
        if not self.env.su and self.sudo().create_uid != self.env.user:
            raise AccessError(self.env._(
                "This authorization was started by another user: only they can finish it."))
        self.connection_id._check_sync_admin()

    def action_confirm(self):
        self._check_owner()
        line = self.company_line_id
        if not line:
            raise UserError(self.env._("Choose the remote company to connect to."))
        if self.repoint and not self.confirm_repoint:
            raise UserError(self.env._(
                "This connection was linked to %(old)s. Tick the confirmation to point it at "
                "%(new)s instead.", old=self.current_remote_company_name
                or self.current_remote_company_id, new=line.name))
        pending = self.sudo()
        tokens = self._tokens()
        identity = RemoteIdentity(subject=self.remote_subject, login=self.remote_login,
                                  name=self.remote_name)
        company = RemoteCompany(id=line.remote_id, name=line.name,
                                connection_id=line.remote_connection_id)
        connection = self.connection_id
        connection._apply_authorization(tokens, identity, company)
        connection._disconnect_unchosen(connection._token_set(), self._companies(), company)
        pending.unlink()
        return {"type": "ir.actions.act_window_close"}

    def action_cancel(self):
        self._check_owner()
        connection = self.connection_id
        connection._log(self.env._(
            "%(user)s cancelled connecting as %(login)s: the new authorization was discarded.",
            user=self.env.user.name, login=self.remote_login))
        pending = self.sudo()
        connection._disconnect_unchosen(pending._tokens(), self._companies())
        pending.unlink()
        return {"type": "ir.actions.act_window_close"}

    def _tokens(self):
        pending = self.sudo()
        return TokenSet(access_token=pending.access_token, refresh_token=pending.refresh_token,
                        expires_at=pending.access_token_expires_at,
                        refresh_expires_at=pending.refresh_token_expires_at)

    def _companies(self):
        return [RemoteCompany(id=line.remote_id, name=line.name,
                              connection_id=line.remote_connection_id)
                for line in self.sudo().company_line_ids]

    def _reason(self):
        """What the pending authorization waits for, in words (on the connection's form)."""
        self.ensure_one()
        if self.takeover:
            return self.env._("You signed in with the login that holds this connection's "
                              "token: confirm to take it over.")
        if self.repoint:
            return self.env._("You chose another remote company than the one this connection "
                              "is linked to: confirm to point it there.")
        return self.env._("%s returned several organisations: choose the one this connection "
                          "syncs.", self.connection_id._provider_label())


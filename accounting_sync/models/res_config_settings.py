from odoo import api, fields, models

from .accounting_sync_connection import CALLBACK_PATH

# Settings field -> system parameter of the app secrets. Not ``config_parameter=`` fields:
# res.config.settings.default_get reads those with sudo for anyone who calls it, whatever
# the field's groups say. These are computed for system administrators only.
SECRET_PARAMS = {
    "accounting_sync_qbo_client_secret": "accounting_sync.qbo_client_secret",
    "accounting_sync_xero_client_secret": "accounting_sync.xero_client_secret",
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    accounting_sync_qbo_client_id = fields.Char(
        string="QuickBooks Online Client ID", config_parameter="accounting_sync.qbo_client_id")
    accounting_sync_qbo_client_secret = fields.Char(
        string="QuickBooks Online Client Secret", groups="base.group_system",
        compute="_compute_accounting_sync_secrets", inverse="_inverse_accounting_sync_secrets",
        readonly=False)
    accounting_sync_xero_client_id = fields.Char(
        string="Xero Client ID", config_parameter="accounting_sync.xero_client_id")
    accounting_sync_xero_client_secret = fields.Char(
        string="Xero Client Secret", groups="base.group_system",
        compute="_compute_accounting_sync_secrets", inverse="_inverse_accounting_sync_secrets",
        readonly=False)
    accounting_sync_local_url = fields.Char(
        string="Local Provider Sandbox URL", config_parameter="accounting_sync.local_url",
        help="Default Sandbox URL of new connections, and the only local sandbox a connection "
             "may call; empty means connections talk to the real providers only.")
    accounting_sync_expiry_warning_days = fields.Integer(
        string="Warn Before Authorization Expires (days)", default=14,
        config_parameter="accounting_sync.expiry_warning_days")
    accounting_sync_support_email = fields.Char(
        string="Support E-mail", config_parameter="accounting_sync.support_email",
        help="Troubleshooting reports are e-mailed here.")
    accounting_sync_redirect_uri = fields.Char(
        string="Redirect URI", compute="_compute_accounting_sync_redirect_uri",
        help="Register this exact URI in the Intuit and Xero developer portals.")

    @api.depends("company_id")
    def _compute_accounting_sync_redirect_uri(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        for settings in self:
            settings.accounting_sync_redirect_uri = base_url.rstrip("/") + CALLBACK_PATH

    @api.depends("company_id")
    def _compute_accounting_sync_secrets(self):
        ICP = self.env["ir.config_parameter"].sudo()
        system = self.env.is_system()
        for settings in self:
            for name, key in SECRET_PARAMS.items():
                settings[name] = ICP.get_param(key) if system else False

    def _inverse_accounting_sync_secrets(self):
        if not self.env.is_system():
            return
        ICP = self.env["ir.config_parameter"].sudo()
        for settings in self:
            for name, key in SECRET_PARAMS.items():
                if (settings[name] or False) != (ICP.get_param(key) or False):
                    ICP.set_param(key, settings[name] or False)

from odoo import api, fields, models

from ..const import PARAM_EXPIRY_DAYS, PARAM_LOCAL_URL, PARAM_SUPPORT_EMAIL
from ..providers import PROVIDERS, capabilities
from .accounting_sync_oauth_mixin import CALLBACK_PATH


class ResConfigSettings(models.TransientModel):
    """Accounting Sync in Settings. The providers' app keys are not settings fields (those
    would be per provider, and res.config.settings.default_get reads config_parameter fields
    with sudo for anyone who calls it): they are app settings records, system administrators
    only, opened from here."""

    _inherit = "res.config.settings"

    accounting_sync_local_url = fields.Char(
        string="Local Provider Sandbox URL", config_parameter=PARAM_LOCAL_URL,
        help="Default Sandbox URL of new connections, and the only local sandbox a connection "
             "may call; empty means connections talk to the real providers only.")
    accounting_sync_expiry_warning_days = fields.Integer(
        string="Warn Before Authorization Expires (days)", default=14,
        config_parameter=PARAM_EXPIRY_DAYS)
    accounting_sync_support_email = fields.Char(
        string="Support E-mail", config_parameter=PARAM_SUPPORT_EMAIL,
        help="Troubleshooting reports are e-mailed here.")
    accounting_sync_redirect_uri = fields.Char(
        string="Redirect URI", compute="_compute_accounting_sync_redirect_uri",
        help="Register this exact URI in the providers' developer portals.")

    accounting_sync_webhook_urls = fields.Text(
        string="Webhook URLs", compute="_compute_accounting_sync_redirect_uri",
        help="Register these exact URLs as the webhook endpoints of your apps.")

    @api.depends("company_id")
    def _compute_accounting_sync_redirect_uri(self):
        base_url = (self.env["ir.config_parameter"].sudo().get_param("web.base.url")
                    or "").rstrip("/")
        urls = "\n".join("%s: %s/accounting_sync/webhook/%s" % (label, base_url, code)
                         for code, label in PROVIDERS if capabilities(code).webhooks)
        for settings in self:
            settings.accounting_sync_redirect_uri = base_url + CALLBACK_PATH
            settings.accounting_sync_webhook_urls = urls

    def action_accounting_sync_app_keys(self):
        return self.env["accounting.sync.app.setting"].action_open()

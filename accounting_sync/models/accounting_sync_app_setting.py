from odoo import api, fields, models

from ..providers import PROVIDERS, capabilities


class AccountingSyncAppSetting(models.Model):
    """The settings of this database's app at each provider (client id and secret, webhook
    keys...): what each provider declares it needs (providers' capabilities), one row per
    setting. System administrators only, by every route; secrets are never copied and a
    neutralized copy forgets them."""

    _name = "accounting.sync.app.setting"
    _description = "Accounting Sync: app setting at a provider"
    _order = "provider, sequence, id"

    provider = fields.Selection(selection="_provider_selection", required=True,
                                readonly=True)
    key = fields.Char(required=True, readonly=True)
    name = fields.Char(string="Setting", required=True, readonly=True)
    sequence = fields.Integer(readonly=True)
    secret = fields.Boolean(readonly=True)
    value = fields.Char(copy=False)
    secret_value = fields.Char(related="value", readonly=False, string="Secret Value")

    _sql_constraints = [
        ("setting_unique", "unique(provider, key)", "A provider's setting is stored once."),
    ]

    @api.model
    def _provider_selection(self):
        return list(PROVIDERS)

    @api.model
    def _ensure_settings(self):
        """A row for every setting every provider declares."""
        existing = {(s.provider, s.key) for s in self.sudo().search([])}
        values = []
        for code, _label in PROVIDERS:
            for sequence, setting in enumerate(capabilities(code).settings):
                if (code, setting.key) not in existing:
                    values.append({"provider": code, "key": setting.key,
                                   "name": setting.label, "secret": setting.secret,
                                   "sequence": sequence})
        if values:
            self.sudo().create(values)

    @api.model
    def _values(self, provider):
        """``{key: value}`` of ``provider``'s app settings (for building its adapter)."""
        return {s.key: s.value for s in self.sudo().search([("provider", "=", provider)])}

    @api.model
    def _set(self, provider, **values):
        """Set ``provider``'s app settings (scripts and tests)."""
        self._ensure_settings()
        for setting in self.sudo().search([("provider", "=", provider),
                                           ("key", "in", list(values))]):
            setting.value = values[setting.key] or False

    @api.model
    def action_open(self):
        self._ensure_settings()
        return self.env["ir.actions.act_window"]._for_xml_id(
            "accounting_sync.accounting_sync_app_setting_action")

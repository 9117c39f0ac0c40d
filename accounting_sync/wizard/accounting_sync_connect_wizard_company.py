from odoo import fields, models


class AccountingSyncConnectWizardCompany(models.TransientModel):
    _name = "accounting.sync.connect.wizard.company"
    _description = "Accounting Sync: a remote company to choose"

    wizard_id = fields.Many2one("accounting.sync.connect.wizard", required=True,
                                ondelete="cascade")
    remote_id = fields.Char(string="Remote ID", required=True)
    name = fields.Char(required=True)
    remote_connection_id = fields.Char()

from odoo import api, fields, models


class AccountingSyncRemoteRecord(models.Model):
    """The remote company's accounts and taxes, read for mapping."""

    _name = "accounting.sync.remote.record"
    _description = "Accounting Sync: remote account or tax"
    _order = "kind, code, name"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True, index=True,
                                    ondelete="cascade", check_company=True)
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    kind = fields.Selection([("account", "Account"), ("tax", "Tax")], required=True)
    remote_id = fields.Char(string="Remote ID", required=True)
    name = fields.Char(required=True)
    code = fields.Char()
    remote_type = fields.Char()
    rate = fields.Float(digits=(16, 4))
    is_bank = fields.Boolean(string="Bank")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("remote_unique", "unique(connection_id, kind, remote_id)",
         "This remote record is already known."),
    ]

    @api.depends("code", "name")
    def _compute_display_name(self):
        for record in self:
            record.display_name = " ".join(filter(None, [record.code, record.name]))

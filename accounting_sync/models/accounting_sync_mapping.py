from odoo import api, fields, models
from odoo.exceptions import ValidationError


class AccountingSyncMapping(models.Model):
    """Which remote account or tax an Odoo account or tax is sent as."""

    _name = "accounting.sync.mapping"
    _description = "Accounting Sync: account and tax mapping"
    _order = "kind, id"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True, index=True,
                                    ondelete="cascade", check_company=True)
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    kind = fields.Selection([("account", "Account"), ("tax", "Tax")], required=True)
    account_id = fields.Many2one("account.account", index=True, ondelete="cascade",
                                 check_company=True)
    tax_id = fields.Many2one("account.tax", index=True, ondelete="cascade", check_company=True)
    remote_record_id = fields.Many2one(
        "accounting.sync.remote.record", string="Remote", ondelete="set null",
        check_company=True,
        domain="[('connection_id', '=', connection_id), ('kind', '=', kind)]")
    matched_by = fields.Selection(
        [("code", "Code"), ("name", "Name"), ("rate", "Rate"), ("manual", "Manual")],
        readonly=True)

    _sql_constraints = [
        ("account_unique", "unique(connection_id, account_id)", "This account is mapped already."),
        ("tax_unique", "unique(connection_id, tax_id)", "This tax is mapped already."),
    ]

    @api.onchange("remote_record_id")
    def _onchange_remote_record_id(self):
        self.matched_by = "manual"

    @api.constrains("connection_id", "remote_record_id")
    def _check_remote_record_connection(self):
        for mapping in self:
            if mapping.remote_record_id and \
                    mapping.remote_record_id.connection_id != mapping.connection_id:
                raise ValidationError(self.env._(
                    "%(remote)s belongs to connection %(other)s, not %(connection)s.",
                    remote=mapping.remote_record_id.display_name,
                    other=mapping.remote_record_id.connection_id.display_name,
                    connection=mapping.connection_id.display_name))

    def write(self, vals):
        if "remote_record_id" in vals and "matched_by" not in vals:
            vals = dict(vals, matched_by="manual")
        return super().write(vals)

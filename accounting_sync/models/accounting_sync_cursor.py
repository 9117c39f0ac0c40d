from odoo import api, fields, models


class AccountingSyncCursor(models.Model):
    """Where the incremental pull of one remote type of one connection resumes: advanced
    only once every change it covers has been applied (a change that failed holds it back,
    so the next pull reads it again)."""

    _name = "accounting.sync.cursor"
    _description = "Accounting Sync: incremental pull position"
    _order = "connection_id, id"
    _rec_name = "remote_type"

    connection_id = fields.Many2one("accounting.sync.connection", required=True, readonly=True,
                                    index=True, ondelete="cascade")
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    remote_type = fields.Char(required=True, readonly=True,
                              help="What is read, as the provider names it")
    position = fields.Char(readonly=True, help="The provider time the next pull reads from")
    position_at = fields.Datetime(string="Read Up To", compute="_compute_position_at")
    last_pull_at = fields.Datetime(string="Last Read", readonly=True)
    last_error = fields.Text(readonly=True)
    reread_at = fields.Datetime(
        string="Last Full Read", readonly=True,
        help="When the pull last had to read this type in full (its position was older "
             "than the provider lets a pull look back, or it had none).")

    _sql_constraints = [
        ("type_unique", "unique(connection_id, remote_type)",
         "One position per connection and remote type."),
    ]

    @api.depends("position")
    def _compute_position_at(self):
        for cursor in self:
            try:
                cursor.position_at = fields.Datetime.to_datetime(
                    (cursor.position or "").replace("T", " ")[:19] or False)
            except ValueError:
                cursor.position_at = False

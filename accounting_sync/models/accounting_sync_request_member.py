from odoo import fields, models


class AccountingSyncRequestMember(models.Model):
    """The last send of one record on one connection (accounting.sync.request): which
    request carried it, at which place, with which payload. Dropped once the record's binding
    has noted that request's answer; a record that has one and whose binding noted another
    send is in flight."""

    _name = "accounting.sync.request.member"
    _description = "Accounting Sync: last send of a record"
    _log_access = False

    request_id = fields.Many2one("accounting.sync.request", required=True, readonly=True,
                                 ondelete="cascade", index=True)
    # The request's connection, repeated for the one-row-per-record constraint.
    connection_id = fields.Integer(required=True, readonly=True)
    res_model = fields.Char(string="Odoo Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(string="Odoo Record ID", model_field="res_model",
                                      required=True, readonly=True)
    position = fields.Integer(readonly=True, help="Place of this record in its request")
    payload_hash = fields.Char(readonly=True, help="Hash of the payload this record was sent "
                                                   "with")

    _sql_constraints = [
        ("record_unique", "unique(connection_id, res_model, res_id)",
         "One last send per record and connection."),
    ]

import hashlib

from odoo import api, fields, models

REMOTE_TYPES = [
    ("customer", "Customer"), ("vendor", "Vendor"), ("product", "Product"),
    ("invoice", "Invoice"), ("credit_note", "Credit Note"), ("bill", "Bill"),
    ("vendor_credit", "Vendor Refund"), ("customer_payment", "Customer Payment"),
    ("vendor_payment", "Vendor Payment"), ("journal_entry", "Journal Entry"),
]


ERROR_KINDS = [
    ("mapping", "Waiting for a mapping"), ("blocked", "Blocked by another record"),
    ("clash", "Name or number in use"), ("refused", "Refused by the provider"),
    ("data", "Cannot be sent as it is"), ("unanswered", "No answer yet"),
]
CLASH_CODES = ("duplicate_match", "name_clash", "number_clash", "6240", "6140", "3100")
# Short names of the synced models in idempotency keys.
MODEL_CODES = {"account.move": "m", "account.payment": "p", "res.partner": "c",
               "product.product": "i"}


class AccountingSyncBinding(models.Model):
    """The sync state of one Odoo record in one remote company."""

    _name = "accounting.sync.binding"
    _description = "Accounting Sync: record sync state"
    _order = "id desc"
    _rec_name = "record_name"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True, index=True,
                                    ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    res_model = fields.Char(string="Odoo Model", required=True, index=True, readonly=True)
    res_id = fields.Many2oneReference(string="Odoo Record ID", model_field="res_model",
                                      required=True, index=True, readonly=True)
    record_name = fields.Char(readonly=True)
    remote_type = fields.Selection(REMOTE_TYPES, required=True, readonly=True)
    remote_id = fields.Char(readonly=True, copy=False, index=True)
    remote_version = fields.Char(readonly=True, copy=False,
                                 help="QBO SyncToken, Xero UpdatedDateUTC")
    remote_number = fields.Char(readonly=True, copy=False)
    remote_company_id = fields.Char(
        string="Remote Company ID", readonly=True, copy=False,
        help="The remote company the remote id belongs to (QBO realm / Xero tenant).")
    state = fields.Selection(
        [("pending", "Pending"), ("synced", "Synced"), ("failed", "Failed"),
         ("skipped", "Never sync")],
        required=True, default="pending", index=True, readonly=True)
    voided = fields.Boolean(readonly=True, help="The remote copy was voided or deleted.")
    last_error = fields.Text(readonly=True)
    error_code = fields.Char(readonly=True)
    error_kind = fields.Selection(ERROR_KINDS, compute="_compute_error_kind", store=True,
                                  string="Problem", help="What kind of problem keeps the record "
                                                         "from being synced")
    request_id = fields.Char(string="Provider Request ID", readonly=True)
    attempts = fields.Integer(readonly=True)
    last_synced_at = fields.Datetime(readonly=True)
    payload_hash = fields.Char(readonly=True, help="Hash of what was last sent")
    answered_send = fields.Char(readonly=True, copy=False,
                                help="Id of the last send the provider answered for")
    blocked_by_id = fields.Many2one(
        "accounting.sync.binding", readonly=True, ondelete="set null",
        index="btree_not_null",
        help="The record this one needs, not synced yet: retrying it retries this one too.")
    run_id = fields.Many2one("accounting.sync.run", string="Last Run", readonly=True,
                             index=True, ondelete="set null", check_company=True)
    remote_url = fields.Char(compute="_compute_remote_url", string="Open Remote")

    _sql_constraints = [
        ("record_unique", "unique(connection_id, res_model, res_id)",
         "A record has one sync state per connection."),
        ("remote_unique", "unique(connection_id, remote_type, remote_id)",
         "A remote record is linked to one Odoo record per connection."),
    ]

    @api.depends("error_code", "state")
    def _compute_error_kind(self):
        for binding in self:
            code = binding.error_code
            if binding.state == "synced" or not code:
                binding.error_kind = False
            elif code in ("mapping", "blocked", "data"):
                binding.error_kind = code
            elif code in ("no_answer", "bad_answer"):
                binding.error_kind = "unanswered"
            elif code == "payload":
                binding.error_kind = "data"
            elif code in CLASH_CODES:
                binding.error_kind = "clash"
            else:
                binding.error_kind = "refused"

    @api.depends("remote_id", "remote_type", "connection_id.provider",
                 "connection_id.environment")
    def _compute_remote_url(self):
        for binding in self:
            binding.remote_url = binding.remote_id and binding.connection_id._remote_url(
                binding.remote_type, binding.remote_id)

    @api.model
    def _payload_hash(self, record):
        """What identifies a payload version: every field but the keys and remote ids."""
        data = {k: v for k, v in vars(record).items()
                if k not in ("key", "remote_id", "remote_version", "find_existing")}
        return hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()

    def _idempotency_key(self, payload_hash, generation=0):
        """Stable for this record, connection, payload version and reset ``generation``
        (accounting.sync.attempt) — never the binding's id, which a rolled-back run may hand
        out again — so that a retry after a crash sends the same key."""
        self.ensure_one()
        return "odoo-%s-%s-%s%s-%s%s" % (
            self.env.cr.dbname[:12], self.connection_id.id,
            MODEL_CODES.get(self.res_model, self.res_model), self.res_id,
            payload_hash[:16], "-g%d" % generation if generation else "")

    def _record(self):
        self.ensure_one()
        return self.env[self.res_model].browse(self.res_id).exists()

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "res_model": self.res_model,
            "res_id": self.res_id, "view_mode": "form", "target": "current",
        }

    def action_open_fix(self):
        """Where this record's problem is fixed: the mappings, the record it waits for, or
        the record itself."""
        self.ensure_one()
        self.check_access("read")
        if self.error_kind == "mapping":
            return self.connection_id.action_open_preflight_mappings()
        if self.error_kind == "blocked" and self.blocked_by_id:
            return {"type": "ir.actions.act_window", "res_model": self._name,
                    "res_id": self.blocked_by_id.id, "view_mode": "form", "target": "current"}
        return self.action_open_record()

    def action_open_remote(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.remote_url, "target": "new"}

    def _with_blocked(self):
        """These bindings and those blocked behind them, however deep."""
        result = todo = self
        while todo:
            todo = self.search([("blocked_by_id", "in", todo.ids), ("id", "not in", result.ids)])
            result |= todo
        return result

    def action_retry(self):
        """Sync these records again now (failed items), each through its own connection,
        with the records that were blocked behind them."""
        self.check_access("read")
        self.connection_id._check_sync_user()
        bindings = self.sudo()._with_blocked()
        bindings.filtered(lambda b: b.state != "skipped").write(
            {"state": "pending", "attempts": 0})
        for connection in self.connection_id:
            connection._sync(trigger="records", bindings=bindings.filtered(
                lambda b, c=connection: b.connection_id == c))
        return True

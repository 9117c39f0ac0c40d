import csv
import hashlib
import io

from odoo import api, fields, models

from ..const import MODEL_CODES, PARAM_SUPPORT_EMAIL
from ..providers import group_of
from .params import MAX_ATTEMPTS

REMOTE_TYPES = [
    ("customer", "Customer"), ("vendor", "Vendor"), ("product", "Product"),
    ("invoice", "Invoice"), ("credit_note", "Credit Note"), ("bill", "Bill"),
    ("vendor_credit", "Vendor Refund"), ("customer_payment", "Customer Payment"),
    ("vendor_payment", "Vendor Payment"), ("journal_entry", "Journal Entry"),
]


# What a binding recorded remotely keeps to itself: the remote company is its book of record
# (a payment received there, a document imported as a draft).
REMOTE_ONLY_TYPES = ("customer_payment", "vendor_payment", "invoice", "credit_note", "bill",
                     "vendor_credit")

ERROR_KINDS = [
    ("mapping", "Waiting for a mapping"), ("blocked", "Blocked by another record"),
    ("clash", "Name or number in use"), ("refused", "Refused by the provider"),
    ("data", "Cannot be sent as it is"), ("unanswered", "No answer yet"),
]
# The providers' groups of message codes (providers.GROUPS) -> the problem a person sees.
GROUP_KINDS = {"in_use": "clash", "cannot_send": "data", "unknown_outcome": "unanswered"}


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
        [("pending", "Pending"), ("waiting", "Waiting"), ("to_void", "To void"),
         ("synced", "Synced"), ("failed", "Failed"), ("skipped", "Never sync")],
        required=True, default="pending", readonly=True,
        help="The queue: pending and to void are due; waiting waits for a mapping or for "
             "another record, and is due again when that comes.")
    voided = fields.Boolean(readonly=True, help="The remote copy was voided or deleted.")
    origin = fields.Selection(
        [("odoo", "Sent from Odoo"), ("remote", "Recorded remotely")], default="odoo",
        required=True, readonly=True,
        help="Recorded remotely: made in the remote company and brought into Odoo by the "
             "sync (a payment received there); never sent back.")
    remote_status = fields.Selection(
        [("voided", "Voided remotely"), ("deleted", "Deleted remotely")], readonly=True,
        copy=False, help="What was done to the remote copy in the remote company.")
    remote_updated_at = fields.Datetime(
        readonly=True, copy=False,
        help="When the remote copy last changed, as the provider says: our own writes are "
             "recognised by it when their webhooks come back.")
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
                                help="Key of the last request the provider answered for "
                                     "(accounting.sync.request)")
    key_generation = fields.Integer(
        readonly=True, copy=False,
        help="How many times this record's remote link was forgotten (Reset Record Sync "
             "State, a voided copy sent anew): part of its idempotency keys, so that it is "
             "created anew, not answered with the copy it was linked to before.")
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
            elif code in ("mapping", "blocked", "data"):  # the engine's own
                binding.error_kind = code
            elif code == "queued":
                binding.error_kind = "unanswered"
            else:
                binding.error_kind = GROUP_KINDS.get(group_of(code), "refused")

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

    def init(self):
        # The queue is read through this index: the states of one connection that are not
        # done (due, waiting, failed) — a few rows, however long the history.
        self.env.cr.execute("""
            DROP INDEX IF EXISTS accounting_sync_binding_due_index;
            CREATE INDEX IF NOT EXISTS accounting_sync_binding_queue_index
                ON accounting_sync_binding (connection_id, state, res_model)
             WHERE state IN ('pending', 'to_void', 'failed', 'waiting')
        """)

    @api.model
    def _enqueue(self, connection, records, kinds, void=False, create=True, only_missing=False):
        """Mark the sync states of ``records`` on ``connection`` due (``kinds``: record id ->
        kind): pending, or to void; made where they do not exist (``create``); with
        ``only_missing``, only made, never touched."""
        existing = self.search([("connection_id", "=", connection.id),
                                ("res_model", "=", records._name),
                                ("res_id", "in", records.ids)])
        by_id = {binding.res_id: binding for binding in existing}
        new, due, to_void, forget, reborn = [], self, self, self, self
        for record in records:
            binding = by_id.get(record.id)
            if binding is None:
                if create and not void:
                    new.append({"connection_id": connection.id, "res_model": records._name,
                                "res_id": record.id, "record_name": record.display_name,
                                "remote_type": kinds[record.id]})
                continue
            if only_missing or binding.state == "skipped" or (
                    binding.origin == "remote" and binding.remote_type in REMOTE_ONLY_TYPES):
                continue
            if void:
                if binding.remote_id and not binding.voided:
                    to_void |= binding
                elif not binding.remote_id:
                    forget |= binding  # never sent: nothing to void, nothing to keep
            elif binding.voided:
                reborn |= binding  # cancelled, voided, posted again: sent anew
            elif binding.state != "pending":
                due |= binding
        if new:
            self.create(new)
        due.write({"state": "pending", "attempts": 0})
        to_void.write({"state": "to_void", "attempts": 0, "error_code": False})
        reborn._forget()
        forget.unlink()

    @api.model
    def _queue(self, connection, records):
        """The sync states on ``connection`` of ``records`` (a recordset, or a list of them)
        and of what they need (customer, products, the documents a payment pays, theirs),
        due now; records out of its scope are left."""
        todo = [r.sudo() for r in (records if isinstance(records, list) else [records])]
        seen = set()
        result = self
        while todo:
            batch = todo.pop()
            batch = batch.filtered(lambda r: (r._name, r.id) not in seen)
            if not batch:
                continue
            seen.update((r._name, r.id) for r in batch)
            batch._accounting_sync_mark_due(connections=connection)
            found = self.search([("connection_id", "=", connection.id),
                                 ("res_model", "=", batch._name), ("res_id", "in", batch.ids)])
            found.filtered(lambda b: b.state in ("failed", "waiting", "synced")).write(
                {"state": "pending", "attempts": 0})
            result |= found
            # A record of another company fails on its own (the engine says why); it never
            # brings what it needs to this connection's remote company.
            own = batch.filtered(lambda r: not connection._foreign(r))
            todo += [needed for needed in own._accounting_sync_dependencies(connection)
                     if needed]
        return result

    @api.model
    def _due_exists(self, connection):
        """Whether anything of ``connection`` waits to be sent, or a run to resume: one
        query, through the due index."""
        self.flush_model(["state", "attempts"])
        self.env["accounting.sync.run"].flush_model(["state"])
        self.env.cr.execute("""
            SELECT 1 FROM accounting_sync_binding
             WHERE connection_id = %(id)s AND (state IN ('pending', 'to_void')
                   OR (state = 'failed' AND attempts < %(max)s))
             UNION ALL
            SELECT 1 FROM accounting_sync_run
             WHERE connection_id = %(id)s AND state IN ('paused', 'running')
             LIMIT 1
        """, {"id": connection.id, "max": MAX_ATTEMPTS})
        return bool(self.env.cr.fetchone())

    def _forget(self):
        """Forget where these records went: due again, to be sent anew under new keys, with
        no send of theirs in flight."""
        for connection in self.connection_id:
            self.env["accounting.sync.request"]._reset(
                connection, self.filtered(lambda b, c=connection: b.connection_id == c))
        self.write({"state": "pending", "remote_id": False, "remote_version": False,
                    "remote_number": False, "remote_company_id": False, "voided": False,
                    "payload_hash": False, "answered_send": False, "attempts": 0,
                    "last_error": False, "error_code": False, "blocked_by_id": False})
        self.flush_recordset()
        self.env.cr.execute("""
            UPDATE accounting_sync_binding SET key_generation = coalesce(key_generation, 0) + 1
             WHERE id = ANY(%s)
        """, (self.ids,))
        self.invalidate_recordset(["key_generation"])

    @api.model
    def _wake_mappings(self, connections):
        """The records that waited for a mapping on ``connections`` are due again."""
        self.search([("connection_id", "in", connections.ids), ("state", "=", "waiting"),
                     ("error_code", "=", "mapping")]).write({"state": "pending"})

    def _idempotency_key(self, payload_hash):
        """Stable for this record, connection, payload version and key generation — never
        the binding's id, which a rolled-back run may hand out again — so that a retry after
        a crash sends the same key."""
        self.ensure_one()
        generation = self.key_generation
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
        with the records they need and those that were blocked behind them."""
        self.check_access("read")
        self.connection_id._check_sync_user()
        bindings = self.sudo()._with_blocked().filtered(lambda b: b.state != "skipped")
        bindings.write({"state": "pending", "attempts": 0})
        for connection in bindings.connection_id:
            mine = bindings.filtered(lambda b, c=connection: b.connection_id == c)
            connection._start_run("records", records=[
                self.env[model].browse(mine.filtered(lambda b, m=model: b.res_model == m)
                                       .mapped("res_id")).exists()
                for model in set(mine.mapped("res_model"))])
        return True

    @api.model
    def _mail_troubleshoot_report(self, connection, attachment, count):
        """E-mail the report to the support address set in Settings, if there is one;
        return what was done, in words."""
        support = self.env["ir.config_parameter"].sudo().get_param(PARAM_SUPPORT_EMAIL)
        if support:
            self.env["mail.mail"].sudo().create({
                "subject": self.env._("Accounting Sync errors: %(connection)s (%(count)s)",
                                      connection=connection.name, count=count),
                "email_to": support, "auto_delete": False, "body_html": self.env._(
                    "<p>%(count)s records of %(connection)s (%(provider)s, %(remote)s) that "
                    "could not be synced are listed in the attached report.</p>",
                    count=count, connection=connection.name, provider=connection._provider_label(),
                    remote=connection.remote_company_name),
                "attachment_ids": [fields.Command.link(attachment.id)],
            }).send()
            said = self.env._("Troubleshooting report of %(count)s problems downloaded and "
                              "e-mailed to %(support)s.", count=count, support=support)
        else:
            said = self.env._("Troubleshooting report of %(count)s problems downloaded. No "
                              "support address is set in Settings, so it was not e-mailed.",
                              count=count)
        return said

    @api.model
    def _troubleshoot_report(self, connection):
        """A CSV of every current problem of ``connection`` (failed records, and those
        waiting for a mapping, a record they need or an answer), attached to it; return the
        attachment and the number of records in it."""
        problems = self.search(
            [("connection_id", "=", connection.id), "|", ("state", "in", ("failed", "waiting")),
             "&", ("state", "=", "pending"), ("error_kind", "!=", False)],
            order="error_kind, remote_type, id")
        kinds = dict(self._fields["error_kind"]._description_selection(self.env))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["Record", "Type", "Problem", "State", "Odoo model", "Odoo id",
                         "Remote company", "Remote id", "Provider code", "Provider request id",
                         "Message", "Attempts", "Last run"])
        for binding in problems:
            writer.writerow([binding.record_name, binding.remote_type,
                             kinds.get(binding.error_kind, ""), binding.state,
                             binding.res_model, binding.res_id,
                             "%s (%s)" % (connection.remote_company_name,
                                          connection.remote_company_id),
                             binding.remote_id or "", binding.error_code or "",
                             binding.request_id or "", binding.last_error or "",
                             binding.attempts, binding.run_id.display_name or ""])
        attachment = self.env["ir.attachment"].sudo().create({
            "name": "accounting-sync-%s-%s.csv" % (connection.id, fields.Date.today()),
            "raw": buffer.getvalue().encode(), "mimetype": "text/csv",
            "res_model": connection._name, "res_id": connection.id})
        return attachment, len(problems)

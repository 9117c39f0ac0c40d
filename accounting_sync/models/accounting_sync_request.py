import json

import psycopg2.errors

from odoo import api, fields, models

from .accounting_sync_binding import REMOTE_TYPES

LOCK_TIMEOUT_MS = 5000
# Answered requests are kept this long (support reads them), then forgotten by the next run.
KEEP_ANSWERED_DAYS = 30


class AccountingSyncRequest(models.Model):
    """One send to a provider: the records it carries (accounting.sync.request.member, in
    their order, with the hash of each payload sent), its state and its answer.

    For a provider that answers at once (QuickBooks Online, Xero) the row is written and
    committed in a transaction of its own just before the request leaves (state *sent*), and
    its answer is written the same way when it comes (*answered*). For a queued provider
    (QuickBooks Desktop) the row waits, *queued*, with its body, for the exchange that fetches
    it (*sent*) and answers it later (*answered*).

    The same rows keep sends exactly once when an answer is lost: a record's binding notes the
    key of the send the provider answered for it (``answered_send``) in the sync's own
    transaction; a record whose last send (its member row) is not the one its binding noted is
    in flight — a timeout, a crash, a worker killed, a transaction rolled back after the
    provider had written — and the next run either sends that request again exactly as it was
    (the providers answer a repeated idempotency key with their first answer) or looks the
    record up in the remote company before creating it. A record with no member row was never
    sent, and is created without a look-up.

    (The sync's own transaction cannot write these rows: under REPEATABLE READ it does not
    see a row committed after its snapshot was taken. Hence the transactions of their own.)"""

    _name = "accounting.sync.request"
    _description = "Accounting Sync: request sent to a provider"
    _order = "id desc"
    _rec_name = "key"
    _log_access = False

    key = fields.Char(string="Request Key", required=True, readonly=True,
                      help="The provider's request key: a digest of the records sent (their "
                           "keys, remote ids and versions), the same when they are sent again "
                           "as they were")
    connection_id = fields.Many2one("accounting.sync.connection", required=True, readonly=True,
                                    ondelete="cascade", index=True)
    kind = fields.Selection(REMOTE_TYPES, readonly=True)
    operation = fields.Char(default="write", required=True, readonly=True,
                            help="What the request does (write: create or update)")
    res_model = fields.Char(string="Odoo Model", readonly=True)
    state = fields.Selection([("queued", "Queued"), ("sent", "Sent"), ("answered", "Answered")],
                             required=True, default="queued", readonly=True,
                             help="Queued: waiting for its exchange (a queued provider). Sent: "
                                  "gone, no answer recorded yet. Answered: the answer is here.")
    size = fields.Integer(string="Records", readonly=True)
    started_at = fields.Datetime(readonly=True)
    answered_at = fields.Datetime(readonly=True)
    body = fields.Text(readonly=True, help="What was sent: the records' keys, remote ids and "
                                           "payload hashes (or a queued provider's request)")
    answer = fields.Text(readonly=True, help="What came back, record by record")
    records_data = fields.Text(readonly=True, help="A queued provider's request as its adapter "
                                                   "reads it back when the answer comes")
    member_ids = fields.One2many("accounting.sync.request.member", "request_id",
                                 string="Records Sent", readonly=True)

    _sql_constraints = [
        ("key_unique", "unique(key)", "A send has one id."),
    ]

    # ------------------------------------------------------------------------------------
    # A send: recorded before it leaves, its answer after
    # ------------------------------------------------------------------------------------

    @api.model
    def _start(self, connection, request, bindings, hashes, state="sent", data=None):
        """Record, durably and at once, that ``request`` (a providers.Request: its key, kind
        and records) is about to be sent — or queued — for ``bindings`` (its records' sync
        states, in order; ``hashes``: their payload hashes by binding id). The same request
        made again (the same key) is the same row, sent again."""
        if not bindings:
            return
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET LOCAL lock_timeout = %s", (LOCK_TIMEOUT_MS,))
                self._insert(cr, connection, request, bindings, hashes, state, data)
        except psycopg2.errors.LockNotAvailable:
            # Another transaction holds these records' rows (it wrote them and has not
            # finished): rather than wait, write them in ours.
            self._insert(self.env.cr, connection, request, bindings, hashes, state, data)

    @api.model
    def _insert(self, cr, connection, request, bindings, hashes, state, data=None):
        [model] = set(bindings.mapped("res_model"))
        body = request.body
        if body is None:  # answered at once: what identifies what was sent, for support
            body = json.dumps([{"key": record.key, "remote_id": record.remote_id,
                                "payload_hash": hashes[binding.id]}
                               for binding, record in zip(bindings, request.records)])
        elif not isinstance(body, str):
            body = json.dumps(body, default=str)
        cr.execute("""
            INSERT INTO accounting_sync_request
                        (key, connection_id, kind, operation, res_model, state, size,
                         started_at, body, records_data)
                 VALUES (%s, %s, %s, %s, %s, %s, %s, now() at time zone 'UTC', %s, %s)
            ON CONFLICT (key)
              DO UPDATE SET state = EXCLUDED.state, started_at = EXCLUDED.started_at,
                            body = EXCLUDED.body, records_data = EXCLUDED.records_data,
                            answer = NULL, answered_at = NULL
              RETURNING id
        """, (request.key, connection.id, request.kind, request.operation, model, state,
              len(bindings), body, data), log_exceptions=False)
        [request_id] = cr.fetchone()
        cr.execute("""
            INSERT INTO accounting_sync_request_member
                        (request_id, connection_id, res_model, res_id, payload_hash, position)
                 SELECT %s, %s, %s, member.res_id, member.payload_hash, member.position - 1
                   FROM unnest(%s::int[], %s::varchar[]) WITH ORDINALITY
                        AS member(res_id, payload_hash, position)
            ON CONFLICT (connection_id, res_model, res_id)
              DO UPDATE SET request_id = EXCLUDED.request_id,
                            payload_hash = EXCLUDED.payload_hash, position = EXCLUDED.position
        """, (request_id, connection.id, model, bindings.mapped("res_id"),
              [hashes[b.id] for b in bindings]), log_exceptions=False)

    @api.model
    def _answered(self, key, results):
        """Note the answer of send ``key`` (``results``: WriteResults, in order), in a
        transaction of its own (the row is not visible to the sync's)."""
        answer = json.dumps([{
            "key": r.key, "ok": r.ok, "remote_id": r.remote_id,
            "remote_version": r.remote_version, "remote_number": r.remote_number,
            "linked_existing": r.linked_existing,
            "code": getattr(r.error, "code", None) if r.error else None,
            "provider_code": getattr(r.error, "provider_code", None) if r.error else None,
        } for r in results], default=str)
        with self.env.registry.cursor() as cr:
            cr.execute("SET LOCAL lock_timeout = %s", (LOCK_TIMEOUT_MS,))
            try:
                cr.execute("""
                    UPDATE accounting_sync_request
                       SET state = 'answered', answer = %s,
                           answered_at = now() at time zone 'UTC'
                     WHERE key = %s
                """, (answer, key), log_exceptions=False)
            except psycopg2.errors.LockNotAvailable:
                cr.rollback()  # the answer is on the bindings anyway; this row is for support

    @api.model
    def _fetched(self, key):
        """A queued request was handed to the provider's connector (the Web Connector): from
        now on its records are in flight until its answer is applied. In a transaction of
        its own, committed at once (the row is not visible to the exchange's)."""
        with self.env.registry.cursor() as cr:
            cr.execute("""
                UPDATE accounting_sync_request
                   SET state = 'sent', started_at = now() at time zone 'UTC'
                 WHERE key = %s AND state = 'queued'
            """, (key,))

    @api.model
    def _unanswered_members(self, connection):
        """The sync states of ``connection`` whose last request (queued or fetched) never had
        its answer applied: a QuickBooks Desktop session that ended before the answer came."""
        self.env["accounting.sync.binding"].flush_model(["answered_send"])
        self.env.cr.execute("""
            SELECT b.id
              FROM accounting_sync_request_member m
              JOIN accounting_sync_request r ON r.id = m.request_id
              JOIN accounting_sync_binding b
                ON b.connection_id = m.connection_id AND b.res_model = m.res_model
               AND b.res_id = m.res_id
             WHERE m.connection_id = %s AND r.state IN ('queued', 'sent')
               AND r.key IS DISTINCT FROM b.answered_send
        """, (connection.id,))
        return self.env["accounting.sync.binding"].browse(
            [binding_id for (binding_id,) in self.env.cr.fetchall()])

    # ------------------------------------------------------------------------------------
    # What the engine asks: frozen sends, records in flight
    # ------------------------------------------------------------------------------------

    @api.model
    def _frozen_sends(self, connection, kind, model):
        """The unanswered sends of ``kind`` that can be made again as they were: every
        record of theirs still has it as its last send. ``[(key, started_at, [(res_id,
        payload_hash)])]``, oldest first, records in their order."""
        self.env.cr.execute("""
            SELECT r.key, r.started_at,
                   array_agg(m.res_id ORDER BY m.position),
                   array_agg(m.payload_hash ORDER BY m.position)
              FROM accounting_sync_request r
              JOIN accounting_sync_request_member m ON m.request_id = r.id
         LEFT JOIN accounting_sync_binding b
                ON b.connection_id = m.connection_id AND b.res_model = m.res_model
               AND b.res_id = m.res_id
             WHERE r.connection_id = %s AND r.kind = %s AND r.res_model = %s
               AND r.operation = 'write' AND r.key IS DISTINCT FROM b.answered_send
          GROUP BY r.id
            HAVING count(*) = max(r.size) AND count(DISTINCT m.position) = max(r.size)
          ORDER BY r.started_at, r.id
        """, (connection.id, kind, model))
        return [(key, started, list(zip(ids, hashes)))
                for key, started, ids, hashes in self.env.cr.fetchall()]

    @api.model
    def _in_flight(self, connection, model, res_ids):
        """The ids among ``res_ids`` whose last send got no answer (noted by the binding)."""
        if not res_ids:
            return set()
        self.env.cr.execute("""
            SELECT m.res_id
              FROM accounting_sync_request_member m
              JOIN accounting_sync_request r ON r.id = m.request_id
         LEFT JOIN accounting_sync_binding b
                ON b.connection_id = m.connection_id AND b.res_model = m.res_model
               AND b.res_id = m.res_id
             WHERE m.connection_id = %s AND m.res_model = %s AND m.res_id = ANY(%s)
               AND r.key IS DISTINCT FROM b.answered_send
        """, (connection.id, model, list(res_ids)))
        return {res_id for (res_id,) in self.env.cr.fetchall()}

    # ------------------------------------------------------------------------------------
    # Forgetting
    # ------------------------------------------------------------------------------------

    @api.model
    def _reset(self, connection, bindings):
        """Reset Record Sync State forgot these records' remote links: no send of theirs is
        in flight any more."""
        for model in set(bindings.mapped("res_model")):
            self.env.cr.execute("""
                DELETE FROM accounting_sync_request_member
                 WHERE connection_id = %s AND res_model = %s AND res_id = ANY(%s)
            """, (connection.id, model, bindings.filtered(
                lambda b, m=model: b.res_model == m).mapped("res_id")))

    @api.model
    def _forget_answered(self, connection):
        """Once per run, in a transaction of its own (the sync's never holds a lock on a row
        it will write again): drop the member rows of sends whose answer the bindings noted
        (harmless, this keeps the table small), and the requests answered long ago."""
        with self.env.registry.cursor() as cr:
            cr.execute("""
                DELETE FROM accounting_sync_request_member m
                 USING accounting_sync_request r, accounting_sync_binding b
                 WHERE m.connection_id = %s AND r.id = m.request_id
                   AND b.connection_id = m.connection_id AND b.res_model = m.res_model
                   AND b.res_id = m.res_id AND b.answered_send = r.key
            """, (connection.id,))
            cr.execute("""
                DELETE FROM accounting_sync_request r
                 WHERE r.connection_id = %s AND r.started_at < (now() at time zone 'UTC')
                       - make_interval(days => %s)
                   AND NOT EXISTS (SELECT 1 FROM accounting_sync_request_member m
                                    WHERE m.request_id = r.id)
            """, (connection.id, KEEP_ANSWERED_DAYS))

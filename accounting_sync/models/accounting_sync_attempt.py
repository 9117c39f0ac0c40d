import uuid

import psycopg2.errors

from odoo import api, fields, models

LOCK_TIMEOUT_MS = 5000


class AccountingSyncAttempt(models.Model):
    """The last send of a record: written and committed in a transaction of its own just
    before the request leaves, under an id of that send, with its place in the send and the
    hash of the payload sent — the send is frozen: while it is unanswered, the next run
    sends the same records again in the same order (so the adapters' request keys, digests
    of the records' keys, ask the provider for its first answer), or, if that batch cannot
    be made again (a member changed, left or was answered), looks its members up in the
    remote company before they go out in another batch.

    When the provider answers, the record's binding notes the send's id
    (``answered_send``) in the sync's own transaction. A row whose send the binding has not
    noted is a send whose outcome is unknown — a timeout, a crash, a worker killed, a request
    rolled back after the provider had created the document — and the next sync looks for
    the document in the remote company before creating it again. Documents with no such row
    were never sent and are created without that look-up (one API call less per batch).

    (The sync's own transaction cannot simply delete the row: under REPEATABLE READ it does
    not see a row committed after its snapshot was taken.)"""

    _name = "accounting.sync.attempt"
    _description = "Accounting Sync: last send of a record"
    _log_access = False

    # Plain integers, no foreign keys: the row is written from another transaction, which
    # must neither wait for nor see the locks of the sync's own transaction.
    connection_id = fields.Integer(required=True, index=True)
    res_model = fields.Char(required=True)
    res_id = fields.Integer(required=True)
    send = fields.Char(help="Id of the send (none once a reset forgot the record's link)")
    started_at = fields.Datetime()
    generation = fields.Integer(
        help="How many times Reset Record Sync State forgot this record's remote link: part "
             "of its idempotency keys, so that it is created anew after a reset, not answered "
             "with the copy it was linked to before.")
    kind = fields.Char(help="What the send wrote (invoice, customer_payment...)")
    payload_hash = fields.Char(help="Hash of the payload this record was sent with")
    position = fields.Integer(help="Place of this record in its send")
    size = fields.Integer(help="Number of records in the send")

    _sql_constraints = [
        ("record_unique", "unique(connection_id, res_model, res_id)",
         "One last send per record and connection."),
    ]

    @api.model
    def _start(self, connection, kind, bindings, hashes):
        """Record, durably and at once, that ``bindings`` (in this order, with the payload
        ``hashes`` by binding id) are about to be sent as one send of ``kind``; return the id
        of this send, for the bindings to note once the provider has answered."""
        send = uuid.uuid4().hex
        if not bindings:
            return send
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET LOCAL lock_timeout = %s", (LOCK_TIMEOUT_MS,))
                self._insert(cr, connection, kind, bindings, hashes, send)
        except psycopg2.errors.LockNotAvailable:
            # Another transaction holds these rows (it wrote them and has not finished):
            # rather than wait, write them in ours.
            self._insert(self.env.cr, connection, kind, bindings, hashes, send)
        return send

    @api.model
    def _insert(self, cr, connection, kind, bindings, hashes, send):
        [model] = set(bindings.mapped("res_model"))
        cr.execute("""
            INSERT INTO accounting_sync_attempt
                        (connection_id, res_model, res_id, send, started_at, kind,
                         payload_hash, position, size)
                 SELECT %s, %s, member.res_id, %s, now() at time zone 'UTC', %s,
                        member.payload_hash, member.position - 1, %s
                   FROM unnest(%s::int[], %s::varchar[]) WITH ORDINALITY
                        AS member(res_id, payload_hash, position)
            ON CONFLICT (connection_id, res_model, res_id)
              DO UPDATE SET send = EXCLUDED.send, started_at = EXCLUDED.started_at,
                            kind = EXCLUDED.kind, payload_hash = EXCLUDED.payload_hash,
                            position = EXCLUDED.position, size = EXCLUDED.size
        """, (connection.id, model, send, kind, len(bindings), bindings.mapped("res_id"),
              [hashes[b.id] for b in bindings]), log_exceptions=False)

    @api.model
    def _frozen_sends(self, connection, kind, model):
        """The unanswered sends of ``kind`` that can be made again as they were: every
        member still on record with it. ``[(send, started_at, [(res_id, payload_hash)])]``,
        oldest first, members in their order."""
        self.env.cr.execute("""
            SELECT a.send, min(a.started_at),
                   array_agg(a.res_id ORDER BY a.position),
                   array_agg(a.payload_hash ORDER BY a.position)
              FROM accounting_sync_attempt a
         LEFT JOIN accounting_sync_binding b
                ON b.connection_id = a.connection_id AND b.res_model = a.res_model
               AND b.res_id = a.res_id
             WHERE a.connection_id = %s AND a.kind = %s AND a.res_model = %s
               AND a.send IS NOT NULL AND a.send IS DISTINCT FROM b.answered_send
          GROUP BY a.send
            HAVING count(*) = max(a.size) AND count(DISTINCT a.position) = max(a.size)
          ORDER BY min(a.started_at), a.send
        """, (connection.id, kind, model))
        return [(send, started, list(zip(ids, hashes)))
                for send, started, ids, hashes in self.env.cr.fetchall()]

    @api.model
    def _in_flight(self, connection, model, res_ids):
        """The ids among ``res_ids`` whose last send got no answer (noted by the binding)."""
        return {res_id for res_id, (in_flight, _g) in self._states(
            connection, model, res_ids).items() if in_flight}

    @api.model
    def _states(self, connection, model, res_ids):
        """``{res_id: (in flight, generation)}`` of the records among ``res_ids`` that have a
        row: in flight when their last send got no answer (noted by the binding)."""
        if not res_ids:
            return {}
        self.env.cr.execute("""
            SELECT a.res_id, a.send IS NOT NULL AND a.send IS DISTINCT FROM b.answered_send,
                   coalesce(a.generation, 0)
              FROM accounting_sync_attempt a
         LEFT JOIN accounting_sync_binding b
                ON b.connection_id = a.connection_id AND b.res_model = a.res_model
               AND b.res_id = a.res_id
             WHERE a.connection_id = %s AND a.res_model = %s AND a.res_id = ANY(%s)
        """, (connection.id, model, list(res_ids)))
        return {res_id: (in_flight, generation)
                for res_id, in_flight, generation in self.env.cr.fetchall()}

    @api.model
    def _reset(self, connection, bindings):
        """Reset Record Sync State forgot these records' remote links: no send of theirs is
        in flight any more, and their next keys are new ones."""
        for model in set(bindings.mapped("res_model")):
            self.env.cr.execute("""
                INSERT INTO accounting_sync_attempt
                            (connection_id, res_model, res_id, send, generation)
                     SELECT %s, %s, unnest(%s::int[]), NULL, 1
                ON CONFLICT (connection_id, res_model, res_id)
                  DO UPDATE SET send = NULL, size = NULL,
                                generation = coalesce(accounting_sync_attempt.generation, 0) + 1
            """, (connection.id, model, bindings.filtered(
                lambda b, m=model: b.res_model == m).mapped("res_id")))

    @api.model
    def _forget_answered(self, connection):
        """Drop the rows of sends whose answer is committed (once per run; they are
        harmless, this only keeps the table small) — but the rows of records reset since,
        which carry their key generation. In a transaction of its own, so that the sync's
        transaction never holds a lock on a row it will write again."""
        with self.env.registry.cursor() as cr:
            cr.execute("""
                DELETE FROM accounting_sync_attempt a
                 USING accounting_sync_binding b
                 WHERE a.connection_id = %s AND b.connection_id = a.connection_id
                   AND b.res_model = a.res_model AND b.res_id = a.res_id
                   AND b.answered_send = a.send AND coalesce(a.generation, 0) = 0
            """, (connection.id,))

    @api.model
    def _forget_connections(self, connection_ids):
        self.env.cr.execute("DELETE FROM accounting_sync_attempt WHERE connection_id = ANY(%s)",
                            (list(connection_ids),))

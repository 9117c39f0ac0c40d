import uuid

import psycopg2.errors

from odoo import api, fields, models

LOCK_TIMEOUT_MS = 5000


class AccountingSyncAttempt(models.Model):
    """The last send of a record: written and committed in a transaction of its own just
    before the request leaves, under an id of that send.

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
    send = fields.Char(required=True, help="Id of the send")
    started_at = fields.Datetime(required=True)

    _sql_constraints = [
        ("record_unique", "unique(connection_id, res_model, res_id)",
         "One last send per record and connection."),
    ]

    @api.model
    def _start(self, connection, bindings):
        """Record, durably and at once, that ``bindings`` are about to be sent; return the
        id of this send, for the bindings to note once the provider has answered."""
        send = uuid.uuid4().hex
        if not bindings:
            return send
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET LOCAL lock_timeout = %s", (LOCK_TIMEOUT_MS,))
                self._insert(cr, connection, bindings, send)
        except psycopg2.errors.LockNotAvailable:
            # Another transaction holds these rows (it wrote them and has not finished):
            # rather than wait, write them in ours.
            self._insert(self.env.cr, connection, bindings, send)
        return send

    @api.model
    def _insert(self, cr, connection, bindings, send):
        for model in set(bindings.mapped("res_model")):
            cr.execute("""
                INSERT INTO accounting_sync_attempt
                            (connection_id, res_model, res_id, send, started_at)
                     SELECT %s, %s, unnest(%s::int[]), %s, now() at time zone 'UTC'
                ON CONFLICT (connection_id, res_model, res_id)
                  DO UPDATE SET send = EXCLUDED.send, started_at = EXCLUDED.started_at
            """, (connection.id, model, [b.res_id for b in bindings if b.res_model == model],
                  send), log_exceptions=False)

    @api.model
    def _in_flight(self, connection, model, res_ids):
        """The ids among ``res_ids`` whose last send got no answer (noted by the binding)."""
        if not res_ids:
            return set()
        self.env.cr.execute("""
            SELECT a.res_id
              FROM accounting_sync_attempt a
         LEFT JOIN accounting_sync_binding b
                ON b.connection_id = a.connection_id AND b.res_model = a.res_model
               AND b.res_id = a.res_id
             WHERE a.connection_id = %s AND a.res_model = %s AND a.res_id = ANY(%s)
               AND a.send IS DISTINCT FROM b.answered_send
        """, (connection.id, model, list(res_ids)))
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _forget_answered(self, connection):
        """Drop the rows of sends whose answer is committed (once per run; they are
        harmless, this only keeps the table small). In a transaction of its own, so that the
        sync's transaction never holds a lock on a row it will write again."""
        with self.env.registry.cursor() as cr:
            cr.execute("""
                DELETE FROM accounting_sync_attempt a
                 USING accounting_sync_binding b
                 WHERE a.connection_id = %s AND b.connection_id = a.connection_id
                   AND b.res_model = a.res_model AND b.res_id = a.res_id
                   AND b.answered_send = a.send
            """, (connection.id,))

    @api.model
    def _forget_connections(self, connection_ids):
        self.env.cr.execute("DELETE FROM accounting_sync_attempt WHERE connection_id = ANY(%s)",
                            (list(connection_ids),))

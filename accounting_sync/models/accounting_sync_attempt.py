import psycopg2.errors

from odoo import api, fields, models

LOCK_TIMEOUT_MS = 5000


class AccountingSyncAttempt(models.Model):
    """A send whose outcome is not known yet: written (and committed, in a transaction of its
    own) just before a document is sent, deleted with the answer.

    If the answer never arrives — a timeout, a crash, a worker killed, a request rolled back
    after the provider had created the document — the row survives, and the next sync looks
    for the document in the remote company before creating it again. Documents with no row
    were never sent and are created without that look-up (one API call less per batch)."""

    _name = "accounting.sync.attempt"
    _description = "Accounting Sync: send in flight"
    _log_access = False

    # Plain integers, no foreign keys: the row is written from another transaction, which
    # must neither wait for nor see the locks of the sync's own transaction.
    connection_id = fields.Integer(required=True, index=True)
    res_model = fields.Char(required=True)
    res_id = fields.Integer(required=True)
    started_at = fields.Datetime(required=True)

    _sql_constraints = [
        ("record_unique", "unique(connection_id, res_model, res_id)",
         "One send in flight per record and connection."),
    ]

    @api.model
    def _start(self, connection, bindings):
        """Record, durably and at once, that ``bindings`` are about to be sent."""
        if not bindings:
            return
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SET LOCAL lock_timeout = %s", (LOCK_TIMEOUT_MS,))
                self._insert(cr, connection, bindings)
        except psycopg2.errors.LockNotAvailable:
            # Our own transaction holds one of these rows (it answered for the record
            # earlier in the same transaction): write them there instead.
            self._insert(self.env.cr, connection, bindings)

    @api.model
    def _insert(self, cr, connection, bindings):
        for model in set(bindings.mapped("res_model")):
            cr.execute("""
                INSERT INTO accounting_sync_attempt (connection_id, res_model, res_id, started_at)
                     SELECT %s, %s, unnest(%s::int[]), now() at time zone 'UTC'
                ON CONFLICT (connection_id, res_model, res_id)
                  DO UPDATE SET started_at = EXCLUDED.started_at
            """, (connection.id, model, [b.res_id for b in bindings if b.res_model == model]),
                log_exceptions=False)

    @api.model
    def _in_flight(self, connection, model, res_ids):
        """The ids among ``res_ids`` whose last send got no answer."""
        if not res_ids:
            return set()
        self.env.cr.execute("""
            SELECT res_id FROM accounting_sync_attempt
             WHERE connection_id = %s AND res_model = %s AND res_id = ANY(%s)
        """, (connection.id, model, list(res_ids)))
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _done(self, connection, bindings):
        """The provider answered for ``bindings``: forget their sends (in the sync's own
        transaction, so that a rollback keeps them)."""
        for model in set(bindings.mapped("res_model")):
            self.env.cr.execute("""
                DELETE FROM accounting_sync_attempt
                 WHERE connection_id = %s AND res_model = %s AND res_id = ANY(%s)
            """, (connection.id, model, [b.res_id for b in bindings if b.res_model == model]))

"""From 18.0.1 (history scans, app keys in system parameters, accounting.sync.attempt) to the
change queue: an installed connection keeps its links and what it was about to send.

* The app keys move from system parameters to accounting.sync.app.setting (system
  administrators only), and leave the system parameters.
* The attempt rows (the last send of each record) become accounting.sync.request rows (one
  per send, answered or not) and their members; a record's key generation moves to its
  binding. A send whose answer was lost stays in flight: the next run sends it again as it
  was, or looks its records up, as before.
* The queue is filled once with what the old engine found by scanning history: records
  edited since they were last synced are pending, synced documents and payments that were
  cancelled since are to void, and the posted documents and payments in a connection's scope
  with no sync state yet are queued.
"""
import logging

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

APP_KEYS = {
    "quickbooks_online": {"client_id": "accounting_sync.qbo_client_id",
                          "client_secret": "accounting_sync.qbo_client_secret"},
    "xero": {"client_id": "accounting_sync.xero_client_id",
             "client_secret": "accounting_sync.xero_client_secret"},
}
SYNCED_TABLES = {"account.move": "account_move", "account.payment": "account_payment",
                 "res.partner": "res_partner", "product.product": "product_product"}


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    move_app_keys(env)
    move_attempts(cr)
    fill_queue(env)


def move_app_keys(env):
    Setting = env["accounting.sync.app.setting"]
    Setting._ensure_settings()
    ICP = env["ir.config_parameter"].sudo()
    for provider, keys in APP_KEYS.items():
        values = {key: ICP.get_param(param) for key, param in keys.items()}
        values = {key: value for key, value in values.items() if value}
        if values:
            Setting._set(provider, **values)
        ICP.search([("key", "in", list(keys.values()))]).unlink()


def move_attempts(cr):
    cr.execute("SELECT to_regclass('accounting_sync_attempt')")
    if not cr.fetchone()[0]:
        return
    cr.execute("""
        UPDATE accounting_sync_binding b
           SET key_generation = a.generation
          FROM accounting_sync_attempt a
         WHERE a.connection_id = b.connection_id AND a.res_model = b.res_model
           AND a.res_id = b.res_id AND coalesce(a.generation, 0) > 0
    """)
    cr.execute("""
        INSERT INTO accounting_sync_request
                    (key, connection_id, kind, operation, res_model, state, size, started_at)
             SELECT a.send, a.connection_id, min(a.kind), 'write', min(a.res_model),
                    CASE WHEN bool_and(b.answered_send IS NOT DISTINCT FROM a.send)
                         THEN 'answered' ELSE 'sent' END,
                    max(a.size), min(a.started_at)
               FROM accounting_sync_attempt a
               JOIN accounting_sync_connection c ON c.id = a.connection_id
          LEFT JOIN accounting_sync_binding b
                 ON b.connection_id = a.connection_id AND b.res_model = a.res_model
                AND b.res_id = a.res_id
              WHERE a.send IS NOT NULL
           GROUP BY a.connection_id, a.send
    """)
    cr.execute("""
        INSERT INTO accounting_sync_request_member
                    (request_id, connection_id, res_model, res_id, payload_hash, position)
             SELECT r.id, a.connection_id, a.res_model, a.res_id, a.payload_hash, a.position
               FROM accounting_sync_attempt a
               JOIN accounting_sync_request r
                 ON r.key = a.send AND r.connection_id = a.connection_id
    """)
    _logger.info("accounting_sync: %s sends of the old attempt table kept as requests",
                 cr.rowcount)
    cr.execute("DROP TABLE accounting_sync_attempt")


def fill_queue(env):
    cr = env.cr
    # Edited since last synced: what the old engine guessed from write_date on every run.
    for model, table in SYNCED_TABLES.items():
        cr.execute(SQL("""
            UPDATE accounting_sync_binding b
               SET state = 'pending', attempts = 0
              FROM %s r
             WHERE b.res_model = %s AND b.res_id = r.id AND b.state = 'synced'
               AND b.remote_id IS NOT NULL AND b.last_synced_at IS NOT NULL
               AND r.write_date > b.last_synced_at
        """, SQL.identifier(table), model))
    # Cancelled since they were synced: what the old engine's void scan found.
    for model, table, cancelled in (("account.move", "account_move", "cancel"),
                                    ("account.payment", "account_payment", "canceled")):
        cr.execute(SQL("""
            UPDATE accounting_sync_binding b
               SET state = 'to_void', attempts = 0
              FROM %s r
             WHERE b.res_model = %s AND b.res_id = r.id AND r.state = %s
               AND b.remote_id IS NOT NULL AND NOT coalesce(b.voided, false)
               AND b.state IN ('synced', 'pending', 'failed')
        """, SQL.identifier(table), model, cancelled))
    env["accounting.sync.binding"].invalidate_model()
    # In scope and never queued: queued once, as a change of scope does.
    env["accounting.sync.connection"].search([])._enqueue_scope()

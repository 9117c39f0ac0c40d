"""The upgrade from 18.0.1 (history scans, app keys in system parameters, the attempt table):
a database synced by the old version is put back in its old shape, the migration script runs
on it, and the next sync carries on — nothing sent twice, nothing left behind."""
import importlib.util
import time
from pathlib import Path

from odoo.tests import tagged

from .common import QuickBooksOnlineSetup, SyncCase

SCRIPT = Path(__file__).parents[1] / "migrations" / "18.0.2.0.0" / "post-migrate.py"


def load_migration():
    spec = importlib.util.spec_from_file_location("accounting_sync_post_migrate_2", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestMigrationFrom1(QuickBooksOnlineSetup, SyncCase):

    def to_old_shape(self):
        """What 18.0.1 kept: the last send of each record in accounting_sync_attempt under a
        random id, the key generation there too, and the app keys in system parameters."""
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("""
            CREATE TABLE accounting_sync_attempt (
                id serial PRIMARY KEY, connection_id integer NOT NULL,
                res_model varchar NOT NULL, res_id integer NOT NULL, send varchar,
                started_at timestamp, generation integer, kind varchar,
                payload_hash varchar, position integer, size integer,
                UNIQUE (connection_id, res_model, res_id))
        """)
        cr.execute("""
            INSERT INTO accounting_sync_attempt
                        (connection_id, res_model, res_id, send, started_at, generation, kind,
                         payload_hash, position, size)
                 SELECT m.connection_id, m.res_model, m.res_id, md5(r.key), r.started_at,
                        b.key_generation, r.kind, m.payload_hash, m.position, r.size
                   FROM accounting_sync_request_member m
                   JOIN accounting_sync_request r ON r.id = m.request_id
              LEFT JOIN accounting_sync_binding b
                     ON b.connection_id = m.connection_id AND b.res_model = m.res_model
                    AND b.res_id = m.res_id
        """)
        cr.execute("UPDATE accounting_sync_binding SET answered_send = md5(answered_send), "
                   "key_generation = 0 WHERE answered_send IS NOT NULL")
        cr.execute("DELETE FROM accounting_sync_request_member")
        cr.execute("DELETE FROM accounting_sync_request")
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("accounting_sync.qbo_client_id", "old-client")
        ICP.set_param("accounting_sync.qbo_client_secret", "old-secret")
        self.env["accounting.sync.app.setting"]._set(self.provider, client_id=False,
                                                      client_secret=False)
        self.env.invalidate_all()

    def test_upgrade_keeps_links_unanswered_sends_and_what_was_due(self):
        Binding = self.env["accounting.sync.binding"]
        Request = self.env["accounting.sync.request"]
        first = self.invoice(price=100.0)
        cancelled = self.invoice(price=40.0)
        self.sync()
        lost = self.invoice(price=55.0)
        self.sync_losing_the_answer()
        self.assertEqual(Request._in_flight(self.connection, "account.move", lost.ids),
                         {lost.id})
        # Cancelled, edited and posted under the old version, which kept no queue: the old
        # engine would have found them by scanning history on its next run.
        cancelled.button_draft()
        cancelled.button_cancel()
        never_queued = self.invoice(price=21.0)
        self.to_old_shape()
        cr = self.env.cr
        cr.execute("UPDATE accounting_sync_binding SET state = 'synced' WHERE id = %s",
                   (self.binding(cancelled).id,))
        cr.execute("DELETE FROM accounting_sync_binding WHERE res_model = 'account.move' "
                   "AND res_id = %s", (never_queued.id,))
        customer = self.binding(self.customer)
        cr.execute("UPDATE accounting_sync_binding SET last_synced_at = "
                   "now() at time zone 'UTC' - interval '1 day', state = 'synced' "
                   "WHERE id = %s", (customer.id,))
        # Reset Record Sync State had forgotten the first invoice's link twice before.
        cr.execute("""
            INSERT INTO accounting_sync_attempt
                        (connection_id, res_model, res_id, send, generation, kind, position,
                         size, started_at)
                 SELECT connection_id, res_model, res_id, answered_send, 2, 'invoice', 0, 1,
                        last_synced_at
                   FROM accounting_sync_binding WHERE id = %s
            ON CONFLICT (connection_id, res_model, res_id) DO UPDATE SET generation = 2
        """, (self.binding(first).id,))
        self.env.invalidate_all()

        load_migration().migrate(cr, "18.0.1.0.0")
        self.env.invalidate_all()

        cr.execute("SELECT to_regclass('accounting_sync_attempt')")
        self.assertIsNone(cr.fetchone()[0], "the old table is gone")
        ICP = self.env["ir.config_parameter"].sudo()
        self.assertFalse(ICP.get_param("accounting_sync.qbo_client_secret"),
                         "no app secret left in system parameters")
        self.assertEqual(self.env["accounting.sync.app.setting"]._values(self.provider),
                         {"client_id": "old-client", "client_secret": "old-secret",
                          "webhook_verifier_token": False})
        self.assertEqual(self.binding(first).key_generation, 2)
        self.assertEqual(Request._in_flight(self.connection, "account.move",
                                            (first | lost).ids), {lost.id},
                         "the send whose answer was lost is still unanswered")
        self.assertEqual(self.binding(cancelled).state, "to_void")
        self.assertEqual(self.binding(self.customer).state, "pending", "edited since synced")
        self.assertEqual(self.binding(never_queued).state, "pending", "queued once")
        self.assertEqual(self.binding(first).state, "synced", "nothing else is due")

        self.env["accounting.sync.app.setting"]._set(
            self.provider, client_id="sync-test-client", client_secret="sync-test-secret")
        time.sleep(2)  # the provider finishes creating the lost one meanwhile
        run = self.sync()
        self.assertEqual(run.state, "done", run.outcome)
        for move in (first, lost, never_queued):
            self.assertEqual(self.binding(move).state, "synced", self.binding(move).last_error)
        self.assertTrue(self.binding(cancelled).voided)
        remote = self.remote(self.invoices)
        self.assertEqual(len([r for r in remote
                              if round(float(r["TotalAmt"]), 2) == lost.amount_total]), 1,
                         "the invoice whose answer was lost is not sent twice")
        self.assertEqual(len(remote), 4)
        self.assertFalse(Binding.search([("connection_id", "=", self.connection.id),
                                         ("state", "!=", "synced")]))

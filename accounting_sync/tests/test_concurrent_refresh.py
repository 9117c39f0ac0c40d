"""Two workers refreshing the same connection at once, each with its own database
connection and transaction: exactly one refresh reaches the provider and no rotated
refresh token is lost."""
from datetime import timedelta

import requests

import odoo
from odoo.tests import common, tagged

from ..providers import get_adapter
from ..providers.base import utcnow
from .common import QBO_REALM_1, XERO_UK, environment, in_two_workers, sandbox

CLIENTS = {
    "quickbooks_online": ("qbo", "qbo-concurrency-client", QBO_REALM_1),
    "xero": ("xero", "xero-concurrency-client", XERO_UK),
}


@tagged("post_install", "-at_install")
class TestConcurrentRefresh(common.BaseCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = sandbox()
        cls.connection_ids = []
        with environment() as env:
            ICP = env["ir.config_parameter"]
            cls.saved_params = {"accounting_sync.local_url":
                                ICP.get_param("accounting_sync.local_url")}
            cls.saved_settings = {provider: env["accounting.sync.app.setting"]._values(provider)
                                  for provider in CLIENTS}
            ICP.set_param("accounting_sync.local_url", cls.sandbox.url)

        def restore():
            with environment() as env:
                env["accounting.sync.connection"].browse(cls.connection_ids).exists().unlink()
                for key, value in cls.saved_params.items():
                    env["ir.config_parameter"].set_param(key, value or False)
                for provider, values in cls.saved_settings.items():
                    env["accounting.sync.app.setting"]._set(provider, **values)
        cls.addClassCleanup(restore)

    def in_two_workers(self, work):
        results, errors = in_two_workers(work)
        self.assertFalse(errors)
        self.assertEqual(len(results), 2)
        return results

    def authorized_tokens(self, provider):
        """Tokens for a real grant at the sandbox, obtained without Odoo."""
        _code, client_id, company = CLIENTS[provider]
        adapter = get_adapter(provider, client_id=client_id, client_secret="s3cret",
                              environment="local", base_url=self.sandbox.url)
        self.sandbox.configure(auto_approve={"login": "alice@example.com",
                                             "companies": [company]})
        url, verifier = adapter.authorization_url("http://127.0.0.1/cb", "all_accounting", "st")
        location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        auth_code = requests.utils.urlparse(location).query.split("code=")[1].split("&")[0]
        return adapter.exchange_code(auth_code, "http://127.0.0.1/cb", code_verifier=verifier)

    def test_two_workers_one_refresh(self):
        for provider, (code, client_id, company) in CLIENTS.items():
            with self.subTest(provider=provider):
                self.sandbox.reset()
                tokens = self.authorized_tokens(provider)
                with environment() as env:
                    env["accounting.sync.app.setting"]._set(
                        provider, client_id=client_id, client_secret="s3cret")
                    connection = env["accounting.sync.connection"].create({
                        "name": "Concurrency %s" % provider, "provider": provider,
                        "environment": "local", "local_url": self.sandbox.url,
                        "state": "connected", "remote_company_id": company,
                        "access_token": tokens.access_token,
                        "refresh_token": tokens.refresh_token,
                        # expired here, so both workers decide to refresh
                        "access_token_expires_at": utcnow() - timedelta(seconds=1),
                        "refresh_token_expires_at": tokens.refresh_expires_at,
                    })
                    self.connection_ids.append(connection.id)
                # Slow the token endpoint so the two refreshes overlap.
                self.sandbox.add_fault(status=None, delay=0.5, provider=code,
                                       path_contains="token", times=None)
                def refresh(env, conn_id=connection.id):
                    conn = env["accounting.sync.connection"].browse(conn_id)
                    self.assertTrue(conn._needs_refresh(conn._token_set()))
                    return conn._get_access_tokens()

                results = self.in_two_workers(refresh)
                refreshes = self.sandbox.calls(provider=code, grant_type="refresh_token")
                self.assertEqual(len(refreshes), 1, "exactly one refresh call")
                self.assertEqual(results[0].access_token, results[1].access_token)
                self.sandbox.clear_faults()
                with environment() as env:
                    conn = env["accounting.sync.connection"].browse(connection.id)
                    self.assertEqual(conn.access_token, results[0].access_token)
                    self.assertNotEqual(conn.refresh_token, tokens.refresh_token)
                    # The stored (rotated) refresh token is the live one: it refreshes again.
                    again = conn._get_access_tokens(force_refresh=True)
                    self.assertNotEqual(again.access_token, results[0].access_token)
                    self.assertEqual(conn.state, "connected")

    def books(self, invoices=3):
        """A committed QBO connection with live tokens, its accounts and tax mapped, and
        ``invoices`` posted invoices to send; all removed at the end of the test."""
        self.sandbox.reset()
        tokens = self.authorized_tokens("quickbooks_online")
        with environment() as env:
            env["accounting.sync.app.setting"]._set(
                "quickbooks_online", client_id=CLIENTS["quickbooks_online"][1],
                client_secret="s3cret")
            connection = env["accounting.sync.connection"].create({
                "name": "Cron race", "provider": "quickbooks_online", "environment": "local",
                "local_url": self.sandbox.url, "state": "connected",
                "remote_company_id": QBO_REALM_1, "sync_start_date": "2026-01-01",
                **env["accounting.sync.connection"]._token_values(tokens)})
            connection._refresh_chart()
            product = env["product.product"].create({
                "name": "Cron race service", "type": "service", "list_price": 40.0})
            partner = env["res.partner"].create({"name": "Cron Race Customer",
                                                 "is_company": True})
            income = product.categ_id.property_account_income_categ_id
            for kind, record, remote in (("account", income, "Services"),
                                         ("tax", product.taxes_id.filtered(
                                             lambda t: t.company_id == env.company)[:1],
                                          "TAX")):
                env["accounting.sync.mapping"].create({
                    "connection_id": connection.id, "kind": kind, kind + "_id": record.id,
                    "matched_by": "manual",
                    "remote_record_id": connection.remote_record_ids.filtered(
                        lambda r, k=kind, n=remote: r.kind == k and r.name == n).id})
            moves = env["account.move"].create([{
                "move_type": "out_invoice", "partner_id": partner.id,
                "invoice_date": "2026-03-0%d" % (n + 1), "date": "2026-03-0%d" % (n + 1),
                "invoice_line_ids": [(0, 0, {"product_id": product.id, "quantity": 1 + n})],
            } for n in range(invoices)])
            moves.action_post()
            ids = (connection.id, moves.ids, product.id, partner.id)

        def drop():
            with environment() as env:
                env["accounting.sync.connection"].browse(ids[0]).exists().unlink()
                env["account.move"].browse(ids[1]).button_draft()
                env["account.move"].browse(ids[1]).with_context(force_delete=True).unlink()
                env["product.product"].browse(ids[2]).unlink()
                env["res.partner"].browse(ids[3]).unlink()
        self.addCleanup(drop)
        return connection.id, moves.ids

    def test_two_cron_workers_one_run(self):
        """Two workers running the sync job at once: one claims the connection and sends
        each record once, the other leaves it alone."""
        connection_id, move_ids = self.books()
        # Slow the provider a little so that the two runs would overlap.
        self.sandbox.add_fault(status=None, delay=0.3, provider="qbo", times=None)
        self.in_two_workers(lambda env: env["accounting.sync.connection"]._cron_sync())
        self.sandbox.clear_faults()
        with environment() as env:
            runs = env["accounting.sync.run"].search([("connection_id", "=", connection_id)])
            self.assertEqual(len(runs), 1, "one worker synced, the other skipped")
            self.assertEqual(runs.state, "done", runs.outcome)
            self.assertEqual(runs.trigger, "schedule")
            self.assertEqual(runs.created, len(move_ids) + 2, "customer, product, invoices")
            connection = env["accounting.sync.connection"].browse(connection_id)
            Request = env["accounting.sync.request"]
            self.assertEqual(Request._in_flight(connection, "account.move", move_ids), set(),
                             "every committed send is known to be answered")
            self.assertEqual(set(Request.search([("connection_id", "=", connection_id)])
                                 .mapped("state")), {"answered"})
            Request._forget_answered(connection)
        with environment() as env:
            self.assertFalse(env["accounting.sync.request.member"].search(
                [("connection_id", "=", connection_id)]), "and the records' send rows are "
                                                          "dropped")
        self.assertEqual(len(self.sandbox.records("qbo", "Invoice", QBO_REALM_1)),
                         len(move_ids), "each invoice sent once")

    def test_a_long_sync_pauses_and_the_cron_resumes_it(self):
        """A run that uses its time share pauses (committed, in state paused), tells the cron
        there is more to do, and the next call of the job carries on in the same run."""
        connection_id, move_ids = self.books(invoices=2)
        with environment() as env:
            env["ir.config_parameter"].set_param("accounting_sync.run_time_budget", "1")
            cron_id = env["accounting.sync.connection"].browse(connection_id).cron_id.id

        def forget_budget():
            with environment() as env:
                env["ir.config_parameter"].set_param("accounting_sync.run_time_budget", False)
        self.addCleanup(forget_budget)
        # Each call takes 0.4 s: the customer's look-ups and create outlast the budget.
        self.sandbox.add_fault(status=None, delay=0.4, provider="qbo", times=None,
                               path_contains="/company/")
        calls = 0
        for calls in range(1, 10):
            with environment() as env:
                env["ir.cron"].browse(cron_id).method_direct_trigger()
            with environment() as env:
                run = env["accounting.sync.run"].search([("connection_id", "=", connection_id)])
                self.assertEqual(len(run), 1, "one run, resumed")
                self.assertNotEqual(run.state, "running", "no run is left running")
                if run.state != "paused":
                    break
                self.assertGreater(run.remaining, 0)
                progress = env["ir.cron.progress"].search([("cron_id", "=", cron_id)],
                                                          order="id desc", limit=1)
                self.assertEqual(progress.remaining, run.remaining,
                                 "the cron is told there is more to do")
                connection = env["accounting.sync.connection"].browse(connection_id)
                self.assertLessEqual(connection.next_sync_at, odoo.fields.Datetime.now(),
                                     "and the connection is due again at once")
        self.sandbox.clear_faults()
        self.assertGreater(calls, 1, "it paused at least once")
        with environment() as env:
            run = env["accounting.sync.run"].search([("connection_id", "=", connection_id)])
            self.assertEqual(run.state, "done", run.outcome)
            self.assertEqual(run.created, len(move_ids) + 2)
        self.assertEqual(len(self.sandbox.records("qbo", "Invoice", QBO_REALM_1)),
                         len(move_ids))


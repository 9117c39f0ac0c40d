"""Exactly once, with workers that really die: every test here commits its data and runs the
sync in real, separate transactions (as Odoo's cron workers do), so that a crash rolls back
what the worker had not committed while the provider keeps what it accepted.

Checked each time through the provider sandbox: every Odoo record exists once in the
remote company, the remote invoices' balances equal Odoo's, no sync state is left failed for
a record that exists remotely, and no run is left running."""
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from unittest.mock import patch

import requests

from odoo import Command
from odoo.tests import common, tagged
from odoo.tools import config

from ..models.accounting_sync_engine import AccountingSyncEngine
from ..providers import get_adapter
from ..providers.rate_limits import forget_pacers
from .common import QBO_REALM_1, XERO_UK, environment, in_two_workers, sandbox

START = date(2026, 1, 1)
DAY = date(2026, 4, 1)


class Crash(BaseException):
    """A worker dying: nothing catches it, its transaction is rolled back."""


class ExactlyOnce:
    """Run for each provider by the classes below."""

    allow_inherited_tests_method = True
    provider = code = realm = None
    income = expense = bank = None
    resources = {}           # kind -> sandbox resource holding it
    balance_field = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = sandbox()
        keys = [
            "accounting_sync.local_url", "accounting_sync.local_time_scale",
            "accounting_sync.retry_backoff", "accounting_sync.timeout"]
        with environment() as env:
            # A company of its own (committed, with the generic chart): nothing another test
            # committed is in its scope, and the sync's user works in it.
            company = env["res.company"].create({"name": "Exactly once %s %s" % (
                cls.code, uuid.uuid4().hex[:8]), "currency_id": env.ref("base.USD").id})
            env["account.chart.template"].try_loading("generic_coa", company=company,
                                                      install_demo=False)
            env.user.company_ids |= company
            cls.company_id = company.id
            ICP = env["ir.config_parameter"]
            saved = {key: ICP.get_param(key) for key in keys}
            saved_settings = env["accounting.sync.app.setting"]._values(cls.provider)
            env["accounting.sync.app.setting"]._set(cls.provider, client_id="once-client",
                                                    client_secret="once-secret")
            ICP.set_param("accounting_sync.local_url", cls.sandbox.url)
            ICP.set_param("accounting_sync.local_time_scale", "1000")
            ICP.set_param("accounting_sync.retry_backoff", "0.05")

        def restore():
            with environment() as env:
                for key, value in saved.items():
                    env["ir.config_parameter"].set_param(key, value or False)
                env["accounting.sync.app.setting"]._set(cls.provider, **saved_settings)
        cls.addClassCleanup(restore)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        forget_pacers()

    # -- committed books -----------------------------------------------------------------------

    def tokens(self):
        adapter = get_adapter(self.provider, client_id="once-client", client_secret="once-secret",
                              environment="local", base_url=self.sandbox.url)
        self.sandbox.configure(auto_approve={"login": "alice@example.com",
                                             "companies": [self.realm]})
        url, verifier = adapter.authorization_url("http://127.0.0.1/cb", "all_accounting", "s")
        location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        code = requests.utils.urlparse(location).query.split("code=")[1].split("&")[0]
        return adapter.exchange_code(code, "http://127.0.0.1/cb", code_verifier=verifier)

    def books(self):
        """A connection with live tokens and its chart mapped, and one of everything to send:
        a customer and a vendor, a product, three invoices, a credit note, a bill, a vendor
        refund, a full and a partial customer payment, a vendor payment and a journal entry.
        Committed; all removed at the end of the test."""
        tokens = self.tokens()
        with environment() as env:
            company = env["res.company"].browse(self.company_id)
            env = env(context=dict(env.context, allowed_company_ids=[company.id]))
            journal = env["account.journal"].search([("type", "=", "bank"),
                                                     ("company_id", "=", company.id)], limit=1)
            misc = env["account.journal"].search([("type", "=", "general"),
                                                  ("company_id", "=", company.id)], limit=1)
            product = env["product.product"].create({
                "name": "Once service", "type": "service", "list_price": 10.0,
                "company_id": company.id,
                "taxes_id": [Command.clear()], "supplier_taxes_id": [Command.clear()]})
            income = product.categ_id.property_account_income_categ_id
            expense = product.categ_id.property_account_expense_categ_id
            customer = env["res.partner"].create({
                "name": "Once Customer", "is_company": True, "company_id": company.id,
                "email": "once-customer@example.com"})
            vendor = env["res.partner"].create({
                "name": "Once Vendor", "is_company": True, "company_id": company.id,
                "email": "once-vendor@example.com"})
            connection = env["accounting.sync.connection"].create({
                "company_id": company.id,
                "name": "Once books", "provider": self.provider, "environment": "local",
                "local_url": self.sandbox.url, "sync_start_date": START,
                "default_product_id": product.id})
            connection.write({"state": "connected", "remote_company_id": self.realm,
                              "remote_company_name": "Sandbox", **connection._token_values(
                                  tokens)})
            connection._refresh_chart()
            for account, remote in ((income, self.income), (expense, self.expense),
                                    (journal.default_account_id, self.bank)):
                env["accounting.sync.mapping"].create({
                    "connection_id": connection.id, "kind": "account", "matched_by": "manual",
                    "account_id": account.id,
                    "remote_record_id": connection.remote_record_ids.filtered(
                        lambda r, n=remote: r.kind == "account" and r.name == n).id})

            def move(move_type, partner, price):
                return {"move_type": move_type, "partner_id": partner.id, "invoice_date": DAY,
                        "date": DAY, "invoice_line_ids": [Command.create({
                            "product_id": product.id, "quantity": 1, "price_unit": price,
                            "tax_ids": [Command.clear()]})]}
            moves = env["account.move"].create([
                move("out_invoice", customer, 100.0), move("out_invoice", customer, 200.0),
                move("out_invoice", customer, 300.0), move("out_refund", customer, 50.0),
                move("in_invoice", vendor, 80.0), move("in_refund", vendor, 20.0)])
            entry = env["account.move"].create({
                "move_type": "entry", "date": DAY, "journal_id": misc.id, "line_ids": [
                    Command.create({"account_id": expense.id, "debit": 42.5, "name": "Fees"}),
                    Command.create({"account_id": journal.default_account_id.id,
                                    "credit": 42.5, "name": "Fees"})]})
            (moves | entry).action_post()

            def pay(invoice, amount=None):
                values = {"payment_date": DAY + timedelta(days=3), "journal_id": journal.id}
                if amount:
                    values["amount"] = amount
                return env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=invoice.ids).create(
                        values)._create_payments()
            payments = pay(moves[0]) | pay(moves[1], 120.0) | pay(moves[4])
            ids = {"connection": connection.id, "moves": (moves | entry).ids,
                   "invoices": moves[:3].ids, "payments": payments.ids,
                   "product": product.id, "partners": (customer | vendor).ids}

        def drop():
            # Each step in a transaction of its own: a failing one leaves the others done.
            with environment() as env:
                env["accounting.sync.connection"].browse(ids["connection"]).exists().unlink()
            with environment() as env:
                payments = env["account.payment"].browse(ids["payments"]).exists()
                payments.action_draft()
                payments.unlink()
                moves = env["account.move"].browse(ids["moves"]).exists()
                moves.button_draft()
                moves.with_context(force_delete=True).unlink()
            with environment() as env:
                env["account.payment.register"].search(
                    [("partner_id", "in", ids["partners"])]).unlink()
                env["product.product"].browse(ids["product"]).exists().unlink()
                env["res.partner"].browse(ids["partners"]).exists().unlink()
        self.addCleanup(drop)
        self.ids = ids
        return ids

    # -- workers -------------------------------------------------------------------------------

    def cron(self):
        """One call of the connection's scheduled job, in a worker's own transaction."""
        with environment() as env:
            env["accounting.sync.connection"]._cron_sync(self.ids["connection"])

    def crashing_after(self, kind):
        """The worker dies just after the provider accepted the first batch of ``kind``,
        before the batch is committed here."""
        original = AccountingSyncEngine._apply

        def apply(engine, context, binding, *args, **kwargs):
            if binding.remote_type == kind:
                raise Crash(kind)
            return original(engine, context, binding, *args, **kwargs)
        return patch.object(AccountingSyncEngine, "_apply", apply)

    def runs(self, env):
        return env["accounting.sync.run"].search([("connection_id", "=", self.ids["connection"])])

    def expire_leases(self):
        """As if the lease of a run whose worker died had run out."""
        with environment() as env:
            self.runs(env).filtered(lambda r: r.state == "running").write(
                {"lease_until": "2000-01-01 00:00:00"})

    # -- what the provider has -------------------------------------------------------------------

    def assertExactlyOnce(self):
        with environment() as env:
            runs = self.runs(env)
            self.assertFalse(runs.filtered(lambda r: r.state == "running"), "no run left running")
            bindings = env["accounting.sync.binding"].search(
                [("connection_id", "=", self.ids["connection"])])
            not_synced = bindings.filtered(lambda b: b.state != "synced")
            self.assertFalse(not_synced, not_synced.mapped(lambda b: (b.record_name, b.state,
                                                                      b.last_error)))
            expected = {}
            for binding in bindings:
                resource = self.resources[binding.remote_type]
                expected[resource] = expected.get(resource, 0) + self.remote_count(binding)
            for resource, count in expected.items():
                live = [r for r in self.sandbox.records(self.code, resource, self.realm)
                        if self.is_live(r)]
                self.assertEqual(len(live), count, "%s: each record once" % resource)
            for invoice in env["account.move"].browse(self.ids["invoices"]):
                binding = bindings.filtered(lambda b, i=invoice: b.res_model == "account.move"
                                            and b.res_id == i.id)
                [remote] = [r for r in self.sandbox.records(
                    self.code, self.resources["invoice"], self.realm)
                    if str(r[self.id_field]) == binding.remote_id]
                self.assertAlmostEqual(float(remote[self.balance_field]),
                                       invoice.amount_residual, places=2,
                                       msg="%s balance" % invoice.name)

    def remote_count(self, binding):  # pylint: disable=unused-argument
        return 1

    def is_live(self, remote):  # pylint: disable=unused-argument
        return True

    # -- the tests --------------------------------------------------------------------------------

    def test_a_crash_after_the_provider_accepted_any_kind_loses_and_doubles_nothing(self):
        kinds = ("customer", "vendor", "product", "invoice", "credit_note", "bill",
                 "vendor_credit", "customer_payment", "vendor_payment", "journal_entry")
        for kind in kinds:
            with self.subTest(kind=kind):
                try:
                    self.crash_and_recover(kind)
                finally:
                    self.doCleanups()

    def crash_and_recover(self, kind):
        self.sandbox.reset()
        forget_pacers()
        self.books()
        with self.crashing_after(kind), self.assertRaises(Crash):
            self.cron()
        with environment() as env:
            self.assertEqual(self.runs(env).state, "running", "the dead worker's run")
        self.cron()  # its lease has not run out: nobody else syncs meanwhile
        with environment() as env:
            self.assertEqual(len(self.runs(env)), 1)
        self.expire_leases()
        self.cron()
        self.assertExactlyOnce()
        with environment() as env:
            run = self.runs(env)
            self.assertEqual(len(run), 1, "the same run, taken over")
            self.assertEqual(run.state, "done", run.outcome)

    def test_a_token_refreshed_by_another_transaction_mid_run(self):
        """The run gets a 401 mid-way and refreshes in a transaction of its own (which
        commits the connection's row), then meets a long 429 and reschedules itself: its
        own transaction never writes that row, so nothing is rolled back."""
        self.books()
        self.sandbox.add_fault(status=401, provider=self.code, path_contains=self.payment_path,
                               times=1)
        self.sandbox.add_fault(status=429, provider=self.code, retry_after=3600, times=None,
                               path_contains=self.payment_path)
        self.cron()
        with environment() as env:
            run = self.runs(env)
            self.assertEqual(run.state, "interrupted", run.outcome)
            connection = env["accounting.sync.connection"].browse(self.ids["connection"])
            self.assertGreater(connection.next_sync_at, env.cr.now() + timedelta(minutes=30))
            self.assertEqual(connection.state, "connected")
            self.assertTrue(env["accounting.sync.binding"].search_count([
                ("connection_id", "=", connection.id), ("state", "=", "synced"),
                ("remote_type", "=", "customer")]), "what was sent before is kept")
        self.assertEqual(len(self.sandbox.calls(provider=self.code,
                                                grant_type="refresh_token")), 1)
        self.sandbox.clear_faults()
        forget_pacers()  # the hour the 429 asked for has passed
        with environment() as env:
            env["accounting.sync.connection"].browse(self.ids["connection"]).next_sync_at = False
        self.cron()
        self.assertExactlyOnce()

    def test_a_throttling_and_failing_provider_in_one_run(self):
        """429s and 500s on a fifth of the calls: the run waits and sends the same requests
        again instead of ending, and no record's attempts are spent on them."""
        self.books()
        self.sandbox.add_fault(status=429, provider=self.code, rate=0.2, retry_after=1,
                               path_contains=self.api_path)
        self.sandbox.add_fault(status=503, provider=self.code, rate=0.1,
                               path_contains=self.api_path)
        for _call in range(20):  # the job is called again at once while its run is paused
            self.cron()
            with environment() as env:
                run = self.runs(env)
                self.assertEqual(len(run), 1, "one run: never ended and started again")
                self.assertIn(run.state, ("paused", "done"), run.outcome)
                if run.state == "done":
                    break
        self.sandbox.clear_faults()
        with environment() as env:
            run = self.runs(env)
            self.assertEqual((len(run), run.state), (1, "done"), run.outcome)
            self.assertFalse(env["accounting.sync.binding"].search_count([
                ("connection_id", "=", self.ids["connection"]), ("attempts", ">", 0)]))
        self.assertTrue([c for c in self.sandbox.calls(provider=self.code) if c["fault"]])
        self.assertExactlyOnce()

    def test_a_payment_made_remotely_comes_in_once_with_two_pull_workers(self):
        """Two workers run the pull job at once (a webhook's trigger and the schedule): the
        payment recorded remotely becomes one Odoo payment, reconciled."""
        self.books()
        self.cron()
        with environment() as env:
            invoice = env["account.move"].browse(self.ids["invoices"][2])
            self.assertEqual(invoice.payment_state, "not_paid")
            remote_id = env["accounting.sync.binding"].search([
                ("connection_id", "=", self.ids["connection"]),
                ("res_model", "=", "account.move"), ("res_id", "=", invoice.id)]).remote_id
        self.remote_payment(remote_id, 300.0)
        _results, errors = in_two_workers(
            lambda env: env["accounting.sync.connection"]._cron_pull())
        self.assertFalse(errors)
        with environment() as env:
            invoice = env["account.move"].browse(self.ids["invoices"][2])
            self.assertEqual(invoice.payment_state, "paid")
            payments = invoice._get_reconciled_payments()
            self.assertEqual(len(payments), 1)
            self.ids["payments"] += payments.ids
            made = env["accounting.sync.binding"].search([
                ("connection_id", "=", self.ids["connection"]), ("origin", "=", "remote")])
            self.assertEqual(made.mapped("res_id"), payments.ids)
        self.assertExactlyOnce()

    def test_a_killed_worker_process_loses_and_doubles_nothing(self):
        """A real Odoo process runs the job and is killed (SIGKILL) while the provider is
        writing the customer payments; the next worker takes the run over."""
        self.books()
        self.sandbox.add_fault(status=None, provider=self.code, path_contains=self.payment_path,
                               **self.kill_fault)
        process = subprocess.Popen(
            [sys.executable, "-m", "odoo", "shell", "-d", common.get_db_name(), "--no-http",
             "--addons-path=%s" % config["addons_path"], "--log-level=warn"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)), text=True)
        process.stdin.write("env['accounting.sync.connection']._cron_sync(%d)\n"
                            % self.ids["connection"])
        process.stdin.close()
        try:
            deadline = time.time() + 90
            while time.time() < deadline:
                with environment() as env:
                    env.cr.execute("SELECT 1 FROM accounting_sync_request WHERE "
                                   "connection_id = %s AND kind = 'customer_payment'",
                                   (self.ids["connection"],))
                    if env.cr.fetchone():
                        break
                time.sleep(0.2)
            else:
                self.fail("the worker never sent the payments")
            time.sleep(1)  # the payments request is at the provider, its answer pending
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        time.sleep(self.kill_fault["delay"] + 1)  # the provider finishes writing them
        self.sandbox.clear_faults()
        self.expire_leases()
        self.cron()
        self.assertExactlyOnce()


@tagged("post_install", "-at_install")
class TestExactlyOnceQuickBooksOnline(ExactlyOnce, common.BaseCase):
    provider, code, realm = "quickbooks_online", "qbo", QBO_REALM_1
    income, expense, bank = "Services", "Office Supplies", "Checking"
    resources = {"customer": "Customer", "vendor": "Vendor", "product": "Item",
                 "invoice": "Invoice", "credit_note": "CreditMemo", "bill": "Bill",
                 "vendor_credit": "VendorCredit", "customer_payment": "Payment",
                 "vendor_payment": "BillPayment", "journal_entry": "JournalEntry"}
    id_field, balance_field = "Id", "Balance"
    api_path = "/v3/company/"
    # The customer payments go in a /batch (as the invoices do before them: every batch is
    # slowed, and the worker is killed while the payments' one is at the provider).
    payment_path, kill_fault = "/batch", {"delay": 2, "times": None, "method": "POST"}

    def remote_payment(self, invoice_id, amount):
        [invoice] = [r for r in self.sandbox.records("qbo", "Invoice", self.realm)
                     if r["Id"] == invoice_id]
        bank = next(r for r in self.sandbox.records("qbo", "Account", self.realm)
                    if r["Name"] == self.bank)
        self.sandbox.act("qbo", "create", "Payment", self.realm, record={
            "CustomerRef": invoice["CustomerRef"], "TxnDate": "2026-04-20", "TotalAmt": amount,
            "DepositToAccountRef": {"value": bank["Id"]},
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id,
                                                       "TxnType": "Invoice"}]}]})


@tagged("post_install", "-at_install")
class TestExactlyOnceXero(ExactlyOnce, common.BaseCase):
    provider, code, realm = "xero", "xero", XERO_UK
    income, expense, bank = "Sales", "General Expenses", "Business Bank Account"
    resources = {"customer": "Contacts", "vendor": "Contacts", "product": "Items",
                 "invoice": "Invoices", "credit_note": "CreditNotes", "bill": "Invoices",
                 "vendor_credit": "CreditNotes", "customer_payment": "Payments",
                 "vendor_payment": "Payments", "journal_entry": "ManualJournals"}
    id_field, balance_field = "InvoiceID", "AmountDue"
    api_path = "/api.xro/"
    payment_path, kill_fault = "/Payments", {"delay": 4, "times": 1, "method": "PUT"}

    def remote_payment(self, invoice_id, amount):
        bank = next(r for r in self.sandbox.records("xero", "Accounts", self.realm)
                    if r["Name"] == self.bank)
        self.sandbox.act("xero", "create", "Payments", self.realm, record={
            "Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": bank["Code"]},
            "Date": "2026-04-20", "Amount": amount})

    def remote_count(self, binding):
        return len(binding.remote_id.split(","))  # one Xero payment per allocation

    def is_live(self, remote):
        return remote.get("Status") not in ("DELETED", "VOIDED")

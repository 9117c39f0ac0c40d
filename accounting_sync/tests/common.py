"""Shared set-up: a real provider sandbox on 127.0.0.1, app keys, users, connections."""
import os
import sys
import threading
from contextlib import contextmanager
from unittest.mock import patch
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

import odoo
from odoo import Command
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import HttpCase, JsonRpcException, common, new_test_user

from ..models.params import MAX_TRANSIENT_RETRIES
from ..providers import get_adapter
from ..providers.rate_limits import forget_pacers

try:
    from provider_sandbox import Sandbox
except ImportError:  # the sandbox lives next to the addon, at the repository's root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from provider_sandbox import Sandbox

QBO_REALM_1 = "9341453050000001"
QBO_REALM_2 = "9341453050000002"
XERO_UK = "11111111-1111-4111-8111-111111111111"
XERO_US = "22222222-2222-4222-8222-222222222222"

START = date(2026, 1, 1)

_SANDBOX = None


@contextmanager
def environment():
    """A new, really separate transaction (a worker's), committed at the end of the block
    and rolled back if it raises (a crash)."""
    with Registry(common.get_db_name()).cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def in_two_workers(work):
    """Run ``work(env)`` in two threads at once, each in its own transaction (committed);
    ``(results, errors)``."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with environment() as env:
                barrier.wait(timeout=10)
                results.append(work(env))
        except Exception as e:  # noqa: BLE001 - reported to the caller
            errors.append(e)

    threads = [threading.Thread(target=worker) for _i in range(2)]
    # The test runner holds the registry lock while tests run; worker threads need it to
    # build environments. Odoo's HTTP tests swap in the same dummy lock for their server
    # threads (Registry.enter_test_mode).
    with patch.object(Registry, "_lock", DummyRLock()):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return results, errors


def sandbox():
    """One sandbox per test process, started on first use."""
    global _SANDBOX  # noqa: PLW0603
    if _SANDBOX is None:
        _SANDBOX = Sandbox(host="127.0.0.1", port=0).start()
    return _SANDBOX


def create_master_data(cls):
    """What every sync test sends: a sale tax of ``cls.tax_rate``, a service with it, a
    customer and a vendor (``cls.tax``, ``cls.service``, ``cls.customer``, ``cls.vendor``)."""
    cls.tax = cls.env["account.tax"].create({
        "name": "Sales tax %s%%" % cls.tax_rate, "amount": cls.tax_rate,
        "type_tax_use": "sale", "company_id": cls.env.company.id})
    cls.service = cls.env["product.product"].create({
        "name": "Consulting", "type": "service", "list_price": 120.0,
        "default_code": "CONS", "taxes_id": [Command.set(cls.tax.ids)],
        "supplier_taxes_id": [Command.clear()]})
    cls.customer = cls.env["res.partner"].create({
        "name": "Azure Interior", "email": "azure@example.com", "is_company": True})
    cls.vendor = cls.env["res.partner"].create({
        "name": "Wood Corner", "email": "wood@example.com", "is_company": True})


def map_remote(case, connection, remote, account=None, tax=None):
    """Map ``account`` (or ``tax``) to the remote record of ``connection`` named ``remote``."""
    kind = "account" if account else "tax"
    remote_record = connection.remote_record_ids.filtered(
        lambda r: r.kind == kind and r.name == remote)
    case.assertEqual(len(remote_record), 1, "remote %s %r not found" % (kind, remote))
    case.env["accounting.sync.mapping"].create({
        "connection_id": connection.id, "kind": kind,
        "account_id": account.id if account else False, "tax_id": tax.id if tax else False,
        "remote_record_id": remote_record.id, "matched_by": "manual"})


def register_payment(case, moves, day=date(2026, 3, 5), amount=None):
    """Pay ``moves`` through Odoo's payment wizard, from the company's bank journal."""
    values = {"payment_date": day,
              "journal_id": case.company_data["default_journal_bank"].id}
    if amount:
        values["amount"] = amount
    return case.env["account.payment.register"].with_context(
        active_model="account.move", active_ids=moves.ids).create(values)._create_payments()


class RecordingServer:
    """A server on 127.0.0.1 that is not a provider: it records every request it gets (an
    attacker's host, or where a redirect points) and answers 200 with ``body``."""

    def __init__(self, body=b'{"ok": true}'):
        self.requests = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                recorder.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers),
                                          "body": self.rfile.read(length)})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%s" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class RpcMixin:
    """Calls over the server's real entry point, JSON-RPC (``/web/dataset/call_kw``), as a
    given user: what an attacker with that user's session can do."""

    def rpc(self, user, model, method, *args, context=None, **kwargs):
        self.authenticate(user.login, user.login)
        if context:
            kwargs["context"] = context
        return self.make_jsonrpc_request("/web/dataset/call_kw/%s/%s" % (model, method), {
            "model": model, "method": method, "args": list(args), "kwargs": kwargs})

    def assertRpcRefused(self, error, user, model, method, *args, **kwargs):
        """The call fails with ``error`` (e.g. "AccessError") in the JSON-RPC answer."""
        with self.assertRaises(JsonRpcException) as caught:
            self.rpc(user, model, method, *args, **kwargs)
        self.assertIn(error, str(caught.exception))
        return caught.exception

    def api_calls(self):
        """Every call the provider sandbox received (API, OAuth, identity)."""
        return len(self.sandbox.calls())


class AccountingSyncCase(RpcMixin, HttpCase):
    """HttpCase: the registry is in test mode, so the separate cursor that refreshes tokens
    shares the test transaction, and the OAuth callback runs over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = sandbox()
        ICP = cls.env["ir.config_parameter"].sudo()
        Apps = cls.env["accounting.sync.app.setting"]
        Apps._set("quickbooks_online", client_id="qbo-test-client",
                  client_secret="qbo-test-secret")
        Apps._set("xero", client_id="xero-test-client", client_secret="xero-test-secret")
        ICP.set_param("accounting_sync.local_url", cls.sandbox.url)
        # Export rights too: the token must be refused by export, not by a missing right.
        groups = ("base.group_user,base.group_allow_export,"
                  "accounting_sync.group_accounting_sync_admin")
        cls.admin_a = new_test_user(cls.env, "sync_admin_a", groups=groups, name="Ada Admin")
        cls.admin_b = new_test_user(cls.env, "sync_admin_b", groups=groups, name="Bert Admin")
        cls.sync_user = new_test_user(
            cls.env, "sync_user", name="Sam User",
            groups="base.group_user,base.group_allow_export,"
                   "accounting_sync.group_accounting_sync_user")

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    # -- helpers ---------------------------------------------------------------------------

    def create_connection(self, provider="quickbooks_online", **values):
        values = {"name": "Books (%s)" % provider, "provider": provider, **values}
        connection = self.env["accounting.sync.connection"].create(values)
        self.assertEqual(connection.environment, "local")
        self.assertEqual(connection.local_url, self.sandbox.url)
        return connection

    def approve(self, login, companies=None):
        """The next visit of a consent page approves at once as ``login``."""
        auto = {"login": login}
        if companies:
            auto["companies"] = companies
        self.sandbox.configure(auto_approve=auto)

    def connect(self, connection, user, login, companies=None):
        """Click Connect as ``user``, approve at the sandbox as ``login``, follow the
        redirect back to Odoo's callback. Return the final response of Odoo."""
        self.approve(login, companies)
        action = connection.with_user(user).action_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        consent = requests.get(action["url"], allow_redirects=False, timeout=10)
        self.assertEqual(consent.status_code, 302, consent.text[:300])
        callback = consent.headers["Location"]
        self.assertTrue(callback.startswith(self.base_url() + "/accounting_sync/oauth/callback"),
                        callback)
        self.authenticate(user.login, user.login)
        return self.url_open(callback)

    def callback_params(self, connection, user, login, companies=None):
        """Like connect(), but stop before Odoo's callback: return its query parameters."""
        self.approve(login, companies)
        action = connection.with_user(user).action_connect()
        consent = requests.get(action["url"], allow_redirects=False, timeout=10)
        query = parse_qs(urlsplit(consent.headers["Location"]).query)
        return {key: values[0] for key, values in query.items()}

    def open_callback(self, user, params):
        self.authenticate(user.login, user.login)
        return self.url_open("/accounting_sync/oauth/callback?"
                             + requests.compat.urlencode(params))

    def refresh_calls(self, provider):
        return self.sandbox.calls(provider=provider, grant_type="refresh_token")


class SyncCase(RpcMixin, AccountTestInvoicingCommon, HttpCase):
    """A company with a chart of accounts, a connection holding live sandbox tokens, and
    the accounts and taxes the documents use mapped to the remote company's."""

    provider = None
    remote_company = None
    tax_rate = None
    tax_remote = None          # remote tax the sale tax maps to
    no_tax_remote = None
    income_remote = None
    expense_remote = None
    bank_remote = None
    # sandbox resource names
    invoices = customers = bills = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()  # HttpCase: the token refresh's own cursor shares the test's
        cls.sandbox = sandbox()
        cls.env.user.groups_id |= cls.env.ref("accounting_sync.group_accounting_sync_admin")
        ICP = cls.env["ir.config_parameter"].sudo()
        cls.env["accounting.sync.app.setting"]._set(
            cls.provider, client_id="sync-test-client", client_secret="sync-test-secret")
        ICP.set_param("accounting_sync.local_url", cls.sandbox.url)
        # The sandbox's rate limits are off here (the adapters' tests cover pacing): pace as
        # if its "minute" lasted 60 ms rather than slow every test to the real limits.
        ICP.set_param("accounting_sync.local_time_scale", "1000")
        # A failing request is sent again within the run: quickly, here.
        ICP.set_param("accounting_sync.retry_backoff", "0.05")
        create_master_data(cls)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        forget_pacers()
        self.connection = self.connect()

    # -- set-up helpers --------------------------------------------------------------------

    def connect(self, access_scope="all_accounting", company_data=None, remote_company=None,
                tax=None, tax_remote=None, name="Books", mapped=True):
        """A connected connection of ``company_data``'s company (default: the test company)
        to ``remote_company``, with live sandbox tokens and the accounts and tax mapped."""
        company_data = company_data or self.company_data
        company = company_data["company"]
        remote_company = remote_company or self.remote_company
        adapter = get_adapter(self.provider, client_id="sync-test-client",
                              client_secret="sync-test-secret", environment="local",
                              base_url=self.sandbox.url)
        self.sandbox.configure(auto_approve={"login": "alice@example.com",
                                             "companies": [remote_company]})
        redirect = "http://127.0.0.1/cb"
        url, verifier = adapter.authorization_url(redirect, access_scope, "state")
        location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        code = parse_qs(urlsplit(location).query)["code"][0]
        tokens = adapter.exchange_code(code, redirect, code_verifier=verifier)
        connection = self.env["accounting.sync.connection"].with_company(company).create({
            "name": name, "provider": self.provider, "environment": "local",
            "local_url": self.sandbox.url, "access_scope": access_scope,
            "sync_start_date": START, "default_product_id": self.service.id,
            "company_id": company.id,
        })
        connection.sudo().write({
            "state": "connected", "remote_company_id": remote_company,
            "remote_company_name": "Sandbox company", "token_holder_id": self.env.uid,
            **connection._token_values(tokens)})
        connection._refresh_chart()
        if not mapped:
            return connection
        service = self.service.with_company(company)
        self.map(connection, account=service.property_account_income_id
                 or service.categ_id.property_account_income_categ_id,
                 remote=self.income_remote)
        self.map(connection, account=company_data["default_account_expense"],
                 remote=self.expense_remote)
        self.map(connection, account=company_data["default_journal_bank"].default_account_id,
                 remote=self.bank_remote)
        self.map(connection, tax=tax or self.tax, remote=tax_remote or self.tax_remote)
        return connection

    def map(self, connection, remote, account=None, tax=None):
        map_remote(self, connection, remote, account=account, tax=tax)

    def invoice(self, move_type="out_invoice", partner=None, day=date(2026, 3, 1),
                price=100.0, quantity=3, taxes=None, post=True, company_data=None):
        company_data = company_data or self.company_data
        move = self.env["account.move"].with_company(company_data["company"]).create({
            "move_type": move_type, "partner_id": (partner or self.customer).id,
            "invoice_date": day, "date": day,
            "invoice_line_ids": [Command.create({
                "product_id": self.service.id, "quantity": quantity, "price_unit": price,
                "tax_ids": [Command.set((self.tax if taxes is None else taxes).ids)],
                **({"account_id": company_data["default_account_expense"].id}
                   if move_type.startswith("in_") else {}),
            })],
        })
        if post:
            move.action_post()
        return move

    def pay(self, moves, day=date(2026, 3, 5), amount=None):
        return register_payment(self, moves, day=day, amount=amount)

    def sync(self):
        run = self.connection._sync(trigger="button")
        return run

    def sync_losing_the_answer(self):
        """Sync while the provider takes longer than our timeout to answer the next write
        and the run's own retries of it: it writes, we never hear it, the run is
        interrupted."""
        self.env["ir.config_parameter"].sudo().set_param("accounting_sync.timeout", 1)
        self.sandbox.add_fault(status=None, delay=2, provider=self.sandbox_provider,
                               path_contains=self.write_path, method=self.write_method,
                               times=MAX_TRANSIENT_RETRIES + 1)
        run = self.sync()
        self.assertEqual(run.state, "interrupted", run.outcome)
        return run

    def binding(self, record):
        return self.env["accounting.sync.binding"].search([
            ("connection_id", "=", self.connection.id), ("res_model", "=", record._name),
            ("res_id", "=", record.id)])

    def remote(self, resource, company=None, **where):
        records = self.sandbox.records(self.sandbox_provider, resource,
                                       company or self.remote_company)
        return [r for r in records if all(r.get(k) == v for k, v in where.items())]

    @property
    def sandbox_provider(self):
        return "qbo" if self.provider == "quickbooks_online" else "xero"


class QuickBooksOnlineSetup:
    """What the sync tests need to know of the sandbox's QuickBooks Online companies."""

    provider = "quickbooks_online"
    remote_company = QBO_REALM_1
    other_remote_company = QBO_REALM_2
    tax_rate = 8.25
    tax_remote = "TAX"
    other_tax_remote = "TAX"
    no_tax_remote = "NON"
    income_remote = "Services"
    expense_remote = "Office Supplies"
    bank_remote = "Checking"
    invoices, customers, bills = "Invoice", "Customer", "Bill"
    payments, payment_write = "Payment", ("/batch", "POST")
    id_field = "Id"
    # every write (a lone record goes as a plain POST, several as /batch)
    write_path, write_method = "/v3/company/", "POST"
    api_path, batch_call = "/v3/company/", ("POST", "batch")

    def seed_customer(self, name, email):
        self.sandbox.seed("qbo", "Customer", {
            "DisplayName": name, "PrimaryEmailAddr": {"Address": email}}, self.remote_company)

    def remote_total(self, remote):
        return float(remote["TotalAmt"])

    def remote_balance(self, remote):
        return float(remote["Balance"])

    def remote_is_void(self, remote):
        return float(remote["TotalAmt"]) == 0 and "Voided" in (remote.get("PrivateNote") or "")

    def remote_currency(self, remote):
        return remote["CurrencyRef"]["value"]

    def remote_rate(self, remote):
        """QBO: home currency per unit of the document's."""
        return float(remote["ExchangeRate"])


class XeroSetup:
    """What the sync tests need to know of the sandbox's Xero organisations."""

    provider = "xero"
    remote_company = XERO_UK
    other_remote_company = XERO_US
    other_tax_remote = "Tax on Sales"
    tax_rate = 20.0
    tax_remote = "20% (VAT on Income)"
    no_tax_remote = "No VAT"
    income_remote = "Sales"
    expense_remote = "General Expenses"
    bank_remote = "Business Bank Account"
    invoices, customers, bills = "Invoices", "Contacts", "Invoices"
    payments, payment_write = "Payments", ("/Payments", "PUT")
    id_field = "InvoiceID"
    write_path, write_method = "/Invoices", "PUT"
    api_path, batch_call = "/api.xro/", ("PUT", "Invoices")

    def seed_customer(self, name, email):
        self.sandbox.seed("xero", "Contacts", {"Name": name, "EmailAddress": email},
                          self.remote_company)

    def remote_total(self, remote):
        return float(remote["Total"])

    def remote_balance(self, remote):
        return float(remote["AmountDue"])

    def remote_is_void(self, remote):
        return remote["Status"] in ("VOIDED", "DELETED")

    def remote_currency(self, remote):
        return remote["CurrencyCode"]

    def remote_rate(self, remote):
        """Xero quotes document currency per unit of the base one: turn it round."""
        return 1 / float(remote["CurrencyRate"])

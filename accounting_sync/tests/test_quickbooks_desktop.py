"""QuickBooks Desktop through the Web Connector, end to end: the provider sandbox's
Web Connector client (built from Intuit's WSDL, every qbXML request validated against
qbxmlops130.xsd) calls this server's /accounting_sync/qbwc over real HTTP and answers from
its in-memory company file."""
import re
from datetime import date

from lxml import etree

from odoo import Command, fields
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.tests import HttpCase, tagged

from .common import (  # (common puts provider_sandbox on the path)
    START, RpcMixin, create_master_data, map_remote, register_payment,
)

from provider_sandbox.qbd import Clock, CompanyFile  # noqa: E402  pylint: disable=wrong-import-order
from provider_sandbox.qbwc import WebConnector  # noqa: E402  pylint: disable=wrong-import-order

NS = "http://developer.intuit.com/"
ENVELOPE = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope '
            'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>%s</soap:Body>'
            '</soap:Envelope>')


class QuickBooksDesktopCase(RpcMixin, AccountTestInvoicingCommon, HttpCase):
    country = "US"
    tax_rate = 8.25
    tax_remote = "Tax"
    income_remote, expense_remote, bank_remote = "Services", "Office Supplies", "Checking"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id |= cls.env.ref("accounting_sync.group_accounting_sync_admin")
        create_master_data(cls)

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        # QuickBooks' own clock (the pull reads by modification time)
        self.company_file = CompanyFile(country=self.country, company_name="Sandbox %s"
                                        % self.country, clock=Clock())
        self.connection = self.env["accounting.sync.connection"].create({
            "name": "Desktop books", "provider": "quickbooks_desktop",
            "qbwc_country": self.country, "sync_start_date": START,
            "default_product_id": self.service.id})
        self.password = self.new_password()

    # -- helpers -----------------------------------------------------------------------------

    def new_password(self, connection=None):
        action = (connection or self.connection).action_qbwc_generate_password()
        return re.search(r": (\S+) —", action["params"]["message"]).group(1)

    def web_connector(self, password=None, company_file=None, connection=None):
        return WebConnector((connection or self.connection)._qbwc_qwc(),
                            password or self.password, company_file or self.company_file,
                            validate=True, timeout=60)

    def qbwc_session(self, **kwargs):
        # The Web Connector calls this server's HTTP thread (the test's cursor): what the
        # test wrote is flushed first, and what the calls wrote is read afresh after.
        self.env.flush_all()
        report = self.web_connector(**kwargs).run_session()
        self.env.invalidate_all()
        self.assertFalse(report.invalid_requests, "every qbXML request validates against "
                                                  "qbxmlops130.xsd")
        return report

    def link(self):
        """The first session (the lists), then the chart mapped."""
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertTrue(self.connection.qbwc_linked_at)
        service = self.service
        self.map(self.income_remote, account=service.property_account_income_id
                 or service.categ_id.property_account_income_categ_id)
        self.map(self.expense_remote, account=self.company_data["default_account_expense"])
        self.map(self.bank_remote,
                 account=self.company_data["default_journal_bank"].default_account_id)
        self.map(self.tax_remote, tax=self.tax)
        return report

    def map(self, remote, account=None, tax=None):
        map_remote(self, self.connection, remote, account=account, tax=tax)

    def invoice(self, move_type="out_invoice", partner=None, price=100.0, quantity=3,
                day=date(2026, 3, 1)):
        purchase = move_type.startswith("in_")
        move = self.env["account.move"].create({
            "move_type": move_type, "partner_id": (partner or (
                self.vendor if purchase else self.customer)).id,
            "invoice_date": day, "date": day,
            "invoice_line_ids": [Command.create({
                "product_id": self.service.id, "quantity": quantity, "price_unit": price,
                "tax_ids": [Command.set([] if purchase else self.tax.ids)],
                **({"account_id": self.company_data["default_account_expense"].id}
                   if purchase else {}),
            })],
        })
        move.action_post()
        return move

    def pay(self, moves, day=date(2026, 3, 5), amount=None):
        return register_payment(self, moves, day=day, amount=amount)

    def binding(self, record):
        return self.env["accounting.sync.binding"].search([
            ("connection_id", "=", self.connection.id), ("res_model", "=", record._name),
            ("res_id", "=", record.id)])

    def remote(self, kind, **where):
        return [r for r in self.company_file.records(kind)
                if all(r.get(k) == v for k, v in where.items())]

    def soap(self, method, **args):
        """One raw SOAP call; (status, the result's text(s) or None)."""
        body = "<%s xmlns=\"%s\">%s</%s>" % (method, NS, "".join(
            "<%s>%s</%s>" % (k, v, k) for k, v in args.items()), method)
        self.env.flush_all()
        response = self.url_open("/accounting_sync/qbwc", data=(ENVELOPE % body).encode(),
                                 headers={"Content-Type": "text/xml; charset=utf-8",
                                          "SOAPAction": '"%s%s"' % (NS, method)})
        self.env.invalidate_all()
        root = etree.fromstring(response.content)
        result = root.find(".//{%s}%sResult" % (NS, method))
        if result is None:
            return response.status_code, None
        strings = result.findall("{%s}string" % NS)
        return response.status_code, [s.text or "" for s in strings] if strings else result.text


@tagged("post_install", "-at_install")
class TestQuickBooksDesktopSessions(QuickBooksDesktopCase):

    def test_qwc_file(self):
        """The .qwc names this connection's endpoint, user and GUIDs; only sync
        administrators download it, over the real route."""
        qwc = etree.fromstring(self.connection._qbwc_qwc().encode())
        self.assertEqual(qwc.findtext("AppURL"), self.base_url() + "/accounting_sync/qbwc")
        self.assertEqual(qwc.findtext("UserName"), self.connection.qbwc_username)
        self.assertEqual(qwc.findtext("OwnerID"), self.connection.qbwc_owner_id)
        self.assertEqual(qwc.findtext("FileID"), self.connection.qbwc_file_id)
        self.assertEqual(qwc.findtext("QBType"), "QBFS")
        self.assertEqual(qwc.findtext("IsReadOnly"), "false")
        self.assertEqual(qwc.findtext("Scheduler/RunEveryNMinutes"), "30")
        other = self.env["accounting.sync.connection"].create({
            "name": "Other", "provider": "quickbooks_desktop"})
        self.assertNotEqual(other.qbwc_username, self.connection.qbwc_username)
        self.assertNotEqual(other.qbwc_file_id, self.connection.qbwc_file_id)
        user = self.env["res.users"].create({
            "name": "Accountant", "login": "qbd_accountant", "password": "qbd_accountant",
            "groups_id": [Command.set([self.env.ref("account.group_account_manager").id,
                                       self.env.ref("accounting_sync.group_accounting_sync_user").id])]})
        self.authenticate(user.login, "qbd_accountant")
        response = self.url_open("/accounting_sync/qbwc/qwc/%s" % self.connection.id)
        self.assertEqual(response.status_code, 404, "a sync user is not an administrator")
        self.assertRpcRefused("AccessError", user, "accounting.sync.connection", "read",
                              self.connection.ids, ["qbwc_password_hash"])

    def test_password_is_hashed_and_shown_once(self):
        self.assertNotIn(self.password, self.connection.sudo().qbwc_password_hash)
        self.assertTrue(self.connection._qbwc_check_password(self.password))
        old = self.password
        self.password = self.new_password()
        self.assertEqual(self.soap("authenticate", strUserName=self.connection.qbwc_username,
                                   strPassword=old)[1], ["", "nvu"], "the old password is gone")

    def test_wrong_password_and_unknown_user_are_nvu(self):
        report = self.qbwc_session(password="not-the-password")
        self.assertEqual(report.status, "nvu")
        self.assertEqual(self.soap("authenticate", strUserName="nobody", strPassword="x")[1],
                         ["", "nvu"])
        self.assertFalse(self.env["accounting.sync.run"].search(
            [("connection_id", "=", self.connection.id)]))

    def test_first_link_reads_the_lists_then_nothing_to_do(self):
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        connection = self.connection
        self.assertEqual(connection.qbwc_company_file, self.company_file.file_path)
        self.assertEqual(connection.remote_company_id, self.company_file.file_path)
        self.assertEqual(connection.qbwc_qbxml_version, "13.0")
        self.assertEqual(connection.qbwc_country, "US")
        accounts = connection.remote_record_ids.filtered(lambda r: r.kind == "account")
        self.assertEqual(len(accounts), len(self.company_file.records("Account")))
        checking = accounts.filtered(lambda r: r.name == "Checking")
        self.assertEqual((checking.code, checking.group, checking.is_bank), ("1000", "bank", True))
        self.assertEqual(set(connection.remote_record_ids.filtered(
            lambda r: r.kind == "tax").mapped("name")), {"Tax", "Non"})
        self.assertTrue(connection.remote_tax_code, "the US sales tax item")
        self.assertIn("CustomerQueryRq", report.requests)
        run = self.env["accounting.sync.run"].search([("connection_id", "=", connection.id)])
        self.assertEqual(run.trigger, "web_connector")
        self.assertEqual(run.state, "done")
        again = self.qbwc_session()
        self.assertEqual(again.status, "none", "nothing queued")
        self.assertEqual(again.exchanges, 0)

    def test_push_every_document_type_once(self):
        self.link()
        invoice = self.invoice(price=100.0)
        second = self.invoice(price=10.0, quantity=1)
        credit = self.invoice("out_refund", price=20.0, quantity=1)
        bill = self.invoice("in_invoice", price=50.0, quantity=2)
        vendor_credit = self.invoice("in_refund", price=10.0, quantity=1)
        payment = self.pay(invoice, amount=100.0)
        bill_payment = self.pay(bill)
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        for record in (self.customer, self.vendor, self.service, invoice, second, credit, bill,
                       vendor_credit, payment, bill_payment):
            binding = self.binding(record)
            self.assertEqual(binding.state, "synced", "%s: %s" % (record.display_name,
                                                                  binding.last_error))
            self.assertTrue(binding.remote_id and binding.remote_version)
        [remote_invoice] = self.remote("Invoice", TxnID=self.binding(invoice).remote_id)
        self.assertAlmostEqual(float(remote_invoice["Subtotal"]), 300.0)
        self.assertAlmostEqual(float(remote_invoice["SalesTaxTotal"]), 24.75)
        self.assertAlmostEqual(float(remote_invoice["BalanceRemaining"]), 224.75,
                               msg="the payment of 100 applied")
        self.assertIn(invoice.name, remote_invoice.get("Memo", ""))
        self.assertEqual(len(self.remote("Customer", Name="Azure Interior")), 1)
        self.assertEqual(len(self.remote("CreditMemo")), 1)
        self.assertEqual(len(self.remote("Bill")), 1)
        self.assertEqual(len(self.remote("VendorCredit")), 1)
        self.assertEqual(len(self.remote("ReceivePayment")), 1)
        self.assertEqual(len(self.remote("BillPaymentCheck")), 1)
        self.assertGreaterEqual(max(report.record_counts), 2, "several requests a message")
        run = self.env["accounting.sync.run"].search(
            [("connection_id", "=", self.connection.id)], limit=1)
        self.assertEqual((run.trigger, run.state), ("web_connector", "done"), run.outcome)
        self.assertEqual((run.created, run.linked), (9, 1),
                         "the company file's own item Consulting is linked, not added")
        self.assertEqual(len(self.remote("Item", Name="Consulting")), 1)
        # nothing left: the next session has nothing to do, and nothing is sent twice
        self.assertEqual(self.qbwc_session().status, "none")
        self.assertEqual(len(self.remote("Invoice")), 2)

    def test_edit_is_a_mod_with_every_line_and_fresh_edit_sequence(self):
        self.link()
        invoice = self.invoice(price=100.0)
        self.qbwc_session()
        binding = self.binding(invoice)
        first_sequence = binding.remote_version
        # someone edits the invoice in QuickBooks meanwhile: our EditSequence is stale
        self.company_file.act_as_user("mod", "Invoice", id=binding.remote_id,
                                      changes={"Memo": "edited in QuickBooks"})
        invoice.button_draft()
        invoice.invoice_line_ids.price_unit = 110.0
        invoice.action_post()
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(report.requests.get("InvoiceModRq"), 2, "3200, re-read, sent once more")
        self.assertEqual(self.binding(invoice).state, "synced", self.binding(invoice).last_error)
        [remote_invoice] = self.remote("Invoice")
        self.assertAlmostEqual(float(remote_invoice["Subtotal"]), 330.0)
        self.assertNotEqual(self.binding(invoice).remote_version, first_sequence)

    def test_name_in_use_links_the_existing_customer(self):
        self.link()
        self.company_file.act_as_user("add", "Customer", record={"Name": "Azure Interior"})
        invoice = self.invoice()
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(len(self.remote("Customer", Name="Azure Interior")), 1, "no duplicate")
        self.assertEqual(self.binding(self.customer).state, "synced")
        self.assertEqual(self.binding(invoice).state, "synced")
        run = self.env["accounting.sync.run"].search(
            [("connection_id", "=", self.connection.id)], limit=1)
        self.assertEqual(run.linked, 2, "the customer, and the company file's item Consulting")

    def test_name_used_by_a_vendor_is_a_failed_item_naming_it(self):
        self.link()
        vendor = self.company_file.act_as_user("add", "Vendor", record={"Name": "Azure Interior"})
        invoice = self.invoice()
        self.qbwc_session()
        binding = self.binding(self.customer)
        self.assertEqual((binding.state, binding.attempts), ("failed", 1))
        self.assertIn("Azure Interior", binding.last_error)
        # renamed in QuickBooks: the next session sends it again (attempts left), then the
        # invoice that waited for it
        self.company_file.act_as_user("mod", "Vendor", id=vendor["ListID"],
                                      changes={"Name": "Azure Interior Supplies"})
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(self.binding(self.customer).state, "synced")
        self.assertEqual(self.binding(invoice).state, "synced", self.binding(invoice).last_error)

    def test_lost_answer_is_looked_up_not_added_twice(self):
        self.link()
        invoice = self.invoice()
        self.company_file.add_fault("lose_answer", match="InvoiceAddRq")
        report = self.qbwc_session()
        self.assertTrue(report.hresults, report.describe())
        self.assertEqual(len(self.remote("Invoice")), 1, "QuickBooks wrote it")
        self.assertNotEqual(self.binding(invoice).state, "synced")
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertIn("InvoiceQueryRq", report.requests, "looked up first")
        self.assertNotIn("InvoiceAddRq", report.requests)
        self.assertEqual(len(self.remote("Invoice")), 1, "never twice")
        binding = self.binding(invoice)
        self.assertEqual((binding.state, binding.remote_id),
                         ("synced", self.remote("Invoice")[0]["TxnID"]))

    def test_connection_error_loses_nothing(self):
        self.link()
        invoice = self.invoice()
        self.company_file.add_fault("connection_error")
        report = self.qbwc_session()
        self.assertTrue(report.connection_errors, report.describe())
        self.assertFalse(self.remote("Invoice"))
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(len(self.remote("Invoice")), 1)
        self.assertEqual(self.binding(invoice).state, "synced")

    def test_locked_record_is_sent_next_session_not_failed(self):
        self.link()
        invoice = self.invoice()
        self.company_file.add_fault("3175", match="InvoiceAddRq")
        self.qbwc_session()
        binding = self.binding(invoice)
        self.assertEqual(binding.state, "waiting", binding.last_error)
        self.assertEqual(binding.attempts, 0)
        self.assertFalse(self.remote("Invoice"))
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(self.binding(invoice).state, "synced")
        self.assertEqual(len(self.remote("Invoice")), 1)

    def test_busy_while_another_session_is_open(self):
        self.link()
        self.invoice()
        user = self.connection.qbwc_username
        _status, first = self.soap("authenticate", strUserName=user, strPassword=self.password)
        self.assertTrue(first[0])
        self.assertEqual(first[1], self.company_file.file_path)
        _status, second = self.soap("authenticate", strUserName=user, strPassword=self.password)
        self.assertEqual(second[:2], ["", "busy"])
        self.assertLessEqual(len(second), 4)
        self.assertEqual(self.soap("closeConnection", ticket=first[0])[0], 200)

    def test_other_company_file_is_refused(self):
        self.link()
        self.invoice()
        other = CompanyFile(country="US", company_name="Another client")
        report = self.qbwc_session(company_file=other)
        self.assertFalse(report.exchanges)
        self.assertIn(self.company_file.file_path, report.last_error or "")
        self.assertFalse(other.records("Invoice"))
        self.assertEqual(self.connection.qbwc_company_file, self.company_file.file_path)

    def test_stale_or_unknown_ticket_gets_the_expected_answers(self):
        ticket = "x" * 43
        self.assertEqual(self.soap("sendRequestXML", ticket=ticket, strHCPResponse="",
                                   strCompanyFileName="", qbXMLCountry="US",
                                   qbXMLMajorVers=13, qbXMLMinorVers=0), (200, None))
        self.assertEqual(self.soap("receiveResponseXML", ticket=ticket, response="",
                                   hresult="", message=""), (200, "-1"))
        status, text = self.soap("getLastError", ticket=ticket)
        self.assertEqual(status, 200)
        self.assertIn("expired", text)
        self.assertEqual(self.soap("connectionError", ticket=ticket, hresult="0x1",
                                   message="x"), (200, "done"))
        self.assertEqual(self.soap("clientVersion", strVersion="1.0.0.0")[1], "O:2.1.0.30")
        self.assertEqual(self.soap("clientVersion", strVersion="2.3.0.215")[1], None)

    def test_malformed_envelope_is_a_fault_not_a_500(self):
        for body in (b"  ", b"<not-xml", b"<a/>", (ENVELOPE % "<unknownMethod/>").encode(),
                     b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'):
            response = self.url_open("/accounting_sync/qbwc", data=body,
                                     headers={"Content-Type": "text/xml"})
            self.assertEqual(response.status_code, 400, body)
            self.assertIn(b"Fault", response.content)

    def test_one_time_mode_deauthorizes_after_the_queue_is_drained(self):
        self.connection.qbwc_mode = "one_time"
        self.link()
        self.assertEqual(self.connection.state, "disconnected", "linked, nothing queued")
        self.assertEqual(self.qbwc_session().status, "nvu")
        self.password = self.new_password()
        self.invoice()
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(len(self.remote("Invoice")), 1)
        self.assertEqual(self.connection.state, "disconnected")
        self.assertEqual(self.qbwc_session().status, "nvu")


    def test_contact_edit_is_a_mod_with_its_edit_sequence(self):
        self.link()
        self.invoice()
        self.qbwc_session()
        binding = self.binding(self.customer)
        sequence = binding.remote_version
        self.customer.email = "orders@azure.example.com"
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(report.requests.get("CustomerModRq"), 1)
        [remote] = self.remote("Customer", Name="Azure Interior")
        self.assertEqual(remote["Email"], "orders@azure.example.com")
        self.assertNotEqual(self.binding(self.customer).remote_version, sequence)

    def test_journal_entry(self):
        self.link()
        entry = self.env["account.move"].create({
            "move_type": "entry", "date": date(2026, 3, 2),
            "journal_id": self.company_data["default_journal_misc"].id,
            "line_ids": [
                Command.create({"account_id": self.company_data["default_account_expense"].id,
                                "debit": 42.5, "name": "Office supplies"}),
                Command.create({"account_id": self.company_data[
                    "default_journal_bank"].default_account_id.id, "credit": 42.5,
                    "name": "Paid from the bank"}),
            ]})
        entry.action_post()
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(self.binding(entry).state, "synced", self.binding(entry).last_error)
        [remote] = self.remote("JournalEntry")
        self.assertEqual(remote["TxnID"], self.binding(entry).remote_id)

    def test_cancelled_documents_are_voided_and_payments_deleted(self):
        self.link()
        invoice = self.invoice()
        payment = self.pay(invoice, amount=50.0)
        self.qbwc_session()
        self.assertEqual(len(self.remote("ReceivePayment")), 1)
        payment.action_draft()
        payment.action_cancel()
        invoice.button_draft()
        invoice.button_cancel()
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertIn("TxnDelRq", report.requests, "a payment is not voidable: deleted")
        self.assertIn("TxnVoidRq", report.requests)
        self.assertFalse(self.remote("ReceivePayment"))
        [remote] = self.remote("Invoice")
        self.assertAlmostEqual(float(remote["Subtotal"]), 0.0, msg="voided: amounts zero")
        for record in (invoice, payment):
            binding = self.binding(record)
            self.assertEqual((binding.state, binding.voided), ("synced", True),
                             binding.last_error)
        self.assertEqual(self.qbwc_session().status, "none")

    def test_missing_reference_requeues_the_dependency_first(self):
        """A customer deleted in QuickBooks (3140 on the next invoice): the customer is
        added again, then the invoice, in the same session; nothing fails."""
        self.link()
        first = self.invoice()
        self.qbwc_session()
        old_id = self.binding(self.customer).remote_id
        self.company_file.act_as_user("delete", "Invoice", id=self.binding(first).remote_id)
        self.company_file.act_as_user("delete", "Customer", id=old_id)
        second = self.invoice(price=7.0, quantity=1)
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        customer = self.binding(self.customer)
        self.assertEqual(customer.state, "synced", customer.last_error)
        self.assertNotEqual(customer.remote_id, old_id)
        self.assertEqual(self.binding(second).state, "synced", self.binding(second).last_error)
        [remote] = self.remote("Invoice")
        self.assertEqual(remote["CustomerRef"]["ListID"], customer.remote_id)

    def test_outside_the_sync_window_nothing_happens(self):
        self.link()
        self.invoice()
        connection = self.connection
        hour = fields.Datetime.context_timestamp(connection.with_context(
            tz=connection.token_holder_id.tz or "UTC"), fields.Datetime.now()).hour
        connection.write({"qbwc_window": True, "qbwc_window_start": (hour + 3) % 24,
                          "qbwc_window_end": (hour + 4) % 24})
        runs = self.env["accounting.sync.run"].search_count([])
        report = self.qbwc_session()
        self.assertEqual(report.status, "none")
        self.assertFalse(self.remote("Invoice"))
        self.assertEqual(self.env["accounting.sync.run"].search_count([]), runs)
        connection.write({"qbwc_window_start": hour, "qbwc_window_end": (hour + 2) % 24})
        self.assertTrue(self.qbwc_session().ok)
        self.assertEqual(len(self.remote("Invoice")), 1)

    def test_expired_ticket_is_refused_and_the_run_ends(self):
        self.link()
        self.invoice()
        _status, (ticket, _path) = self.soap("authenticate",
                                             strUserName=self.connection.qbwc_username,
                                             strPassword=self.password)
        session = self.env["accounting.sync.qbwc.session"].sudo().search(
            [("connection_id", "=", self.connection.id), ("state", "=", "open")])
        session.expires_at = "2020-01-01 00:00:00"
        self.assertEqual(self.soap("sendRequestXML", ticket=ticket, strHCPResponse="",
                                   strCompanyFileName=self.company_file.file_path,
                                   qbXMLCountry="US", qbXMLMajorVers=13,
                                   qbXMLMinorVers=0)[1], None)
        self.assertEqual((session.state, session.run_id.state), ("expired", "interrupted"))
        self.assertTrue(self.qbwc_session().ok, "a new session goes on")
        self.assertEqual(len(self.remote("Invoice")), 1)

    def test_odoo_never_calls_out(self):
        """Sync Now says the Web Connector does it; nothing tries to reach QuickBooks."""
        self.link()
        self.invoice()
        action = self.connection.action_sync_now()
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("Web Connector", action["params"]["message"])
        action = self.connection.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("connector calls in", action["params"]["message"])
        self.assertFalse(self.remote("Invoice"))

    def test_only_administrators_manage_the_web_connector(self):
        user = self.env["res.users"].create({
            "name": "Sync user", "login": "qbd_sync_user", "password": "qbd_sync_user",
            "groups_id": [Command.set([self.env.ref("account.group_account_manager").id,
                                       self.env.ref("accounting_sync.group_accounting_sync_user").id])]})
        for method in ("action_qbwc_generate_password", "action_qbwc_download_qwc",
                       "action_qbwc_link_again"):
            self.assertRpcRefused("AccessError", user, "accounting.sync.connection", method,
                                  self.connection.ids)
        self.assertRpcRefused("AccessError", user, "accounting.sync.qbwc.session",
                              "search_read", [], ["ticket_hash"])
        self.assertTrue(self.connection._qbwc_check_password(self.password), "unchanged")


@tagged("post_install", "-at_install")
class TestQuickBooksDesktopChanges(QuickBooksDesktopCase):
    """What is done in QuickBooks comes back in the Web Connector's sessions (after the
    pushes, every *Pull Changes Every* minutes): payments, voids, deletions."""

    def pull_session(self):
        self.company_file.clock.advance(2)  # past the +1 s of the watermark
        self.connection.last_pull_at = False  # due now
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        return report

    def test_payment_recorded_in_quickbooks_comes_back_once(self):
        self.link()
        invoice = self.invoice(price=100.0)  # 324.75 with tax
        self.qbwc_session()
        self.company_file.clock.advance(5)
        self.company_file.act_as_user("add", "ReceivePayment", record={
            "CustomerRef": {"ListID": self.binding(self.customer).remote_id},
            "TxnDate": "2026-03-10", "RefNumber": "CHK 881", "TotalAmount": "124.75",
            "DepositToAccountRef": {"FullName": "Checking"},
            "AppliedToTxnAdd": {"TxnID": self.binding(invoice).remote_id,
                                "PaymentAmount": "124.75"}})
        report = self.pull_session()
        self.assertIn("ReceivePaymentQueryRq", report.requests)
        self.assertIn("TxnDeletedQueryRq", report.requests)
        self.assertAlmostEqual(invoice.amount_residual, 200.0)
        payment = self.env["accounting.sync.binding"].search([
            ("connection_id", "=", self.connection.id), ("res_model", "=", "account.payment"),
            ("origin", "=", "remote")])
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.remote_id, self.remote("ReceivePayment")[0]["TxnID"])
        self.assertFalse(self.env["accounting.sync.change"].search([
            ("connection_id", "=", self.connection.id), ("state", "in", ("conflict", "failed"))]),
            "the invoice's new EditSequence (the payment) is no conflict")
        # read again: nothing new, never twice; and the payment is never pushed back
        report = self.pull_session()
        self.assertAlmostEqual(invoice.amount_residual, 200.0)
        self.assertNotIn("ReceivePaymentAddRq", report.requests)
        self.assertEqual(len(self.remote("ReceivePayment")), 1)

    def test_our_own_pushes_do_not_come_back(self):
        self.link()
        invoice = self.invoice()
        self.pay(invoice, amount=24.75)
        self.qbwc_session()
        payments = self.env["account.payment"].search_count([])
        self.pull_session()
        self.assertEqual(self.env["account.payment"].search_count([]), payments)
        self.assertFalse(self.env["accounting.sync.change"].search([
            ("connection_id", "=", self.connection.id),
            ("state", "in", ("new", "conflict", "failed"))]))

    def test_invoice_voided_in_quickbooks_is_an_activity(self):
        self.link()
        invoice = self.invoice()
        self.qbwc_session()
        self.company_file.clock.advance(5)
        self.company_file.act_as_user("void", "Invoice", id=self.binding(invoice).remote_id)
        self.pull_session()
        self.assertEqual(invoice.state, "posted", "policy: an activity, not a cancel")
        self.assertTrue(invoice.activity_ids, "the accountant is told")
        self.assertEqual(self.binding(invoice).remote_status, "voided")


@tagged("post_install", "-at_install")
class TestQuickBooksDesktopCanada(QuickBooksDesktopCase):
    country = "CA"
    tax_rate = 5.0
    tax_remote = "G"
    income_remote, expense_remote, bank_remote = "Services", "Office Supplies", "Checking"

    def test_canadian_file_links_and_takes_an_invoice_with_a_tax_code_per_line(self):
        self.link()
        self.assertEqual(self.connection.qbwc_country, "CA")
        invoice = self.invoice(price=100.0)
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        [remote_invoice] = self.remote("Invoice")
        self.assertEqual(self.binding(invoice).state, "synced")
        self.assertNotIn("ItemSalesTaxRef", remote_invoice)
        self.assertAlmostEqual(float(remote_invoice["Subtotal"]), 300.0)


@tagged("post_install", "-at_install")
class TestQuickBooksDesktopUnitedKingdom(QuickBooksDesktopCase):
    country = "UK"
    tax_rate = 20.0
    tax_remote = "S"
    income_remote, expense_remote, bank_remote = "Services", "Office Supplies", "Checking"

    def test_uk_file_links_and_takes_an_invoice_with_vat_per_line(self):
        self.link()
        self.assertEqual(self.connection.qbwc_country, "UK")
        invoice = self.invoice(price=100.0)
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        [remote_invoice] = self.remote("Invoice")
        self.assertEqual(self.binding(invoice).state, "synced")
        self.assertAlmostEqual(float(remote_invoice["Subtotal"]), 300.0)

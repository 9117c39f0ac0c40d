"""Reconciliation: Odoo's books against the remote company's, through the provider sandbox
(its report endpoints and documents over real HTTP), for QuickBooks Online and Xero."""
import io
from datetime import date

import openpyxl

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from .common import QuickBooksOnlineSetup, SyncCase, XeroSetup
from .test_quickbooks_desktop import QuickBooksDesktopCase

AS_OF = date(2026, 6, 30)


class ReconciliationCase:
    """The same tests for each provider (mixed into SyncCase with its setup)."""

    allow_inherited_tests_method = True
    # remote accounts the Odoo ledger accounts map to (per provider, below)
    receivable_remote = payable_remote = tax_liability_remote = None

    def setUp(self):
        super().setUp()
        # The sale tax posts to the company's tax account (not to the income line's)
        (self.tax.invoice_repartition_line_ids | self.tax.refund_repartition_line_ids).filtered(
            lambda r: r.repartition_type == "tax").account_id = \
            self.company_data["default_account_tax_sale"]
        self.add_remote_tax_account()
        self.connection._refresh_chart()
        self.map_ledger(self.connection)

    def map_ledger(self, connection):
        """Map what a clean sync's trial balance touches besides income, expense and bank:
        the receivable, payable and tax accounts, and the payments' outstanding accounts
        (the remote payment lands in the bank account)."""
        data = self.company_data
        self.map(connection, account=data["default_account_receivable"],
                 remote=self.receivable_remote)
        self.map(connection, account=data["default_account_payable"],
                 remote=self.payable_remote)
        tax_account = self.tax.invoice_repartition_line_ids.account_id
        self.map(connection, account=tax_account, remote=self.tax_liability_remote)
        bank = data["default_journal_bank"]
        outstanding = (bank.inbound_payment_method_line_ids.payment_account_id
                       | bank.outbound_payment_method_line_ids.payment_account_id)
        for account in outstanding - data["default_journal_bank"].default_account_id:
            self.map(connection, account=account, remote=self.bank_remote)

    def books(self, invoices=2):
        """A clean sync: invoices (the last one paid, when there are several), a credit note
        and a bill."""
        moves = self.env["account.move"]
        for n in range(invoices):
            moves |= self.invoice(price=100.0 + n, quantity=3)
        moves |= self.invoice("out_refund", price=50.0, quantity=1)
        moves |= self.invoice("in_invoice", partner=self.vendor, price=80.0, quantity=2,
                              taxes=self.env["account.tax"])
        if invoices > 1:
            self.pay(moves[invoices - 1])
        run = self.sync()
        self.assertEqual(run.state, "done", run.outcome)
        return moves

    def reconcile(self, **kwargs):
        rec = self.env["accounting.sync.reconciliation"]._reconcile(
            self.connection, as_of=kwargs.pop("as_of", AS_OF), **kwargs)
        self.assertIn(rec.state, ("done", "partial"), rec.message)
        return rec

    def differences(self, rec, level=None):
        lines = rec.line_ids.filtered(lambda l: l.difference_class and not l.ignored)
        return lines.filtered(lambda l: l.level == level) if level else lines

    def remote_of(self, move):
        return self.binding(move).remote_id

    def describe(self, rec):
        return "\n".join("%s %s %s: %s (%s)" % (
            l.level, l.name, l.difference_class, l.difference, l.message)
            for l in self.differences(rec))

    # -- a clean sync agrees ----------------------------------------------------------------

    def test_a_clean_sync_agrees(self):
        moves = self.books()
        rec = self.reconcile()
        self.assertEqual(rec.state, "done")
        self.assertEqual(rec.difference_count, 0, self.describe(rec))
        self.assertEqual(rec.documents_compared, len(moves))
        self.assertGreaterEqual(rec.accounts_compared, 4)
        self.assertGreaterEqual(rec.partners_compared, 2)
        self.assertEqual(rec.summary, "Agrees")
        # the totals and the accounts are all there, agreeing
        totals = rec.line_ids.filtered(lambda l: l.level == "total")
        receivable = totals.filtered(lambda l: l.key == "total:receivable")
        self.assertEqual(receivable.difference_class, False)
        open_ar = sum(m.amount_residual_signed for m in moves if m.move_type.startswith("out_"))
        self.assertAlmostEqual(receivable.odoo_amount, open_ar, places=2)
        self.assertAlmostEqual(receivable.remote_amount, open_ar, places=2)
        self.assertTrue(rec.line_ids.filtered(lambda l: l.level == "account"))
        # posted in the chatter; no activity when the books agree
        self.assertIn("Agrees", self.connection.message_ids[0].body)
        self.assertFalse(self.connection.activity_ids)
        self.assertEqual(self.connection.last_reconciliation_id, rec)
        self.assertEqual(self.connection.last_reconciliation_summary, "Agrees")

    # -- each class from its cause ------------------------------------------------------------

    def test_each_difference_has_its_class(self):
        moves = self.books(invoices=6)
        edited, voided, paid_remotely, rounded, deleted = moves[:5]
        self.edit_remote_amount(edited, 7.5)
        self.void_remotely(voided)
        self.pay_remotely(paid_remotely, 40.0)
        self.edit_remote_amount(rounded, 0.01)
        removed = self.delete_remotely(deleted)
        never = self.invoice(price=10.0, quantity=1)  # posted, never synced
        remote_only = self.create_remote_invoice(125.0)
        self.env["accounting.sync.mapping"].search([
            ("connection_id", "=", self.connection.id), ("tax_id", "=", False),
            ("account_id", "=", self.tax.invoice_repartition_line_ids.account_id.id)]).unlink()
        rec = self.reconcile()
        documents = {l.res_id or l.remote_id: l for l in self.differences(rec, "document")}
        said = self.describe(rec)
        self.assertEqual(documents[edited.id].difference_class, "amount_differs", said)
        self.assertAlmostEqual(documents[edited.id].difference, -7.5 * self.edit_factor,
                               places=2)
        self.assertIn("%.2f" % (7.5 * self.edit_factor), documents[edited.id].message)
        self.assertEqual(documents[voided.id].difference_class, "voided", said)
        self.assertEqual(documents[paid_remotely.id].difference_class, "open_balance_differs",
                         said)
        self.assertAlmostEqual(documents[paid_remotely.id].difference, 40.0, places=2)
        self.assertEqual(documents[rounded.id].difference_class, "rounding", said)
        self.assertAlmostEqual(documents[rounded.id].difference, -0.01, places=2)
        if removed:
            self.assertEqual(documents[deleted.id].difference_class, "missing_remote", said)
            self.assertIn("deleted", documents[deleted.id].message)
        self.assertEqual(documents[never.id].difference_class, "missing_remote", said)
        self.assertIn("Never sent", documents[never.id].message)
        self.assertEqual(documents[remote_only].difference_class, "missing_odoo", said)
        self.assertAlmostEqual(documents[remote_only].remote_amount, 125.0 * self.tax_factor,
                               places=2)
        # the customer's open balance and the receivables total differ too
        partner = self.differences(rec, "partner").filtered(
            lambda l: l.res_id == self.customer.id)
        self.assertEqual(partner.difference_class, "open_balance_differs", said)
        self.assertTrue(self.differences(rec, "total").filtered(
            lambda l: l.key == "total:receivable"), said)
        # the tax account no longer mapped: listed as such on both sides
        unmapped = self.differences(rec, "account").filtered(
            lambda l: l.difference_class == "unmapped_account")
        tax_account = self.tax.invoice_repartition_line_ids.account_id
        self.assertIn(tax_account.id, unmapped.mapped("res_id"), said)
        self.assertTrue(unmapped.filtered(lambda l: not l.res_id and l.remote_id), said)
        # an activity for the responsible, and the summary in the chatter
        activity = self.connection.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.connection.responsible_id)
        self.assertIn("%s differences" % rec.difference_count, self.connection.message_ids[0].body)
        # the lines' actions: the remote record, and the Odoo one
        self.assertTrue(documents[edited.id].remote_url)
        self.assertEqual(documents[edited.id].action_open_record()["res_id"], edited.id)

    def test_sync_again_sends_a_never_synced_document(self):
        self.books(invoices=1)
        never = self.invoice(price=10.0, quantity=1)
        rec = self.reconcile()
        line = self.differences(rec, "document").filtered(lambda l: l.res_id == never.id)
        self.assertEqual(line.difference_class, "missing_remote")
        line.action_sync_again()
        self.assertEqual(self.binding(never).state, "synced")
        rec = self.reconcile()
        self.assertFalse(self.differences(rec, "document"), self.describe(rec))

    # -- ignored lines stay ignored -------------------------------------------------------------

    def test_ignored_differences_stay_ignored_while_they_are_the_same(self):
        moves = self.books(invoices=1)
        self.edit_remote_amount(moves[0], 0.01)
        rec = self.reconcile()
        line = self.differences(rec, "document")
        self.assertEqual(line.difference_class, "rounding")
        wizard = self.env["accounting.sync.reconciliation.ignore"].with_context(
            **line.action_open_ignore_wizard()["context"]).create({"reason": "Agreed: rounding"})
        wizard.action_ignore()
        self.assertTrue(line.ignored)
        self.assertEqual(rec.difference_count, len(self.differences(rec)))
        again = self.reconcile()
        kept = again.line_ids.filtered(lambda l: l.key == line.key)
        self.assertTrue(kept.ignored)
        self.assertEqual(kept.ignore_reason, "Agreed: rounding")
        self.assertEqual(again.ignored_count, rec.ignored_count)
        # the same document differing by more is a new difference
        self.edit_remote_amount(moves[0], 5.0)
        third = self.reconcile()
        line3 = third.line_ids.filtered(lambda l: l.key == line.key)
        self.assertFalse(line3.ignored)
        self.assertEqual(line3.difference_class, "amount_differs")

    # -- the read budget ---------------------------------------------------------------------

    def test_the_read_budget_is_kept(self):
        self.books(invoices=2)
        self.connection.reconciliation_read_budget = 1
        before = self.api_calls()
        rec = self.reconcile()
        made = self.api_calls() - before
        self.assertEqual(rec.state, "partial")
        self.assertEqual(rec.reads_used, 1)
        self.assertLessEqual(made, 1 + self.calls_beside_reads)
        self.assertIn("the documents", rec.unread)
        self.assertFalse(self.differences(rec, "document"))  # nothing read: nothing compared
        self.assertIn("read budget", rec.summary)
        self.assertTrue(self.connection.activity_ids)
        self.connection.reconciliation_read_budget = 0  # no limit
        full = self.reconcile()
        self.assertEqual(full.state, "done")
        self.assertEqual(full.reads_used, self.reads_for_books)

    # -- export and schedule ------------------------------------------------------------------

    def test_the_xlsx_opens_with_a_sheet_per_level(self):
        moves = self.books(invoices=1)
        self.edit_remote_amount(moves[0], 2.0)
        rec = self.reconcile()
        user = new_test_user(self.env, "reconciler", groups="account.group_account_user,"
                             "accounting_sync.group_accounting_sync_user",
                             company_id=self.env.company.id)
        self.authenticate(user.login, user.login)
        response = self.url_open("/accounting_sync/reconciliation/%s/xlsx" % rec.id)
        self.assertEqual(response.status_code, 200)
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        self.assertEqual(book.sheetnames[0], "Summary")
        self.assertEqual(len(book.sheetnames), 5)
        documents = list(book.worksheets[1].iter_rows(values_only=True))
        self.assertEqual(documents[0][0], "What")
        self.assertEqual(documents[1][0], moves[0].name)
        self.assertAlmostEqual(documents[1][6], -2.0 * self.edit_factor, places=2)
        self.assertEqual(documents[1][7], "Amount differs")
        totals = list(book.worksheets[4].iter_rows(values_only=True))
        self.assertEqual(len(totals) - 1, len(rec.line_ids.filtered(lambda l: l.level == "total")))
        # the printable summary
        html = self.env["ir.actions.report"]._render_qweb_html(
            "accounting_sync.report_reconciliation", rec.ids)[0].decode()
        self.assertIn(rec.summary, html)
        self.assertIn(moves[0].name, html)
        # someone without Accounting Sync rights gets nothing
        outsider = new_test_user(self.env, "outsider", groups="account.group_account_user",
                                 company_id=self.env.company.id)
        self.authenticate(outsider.login, outsider.login)
        self.assertEqual(self.url_open(
            "/accounting_sync/reconciliation/%s/xlsx" % rec.id).status_code, 403)

    def test_reconcile_over_json_rpc_needs_sync_rights(self):
        self.books(invoices=1)
        outsider = new_test_user(self.env, "outsider2", groups="account.group_account_user",
                                 company_id=self.env.company.id)
        before = self.api_calls()
        self.assertRpcRefused("AccessError", outsider, "accounting.sync.connection",
                              "action_reconcile", [self.connection.id])
        self.assertEqual(self.api_calls(), before)
        user = new_test_user(self.env, "syncer", groups="account.group_account_user,"
                             "accounting_sync.group_accounting_sync_user",
                             company_id=self.env.company.id)
        action = self.rpc(user, "accounting.sync.connection", "action_reconcile",
                          [self.connection.id])
        rec = self.env["accounting.sync.reconciliation"].browse(action["res_id"])
        self.assertEqual(rec.user_id, user)
        self.assertEqual(rec.trigger, "button")
        self.assertEqual(rec.state, "done", rec.message)
        # lines are read-only to users: ignoring goes through the checked method only
        line = rec.line_ids[:1]
        self.assertRpcRefused("AccessError", user, "accounting.sync.reconciliation.line",
                              "write", [line.id], {"ignored": True})
        # without Accounting Sync rights: no line action, no ignore wizard, no export
        before = self.api_calls()
        for method in ("action_sync_again", "action_unignore", "action_open_ignore_wizard"):
            self.assertRpcRefused("AccessError", outsider,
                                  "accounting.sync.reconciliation.line", method, [line.id])
        self.assertRpcRefused("AccessError", outsider, "accounting.sync.reconciliation.ignore",
                              "create", {"reason": "x", "line_ids": [(6, 0, line.ids)]})
        self.assertRpcRefused("AccessError", outsider, "accounting.sync.reconciliation",
                              "action_export_xlsx", [rec.id])
        self.assertEqual(self.api_calls(), before, "nothing reached the provider")

    def test_the_schedule_reconciles_weekly(self):
        self.books(invoices=1)
        Connection = self.env["accounting.sync.connection"]
        self.connection.next_reconciliation_at = False
        self.env.flush_all()
        Connection._cron_reconcile(commit=False)  # the first time: scheduled, not run
        self.assertFalse(self.connection.reconciliation_ids)
        self.assertGreater(self.connection.next_reconciliation_at, self.connection.create_date)
        self.connection.next_reconciliation_at = "2026-01-01 00:00:00"
        self.env.flush_all()
        Connection._cron_reconcile(commit=False)
        rec = self.connection.reconciliation_ids
        self.assertEqual(len(rec), 1)
        self.assertEqual(rec.trigger, "schedule")
        self.assertAlmostEqual(
            (self.connection.next_reconciliation_at - rec.started_at).total_seconds() / 86400,
            7, places=2)


@tagged("post_install", "-at_install")
class TestReconciliationQuickBooksOnline(ReconciliationCase, QuickBooksOnlineSetup, SyncCase):
    receivable_remote = "Accounts Receivable (A/R)"
    payable_remote = "Accounts Payable (A/P)"
    tax_liability_remote = "Sales Tax Payable"
    tax_factor = 1.0825
    edit_factor = 1.0         # a line edited remotely keeps the tax total sent
    reads_for_books = 7       # trial balance, two agings, four document queries
    calls_beside_reads = 0

    def test_reconciliation_tour(self):
        """In a browser: the differences of a reconciliation, one ignored with a reason."""
        moves = self.books(invoices=1)
        self.edit_remote_amount(moves[0], 2.0)
        rec = self.reconcile()
        self.assertEqual(rec.difference_count, 5, self.describe(rec))
        new_test_user(self.env, "tour_accountant", password="tour_accountant",
                      groups="account.group_account_user,"
                             "accounting_sync.group_accounting_sync_user",
                      company_id=self.env.company.id)
        self.start_tour("/odoo/action-accounting_sync.accounting_sync_reconciliation_action/%s"
                        % rec.id, "accounting_sync_reconciliation_tour",
                        login="tour_accountant")
        line = rec.line_ids.filtered(lambda l: l.level == "document")
        self.assertTrue(line.ignored)
        self.assertEqual(line.ignore_reason, "Agreed with the accountant")
        self.assertEqual(line.ignored_by_id.login, "tour_accountant")
        self.assertEqual(rec.difference_count, 4)

    def add_remote_tax_account(self):
        """QBO makes its sales tax liability account when sales tax is set up."""
        self.sandbox.seed("qbo", "Account", {
            "Name": "Sales Tax Payable", "AccountType": "Other Current Liability",
            "AccountSubType": "SalesTaxPayable"}, self.remote_company)

    def edit_remote_amount(self, move, amount):
        remote = self.remote("Invoice", Id=self.remote_of(move))[0]
        lines = remote["Line"]
        first = next(l for l in lines if l.get("DetailType") == "SalesItemLineDetail")
        first["Amount"] = float(first["Amount"]) + amount
        detail = first["SalesItemLineDetail"]
        detail["UnitPrice"] = first["Amount"] / float(detail.get("Qty") or 1)
        tax = remote.get("TxnTaxDetail") or {}
        self.sandbox.act("qbo", "update", "Invoice", self.remote_company,
                         id=remote["Id"], changes={
                             "Line": lines, "TxnTaxDetail": {"TotalTax": tax.get("TotalTax")}})

    def void_remotely(self, move):
        self.sandbox.act("qbo", "void", "Invoice", self.remote_company,
                         id=self.remote_of(move))

    def delete_remotely(self, move):
        self.sandbox.act("qbo", "delete", "Invoice", self.remote_company,
                         id=self.remote_of(move))
        return True

    def pay_remotely(self, move, amount):
        customer = self.binding(self.customer).remote_id
        self.sandbox.act("qbo", "create", "Payment", self.remote_company, record={
            "CustomerRef": {"value": customer}, "TotalAmt": amount, "TxnDate": "2026-03-20",
            "Line": [{"Amount": amount, "LinkedTxn": [
                {"TxnId": self.remote_of(move), "TxnType": "Invoice"}]}]})

    def create_remote_invoice(self, amount):
        customer = self.binding(self.customer).remote_id
        item = self.binding(self.service).remote_id
        record = self.sandbox.act("qbo", "create", "Invoice", self.remote_company, record={
            "CustomerRef": {"value": customer}, "TxnDate": "2026-04-01",
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": amount,
                      "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 1,
                                              "UnitPrice": amount,
                                              "TaxCodeRef": {"value": "TAX"}}}],
            "TxnTaxDetail": {"TotalTax": round(amount * 0.0825, 2)}})
        return record["Id"]


@tagged("post_install", "-at_install")
class TestReconciliationXero(ReconciliationCase, XeroSetup, SyncCase):
    receivable_remote = "Accounts Receivable"
    payable_remote = "Accounts Payable"
    tax_liability_remote = "VAT"
    tax_factor = 1.2
    edit_factor = 1.2         # Xero computes the tax of an edited line again
    reads_for_books = 3       # trial balance, invoices, credit notes
    calls_beside_reads = 0

    def add_remote_tax_account(self):
        """Xero's tax account (its GST system account; the sandbox's chart leaves it out)."""
        self.sandbox.seed("xero", "Accounts", {
            "Code": "820", "Name": "VAT", "Type": "CURRLIAB", "SystemAccount": "GST"},
            self.remote_company)

    def edit_remote_amount(self, move, amount):
        remote = self.remote("Invoices", InvoiceID=self.remote_of(move))[0]
        lines = remote["LineItems"]
        first = lines[0]
        first["LineAmount"] = float(first["LineAmount"]) + amount
        first["UnitAmount"] = first["LineAmount"] / float(first.get("Quantity") or 1)
        first.pop("TaxAmount", None)
        for line in lines[1:]:
            line.pop("TaxAmount", None)
        self.sandbox.act("xero", "update", "Invoices", self.remote_company,
                         id=remote["InvoiceID"], changes={"LineItems": lines})

    def void_remotely(self, move):
        self.sandbox.act("xero", "void", "Invoices", self.remote_company,
                         id=self.remote_of(move))

    def delete_remotely(self, move):  # pylint: disable=unused-argument
        """Xero deletes only drafts: an approved invoice is voided there, never deleted."""
        return False

    def pay_remotely(self, move, amount):
        bank = self.remote("Accounts", Code="090")[0]
        self.sandbox.act("xero", "create", "Payments", self.remote_company, record={
            "Invoice": {"InvoiceID": self.remote_of(move)}, "Account": {"AccountID": bank["AccountID"]},
            "Amount": amount, "Date": "2026-03-20"})

    def create_remote_invoice(self, amount):
        contact = self.binding(self.customer).remote_id
        record = self.sandbox.act("xero", "create", "Invoices", self.remote_company, record={
            "Type": "ACCREC", "Contact": {"ContactID": contact}, "Date": "2026-04-01",
            "DueDate": "2026-05-01", "Status": "AUTHORISED", "LineAmountTypes": "Exclusive",
            "LineItems": [{"Description": "Remote work", "Quantity": 1, "UnitAmount": amount,
                           "AccountCode": "200", "TaxType": "OUTPUT2"}]})
        return record["InvoiceID"]


@tagged("post_install", "-at_install")
class TestReconciliationQuickBooksDesktop(QuickBooksDesktopCase):
    """QuickBooks Desktop: Reconcile asks, the Web Connector's next session reads the books
    (its trial balance report and document queries, one request an exchange)."""

    def setUp(self):
        super().setUp()
        (self.tax.invoice_repartition_line_ids | self.tax.refund_repartition_line_ids).filtered(
            lambda r: r.repartition_type == "tax").account_id = \
            self.company_data["default_account_tax_sale"]

    def link_ledger(self):
        self.link()
        data = self.company_data
        self.map("Accounts Receivable", account=data["default_account_receivable"])
        self.map("Accounts Payable", account=data["default_account_payable"])
        self.map("Sales Tax Payable", account=data["default_account_tax_sale"])
        bank = data["default_journal_bank"]
        for account in (bank.inbound_payment_method_line_ids.payment_account_id
                        | bank.outbound_payment_method_line_ids.payment_account_id) \
                - bank.default_account_id:
            self.map(self.bank_remote, account=account)

    def reconcile_in_a_session(self):
        self.connection.last_pull_at = fields.Datetime.now()  # no pull in this session
        action = self.connection.action_reconcile()
        rec = self.env["accounting.sync.reconciliation"].browse(action["res_id"])
        self.assertEqual(rec.state, "queued")
        self.assertEqual(rec.reads_used, 0, "nothing is read before the Web Connector calls")
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        return rec, report

    def describe(self, rec):
        return "\n".join("%s %s %s: %s (%s)" % (
            l.level, l.name, l.difference_class, l.difference, l.message)
            for l in rec.line_ids.filtered("difference_class"))

    def test_the_books_are_compared_in_the_next_session(self):
        self.link_ledger()
        invoice = self.invoice(price=100.0)
        second = self.invoice(price=10.0, quantity=1)
        bill = self.invoice("in_invoice", price=50.0, quantity=2)
        self.pay(invoice, amount=100.0)
        self.assertTrue(self.qbwc_session().ok)
        rec, report = self.reconcile_in_a_session()
        self.assertIn("GeneralSummaryReportQueryRq", report.requests)
        self.assertIn("InvoiceQueryRq", report.requests)
        self.assertIn("BillQueryRq", report.requests)
        self.assertEqual(rec.state, "done", rec.message)
        self.assertEqual(rec.difference_count, 0, self.describe(rec))
        self.assertEqual(rec.documents_compared, 3)
        # the trial balance, then one query per document kind
        self.assertEqual(rec.reads_used, 5)
        self.assertEqual(self.connection.last_reconciliation_id, rec)
        # one at a time: asking again while one waits gives the one waiting
        waiting = self.connection.action_reconcile()["res_id"]
        self.assertEqual(self.connection.action_reconcile()["res_id"], waiting)
        # a document voided in QuickBooks, one never sent, a payment recorded only there
        self.company_file.clock.advance(5)
        self.company_file.act_as_user("void", "Invoice", id=self.binding(second).remote_id)
        self.company_file.act_as_user("add", "BillPaymentCheck", record={
            "PayeeEntityRef": {"ListID": self.binding(self.vendor).remote_id},
            "TxnDate": "2026-03-10", "BankAccountRef": {"FullName": "Checking"},
            "AppliedToTxnAdd": {"TxnID": self.binding(bill).remote_id,
                                "PaymentAmount": "40.00"}})
        self.connection.last_pull_at = fields.Datetime.now()  # no pull in this session
        never = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_date": date(2026, 3, 2), "date": date(2026, 3, 2),
            "invoice_line_ids": [Command.create({"product_id": self.service.id,
                                                 "quantity": 1, "price_unit": 5.0})]})
        self.assertTrue(self.qbwc_session().ok)
        rec = self.env["accounting.sync.reconciliation"].browse(waiting)
        self.assertEqual(rec.state, "done", rec.message)
        classes = {l.res_id: l.difference_class for l in rec.line_ids
                   if l.level == "document" and l.difference_class}
        self.assertEqual(classes.get(second.id), "voided", self.describe(rec))
        self.assertEqual(classes.get(bill.id), "open_balance_differs", self.describe(rec))
        self.assertNotIn(never.id, classes, "a draft is not in the books")

    def test_the_read_budget_stops_the_reading(self):
        self.link_ledger()
        self.invoice(price=100.0)
        self.assertTrue(self.qbwc_session().ok)
        self.connection.reconciliation_read_budget = 2
        rec, report = self.reconcile_in_a_session()
        self.assertEqual(rec.state, "partial")
        self.assertEqual(rec.reads_used, 2)
        self.assertEqual(report.requests["GeneralSummaryReportQueryRq"], 1)
        self.assertEqual(report.requests["InvoiceQueryRq"], 1)
        self.assertNotIn("BillQueryRq", report.requests)
        self.assertIn("the documents", rec.unread)

    def test_a_reading_cut_short_is_read_again_next_session(self):
        self.link_ledger()
        self.invoice(price=100.0)
        self.assertTrue(self.qbwc_session().ok)
        self.connection.last_pull_at = fields.Datetime.now()
        rec = self.env["accounting.sync.reconciliation"].browse(
            self.connection.action_reconcile()["res_id"])
        self.company_file.add_fault("connection_error")
        report = self.qbwc_session()
        self.assertTrue(report.connection_errors, report.describe())
        self.assertIn(rec.state, ("queued", "running"))
        report = self.qbwc_session()
        self.assertTrue(report.ok, report.describe())
        self.assertEqual(rec.state, "done", rec.message)
        self.assertEqual(rec.difference_count, 0, self.describe(rec))
        self.assertEqual(rec.reads_used, 5, "read again from the start, counted once")

"""Two-way sync through the sandbox, as a remote user would make it happen: payments, voids,
edits made in QuickBooks Online or Xero come back into Odoo by the incremental pull (and by
webhooks, which make a pull), once each, oldest first; our own pushes never come back."""
import time
from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import QuickBooksOnlineSetup, SyncCase, XeroSetup

QBO_TOKEN = "qbo-verifier-token"
XERO_KEY = "xero-webhook-key"


class TwoWayTests:

    allow_inherited_tests_method = True

    # -- helpers ---------------------------------------------------------------------------

    def push(self, *moves):
        run = self.sync()
        self.assertEqual(run.state, "done", run.outcome)
        return [self.binding(move) for move in moves]

    def pull(self):
        run = self.env["accounting.sync.puller"]._pull(self.connection)
        self.assertTrue(run, "the pull ran")
        self.assertNotEqual(run.state, "failed", run.outcome)
        return run

    def changes(self, **where):
        return self.env["accounting.sync.change"].search(
            [("connection_id", "=", self.connection.id)]
            + [(k, "=", v) for k, v in where.items()], order="id")

    def bank_remote_id(self):
        return self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "account" and r.name == self.bank_remote).remote_id

    def bank_journal(self):
        return self.company_data["default_journal_bank"]

    def odoo_payments(self, move):
        return move._get_reconciled_payments()

    # -- payments --------------------------------------------------------------------------

    def test_payment_made_remotely_ends_reconciled_once(self):
        move = self.invoice(price=100.0, quantity=3)  # 300 + tax
        [binding] = self.push(move)
        self.assertFalse(self.pull().changes_applied and self.changes(
            binding_id=binding.id, state="conflict"), "our own push comes back as nothing")
        self.assertFalse(self.changes(state="conflict"))
        self.remote_payment([(binding, 100.0)], date(2026, 3, 10))
        run = self.pull()
        payments = self.odoo_payments(move)
        self.assertEqual(len(payments), 1, run.outcome)
        self.assertEqual(payments.amount, 100.0)
        self.assertEqual(payments.date, date(2026, 3, 10))
        self.assertEqual(payments.journal_id, self.bank_journal(),
                         "the journal of the mapped deposit account")
        self.assertIn(payments.state, ("in_process", "paid"), "posted")
        self.assertEqual(move.payment_state, "partial")
        self.assertAlmostEqual(move.amount_residual, move.amount_total - 100.0, places=2)
        self.assertGreaterEqual(run.changes_applied, 1)
        applied = self.changes(state="applied", res_model="account.payment")
        self.assertEqual(len(applied), 1)
        self.assertEqual(applied.res_id, payments.id)
        payment_binding = self.binding(payments)
        self.assertEqual((payment_binding.origin, payment_binding.state), ("remote", "synced"))
        # The same changes again (a pull that reads the window again, a replay) add nothing.
        self.pull()
        self.env["accounting.sync.puller"]._pull(self.connection, full=True)
        self.assertEqual(self.odoo_payments(move), payments)
        # The payment recorded remotely is never sent back.
        calls = self.sandbox.api_calls(self.sandbox_provider)
        run = self.sync()
        self.assertEqual((run.created, run.updated), (0, 0))
        self.assertEqual(len(self.remote(self.payments)), self.remote_payment_count(1))
        self.assertLessEqual(self.sandbox.api_calls(self.sandbox_provider) - calls, 1)

    def test_bill_paid_remotely_is_paid_in_odoo(self):
        bill = self.invoice(move_type="in_invoice", partner=self.vendor, price=45.0,
                            quantity=1, taxes=self.env["account.tax"])
        [binding] = self.push(bill)
        self.remote_bill_payment(binding, bill.amount_total, date(2026, 3, 18))
        self.pull()
        payment = self.odoo_payments(bill)
        self.assertEqual((len(payment), payment.payment_type, payment.amount),
                         (1, "outbound", 45.0), self.changes().mapped("message"))
        self.assertEqual(bill.payment_state, "paid")
        self.assertEqual(self.binding(payment).remote_type, "vendor_payment")

    def test_payment_over_two_invoices_pays_each_its_part(self):
        first, second = self.invoice(price=100.0, quantity=1), self.invoice(price=50.0,
                                                                           quantity=1)
        b1, b2 = self.push(first, second)
        self.remote_payment([(b1, 40.0), (b2, float(second.amount_total))], date(2026, 3, 12))
        self.pull()
        self.assertEqual(self.odoo_payments(first).mapped("amount"), [40.0])
        self.assertEqual(second.payment_state, "paid")
        self.assertEqual(first.payment_state, "partial")

    def test_foreign_currency_payment_made_remotely_is_in_the_invoice_currency(self):
        currency = self.setup_other_currency("EUR", rates=[("2026-01-01", 0.8)])
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_date": date(2026, 3, 1), "date": date(2026, 3, 1),
            "currency_id": currency.id, "invoice_line_ids": [Command.create({
                "product_id": self.service.id, "quantity": 2, "price_unit": 99.99,
                "tax_ids": [Command.set(self.tax.ids)]})]})
        move.action_post()
        [binding] = self.push(move)
        self.remote_payment([(binding, 50.0)], date(2026, 3, 8), currency="EUR")
        self.pull()
        payment = self.odoo_payments(move)
        self.assertEqual((len(payment), payment.currency_id, payment.amount),
                         (1, currency, 50.0), self.changes().mapped("message"))
        self.assertAlmostEqual(move.amount_residual, move.amount_total - 50.0, places=2)

    def test_out_of_order_webhooks_end_in_the_newest_state(self):
        self.use_webhooks()
        move = self.invoice(price=10.0, quantity=1)
        self.push(move)
        customer_binding = self.binding(self.customer)
        time.sleep(1.1)
        self.remote_edit_contact(customer_binding, "first@example.com")
        self.remote_edit_contact(customer_binding, "second@example.com")
        report = self.sandbox.deliver_webhooks(self.sandbox_provider,
                                               faults=["out_of_order", "duplicate"])
        self.assertEqual(set(report["statuses"]), {200}, report)
        self.env["accounting.sync.puller"]._pull(self.connection, trigger="webhook")
        self.assertEqual(self.customer.email, "second@example.com")
        self.pull()
        self.assertEqual(self.customer.email, "second@example.com")

    def test_payment_deleted_remotely_cancels_the_odoo_payment_it_made(self):
        move = self.invoice(price=80.0, quantity=1)
        [binding] = self.push(move)
        remote_ids = self.remote_payment([(binding, 20.0)], date(2026, 3, 11))
        self.pull()
        payment = self.odoo_payments(move)
        self.assertEqual(len(payment), 1)
        # A payment made in Odoo and sent is not the remote payment's to cancel.
        own = self.pay(move, amount=10.0)
        self.push()
        self.remote_delete_payment(remote_ids[0])
        self.pull()
        self.assertEqual(payment.state, "canceled")
        self.assertIn(own.state, ("in_process", "paid"))
        self.assertAlmostEqual(move.amount_residual, move.amount_total - 10.0, places=2)

    def test_a_payment_sent_from_odoo_never_comes_back_and_its_deletion_is_an_activity(self):
        first, second = self.invoice(price=10.0, quantity=1), self.invoice(price=20.0,
                                                                          quantity=1)
        self.push(first, second)
        payment = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=(first | second).ids).create({
                "payment_date": date(2026, 3, 5), "group_payment": True,
                "journal_id": self.bank_journal().id})._create_payments()
        self.assertEqual(len(payment), 1)
        self.push()
        binding = self.binding(payment)
        self.assertEqual(binding.state, "synced", binding.last_error)
        self.pull()
        self.assertFalse(self.changes(remote_type="customer_payment"),
                         "our own payment (one remote payment per document at Xero) is not "
                         "a change")
        self.remote_delete_payment(binding.remote_id.split(",")[0])
        self.pull()
        self.assertEqual(binding.remote_status, "deleted")
        self.assertTrue(payment.activity_ids, "the accountant decides")
        self.assertIn(payment.state, ("in_process", "paid"), "Odoo's own payment stays")

    def test_a_failing_change_holds_its_cursor_until_applied_again(self):
        move = self.invoice(price=60.0, quantity=1)
        [binding] = self.push(move)
        # The deposit account is not mapped and no default journal is set.
        self.connection.mapping_ids.filtered(
            lambda m: m.remote_record_id.remote_id == self.bank_remote_id()).unlink()
        self.remote_payment([(binding, move.amount_total)], date(2026, 3, 9))
        run = self.pull()
        self.assertEqual(run.state, "partial")
        [failed] = self.changes(state="failed")
        self.assertIn("Journal for Remote Payments", failed.message)
        cursor = self.connection.cursor_ids.filtered(
            lambda c: c.remote_type == failed.pull_type)
        self.assertLessEqual(cursor.position_at, failed.occurred_at,
                             "the cursor does not pass the change that failed")
        self.pull()  # read again: still the one row, still failed
        self.assertEqual(self.changes(state="failed"), failed)
        self.connection.payment_journal_id = self.bank_journal()
        failed.action_apply_again()
        self.assertEqual(failed.state, "applied", failed.message)
        self.assertEqual(move.payment_state, "paid")
        time.sleep(1.1)  # positions are in whole seconds
        self.pull()
        self.assertGreater(cursor.position_at, failed.occurred_at)

    # -- documents -------------------------------------------------------------------------

    def test_invoice_voided_remotely_gives_an_activity_or_cancels(self):
        kept, cancelled = self.invoice(price=10.0, quantity=1), self.invoice(price=20.0,
                                                                            quantity=1)
        b1, b2 = self.push(kept, cancelled)
        self.remote_void(b1)
        self.pull()
        self.assertEqual(kept.state, "posted")
        self.assertEqual(b1.remote_status, "voided")
        self.assertIn(self.connection._provider_label(), kept.activity_ids.summary or "")
        self.connection.remote_void_policy = "cancel"
        self.remote_void(b2)
        self.pull()
        self.assertEqual(cancelled.state, "cancel")
        self.assertTrue(cancelled.activity_ids)
        # Cancelled because the remote company voided it: nothing is voided back.
        self.assertEqual(b2.state, "synced")
        self.assertFalse(b2.voided)

    def test_invoice_voided_remotely_in_a_locked_period_is_reversed(self):
        move = self.invoice(price=15.0, quantity=1)
        [binding] = self.push(move)
        self.connection.remote_void_policy = "cancel"
        move.company_id.fiscalyear_lock_date = date(2026, 3, 31)
        self.remote_void(binding)
        self.pull()
        self.assertEqual(move.state, "posted")
        self.assertTrue(move.reversal_move_ids, self.changes().mapped("message"))
        self.assertEqual(move.reversal_move_ids.state, "posted")
        self.assertIn(move.payment_state, ("reversed", "paid"))
        self.assertIn("Reversed", self.changes(binding_id=binding.id, state="applied").message)

    def test_remote_edit_is_a_conflict_settled_either_way(self):
        first, second = self.invoice(price=10.0, quantity=1), self.invoice(price=30.0,
                                                                          quantity=1)
        b1, b2 = self.push(first, second)
        self.remote_edit_document(b1, due_date=date(2026, 5, 31))
        self.remote_edit_document(b2, date=date(2026, 3, 20))
        self.pull()
        c1 = self.changes(binding_id=b1.id, state="conflict")
        c2 = self.changes(binding_id=b2.id, state="conflict")
        self.assertEqual(len(c1), 1)
        self.assertEqual(len(c2), 1)
        self.assertIn("2026-05-31", c1.comparison)
        self.assertTrue(c1.can_accept)
        self.assertFalse(c2.can_accept, "Odoo does not let a posted invoice's date change")
        c1.action_accept_remote()
        self.assertEqual(first.invoice_date_due, date(2026, 5, 31))
        self.assertEqual(c1.state, "applied")
        c2.action_keep_odoo()
        self.assertEqual(b2.state, "pending")
        run = self.sync()
        self.assertEqual((run.state, run.updated), ("done", 1), run.outcome)
        [remote] = self.remote(self.invoices, **{self.id_field: b2.remote_id})
        self.assertEqual(self.remote_date(remote), "2026-03-01")
        # The re-sent version is ours: it does not come back as a change.
        self.pull()
        self.assertEqual(len(self.changes(binding_id=b2.id, state="conflict")), 0)

    # -- contacts --------------------------------------------------------------------------

    def test_contact_edited_remotely_follows_the_policy(self):
        move = self.invoice(price=10.0, quantity=1)
        self.push(move)
        customer_binding = self.binding(self.customer)
        self.remote_edit_contact(customer_binding, "new-azure@example.com")
        self.pull()
        self.assertEqual(self.customer.email, "new-azure@example.com", "newest wins: remote")
        self.assertIn("new-azure@example.com", self.customer.email)
        self.connection.master_data_policy = "odoo_wins"
        self.remote_edit_contact(customer_binding, "other@example.com")
        self.pull()
        self.assertEqual(self.customer.email, "new-azure@example.com")
        self.assertEqual(customer_binding.state, "pending", "Odoo's version is sent again")
        self.sync()
        [remote] = [r for r in self.remote(self.customers) if self.remote_contact_id(r)
                    == customer_binding.remote_id]
        self.assertEqual(self.remote_email(remote), "new-azure@example.com")

    # -- records made remotely ---------------------------------------------------------------

    def test_records_made_remotely_come_in_as_drafts_where_asked(self):
        self.remote_currency_active()
        self.push(self.invoice(price=10.0, quantity=1))  # the product exists remotely
        customer_id = self.remote_customer("Remote Buyer", "buyer@example.com")
        self.remote_sales_invoice(customer_id, 50.0, day=date(2026, 3, 15))
        self.pull()
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Remote Buyer")]),
                         "off by default")
        ignored = self.changes(state="ignored", remote_id=customer_id)
        self.assertIn("off for this connection", ignored.message)
        self.connection.write({"import_contacts": True, "import_sales": True})
        self.env["accounting.sync.change"].search([
            ("connection_id", "=", self.connection.id), ("state", "=", "ignored"),
            ("source", "=", "pull")]).action_apply_again()
        partner = self.env["res.partner"].search([("name", "=", "Remote Buyer")])
        self.assertEqual(len(partner), 1)
        self.assertEqual(partner.email, "buyer@example.com")
        move = self.env["account.move"].search([("partner_id", "=", partner.id)])
        self.assertEqual((len(move), move.state, move.move_type), (1, "draft", "out_invoice"),
                         self.changes().mapped(lambda c: (c.remote_type, c.state, c.message)))
        self.assertEqual(move.invoice_date, date(2026, 3, 15))
        self.assertEqual(move.amount_untaxed, 50.0)
        self.assertEqual(move.invoice_line_ids.tax_ids, self.tax, "through the tax mapping")
        binding = self.binding(move)
        self.assertEqual((binding.origin, binding.state), ("remote", "synced"))
        # Posted by the accountant: it is the remote company's, never sent back as new.
        move.action_post()
        invoices = len(self.remote(self.invoices))
        run = self.sync()
        self.assertEqual(run.created, 0)
        self.assertEqual(len(self.remote(self.invoices)), invoices)

    def test_bill_made_remotely_with_an_unmapped_account_fails_naming_it(self):
        self.remote_currency_active()
        self.connection.write({"import_contacts": True, "import_purchases": True})
        vendor_id = self.remote_vendor("Remote Supplier")
        self.remote_bill(vendor_id, 40.0, self.unmapped_expense)
        run = self.pull()
        [failed] = self.changes(state="failed")
        self.assertIn(self.unmapped_expense_id(), failed.message)
        self.assertIn("not mapped", failed.message)
        self.assertEqual(run.changes_failed, 1)
        self.assertFalse(self.env["account.move"].search([
            ("partner_id.name", "=", "Remote Supplier")]))

    # -- webhooks --------------------------------------------------------------------------

    def use_webhooks(self):
        """The app's webhook key set in Odoo, the sandbox delivering to Odoo's endpoint."""
        Setting = self.env["accounting.sync.app.setting"]
        secret = self.connection._capabilities().webhook_secret
        Setting._set(self.provider, **{secret: self.webhook_key})
        code = self.sandbox_provider
        self.sandbox.configure(**{
            "webhook_url_%s" % code: "%s/accounting_sync/webhook/%s" % (
                self.base_url(), self.provider),
            "webhook_key_%s" % code: self.webhook_key})
        self.env.flush_all()  # what the webhook request reads, on the test's cursor

    def test_webhooks_and_pull_apply_each_change_once(self):
        self.use_webhooks()
        code = self.sandbox_provider
        move = self.invoice(price=70.0, quantity=1)
        [binding] = self.push(move)
        self.env.flush_all()  # what the webhook request reads, on the test's cursor
        report = self.sandbox.deliver_webhooks(code)
        self.assertEqual(set(report["statuses"]), {200}, report)
        self.assertFalse(self.changes(source="webhook"), "our own pushes are not changes")
        # A remote change within a second of our own write to the same record is taken for
        # its echo (and read by the next scheduled pull): this one comes later.
        time.sleep(1.1)
        self.remote_payment([(binding, move.amount_total)], date(2026, 3, 14))
        report = self.sandbox.deliver_webhooks(code, faults=["duplicate"])
        self.assertEqual(set(report["statuses"]), {200}, report)
        notified = self.changes(source="webhook")
        self.assertTrue(notified)
        cron = self.env.ref("accounting_sync.ir_cron_pull")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]),
                        "the pull job is called at once")
        self.assertEqual(set(notified.mapped("state")), {"new"})
        run = self.env["accounting.sync.puller"]._pull(self.connection, trigger="webhook",
                                                       notified_only=True)
        self.assertEqual(run.trigger, "webhook")
        self.assertEqual(run.reads, self.reads_for_a_payment_event,
                         "only what the events name is read")
        self.assertEqual(set(notified.mapped("state")), {"applied"})
        self.pull()
        self.assertEqual(len(self.odoo_payments(move)), 1)
        self.assertEqual(move.payment_state, "paid")


@tagged("post_install", "-at_install")
class TestTwoWayQuickBooksOnline(TwoWayTests, QuickBooksOnlineSetup, SyncCase):
    webhook_key = QBO_TOKEN
    reads_for_a_payment_event = 1  # one Change Data Capture call covers every type

    def remote_currency_active(self):
        """The remote company's currency is the Odoo company's (USD)."""

    def test_legacy_webhooks_of_several_realms_signed_wrong_then_right(self):
        """The legacy payload, one delivery over two realms (only one connected here), first
        signed with a wrong key (refused: Intuit keeps it and delivers it again)."""
        self.use_webhooks()
        self.sandbox.configure(qbo_webhook_format="legacy")
        move = self.invoice(price=10.0, quantity=1)
        [binding] = self.push(move)
        time.sleep(1.1)
        self.remote_payment([(binding, move.amount_total)], date(2026, 3, 14))
        self.sandbox.act("qbo", "create", "Customer", self.other_remote_company,
                         record={"DisplayName": "Someone else's customer"})
        report = self.sandbox.deliver_webhooks("qbo", faults=["bad_signature", "multi_realm"])
        self.assertEqual(set(report["statuses"]), {401}, report)
        self.assertFalse(self.changes(source="webhook"))
        report = self.sandbox.deliver_webhooks("qbo", faults=["multi_realm"])
        self.assertEqual(set(report["statuses"]), {200}, report)
        self.assertFalse(report["pending"])
        notified = self.changes(source="webhook")
        self.assertEqual(set(notified.mapped("remote_type")), {"customer_payment", "invoice"},
                         "the other realm's customer was acknowledged, not recorded")
        self.env["accounting.sync.puller"]._pull(self.connection, trigger="webhook")
        self.assertEqual(move.payment_state, "paid")

    def remote_payment(self, allocations, day, currency=None):
        [invoice] = self.remote("Invoice", Id=allocations[0][0].remote_id)
        extra = {"CurrencyRef": {"value": currency}, "ExchangeRate": invoice.get(
            "ExchangeRate", 1)} if currency else {}
        record = self.sandbox.act("qbo", "create", "Payment", self.remote_company, record={
            **extra, "CustomerRef": invoice["CustomerRef"], "TxnDate": day.isoformat(),
            "TotalAmt": round(sum(amount for _b, amount in allocations), 2),
            "DepositToAccountRef": {"value": self.bank_remote_id()},
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": b.remote_id,
                                                       "TxnType": "Invoice"}]}
                     for b, amount in allocations]})
        return [record["Id"]]

    def remote_payment_count(self, count):
        return count

    def remote_bill_payment(self, binding, amount, day):
        [bill] = self.remote("Bill", Id=binding.remote_id)
        self.sandbox.act("qbo", "create", "BillPayment", self.remote_company, record={
            "VendorRef": bill["VendorRef"], "TxnDate": day.isoformat(), "TotalAmt": amount,
            "PayType": "Check", "CheckPayment": {"BankAccountRef": {
                "value": self.bank_remote_id()}},
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": binding.remote_id,
                                                       "TxnType": "Bill"}]}]})

    def remote_delete_payment(self, remote_id):
        self.sandbox.act("qbo", "delete", "Payment", self.remote_company, id=remote_id)

    def remote_void(self, binding):
        self.sandbox.act("qbo", "void", "Invoice", self.remote_company, id=binding.remote_id)

    def remote_edit_document(self, binding, due_date=None, date=None):  # noqa: A002
        changes = {}
        if due_date:
            changes["DueDate"] = due_date.isoformat()
        if date:
            changes["TxnDate"] = date.isoformat()
        self.sandbox.act("qbo", "update", "Invoice", self.remote_company,
                         id=binding.remote_id, changes=changes)

    def remote_date(self, remote):
        return remote["TxnDate"]

    def remote_edit_contact(self, binding, email):
        self.sandbox.act("qbo", "update", "Customer", self.remote_company,
                         id=binding.remote_id, changes={"PrimaryEmailAddr": {"Address": email}})

    def remote_contact_id(self, remote):
        return remote["Id"]

    unmapped_expense = "Cost of Goods Sold"

    def unmapped_expense_id(self):
        return self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "account" and r.name == self.unmapped_expense).remote_id

    def remote_customer(self, name, email):
        return self.sandbox.act("qbo", "create", "Customer", self.remote_company, record={
            "DisplayName": name, "PrimaryEmailAddr": {"Address": email}})["Id"]

    def remote_vendor(self, name):
        return self.sandbox.act("qbo", "create", "Vendor", self.remote_company, record={
            "DisplayName": name})["Id"]

    def remote_sales_invoice(self, customer_id, amount, day):
        item = self.binding(self.service).remote_id
        self.sandbox.act("qbo", "create", "Invoice", self.remote_company, record={
            "CustomerRef": {"value": customer_id}, "TxnDate": day.isoformat(),
            "Line": [{"Amount": amount, "DetailType": "SalesItemLineDetail",
                      "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 1,
                                              "UnitPrice": amount,
                                              "TaxCodeRef": {"value": "TAX"}}}]})

    def remote_bill(self, vendor_id, amount, account):
        account_id = self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "account" and r.name == account).remote_id
        self.sandbox.act("qbo", "create", "Bill", self.remote_company, record={
            "VendorRef": {"value": vendor_id}, "TxnDate": "2026-03-16",
            "Line": [{"Amount": amount, "DetailType": "AccountBasedExpenseLineDetail",
                      "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account_id}}}]})

    def remote_email(self, remote):
        return remote["PrimaryEmailAddr"]["Address"]


@tagged("post_install", "-at_install")
class TestTwoWayXero(TwoWayTests, XeroSetup, SyncCase):
    webhook_key = XERO_KEY
    reads_for_a_payment_event = 2  # the invoice event: Invoices, and Payments (no webhook)

    def remote_currency_active(self):
        """The UK organisation's documents are in GBP: active in Odoo, with a rate."""
        self.setup_other_currency("GBP", rates=[("2026-01-01", 0.8)])

    def test_intent_to_receive_passes(self):
        """Xero's own check of the endpoint: 200 with an empty body for its correctly signed
        calls, 401 for the others."""
        self.use_webhooks()
        report = self.sandbox.intent_to_receive()
        self.assertTrue(report["passed"], report)
        self.assertEqual({a["signed"]: a["status"] for a in report["attempts"]},
                         {"correctly": 200, "incorrectly": 401})
        self.assertFalse(self.changes(), "nothing recorded")

    def remote_payment(self, allocations, day, currency=None):
        code = self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "account" and r.name == self.bank_remote).remote_id
        payments = []
        for binding, amount in allocations:
            [invoice] = self.remote("Invoices", InvoiceID=binding.remote_id)
            extra = {"CurrencyRate": invoice.get("CurrencyRate")} if currency else {}
            payments.append(self.sandbox.act("xero", "create", "Payments", self.remote_company,
                                             record={
                "Invoice": {"InvoiceID": binding.remote_id}, "Account": {"Code": code},
                "Date": day.isoformat(), "Amount": amount, **extra})["PaymentID"])
        return payments

    def remote_payment_count(self, count):
        return count

    def remote_bill_payment(self, binding, amount, day):
        self.remote_payment([(binding, amount)], day)

    def remote_delete_payment(self, remote_id):
        self.sandbox.act("xero", "delete", "Payments", self.remote_company, id=remote_id)

    def remote_void(self, binding):
        self.sandbox.act("xero", "void", "Invoices", self.remote_company, id=binding.remote_id)

    def remote_edit_document(self, binding, due_date=None, date=None):  # noqa: A002
        changes = {}
        if due_date:
            changes["DueDate"] = due_date.isoformat()
        if date:
            changes["Date"] = date.isoformat()
        self.sandbox.act("xero", "update", "Invoices", self.remote_company,
                         id=binding.remote_id, changes=changes)

    def remote_date(self, remote):
        return (remote.get("DateString") or "")[:10]

    def remote_edit_contact(self, binding, email):
        self.sandbox.act("xero", "update", "Contacts", self.remote_company,
                         id=binding.remote_id, changes={"EmailAddress": email})

    def remote_contact_id(self, remote):
        return remote["ContactID"]

    unmapped_expense = "Cost of Goods Sold"

    def unmapped_expense_id(self):
        return self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "account" and r.name == self.unmapped_expense).remote_id

    def remote_customer(self, name, email):
        return self.sandbox.act("xero", "create", "Contacts", self.remote_company, record={
            "Name": name, "EmailAddress": email})["ContactID"]

    def remote_vendor(self, name):
        return self.remote_customer(name, None)

    def remote_sales_invoice(self, customer_id, amount, day):
        code = self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "account" and r.name == self.income_remote).remote_id
        tax = self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "tax" and r.name == self.tax_remote).remote_id
        self.sandbox.act("xero", "create", "Invoices", self.remote_company, record={
            "Type": "ACCREC", "Contact": {"ContactID": customer_id}, "Date": day.isoformat(),
            "DueDate": day.replace(day=28).isoformat(), "Status": "AUTHORISED",
            "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": amount,
                           "AccountCode": code, "TaxType": tax}]})

    def remote_bill(self, vendor_id, amount, account):
        code = self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "account" and r.name == account).remote_id
        self.sandbox.act("xero", "create", "Invoices", self.remote_company, record={
            "Type": "ACCPAY", "Contact": {"ContactID": vendor_id}, "Date": "2026-03-16",
            "DueDate": "2026-04-16", "Status": "AUTHORISED", "InvoiceNumber": "SUP-1",
            "LineItems": [{"Description": "Ads", "Quantity": 1, "UnitAmount": amount,
                           "AccountCode": code, "TaxType": "NONE"}]})

    def remote_email(self, remote):
        return remote.get("EmailAddress")

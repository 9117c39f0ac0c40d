"""Syncing Odoo's books to the sandbox's QuickBooks Online and Xero companies, end to end:
real Odoo documents, the real client libraries, real HTTP."""
import time
from datetime import date

import requests

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..models.params import MAX_TRANSIENT_RETRIES
from .common import START, QuickBooksOnlineSetup, SyncCase, XeroSetup


class SyncTests:
    """The tests, run for each provider by the classes below (Odoo collects inherited test
    methods only with ``allow_inherited_tests_method``)."""

    allow_inherited_tests_method = True

    def test_invoice_and_customer_synced_once_to_the_cent(self):
        move = self.invoice(price=33.33, quantity=3)
        run = self.sync()
        self.assertEqual(run.state, "done", run.outcome)
        binding = self.binding(move)
        self.assertEqual(binding.state, "synced", binding.last_error)
        self.assertTrue(binding.remote_id)
        self.assertEqual(self.binding(self.customer).state, "synced")
        [remote] = self.remote(self.invoices, **{self.id_field: binding.remote_id})
        self.assertEqual(self.remote_total(remote), move.amount_total)
        self.assertEqual(len(self.remote(self.customers)), 1)
        # A second run sends nothing new.
        run = self.sync()
        self.assertEqual((run.created, run.failed), (0, 0))
        self.assertEqual(len(self.remote(self.invoices)), 1)

    def test_sync_action_on_selected_records(self):
        move = self.invoice()
        other = self.invoice(price=5.0)
        action = move.action_accounting_sync()
        self.assertEqual(action["params"]["type"], "success", action)
        self.assertEqual(move.accounting_sync_state, "synced")
        self.assertEqual(self.binding(self.customer).state, "synced", "its customer first")
        self.assertNotEqual(self.binding(other).state, "synced", "only what was selected")
        self.assertEqual(self.binding(move).run_id.trigger, "records")
        bindings = self.env["accounting.sync.binding"].search(
            move.action_open_accounting_sync_bindings()["domain"])
        self.assertEqual(bindings, self.binding(move))

    def test_foreign_currency_invoice_carries_currency_and_rate(self):
        currency = self.setup_other_currency("EUR", rates=[("2026-01-01", 0.8)])
        move = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_date": date(2026, 3, 1), "date": date(2026, 3, 1),
            "currency_id": currency.id,
            "invoice_line_ids": [Command.create({
                "product_id": self.service.id, "quantity": 2, "price_unit": 99.99,
                "tax_ids": [Command.set(self.tax.ids)]})],
        })
        move.action_post()
        self.sync()
        binding = self.binding(move)
        self.assertEqual(binding.state, "synced", binding.last_error)
        [remote] = self.remote(self.invoices, **{self.id_field: binding.remote_id})
        self.assertEqual(self.remote_total(remote), move.amount_total)
        self.assertEqual(self.remote_currency(remote), "EUR")
        self.assertAlmostEqual(self.remote_rate(remote), 1 / 0.8, places=4)

    def test_start_date_cutoff(self):
        old = self.invoice(day=date(2025, 12, 31))
        new = self.invoice(day=START)
        self.sync()
        self.assertFalse(self.binding(old))
        self.assertEqual(self.binding(new).state, "synced")
        self.assertEqual(len(self.remote(self.invoices)), 1)

    def test_access_scope_customers_and_sales(self):
        self.connection.access_scope = "customers_sales"
        sale = self.invoice()
        bill = self.invoice("in_invoice", partner=self.vendor, taxes=self.env["account.tax"])
        self.sync()
        self.assertEqual(self.binding(sale).state, "synced")
        self.assertFalse(self.binding(bill))
        self.assertFalse(self.binding(self.vendor))

    def test_all_document_kinds(self):
        invoice = self.invoice()
        refund = self.invoice("out_refund", price=20.0, quantity=1)
        bill = self.invoice("in_invoice", partner=self.vendor, taxes=self.env["account.tax"])
        vendor_refund = self.invoice("in_refund", partner=self.vendor, price=10.0,
                                     quantity=1, taxes=self.env["account.tax"])
        customer_payment = self.pay(invoice)
        vendor_payment = self.pay(bill)
        expense = self.company_data["default_account_expense"]
        bank = self.company_data["default_journal_bank"].default_account_id
        entry = self.env["account.move"].create({
            "move_type": "entry", "date": date(2026, 3, 10),
            "journal_id": self.company_data["default_journal_misc"].id,
            "line_ids": [
                Command.create({"account_id": expense.id, "debit": 42.5, "name": "Fees"}),
                Command.create({"account_id": bank.id, "credit": 42.5, "name": "Fees"}),
            ]})
        entry.action_post()
        run = self.sync()
        for record in (invoice, refund, bill, vendor_refund, customer_payment, vendor_payment,
                       entry, self.customer, self.vendor, self.service):
            with self.subTest(record=record.display_name):
                binding = self.binding(record)
                self.assertEqual(binding.state, "synced", binding.last_error)
        self.assertEqual(run.failed, 0)
        [remote_invoice] = self.remote(self.invoices, **{self.id_field: self.binding(
            invoice).remote_id})
        self.assertEqual(self.remote_balance(remote_invoice), 0.0)

    def test_missing_mapping_fails_before_any_call_and_others_sync(self):
        other_tax = self.env["account.tax"].create({
            "name": "Unmapped tax", "amount": 3.0, "type_tax_use": "sale"})
        bad = self.invoice(taxes=other_tax)
        good = self.invoice()
        run = self.sync()
        self.assertEqual(self.binding(good).state, "synced")
        binding = self.binding(bad)
        self.assertEqual((binding.state, binding.error_kind), ("waiting", "mapping"),
                         "it waits for the mapping: not a failed item, not due")
        self.assertIn("Unmapped tax has no counterpart", binding.last_error)
        self.assertEqual((run.state, run.waiting, run.failed), ("partial", 1, 0))
        self.assertIn("Unmapped tax", run.outcome, "said once, in the run")
        self.assertEqual(self.connection.waiting_count, 1)
        self.assertEqual(len(self.remote(self.invoices)), 1, "only the good invoice was sent")
        mapping = self.connection.mapping_ids.filtered(lambda m: m.tax_id == other_tax)
        self.assertTrue(mapping.needed)
        exempt = self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "tax" and r.name == self.no_tax_remote)
        if self.connection._tax_total_on_document():
            # QBO keeps the document's tax total: allowed, with a word.
            mapping.remote_record_id = exempt
            self.assertIn("not taxable", mapping.warning)
            mapping.remote_record_id = False
        else:
            # Xero taxes line by line: a 3 % tax cannot go as an exempt one.
            with self.assertRaisesRegex(ValidationError, "would not be Odoo's"):
                mapping.remote_record_id = exempt
        # Another rate is allowed, with a warning: Odoo's amounts are sent.
        mapping.remote_record_id = self.connection.remote_record_ids.filtered(
            lambda r: r.kind == "tax" and r.name == self.tax_remote)
        self.assertIn("Rates differ", mapping.warning)
        binding.action_retry()
        self.assertEqual(binding.state, "synced", binding.last_error)
        [remote] = self.remote(self.invoices, **{self.id_field: binding.remote_id})
        self.assertEqual(self.remote_total(remote), bad.amount_total, "Odoo's amounts")

    def test_troubleshoot_report_collects_every_error(self):
        other_tax = self.env["account.tax"].create({
            "name": "Unmapped tax", "amount": 3.0, "type_tax_use": "sale"})
        bad = self.invoice(taxes=other_tax)
        self.sync()
        self.env["ir.config_parameter"].sudo().set_param("accounting_sync.support_email",
                                                          "support@example.com")
        action = self.connection.action_troubleshoot()
        self.assertIn("e-mailed to support@example.com", action["params"]["message"])
        attachment = self.env["ir.attachment"].browse(int(
            action["params"]["next"]["url"].split("/web/content/")[1].split("?")[0]))
        report = attachment.raw.decode()
        self.assertIn(bad.name, report)
        self.assertIn("Unmapped tax has no counterpart", report)
        self.assertIn(self.remote_company, report)
        mail = self.env["mail.mail"].sudo().search([("email_to", "=", "support@example.com")])
        self.assertIn(attachment, mail.attachment_ids)

    def test_existing_remote_customer_is_linked_not_duplicated(self):
        self.seed_customer("Azure Interior", "azure@example.com")
        self.invoice()
        self.sync()
        self.assertEqual(len(self.remote(self.customers)), 1)
        self.assertEqual(self.binding(self.customer).state, "synced")

    def test_name_clash_with_another_party_is_a_failed_item(self):
        self.seed_customer("Azure Interior", "someone-else@example.com")
        move = self.invoice()
        self.sync()
        binding = self.binding(self.customer)
        self.assertEqual(binding.state, "failed")
        self.assertIn("Azure Interior", binding.last_error)
        self.assertEqual(self.binding(move).state, "failed")
        self.assertIn("must be synced first", self.binding(move).last_error)

    def test_cancelled_invoice_is_voided(self):
        move = self.invoice()
        self.sync()
        move.button_draft()
        move.button_cancel()
        run = self.sync()
        self.assertEqual(run.voided, 1)
        binding = self.binding(move)
        self.assertTrue(binding.voided)
        [remote] = self.remote(self.invoices, **{self.id_field: binding.remote_id})
        self.assertTrue(self.remote_is_void(remote))

    def test_changed_and_reposted_invoice_updates_remote(self):
        move = self.invoice(price=100.0)
        self.sync()
        first_id = self.binding(move).remote_id
        move.button_draft()
        move.invoice_line_ids.price_unit = 150.0
        move.action_post()
        run = self.sync()
        self.assertEqual(run.failed, 0, run.failed_binding_ids.mapped("last_error"))
        binding = self.binding(move)
        live = [r for r in self.remote(self.invoices) if not self.remote_is_void(r)]
        self.assertEqual(len(live), 1)
        self.assertEqual(self.remote_total(live[0]), move.amount_total)
        self.assertEqual(binding.remote_id, live[0][self.id_field])
        self.assertTrue(first_id)

    def test_throttling_and_outages_lose_nothing(self):
        moves = self.env["account.move"]
        for i in range(6):
            moves |= self.invoice(price=10.0 + i)
        self.sandbox.add_fault(status=429, provider=self.sandbox_provider, rate=0.2,
                               retry_after=1, path_contains="/company/" if
                               self.sandbox_provider == "qbo" else "api.xro")
        self.sandbox.add_fault(status=500, provider=self.sandbox_provider, times=2,
                               path_contains="/company/" if self.sandbox_provider == "qbo"
                               else "api.xro")
        run = self.sync()
        self.assertEqual(run.state, "done", "one run waits and goes on: %s" % run.outcome)
        self.assertTrue([c for c in self.sandbox.calls() if c["fault"]])
        self.sandbox.clear_faults()
        for move in moves:
            self.assertEqual(self.binding(move).state, "synced")
            self.assertEqual(self.binding(move).attempts, 0, "outages are not attempts")
        self.assertEqual(len(self.remote(self.invoices)), 6, "nothing duplicated")

    def test_timeout_after_remote_create_does_not_duplicate(self):
        """The provider creates the invoice but the answer never reaches us: the next run
        sends the same idempotency key and gets the first result back."""
        move = self.invoice()
        self.sync()  # the customer and the product
        move2 = self.invoice(price=55.0)
        self.sync_losing_the_answer()
        self.assertEqual(self.binding(move2).state, "pending")
        time.sleep(2)  # the provider finishes creating it meanwhile
        self.assertEqual(len(self.remote(self.invoices)), 2)
        self.sync()
        self.assertEqual(self.binding(move2).state, "synced", self.binding(move2).last_error)
        self.assertEqual(len(self.remote(self.invoices)), 2)
        self.assertTrue(move)

    def test_unanswered_send_is_looked_up_before_sending_again(self):
        """The provider creates a bill but its answer is lost; by the next run another bill
        joins the batch (another request, so idempotency keys cannot help): the first bill
        is found in the remote company and linked, not created twice."""
        first = self.invoice("in_invoice", partner=self.vendor, taxes=self.env["account.tax"])
        self.sync()  # the vendor and the product
        lost = self.invoice("in_invoice", partner=self.vendor, price=55.0,
                            taxes=self.env["account.tax"])
        Request = self.env["accounting.sync.request"].sudo()
        self.sync_losing_the_answer()
        self.assertEqual(Request._in_flight(self.connection, "account.move",
                                            (first | lost).ids), {lost.id},
                         "the unanswered send is on record")
        time.sleep(2)  # the provider finishes creating it meanwhile
        self.assertEqual(len(self.remote(self.bills)), 2)
        later = self.invoice("in_invoice", partner=self.vendor, price=77.0,
                             taxes=self.env["account.tax"])
        run = self.sync()
        self.assertEqual(run.failed, 0, run.failed_binding_ids.mapped("last_error"))
        for move in (first, lost, later):
            self.assertEqual(self.binding(move).state, "synced", self.binding(move).last_error)
        self.assertEqual(len(self.remote(self.bills)), 3, "the lost bill was not resent")
        self.assertFalse(Request._in_flight(self.connection, "account.move",
                                            (first | lost | later).ids), "every send answered")

    def test_payments_once_after_lost_answers_and_a_reshaped_batch(self):
        """The provider writes the payments (two full, one partial) but every answer is lost;
        by the next run one of them changed and another payment joined, so the batch cannot
        be sent again as it was: the written ones are found (our number, party, date,
        amounts, invoices) and linked, the new one created, none twice."""
        invoices = self.invoice(price=100.0) | self.invoice(price=200.0) | \
            self.invoice(price=300.0) | self.invoice(price=400.0)
        self.sync()
        payments = self.pay(invoices[0]) | self.pay(invoices[1]) | self.pay(
            invoices[2], amount=50.0)
        path, method = self.payment_write
        self.sandbox.add_fault(status=504, lose_answer=True, provider=self.sandbox_provider,
                               path_contains=path, method=method,
                               times=MAX_TRANSIENT_RETRIES + 1)
        run = self.sync()
        self.assertEqual(run.state, "interrupted", run.outcome)
        self.assertEqual(len(self.remote(self.payments)), 3, "written, answers lost")
        for payment in payments:
            self.assertEqual(self.binding(payment).state, "pending", "never failed")
        payments[0].memo = "Checked by the bank"
        payments |= self.pay(invoices[3], amount=80.0)
        run = self.sync()
        self.assertEqual((run.state, run.failed), ("done", 0),
                         run.failed_binding_ids.mapped("last_error"))
        self.assertEqual(len(self.remote(self.payments)), 4, "each payment once")
        for payment in payments:
            self.assertEqual(self.binding(payment).state, "synced")
        for invoice in invoices:
            [remote] = self.remote(self.invoices, **{self.id_field: self.binding(
                invoice).remote_id})
            self.assertAlmostEqual(self.remote_balance(remote), invoice.amount_residual,
                                   places=2, msg=invoice.name)

    def test_a_lost_payment_answer_is_sent_again_under_the_same_keys(self):
        """Nothing changed by the next run: the same payments go again in the same batch,
        and the provider answers the repeated keys with what it did the first time."""
        invoices = self.invoice(price=100.0) | self.invoice(price=200.0)
        self.sync()
        payments = self.pay(invoices[0]) | self.pay(invoices[1], amount=20.0)
        path, method = self.payment_write

        def keys():
            return [c["idempotency_key"] for c in self.sandbox.calls(
                path_contains=path, method=method)]
        before = len(keys())
        self.sandbox.add_fault(status=502, lose_answer=True, provider=self.sandbox_provider,
                               path_contains=path, method=method,
                               times=MAX_TRANSIENT_RETRIES + 1)
        self.sync()
        lost = keys()[before:]
        self.assertEqual(len(lost), MAX_TRANSIENT_RETRIES + 1)
        self.assertEqual(len(set(lost)), 1, "the run's own retries repeat its key")
        run = self.sync()
        self.assertEqual(run.failed, 0, run.failed_binding_ids.mapped("last_error"))
        self.assertEqual(set(keys()[before + len(lost):]), set(lost),
                         "the next run: the same request, the same key")
        self.assertEqual(len(self.remote(self.payments)), 2)
        self.assertTrue(all(self.binding(p).state == "synced" for p in payments))

    def test_documents_never_sent_are_created_without_a_lookup(self):
        self.invoice()
        self.sync()  # the customer and the product (always looked up), and one invoice
        before = len(self.sandbox.calls(provider=self.sandbox_provider))
        moves = self.invoice(price=10.0) | self.invoice(price=20.0) | self.invoice(price=30.0)
        run = self.sync()
        self.assertEqual(run.created, 3)
        calls = self.sandbox.calls(provider=self.sandbox_provider)[before:]
        api_calls = [c for c in calls if self.api_path in c["path"]]
        self.assertEqual([(c["method"], c["path"].rsplit("/", 1)[-1]) for c in api_calls],
                         [self.batch_call], "one write request, no look-up")
        self.assertTrue(all(self.binding(m).state == "synced" for m in moves))

    def test_forgotten_link_is_found_again_not_duplicated(self):
        """Reset Record Sync State (forget) on a record whose remote copy still exists: the
        provider refuses its number again, and the existing document is linked."""
        move = self.invoice()
        self.sync()
        remote_id = self.binding(move).remote_id
        self.env["accounting.sync.reset.wizard"].with_context(
            active_model="accounting.sync.binding", active_ids=self.binding(move).ids).create(
                {"policy": "forget", "confirmed": True}).action_reset()
        self.assertEqual((self.binding(move).state, self.binding(move).remote_id),
                         ("pending", False), "forgotten, and due to be sent anew")
        run = self.sync()
        self.assertEqual(run.failed, 0, run.failed_binding_ids.mapped("last_error"))
        self.assertEqual(self.binding(move).remote_id, remote_id)
        self.assertEqual(len(self.remote(self.invoices)), 1)

    def test_a_run_pauses_after_its_time_share_and_resumes(self):
        moves = self.invoice() | self.invoice(price=10.0)
        run = self.env["accounting.sync.run"].sudo().create({
            "connection_id": self.connection.id, "trigger": "schedule"})
        Engine = self.env["accounting.sync.engine"]
        Engine._execute(run, budget=0)
        self.assertEqual(run.state, "paused")
        self.assertGreater(run.remaining, 0)
        self.assertIn("continues", run.outcome)
        self.assertFalse(self.binding(moves[0]).remote_id, "nothing sent yet")
        resumed = self.env["accounting.sync.run"].sudo()._resume_or_create(
            self.connection, "schedule", self.env.user)
        self.assertEqual(resumed, run, "the paused run is resumed, not a new one")
        self.assertEqual((run.state, run.remaining), ("running", 0))
        Engine._execute(run)
        self.assertEqual(run.state, "done", run.outcome)
        self.assertEqual(run.created, 4, "customer, product and both invoices")
        self.assertTrue(all(self.binding(m).state == "synced" for m in moves))

    def test_a_bad_number_in_the_system_parameters_falls_back_to_the_default(self):
        move = self.invoice()
        self.env["ir.config_parameter"].sudo().set_param("accounting_sync.timeout", "soon")
        with self.assertLogs("odoo.addons.accounting_sync.models.params",
                             "WARNING") as logs:
            run = self.sync()
        self.assertIn("accounting_sync.timeout='soon'", logs.output[0])
        self.assertEqual(run.state, "done", run.outcome)
        self.assertEqual(self.binding(move).state, "synced")

    def test_open_remote_shows_the_record_in_the_local_sandbox(self):
        move = self.invoice()
        self.sync()
        binding = self.binding(move)
        action = binding.action_open_remote()
        response = requests.get(action["url"], timeout=10)
        self.assertEqual(response.status_code, 200, action["url"])
        self.assertIn(binding.remote_id, response.text)
        self.assertIn(move.name, response.text)

    def test_reset_record_sync_state(self):
        move = self.invoice()
        self.sync()
        binding = self.binding(move)
        wizard = self.env["accounting.sync.reset.wizard"].with_context(
            active_model="accounting.sync.binding", active_ids=binding.ids).create(
                {"policy": "void", "confirmed": True})
        self.assertEqual(wizard.count, 1)
        wizard.action_reset()
        self.assertEqual((binding.state, binding.remote_id), ("pending", False))
        [remote] = self.remote(self.invoices)
        self.assertTrue(self.remote_is_void(remote))
        self.sync()
        self.assertEqual(self.binding(move).state, "synced", self.binding(move).last_error)
        self.assertNotEqual(self.binding(move).remote_id, remote[self.id_field])
        # Never sync: the record is skipped from now on.
        wizard = self.env["accounting.sync.reset.wizard"].with_context(
            active_model="accounting.sync.binding", active_ids=self.binding(move).ids).create(
                {"policy": "never", "confirmed": True})
        wizard.action_reset()
        self.assertEqual(self.binding(move).state, "skipped")
        self.assertTrue(any("reset the sync state of 1 records" in body
                            for body in self.connection.message_ids.mapped("body")))

    def test_repointed_connection_refuses_to_sync_until_reset(self):
        move = self.invoice()
        self.sync()
        self.connection.sudo().remote_company_id = self.other_remote_company
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn("Reset Record Sync State", run.outcome)
        wizard = self.env["accounting.sync.reset.wizard"].with_context(
            active_model="accounting.sync.connection", active_id=self.connection.id).create(
                {"policy": "forget", "stale_only": True, "confirmed": True})
        wizard.action_reset()
        self.assertEqual((self.binding(move).state, self.binding(move).remote_id),
                         ("pending", False), "due, to be sent to the company it points at now")

    def test_start_date_asked_at_first_sync_and_changes_are_logged(self):
        self.connection.sync_start_date = False
        self.invoice()
        action = self.connection.action_sync_now()
        self.assertEqual((action["target"], action["res_model"]),
                         ("new", "accounting.sync.start.wizard"))
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        wizard.sync_start_date = START
        self.assertIn("every account and tax", wizard.preflight_summary)
        action = wizard.action_start()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["next"], {"type": "ir.actions.act_window_close"})
        self.assertEqual(self.connection.sync_start_date, START)
        cron = self.connection.sudo().cron_id
        self.assertEqual(cron.code, "model._cron_sync(%d)" % self.connection.id)
        self.assertTrue(self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]),
                        "the sync is queued for the connection's own job")
        self.connection.sync_start_date = date(2026, 2, 1)
        self.assertTrue(any("Sync start date changed" in body
                            for body in self.connection.message_ids.mapped("body")))

    def test_a_connection_made_with_a_start_date_queues_its_scope_once(self):
        """Posted before the connection existed (an import, a second remote company): the
        connection's creation queues what its start date brings in, with what it needs."""
        move = self.invoice()
        older = self.invoice(day=date(2025, 12, 1))
        second = self.connect(name="Second books", remote_company=self.other_remote_company,
                              tax_remote=self.other_tax_remote)
        Binding = self.env["accounting.sync.binding"]
        queued = Binding.search([("connection_id", "=", second.id)])
        self.assertEqual(set(queued.mapped(lambda b: (b.res_model, b.res_id))),
                         {("account.move", move.id), ("res.partner", self.customer.id),
                          ("product.product", self.service.id)},
                         "the invoice and what it needs; not what is older than the start")
        self.assertEqual(set(queued.mapped("state")), {"pending"})
        self.assertTrue(older)
        run = second._sync()
        self.assertEqual((run.state, run.failed), ("done", 0), run.outcome)
        self.assertEqual(len(self.remote(self.invoices, company=self.other_remote_company)), 1)


@tagged("post_install", "-at_install")
class TestSyncQuickBooksOnline(SyncTests, QuickBooksOnlineSetup, SyncCase):

    def test_update_after_someone_edited_it_in_quickbooks(self):
        """Someone edits the invoice in QBO (its SyncToken moves on), then it changes in
        Odoo: the update with the stale SyncToken gets 5010, is re-read and sent again."""
        move = self.invoice(price=100.0)
        self.sync()
        binding = self.binding(move)
        response = requests.post(
            "%s/qbo/v3/company/%s/invoice" % (self.sandbox.url, self.remote_company),
            params={"minorversion": 75}, timeout=10,
            headers={"Authorization": "Bearer " + self.connection.sudo().access_token},
            json={"Id": binding.remote_id, "SyncToken": binding.remote_version,
                  "sparse": True, "PrivateNote": "Checked by the bookkeeper"})
        self.assertEqual(response.status_code, 200, response.text)
        stale = binding.remote_version
        move.button_draft()
        move.invoice_line_ids.price_unit = 120.0
        move.action_post()
        run = self.sync()
        self.assertEqual((run.updated, run.failed), (1, 0),
                         run.failed_binding_ids.mapped("last_error"))
        [remote] = self.remote("Invoice", Id=binding.remote_id)
        self.assertEqual(self.remote_total(remote), move.amount_total)
        self.assertEqual(binding.remote_version, remote["SyncToken"])
        self.assertGreater(int(binding.remote_version), int(stale) + 1)
        refused = [c for c in self.sandbox.calls(provider="qbo", path_contains="/invoice")
                   if c["method"] == "POST" and c["status"] == 400]
        self.assertEqual(len(refused), 1, "the stale update was refused once (5010)")


@tagged("post_install", "-at_install")
class TestSyncXero(SyncTests, XeroSetup, SyncCase):
    pass

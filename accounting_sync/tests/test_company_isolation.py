"""Two Odoo companies, each with its own connection: a record only ever reaches the remote
company of its own company's connection, whichever way the sync is started."""
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import QuickBooksOnlineSetup, SyncCase, XeroSetup


class CompanyIsolationTests:
    """Run for each provider by the classes below."""

    allow_inherited_tests_method = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_data_2 = cls.setup_other_company(name="Company B")
        cls.company_b = cls.company_data_2["company"]
        cls.tax_b = cls.env["account.tax"].create({
            "name": "B sales tax", "amount": cls.tax_rate, "type_tax_use": "sale",
            "company_id": cls.company_b.id})
        both = [cls.company_a.id, cls.company_b.id]
        cls.both_user = new_test_user(
            cls.env, "iso_both_user", company_id=cls.company_a.id, company_ids=both,
            groups="base.group_user,account.group_account_invoice,"
                   "accounting_sync.group_accounting_sync_user")
        cls.admin_b = new_test_user(
            cls.env, "iso_admin_b", company_id=cls.company_b.id, company_ids=[cls.company_b.id],
            groups="base.group_user,account.group_account_invoice,"
                   "accounting_sync.group_accounting_sync_admin")
        cls.both_context = {"allowed_company_ids": both}

    def setUp(self):
        super().setUp()
        self.connection_b = self.connect(company_data=self.company_data_2,
                                         remote_company=self.other_remote_company,
                                         tax=self.tax_b, tax_remote=self.other_tax_remote,
                                         name="Books B")

    def invoice_b(self, **kwargs):
        return self.invoice(company_data=self.company_data_2, taxes=self.tax_b, **kwargs)

    def remote_invoices(self, company):
        return self.remote(self.invoices, company=company)

    def test_sync_to_on_records_of_two_companies(self):
        move_a, move_b = self.invoice(price=11.0), self.invoice_b(price=22.0)
        action = self.rpc(self.both_user, "account.move", "action_accounting_sync",
                          [move_a.id, move_b.id], context=self.both_context)
        self.assertEqual(action["params"]["type"], "success", action)
        self.assertEqual(self.binding(move_a).state, "synced")
        self.assertFalse(self.binding(move_b), "B's invoice has no sync state on A's connection")
        binding_b = self.env["accounting.sync.binding"].search([
            ("connection_id", "=", self.connection_b.id), ("res_id", "=", move_b.id),
            ("res_model", "=", "account.move")])
        runs = self.env["accounting.sync.run"].search([("connection_id", "=", self.connection_b.id)])
        self.assertEqual(binding_b.state, "synced", runs.mapped(lambda r: (r.state, r.outcome, r.created)))
        self.assertFalse(self.env["accounting.sync.binding"].search([
            ("connection_id", "=", self.connection_b.id), ("res_model", "=", "account.move"),
            ("res_id", "=", move_a.id)]))
        self.assertEqual([self.remote_total(r) for r in self.remote_invoices(self.remote_company)],
                         [move_a.amount_total])
        self.assertEqual([self.remote_total(r) for r in self.remote_invoices(
            self.other_remote_company)], [move_b.amount_total])

    def test_the_scheduled_sync_of_b_never_sends_a(self):
        move_a = self.invoice()
        run = self.connection_b._sync(trigger="schedule")
        self.assertEqual(run.state, "done", run.outcome)
        self.assertFalse(self.remote_invoices(self.other_remote_company))
        self.assertFalse(self.env["accounting.sync.binding"].search([
            ("connection_id", "=", self.connection_b.id), ("res_model", "=", "account.move"),
            ("res_id", "=", move_a.id)]))

    def test_retry_of_a_foreign_record_fails_before_any_call(self):
        """A sync state of A's invoice on B's connection (however it got there): Retry fails it
        with the reason and sends nothing to B's remote company."""
        move_a = self.invoice()
        forged = self.env["accounting.sync.binding"].sudo().create({
            "connection_id": self.connection_b.id, "res_model": "account.move",
            "res_id": move_a.id, "record_name": move_a.name, "remote_type": "invoice",
            "state": "failed"})
        before = self.sandbox.api_calls(company=self.other_remote_company)
        self.rpc(self.both_user, "accounting.sync.binding", "action_retry", [forged.id],
                 context=self.both_context)
        forged.invalidate_recordset()
        self.assertEqual(forged.state, "failed")
        self.assertIn("belongs to", forged.last_error)
        self.assertEqual(self.sandbox.api_calls(company=self.other_remote_company), before)
        self.assertFalse(self.remote_invoices(self.other_remote_company))

    def test_reset_record_sync_state_stays_in_its_company(self):
        move_a = self.invoice()
        self.sync()
        binding_a = self.binding(move_a)
        # B's administrator names A's connection: refused outright.
        self.assertRpcRefused("AccessError", self.admin_b, "accounting.sync.reset.wizard",
                              "create", [{"connection_id": self.connection.id,
                                          "binding_ids": [Command.set(binding_a.ids)],
                                          "policy": "void"}])
        # ...and names A's records on B's connection: they are not B's to reset.
        [wizard_id] = self.rpc(self.admin_b, "accounting.sync.reset.wizard", "create",
                               [{"connection_id": self.connection_b.id, "policy": "void",
                                 "confirmed": True,
                                 "binding_ids": [Command.set(binding_a.ids)]}])
        self.assertRpcRefused("UserError", self.admin_b, "accounting.sync.reset.wizard",
                              "action_reset", [wizard_id])
        binding_a.invalidate_recordset()
        self.assertTrue(binding_a.exists())
        [remote] = self.remote_invoices(self.remote_company)
        self.assertFalse(self.remote_is_void(remote))

    def test_a_mapping_across_companies_is_refused(self):
        account_a = self.company_data["default_account_revenue"]
        remote_b = self.connection_b.remote_record_ids.filtered(lambda r: r.kind == "account")[:1]
        with self.assertRaises(UserError):
            self.env["accounting.sync.mapping"].create({
                "connection_id": self.connection_b.id, "kind": "account",
                "account_id": account_a.id, "remote_record_id": remote_b.id})
        remote_a = self.connection.remote_record_ids.filtered(lambda r: r.kind == "account")[:1]
        with self.assertRaises(UserError):
            self.env["accounting.sync.mapping"].create({
                "connection_id": self.connection_b.id, "kind": "account",
                "account_id": self.company_data_2["default_account_assets"].id,
                "remote_record_id": remote_a.id})


@tagged("post_install", "-at_install")
class TestCompanyIsolationQuickBooksOnline(CompanyIsolationTests, QuickBooksOnlineSetup,
                                           SyncCase):
    pass


@tagged("post_install", "-at_install")
class TestCompanyIsolationXero(CompanyIsolationTests, XeroSetup, SyncCase):
    pass

"""Every screen of the first sync tried in a real browser (headless Chromium): the
confirmations of Connect, the pre-flight, fixing and retrying a failed record, Reset Record
Sync State, and what a sync user sees. The sandbox approves the consent page at once."""
from odoo.tests import new_test_user, tagged

from .common import (
    QBO_REALM_1, QBO_REALM_2, XERO_UK, XERO_US, AccountingSyncCase, QuickBooksOnlineSetup,
    SyncCase,
)

XERO_NZ = "33333333-3333-4333-8333-333333333333"


@tagged("post_install", "-at_install")
class TestConnectTours(AccountingSyncCase):

    def test_xero_organisation_chooser(self):
        connection = self.create_connection("xero", name="Xero books")
        self.approve("alice@example.com", [XERO_UK, XERO_US, XERO_NZ])
        self.start_tour(connection._form_url(), "accounting_sync_xero_chooser_tour",
                        login=self.admin_a.login, timeout=120)
        connection.invalidate_recordset()
        self.assertEqual((connection.state, connection.remote_company_id),
                         ("connected", XERO_US))
        self.assertEqual(len(self.sandbox.calls(provider="xero", method="DELETE")), 2,
                         "the UK and NZ organisations were disconnected at Xero")
        self.assertFalse(self.env["accounting.sync.connect.wizard"].search(
            [("connection_id", "=", connection.id)]))

    def test_repoint_confirmation(self):
        connection = self.create_connection("quickbooks_online", name="QBO books")
        self.connect(connection, self.admin_a, "alice@example.com", [QBO_REALM_1])
        self.approve("alice@example.com", [QBO_REALM_2])
        self.start_tour(connection._form_url(), "accounting_sync_repoint_tour",
                        login=self.admin_a.login, timeout=120)
        connection.invalidate_recordset()
        self.assertEqual(connection.remote_company_id, QBO_REALM_2)
        self.assertTrue(any("Re-pointed from remote company" in body
                            for body in connection.message_ids.mapped("body")))


@tagged("post_install", "-at_install")
class TestSyncTours(QuickBooksOnlineSetup, SyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = ("base.group_user,base.group_partner_manager,account.group_account_manager,"
                  "accounting_sync.group_accounting_sync_")
        cls.tour_admin = new_test_user(cls.env, "tour_admin", groups=groups + "admin",
                                       company_id=cls.env.company.id,
                                       company_ids=[cls.env.company.id])
        cls.tour_user = new_test_user(cls.env, "tour_user", groups=groups + "user",
                                      company_id=cls.env.company.id,
                                      company_ids=[cls.env.company.id])

    def test_first_sync_with_the_pre_flight(self):
        data = self.company_data
        self.connection.unlink()
        self.connection = self.connect(mapped=False)
        self.connection.sync_start_date = False
        self.service.write({"property_account_income_id": data["default_account_revenue"].id})
        self.invoice(taxes=data["default_tax_sale"])
        self.start_tour(self.connection._form_url(), "accounting_sync_first_sync_tour",
                        login=self.tour_admin.login, timeout=120)
        self.assertTrue(self.connection.sync_start_date)
        run = self.connection._sync()
        self.assertEqual((run.state, run.failed, run.waiting), ("done", 0, 0), run.outcome)

    def test_fix_a_failed_record_and_retry_what_it_blocked(self):
        self.seed_customer("Azure Interior", "someone-else@example.com")
        move = self.invoice()
        self.sync()
        self.assertEqual(self.binding(self.customer).error_kind, "clash")
        self.assertEqual(self.binding(move).blocked_by_id, self.binding(self.customer))
        self.start_tour("/odoo/action-accounting_sync.accounting_sync_binding_action_failed",
                        "accounting_sync_fix_and_retry_tour", login=self.tour_admin.login,
                        timeout=120)
        self.assertEqual(self.binding(self.customer).state, "synced")
        self.assertEqual(self.binding(move).state, "synced", "retried with its customer")
        self.assertEqual(len(self.remote(self.customers)), 1, "linked, not duplicated")

    def test_reset_record_sync_state(self):
        move = self.invoice()
        self.sync()
        self.assertTrue(self.binding(move))
        self.start_tour("/odoo/action-accounting_sync.accounting_sync_binding_action",
                        "accounting_sync_reset_tour", login=self.tour_admin.login, timeout=120)
        self.assertFalse(self.binding(move).remote_id, "forgotten")
        self.assertEqual(self.binding(move).state, "pending", "and due to be sent anew")
        self.assertTrue(self.binding(self.customer), "only what was selected")

    def test_what_a_sync_user_sees(self):
        self.start_tour(self.connection._form_url(), "accounting_sync_user_view_tour",
                        login=self.tour_user.login, timeout=120)

    def test_settle_a_conflict_from_incoming_changes(self):
        from datetime import date
        move = self.invoice(price=10.0, quantity=1)
        self.sync()
        binding = self.binding(move)
        self.sandbox.act("qbo", "update", "Invoice", self.remote_company, id=binding.remote_id,
                         changes={"DueDate": "2026-05-31"})
        self.env["accounting.sync.puller"]._pull(self.connection)
        self.start_tour("/odoo/action-accounting_sync.accounting_sync_change_action",
                        "accounting_sync_settle_conflict_tour", login=self.tour_user.login,
                        timeout=120)
        self.assertEqual(move.invoice_date_due, date(2026, 5, 31))
        self.assertEqual(binding.remote_version, self.remote(
            self.invoices, Id=binding.remote_id)[0]["SyncToken"])


"""A first sync of Odoo's default chart to the sandbox's default companies: the accounts and
taxes are matched when connecting, the pre-flight lists what remains once, one click
accepts the suggestions, and the sync ends with no failed record."""
from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import QuickBooksOnlineSetup, SyncCase, XeroSetup


class FirstSyncTests:
    allow_inherited_tests_method = True

    def setUp(self):
        super().setUp()
        self.connection.unlink()
        self.connection = self.connect(mapped=False)
        data = self.company_data
        sale_tax, purchase_tax = data["default_tax_sale"], data["default_tax_purchase"]
        self.assertEqual((sale_tax.amount, purchase_tax.amount), (15.0, 15.0),
                         "Odoo's default chart")
        self.service.write({"taxes_id": [Command.set(sale_tax.ids)],
                            "property_account_income_id": data["default_account_revenue"].id})
        self.sales = self.invoice(price=100.0, taxes=sale_tax) | self.invoice(
            price=250.0, quantity=1, taxes=sale_tax)
        # A vendor bill line without a product: an account-based line.
        self.bill = self.env["account.move"].create({
            "move_type": "in_invoice", "partner_id": self.vendor.id,
            "invoice_date": date(2026, 3, 2), "date": date(2026, 3, 2),
            "invoice_line_ids": [Command.create({
                "name": "Office rent", "quantity": 1, "price_unit": 400.0,
                "account_id": data["default_account_expense"].id,
                "tax_ids": [Command.set(purchase_tax.ids)]})]})
        self.bill.action_post()
        self.payment = self.pay(self.sales[0])

    def test_the_first_sync_of_the_default_chart_has_no_failure(self):
        connection = self.connection
        preflight = connection._preflight()
        income = connection.mapping_ids.filtered(
            lambda m: m.account_id == self.company_data["default_account_revenue"])
        self.assertTrue(income.remote_record_id, "the income account was matched on its own")
        self.assertEqual(income.remote_record_id.match_class, "income")
        self.assertTrue(all(remote for _record, remote in preflight.missing),
                        "everything missing has a suggestion: %s" % preflight.summary())
        connection.action_accept_suggestions()
        preflight = connection._preflight()
        self.assertTrue(preflight.ok, preflight.summary())
        run = connection._sync()
        problems = self.env["accounting.sync.binding"].search([
            ("connection_id", "=", connection.id), ("state", "!=", "synced")])
        self.assertEqual((run.state, run.failed, run.waiting), ("done", 0, 0),
                         "%s %s" % (run.outcome, problems.mapped(
                             lambda b: (b.record_name, b.last_error))))
        for record in [*self.sales, self.bill, self.payment, self.customer, self.vendor]:
            with self.subTest(record=record.display_name):
                self.assertEqual(self.binding(record).state, "synced")
        for move, resource in ((self.sales[1], self.invoices), (self.bill, self.bills)):
            [remote] = self.remote(resource, **{self.id_field: self.binding(move).remote_id})
            self.assertEqual(self.remote_total(remote), move.amount_total,
                             "%s: Odoo's tax amounts" % move.name)


@tagged("post_install", "-at_install")
class TestFirstSyncQuickBooksOnline(FirstSyncTests, QuickBooksOnlineSetup, SyncCase):
    pass


@tagged("post_install", "-at_install")
class TestFirstSyncXero(FirstSyncTests, XeroSetup, SyncCase):
    pass

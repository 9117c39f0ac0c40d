"""A provider answering what it should not — the wrong JSON shape, HTML, a huge body, a
slow drip, a redirect: the run ends with a plain message, no run is left running, nothing
raw reaches the user, and the other records go on."""
import time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import QuickBooksOnlineSetup, RecordingServer, SyncCase, XeroSetup

RAW = ("Traceback", "AttributeError", "TypeError", "KeyError", "<html", "secret-ish")


class BadAnswerTests:
    allow_inherited_tests_method = True

    def assertPlain(self, message):
        for raw in RAW:
            self.assertNotIn(raw, message or "")

    def fault(self, path, **kwargs):
        self.sandbox.add_fault(provider=self.sandbox_provider, path_contains=path, **kwargs)

    def assertFaultAnswered(self):
        self.assertTrue([c for c in self.sandbox.calls() if c["fault"]],
                        "the provider did answer with the fault")

    def test_a_write_answered_in_the_wrong_shape_ends_the_run_plainly(self):
        move = self.invoice()
        self.sync()  # the customer and the product
        other = self.invoice(price=50.0)
        self.fault(self.write_path, method=self.write_method, status=200,
                   body=["not", "an", "object"], times=1)
        run = self.sync()
        self.assertFaultAnswered()
        self.assertIn(run.state, ("failed", "partial"))
        self.assertPlain(run.outcome)
        self.assertPlain(self.binding(other).last_error)
        self.assertNotEqual(self.binding(other).state, "synced")
        self.assertEqual(self.binding(move).state, "synced")
        # The answer was unreadable: the next run finds what the provider did, once.
        run = self.sync()
        self.assertEqual(run.failed, 0, run.failed_binding_ids.mapped("last_error"))
        self.assertEqual(self.binding(other).state, "synced")
        self.assertEqual(len(self.remote(self.invoices)), 2)

    def test_the_scheduled_run_ends_normally_on_an_unreadable_answer(self):
        self.invoice()
        self.fault(self.api_path, status=200, body="<html><body>secret-ish</body></html>",
                   content_type="text/html", times=None)
        run = self.connection._sync(trigger="schedule")
        self.assertFaultAnswered()
        self.assertEqual(run.state, "failed")
        self.assertTrue(run.end)
        self.assertPlain(run.outcome)
        self.assertFalse(self.env["accounting.sync.run"].search([
            ("connection_id", "=", self.connection.id), ("state", "=", "running")]))

    def test_test_connection_and_read_chart_say_it_plainly(self):
        for body in ({"unexpected": True}, [1, 2], "<html>secret-ish</html>", ""):
            with self.subTest(body=body):
                self.sandbox.clear_faults()
                self.fault(self.company_path, status=200, body=body, times=None)
                action = self.connection.action_test_connection()
                self.assertFaultAnswered()
                self.assertEqual(action["params"]["type"], "danger")
                self.assertPlain(action["params"]["message"])
        self.sandbox.clear_faults()
        self.fault(self.chart_path, status=200, body={"QueryResponse": "nope", "Accounts": 7},
                   times=None)
        with self.assertRaises(UserError) as caught:
            self.connection.action_refresh_chart()
        self.assertFaultAnswered()
        self.assertPlain(str(caught.exception))

    def test_a_huge_answer_is_refused(self):
        self.fault(self.company_path, status=200, body={"padding": True},
                   body_size=40 * 1024 * 1024, times=None)
        action = self.connection.action_test_connection()
        self.assertFaultAnswered()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertPlain(action["params"]["message"])

    def test_a_slow_drip_is_cut_at_the_total_deadline(self):
        self.env["ir.config_parameter"].sudo().set_param("accounting_sync.timeout", 2)
        self.fault(self.company_path, status=None, drip=0.5, times=None)
        started = time.monotonic()
        action = self.connection.action_test_connection()
        self.assertLess(time.monotonic() - started, 8, "bounded by the total deadline")
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("did not answer within", action["params"]["message"])

    def test_a_redirect_never_carries_the_token_elsewhere(self):
        elsewhere = RecordingServer()
        self.addCleanup(elsewhere.stop)
        self.fault(self.company_path, status=302, location=elsewhere.url + "/steal",
                   times=None)
        action = self.connection.action_test_connection()
        self.assertFaultAnswered()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertFalse(elsewhere.requests, "the redirect was not followed")


@tagged("post_install", "-at_install")
class TestBadAnswersQuickBooksOnline(BadAnswerTests, QuickBooksOnlineSetup, SyncCase):
    company_path = "/companyinfo/"
    chart_path = "/query"


@tagged("post_install", "-at_install")
class TestBadAnswersXero(BadAnswerTests, XeroSetup, SyncCase):
    company_path = "/Organisation"
    chart_path = "/Accounts"

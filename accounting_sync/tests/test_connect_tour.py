import threading
import time
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from .common import AccountingSyncCase

APPROVE = "document.querySelector('button[name=decision][value=approve]').click()"


@tagged("post_install", "-at_install")
class TestConnectTour(AccountingSyncCase):
    """A real browser clicks Connect, approves on the sandbox's consent page and lands on a
    connected form. The consent page is the sandbox's (another origin), where Odoo's tour
    code does not run, so the test clicks Approve through the same DevTools connection Odoo
    drives the browser with."""

    def _approve_when_consent_page_shows(self, browsers, done):
        deadline = time.time() + 60
        while time.time() < deadline and not done.is_set():
            if browsers and self.sandbox.calls(path_contains="/connect/oauth2", method="GET"):
                time.sleep(0.5)  # let the page finish loading
                browsers[0]._websocket_request("Runtime.evaluate",
                                               params={"expression": APPROVE})
                return
            time.sleep(0.1)

    def test_connect_tour(self):
        connection = self.create_connection("quickbooks_online", name="Tour Books")
        browsers = []
        original_init = ChromeBrowser.__init__

        def capture(browser, *args, **kwargs):
            original_init(browser, *args, **kwargs)
            browsers.append(browser)

        done = threading.Event()
        clicker = threading.Thread(target=self._approve_when_consent_page_shows,
                                   args=(browsers, done))
        with patch.object(ChromeBrowser, "__init__", capture):
            clicker.start()
            try:
                self.start_tour("/odoo/accounting-sync-connections/%s" % connection.id,
                                "accounting_sync_connect_tour", login=self.admin_a.login,
                                timeout=120)
            finally:
                done.set()
                clicker.join()
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.remote_company_name, "Sandbox Company US 1")
        self.assertEqual(connection.token_holder_id, self.admin_a)
        self.assertEqual(connection.remote_login, "alice@example.com")
        posts = self.sandbox.calls(provider="qbo", path_contains="/connect/oauth2", method="POST")
        self.assertEqual(len(posts), 1, "approved by clicking on the consent page")

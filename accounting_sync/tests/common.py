"""Shared set-up: a real provider sandbox on 127.0.0.1, app keys, users, connections."""
import os
import sys
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tests import HttpCase, new_test_user

try:
    from provider_sandbox import Sandbox
except ImportError:  # the sandbox lives next to the addon, at the repository's root
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from provider_sandbox import Sandbox

QBO_REALM_1 = "9341453050000001"
QBO_REALM_2 = "9341453050000002"
XERO_UK = "11111111-1111-4111-8111-111111111111"
XERO_US = "22222222-2222-4222-8222-222222222222"

_SANDBOX = None


def sandbox():
    """One sandbox per test process, started on first use."""
    global _SANDBOX  # noqa: PLW0603
    if _SANDBOX is None:
        _SANDBOX = Sandbox(host="127.0.0.1", port=0).start()
    return _SANDBOX


class AccountingSyncCase(HttpCase):
    """HttpCase: the registry is in test mode, so the separate cursor that refreshes tokens
    shares the test transaction, and the OAuth callback runs over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = sandbox()
        ICP = cls.env["ir.config_parameter"].sudo()
        ICP.set_param("accounting_sync.qbo_client_id", "qbo-test-client")
        ICP.set_param("accounting_sync.qbo_client_secret", "qbo-test-secret")
        ICP.set_param("accounting_sync.xero_client_id", "xero-test-client")
        ICP.set_param("accounting_sync.xero_client_secret", "xero-test-secret")
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

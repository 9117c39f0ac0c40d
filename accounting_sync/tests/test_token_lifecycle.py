from datetime import timedelta

from odoo.exceptions import UserError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from ..providers.base import utcnow
from .common import QBO_REALM_1, QBO_REALM_2, XERO_UK, AccountingSyncCase


@tagged("post_install", "-at_install")
class TestTokenLifecycle(AccountingSyncCase):

    def connected(self, provider="quickbooks_online", company=None):
        connection = self.create_connection(provider)
        company = company or (QBO_REALM_1 if provider == "quickbooks_online" else XERO_UK)
        self.connect(connection, self.admin_a, "alice@example.com", [company])
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "connected")
        return connection

    def test_expired_access_token_is_refreshed_silently(self):
        for provider in ("quickbooks_online", "xero"):
            with self.subTest(provider=provider):
                connection = self.connected(provider)
                old_access, old_refresh = connection.access_token, connection.refresh_token
                connection.access_token_expires_at = utcnow() - timedelta(minutes=1)
                connection.flush_recordset()  # as if it had expired in the database
                action = connection.with_user(self.admin_a).action_test_connection()
                self.assertEqual(action["params"]["type"], "success", action)
                code = "qbo" if provider == "quickbooks_online" else "xero"
                self.assertEqual(len(self.refresh_calls(code)), 1)
                connection.invalidate_recordset()  # refreshed in a transaction of its own
                self.assertNotEqual(connection.access_token, old_access)
                self.assertNotEqual(connection.refresh_token, old_refresh, "rotated and kept")
                self.assertGreater(connection.access_token_expires_at, utcnow())
                # The token the sandbox now honours is the stored one: a second refresh works.
                connection._get_access_tokens(force_refresh=True)
                self.assertEqual(connection.state, "connected")
                connection.unlink()
                self.sandbox.reset()

    def test_token_valid_here_but_expired_at_provider(self):
        """A 401 from the API gets one refresh and one retry."""
        connection = self.connected("xero")
        self.sandbox.expire_access_tokens()
        action = connection.with_user(self.sync_user).action_test_connection()
        self.assertEqual(action["params"]["type"], "success", action)
        self.assertIn("Demo Company (UK)", action["params"]["message"])
        self.assertEqual(len(self.refresh_calls("xero")), 1)

    def test_revoked_at_provider_needs_reconnect(self):
        connection = self.connected("quickbooks_online")
        self.sandbox.revoke_all()
        action = connection.with_user(self.admin_a).action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("revoked at the provider", action["params"]["message"])
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "needs_reconnect")
        self.assertFalse(connection.access_token)
        self.assertFalse(connection.refresh_token)
        self.assertIn("revoked", connection.last_error)
        activities = connection.activity_ids
        self.assertIn(self.admin_a, activities.user_id)
        self.assertIn(self.admin_b, activities.user_id, "every sync admin is told")

    def test_expired_authorization_is_named(self):
        connection = self.connected("quickbooks_online")
        connection.write({"access_token_expires_at": utcnow() - timedelta(minutes=1),
                          "refresh_token_expires_at": utcnow() - timedelta(days=1)})
        connection.flush_recordset()
        self.sandbox.revoke_all()  # the provider no longer honours it either
        with self.assertRaisesRegex(UserError, "authorization has expired"):
            connection._get_access_tokens()
        self.assertEqual(connection.state, "needs_reconnect")

    def test_never_authorized(self):
        connection = self.create_connection("quickbooks_online")
        action = connection.with_user(self.admin_a).action_test_connection()
        self.assertIn("not authorized: click Connect", action["params"]["message"])
        self.assertFalse(self.sandbox.calls(provider="qbo"))

    def test_wrong_company_or_environment(self):
        connection = self.connected("quickbooks_online")
        connection.remote_company_id = QBO_REALM_2  # the token was issued for realm 1
        action = connection.with_user(self.admin_a).action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("environment or remote company does not match", action["params"]["message"])
        self.assertEqual(connection.state, "connected", "a 403 does not kill the tokens")

    def test_provider_outage_is_reported(self):
        connection = self.connected("quickbooks_online")
        self.sandbox.add_fault(status=500, provider="qbo", path_contains="companyinfo")
        action = connection.with_user(self.admin_a).action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("unavailable (HTTP 500)", action["params"]["message"])
        self.assertEqual(connection.state, "connected")

    def test_keep_alive_refreshes_and_warns_before_expiry(self):
        self.sandbox.configure(qbo_refresh_ttl=5 * 86400)  # an authorization ending in 5 days
        connection = self.connected("quickbooks_online")
        self.env["accounting.sync.connection"]._cron_keep_alive()
        self.assertEqual(len(self.refresh_calls("qbo")), 1)
        warnings = connection.activity_ids.filtered(lambda a: "expires soon" in a.summary)
        self.assertIn(self.admin_a, warnings.user_id)
        self.assertTrue(any("cannot be renewed automatically" in body
                            for body in connection.message_ids.mapped("body")))
        # The next run refreshes again but does not warn twice about the same expiry.
        count = len(connection.activity_ids)
        self.env["accounting.sync.connection"]._cron_keep_alive()
        self.assertEqual(len(self.refresh_calls("qbo")), 2)
        self.assertEqual(len(connection.activity_ids), count)

    def test_keep_alive_no_warning_far_from_expiry(self):
        connection = self.connected("xero")
        self.env["accounting.sync.connection"]._cron_keep_alive()
        self.assertEqual(len(self.refresh_calls("xero")), 1)
        self.assertFalse(connection.activity_ids)

    def test_neutralize_forgets_tokens_and_stops_crons(self):
        connection = self.connected("quickbooks_online")
        Setting = self.env["accounting.sync.app.setting"]
        self.assertTrue(Setting._values("quickbooks_online")["client_secret"])
        for query in get_neutralization_queries(["accounting_sync"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.env.registry.clear_cache()  # ir.config_parameter values are cached
        self.assertEqual(connection.state, "disconnected")
        self.assertFalse(connection.access_token)
        self.assertFalse(connection.refresh_token)
        self.assertFalse(self.env.ref("accounting_sync.ir_cron_keep_alive").active)
        self.assertFalse(connection.sudo().cron_id.active, "its own sync job too")
        self.assertFalse(Setting._values("quickbooks_online")["client_secret"],
                         "the app's secret is forgotten")
        self.assertTrue(Setting._values("quickbooks_online")["client_id"],
                        "its id, not a secret, is kept")

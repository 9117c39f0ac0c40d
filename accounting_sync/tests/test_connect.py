from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import QBO_REALM_1, QBO_REALM_2, XERO_UK, XERO_US, AccountingSyncCase


@tagged("post_install", "-at_install")
class TestConnect(AccountingSyncCase):

    def assertConnected(self, connection, remote_id, remote_name, holder, login):
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.remote_company_id, remote_id)
        self.assertEqual(connection.remote_company_name, remote_name)
        self.assertEqual(connection.display_status, "Connected to %s" % remote_name)
        self.assertEqual(connection.token_holder_id, holder)
        self.assertEqual(connection.remote_login, login)
        self.assertTrue(connection.access_token)
        self.assertTrue(connection.refresh_token)
        self.assertTrue(connection.access_token_expires_at)
        self.assertTrue(connection.refresh_token_expires_at)

    def test_connect_quickbooks_online(self):
        connection = self.create_connection("quickbooks_online")
        response = self.connect(connection, self.admin_a, "alice@example.com", [QBO_REALM_2])
        self.assertEqual(response.status_code, 200)
        self.assertTrue(
            response.url.endswith("/odoo/accounting-sync-connections/%s" % connection.id),
            response.url)
        self.assertConnected(connection, QBO_REALM_2, "Sandbox Company US 2", self.admin_a,
                             "alice@example.com")
        # QBO's refresh token says how long it lives: 100 days.
        lifetime = connection.refresh_token_expires_at - connection.access_token_expires_at
        self.assertGreater(lifetime.days, 98)
        self.assertTrue(any("Connected to Sandbox Company US 2 as alice@example.com" in body
                            for body in connection.message_ids.mapped("body")))
        code_exchanges = self.sandbox.calls(provider="qbo", grant_type="authorization_code")
        self.assertEqual(len(code_exchanges), 1)
        self.assertFalse(connection.oauth_nonce, "the state is single use")

    def test_connect_xero_single_organisation_with_pkce(self):
        connection = self.create_connection("xero", access_scope="customers_sales")
        self.connect(connection, self.admin_a, "alice@example.com", [XERO_UK])
        self.assertConnected(connection, XERO_UK, "Demo Company (UK)", self.admin_a,
                             "alice@example.com")
        self.assertTrue(connection.remote_connection_id)
        authorize = self.sandbox.calls(provider="xero", path_contains="/connect/authorize")[0]
        self.assertEqual(authorize["query"]["code_challenge_method"], "S256")
        scopes = authorize["query"]["scope"].split()
        self.assertIn("offline_access", scopes)
        self.assertIn("accounting.invoices", scopes)
        self.assertNotIn("accounting.manualjournals", scopes)  # Customers and Sales only
        self.assertNotIn("accounting.transactions", scopes)
        self.assertFalse(connection.oauth_code_verifier, "the PKCE verifier is single use")

    def test_connect_xero_choose_among_organisations(self):
        connection = self.create_connection("xero")
        response = self.connect(connection, self.admin_a, "alice@example.com", [XERO_UK, XERO_US])
        wizard = self.env["accounting.sync.connect.wizard"].search(
            [("connection_id", "=", connection.id)])
        self.assertEqual(len(wizard), 1)
        self.assertTrue(response.url.endswith(
            "/odoo/accounting-sync-connections/%s" % connection.id),
            "back on the connection, in its menu, where the choice waits")
        self.assertEqual(connection.with_user(self.admin_a).pending_connect_id, wizard)
        self.assertFalse(connection.with_user(self.admin_b).pending_connect_id,
                         "it waits for the admin who signed in only")
        dialog = connection.with_user(self.admin_a).action_open_pending_connect()
        self.assertEqual((dialog["target"], dialog["res_id"]), ("new", wizard.id))
        self.assertEqual(set(wizard.company_line_ids.mapped("name")),
                         {"Demo Company (UK)", "Demo Company (US)"})
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "draft", "nothing is stored before the choice")
        wizard = wizard.with_user(self.admin_a)
        wizard.company_line_id = wizard.company_line_ids.filtered(lambda l: l.remote_id == XERO_US)
        self.assertEqual(wizard.action_confirm(), {"type": "ir.actions.act_window_close"})
        self.assertConnected(connection, XERO_US, "Demo Company (US)", self.admin_a,
                             "alice@example.com")
        self.assertFalse(wizard.exists(), "the pending tokens are gone")
        deletes = self.sandbox.calls(provider="xero", method="DELETE")
        self.assertEqual([c["status"] for c in deletes], [204],
                         "the organisation approved but not chosen is disconnected at Xero")
        self.assertTrue(any("Demo Company (UK)" in body and "not chosen" in body
                            for body in connection.message_ids.mapped("body")))

    def test_forged_replayed_and_foreign_state_get_403(self):
        connection = self.create_connection("quickbooks_online")
        params = self.callback_params(connection, self.admin_a, "alice@example.com")
        for forged_state in ("", "garbage", params["state"][:-4] + "abcd",
                             params["state"].replace("%s." % connection.id, "999999.", 1)):
            with self.subTest(state=forged_state):
                response = self.open_callback(self.admin_a, {**params, "state": forged_state})
                self.assertEqual(response.status_code, 403)
        # Another admin cannot use a state issued to admin A.
        self.assertEqual(self.open_callback(self.admin_b, params).status_code, 403)
        # A sync user (not an admin) is refused outright.
        self.assertEqual(self.open_callback(self.sync_user, params).status_code, 403)
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "draft")
        # The genuine callback works once...
        self.assertEqual(self.open_callback(self.admin_a, params).status_code, 200)
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "connected")
        # ...and a replay is refused.
        self.assertEqual(self.open_callback(self.admin_a, params).status_code, 403)
        self.assertEqual(
            len(self.sandbox.calls(provider="qbo", grant_type="authorization_code")), 1)

    def test_access_denied_shows_a_friendly_page(self):
        connection = self.create_connection("quickbooks_online")
        params = self.callback_params(connection, self.admin_a, "alice@example.com")
        denied = {"state": params["state"], "error": "access_denied"}
        response = self.open_callback(self.admin_a, denied)
        self.assertEqual(response.status_code, 200)
        self.assertIn("You declined the authorization", response.text)
        self.assertIn("/odoo/accounting-sync-connections/%s" % connection.id, response.text)
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "draft")
        self.assertFalse(connection.access_token)

    def test_takeover_with_the_same_login(self):
        connection = self.create_connection("quickbooks_online")
        self.connect(connection, self.admin_a, "alice@example.com")
        first_token = connection.access_token
        response = self.connect(connection, self.admin_b, "Alice@Example.com")
        wizard = self.env["accounting.sync.connect.wizard"].search(
            [("connection_id", "=", connection.id)])
        self.assertTrue(response.url.endswith(
            "/odoo/accounting-sync-connections/%s" % connection.id))
        wizard = wizard.with_user(self.admin_b)
        self.assertIn("take it over", connection.with_user(self.admin_b).pending_connect_reason)
        self.assertTrue(wizard.takeover)
        self.assertFalse(wizard.repoint)
        connection.invalidate_recordset()
        self.assertEqual(connection.token_holder_id, self.admin_a, "not before confirming")
        self.assertEqual(connection.access_token, first_token)
        wizard.action_confirm()
        self.assertConnected(connection, QBO_REALM_1, "Sandbox Company US 1", self.admin_b,
                             "alice@example.com")
        self.assertNotEqual(connection.access_token, first_token)
        self.assertTrue(any("Bert Admin took over the token from Ada Admin" in body
                            for body in connection.message_ids.mapped("body")))

    def test_takeover_cancelled_keeps_the_holder(self):
        connection = self.create_connection("quickbooks_online")
        self.connect(connection, self.admin_a, "alice@example.com")
        self.connect(connection, self.admin_b, "alice@example.com")
        wizard = self.env["accounting.sync.connect.wizard"].search(
            [("connection_id", "=", connection.id)]).with_user(self.admin_b)
        wizard.action_cancel()
        connection.invalidate_recordset()
        self.assertEqual(connection.token_holder_id, self.admin_a)

    def test_locked_for_another_login_until_released(self):
        connection = self.create_connection("quickbooks_online")
        self.connect(connection, self.admin_a, "alice@example.com")
        token = connection.access_token
        response = self.connect(connection, self.admin_b, "bob@example.com")
        self.assertEqual(response.status_code, 200)
        self.assertIn("held by Ada Admin", response.text)
        self.assertIn("Release", response.text)
        connection.invalidate_recordset()
        self.assertEqual(connection.token_holder_id, self.admin_a)
        self.assertEqual(connection.remote_login, "alice@example.com")
        self.assertEqual(connection.access_token, token)
        # A sync user who is not the holder cannot release it...
        with self.assertRaises(AccessError):
            connection.with_user(self.sync_user).action_release()
        # ...the holder can; the tokens stay, so syncing goes on meanwhile.
        connection.with_user(self.admin_a).action_release()
        self.assertFalse(connection.token_holder_id)
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.access_token, token)
        self.connect(connection, self.admin_b, "bob@example.com")
        self.assertConnected(connection, QBO_REALM_1, "Sandbox Company US 1", self.admin_b,
                             "bob@example.com")

    def test_a_lost_authorization_is_not_held(self):
        """Once the tokens are dead (needs reconnect), anyone may reconnect with any login."""
        connection = self.create_connection("quickbooks_online")
        self.connect(connection, self.admin_a, "alice@example.com")
        self.sandbox.revoke_all()
        connection.with_user(self.admin_a).action_test_connection()
        self.assertEqual(connection.state, "needs_reconnect")
        self.connect(connection, self.admin_b, "bob@example.com")
        self.assertConnected(connection, QBO_REALM_1, "Sandbox Company US 1", self.admin_b,
                             "bob@example.com")

    def test_repoint_needs_an_explicit_confirmation(self):
        connection = self.create_connection("quickbooks_online")
        self.connect(connection, self.admin_a, "alice@example.com", [QBO_REALM_1])
        self.connect(connection, self.admin_a, "alice@example.com", [QBO_REALM_2])
        wizard = self.env["accounting.sync.connect.wizard"].search(
            [("connection_id", "=", connection.id)]).with_user(self.admin_a)
        self.assertTrue(wizard.repoint)
        with self.assertRaisesRegex(UserError, "Tick the confirmation"):
            wizard.action_confirm()
        connection.invalidate_recordset()
        self.assertEqual(connection.remote_company_id, QBO_REALM_1)
        wizard.confirm_repoint = True
        wizard.action_confirm()
        self.assertConnected(connection, QBO_REALM_2, "Sandbox Company US 2", self.admin_a,
                             "alice@example.com")
        self.assertTrue(any("Re-pointed from remote company %s" % QBO_REALM_1 in body
                            for body in connection.message_ids.mapped("body")))

    def test_same_remote_company_twice_is_refused(self):
        first = self.create_connection("quickbooks_online")
        self.connect(first, self.admin_a, "alice@example.com", [QBO_REALM_1])
        second = self.create_connection("quickbooks_online", name="Duplicate")
        response = self.connect(second, self.admin_a, "alice@example.com", [QBO_REALM_1])
        self.assertIn("already connected to this company by", response.text)
        second.invalidate_recordset()
        self.assertEqual(second.state, "draft")

    def test_reset_credentials_revokes_at_the_provider(self):
        for provider, company in (("quickbooks_online", QBO_REALM_1), ("xero", XERO_UK)):
            with self.subTest(provider=provider):
                connection = self.create_connection(provider)
                self.connect(connection, self.admin_a, "alice@example.com", [company])
                connection.with_user(self.admin_a).action_reset_credentials()
                connection.invalidate_recordset()
                self.assertEqual(connection.state, "disconnected")
                self.assertFalse(connection.access_token)
                self.assertFalse(connection.refresh_token)
                self.assertFalse(connection.token_holder_id)
                self.assertEqual(connection.remote_company_id, company, "kept for the guard")
                code = "qbo" if provider == "quickbooks_online" else "xero"
                revokes = [c for c in self.sandbox.calls(provider=code, path_contains="revo")]
                self.assertEqual([c["status"] for c in revokes], [200])
                if provider == "xero":
                    deletes = self.sandbox.calls(provider="xero", method="DELETE")
                    self.assertEqual([c["status"] for c in deletes], [204])
                self.assertTrue(any("tokens were revoked" in body
                                    for body in connection.message_ids.mapped("body")))
                connection.unlink()
                self.sandbox.reset()

    def test_reset_credentials_when_the_provider_is_down(self):
        connection = self.create_connection("quickbooks_online")
        self.connect(connection, self.admin_a, "alice@example.com")
        self.sandbox.add_fault(status=503, provider="qbo", path_contains="revoke", times=None)
        action = connection.with_user(self.admin_a).action_reset_credentials()
        self.assertEqual(action["params"]["type"], "warning")
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "disconnected")
        self.assertFalse(connection.refresh_token)
        self.assertTrue(any("revoking them at QuickBooks Online failed" in body
                            for body in connection.message_ids.mapped("body")))


@tagged("post_install", "-at_install")
class TestConnectAccess(AccountingSyncCase):
    """The Connect flow's entry points, tried as the users who must be refused."""

    def test_a_pending_authorization_belongs_to_the_admin_who_started_it(self):
        connection = self.create_connection("xero")
        self.connect(connection, self.admin_a, "alice@example.com", [XERO_UK, XERO_US])
        wizard = self.env["accounting.sync.connect.wizard"].search(
            [("connection_id", "=", connection.id)])
        line_us = wizard.company_line_ids.filtered(lambda l: l.remote_id == XERO_US)
        before = self.api_calls()
        self.assertRpcRefused("AccessError", self.admin_b, "accounting.sync.connect.wizard",
                              "write", [wizard.id], {"company_line_id": line_us.id})
        self.assertRpcRefused("AccessError", self.admin_b, "accounting.sync.connect.wizard",
                              "action_confirm", [wizard.id])
        self.assertRpcRefused("AccessError", self.admin_b, "accounting.sync.connect.wizard",
                              "action_cancel", [wizard.id])
        self.assertEqual(self.api_calls(), before, "nothing was sent on their behalf")
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "draft")
        self.assertTrue(wizard.exists())
        # The admin who signed in finishes it.
        self.rpc(self.admin_a, "accounting.sync.connect.wizard", "write", [wizard.id],
                 {"company_line_id": line_us.id})
        self.rpc(self.admin_a, "accounting.sync.connect.wizard", "action_confirm", [wizard.id])
        connection.invalidate_recordset()
        self.assertEqual((connection.state, connection.token_holder_id), ("connected", self.admin_a))

    def test_an_administrator_without_an_email_address_connects(self):
        """The chatter line is written without an author address; the callback never fails
        with a raw error, and its state cannot be used twice."""
        admin = self.env["res.users"].create({
            "name": "Mailless Admin", "login": "mailless", "password": "mailless",
            "email": False, "groups_id": [(6, 0, [
                self.env.ref("base.group_user").id,
                self.env.ref("accounting_sync.group_accounting_sync_admin").id])]})
        connection = self.create_connection("quickbooks_online")
        params = self.callback_params(connection, admin, "alice@example.com")
        response = self.open_callback(admin, params)
        self.assertEqual(response.status_code, 200)
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.token_holder_id, admin)
        self.assertEqual(self.open_callback(admin, params).status_code, 403, "single use")

    def test_a_forged_realm_id_never_reaches_a_url(self):
        connection = self.create_connection("quickbooks_online")
        params = self.callback_params(connection, self.admin_a, "alice@example.com")
        for forged in ("../../../identity", "123?minorversion=1", "12 34"):
            with self.subTest(realm=forged):
                before = len(self.sandbox.calls(path_contains="/v3/company"))
                response = self.open_callback(self.admin_a, {**params, "realmId": forged})
                self.assertIn(response.status_code, (200, 403))
                self.assertEqual(len(self.sandbox.calls(path_contains="/v3/company")), before)
                connection.invalidate_recordset()
                self.assertEqual(connection.state, "draft")
                params = self.callback_params(connection, self.admin_a, "alice@example.com")

    def test_a_non_system_administrator_creates_and_connects_a_connection(self):
        [connection_id] = self.rpc(self.admin_a, "accounting.sync.connection", "create",
                                   [{"name": "Ada's books", "provider": "quickbooks_online"}])
        connection = self.env["accounting.sync.connection"].browse(connection_id)
        self.connect(connection, self.admin_a, "alice@example.com")
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "connected")
        self.assertTrue(connection.sudo().cron_id.active)

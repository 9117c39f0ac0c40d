from odoo.exceptions import AccessError
from odoo.tests import JsonRpcException, new_test_user, tagged

from .common import AccountingSyncCase

SECRET_FIELDS = ["access_token", "refresh_token", "access_token_expires_at",
                 "refresh_token_expires_at", "oauth_nonce", "oauth_code_verifier"]


@tagged("post_install", "-at_install")
class TestSecurity(AccountingSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls.env["accounting.sync.connection"].create({
            "name": "QBO", "provider": "quickbooks_online", "state": "connected",
            "access_token": "secret-access", "refresh_token": "secret-refresh",
        })

    def test_non_admins_never_read_tokens(self):
        """Neither a sync user nor a sync administrator (not a system admin) can read or
        write a token, by any ORM route."""
        Connection = self.env["accounting.sync.connection"]
        for user in (self.sync_user, self.admin_a):
            as_user = self.connection.with_user(user)
            self.assertEqual(as_user.name, "QBO")  # the record itself is visible
            for field in SECRET_FIELDS:
                with self.subTest(user=user.login, field=field):
                    with self.assertRaises(AccessError):
                        as_user.read([field])
                    with self.assertRaises(AccessError):
                        Connection.with_user(user).search_read([], [field])
                    with self.assertRaises(AccessError):
                        as_user.export_data([field])
                    with self.assertRaises(AccessError):
                        Connection.with_user(user).search([(field, "=", "secret-access")])
                    with self.assertRaises(AccessError):
                        as_user.web_read({field: {}})
                    self.assertNotIn(field, Connection.with_user(user).fields_get())
            with self.assertRaises(AccessError):
                as_user.write({"access_token": "forged"})
        self.assertEqual(self.connection.access_token, "secret-access")

    def test_system_admin_reads_tokens(self):
        self.assertEqual(self.connection.with_user(self.env.ref("base.user_admin")).read(
            ["access_token"])[0]["access_token"], "secret-access")

    def test_sync_user_cannot_configure_or_connect(self):
        as_user = self.connection.with_user(self.sync_user)
        with self.assertRaises(AccessError):
            as_user.write({"name": "renamed"})
        with self.assertRaises(AccessError):
            as_user.action_connect()
        with self.assertRaises(AccessError):
            as_user.action_reset_credentials()

    def test_token_fields_over_json_rpc(self):
        """The web client's own route refuses the token to a sync administrator."""
        self.authenticate(self.admin_a.login, self.admin_a.login)
        params = {
            "model": "accounting.sync.connection", "method": "web_read",
            "args": [[self.connection.id]],
            "kwargs": {"specification": {"name": {}, "refresh_token": {}}},
        }
        with self.assertRaises(JsonRpcException) as caught:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw/accounting.sync.connection/web_read", params)
        self.assertIn("AccessError", str(caught.exception))
        params["kwargs"]["specification"] = {"name": {}}
        result = self.make_jsonrpc_request(
            "/web/dataset/call_kw/accounting.sync.connection/web_read", params)
        self.assertEqual(result, [{"id": self.connection.id, "name": "QBO"}])

    def test_multi_company_isolation(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other = self.env["accounting.sync.connection"].create({
            "name": "Other books", "provider": "xero", "company_id": other_company.id})
        Connection = self.env["accounting.sync.connection"].with_user(self.admin_a)
        self.assertNotIn(other, Connection.search([]))
        with self.assertRaises(AccessError):
            other.with_user(self.admin_a).read(["name"])
        # A user of both companies sees it once the company is active.
        both = new_test_user(self.env, "sync_both",
                             groups="base.group_user,accounting_sync.group_accounting_sync_user",
                             company_ids=[(6, 0, [self.env.company.id, other_company.id])])
        visible = Connection.with_user(both).with_context(
            allowed_company_ids=[self.env.company.id, other_company.id]).search([])
        self.assertIn(other, visible)

"""Access that holds, tried the way an attacker would: over JSON-RPC, as the user who must
be refused, checking that nothing reached the provider sandbox and nothing changed."""
import json

from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged

from .common import QuickBooksOnlineSetup, RecordingServer, SyncCase

CONNECTION = "accounting.sync.connection"
BINDING = "accounting.sync.binding"
RUN = "accounting.sync.run"
SETTINGS = "res.config.settings"
APP_SETTING = "accounting.sync.app.setting"
CHANGE = "accounting.sync.change"
CURSOR = "accounting.sync.cursor"


@tagged("post_install", "-at_install")
class TestAccessThatHolds(QuickBooksOnlineSetup, SyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.company_data_2 = cls.setup_other_company(name="Other Books Co")
        invoicing = "base.group_user,account.group_account_invoice,"
        cls.sync_user = new_test_user(
            cls.env, "rpc_sync_user", groups=invoicing + "accounting_sync.group_accounting_sync_user",
            company_id=company.id, company_ids=[company.id])
        cls.plain_user = new_test_user(cls.env, "rpc_plain_user", groups=invoicing.rstrip(","),
                                       company_id=company.id, company_ids=[company.id])
        cls.portal_user = new_test_user(cls.env, "rpc_portal_user", groups="base.group_portal")
        cls.sync_admin = new_test_user(
            cls.env, "rpc_sync_admin", name="Nora Nonsystem",
            groups=invoicing + "accounting_sync.group_accounting_sync_admin",
            company_id=company.id, company_ids=[company.id])
        other = cls.company_data_2["company"]
        cls.other_admin = new_test_user(
            cls.env, "rpc_other_admin", groups=invoicing + "accounting_sync.group_accounting_sync_admin",
            company_id=other.id, company_ids=[other.id])
        cls.system_admin = new_test_user(
            cls.env, "rpc_system_admin",
            groups=invoicing + "base.group_system,accounting_sync.group_accounting_sync_admin",
            company_id=company.id, company_ids=[company.id])

    def setUp(self):
        super().setUp()
        self.attacker = RecordingServer()
        self.addCleanup(self.attacker.stop)

    def assertUnchanged(self, connection, **expected):
        connection.invalidate_recordset()
        for name, value in expected.items():
            self.assertEqual(connection.sudo()[name], value, name)

    # -- revoke, release -----------------------------------------------------------------------

    def test_reset_credentials_of_another_company_is_refused_before_any_revoke(self):
        connection = self.connection
        tokens = connection.sudo().refresh_token
        before = self.api_calls()
        self.assertRpcRefused("AccessError", self.other_admin, CONNECTION,
                              "action_reset_credentials", [connection.id])
        # Naming company A in the context does not help: it is not one of theirs.
        self.assertRpcRefused("AccessError", self.other_admin, CONNECTION,
                              "action_reset_credentials", [connection.id],
                              context={"allowed_company_ids": [connection.company_id.id]})
        self.assertEqual(self.api_calls(), before, "no revoke reached the provider")
        self.assertUnchanged(connection, state="connected", refresh_token=tokens)

    def test_release_is_for_the_holder_and_administrators(self):
        holder = self.connection.token_holder_id
        self.assertRpcRefused("AccessError", self.sync_user, CONNECTION, "action_release",
                              [self.connection.id])
        self.assertRpcRefused("AccessError", self.other_admin, CONNECTION, "action_release",
                              [self.connection.id])
        self.assertUnchanged(self.connection, token_holder_id=holder)
        [seen] = self.rpc(self.sync_user, CONNECTION, "web_read", [self.connection.id],
                          specification={"can_release": {}})
        self.assertFalse(seen["can_release"], "the button is not shown to a sync user")
        self.rpc(self.sync_admin, CONNECTION, "action_release", [self.connection.id])
        self.assertUnchanged(self.connection, token_holder_id=self.env["res.users"],
                             state="connected")

    # -- where a connection talks to -------------------------------------------------------------

    def test_only_system_administrators_choose_where_a_connection_talks_to(self):
        connection = self.connection
        before = self.api_calls()
        for values in ({"environment": "production"}, {"local_url": self.attacker.url},
                       {"environment": "local", "local_url": self.attacker.url}):
            with self.subTest(values=values):
                self.assertRpcRefused("AccessError", self.sync_admin, CONNECTION, "write",
                                      [connection.id], values)
        self.assertRpcRefused("AccessError", self.sync_admin, CONNECTION, "create",
                              [{"name": "Evil", "provider": "quickbooks_online",
                                "environment": "local", "local_url": self.attacker.url}])
        # A system administrator cannot either while the connection is connected.
        self.assertRpcRefused("UserError", self.system_admin, CONNECTION, "write",
                              [connection.id], {"local_url": self.attacker.url})
        self.assertUnchanged(connection, environment="local", local_url=self.sandbox.url)
        self.assertFalse(self.attacker.requests)
        self.assertEqual(self.api_calls(), before)

    def test_a_sandbox_url_not_set_in_settings_is_never_called(self):
        """Even a URL that got into the database (an older version, a direct SQL write) is
        not called: the token, the client secret and the refresh token stay home."""
        connection = self.connection
        self.invoice()
        connection.sudo().with_context(tracking_disable=True).write(
            {"local_url": self.attacker.url})
        action = self.rpc(self.sync_admin, CONNECTION, "action_test_connection",
                          [connection.id])
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("not the Local Provider Sandbox URL set in Settings",
                      action["params"]["message"])
        self.rpc(self.sync_admin, CONNECTION, "action_sync_now", [connection.id])
        run = connection._sync()
        self.assertEqual(run.state, "failed")
        self.assertFalse(self.attacker.requests, "nothing was sent to the other host")

    def test_sandbox_url_changes_are_tracked(self):
        connection = self.connection
        connection.sudo().write({"state": "disconnected"})
        self.rpc(self.system_admin, CONNECTION, "write", [connection.id],
                 {"local_url": self.sandbox.url + "/"})
        connection.invalidate_recordset()
        tracked = connection.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "local_url")
        self.assertTrue(tracked)

    def test_non_system_administrator_creates_a_connection(self):
        """Created over JSON-RPC by an Accounting Sync administrator who is not a system
        administrator: the connection and its own scheduled job exist."""
        [connection_id] = self.rpc(self.sync_admin, CONNECTION, "create",
                                 [{"name": "Nora's books", "provider": "xero"}])
        connection = self.env[CONNECTION].browse(connection_id)
        self.assertEqual(connection.environment, "local")
        self.assertEqual(connection.local_url, self.sandbox.url)
        self.assertTrue(connection.sudo().cron_id)
        self.assertFalse(connection.sudo().cron_id.active, "idle until connected")

    # -- secrets ---------------------------------------------------------------------------------

    def test_app_secrets_are_readable_by_system_administrators_only(self):
        Setting = self.env[APP_SETTING].sudo()
        Setting._set("quickbooks_online", client_id="qbo-app-id",
                     client_secret="qbo-app-secret-value")
        Setting._set("xero", client_id="xero-app-id", client_secret="xero-app-secret-value")
        secret = Setting.search([("provider", "=", "quickbooks_online"),
                                 ("key", "=", "client_secret")])
        self.assertTrue(secret.secret)
        for user in (self.portal_user, self.plain_user, self.sync_user, self.sync_admin):
            with self.subTest(user=user.login):
                for method, args, kwargs in (
                        ("search_read", [[]], {"fields": ["value", "secret_value"]}),
                        ("read", [secret.ids, ["value"]], {}),
                        ("web_search_read", [], {"domain": [], "specification": {
                            "value": {}}}),
                        ("export_data", [secret.ids, ["value"]], {}),
                ):
                    # Refused: by the access rights, or (export) before them.
                    refusal = self.assertRpcRefused("Error", user, APP_SETTING, method, *args,
                                                    **kwargs)
                    self.assertNotIn("app-secret-value", str(refusal))
                self.assertRpcRefused("AccessError", user, APP_SETTING, "write", secret.ids,
                                      {"value": "stolen"})
                # Settings and the connection hold no secret of the app, whatever is asked.
                for model, method, args in (
                        (SETTINGS, "default_get", [list(self.env[SETTINGS]._fields)]),
                        (CONNECTION, "search_read", [[]])):
                    try:
                        answer = self.rpc(user, model, method, *args)
                    except Exception as e:  # noqa: BLE001 - a refusal is fine too
                        answer = str(e)
                    self.assertNotIn("app-secret-value", json.dumps(answer, default=str))
        self.assertEqual(Setting.search([("provider", "=", "quickbooks_online"),
                                         ("key", "=", "client_secret")]).value,
                         "qbo-app-secret-value", "nothing was written")
        # A system administrator reads and rotates them, over the same route.
        rows = self.rpc(self.system_admin, APP_SETTING, "search_read",
                        [("provider", "=", "quickbooks_online")], fields=["key", "value"])
        self.assertIn({"key": "client_secret", "value": "qbo-app-secret-value"},
                      [{"key": r["key"], "value": r["value"]} for r in rows])
        self.rpc(self.system_admin, APP_SETTING, "write", secret.ids, {"value": "rotated"})
        values = self.env[APP_SETTING].sudo()._values("quickbooks_online")
        self.assertEqual((values["client_id"], values["client_secret"]),
                         ("qbo-app-id", "rotated"))
        self.assertEqual(self.env[APP_SETTING].sudo()._values("xero")["client_secret"],
                         "xero-app-secret-value")

    # -- sync state: read by sync users, written by the engine only -------------------------------

    def test_sync_users_read_sync_state_and_never_write_it(self):
        move = self.invoice()
        self.sync()
        binding = self.binding(move)
        remote_id = binding.remote_id
        run = binding.run_id
        before = self.api_calls()
        for user in (self.sync_user, self.sync_admin):
            with self.subTest(user=user.login):
                [seen] = self.rpc(user, BINDING, "read", [binding.id], ["remote_id", "state"])
                self.assertEqual(seen["remote_id"], remote_id)
                self.assertRpcRefused("AccessError", user, BINDING, "write", [binding.id],
                                      {"remote_id": "1", "state": "pending"})
                self.assertRpcRefused("AccessError", user, BINDING, "unlink", [binding.id])
                self.assertRpcRefused("AccessError", user, BINDING, "create",
                                      [{"connection_id": self.connection.id,
                                        "res_model": "account.move", "res_id": move.id,
                                        "remote_type": "invoice"}])
                # A forged running run would block syncing: runs are written by syncs only.
                self.assertRpcRefused("AccessError", user, RUN, "create",
                                      [{"connection_id": self.connection.id,
                                        "trigger": "schedule", "state": "running"}])
                self.assertRpcRefused("AccessError", user, RUN, "write", [run.id],
                                      {"state": "running"})
        binding.invalidate_recordset()
        self.assertEqual((binding.remote_id, binding.state), (remote_id, "synced"))
        self.assertEqual(run.state, "done")
        self.assertEqual(self.api_calls(), before)

    def test_sync_users_can_still_sync_retry_and_sync_selected_records(self):
        unmapped = self.env["account.tax"].create({
            "name": "Unmapped tax", "amount": 3.0, "type_tax_use": "sale"})
        failing = self.invoice(taxes=unmapped)
        self.sync()
        binding = self.binding(failing)
        self.assertEqual(binding.error_kind, "mapping", "it waits for the mapping")
        self.connection.mapping_ids.filtered(lambda m: m.tax_id == unmapped).remote_record_id = \
            self.connection.remote_record_ids.filtered(
                lambda r: r.kind == "tax" and r.name == self.no_tax_remote)
        self.rpc(self.sync_user, BINDING, "action_retry", [binding.id])
        binding.invalidate_recordset()
        self.assertEqual(binding.state, "synced", binding.last_error)
        # Sync to… on a record never synced before: its sync state is created for them.
        fresh = self.invoice(price=42.0)
        action = self.rpc(self.sync_user, "account.move", "action_accounting_sync", [fresh.id])
        self.assertEqual(action["params"]["type"], "success", action)
        self.assertEqual(self.binding(fresh).state, "synced")
        action = self.rpc(self.sync_user, CONNECTION, "action_sync_now", [self.connection.id])
        self.assertEqual(action["tag"], "display_notification")

    def test_users_outside_the_sync_groups_cannot_sync(self):
        move = self.invoice()
        before = self.api_calls()
        self.assertRpcRefused("AccessError", self.plain_user, "account.move",
                              "action_accounting_sync", [move.id])
        # Posting queued it (for the next sync); nothing was sent.
        self.assertEqual((self.binding(move).state, self.binding(move).remote_id),
                         ("pending", False))
        self.assertEqual(self.api_calls(), before)

    # -- changes received from the remote company -----------------------------------------------

    def conflict(self):
        """A conflict of this company's connection: an invoice sent, edited remotely, pulled."""
        move = self.invoice(price=10.0, quantity=1)
        self.sync()
        binding = self.binding(move)
        self.sandbox.act("qbo", "update", "Invoice", self.remote_company, id=binding.remote_id,
                         changes={"TxnDate": "2026-03-20"})
        self.env["accounting.sync.puller"]._pull(self.connection)
        change = self.env["accounting.sync.change"].search([
            ("connection_id", "=", self.connection.id), ("state", "=", "conflict")])
        self.assertEqual(len(change), 1)
        self.env.flush_all()
        return change, binding

    def test_changes_are_only_seen_and_settled_by_sync_users_of_their_company(self):
        change, binding = self.conflict()
        # Another company's administrator sees none of them and cannot settle one.
        self.assertEqual(self.rpc(self.other_admin, CHANGE, "search_read",
                                  [("id", "=", change.id)], ["remote_id"]), [])
        self.assertRpcRefused("AccessError", self.other_admin, CHANGE, "action_keep_odoo",
                              [change.id])
        self.assertRpcRefused("AccessError", self.other_admin, CURSOR, "read",
                              self.connection.cursor_ids.ids, ["position"])
        # A user outside the sync groups cannot read or settle them.
        self.assertRpcRefused("AccessError", self.plain_user, CHANGE, "read", [change.id],
                              ["remote_id"])
        self.assertRpcRefused("AccessError", self.plain_user, CHANGE, "action_ignore",
                              [change.id])
        # A sync user may settle it, by its actions only: a state is not written directly.
        self.assertRpcRefused("AccessError", self.sync_user, CHANGE, "write", [change.id],
                              {"state": "applied"})
        self.assertRpcRefused("AccessError", self.sync_user, BINDING, "write", [binding.id],
                              {"remote_version": "99"})
        change.invalidate_recordset()
        self.assertEqual(change.state, "conflict")
        self.rpc(self.sync_user, CHANGE, "action_keep_odoo", [change.id])
        change.invalidate_recordset()
        binding.invalidate_recordset()
        self.assertEqual((change.state, binding.state), ("applied", "pending"))
        self.assertIn(self.sync_user.name, change.message, "who settled it")

    # -- smaller cases ---------------------------------------------------------------------------

    def test_a_neutralized_copy_stays_still_when_a_connection_is_renamed(self):
        connection = self.connection
        self.assertTrue(connection.sudo().cron_id.active)
        self.env.flush_all()
        for query in get_neutralization_queries(["accounting_sync"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.rpc(self.system_admin, CONNECTION, "write", [connection.id], {"name": "Renamed"})
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "disconnected")
        self.assertFalse(connection.sudo().cron_id.active)
        self.assertEqual(connection.sudo().cron_id.name, "Accounting Sync: Renamed")

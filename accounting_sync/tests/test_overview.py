"""Accounting Sync → Overview: a kanban card per connection whose every figure opens the
list it counts, and the graph of records synced per day by connection (from the runs)."""
from datetime import date, datetime, timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import QBO_REALM_1, XERO_UK, AccountingSyncCase

# figure of a card -> the action its button calls
FIGURES = {
    "failed_count": "action_open_failed_items",
    "waiting_count": "action_open_waiting",
    "changes_waiting_count": "action_open_changes_waiting",
    "changes_conflict_count": "action_open_changes_conflict",
    "run_count": "action_open_runs",
    "last_reconciliation_difference_count": "action_open_reconciliation_differences",
}

@tagged("post_install", "-at_install")
class TestOverview(AccountingSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls.env["res.partner"].create([
            {"name": "Overview partner %02d" % i} for i in range(8)])

    # -- set-up helpers ------------------------------------------------------------------------

    def make_connection(self, name, provider="quickbooks_online", remote=None, days=None,
                        bindings=(), changes=(), runs=(), differences=None):
        """A connection with ``bindings`` (states, one partner each), ``changes`` ((state,
        source) pairs), ``runs`` ((day, state, created, linked, updated, failed)) and, when
        ``differences`` is not None, a finished reconciliation with that many differences
        (plus one ignored and one that agrees)."""
        connection = self.create_connection(provider, name=name)
        if provider != "quickbooks_desktop":
            connection.sudo().write({
                "state": "connected", "remote_company_id": remote,
                "remote_company_name": "%s remote" % name, "token_holder_id": self.admin_a.id,
                "refresh_token_expires_at": days is not None and
                fields.Datetime.now() + timedelta(days=days, hours=1)})
        self.env["accounting.sync.binding"].create([{
            "connection_id": connection.id, "res_model": "res.partner", "res_id": partner.id,
            "record_name": partner.name, "remote_type": "customer", "state": state,
            "last_error": "Refused" if state == "failed" else False,
        } for partner, state in zip(self.partners, bindings)])
        self.env["accounting.sync.change"].create([{
            "connection_id": connection.id, "event_id": "%s-%s" % (name, i), "state": state,
            "source": source, "remote_type": "Invoice", "remote_id": str(i),
        } for i, (state, source) in enumerate(changes)])
        self.env["accounting.sync.run"].create([{
            "connection_id": connection.id, "trigger": "schedule", "state": state,
            "start": datetime.combine(day, datetime.min.time()) + timedelta(hours=9),
            "end": datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=2),
            "created": created, "linked": linked, "updated": updated, "failed": failed,
        } for day, state, created, linked, updated, failed in runs])
        if differences is not None:
            rec = self.env["accounting.sync.reconciliation"].create({
                "connection_id": connection.id, "as_of_date": date(2026, 3, 31),
                "state": "done"})
            lines = [{"difference_class": "amount_differs", "ignored": False}] * differences \
                + [{"difference_class": "missing_remote", "ignored": True},
                   {"difference_class": False, "ignored": False}]
            self.env["accounting.sync.reconciliation.line"].create([{
                "reconciliation_id": rec.id, "level": "document", "name": "Line %s" % i,
                **values} for i, values in enumerate(lines)])
            rec._count_lines()
        connection.invalidate_recordset()
        return connection

    def list_count(self, action):
        """How many records the list ``action`` opens shows: its domain, and the search
        filters its context turns on (by default, as the web client does)."""
        Model = self.env[action["res_model"]]
        domain = action.get("domain") or []
        if isinstance(domain, str):
            domain = safe_eval(domain)
        context = action.get("context") or {}
        if isinstance(context, str):
            context = safe_eval(context, {"uid": self.env.uid, "active_id": False})
        search = etree.fromstring(Model.get_view(view_type="search")["arch"])
        for key, value in context.items():
            if key.startswith("search_default_") and value:
                node = search.find(".//filter[@name='%s']" % key[len("search_default_"):])
                self.assertIsNotNone(node, "the list's search view has the filter %s" % key)
                self.assertFalse(node.get("context"),
                                 "the list opens ungrouped: %s groups it" % key)
                domain = domain + safe_eval(node.get("domain"))
        self.assertFalse(context.get("group_by"), "the list opens ungrouped")
        return Model.search_count(domain)

    # -- tests -----------------------------------------------------------------------------------

    def test_figures_match_the_lists_they_open(self):
        today = fields.Date.context_today(self.env["res.users"])
        qbo = self.make_connection(
            "Overview QBO books", remote=QBO_REALM_1, days=40,
            bindings=["failed"] * 3 + ["waiting"] * 2 + ["synced"],
            changes=[("new", "webhook"), ("new", "webhook"), ("new", "pull"),
                     ("conflict", "pull"), ("failed", "pull"), ("applied", "pull")],
            runs=[(today - timedelta(days=1), "done", 4, 1, 0, 0),
                  (today, "partial", 2, 0, 1, 3)],
            differences=2)
        xero = self.make_connection(
            "Overview Xero books", provider="xero", remote=XERO_UK, days=5,
            bindings=["failed"], changes=[("conflict", "webhook")], differences=0)
        desktop = self.make_connection("Overview Desktop books", provider="quickbooks_desktop",
                                       bindings=["waiting"])
        expected = {
            qbo: {"failed_count": 3, "waiting_count": 2, "changes_waiting_count": 3,
                  "changes_conflict_count": 1, "run_count": 2,
                  "last_reconciliation_difference_count": 2},
            xero: {"failed_count": 1, "waiting_count": 0, "changes_waiting_count": 0,
                   "changes_conflict_count": 1, "run_count": 0,
                   "last_reconciliation_difference_count": 0},
            desktop: {"failed_count": 0, "waiting_count": 1, "changes_waiting_count": 0,
                      "changes_conflict_count": 0, "run_count": 0,
                      "last_reconciliation_difference_count": 0},
        }
        for connection, figures in expected.items():
            for figure, method in FIGURES.items():
                with self.subTest(connection=connection.name, figure=figure):
                    self.assertEqual(connection[figure], figures[figure])
                    action = getattr(connection, method)()
                    self.assertEqual(self.list_count(action), connection[figure])
        # The other connections' records are not in a connection's lists.
        self.assertEqual(self.list_count(xero.action_open_failed_items()), 1)

        # The last run and its outcome: the newest run, in words when it said nothing.
        last = qbo.run_ids.sorted("id")[-1]
        self.assertEqual((qbo.last_run_id, qbo.last_run_state, qbo.last_run_at),
                         (last, "partial", last.start))
        self.assertEqual(qbo.last_run_outcome, "3 records synced, 3 failed")
        self.assertEqual(qbo.action_open_last_run()["res_id"], last.id)
        last.outcome = "Paused after its time share"
        qbo.invalidate_recordset()
        self.assertEqual(qbo.last_run_outcome, "Paused after its time share")
        self.assertFalse(xero.last_run_id)
        self.assertFalse(xero.last_run_outcome)
        self.assertEqual(self.list_count(xero.action_open_last_run()), 0, "no run: the runs")

        # The books: agrees, or N differences opening those lines.
        self.assertEqual(qbo.last_reconciliation_summary, "2 differences")
        self.assertEqual(xero.last_reconciliation_summary, "Agrees")
        self.assertEqual(xero.action_open_last_reconciliation()["res_id"],
                         xero.last_reconciliation_id.id)
        self.assertFalse(desktop.last_reconciliation_id)

        # Days until the authorization must be renewed: not secret, from a secret field.
        as_user = (qbo | xero | desktop).with_user(self.sync_user)
        self.assertEqual([r["days_until_renewal"] for r in as_user.read(["days_until_renewal"])],
                         [40, 5, 0])
        self.assertEqual(as_user[0].renewal_date,
                         (qbo.sudo().refresh_token_expires_at).date())
        self.assertFalse(as_user[2].renewal_date, "QuickBooks Desktop has no token")
        with self.assertRaises(AccessError):
            as_user.read(["refresh_token_expires_at"])

    def test_records_synced_per_day_by_connection(self):
        day1, day2 = date(2026, 3, 2), date(2026, 3, 3)
        qbo = self.make_connection("Graph QBO", remote=QBO_REALM_1, runs=[
            (day1, "done", 3, 1, 2, 0), (day1, "partial", 1, 0, 0, 2),
            (day2, "done", 0, 0, 5, 0)])
        xero = self.make_connection("Graph Xero", provider="xero", remote=XERO_UK, runs=[
            (day2, "done", 2, 2, 0, 0)])
        run = qbo.run_ids[:1]
        self.assertEqual(run.records_synced, run.created + run.linked + run.updated)
        run._count(updated=4)
        self.assertEqual(run.records_synced, run.created + run.linked + run.updated)
        run._count(updated=-4)

        action = (qbo | xero).action_open_runs_graph()
        self.assertEqual(action["views"][0][1], "graph")
        self.assertEqual(action["views"][0][0],
                         self.env.ref("accounting_sync.accounting_sync_run_view_graph").id)
        Run = self.env["accounting.sync.run"]
        groups = Run._read_group(action["domain"], ["start:day", "connection_id"],
                                 ["records_synced:sum"])
        self.assertEqual({(start.date(), connection.name): synced
                          for start, connection, synced in groups}, {
            (day1, "Graph QBO"): 7, (day2, "Graph QBO"): 5, (day2, "Graph Xero"): 4})
        self.assertEqual(Run.search_count(qbo.action_open_runs_graph()["domain"]), 3)

        # The graph groups by day and connection and measures records synced; the Sync
        # Runs action offers it.
        graph = etree.fromstring(Run.get_view(action["views"][0][0], "graph")["arch"])
        self.assertEqual([(f.get("name"), f.get("type"), f.get("interval"))
                          for f in graph.iter("field")],
                         [("start", "row", "day"), ("connection_id", "col", None),
                          ("records_synced", "measure", None)])
        runs_action = self.env.ref("accounting_sync.accounting_sync_run_action")
        self.assertIn("graph", runs_action.view_mode.split(","))
        self.assertIn("pivot", runs_action.view_mode.split(","))

    def test_overview_reads_in_a_bounded_number_of_queries(self):
        """The card's figures of 1 or 10 connections cost the same number of queries."""
        today = fields.Date.context_today(self.env["res.users"])
        connections = self.env["accounting.sync.connection"]
        for i in range(10):
            connections |= self.make_connection(
                "Bounded %02d" % i, remote="realm-%s" % i, days=30 + i,
                bindings=["failed", "waiting"], changes=[("new", "webhook"),
                                                         ("conflict", "pull")],
                runs=[(today, "done", 1, i, 0, 0), (today, "partial", 0, 0, i, 1)],
                differences=1)
        kanban = self.env.ref("accounting_sync.accounting_sync_connection_view_kanban")
        names = [name for name in connections.get_views([(kanban.id, "kanban")])["models"][
            connections._name]["fields"]]
        self.assertTrue({"failed_count", "waiting_count", "changes_waiting_count",
                         "changes_conflict_count", "last_run_id", "last_run_state",
                         "last_run_outcome", "days_until_renewal", "renewal_date",
                         "token_holder_id", "last_reconciliation_summary",
                         "last_reconciliation_difference_count"} <= set(names), names)

        def queries(records):
            records = records.with_user(self.sync_user)
            records.read(names)  # warm the caches of translations, access rights...
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            records.read(names)
            return self.env.cr.sql_log_count - before

        queries(connections)  # the first read of all loads what is read once per process
        one, ten = queries(connections[:1]), queries(connections)
        self.assertEqual(ten, one, "no query per connection")
        self.assertLess(one, 25)

    def test_overview_tour(self):
        self.make_connection("Overview QBO books", remote=QBO_REALM_1, days=40,
                             bindings=["failed"] * 3 + ["waiting", "synced"],
                             changes=[("new", "webhook"), ("conflict", "pull")],
                             runs=[(date(2026, 3, 2), "partial", 2, 0, 1, 3)],
                             differences=2)
        self.make_connection("Overview Xero books", provider="xero", remote=XERO_UK, days=5,
                             bindings=["failed"])
        menu = self.env.ref("accounting_sync.accounting_sync_overview_menu")
        overview = self.env.ref("accounting_sync.accounting_sync_connection_action_overview")
        self.assertEqual(menu.action, overview)
        self.assertEqual(menu.parent_id.child_id.sorted("sequence")[:1], menu, "first")
        self.start_tour("/odoo/action-accounting_sync.accounting_sync_connection_action_overview",
                        "accounting_sync_overview_tour", login="admin", timeout=120)

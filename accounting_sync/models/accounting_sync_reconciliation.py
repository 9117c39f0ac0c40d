import io
import json
import logging
import re

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import xlsxwriter

from ..providers import ProviderError
from ..providers.books import ReadBudget, books_from_dict, books_to_dict
from .reconciler import Reconciler

_logger = logging.getLogger(__name__)

STATES = [("queued", "Waiting for the connector"), ("running", "Running"),
          ("done", "Done"), ("partial", "Partly read"), ("failed", "Failed")]


class AccountingSyncReconciliation(models.Model):
    """One comparison of Odoo's books and a remote company's, for one date: documents,
    open balances per customer and vendor, agings and the trial balance
    (:mod:`.reconciler`)."""

    _name = "accounting.sync.reconciliation"
    _description = "Accounting Sync: reconciliation"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    connection_id = fields.Many2one("accounting.sync.connection", required=True, index=True,
                                    ondelete="cascade", readonly=True, check_company=True)
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    provider = fields.Selection(related="connection_id.provider")
    as_of_date = fields.Date(string="As Of", required=True, readonly=True)
    basis = fields.Selection([("accrual", "Accrual"), ("cash", "Cash")], required=True,
                             default="accrual", readonly=True)
    state = fields.Selection(STATES, required=True, default="running", readonly=True,
                             index=True)
    trigger = fields.Selection([("button", "Reconcile button"), ("schedule", "Schedule")],
                               required=True, default="button", readonly=True)
    user_id = fields.Many2one("res.users", string="Started By", readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    documents_compared = fields.Integer(readonly=True)
    partners_compared = fields.Integer(string="Customers and Vendors Compared", readonly=True)
    accounts_compared = fields.Integer(readonly=True)
    difference_count = fields.Integer(string="Differences", readonly=True,
                                      help="Differences not ignored.")
    ignored_count = fields.Integer(string="Ignored", readonly=True)
    reads_used = fields.Integer(string="Reads", readonly=True,
                                help="Calls made to the provider (metered reads).")
    read_budget = fields.Integer(readonly=True, help="Reads the run was allowed.")
    unread = fields.Char(string="Not Read", readonly=True,
                         help="What the read budget left unread: not compared.")
    message = fields.Text(readonly=True)
    remote_books = fields.Text(readonly=True, help="QuickBooks Desktop: what the Web "
                                                   "Connector's answers held so far (JSON)")
    known_ids = fields.Text(readonly=True, help="QuickBooks Desktop: the remote documents "
                                                "linked in Odoo when the reading began (JSON)")
    line_ids = fields.One2many("accounting.sync.reconciliation.line", "reconciliation_id",
                               string="Lines")
    summary = fields.Char(compute="_compute_summary")

    @api.depends("connection_id.name", "as_of_date")
    def _compute_name(self):
        for rec in self:
            rec.name = self.env._("%(connection)s as of %(date)s",
                                  connection=rec.connection_id.name,
                                  date=fields.Date.to_string(rec.as_of_date))

    @api.depends("state", "difference_count", "documents_compared", "message")
    def _compute_summary(self):
        for rec in self:
            rec.summary = rec._summary()

    def _summary(self):
        self.ensure_one()
        if self.state == "running":
            return self.env._("Running")
        if self.state == "queued":
            return self.env._("Waiting for the next Web Connector session")
        if self.state == "failed":
            return self.env._("Failed: %(message)s", message=self.message or "")
        if not self.difference_count:
            said = self.env._("Agrees")
        elif self.difference_count == 1:
            said = self.env._("1 difference")
        else:
            said = self.env._("%(count)s differences", count=self.difference_count)
        if self.state == "partial":
            said = self.env._("%(said)s (%(unread)s not read: read budget spent)", said=said,
                              unread=self.unread)
        return said

    # -- the run ------------------------------------------------------------------------------

    @api.model
    def _reconcile(self, connection, trigger="button", as_of=None, basis="accrual",
                   user=None):
        """Compare ``connection``'s books with the remote company's, as of ``as_of`` (default
        today), and post the result in its chatter: the reconciliation (never raises for
        what the provider says; its message says it)."""
        connection = connection.sudo()
        as_of = as_of or fields.Date.context_today(connection)
        budget = ReadBudget(connection.reconciliation_read_budget or None)
        queued = connection._capabilities().queued
        if queued:
            waiting = self.sudo().search([("connection_id", "=", connection.id),
                                          ("state", "in", ("queued", "running"))], limit=1)
            if waiting:
                return waiting  # asked already: one at a time
        rec = self.sudo().create({
            "connection_id": connection.id, "as_of_date": as_of, "basis": basis,
            "trigger": trigger, "user_id": (user or self.env.user).id,
            "state": "queued" if queued else "running",
            "started_at": fields.Datetime.now(), "read_budget": budget.limit or 0})
        if queued:
            # its connector calls in: the books are read in its next session (_start_queued)
            connection._log(self.env._(
                "Reconciliation as of %(date)s asked: the books are compared at the next "
                "Web Connector session.", date=fields.Date.to_string(as_of)))
            return rec
        reconciler = Reconciler(connection, as_of, basis)
        try:
            known = reconciler.odoo_figures()
            books = connection._call_provider(lambda adapter, tokens: adapter.books(
                tokens, connection.remote_company_id, as_of, connection.sync_start_date,
                reconciler.kinds, known=known, basis=basis, budget=budget))
        except (ProviderError, UserError) as e:
            rec._failed(e, budget.used)
            return rec
        rec._complete(reconciler, books, budget.used)
        return rec

    def _failed(self, error, reads):
        message = self.connection_id._message(error) if isinstance(error, ProviderError) \
            else error.args[0]
        self.write({"state": "failed", "message": message, "reads_used": reads,
                    "finished_at": fields.Datetime.now()})
        self._post_result()

    def _complete(self, reconciler, books, reads):
        """The comparison of what was read (``books``) with Odoo's figures: the lines, the
        counts, the result posted."""
        values = reconciler.lines(books)
        self._keep_ignored(values)
        self.env["accounting.sync.reconciliation.line"].sudo().create(
            [dict(v, reconciliation_id=self.id) for v in values])
        self.write({
            "state": "done" if books.complete else "partial",
            "unread": ", ".join(self._part_names()[p] for p in books.unread) or False,
            "reads_used": reads, "finished_at": fields.Datetime.now(),
            "documents_compared": reconciler.counts["documents"],
            "partners_compared": reconciler.counts["partners"],
            "accounts_compared": reconciler.counts["accounts"],
            "remote_books": False, "known_ids": False})
        self._count_lines()
        self._post_result()

    # -- QuickBooks Desktop: read over a Web Connector session ---------------------------------

    @api.model
    def _start_queued(self, connection):
        """The oldest reconciliation of ``connection`` waiting for its connector, now
        reading (Odoo's linked documents noted); None when none waits. One whose reading an
        earlier session left unfinished (it failed, or the Web Connector stopped) is read
        again from the start: sessions of a connection never overlap."""
        rec = self.sudo().search([("connection_id", "=", connection.id),
                                  ("state", "in", ("queued", "running"))], order="id", limit=1)
        if not rec:
            return None
        reconciler = Reconciler(connection.sudo(), rec.as_of_date, rec.basis)
        rec.write({"state": "running", "started_at": fields.Datetime.now(), "reads_used": 0,
                   "known_ids": json.dumps(reconciler.odoo_figures()),
                   "remote_books": json.dumps(books_to_dict(self._empty_books()))})
        return rec

    @staticmethod
    def _empty_books():
        return books_from_dict({})

    def _queued_answer(self, read, response):
        """One read's response added to the books read so far; the next read (None when
        everything is read, or the budget is spent: the comparison is then made)."""
        self.ensure_one()
        connection = self.connection_id.sudo()
        books = books_from_dict(json.loads(self.remote_books or "{}"))
        reconciler = Reconciler(connection, self.as_of_date, self.basis)
        known = json.loads(self.known_ids or "{}")
        used = self.reads_used + 1  # the read just answered
        try:
            following = connection._adapter().parse_books(
                read, response, books, reconciler.kinds, known, self.as_of_date)
        except ProviderError as e:
            self._failed(e, used)
            return None
        if following is not None and self.read_budget and used >= self.read_budget:
            books.unread = ["documents", "agings"]  # the trial balance is read first
            following = None
        books.reads = used
        if following is None:
            reconciler.odoo_figures()
            self._complete(reconciler, books, used)
            return None
        self.write({"remote_books": json.dumps(books_to_dict(books)), "reads_used": used})
        return following

    def _part_names(self):
        """The parts of the remote books (providers.books.PARTS), as a person reads them."""
        return {"trial_balance": self.env._("the trial balance"),
                "agings": self.env._("the agings"), "documents": self.env._("the documents")}

    def _keep_ignored(self, values):
        """Differences ignored in the connection's last run that ignored any stay ignored
        while they are the same (same thing, class and difference), with their reason."""
        self.ensure_one()
        keys = [v["key"] for v in values if v["difference_class"]]
        if not keys:
            return
        ignored = self.env["accounting.sync.reconciliation.line"].sudo().search([
            ("connection_id", "=", self.connection_id.id), ("ignored", "=", True),
            ("key", "in", keys), ("reconciliation_id", "!=", self.id)],
            order="id desc")
        kept = {}
        for line in ignored:
            kept.setdefault((line.key, line.difference_class), line)
        for value in values:
            line = kept.get((value["key"], value["difference_class"]))
            if line and round(line.difference - value["difference"], 2) == 0:
                value.update(ignored=True, ignore_reason=line.ignore_reason,
                             ignored_by_id=line.ignored_by_id.id)

    def _count_lines(self):
        for rec in self:
            differences = rec.line_ids.filtered("difference_class")
            rec.write({"difference_count": len(differences.filtered(lambda l: not l.ignored)),
                       "ignored_count": len(differences.filtered("ignored"))})

    def _post_result(self):
        """The summary in the connection's chatter; an activity for the connection's
        responsible when the books differ or could not be compared."""
        self.ensure_one()
        connection = self.connection_id
        body = self.env._(
            "Reconciliation as of %(date)s (%(basis)s): %(summary)s. %(documents)s documents, "
            "%(partners)s customers and vendors, %(accounts)s accounts compared; %(reads)s "
            "reads.", date=fields.Date.to_string(self.as_of_date),
            basis=dict(self._fields["basis"]._description_selection(self.env))[self.basis],
            summary=self._summary(), documents=self.documents_compared,
            partners=self.partners_compared, accounts=self.accounts_compared,
            reads=self.reads_used)
        connection._log(body)
        if self.difference_count or self.state in ("failed", "partial"):
            user = connection.responsible_id or connection.token_holder_id or \
                connection.create_uid
            connection.sudo().activity_schedule(
                "mail.mail_activity_data_todo", user_id=user.id,
                summary=self.env._("Books differ: %(summary)s", summary=self._summary()),
                note=self.env._("Open the reconciliation of %(date)s on %(connection)s to see "
                                "what differs and why.",
                                date=fields.Date.to_string(self.as_of_date),
                                connection=connection.name))

    # -- actions --------------------------------------------------------------------------------

    def _open_lines(self, level=None, differences=False):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "accounting_sync.accounting_sync_reconciliation_line_action")
        domain = [("reconciliation_id", "=", self.id)]
        if level:
            domain.append(("level", "=", level))
        if differences:
            domain += [("difference_class", "!=", False), ("ignored", "=", False)]
        action["domain"] = domain
        action["context"] = {"search_default_group_level": 1}
        return action

    def action_open_lines(self):
        return self._open_lines()

    def action_open_differences(self):
        return self._open_lines(differences=True)

    def action_export_xlsx(self):
        self.ensure_one()
        self.check_access("read")
        return {"type": "ir.actions.act_url", "target": "self",
                "url": "/accounting_sync/reconciliation/%s/xlsx" % self.id}

    def action_print(self):
        return self.env.ref("accounting_sync.accounting_sync_reconciliation_report").report_action(
            self)

    def _lines_by_level(self):
        """For the exports: the lines of each level, in order."""
        self.ensure_one()
        lines = self.line_ids.sorted(lambda l: (l.level_sequence, l.sequence, l.id))
        return [(level, label, lines.filtered(lambda l, v=level: l.level == v))
                for level, label in self.env["accounting.sync.reconciliation.line"]
                ._fields["level"]._description_selection(self.env)]

    def _export_name(self):
        self.ensure_one()
        return re.sub(r"[^\w.-]+", "-", "reconciliation-%s-%s" % (
            self.connection_id.name, fields.Date.to_string(self.as_of_date))).strip("-")

    def _xlsx(self):
        """The reconciliation as an XLSX workbook: a Summary sheet, then one sheet per level
        (documents, customers and vendors, accounts, totals) with every line kept."""
        self.ensure_one()
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True})
        bold = book.add_format({"bold": True})
        amount = book.add_format({"num_format": "#,##0.00"})
        summary = book.add_worksheet(self.env._("Summary"))
        rows = [(self.env._("Reconciliation"), self.name),
                (self.env._("Connection"), self.connection_id.name),
                (self.env._("Remote company"), self.connection_id.remote_company_name or ""),
                (self.env._("As of"), fields.Date.to_string(self.as_of_date)),
                (self.env._("Basis"), self.basis),
                (self.env._("Result"), self._summary()),
                (self.env._("Documents compared"), self.documents_compared),
                (self.env._("Customers and vendors compared"), self.partners_compared),
                (self.env._("Accounts compared"), self.accounts_compared),
                (self.env._("Differences"), self.difference_count),
                (self.env._("Ignored"), self.ignored_count),
                (self.env._("Reads"), self.reads_used)]
        for row, (label, value) in enumerate(rows):
            summary.write(row, 0, label, bold)
            summary.write(row, 1, value)
        summary.set_column(0, 0, 32)
        summary.set_column(1, 1, 48)
        classes = dict(self.env["accounting.sync.reconciliation.line"]._fields[
            "difference_class"]._description_selection(self.env))
        header = [self.env._("What"), self.env._("Odoo record"), self.env._("Remote ID"),
                  self.env._("Currency"), self.env._("Odoo amount"),
                  self.env._("Remote amount"), self.env._("Difference"), self.env._("Class"),
                  self.env._("Message"), self.env._("Ignored"), self.env._("Reason")]
        for _level, label, lines in self._lines_by_level():
            sheet = book.add_worksheet(label[:31])
            sheet.write_row(0, 0, header, bold)
            for row, line in enumerate(lines, start=1):
                sheet.write_row(row, 0, [
                    line.name or "", "%s,%s" % (line.res_model, line.res_id)
                    if line.res_model and line.res_id else "", line.remote_id or "",
                    line.currency_id.name or ""])
                sheet.write_number(row, 4, line.odoo_amount, amount)
                sheet.write_number(row, 5, line.remote_amount, amount)
                sheet.write_number(row, 6, line.difference, amount)
                sheet.write_row(row, 7, [
                    classes.get(line.difference_class, "") if line.difference_class else
                    self.env._("Agrees"), line.message or "",
                    self.env._("Yes") if line.ignored else "", line.ignore_reason or ""])
            sheet.set_column(0, 0, 36)
            sheet.set_column(1, 3, 16)
            sheet.set_column(4, 6, 14)
            sheet.set_column(7, 8, 40)
        book.close()
        return buffer.getvalue()

"""What the QuickBooks Web Connector's calls do (the SOAP controller only reads and writes
the envelope): one Web Connector session of one connection, from ``authenticate`` to
``closeConnection``.

A session has a random ticket (only its SHA-256 is stored), lives while the Web Connector
keeps calling (it expires after :data:`TICKET_TTL` of silence), and is an
accounting.sync.run of trigger *Web Connector* with its counts. Its first exchange reads
what QuickBooks says of itself (host, company, preferences): the company file is pinned the
first time and refused after, the country and qbXML version confirmed. Then, when the lists
were never linked (or a relink was asked for), it reads them page by page through iterators;
then it sends the change queue: each exchange is one qbXML message of up to a batch of
requests of one kind, planned from the due sync states just before it is fetched
(accounting.sync.engine._queued_next), its answer applied record by record when it comes
back. A request whose answer never came (the Web Connector crashed, lost its connection or
reported an error instead) leaves its records in flight: the next session looks them up in
QuickBooks before adding them again.

Nothing here raises to the Web Connector: an unknown or expired ticket gets the answer
its method expects ("", -1, "done"), and what went wrong is said by getLastError in
plain words."""
import hashlib
import json
import logging
import re
import secrets
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models

from ..providers import ProviderError
from ..providers.base import utcnow
from ..providers.documents import Chart
from ..providers.incoming import PullResult, moment
from ..providers.quickbooks_desktop import lists as qbd_lists
from ..providers.quickbooks_desktop.books import Read
from ..providers.quickbooks_desktop.pull import PULL_TYPES
from .accounting_sync_qbwc_mixin import QBD
from .run_context import RunContext

_logger = logging.getLogger(__name__)

TICKET_TTL = timedelta(minutes=30)
SERVER_VERSION = "Odoo Accounting Sync 18.0"
# The oldest Web Connector this service speaks with (2.1 brought the current protocol).
MIN_CLIENT_VERSION = (2, 1, 0, 30)
LIST_PAGE_SIZE = 250
# The Web Connector's version, said in clientVersion (before it logs in), by client address:
# shown on the connection it then logs in to.
_CLIENT_VERSIONS = {}
_CLIENT_VERSIONS_MAX = 1000
# What the first link reads, in order (the sales tax items only in the US edition).
LINK_TYPES = (qbd_lists.ACCOUNT, qbd_lists.SALES_TAX_CODE, qbd_lists.ITEM_SALES_TAX,
              qbd_lists.ITEM, qbd_lists.TERMS, qbd_lists.CUSTOMER, qbd_lists.VENDOR)
US_ONLY_TYPES = (qbd_lists.ITEM_SALES_TAX,)
# Codes on a record's answer that are not its failure.
LOCKED = "qbd_locked"
REFERENCE_MISSING = "qbd_reference_missing"


def _ticket_hash(ticket):
    return hashlib.sha256(ticket.encode("utf-8", "replace")).hexdigest()


def _version_tuple(text):
    return tuple(int(part[:18]) for part in re.findall(r"\d+", text or "")[:4])


def _same_file(first, second):
    """Whether two company file paths name the same file (Windows: case and separators do
    not matter)."""
    def norm(path):
        return re.sub(r"[\\/]+", "\\\\", (path or "").strip()).lower()
    return norm(first) == norm(second)


class AccountingSyncQbwcSession(models.Model):
    _name = "accounting.sync.qbwc.session"
    _description = "Accounting Sync: QuickBooks Web Connector session"
    _order = "id desc"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True, index=True,
                                    ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="connection_id.company_id", store=True)
    run_id = fields.Many2one("accounting.sync.run", readonly=True, ondelete="set null")
    ticket_hash = fields.Char(required=True, readonly=True, index=True,
                              groups="base.group_system")
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("failed", "Failed"),
         ("expired", "Expired")], default="open", required=True, readonly=True, index=True)
    expires_at = fields.Datetime(readonly=True)
    client_version = fields.Char(string="Web Connector Version", readonly=True)
    company_file = fields.Char(readonly=True)
    country = fields.Char(readonly=True)
    qbxml_version = fields.Char(string="qbXML Version", readonly=True)
    stage = fields.Selection([("link", "Reading lists"), ("push", "Sending"),
                              ("pull", "Reading changes"), ("reconcile", "Comparing the books")],
                             default="push", required=True, readonly=True)
    pull_cursors = fields.Text(readonly=True, default="{}",
                               help="Pull: where each type read up to in this session")
    link_index = fields.Integer(readonly=True)
    iterator_id = fields.Char(readonly=True)
    link_counts = fields.Char(readonly=True, default="{}",
                              help="Records read per list, during the first link")
    out_key = fields.Char(string="Request Out", readonly=True,
                          help="The request handed to the Web Connector, awaiting its answer")
    next_keys = fields.Text(readonly=True, help="The requests planned for the next exchanges, "
                                                "in order (space-separated keys)")
    planned = fields.Text(readonly=True, default="[]",
                          help="Sync states planned in this session (each once)")
    preflight_done = fields.Boolean(readonly=True)
    exchanges = fields.Integer(readonly=True)
    records_sent = fields.Integer(readonly=True)
    last_error = fields.Char(readonly=True)
    reconciliation_id = fields.Many2one(
        "accounting.sync.reconciliation", readonly=True, ondelete="set null",
        help="The reconciliation this session reads the books for (after the pushes and "
             "the pull)")
    books_read = fields.Text(readonly=True, help="Reconciliation: the read handed out")

    # ------------------------------------------------------------------------------------
    # The calls (the controller passes each with its WSDL arguments)
    # ------------------------------------------------------------------------------------

    @api.model
    def _dispatch(self, method, args):
        """The answer to the Web Connector's call ``method`` with ``args``."""
        handler = {
            "serverVersion": self._server_version, "clientVersion": self._client_version,
            "authenticate": self._authenticate, "sendRequestXML": self._send_request_xml,
            "receiveResponseXML": self._receive_response_xml,
            "connectionError": self._connection_error, "getLastError": self._get_last_error,
            "closeConnection": self._close_connection,
            "getInteractiveURL": lambda **kw: "", "interactiveDone": lambda **kw: "Done",
            "interactiveRejected": lambda **kw: "",
        }[method]
        return handler(**args)

    @api.model
    def _server_version(self):
        return SERVER_VERSION

    @api.model
    def _client_version(self, strVersion=None):
        """"" to go on; "O:<version>" asks for a newer Web Connector."""
        client = self.env.context.get("qbwc_client")
        if client and isinstance(strVersion, str):
            if len(_CLIENT_VERSIONS) >= _CLIENT_VERSIONS_MAX:
                _CLIENT_VERSIONS.clear()
            _CLIENT_VERSIONS[client] = strVersion[:40]
        version = _version_tuple(strVersion)
        if version and version < MIN_CLIENT_VERSION:
            return "O:%s" % ".".join(map(str, MIN_CLIENT_VERSION))
        return ""

    @api.model
    def _authenticate(self, strUserName=None, strPassword=None):
        """[ticket, "" or the company file | "none" | "nvu" | "busy", (seconds to wait)]:
        at most 4 strings (more crash the Web Connector)."""
        Connection = self.env["accounting.sync.connection"].sudo()
        connection = Connection.browse()
        if isinstance(strUserName, str) and 0 < len(strUserName) <= 64:
            connection = Connection.search([("qbwc_username", "=", strUserName),
                                            ("provider", "=", QBD)], limit=1)
        if not connection:
            connection._qbwc_check_password(None)  # the same time as a wrong password
            return ["", "nvu"]
        if not connection._qbwc_check_password(strPassword) or connection.state != "connected":
            _logger.info("Accounting sync: Web Connector login refused for connection %s",
                         connection.id)
            return ["", "nvu"]
        now = utcnow()
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute("SELECT id FROM accounting_sync_connection WHERE id = %s "
                                    "FOR NO KEY UPDATE NOWAIT", (connection.id,),
                                    log_exceptions=False)
        except psycopg2.errors.LockNotAvailable:
            return ["", "busy", "60"]
        connection.qbwc_last_contact_at = now
        version = _CLIENT_VERSIONS.get(self.env.context.get("qbwc_client"))
        if version:
            connection.qbwc_last_client_version = version
        self._expire(connection, now)
        if self.search_count([("connection_id", "=", connection.id), ("state", "=", "open")]):
            return ["", "busy", "60"]
        if not connection._qbwc_within_window(now):
            connection.qbwc_last_message = self.env._(
                "Outside the sync window: nothing is sent until %s.",
                "%02d:%02d" % divmod(round(connection.qbwc_window_start * 60), 60))
            return ["", "none"]
        self._recover(connection)
        link = not connection.qbwc_linked_at or connection.qbwc_link_requested
        if not link and not self.env["accounting.sync.binding"]._due_exists(connection) \
                and not self._pull_due(connection, now) \
                and not self.env["accounting.sync.reconciliation"].sudo().search_count(
                    [("connection_id", "=", connection.id),
                     ("state", "in", ("queued", "running"))], limit=1):
            connection.qbwc_last_message = self.env._("Nothing to send.")
            return ["", "none"]
        ticket = secrets.token_urlsafe(32)
        run = self.env["accounting.sync.run"].sudo().create({
            "connection_id": connection.id, "trigger": "web_connector",
            "user_id": (connection.token_holder_id or self.env.user).id})
        self.sudo().create({
            "connection_id": connection.id, "run_id": run.id,
            "ticket_hash": _ticket_hash(ticket), "expires_at": now + TICKET_TTL,
            "stage": "link" if link else "push"})
        return [ticket, connection.qbwc_company_file or ""]

    @api.model
    def _send_request_xml(self, ticket=None, strHCPResponse=None, strCompanyFileName=None,
                          qbXMLCountry=None, qbXMLMajorVers=0, qbXMLMinorVers=0):
        """The next qbXML request, or "" (then getLastError says why)."""
        session = self._from_ticket(ticket)
        if not session:
            return ""
        try:  # (a host response QuickBooks never wrote fails the session too)
            if not session.exchanges and not session.company_file and \
                    not session._first_contact(strHCPResponse, strCompanyFileName,
                                               qbXMLCountry, qbXMLMajorVers, qbXMLMinorVers):
                return ""
            body = session._next_body()
        except ProviderError as e:
            session._fail(session.connection_id._message(e))
            return ""
        if not body:
            session._fail(self.env._("Nothing could be sent: %s",
                                     session.run_id.outcome or self.env._(
                                         "the records wait for mappings or other records.")),
                          state="closed")
            return ""
        session.exchanges += 1
        session.run_id.batches += 1
        return body

    @api.model
    def _receive_response_xml(self, ticket=None, response=None, hresult=None, message=None):
        """0..99: the share done, another exchange follows; 100: done; -1: an error
        (getLastError says it)."""
        session = self._from_ticket(ticket)
        if not session:
            return -1
        if hresult:
            # The response is meaningless: what was sent is in flight, looked up next time.
            session._fail(self.env._(
                "QuickBooks reported an error (%(code)s): %(message)s. What was sent is looked "
                "up in QuickBooks at the next run before anything is sent again.",
                code=hresult, message=(message or "-")[:500]))
            return -1
        try:
            if session.stage == "link":
                session._link_page(response or "")
            elif session.stage == "pull":
                session._pull_page(response or "")
            elif session.stage == "reconcile":
                session._books_page(response or "")
            else:
                session._push_answer(response or "")
            return session._progress()
        except ProviderError as e:
            session._fail(session.connection_id._message(e))
            return -1

    @api.model
    def _connection_error(self, ticket=None, hresult=None, message=None):
        session = self._from_ticket(ticket)
        if session:
            session._fail(self.env._(
                "The Web Connector could not reach QuickBooks (%(code)s): %(message)s. Nothing "
                "is lost: the next run starts where this one stopped.",
                code=hresult or "-", message=(message or "-")[:500]))
        return "done"

    @api.model
    def _get_last_error(self, ticket=None):
        session = self._from_ticket(ticket, touch=False, any_state=True)
        if not session:
            return self.env._("This Web Connector session is unknown or has expired; the next "
                              "scheduled run starts a new one.")
        return session.last_error or self.env._("No error.")

    @api.model
    def _close_connection(self, ticket=None):
        session = self._from_ticket(ticket, touch=False, any_state=True)
        if not session:
            return self.env._("Done.")
        return session._close()

    # ------------------------------------------------------------------------------------
    # Sessions: tickets, expiry, recovery of what an earlier session left in flight
    # ------------------------------------------------------------------------------------

    @api.model
    def _from_ticket(self, ticket, touch=True, any_state=False):
        """The session of ``ticket`` (open and not expired, unless ``any_state``), as
        superuser: the ticket is the Web Connector's credential."""
        if not isinstance(ticket, str) or not 20 <= len(ticket) <= 100:
            return self.browse()
        session = self.sudo().search([("ticket_hash", "=", _ticket_hash(ticket))], limit=1)
        if not session or any_state:
            return session
        now = utcnow()
        if session.state != "open" or session.expires_at <= now:
            if session.state == "open":
                session._expire_one()
            return self.browse()
        if touch:
            session.expires_at = now + TICKET_TTL
            session.connection_id.qbwc_last_contact_at = now
        return session

    @api.model
    def _expire(self, connection, now):
        for session in self.sudo().search([("connection_id", "=", connection.id),
                                           ("state", "=", "open"), ("expires_at", "<=", now)]):
            session._expire_one()

    def _expire_one(self):
        self.state = "expired"
        if self.run_id.state == "running":
            self.run_id._finish("interrupted", self.env._(
                "The Web Connector stopped calling; what was sent is looked up at the next run."))

    @api.model
    def _recover(self, connection):
        """Before a session plans anything: the records an earlier session left in flight
        (queued or handed over, no answer applied) are due again — and, being in flight, are
        looked up in QuickBooks before being added; the records QuickBooks had locked are
        due again too."""
        Binding = self.env["accounting.sync.binding"].sudo()
        Request = self.env["accounting.sync.request"].sudo()
        # The member rows of answered sends go first (as every run of the other providers
        # does): what is left to read is what is in flight, not every record ever sent.
        Request._forget_answered(connection)
        stuck = Request._unanswered_members(connection)
        stuck |= Binding.search([("connection_id", "=", connection.id),
                                 ("state", "=", "waiting"), ("error_code", "=", LOCKED)])
        stuck.filtered(lambda b: b.state in ("waiting", "pending")).write(
            {"state": "pending", "error_code": False})

    def _run_context(self):
        """The engine's context for this session's run: as superuser (the Web Connector
        logged in with the connection's password), in the connection's company."""
        session = self.sudo().with_company(self.connection_id.company_id)
        context = RunContext(session.env, session.connection_id, session.run_id, commit=False)
        if self.preflight_done:
            # The pre-flight (what the queue needs and lacks) reads every due record: once
            # a session, in its first planning, not in every exchange.
            context.preflight = False
        return context

    def _fail(self, message, state="failed"):
        self.write({"last_error": message, "state": state})
        self.connection_id.qbwc_last_message = message
        if self.run_id.state == "running":
            self.run_id._finish("failed" if state == "failed" else None, message)

    # ------------------------------------------------------------------------------------
    # The first exchange: what QuickBooks says of itself
    # ------------------------------------------------------------------------------------

    def _first_contact(self, hcp, company_file, country, major, minor):
        connection = self.connection_id
        adapter = connection._adapter()
        host = adapter.parse_host(hcp) if hcp else None
        country = (getattr(host, "country", None) or country or "").upper()[:2] or False
        supported = list(getattr(host, "supported_versions", None) or []) or (
            ["%s.%s" % (major, minor)] if major else [])
        version = adapter.qbxml_version_for(supported) if supported else "13.0"
        self.write({"client_version": connection.qbwc_last_client_version,
                    "company_file": company_file or False, "country": country,
                    "qbxml_version": version})
        values = {"qbwc_last_company_file": company_file or False,
                  "qbwc_last_country": country, "qbwc_qbxml_version": version}
        if connection.qbwc_company_file and not _same_file(connection.qbwc_company_file,
                                                           company_file):
            connection.write(values)
            self._fail(self.env._(
                "This Web Connector application is linked to the company file %(pinned)s, but "
                "QuickBooks has %(open)s open. Open %(pinned)s in QuickBooks, or make another "
                "connection for that company file.", pinned=connection.qbwc_company_file,
                open=company_file or "-"))
            return False
        if not connection.qbwc_company_file:
            values.update(qbwc_company_file=company_file or False,
                          remote_company_id=company_file or False,
                          remote_company_name=getattr(host, "company_name", None) or False)
        if country in ("US", "CA", "UK") and country != connection.qbwc_country:
            connection._log(self.env._("QuickBooks reports a %(country)s edition: the "
                                       "connection's country is now %(country)s.",
                                       country=country))
            values["qbwc_country"] = country
        if host and getattr(host, "home_currency", None):
            values["remote_currency"] = host.home_currency
        values["remote_country"] = {"UK": "GB"}.get(country, country) if country else False
        connection.write(values)
        return True

    # ------------------------------------------------------------------------------------
    # What the next exchange carries
    # ------------------------------------------------------------------------------------

    def _link_types(self):
        us = (self.connection_id.qbwc_country or "US") == "US"
        return [t for t in LINK_TYPES if us or t not in US_ONLY_TYPES]

    def _next_body(self):
        if self.stage == "link":
            types = self._link_types()
            return self.connection_id._adapter().list_request(
                types[self.link_index], iterator_id=self.iterator_id or None,
                max_returned=LIST_PAGE_SIZE)
        if self.stage == "pull":
            return self._pull_body()
        if self.stage == "reconcile":
            return self._books_body()
        Request = self.env["accounting.sync.request"].sudo()
        keys = (self.next_keys or "").split()
        body = key = None
        while keys and not body:
            key = keys.pop(0)
            row = Request.search([("key", "=", key)], limit=1)
            body = row.body if row and row.state == "queued" else None
        self.next_keys = " ".join(keys)
        if not body:
            planned = self._plan_next()
            if not planned:
                # nothing to send: what changed in QuickBooks is read, when that is due,
                # then the books compared, when asked
                if self._start_pull():
                    return self._pull_body()
                return self._books_body() if self._start_reconcile() else None
            key, body = planned.key, planned.body
        Request._fetched(key)
        self.out_key = key
        return body

    def _plan_next(self):
        """The next request, planned now from the queue (None when nothing is due); the
        others planned with it (several kinds of removals at once) wait in ``next_keys``."""
        context = self._run_context()
        planned = set(json.loads(self.planned or "[]"))
        request = context.env["accounting.sync.engine"]._queued_next(context, planned)
        self.write({"planned": json.dumps(self._still_planned(planned)),
                    "preflight_done": True})
        self._queue_keys(context.queued_out)
        if request is not None:
            self.records_sent += request.size or len(request.records)
        return request

    def _still_planned(self, planned):
        """The planned sync states that could come up again in this session: those not
        synced or skipped (those are not due, and keeping them would make every exchange of
        a large queue read a longer list), nor waiting for another record (planned again
        once that one is synced); a failed one is sent again next session."""
        if not planned:
            return []
        self.env["accounting.sync.binding"].flush_model(["state", "error_code"])
        self.env.cr.execute("""
            SELECT id FROM accounting_sync_binding
             WHERE id = ANY(%s) AND (state IN ('pending', 'failed')
                   OR state = 'waiting' AND error_code IS DISTINCT FROM 'blocked')
          ORDER BY id
        """, (sorted(planned),))
        return [binding_id for (binding_id,) in self.env.cr.fetchall()]

    def _queue_keys(self, requests):
        if requests:
            self.next_keys = " ".join((self.next_keys or "").split()
                                      + [request.key for request in requests])

    def _progress(self):
        """The share done (0..99), or 100 once nothing is left for this session."""
        if self.stage == "link":
            types = self._link_types()
            return min(99, int(100 * self.link_index / (len(types) + 1)))
        if self.stage == "pull":
            if self.link_index >= len(PULL_TYPES):
                self._pull_done()
                return 99 if self.stage == "reconcile" else 100
            return min(99, 90 + self.link_index)
        if self.stage == "reconcile":
            return 99 if self.books_read else 100
        if not self.next_keys:
            planned = self._plan_next()
            if planned is None:
                return 99 if self._start_pull() or self._start_reconcile() else 100
            self.next_keys = " ".join([planned.key] + (self.next_keys or "").split())
        remaining = self.env["accounting.sync.binding"].sudo().search_count([
            ("connection_id", "=", self.connection_id.id), ("state", "=", "pending")])
        done = self.run_id._processed()
        return max(1, min(99, int(100 * done / max(done + remaining, 1))))

    # ------------------------------------------------------------------------------------
    # Answers
    # ------------------------------------------------------------------------------------

    def _link_page(self, response):
        """One page of a list read by the first link: accounts and taxes into the remote
        records (mapped as for the other providers), the rest counted."""
        connection = self.connection_id
        adapter = connection._adapter()
        types = self._link_types()
        list_type = types[self.link_index]
        page = adapter.parse_list(list_type, response)
        counts = json.loads(self.link_counts or "{}")
        counts[list_type] = counts.get(list_type, 0) + len(page.records)
        if page.status_code not in (0, 1, None) and not page.records:
            self.last_error = self.env._("QuickBooks refused reading the %(list)s list: "
                                         "%(message)s", list=list_type,
                                         message=page.status_message or page.status_code)
        if list_type == qbd_lists.ACCOUNT:
            self.env["accounting.sync.remote.record"]._store_chart(
                connection, Chart(accounts=page.records))
        elif list_type == qbd_lists.SALES_TAX_CODE:
            self.env["accounting.sync.remote.record"]._store_chart(
                connection, Chart(taxes=page.records))
        elif list_type == qbd_lists.ITEM_SALES_TAX:
            # US: lines say Tax / Non (the codes, mapped); the document names its sales tax
            # item, the company's first active one (as QBO US's default tax code).
            item = next((r for r in page.records if r.active), None)
            if item and not connection.remote_tax_code:
                connection.remote_tax_code = item.id
        values = {"link_counts": json.dumps(counts)}
        if page.iterator_id and page.remaining:
            values["iterator_id"] = page.iterator_id
        else:
            values.update(iterator_id=False, link_index=self.link_index + 1)
        self.write(values)
        if self.link_index >= len(types):
            self._link_done(counts)

    def _link_done(self, counts):
        connection = self.connection_id
        connection.write({"qbwc_linked_at": fields.Datetime.now(),
                          "qbwc_link_requested": False})
        self.stage = "push"
        connection._log(self.env._(
            "Lists read from the company file %(file)s: %(counts)s.",
            file=connection.qbwc_company_file or "-",
            counts=", ".join("%s %s" % (count, name) for name, count in counts.items())))

    def _push_answer(self, response):
        """The answer to the request out: each record's result on its sync state."""
        Request = self.env["accounting.sync.request"].sudo()
        row = Request.search([("key", "=", self.out_key)], limit=1) if self.out_key else Request
        self.out_key = False
        if not row:
            return
        context = self._run_context()
        engine = context.env["accounting.sync.engine"]
        answered, results = engine._queued_answer(context, row.with_env(context.env), response)
        self._settle(context, answered, results)
        # follow-ups (a look-up before an add, a fresh EditSequence): fetched first
        self._queue_keys(context.queued_out)

    def _settle(self, context, bindings, results):
        """What is not a failure of the record: QuickBooks had it locked (sent again next
        session), or a record it references is missing there (that one is sent again first,
        this one waits for it)."""
        for binding, result in zip(bindings, results):
            code = getattr(result.error, "code", None) if not result.ok else None
            if code == LOCKED:
                binding.write({"state": "waiting", "attempts": max(binding.attempts - 1, 0)})
                context.run._count(failed=-1, waiting=1)
            elif code == REFERENCE_MISSING:
                dependency = self._missing_dependency(binding, result.error)
                if dependency:
                    dependency.write({"state": "pending", "remote_id": False,
                                      "remote_version": False, "payload_hash": False,
                                      "error_code": False, "last_error": False})
                    binding.write({"state": "waiting", "error_code": "blocked",
                                   "blocked_by_id": dependency.id,
                                   "attempts": max(binding.attempts - 1, 0)})
                    context.run._count(failed=-1, waiting=1)

    def _missing_dependency(self, binding, error):
        """The sync state of the record ``binding``'s document references and QuickBooks no
        longer has (the ListID or TxnID the answer names), if it is one of ours."""
        params = getattr(error, "params", None) or {}
        reference = params.get("reference") or ""
        remote_id = reference if re.fullmatch(r"[0-9A-F]+-\d+", reference) else None
        name = None if remote_id else reference
        Binding = self.env["accounting.sync.binding"].sudo()
        domain = [("connection_id", "=", binding.connection_id.id), ("id", "!=", binding.id)]
        if remote_id:
            return Binding.search(domain + [("remote_id", "=", remote_id)], limit=1)
        if name:
            return Binding.search(domain + [("record_name", "=", name),
                                            ("remote_id", "!=", False)], limit=1)
        return Binding

    # ------------------------------------------------------------------------------------
    # Changes made in QuickBooks: payments, voids and deletions, by modification time
    # ------------------------------------------------------------------------------------

    @api.model
    def _pull_due(self, connection, now):
        """Whether this session also reads what changed in QuickBooks: ongoing mode, a
        start date, the lists linked, and the last read older than *Pull Changes Every*."""
        if connection.qbwc_mode != "ongoing" or not connection.sync_start_date or \
                not connection.qbwc_linked_at:
            return False
        last = connection.last_pull_at
        return not last or last + timedelta(minutes=max(connection.pull_interval, 1)) <= now

    def _start_pull(self):
        """After the pushes: the pull stage, when due (else the session is done)."""
        if not self._pull_due(self.connection_id, utcnow()):
            return False
        self.write({"stage": "pull", "link_index": 0, "iterator_id": False,
                    "pull_cursors": "{}"})
        return True

    def _pull_cursor_rows(self):
        return self.env["accounting.sync.puller"].sudo()._cursors(
            self.connection_id, PULL_TYPES, fields.Datetime.now())

    def _pull_body(self):
        """One page of one type's changes, from its cursor (QuickBooks' own local time of
        the last change read) or, the first time, from the time the cursor was made."""
        pull_type = PULL_TYPES[self.link_index]
        cursor = self._pull_cursor_rows().filtered(lambda c: c.remote_type == pull_type)
        position = cursor.position or None
        since = moment(position)
        return self.connection_id._adapter().pull_request(
            pull_type, cursor=None if since else position, since=since,
            iterator_id=self.iterator_id or None, max_returned=LIST_PAGE_SIZE)

    def _pull_page(self, response):
        """One page read: its changes recorded (our own writes left out), the type's
        furthest time kept for when the whole pull is applied."""
        connection = self.connection_id
        adapter = connection._adapter()
        pull_type = PULL_TYPES[self.link_index]
        page = adapter.parse_pull(pull_type, response, connection.remote_company_id)
        puller = self.env["accounting.sync.puller"].sudo()
        received = puller._record_pulled(connection, page.changes)
        self.run_id._count(changes_received=received, reads=1)
        cursors = json.loads(self.pull_cursors or "{}")
        failed = cursors.setdefault("_failed", {})
        if page.status_code not in (0, 1, None) and not page.changes:
            failed[pull_type] = page.status_message or str(page.status_code)
        elif page.cursor:
            cursors[pull_type] = adapter.latest_cursor(cursors.get(pull_type), page.cursor)
        values = {"pull_cursors": json.dumps(cursors)}
        if page.more and pull_type not in failed:
            values["iterator_id"] = page.iterator_id
        else:
            values.update(iterator_id=False, link_index=self.link_index + 1)
        self.write(values)

    def _pull_done(self):
        """Every type read: the changes applied (payments recorded, voids noted...), the
        cursors moved only past what was applied."""
        connection = self.connection_id.with_company(self.connection_id.company_id).sudo()
        run = self.run_id
        self.env["accounting.sync.applier"].sudo().with_company(
            connection.company_id)._apply_changes(connection, run=run)
        cursors = json.loads(self.pull_cursors or "{}")
        failed = {kind: ProviderError(code="qbd_read_refused", params={
            "provider": connection._provider_label(), "text": text})
            for kind, text in cursors.pop("_failed", {}).items()}
        result = PullResult(cursors={kind: at for kind, at in cursors.items()
                                     if kind not in failed}, failed=failed)
        now = fields.Datetime.now()
        self.env["accounting.sync.puller"].sudo()._advance(
            connection, self._pull_cursor_rows(), result, now)
        connection.last_pull_at = now
        if not self._start_reconcile():
            self.stage = "push"  # the session is done: closeConnection follows

    # ------------------------------------------------------------------------------------
    # Reconciliation: the books read one request an exchange (providers' quickbooks_desktop
    # books), after the pushes and the pull
    # ------------------------------------------------------------------------------------

    def _start_reconcile(self):
        """The reconcile stage, when a reconciliation of the connection waits (else False)."""
        if self.stage == "reconcile" and self.books_read:
            return True
        rec = self.env["accounting.sync.reconciliation"].sudo()._start_queued(
            self.connection_id)
        if not rec:
            return False
        read = self.connection_id._adapter().first_books_read()
        self.write({"stage": "reconcile", "reconciliation_id": rec.id,
                    "books_read": json.dumps(read.to_dict())})
        return True

    def _current_read(self):
        return Read.from_dict(json.loads(self.books_read)) if self.books_read else None

    def _books_body(self):
        rec = self.reconciliation_id
        return self.connection_id._adapter().books_request(
            self._current_read(), rec.as_of_date, rec.connection_id.sync_start_date,
            rec.basis)

    def _books_page(self, response):
        """One read answered: added to the reconciliation's books; the next read, or the
        comparison once everything is read (or the read budget is spent)."""
        read = self.reconciliation_id._queued_answer(self._current_read(), response)
        self.run_id._count(reads=1)
        self.books_read = json.dumps(read.to_dict()) if read else False

    # ------------------------------------------------------------------------------------
    # The end
    # ------------------------------------------------------------------------------------

    def _close(self):
        """The session's end: the run finished, one-time mode honoured; the words the Web
        Connector shows."""
        connection = self.connection_id
        if self.state == "open":
            self.state = "closed"
        run = self.run_id
        if run.state == "running":
            run._finish()
        summary = run._summary() if run else self.env._("Done.")
        if self.last_error and self.state == "failed":
            summary = "%s. %s" % (summary, self.last_error)
        connection.qbwc_last_message = summary
        if connection.qbwc_mode == "one_time" and connection.state == "connected" and \
                connection.qbwc_linked_at and not connection.qbwc_link_requested and \
                not self.env["accounting.sync.binding"]._due_exists(connection) and \
                not self.env["accounting.sync.request"]._unanswered_members(connection):
            connection._qbwc_deauthorize(self.env._(
                "One-time sync done: the lists were read and the queue is empty. The Web "
                "Connector password no longer works; generate a new one to sync again."))
            summary = "%s. %s" % (summary, self.env._("One-time sync complete."))
        return summary[:1000]

"""QuickBooks Desktop through the QuickBooks Web Connector: a queued provider.

Nothing is sent from here: :meth:`QuickBooksDesktopAdapter.plan` (and :meth:`plan_removals`)
build qbXML documents that the Odoo side stores (:func:`.pending.dump_request`) until the Web
Connector fetches them; the response comes back in a later call and
:meth:`~QuickBooksDesktopAdapter.interpret` reads it (:mod:`.outcomes`), returning the results
and the follow-up requests to store in turn (a look-up's add, a Mod with a fresh
EditSequence...). Follow-ups get fresh keys (a digest of the request answered, the step and
the records); their records keep the original record's ``key``.

A record that cannot be expressed in qbXML (a sales line without an item, a payment changed
after it was written — QuickBooks payments are added once and never modified here:
``qbd_payment_change``) is planned as a :class:`.pending.Pending` of action ``fail``: it has
no message in the body and ``interpret`` fails it with its code whatever the answer. A
request whose every record is such has ``body`` None: nothing is to be sent, call
``interpret(request, Answer(key=request.key))`` at once.
"""
from ..base import Adapter, Answer, Capabilities, Request, request_key
from ..documents import DOCUMENT_KINDS, JOURNAL_KINDS, PARTY_KINDS, PAYMENT_KINDS
from ..errors import ProviderResponseError
from ..sync_rules import (
    PayloadError, UsageError, chunks, digest, no_answer, record_label, single_kind,
    unreadable,
)
from . import books, host, lists, pull, qbxml
from . import pending as p
from .outcomes import Outcomes
from .reading import by_request_id

VOID_TYPE = {"invoice": "Invoice", "credit_note": "CreditMemo", "bill": "Bill",
             "vendor_credit": "VendorCredit", "journal_entry": "JournalEntry"}
DELETE_TYPE = {"customer_payment": "ReceivePayment", "vendor_payment": "BillPaymentCheck"}
ON_ERROR = ("continueOnError", "stopOnError", "rollbackOnError")


class QuickBooksDesktopAdapter(Adapter):
    """QuickBooks Desktop (see :class:`..base.Adapter` for the contract and the module
    docstring for the queue). ``country``: the company file's (HostRet ``Country``: US, CA,
    UK), which decides the tax and address rules (:mod:`.qbxml`); ``qbxml_version``: the
    version spoken (:func:`.host.qbxml_version_for`); ``on_error``: the ``onError`` of every
    request; ``batch_size``: records per request (default the capability's 25)."""

    CAPABILITIES = Capabilities(
        code="quickbooks_desktop", label=qbxml.LABEL, batch_size=25, queued=True,
        credentials="password", item_required_kinds=qbxml.SALES_KINDS,
        sandbox_code="qbd", settings=(),
        # read within the Web Connector's sessions, not by changes(): the order applied
        pull_types=pull.PULL_TYPES)

    def __init__(self, settings=None, country="US", qbxml_version="13.0",
                 on_error="continueOnError", batch_size=None, **kwargs):
        super().__init__(settings=settings, **kwargs)
        country = (country or "US").upper()
        self.country = "UK" if country == "GB" else country
        self.qbxml_version = str(qbxml_version or "13.0")
        self.on_error = on_error if on_error in ON_ERROR else "continueOnError"
        self.batch_size = int(batch_size) if batch_size and int(batch_size) > 0 \
            else self.CAPABILITIES.batch_size

    # -- where a person sees a record -------------------------------------------------------

    @classmethod
    def web_url(cls, environment, kind, remote_id):
        """QuickBooks Desktop has no web app: no URL."""
        return None

    @classmethod
    def sandbox_resource(cls, kind):
        """The local sandbox's QuickBooks Desktop records are named by their qbXML object."""
        if kind == "product":
            return "Item"
        return qbxml.TXN_OBJECT.get(kind) or kind.capitalize()

    # -- planning -----------------------------------------------------------------------------

    def plan(self, records, operation="write"):
        """The requests that write ``records`` (one kind), at most ``batch_size`` each; their
        records are :class:`.pending.Pending` s, their body the qbXML document."""
        if not records:
            return []
        kind = single_kind(records)
        return [self._request(kind, operation, request_key(operation, kind, batch),
                              [self._pending(kind, record) for record in batch])
                for batch in chunks(list(records), self.batch_size)]

    def plan_removals(self, orders):
        """The requests that remove ``orders`` (:class:`.pending.Removal` s): documents and
        journal entries voided (TxnVoid), payments deleted (TxnDel: QuickBooks cannot void
        them), customers, vendors and products made inactive (a Mod with ``IsActive`` false;
        without an EditSequence, it is read first). Consecutive orders of one kind share a
        request (operation ``void`` or ``deactivate``)."""
        requests, group = [], []
        for order in list(orders) + [None]:
            if group and (order is None or order.kind != group[0].kind
                          or len(group) == self.batch_size):
                kind = group[0].kind
                operation = "deactivate" if kind in PARTY_KINDS + ("product",) else "void"
                requests.append(self._request(kind, operation,
                                              request_key(operation, kind, group),
                                              [self._removal(o) for o in group]))
                group = []
            if order is not None:
                group.append(order)
        return requests

    def _request(self, kind, operation, key, records):
        return Request(kind=kind, records=records, key=key, body=self._body(records),
                       size=len(records), operation=operation)

    def _body(self, records):
        messages = [(position, qbxml.parse_own(record.element))
                    for position, record in enumerate(records, 1) if record.action != p.FAIL]
        if not messages:
            return None
        return qbxml.envelope(messages, self.qbxml_version, self.on_error)

    def _pending(self, kind, record):
        """The Pending of one record to write: add, mod, or a look-up first."""
        number = record_label(record)
        obj = self._object(kind, record)
        pending = p.Pending(key=record.key, kind=kind, action=p.ADD, number=number, obj=obj,
                            remote_id=record.remote_id, remote_version=record.remote_version,
                            match=self._match(kind, record))
        try:
            if kind in PAYMENT_KINDS and record.remote_id:
                raise PayloadError("qbd_payment_change", provider=self.label,
                                   noun=qbxml.NOUN[kind], record=number)
            message = self._message(kind, record, bool(record.remote_id))
        except PayloadError as e:
            pending.action, pending.error = p.FAIL, {"code": e.code, "params": e.params}
            return pending
        if record.remote_id:
            pending.action, pending.element = p.MOD, qbxml.to_text(message)
            if not record.remote_version:
                return self._reread_first(pending, p.MOD)
            return pending
        if getattr(record, "find_existing", False):
            pending.action, pending.then = p.FIND, qbxml.to_text(message)
            pending.element = qbxml.to_text(self._find_query(kind, obj, pending.match))
            return pending
        pending.element = qbxml.to_text(message)
        return pending

    def _removal(self, order):
        kind = order.kind
        if kind not in VOID_TYPE and kind not in DELETE_TYPE and kind not in PARTY_KINDS \
                and kind != "product":
            raise UsageError("Unknown record kind %r" % kind)
        pending = p.Pending(key=order.key, kind=kind, action=p.VOID, number=order.number,
                            obj=self._object(kind, order), remote_id=order.remote_id,
                            remote_version=order.remote_version)
        if kind in VOID_TYPE:
            pending.element = qbxml.to_text(qbxml.void_message(VOID_TYPE[kind], order.remote_id))
        elif kind in DELETE_TYPE:
            pending.action = p.DELETE
            pending.element = qbxml.to_text(qbxml.delete_message(DELETE_TYPE[kind],
                                                                 order.remote_id))
        else:
            pending.action = p.DEACTIVATE
            pending.element = qbxml.to_text(qbxml.deactivate_message(
                pending.obj, order.remote_id, order.remote_version))
            if not order.remote_version:
                return self._reread_first(pending, p.DEACTIVATE)
        return pending

    @staticmethod
    def _reread_first(pending, action):
        """Without an EditSequence, the record is read first, then ``action`` sent with the
        EditSequence read (counts as the one refresh a Mod gets)."""
        listed = pending.kind in PARTY_KINDS or pending.kind == "product"
        pending.then, pending.then_action = pending.element, action
        pending.action = p.REREAD
        pending.element = qbxml.to_text(qbxml.query_message(
            "Item" if pending.kind == "product" else pending.obj, listed,
            remote_id=pending.remote_id,
            only=("ListID" if listed else "TxnID", "EditSequence")))
        return pending

    @staticmethod
    def _object(kind, record):
        if kind in PARTY_KINDS:
            return "Customer" if kind == "customer" else "Vendor"
        if kind == "product":
            return qbxml.item_object(getattr(record, "service", True))
        return qbxml.TXN_OBJECT[kind]

    def _message(self, kind, record, mod):
        if kind in PARTY_KINDS:
            return qbxml.party_message(record, self.country, mod)
        if kind == "product":
            return qbxml.item_message(record, mod)
        if kind in DOCUMENT_KINDS:
            return qbxml.document_message(record, self.country, mod)
        if kind in JOURNAL_KINDS:
            return qbxml.journal_message(record, mod)
        return qbxml.payment_message(record)

    @staticmethod
    def _match(kind, record):
        """What a look-up's answer is compared with (JSON values only)."""
        if kind in PARTY_KINDS:
            return {"name": qbxml.list_name(record.name, qbxml.PARTY_NAME_MAX),
                    "email": record.email}
        if kind == "product":
            return {"name": qbxml.list_name(record.name, qbxml.ITEM_NAME_MAX)}
        ref = qbxml.ref_number(getattr(record, "number", None), qbxml.REF_NUMBER_MAX[kind])
        party = getattr(record, "party", None)
        match = {"ref": ref, "number": getattr(record, "number", None),
                 "party": str(party.id) if party is not None and party.id else None}
        if kind in PAYMENT_KINDS:
            match.update(date=record.date.isoformat(), total=str(record.amount),
                         allocations=[[str(a.document.id), str(a.amount)]
                                      for a in record.allocations])
        elif kind in JOURNAL_KINDS:
            match["total"] = str(sum((line.debit or 0) for line in record.lines))
        else:
            match["total"] = str(record.amount_total)
        return match

    @staticmethod
    def _find_query(kind, obj, match):
        if kind in PARTY_KINDS:
            return qbxml.query_message(obj, True, name=match["name"])
        if kind == "product":
            return qbxml.query_message("Item", True, name=match["name"])
        return qbxml.query_message(obj, number=match["ref"] or "",
                                   lines=kind in PAYMENT_KINDS + JOURNAL_KINDS)

    # -- answers ------------------------------------------------------------------------------

    def interpret(self, request, answer):
        """``(results, follow_ups)`` of the Web Connector's response to ``request``
        (:mod:`.outcomes`): one WriteResult per record, in order, and the requests to send
        next. A record whose outcome waits for a follow-up (a look-up, a re-read) has, in
        its slot, the ``no_answer`` result it keeps should the follow-up never be answered
        (its outcome is not known yet); the follow-up request carries it (its records keep
        the record's key) and the follow-up's result replaces it."""
        if answer.key != request.key:
            raise UsageError("This answer (key %s) is not the answer to request %s"
                             % (answer.key, request.key))
        records = list(request.records)
        if answer.raw is None or (isinstance(answer.raw, (str, bytes)) and not answer.raw.strip()):
            return [self._unanswered(record) for record in records], []
        try:
            found = by_request_id(answer.raw)
        except ProviderResponseError as e:
            return [self._unanswered(record, e) for record in records], []
        outcomes, results = Outcomes(), []
        for position, record in enumerate(records, 1):
            try:
                result = outcomes.result(record, found.get(str(position)))
            except (ProviderResponseError, ValueError, TypeError, AttributeError, KeyError) as e:
                result = unreadable(record.key, e if isinstance(e, ProviderResponseError) else
                                    ProviderResponseError(params={
                                        "provider": self.label,
                                        "problem": "its answer is not shaped as qbXML says"}))
            results.append(result or no_answer(record.key, self.label))
        return results, self._follow_ups(request, outcomes.follow_ups)

    def _unanswered(self, record, error=None):
        if record.action == p.FAIL:
            return Outcomes().result(record, None)
        if error is not None:
            return unreadable(record.key, error)
        return no_answer(record.key, self.label)

    def _follow_ups(self, request, records):
        if not records:
            return []
        follow_ups = []
        for batch in chunks(records, self.batch_size):
            key = digest([request.key, "follow-up"] + [
                "%s:%s:%s:%s:%s" % (r.key, r.action, r.remote_id or "", r.remote_version or "",
                                    r.attempt) for r in batch], 64)
            follow_ups.append(self._request(request.kind, request.operation, key, batch))
        return follow_ups

    # -- between two calls, and the reads ----------------------------------------------------

    @staticmethod
    def dump_request(request):
        """:func:`.pending.dump_request`: ``request`` as JSON text for the database."""
        return p.dump_request(request)

    @staticmethod
    def load_request(text):
        """:func:`.pending.load_request`: the Request :meth:`dump_request` wrote."""
        return p.load_request(text)

    @staticmethod
    def parse_host(hcp_response, company_file=None):
        """:func:`.host.parse_host`: the HostInfo of a ``strHCPResponse`` (None if empty)."""
        return host.parse_host(hcp_response, company_file)

    @staticmethod
    def qbxml_version_for(supported_versions, our_max=host.OUR_VERSION):
        """:func:`.host.qbxml_version_for`."""
        return host.qbxml_version_for(supported_versions, our_max)

    def list_request(self, list_type, iterator_id=None, max_returned=250, from_modified=None,
                     request_id="1"):
        """:func:`.lists.list_request` in this adapter's qbXML version."""
        return lists.list_request(list_type, iterator_id, max_returned, from_modified,
                                  request_id, self.qbxml_version)

    @staticmethod
    def parse_list(list_type, response):
        """:func:`.lists.parse_list`: the ListPage a list query's response holds."""
        return lists.parse_list(list_type, response)

    def pull_request(self, pull_type, cursor=None, iterator_id=None, max_returned=100,
                     request_id="1", since=None):
        """:func:`.pull.pull_request` in this adapter's qbXML version: one page of what
        changed of ``pull_type`` (one of :data:`.pull.PULL_TYPES`)."""
        return pull.pull_request(pull_type, cursor, iterator_id, max_returned, request_id,
                                 since, self.qbxml_version)

    @staticmethod
    def parse_pull(pull_type, response, company_id):
        """:func:`.pull.parse_pull`: the PullPage a pull query's response holds."""
        return pull.parse_pull(pull_type, response, company_id)

    @staticmethod
    def latest_cursor(*cursors):
        """:func:`.pull.latest_cursor`: the greatest of pull cursors (None for none)."""
        return pull.latest_cursor(*cursors)

    # -- the books, as a reconciliation reads them (one request an exchange: .books) ---------

    @staticmethod
    def first_books_read():
        """:func:`.books.first_read`."""
        return books.first_read()

    def books_request(self, read, as_of, start, basis="accrual"):
        """:func:`.books.books_request` in this adapter's qbXML version."""
        return books.books_request(read, as_of, start, basis, self.qbxml_version)

    @staticmethod
    def parse_books(read, response, remote_books, kinds, known, as_of):
        """:func:`.books.parse_books`: the response added to ``remote_books``, the next read."""
        return books.parse_books(read, response, remote_books, kinds, known, as_of)

    def settle(self, request):
        """The results of a request that needs no sending (``body`` None: every record
        failed before anything was sent)."""
        return self.interpret(request, Answer(key=request.key))[0]

    # -- what a queued provider does not do ----------------------------------------------------

    def _writer(self, tokens, company_id):
        raise UsageError("%s answers later: its requests are fetched, not executed" % self.label)

    def void(self, tokens, company_id, kind, remote_id, remote_version=None):
        raise UsageError("%s removals are queued: use plan_removals()" % self.label)

    def deactivate(self, tokens, company_id, kind, remote_id, remote_version=None):
        raise UsageError("%s removals are queued: use plan_removals()" % self.label)

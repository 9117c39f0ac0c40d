"""A QuickBooks Desktop company file, in memory, answering qbXML 13.0 as QuickBooks does when
the Web Connector hands it a request: the lists (accounts, sales tax codes and items, service
and non-inventory items, terms, payment methods, customers, vendors, employees, other names)
and the transactions (Invoice, CreditMemo, Bill, VendorCredit, ReceivePayment,
BillPaymentCheck, JournalEntry) of one company file, and the trial balance of those books
(``GeneralSummaryReportQueryRq``, see ``qbd_reports``), with QuickBooks' identifiers (ListID,
TxnID, TxnLineID, EditSequence, TxnNumber), its computed totals and balances, and the status
codes a sync engine meets (1, 500, 3100, 3120, 3140, 3200, 3210, 3231, 3250, 3391, locks).

Why: the Odoo side talks to QuickBooks Desktop only through the Web Connector (``qbwc.py``
drives it like QBWC does); this module is the QuickBooks end of that conversation, so that a
whole sync can run on Linux with no QuickBooks.

Records are kept as the qbXML ``XxxRet`` they are answered with, as plain dicts (see
``qbd_xml``); ``records()`` hands out copies. Everything is guarded by one lock. Choices the
sandbox makes where QuickBooks' behaviour is not documented are listed in README.md
("QuickBooks Desktop: the company file and the Web Connector client").
"""
import copy
import json
import threading
import uuid
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from . import qbd_reports
from . import qbd_seed as seed
from .qbd_xml import as_list, dict_to_element, element_to_dict, parse, qbxml_version

COMPANY_TZ = timezone(timedelta(hours=-5))  # the company file's local time (Eastern standard)
DEFAULT_START = datetime(2026, 12, 1, 10, 0, 0, tzinfo=COMPANY_TZ)
CENT = Decimal("0.01")
ZERO = Decimal("0")

NAME_LISTS = ("Customer", "Vendor", "Employee", "OtherName")  # one name space
ITEM_TYPES = ("ItemService", "ItemNonInventory", "ItemSalesTax")
LIST_TYPES = ("Account", "SalesTaxCode", "StandardTerms", "PaymentMethod") + ITEM_TYPES + \
    NAME_LISTS
HAS_FULL_NAME = ("Account", "Customer", "ItemService", "ItemNonInventory")
LIST_ADD = ("Customer", "Vendor", "ItemService", "ItemNonInventory")  # Add and Mod requests
LIST_QUERY = ("Account", "SalesTaxCode", "ItemSalesTax", "ItemService", "ItemNonInventory",
              "StandardTerms", "PaymentMethod", "Customer", "Vendor", "Employee", "OtherName")
ADD_ONLY_FIELDS = ("OpenBalance", "OpenBalanceDate", "BarCode", "Contacts", "AdditionalNotes",
                   "DataExt", "LinkToTxn", "LinkToTxnID", "SetCredit", "IsAutoApply",
                   "PriceLevelRef", "OptionForPriceRuleConflict", "OverrideItemAccountRef",
                   "ForceUOMChange")


class Txn:
    """How one transaction type is kept: its party reference, its line kinds (request name →
    Ret name), its A/R or A/P account and its amount fields."""

    def __init__(self, name, party, lines, account=None, kind="sales"):
        self.name, self.party, self.lines, self.account, self.kind = \
            name, party, lines, account, kind


TXNS = OrderedDict((t.name, t) for t in (
    Txn("Invoice", "CustomerRef", {"InvoiceLine": "InvoiceLineRet"}, "ARAccountRef"),
    Txn("CreditMemo", "CustomerRef", {"CreditMemoLine": "CreditMemoLineRet"}, "ARAccountRef"),
    Txn("Bill", "VendorRef", {"ExpenseLine": "ExpenseLineRet", "ItemLine": "ItemLineRet"},
        "APAccountRef", "purchase"),
    Txn("VendorCredit", "VendorRef", {"ExpenseLine": "ExpenseLineRet",
                                      "ItemLine": "ItemLineRet"}, "APAccountRef", "purchase"),
    Txn("ReceivePayment", "CustomerRef", {}, "ARAccountRef", "payment"),
    Txn("BillPaymentCheck", "PayeeEntityRef", {}, "APAccountRef", "payment"),
    Txn("JournalEntry", None, {"JournalDebitLine": "JournalDebitLine",
                               "JournalCreditLine": "JournalCreditLine"}, None, "journal"),
))
TXN_ADD = tuple(TXNS)
TXN_MOD = ("Invoice", "CreditMemo", "Bill", "VendorCredit", "JournalEntry")
VOIDABLE = ("Invoice", "CreditMemo", "Bill", "VendorCredit", "BillPaymentCheck", "JournalEntry")
# Which documents a payment applies to, and which credits it may use (SetCredit).
PAYMENT_TARGETS = {"ReceivePayment": ("Invoice", "CreditMemo"),
                   "BillPaymentCheck": ("Bill", "VendorCredit")}

# Reference fields → the lists they point into (None: the list of the record itself).
ACCOUNT_REFS = ("AccountRef", "ARAccountRef", "APAccountRef", "DepositToAccountRef",
                "BankAccountRef", "IncomeAccountRef", "ExpenseAccountRef", "COGSAccountRef",
                "AssetAccountRef", "DiscountAccountRef", "OverrideItemAccountRef")
REF_TYPES = dict({name: ("Account",) for name in ACCOUNT_REFS}, **{
    "CustomerRef": ("Customer",), "VendorRef": ("Vendor",), "PayeeEntityRef": ("Vendor",),
    "EntityRef": NAME_LISTS, "ItemRef": ITEM_TYPES, "ItemSalesTaxRef": ("ItemSalesTax",),
    "SalesTaxCodeRef": ("SalesTaxCode",), "CustomerSalesTaxCodeRef": ("SalesTaxCode",),
    "TermsRef": ("StandardTerms",), "PaymentMethodRef": ("PaymentMethod",),
    "PreferredPaymentMethodRef": ("PaymentMethod",), "ParentRef": None,
    "DefaultItemSalesTaxRef": ("ItemSalesTax",), "DefaultTaxableSalesTaxCodeRef": ("SalesTaxCode",),
    "DefaultNonTaxableSalesTaxCodeRef": ("SalesTaxCode",),
})
REF_WORDS = {"Account": "Account", "Customer": "Customer", "Vendor": "Vendor",
             "Employee": "Employee", "OtherName": "Other Name", "ItemService": "Item",
             "ItemNonInventory": "Item", "ItemSalesTax": "Item", "SalesTaxCode": "Sales Tax Code",
             "StandardTerms": "Terms", "PaymentMethod": "Payment Method"}

MESSAGES = {
    0: "Status OK",
    1: "A query request did not find a matching object in QuickBooks",
    500: 'The query request has not been fully completed. There was a required element ("%s") '
         'that could not be found in QuickBooks.',
    1000: "There has been an internal error when processing the request: %s",
    3100: 'The name "%s" of the list element is already in use.',
    3120: 'Object "%s" specified in the request cannot be found.  QuickBooks error message: '
          'Invalid argument.  The specified record does not exist in the list.',
    3140: 'There is an invalid reference to QuickBooks %s "%s" in the %s.  QuickBooks error '
          'message: Invalid argument.  The specified record does not exist in the list.',
    3170: 'There was an error when modifying a %s "%s".  QuickBooks error message: '
          'This record is in use; it cannot be changed or deleted.',
    3175: "There was an error when saving a %s.  QuickBooks error message: This object is "
          "currently in use by another user (it is locked).",
    3176: "There was an error when saving a %s.  QuickBooks error message: Cannot perform this "
          "operation because the record is locked by another user.",
    3180: "There was an error when saving a %s.  QuickBooks error message: This list has been "
          "modified by another user.",
    3200: 'The provided edit sequence "%s" is out-of-date.',
    3210: "%s",
    3231: "The request has not been processed.",
    3250: 'This feature is not enabled or not available in this version of QuickBooks: the '
          '"%s" field cannot be used in a %s company file.',
    3391: 'The iterator "%s" is invalid: it has expired or belongs to another session.',
}
PARSE_HRESULT = "0x80040400"
PARSE_MESSAGE = "QuickBooks found an error when parsing the provided XML text stream."
VERSION_HRESULT = "0x80042500"
VERSION_MESSAGE = "The version of QBXML that was requested is not supported or is unknown."
FAULT_HRESULT = "0x80004005"
FAULT_MESSAGE = "Unspecified error"
CONNECTION_HRESULT = "0x80040408"
CONNECTION_MESSAGE = "Could not start QuickBooks."
TRANSPORT_FAULTS = ("lose_answer", "connection_error", "hresult")


class QBXMLError(Exception):
    """The request got no qbXML answer: QuickBooks reports an HRESULT instead (a parse error, an
    unsupported version, an injected fault). ``applied`` tells whether the requests were
    carried out anyway (the ``lose_answer`` fault)."""

    def __init__(self, hresult, message, applied=False):
        super().__init__("%s %s" % (hresult, message))
        self.hresult, self.message, self.applied = hresult, message, applied


class QBConnectionError(QBXMLError):
    """The Web Connector could not reach QuickBooks: nothing was delivered."""


class Status(Exception):
    """A request's error status (``statusCode`` ≥ 500): nothing of that request is applied."""

    def __init__(self, code, *params, message=None):
        if message is None:
            text = MESSAGES[code]
            message = text % params if params and "%" in text else text
        super().__init__(message)
        self.code, self.message = code, message


def severity(code):
    return "Info" if code < 500 else "Warn" if code < 1000 else "Error"


class Clock:
    """The company file's clock, in its local time (``COMPANY_TZ``). Frozen by default when a
    start is given (tests move it with ``advance``), else the real time; ``advance`` works in
    both modes."""

    def __init__(self, start=None, frozen=None):
        self.frozen = (start is not None) if frozen is None else frozen
        start = start or datetime.now(COMPANY_TZ)
        self.offset = (start - datetime.now(COMPANY_TZ)).total_seconds()
        self.start = start

    def now(self):
        if self.frozen:
            return self.start.astimezone(COMPANY_TZ).replace(microsecond=0)
        return (datetime.now(COMPANY_TZ) + timedelta(seconds=self.offset)).replace(microsecond=0)

    def advance(self, seconds):
        if self.frozen:
            self.start += timedelta(seconds=seconds)
        else:
            self.offset += seconds

    def stamp(self):
        return self.now().isoformat()

    def today(self):
        return self.now().date().isoformat()

    def state(self):
        return {"frozen": self.frozen, "now": self.stamp()}

    @classmethod
    def from_state(cls, state):
        return cls(datetime.fromisoformat(state["now"]), state["frozen"])


def money(value, field="Amount"):
    return number(value, field).quantize(CENT, ROUND_HALF_UP)


def number(value, field):
    """A qbXML number (quantity, rate, price) as a Decimal; 3210 if it is not one."""
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Status(3210, 'The "%s" field has an invalid value "%s".' % (field, value))


def fmt(amount):
    return "%.2f" % amount


def parse_time(text):
    """A qbXML date or datetime as an aware datetime (no offset → company local time)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Status(3210, 'The date "%s" is not valid.' % text)
    return value if value.tzinfo else value.replace(tzinfo=COMPANY_TZ)


def _strings(value):
    """Request-like data (numbers, bools) as qbXML text."""
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _match(fault, names):
    match = fault["match"]
    return match is None or any(match in (name, name[:-2]) for name in names)


class CompanyFile:
    """One QuickBooks Desktop company file. ``handle(request, session)`` answers a qbXML
    request document; sessions (``open_session``/``close_session``) own the query iterators."""

    def __init__(self, country="US", company_name="Sandbox Company", file_path=None,
                 supported_versions=seed.DEFAULT_VERSIONS, seed=True, clock=None):
        country = country.upper()
        if country not in ("US", "CA", "UK"):
            raise ValueError("country must be US, CA or UK, not %r" % country)
        self.country, self.company_name = country, company_name
        self.file_path = file_path or (
            "C:\\Users\\Public\\Documents\\Intuit\\QuickBooks\\Company Files\\%s.QBW"
            % company_name)
        self.supported_versions = tuple(supported_versions)
        self.clock = clock or Clock(DEFAULT_START)
        self.lock = threading.RLock()
        self.lists = {name: OrderedDict() for name in LIST_TYPES}
        self.txns = {name: OrderedDict() for name in TXNS}
        self.deleted_txns, self.deleted_lists = [], []
        self.counters = {"list": 0x80000000, "txn": 0x1A2A, "TxnNumber": 0, "seq": 0}
        self.iterators, self.sessions = {}, set()
        self.faults, self.calls = [], []
        # while _rebalance works: payments applied by document, what is open on each
        self._applied = self._opened = None
        if seed:
            self._seed()

    # ------------------------------------------------------------------ public helpers
    def open_session(self):
        """Start a QuickBooks session (the Web Connector opens the file): its token."""
        token = "{%s}" % uuid.uuid4()
        with self.lock:
            self.sessions.add(token)
        return token

    def close_session(self, token):
        """End a session: its iterators are gone (a later Continue gets 3391)."""
        with self.lock:
            self.sessions.discard(token)
            for key in [k for k, it in self.iterators.items() if it["session"] == token]:
                del self.iterators[key]

    def add_fault(self, kind, times=1, match=None, hresult=None, message=None):
        """Make the next ``times`` matching requests fail. ``kind``: a status code (e.g.
        ``"3200"``, ``"3170"``, ``3180``: that request answers that status, nothing applied),
        ``"lose_answer"`` (the whole request document is applied, then an HRESULT comes back
        instead of the answer), ``"connection_error"`` (QuickBooks cannot be reached: nothing
        applied) or ``"hresult"`` (nothing applied, an HRESULT comes back). ``match``: a
        request type (``"CustomerModRq"`` or ``"CustomerMod"``), None for any."""
        kind = str(kind)
        if kind not in TRANSPORT_FAULTS and not kind.isdigit():
            raise ValueError("fault kind must be a status code or one of %s"
                             % ", ".join(TRANSPORT_FAULTS))
        if int(times) < 1:
            raise ValueError("times must be at least 1")
        with self.lock:
            self.faults.append({"kind": kind, "times": int(times), "match": match,
                                "hresult": hresult, "message": message})

    def clear_faults(self):
        with self.lock:
            self.faults.clear()

    def records(self, kind):
        """Deep copies of the stored records of one list or transaction type (``"Customer"``,
        ``"Invoice"``…; ``"Item"`` = every item type), in creation order, as answered."""
        with self.lock:
            return [self._answer(kind_, record) for kind_, record in self._all(kind)]

    def record(self, kind, ident):
        """One record (by ListID/TxnID) as answered, or None."""
        with self.lock:
            found = self._find(kind, ident)
            return self._answer(kind, found) if found else None

    def act_as_user(self, action, kind, record=None, id=None, changes=None):
        """Change the books as someone working in QuickBooks would: ``"add"`` a record
        (``record`` as an ``XxxAdd`` dict), ``"mod"`` one (``changes`` as an ``XxxMod`` dict,
        no EditSequence needed), ``"delete"`` or ``"void"`` one (``id``). EditSequence and
        TimeModified move as they do in QuickBooks. Answers the record (None after a delete);
        a rule broken raises ValueError with QuickBooks' message."""
        with self.lock:
            try:
                if action == "add":
                    return self._answer(kind, self._add(kind, _strings(record or {})))
                if action == "mod":
                    current = self._find(kind, id)
                    if current is None:
                        raise Status(3120, id)
                    data = dict(_strings(changes or {}), EditSequence=current["EditSequence"])
                    data["TxnID" if kind in TXNS else "ListID"] = id
                    return self._answer(kind, self._mod(kind, data))
                if action == "delete":
                    if kind in TXNS:
                        self._txn_del(kind, id)
                    else:
                        self._list_del(kind, id)
                    return None
                if action == "void":
                    return self._answer(kind, self._void(kind, id))
            except Status as error:
                raise ValueError("%s: %s" % (error.code, error.message))
        raise ValueError("action must be add, mod, delete or void")

    def hcp_response(self):
        """The Host/Company/Preferences query answer QBWC sends with the first
        sendRequestXML of a session (``strHCPResponse``)."""
        request = ('<?qbxml version="%s"?><QBXML><QBXMLMsgsRq onError="continueOnError">'
                   '<HostQueryRq requestID="1"/><CompanyQueryRq requestID="2"/>'
                   '<PreferencesQueryRq requestID="3"/></QBXMLMsgsRq></QBXML>'
                   % self.max_version())
        return self.handle(request, record=False)

    def max_version(self):
        """The highest numeric qbXML version the file supports (e.g. "13.0")."""
        numeric = [v for v in self.supported_versions if v.replace(".", "").isdigit()]
        return max(numeric, key=lambda v: tuple(int(p) for p in v.split(".")))

    def save(self, path):
        """Write the books to a JSON file (for successive command-line runs)."""
        with self.lock:
            state = {"country": self.country, "company_name": self.company_name,
                     "file_path": self.file_path,
                     "supported_versions": list(self.supported_versions),
                     "clock": self.clock.state(), "lists": self.lists, "txns": self.txns,
                     "deleted_txns": self.deleted_txns, "deleted_lists": self.deleted_lists,
                     "counters": self.counters}
            text = json.dumps(state, indent=1)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
        company = cls(state["country"], state["company_name"], state["file_path"],
                      state["supported_versions"], seed=False,
                      clock=Clock.from_state(state["clock"]))
        company.lists = {k: OrderedDict(v) for k, v in state["lists"].items()}
        company.txns = {k: OrderedDict(v) for k, v in state["txns"].items()}
        company.deleted_txns, company.deleted_lists = state["deleted_txns"], \
            state["deleted_lists"]
        company.counters = state["counters"]
        return company

    # ------------------------------------------------------------------ the request
    def handle(self, request, session=None, record=True):
        """See ``_handle``; ``record=False`` (internal answers such as the HCP response):
        not logged in ``calls`` and no fault taken."""
        return self._handle(request, session, record)

    def _handle(self, request, session, record):
        """Answer a qbXML request document (str or bytes) with the response document (str).
        Requests are processed in order; under ``onError="stopOnError"`` the ones after an
        error are not processed and answer 3231. Raises QBXMLError (not well-formed, no or an
        unsupported ``<?qbxml version?>``, injected HRESULT faults) or QBConnectionError."""
        try:
            root = parse(request)
        except etree.XMLSyntaxError:
            raise QBXMLError(PARSE_HRESULT, PARSE_MESSAGE)
        version = qbxml_version(root)
        messages = root.find("QBXMLMsgsRq")
        if root.tag != "QBXML" or messages is None:
            raise QBXMLError(PARSE_HRESULT, PARSE_MESSAGE)
        if version not in self.supported_versions:
            raise QBXMLError(VERSION_HRESULT, VERSION_MESSAGE)
        requests = [child for child in messages if isinstance(child.tag, str)]
        names = [child.tag for child in requests]
        stop = messages.get("onError", "stopOnError") == "stopOnError"
        with self.lock:
            fault = self._take_fault(TRANSPORT_FAULTS, names) if record else None
            if record:
                self.calls.append({"session": session, "types": names,
                                   "onError": messages.get("onError"),
                                   "fault": fault and fault["kind"], "time": self.clock.stamp()})
            if fault and fault["kind"] == "connection_error":
                raise QBConnectionError(fault["hresult"] or CONNECTION_HRESULT,
                                        fault["message"] or CONNECTION_MESSAGE)
            if fault and fault["kind"] == "hresult":
                raise QBXMLError(fault["hresult"] or FAULT_HRESULT,
                                 fault["message"] or FAULT_MESSAGE)
            out_root = etree.Element("QBXML")
            out = etree.SubElement(out_root, "QBXMLMsgsRs")
            failed = False
            for element in requests:
                if failed and stop:
                    self._rs(out, element, 3231, MESSAGES[3231])
                    continue
                code, message, content, attrs = self._one(element, session, record)
                failed = failed or code >= 1000
                self._rs(out, element, code, message, content, attrs)
            if fault and fault["kind"] == "lose_answer":
                raise QBXMLError(fault["hresult"] or FAULT_HRESULT,
                                 fault["message"] or FAULT_MESSAGE, applied=True)
        body = etree.tostring(out_root, pretty_print=True, encoding="unicode")
        return '<?xml version="1.0" ?>\n' + body

    def _rs(self, out, element, code, message, content=(), attrs=None):
        name = element.tag[:-2] + "Rs" if element.tag.endswith("Rq") else element.tag + "Rs"
        rs = etree.SubElement(out, name)
        if element.get("requestID") is not None:
            rs.set("requestID", element.get("requestID"))
        rs.set("statusCode", str(code))
        rs.set("statusSeverity", severity(code))
        rs.set("statusMessage", message)
        for key, value in (attrs or {}).items():
            rs.set(key, str(value))
        for child_name, value in content:
            if etree.iselement(value):  # built with its attributes (a report's ReportRet)
                rs.append(value)
            else:
                dict_to_element(child_name, value, rs)

    def _take_fault(self, kinds, names):
        for fault in self.faults:
            wanted = fault["kind"].isdigit() if kinds is None else fault["kind"] in kinds
            if wanted and _match(fault, names):
                fault["times"] -= 1
                if fault["times"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _one(self, element, session, faults=True):
        """One XxxRq → (statusCode, statusMessage, [(child name, value)], Rs attributes)."""
        name = element.tag
        body = element_to_dict(element)
        body = body if isinstance(body, dict) else {}
        try:
            fault = self._take_fault(None, [name]) if faults else None
            if fault:
                code = int(fault["kind"])
                raise Status(code, message=fault["message"] or self._fault_text(code, name))
            return self._dispatch(name, body, element, session)
        except Status as error:
            return error.code, error.message, [], None

    @staticmethod
    def _fault_text(code, name):
        text = MESSAGES.get(code, "Injected error %d" % code)
        subject = name[:-2]
        for suffix in ("Add", "Mod", "Query", "Del", "Void"):
            if subject.endswith(suffix):
                subject = subject[:-len(suffix)]
        if code == 3200:
            return text % "0"
        if code == 3170:
            return text % (subject, subject)
        return text % subject if "%s" in text else text

    def _dispatch(self, name, body, element, session):
        ok = (0, MESSAGES[0])
        base = name[:-2]
        if base in ("HostQuery", "CompanyQuery", "PreferencesQuery"):
            ret = {"HostQuery": self._host, "CompanyQuery": self._company,
                   "PreferencesQuery": lambda: self._resolve(seed.preferences(self.country),
                                                             "Preferences")}[base]()
            return ok + ([(base[:-5] + "Ret", self._fresh(ret))], None)
        for verb in ("Add", "Mod"):
            kind = base[:-len(verb)]
            if base.endswith(verb) and ((kind in LIST_ADD) or
                                        (kind in (TXN_ADD if verb == "Add" else TXN_MOD))):
                data = body.get(base, {})
                stored = self._add(kind, data) if verb == "Add" else self._mod(kind, data)
                return ok + ([(kind + "Ret", self._answer(kind, stored))], None)
        if base == "TxnVoid":
            kind, ident = body.get("TxnVoidType"), body.get("TxnID")
            stored = self._void(kind, ident)
            return ok + ([("TxnVoidType", kind), ("TxnID", ident),
                          ("TimeCreated", stored["TimeCreated"]),
                          ("TimeModified", stored["TimeModified"])] +
                         ([("RefNumber", stored["RefNumber"])] if "RefNumber" in stored else []),
                         None)
        if base == "TxnDel":
            gone = self._txn_del((as_list(body.get("TxnDelType")) or [None])[0], body.get("TxnID"))
            return ok + ([(k, gone[k]) for k in ("TxnDelType", "TxnID", "TimeDeleted",
                                                 "RefNumber") if k in gone], None)
        if base == "ListDel":
            gone = self._list_del((as_list(body.get("ListDelType")) or [None])[0],
                                  body.get("ListID"))
            return ok + ([(k, gone[k]) for k in ("ListDelType", "ListID", "TimeDeleted",
                                                 "FullName") if k in gone], None)
        if base in ("TxnDeletedQuery", "ListDeletedQuery"):
            return self._deleted_query(base, body)
        if base == "GeneralSummaryReportQuery":
            return qbd_reports.general_summary(self, body)
        if base.endswith("Query"):
            kind = base[:-5]
            if kind in LIST_QUERY or kind == "Item" or kind in TXNS:
                return self._query(kind, body, element, session)
        raise Status(1000, "the sandbox company file does not support %s" % name)

    # ------------------------------------------------------------------ ids and stamps
    def _edit_sequence(self):
        stamp = int(self.clock.now().timestamp())
        self.counters["seq"] = max(self.counters["seq"] + 1, stamp)
        return str(self.counters["seq"])

    def _new_id(self, counter):
        self.counters[counter] += 1
        return "%X-%d" % (self.counters[counter], int(self.clock.now().timestamp()))

    def _stamp(self, record, new=False):
        now = self.clock.stamp()
        if new:
            record["TimeCreated"] = now
        record["TimeModified"] = now
        record["EditSequence"] = self._edit_sequence()

    # ------------------------------------------------------------------ lookups
    def _all(self, kind):
        if kind == "Item":
            return [(k, r) for k in ITEM_TYPES for r in self.lists[k].values()]
        if kind in self.lists:
            return [(kind, r) for r in self.lists[kind].values()]
        if kind in self.txns:
            return [(kind, r) for r in self.txns[kind].values()]
        raise ValueError("unknown record type %r" % kind)

    def _find(self, kind, ident):
        store = self.lists.get(kind) if kind in self.lists else self.txns.get(kind)
        if kind == "Item":
            for item_kind in ITEM_TYPES:
                if ident in self.lists[item_kind]:
                    return self.lists[item_kind][ident]
            return None
        return store.get(ident) if store is not None else None

    def _by_name(self, kinds, name):
        wanted = (name or "").lower()
        for kind in kinds:
            for record in self.lists[kind].values():
                if record.get("FullName", record.get("Name", "")).lower() == wanted:
                    return kind, record
        return None, None

    def _by_list_id(self, kinds, ident):
        for kind in kinds:
            if ident in self.lists[kind]:
                return kind, self.lists[kind][ident]
        return None, None

    def _ref(self, field, ref, owner, own_kind=None):
        """Resolve a reference ({ListID} or {FullName}) to {ListID, FullName}; 3140 if none."""
        kinds = REF_TYPES.get(field, ())
        kinds = (own_kind,) if kinds is None else kinds
        if not isinstance(ref, dict):
            raise Status(3210, 'The "%s" field has an invalid value.' % field)
        if ref.get("ListID"):
            _kind, found = self._by_list_id(kinds, ref["ListID"])
        else:
            _kind, found = self._by_name(kinds, ref.get("FullName"))
        if found is None:
            word = REF_WORDS.get(kinds[0], field[:-3]) if kinds else field[:-3]
            raise Status(3140, word, ref.get("ListID") or ref.get("FullName") or "", owner)
        return {"ListID": found["ListID"], "FullName": found.get("FullName", found["Name"])}

    def _resolve(self, data, owner, own_kind=None):
        """A copy of ``data`` with every ``…Ref`` resolved (lines and sub-blocks included)."""
        if isinstance(data, list):
            return [self._resolve(item, owner, own_kind) for item in data]
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            if key.endswith("Ref") and isinstance(value, dict) and \
                    ("ListID" in value or "FullName" in value):
                out[key] = self._ref(key, value, owner, own_kind)
            else:
                out[key] = self._resolve(value, owner, own_kind)
        return out

    def _fresh(self, data):
        """A deep copy with each reference's FullName read again from its list element."""
        if isinstance(data, list):
            return [self._fresh(item) for item in data]
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            if key.endswith("Ref") and isinstance(value, dict) and "ListID" in value:
                _kind, found = self._by_list_id(LIST_TYPES, value["ListID"])
                name = found.get("FullName", found["Name"]) if found else value.get("FullName")
                out[key] = {"ListID": value["ListID"], "FullName": name}
            else:
                out[key] = self._fresh(value)
        return out

    def _answer(self, kind, record):
        """A stored record as answered: a deep copy, fresh reference names, no private keys."""
        return self._fresh({k: v for k, v in record.items() if not k.startswith("_")})

    # ------------------------------------------------------------------ seed and HCP
    def _seed(self):
        country = self.country
        for record in seed.accounts(country):
            self._add_list("Account", dict(record))
        for record in seed.sales_tax_items(country):
            self._add_list("ItemSalesTax", dict(record))
        for record in seed.sales_tax_codes(country):
            self._add_list("SalesTaxCode", record)
        for record in seed.TERMS:
            self._add_list("StandardTerms", dict(record))
        for record in seed.PAYMENT_METHODS:
            self._add_list("PaymentMethod", dict(record))
        for kind, records in seed.items(country).items():
            for record in records:
                self._add_list(kind, record)
        for kind, records in seed.names(country).items():
            for record in records:
                self._add_list(kind, record)

    def _host(self):
        return {"ProductName": seed.PRODUCT_NAMES[self.country], "MajorVersion": "24",
                "MinorVersion": "0", "Country": self.country,
                "SupportedQBXMLVersion": list(self.supported_versions),
                "IsAutomaticLogin": "false", "QBFileMode": "SingleUser"}

    def _company(self):
        return {"IsSampleCompany": "false", "CompanyName": self.company_name,
                "LegalCompanyName": self.company_name,
                "Address": dict(seed.ADDRESSES[self.country]),
                "FirstMonthFiscalYear": "January", "FirstMonthIncomeTaxYear": "January"}

    # ------------------------------------------------------------------ country rules
    def _country_rules(self, kind, data):
        """Fields a company file of another country does not have: 3250 (requests only)."""
        if kind not in LIST_ADD and kind not in TXNS:
            return
        if self.country == "US":
            banned = ("IsTaxIncluded", "SalesTaxCountry", "TaxRegistrationNumber", "TaxAmount")
        else:
            banned = ("ItemSalesTaxRef",)

        def walk(value):
            if isinstance(value, list):
                for item in value:
                    walk(item)
            elif isinstance(value, dict):
                for key, item in value.items():
                    if key in banned:
                        raise Status(3250, key, self.country)
                    walk(item)
        walk(data)

    # ------------------------------------------------------------------ lists
    def _add(self, kind, data):
        if kind in TXNS:
            return self._add_txn(kind, data)
        return self._add_list(kind, data)

    def _mod(self, kind, data):
        if kind in TXNS:
            return self._mod_txn(kind, data)
        return self._mod_list(kind, data)

    def _name_clash(self, kind, name, own_id=None):
        scope = NAME_LISTS if kind in NAME_LISTS else ITEM_TYPES if kind in ITEM_TYPES \
            else (kind,)
        for other in scope:
            for record in self.lists[other].values():
                if record["ListID"] != own_id and \
                        record.get("FullName", record["Name"]).lower() == name.lower():
                    return True
        return False

    def _add_list(self, kind, data):
        name = (data.get("Name") or "").strip()
        if not name:
            raise Status(3210, 'The "Name" field is required.')
        self._country_rules(kind, data)
        if self._name_clash(kind, name):
            raise Status(3100, name)
        body = self._resolve({k: v for k, v in data.items() if k not in ADD_ONLY_FIELDS},
                             kind, kind)
        record = {"ListID": self._new_id("list")}
        self._stamp(record, new=True)
        record["Name"] = name
        if kind in HAS_FULL_NAME:
            record["FullName"] = name
        record["IsActive"] = body.pop("IsActive", "true")
        body.pop("Name", None)
        if kind in ("Customer", "Account", "ItemService", "ItemNonInventory"):
            record["Sublevel"] = "0"
        record.update(body)
        if kind == "Customer":
            record.setdefault("Balance", "0.00")
            record.setdefault("TotalBalance", "0.00")
        if kind in ("Vendor", "Account"):
            record.setdefault("Balance", "0.00")
        if kind == "Account":
            record.setdefault("TotalBalance", "0.00")
        self.lists[kind][record["ListID"]] = record
        return record

    def _current(self, kind, ident, edit_sequence):
        record = self._find(kind, ident)
        if record is None:
            raise Status(3120, ident or "")
        if edit_sequence != record["EditSequence"]:
            raise Status(3200, edit_sequence or "")
        return record

    def _mod_list(self, kind, data):
        record = self._current(kind, data.get("ListID"), data.get("EditSequence"))
        self._country_rules(kind, data)
        changes = {k: v for k, v in data.items()
                   if k not in ("ListID", "EditSequence") + ADD_ONLY_FIELDS}
        name = changes.pop("Name", None)
        if name is not None:
            name = name.strip()
            if self._name_clash(kind, name, record["ListID"]):
                raise Status(3100, name)
        changes = self._resolve(changes, kind, kind)
        for key in ("SalesOrPurchaseMod", "SalesAndPurchaseMod"):
            if key in changes:  # item Mods carry …Mod blocks: merged into the Ret block
                target = key[:-3]
                merged = dict(record.get(target, {}))
                merged.update(changes.pop(key))
                changes[target] = merged
        if name is not None:
            record["Name"] = name
            if "FullName" in record:
                record["FullName"] = name
        record.update(changes)
        self._stamp(record)
        return record

    def _in_use(self, list_id):
        def walk(value):
            if isinstance(value, list):
                return any(walk(v) for v in value)
            if isinstance(value, dict):
                return value.get("ListID") == list_id or any(walk(v) for v in value.values())
            return False
        stores = list(self.txns.values()) + list(self.lists.values())
        return any(walk({k: v for k, v in r.items() if k != "ListID"})
                   for store in stores for r in store.values())

    def _list_del(self, kind, ident):
        if kind not in self.lists:
            raise Status(3120, ident or "")
        record = self._find(kind, ident)
        if record is None:
            raise Status(3120, ident or "")
        if self._in_use(ident):
            raise Status(3170, kind, record.get("FullName", record["Name"]))
        del self.lists[kind][ident]
        gone = {"ListDelType": kind, "ListID": ident, "TimeCreated": record["TimeCreated"],
                "TimeDeleted": self.clock.stamp(),
                "FullName": record.get("FullName", record["Name"])}
        self.deleted_lists.append(gone)
        return gone

    # ------------------------------------------------------------------ transactions
    def _add_txn(self, kind, data):
        spec = TXNS[kind]
        self._country_rules(kind, data)
        body = self._resolve({k: v for k, v in data.items()
                              if k not in ("SetCredit", "IsAutoApply", "AppliedToTxnAdd",
                                           "LinkToTxnID")}, kind)
        if spec.party and spec.party not in body:
            raise Status(3210, 'The "%s" field is required.' % spec.party)
        record = {"TxnID": self._new_id("txn")}
        self._stamp(record, new=True)
        self.counters["TxnNumber"] += 1
        record["TxnNumber"] = str(self.counters["TxnNumber"])
        if spec.party:
            record[spec.party] = body.pop(spec.party)
        if spec.account:
            default = "Accounts Receivable" if spec.account == "ARAccountRef" \
                else "Accounts Payable"
            record[spec.account] = body.pop(spec.account, None) or \
                self._ref(spec.account, {"FullName": default}, kind)
        record["TxnDate"] = body.pop("TxnDate", None) or self.clock.today()
        if kind in ("Invoice", "CreditMemo") and not body.get("RefNumber"):
            record["RefNumber"] = self._next_ref_number(kind)
        lines = {}
        for request_name, ret_name in spec.lines.items():
            add_name = request_name if kind == "JournalEntry" else request_name + "Add"
            lines[ret_name] = [self._new_line(line, kind)
                               for line in as_list(body.pop(add_name, None))]
        record.update(body)
        record.update(lines)
        self._party_defaults(kind, record)
        if kind == "BillPaymentCheck" and "BankAccountRef" not in record:
            record["BankAccountRef"] = self._ref("BankAccountRef", {"FullName": "Checking"},
                                                 kind)
        if spec.kind == "payment":
            self._apply_payment(kind, record, data)
        self._compute(kind, record)
        self.txns[kind][record["TxnID"]] = record
        self._rebalance()
        return record

    def _party_defaults(self, kind, record):
        """What QuickBooks fills in from the customer/vendor: the address, the terms, and
        the due date from the terms' StdDueDays."""
        if kind not in ("Invoice", "Bill"):
            return
        party_kind = "Customer" if kind == "Invoice" else "Vendor"
        party = self.lists[party_kind].get(record[TXNS[kind].party]["ListID"], {})
        address = "BillAddress" if kind == "Invoice" else "VendorAddress"
        if address not in record and party.get(address):
            record[address] = copy.deepcopy(party[address])
        if "TermsRef" not in record and party.get("TermsRef"):
            record["TermsRef"] = dict(party["TermsRef"])
        if "DueDate" not in record:
            days = 0
            if record.get("TermsRef"):
                terms = self.lists["StandardTerms"].get(record["TermsRef"]["ListID"], {})
                days = int(terms.get("StdDueDays", "0"))
            due = datetime.fromisoformat(record["TxnDate"]) + timedelta(days=days)
            record["DueDate"] = due.date().isoformat()

    def _next_ref_number(self, kind):
        numbers = [int(r["RefNumber"]) for r in self.txns[kind].values()
                   if r.get("RefNumber", "").isdigit()]
        return str(max(numbers, default=0) + 1)

    def _new_line(self, line, kind):
        line = {k: v for k, v in line.items() if k not in ADD_ONLY_FIELDS and k != "TxnLineID"}
        out = {"TxnLineID": self._new_id("txn")}
        out.update(line)
        self._line_defaults(out, kind)
        return out

    def _line_defaults(self, line, kind):
        """A line's Amount (Quantity × Rate/Cost when not given) and its item's tax code."""
        if "ItemRef" in line:
            _k, item = self._by_list_id(ITEM_TYPES, line["ItemRef"]["ListID"])
            price = line.get("Rate") or line.get("Cost")
            if "Amount" not in line:
                quantity = number(line.get("Quantity") or "1", "Quantity")
                if price is None:
                    price = (item.get("SalesOrPurchase") or {}).get("Price", "0")
                    line.setdefault("Rate" if TXNS[kind].kind == "sales" else "Cost", price)
                line["Amount"] = fmt(money(number(price, "Rate") * quantity))
            if "SalesTaxCodeRef" not in line and item.get("SalesTaxCodeRef") and \
                    (TXNS[kind].kind == "sales" or self.country != "US"):
                line["SalesTaxCodeRef"] = dict(item["SalesTaxCodeRef"])
        line["Amount"] = fmt(money(line.get("Amount", "0")))

    def _mod_txn(self, kind, data):
        spec = TXNS[kind]
        record = self._current(kind, data.get("TxnID"), data.get("EditSequence"))
        self._country_rules(kind, data)
        mods = {}
        for request_name, ret_name in spec.lines.items():
            mod_name = "JournalLineMod" if kind == "JournalEntry" else request_name + "Mod"
            if mod_name in data:
                mods[mod_name] = as_list(data[mod_name])
        changes = self._resolve({k: v for k, v in data.items()
                                 if k not in ("TxnID", "EditSequence") and k not in mods
                                 and k not in ADD_ONLY_FIELDS}, kind)
        new = copy.deepcopy(record)
        new.update(changes)
        if mods:
            self._mod_lines(kind, new, {k: self._resolve(v, kind) for k, v in mods.items()})
        self._compute(kind, new)
        self._check_applied(kind, new)
        record.clear()
        record.update(new)
        self._stamp(record)
        self._rebalance()
        return record

    def _mod_lines(self, kind, record, mods):
        """Lines with TxnLineID -1 are new; listed ones are changed; unlisted ones deleted."""
        spec = TXNS[kind]
        existing = {line["TxnLineID"]: (ret, line) for ret in spec.lines.values()
                    for line in record.get(ret, [])}
        result = {ret: [] for ret in spec.lines.values()}
        for mod_name, lines in mods.items():
            for line in lines:
                line = dict(line)
                ident = line.pop("TxnLineID", "-1")
                if kind == "JournalEntry":
                    side = line.pop("JournalLineType", "Debit")
                    ret = "JournalDebitLine" if side == "Debit" else "JournalCreditLine"
                else:
                    ret = spec.lines[mod_name[:-3]]
                if ident == "-1":
                    result[ret].append(self._new_line(line, kind))
                    continue
                if ident not in existing:
                    raise Status(3120, ident)
                merged = dict(existing[ident][1])
                if "Quantity" in line or "Rate" in line or "Cost" in line:
                    merged.pop("Amount", None)
                merged.update(line)
                self._line_defaults(merged, kind)
                result[ret].append(merged)
        for ret in spec.lines.values():
            record[ret] = result[ret]

    def _tax_rate(self, code_ref):
        """A CA/UK tax code's rate (its sales tax item's TaxRate); 0 for non-taxable codes."""
        code = self.lists["SalesTaxCode"].get(code_ref["ListID"])
        if not code or code.get("IsTaxable") != "true" or "ItemSalesTaxRef" not in code:
            return ZERO
        item = self.lists["ItemSalesTax"].get(code["ItemSalesTaxRef"]["ListID"])
        return Decimal(item.get("TaxRate", "0")) if item else ZERO

    def _compute(self, kind, record):
        """Totals: Subtotal, SalesTaxTotal, TotalAmount/AmountDue/CreditAmount; balances are
        set by ``_rebalance``."""
        spec = TXNS[kind]
        if spec.kind == "journal":
            debit = sum(money(l["Amount"]) for l in record.get("JournalDebitLine", []))
            credit = sum(money(l["Amount"]) for l in record.get("JournalCreditLine", []))
            if debit != credit and not record.get("_void"):
                raise Status(3210, "Transaction not in balance: debits %s, credits %s."
                             % (fmt(debit), fmt(credit)))
            return
        if spec.kind == "payment":
            return
        lines = [line for ret in spec.lines.values() for line in record.get(ret, [])]
        subtotal = sum((money(line["Amount"]) for line in lines), ZERO)
        included = record.get("IsTaxIncluded") == "true"
        tax = ZERO
        if self.country == "US":
            if spec.kind == "sales":
                tax_item = self._us_tax_item(record)
                taxable = self._us_taxable(record)
                if tax_item is not None:
                    rate = Decimal(tax_item.get("TaxRate", "0"))
                    record["ItemSalesTaxRef"] = {"ListID": tax_item["ListID"],
                                                 "FullName": tax_item["Name"]}
                    record["SalesTaxPercentage"] = str(rate)
                    tax = money(sum((money(l["Amount"]) for l in lines if taxable(l)), ZERO)
                                * rate / 100)
        else:
            for line in lines:
                line.pop("TaxAmount", None)
                if "SalesTaxCodeRef" in line:
                    rate = self._tax_rate(line["SalesTaxCodeRef"])
                    amount = money(line["Amount"])
                    line_tax = money(amount * rate / (100 + rate) if included
                                     else amount * rate / 100)
                    line["TaxAmount"] = fmt(line_tax)
                    tax += line_tax
        total = subtotal if included else subtotal + tax
        if record.get("_void"):
            subtotal = tax = total = ZERO
        if spec.kind == "sales":
            record["Subtotal"] = fmt(subtotal)
            record["SalesTaxTotal"] = fmt(tax)
            if kind == "CreditMemo":
                record["TotalAmount"] = fmt(total)
        record["_total"] = fmt(total)
        if kind == "Bill":
            record["AmountDue"] = fmt(total)
        if kind == "VendorCredit":
            record["CreditAmount"] = fmt(total)
        if kind in ("Bill", "VendorCredit") and self.country == "US":
            for line in lines:  # US purchases carry no sales tax
                line.pop("TaxAmount", None)

    def _us_tax_item(self, record):
        ref = record.get("ItemSalesTaxRef")
        if ref is None:
            customer = self.lists["Customer"].get(record["CustomerRef"]["ListID"], {})
            ref = customer.get("ItemSalesTaxRef")
        if ref is None:
            _k, item = self._by_name(("ItemSalesTax",), seed.US_SALES_TAX[0])
            return item
        return self.lists["ItemSalesTax"].get(ref["ListID"])

    def _us_taxable(self, record):
        customer = self.lists["Customer"].get(record["CustomerRef"]["ListID"], {})
        customer_code = record.get("CustomerSalesTaxCodeRef") or customer.get("SalesTaxCodeRef")
        if customer_code and self._code_taxable(customer_code) is False:
            return lambda line: False
        return lambda line: bool(line.get("SalesTaxCodeRef")) and \
            self._code_taxable(line["SalesTaxCodeRef"])

    def _code_taxable(self, ref):
        code = self.lists["SalesTaxCode"].get(ref["ListID"])
        return bool(code) and code.get("IsTaxable") == "true"

    # ------------------------------------------------------------------ payments
    def _apply_payment(self, kind, record, data):
        targets, credit_kind = PAYMENT_TARGETS[kind]
        party = record[TXNS[kind].party]["ListID"]
        applied = []
        total_applied = ZERO
        for entry in as_list(data.get("AppliedToTxnAdd")):
            doc = self.txns[targets].get(entry.get("TxnID"))
            if doc is None or doc[TXNS[targets].party]["ListID"] != party:
                raise Status(3140, "Transaction", entry.get("TxnID", ""), kind)
            amount = money(entry.get("PaymentAmount", "0"), "PaymentAmount")
            credits = []
            credit_total = ZERO
            for credit in as_list(entry.get("SetCredit")):
                memo = self.txns[credit_kind].get(credit.get("CreditTxnID"))
                if memo is None or memo[TXNS[credit_kind].party]["ListID"] != party:
                    raise Status(3140, "Transaction", credit.get("CreditTxnID", ""), kind)
                used = money(credit.get("AppliedAmount", "0"), "AppliedAmount")
                if used > self._open(credit_kind, memo):
                    raise Status(3210, "The credit applied is more than the credit available.")
                credits.append({"TxnID": memo["TxnID"], "TxnType": credit_kind,
                                "TxnDate": memo["TxnDate"], "RefNumber": memo.get("RefNumber"),
                                "LinkType": "AMTTYPE", "Amount": fmt(-used)})
                credit_total += used
            if amount + credit_total > self._open(targets, doc):
                raise Status(3210, "You cannot pay more than the amount due.")
            total_applied += amount
            ret = {"TxnID": doc["TxnID"], "TxnType": targets, "TxnDate": doc["TxnDate"],
                   "RefNumber": doc.get("RefNumber"), "Amount": fmt(amount)}
            if credits:
                ret["LinkedTxn"] = credits
            applied.append(ret)
        if data.get("IsAutoApply") == "true":
            remaining = money(record.get("TotalAmount", "0"))
            for doc in self.txns[targets].values():
                open_amount = self._open(targets, doc)
                if remaining <= 0 or doc[TXNS[targets].party]["ListID"] != party or \
                        open_amount <= 0:
                    continue
                amount = min(open_amount, remaining)
                remaining -= amount
                total_applied += amount
                applied.append({"TxnID": doc["TxnID"], "TxnType": targets,
                                "TxnDate": doc["TxnDate"], "RefNumber": doc.get("RefNumber"),
                                "Amount": fmt(amount)})
        if kind == "ReceivePayment":
            total = money(record.get("TotalAmount", "0"), "TotalAmount")
            if total_applied > total:
                raise Status(3210, "The amount applied is more than the payment amount.")
            record["TotalAmount"] = fmt(total)
            record["UnusedPayment"] = fmt(total - total_applied)
            record["UnusedCredits"] = "0.00"
        else:
            if not applied:
                raise Status(3210, "A bill payment must be applied to at least one bill.")
            record["Amount"] = fmt(total_applied)
        record["AppliedToTxnRet"] = applied
        record.pop("IsAutoApply", None)

    def _payments_of(self, doc_id):
        """(payment kind, payment, amount applied to doc_id as document or as credit); from
        the index :meth:`_rebalance` builds while it works (nothing it calls changes the
        payments), else by scanning them."""
        if self._applied is not None:
            return iter(self._applied.get(doc_id, ()))
        return iter(self._index_applied().get(doc_id, ()))

    def _index_applied(self):
        applied = {}
        for kind in PAYMENT_TARGETS:
            for payment in self.txns[kind].values():
                for entry in payment.get("AppliedToTxnRet", []):
                    applied.setdefault(entry["TxnID"], []).append(
                        (kind, payment, money(entry["Amount"])))
                    for credit in entry.get("LinkedTxn", []):
                        applied.setdefault(credit["TxnID"], []).append(
                            (kind, payment, -money(credit["Amount"])))
        return applied

    def _open(self, kind, doc):
        """What is still open on a document: its total less the payments applied to it (and,
        for an invoice or a bill, the credits applied with them; for a credit, its uses)."""
        key = (kind, doc["TxnID"])
        if self._opened is not None and key in self._opened:
            return self._opened[key]
        used = sum((amount for _k, _p, amount in self._payments_of(doc["TxnID"])), ZERO)
        if kind in ("Invoice", "Bill"):
            for _k, payment, _a in self._payments_of(doc["TxnID"]):
                for entry in payment["AppliedToTxnRet"]:
                    if entry["TxnID"] == doc["TxnID"]:
                        used += sum((-money(c["Amount"]) for c in entry.get("LinkedTxn", [])),
                                    ZERO)
        result = money(doc.get("_total", "0")) - used
        if self._opened is not None:
            self._opened[key] = result
        return result

    def _check_applied(self, kind, record):
        if kind in ("Invoice", "CreditMemo", "Bill", "VendorCredit") and \
                self._open(kind, record) < 0:
            raise Status(3210, "The new total is less than the payments and credits applied "
                               "to this transaction.")

    def _rebalance(self):
        """Set every document's balance fields from the payments applied to it; a document
        whose balance moves is modified (new EditSequence and TimeModified), as in QuickBooks
        when a payment is applied to it or taken off it. The payments are indexed by
        document and what is open on each worked out once per call: a scan of every payment
        for every document made a 2,000-invoice company file take hours."""
        balance_fields = ("AppliedAmount", "BalanceRemaining", "IsPaid", "CreditRemaining",
                          "OpenAmount")
        self._applied, self._opened = self._index_applied(), {}
        try:
            for kind in ("Invoice", "CreditMemo", "Bill", "VendorCredit"):
                for doc in self.txns[kind].values():
                    before = [doc.get(f) for f in balance_fields]
                    self._set_balance(kind, doc)
                    if any(v is not None for v in before) and \
                            before != [doc.get(f) for f in balance_fields]:
                        self._stamp(doc)
            self._rebalance_payments_and_names()
        finally:
            self._applied = self._opened = None

    def _set_balance(self, kind, doc):
        total = money(doc.get("_total", "0"))
        open_amount = self._open(kind, doc)
        if kind == "Invoice":
            doc["AppliedAmount"] = fmt(-(total - open_amount))
            doc["BalanceRemaining"] = fmt(open_amount)
            doc["IsPaid"] = "true" if open_amount <= 0 and total > 0 else "false"
        elif kind == "CreditMemo":
            doc["CreditRemaining"] = fmt(open_amount)
        else:
            doc["OpenAmount"] = fmt(open_amount)
            if kind == "Bill":
                doc["IsPaid"] = "true" if open_amount <= 0 and total > 0 else "false"

    def _rebalance_payments_and_names(self):
        for kind in PAYMENT_TARGETS:
            for payment in self.txns[kind].values():
                for entry in payment.get("AppliedToTxnRet", []):
                    doc = self.txns[PAYMENT_TARGETS[kind][0]].get(entry["TxnID"])
                    if doc is not None:
                        entry["BalanceRemaining"] = fmt(self._open(PAYMENT_TARGETS[kind][0],
                                                                   doc))
        def by_party(kind, ref):
            grouped = {}
            for record in self.txns[kind].values():
                grouped.setdefault(record[ref]["ListID"], []).append(record)
            return grouped
        invoices, credits = by_party("Invoice", "CustomerRef"), by_party("CreditMemo",
                                                                         "CustomerRef")
        payments = by_party("ReceivePayment", "CustomerRef")
        for customer in self.lists["Customer"].values():
            key = customer["ListID"]
            balance = sum((self._open("Invoice", d) for d in invoices.get(key, ())), ZERO)
            balance -= sum((self._open("CreditMemo", d) for d in credits.get(key, ())), ZERO)
            balance -= sum((money(p.get("UnusedPayment", "0")) for p in payments.get(key, ())),
                           ZERO)
            customer["Balance"] = customer["TotalBalance"] = fmt(balance)
        bills, vendor_credits = by_party("Bill", "VendorRef"), by_party("VendorCredit",
                                                                        "VendorRef")
        for vendor in self.lists["Vendor"].values():
            key = vendor["ListID"]
            balance = sum((self._open("Bill", d) for d in bills.get(key, ())), ZERO)
            balance -= sum((self._open("VendorCredit", d) for d in vendor_credits.get(key, ())),
                           ZERO)
            vendor["Balance"] = fmt(balance)

    def _unlink(self, doc_id):
        """Take a voided/deleted document out of the payments applied to it (the money
        becomes unused payment); touched payments get a new EditSequence."""
        for kind in PAYMENT_TARGETS:
            for payment in self.txns[kind].values():
                before = copy.deepcopy(payment.get("AppliedToTxnRet", []))
                kept = []
                for entry in payment.get("AppliedToTxnRet", []):
                    if entry["TxnID"] == doc_id:
                        continue
                    entry["LinkedTxn"] = [c for c in entry.get("LinkedTxn", [])
                                          if c["TxnID"] != doc_id]
                    if not entry["LinkedTxn"]:
                        entry.pop("LinkedTxn")
                    kept.append(entry)
                if kept != before:
                    payment["AppliedToTxnRet"] = kept
                    if kind == "ReceivePayment":  # a check keeps its Amount, unapplied
                        applied = sum((money(e["Amount"]) for e in kept), ZERO)
                        payment["UnusedPayment"] = fmt(money(payment["TotalAmount"]) - applied)
                    self._stamp(payment)

    # ------------------------------------------------------------------ void / delete
    def _void(self, kind, ident):
        if kind not in VOIDABLE:
            raise Status(3120, ident or "")
        record = self._find(kind, ident)
        if record is None:
            raise Status(3120, ident or "")
        self._unlink(ident)
        for ret in TXNS[kind].lines.values():
            for line in record.get(ret, []):
                line["Amount"] = "0.00"
                if "Quantity" in line:
                    line["Quantity"] = "0"
                line.pop("TaxAmount", None)
        if kind == "BillPaymentCheck":
            for entry in record.get("AppliedToTxnRet", []):
                entry["Amount"] = "0.00"
                entry.pop("LinkedTxn", None)
            record["AppliedToTxnRet"] = []
            record["Amount"] = "0.00"
        memo = record.get("Memo", "")
        if not memo.startswith("VOID:"):
            record["Memo"] = ("VOID: " + memo).strip()
        record["_void"] = "true"
        self._compute(kind, record)
        self._stamp(record)
        self._rebalance()
        return record

    def _txn_del(self, kind, ident):
        record = self.txns.get(kind, {}).get(ident) if kind in self.txns else None
        if record is None:
            raise Status(3120, ident or "")
        self._unlink(ident)
        del self.txns[kind][ident]
        gone = {"TxnDelType": kind, "TxnID": ident, "TimeCreated": record["TimeCreated"],
                "TimeDeleted": self.clock.stamp()}
        if record.get("RefNumber"):
            gone["RefNumber"] = record["RefNumber"]
        self.deleted_txns.append(gone)
        self._rebalance()
        return gone

    # ------------------------------------------------------------------ queries
    def _query(self, kind, body, element, session):
        iterator = element.get("iterator")
        if iterator in ("Continue", "Stop"):
            ident = element.get("iteratorID") or ""
            state = self.iterators.get(ident)
            if state is None or state["session"] != session or state["kind"] != kind or \
                    session not in self.sessions and session is not None:
                raise Status(3391, ident)
            if iterator == "Stop":
                del self.iterators[ident]
                return 0, MESSAGES[0], [], {"iteratorRemainingCount": 0, "iteratorID": ident}
            return self._page(kind, state, ident, body)
        matches = self._select(kind, body)
        explicit = [v for key in ("ListID", "FullName", "TxnID") for v in as_list(body.get(key))]
        if iterator == "Start":
            ident = "{%s}" % uuid.uuid4()
            state = {"session": session, "kind": kind, "ids": [r["_id"] for r in matches],
                     "max": int(body.get("MaxReturned") or 100)}
            self.iterators[ident] = state
            return self._page(kind, state, ident, body)
        if body.get("MaxReturned"):
            matches = matches[:int(body["MaxReturned"])]
        content = [(r["_kind"] + "Ret", self._shape(r["_kind"], r["_record"], body))
                   for r in matches]
        found = {r["_record"].get("ListID") or r["_record"].get("TxnID") for r in matches} | \
            {r["_record"].get("FullName", r["_record"].get("Name", "")).lower() for r in matches}
        missing = [v for v in explicit if v not in found and v.lower() not in found]
        if missing and content:
            return 500, MESSAGES[500] % missing[0], content, None
        if not content:
            if missing:
                return 500, MESSAGES[500] % missing[0], [], None
            return 1, MESSAGES[1], [], None
        return 0, MESSAGES[0], content, None

    def _page(self, kind, state, ident, body):
        take, state["ids"] = state["ids"][:state["max"]], state["ids"][state["max"]:]
        content = []
        for record_kind, record_id in take:
            record = self._find(record_kind, record_id)
            if record is not None:
                content.append((record_kind + "Ret", self._shape(record_kind, record, body)))
        remaining = len(state["ids"])
        if not remaining:
            self.iterators.pop(ident, None)
        attrs = {"iteratorRemainingCount": remaining, "iteratorID": ident}
        if not content:
            return 1, MESSAGES[1], [], attrs
        return 0, MESSAGES[0], content, attrs

    def _select(self, kind, body):
        candidates = self._all(kind)
        is_txn = kind in TXNS
        ids = as_list(body.get("TxnID" if is_txn else "ListID"))
        names = [n.lower() for n in as_list(body.get("FullName"))]
        refs = as_list(body.get("RefNumber"))
        refs_case = as_list(body.get("RefNumberCaseSensitive"))
        out = []
        for record_kind, record in candidates:
            ident = record.get("TxnID") or record.get("ListID")
            if ids or names or refs or refs_case:
                name = record.get("FullName", record.get("Name", "")).lower()
                ref = record.get("RefNumber")
                if not (ident in ids or (names and name in names) or
                        (ref is not None and (ref.lower() in [r.lower() for r in refs]
                                              or ref in refs_case))):
                    continue
            elif not self._filters(record_kind, record, body, is_txn):
                continue
            out.append({"_id": (record_kind, ident), "_kind": record_kind, "_record": record})
        if ids:  # answered in the order asked
            out.sort(key=lambda r: ids.index(r["_id"][1]) if r["_id"][1] in ids else len(ids))
        return out

    def _filters(self, kind, record, body, is_txn):
        modified = body.get("ModifiedDateRangeFilter") or {}
        low = body.get("FromModifiedDate") or modified.get("FromModifiedDate")
        high = body.get("ToModifiedDate") or modified.get("ToModifiedDate")
        stamp = parse_time(record["TimeModified"])
        if low and stamp < parse_time(low):
            return False
        if high and stamp > parse_time(high):
            return False
        if is_txn:
            dates = body.get("TxnDateRangeFilter") or {}
            if dates.get("FromTxnDate") and record["TxnDate"] < dates["FromTxnDate"]:
                return False
            if dates.get("ToTxnDate") and record["TxnDate"] > dates["ToTxnDate"]:
                return False
            entity = body.get("EntityFilter")
            if entity:
                party = record.get(TXNS[kind].party) if TXNS[kind].party else None
                lines = record.get("JournalDebitLine", []) + record.get("JournalCreditLine", [])
                refs = [party] if party else [l.get("EntityRef") for l in lines]
                wanted = set(as_list(entity.get("ListID")) + as_list(entity.get("ListIDWithChildren")))
                wanted_names = {n.lower() for n in as_list(entity.get("FullName")) +
                                as_list(entity.get("FullNameWithChildren"))}
                if not any(r and (r["ListID"] in wanted or r["FullName"].lower() in wanted_names)
                           for r in refs):
                    return False
            number = body.get("RefNumberFilter")
            if number:
                if not _name_match(number.get("MatchCriterion"), record.get("RefNumber", ""),
                                   number.get("RefNumber", "")):
                    return False
            paid = body.get("PaidStatus", "All")
            if paid != "All" and kind in ("Invoice", "Bill"):
                if (record.get("IsPaid") == "true") != (paid == "PaidOnly"):
                    return False
            return True
        status = body.get("ActiveStatus", "ActiveOnly")
        if status != "All" and (record.get("IsActive", "true") == "true") != \
                (status == "ActiveOnly"):
            return False
        name = record.get("FullName", record.get("Name", ""))
        name_filter = body.get("NameFilter")
        if name_filter and not _name_match(name_filter.get("MatchCriterion"), name,
                                           name_filter.get("Name", "")):
            return False
        name_range = body.get("NameRangeFilter")
        if name_range:
            if name_range.get("FromName") and name.lower() < name_range["FromName"].lower():
                return False
            if name_range.get("ToName") and name.lower() > name_range["ToName"].lower():
                return False
        return True

    def _shape(self, kind, record, body):
        """A record as a query answers it: lines only with IncludeLineItems (journal entries
        and payments' applications always), IncludeRetElement honoured."""
        out = self._fresh({k: v for k, v in record.items() if not k.startswith("_")})
        if kind in TXNS and kind != "JournalEntry" and body.get("IncludeLineItems") != "true":
            for ret in TXNS[kind].lines.values():
                out.pop(ret, None)
        keep = as_list(body.get("IncludeRetElement"))
        if keep:
            out = {k: v for k, v in out.items() if k in keep}
        return out

    def _deleted_query(self, base, body):
        kinds = as_list(body.get("TxnDelType" if base == "TxnDeletedQuery" else "ListDelType"))
        rows = self.deleted_txns if base == "TxnDeletedQuery" else self.deleted_lists
        key = "TxnDelType" if base == "TxnDeletedQuery" else "ListDelType"
        dates = body.get("DeletedDateRangeFilter") or {}
        out = []
        for row in rows:
            if row[key] not in kinds:
                continue
            deleted = parse_time(row["TimeDeleted"])
            if dates.get("FromDeletedDate") and deleted < parse_time(dates["FromDeletedDate"]):
                continue
            if dates.get("ToDeletedDate") and deleted > parse_time(dates["ToDeletedDate"]):
                continue
            out.append((base[:-5] + "Ret", dict(row)))
        if not out:
            return 1, MESSAGES[1], [], None
        return 0, MESSAGES[0], out, None


def _name_match(criterion, value, wanted):
    value, wanted = value.lower(), wanted.lower()
    if criterion == "StartsWith":
        return value.startswith(wanted)
    if criterion == "EndsWith":
        return value.endswith(wanted)
    return wanted in value

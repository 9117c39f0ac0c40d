"""Pulling what changed in the company file: transaction queries by modification time and the
deleted-transaction log, as :mod:`..incoming` records (provider-facts 3.3, 8.4).

QuickBooks Desktop answers later (through the Web Connector), so nothing here calls anything:
:func:`pull_request` builds the qbXML document of one page of one type, and
:func:`parse_pull` reads its response into a :class:`PullPage`.

* **Types** (:data:`PULL_TYPES`, the order they are read and applied): ReceivePayment,
  BillPaymentCheck, Invoice, CreditMemo, Bill, VendorCredit, then TxnDeleted (the deletions
  of those and of journal entries, last).
* **Watermarks**: a type's cursor is a ``TimeModified`` (``TimeDeleted`` for TxnDeleted)
  exactly as QuickBooks wrote it, in the company file's local time with the offset it gave
  (``2026-12-01T10:00:00-05:00``): QuickBooks reports wrong UTC offsets during daylight
  saving, so the local time it wrote is what it is asked again. ``FromModifiedDate`` /
  ``FromDeletedDate`` is inclusive: the request asks from the cursor plus one second, its
  offset kept as written. Without a cursor, ``since`` (a naive UTC datetime, sent with its
  ``+00:00`` offset: a time without offset would be read as the company file's local time)
  starts the read; with neither, the type is read in full.
* **Pages**: the transaction queries take an iterator (``iterator="Start"``, then
  ``"Continue"`` with the ``iteratorID`` QuickBooks returned; the same criteria — the same
  cursor or ``since`` — each time; ``MaxReturned`` records a page, 1–500). QuickBooks does not
  sort a query by modification time: a page's ``cursor`` is the greatest time of that page
  only, so the caller keeps the greatest of every page of the iteration
  (:func:`latest_cursor`) and stores it once the last page (``more`` false) is applied. An
  iterator lives only within one Web Connector session (a stale one: status 3391, start
  again). TxnDeletedQuery takes no iterator: one page holds every deletion QuickBooks still
  keeps.
* **Lines**: document queries ask ``IncludeLineItems``; payment queries do not — a payment
  has no line items, and ``AppliedToTxnRet`` (what it pays) comes back without it.
* **Records**: ``operation`` is ``create`` when ``TimeCreated`` is ``TimeModified``, else
  ``update``; ``void`` for a voided transaction (QuickBooks keeps it with its amounts zeroed
  and "VOID:" at the start of its Memo: ``status`` ``voided``); ``delete`` for a TxnDeletedRet
  (a record of ``status`` ``deleted`` carrying its TxnID only; its RefNumber is in ``data``).
  ``occurred_at`` is TimeModified / TimeDeleted as naive UTC (by the offset QuickBooks gave);
  ``remote_version`` the EditSequence. A payment's allocations are its ``AppliedToTxnRet``
  (TxnID, TxnType, Amount); the credits a payment applies with them (``LinkedTxn``) and its
  discounts are not money paid and are not allocations. Currencies are None: QuickBooks names
  them by its currency list ("US Dollar"), not by ISO code (``data["currency"]`` has the
  name). A payment's Memo is its ``reference`` as QuickBooks has it (ours start with the Odoo
  number); a document's ``reference`` is what its Memo says after our number (:func:`_reference`).
* **Statuses**: statusCode 1 (nothing changed) is an empty page; any other status without
  records (an error, a stale iterator) is an empty page that says ``status_code`` and
  ``status_message``; a warning that returned records is read. A response that is not qbXML
  raises ProviderResponseError.
"""
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from lxml import etree

from ..answers import WrongShape, utc_time
from ..pull import Pull, day, facts
from ..incoming import (
    IncomingAllocation, IncomingDocument, IncomingJournalEntry, IncomingLine, IncomingPayment,
)
from ..sync_rules import UsageError
from .lists import ListPage
from .qbxml import TXN_OBJECT, add, envelope
from .reading import decimal, statuses, text

PROVIDER = "qbd"            # in the Changes' event ids
DELETED = "TxnDeleted"
PULL_TYPES = ("ReceivePayment", "BillPaymentCheck", "Invoice", "CreditMemo", "Bill",
              "VendorCredit", DELETED)
KIND = {obj: kind for kind, obj in TXN_OBJECT.items()}  # QuickBooks object -> our kind
PAYMENTS = ("ReceivePayment", "BillPaymentCheck")
SALES = ("Invoice", "CreditMemo")
# The transaction types whose deletions TxnDeletedQuery reads.
DELETED_TYPES = ("Invoice", "CreditMemo", "Bill", "VendorCredit", "ReceivePayment",
                 "BillPaymentCheck", "JournalEntry")
# AppliedToTxnRet TxnType -> the kind of the document a payment pays
PAID_KINDS = {"Invoice": "invoice", "CreditMemo": "credit_note", "Bill": "bill",
              "VendorCredit": "vendor_credit"}
# document -> (its line Ret, its line group Ret, the group's line Ret)
LINES = {"Invoice": (("InvoiceLineRet",), ("InvoiceLineGroupRet",), "InvoiceLineRet"),
         "CreditMemo": (("CreditMemoLineRet",), ("CreditMemoLineGroupRet",),
                        "CreditMemoLineRet"),
         "Bill": (("ExpenseLineRet", "ItemLineRet"), ("ItemGroupLineRet",), "ItemLineRet"),
         "VendorCredit": (("ExpenseLineRet", "ItemLineRet"), ("ItemGroupLineRet",),
                          "ItemLineRet")}
# document -> (its total, its balance)
TOTALS = {"Invoice": (None, "BalanceRemaining"), "CreditMemo": ("TotalAmount", "CreditRemaining"),
          "Bill": ("AmountDue", "OpenAmount"), "VendorCredit": ("CreditAmount", "OpenAmount")}
VOID_MEMO = "void:"
MIN_RETURNED, MAX_RETURNED = 1, 500
_STAMP = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}T\d{1,2}:\d{1,2}:\d{1,2})(?:\.\d+)?"
                    r"(Z|[+-]\d{1,2}:\d{2})?\s*$")


@dataclass
class PullPage:
    """One page of a pull type: its ``changes`` (:class:`..base.Change` s with their
    ``record``, oldest first), ``cursor`` (the greatest TimeModified / TimeDeleted of the
    page as QuickBooks wrote it; None for an empty page: keep the cursor you had), the
    ``iterator_id`` to continue with and how many records ``remaining`` (None without an
    iterator), the query's ``status_code`` and ``status_message``."""

    changes: list = field(default_factory=list)
    cursor: str = None
    iterator_id: str = None
    remaining: int = None
    status_code: int = None
    status_message: str = ""

    more = ListPage.more


# -- requests -----------------------------------------------------------------------------------

def pull_request(pull_type, cursor=None, iterator_id=None, max_returned=100, request_id="1",
                 since=None, version="13.0"):
    """The qbXML document that reads one page of ``pull_type`` (one of :data:`PULL_TYPES`)
    changed after ``cursor`` (a cursor :func:`parse_pull` gave), else since ``since`` (a
    naive UTC datetime), else all; with ``iterator_id`` the next page of an iteration
    started with the same criteria."""
    if pull_type not in PULL_TYPES:
        raise UsageError("QuickBooks Desktop does not pull %r (it pulls %s)"
                         % (pull_type, ", ".join(PULL_TYPES)))
    start = after(cursor) if cursor else _since(since)
    if pull_type == DELETED:
        if iterator_id:
            raise UsageError("TxnDeletedQuery takes no iterator")
        request = etree.Element("TxnDeletedQueryRq")
        for txn_type in DELETED_TYPES:
            add(request, "TxnDelType", txn_type)
        if start:
            add(etree.SubElement(request, "DeletedDateRangeFilter"), "FromDeletedDate", start)
        return envelope([(request_id, request)], version)
    request = etree.Element(pull_type + "QueryRq")
    request.set("iterator", "Continue" if iterator_id else "Start")
    if iterator_id:
        request.set("iteratorID", iterator_id)
    add(request, "MaxReturned", str(max(MIN_RETURNED, min(MAX_RETURNED,
                                                          int(max_returned or 0)))))
    if start:
        add(etree.SubElement(request, "ModifiedDateRangeFilter"), "FromModifiedDate", start)
    if pull_type not in PAYMENTS:
        add(request, "IncludeLineItems", "true")
    return envelope([(request_id, request)], version)


def after(cursor):
    """The time a read from ``cursor`` starts at: one second later (FromModifiedDate is
    inclusive), in the same local time and with the same offset as written; UsageError for
    a cursor that is not a qbXML time."""
    found = _STAMP.match(cursor) if isinstance(cursor, str) else None
    try:
        moment = datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S") if found else None
    except ValueError:
        moment = None
    if moment is None:
        raise UsageError("%r is not a QuickBooks Desktop pull cursor" % (cursor,))
    offset = found.group(2) or ""
    return (moment + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S") + (
        "+00:00" if offset == "Z" else offset)


def _since(since):
    """``since`` as a qbXML time: a naive datetime is UTC (+00:00), an aware one keeps its
    offset; None for None."""
    if since is None:
        return None
    if not isinstance(since, datetime):
        raise UsageError("since must be a datetime, not %r" % (since,))
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return since.replace(microsecond=0).isoformat()


def latest_cursor(*cursors):
    """The greatest of ``cursors`` (None and unreadable ones left out; None if none):
    compared by the local time QuickBooks wrote, then by UTC."""
    best, best_key = None, None
    for cursor in cursors:
        key = _order(cursor)
        if key is not None and (best_key is None or key > best_key):
            best, best_key = cursor, key
    return best


def _order(stamp):
    found = _STAMP.match(stamp) if isinstance(stamp, str) else None
    if not found:
        return None
    try:
        local = datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return local, utc_time(stamp) or local


# -- responses ----------------------------------------------------------------------------------

def parse_pull(pull_type, response, company_id):
    """The :class:`PullPage` of ``pull_type`` a response holds (``company_id``: the remote
    company the Changes are of); ProviderResponseError when it is not qbXML."""
    if pull_type not in PULL_TYPES:
        raise UsageError("QuickBooks Desktop does not pull %r" % (pull_type,))
    name = pull_type + "QueryRs"
    found = [s for s in statuses(response) if s.name == name]
    if not found:
        return PullPage(status_message="no %s in the response" % name)
    status = found[0]
    page = PullPage(iterator_id=status.iterator_id, remaining=status.remaining,
                    status_code=status.code, status_message=status.message)
    if not status.ok:
        return page
    pull = Pull(PROVIDER, company_id, PULL_TYPES)
    stamps = []
    for ret in status.rets:
        stamp = text(ret, "TimeDeleted" if pull_type == DELETED else "TimeModified")
        stamps.append(stamp)
        change = (_deletion(pull, ret) if pull_type == DELETED
                  else _change(pull, pull_type, ret))
        if change is not None:
            page.changes.append(change)
    page.changes.sort(key=lambda c: (c.occurred_at is None, c.occurred_at or datetime.min,
                                     c.remote_id))
    page.cursor = latest_cursor(*stamps)
    return page


def _change(pull, entity, ret):
    """The Change of one XxxRet of ``entity`` (None without a TxnID)."""
    if ret.tag != entity + "Ret" or not text(ret, "TxnID"):
        return None
    kind = KIND[entity]
    record = _payment(entity, kind, ret) if entity in PAYMENTS else _document(entity, kind, ret)
    modified = text(ret, "TimeModified")
    if record.status == "voided":
        operation = "void"
    else:
        created = utc_time(text(ret, "TimeCreated"))
        operation = "create" if created is not None and created == utc_time(modified) \
            else "update"
    total = record.amount if entity in PAYMENTS else record.amount_total
    return pull.change(entity, record, kind, (kind,), operation, utc_time(modified), facts(
        entity=entity, status=record.status, edit_sequence=record.remote_version,
        number=record.number, total=total, time_modified=modified,
        txn_number=text(ret, "TxnNumber"), currency=text(ret, "CurrencyRef/FullName")))


def _deletion(pull, ret):
    """The Change of one TxnDeletedRet (None for a type not pulled or without a TxnID)."""
    entity, remote_id = text(ret, "TxnDelType"), text(ret, "TxnID")
    if entity not in DELETED_TYPES or not remote_id:
        return None
    kind = KIND[entity]
    if entity in PAYMENTS:
        record = IncomingPayment(kind=kind, remote_id=remote_id, status="deleted")
    elif entity == "JournalEntry":
        record = IncomingJournalEntry(remote_id=remote_id, status="deleted")
    else:
        record = IncomingDocument(kind=kind, remote_id=remote_id, status="deleted")
    deleted = text(ret, "TimeDeleted")
    return pull.change(DELETED, record, kind, (kind,), "delete", utc_time(deleted), facts(
        entity=entity, status="deleted", number=text(ret, "RefNumber"),
        time_deleted=deleted, time_created=text(ret, "TimeCreated")))


# -- records ------------------------------------------------------------------------------------

def _date(ret, path):
    """The date at ``path`` (None when absent or not a date)."""
    try:
        return day(text(ret, path), path)
    except WrongShape:
        return None


def _voided(total, ret):
    """QuickBooks keeps a voided transaction with its amounts zeroed and "VOID:" first in
    its Memo."""
    return (total is not None and total == 0
            and (text(ret, "Memo") or "").lower().startswith(VOID_MEMO))


def _payment(entity, kind, ret):
    allocations = []
    for applied in ret.iterfind("AppliedToTxnRet"):
        document_kind = PAID_KINDS.get(text(applied, "TxnType"))
        amount = decimal(applied, "Amount")
        if document_kind and text(applied, "TxnID") and amount is not None:
            allocations.append(IncomingAllocation(
                document_kind=document_kind, document_id=text(applied, "TxnID"),
                amount=abs(amount)))
    if entity == "ReceivePayment":
        party, account = text(ret, "CustomerRef/ListID"), text(ret, "DepositToAccountRef/ListID")
        amount = decimal(ret, "TotalAmount")
    else:
        party = text(ret, "PayeeEntityRef/ListID") or text(ret, "VendorRef/ListID")
        account, amount = text(ret, "BankAccountRef/ListID"), decimal(ret, "Amount")
    return IncomingPayment(
        kind=kind, remote_id=text(ret, "TxnID"), remote_version=text(ret, "EditSequence"),
        status="voided" if _voided(amount, ret) else "active", date=_date(ret, "TxnDate"),
        party_id=party, amount=amount, exchange_rate=decimal(ret, "ExchangeRate"),
        account_id=account, reference=text(ret, "Memo"), allocations=allocations,
        number=text(ret, "RefNumber"))


def _reference(memo):
    """A document's reference in its Memo, which we write as "<Odoo number>: <reference>" or
    the number alone (:func:`..sync_rules.numbered`): what follows the number, None for the
    number alone; a Memo written in QuickBooks in other words is the reference as it is."""
    if not memo:
        return None
    head, sep, rest = memo.partition(": ")
    if sep and head and not any(ch.isspace() for ch in head):
        return rest or None
    return None if not any(ch.isspace() for ch in memo) else memo


def _document(entity, kind, ret):
    lines = _lines(entity, ret)
    line_tax = [line.tax_amount for line in lines if line.tax_amount is not None]
    tax = decimal(ret, "SalesTaxTotal") if entity in SALES else None
    if tax is None:
        tax = sum(line_tax, Decimal(0))
    total_path, balance_path = TOTALS[entity]
    if total_path:
        total = decimal(ret, total_path)
    else:  # an InvoiceRet has no total: its Subtotal and its tax (unless tax included)
        subtotal = decimal(ret, "Subtotal")
        included = (text(ret, "IsTaxIncluded") or "").lower() == "true"
        total = None if subtotal is None else subtotal if included else subtotal + tax
    party = text(ret, "CustomerRef/ListID" if entity in SALES else "VendorRef/ListID")
    return IncomingDocument(
        kind=kind, remote_id=text(ret, "TxnID"), remote_version=text(ret, "EditSequence"),
        status="voided" if _voided(total, ret) else "active", number=text(ret, "RefNumber"),
        reference=_reference(text(ret, "Memo")), date=_date(ret, "TxnDate"),
        due_date=_date(ret, "DueDate"), party_id=party,
        exchange_rate=decimal(ret, "ExchangeRate"),
        amount_untaxed=None if total is None else total - tax, amount_tax=tax,
        amount_total=total, balance=decimal(ret, balance_path), lines=lines)


def _lines(entity, ret):
    """A document's lines in order (an item group's lines in its place)."""
    own, groups, grouped = LINES[entity]
    lines = []
    for node in ret:
        if node.tag in own:
            lines.append(_line(node))
        elif node.tag in groups:
            lines += [_line(child) for child in node.iterfind(grouped)]
    return lines


def _line(node):
    if node.tag == "ExpenseLineRet":
        return IncomingLine(description=text(node, "Memo"), amount=decimal(node, "Amount"),
                            account_id=text(node, "AccountRef/ListID"),
                            tax_id=text(node, "SalesTaxCodeRef/ListID"),
                            tax_amount=decimal(node, "TaxAmount"))
    return IncomingLine(
        description=text(node, "Desc"), quantity=decimal(node, "Quantity"),
        unit_price=decimal(node, "Rate") if node.find("Rate") is not None
        else decimal(node, "Cost"),
        amount=decimal(node, "Amount"), tax_id=text(node, "SalesTaxCodeRef/ListID"),
        item_id=text(node, "ItemRef/ListID"), tax_amount=decimal(node, "TaxAmount"))

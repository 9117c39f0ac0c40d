"""QuickBooks Desktop: a company file's books as a reconciliation reads them (:mod:`..books`,
provider-facts 3.3, 8.5), one qbXML request per Web Connector exchange.

QuickBooks Desktop answers later, so nothing here calls anything: :func:`books_request`
builds the qbXML document of one read (a :class:`Read`), :func:`parse_books` adds its
response to a :class:`..books.RemoteBooks` and says what to read next. The reads, in order
(:func:`first_read`, then each response's next one):

* **the trial balance**: ``GeneralSummaryReportQueryRq`` of type ``TrialBalance`` for the
  window (``ReportPeriod`` from the sync start date to the as-of date; ``ReportBasis``
  Accrual or Cash). Its rows name accounts by their full name only (``RowData
  rowType="account"``): each :class:`..books.TrialBalanceRow` is keyed ``name:<FullName>``,
  and the Odoo side matches it by the remote account's name;
* **the documents** of each kind: ``InvoiceQueryRq`` (``CreditMemo``, ``Bill``,
  ``VendorCredit``) with ``TxnDateRangeFilter`` on the window, through an iterator
  (``MaxReturned`` :data:`PAGE` a page), then the linked TxnIDs the window did not hold
  (``TxnID`` elements, :data:`IDS_SIZE` a request); a TxnID still not found is in
  ``not_found``. Totals, tax and ``BalanceRemaining`` (``CreditRemaining``) as
  :mod:`.pull` reads them; a voided document (amounts zeroed, "VOID:" memo) is voided;
* **the agings**: computed from the documents read (QuickBooks' aging reports name
  customers by name only), like Xero's.
"""
from dataclasses import dataclass, field

from lxml import etree

from ..books import (
    DOCUMENT_KINDS, POSTED, VOIDED, RemoteDocument, TrialBalanceRow, agings_from_documents,
)
from ..errors import ProviderError, ProviderResponseError
from ..sync_rules import UsageError, chunks
from .pull import KIND, _document
from .qbxml import TXN_OBJECT, add, envelope
from .reading import decimal, statuses, text

PAGE = 500          # records a page of a document query (QuickBooks takes up to 500 here)
IDS_SIZE = 100      # TxnIDs a look-up request names
REPORT = "GeneralSummaryReportQuery"


@dataclass
class Read:
    """One read of a reconciliation: ``part`` (``trial_balance``, ``documents``, ``known``),
    the ``kind`` of document it reads, the ``iterator_id`` of a page after the first, the
    ``txn_ids`` a look-up names."""

    part: str
    kind: str = None
    iterator_id: str = None
    txn_ids: list = field(default_factory=list)

    def to_dict(self):
        return {"part": self.part, "kind": self.kind, "iterator_id": self.iterator_id,
                "txn_ids": list(self.txn_ids)}

    @classmethod
    def from_dict(cls, data):
        return cls(**{k: data.get(k) for k in ("part", "kind", "iterator_id")},
                   txn_ids=list(data.get("txn_ids") or ()))


def first_read():
    return Read("trial_balance")


def books_request(read, as_of, start, basis="accrual", version="13.0", request_id="1"):
    """The qbXML document of ``read`` (a :class:`Read`) for the window ``start``–``as_of``."""
    if read.part == "trial_balance":
        request = etree.Element(REPORT + "Rq")
        add(request, "GeneralSummaryReportType", "TrialBalance")
        period = etree.SubElement(request, "ReportPeriod")
        add(period, "FromReportDate", start.isoformat())
        add(period, "ToReportDate", as_of.isoformat())
        add(request, "ReportBasis", "Cash" if basis == "cash" else "Accrual")
        return envelope([(request_id, request)], version)
    if read.kind not in DOCUMENT_KINDS:
        raise UsageError("QuickBooks Desktop has no %r documents to reconcile" % (read.kind,))
    entity = TXN_OBJECT[read.kind]
    request = etree.Element(entity + "QueryRq")
    if read.part == "known":
        for txn_id in read.txn_ids:
            add(request, "TxnID", txn_id)
    else:
        request.set("iterator", "Continue" if read.iterator_id else "Start")
        if read.iterator_id:
            request.set("iteratorID", read.iterator_id)
        add(request, "MaxReturned", str(PAGE))
        dates = etree.SubElement(request, "TxnDateRangeFilter")
        add(dates, "FromTxnDate", start.isoformat())
        add(dates, "ToTxnDate", as_of.isoformat())
    add(request, "IncludeLineItems", "true")
    return envelope([(request_id, request)], version)


def parse_books(read, response, books, kinds, known, as_of):
    """Add what the response to ``read`` holds to ``books``; the next :class:`Read` (None:
    everything is read, and the agings are computed). A refusal of the report or a query
    raises ProviderError with QuickBooks' words (``qbd_read_refused``)."""
    name = (REPORT if read.part == "trial_balance" else TXN_OBJECT[read.kind] + "Query") + "Rs"
    found = [s for s in statuses(response) if s.name == name]
    if not found:
        raise ProviderResponseError(params={"provider": "QuickBooks Desktop",
                                            "problem": "no %s in the response" % name})
    status = found[0]
    # 1: nothing found (a query with no record, or a look-up of deleted TxnIDs)
    if status.code not in (0, 1) and not status.ok:
        raise ProviderError(code="qbd_read_refused", params={
            "provider": "QuickBooks Desktop", "text": status.message or str(status.code)})
    if read.part == "trial_balance":
        books.trial_balance = trial_balance_rows(status.node)
        return _next_kind(None, kinds, known, books, as_of)
    for ret in status.rets:
        if ret.tag == TXN_OBJECT[read.kind] + "Ret":
            doc = document_of(read.kind, ret)
            books.documents[doc.remote_id] = doc
    if read.part == "documents" and status.iterator_id and status.remaining:
        return Read("documents", read.kind, iterator_id=status.iterator_id)
    if read.part == "known":
        books.not_found |= {i for i in read.txn_ids if i not in books.documents}
    return _next_kind(read, kinds, known, books, as_of)


def _next_kind(read, kinds, known, books, as_of):
    """After ``read``: the known TxnIDs of its kind the window did not hold, else the next
    kind's documents, else None (the agings computed)."""
    kinds = [k for k in DOCUMENT_KINDS if k in kinds]
    if read is not None:
        left = sorted({str(i) for i in (known or {}).get(read.kind, ())}
                      - set(books.documents) - books.not_found
                      - set(read.txn_ids if read.part == "known" else ()))
        if left:
            return Read("known", read.kind, txn_ids=list(chunks(left, IDS_SIZE))[0])
        position = kinds.index(read.kind) + 1 if read.kind in kinds else len(kinds)
    else:
        position = 0
    if position < len(kinds):
        return Read("documents", kinds[position])
    agings_from_documents(books, as_of)
    return None


def trial_balance_rows(node):
    """The accounts of a TrialBalance ReportRet: ``name:<FullName>`` -> TrialBalanceRow
    (debit minus credit); the TotalRow is no account."""
    rows = {}
    columns = {}
    report = node.find("ReportRet") if node is not None else None
    if report is None:
        return rows
    for desc in report.iterfind("ColDesc"):
        columns[desc.get("colID")] = text(desc, "ColType")
    data = report.find("ReportData")
    for row in (data.iterfind("DataRow") if data is not None else ()):
        label = row.find("RowData")
        if label is None or label.get("rowType") != "account" or not label.get("value"):
            continue
        name = label.get("value").strip()
        debit = credit = 0
        for cell in row.iterfind("ColData"):
            holder = etree.Element("v")
            holder.text = cell.get("value")
            amount = decimal(holder, ".") or 0
            if columns.get(cell.get("colID")) == "Debit":
                debit = amount
            elif columns.get(cell.get("colID")) == "Credit":
                credit = amount
        key = "name:%s" % name
        rows[key] = TrialBalanceRow(account_id=key, name=name, balance=debit - credit)
    return rows


def document_of(kind, ret):
    """One XxxRet as a :class:`..books.RemoteDocument` (read as :mod:`.pull` reads it)."""
    entity = TXN_OBJECT[kind]
    record = _document(entity, KIND[entity], ret)
    return RemoteDocument(
        kind=kind, remote_id=record.remote_id, number=record.number,
        partner_id=record.party_id, date=record.date, total=record.amount_total or 0,
        tax=record.amount_tax or 0, balance=record.balance or 0,
        status=VOIDED if record.status == "voided" else POSTED, lines=len(record.lines),
        rate=record.exchange_rate or 1)

"""Xero: an organisation's books as a reconciliation reads them (the adapter's ``books()``;
:mod:`..books`, provider-facts 8.5).

* **Trial balance**: ``GET Reports/TrialBalance?date=<as of>&paymentsOnly=<cash>`` — one
  read. Each account row's first cell names it ("Sales (200)") and carries its AccountID in
  ``Attributes`` (``Id: account``); its Debit and Credit cells are its balance at the date.
* **Documents**: ``Invoices`` (sales invoices and bills) and ``CreditNotes`` dated in the
  window, ``where=Date >= DateTime(start) && Date <= DateTime(as of)``, in pages of
  :data:`PAGE_SIZE` (``pageSize``; Xero takes up to 1,000), then the linked ids the window
  did not hold by ``IDs`` (credit notes: a ``where`` naming them; 50 a call, to keep the
  URL short). Total, TotalTax, AmountDue
  (credit notes: RemainingCredit), Status, CurrencyRate as Xero keeps them.
* **Agings**: Xero's aged receivables and payables reports take one contact a call, so the
  organisation's agings are computed from the documents read (their AmountDue, in the base
  currency; :func:`..books.agings_from_documents`): no read of their own, read only when
  the documents were.

Every call is counted against the reconciliation's budget before it is made.
"""
import re
from decimal import Decimal

from ..answers import number, obj, objects, text
from ..books import (
    DELETED, DOCUMENT_KINDS, DRAFT, POSTED, VOIDED, RemoteBooks, RemoteDocument,
    TrialBalanceRow, agings_from_documents, reading_parts,
)
from ..sync_rules import chunks
from .lookups import where_any
from .pull import DOCUMENT_KINDS as TYPE_KINDS, _day

PAGE_SIZE = 1000
IDS_SIZE = 50
# resource -> (AccountingApi method, id field, number field, balance field, kinds)
RESOURCES = {
    "Invoices": ("get_invoices", "InvoiceID", "InvoiceNumber", "AmountDue", ("invoice", "bill")),
    "CreditNotes": ("get_credit_notes", "CreditNoteID", "CreditNoteNumber", "RemainingCredit",
                    ("credit_note", "vendor_credit")),
}
STATUSES = {"VOIDED": VOIDED, "DELETED": DELETED, "DRAFT": DRAFT, "SUBMITTED": DRAFT}
CODE = re.compile(r"\(([^()]+)\)\s*$")  # "Sales (200)" -> 200


class XeroBooks:
    """One ``books()`` call for one organisation (made by the adapter)."""

    def __init__(self, writer, budget, page_size=PAGE_SIZE):
        self.writer, self.budget, self.page_size = writer, budget, page_size
        self.books = RemoteBooks()

    def run(self, as_of, start, kinds, known, basis):
        kinds = [k for k in DOCUMENT_KINDS if k in kinds]
        books = reading_parts(self.books, self.budget, [
            ("trial_balance", lambda: self._trial_balance(as_of, basis)),
            ("documents", lambda: self._documents(as_of, start, kinds, known)),
        ])
        if books.has_read("documents"):
            agings_from_documents(books, as_of)
        else:
            books.unread.append("agings")
        return books

    def _call(self, method, **kwargs):
        self.budget.charge()
        return self.writer.call(getattr(self.writer.api, method), **kwargs)

    def _trial_balance(self, as_of, basis):
        data = self._call("get_report_trial_balance", date=as_of,
                          payments_only=basis == "cash")
        reports = objects(data.get("Reports"), "its Reports")
        rows = {}
        for row in report_rows(obj(reports[0], "its report") if reports else {}):
            cells = objects(row.get("Cells"), "its Cells")
            if not cells:
                continue
            first = obj(cells[0], "a cell")
            account_id = next((text(a.get("Value"), "an AccountID")
                               for a in objects(first.get("Attributes") or [], "its Attributes")
                               if obj(a, "an attribute").get("Id") == "account"), None)
            name = text(first.get("Value"), "an account's name") or ""
            # a row without an AccountID (an account the report makes up): by its name
            account_id = account_id or ("name:%s" % name if name else None)
            if not account_id:
                continue
            code = CODE.search(name)
            debit = number(_cell(cells, 1), "a Debit", Decimal(0))
            credit = number(_cell(cells, 2), "a Credit", Decimal(0))
            rows[account_id] = TrialBalanceRow(
                account_id=account_id, name=name, balance=debit - credit,
                code=code.group(1) if code else None)
        self.books.trial_balance = rows

    def _documents(self, as_of, start, kinds, known):
        where = "Date >= DateTime(%s) && Date <= DateTime(%s)" % (
            start.strftime("%Y, %m, %d"), as_of.strftime("%Y, %m, %d"))
        for resource, spec in RESOURCES.items():
            if not set(spec[4]) & set(kinds):
                continue
            page = 1
            while True:
                found = self._read(resource, where=where, page=page, page_size=self.page_size)
                if len(found) < self.page_size:
                    break
                page += 1
            left = sorted({str(i) for kind in spec[4] for i in (known or {}).get(kind, ())}
                          - set(self.books.documents))
            for part in chunks(left, IDS_SIZE):
                if resource == "Invoices":
                    self._read(resource, i_ds=list(part))
                else:  # GET CreditNotes takes no IDs: a where clause names them
                    self._read(resource, where=where_any([(spec[1], i) for i in part]))
            self.books.not_found |= {i for i in left if i not in self.books.documents}
        self.books.documents = {k: d for k, d in self.books.documents.items() if d.kind in kinds}

    def _read(self, resource, **kwargs):
        method, id_field, number_field, balance_field, _kinds = RESOURCES[resource]
        found = objects(self._call(method, **kwargs).get(resource), "its " + resource)
        for row in found:
            row = obj(row, "an element of its " + resource)
            doc = document_of(row, id_field, number_field, balance_field)
            self.books.documents[doc.remote_id] = doc
        return found


def report_rows(report):
    """The rows of a Xero report (``RowType: Row``), sections flattened."""
    found = []

    def walk(rows):
        for row in objects(rows or [], "its Rows"):
            row = obj(row, "a report row")
            if row.get("RowType") == "Row":
                found.append(row)
            if row.get("Rows"):
                walk(row["Rows"])

    walk(obj(report, "the report").get("Rows"))
    return found


def _cell(cells, index):
    if index >= len(cells):
        return None
    value = obj(cells[index], "a cell").get("Value")
    return None if value in (None, "") else value


def document_of(row, id_field, number_field, balance_field):
    """One Xero invoice or credit note as a :class:`..books.RemoteDocument`."""
    xero_type = text(row.get("Type"), "its Type", required=True)
    kind = TYPE_KINDS.get(xero_type)
    if kind is None:
        kind = "invoice"  # an unknown type is compared as a sales document, and will differ
    rate = number(row.get("CurrencyRate"), "its CurrencyRate")
    return RemoteDocument(
        kind=kind, remote_id=text(row.get(id_field), "its " + id_field, required=True),
        number=text(row.get(number_field), "its number"),
        partner_id=text(obj(row.get("Contact") or {}, "its Contact").get("ContactID"),
                        "its ContactID"),
        date=_day(row.get("Date"), "its Date"),
        total=number(row.get("Total"), "its Total", Decimal(0)),
        tax=number(row.get("TotalTax"), "its TotalTax", Decimal(0)),
        balance=number(row.get(balance_field), "its balance", Decimal(0)),
        status=STATUSES.get(text(row.get("Status"), "its Status"), POSTED),
        lines=len(objects(row.get("LineItems") or [], "its LineItems")),
        currency=text(row.get("CurrencyCode"), "its CurrencyCode"),
        rate=(Decimal(1) / rate) if rate else Decimal(1))

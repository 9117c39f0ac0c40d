"""QuickBooks Online: a realm's books as a reconciliation reads them (the adapter's
``books()``; :mod:`..books`, provider-facts 8.5).

* **Trial balance**: ``GET reports/TrialBalance?start_date=<start>&end_date=<as of>
  &accounting_method=Accrual|Cash`` — one read. Rows are ``Rows.Row[].ColData`` (the account
  with its ``id``, Debit, Credit), nested in sections or not; the ``GrandTotal`` summary is
  not an account.
* **Agings**: ``reports/AgedReceivables`` and ``reports/AgedPayables`` with
  ``report_date=<as of>`` — two reads; each data row is a customer (vendor) with its ``id``,
  its last column the total it owes (is owed).
* **Documents**: one query a page per entity, ``SELECT * FROM Invoice WHERE TxnDate >=
  '<start>' AND TxnDate <= '<as of>' STARTPOSITION n MAXRESULTS 1000`` (CreditMemo, Bill,
  VendorCredit likewise, for the kinds asked), then the linked ids the window did not hold,
  ``WHERE Id IN (...)`` by 30. TotalAmt, TxnTaxDetail.TotalTax and Balance as QBO keeps them
  (CreditMemo: RemainingCredit where Balance is absent); a transaction zeroed with a
  "Voided" note is voided.

Every call is counted against the reconciliation's budget before it is made.
"""
from datetime import date
from decimal import Decimal

from ..answers import number, obj, objects, text
from ..pull import day
from ..books import (
    DELETED, DOCUMENT_KINDS, POSTED, VOIDED, RemoteBooks, RemoteDocument, TrialBalanceRow,
    reading_parts,
)
from ..sync_rules import chunks
from .lookups import IN_SIZE, PAGE, qbo_id, quote
from .payloads import ENTITY

AGINGS = (("receivable", "AgedReceivables"), ("payable", "AgedPayables"))
PARTY_REF = {"invoice": "CustomerRef", "credit_note": "CustomerRef", "bill": "VendorRef",
             "vendor_credit": "VendorRef"}
DETAIL_TYPES = ("SalesItemLineDetail", "AccountBasedExpenseLineDetail",
                "ItemBasedExpenseLineDetail", "DescriptionOnly")


class QboBooks:
    """One ``books()`` call for one realm (made by the adapter)."""

    def __init__(self, writer, budget):
        self.writer, self.budget = writer, budget
        self.books = RemoteBooks()

    def run(self, as_of, start, kinds, known, basis):
        kinds = [k for k in DOCUMENT_KINDS if k in kinds]
        return reading_parts(self.books, self.budget, [
            ("trial_balance", lambda: self._trial_balance(as_of, start, basis)),
            ("agings", lambda: self._agings(as_of)),
            ("documents", lambda: self._documents(as_of, start, kinds, known)),
        ])

    # -- reads -----------------------------------------------------------------------------

    def _report(self, name, params):
        self.budget.charge()
        client = self.writer.client
        return obj(self.writer.adapter._api_call(client.get_report, name, qs=params),
                   "its report")

    def _query(self, statement):
        self.budget.charge()
        return self.writer.query(statement)

    # -- trial balance and agings ---------------------------------------------------------------

    def _trial_balance(self, as_of, start, basis):
        report = self._report("TrialBalance", {
            "start_date": _iso(start), "end_date": _iso(as_of),
            "accounting_method": "Cash" if basis == "cash" else "Accrual"})
        rows = {}
        for cells in report_rows(report):
            name = text(cells[0].get("value"), "an account's name")
            # a row without an id (an account the report makes up) is known by its name
            account_id = text(cells[0].get("id"), "an account's id") or (
                "name:%s" % name if name else None)
            if not account_id:
                continue
            debit = number(_value(cells, 1), "a Debit", Decimal(0))
            credit = number(_value(cells, 2), "a Credit", Decimal(0))
            rows[account_id] = TrialBalanceRow(
                account_id=account_id, name=name, balance=debit - credit)
        self.books.trial_balance = rows

    def _agings(self, as_of):
        for side, name in AGINGS:
            report = self._report(name, {"report_date": _iso(as_of)})
            amounts = {}
            for cells in report_rows(report):
                partner = text(cells[0].get("id"), "a customer's or vendor's id")
                if not partner:
                    continue
                amounts[partner] = number(_value(cells, len(cells) - 1), "a Total", Decimal(0))
                self.books.partner_names[partner] = text(cells[0].get("value"), "a name")
            setattr(self.books, side, {k: v for k, v in amounts.items() if v})
            setattr(self.books, side + "_total", sum(amounts.values(), Decimal(0)))

    # -- documents ----------------------------------------------------------------------------

    def _documents(self, as_of, start, kinds, known):
        for kind in kinds:
            where = "TxnDate >= %s AND TxnDate <= %s" % (quote(_iso(start)), quote(_iso(as_of)))
            self._read(kind, where, paged=True)
        for kind in kinds:
            left = sorted({str(i) for i in (known or {}).get(kind, ())}
                          - set(self.books.documents))
            for part in chunks(left, IN_SIZE):
                self._read(kind, "Id IN (%s)" % ", ".join(map(quote, part)))
            self.books.not_found |= {i for i in left if i not in self.books.documents}

    def _read(self, kind, where, paged=False):
        entity, start = ENTITY[kind], 1
        while True:
            page = objects(self._query("SELECT * FROM %s WHERE %s STARTPOSITION %d MAXRESULTS %d"
                                       % (entity, where, start, PAGE)).get(entity),
                           "its %s rows" % entity)
            for row in page:
                doc = document_of(kind, obj(row, "a %s row" % entity))
                self.books.documents[doc.remote_id] = doc
            if not paged or len(page) < PAGE:
                return
            start += PAGE


def report_rows(report):
    """The data rows of an Intuit report, sections flattened: each row's ColData (a list of
    cell objects), summaries left out."""
    found = []

    def walk(rows):
        for row in objects(obj(rows or {}, "its Rows").get("Row"), "its rows"):
            row = obj(row, "a report row")
            if row.get("ColData"):
                found.append([obj(c, "a cell") for c in objects(row["ColData"], "its cells")])
            if row.get("Rows"):
                walk(row["Rows"])

    walk(obj(report, "the report").get("Rows"))
    return found


def _value(cells, index):
    if index >= len(cells):
        return None
    value = cells[index].get("value")
    return None if value in (None, "") else value


def _iso(day):
    return day.isoformat() if isinstance(day, date) else str(day)


def document_of(kind, row):
    """One QBO document row as a :class:`..books.RemoteDocument`."""
    if row.get("status") == "Deleted":
        return RemoteDocument(kind=kind, remote_id=qbo_id(row.get("Id"), "its Id"),
                              status=DELETED)
    total = number(row.get("TotalAmt"), "its TotalAmt", Decimal(0))
    balance = row.get("Balance", row.get("RemainingCredit"))
    voided = not total and (text(row.get("PrivateNote"), "its PrivateNote") or "").lower() \
        .startswith("voided")
    party = obj(row.get(PARTY_REF[kind]) or {}, "its " + PARTY_REF[kind])
    currency = obj(row.get("CurrencyRef") or {}, "its CurrencyRef")
    return RemoteDocument(
        kind=kind, remote_id=qbo_id(row.get("Id"), "its Id"),
        number=text(row.get("DocNumber"), "its DocNumber"),
        partner_id=text(party.get("value"), "its party"),
        date=day(text(row.get("TxnDate"), "its TxnDate"), "its TxnDate"),
        total=total,
        tax=number(obj(row.get("TxnTaxDetail") or {}, "its TxnTaxDetail").get("TotalTax"),
                   "its TotalTax", Decimal(0)),
        balance=number(balance, "its Balance", Decimal(0)),
        status=VOIDED if voided else POSTED,
        lines=sum(1 for line in objects(row.get("Line") or [], "its lines")
                  if obj(line, "a line").get("DetailType") in DETAIL_TYPES),
        currency=text(currency.get("value"), "its currency"),
        rate=number(row.get("ExchangeRate"), "its ExchangeRate", Decimal(1)) or Decimal(1))

"""QuickBooks Desktop reports of the sandbox company file (``qbd.py``): the
``GeneralSummaryReportQueryRq`` with ``GeneralSummaryReportType`` TrialBalance, answered in
qbXML 13.0's ``ReportRet`` shape (title, subtitle, basis, row/column counts, a ``ColDesc`` per
column, then ``ReportData`` rows of ``RowData`` + ``ColData`` cells with attributes), computed
at request time from the company file's own books — the records its queries answer — so that
a sync to QuickBooks Desktop can be reconciled as one to QuickBooks Online is
(``qbo_reports.py``): the trial balance balances, the control accounts tie to the documents.

What each transaction posts (``ledger.Ledger``, debits positive), with the seeded chart's
accounts (FullName):

* Invoice: debit its ``ARAccountRef`` (the company file stores "Accounts Receivable" when
  none is sent) by the document total the company file computed (Subtotal + SalesTaxTotal,
  Subtotal alone when ``IsTaxIncluded``); credit each line's item's account by the line
  Amount (less its TaxAmount when tax is included) — ``SalesOrPurchase/AccountRef``, else
  ``SalesAndPurchase/IncomeAccountRef`` (a sales tax item's line: the tax account); credit the
  tax account by SalesTaxTotal. CreditMemo: the reverse.
* Bill: credit ``APAccountRef`` ("Accounts Payable") by the total; debit each ExpenseLine's
  ``AccountRef`` and each ItemLine's item's ``SalesOrPurchase/AccountRef``, else
  ``SalesAndPurchase/ExpenseAccountRef``, by its Amount (net of an included TaxAmount); debit
  the tax account by the lines' TaxAmount (CA/UK input tax; US bills carry none).
  VendorCredit: the reverse.
* ReceivePayment: debit ``DepositToAccountRef``, else the "Undeposited Funds" account
  (SpecialAccountType UndepositedFunds), credit ``ARAccountRef``, by TotalAmount.
  BillPaymentCheck: debit ``APAccountRef``, credit ``BankAccountRef`` ("Checking" by
  default), by Amount. JournalEntry: each JournalDebitLine / JournalCreditLine's AccountRef.
* The tax account is the chart's account whose SpecialAccountType is SalesTaxPayable — the
  seed's "Sales Tax Payable" (US; QuickBooks posts every sales tax item's tax there), "GST/HST
  Payable" (CA), "VAT Control" (UK); without one, a report-only row "Sales Tax Payable". A
  line whose item or expense line names no account lands on a report-only "Uncategorized
  Income" / "Uncategorized Expenses" row (QuickBooks' names for those accounts).
* Voided transactions (amounts zero, ``_void``) post nothing; deleted ones are gone.

Why movements rather than QuickBooks' cumulative balances: as on the QBO side, a reconciling
test asks for a period and gets exactly what was booked in it; ask from a date before any
activity to get balances.
"""
from datetime import date, timedelta

from lxml import etree

from . import qbd_seed as seed
from .ledger import ZERO, Ledger, money, parse_date, text

OK = (0, "Status OK")
# QuickBooks' trial balance order: account types as in the chart, then number, then name
TYPE_ORDER = ("Bank", "AccountsReceivable", "OtherCurrentAsset", "FixedAsset", "OtherAsset",
              "AccountsPayable", "CreditCard", "OtherCurrentLiability", "LongTermLiability",
              "Equity", "Income", "CostOfGoodsSold", "Expense", "OtherIncome", "OtherExpense",
              "NonPosting")
DEBIT_NORMAL = ("Bank", "AccountsReceivable", "OtherCurrentAsset", "FixedAsset", "OtherAsset",
                "CostOfGoodsSold", "Expense", "OtherExpense")
# report-only rows (no such account in the chart): key (FullName, AccountType)
TAX_ROW = ("Sales Tax Payable", "OtherCurrentLiability")
UNCATEGORIZED = {"sales": ("Uncategorized Income", "Income"),
                 "purchase": ("Uncategorized Expenses", "Expense")}
SALES_LINES = {"Invoice": "InvoiceLineRet", "CreditMemo": "CreditMemoLineRet"}
CASH_KINDS = ("ReceivePayment", "BillPaymentCheck", "JournalEntry")
# (ColTitle value, ColType, dataType) of the trial balance's columns, colID 1..3
COLUMNS = (("", "Label", "STRTYPE"), ("Debit", "Debit", "AMTTYPE"),
           ("Credit", "Credit", "AMTTYPE"))
# ReportDateMacro values the sandbox works out (today → (from, to)); the others count as All
MACROS = {
    "Today": lambda t: (t, t),
    "ThisMonth": lambda t: (t.replace(day=1), _month_end(t)),
    "ThisMonthToDate": lambda t: (t.replace(day=1), t),
    "LastMonth": lambda t: (_month_start(t.replace(day=1) - timedelta(days=1)),
                            t.replace(day=1) - timedelta(days=1)),
    "ThisYear": lambda t: (t.replace(month=1, day=1), t.replace(month=12, day=31)),
    "ThisYearToDate": lambda t: (t.replace(month=1, day=1), t),
    "LastYear": lambda t: (date(t.year - 1, 1, 1), date(t.year - 1, 12, 31)),
}


class ReportError(Exception):
    """A request the report cannot answer: its qbXML status code and message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def _month_start(day):
    return day.replace(day=1)


def _month_end(day):
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def general_summary(company, body):
    """Answer a GeneralSummaryReportQueryRq (its body as a dict) as ``CompanyFile._dispatch``
    answers: (statusCode, statusMessage, [("ReportRet", element)], None). The caller holds
    the company file's lock. TrialBalance only; another report type answers 3250 (the
    feature is not available — the sandbox's choice, there is no documented code for it);
    a date that is not YYYY-MM-DD answers 3020 (QuickBooks' date conversion error)."""
    try:
        kind = body.get("GeneralSummaryReportType")
        if kind != "TrialBalance":
            raise ReportError(3250, 'This feature is not enabled or not available in this '
                                    'version of QuickBooks: the sandbox answers the '
                                    'GeneralSummaryReportType TrialBalance only, not "%s".'
                              % (kind or ""))
        return OK + ([("ReportRet", trial_balance(company, body))], None)
    except ReportError as error:
        return error.code, error.message, [], None


# -- parameters -------------------------------------------------------------------------------

def report_dates(company, body):
    """(from, to) of the request: ``ReportPeriod`` From/ToReportDate (either may be left
    out), or a ``ReportDateMacro`` of ``MACROS``; what is missing runs from the first
    transaction's TxnDate to the company file's today."""
    today = date.fromisoformat(company.clock.today())
    macro = MACROS.get(body.get("ReportDateMacro"))
    if macro:
        return macro(today)
    period = body.get("ReportPeriod")
    period = period if isinstance(period, dict) else {}
    bounds = []
    for field in ("FromReportDate", "ToReportDate"):
        value = period.get(field)
        parsed = parse_date(value) if value else None
        if value and parsed is None:
            raise ReportError(3020, 'There was an error when converting the date value "%s" '
                                    'in the field "%s".' % (value, field))
        bounds.append(parsed)
    start, end = bounds
    if start is None:
        dates = [record["TxnDate"] for store in company.txns.values()
                 for record in store.values()]
        start = date.fromisoformat(min(dates)) if dates else today
    return start, end or today


def report_basis(company, body):
    """Accrual or Cash; absent or None: the company file's SummaryReportBasis preference."""
    basis = body.get("ReportBasis") or "None"
    if basis == "None":
        basis = seed.preferences(company.country)["ReportsPreferences"]["SummaryReportBasis"]
    if basis not in ("Accrual", "Cash"):
        raise ReportError(3210, 'The "ReportBasis" field has an invalid value "%s".' % basis)
    return basis


# -- postings ---------------------------------------------------------------------------------

def special(company, kind):
    """The ListID of the chart's account of SpecialAccountType ``kind``, or None."""
    return next((a["ListID"] for a in company.lists["Account"].values()
                 if a.get("SpecialAccountType") == kind), None)


def item_account(company, line, side):
    """The account of a line's item (``side`` "sales" or "purchase"), else the report-only
    uncategorized row."""
    ident = (line.get("ItemRef") or {}).get("ListID")
    if ident in company.lists["ItemSalesTax"]:
        return special(company, "SalesTaxPayable") or TAX_ROW
    item = next((company.lists[kind][ident] for kind in ("ItemService", "ItemNonInventory")
                 if ident in company.lists[kind]), {})
    field = "IncomeAccountRef" if side == "sales" else "ExpenseAccountRef"
    ref = (item.get("SalesOrPurchase") or {}).get("AccountRef") or \
        (item.get("SalesAndPurchase") or {}).get(field)
    return ref["ListID"] if ref else UNCATEGORIZED[side]


def net_of_tax(record, line):
    """A line's amount without its tax: Amount, less TaxAmount when the tax is included."""
    tax = money(line.get("TaxAmount")) if record.get("IsTaxIncluded") == "true" else ZERO
    return money(line.get("Amount")) - tax


def sale(company, record, lines):
    result = [(record["ARAccountRef"]["ListID"], money(record.get("_total")))]
    for line in record.get(lines, []):
        result.append((item_account(company, line, "sales"), -net_of_tax(record, line)))
    tax = special(company, "SalesTaxPayable") or TAX_ROW
    return result + [(tax, -money(record.get("SalesTaxTotal")))]


def purchase(company, record):
    result = [(record["APAccountRef"]["ListID"], -money(record.get("_total")))]
    tax_total = ZERO
    for ret, expense in (("ExpenseLineRet", True), ("ItemLineRet", False)):
        for line in record.get(ret, []):
            ref = line.get("AccountRef") if expense else None
            key = ref["ListID"] if ref else (
                UNCATEGORIZED["purchase"] if expense else item_account(company, line, "purchase"))
            result.append((key, net_of_tax(record, line)))
            tax_total += money(line.get("TaxAmount"))
    return result + [(special(company, "SalesTaxPayable") or TAX_ROW, tax_total)]


def postings(company, kind, record):
    """(account key, amount) of one stored transaction, debits positive; none when voided."""
    if record.get("_void"):
        return []
    if kind in SALES_LINES:
        sign = 1 if kind == "Invoice" else -1
        return [(key, amount * sign) for key, amount in sale(company, record, SALES_LINES[kind])]
    if kind in ("Bill", "VendorCredit"):
        sign = 1 if kind == "Bill" else -1
        return [(key, amount * sign) for key, amount in purchase(company, record)]
    if kind == "ReceivePayment":
        total = money(record.get("TotalAmount"))
        deposit = (record.get("DepositToAccountRef") or {}).get("ListID") or \
            special(company, "UndepositedFunds")
        return [(deposit, total), (record["ARAccountRef"]["ListID"], -total)]
    if kind == "BillPaymentCheck":
        total = money(record.get("Amount"))
        return [(record["APAccountRef"]["ListID"], total),
                (record["BankAccountRef"]["ListID"], -total)]
    return [(line["AccountRef"]["ListID"], money(line.get("Amount")) * sign)
            for field, sign in (("JournalDebitLine", 1), ("JournalCreditLine", -1))
            for line in record.get(field, []) if line.get("AccountRef")]


# -- the trial balance ------------------------------------------------------------------------

def account_info(company, key):
    """(FullName, AccountType, AccountNumber) of a ledger key (a ListID or a report-only
    row)."""
    if isinstance(key, tuple):
        return key[0], key[1], ""
    record = company.lists["Account"].get(key) or {}
    return (record.get("FullName") or record.get("Name") or key,
            record.get("AccountType", "NonPosting"), record.get("AccountNumber") or "")


def account_order(company, key):
    name, kind, number = account_info(company, key)
    rank = TYPE_ORDER.index(kind) if kind in TYPE_ORDER else len(TYPE_ORDER)
    return rank, number, name.lower()


def long_date(day):
    return "%s %d, %d" % (day.strftime("%B"), day.day, day.year)


def trial_balance(company, body):
    """The ReportRet element of a trial balance: the transactions whose TxnDate is within
    the report dates (both included); Accrual posts every kind, Cash — the sandbox's
    simplification, as on QBO — only the money that moved and journal entries
    (ReceivePayment, BillPaymentCheck, JournalEntry), posted as on the accrual basis. A row
    per account posted to (net on its side; a zero net shows 0.00 on the account's normal
    side), then the TOTAL row."""
    start, end = report_dates(company, body)
    basis = report_basis(company, body)
    ledger = Ledger()
    for kind in (company.txns if basis == "Accrual" else CASH_KINDS):
        for record in company.txns[kind].values():
            if start <= date.fromisoformat(record["TxnDate"][:10]) <= end:
                ledger.post(postings(company, kind, record))
    keys = sorted(ledger.nets, key=lambda key: account_order(company, key))

    ret = etree.Element("ReportRet")
    for tag, value in (("ReportTitle", "Trial Balance"),
                       ("ReportSubtitle", "%s through %s" % (long_date(start), long_date(end))),
                       ("ReportBasis", basis), ("NumRows", len(keys) + 1),
                       ("NumColumns", len(COLUMNS)), ("NumColTitleRows", 1)):
        etree.SubElement(ret, tag).text = str(value)
    for col_id, (title, col_type, data_type) in enumerate(COLUMNS, 1):
        desc = etree.SubElement(ret, "ColDesc", colID=str(col_id), dataType=data_type)
        etree.SubElement(desc, "ColTitle", titleRow="1", **({"value": title} if title else {}))
        etree.SubElement(desc, "ColType").text = col_type
    data = etree.SubElement(ret, "ReportData")
    for number, key in enumerate(keys, 1):
        name, kind, _number = account_info(company, key)
        debit, credit = Ledger.sides(ledger.nets[key], kind in DEBIT_NORMAL)
        _row(data, "DataRow", number, "account", (name, debit, credit))
    debits, credits = ledger.totals()
    _row(data, "TotalRow", len(keys) + 1, "label", ("TOTAL", text(debits), text(credits)))
    return ret


def _row(data, tag, number, row_type, cells):
    """One report row: its RowData, then a ColData per non-empty cell (colID 1..)."""
    row = etree.SubElement(data, tag, rowNumber=str(number))
    etree.SubElement(row, "RowData", rowType=row_type, value=cells[0])
    for col_id, value in enumerate(cells, 1):
        if value:
            etree.SubElement(row, "ColData", colID=str(col_id), value=value)

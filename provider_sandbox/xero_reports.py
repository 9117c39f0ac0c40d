"""Xero's Trial Balance under /xero/api.xro/2.0/Reports/TrialBalance, in Xero's JSON shape
(``ReportWithRows``: a Header row, one Section per account class with a Row per account,
and a last Section with the SummaryRow "Total"), computed at request time from the
organisation's own books — the records the resource endpoints answer — so that a sync's
result can be reconciled the way an accountant does (§8.5 of the provider facts).

What each record posts (accrual basis), with the seeded chart's accounts:

* Invoices and credit notes count when AUTHORISED or PAID (DRAFT, SUBMITTED, VOIDED and
  DELETED post nothing). An ACCREC invoice debits the receivable system account (DEBTORS:
  610 "Accounts Receivable") by its Total, credits each line's AccountCode by its net amount
  (LineAmount, less its TaxAmount when LineAmountTypes is Inclusive) and the tax account by
  TotalTax. An ACCPAY bill is the mirror with the payable system account (CREDITORS: 800
  "Accounts Payable"). ACCRECCREDIT and ACCPAYCREDIT credit notes are the reverse of the
  invoice and the bill. Allocating a credit note moves nothing (receivable to receivable).
* Payments (not DELETED): ACCRECPAYMENT debits the payment's Account and credits the
  receivable; ACCPAYPAYMENT debits the payable and credits the account; ARCREDITPAYMENT and
  APCREDITPAYMENT (refunds of credit notes) are their reverse.
* ManualJournals (POSTED): each JournalLine's account by its LineAmount, positive a debit.
  Journal tax is not posted: the sandbox balances a journal on its LineAmounts.
* The tax account is the one whose SystemAccount is GST (Xero's tax account, code 820 in
  its own default charts). The seeded charts have none (adding one would change every
  chart a sync reads), so by default the tax lands on a row named "VAT" (GB), "Sales Tax"
  (US) or "GST" (NZ) without the account attribute.
* Amounts are taken as recorded, in the document's currency (no base-currency conversion).
"""
from datetime import datetime, timezone

from .core import json_response, now
from .ledger import Ledger, money, parse_date, text
from .xero import ORGANISATIONS
from .xero_accounting import api_exception, envelope, parse_xdate, xdate

POSTED = ("AUTHORISED", "PAID")
# document Type: (system account it posts its Total to, sign of that posting)
DOCUMENTS = {"ACCREC": ("DEBTORS", 1), "ACCPAY": ("CREDITORS", -1),
             "ACCRECCREDIT": ("DEBTORS", -1), "ACCPAYCREDIT": ("CREDITORS", 1)}
# PaymentType: (system account it settles, sign of the payment account's posting)
PAYMENT_TYPES = {"ACCRECPAYMENT": ("DEBTORS", 1), "ACCPAYPAYMENT": ("CREDITORS", -1),
                 "ARCREDITPAYMENT": ("DEBTORS", -1), "APCREDITPAYMENT": ("CREDITORS", 1)}
# (section title, account Class), in the report's order
SECTIONS = (("Revenue", "REVENUE"), ("Expenses", "EXPENSE"), ("Assets", "ASSET"),
            ("Liabilities", "LIABILITY"), ("Equity", "EQUITY"))
# an account seeded without a Class takes its Type's
TYPE_CLASS = {
    "BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET", "PREPAYMENT": "ASSET", "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY", "PAYGLIABILITY": "LIABILITY",
    "SUPERANNUATIONLIABILITY": "LIABILITY", "WAGESPAYABLELIABILITY": "LIABILITY",
    "EQUITY": "EQUITY", "REVENUE": "REVENUE", "SALES": "REVENUE", "OTHERINCOME": "REVENUE",
    "EXPENSE": "EXPENSE", "DIRECTCOSTS": "EXPENSE", "OVERHEADS": "EXPENSE",
    "DEPRECIATN": "EXPENSE", "WAGESEXPENSE": "EXPENSE", "SUPERANNUATIONEXPENSE": "EXPENSE"}
TAX_ROWS = {"GB": "VAT", "US": "Sales Tax", "NZ": "GST"}
COLUMNS = ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")


class InvalidParameter(Exception):
    """A query parameter Xero would refuse: 400 PostDataInvalidException."""


def trial_balance_response(org, params):
    """The answer to GET /Reports/TrialBalance for one organisation: the report in Xero's
    envelope, or 400 PostDataInvalidException (as the sandbox's other bad parameters)."""
    try:
        report = trial_balance(org, params)
    except InvalidParameter as e:
        return api_exception(14, "PostDataInvalidException", str(e))
    return json_response(200, envelope("Reports", [report]))


def trial_balance(org, params):
    """``date`` (YYYY-MM-DD, default today): everything dated on or before it, cumulative;
    Debit/Credit are each account's net up to the date and the YTD cells equal them (the
    sandbox closes no financial year). ``paymentsOnly=true`` (cash basis, simplified): only
    payments and the manual journals shown on cash basis reports."""
    at = date_param(params.get("date"))
    cash = bool_param(params.get("paymentsOnly"), "paymentsOnly")
    ledger = Ledger()
    kinds = (("Payments", payment), ("ManualJournals", journal))
    if not cash:
        kinds += (("Invoices", document), ("CreditNotes", document))
    for resource, poster in kinds:
        for record in org.records[resource].values():
            if record_date(record) <= at:
                ledger.post(poster(org, record, cash))
    info = ORGANISATIONS[org.tenant]
    when = "%d %s" % (at.day, at.strftime("%B %Y"))
    return {"ReportID": "TrialBalance", "ReportName": "Trial Balance",
            "ReportType": "TrialBalance",
            "ReportTitles": ["Trial Balance", info["name"], "As at " + when],
            "ReportDate": when, "UpdatedDateUTC": xdate(now()), "Fields": [],
            "Rows": rows(org, ledger, TAX_ROWS[info["country"]])}


# -- parameters -------------------------------------------------------------------------------

def date_param(value):
    if value in (None, ""):
        return datetime.fromtimestamp(now(), timezone.utc).date()
    parsed = parse_date(value)
    if parsed is None:
        raise InvalidParameter("date must be a date (YYYY-MM-DD), not %r" % value)
    return parsed


def bool_param(value, name):
    if value in (None, ""):
        return False
    if value.lower() not in ("true", "false"):
        raise InvalidParameter("%s must be true or false, not %r" % (name, value))
    return value.lower() == "true"


def record_date(record):
    return datetime.fromtimestamp(parse_xdate(record["Date"]), timezone.utc).date()


# -- postings -----------------------------------------------------------------------------------

def system_account(org, system):
    """The AccountID of the system account (DEBTORS, CREDITORS, GST), or None."""
    return next((a["AccountID"] for a in org.records["Accounts"].values()
                 if a.get("SystemAccount") == system), None)


def document(org, record, _cash):
    """An invoice's or credit note's postings, debits positive."""
    if record["Status"] not in POSTED:
        return []
    system, sign = DOCUMENTS[record["Type"]]
    result = [(system_account(org, system), sign * money(record["Total"]))]
    inclusive = record["LineAmountTypes"] == "Inclusive"
    for line in record["LineItems"]:
        net = money(line["LineAmount"]) - (money(line["TaxAmount"]) if inclusive else 0)
        result.append((line_account(org, line), -sign * net))
    result.append((system_account(org, "GST"), -sign * money(record["TotalTax"])))
    return result


def line_account(org, line):
    account = org.account(code=line.get("AccountCode"), account_id=line.get("AccountID"))
    return account["AccountID"] if account else None


def payment(org, record, _cash):
    if record["Status"] == "DELETED":
        return []
    system, sign = PAYMENT_TYPES[record["PaymentType"]]
    amount = money(record["Amount"])
    return [(record["Account"]["AccountID"], sign * amount),
            (system_account(org, system), -sign * amount)]


def journal(org, record, cash):
    if record["Status"] != "POSTED" or (cash and not record.get("ShowOnCashBasisReports")):
        return []
    return [(line_account(org, line), money(line["LineAmount"]))
            for line in record["JournalLines"]]


# -- rows ---------------------------------------------------------------------------------------

def account_class(account):
    klass = account.get("Class")
    if klass in (k for _title, k in SECTIONS):
        return klass
    return TYPE_CLASS.get(account.get("Type"), "ASSET")


def describe(org, key, tax_row):
    """(row name, class) of a ledger key (None: the report-only tax row)."""
    if key is None:
        return tax_row, "LIABILITY"
    account = org.find("Accounts", key)
    return "%s (%s)" % (account["Name"], account["Code"]), account_class(account)


def rows(org, ledger, tax_row):
    """The Header row, a Section per class that has accounts, the Total section."""
    described = [describe(org, key, tax_row) + (key, net) for key, net in ledger.nets.items()]
    result = [{"RowType": "Header", "Cells": [{"Value": title} for title in COLUMNS]}]
    for title, klass in SECTIONS:
        members = sorted((d for d in described if d[1] == klass), key=lambda d: d[0].lower())
        if members:
            result.append({"RowType": "Section", "Title": title, "Rows": [
                account_row(name, key, net, klass) for name, _klass, key, net in members]})
    debit, credit = (text(total) for total in ledger.totals())
    total = [{"Value": value} for value in ("Total", debit, credit, debit, credit)]
    result.append({"RowType": "Section", "Title": "",
                   "Rows": [{"RowType": "SummaryRow", "Cells": total}]})
    return result


def account_row(name, key, net, klass):
    debit, credit = Ledger.sides(net, klass in ("ASSET", "EXPENSE"))
    cells = [{"Value": value} for value in (name, debit, credit, debit, credit)]
    if key:  # Xero marks every cell of an account's row with the account
        for cell in cells:
            cell["Attributes"] = [{"Value": key, "Id": "account"}]
    return {"RowType": "Row", "Cells": cells}

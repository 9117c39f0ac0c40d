"""QuickBooks Online reports under /qbo/v3/company/{realm}/reports/{name}: TrialBalance,
AgedReceivables and AgedPayables in Intuit's JSON shape (Report.xsd: ``Header``,
``Columns.Column[]``, ``Rows.Row[]`` of ``ColData`` rows and a ``GrandTotal`` ``Summary``),
computed at request time from the realm's own books — the records the entity endpoints
answer — so that a sync's result can be reconciled the way an accountant does (§8.5 of the
provider facts: the trial balance balances, the aging ties to the control account).

What each transaction posts, with the seeded chart's accounts (Id, name, AccountSubType):

* Invoice: debit its ``ARAccountRef``, else 7 "Accounts Receivable (A/R)"
  (AccountsReceivable), by TotalAmt; credit each SalesItemLineDetail line's account by its
  Amount — the line's ``ItemAccountRef``, else its item's ``IncomeAccountRef``, else 2
  "Services" (ServiceFeeIncome, the account of QBO's default "Services" item); debit each
  DiscountLineDetail line to its ``DiscountAccountRef``, else that same income account (QBO's
  "Discounts given" is an income account too); credit the sales tax account by
  ``TxnTaxDetail.TotalTax``. CreditMemo: the reverse.
* Bill: credit its ``APAccountRef``, else 9 "Accounts Payable (A/P)" (AccountsPayable), by
  TotalAmt; debit each AccountBasedExpenseLineDetail line's ``AccountRef`` and each
  ItemBasedExpenseLineDetail line's item ``ExpenseAccountRef`` (else 3 "Cost of Goods
  Sold") by its Amount; debit the sales tax account by TotalTax. VendorCredit: the reverse.
* Payment: debit ``DepositToAccountRef`` (the sandbox stores 8 "Undeposited Funds" when none
  is sent), credit ``ARAccountRef`` / A/R, by TotalAmt. BillPayment: debit ``APAccountRef``
  / A/P, credit ``CheckPayment.BankAccountRef`` or ``CreditCardPayment.CCAccountRef``.
* JournalEntry: each line's ``AccountRef``, Debit or Credit by its Amount.
* The sales tax account is the realm's first account whose AccountSubType is
  SalesTaxPayable or GlobalTaxPayable. The seeded chart has none (QBO makes one when sales
  tax is set up; adding it to the seed would renumber every later record), so by default
  the tax lands on a row "Sales Tax Payable" that has no ``id``.
* A voided document (TotalAmt 0) posts nothing; a deleted one is gone from the books.
  Amounts are taken as recorded, in the document's currency (no home-currency conversion).
"""
from datetime import date

from .ledger import ZERO, Ledger, money, parse_date, text
from .qbo_accounting import (PAYMENTS, QBOAccounting, QBOError, display_name, meta_time,
                             ref_id, today)

CLASSIFICATIONS = ("Asset", "Liability", "Equity", "Revenue", "Expense")  # the report's order
# an account seeded without a Classification takes its AccountType's
TYPE_CLASSIFICATION = {
    "Bank": "Asset", "Accounts Receivable": "Asset", "Other Current Asset": "Asset",
    "Fixed Asset": "Asset", "Other Asset": "Asset", "Accounts Payable": "Liability",
    "Credit Card": "Liability", "Other Current Liability": "Liability",
    "Long Term Liability": "Liability", "Equity": "Equity", "Income": "Revenue",
    "Other Income": "Revenue", "Expense": "Expense", "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense"}
TAX_SUBTYPES = ("SalesTaxPayable", "GlobalTaxPayable")
TAX_ROW = "Sales Tax Payable"
CASH_ENTITIES = ("Payment", "BillPayment", "JournalEntry")
BUCKETS = ("Current", "1 - 30", "31 - 60", "61 - 90", "91 and over")
# aging report: (payment entity, party entity, AccountSubType of its control account)
AGINGS = {"AgedReceivables": ("Payment", "Customer", "AccountsReceivable"),
          "AgedPayables": ("BillPayment", "Vendor", "AccountsPayable")}
REPORTS = ("TrialBalance",) + tuple(AGINGS)


def report(books, name, params):
    """The JSON of report ``name`` (case-insensitive) of one realm's books, for the query
    ``params``; QBOError for a report the sandbox lacks or a bad parameter."""
    canonical = next((r for r in REPORTS if r.lower() == name.lower()), None)
    if canonical is None:
        raise QBOError("500", "Unsupported Operation: the sandbox has no report %s (it has "
                              "%s)" % (name, ", ".join(REPORTS)))
    if canonical == "TrialBalance":
        return trial_balance(books, params)
    return aging(books, canonical, params)


# -- parameters and shapes --------------------------------------------------------------------

def date_param(params, name, default):
    """A YYYY-MM-DD query parameter as a date; absent → ``default``; else 2010 (the
    sandbox's choice: Intuit does not document the code of a bad report date)."""
    value = params.get(name)
    if value in (None, ""):
        return default
    parsed = parse_date(value)
    if parsed is None:
        raise QBOError("2010", "Property Name:%s has an invalid date: %r (expected YYYY-MM-DD)"
                       % (name, value), name)
    return parsed


def txn_date(record):
    return date.fromisoformat(record["TxnDate"][:10])


def header(books, name, start, end, options, basis=None):
    result = {"Time": meta_time(), "ReportName": name}
    if basis:
        result["ReportBasis"] = basis
    home = books.records["Preferences"]["1"]["CurrencyPrefs"]["HomeCurrency"]["value"]
    result.update(StartPeriod=start.isoformat(), EndPeriod=end.isoformat(), Currency=home,
                  Option=[{"Name": k, "Value": v} for k, v in options])
    return result


def columns(*titles):
    return {"Column": [{"ColTitle": title, "ColType": kind} for title, kind in titles]}


def grand_total(values):
    return {"Summary": {"ColData": [{"value": "TOTAL"}] + [{"value": v} for v in values]},
            "type": "Section", "group": "GrandTotal"}


def name_cell(name, record_id):
    return {"value": name, "id": record_id} if record_id else {"value": name}


# -- postings -----------------------------------------------------------------------------------

def account(books, ref):
    """The Id of the account ``ref`` names, if the realm has it."""
    record_id = ref_id(ref)
    return record_id if record_id in books.records["Account"] else None


def item_account(books, detail, field):
    item = books.records["Item"].get(ref_id(detail.get("ItemRef")))
    return account(books, item.get(field)) if item else None


def tax_account(books):
    """The sales tax liability account's Id, or None: the report-only row."""
    return next((a["Id"] for a in books.records["Account"].values()
                 if a.get("AccountSubType") in TAX_SUBTYPES), None)


def tax_total(record):
    return money((record.get("TxnTaxDetail") or {}).get("TotalTax"))


def sale(books, record):
    """An invoice's postings (a credit memo's, reversed)."""
    default = books.account_id("ServiceFeeIncome")
    result = [(account(books, record.get("ARAccountRef"))
               or books.account_id("AccountsReceivable"), money(record["TotalAmt"]))]
    for line in record.get("Line", []):
        kind = line.get("DetailType")
        if kind == "SalesItemLineDetail":
            detail = line[kind]
            income = (account(books, detail.get("ItemAccountRef"))
                      or item_account(books, detail, "IncomeAccountRef") or default)
            result.append((income, -money(line["Amount"])))
        elif kind == "DiscountLineDetail":
            result.append((account(books, line[kind].get("DiscountAccountRef")) or default,
                           money(line["Amount"])))
    result.append((tax_account(books), -tax_total(record)))
    return result


def purchase(books, record):
    """A bill's postings (a vendor credit's, reversed)."""
    result = [(account(books, record.get("APAccountRef"))
               or books.account_id("AccountsPayable"), -money(record["TotalAmt"]))]
    for line in record.get("Line", []):
        kind = line.get("DetailType")
        if kind == "AccountBasedExpenseLineDetail":
            result.append((ref_id(line[kind]["AccountRef"]), money(line["Amount"])))
        elif kind == "ItemBasedExpenseLineDetail":
            expense = (item_account(books, line[kind], "ExpenseAccountRef")
                       or books.account_id("SuppliesMaterialsCogs"))
            result.append((expense, money(line["Amount"])))
    result.append((tax_account(books), tax_total(record)))
    return result


def payment(books, record):
    total = money(record["TotalAmt"])
    receivable = (account(books, record.get("ARAccountRef"))
                  or books.account_id("AccountsReceivable"))
    return [(ref_id(record["DepositToAccountRef"]), total), (receivable, -total)]


def bill_payment(books, record):
    total = money(record["TotalAmt"])
    holder, field = (("CheckPayment", "BankAccountRef") if record.get("PayType") == "Check"
                     else ("CreditCardPayment", "CCAccountRef"))
    payable = account(books, record.get("APAccountRef")) or books.account_id("AccountsPayable")
    return [(payable, total), (ref_id(record[holder][field]), -total)]


def journal(_books, record):
    return [(ref_id(line["JournalEntryLineDetail"]["AccountRef"]), money(line["Amount"]) * (
        1 if line["JournalEntryLineDetail"]["PostingType"] == "Debit" else -1))
        for line in record.get("Line", [])]


# entity: (its postings, sign)
POSTERS = {"Invoice": (sale, 1), "CreditMemo": (sale, -1), "Bill": (purchase, 1),
           "VendorCredit": (purchase, -1), "Payment": (payment, 1),
           "BillPayment": (bill_payment, 1), "JournalEntry": (journal, 1)}


def postings(books, entity, record):
    """(account key, amount) of one transaction, debits positive; none for a voided one."""
    if not money(record.get("TotalAmt")):
        return []
    poster, sign = POSTERS[entity]
    return [(key, amount * sign) for key, amount in poster(books, record)]


# -- the trial balance ----------------------------------------------------------------------------

def trial_balance(books, params):
    """``start_date``/``end_date`` (default: 1 January of the end's year, today): the
    transactions whose TxnDate is in the range, both ends included — their movements, not
    QBO's cumulative balance-sheet balances (ask from a date before any activity to tie the
    control accounts to an aging). ``accounting_method`` Accrual (default) or Cash — the
    sandbox's simplification of cash basis: only the money that moved, Payments,
    BillPayments and JournalEntries, posted as on the accrual basis (a payment still credits
    A/R rather than the income it pays)."""
    end = date_param(params, "end_date", date.fromisoformat(today()))
    start = date_param(params, "start_date", end.replace(month=1, day=1))
    method = params.get("accounting_method") or "Accrual"
    basis = next((b for b in ("Accrual", "Cash") if b.lower() == method.lower()), None)
    if basis is None:
        raise QBOError("2170", "Invalid Enumeration : accounting_method=%r (Accrual or Cash)"
                       % method, "accounting_method")
    ledger = Ledger()
    for entity in POSTERS if basis == "Accrual" else CASH_ENTITIES:
        for record in books.records[entity].values():
            if start <= txn_date(record) <= end:
                ledger.post(postings(books, entity, record))
    accounts = sorted(ledger.nets, key=lambda key: account_order(books, key))
    rows = [account_row(books, key, ledger.nets[key]) for key in accounts]
    rows.append(grand_total([text(total) for total in ledger.totals()]))
    options = [("NoReportData", "false" if accounts else "true")]
    return {"Header": header(books, "TrialBalance", start, end, options, basis),
            "Columns": columns(("", "Account"), ("Debit", "Money"), ("Credit", "Money")),
            "Rows": {"Row": rows}}


def account_info(books, key):
    """(name, classification, AcctNum) of a ledger key (None: the report-only tax row)."""
    if key is None:
        return TAX_ROW, "Liability", ""
    record = books.records["Account"][key]
    classification = record.get("Classification")
    if classification not in CLASSIFICATIONS:
        classification = TYPE_CLASSIFICATION.get(record.get("AccountType"), "Asset")
    return record["Name"], classification, record.get("AcctNum") or ""


def account_order(books, key):
    name, classification, number = account_info(books, key)
    return CLASSIFICATIONS.index(classification), number, name.lower()


def account_row(books, key, net):
    name, classification, _number = account_info(books, key)
    debit, credit = Ledger.sides(net, classification in ("Asset", "Expense"))
    return {"ColData": [name_cell(name, key), {"value": debit}, {"value": credit}]}


# -- the agings -----------------------------------------------------------------------------------

def aging(books, name, params):
    """Aged receivables / payables, summary by customer / vendor, at ``report_date``
    (default today): a row per party with something open, bucketed by days past the due
    date, then the grand total. See ``open_items`` for what is open."""
    at = date_param(params, "report_date", date.fromisoformat(today()))
    _payments, party_entity, _control = AGINGS[name]
    buckets = {}
    for party, due, amount in open_items(books, name, at):
        buckets.setdefault(party, [ZERO] * len(BUCKETS))[bucket(at, due)] += amount
    parties = sorted((p for p, amounts in buckets.items() if any(amounts)),
                     key=lambda p: (party_name(books, party_entity, p).lower(), p))
    rows = [party_row(party_name(books, party_entity, p), p, buckets[p]) for p in parties]
    totals = [sum((buckets[p][n] for p in parties), ZERO) for n in range(len(BUCKETS))]
    rows.append(grand_total([text(t) for t in totals] + [text(sum(totals, ZERO))]))
    options = [("report_date", at.isoformat()), ("NoReportData", "false" if parties else "true")]
    return {"Header": header(books, name, at, at, options),
            "Columns": columns(("", party_entity), *((title, "Money") for title in BUCKETS),
                               ("Total", "Money")),
            "Rows": {"Row": rows}}


def open_items(books, name, at):
    """(party Id, due date, open amount) at ``at`` of what is dated on or before it.
    Documents: TotalAmt less what the payments dated on or before ``at`` apply to it
    (payments' TxnDates are tracked, so a later payment does not count yet), due on their
    DueDate (a credit on its TxnDate); credit memos and vendor credits negative. A
    payment's amount not applied to any document: negative, on its date. Journal entry
    lines to the control account (A/R, A/P) with the party as Entity: at their full amount
    (positive a debit to A/R, a credit to A/P), on their date — so that the aging's total
    ties to the control account on the trial balance."""
    payment_entity, party_entity, control = AGINGS[name]
    party_field, kinds = PAYMENTS[payment_entity]
    paid = [p for p in books.records[payment_entity].values() if txn_date(p) <= at]
    applied = {}
    for record in paid:
        for doc_type, doc_id, amount in QBOAccounting.links(record):
            applied[(doc_type, doc_id)] = applied.get((doc_type, doc_id), ZERO) + amount
    for entity, sign in kinds.items():
        for doc in books.records[entity].values():
            if txn_date(doc) <= at:
                amount = money(doc["TotalAmt"]) - applied.get((entity, doc["Id"]), ZERO)
                due = date.fromisoformat(doc.get("DueDate", doc["TxnDate"])[:10])
                yield ref_id(doc[party_field]), due, amount * sign
    for record in paid:
        unapplied = money(record["TotalAmt"]) - sum(
            (amount * kinds[doc_type] for doc_type, _id, amount in QBOAccounting.links(record)),
            ZERO)
        yield ref_id(record[party_field]), txn_date(record), -unapplied
    sign = 1 if control == "AccountsReceivable" else -1
    for entry in books.records["JournalEntry"].values():
        if txn_date(entry) > at:
            continue
        for line, (key, amount) in zip(entry.get("Line", []), journal(books, entry)):
            party = line["JournalEntryLineDetail"].get("Entity") or {}
            if (books.records["Account"][key].get("AccountSubType") == control
                    and party.get("Type") == party_entity):
                yield ref_id(party.get("EntityRef")), txn_date(entry), amount * sign


def bucket(at, due):
    """The aging column of an item due on ``due``: Current, then 30-day periods."""
    days = (at - due).days
    return 0 if days <= 0 else min(len(BUCKETS) - 1, (days - 1) // 30 + 1)


def party_name(books, entity, party):
    return display_name(books.records[entity].get(party) or {}) or party


def party_row(name, party, amounts):
    return {"ColData": [name_cell(name, party)]
            + [{"value": text(a) if a else ""} for a in amounts]
            + [{"value": text(sum(amounts, ZERO))}]}

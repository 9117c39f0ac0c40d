"""The sandbox's report endpoints through the real client libraries, as a reconciliation
reads them: QBO's TrialBalance, AgedReceivables and AgedPayables (python-quickbooks'
``get_report``) and Xero's Trial Balance (xero-python's ``get_report_trial_balance``),
computed from books posted through the API — exact figures per account, debits equal to
credits, agings that tie to the control accounts, remote edits and payments, voids, date
filters, bad dates, call counting — and the shapes checked against the vendors' own schemas
(Report.xsd, xero_accounting.yaml; skipped, saying so, where ../shared/specs is absent)."""
import json
import os
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
import requests
import yaml
from lxml import etree
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.invoice import Invoice as QBInvoice
from xero_python.accounting import (Account, Contact, Contacts, Invoice, Invoices,
                                    LineAmountTypes, LineItem, ManualJournal, ManualJournalLine,
                                    ManualJournals, Payment, Payments)
from xero_python.api_client.serializer import serialize
from xero_python.exceptions import BadRequestException

from provider_sandbox.core import now as sandbox_clock
from provider_sandbox.qbo_accounting import today as company_today
from test_sandbox_accounting import REALM, UK, qb, xero_api  # noqa: F401  (qb: a fixture)

AT = "2026-12-01"
YEAR = {"start_date": "2026-01-01", "end_date": "2026-12-31"}
SPECS = Path(os.environ.get("ACCOUNTING_SYNC_SPECS")
             or Path(__file__).resolve().parents[2] / "shared" / "specs")
QBO_SPECS = SPECS / "quickbooks-online"
XERO_SPEC = SPECS / "xero" / "xero_accounting.yaml"
XS = "{http://www.w3.org/2001/XMLSchema}"
INTUIT = "{http://schema.intuit.com/finance/v3}"
needs_qbo_specs = pytest.mark.skipif(
    not (QBO_SPECS / "Report.xsd").is_file(),
    reason="vendor schemas not found at %s (set ACCOUNTING_SYNC_SPECS to the shared/specs "
           "folder to check the QBO report shapes)" % QBO_SPECS)
needs_xero_spec = pytest.mark.skipif(
    not XERO_SPEC.is_file(),
    reason="vendor schemas not found at %s (set ACCOUNTING_SYNC_SPECS to the shared/specs "
           "folder to check the Xero report shape)" % XERO_SPEC)


# -- clients (the sandbox accounting tests': python-quickbooks and xero-python) -----------------

@pytest.fixture
def xero(sb):
    return xero_api(sb, "openid offline_access accounting.invoices "
                        "accounting.reports.trialbalance.read")


# -- QuickBooks Online: the books ------------------------------------------------------------------

def create(qb, entity, body):
    return qb.create_object(entity, json.dumps(body))[entity]


def sales_line(amount, item, tax="NON"):
    return {"DetailType": "SalesItemLineDetail", "Amount": amount,
            "SalesItemLineDetail": {"ItemRef": {"value": item}, "TaxCodeRef": {"value": tax}}}


def applied(amount, kind, doc_id):
    return {"Amount": amount, "LinkedTxn": [{"TxnId": doc_id, "TxnType": kind}]}


def journal_line(posting, amount, account, customer=None):
    detail = {"PostingType": posting, "AccountRef": {"value": account}}
    if customer:
        detail["Entity"] = {"Type": "Customer", "EntityRef": {"value": customer}}
    return {"DetailType": "JournalEntryLineDetail", "Amount": amount,
            "JournalEntryLineDetail": detail}


def qbo_books(qb):
    """Posted through the API (ids 10, 11, …; seeded accounts 1 "Sales of Product Income",
    2 "Services", 3 "Cost of Goods Sold", 4 "Office Supplies", 5 "Checking",
    7 "Accounts Receivable (A/R)", 8 "Undeposited Funds", 9 "Accounts Payable (A/P)")."""
    acme = create(qb, "Customer", {"DisplayName": "Acme"})["Id"]
    bolt = create(qb, "Customer", {"DisplayName": "Bolt"})["Id"]
    paper = create(qb, "Vendor", {"DisplayName": "Paper Co"})["Id"]
    widget = create(qb, "Item", {"Name": "Widget", "IncomeAccountRef": {"value": "1"}})["Id"]
    consulting = create(qb, "Item", {"Name": "Consulting",
                                     "IncomeAccountRef": {"value": "2"}})["Id"]
    books = SimpleNamespace(acme=acme, bolt=bolt, paper=paper, consulting=consulting)
    books.a1 = create(qb, "Invoice", {  # 100 taxable + 50 + 8.25 tax, due 31 days ago
        "CustomerRef": {"value": acme}, "TxnDate": "2026-10-01", "DueDate": "2026-10-31",
        "Line": [sales_line(100, widget, "TAX"), sales_line(50, consulting)]})
    books.a2 = create(qb, "Invoice", {  # 200 + 16.50 tax, not due yet
        "CustomerRef": {"value": bolt}, "TxnDate": "2026-11-20", "DueDate": "2026-12-20",
        "Line": [sales_line(200, consulting, "TAX")]})
    books.a3 = create(qb, "Invoice", {  # 108 days past due
        "CustomerRef": {"value": acme}, "TxnDate": "2026-08-01", "DueDate": "2026-08-15",
        "Line": [sales_line(40, widget)]})
    create(qb, "CreditMemo", {"CustomerRef": {"value": acme}, "TxnDate": "2026-11-05",
                              "Line": [sales_line(20, widget)]})
    books.bill = create(qb, "Bill", {  # 300 + 100 taxable (8.25 tax) + 50 by item (COGS)
        "VendorRef": {"value": paper}, "TxnDate": "2026-11-10", "DueDate": "2026-11-25",
        "Line": [{"DetailType": "AccountBasedExpenseLineDetail", "Amount": 300,
                  "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "4"}}},
                 {"DetailType": "AccountBasedExpenseLineDetail", "Amount": 100,
                  "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "4"},
                                                    "TaxCodeRef": {"value": "TAX"}}},
                 {"DetailType": "ItemBasedExpenseLineDetail", "Amount": 50,
                  "ItemBasedExpenseLineDetail": {"ItemRef": {"value": widget}}}]})
    create(qb, "Payment", {"CustomerRef": {"value": acme}, "TxnDate": "2026-11-15",
                           "TotalAmt": 100, "Line": [applied(100, "Invoice", books.a1["Id"])]})
    create(qb, "BillPayment", {"VendorRef": {"value": paper}, "TxnDate": "2026-11-28",
                               "PayType": "Check", "TotalAmt": 200,
                               "CheckPayment": {"BankAccountRef": {"value": "5"}},
                               "Line": [applied(200, "Bill", books.bill["Id"])]})
    create(qb, "JournalEntry", {"TxnDate": "2026-11-30", "Line": [
        journal_line("Debit", 25, "4"), journal_line("Credit", 25, "5"),
        journal_line("Debit", 10, "7", customer=bolt), journal_line("Credit", 10, "1")]})
    assert (books.a1["TotalAmt"], books.a2["TotalAmt"], books.bill["TotalAmt"]) == (
        158.25, 216.5, 458.25)
    return books


def tb_rows(report):
    """[(account name, Id or None, debit, credit)] and the TOTAL (debit, credit); checks
    that the report balances."""
    *rows, total = report["Rows"]["Row"]
    assert total["group"] == "GrandTotal" and total["type"] == "Section"
    label, debit, credit = (c["value"] for c in total["Summary"]["ColData"])
    assert label == "TOTAL" and debit == credit
    assert sum(Decimal(r["ColData"][1]["value"] or 0) for r in rows) == Decimal(debit)
    assert sum(Decimal(r["ColData"][2]["value"] or 0) for r in rows) == Decimal(credit)
    return [(r["ColData"][0]["value"], r["ColData"][0].get("id"), r["ColData"][1]["value"],
             r["ColData"][2]["value"]) for r in rows], (debit, credit)


def aging_rows(report):
    """{party name: (party Id, [Current, 1 - 30, 31 - 60, 61 - 90, 91 and over, Total])} and
    the TOTAL's six values; checks that the totals add up."""
    *rows, total = report["Rows"]["Row"]
    assert total["group"] == "GrandTotal"
    label, *totals = (c["value"] for c in total["Summary"]["ColData"])
    assert label == "TOTAL"
    parties = {r["ColData"][0]["value"]: (r["ColData"][0]["id"], [c["value"] for c in
                                                                  r["ColData"][1:]])
               for r in rows}
    for _id, values in parties.values():
        assert sum(Decimal(v or 0) for v in values[:5]) == Decimal(values[5])
    assert sum(Decimal(v) for v in totals[:5]) == Decimal(totals[5])
    return parties, totals


def balance(rows, name):
    """An account's net from trial balance rows, debit positive."""
    [(debit, credit)] = [(d, c) for n, _id, d, c in rows if n == name]
    return Decimal(debit or 0) - Decimal(credit or 0)


# -- QuickBooks Online: the tests ------------------------------------------------------------------

def test_qbo_trial_balance_posts_every_document_to_its_accounts(qb):
    qbo_books(qb)
    report = qb.get_report("TrialBalance", dict(YEAR, accounting_method="Accrual"))
    header = report["Header"]
    assert (header["ReportName"], header["ReportBasis"], header["StartPeriod"],
            header["EndPeriod"], header["Currency"]) == (
        "TrialBalance", "Accrual", "2026-01-01", "2026-12-31", "USD")
    assert [(c["ColTitle"], c["ColType"]) for c in report["Columns"]["Column"]] == [
        ("", "Account"), ("Debit", "Money"), ("Credit", "Money")]
    rows, total = tb_rows(report)
    assert rows == [  # assets, liabilities, income, expenses; by account number
        ("Checking", "5", "", "225.00"),  # bill payment 200, journal 25
        ("Accounts Receivable (A/R)", "7", "304.75", ""),  # 414.75 + 10 − 20 − 100
        ("Undeposited Funds", "8", "100.00", ""),  # the payment's default deposit account
        ("Sales Tax Payable", None, "", "16.50"),  # 8.25 + 16.50 − 8.25 on the bill
        ("Accounts Payable (A/P)", "9", "", "258.25"),  # 458.25 − 200
        ("Sales of Product Income", "1", "", "130.00"),  # Widget 100 + 40 − 20, journal 10
        ("Services", "2", "", "250.00"),  # Consulting 50 + 200
        ("Cost of Goods Sold", "3", "50.00", ""),  # the bill's item line (no expense account)
        ("Office Supplies", "4", "425.00", "")]  # the bill's lines 400, journal 25
    assert total == ("879.75", "879.75")


def test_qbo_trial_balance_dates_and_cash_basis(qb):
    qbo_books(qb)
    rows, total = tb_rows(qb.get_report("TrialBalance", {"start_date": "2026-01-01",
                                                         "end_date": "2026-10-31"}))
    assert rows == [("Accounts Receivable (A/R)", "7", "198.25", ""),
                    ("Sales Tax Payable", None, "", "8.25"),
                    ("Sales of Product Income", "1", "", "140.00"),
                    ("Services", "2", "", "50.00")]
    assert total == ("198.25", "198.25")
    rows, total = tb_rows(qb.get_report("TrialBalance", {"start_date": "2026-11-29",
                                                         "end_date": "2026-11-29"}))
    assert (rows, total) == ([], ("0.00", "0.00"))
    cash = qb.get_report("TrialBalance", dict(YEAR, accounting_method="cash"))
    assert cash["Header"]["ReportBasis"] == "Cash"
    rows, total = tb_rows(cash)  # payments, bill payments and journals only
    assert rows == [("Checking", "5", "", "225.00"),
                    ("Accounts Receivable (A/R)", "7", "", "90.00"),  # payment 100, journal 10
                    ("Undeposited Funds", "8", "100.00", ""),
                    ("Accounts Payable (A/P)", "9", "200.00", ""),
                    ("Sales of Product Income", "1", "", "10.00"),
                    ("Office Supplies", "4", "25.00", "")]
    assert total == ("325.00", "325.00")


def test_qbo_agings_bucket_open_amounts_and_tie_to_the_control_accounts(qb):
    books = qbo_books(qb)
    report = qb.get_report("AgedReceivables", {"report_date": AT})
    assert (report["Header"]["ReportName"], report["Header"]["EndPeriod"]) == (
        "AgedReceivables", AT)
    assert {"Name": "report_date", "Value": AT} in report["Header"]["Option"]
    assert [(c["ColTitle"], c["ColType"]) for c in report["Columns"]["Column"]] == [
        ("", "Customer"), ("Current", "Money"), ("1 - 30", "Money"), ("31 - 60", "Money"),
        ("61 - 90", "Money"), ("91 and over", "Money"), ("Total", "Money")]
    parties, totals = aging_rows(report)
    assert parties == {
        # invoice 158.25 − 100 paid, 31 days late; credit memo −20 of 26 days; 40, 108 days
        "Acme": (books.acme, ["", "-20.00", "58.25", "", "40.00", "78.25"]),
        # invoice due in 19 days; the journal's 10 to A/R of yesterday
        "Bolt": (books.bolt, ["216.50", "10.00", "", "", "", "226.50"])}
    assert totals == ["216.50", "-10.00", "58.25", "0.00", "40.00", "304.75"]
    rows, _total = tb_rows(qb.get_report("TrialBalance", {"start_date": "2000-01-01",
                                                          "end_date": AT}))
    assert balance(rows, "Accounts Receivable (A/R)") == Decimal(totals[-1])
    payables = qb.get_report("AgedPayables", {"report_date": AT})
    assert payables["Columns"]["Column"][0] == {"ColTitle": "", "ColType": "Vendor"}
    parties, totals = aging_rows(payables)
    assert parties == {"Paper Co": (books.paper, ["", "258.25", "", "", "", "258.25"])}
    assert -balance(rows, "Accounts Payable (A/P)") == Decimal(totals[-1])
    # earlier: the payment of 15 November not made yet, Bolt's invoice not written yet
    parties, totals = aging_rows(qb.get_report("AgedReceivables",
                                               {"report_date": "2026-11-10"}))
    assert parties == {"Acme": (books.acme, ["", "138.25", "", "40.00", "", "178.25"])}
    parties, totals = aging_rows(qb.get_report("AgedPayables", {"report_date": "2026-11-09"}))
    assert (parties, totals) == ({}, ["0.00"] * 6)


def test_qbo_remote_edit_payment_and_void_change_the_reports(sb, qb):
    books = qbo_books(qb)
    edited = sb.act("qbo", "update", "Invoice", REALM, id=books.a2["Id"], changes={
        "Line": [sales_line(250, books.consulting, "TAX")]})
    assert (edited["TotalAmt"], edited["Balance"]) == (270.63, 270.63)  # 250 + 20.63 tax
    rows, total = tb_rows(qb.get_report("TrialBalance", YEAR))
    assert (balance(rows, "Accounts Receivable (A/R)"), balance(rows, "Services"),
            balance(rows, "Sales Tax Payable")) == (Decimal("358.88"), Decimal("-300.00"),
                                                    Decimal("-20.63"))
    assert total == ("933.88", "933.88")
    sb.act("qbo", "create", "Payment", REALM, record={
        "CustomerRef": {"value": books.bolt}, "TxnDate": "2026-11-25", "TotalAmt": 70.63,
        "DepositToAccountRef": {"value": "5"},
        "Line": [applied(70.63, "Invoice", books.a2["Id"])]})
    [a2] = [r for r in sb.records("qbo", "Invoice") if r["Id"] == books.a2["Id"]]
    assert (a2["TotalAmt"], a2["Balance"]) == (270.63, 200.0)
    parties, _totals = aging_rows(qb.get_report("AgedReceivables", {"report_date": AT}))
    assert parties["Bolt"][1] == ["200.00", "10.00", "", "", "", "210.00"]
    parties, _totals = aging_rows(qb.get_report("AgedReceivables",
                                                {"report_date": "2026-11-24"}))
    assert parties["Bolt"][1] == ["270.63", "", "", "", "", "270.63"]  # paid the day after
    rows, _total = tb_rows(qb.get_report("TrialBalance", YEAR))
    assert (balance(rows, "Checking"), balance(rows, "Accounts Receivable (A/R)")) == (
        Decimal("-154.37"), Decimal("288.25"))
    QBInvoice.get(books.a3["Id"], qb=qb).void(qb=qb)  # 40 of Widget, 108 days late
    rows, _total = tb_rows(qb.get_report("TrialBalance", YEAR))
    assert (balance(rows, "Accounts Receivable (A/R)"),
            balance(rows, "Sales of Product Income")) == (Decimal("248.25"), Decimal("-90.00"))
    parties, totals = aging_rows(qb.get_report("AgedReceivables", {"report_date": AT}))
    assert parties["Acme"][1] == ["", "-20.00", "58.25", "", "", "38.25"]
    assert totals[-1] == "248.25"


def test_qbo_sales_tax_account_of_the_chart_and_reports_of_an_empty_realm(sb, qb):
    empty = qb.get_report("TrialBalance")
    assert empty["Rows"]["Row"] == [{"Summary": {"ColData": [
        {"value": "TOTAL"}, {"value": "0.00"}, {"value": "0.00"}]},
        "type": "Section", "group": "GrandTotal"}]
    assert {"Name": "NoReportData", "Value": "true"} in empty["Header"]["Option"]
    today = company_today()  # no dates: this year to date, in the company's time
    assert (empty["Header"]["StartPeriod"], empty["Header"]["EndPeriod"]) == (
        today[:4] + "-01-01", today)
    tax = sb.seed("qbo", "Account", {
        "Name": "Board of Equalization Payable", "AcctNum": "2100",
        "AccountType": "Other Current Liability", "AccountSubType": "GlobalTaxPayable",
        "Classification": "Liability"}, REALM)
    customer = create(qb, "Customer", {"DisplayName": "Acme"})["Id"]
    create(qb, "Invoice", {"CustomerRef": {"value": customer}, "TxnDate": "2026-11-02",
                           "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10,
                                     "SalesItemLineDetail": {"TaxCodeRef": {"value": "TAX"}}}]})
    rows, total = tb_rows(qb.get_report("TrialBalance", YEAR))
    assert rows == [("Accounts Receivable (A/R)", "7", "10.83", ""),
                    ("Board of Equalization Payable", tax["Id"], "", "0.83"),
                    ("Services", "2", "", "10.00")]  # a line without item: QBO's Services
    assert total == ("10.83", "10.83")


def test_qbo_bad_parameters_answer_400_faults(sb, qb):
    with pytest.raises(ValidationException) as bad_date:
        qb.get_report("TrialBalance", {"start_date": "2026-13-01"})
    assert bad_date.value.error_code == 2010 and "start_date" in bad_date.value.detail
    with pytest.raises(ValidationException) as bad_method:
        qb.get_report("TrialBalance", {"accounting_method": "Modified"})
    assert bad_method.value.error_code == 2170
    with pytest.raises(QuickbooksException) as unknown:
        qb.get_report("ProfitAndLossDetail")
    assert unknown.value.error_code == 500
    response = requests.get(
        sb.url + "/qbo/v3/company/%s/reports/AgedReceivables" % REALM, timeout=10,
        params={"report_date": "01/12/2026", "minorversion": 75},
        headers={"Authorization": "Bearer " + qb.token, "Accept": "application/json"})
    assert response.status_code == 400
    [error] = response.json()["Fault"]["Error"]
    assert error["code"] == "2010" and "report_date" in error["Detail"]
    assert "'01/12/2026'" in error["Detail"]


def test_qbo_report_calls_are_counted_api_calls(sb, qb):
    before = sb.api_calls("qbo", REALM)
    qb.get_report("TrialBalance", YEAR)
    qb.get_report("AgedReceivables", {"report_date": AT})
    with pytest.raises(ValidationException):
        qb.get_report("AgedPayables", {"report_date": "never"})
    assert sb.api_calls("qbo", REALM) == before + 3
    calls = sb.calls(provider="qbo", path_contains="/reports/")
    assert [(c["path"].rsplit("/", 1)[1], c["status"]) for c in calls] == [
        ("TrialBalance", 200), ("AgedReceivables", 200), ("AgedPayables", 400)]
    count = requests.get(sb.url + "/_sandbox/api_calls", params={
        "provider": "qbo", "company": REALM}, timeout=10).json()["count"]
    assert count == before + 3


# -- the QBO shapes against Report.xsd -------------------------------------------------------------

class ReportSchema:
    """Intuit's Report type (Report.xsd, NameValue from IntuitBaseTypes.xsd): a JSON report
    is written as the XML QBO would send — keys that are attributes as attributes, the
    others as elements in the schema's order — and validated against the compiled schema;
    a key the type does not declare, or a list where one element may stand (or the
    reverse), is a problem too."""

    def __init__(self, folder):
        self.schema = etree.XMLSchema(etree.parse(str(folder / "IntuitRestServiceDef.xsd")))
        self.types = {}
        for name in ("IntuitBaseTypes.xsd", "Report.xsd"):
            for node in etree.parse(str(folder / name)).getroot().iter(XS + "complexType"):
                if node.get("name"):
                    self.types[node.get("name")] = (
                        [(e.get("name"), e.get("type"), e.get("maxOccurs") == "unbounded")
                         for e in node.iter(XS + "element")],
                        {a.get("name") for a in node.iter(XS + "attribute")})

    def problems(self, report):
        found = []
        document = self.element("Report", "Report", report, found)
        if not self.schema.validate(document):
            found += [e.message for e in self.schema.error_log]
        return found

    def element(self, tag, type_name, data, found):
        node = etree.Element(INTUIT + tag)
        if type_name not in self.types:
            node.text = str(data)
            return node
        children, attributes = self.types[type_name]
        names = {name for name, _type, _many in children}
        found += ["%s.%s: not in %s" % (tag, key, type_name) for key in data
                  if key not in names and key not in attributes]
        for key in sorted(attributes & set(data)):
            node.set(key, str(data[key]))
        for name, child_type, many in children:
            if name not in data:
                continue
            if isinstance(data[name], list) != many:
                found.append("%s.%s: %s" % (tag, name, "a list expected" if many
                                            else "one element expected"))
            for value in data[name] if isinstance(data[name], list) else [data[name]]:
                node.append(self.element(name, child_type, value, found))
        return node


@needs_qbo_specs
def test_qbo_report_shapes_match_report_xsd(qb):
    qbo_books(qb)
    schema = ReportSchema(QBO_SPECS)
    reports = [qb.get_report("TrialBalance", YEAR),
               qb.get_report("TrialBalance", dict(YEAR, accounting_method="Cash")),
               qb.get_report("AgedReceivables", {"report_date": AT}),
               qb.get_report("AgedPayables", {"report_date": AT})]
    for report in reports:
        assert schema.problems(report) == [], report["Header"]["ReportName"]
    assert schema.problems({"Header": {"ReportName": "x", "ReportBasis": "Modified"}})
    assert schema.problems({"Rows": {"Row": {"ColData": [{"value": "x"}]}}}) == [
        "Rows.Row: a list expected"]


# -- Xero: the books ----------------------------------------------------------------------------

def line(amount, account, tax):
    return LineItem(description="Line", quantity=1, unit_amount=amount, account_code=account,
                    tax_type=tax)


def document(kind, contact, day, lines, amounts="Exclusive", status="AUTHORISED", **kwargs):
    return Invoice(type=kind, contact=Contact(contact_id=contact), date=day,
                   line_amount_types=LineAmountTypes(amounts), status=status,
                   line_items=lines, **kwargs)


def pay(doc_id, amount, day):
    return Payment(invoice=Invoice(invoice_id=doc_id), account=Account(code="090"),
                   amount=amount, date=day)


def xero_books(xero):
    """UK organisation, 20 % VAT; seeded accounts 200 Sales, 260 Other Revenue, 429 General
    Expenses, 090 Business Bank Account, 610 Accounts Receivable, 800 Accounts Payable."""
    acme, bolt, paper = xero.create_contacts(UK, Contacts(contacts=[
        Contact(name="Acme"), Contact(name="Bolt"), Contact(name="Paper Co")])).contacts
    inv1, inv2, _draft, bill = xero.create_invoices(UK, Invoices(invoices=[
        document("ACCREC", acme.contact_id, date(2026, 11, 1),  # 150 + 30 VAT
                 [line(100, "200", "OUTPUT2"), line(50, "260", "OUTPUT2")],
                 due_date=date(2026, 11, 30)),
        document("ACCREC", bolt.contact_id, date(2026, 11, 10),  # 100 + 20 VAT inside
                 [line(120, "200", "OUTPUT2")], amounts="Inclusive"),
        document("ACCREC", acme.contact_id, date(2026, 11, 2), [line(999, "200", "OUTPUT2")],
                 status="DRAFT"),
        document("ACCPAY", paper.contact_id, date(2026, 11, 12),  # 200 + 40 VAT
                 [line(200, "429", "INPUT2")])])).invoices
    assert (inv1.total, inv2.total, bill.total) == (180, 120, 240)
    xero.create_credit_notes(UK, {"CreditNotes": [{
        "Type": "ACCRECCREDIT", "Contact": {"ContactID": acme.contact_id},
        "Date": "2026-11-05", "LineAmountTypes": "NoTax", "Status": "AUTHORISED",
        "LineItems": [{"Description": "Return", "Quantity": 1, "UnitAmount": 30,
                       "AccountCode": "200"}]}]})
    xero.create_payments(UK, Payments(payments=[pay(inv1.invoice_id, 100, date(2026, 11, 20)),
                                                pay(bill.invoice_id, 240, date(2026, 11, 25))]))
    xero.create_manual_journals(UK, ManualJournals(manual_journals=[ManualJournal(
        narration="Stationery", status="POSTED", date=date(2026, 11, 30), journal_lines=[
            ManualJournalLine(line_amount=25, account_code="429"),
            ManualJournalLine(line_amount=-25, account_code="090")])]))
    return SimpleNamespace(inv1=inv1, inv2=inv2,
                           accounts={a.code: a.account_id for a in xero.get_accounts(UK).accounts})


def xero_rows(report_model):
    """{section title: [(account, AccountID or None, debit, credit)]} and the Total row's
    four values, from the deserialized ReportWithRows; checks that it balances and that
    the YTD cells equal the others."""
    [report] = serialize(report_model)["Reports"]
    header, *sections, last = report["Rows"]
    assert header == {"RowType": "Header", "Cells": [
        {"Value": v} for v in ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")]}
    [summary] = last["Rows"]
    assert (last["RowType"], summary["RowType"]) == ("Section", "SummaryRow")
    label, *totals = (cell["Value"] for cell in summary["Cells"])
    assert label == "Total" and totals[0] == totals[1] == totals[2] == totals[3]
    result = {}
    for section in sections:
        assert section["RowType"] == "Section"
        result[section["Title"]] = []
        for row in section["Rows"]:
            name, debit, credit, ytd_debit, ytd_credit = (c["Value"] for c in row["Cells"])
            assert (ytd_debit, ytd_credit) == (debit, credit)
            ids = {a["Value"] for c in row["Cells"] for a in c.get("Attributes", [])
                   if a["Id"] == "account"}
            assert len(ids) <= 1
            result[section["Title"]].append((name, ids.pop() if ids else None, debit, credit))
    rows = [r for section in result.values() for r in section]
    assert sum(Decimal(r[2] or 0) for r in rows) == Decimal(totals[0])
    assert sum(Decimal(r[3] or 0) for r in rows) == Decimal(totals[1])
    return result, totals


def trial_balance(xero, day=date(2026, 12, 1), payments_only=False):
    return xero_rows(xero.get_report_trial_balance(UK, date=day, payments_only=payments_only))


# -- Xero: the tests ----------------------------------------------------------------------------

def test_xero_trial_balance_posts_every_document_to_its_accounts(xero):
    books = xero_books(xero)
    ids = books.accounts
    model = xero.get_report_trial_balance(UK, date=date(2026, 12, 1), payments_only=False)
    [report] = model.reports
    assert (report.report_id, report.report_name, report.report_type, report.report_date,
            report.report_titles) == (
        "TrialBalance", "Trial Balance", "TrialBalance", "1 December 2026",
        ["Trial Balance", "Demo Company (UK)", "As at 1 December 2026"])
    sections, totals = xero_rows(model)
    assert sections == {
        "Revenue": [("Other Revenue (260)", ids["260"], "", "50.00"),
                    ("Sales (200)", ids["200"], "", "170.00")],  # 100 + 100 net − 30 credit
        "Expenses": [("General Expenses (429)", ids["429"], "225.00", "")],  # bill, journal
        "Assets": [("Accounts Receivable (610)", ids["610"], "170.00", ""),  # 300 − 30 − 100
                   ("Business Bank Account (090)", ids["090"], "", "165.00")],
        "Liabilities": [("Accounts Payable (800)", ids["800"], "", "0.00"),  # 240 paid
                        ("VAT", None, "", "10.00")]}  # 30 + 20 on sales − 40 on the bill
    assert totals == ["395.00"] * 4


def test_xero_trial_balance_dates_and_payments_only(xero):
    books = xero_books(xero)
    ids = books.accounts
    sections, totals = trial_balance(xero, date(2026, 11, 10))
    assert sections == {
        "Revenue": [("Other Revenue (260)", ids["260"], "", "50.00"),
                    ("Sales (200)", ids["200"], "", "170.00")],
        "Assets": [("Accounts Receivable (610)", ids["610"], "270.00", "")],
        "Liabilities": [("VAT", None, "", "50.00")]}
    assert totals == ["270.00"] * 4
    sections, totals = trial_balance(xero, date(2026, 10, 31))
    assert (sections, totals) == ({}, ["0.00"] * 4)
    sections, totals = trial_balance(xero, payments_only=True)
    assert sections == {
        "Expenses": [("General Expenses (429)", ids["429"], "25.00", "")],
        "Assets": [("Accounts Receivable (610)", ids["610"], "", "100.00"),
                   ("Business Bank Account (090)", ids["090"], "", "165.00")],
        "Liabilities": [("Accounts Payable (800)", ids["800"], "240.00", "")]}
    assert totals == ["265.00"] * 4
    today = datetime.fromtimestamp(sandbox_clock(), timezone.utc).date()
    [report] = xero.get_report_trial_balance(UK).reports  # no date: today, by the sandbox clock
    assert report.report_date == "%d %s" % (today.day, today.strftime("%B %Y"))
    assert xero_rows(xero.get_report_trial_balance(UK)) == trial_balance(xero, today)


def test_xero_remote_edit_payment_and_void_change_the_trial_balance(sb, xero):
    books = xero_books(xero)
    edited = sb.act("xero", "update", "Invoices", UK, id=books.inv2.invoice_id, changes={
        "LineItems": [{"Description": "More", "Quantity": 1, "UnitAmount": 240,
                       "AccountCode": "200", "TaxType": "OUTPUT2"}]})
    assert (edited["Total"], edited["TotalTax"], edited["AmountDue"]) == (240, 40, 240)
    sections, totals = trial_balance(xero)
    assert sections["Assets"][0][2:] == ("290.00", "")
    assert sections["Revenue"][1][2:] == ("", "270.00")
    assert sections["Liabilities"][1] == ("VAT", None, "", "30.00")
    assert totals == ["515.00"] * 4
    paid = sb.act("xero", "create", "Payments", UK, record={
        "Invoice": {"InvoiceID": books.inv1.invoice_id}, "Account": {"Code": "090"},
        "Amount": 30, "Date": "2026-11-28"})
    assert paid["Invoice"]["Status"] == "AUTHORISED"
    [inv1] = xero.get_invoice(UK, books.inv1.invoice_id).invoices
    assert inv1.amount_due == 50
    sections, _totals = trial_balance(xero)
    assert [r[2:] for r in sections["Assets"]] == [("260.00", ""), ("", "135.00")]
    xero.update_invoice(UK, books.inv2.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")]))
    sections, totals = trial_balance(xero)
    assert sections["Assets"][0] == ("Accounts Receivable (610)", books.accounts["610"],
                                     "20.00", "")
    assert sections["Revenue"][1][2:] == ("", "70.00")
    assert sections["Liabilities"][1] == ("VAT", None, "10.00", "")  # more paid than charged
    assert totals == ["255.00"] * 4


def test_xero_tax_system_account_of_the_chart(sb, xero):
    vat = sb.seed("xero", "Accounts", {"Code": "820", "Name": "VAT", "Type": "CURRLIAB",
                                       "Class": "LIABILITY", "SystemAccount": "GST"}, UK)
    [acme] = xero.create_contacts(UK, Contacts(contacts=[Contact(name="Acme")])).contacts
    xero.create_invoices(UK, Invoices(invoices=[document(
        "ACCREC", acme.contact_id, date(2026, 11, 1), [line(10, "200", "OUTPUT2")])]))
    sections, totals = trial_balance(xero)
    assert sections["Liabilities"] == [("VAT (820)", vat["AccountID"], "", "2.00")]
    assert totals == ["12.00"] * 4


def test_xero_bad_parameters_answer_400(sb, xero):
    for params in ({"date": "2026-02-30"}, {"date": "1 December 2026"},
                   {"paymentsOnly": "maybe"}):
        response = requests.get(sb.url + "/xero/api.xro/2.0/Reports/TrialBalance",
                                params=params, timeout=10, headers={
                                    "Authorization": "Bearer " + xero.token,
                                    "xero-tenant-id": UK, "Accept": "application/json"})
        assert response.status_code == 400, params
        body = response.json()
        assert (body["ErrorNumber"], body["Type"]) == (14, "PostDataInvalidException")
        assert list(params.values())[0] in body["Message"]
    with pytest.raises(BadRequestException):
        xero.get_report_trial_balance(UK, date="yesterday")


def test_xero_report_calls_are_counted_api_calls(sb, xero):
    before = sb.api_calls("xero", UK)
    trial_balance(xero)
    trial_balance(xero, payments_only=True)
    assert sb.api_calls("xero", UK) == before + 2
    calls = sb.calls(provider="xero", path_contains="/Reports/TrialBalance")
    assert [(c["tenant"], c["status"]) for c in calls] == [(UK, 200), (UK, 200)]
    assert "paymentsOnly" in calls[1]["query"]


@needs_xero_spec
def test_xero_report_shape_matches_report_with_rows(sb, xero):
    xero_books(xero)
    with XERO_SPEC.open() as f:
        schemas = yaml.safe_load(f)["components"]["schemas"]
    for name in ("ReportWithRow", "ReportRows", "ReportRow", "ReportCell", "ReportAttribute",
                 "ReportFields"):  # nothing they do not declare
        schemas[name] = dict(schemas[name], additionalProperties=False)
    validator = jsonschema.Draft7Validator({"$ref": "#/components/schemas/ReportWithRows",
                                            "components": {"schemas": schemas}})
    for params in ({"date": AT}, {"date": AT, "paymentsOnly": "true"}):
        body = requests.get(sb.url + "/xero/api.xro/2.0/Reports/TrialBalance", params=params,
                            timeout=10, headers={"Authorization": "Bearer " + xero.token,
                                                 "xero-tenant-id": UK}).json()
        assert [e.message for e in validator.iter_errors(body)] == [], params
        assert (body["Status"], len(body["Reports"])) == ("OK", 1)
    assert list(validator.iter_errors({"Reports": [{"Rows": [{"RowType": "Total"}]}]}))

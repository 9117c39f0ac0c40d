"""Odoo-free tests of the QuickBooks Desktop trial balance (``provider_sandbox.qbd_reports``):
``GeneralSummaryReportQueryRq`` sent as qbXML to a ``CompanyFile`` like every other request,
the rows and totals of books built by invoices, a credit memo, bills, a vendor credit,
payments and a journal entry (US and Canadian tax), dates, voids and deletes, cash basis, and
the qbXML 13.0 schema on the requests and on the answers' ``ReportRet`` (skipped, saying so,
without the specs folder)."""
import pytest

from provider_sandbox import qbd_xml
from provider_sandbox.qbd import Clock, CompanyFile

SPECS = qbd_xml.schema() is not None
needs_specs = pytest.mark.skipif(
    not SPECS, reason="qbXML schema not found at %s (set ACCOUNTING_SYNC_SPECS to the "
                      "shared/specs folder to run the schema tests)" % qbd_xml.specs_dir())
DECEMBER = ("2026-12-01", "2026-12-31")


# ---------------------------------------------------------------------------- helpers
def qbxml(body):
    return ('<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML>'
            '<QBXMLMsgsRq onError="stopOnError">%s</QBXMLMsgsRq></QBXML>' % body)


def one(company, body):
    """Send one request (schema-checked, as the answer is); answer its Rs element."""
    request = qbxml(body)
    assert qbd_xml.validate(request) is None, qbd_xml.validate(request)
    answer = company.handle(request)
    assert qbd_xml.validate(answer) is None, qbd_xml.validate(answer)
    (rs,) = qbd_xml.parse(answer).find("QBXMLMsgsRs")
    assert rs.get("statusCode") == "0", rs.get("statusMessage")
    return qbd_xml.element_to_dict(rs[0]) if len(rs) else None


def ref(tag, name):
    return "<%s><FullName>%s</FullName></%s>" % (tag, name, tag)


def add(company, kind, fields):
    return one(company, "<%sAddRq><%sAdd>%s</%sAdd></%sAddRq>" % (kind, kind, fields, kind, kind))


def sale(company, kind, customer, day, lines, extra=""):
    """An invoice or credit memo; lines (item, quantity, amount, tax code)."""
    xml = "".join("<%sLineAdd>%s%s%s%s</%sLineAdd>" % (
        kind, ref("ItemRef", item), "<Quantity>%s</Quantity>" % qty if qty else "",
        "<Amount>%s</Amount>" % amount if amount else "", ref("SalesTaxCodeRef", code), kind)
        for item, qty, amount, code in lines)
    return add(company, kind, ref("CustomerRef", customer) + "<TxnDate>%s</TxnDate>" % day
               + extra + xml)


def expense(account, amount, code=None):
    return "<ExpenseLineAdd>%s<Amount>%s</Amount>%s</ExpenseLineAdd>" % (
        ref("AccountRef", account), amount, ref("SalesTaxCodeRef", code) if code else "")


def report_rq(period=DECEMBER, basis="Accrual", kind="TrialBalance", macro=None):
    xml = "<GeneralSummaryReportType>%s</GeneralSummaryReportType>" % kind
    if macro:
        xml += "<ReportDateMacro>%s</ReportDateMacro>" % macro
    elif period:
        xml += ("<ReportPeriod><FromReportDate>%s</FromReportDate><ToReportDate>%s"
                "</ToReportDate></ReportPeriod>" % period)
    if basis:
        xml += "<ReportBasis>%s</ReportBasis>" % basis
    return '<GeneralSummaryReportQueryRq requestID="9">%s</GeneralSummaryReportQueryRq>' % xml


def answer(company, **kw):
    """The GeneralSummaryReportQueryRs element (schema-checked)."""
    text = company.handle(qbxml(report_rq(**kw)))
    assert qbd_xml.validate(text) is None, qbd_xml.validate(text)
    return qbd_xml.parse(text).find("QBXMLMsgsRs/GeneralSummaryReportQueryRs")


def trial_balance(company, **kw):
    """({account FullName: (debit, credit)}, (total debit, total credit)); "" = no cell."""
    rs = answer(company, **kw)
    assert rs.get("statusCode") == "0", rs.get("statusMessage")
    data = rs.find("ReportRet/ReportData")

    def cells(row):
        values = {c.get("colID"): c.get("value") for c in row.findall("ColData")}
        return values.get("2", ""), values.get("3", "")
    rows = {}
    for row in data.findall("DataRow"):
        name = row.find("RowData").get("value")
        assert row.find("RowData").get("rowType") == "account"
        assert row.find("ColData[@colID='1']").get("value") == name
        rows[name] = cells(row)
    (total,) = data.findall("TotalRow")
    assert total.find("RowData").get("value") == "TOTAL"
    debit, credit = cells(total)
    assert debit == credit  # the books balance
    assert sum(float(d or 0) for d, _c in rows.values()) == pytest.approx(float(debit))
    assert sum(float(c or 0) for _d, c in rows.values()) == pytest.approx(float(credit))
    return rows, (debit, credit)


@pytest.fixture
def company():
    return CompanyFile("US", "Report Co", clock=Clock(Clock().now().replace(
        year=2026, month=12, day=1, hour=10, minute=0, second=0)))


def build_books(company):
    """A customer, an item with income and expense accounts, and a month of business."""
    add(company, "Customer", "<Name>Zenith Labs</Name>")
    add(company, "ItemNonInventory",
        "<Name>Gadget</Name>%s<SalesAndPurchase><SalesPrice>50.00</SalesPrice>%s"
        "<PurchaseCost>30.00</PurchaseCost>%s</SalesAndPurchase>"
        % (ref("SalesTaxCodeRef", "Tax"), ref("IncomeAccountRef", "Sales"),
           ref("ExpenseAccountRef", "Cost of Goods Sold")))
    # 100.00 taxable + 200.00 not; tax 8.25 % of 100.00 → 308.25
    invoice = sale(company, "Invoice", "Acme Corporation", "2026-12-01",
                   [("Widget", "4", None, "Tax"), ("Consulting", None, "200.00", "Non")])
    # 25.00 + 2.06 tax
    sale(company, "CreditMemo", "Acme Corporation", "2026-12-02",
         [("Widget", "1", None, "Tax")])
    bill = add(company, "Bill", ref("VendorRef", "Office Depot") + "<TxnDate>2026-12-03</TxnDate>"
               + expense("Office Supplies", "40.00") + "<ItemLineAdd>%s<Quantity>2</Quantity>"
               "<Cost>30.00</Cost></ItemLineAdd>" % ref("ItemRef", "Gadget"))
    zenith = sale(company, "Invoice", "Zenith Labs", "2026-12-04",
                  [("Gadget", "2", "100.00", "Tax")])  # 100.00 + 8.25
    for customer, doc, amount, deposit in (("Acme Corporation", invoice, "200.00", ""),
                                           ("Zenith Labs", zenith, "108.25",
                                            ref("DepositToAccountRef", "Checking"))):
        add(company, "ReceivePayment",
            "%s<TxnDate>2026-12-05</TxnDate><TotalAmount>%s</TotalAmount>%s<AppliedToTxnAdd>"
            "<TxnID>%s</TxnID><PaymentAmount>%s</PaymentAmount></AppliedToTxnAdd>"
            % (ref("CustomerRef", customer), amount, deposit, doc["TxnID"], amount))
    add(company, "BillPaymentCheck",
        "%s<TxnDate>2026-12-06</TxnDate>%s<RefNumber>101</RefNumber><AppliedToTxnAdd>"
        "<TxnID>%s</TxnID><PaymentAmount>100.00</PaymentAmount></AppliedToTxnAdd>"
        % (ref("PayeeEntityRef", "Office Depot"), ref("BankAccountRef", "Checking"),
           bill["TxnID"]))
    add(company, "VendorCredit", ref("VendorRef", "City Power")
        + "<TxnDate>2026-12-07</TxnDate>" + expense("Utilities", "15.00"))
    add(company, "JournalEntry",
        "<TxnDate>2026-12-08</TxnDate><JournalDebitLine>%s<Amount>500.00</Amount>"
        "</JournalDebitLine><JournalCreditLine>%s<Amount>500.00</Amount></JournalCreditLine>"
        % (ref("AccountRef", "Rent Expense"), ref("AccountRef", "Checking")))


DECEMBER_ROWS = {
    "Checking": ("", "491.75"),             # +108.25 deposit − 100.00 check − 500.00 rent
    "Accounts Receivable": ("81.19", ""),   # 308.25 − 27.06 + 108.25 − 200.00 − 108.25
    "Undeposited Funds": ("200.00", ""),    # Acme's payment, no DepositToAccountRef
    "Accounts Payable": ("15.00", ""),      # −100.00 bill + 100.00 check + 15.00 credit
    "Sales Tax Payable": ("", "14.44"),     # 8.25 − 2.06 + 8.25
    "Sales": ("", "175.00"),                # 100.00 − 25.00 + 100.00
    "Services": ("", "200.00"),
    "Cost of Goods Sold": ("60.00", ""),    # Gadget's ExpenseAccountRef, 2 × 30.00
    "Office Supplies": ("40.00", ""),
    "Rent Expense": ("500.00", ""),
    "Utilities": ("", "15.00"),
}


# ---------------------------------------------------------------------------- tests
def test_accrual_trial_balance_rows_and_totals(company):
    build_books(company)
    rows, totals = trial_balance(company)
    assert rows == DECEMBER_ROWS
    assert list(rows) == list(DECEMBER_ROWS)  # chart order: type, then account number
    assert totals == ("896.19", "896.19")
    ret = answer(company).find("ReportRet")
    assert ret.findtext("ReportTitle") == "Trial Balance"
    assert ret.findtext("ReportSubtitle") == "December 1, 2026 through December 31, 2026"
    assert ret.findtext("ReportBasis") == "Accrual"
    assert (ret.findtext("NumRows"), ret.findtext("NumColumns"),
            ret.findtext("NumColTitleRows")) == ("12", "3", "1")
    assert [(d.get("colID"), d.get("dataType"), d.find("ColTitle").get("value"),
             d.findtext("ColType")) for d in ret.findall("ColDesc")] == \
        [("1", "STRTYPE", None, "Label"), ("2", "AMTTYPE", "Debit", "Debit"),
         ("3", "AMTTYPE", "Credit", "Credit")]
    assert [r.get("rowNumber") for r in ret.find("ReportData")] == \
        [str(n) for n in range(1, 13)]


def test_date_filtering_and_the_default_period(company):
    build_books(company)
    rows, totals = trial_balance(company, period=("2026-12-04", "2026-12-06"))
    assert rows == {"Checking": ("8.25", ""), "Accounts Receivable": ("", "200.00"),
                    "Undeposited Funds": ("200.00", ""), "Accounts Payable": ("100.00", ""),
                    "Sales Tax Payable": ("", "8.25"), "Sales": ("", "100.00")}
    assert totals == ("308.25", "308.25")
    rows, totals = trial_balance(company, period=("2027-01-01", "2027-01-31"))
    assert rows == {} and totals == ("0.00", "0.00")
    # no ReportPeriod: from the first transaction to the company file's today (2026-12-01)
    rows, _totals = trial_balance(company, period=None)
    assert rows == {"Accounts Receivable": ("308.25", ""), "Sales Tax Payable": ("", "8.25"),
                    "Sales": ("", "100.00"), "Services": ("", "200.00")}
    company.clock.advance(30 * 86400)
    assert trial_balance(company, period=None)[0] == DECEMBER_ROWS
    assert trial_balance(company, period=None, macro="ThisMonth")[0] == DECEMBER_ROWS
    assert answer(company, period=None).findtext("ReportRet/ReportSubtitle") == \
        "December 1, 2026 through December 31, 2026"


def test_void_and_delete_post_nothing(company):
    build_books(company)
    invoice = sale(company, "Invoice", "Bright Ideas", "2026-12-10",
                   [("Consulting", "1", None, "Non")])
    rows, totals = trial_balance(company)
    assert rows["Accounts Receivable"] == ("181.19", "") and rows["Services"] == ("", "300.00")
    assert totals == ("996.19", "996.19")
    one(company, "<TxnVoidRq><TxnVoidType>Invoice</TxnVoidType><TxnID>%s</TxnID></TxnVoidRq>"
        % invoice["TxnID"])
    assert trial_balance(company)[0] == DECEMBER_ROWS
    bill = add(company, "Bill", ref("VendorRef", "City Power")
               + "<TxnDate>2026-12-11</TxnDate>" + expense("Utilities", "75.00"))
    assert trial_balance(company)[0]["Utilities"] == ("60.00", "")
    one(company, "<TxnDelRq><TxnDelType>Bill</TxnDelType><TxnID>%s</TxnID></TxnDelRq>"
        % bill["TxnID"])
    assert trial_balance(company)[0] == DECEMBER_ROWS


def test_cash_basis_posts_payments_and_journal_entries_only(company):
    build_books(company)
    rows, totals = trial_balance(company, basis="Cash")
    assert rows == {"Checking": ("", "491.75"), "Accounts Receivable": ("", "308.25"),
                    "Undeposited Funds": ("200.00", ""), "Accounts Payable": ("100.00", ""),
                    "Rent Expense": ("500.00", "")}
    assert totals == ("800.00", "800.00")
    assert answer(company, basis="Cash").findtext("ReportRet/ReportBasis") == "Cash"
    # no ReportBasis: the company file's SummaryReportBasis preference (Accrual)
    assert answer(company, basis=None).findtext("ReportRet/ReportBasis") == "Accrual"
    assert trial_balance(company, basis=None)[0] == DECEMBER_ROWS


def test_canadian_gst_hst_and_tax_included_amounts():
    ca = CompanyFile("CA")
    sale(ca, "Invoice", "Acme Corporation", "2026-12-01", [("Widget", "4", None, "H")])
    # 113.00 with HST included: 100.00 income, 13.00 tax
    sale(ca, "Invoice", "Bright Ideas", "2026-12-02", [("Consulting", None, "113.00", "H")],
         extra="<IsTaxIncluded>true</IsTaxIncluded>")
    # a bill with 5 % GST: input tax debits the same tax account
    add(ca, "Bill", ref("VendorRef", "Office Depot") + "<TxnDate>2026-12-03</TxnDate>"
        + expense("Office Supplies", "40.00", "G"))
    rows, totals = trial_balance(ca)
    assert rows == {"Accounts Receivable": ("226.00", ""), "Accounts Payable": ("", "42.00"),
                    "GST/HST Payable": ("", "24.00"), "Sales": ("", "100.00"),
                    "Services": ("", "100.00"), "Office Supplies": ("40.00", "")}
    assert totals == ("266.00", "266.00")
    uk = CompanyFile("UK")
    sale(uk, "Invoice", "Acme Corporation", "2026-12-01", [("Widget", "4", None, "S")])
    assert trial_balance(uk)[0]["VAT Control"] == ("", "20.00")


def test_other_report_types_and_bad_dates(company):
    rs = answer(company, kind="ProfitAndLossStandard")
    assert (rs.get("statusCode"), rs.get("statusSeverity")) == ("3250", "Error")
    assert "TrialBalance only" in rs.get("statusMessage") and len(rs) == 0
    rs = answer(company, period=("2026-12-01", "2026-12-32"))
    assert rs.get("statusCode") == "3020" and '"ToReportDate"' in rs.get("statusMessage")
    assert rs.get("requestID") == "9"


@needs_specs
def test_request_and_report_ret_follow_the_schema(company):
    assert qbd_xml.validate(qbxml(report_rq())) is None
    assert qbd_xml.validate(qbxml(report_rq(period=None, basis=None))) is None
    # element order matters: ReportBasis comes after ReportPeriod
    swapped = report_rq().replace("<ReportBasis>Accrual</ReportBasis>", "").replace(
        "<ReportPeriod>", "<ReportBasis>Accrual</ReportBasis><ReportPeriod>")
    assert qbd_xml.validate(qbxml(swapped)) is not None
    # the optional filters the schema allows are accepted and ignored
    filtered = report_rq().replace(
        "</ReportPeriod>", "</ReportPeriod><ReportAccountFilter><AccountTypeFilter>"
        "IncomeAndOtherIncome</AccountTypeFilter></ReportAccountFilter>")
    assert qbd_xml.validate(qbxml(filtered)) is None
    build_books(company)
    answer_text = company.handle(qbxml(filtered))
    assert qbd_xml.validate(answer_text) is None  # the whole QBXMLMsgsRs, ReportRet included
    ret = qbd_xml.parse(answer_text).find("QBXMLMsgsRs/GeneralSummaryReportQueryRs/ReportRet")
    order = qbd_xml.child_order()["ReportRet"]
    tags = [child.tag for child in ret]
    assert tags == sorted(tags, key=order.index)
    assert order == ["ReportTitle", "ReportSubtitle", "ReportBasis", "NumRows", "NumColumns",
                     "NumColTitleRows", "ColDesc", "ReportData"]
    assert trial_balance(company)[0] == DECEMBER_ROWS

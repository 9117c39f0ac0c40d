"""Pulling QuickBooks Desktop changes without QuickBooks: the requests (iterators, the +1 s
watermark kept in QuickBooks' local time, deletions), hand-written responses (statuses,
offsets, voids, deletions) and whole round trips through the sandbox company file
(``provider_sandbox.qbd.CompanyFile``): a customer's invoice, a payment received on it, the
payment deleted, the invoice voided, read back as Changes. Every request is also validated
against Intuit's qbXML 13.0 schema where ../shared/specs is present (those tests skip,
saying so, where it is absent)."""
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from accounting_sync.providers import get_adapter
from accounting_sync.providers.base import Answer, Change
from accounting_sync.providers.documents import Allocation, Payment, Ref
from accounting_sync.providers.errors import ProviderResponseError
from accounting_sync.providers.incoming import (
    IncomingDocument, IncomingJournalEntry, IncomingPayment,
)
from accounting_sync.providers.quickbooks_desktop import (
    PULL_TYPES, PullPage, QuickBooksDesktopAdapter, latest_cursor, parse_pull, pull_request,
)
from accounting_sync.providers.sync_rules import UsageError
from provider_sandbox.qbd import COMPANY_TZ, Clock, CompanyFile

SPECS = Path(os.environ.get("ACCOUNTING_SYNC_SPECS")
             or Path(__file__).resolve().parents[2] / "shared" / "specs")
FOLDER = SPECS / "quickbooks-desktop"
needs_schema = pytest.mark.skipif(
    not (FOLDER / "qbxmlops130.xsd").is_file(),
    reason="vendor schemas not found at %s (set ACCOUNTING_SYNC_SPECS to the shared/specs "
           "folder to run the QuickBooks Desktop pull contract tests)" % FOLDER)
COMPANY = "C:\\Books\\Test Co.qbw"
START = datetime(2026, 12, 1, 10, 0, 0)  # company local time (UTC-5): 15:00 UTC


def adapter(**kwargs):
    return get_adapter("quickbooks_desktop", settings={}, **kwargs)


def request_of(body):
    """The XxxQueryRq element of a request document."""
    root = etree.fromstring(body.split("?>", 2)[-1].strip().encode("utf-8"))
    (element,) = root.find("QBXMLMsgsRq")
    return element


def rs(name, rets="", code=0, message="Status OK", request_id="1", **attrs):
    extra = "".join(' %s="%s"' % item for item in attrs.items())
    return ('<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><%sRs requestID="%s" statusCode="%d" '
            'statusSeverity="%s" statusMessage="%s"%s>%s</%sRs></QBXMLMsgsRs></QBXML>'
            % (name, request_id, code, "Error" if code >= 1000 else "Info", message, extra,
               rets, name))


def payment_ret(txn_id="12-1764601200", created="2026-12-01T10:00:00-05:00",
                modified="2026-12-01T10:00:00-05:00", sequence="1764601200", total="108.25",
                memo="Check 1001", applied=(("8-1764600000", "Invoice", "108.25"),)):
    lines = "".join(
        "<AppliedToTxnRet><TxnID>%s</TxnID><TxnType>%s</TxnType><TxnDate>2026-11-30</TxnDate>"
        "<RefNumber>7</RefNumber><BalanceRemaining>0.00</BalanceRemaining>"
        "<Amount>%s</Amount></AppliedToTxnRet>" % entry for entry in applied)
    return ("<ReceivePaymentRet><TxnID>%s</TxnID><TimeCreated>%s</TimeCreated>"
            "<TimeModified>%s</TimeModified><EditSequence>%s</EditSequence>"
            "<TxnNumber>12</TxnNumber><CustomerRef><ListID>80000001-1764600000</ListID>"
            "<FullName>Acme Corporation</FullName></CustomerRef>"
            "<ARAccountRef><ListID>A2</ListID><FullName>Accounts Receivable</FullName>"
            "</ARAccountRef><TxnDate>2026-12-01</TxnDate><RefNumber>1001</RefNumber>"
            "<TotalAmount>%s</TotalAmount><Memo>%s</Memo><DepositToAccountRef>"
            "<ListID>A1</ListID><FullName>Checking</FullName></DepositToAccountRef>"
            "<UnusedPayment>0.00</UnusedPayment><UnusedCredits>0.00</UnusedCredits>%s"
            "</ReceivePaymentRet>" % (txn_id, created, modified, sequence, total, memo, lines))


def invoice_ret(txn_id="8-1764600000", modified="2026-12-01T10:05:00-05:00",
                subtotal="100.00", tax="8.25", memo="INV/2026/00001: PO 4711",
                balance="108.25", amount="100.00"):
    return ("<InvoiceRet><TxnID>%s</TxnID><TimeCreated>2026-12-01T10:00:00-05:00</TimeCreated>"
            "<TimeModified>%s</TimeModified><EditSequence>1764600300</EditSequence>"
            "<TxnNumber>8</TxnNumber><CustomerRef><ListID>80000001-1764600000</ListID>"
            "</CustomerRef><TxnDate>2026-12-01</TxnDate><RefNumber>INV2600001</RefNumber>"
            "<DueDate>2026-12-31</DueDate><Subtotal>%s</Subtotal>"
            "<ItemSalesTaxRef><ListID>T1</ListID></ItemSalesTaxRef>"
            "<SalesTaxPercentage>8.25</SalesTaxPercentage><SalesTaxTotal>%s</SalesTaxTotal>"
            "<AppliedAmount>0.00</AppliedAmount><BalanceRemaining>%s</BalanceRemaining>"
            "<CurrencyRef><ListID>CUR1</ListID><FullName>US Dollar</FullName></CurrencyRef>"
            "<Memo>%s</Memo><IsPaid>false</IsPaid>"
            "<InvoiceLineRet><TxnLineID>L1</TxnLineID><ItemRef><ListID>I1</ListID></ItemRef>"
            "<Desc>Widget</Desc><Quantity>4</Quantity><Rate>25.00</Rate>"
            "<Amount>%s</Amount><SalesTaxCodeRef><ListID>S1</ListID></SalesTaxCodeRef>"
            "</InvoiceLineRet></InvoiceRet>" % (txn_id, modified, subtotal, tax, balance,
                                                memo, amount))


# -- the requests ---------------------------------------------------------------------------------

def test_pull_types_are_read_payments_first_and_deletions_last():
    assert PULL_TYPES == ("ReceivePayment", "BillPaymentCheck", "Invoice", "CreditMemo",
                          "Bill", "VendorCredit", "TxnDeleted")


def test_a_first_page_starts_an_iterator_one_second_after_the_cursor_in_its_offset():
    body = adapter().pull_request("Invoice", cursor="2026-12-01T10:00:00-05:00")
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>')
    assert 'onError="continueOnError"' in body
    element = request_of(body)
    assert element.tag == "InvoiceQueryRq"
    assert (element.get("iterator"), element.get("iteratorID")) == ("Start", None)
    assert element.get("requestID") == "1"
    assert [child.tag for child in element] == ["MaxReturned", "ModifiedDateRangeFilter",
                                                "IncludeLineItems"]
    assert element.findtext("MaxReturned") == "100"
    assert element.findtext("ModifiedDateRangeFilter/FromModifiedDate") == \
        "2026-12-01T10:00:01-05:00"
    assert element.findtext("IncludeLineItems") == "true"


@pytest.mark.parametrize("cursor, start", [
    ("2026-12-31T23:59:59-05:00", "2027-01-01T00:00:00-05:00"),
    ("2026-07-01T08:15:59-04:00", "2026-07-01T08:16:00-04:00"),  # a daylight-saving offset kept
    ("2026-12-01T10:00:00", "2026-12-01T10:00:01"),              # no offset: none added
    ("2026-12-01T10:00:00Z", "2026-12-01T10:00:01+00:00"),
    ("2026-12-01T10:00:00.500-05:00", "2026-12-01T10:00:01-05:00"),
])
def test_the_watermark_plus_one_second_keeps_the_local_time_as_written(cursor, start):
    element = request_of(pull_request("Bill", cursor=cursor))
    assert element.findtext("ModifiedDateRangeFilter/FromModifiedDate") == start


def test_a_next_page_continues_the_iterator_with_the_same_criteria():
    element = request_of(adapter().pull_request(
        "ReceivePayment", cursor="2026-12-01T10:00:00-05:00", iterator_id="{abc}",
        max_returned=2, request_id="7"))
    assert (element.get("iterator"), element.get("iteratorID")) == ("Continue", "{abc}")
    assert element.get("requestID") == "7"
    assert element.findtext("MaxReturned") == "2"
    assert element.findtext("ModifiedDateRangeFilter/FromModifiedDate") == \
        "2026-12-01T10:00:01-05:00"


def test_payments_ask_no_line_items_documents_do():
    for pull_type in PULL_TYPES[:-1]:
        element = request_of(pull_request(pull_type))
        wanted = None if pull_type in ("ReceivePayment", "BillPaymentCheck") else "true"
        assert element.findtext("IncludeLineItems") == wanted, pull_type
        assert element.find("ModifiedDateRangeFilter") is None  # no cursor, no since: all


def test_since_is_utc_and_said_so_and_the_cursor_wins_over_it():
    element = request_of(pull_request("CreditMemo", since=datetime(2026, 12, 1, 15, 0, 0, 123)))
    assert element.findtext("ModifiedDateRangeFilter/FromModifiedDate") == \
        "2026-12-01T15:00:00+00:00"
    element = request_of(pull_request("CreditMemo", cursor="2026-12-01T10:00:00-05:00",
                                      since=datetime(2020, 1, 1)))
    assert element.findtext("ModifiedDateRangeFilter/FromModifiedDate") == \
        "2026-12-01T10:00:01-05:00"


def test_max_returned_is_kept_between_1_and_500():
    assert request_of(pull_request("Bill", max_returned=0)).findtext("MaxReturned") == "1"
    assert request_of(pull_request("Bill", max_returned=10000)).findtext("MaxReturned") == "500"


def test_deletions_name_every_type_and_start_after_the_cursor():
    element = request_of(pull_request("TxnDeleted", cursor="2026-12-01T10:00:59-05:00"))
    assert element.tag == "TxnDeletedQueryRq" and element.get("iterator") is None
    assert [t.text for t in element.iterfind("TxnDelType")] == [
        "Invoice", "CreditMemo", "Bill", "VendorCredit", "ReceivePayment", "BillPaymentCheck",
        "JournalEntry"]
    assert element.findtext("DeletedDateRangeFilter/FromDeletedDate") == \
        "2026-12-01T10:01:00-05:00"
    assert element.find("MaxReturned") is None
    assert request_of(pull_request("TxnDeleted")).find("DeletedDateRangeFilter") is None


def test_the_adapters_qbxml_version_is_spoken():
    body = adapter(qbxml_version="12.0").pull_request("Invoice")
    assert '<?qbxml version="12.0"?>' in body


@pytest.mark.parametrize("call", [
    lambda: pull_request("Estimate"),
    lambda: pull_request("TxnDeleted", iterator_id="{abc}"),
    lambda: pull_request("Invoice", cursor="yesterday"),
    lambda: pull_request("Invoice", cursor="2026-13-01T10:00:00-05:00"),
    lambda: pull_request("Invoice", since="2026-12-01"),
    lambda: parse_pull("Estimate", rs("EstimateQuery"), COMPANY),
])
def test_a_callers_mistake_is_a_usage_error(call):
    with pytest.raises(UsageError):
        call()


# -- the responses --------------------------------------------------------------------------------

def test_a_received_payment_becomes_a_customer_payment_with_its_allocations():
    page = adapter().parse_pull("ReceivePayment", rs("ReceivePaymentQuery", payment_ret(applied=(
        ("8-1764600000", "Invoice", "100.00"), ("9-1764600000", "Invoice", "8.25"),
        ("10-1764600000", "Charge", "1.00")))), COMPANY)
    assert isinstance(page, PullPage)
    (change,) = page.changes
    assert isinstance(change, Change)
    assert (change.remote_type, change.kinds, change.remote_id, change.operation,
            change.pull_type, change.company_id) == (
        "customer_payment", ("customer_payment",), "12-1764601200", "create", "ReceivePayment",
        COMPANY)
    assert change.occurred_at == datetime(2026, 12, 1, 15, 0, 0)  # naive UTC
    assert change.data["entity"] == "ReceivePayment"
    assert change.data["edit_sequence"] == "1764601200"
    assert change.data["time_modified"] == "2026-12-01T10:00:00-05:00"
    record = change.record
    assert isinstance(record, IncomingPayment)
    assert (record.kind, record.remote_id, record.remote_version, record.status) == (
        "customer_payment", "12-1764601200", "1764601200", "active")
    assert (record.party_id, record.account_id, record.amount, record.date, record.number,
            record.reference, record.currency) == (
        "80000001-1764600000", "A1", Decimal("108.25"), date(2026, 12, 1), "1001",
        "Check 1001", None)
    assert [(a.document_kind, a.document_id, a.amount) for a in record.allocations] == [
        ("invoice", "8-1764600000", Decimal("100.00")),
        ("invoice", "9-1764600000", Decimal("8.25"))]  # a Charge is not a document we sync
    assert page.cursor == "2026-12-01T10:00:00-05:00"
    assert (page.iterator_id, page.remaining, page.status_code, page.more) == (
        None, None, 0, False)


def test_a_payment_edited_later_is_an_update_and_its_event_id_follows_its_version():
    first = parse_pull("ReceivePayment", rs("ReceivePaymentQuery", payment_ret(
        modified="2026-12-01T11:00:00-05:00", sequence="1764605000")), COMPANY).changes[0]
    again = parse_pull("ReceivePayment", rs("ReceivePaymentQuery", payment_ret(
        modified="2026-12-01T11:00:00-05:00", sequence="1764605000")), COMPANY).changes[0]
    later = parse_pull("ReceivePayment", rs("ReceivePaymentQuery", payment_ret(
        modified="2026-12-01T11:30:00-05:00", sequence="1764606800")), COMPANY).changes[0]
    other = parse_pull("ReceivePayment", rs("ReceivePaymentQuery", payment_ret(
        modified="2026-12-01T11:00:00-05:00", sequence="1764605000")), "other").changes[0]
    assert first.operation == "update"
    assert first.event_id == again.event_id  # the same version read twice: one event
    assert len({first.event_id, later.event_id, other.event_id}) == 3


def test_a_bill_payment_check_is_a_vendor_payment_from_its_bank_account():
    ret = ("<BillPaymentCheckRet><TxnID>20-1</TxnID><TimeCreated>2026-12-01T10:00:00-05:00"
           "</TimeCreated><TimeModified>2026-12-01T10:00:00-05:00</TimeModified>"
           "<EditSequence>5</EditSequence><PayeeEntityRef><ListID>V1</ListID></PayeeEntityRef>"
           "<APAccountRef><ListID>A3</ListID></APAccountRef><TxnDate>2026-12-02</TxnDate>"
           "<BankAccountRef><ListID>A1</ListID></BankAccountRef><Amount>50.00</Amount>"
           "<RefNumber>2001</RefNumber><Memo>PBNK1/2026/00007</Memo>"
           "<AppliedToTxnRet><TxnID>15-1</TxnID><TxnType>Bill</TxnType><Amount>-50.00</Amount>"
           "</AppliedToTxnRet></BillPaymentCheckRet>")
    (change,) = parse_pull("BillPaymentCheck", rs("BillPaymentCheckQuery", ret), COMPANY).changes
    record = change.record
    assert (change.remote_type, change.operation) == ("vendor_payment", "create")
    assert (record.kind, record.party_id, record.account_id, record.amount, record.number,
            record.reference, record.date) == (
        "vendor_payment", "V1", "A1", Decimal("50.00"), "2001", "PBNK1/2026/00007",
        date(2026, 12, 2))
    assert [(a.document_kind, a.document_id, a.amount) for a in record.allocations] == [
        ("bill", "15-1", Decimal("50.00"))]  # applied amounts are positive whatever the sign


def test_an_invoice_with_its_lines_totals_and_balance():
    (change,) = parse_pull("Invoice", rs("InvoiceQuery", invoice_ret()), COMPANY).changes
    record = change.record
    assert isinstance(record, IncomingDocument)
    assert (change.remote_type, change.operation, change.occurred_at) == (
        "invoice", "update", datetime(2026, 12, 1, 15, 5))
    assert (record.kind, record.status, record.number, record.reference, record.date,
            record.due_date, record.party_id, record.currency) == (
        "invoice", "active", "INV2600001", "PO 4711", date(2026, 12, 1),
        date(2026, 12, 31), "80000001-1764600000", None)
    assert (record.amount_untaxed, record.amount_tax, record.amount_total, record.balance) == (
        Decimal("100.00"), Decimal("8.25"), Decimal("108.25"), Decimal("108.25"))
    (line,) = record.lines
    assert (line.description, line.quantity, line.unit_price, line.amount, line.item_id,
            line.tax_id) == ("Widget", Decimal("4"), Decimal("25.00"), Decimal("100.00"), "I1",
                             "S1")
    assert change.data["currency"] == "US Dollar"
    assert change.data["total"] == "108.25"


def test_a_voided_invoice_is_a_void():
    ret = invoice_ret(subtotal="0.00", tax="0.00", balance="0.00", amount="0.00",
                      memo="VOID: INV/2026/00001: PO 4711", modified="2026-12-02T09:00:00-05:00")
    (change,) = parse_pull("Invoice", rs("InvoiceQuery", ret), COMPANY).changes
    assert (change.operation, change.record.status, change.record.amount_total) == (
        "void", "voided", Decimal("0.00"))
    assert change.data["status"] == "voided"
    kept = parse_pull("Invoice", rs("InvoiceQuery", invoice_ret(
        subtotal="0.00", tax="0.00", balance="0.00", amount="0.00")), COMPANY).changes[0]
    assert kept.record.status == "active"  # a zero invoice is not voided without "VOID:"


def test_bills_and_vendor_credits_total_their_lines_tax():
    bill = ("<BillRet><TxnID>15-1</TxnID><TimeCreated>2026-12-01T10:00:00-05:00</TimeCreated>"
            "<TimeModified>2026-12-01T10:00:00-05:00</TimeModified><EditSequence>3"
            "</EditSequence><VendorRef><ListID>V1</ListID></VendorRef><TxnDate>2026-12-01"
            "</TxnDate><DueDate>2026-12-31</DueDate><AmountDue>115.00</AmountDue>"
            "<RefNumber>B-77</RefNumber><Memo>BILL/2026/00003</Memo><IsPaid>false</IsPaid>"
            "<ExpenseLineRet><TxnLineID>1</TxnLineID><AccountRef><ListID>A9</ListID>"
            "</AccountRef><Amount>80.00</Amount><TaxAmount>10.40</TaxAmount><Memo>Paper</Memo>"
            "<SalesTaxCodeRef><ListID>H</ListID></SalesTaxCodeRef></ExpenseLineRet>"
            "<ItemGroupLineRet><TxnLineID>2</TxnLineID><ItemLineRet><TxnLineID>3</TxnLineID>"
            "<ItemRef><ListID>I2</ListID></ItemRef><Desc>Toner</Desc><Quantity>2</Quantity>"
            "<Cost>10.00</Cost><Amount>20.00</Amount><TaxAmount>4.60</TaxAmount>"
            "</ItemLineRet></ItemGroupLineRet><OpenAmount>115.00</OpenAmount></BillRet>")
    (change,) = parse_pull("Bill", rs("BillQuery", bill), COMPANY).changes
    record = change.record
    assert (change.remote_type, record.kind, record.party_id, record.number) == (
        "bill", "bill", "V1", "B-77")
    assert (record.amount_total, record.amount_tax, record.amount_untaxed, record.balance) == (
        Decimal("115.00"), Decimal("15.00"), Decimal("100.00"), Decimal("115.00"))
    assert [(l.description, l.account_id, l.item_id, l.unit_price, l.amount, l.tax_amount)
            for l in record.lines] == [
        ("Paper", "A9", None, None, Decimal("80.00"), Decimal("10.40")),
        ("Toner", None, "I2", Decimal("10.00"), Decimal("20.00"), Decimal("4.60"))]
    credit = ("<VendorCreditRet><TxnID>16-1</TxnID><TimeCreated>2026-12-01T10:00:00-05:00"
              "</TimeCreated><TimeModified>2026-12-01T10:00:00-05:00</TimeModified>"
              "<EditSequence>4</EditSequence><VendorRef><ListID>V1</ListID></VendorRef>"
              "<TxnDate>2026-12-01</TxnDate><CreditAmount>30.00</CreditAmount>"
              "<ExpenseLineRet><TxnLineID>1</TxnLineID><AccountRef><ListID>A9</ListID>"
              "</AccountRef><Amount>30.00</Amount></ExpenseLineRet>"
              "<OpenAmount>10.00</OpenAmount></VendorCreditRet>")
    (change,) = parse_pull("VendorCredit", rs("VendorCreditQuery", credit), COMPANY).changes
    assert (change.remote_type, change.record.amount_total, change.record.amount_tax,
            change.record.balance) == ("vendor_credit", Decimal("30.00"), Decimal("0"),
                                       Decimal("10.00"))


def test_a_credit_memo_has_its_own_total():
    ret = ("<CreditMemoRet><TxnID>30-1</TxnID><TimeCreated>2026-12-01T10:00:00-05:00"
           "</TimeCreated><TimeModified>2026-12-01T10:00:00-05:00</TimeModified>"
           "<EditSequence>9</EditSequence><CustomerRef><ListID>C1</ListID></CustomerRef>"
           "<TxnDate>2026-12-01</TxnDate><RefNumber>RINV26001</RefNumber>"
           "<Subtotal>50.00</Subtotal><SalesTaxTotal>4.13</SalesTaxTotal>"
           "<TotalAmount>54.13</TotalAmount><CreditRemaining>54.13</CreditRemaining>"
           "</CreditMemoRet>")
    (change,) = parse_pull("CreditMemo", rs("CreditMemoQuery", ret), COMPANY).changes
    assert (change.remote_type, change.operation, change.record.amount_total,
            change.record.amount_untaxed, change.record.balance) == (
        "credit_note", "create", Decimal("54.13"), Decimal("50.00"), Decimal("54.13"))


def test_deletions_are_deletes_of_their_kind_carrying_their_id():
    rets = "".join(
        "<TxnDeletedRet><TxnDelType>%s</TxnDelType><TxnID>%s</TxnID>"
        "<TimeCreated>2026-11-30T09:00:00-05:00</TimeCreated><TimeDeleted>%s</TimeDeleted>"
        "%s</TxnDeletedRet>" % entry for entry in (
            ("ReceivePayment", "12-1", "2026-12-01T10:02:00-05:00", "<RefNumber>1001</RefNumber>"),
            ("JournalEntry", "40-1", "2026-12-01T10:01:00-05:00", ""),
            ("Estimate", "50-1", "2026-12-01T10:09:00-05:00", ""),  # not ours: left out
            ("Invoice", "8-1", "2026-12-01T10:03:00-05:00", "")))
    page = parse_pull("TxnDeleted", rs("TxnDeletedQuery", rets), COMPANY)
    assert [(c.remote_type, c.remote_id, c.operation, c.pull_type) for c in page.changes] == [
        ("journal_entry", "40-1", "delete", "TxnDeleted"),
        ("customer_payment", "12-1", "delete", "TxnDeleted"),
        ("invoice", "8-1", "delete", "TxnDeleted")]  # oldest first
    journal, payment, invoice = (c.record for c in page.changes)
    assert isinstance(journal, IncomingJournalEntry) and journal.status == "deleted"
    assert isinstance(payment, IncomingPayment) and (payment.kind, payment.status) == (
        "customer_payment", "deleted")
    assert isinstance(invoice, IncomingDocument) and invoice.status == "deleted"
    assert page.changes[1].data == {"entity": "ReceivePayment", "status": "deleted",
                                    "number": "1001",
                                    "time_deleted": "2026-12-01T10:02:00-05:00",
                                    "time_created": "2026-11-30T09:00:00-05:00"}
    assert page.changes[1].occurred_at == datetime(2026, 12, 1, 15, 2)
    # the greatest TimeDeleted of the page, an Estimate's too: it was read
    assert page.cursor == "2026-12-01T10:09:00-05:00"


def test_nothing_found_is_an_empty_page_keeping_the_cursor():
    page = parse_pull("Invoice", rs("InvoiceQuery", code=1, message="A query request did not "
                                    "find a matching object in QuickBooks"), COMPANY)
    assert (page.changes, page.cursor, page.status_code, page.more) == ([], None, 1, False)


def test_an_error_status_is_an_empty_page_that_says_it():
    page = parse_pull("ReceivePayment", rs("ReceivePaymentQuery", code=3391,
                                           message="The iterator is invalid"), COMPANY)
    assert (page.changes, page.cursor, page.status_code, page.status_message) == (
        [], None, 3391, "The iterator is invalid")
    page = parse_pull("Invoice", rs("BillQuery", invoice_ret()), COMPANY)
    assert (page.changes, page.status_code) == ([], None)
    assert "InvoiceQueryRs" in page.status_message


def test_a_warning_with_records_is_read():
    page = parse_pull("Invoice", rs("InvoiceQuery", invoice_ret(), code=530,
                                    message="warning"), COMPANY)
    assert len(page.changes) == 1 and page.status_code == 530


@pytest.mark.parametrize("raw", ["", "not xml", "<html><body>proxy</body></html>", b"\xff\xfe"])
def test_a_response_that_is_not_qbxml_is_a_provider_response_error(raw):
    with pytest.raises(ProviderResponseError):
        parse_pull("Invoice", raw, COMPANY)


def test_a_page_of_an_iteration_says_there_is_more():
    page = parse_pull("Invoice", rs("InvoiceQuery", invoice_ret(), iteratorID="{it}",
                                    iteratorRemainingCount="3"), COMPANY)
    assert (page.iterator_id, page.remaining, page.more) == ("{it}", 3, True)
    last = parse_pull("Invoice", rs("InvoiceQuery", invoice_ret(), iteratorID="{it}",
                                    iteratorRemainingCount="0"), COMPANY)
    assert last.more is False


def test_the_cursor_is_the_latest_local_time_as_quickbooks_wrote_it():
    rets = (invoice_ret(txn_id="1-1", modified="2026-07-01T10:30:00-04:00")
            + invoice_ret(txn_id="2-1", modified="2026-07-01T10:00:00-05:00")  # a wrong offset
            + invoice_ret(txn_id="3-1", modified="2026-07-01T09:00:00-04:00"))
    page = parse_pull("Invoice", rs("InvoiceQuery", rets), COMPANY)
    assert page.cursor == "2026-07-01T10:30:00-04:00"
    assert [c.remote_id for c in page.changes] == ["3-1", "1-1", "2-1"]  # by UTC time
    assert latest_cursor(None, "2026-12-01T10:00:00-05:00", "bad",
                         "2026-12-01T10:00:02-05:00") == "2026-12-01T10:00:02-05:00"
    assert latest_cursor() is None and latest_cursor(None) is None
    assert QuickBooksDesktopAdapter.latest_cursor("2026-12-01T10:00:00-05:00") == \
        "2026-12-01T10:00:00-05:00"


def test_a_ret_without_a_txn_id_is_left_out_and_bad_values_are_none():
    rets = ("<InvoiceRet><TimeModified>2026-12-01T10:00:00-05:00</TimeModified></InvoiceRet>"
            + invoice_ret(subtotal="lots").replace("<TxnDate>2026-12-01</TxnDate>",
                                                   "<TxnDate>someday</TxnDate>"))
    (change,) = parse_pull("Invoice", rs("InvoiceQuery", rets), COMPANY).changes
    assert (change.record.date, change.record.amount_total, change.record.amount_untaxed) == (
        None, None, None)


# -- through the sandbox company file -------------------------------------------------------------

def envelope(body):
    return ('<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML>'
            '<QBXMLMsgsRq onError="stopOnError">%s</QBXMLMsgsRq></QBXML>' % body)


def ret_of(company, body):
    """Send one Add; the Ret it answered (as an element)."""
    root = etree.fromstring(company.handle(envelope(body)).split("?>", 1)[1].encode("utf-8"))
    (rs_element,) = root.find("QBXMLMsgsRs")
    assert rs_element.get("statusCode") == "0", rs_element.get("statusMessage")
    return rs_element[0]


def add_invoice(company, customer="Acme Corporation", quantity="4", ref=""):
    ret = ret_of(company, (
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>%s</FullName></CustomerRef>"
        "<TxnDate>2026-12-01</TxnDate>%s<Memo>INV/2026/00001</Memo>"
        "<InvoiceLineAdd><ItemRef><FullName>Widget</FullName></ItemRef>"
        "<Quantity>%s</Quantity></InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>")
        % (customer, "<RefNumber>%s</RefNumber>" % ref if ref else "", quantity))
    return ret.findtext("TxnID")


def receive(company, invoice_id, amount="108.25", customer="Acme Corporation"):
    ret = ret_of(company, (
        "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><FullName>%s</FullName>"
        "</CustomerRef><TxnDate>2026-12-02</TxnDate><RefNumber>1001</RefNumber>"
        "<TotalAmount>%s</TotalAmount><Memo>Check 1001</Memo>"
        "<DepositToAccountRef><FullName>Checking</FullName></DepositToAccountRef>"
        "<AppliedToTxnAdd><TxnID>%s</TxnID><PaymentAmount>%s</PaymentAmount>"
        "</AppliedToTxnAdd></ReceivePaymentAdd></ReceivePaymentAddRq>")
        % (customer, amount, invoice_id, amount))
    return ret.findtext("TxnID")


def read(company, pull_type, cursor=None, since=None, max_returned=100):
    """Every page of one pull, iterator and all: (changes, the greatest cursor, pages)."""
    qbd = adapter()
    changes, cursors, pages, iterator = [], [], 0, None
    while True:
        page = qbd.parse_pull(pull_type, company.handle(qbd.pull_request(
            pull_type, cursor, iterator, max_returned, since=since)), COMPANY)
        pages += 1
        assert page.status_code in (0, 1), page.status_message
        changes += page.changes
        cursors.append(page.cursor)
        if not page.more:
            return changes, latest_cursor(*cursors), pages
        iterator = page.iterator_id


@pytest.fixture
def company():
    return CompanyFile("US", "Test Co", clock=Clock(START.replace(tzinfo=COMPANY_TZ)))


def test_an_invoice_its_payment_the_payment_deleted_and_the_invoice_voided(company):
    invoice_id = add_invoice(company)
    changes, invoice_cursor, _pages = read(company, "Invoice")
    (change,) = changes
    assert (change.remote_type, change.remote_id, change.operation) == (
        "invoice", invoice_id, "create")
    assert (change.record.amount_untaxed, change.record.amount_tax,
            change.record.amount_total, change.record.balance) == (
        Decimal("100.00"), Decimal("8.25"), Decimal("108.25"), Decimal("108.25"))
    assert invoice_cursor == "2026-12-01T10:00:00-05:00"
    assert change.occurred_at == datetime(2026, 12, 1, 15, 0)

    company.clock.advance(60)
    payment_id = receive(company, invoice_id)
    changes, payment_cursor, _pages = read(company, "ReceivePayment")
    (change,) = changes
    record = change.record
    customer = company.records("Customer")[0]
    checking = next(a for a in company.records("Account") if a["Name"] == "Checking")
    assert (change.remote_type, change.remote_id, change.operation) == (
        "customer_payment", payment_id, "create")
    assert (record.party_id, record.account_id, record.amount, record.date, record.number,
            record.reference, record.remote_version) == (
        customer["ListID"], checking["ListID"], Decimal("108.25"), date(2026, 12, 2), "1001",
        "Check 1001", company.record("ReceivePayment", payment_id)["EditSequence"])
    assert [(a.document_kind, a.document_id, a.amount) for a in record.allocations] == [
        ("invoice", invoice_id, Decimal("108.25"))]
    assert payment_cursor == "2026-12-01T10:01:00-05:00"
    # the payment moved the invoice's balance: QuickBooks modified it
    (change,) = read(company, "Invoice", invoice_cursor)[0]
    assert (change.operation, change.record.balance) == ("update", Decimal("0.00"))
    invoice_cursor = read(company, "Invoice", invoice_cursor)[1]
    assert read(company, "Invoice", invoice_cursor)[0] == []  # nothing since

    company.clock.advance(60)
    company.act_as_user("delete", "ReceivePayment", id=payment_id)
    (change,) = read(company, "TxnDeleted")[0]
    assert (change.remote_type, change.remote_id, change.operation, change.record.status) == (
        "customer_payment", payment_id, "delete", "deleted")
    assert change.occurred_at == datetime(2026, 12, 1, 15, 2)
    deleted_cursor = read(company, "TxnDeleted")[1]
    assert deleted_cursor == "2026-12-01T10:02:00-05:00"
    assert read(company, "ReceivePayment", payment_cursor)[0] == []

    company.clock.advance(60)
    company.act_as_user("void", "Invoice", id=invoice_id)
    (change,) = read(company, "Invoice", invoice_cursor)[0]
    assert (change.operation, change.record.status, change.record.amount_total) == (
        "void", "voided", Decimal("0.00"))
    assert change.record.status == "voided"
    assert read(company, "TxnDeleted", deleted_cursor)[0] == []


def test_the_watermark_second_is_not_read_again_the_next_one_is(company):
    invoice_id = add_invoice(company)
    _changes, cursor, _pages = read(company, "Invoice")
    company.clock.advance(1)
    assert read(company, "Invoice", cursor)[0] == []  # 10:00:00 itself is not read again
    company.act_as_user("mod", "Invoice", id=invoice_id, changes={"Memo": "INV/2026/00001: x"})
    (change,) = read(company, "Invoice", cursor)[0]    # 10:00:01: read
    assert (change.remote_id, change.operation) == (invoice_id, "update")
    assert change.data["time_modified"] == "2026-12-01T10:00:01-05:00"


def test_since_is_utc_whatever_the_company_files_offset(company):
    add_invoice(company)                              # 10:00 local, 15:00 UTC
    assert len(read(company, "Invoice", since=datetime(2026, 12, 1, 15, 0, 0))[0]) == 1
    assert read(company, "Invoice", since=datetime(2026, 12, 1, 15, 0, 1))[0] == []


def test_pages_of_an_iteration_are_read_to_the_end(company):
    ids = []
    for number in range(5):
        ids.append(add_invoice(company, ref=str(100 + number)))
        company.clock.advance(10)
    changes, cursor, pages = read(company, "Invoice", max_returned=2)
    assert pages == 3
    assert sorted(c.remote_id for c in changes) == sorted(ids)
    assert cursor == "2026-12-01T10:00:40-05:00"
    first = adapter().parse_pull("Invoice", company.handle(adapter().pull_request(
        "Invoice", max_returned=2)), COMPANY)
    assert (len(first.changes), first.remaining, first.more) == (2, 3, True)
    assert first.cursor == "2026-12-01T10:00:10-05:00"   # of the page only


def test_a_stale_iterator_is_an_empty_page_with_its_status(company):
    add_invoice(company)
    page = adapter().parse_pull("Invoice", company.handle(adapter().pull_request(
        "Invoice", iterator_id="{gone}")), COMPANY)
    assert (page.changes, page.status_code, page.more) == ([], 3391, False)


def test_a_bill_and_its_check_through_the_sandbox(company):
    bill = ret_of(company, (
        "<BillAddRq><BillAdd><VendorRef><FullName>Office Depot</FullName></VendorRef>"
        "<TxnDate>2026-12-01</TxnDate><RefNumber>B-77</RefNumber>"
        "<ExpenseLineAdd><AccountRef><FullName>Cost of Goods Sold</FullName></AccountRef>"
        "<Amount>80.00</Amount><Memo>Paper</Memo></ExpenseLineAdd></BillAdd></BillAddRq>"))
    bill_id = bill.findtext("TxnID")
    company.clock.advance(5)
    check = ret_of(company, (
        "<BillPaymentCheckAddRq><BillPaymentCheckAdd><PayeeEntityRef><FullName>Office Depot"
        "</FullName></PayeeEntityRef><TxnDate>2026-12-02</TxnDate><BankAccountRef><FullName>"
        "Checking</FullName></BankAccountRef><RefNumber>2001</RefNumber><Memo>PBNK1/2026/1"
        "</Memo><AppliedToTxnAdd><TxnID>%s</TxnID><PaymentAmount>30.00</PaymentAmount>"
        "</AppliedToTxnAdd></BillPaymentCheckAdd></BillPaymentCheckAddRq>" % bill_id))
    (change,) = read(company, "BillPaymentCheck")[0]
    vendor = next(v for v in company.records("Vendor") if v["Name"] == "Office Depot")
    assert (change.remote_type, change.remote_id, change.record.party_id,
            change.record.amount) == ("vendor_payment", check.findtext("TxnID"),
                                      vendor["ListID"], Decimal("30.00"))
    assert [(a.document_kind, a.document_id, a.amount) for a in change.record.allocations] == [
        ("bill", bill_id, Decimal("30.00"))]
    (change,) = read(company, "Bill")[0]
    assert (change.record.amount_total, change.record.balance, change.record.amount_tax) == (
        Decimal("80.00"), Decimal("50.00"), Decimal("0"))
    assert change.record.lines[0].description == "Paper"


def test_a_payment_the_adapter_planned_is_read_back_as_ours(company):
    """What the adapter writes comes back with the EditSequence its WriteResult stored."""
    invoice_id = add_invoice(company)
    customer = company.records("Customer")[0]
    qbd = adapter()
    payment = Payment(key="p1", kind="customer_payment", number="PBNK1/2026/00007",
                      date=date(2026, 12, 2), party=Ref(customer["ListID"]),
                      amount=Decimal("108.25"), currency="USD", account=Ref(None, "Checking"),
                      allocations=[Allocation(document=Ref(invoice_id), amount=Decimal("108.25"),
                                              document_kind="invoice")])
    requests, result = qbd.plan([payment]), None
    while requests:  # a look-up by number first, then the add
        request = requests.pop(0)
        (result,), follow_ups = qbd.interpret(request, Answer(
            key=request.key, raw=company.handle(request.body)))
        requests += follow_ups
    assert result.ok, result
    (change,) = read(company, "ReceivePayment")[0]
    assert (change.remote_id, change.record.remote_version, change.record.number) == (
        result.remote_id, result.remote_version, "PBNK1/2026/00007")
    assert change.occurred_at == result.remote_updated_at
    assert change.record.reference == "PBNK1/2026/00007"


# -- against the schema ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(FOLDER / "qbxmlops130.xsd")))


@needs_schema
@pytest.mark.parametrize("pull_type", PULL_TYPES)
@pytest.mark.parametrize("criteria", [
    {}, {"cursor": "2026-12-01T10:00:00-05:00"}, {"cursor": "2026-12-01T10:00:00"},
    {"since": datetime(2026, 12, 1, 15, 0)},
    {"cursor": "2026-12-01T10:00:00-05:00", "iterator_id": "{0D2F-11}", "max_returned": 2},
])
def test_every_pull_request_validates(schema, pull_type, criteria):
    if pull_type == "TxnDeleted" and "iterator_id" in criteria:
        criteria = dict(criteria, iterator_id=None)
    body = adapter().pull_request(pull_type, request_id="12", **criteria)
    document = etree.fromstring(body.split("?>", 2)[-1].strip().encode("utf-8"))
    if not schema.validate(document):
        raise AssertionError("%s\n%s" % (schema.error_log, body))

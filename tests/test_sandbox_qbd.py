"""Odoo-free tests of the QuickBooks Desktop stand-in (``provider_sandbox.qbd``) and of the
Web Connector client (``provider_sandbox.qbwc``): the company file's rules and status codes,
the qbXML schema on requests and answers (skipped, saying so, without the specs folder), and
the client's SOAP conversation against a small fake application server started here."""
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lxml import etree

from provider_sandbox import qbd_xml
from provider_sandbox.qbd import PARSE_HRESULT, Clock, CompanyFile, QBXMLError
from provider_sandbox.qbwc import QWCError, WebConnector, main, read_qwc

SPECS = qbd_xml.schema() is not None
needs_specs = pytest.mark.skipif(
    not SPECS, reason="qbXML schema not found at %s (set ACCOUNTING_SYNC_SPECS to the "
                      "shared/specs folder to run the schema tests)" % qbd_xml.specs_dir())
NS = "http://developer.intuit.com/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


# ---------------------------------------------------------------------------- helpers
def qbxml(body, on_error="stopOnError", version="13.0"):
    return ('<?xml version="1.0" encoding="utf-8"?><?qbxml version="%s"?><QBXML>'
            '<QBXMLMsgsRq onError="%s">%s</QBXMLMsgsRq></QBXML>' % (version, on_error, body))


def ask(company, body, on_error="stopOnError", session=None):
    """Send requests; answer [(Rs element)] with the answer checked against the schema."""
    answer = company.handle(qbxml(body, on_error), session)
    if SPECS:
        assert qbd_xml.validate(answer) is None, qbd_xml.validate(answer)
    return list(qbd_xml.parse(answer).find("QBXMLMsgsRs"))


def one(company, body, **kw):
    (rs,) = ask(company, body, **kw)
    return rs


def ref(tag, name):
    return "<%s><FullName>%s</FullName></%s>" % (tag, name, tag)


def customer_add(name, extra=""):
    return ("<CustomerAddRq requestID=\"1\"><CustomerAdd><Name>%s</Name>%s</CustomerAdd>"
            "</CustomerAddRq>" % (name, extra))


def invoice_add(customer="Acme Corporation", lines=(("Widget", "4", None, "Tax"),),
                ref_number="", extra=""):
    xml = ""
    for item, quantity, amount, code in lines:
        xml += "<InvoiceLineAdd>%s%s%s%s</InvoiceLineAdd>" % (
            ref("ItemRef", item), "<Quantity>%s</Quantity>" % quantity if quantity else "",
            "<Amount>%s</Amount>" % amount if amount else "",
            ref("SalesTaxCodeRef", code) if code else "")
    head = ref("CustomerRef", customer) + "<TxnDate>2026-12-01</TxnDate>" + \
        ("<RefNumber>%s</RefNumber>" % ref_number if ref_number else "")
    return ("<InvoiceAddRq requestID=\"2\"><InvoiceAdd>%s%s%s</InvoiceAdd></InvoiceAddRq>"
            % (head, extra, xml))


def status(rs):
    return int(rs.get("statusCode"))


def ret(rs):
    return qbd_xml.element_to_dict(rs[0])


@pytest.fixture
def company():
    return CompanyFile("US", "Test Co", clock=Clock(Clock().now().replace(
        year=2026, month=12, day=1, hour=10, minute=0, second=0)))


# ---------------------------------------------------------------------------- company file
def test_seed_lists_and_identifiers(company):
    accounts = {a["Name"]: a for a in company.records("Account")}
    for name in ("Checking", "Accounts Receivable", "Accounts Payable", "Sales", "Services",
                 "Cost of Goods Sold", "Opening Balance Equity"):
        assert name in accounts
    assert accounts["Checking"]["AccountType"] == "Bank"
    assert accounts["Checking"]["AccountNumber"] == "1000"
    codes = {c["Name"]: c["IsTaxable"] for c in company.records("SalesTaxCode")}
    assert codes == {"Tax": "true", "Non": "false"}
    (tax,) = company.records("ItemSalesTax")
    assert (tax["Name"], tax["TaxRate"]) == ("State Tax", "8.25")
    assert [t["Name"] for t in company.records("StandardTerms")][0] == "Net 30"
    customer = company.records("Customer")[0]
    assert re.fullmatch(r"[0-9A-F]{8}-\d{10}", customer["ListID"])
    assert customer["EditSequence"].isdigit()
    assert customer["TimeCreated"] == "2026-12-01T10:00:00-05:00"
    assert {c["Name"] for c in CompanyFile("CA").records("SalesTaxCode")} >= {"G", "H", "E", "Z"}
    uk = {c["Name"]: c for c in CompanyFile("UK").records("SalesTaxCode")}
    assert set(uk) == {"S", "R", "Z", "E"}
    with pytest.raises(ValueError):
        CompanyFile("FR")


def test_add_and_name_in_use_across_name_lists(company):
    rs = one(company, customer_add("Zed Co", "<CompanyName>Zed Co</CompanyName>"))
    assert status(rs) == 0 and rs.get("requestID") == "1"
    added = ret(rs)
    assert re.fullmatch(r"[0-9A-F]+-\d+", added["ListID"]) and added["IsActive"] == "true"
    assert company.record("Customer", added["ListID"])["CompanyName"] == "Zed Co"
    # the name space is shared by customers, vendors, employees and other names
    for request in (customer_add("zed co"),
                    "<VendorAddRq><VendorAdd><Name>ZED CO</Name></VendorAdd></VendorAddRq>",
                    customer_add("Jane Doe"), customer_add("office depot")):
        rs = one(company, request)
        assert status(rs) == 3100 and rs.get("statusSeverity") == "Error"
        assert "of the list element is already in use." in rs.get("statusMessage")
    assert len([c for c in company.records("Customer") if c["Name"].lower() == "zed co"]) == 1


def test_mod_edit_sequence_and_inactivation(company):
    customer = company.records("Customer")[0]
    stale = customer["EditSequence"]
    company.clock.advance(60)
    rs = one(company, "<CustomerModRq><CustomerMod><ListID>%s</ListID><EditSequence>%s"
                      "</EditSequence><Phone>555-0100</Phone></CustomerMod></CustomerModRq>"
             % (customer["ListID"], stale))
    assert status(rs) == 0
    modified = ret(rs)
    assert modified["EditSequence"] != stale and modified["Phone"] == "555-0100"
    assert modified["TimeModified"] == "2026-12-01T10:01:00-05:00"
    rs = one(company, "<CustomerModRq><CustomerMod><ListID>%s</ListID><EditSequence>%s"
                      "</EditSequence><Phone>1</Phone></CustomerMod></CustomerModRq>"
             % (customer["ListID"], stale))
    assert status(rs) == 3200
    assert rs.get("statusMessage") == 'The provided edit sequence "%s" is out-of-date.' % stale
    rs = one(company, "<CustomerModRq><CustomerMod><ListID>80000999-1</ListID><EditSequence>1"
                      "</EditSequence></CustomerMod></CustomerModRq>")
    assert status(rs) == 3120 and '"80000999-1"' in rs.get("statusMessage")
    rs = one(company, "<CustomerModRq><CustomerMod><ListID>%s</ListID><EditSequence>%s"
                      "</EditSequence><IsActive>false</IsActive></CustomerMod></CustomerModRq>"
             % (customer["ListID"], modified["EditSequence"]))
    assert status(rs) == 0
    active = one(company, "<CustomerQueryRq/>")
    assert customer["ListID"] not in [r.findtext("ListID") for r in active]
    everyone = one(company, "<CustomerQueryRq><ActiveStatus>All</ActiveStatus></CustomerQueryRq>")
    assert customer["ListID"] in [r.findtext("ListID") for r in everyone]


def test_invalid_references_3140(company):
    rs = one(company, invoice_add(customer="Nobody Inc"))
    assert status(rs) == 3140
    assert rs.get("statusMessage").startswith(
        'There is an invalid reference to QuickBooks Customer "Nobody Inc" in the Invoice.')
    rs = one(company, invoice_add(lines=(("Gizmo", "1", None, None),)))
    assert status(rs) == 3140 and 'Item "Gizmo"' in rs.get("statusMessage")
    rs = one(company, invoice_add(lines=(("Widget", "1", None, "Zero"),)))
    assert status(rs) == 3140 and "Sales Tax Code" in rs.get("statusMessage")
    assert company.records("Invoice") == []
    # a reference by ListID works as well as by FullName
    acme = company.records("Customer")[0]["ListID"]
    rs = one(company, invoice_add().replace("<FullName>Acme Corporation</FullName>",
                                            "<ListID>%s</ListID>" % acme))
    assert status(rs) == 0 and ret(rs)["CustomerRef"]["FullName"] == "Acme Corporation"


def test_us_sales_tax_totals(company):
    rs = one(company, invoice_add(lines=(("Widget", "4", None, "Tax"),
                                         ("Consulting", None, "200.00", "Non")),
                                  ref_number="A-1"))
    assert status(rs) == 0
    invoice = ret(rs)
    assert invoice["Subtotal"] == "300.00"  # 4 × 25.00 + 200.00
    assert invoice["ItemSalesTaxRef"]["FullName"] == "State Tax"
    assert invoice["SalesTaxPercentage"] == "8.25"
    assert invoice["SalesTaxTotal"] == "8.25"  # 8.25 % of the taxable 100.00
    assert invoice["BalanceRemaining"] == "308.25" and invoice["IsPaid"] == "false"
    assert invoice["DueDate"] == "2026-12-31"  # the customer's Net 30
    lines = invoice["InvoiceLineRet"]
    assert [l["Amount"] for l in lines] == ["100.00", "200.00"]
    assert lines[0]["Rate"] == "25.00" and len({l["TxnLineID"] for l in lines}) == 2
    assert invoice["TxnNumber"] == "1" and invoice["RefNumber"] == "A-1"
    # no RefNumber given: QuickBooks numbers it
    assert ret(one(company, invoice_add()))["RefNumber"] == "1"
    assert company.records("Customer")[0]["Balance"] == "416.50"


def _pay(company, invoice, amount, total=None, customer="Acme Corporation"):
    return one(company, "<ReceivePaymentAddRq><ReceivePaymentAdd>%s<TotalAmount>%s</TotalAmount>"
                        "<AppliedToTxnAdd><TxnID>%s</TxnID><PaymentAmount>%s</PaymentAmount>"
                        "</AppliedToTxnAdd></ReceivePaymentAdd></ReceivePaymentAddRq>"
               % (ref("CustomerRef", customer), total or amount, invoice["TxnID"], amount))


def test_payments_reduce_balances_and_cannot_exceed_due(company):
    invoice = ret(one(company, invoice_add()))  # 100.00 + 8.25
    rs = _pay(company, invoice, "108.26")
    assert status(rs) == 3210
    assert rs.get("statusMessage") == "You cannot pay more than the amount due."
    assert company.records("ReceivePayment") == []
    rs = _pay(company, invoice, "50.00")
    assert status(rs) == 0
    payment = ret(rs)
    assert payment["TotalAmount"] == "50.00" and payment["UnusedPayment"] == "0.00"
    (applied,) = payment["AppliedToTxnRet"]
    assert (applied["TxnID"], applied["TxnType"], applied["Amount"]) == \
        (invoice["TxnID"], "Invoice", "50.00")
    assert applied["BalanceRemaining"] == "58.25"
    stored = company.record("Invoice", invoice["TxnID"])
    assert stored["BalanceRemaining"] == "58.25" and stored["AppliedAmount"] == "-50.00"
    assert stored["EditSequence"] != invoice["EditSequence"]  # a payment modifies the invoice
    assert status(_pay(company, invoice, "58.25")) == 0
    assert company.record("Invoice", invoice["TxnID"])["IsPaid"] == "true"
    # a payment applied to another customer's invoice: invalid reference
    rs = _pay(company, invoice, "1.00", customer="Bright Ideas")
    assert status(rs) == 3140


def test_bill_and_bill_payment_check(company):
    rs = one(company, "<BillAddRq><BillAdd>%s<RefNumber>B-7</RefNumber><ExpenseLineAdd>%s"
                      "<Amount>40.00</Amount></ExpenseLineAdd><ItemLineAdd>%s<Quantity>2"
                      "</Quantity><Cost>10.00</Cost></ItemLineAdd></BillAdd></BillAddRq>"
             % (ref("VendorRef", "Office Depot"), ref("AccountRef", "Office Supplies"),
                ref("ItemRef", "Widget")))
    assert status(rs) == 0
    bill = ret(rs)
    assert bill["AmountDue"] == "60.00" and bill["OpenAmount"] == "60.00"
    assert bill["IsPaid"] == "false"
    rs = one(company, "<BillPaymentCheckAddRq><BillPaymentCheckAdd>%s%s<RefNumber>101</RefNumber>"
                      "<AppliedToTxnAdd><TxnID>%s</TxnID><PaymentAmount>60.00</PaymentAmount>"
                      "</AppliedToTxnAdd></BillPaymentCheckAdd></BillPaymentCheckAddRq>"
             % (ref("PayeeEntityRef", "Office Depot"), ref("BankAccountRef", "Checking"),
                bill["TxnID"]))
    assert status(rs) == 0 and ret(rs)["Amount"] == "60.00"
    paid = company.record("Bill", bill["TxnID"])
    assert paid["IsPaid"] == "true" and paid["OpenAmount"] == "0.00"
    check = ret(rs)
    rs = one(company, "<TxnVoidRq><TxnVoidType>BillPaymentCheck</TxnVoidType><TxnID>%s</TxnID>"
                      "</TxnVoidRq>" % check["TxnID"])
    assert status(rs) == 0
    assert company.record("Bill", bill["TxnID"])["OpenAmount"] == "60.00"


def test_invoice_mod_lines(company):
    invoice = ret(one(company, invoice_add(lines=(("Widget", "1", None, "Tax"),
                                                  ("Consulting", "1", None, "Non")))))
    first, second = invoice["InvoiceLineRet"]
    rs = one(company, "<InvoiceModRq><InvoiceMod><TxnID>%s</TxnID><EditSequence>%s"
                      "</EditSequence><Memo>changed</Memo><InvoiceLineMod><TxnLineID>%s"
                      "</TxnLineID><Quantity>3</Quantity></InvoiceLineMod><InvoiceLineMod>"
                      "<TxnLineID>-1</TxnLineID>%s<Amount>10.00</Amount></InvoiceLineMod>"
                      "</InvoiceMod></InvoiceModRq>"
             % (invoice["TxnID"], invoice["EditSequence"], first["TxnLineID"],
                ref("ItemRef", "Consulting")))
    assert status(rs) == 0
    modified = ret(rs)
    lines = modified["InvoiceLineRet"]
    assert [l["TxnLineID"] for l in lines][0] == first["TxnLineID"]
    assert second["TxnLineID"] not in [l["TxnLineID"] for l in lines]  # left out: deleted
    assert [l["Amount"] for l in lines] == ["75.00", "10.00"]
    assert modified["Memo"] == "changed" and modified["Subtotal"] == "85.00"
    # a Mod without lines keeps them
    rs = one(company, "<InvoiceModRq><InvoiceMod><TxnID>%s</TxnID><EditSequence>%s"
                      "</EditSequence><Memo>again</Memo></InvoiceMod></InvoiceModRq>"
             % (invoice["TxnID"], modified["EditSequence"]))
    assert len(ret(rs)["InvoiceLineRet"]) == 2
    rs = one(company, "<InvoiceModRq><InvoiceMod><TxnID>%s</TxnID><EditSequence>%s"
                      "</EditSequence></InvoiceMod></InvoiceModRq>"
             % (invoice["TxnID"], invoice["EditSequence"]))
    assert status(rs) == 3200


def test_void_and_delete(company):
    invoice = ret(one(company, invoice_add(extra="<Memo>first</Memo>")))
    assert status(_pay(company, invoice, "8.25")) == 0
    rs = one(company, "<TxnVoidRq requestID=\"v\"><TxnVoidType>Invoice</TxnVoidType><TxnID>%s"
                      "</TxnID></TxnVoidRq>" % invoice["TxnID"])
    assert status(rs) == 0 and rs.findtext("TxnID") == invoice["TxnID"]
    voided = company.record("Invoice", invoice["TxnID"])
    assert voided["Memo"] == "VOID: first"
    assert (voided["Subtotal"], voided["SalesTaxTotal"], voided["BalanceRemaining"]) == \
        ("0.00", "0.00", "0.00")
    assert voided["InvoiceLineRet"][0]["Amount"] == "0.00"
    payment = company.records("ReceivePayment")[0]
    assert payment["AppliedToTxnRet"] == [] and payment["UnusedPayment"] == "8.25"
    other = ret(one(company, invoice_add()))
    rs = one(company, "<TxnDelRq><TxnDelType>Invoice</TxnDelType><TxnID>%s</TxnID></TxnDelRq>"
             % other["TxnID"])
    assert status(rs) == 0 and rs.findtext("TimeDeleted")
    assert company.record("Invoice", other["TxnID"]) is None
    rs = one(company, "<InvoiceQueryRq><TxnID>%s</TxnID></InvoiceQueryRq>" % other["TxnID"])
    assert status(rs) == 500 and len(rs) == 0
    rs = one(company, "<TxnDeletedQueryRq><TxnDelType>Invoice</TxnDelType></TxnDeletedQueryRq>")
    assert [r.findtext("TxnID") for r in rs] == [other["TxnID"]]
    rs = one(company, "<TxnDelRq><TxnDelType>Invoice</TxnDelType><TxnID>%s</TxnID></TxnDelRq>"
             % other["TxnID"])
    assert status(rs) == 3120
    # list deletes: refused while in use, remembered for ListDeletedQuery
    rs = one(company, "<ListDelRq><ListDelType>Customer</ListDelType><ListID>%s</ListID>"
                      "</ListDelRq>" % invoice["CustomerRef"]["ListID"])
    assert status(rs) == 3170
    spare = company.records("Customer")[1]["ListID"]
    rs = one(company, "<ListDelRq><ListDelType>Customer</ListDelType><ListID>%s</ListID>"
                      "</ListDelRq>" % spare)
    assert status(rs) == 0
    rs = one(company, "<ListDeletedQueryRq><ListDelType>Customer</ListDelType>"
                      "</ListDeletedQueryRq>")
    assert rs[0].findtext("FullName") == "Bright Ideas"


def test_transaction_queries(company):
    first = ret(one(company, invoice_add(ref_number="R-1")))
    company.clock.advance(3600)
    second = ret(one(company, invoice_add(customer="Bright Ideas", ref_number="R-2")))
    rs = one(company, "<InvoiceQueryRq><RefNumber>R-2</RefNumber><RefNumber>R-9</RefNumber>"
                      "</InvoiceQueryRq>")
    assert [r.findtext("TxnID") for r in rs] == [second["TxnID"]]
    assert rs[0].find("InvoiceLineRet") is None  # no IncludeLineItems: no lines
    rs = one(company, "<InvoiceQueryRq><RefNumber>R-9</RefNumber></InvoiceQueryRq>")
    assert status(rs) == 1 and rs.get("statusMessage") == \
        "A query request did not find a matching object in QuickBooks"
    rs = one(company, "<InvoiceQueryRq><ModifiedDateRangeFilter><FromModifiedDate>"
                      "2026-12-01T11:00:00-05:00</FromModifiedDate></ModifiedDateRangeFilter>"
                      "<IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq>")
    assert [r.findtext("TxnID") for r in rs] == [second["TxnID"]]  # inclusive
    assert rs[0].find("InvoiceLineRet") is not None
    rs = one(company, "<InvoiceQueryRq><EntityFilter>%s</EntityFilter></InvoiceQueryRq>"
             % "<FullName>Acme Corporation</FullName>")
    assert [r.findtext("TxnID") for r in rs] == [first["TxnID"]]
    rs = one(company, "<InvoiceQueryRq><MaxReturned>1</MaxReturned></InvoiceQueryRq>")
    assert len(rs) == 1
    rs = one(company, "<InvoiceQueryRq><TxnDateRangeFilter><FromTxnDate>2026-12-02"
                      "</FromTxnDate></TxnDateRangeFilter></InvoiceQueryRq>")
    assert status(rs) == 1
    rs = one(company, "<CustomerQueryRq><NameFilter><MatchCriterion>StartsWith</MatchCriterion>"
                      "<Name>bri</Name></NameFilter></CustomerQueryRq>")
    assert [r.findtext("Name") for r in rs] == ["Bright Ideas"]
    rs = one(company, "<ItemQueryRq/>")
    assert {r.tag for r in rs} == {"ItemServiceRet", "ItemNonInventoryRet", "ItemSalesTaxRet"}
    rs = one(company, "<AccountQueryRq><FullName>Checking</FullName><FullName>Nope</FullName>"
                      "</AccountQueryRq>")
    assert status(rs) == 500 and [r.findtext("Name") for r in rs] == ["Checking"]


def test_iterators_live_within_their_session(company):
    for number in range(10):
        company.act_as_user("add", "Customer", {"Name": "Customer %02d" % number})
    session = company.open_session()
    request = ('<CustomerQueryRq requestID="it" iterator="%s"%s><MaxReturned>5</MaxReturned>'
               '</CustomerQueryRq>')
    rs = one(company, request % ("Start", ""), session=session)
    total = len(company.records("Customer"))
    ident = rs.get("iteratorID")
    assert len(rs) == 5 and int(rs.get("iteratorRemainingCount")) == total - 5
    rs = one(company, request % ("Continue", ' iteratorID="%s"' % ident), session=session)
    assert len(rs) == 5 and int(rs.get("iteratorRemainingCount")) == total - 10
    other = company.open_session()
    rs = one(company, request % ("Continue", ' iteratorID="%s"' % ident), session=other)
    assert status(rs) == 3391  # a foreign session's iterator
    company.close_session(session)
    rs = one(company, request % ("Continue", ' iteratorID="%s"' % ident), session=session)
    assert status(rs) == 3391 and ident in rs.get("statusMessage")


def test_stop_on_error_versus_continue_on_error(company):
    body = customer_add("Acme Corporation") + customer_add("New One") + "<VendorQueryRq/>"
    first, second, third = ask(company, body, "stopOnError")
    assert (status(first), status(second), status(third)) == (3100, 3231, 3231)
    assert second.get("statusMessage") == "The request has not been processed."
    assert "New One" not in [c["Name"] for c in company.records("Customer")]
    first, second, third = ask(company, body, "continueOnError")
    assert (status(first), status(second), status(third)) == (3100, 0, 0)
    assert "New One" in [c["Name"] for c in company.records("Customer")]


def test_canadian_and_uk_tax_codes():
    ca = CompanyFile("CA")
    invoice = ret(one(ca, invoice_add(lines=(("Widget", "4", None, "H"),
                                             ("Consulting", "1", None, "E")))))
    assert invoice["Subtotal"] == "200.00" and invoice["SalesTaxTotal"] == "13.00"
    assert invoice["InvoiceLineRet"][0]["TaxAmount"] == "13.00"
    assert "ItemSalesTaxRef" not in invoice
    uk = CompanyFile("UK")
    invoice = ret(one(uk, invoice_add(lines=(("Widget", "4", None, "S"),))))
    assert invoice["SalesTaxTotal"] == "20.00" and invoice["BalanceRemaining"] == "120.00"
    rs = one(uk, invoice_add(extra=ref("ItemSalesTaxRef", "VAT Standard")))
    assert status(rs) == 3250 and '"ItemSalesTaxRef"' in rs.get("statusMessage")
    rs = one(CompanyFile("US"), invoice_add(extra="<IsTaxIncluded>true</IsTaxIncluded>"))
    assert status(rs) == 3250
    host = qbd_xml.parse(uk.hcp_response()).find("QBXMLMsgsRs/HostQueryRs/HostRet")
    assert host.findtext("Country") == "UK"
    assert host.findall("SupportedQBXMLVersion")[-1].text == "13.0"


def test_journal_entry_must_balance(company):
    line = "<Journal%sLine>%s<Amount>%s</Amount></Journal%sLine>"
    rs = one(company, "<JournalEntryAddRq><JournalEntryAdd>%s%s</JournalEntryAdd>"
                      "</JournalEntryAddRq>"
             % (line % ("Debit", ref("AccountRef", "Rent Expense"), "500.00", "Debit"),
                line % ("Credit", ref("AccountRef", "Checking"), "499.00", "Credit")))
    assert status(rs) == 3210 and "not in balance" in rs.get("statusMessage")
    rs = one(company, "<JournalEntryAddRq><JournalEntryAdd>%s%s</JournalEntryAdd>"
                      "</JournalEntryAddRq>"
             % (line % ("Debit", ref("AccountRef", "Rent Expense"), "500", "Debit"),
                line % ("Credit", ref("AccountRef", "Checking"), "500", "Credit")))
    entry = ret(rs)
    assert status(rs) == 0 and entry["JournalDebitLine"][0]["Amount"] == "500.00"


def test_status_faults_and_locks(company):
    customer = company.records("Customer")[0]
    mod = ("<CustomerModRq><CustomerMod><ListID>%s</ListID><EditSequence>%s</EditSequence>"
           "<Phone>1</Phone></CustomerMod></CustomerModRq>")
    company.add_fault("3200", match="CustomerModRq")
    company.add_fault(3180, match="CustomerMod")
    assert status(one(company, "<CustomerQueryRq/>")) == 0  # not matching: untouched
    rs = one(company, mod % (customer["ListID"], customer["EditSequence"]))
    assert status(rs) == 3200
    rs = one(company, mod % (customer["ListID"], customer["EditSequence"]))
    assert status(rs) == 3180 and "modified by another user" in rs.get("statusMessage")
    assert company.record("Customer", customer["ListID"]).get("Phone") is None
    assert status(one(company, mod % (customer["ListID"], customer["EditSequence"]))) == 0
    with pytest.raises(ValueError):
        company.add_fault("teapot")


def test_parse_errors_and_versions(company):
    with pytest.raises(QBXMLError) as error:
        company.handle("<QBXML><QBXMLMsgsRq")
    assert error.value.hresult == PARSE_HRESULT
    with pytest.raises(QBXMLError) as error:
        company.handle(qbxml("<CustomerQueryRq/>", version="16.0"))
    assert "version of QBXML" in error.value.message
    assert status(one(company, "<CustomerQueryRq/>")) == 0


def test_act_as_user_calls_and_records(company):
    customer = company.records("Customer")[0]
    changed = company.act_as_user("mod", "Customer", id=customer["ListID"],
                                  changes={"Phone": "555"})
    assert changed["EditSequence"] != customer["EditSequence"] and changed["Phone"] == "555"
    company.act_as_user("add", "Customer", {"Name": "Walk-in"})
    with pytest.raises(ValueError, match="3100"):
        company.act_as_user("add", "Vendor", {"Name": "walk-in"})
    invoice = ret(one(company, invoice_add()))
    company.act_as_user("delete", "Invoice", id=invoice["TxnID"])
    assert company.records("Invoice") == []
    copy = company.records("Customer")[0]
    copy["Name"] = "mutated"
    assert company.records("Customer")[0]["Name"] == customer["Name"]  # deep copies
    assert company.calls[-1]["types"] == ["InvoiceAddRq"]
    assert company.clock.stamp() == "2026-12-01T10:00:00-05:00"


def test_save_and_load(company, tmp_path):
    invoice = ret(one(company, invoice_add()))
    path = tmp_path / "books.json"
    company.save(path)
    again = CompanyFile.load(path)
    assert again.record("Invoice", invoice["TxnID"]) == company.record("Invoice", invoice["TxnID"])
    second = ret(one(again, invoice_add()))
    assert second["TxnID"] != invoice["TxnID"] and second["RefNumber"] == "2"
    assert json.loads(path.read_text())["country"] == "US"


# ---------------------------------------------------------------------------- schema
@needs_specs
def test_schema_validates_requests_element_order_included():
    good = qbxml(customer_add("Order Co", "<CompanyName>Order Co</CompanyName>"))
    assert qbd_xml.validate(good) is None
    wrong = qbxml("<CustomerAddRq><CustomerAdd><CompanyName>X</CompanyName><Name>X</Name>"
                  "</CustomerAdd></CustomerAddRq>")
    assert "Element 'CompanyName': This element is not expected. Expected is ( Name )" in qbd_xml.validate(wrong)
    too_long = qbxml(invoice_add(ref_number="INV/2026/00001"))
    assert qbd_xml.validate(too_long) is not None  # RefNumber holds 11 characters


@needs_specs
def test_responses_are_schema_valid_for_every_country():
    for country in ("US", "CA", "UK"):
        books = CompanyFile(country)
        assert qbd_xml.validate(books.hcp_response()) is None
        code = {"US": "Tax", "CA": "G", "UK": "S"}[country]
        queries = "".join("<%sQueryRq/>" % kind for kind in (
            "Account", "SalesTaxCode", "ItemSalesTax", "Item", "ItemService",
            "ItemNonInventory", "StandardTerms", "Customer", "Vendor", "Invoice"))
        ask(books, invoice_add(lines=(("Widget", "2", None, code),)) + queries,
            "continueOnError")  # ask() validates each answer


# ---------------------------------------------------------------------------- .qwc
QWC = """<?xml version="1.0"?>
<QBWCXML><AppName>Odoo Sync (test)</AppName><AppID></AppID><AppURL>%s</AppURL>
<AppDescription>test</AppDescription><AppSupport>%s</AppSupport><UserName>qbwc-user</UserName>
<OwnerID>{57F3B9B6-86F1-4fcc-B1FF-966DE1813D20}</OwnerID>
<FileID>{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}</FileID><QBType>QBFS</QBType>
<Scheduler><RunEveryNMinutes>5</RunEveryNMinutes></Scheduler><IsReadOnly>false</IsReadOnly>
</QBWCXML>"""


def test_read_qwc_and_the_https_rule(tmp_path):
    qwc = read_qwc(QWC % ("https://odoo.example.com/accounting_sync/qbwc", "https://x"))
    assert (qwc.app_name, qwc.user_name, qwc.run_every_seconds) == \
        ("Odoo Sync (test)", "qbwc-user", 300)
    assert qwc.owner_id == "{57F3B9B6-86F1-4fcc-B1FF-966DE1813D20}"
    path = tmp_path / "app.qwc"
    path.write_text(QWC % ("http://localhost:8069/accounting_sync/qbwc", ""))
    assert read_qwc(str(path)).app_url.startswith("http://localhost")
    with pytest.raises(QWCError, match="https"):
        read_qwc(QWC % ("http://odoo.example.com/accounting_sync/qbwc", ""))
    with pytest.raises(QWCError, match="AppURL"):
        read_qwc(QWC % ("", ""))


# ---------------------------------------------------------------------------- the client
class FakeApp:
    """The application side of the Web Connector conversation, scripted per test."""

    def __init__(self, requests=(), auth=("TICKET-1", ""), noops=0, endless=None,
                 client_version="", progress_override=None):
        self.queue = list(requests)
        self.auth, self.noops, self.endless = list(auth), noops, endless
        self.client_version, self.progress_override = client_version, progress_override
        self.calls, self.responses, self.errors = [], [], []
        self.total = max(len(self.queue), 1)

    def serverVersion(self):
        return "fake-1.0"

    def clientVersion(self, strVersion):
        return self.client_version

    def authenticate(self, strUserName, strPassword):
        return self.auth if strPassword == "secret" else ["", "nvu"]

    def sendRequestXML(self, **args):
        if self.noops:
            self.noops -= 1
            self.last_error = "NoOp"
            return ""
        if self.endless:
            return self.endless
        if not self.queue:
            self.last_error = "Nothing queued"
            return ""
        return self.queue[0]

    def receiveResponseXML(self, ticket, response, hresult, message):
        self.responses.append({"response": response, "hresult": hresult, "message": message})
        if self.progress_override is not None:
            return self.progress_override
        if self.endless:
            return 50
        if self.queue:
            self.queue.pop(0)
        return 100 if not self.queue else int(100 * (self.total - len(self.queue)) / self.total)

    def getLastError(self, ticket):
        return getattr(self, "last_error", "")

    def connectionError(self, ticket, hresult, message):
        self.errors.append((hresult, message))
        return "done"

    def closeConnection(self, ticket):
        return "Complete!"


class FakeServer:
    """http.server on 127.0.0.1 answering the WSDL's operations from a FakeApp."""

    def __init__(self, app):
        self.app = app
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                operation = etree.fromstring(body).find("{%s}Body" % SOAP)[0]
                method = etree.QName(operation).localname
                args = {etree.QName(c).localname: c.text or "" for c in operation}
                outer.app.calls.append((method, args, self.headers.get("SOAPAction")))
                if method == "sendRequestXML":
                    result = outer.app.sendRequestXML(**args)
                else:
                    result = getattr(outer.app, method)(**args)
                answer = ('<soap:Envelope xmlns:soap="%s"><soap:Body><%sResponse xmlns="%s">'
                          '<%sResult>' % (SOAP, method, NS, method))
                if isinstance(result, list):
                    answer += "".join("<string>%s</string>" % s for s in result)
                else:
                    answer += _escape(str(result))
                answer += "</%sResult></%sResponse></soap:Body></soap:Envelope>" % (method,
                                                                                    method)
                data = answer.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/accounting_sync/qbwc" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def methods(self):
        return [call[0] for call in self.app.calls]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.fixture
def serve():
    servers = []

    def start(app):
        server = FakeServer(app)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


def connector(server, company, **kw):
    return WebConnector(QWC % (server.url, ""), kw.pop("password", "secret"), company, **kw)


ADD_TWO = [qbxml(customer_add("Client One")),
           qbxml(customer_add("Client Two") + customer_add("Client Three"))]


@pytest.mark.parametrize("auth,words", [(["", "nvu"], "not a valid user"),
                                        (["T", "none"], "nothing to do"),
                                        (["T", "busy"], "server busy")])
def test_session_stops_on_nvu_none_busy(serve, company, auth, words):
    server = serve(FakeApp(ADD_TWO, auth=auth))
    report = connector(server, company).run_session()
    assert report.status == auth[1] and words in report.stopped
    assert server.methods() == ["serverVersion", "clientVersion", "authenticate"]
    assert report.close_message is None and report.exchanges == 0
    assert len(company.records("Customer")) == 2


def test_wrong_password_is_nvu(serve, company):
    server = serve(FakeApp(ADD_TWO))
    report = connector(server, company, password="wrong").run_session()
    assert report.status == "nvu" and not report.ok


def test_normal_session_with_two_exchanges(serve, company):
    app = FakeApp(ADD_TWO)
    server = serve(app)
    client = connector(server, company)
    assert client.transport_name == ("zeep" if qbd_xml.wsdl_path() else "requests")
    report = client.run_session()
    assert report.ok and report.stopped == "done", report.describe()
    assert server.methods() == ["serverVersion", "clientVersion", "authenticate",
                                "sendRequestXML", "receiveResponseXML", "sendRequestXML",
                                "receiveResponseXML", "closeConnection"]
    sends = [args for method, args, _ in app.calls if method == "sendRequestXML"]
    assert "<HostRet>" in sends[0]["strHCPResponse"] and sends[1]["strHCPResponse"] == ""
    assert sends[0]["strCompanyFileName"] == company.file_path
    assert (sends[0]["qbXMLCountry"], sends[0]["qbXMLMajorVers"],
            sends[0]["qbXMLMinorVers"]) == ("US", "13", "0")
    assert [c[2] for c in app.calls][0] == '"http://developer.intuit.com/serverVersion"'
    assert report.exchanges == 2 and report.record_counts == [1, 2]
    assert report.requests == {"CustomerAddRq": 3} and report.progress == [50, 100]
    assert report.close_message == "Complete!" and report.ticket == "TICKET-1"
    assert client.last_requests == ADD_TWO
    names = [c["Name"] for c in company.records("Customer")]
    assert {"Client One", "Client Two", "Client Three"} <= set(names)
    answer = qbd_xml.parse(app.responses[1]["response"])
    assert [rs.get("statusCode") for rs in answer.find("QBXMLMsgsRs")] == ["0", "0"]
    assert "2 exchange(s), 3 request(s)" in report.describe()


def test_plain_soap_transport(serve, company):
    server = serve(FakeApp(ADD_TWO))
    client = connector(server, company, use_zeep=False)
    report = client.run_session()
    assert report.ok and client.transport_name == "requests"
    assert server.methods()[-1] == "closeConnection"


def test_noop_then_work(serve, company):
    app = FakeApp(ADD_TWO[:1], noops=2)
    server = serve(app)
    report = connector(server, company).run_session()
    assert report.ok and report.noops == 2 and report.exchanges == 1
    assert server.methods()[3:9] == ["sendRequestXML", "getLastError", "sendRequestXML",
                                     "getLastError", "sendRequestXML", "receiveResponseXML"]


def test_error_from_get_last_error_stops(serve, company):
    app = FakeApp([])
    server = serve(app)
    report = connector(server, company).run_session()
    assert report.last_error == "Nothing queued" and report.close_message == "Complete!"
    assert not report.ok


def test_negative_progress_asks_get_last_error(serve, company):
    app = FakeApp(ADD_TWO, progress_override=-1)
    app.last_error = "could not read the response"
    server = serve(app)
    report = connector(server, company).run_session()
    assert report.progress == [-1] and report.last_error == "could not read the response"
    assert server.methods()[-2:] == ["getLastError", "closeConnection"]


def test_client_version_error_stops(serve, company):
    server = serve(FakeApp(ADD_TWO, client_version="E:upgrade the Web Connector"))
    report = connector(server, company).run_session()
    assert "upgrade" in report.stopped and server.methods() == ["serverVersion",
                                                                 "clientVersion"]


@needs_specs
def test_invalid_request_reports_the_parse_hresult(serve, company):
    wrong = qbxml("<CustomerAddRq><CustomerAdd><CompanyName>X</CompanyName><Name>Bad Order</Name>"
                  "</CustomerAdd></CustomerAddRq>")
    app = FakeApp([wrong])
    server = serve(app)
    report = connector(server, company).run_session()
    (invalid,) = report.invalid_requests
    assert invalid["exchange"] == 1 and "Element 'CompanyName': This element is not expected. Expected is ( Name )" in \
        invalid["error"]
    assert app.responses == [{"response": "", "hresult": "0x80040400", "message":
                              "QuickBooks found an error when parsing the provided XML text "
                              "stream."}]
    assert "Bad Order" not in [c["Name"] for c in company.records("Customer")]
    assert company.calls == []  # never reached the company file


def test_lose_answer_applies_but_reports_an_hresult(serve, company):
    company.add_fault("lose_answer", match="CustomerAddRq")
    app = FakeApp(ADD_TWO[:1])
    server = serve(app)
    report = connector(server, company).run_session()
    assert "Client One" in [c["Name"] for c in company.records("Customer")]
    assert app.responses[0]["response"] == "" and app.responses[0]["hresult"] == "0x80004005"
    assert report.hresults[0]["applied"] is True and not report.ok


def test_hresult_fault_applies_nothing(serve, company):
    company.add_fault("hresult", hresult="0x80040422", message="QuickBooks is busy")
    app = FakeApp(ADD_TWO[:1])
    server = serve(app)
    report = connector(server, company).run_session()
    assert "Client One" not in [c["Name"] for c in company.records("Customer")]
    assert app.responses[0]["hresult"] == "0x80040422"
    assert report.hresults[0]["applied"] is False


def test_connection_error(serve, company):
    company.add_fault("connection_error")
    app = FakeApp(ADD_TWO)
    server = serve(app)
    report = connector(server, company).run_session()
    assert app.errors == [("0x80040408", "Could not start QuickBooks.")]
    assert "receiveResponseXML" not in server.methods()
    assert server.methods()[-2:] == ["connectionError", "closeConnection"]
    assert report.connection_errors[0]["answer"] == "done"
    assert "Client One" not in [c["Name"] for c in company.records("Customer")]


def test_exchange_cap(serve, company):
    server = serve(FakeApp(endless=qbxml("<HostQueryRq/>")))
    report = connector(server, company, max_exchanges=5).run_session()
    assert report.exchanges == 5 and "cap" in report.stopped
    assert report.progress == [50] * 5 and report.close_message == "Complete!"


def test_company_file_mismatch_and_iterators_expire(serve, company):
    start = qbxml('<CustomerQueryRq iterator="Start"><MaxReturned>1</MaxReturned>'
                  '</CustomerQueryRq>')
    app = FakeApp([start], auth=["T", r"C:\Other\file.QBW"])
    server = serve(app)
    report = connector(server, company).run_session()
    assert report.company_file_mismatch == r"C:\Other\file.QBW" and report.ok
    ident = qbd_xml.parse(app.responses[0]["response"]).find(
        "QBXMLMsgsRs/CustomerQueryRs").get("iteratorID")
    later = qbxml('<CustomerQueryRq iterator="Continue" iteratorID="%s"><MaxReturned>1'
                  '</MaxReturned></CustomerQueryRq>' % ident)
    app2 = FakeApp([later])
    report = connector(serve(app2), company).run_session()
    rs = qbd_xml.parse(app2.responses[0]["response"]).find("QBXMLMsgsRs/CustomerQueryRs")
    assert rs.get("statusCode") == "3391"  # the first session's iterator is gone


def test_command_line_keeps_the_books(serve, tmp_path, capsys):
    app = FakeApp([qbxml(customer_add("From CLI"))] * 2)
    server = serve(app)
    qwc = tmp_path / "app.qwc"
    qwc.write_text(QWC % (server.url, ""))
    state = tmp_path / "books.json"
    argv = ["--qwc", str(qwc), "--password", "secret", "--company-file", str(state),
            "--noop-wait", "0"]
    assert main(argv) == 0
    assert "From CLI" in [c["Name"] for c in CompanyFile.load(state).records("Customer")]
    assert main(argv) == 0  # the second run reads the saved books: the name is in use
    out = capsys.readouterr().out
    assert "session 1" in out and "closeConnection: Complete!" in out
    answer = qbd_xml.parse(app.responses[-1]["response"])
    assert answer.find("QBXMLMsgsRs/CustomerAddRs").get("statusCode") == "3100"

"""The QuickBooks Desktop adapter without QuickBooks: plans, hand-written qbXML responses for
every status case, the stored round trip, country rules, lengths, host, lists and .qwc."""
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from accounting_sync.providers import ADAPTERS, get_adapter
from accounting_sync.providers.base import Answer
from accounting_sync.providers.documents import (
    Address, Allocation, Document, JournalEntry, JournalLine, Line, Party, Payment, Product, Ref,
)
from accounting_sync.providers.errors import ProviderResponseError
from accounting_sync.providers.quickbooks_desktop import host as qbd_host
from accounting_sync.providers.quickbooks_desktop import lists as qbd_lists
from accounting_sync.providers.quickbooks_desktop import (
    ACCOUNT, CUSTOMER, ITEM, ITEM_SALES_TAX, SALES_TAX_CODE, TERMS, VENDOR,
    QuickBooksDesktopAdapter, Removal, dump_request, list_request, load_request, parse_host,
    parse_list, qbxml_version_for, qwc, ref_number,
)


def adapter(country="US", **kwargs):
    return get_adapter("quickbooks_desktop", settings={}, country=country, **kwargs)


def party(name="Acme", key="c1", email="ap@acme.example", **kwargs):
    return Party(key=key, kind="customer", name=name, email=email, **kwargs)


def invoice(number="INV/2026/00001", key="i1", find=False, **kwargs):
    values = dict(key=key, kind="invoice", number=number, date=date(2026, 1, 31),
                  party=Ref("C1"), currency="USD",
                  lines=[Line("Work", Decimal("1"), Decimal("100"), Decimal("100"), Ref("A1"),
                              tax=Ref(None, "Tax"), item=Ref("I1"))],
                  amount_untaxed=Decimal("100"), amount_tax=Decimal("8"),
                  amount_total=Decimal("108"), tax_code=Ref("ST1"), find_existing=find)
    values.update(kwargs)
    return Document(**values)


def rs(name, code=0, ret="", request_id="1", message="Status OK", **attrs):
    extra = "".join(' %s="%s"' % item for item in attrs.items())
    return ('<%sRs requestID="%s" statusCode="%s" statusSeverity="%s" statusMessage="%s"%s>'
            '%s</%sRs>' % (name, request_id, code, "Info" if code < 1000 else "Error",
                           escape(message, {'"': "&quot;"}), extra, ret, name))


def response(*parts):
    return ('<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>%s</QBXMLMsgsRs></QBXML>'
            % "".join(parts))


def answer(request, *parts):
    return adapter_for(request).interpret(request, Answer(key=request.key, raw=response(*parts)))


_ADAPTER = {}


def adapter_for(request):
    return _ADAPTER.get(request.key) or adapter()


def customer_ret(list_id="80000001-1", name="Acme", email="ap@acme.example", active="true",
                 seq="1700000002"):
    return ("<CustomerRet><ListID>%s</ListID><TimeModified>2026-01-31T10:00:00-05:00"
            "</TimeModified><EditSequence>%s</EditSequence><Name>%s</Name><FullName>%s"
            "</FullName><IsActive>%s</IsActive><Email>%s</Email></CustomerRet>"
            % (list_id, seq, name, name, active, email))


def body_of(request):
    return etree.fromstring(request.body.encode())


# == capabilities, plan ===========================================================================

def test_capabilities_and_construction():
    caps = QuickBooksDesktopAdapter.CAPABILITIES
    assert ADAPTERS["quickbooks_desktop"] is QuickBooksDesktopAdapter
    assert (caps.code, caps.label, caps.batch_size, caps.queued, caps.credentials,
            caps.item_required_kinds, caps.sandbox_code, caps.settings) == (
        "quickbooks_desktop", "QuickBooks Desktop", 25, True, "password",
        ("invoice", "credit_note"), "qbd", ())
    built = get_adapter("quickbooks_desktop", settings={}, environment="local", country="CA",
                        qbxml_version="13.0", batch_size=10)
    assert (built.country, built.qbxml_version, built.batch_size, built.environment) == (
        "CA", "13.0", 10, "local")
    assert QuickBooksDesktopAdapter.web_url("production", "invoice", "1") is None
    assert QuickBooksDesktopAdapter.record_url("local", "http://x", "c", "invoice", "T1") == \
        "http://x/_sandbox/view/qbd/Invoice/T1?company=c"
    with pytest.raises(Exception):
        built.execute(None, "c", None)


def test_plan_batches_envelope_and_request_ids():
    planner = adapter(batch_size=2, qbxml_version="12.0", on_error="stopOnError")
    parties = [party("P%d" % n, key="k%d" % n) for n in range(5)]
    requests = planner.plan(parties)
    assert [r.size for r in requests] == [2, 2, 1]
    assert requests[0].key == planner.plan(parties)[0].key != requests[1].key
    body = requests[0].body
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="12.0"?>')
    root = body_of(requests[0])
    msgs = root.find("QBXMLMsgsRq")
    assert msgs.get("onError") == "stopOnError"
    assert [(m.tag, m.get("requestID")) for m in msgs] == [("CustomerAddRq", "1"),
                                                           ("CustomerAddRq", "2")]
    assert [r.key for r in requests[0].records] == ["k0", "k1"]
    assert requests[0].records[0].number == "P0"


def test_mod_sends_every_line_as_new_and_edit_sequence():
    doc = invoice(remote_id="T-1", remote_version="42")
    doc.lines = doc.lines * 3
    request = adapter().plan([doc])[0]
    mod = body_of(request).find("QBXMLMsgsRq/InvoiceModRq/InvoiceMod")
    assert (mod.findtext("TxnID"), mod.findtext("EditSequence")) == ("T-1", "42")
    assert [line.findtext("TxnLineID") for line in mod.findall("InvoiceLineMod")] == ["-1"] * 3


def test_find_existing_queries_first_and_parties_add_directly():
    request = adapter().plan([invoice(find=True)])[0]
    query = body_of(request).find("QBXMLMsgsRq/InvoiceQueryRq")
    assert query.findtext("RefNumber") == "INV2600001"
    assert request.records[0].action == "find"
    assert body_of(adapter().plan([party()])[0]).find("QBXMLMsgsRq/CustomerAddRq") is not None


def test_products_by_type_and_payments_and_journals():
    service = Product(key="p", name="Hours", income_account=Ref("A1"), service=True)
    goods = Product(key="g", name="Widget", code="W-1", income_account=Ref("A1"),
                    expense_account=Ref("A5"), service=False)
    assert body_of(adapter().plan([service])[0]).find(
        "QBXMLMsgsRq/ItemServiceAddRq/ItemServiceAdd/SalesOrPurchase/AccountRef/ListID"
    ).text == "A1"
    ni = body_of(adapter().plan([goods])[0]).find(
        "QBXMLMsgsRq/ItemNonInventoryAddRq/ItemNonInventoryAdd")
    assert ni.findtext("ManufacturerPartNumber") == "W-1"
    assert ni.findtext("SalesAndPurchase/ExpenseAccountRef/ListID") == "A5"
    pay = Payment(key="cp", kind="customer_payment", date=date(2026, 2, 1), party=Ref("C1"),
                  amount=Decimal("108"), currency="USD", account=Ref("B1"),
                  allocations=[Allocation(Ref("TX1"), "invoice", Decimal("108"))],
                  number="PBNK1/2026/00007", find_existing=False)
    add = body_of(adapter().plan([pay])[0]).find(
        "QBXMLMsgsRq/ReceivePaymentAddRq/ReceivePaymentAdd")
    assert add.findtext("DepositToAccountRef/ListID") == "B1"
    assert (add.findtext("AppliedToTxnAdd/TxnID"), add.findtext("AppliedToTxnAdd/PaymentAmount")
            ) == ("TX1", "108.00")
    assert add.findtext("Memo") == "PBNK1/2026/00007"
    bill_pay = Payment(key="vp", kind="vendor_payment", date=date(2026, 2, 1), party=Ref("V1"),
                       amount=Decimal("5"), currency="USD", account=Ref("B1"),
                       allocations=[Allocation(Ref("TX2"), "bill", Decimal("5"))],
                       number="PBNK1/2026/00008", find_existing=False)
    check = body_of(adapter().plan([bill_pay])[0]).find(
        "QBXMLMsgsRq/BillPaymentCheckAddRq/BillPaymentCheckAdd")
    assert check.findtext("BankAccountRef/ListID") == "B1"
    assert len(check.findtext("RefNumber")) <= 11
    entry = JournalEntry(key="je", kind="journal_entry", date=date(2026, 1, 31),
                         number="MISC/2026/01/0001", find_existing=False, lines=[
                             JournalLine(Ref("A1"), debit=Decimal("10"), party=Ref("C1")),
                             JournalLine(Ref("A2"), credit=Decimal("10"))])
    je = body_of(adapter().plan([entry])[0]).find("QBXMLMsgsRq/JournalEntryAddRq/JournalEntryAdd")
    assert je.findtext("JournalDebitLine/EntityRef/ListID") == "C1"
    assert je.findtext("JournalCreditLine/Amount") == "10.00"


def test_payment_with_remote_id_and_item_less_sales_line_fail_without_sending():
    pay = Payment(key="cp", kind="customer_payment", date=date(2026, 2, 1), party=Ref("C1"),
                  amount=Decimal("1"), currency="USD", account=Ref("B1"), allocations=[],
                  number="P/1", remote_id="TX9")
    request = adapter().plan([pay])[0]
    assert request.body is None
    results, follow_ups = adapter().interpret(request, Answer(key=request.key))
    assert results[0].error.code == "qbd_payment_change" and not follow_ups
    bad = invoice(key="bad")
    bad.lines[0].item = None
    mixed = adapter().plan([bad, invoice(key="good")])[0]
    assert [m.get("requestID") for m in body_of(mixed).find("QBXMLMsgsRq")] == ["2"]
    results, _ = answer(mixed, rs("InvoiceAdd", 0, "<InvoiceRet><TxnID>T2</TxnID></InvoiceRet>",
                                  request_id="2"))
    assert results[0].error.code == "item_required" and results[1].ok


# == country rules and lengths ====================================================================

def test_us_lines_sales_tax_code_and_item_sales_tax():
    add = body_of(adapter("US").plan([invoice()])[0]).find("QBXMLMsgsRq/InvoiceAddRq/InvoiceAdd")
    assert add.findtext("ItemSalesTaxRef/ListID") == "ST1"
    assert add.findtext("InvoiceLineAdd/SalesTaxCodeRef/FullName") == "Tax"


@pytest.mark.parametrize("country", ["CA", "UK"])
def test_ca_uk_lines_carry_the_gst_vat_code_and_no_item_sales_tax(country):
    doc = invoice()
    doc.lines[0].tax = Ref("VAT20")
    add = body_of(adapter(country).plan([doc])[0]).find("QBXMLMsgsRq/InvoiceAddRq/InvoiceAdd")
    assert add.find("ItemSalesTaxRef") is None
    assert add.findtext("InvoiceLineAdd/SalesTaxCodeRef/ListID") == "VAT20"


@pytest.mark.parametrize("country,element,state", [
    ("US", "VendorTaxIdent", "NY"), ("CA", "TaxRegistrationNumber", "Ontario"),
    ("UK", "TaxRegistrationNumber", "Kent")])
def test_party_vat_and_state_province_county(country, element, state):
    vendor = Party(key="v", kind="vendor", name="Supplier", vat="GB123",
                   address=Address(street="1 High St", city="Town", state=state, zip="1"))
    add = body_of(adapter(country).plan([vendor])[0]).find("QBXMLMsgsRq/VendorAddRq/VendorAdd")
    assert add.findtext(element) == "GB123"
    other = {"VendorTaxIdent", "TaxRegistrationNumber"} - {element}
    assert add.find(other.pop()) is None
    assert add.findtext("VendorAddress/State") == state and add.find(".//County") is None
    customer = body_of(adapter(country).plan([party(vat="X1")])[0]).find(
        "QBXMLMsgsRq/CustomerAddRq/CustomerAdd")
    assert (customer.findtext("TaxRegistrationNumber") == "X1") == (country != "US")


def test_ref_number_rule():
    assert ref_number("INV/2026/00001", 11) == "INV2600001"
    assert ref_number("RINV/2026/00012", 11) == "RINV2600012"
    assert ref_number("INV/1", 11) == "INV/1"
    long = ref_number("PBNK1/2026/00007", 11)
    assert len(long) == 11 and long.endswith("2600007") and long[3] == "~"
    assert ref_number("PBNK2/2026/00007", 11) != long
    assert ref_number("PBNK1/2026/00007", 11) == long


def test_lengths_are_cut_and_the_full_number_goes_to_memo():
    name = "N" * 60
    doc = invoice(number="INV/2026/00001", reference="PO 1")
    add = body_of(adapter().plan([doc])[0]).find("QBXMLMsgsRq/InvoiceAddRq/InvoiceAdd")
    assert len(add.findtext("RefNumber")) <= 11
    assert add.findtext("Memo") == "INV/2026/00001: PO 1"
    customer = body_of(adapter().plan([party(name)])[0]).find(
        "QBXMLMsgsRq/CustomerAddRq/CustomerAdd")
    assert len(customer.findtext("Name")) == 41 and customer.findtext("Notes").endswith(name)
    item = body_of(adapter().plan([Product(key="p", name=name)])[0]).find(
        "QBXMLMsgsRq/ItemServiceAddRq/ItemServiceAdd")
    assert len(item.findtext("Name")) == 31


# == interpret ====================================================================================

def test_status_ok_and_warning_with_ret():
    request = adapter().plan([party(key="a"), party("B", key="b")])[0]
    results, follow_ups = answer(request, rs("CustomerAdd", 0, customer_ret()),
                                 rs("CustomerAdd", 530, customer_ret("80000002-1", "B"),
                                    request_id="2"))
    assert not follow_ups
    assert (results[0].ok, results[0].remote_id, results[0].remote_version) == (
        True, "80000001-1", "1700000002")
    assert results[0].remote_updated_at == datetime(2026, 1, 31, 15, 0)
    assert results[1].ok and results[1].key == "b"
    inv = adapter().plan([invoice()])[0]
    results, _ = answer(inv, rs("InvoiceAdd", 0, "<InvoiceRet><TxnID>T1</TxnID><EditSequence>5"
                                "</EditSequence><RefNumber>INV2600001</RefNumber></InvoiceRet>"))
    assert (results[0].remote_id, results[0].remote_number) == ("T1", "INV2600001")


def test_3100_then_query_then_link_or_clash():
    request = adapter().plan([party()])[0]
    results, follow_ups = answer(request, rs("CustomerAdd", 3100, message="The name is in use"))
    assert results[0].error.code == "no_answer" and len(follow_ups) == 1
    clash = follow_ups[0]
    assert clash.key != request.key and clash.records[0].key == "c1"
    assert body_of(clash).findtext("QBXMLMsgsRq/CustomerQueryRq/FullName") == "Acme"
    back = load_request(dump_request(clash))
    linked, more = answer(back, rs("CustomerQuery", 0, customer_ret(name="ACME")))
    assert linked[0].ok and linked[0].linked_existing and not more
    assert linked[0].remote_id == "80000001-1"
    other_email, _ = answer(back, rs("CustomerQuery", 0, customer_ret(email="x@y.example")))
    assert other_email[0].error.code == "name_in_use"
    inactive, _ = answer(back, rs("CustomerQuery", 0, customer_ret(active="false")))
    assert inactive[0].error.code == "qbd_name_inactive"
    elsewhere, _ = answer(back, rs("CustomerQuery", 1, message="not found"))
    assert elsewhere[0].error.code == "name_taken"
    assert elsewhere[0].error.params["name"] == "Acme"


def test_item_3100_found_as_another_type():
    request = adapter().plan([Product(key="p", name="Widget", service=True)])[0]
    _results, follow_ups = answer(request, rs("ItemServiceAdd", 3100))
    results, _ = answer(follow_ups[0], rs("ItemQuery", 0, "<ItemInventoryRet><ListID>I9</ListID>"
                                          "<FullName>Widget</FullName></ItemInventoryRet>"))
    assert results[0].error.code == "qbd_item_type"
    assert results[0].error.params["found"] == "Inventory"


def test_find_found_links_and_nothing_found_adds():
    request = adapter().plan([invoice(find=True)])[0]
    ret = ("<InvoiceRet><TxnID>T7</TxnID><EditSequence>3</EditSequence><CustomerRef><ListID>C1"
           "</ListID></CustomerRef><RefNumber>INV2600001</RefNumber><Subtotal>100.00</Subtotal>"
           "<SalesTaxTotal>8.00</SalesTaxTotal><Memo>%s</Memo></InvoiceRet>")
    results, _ = answer(request, rs("InvoiceQuery", 0, ret % "INV/2026/00001: PO"))
    assert results[0].linked_existing and results[0].remote_id == "T7"
    by_total, _ = answer(request, rs("InvoiceQuery", 0, ret % "typed by hand"))
    assert by_total[0].linked_existing
    clash, _ = answer(request, rs("InvoiceQuery", 0, (ret % "other").replace("100.00", "5.00")))
    assert clash[0].error.code == "number_in_use"
    results, follow_ups = answer(request, rs("InvoiceQuery", 1, message="no match"))
    assert results[0].outcome_unknown
    assert body_of(follow_ups[0]).find("QBXMLMsgsRq/InvoiceAddRq") is not None
    assert follow_ups[0].records[0].action == "add"


def test_payment_find_uses_the_payment_rule():
    pay = Payment(key="cp", kind="customer_payment", date=date(2026, 2, 1), party=Ref("C1"),
                  amount=Decimal("108"), currency="USD", account=Ref("B1"),
                  allocations=[Allocation(Ref("TX1"), "invoice", Decimal("108"))],
                  number="PBNK1/2026/00007")
    request = adapter().plan([pay])[0]
    ret = ("<ReceivePaymentRet><TxnID>P1</TxnID><EditSequence>2</EditSequence><CustomerRef>"
           "<ListID>C1</ListID></CustomerRef><TxnDate>2026-02-01</TxnDate><TotalAmount>%s"
           "</TotalAmount><Memo>PBNK1/2026/00007</Memo><AppliedToTxnRet><TxnID>TX1</TxnID>"
           "<Amount>108.00</Amount></AppliedToTxnRet></ReceivePaymentRet>")
    results, _ = answer(request, rs("ReceivePaymentQuery", 0, ret % "108.00"))
    assert results[0].linked_existing and results[0].remote_id == "P1"
    results, follow_ups = answer(request, rs("ReceivePaymentQuery", 0, ret % "99.00"))
    assert results[0].outcome_unknown and follow_ups[0].records[0].action == "add"


def test_3200_rereads_then_mods_once_then_fails_stale():
    request = adapter().plan([party(remote_id="L1", remote_version="1")])[0]
    _results, (reread,) = answer(request, rs("CustomerMod", 3200, message="out-of-date"))
    query = body_of(reread).find("QBXMLMsgsRq/CustomerQueryRq")
    assert query.findtext("ListID") == "L1"
    _results, (again,) = answer(load_request(dump_request(reread)),
                                rs("CustomerQuery", 0, customer_ret("L1", seq="77")))
    mod = body_of(again).find("QBXMLMsgsRq/CustomerModRq/CustomerMod")
    assert mod.findtext("EditSequence") == "77" and again.records[0].attempt == 1
    assert len({request.key, reread.key, again.key}) == 3
    results, follow_ups = answer(again, rs("CustomerMod", 3200))
    assert results[0].error.code == "stale" and not follow_ups
    results, _ = answer(again, rs("CustomerMod", 0, customer_ret("L1", seq="78")))
    assert results[0].ok and results[0].remote_version == "78"


@pytest.mark.parametrize("code", [3170, 3175, 3176, 3180])
def test_locks(code):
    request = adapter().plan([invoice()])[0]
    results, follow_ups = answer(request, rs("InvoiceAdd", code, message="locked"))
    assert results[0].error.code == "qbd_locked" and not follow_ups
    assert results[0].error.provider_code == str(code)


def test_missing_references_and_gone_record():
    request = adapter().plan([invoice()])[0]
    results, _ = answer(request, rs("InvoiceAdd", 3140, message=(
        'There is an invalid reference to QuickBooks Customer "C1" in the Invoice.')))
    assert results[0].error.code == "qbd_reference_missing"
    assert results[0].error.params["reference_kind"] == "customer"
    assert results[0].error.params["reference"] == "C1"
    results, _ = answer(request, rs("InvoiceAdd", 3120, message=(
        'Object "I1" specified in the request cannot be found.')))
    assert results[0].error.params["reference_kind"] == "product"
    mod = adapter().plan([invoice(remote_id="T-1", remote_version="4")])[0]
    results, _ = answer(mod, rs("InvoiceMod", 3120, message=(
        'Object "T-1" specified in the request cannot be found.')))
    assert results[0].error.code == "remote_gone" and results[0].error.params["id"] == "T-1"


def test_other_codes_missing_request_id_hresult_and_garbage():
    request = adapter().plan([invoice(key="a"), invoice(key="b", number="INV/2026/00002")])[0]
    results, _ = answer(request, rs("InvoiceAdd", 3070, message="Too long"))
    assert results[0].error.code == "refused" and results[0].error.provider_code == "3070"
    assert results[0].error.params["text"] == "Too long"
    assert results[1].error.code == "no_answer"
    for raw in (None, ""):
        results, follow_ups = adapter().interpret(request, Answer(key=request.key, raw=raw))
        assert [r.error.code for r in results] == ["no_answer"] * 2 and not follow_ups
    for raw in ("garbage <<", "<html><body>hi</body></html>",
                '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><QBXML>&e;</QBXML>'):
        results, _ = adapter().interpret(request, Answer(key=request.key, raw=raw))
        assert all(r.error.code == "bad_answer" and r.outcome_unknown for r in results)
    results, _ = answer(request, '<InvoiceAddRs statusCode="0" statusSeverity="Info"/>')
    assert [r.error.code for r in results] == ["no_answer"] * 2


def test_removals():
    orders = [Removal("i", "invoice", "T1", "3"), Removal("p", "customer_payment", "T2"),
              Removal("c", "customer", "L1", "5"), Removal("s", "product", "L2", "1",
                                                           service=False)]
    requests = adapter().plan_removals(orders)
    assert [(r.kind, r.operation) for r in requests] == [
        ("invoice", "void"), ("customer_payment", "void"), ("customer", "deactivate"),
        ("product", "deactivate")]
    assert body_of(requests[0]).findtext("QBXMLMsgsRq/TxnVoidRq/TxnVoidType") == "Invoice"
    assert body_of(requests[1]).findtext("QBXMLMsgsRq/TxnDelRq/TxnDelType") == "ReceivePayment"
    assert body_of(requests[3]).findtext(
        "QBXMLMsgsRq/ItemNonInventoryModRq/ItemNonInventoryMod/IsActive") == "false"
    results, _ = answer(requests[0], rs("TxnVoid", 0, "<TxnVoidType>Invoice</TxnVoidType>"
                                        "<TxnID>T1</TxnID>"))
    assert results[0].ok and results[0].remote_id == "T1"
    results, _ = answer(requests[1], rs("TxnDel", 3120))
    assert results[0].ok and results[0].note_code == "already_gone"
    results, _ = answer(requests[2], rs("CustomerMod", 0, customer_ret("L1", seq="6")))
    assert results[0].ok and results[0].remote_version == "6"
    results, _ = answer(requests[0], rs("TxnVoid", 3210, message="closed"))
    assert results[0].error.code == "void_refused"


# == host, lists, qwc =============================================================================

HCP = response(
    rs("HostQuery", 0, "<HostRet><ProductName>QuickBooks Premier 2014</ProductName>"
       "<MajorVersion>24</MajorVersion><MinorVersion>0</MinorVersion><Country>CA</Country>"
       "<SupportedQBXMLVersion>12.0</SupportedQBXMLVersion><SupportedQBXMLVersion>13.0"
       "</SupportedQBXMLVersion><QBFileMode>MultiUser</QBFileMode></HostRet>"),
    rs("CompanyQuery", 0, "<CompanyRet><CompanyName>Maple Ltd</CompanyName></CompanyRet>",
       request_id="2"),
    rs("PreferencesQuery", 0, "<PreferencesRet><MultiCurrencyPreferences><IsMultiCurrencyOn>"
       "true</IsMultiCurrencyOn><HomeCurrencyRef><FullName>Canadian Dollar</FullName>"
       "</HomeCurrencyRef></MultiCurrencyPreferences></PreferencesRet>", request_id="3"))


def test_parse_host_and_version():
    host = parse_host(HCP, company_file="C:\\maple.qbw")
    assert (host.company_name, host.country, host.supported_versions, host.file_mode,
            host.home_currency, host.company_file, host.major_version) == (
        "Maple Ltd", "CA", ["12.0", "13.0"], "MultiUser", "CAD", "C:\\maple.qbw", "24")
    assert parse_host("") is None and parse_host(None) is None
    with pytest.raises(ProviderResponseError):
        parse_host("not xml")
    assert qbxml_version_for(["12.0", "16.0"]) == "13.0"
    assert qbxml_version_for(["2.0", "8.0"]) == "8.0"
    assert qbxml_version_for(["CA3.0", "CA2.0"]) == "3.0"
    assert qbxml_version_for([]) == "13.0"


def test_list_requests_iterators_and_clamps():
    start = etree.fromstring(list_request(CUSTOMER, max_returned=5).encode())
    query = start.find("QBXMLMsgsRq/CustomerQueryRq")
    assert (query.get("iterator"), query.findtext("MaxReturned"),
            query.findtext("ActiveStatus")) == ("Start", "100", "All")
    more = etree.fromstring(list_request(ITEM, iterator_id="{X}", max_returned=9000).encode())
    query = more.find("QBXMLMsgsRq/ItemQueryRq")
    assert (query.get("iterator"), query.get("iteratorID"), query.findtext("MaxReturned")) == (
        "Continue", "{X}", "500")
    accounts = etree.fromstring(list_request(ACCOUNT, iterator_id="{X}").encode())
    assert accounts.find("QBXMLMsgsRq/AccountQueryRq").get("iterator") is None


def test_parse_lists():
    page = parse_list(ACCOUNT, response(rs("AccountQuery", 0, (
        "<AccountRet><ListID>A1</ListID><FullName>Checking</FullName><IsActive>true</IsActive>"
        "<AccountType>Bank</AccountType><AccountNumber>1000</AccountNumber></AccountRet>"
        "<AccountRet><ListID>A2</ListID><FullName>COGS</FullName><AccountType>CostOfGoodsSold"
        "</AccountType></AccountRet>"))))
    assert [(a.id, a.group, a.is_bank, a.code) for a in page.records] == [
        ("A1", "bank", True, "1000"), ("A2", "cost_of_sales", False, None)]
    codes = parse_list(SALES_TAX_CODE, response(rs("SalesTaxCodeQuery", 0, (
        "<SalesTaxCodeRet><ListID>S1</ListID><Name>Non</Name><IsTaxable>false</IsTaxable>"
        "</SalesTaxCodeRet>"))))
    assert codes.records[0].exempt and codes.records[0].id == "S1"
    rates = parse_list(ITEM_SALES_TAX, response(rs("ItemSalesTaxQuery", 0, (
        "<ItemSalesTaxRet><ListID>R1</ListID><Name>NYC</Name><TaxRate>8.875</TaxRate>"
        "</ItemSalesTaxRet>"), iteratorID="{I}", iteratorRemainingCount="0")))
    assert rates.records[0].rate == Decimal("8.875") and rates.records[0].applies_to == "sales"
    assert (rates.iterator_id, rates.remaining, rates.more) == ("{I}", 0, False)
    items = parse_list(ITEM, response(rs("ItemQuery", 0, (
        "<ItemServiceRet><ListID>I1</ListID><FullName>Hours</FullName><IsActive>false</IsActive>"
        "<SalesOrPurchase><Price>150.00</Price><AccountRef><ListID>A9</ListID></AccountRef>"
        "</SalesOrPurchase></ItemServiceRet><ItemInventoryRet><ListID>I2</ListID><FullName>Box"
        "</FullName><SalesPrice>3.50</SalesPrice><IncomeAccountRef><ListID>A8</ListID>"
        "</IncomeAccountRef><COGSAccountRef><ListID>A2</ListID></COGSAccountRef>"
        "</ItemInventoryRet>"), iteratorID="{J}", iteratorRemainingCount="12")))
    assert [(i.id, i.type, i.active, i.sale_price, i.income_account, i.expense_account)
            for i in items.records] == [
        ("I1", "Service", False, Decimal("150.00"), "A9", None),
        ("I2", "Inventory", True, Decimal("3.50"), "A8", "A2")]
    assert items.more and items.remaining == 12
    terms = parse_list(TERMS, response(rs("StandardTermsQuery", 0, (
        "<StandardTermsRet><ListID>T1</ListID><Name>Net 30</Name><StdDueDays>30</StdDueDays>"
        "</StandardTermsRet>"))))
    assert (terms.records[0].name, terms.records[0].due_days) == ("Net 30", 30)
    vendors = parse_list(VENDOR, response(rs("VendorQuery", 0, (
        "<VendorRet><ListID>V1</ListID><EditSequence>9</EditSequence><Name>Acme</Name>"
        "<IsActive>true</IsActive><Email>a@b</Email></VendorRet>"))))
    assert (vendors.records[0].kind, vendors.records[0].edit_sequence) == ("vendor", "9")
    empty = parse_list(CUSTOMER, response(rs("CustomerQuery", 1, message="none")))
    assert empty.records == [] and empty.status_code == 1
    stale = parse_list(CUSTOMER, response(rs("CustomerQuery", 3391, message="bad iterator")))
    assert stale.status_code == 3391 and stale.status_message == "bad iterator"
    with pytest.raises(ProviderResponseError):
        parse_list(CUSTOMER, "<nope")


def test_qwc():
    text = qwc("Odoo <db> & co", "", "https://odoo.example/qbwc", "https://odoo.example/s",
               "qbwc-user", "{57F3B9B6-86F1-4fcc-B1FF-966DE1813D20}",
               "{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}", 5, "Sync \"Odoo\"")
    root = etree.fromstring(text.encode())
    assert root.tag == "QBWCXML"
    assert [c.tag for c in root] == [
        "AppName", "AppID", "AppURL", "AppDescription", "AppSupport", "UserName", "OwnerID",
        "FileID", "QBType", "Scheduler", "IsReadOnly"]
    assert root.findtext("AppName") == "Odoo <db> & co" and "&amp; co" in text
    assert (root.findtext("QBType"), root.findtext("Scheduler/RunEveryNMinutes"),
            root.findtext("IsReadOnly")) == ("QBFS", "5", "false")


def test_adapter_delegates_for_the_odoo_side():
    qbd = adapter(qbxml_version="12.0")
    assert qbd.list_request(CUSTOMER).startswith(
        '<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="12.0"?>')
    assert qbd.parse_host(HCP).country == "CA" and qbd.qbxml_version_for(["16.0"]) == "13.0"
    assert qbd.parse_list(CUSTOMER, response(rs("CustomerQuery", 0, customer_ret()))).records[
        0].id == "80000001-1"
    request = qbd.plan([party()])[0]
    assert qbd.load_request(qbd.dump_request(request)).body == request.body


def test_round_trip_keeps_keys_numbers_and_body():
    request = adapter().plan([invoice(find=True), invoice(key="i2", number="INV/2026/00002")])[0]
    back = load_request(dump_request(request))
    assert (back.key, back.kind, back.operation, back.body, back.size) == (
        request.key, request.kind, request.operation, request.body, request.size)
    assert [(r.key, r.number, r.action) for r in back.records] == [
        ("i1", "INV/2026/00001", "find"), ("i2", "INV/2026/00002", "add")]
    with pytest.raises(ProviderResponseError):
        load_request("{not json")


def test_numbers_qbxml_never_writes_are_no_numbers():
    """A hostile or broken answer cannot make a number cost seconds of CPU (the SOAP fuzz
    found ``1e999999`` in a StdDueDays, and a 5,000-digit qbXML version)."""
    ret = etree.fromstring("<StandardTermsRet><ListID>1</ListID><Name>x</Name>"
                            "<StdDueDays>1e999999</StdDueDays><DiscountPct>12.5</DiscountPct>"
                            "</StandardTermsRet>")
    terms = qbd_lists.terms(ret)
    assert (terms.due_days, terms.discount_percent) == (None, Decimal("12.5"))
    assert qbd_host.version_tuple("1" * 5000) is None
    assert qbd_host.version_tuple("CA3.0") == (3, 0)

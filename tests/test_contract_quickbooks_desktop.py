"""Every qbXML request the QuickBooks Desktop adapter builds, validated against Intuit's own
qbXML 13.0 schema (qbxmlops130.xsd, which includes qbxml130_modified.xsd and its maxLength
restrictions), from ../shared/specs/quickbooks-desktop: element order, types and lengths.
Adds, Mods, look-ups, the follow-ups of 3100 / 3200 / nothing found, removals of every kind
and every list read, for US, CA and UK company files. The folder is
``$ACCOUNTING_SYNC_SPECS`` or ``../shared/specs``; the tests skip, saying so, where it is
absent.
"""
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from accounting_sync.providers import get_adapter
from accounting_sync.providers.base import Answer
from accounting_sync.providers.documents import (
    Address, Allocation, Document, JournalEntry, JournalLine, Line, Party, Payment, Product, Ref,
)
from accounting_sync.providers.quickbooks_desktop import (
    LIST_TYPES, Removal, list_request, pending,
)

SPECS = Path(os.environ.get("ACCOUNTING_SYNC_SPECS")
             or Path(__file__).resolve().parents[2] / "shared" / "specs")
FOLDER = SPECS / "quickbooks-desktop"

pytestmark = pytest.mark.skipif(
    not (FOLDER / "qbxmlops130.xsd").is_file(),
    reason="vendor schemas not found at %s (set ACCOUNTING_SYNC_SPECS to the shared/specs "
           "folder to run the QuickBooks Desktop contract tests)" % FOLDER)

LONG = "Wayne Enterprises: Gotham City Research and Development Division"


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(FOLDER / "qbxmlops130.xsd")))


def check(schema, body):
    document = etree.fromstring(body.encode("utf-8"))
    assert document.tag == "QBXML"
    if not schema.validate(document):
        raise AssertionError("%s\n%s" % (schema.error_log, body))
    return document


def records(remote=False):
    """One record of every kind (remote: with a ListID/TxnID and EditSequence)."""
    rid = (lambda n: "8000000%d-1700000000" % n) if remote else (lambda n: None)
    version = "1700000001" if remote else None
    address = Address(street="1007 Mountain Drive, a street name longer than forty-one chars",
                      street2="Wing B", city="Gotham City of the Very Long Name", zip="10001-12345678",
                      state="New Jersey and a county name", country_code="US")
    lines = [Line(description="Consulting " * 500, quantity=Decimal("2.123456"),
                  unit_price=Decimal("150.1234567"), amount=Decimal("318.78"),
                  account=Ref("A1"), tax=Ref(None, "Tax"), item=Ref("I1"),
                  discount_percent=Decimal("10")),
             Line(description="Travel", quantity=Decimal("1"), unit_price=Decimal("-5"),
                  amount=Decimal("-5"), account=Ref("A2"), tax=Ref("T2"), item=Ref(None, "Fee"))]
    common = dict(date=date(2026, 1, 31), currency="USD", lines=lines,
                  amount_untaxed=Decimal("313.78"), amount_tax=Decimal("25.10"),
                  amount_total=Decimal("338.88"), due_date=date(2026, 2, 28),
                  exchange_rate=Decimal("1.25"), reference="PO 4711 " * 700,
                  remote_id=None, remote_version=version, tax_code=Ref("ST1"))
    out = {
        "customer": Party(key="c", kind="customer", name=LONG, email="a@b.example",
                          phone="+1 555 0100 0000 0000 0000", vat="GB123456789012345678901234567890",
                          company_name=LONG, address=address, remote_id=rid(1),
                          remote_version=version),
        "vendor": Party(key="v", kind="vendor", name="Acme Supplies", vat="12-3456789123456789",
                        address=address, remote_id=rid(2), remote_version=version),
        "product": Product(key="p", name="Consulting hours, senior partner level", code="CONS-1",
                           description="Senior consulting", sale_price=Decimal("150.5"),
                           purchase_price=Decimal("90"), income_account=Ref("A1"),
                           expense_account=Ref("A5"), service=True, remote_id=rid(3),
                           remote_version=version),
        "product_ni": Product(key="pn", name="Widget", code="W" * 40, sale_price=Decimal("3"),
                              income_account=Ref(None, "Sales"), service=False,
                              remote_id=rid(4), remote_version=version),
    }
    for kind, number in (("invoice", "INV/2026/00001"), ("credit_note", "RINV/2026/00002"),
                         ("bill", "BILL/2026/01/0003"), ("vendor_credit", "RBILL/2026/01/0004")):
        party = Ref("C1") if kind in ("invoice", "credit_note") else Ref("V1")
        out[kind] = Document(key=kind, kind=kind, number=number, party=party,
                             **dict(common, remote_id=rid(5)))
    out["customer_payment"] = Payment(
        key="cp", kind="customer_payment", date=date(2026, 2, 1), party=Ref("C1"),
        amount=Decimal("338.88"), currency="USD", account=Ref("B1"),
        allocations=[Allocation(Ref("TX1"), "invoice", Decimal("338.88"))],
        reference="Cheque 12", number="PBNK1/2026/00007", exchange_rate=Decimal("1"))
    out["vendor_payment"] = Payment(
        key="vp", kind="vendor_payment", date=date(2026, 2, 1), party=Ref("V1"),
        amount=Decimal("100"), currency="USD", account=Ref("B1"),
        allocations=[Allocation(Ref("TX2"), "bill", Decimal("60")),
                     Allocation(Ref("TX3"), "bill", Decimal("40"))],
        number="PBNK1/2026/00008")
    out["journal_entry"] = JournalEntry(
        key="je", kind="journal_entry", date=date(2026, 1, 31), number="MISC/2026/01/0001",
        lines=[JournalLine(Ref("A1"), debit=Decimal("100"), description="d", party=Ref("C1")),
               JournalLine(Ref("A2"), credit=Decimal("100"), party=Ref(None, "Acme"))],
        narration="Accrual", remote_id=rid(6), remote_version=version)
    return out


def kind_of(name):
    return "product" if name.startswith("product") else name


@pytest.mark.parametrize("country", ["US", "CA", "UK"])
def test_every_add_mod_and_lookup_validates(schema, country):
    adapter = get_adapter("quickbooks_desktop", settings={}, country=country)
    built = 0
    for remote in (False, True):
        for name, record in records(remote).items():
            if remote and name.endswith("payment"):
                continue
            for find in (False, True):
                if hasattr(record, "find_existing"):
                    record.find_existing = find
                for request in adapter.plan([record]):
                    assert request.body, name
                    check(schema, request.body)
                    built += 1
    assert built >= 30


@pytest.mark.parametrize("country", ["US", "CA", "UK"])
def test_every_follow_up_validates(schema, country):
    """3100 → clash look-up; look-up found nothing → add; 3200 → re-read → Mod again; a Mod
    without EditSequence → re-read first."""
    adapter = get_adapter("quickbooks_desktop", settings={}, country=country)
    seen = set()
    for name, record in records().items():
        if hasattr(record, "find_existing"):
            record.find_existing = name in ("invoice", "customer_payment", "journal_entry")
        request = adapter.plan([record])[0]
        rs = request.records[0]
        code = "3100" if rs.action == "add" else "1"
        _results, follow_ups = adapter.interpret(request, Answer(key=request.key, raw=(
            '<QBXML><QBXMLMsgsRs><XRs requestID="1" statusCode="%s" statusSeverity="Error" '
            'statusMessage="x"/></QBXMLMsgsRs></QBXML>' % code)))
        for follow_up in follow_ups:
            check(schema, follow_up.body)
            seen.add(follow_up.records[0].action)
    for name, record in records(remote=True).items():
        if name.endswith("payment"):
            continue
        request = adapter.plan([record])[0]
        _results, follow_ups = adapter.interpret(request, Answer(key=request.key, raw=(
            '<QBXML><QBXMLMsgsRs><XRs requestID="1" statusCode="3200" statusSeverity="Error" '
            'statusMessage="stale"/></QBXMLMsgsRs></QBXML>')))
        reread = follow_ups[0]
        check(schema, reread.body)
        ret = "ListID" if name in ("customer", "vendor") or name.startswith("product") else "TxnID"
        _results, again = adapter.interpret(reread, Answer(key=reread.key, raw=(
            '<QBXML><QBXMLMsgsRs><XRs requestID="1" statusCode="0" statusSeverity="Info">'
            '<XRet><%s>X</%s><EditSequence>99</EditSequence></XRet></XRs></QBXMLMsgsRs>'
            '</QBXML>' % (ret, ret))))
        assert "<EditSequence>99</EditSequence>" in again[0].body
        check(schema, again[0].body)
        seen.update({reread.records[0].action, again[0].records[0].action})
        record.remote_version = None
        check(schema, adapter.plan([record])[0].body)
    assert seen == {"clash", "add", "reread", "mod"}


def test_every_removal_validates(schema):
    adapter = get_adapter("quickbooks_desktop", settings={})
    orders = [Removal("k%s" % n, kind, "80000001-1", "17%s" % n, service=service)
              for n, (kind, service) in enumerate((
                  ("customer", True), ("vendor", True), ("product", True), ("product", False),
                  ("invoice", True), ("credit_note", True), ("bill", True),
                  ("vendor_credit", True), ("journal_entry", True), ("customer_payment", True),
                  ("vendor_payment", True)))]
    orders.append(Removal("nv", "customer", "80000001-2"))   # no EditSequence: read first
    requests = adapter.plan_removals(orders)
    tags = set()
    for request in requests:
        document = check(schema, request.body)
        tags.update(node.tag for node in document.find("QBXMLMsgsRq"))
    assert {"CustomerModRq", "VendorModRq", "ItemServiceModRq", "ItemNonInventoryModRq",
            "TxnVoidRq", "TxnDelRq", "CustomerQueryRq"} <= tags


@pytest.mark.parametrize("list_type", LIST_TYPES)
def test_every_list_read_validates(schema, list_type):
    check(schema, list_request(list_type))
    check(schema, list_request(list_type, iterator_id="{ABC-123}", max_returned=9999,
                               from_modified="2026-01-01T00:00:00"))


def test_the_stored_request_still_validates_after_a_round_trip(schema):
    adapter = get_adapter("quickbooks_desktop", settings={}, country="UK")
    request = adapter.plan([records()["invoice"]])[0]
    back = pending.load_request(pending.dump_request(request))
    assert back.body == request.body
    check(schema, back.body)

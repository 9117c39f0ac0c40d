"""Every QuickBooks Online payload the adapter builds, checked key by key against Intuit's own
data model (Finance.xsd and the files it includes, from ../shared/specs/quickbooks-online).

QBO's JSON uses the XSD's element names: each JSON key must be an element (or attribute) of
the entity's complex type, walking base types (``xs:extension``), choices and groups, and
nested complex types (Line → SalesItemLineDetail → ReferenceType ``value``/``name``). An
element that may repeat must be a JSON list, one that may not must not be; simple values
must fit their type (decimal, boolean, date, enumerations); a Line's ``DetailType`` must name
the detail it carries. The folder is ``$ACCOUNTING_SYNC_SPECS`` or ``../shared/specs``; the
tests skip, saying so, where it is absent.
"""
import copy
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from accounting_sync.providers.quickbooks_online import payloads as qbo
from accounting_sync.providers.documents import (
    Address, Allocation, Document, JournalEntry, JournalLine, Line, Party, Payment, Product, Ref,
)

SPECS = Path(os.environ.get("ACCOUNTING_SYNC_SPECS")
             or Path(__file__).resolve().parents[2] / "shared" / "specs")
FOLDER = SPECS / "quickbooks-online"
XS = "{http://www.w3.org/2001/XMLSchema}"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

pytestmark = pytest.mark.skipif(
    not (FOLDER / "Finance.xsd").is_file(),
    reason="vendor schemas not found at %s (set ACCOUNTING_SYNC_SPECS to the shared/specs "
           "folder to run the QuickBooks Online contract tests)" % FOLDER)


def _local(qname):
    """A type or element name without its namespace prefix (XML Schema's own keep ``xs:``)."""
    if qname.startswith("xs:") or ":" not in qname:
        return qname
    return qname.split(":", 1)[1]


class QboSchema:
    """The complex types of the QBO XSDs, as {type: {key: (type, repeats)}}."""

    def __init__(self, folder):
        # The schema must load as a whole (Finance.xsd includes IntuitBaseTypes and
        # IntuitNamesTypes); the key-by-key walk below reads the same files.
        etree.XMLSchema(etree.parse(str(folder / "Finance.xsd")))
        self.complex, self.simple, self.elements, self.groups = {}, {}, {}, {}
        self.substitutes = {}
        for path in sorted(folder.glob("*.xsd")):
            for node in etree.parse(str(path)).getroot():
                name = node.get("name")
                if node.tag == XS + "complexType":
                    self.complex[name] = node
                elif node.tag == XS + "simpleType":
                    self.simple[name] = node
                elif node.tag == XS + "group":
                    self.groups[name] = node
                elif node.tag == XS + "element":
                    self.elements[name] = node.get("type")
                    if node.get("substitutionGroup"):
                        self.substitutes.setdefault(node.get("substitutionGroup"), []).append(name)
        self._fields = {}

    def fields(self, type_name):
        if type_name not in self._fields:
            found = {}
            self._collect(self.complex[type_name], found)
            self._fields[type_name] = found
        return self._fields[type_name]

    def _collect(self, node, found, repeats=False):
        for child in node:
            tag = child.tag
            many = repeats or child.get("maxOccurs", "1") not in ("0", "1")
            if tag == XS + "element":
                if child.get("ref"):
                    ref = _local(child.get("ref"))
                    for name in self.substitutes.get(ref, [ref]):
                        found[name] = (_local(self.elements[name]), many)
                else:
                    found[child.get("name")] = (_local(child.get("type") or "xs:string"), many)
            elif tag == XS + "attribute":
                found[child.get("name")] = (_local(child.get("type") or "xs:string"), False)
            elif tag == XS + "group" and child.get("ref"):
                self._collect(self.groups[_local(child.get("ref"))], found, many)
            elif tag == XS + "simpleContent":
                for extension in child:
                    found["value"] = (_local(extension.get("base")), False)
                    self._collect(extension, found)
            elif tag in (XS + "extension", XS + "restriction") and child.get("base"):
                base = _local(child.get("base"))
                if base in self.complex:
                    found.update(self.fields(base))
                self._collect(child, found, repeats)
            elif tag in (XS + "sequence", XS + "choice", XS + "all", XS + "complexContent"):
                self._collect(child, found, many)

    def enumeration(self, type_name):
        node = self.simple.get(type_name)
        if node is None:
            return None
        values = [e.get("value") for e in node.iter(XS + "enumeration")]
        return values or None

    def check(self, type_name, data, path=""):
        """Problems found in ``data`` as an instance of ``type_name`` (empty when valid)."""
        if not isinstance(data, dict):
            return ["%s: expected an object for %s" % (path or type_name, type_name)]
        problems = []
        fields = self.fields(type_name)
        for key, value in data.items():
            where = "%s.%s" % (path or type_name, key)
            if key not in fields:
                problems.append("%s: not an element of %s" % (where, type_name))
                continue
            field_type, many = fields[key]
            if many != isinstance(value, list):
                problems.append("%s: %s" % (where, "must be a list" if many else "must not be "
                                                                                   "a list"))
                continue
            for item in value if many else [value]:
                problems.extend(self._check_value(field_type, item, where))
        if "DetailType" in data and data["DetailType"] not in data:
            problems.append("%s: DetailType %s without that detail" % (path, data["DetailType"]))
        return problems

    def _check_value(self, field_type, value, where):
        if field_type in self.complex:
            return self.check(field_type, value, where)
        if isinstance(value, (dict, list)):
            return ["%s: %s is a simple type" % (where, field_type)]
        if field_type == "xs:decimal" and (isinstance(value, bool)
                                           or not isinstance(value, (int, float))):
            return ["%s: a decimal must be a JSON number" % where]
        if field_type == "xs:boolean" and not isinstance(value, bool):
            return ["%s: must be true or false" % where]
        if field_type == "xs:date" and not DATE.match(str(value)):
            return ["%s: must be a date (YYYY-MM-DD)" % where]
        allowed = self.enumeration(field_type)
        if allowed and value not in allowed:
            return ["%s: %r is not one of %s" % (where, value, field_type)]
        return []


@pytest.fixture(scope="module")
def schema():
    return QboSchema(FOLDER)


# -- one record per kind ---------------------------------------------------------------------

D = Decimal
ADDRESS = Address(street="1 Main St", street2="Suite 2", city="Springfield", zip="12345",
                  state="CA", country_code="US")
CUSTOMER = Party(key="k-c", kind="customer", name="Acme Inc", email="ap@acme.test",
                 phone="+1 555 0100", company_name="Acme Inc", currency="EUR", address=ADDRESS)
VENDOR = Party(key="k-v", kind="vendor", name="Paper Co", email="sales@paper.test",
               vat="12-3456789", currency="USD", address=ADDRESS)
SERVICE = Product(key="k-p", name="Consulting", code="CONS", description="Hourly",
                  sale_price=D("120.5"), purchase_price=D("80"), income_account=Ref("79"),
                  expense_account=Ref("80"), service=True)
GOODS = Product(key="k-g", name="Desk", sale_price=D("300"), income_account=Ref("79"),
                service=False)
SALES_LINES = [
    Line("Consulting", D("3"), D("120.5"), D("361.50"), Ref("79"), tax=Ref("TAX"),
         tax_amount=D("29.82"), item=Ref("1")),
    Line("Desk, 10% off", D("2"), D("300"), D("540.00"), Ref("79"), tax=Ref("NON"),
         item=Ref("2"), discount_percent=D("10")),
]
INVOICE = Document(key="k-i", kind="invoice", number="INV/2025/0001", date=date(2025, 3, 1),
                   party=Ref("58", "Acme Inc"), currency="EUR", lines=SALES_LINES,
                   amount_untaxed=D("901.50"), amount_tax=D("29.82"), amount_total=D("931.32"),
                   due_date=date(2025, 3, 31), exchange_rate=D("1.085"), reference="PO-77")
CREDIT_NOTE = Document(key="k-r", kind="credit_note", number="RINV/2025/0001",
                       date=date(2025, 3, 5), party=Ref("58"), currency="USD",
                       lines=SALES_LINES[:1], amount_untaxed=D("361.50"), amount_tax=D("29.82"),
                       amount_total=D("391.32"))
PURCHASE_LINES = [Line("Paper", D("10"), D("4.25"), D("42.50"), Ref("80"), tax=Ref("TAX"),
                       tax_amount=D("3.51")),
                  Line("Toner", D("1"), D("60"), D("60.00"), Ref("80"))]
BILL = Document(key="k-b", kind="bill", number="BILL/2025/0001", date=date(2025, 3, 2),
                party=Ref("59"), currency="USD", lines=PURCHASE_LINES,
                amount_untaxed=D("102.50"), amount_tax=D("3.51"), amount_total=D("106.01"),
                due_date=date(2025, 4, 1), reference="PAPER-991")
VENDOR_CREDIT = Document(key="k-vc", kind="vendor_credit", number="RBILL/2025/0001",
                         date=date(2025, 3, 3), party=Ref("59"), currency="USD",
                         lines=PURCHASE_LINES[1:], amount_untaxed=D("60"), amount_tax=D("0"),
                         amount_total=D("60"))
CUSTOMER_PAYMENT = Payment(
    key="k-cp", kind="customer_payment", date=date(2025, 3, 10), party=Ref("58"),
    amount=D("540"), currency="EUR", account=Ref("35"), exchange_rate=D("1.09"),
    reference="INV/2025/0001", number="PBNK1/2025/00004",
    allocations=[Allocation(Ref("130"), "invoice", D("931.32")),
                 Allocation(Ref("131"), "credit_note", D("391.32"))])
VENDOR_PAYMENT = Payment(
    key="k-vp", kind="vendor_payment", date=date(2025, 3, 11), party=Ref("59"),
    amount=D("46.01"), currency="USD", account=Ref("35"),
    number="PSUPPLIER/BANK-EUR/2025/00012",  # longer than DocNumber's 21 characters
    allocations=[Allocation(Ref("140"), "bill", D("106.01")),
                 Allocation(Ref("141"), "vendor_credit", D("60"))])
JOURNAL = JournalEntry(
    key="k-j", kind="journal_entry", date=date(2025, 3, 31), number="MISC/2025/0001",
    currency="USD", narration="Year-end accrual",
    lines=[JournalLine(Ref("84"), debit=D("250"), party=Ref("58", "Acme Inc"),
                       description="Accrued receivable"),
           JournalLine(Ref("79"), credit=D("250"), description="Income"),
           JournalLine(Ref("80"), debit=D("0"), credit=D("0"))])
ENTITY_TYPES = {"58": "Customer", "59": "Vendor"}
# Names QBO refuses as they are: a colon, more than 100 characters.
COLON_CUSTOMER = Party(key="k-cc", kind="customer", name="Wayne Enterprises: Gotham",
                       company_name="Wayne Enterprises: Gotham")
LONG_VENDOR = Party(key="k-lv", kind="vendor", name="Paper: " + "very long name " * 10)
COLON_ITEM = Product(key="k-ci", name="Parts: Bolts " + "x" * 120, code="S" * 120,
                     income_account=Ref("79"))
# Odoo's 15 % mapped to an 8.25 % code, with the transaction's tax code (QBO US).
TAXED_INVOICE = Document(key="k-ti", kind="invoice", number="INV/2025/0002",
                         date=date(2025, 3, 1), party=Ref("58"), currency="USD",
                         lines=SALES_LINES[:1], amount_untaxed=D("361.50"),
                         amount_tax=D("54.23"), amount_total=D("415.73"), tax_code=Ref("2"))
ITEM_BILL = Document(key="k-ib", kind="bill", number="BILL/2025/0002", date=date(2025, 3, 2),
                     party=Ref("59"), currency="USD", lines=[
                         Line("Desk", D("1"), D("300"), D("300.00"), Ref("80"), tax=Ref("TAX"),
                              tax_amount=D("45.00"), item=Ref("2"))],
                     amount_untaxed=D("300"), amount_tax=D("45.00"), amount_total=D("345.00"))
RECORDS = [CUSTOMER, VENDOR, SERVICE, GOODS, INVOICE, CREDIT_NOTE, BILL, VENDOR_CREDIT,
           CUSTOMER_PAYMENT, VENDOR_PAYMENT, JOURNAL, COLON_CUSTOMER, LONG_VENDOR, COLON_ITEM,
           TAXED_INVOICE, ITEM_BILL]


def _entity(record):
    return qbo.ENTITY[getattr(record, "kind", "product")]


def payloads():
    """(entity, payload) for every builder: creates, sparse updates, voids, deactivations."""
    result = []
    for record in RECORDS:
        body = qbo.build(record, ENTITY_TYPES)
        result.append((_entity(record), body))
        result.append((_entity(record), qbo.sparse(qbo.build(record, ENTITY_TYPES, create=False),
                                                   "42", "3")))
    for kind in qbo.VOID_PARAMS:
        result.append((qbo.ENTITY[kind], qbo.void_request(kind, "42", "3")[1]))
    for kind in ("customer", "vendor", "product"):
        result.append((qbo.ENTITY[kind], qbo.deactivate_body("42", "3")))
    return result


@pytest.mark.parametrize("entity,payload", payloads(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_payload_matches_the_qbo_schema(schema, entity, payload):
    assert schema.check(entity, payload) == []


def test_batch_envelope_matches_the_schema(schema):
    body = qbo.batch_body("Invoice", [("create", qbo.build(INVOICE)),
                                      ("update", qbo.sparse(qbo.build(INVOICE), "7", "0"))])
    assert schema.check("IntuitBatchRequest", body) == []
    assert all(len(item["bId"]) <= 10 for item in body["BatchItemRequest"])


def test_payloads_say_what_the_brief_asks():
    invoice = qbo.build(INVOICE)
    assert invoice["TxnTaxDetail"] == {"TotalTax": 29.82}
    assert invoice["CurrencyRef"] == {"value": "EUR"} and invoice["ExchangeRate"] == 1.085
    discounted = invoice["Line"][1]
    detail = discounted["SalesItemLineDetail"]
    assert discounted["Amount"] == 540.0 and round(detail["Qty"] * detail["UnitPrice"], 2) == 540
    assert qbo.build(VENDOR)["TaxIdentifier"] == "12-3456789"
    assert "CurrencyRef" not in qbo.build(CUSTOMER, create=False)
    payment = qbo.build(CUSTOMER_PAYMENT)
    assert [l["LinkedTxn"][0]["TxnType"] for l in payment["Line"]] == ["Invoice", "CreditMemo"]
    assert payment["PaymentRefNum"] == "PBNK1/2025/00004"
    assert payment["PrivateNote"] == "PBNK1/2025/00004: INV/2025/0001"
    bill_payment = qbo.build(VENDOR_PAYMENT)
    short = qbo.short_number(VENDOR_PAYMENT.number)
    assert bill_payment["DocNumber"] == short and len(short) == 21
    assert short[4] == "~" and short[5:] == VENDOR_PAYMENT.number[-16:]
    assert short == qbo.short_number(VENDOR_PAYMENT.number)  # deterministic
    assert short != qbo.short_number("PCUSTOMER/BANK-EUR/2025/00012")  # same tail, differs
    assert bill_payment["PrivateNote"] == VENDOR_PAYMENT.number  # the full number
    assert bill_payment["PayType"] == "Check"
    assert [l["LinkedTxn"][0]["TxnType"] for l in bill_payment["Line"]] == ["Bill",
                                                                          "VendorCredit"]
    journal = qbo.build(JOURNAL, ENTITY_TYPES)
    assert len(journal["Line"]) == 2  # the zero line is left out
    assert journal["Line"][0]["JournalEntryLineDetail"]["Entity"] == {
        "Type": "Customer", "EntityRef": {"value": "58"}}


def test_tax_lines_and_names_as_the_brief_asks():
    """TotalTax is Odoo's amount_tax on every document kind (QBO keeps a TotalTax sent), with
    the transaction's tax code when given; purchase lines are account-based, item or not;
    names lose their colons and fit 100 characters, the Odoo name kept."""
    for record in (INVOICE, CREDIT_NOTE, BILL, TAXED_INVOICE, ITEM_BILL):
        body = qbo.build(record)
        assert body["TxnTaxDetail"]["TotalTax"] == float(record.amount_tax), record.key
    assert qbo.build(TAXED_INVOICE)["TxnTaxDetail"] == {"TxnTaxCodeRef": {"value": "2"},
                                                       "TotalTax": 54.23}
    [line] = qbo.build(ITEM_BILL)["Line"]
    assert line["DetailType"] == "AccountBasedExpenseLineDetail"
    assert line["AccountBasedExpenseLineDetail"] == {"AccountRef": {"value": "80"},
                                                     "TaxCodeRef": {"value": "TAX"}}
    customer = qbo.build(COLON_CUSTOMER)
    assert customer["DisplayName"] == "Wayne Enterprises - Gotham"
    assert customer["CompanyName"] == "Wayne Enterprises: Gotham" and "Notes" not in customer
    vendor = qbo.build(LONG_VENDOR)
    assert ":" not in vendor["DisplayName"] and len(vendor["DisplayName"]) <= qbo.NAME_MAX
    assert vendor["DisplayName"].startswith("Paper - very long name") and "~" in \
        vendor["DisplayName"]
    assert vendor["Notes"] == "Name in Odoo: " + LONG_VENDOR.name
    item = qbo.build(COLON_ITEM)
    assert item["Name"].startswith("Parts - Bolts") and len(item["Name"]) == qbo.NAME_MAX
    assert len(item["Sku"]) == qbo.NAME_MAX
    assert "DisplayName" in qbo.build(CUSTOMER) and qbo.build(CUSTOMER)["DisplayName"] == \
        CUSTOMER.name  # a name QBO takes goes unchanged
    with pytest.raises(qbo.PayloadError, match="Default Product"):
        qbo.build(Document(**dict(vars(INVOICE), lines=[
            Line("No product", D("1"), D("10"), D("10"), Ref("79"))])))


def test_reference_numbers_fit_the_documented_length():
    """Finance.xsd documents DocNumber's length ("ValidRange: QBO: max=21"); PaymentRefNum,
    which it leaves undocumented, is held to the same 21 (Intuit's API reference)."""
    text = (FOLDER / "Finance.xsd").read_text()
    documented = re.search(r'name="DocNumber".*?ValidRange: QBO: max=(\d+)', text, re.S)
    limit = int(documented.group(1))
    assert limit == qbo.REF_NUMBER_MAX
    long_number = Payment(**dict(vars(CUSTOMER_PAYMENT), number="P" * 40))
    for record in RECORDS + [long_number]:
        body = qbo.build(record, ENTITY_TYPES)
        for field in ("DocNumber", "PaymentRefNum"):
            assert len(body.get(field) or "") <= limit, (record.key, field)
    assert qbo.build(long_number)["PrivateNote"].startswith("P" * 40)


@pytest.mark.parametrize("mutate,complaint", [
    (lambda p: p.update(Bogus=1), "Invoice.Bogus: not an element"),
    (lambda p: p["Line"][0]["SalesItemLineDetail"].update(AccountRef={"value": "1"}),
     "SalesItemLineDetail.AccountRef: not an element"),
    (lambda p: p["CustomerRef"].update(id="58"), "CustomerRef.id: not an element"),
    (lambda p: p.update(Line=p["Line"][0]), "Invoice.Line: must be a list"),
    (lambda p: p.update(TotalAmt="931.32"), "a decimal must be a JSON number"),
    (lambda p: p.update(TxnDate="01/03/2025"), "must be a date"),
    (lambda p: p["Line"][0].update(DetailType="SalesLine"), "is not one of"),
    (lambda p: p["Line"][0].update(DetailType="DescriptionOnly"), "without that detail"),
])
def test_the_checker_bites(schema, mutate, complaint):
    payload = copy.deepcopy(qbo.build(INVOICE))
    mutate(payload)
    problems = schema.check("Invoice", payload)
    assert any(complaint in p for p in problems), problems


# -- what a pull reads ---------------------------------------------------------------------------

def test_the_bodies_the_pull_tests_read_are_qbo_entities(schema):
    """The rows tests/test_pull.py reads (every kind and status) are instances of their
    entity in Finance.xsd, so the pull is tested on the documented shapes."""
    import json
    from datetime import datetime

    from test_pull import qbo_sample

    for entity, row in qbo_sample(datetime(2026, 3, 1)):
        row = json.loads(json.dumps(row, default=float))  # as JSON carries it
        assert schema.check(entity, row) == [], (entity, row["Id"])

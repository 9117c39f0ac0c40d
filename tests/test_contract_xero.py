"""Every Xero payload the adapter builds, validated with jsonschema against Xero's own OpenAPI
document (xero_accounting.yaml's components/schemas, from ../shared/specs/xero).

For requests the schemas are made strict: every object schema refuses properties it does not
declare (``additionalProperties: false``) and its read-only properties (plus Contact's
IsCustomer/IsSupplier, which Xero says cannot be set), so a misspelt or bogus key fails. Enums,
types and ``format: uuid`` are checked too. The folder is ``$ACCOUNTING_SYNC_SPECS`` or
``../shared/specs``; the tests skip, saying so, where it is absent.
"""
import copy
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml

from accounting_sync.providers.xero import payloads as xp
from accounting_sync.providers.documents import (
    Address, Allocation, Document, JournalEntry, JournalLine, Line, Party, Payment, Product, Ref,
)

SPECS = Path(os.environ.get("ACCOUNTING_SYNC_SPECS")
             or Path(__file__).resolve().parents[2] / "shared" / "specs")
SPEC = SPECS / "xero" / "xero_accounting.yaml"
NOT_SETTABLE = {"Contact": ("IsCustomer", "IsSupplier")}

pytestmark = pytest.mark.skipif(
    not SPEC.is_file(),
    reason="vendor schemas not found at %s (set ACCOUNTING_SYNC_SPECS to the shared/specs "
           "folder to run the Xero contract tests)" % SPEC)


def _strict(schemas):
    """Request schemas: no undeclared or read-only properties."""
    schemas = copy.deepcopy(schemas)
    for name, schema in schemas.items():
        properties = schema.get("properties")
        if properties is None:
            continue
        for key in [k for k, v in properties.items() if v.get("readOnly")]:
            del properties[key]
        for key in NOT_SETTABLE.get(name, ()):
            properties.pop(key, None)
        schema.setdefault("additionalProperties", False)
    return schemas


@pytest.fixture(scope="module")
def validate():
    with SPEC.open() as f:
        spec = yaml.safe_load(f)
    schemas = _strict(spec["components"]["schemas"])

    def check(schema_name, payload):
        root = {"$ref": "#/components/schemas/%s" % schema_name,
                "components": {"schemas": schemas}}
        validator = jsonschema.Draft7Validator(root, format_checker=jsonschema.FormatChecker())
        return sorted("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
                      for e in validator.iter_errors(payload))
    return check


# -- one record per kind ---------------------------------------------------------------------

D = Decimal
ACME = "6e6a4b7c-1c1d-4e0f-9a55-0b5d3f0c8a11"
PAPER = "0d1a7f7e-5a44-4b5e-8f1e-6a2b9c0d3e22"
INV_ID = "a3c9b0d2-7e4f-4a8b-9c1d-2e3f4a5b6c33"
CN_ID = "b4d0c1e3-8f5a-4b9c-8d2e-3f4a5b6c7d44"
ADDRESS = Address(street="1 High St", street2="Floor 2", city="London", zip="EC1A 1AA",
                  state="London", country_code="GB")
CUSTOMER = Party(key="k-c", kind="customer", name="Acme Ltd", email="ap@acme.test",
                 phone="+44 20 7946 0000", vat="GB123456789", currency="EUR", address=ADDRESS)
VENDOR = Party(key="k-v", kind="vendor", name="Paper Co", email="sales@paper.test")
SERVICE = Product(key="k-p", name="Consulting", code="CONS", description="Hourly",
                  sale_price=D("120.5"), purchase_price=D("80"), income_account=Ref("200"),
                  expense_account=Ref("310"))
NO_CODE = Product(key="k-g", name="Standing desk, oak (large)", sale_price=D("300"),
                  income_account=Ref("200"), service=False)
SALES_LINES = [
    Line("Consulting", D("3"), D("120.5"), D("361.50"), Ref("200"), tax=Ref("OUTPUT2"),
         tax_amount=D("72.30"), item=Ref(INV_ID)),
    Line("Desk, 10% off", D("2"), D("300"), D("540.00"), Ref("200"), tax=Ref("OUTPUT2"),
         tax_amount=D("108.00"), discount_percent=D("10")),
]
INVOICE = Document(key="k-i", kind="invoice", number="INV/2025/0001", date=date(2025, 3, 1),
                   party=Ref(ACME), currency="EUR", lines=SALES_LINES,
                   amount_untaxed=D("901.50"), amount_tax=D("180.30"), amount_total=D("1081.80"),
                   due_date=date(2025, 3, 31), exchange_rate=D("0.85"), reference="PO-77")
CREDIT_NOTE = Document(key="k-r", kind="credit_note", number="RINV/2025/0001",
                       date=date(2025, 3, 5), party=Ref(ACME), currency="GBP",
                       lines=SALES_LINES[:1], amount_untaxed=D("361.50"), amount_tax=D("72.30"),
                       amount_total=D("433.80"), reference="Returned")
PURCHASE_LINES = [Line("Paper", D("10"), D("4.25"), D("42.50"), Ref("429"), tax=Ref("INPUT2"),
                       tax_amount=D("8.50"))]
BILL = Document(key="k-b", kind="bill", number="BILL/2025/0001", date=date(2025, 3, 2),
                party=Ref(PAPER), currency="GBP", lines=PURCHASE_LINES,
                amount_untaxed=D("42.50"), amount_tax=D("8.50"), amount_total=D("51.00"),
                due_date=date(2025, 4, 1), reference="PAPER-991")
VENDOR_CREDIT = Document(key="k-vc", kind="vendor_credit", number="RBILL/2025/0001",
                         date=date(2025, 3, 3), party=Ref(PAPER), currency="GBP",
                         lines=PURCHASE_LINES, amount_untaxed=D("42.50"), amount_tax=D("8.50"),
                         amount_total=D("51.00"))
CUSTOMER_PAYMENT = Payment(
    key="k-cp", kind="customer_payment", date=date(2025, 3, 10), party=Ref(ACME),
    amount=D("648"), currency="EUR", account=Ref("090"), exchange_rate=D("0.86"),
    reference="INV/2025/0001", number="PBNK1/2025/00004",
    allocations=[Allocation(Ref(INV_ID), "invoice", D("1081.80")),
                 Allocation(Ref(CN_ID), "credit_note", D("433.80"))])
VENDOR_PAYMENT = Payment(
    key="k-vp", kind="vendor_payment", date=date(2025, 3, 11), party=Ref(PAPER),
    amount=D("51"), currency="GBP", account=Ref("7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b55"),
    number="PBNK2/2025/00001", reference="x" * 300,
    allocations=[Allocation(Ref(INV_ID), "bill", D("51"))])
JOURNAL = JournalEntry(
    key="k-j", kind="journal_entry", date=date(2025, 3, 31), number="MISC/2025/0001",
    narration="Year-end accrual",
    lines=[JournalLine(Ref("610"), debit=D("250"), party=Ref(ACME), description="Accrual"),
           JournalLine(Ref("200"), credit=D("250"), tax=Ref("NONE")),
           JournalLine(Ref("800"))])
# Longer than Xero takes (xero_accounting.yaml's maxLength), shortened by the names rule.
LONG_CONTACT = Party(key="k-lc", kind="customer", name="Consolidated Holdings: " * 15)
LONG_ITEM = Product(key="k-li", name="Ergonomic standing desk, solid oak, extra large, left",
                    code="FURNITURE-DESK-STANDING-OAK-XL-LEFT", income_account=Ref("200"))
# (schema of one element, wrapper schema, wrapper key, records)
CASES = [
    ("Contact", "Contacts", [CUSTOMER, VENDOR, LONG_CONTACT]),
    ("Item", "Items", [SERVICE, NO_CODE, LONG_ITEM]),
    ("Invoice", "Invoices", [INVOICE, BILL]),
    ("CreditNote", "CreditNotes", [CREDIT_NOTE, VENDOR_CREDIT]),
    ("ManualJournal", "ManualJournals", [JOURNAL]),
]


def payloads():
    result = []
    for schema, wrapper, records in CASES:
        elements = [xp.build(r) for r in records] + [xp.build(r, remote_id=INV_ID)
                                                      for r in records]
        result += [(schema, e) for e in elements] + [(wrapper, {wrapper: elements})]
    elements = xp.build(CUSTOMER_PAYMENT) + xp.build(VENDOR_PAYMENT)
    result += [("Payment", e) for e in elements] + [("Payments", {"Payments": elements})]
    result += [("Invoice", xp.header_payload(INVOICE, INV_ID)),
               ("Invoices", {"Invoices": [xp.void_payload("invoice", INV_ID, "VOIDED")]}),
               ("CreditNotes", {"CreditNotes": [xp.void_payload("credit_note", CN_ID,
                                                                "DELETED")]}),
               ("ManualJournals", {"ManualJournals": [xp.void_payload(
                   "journal_entry", INV_ID, "VOIDED", narration="MISC/2025/0001")]}),
               ("Contacts", {"Contacts": [xp.archive_contact_payload(ACME)]}),
               ("PaymentDelete", xp.PAYMENT_DELETE)]
    return result


@pytest.mark.parametrize("schema,payload", payloads(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_payload_matches_the_xero_schema(validate, schema, payload):
    assert validate(schema, payload) == []


def test_payloads_say_what_the_brief_asks():
    invoice = xp.build(INVOICE)
    assert (invoice["Type"], invoice["Status"], invoice["LineAmountTypes"]) == (
        "ACCREC", "AUTHORISED", "Exclusive")
    assert invoice["InvoiceNumber"] == "INV/2025/0001" and invoice["Reference"] == "PO-77"
    assert invoice["CurrencyRate"] == round(1 / 0.85, 6)
    assert [l["TaxAmount"] for l in invoice["LineItems"]] == [72.3, 108.0]
    bill = xp.build(BILL)
    assert bill["Type"] == "ACCPAY" and bill["InvoiceNumber"] == "BILL/2025/0001"
    assert "Reference" not in bill  # Xero: Reference is for sales documents only
    assert xp.build(CREDIT_NOTE)["CreditNoteNumber"] == "RINV/2025/0001"
    assert xp.build(NO_CODE)["Code"] == "Standing-desk-oak-large"
    assert "IsCustomer" not in xp.build(CUSTOMER)
    payments = xp.build(CUSTOMER_PAYMENT)
    assert len(payments) == 2  # one Xero payment per allocation
    assert payments[0]["Invoice"] == {"InvoiceID": INV_ID}
    assert payments[1]["CreditNote"] == {"CreditNoteID": CN_ID}
    assert payments[0]["Account"] == {"Code": "090"}
    assert {p["Reference"] for p in payments} == {"PBNK1/2025/00004: INV/2025/0001"}
    [vendor_payment] = xp.build(VENDOR_PAYMENT)
    assert len(vendor_payment["Reference"]) == 255  # the number first, the memo cut
    assert vendor_payment["Reference"].startswith("PBNK2/2025/00001: xxx")
    assert xp.build(VENDOR_PAYMENT)[0]["Account"] == {
        "AccountID": "7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b55"}
    journal = xp.build(JOURNAL)
    assert journal["Narration"] == "MISC/2025/0001: Year-end accrual"
    assert [(l["LineAmount"], l["TaxType"]) for l in journal["JournalLines"]] == [
        (250.0, "NONE"), (-250.0, "NONE")]


def test_long_names_are_shortened_and_lines_are_account_based():
    contact = xp.build(LONG_CONTACT)
    assert len(contact["Name"]) == 255 and contact["Name"].startswith("Consolidated Holdings:")
    item = xp.build(LONG_ITEM)
    assert len(item["Code"]) == 30 and len(item["Name"]) == 50
    assert item["Code"] == "FURNITURE-DESK-STANDING~" + item["Code"][-6:]
    assert xp.build(LONG_ITEM) == item  # deterministic
    for record in (INVOICE, BILL, CREDIT_NOTE):
        for line in xp.build(record)["LineItems"]:
            assert "ItemCode" not in line and ("AccountCode" in line or "AccountID" in line)


@pytest.mark.parametrize("schema,mutate,complaint", [
    ("Invoice", lambda p: p.update(Bogus=1), "'Bogus' was unexpected"),
    ("Invoice", lambda p: p["LineItems"][0].update(Amount=1), "'Amount' was unexpected"),
    ("Invoice", lambda p: p.update(Total=1081.8), "'Total' was unexpected"),  # read-only
    ("Invoice", lambda p: p.update(Status="OPEN"), "is not one of"),
    ("Invoice", lambda p: p["LineItems"][0].update(Quantity="3"), "is not of type 'number'"),
    ("Invoice", lambda p: p["Contact"].update(ContactID="58"), "is not a 'uuid'"),
    ("Contact", lambda p: p.update(IsCustomer=True), "'IsCustomer' was unexpected"),
])
def test_the_validator_bites(validate, schema, mutate, complaint):
    record = CUSTOMER if schema == "Contact" else INVOICE
    payload = copy.deepcopy(xp.build(record))
    mutate(payload)
    problems = validate(schema, payload)
    assert any(complaint in p for p in problems), problems


# -- what a pull reads ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def validate_answer():
    """Answer schemas: read-only properties allowed, undeclared ones refused."""
    with SPEC.open() as f:
        schemas = copy.deepcopy(yaml.safe_load(f)["components"]["schemas"])
    for schema in schemas.values():
        if schema.get("properties") is not None:
            schema.setdefault("additionalProperties", False)

    def check(schema_name, element):
        root = {"$ref": "#/components/schemas/%s" % schema_name,
                "components": {"schemas": schemas}}
        validator = jsonschema.Draft7Validator(root, format_checker=jsonschema.FormatChecker())
        return sorted("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
                      for e in validator.iter_errors(element))
    return check


def test_the_bodies_the_pull_tests_read_are_xero_elements(validate_answer):
    """The elements tests/test_pull.py reads (every resource and status) are instances of
    xero_accounting.yaml's schemas, so the pull is tested on the documented shapes."""
    from datetime import datetime

    from test_pull import xero_sample

    schemas = {"Contacts": "Contact", "Items": "Item", "Invoices": "Invoice",
               "CreditNotes": "CreditNote", "Payments": "Payment",
               "ManualJournals": "ManualJournal"}
    for resource, elements in xero_sample(datetime(2026, 3, 1)).items():
        for element in elements:
            assert validate_answer(schemas[resource], element) == [], (resource, element)

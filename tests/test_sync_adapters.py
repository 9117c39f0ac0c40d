"""The adapters' books half — fetch_chart, push, void, deactivate — against the provider
sandbox, through python-quickbooks and xero-python, for QuickBooks Online and Xero."""
from datetime import date
from decimal import Decimal as D

import pytest

from accounting_sync.providers import (
    AuthorizationError, ProviderUnavailableError, RateLimitError, get_adapter,
)
from accounting_sync.providers.documents import (
    Allocation, Document, JournalEntry, JournalLine, Line, Party, Payment, Product, Ref,
)
from conftest import REDIRECT_URI, authorize

# The sandbox's rate limits are off here (test_rate_limits.py covers pacing): pace as if
# its "minute" lasted 60 ms, so that these tests are not slowed to the real limits.
SCALE = 1000.0
REALM = "9341453050000001"
UK = "11111111-1111-4111-8111-111111111111"


class Books:
    """One connected remote company: the adapter calls, shortened."""

    def __init__(self, sb, adapter, tokens, company):
        self.sb, self.adapter, self.tokens, self.company = sb, adapter, tokens, company
        self.provider = "qbo" if adapter.code == "quickbooks_online" else "xero"

    def push(self, *records):
        return self.adapter.push(self.tokens, self.company, list(records))

    def ok(self, *records):
        results = self.push(*records)
        assert all(r.ok for r in results), [str(r.error) for r in results if not r.ok]
        return results[0] if len(results) == 1 else results

    def void(self, kind, remote_id, version=None):
        return self.adapter.void(self.tokens, self.company, kind, remote_id, version)

    def deactivate(self, kind, remote_id, version=None):
        return self.adapter.deactivate(self.tokens, self.company, kind, remote_id, version)

    def records(self, resource):
        return self.sb.records(self.provider, resource, self.company)

    def record(self, resource, remote_id):
        id_field = "Id" if self.provider == "qbo" else resource[:-1] + "ID"
        return next(r for r in self.records(resource) if r[id_field] == remote_id)

    def calls(self, path_contains):
        return self.sb.calls(provider=self.provider, path_contains=path_contains)


@pytest.fixture
def qbo(sb):
    adapter = get_adapter("quickbooks_online", client_id="qbo-id", client_secret="qbo-secret",
                          environment="local", base_url=sb.url, time_scale=SCALE)
    params, _verifier = authorize(sb, adapter, companies=[REALM])
    books = Books(sb, adapter, adapter.exchange_code(params["code"], REDIRECT_URI), REALM)
    books.accounts = {a.name: a.id for a in adapter.fetch_chart(books.tokens, REALM).accounts}
    return books


@pytest.fixture
def xero(sb):
    adapter = get_adapter("xero", client_id="xero-id", client_secret="xero-secret",
                          environment="local", base_url=sb.url, time_scale=SCALE)
    params, verifier = authorize(sb, adapter, companies=[UK])
    tokens = adapter.exchange_code(params["code"], REDIRECT_URI, code_verifier=verifier)
    return Books(sb, adapter, tokens, UK)


def customer(name="Acme Inc", email="ap@acme.test", key=None, kind="customer"):
    return Party(key=key or "%s-%s" % (kind, name), kind=kind, name=name, email=email)


def document(kind, number, party, lines, tax=D("0"), currency=None, rate=None):
    untaxed = sum((l.amount for l in lines), D("0"))
    return Document(key="doc-" + number, kind=kind, number=number, date=date(2025, 3, 3),
                    party=Ref(party), currency=currency or "USD", lines=lines,
                    amount_untaxed=untaxed, amount_tax=tax, amount_total=untaxed + tax,
                    due_date=date(2025, 4, 2), exchange_rate=rate)


def payment(kind, party, account, allocations, key="pay-1"):
    return Payment(key=key, kind=kind, date=date(2025, 3, 10), party=Ref(party),
                   amount=sum((a.amount * (-1 if a.document_kind in ("credit_note",
                                                                     "vendor_credit") else 1)
                               for a in allocations), D("0")),
                   currency="USD", account=Ref(account), allocations=allocations,
                   reference="BNK/%s" % key)


# == QuickBooks Online ===========================================================================

def qbo_parties_and_item(qbo):
    party = qbo.ok(customer()).remote_id
    vendor = qbo.ok(customer("Paper Co", None, kind="vendor")).remote_id
    item = qbo.ok(Product(key="p-cons", name="Consulting", code="CONS", sale_price=D("120"),
                          income_account=Ref(qbo.accounts["Services"]))).remote_id
    return party, vendor, item


def qbo_invoice(qbo, number, party, item, qty=D("3"), price=D("120")):
    amount = qty * price
    tax = (amount * D("0.0825")).quantize(D("0.01"))
    return document("invoice", number, party, [
        Line("Consulting", qty, price, amount, Ref(qbo.accounts["Services"]), tax=Ref("TAX"),
             tax_amount=tax, item=Ref(item)),
        Line("Travel", D("1"), D("45.5"), D("45.50"), Ref(qbo.accounts["Services"]),
             tax=Ref("NON"), item=Ref(item))], tax=tax)


def qbo_bill(qbo, kind, number, vendor, amount):
    return document(kind, number, vendor, [
        Line("Paper", D("1"), amount, amount, Ref(qbo.accounts["Office Supplies"]))])


def test_qbo_chart(qbo):
    chart = qbo.adapter.fetch_chart(qbo.tokens, REALM)
    banks = {a.name for a in chart.accounts if a.is_bank}
    assert {"Checking", "Undeposited Funds"} <= banks and "Services" not in banks
    taxes = {t.id: t for t in chart.taxes}
    assert taxes["TAX"].rate == D("8.25") and "NON" in taxes
    assert chart.currency == "USD"


def test_qbo_parties_create_link_and_clash(qbo):
    created = qbo.ok(customer())
    assert not created.linked_existing and created.remote_version == "0"
    seeded = qbo.sb.seed("qbo", "Customer", {"DisplayName": "Globex",
                                             "PrimaryEmailAddr": {"Address": "ap@globex.test"}},
                         REALM)
    linked, clash = qbo.push(customer("Globex", "AP@globex.test"),
                             customer("ACME INC", "someone@else.test"))
    assert linked.ok and linked.linked_existing and linked.remote_id == seeded["Id"]
    assert not clash.ok and "ap@acme.test" in clash.error.message
    assert "someone@else.test" in clash.error.message and "rename" in clash.error.message
    [vendor] = qbo.push(customer("Acme Inc", None, kind="vendor"))
    assert not vendor.ok and vendor.error.code == "name_taken"
    assert vendor.error.provider_code == "6240"
    assert "Acme Inc (Vendor)" in vendor.error.message
    assert [c["DisplayName"] for c in qbo.records("Customer")] == ["Acme Inc", "Globex"]
    assert qbo.deactivate("customer", created.remote_id).ok
    assert qbo.record("Customer", created.remote_id)["Active"] is False


def test_qbo_products_link_by_sku(qbo):
    item = Product(key="p-1", name="Desk", code="DSK", sale_price=D("300"), service=False,
                   income_account=Ref(qbo.accounts["Sales of Product Income"]))
    first = qbo.ok(item)
    again = qbo.ok(Product(key="p-2", name="Desk (oak)", code="DSK",
                           income_account=Ref(qbo.accounts["Services"])))
    assert again.linked_existing and again.remote_id == first.remote_id
    assert qbo.record("Item", first.remote_id)["Type"] == "NonInventory"
    assert qbo.deactivate("product", first.remote_id).ok
    assert qbo.record("Item", first.remote_id)["Active"] is False


def test_qbo_never_a_second_document_with_the_same_number(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    other = qbo.ok(customer("Globex", None)).remote_id
    theirs = qbo.sb.seed("qbo", "Invoice", {
        "DocNumber": "INV/9", "CustomerRef": {"value": other}, "Line": [{
            "Amount": 10, "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": item}}}]}, REALM)
    [result] = qbo.push(qbo_invoice(qbo, "INV/9", party, item))
    assert not result.ok and result.error.code == "number_in_use"
    assert result.error.provider_code == "6140"
    assert result.error.params["number"] == "INV/9" and result.error.params["id"] == theirs["Id"]
    assert "INV/9" in result.error.message and theirs["Id"] in result.error.message
    assert len(qbo.records("Invoice")) == 1


def test_qbo_documents_totals_match_to_the_cent(qbo):
    party, vendor, item = qbo_parties_and_item(qbo)
    invoice = qbo_invoice(qbo, "INV/0001", party, item, qty=D("3"), price=D("33.33"))
    invoice.currency, invoice.exchange_rate = "EUR", D("1.0842")
    credit = qbo_invoice(qbo, "RINV/0001", party, item, qty=D("1"))
    credit.kind = "credit_note"
    records = [invoice, credit, qbo_bill(qbo, "bill", "BILL/0001", vendor, D("80.25")),
               qbo_bill(qbo, "vendor_credit", "RBILL/0001", vendor, D("20"))]
    for record, entity in zip(records, ("Invoice", "CreditMemo", "Bill", "VendorCredit")):
        result = qbo.ok(record)
        remote = qbo.record(entity, result.remote_id)
        assert D(str(remote["TotalAmt"])) == record.amount_total, entity
        assert result.remote_number == remote["DocNumber"] == record.number
        assert remote["CurrencyRef"]["value"] == record.currency
    assert qbo.records("Invoice")[0]["ExchangeRate"] == 1.0842


def test_qbo_payments_settle_documents(qbo):
    party, vendor, item = qbo_parties_and_item(qbo)
    first, second = qbo.ok(qbo_invoice(qbo, "INV/1", party, item),
                           qbo_invoice(qbo, "INV/2", party, item, qty=D("1")))
    totals = [qbo.record("Invoice", r.remote_id)["TotalAmt"] for r in (first, second)]
    paid = qbo.ok(payment("customer_payment", party, qbo.accounts["Checking"], [
        Allocation(Ref(first.remote_id), "invoice", D(str(totals[0]))),
        Allocation(Ref(second.remote_id), "invoice", D(str(totals[1])))]))
    assert [qbo.record("Invoice", r.remote_id)["Balance"] for r in (first, second)] == [0, 0]
    bill = qbo.ok(qbo_bill(qbo, "bill", "BILL/1", vendor, D("100")))
    credit = qbo.ok(qbo_bill(qbo, "vendor_credit", "RBILL/1", vendor, D("30")))
    qbo.ok(payment("vendor_payment", vendor, qbo.accounts["Checking"], [
        Allocation(Ref(bill.remote_id), "bill", D("100")),
        Allocation(Ref(credit.remote_id), "vendor_credit", D("30"))], key="pay-2"))
    assert qbo.record("Bill", bill.remote_id)["Balance"] == 0
    voided = qbo.void("customer_payment", paid.remote_id)
    assert voided.ok and voided.remote_version == "1"
    assert qbo.record("Invoice", first.remote_id)["Balance"] == totals[0]
    assert qbo.void("invoice", first.remote_id).ok
    assert qbo.record("Invoice", first.remote_id)["TotalAmt"] == 0


def test_qbo_journal_entry_with_a_party(qbo):
    party = qbo.ok(customer()).remote_id
    entry = JournalEntry(key="je-1", kind="journal_entry", date=date(2025, 3, 31),
                         number="MISC/1", narration="Accrual", lines=[
                             JournalLine(Ref(qbo.accounts["Accounts Receivable (A/R)"]),
                                         debit=D("250"), party=Ref(party, "Acme Inc")),
                             JournalLine(Ref(qbo.accounts["Services"]), credit=D("250"))])
    result = qbo.ok(entry)
    line = qbo.record("JournalEntry", result.remote_id)["Line"][0]["JournalEntryLineDetail"]
    assert line["Entity"]["Type"] == "Customer" and line["Entity"]["EntityRef"]["value"] == party
    assert qbo.void("journal_entry", result.remote_id).ok
    assert qbo.records("JournalEntry") == []


def test_qbo_stale_update_is_retried_with_the_fresh_sync_token(qbo):
    created = qbo.ok(customer())
    someone_else = customer("Acme Incorporated", key="other-edit")
    someone_else.remote_id, someone_else.remote_version = created.remote_id, "0"
    assert qbo.ok(someone_else).remote_version == "1"
    ours = customer("Acme Inc.", key="our-edit")
    ours.remote_id, ours.remote_version = created.remote_id, "0"  # stale
    result = qbo.ok(ours)
    assert result.remote_version == "2"
    assert qbo.record("Customer", created.remote_id)["DisplayName"] == "Acme Inc."


def test_qbo_one_bad_record_does_not_stop_the_others(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    bad = qbo_invoice(qbo, "INV/2", "999", item)
    good, failed, also_good = qbo.push(qbo_invoice(qbo, "INV/1", party, item), bad,
                                       qbo_invoice(qbo, "INV/3", party, item))
    assert good.ok and also_good.ok and not failed.ok
    assert failed.error.code == "reference_inactive" and failed.error.provider_code == "610"
    assert failed.error.message.startswith("QuickBooks Online cannot find the customer "
                                           "referenced (inactive or deleted)")


def test_qbo_replay_creates_nothing_new(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    invoices = [qbo_invoice(qbo, "INV/%d" % n, party, item) for n in (1, 2, 3)]
    first = qbo.ok(*invoices[:2])
    # a crash before the results were stored, then a retry grouping them differently
    again = qbo.ok(*invoices[1:])
    assert again[0].remote_id == first[1].remote_id and again[0].linked_existing
    assert len(qbo.records("Invoice")) == 3
    total = qbo.record("Invoice", first[0].remote_id)["TotalAmt"]
    pay = payment("customer_payment", party, qbo.accounts["Undeposited Funds"],
                  [Allocation(Ref(first[0].remote_id), "invoice", D(str(total)))])
    assert qbo.ok(pay).remote_id == qbo.ok(pay).remote_id  # the batch requestid replays
    assert len(qbo.records("Payment")) == 1


def test_qbo_31_invoices_make_a_batch_and_a_lone_create(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    before = qbo.sb.api_calls("qbo", REALM)
    batches_before = len(qbo.calls("/batch"))
    creates_before = len(qbo.calls("/invoice"))
    results = qbo.ok(*[qbo_invoice(qbo, "INV/%02d" % n, party, item) for n in range(31)])
    batches = qbo.calls("/batch")[batches_before:]
    assert len(results) == 31 and len(batches) == 1
    assert len(batches[0]["idempotency_key"]) <= 36
    # The 31st goes alone as a plain create: the batch limit (40 a minute) is the scarcer.
    [lone] = qbo.calls("/invoice")[creates_before:]
    assert lone["method"] == "POST" and 0 < len(lone["idempotency_key"]) <= 50
    assert qbo.sb.api_calls("qbo", REALM) - before == 4  # + 2 DocNumber look-ups


def test_qbo_documents_never_sent_are_not_looked_up(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    queries_before = len(qbo.calls("/query"))
    records = [qbo_invoice(qbo, "NEW/%02d" % n, party, item) for n in range(3)]
    for record in records:
        record.find_existing = False
    qbo.ok(*records)
    assert len(qbo.calls("/query")) == queries_before


def test_qbo_throttling_outage_and_expired_token(qbo):
    record = customer()
    qbo.sb.add_fault(status=429, provider="qbo", path_contains="/query", retry_after=2)
    with pytest.raises(RateLimitError) as throttled:
        qbo.push(record)
    assert throttled.value.retry_after == 2
    qbo.sb.add_fault(status=503, provider="qbo", path_contains="/customer")
    with pytest.raises(ProviderUnavailableError):
        qbo.push(record)
    qbo.sb.expire_access_tokens("qbo")
    with pytest.raises(AuthorizationError):
        qbo.push(record)


# == Xero ========================================================================================

def xero_invoice(kind, number, party, qty=D("3"), price=D("120")):
    sales = kind in ("invoice", "credit_note")
    amount = qty * price
    tax = (amount * D("0.2")).quantize(D("0.01"))
    return document(kind, number, party, [
        Line("Consulting" if sales else "Paper", qty, price, amount,
             Ref("200" if sales else "429"), tax=Ref("OUTPUT2" if sales else "INPUT2"),
             tax_amount=tax),
        Line("Postage", D("1"), D("4.99"), D("4.99"), Ref("200" if sales else "429"))],
        tax=tax, currency="GBP")


def test_xero_chart(xero):
    chart = xero.adapter.fetch_chart(xero.tokens, UK)
    accounts = {a.id: a for a in chart.accounts}
    assert accounts["090"].is_bank and not accounts["200"].is_bank
    assert {t.id: t.rate for t in chart.taxes}["OUTPUT2"] == D("20")
    assert (chart.currency, chart.country) == ("GBP", "GB")


def test_xero_contacts_create_link_and_clash(xero):
    created = xero.ok(customer())
    seeded = xero.sb.seed("xero", "Contacts", {"Name": "Globex",
                                               "EmailAddress": "ap@globex.test"}, UK)
    linked, clash = xero.push(customer("globex", None), customer("Acme Inc", "x@y.test"))
    assert linked.linked_existing and linked.remote_id == seeded["ContactID"]
    assert not clash.ok and "ap@acme.test" in clash.error.message
    vendor = xero.ok(customer("Acme Inc", None, kind="vendor"))  # one contact for both
    assert vendor.linked_existing and vendor.remote_id == created.remote_id
    assert len(xero.records("Contacts")) == 2
    assert xero.deactivate("customer", created.remote_id).ok
    assert xero.record("Contacts", created.remote_id)["ContactStatus"] == "ARCHIVED"


def test_xero_items_code_fallback_and_link(xero):
    created = xero.ok(Product(key="p-1", name="Standing desk (oak)", sale_price=D("300"),
                              income_account=Ref("200")))
    assert xero.record("Items", created.remote_id)["Code"] == "Standing-desk-oak"
    again = xero.ok(Product(key="p-2", name="Standing desk (oak)"))
    assert again.linked_existing and again.remote_id == created.remote_id


def test_xero_documents_payments_and_journal(xero):
    party = xero.ok(customer()).remote_id
    supplier = xero.ok(customer("Paper Co", None, kind="vendor")).remote_id
    kinds = [("invoice", "INV/1", party, "Invoices"), ("credit_note", "RINV/1", party,
                                                        "CreditNotes"),
             ("bill", "BILL/1", supplier, "Invoices"),
             ("vendor_credit", "RBILL/1", supplier, "CreditNotes")]
    written = {}
    for kind, number, contact, resource in kinds:
        record = xero_invoice(kind, number, contact, qty=D("3"), price=D("33.33"))
        written[kind] = result = xero.ok(record)
        remote = xero.record(resource, result.remote_id)
        assert D(str(remote["Total"])) == record.amount_total and remote["Status"] == "AUTHORISED"
    second = xero.ok(xero_invoice("invoice", "INV/2", party, qty=D("1")))
    invoices = [xero.record("Invoices", r.remote_id) for r in (written["invoice"], second)]
    paid = xero.ok(payment("customer_payment", party, "090", [
        Allocation(Ref(i["InvoiceID"]), "invoice", D(str(i["Total"]))) for i in invoices]))
    assert len(paid.remote_id.split(",")) == 2
    assert [xero.record("Invoices", i["InvoiceID"])["AmountDue"] for i in invoices] == [0, 0]
    entry = JournalEntry(key="je-1", kind="journal_entry", date=date(2025, 3, 31),
                         number="MISC/1", narration="Accrual",
                         lines=[JournalLine(Ref("429"), debit=D("80")),
                                JournalLine(Ref("800"), credit=D("80"))])
    journal = xero.ok(entry)
    assert xero.record("ManualJournals", journal.remote_id)["Status"] == "POSTED"
    assert xero.void("customer_payment", paid.remote_id).ok
    assert {p["Status"] for p in xero.records("Payments")} == {"DELETED"}
    assert xero.void("invoice", second.remote_id).ok
    assert xero.record("Invoices", second.remote_id)["Status"] == "VOIDED"
    assert xero.void("journal_entry", journal.remote_id).ok
    assert xero.record("ManualJournals", journal.remote_id)["Status"] == "VOIDED"


def test_xero_payment_is_all_or_nothing(xero):
    party = xero.ok(customer()).remote_id
    invoice = xero.ok(xero_invoice("invoice", "INV/1", party))
    total = D(str(xero.record("Invoices", invoice.remote_id)["Total"]))
    [result] = xero.push(payment("customer_payment", party, "090", [
        Allocation(Ref(invoice.remote_id), "invoice", total - 10),
        Allocation(Ref(invoice.remote_id), "invoice", D("999"))]))
    assert not result.ok and "exceeds the amount outstanding" in result.error.message
    assert {p["Status"] for p in xero.records("Payments")} == {"DELETED"}
    assert xero.record("Invoices", invoice.remote_id)["AmountDue"] == float(total)


def test_xero_payment_update_replaces_the_payment(xero):
    party = xero.ok(customer()).remote_id
    invoice = xero.ok(xero_invoice("invoice", "INV/1", party))
    total = D(str(xero.record("Invoices", invoice.remote_id)["Total"]))
    first = xero.ok(payment("customer_payment", party, "090",
                            [Allocation(Ref(invoice.remote_id), "invoice", total - 10)]))
    changed = payment("customer_payment", party, "090",
                      [Allocation(Ref(invoice.remote_id), "invoice", total)], key="pay-1b")
    changed.remote_id = first.remote_id
    result = xero.ok(changed)
    assert result.remote_id != first.remote_id and "deleted" in result.note
    assert xero.record("Payments", first.remote_id)["Status"] == "DELETED"
    assert xero.record("Invoices", invoice.remote_id)["Status"] == "PAID"


def test_xero_changed_approved_invoice_is_voided_and_recreated(xero):
    party = xero.ok(customer()).remote_id
    original = xero.ok(xero_invoice("invoice", "INV/1", party))
    header = xero_invoice("invoice", "INV/1", party)
    header.remote_id, header.reference = original.remote_id, "PO-9"
    same = xero.ok(header)
    assert same.remote_id == original.remote_id and not same.note
    changed = xero_invoice("invoice", "INV/1", party, qty=D("4"))
    changed.remote_id = original.remote_id
    result = xero.ok(changed)
    assert result.remote_id != original.remote_id and "voided and recreated" in result.note
    assert xero.record("Invoices", original.remote_id)["Status"] == "VOIDED"
    assert xero.record("Invoices", result.remote_id)["InvoiceNumber"] == "INV/1"


def test_xero_one_bad_record_does_not_stop_the_others(xero):
    party = xero.ok(customer()).remote_id
    bad = xero_invoice("invoice", "INV/2", party)
    bad.lines[0].account = Ref("999")
    good, failed, also_good = xero.push(xero_invoice("invoice", "INV/1", party), bad,
                                        xero_invoice("invoice", "INV/3", party))
    assert good.ok and also_good.ok and not failed.ok
    assert "Account code '999' is not a valid code" in failed.error.message
    assert len(xero.records("Invoices")) == 2


def test_xero_replay_creates_nothing_new(xero):
    party = xero.ok(customer()).remote_id
    invoices = [xero_invoice("invoice", "INV/%d" % n, party) for n in (1, 2, 3)]
    first = xero.ok(*invoices[:2])
    again = xero.ok(*invoices[1:])
    assert again[0].remote_id == first[1].remote_id and again[0].linked_existing
    assert len(xero.records("Invoices")) == 3
    total = D(str(xero.record("Invoices", first[0].remote_id)["Total"]))
    pay = payment("customer_payment", party, "090",
                  [Allocation(Ref(first[0].remote_id), "invoice", total)])
    assert xero.ok(pay).remote_id == xero.ok(pay).remote_id  # the Idempotency-Key replays
    assert len(xero.records("Payments")) == 1


def test_xero_51_invoices_make_two_requests(xero):
    party = xero.ok(customer()).remote_id
    before = xero.sb.api_calls("xero", UK)
    puts_before = len([c for c in xero.calls("/Invoices") if c["method"] == "PUT"])
    results = xero.ok(*[xero_invoice("invoice", "INV/%02d" % n, party) for n in range(51)])
    puts = [c for c in xero.calls("/Invoices") if c["method"] == "PUT"][puts_before:]
    assert len(results) == 51 and len(puts) == 2
    assert len({c["idempotency_key"] for c in puts}) == 2
    assert xero.sb.api_calls("xero", UK) - before == 4  # + 2 InvoiceNumber look-ups


def test_xero_throttling_outage_and_expired_token(xero):
    record = customer()
    xero.sb.add_fault(status=429, provider="xero", path_contains="/Contacts", retry_after=2)
    with pytest.raises(RateLimitError) as throttled:
        xero.push(record)
    assert throttled.value.retry_after == 2
    xero.sb.add_fault(status=503, provider="xero", path_contains="/Contacts")
    with pytest.raises(ProviderUnavailableError):
        xero.push(record)
    xero.sb.expire_access_tokens("xero")
    with pytest.raises(AuthorizationError):
        xero.push(record)

"""Pulling changes (``Adapter.changes`` → ``incoming.PullResult``): QuickBooks Online Change
Data Capture and Xero If-Modified-Since.

The first half reads fixed bodies in the documented wire shapes (provider-facts 1.7, 2.3–2.5,
8.2–8.3) through the pull modules, with stand-ins for the SDK clients: every record kind and
status, windows and cursors, the CDC cap, the look-back, failures. The second half goes
through the real adapters and the provider sandbox over HTTP."""
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import pytest

from accounting_sync.providers import (
    AuthorizationError, ProviderError, ProviderUnavailableError, get_adapter,
)
from accounting_sync.providers.base import Change, utcnow
from accounting_sync.providers.documents import Allocation, Ref
from accounting_sync.providers.incoming import (
    IncomingDocument, IncomingJournalEntry, IncomingParty, IncomingPayment, IncomingProduct,
    PullResult, position,
)
from accounting_sync.providers.pull import OVERLAP, event_id
from accounting_sync.providers.quickbooks_online import pull as qbo_pull
from accounting_sync.providers.sync_rules import UsageError
from accounting_sync.providers.xero import pull as xero_pull

REALM = "9341453050000001"
UK = "11111111-1111-4111-8111-111111111111"
PST = timezone(timedelta(hours=-8))


def qbo_time(moment):
    """A naive UTC moment as QBO writes MetaData times: the company's local time."""
    return moment.replace(tzinfo=timezone.utc).astimezone(PST).isoformat()


def ms_date(moment):
    return "/Date(%d+0000)/" % int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


# == QuickBooks Online: stand-ins ===================================================================

class QboBooks:
    """A realm's changes as CDC and the query API answer them: ``rows`` of (entity, row),
    each row with its MetaData (deleted ones as CDC gives them); CDC answers at most ``cap``
    objects (any of them: in Id order, newest Id first), the query API live rows only."""

    QUERY = re.compile(r"SELECT \* FROM (?P<entity>\w+)(?: WHERE (?P<where>.*?))? "
                       r"STARTPOSITION (?P<start>\d+) MAXRESULTS (?P<max>\d+)$")

    def __init__(self, rows=(), cap=1000, clock=None):
        self.rows, self.cap = list(rows), cap
        self.clock = clock or utcnow
        self.calls, self.fail = [], {}

    @staticmethod
    def updated(row):
        return datetime.fromisoformat(row["MetaData"]["LastUpdatedTime"]).astimezone(
            timezone.utc).replace(tzinfo=None)

    def answer(self, body):
        return dict(body, time=qbo_time(self.clock()))

    def change_data_capture(self, entities, since):
        self.calls.append(("cdc", entities, since))
        if "cdc" in self.fail:
            raise self.fail["cdc"]
        since = datetime.fromisoformat(since).astimezone(timezone.utc).replace(tzinfo=None)
        wanted = entities.split(",")
        found = sorted([(e, r) for e, r in self.rows if e in wanted and self.updated(r) >= since],
                       key=lambda er: -int(er[1]["Id"]))[:self.cap]
        return self.answer({"CDCResponse": [{"QueryResponse": [
            {entity: [r for e, r in found if e == entity], "startPosition": 1}
            for entity in wanted]}]})

    def query(self, statement):
        self.calls.append(("query", statement))
        match = self.QUERY.match(statement)
        entity = match.group("entity")
        if entity in self.fail:
            raise self.fail[entity]
        rows = [r for e, r in self.rows if e == entity and r.get("status") != "Deleted"]
        for field, op, value in re.findall(r"(\S+) (>=|<|IN) (\('[^)]*'\)|'[^']*'|\([^)]*\))",
                                           match.group("where") or ""):
            if field == "MetaData.LastUpdatedTime":
                bound = datetime.fromisoformat(value.strip("'")).astimezone(
                    timezone.utc).replace(tzinfo=None)
                rows = [r for r in rows if (self.updated(r) >= bound if op == ">="
                                            else self.updated(r) < bound)]
        if entity in ("Customer", "Vendor", "Item") and "Active IN (true, false)" not in (
                match.group("where") or ""):
            rows = [r for r in rows if r.get("Active", True)]
        rows.sort(key=lambda r: int(r["Id"]))
        start, size = int(match.group("start")), int(match.group("max"))
        page = rows[start - 1:start - 1 + size]
        return self.answer({"QueryResponse": {entity: page} if page else {}})


class FakeQboAdapter:
    """What QboPull uses of the adapter: the call seam, the cap and the page."""

    def __init__(self, cap=1000, page=1000):
        self.cdc_cap, self.query_page = cap, page

    @staticmethod
    def _api_call(func, *args, **kwargs):
        return func(*args, **kwargs)


def qbo_changes(books, cursors, types=qbo_pull.PULL_TYPES, cap=None, page=1000):
    adapter = FakeQboAdapter(cap or books.cap, page)
    return qbo_pull.QboPull(adapter, books, REALM, types).run(cursors)


def meta(created, updated=None):
    return {"CreateTime": qbo_time(created), "LastUpdatedTime": qbo_time(updated or created)}


def qbo_row(row_id, created, updated=None, token="0", **fields):
    return dict({"Id": str(row_id), "SyncToken": token, "domain": "QBO", "sparse": False,
                 "MetaData": meta(created, updated)}, **fields)


def deleted_row(row_id, when):
    return {"Id": str(row_id), "status": "Deleted", "domain": "QBO",
            "MetaData": {"LastUpdatedTime": qbo_time(when)}}


def qbo_sample(t):
    """One row of every kind and status, changed at ``t`` + n minutes."""
    m = [t + timedelta(minutes=n) for n in range(20)]
    return [
        ("Customer", qbo_row(58, m[0], DisplayName="Acme Inc", Active=True,
                             PrimaryEmailAddr={"Address": "ap@acme.test"},
                             PrimaryPhone={"FreeFormNumber": "555-0100"},
                             CurrencyRef={"value": "USD"},
                             BillAddr={"Line1": "1 Main St", "City": "Springfield",
                                       "PostalCode": "12345", "CountrySubDivisionCode": "IL",
                                       "Country": "USA"})),
        ("Vendor", qbo_row(60, m[0], m[1], "3", DisplayName="Paper Co", Active=False,
                           TaxIdentifier="12-3456789")),
        ("Item", qbo_row(5, m[1], m[2], "1", Name="Consulting", Sku="CONS", Active=True,
                         Description="Hours", UnitPrice=D("120"), PurchaseCost=D("80"))),
        ("Invoice", qbo_row(130, m[3], DocNumber="INV/2026/0001", TxnDate="2026-03-01",
                            DueDate="2026-03-31", CustomerRef={"value": "58"},
                            CurrencyRef={"value": "EUR"}, ExchangeRate=D("1.0850"),
                            PrivateNote="PO 77", TotalAmt=D("405.20"), Balance=D("45.20"),
                            TxnTaxDetail={"TotalTax": D("29.70")}, Line=[
                                {"Id": "1", "DetailType": "SalesItemLineDetail",
                                 "Amount": D("360.00"), "Description": "Consulting",
                                 "SalesItemLineDetail": {
                                     "ItemRef": {"value": "5"}, "Qty": D("3"),
                                     "UnitPrice": D("120"), "TaxCodeRef": {"value": "TAX"},
                                     "ItemAccountRef": {"value": "79"}}},
                                {"Id": "2", "DetailType": "SalesItemLineDetail",
                                 "Amount": D("15.50"), "Description": "Travel",
                                 "SalesItemLineDetail": {"ItemRef": {"value": "5"},
                                                         "Qty": 1, "UnitPrice": D("15.5"),
                                                         "TaxCodeRef": {"value": "NON"}}},
                                {"DetailType": "SubTotalLineDetail", "Amount": D("375.50"),
                                 "SubTotalLineDetail": {}}])),
        ("Invoice", qbo_row(131, m[2], m[4], "2", DocNumber="INV/2026/0002",
                            TxnDate="2026-03-02", CustomerRef={"value": "58"},
                            PrivateNote="Voided", TotalAmt=0, Balance=0, Line=[
                                {"DetailType": "SalesItemLineDetail", "Amount": 0,
                                 "SalesItemLineDetail": {"ItemRef": {"value": "5"},
                                                         "Qty": 0}}])),
        ("CreditMemo", qbo_row(140, m[5], DocNumber="CN/1", TxnDate="2026-03-03",
                               CustomerRef={"value": "58"}, TotalAmt=D("50"),
                               CustomerMemo={"value": "Returned"}, Balance=D("50"), Line=[
                                   {"DetailType": "SalesItemLineDetail", "Amount": D("50"),
                                    "SalesItemLineDetail": {"ItemRef": {"value": "5"},
                                                            "Qty": 1, "UnitPrice": 50}}])),
        ("Bill", qbo_row(150, m[6], DocNumber="BILL/7", TxnDate="2026-03-04",
                         DueDate="2026-04-03", VendorRef={"value": "60"}, TotalAmt=D("99.99"),
                         Balance=D("99.99"), Line=[
                             {"DetailType": "AccountBasedExpenseLineDetail",
                              "Amount": D("99.99"), "Description": "Paper",
                              "AccountBasedExpenseLineDetail": {
                                  "AccountRef": {"value": "7"},
                                  "TaxCodeRef": {"value": "NON"}}}])),
        ("VendorCredit", qbo_row(160, m[7], DocNumber="VC/1", TxnDate="2026-03-05",
                                 VendorRef={"value": "60"}, TotalAmt=D("10"), Line=[
                                     {"DetailType": "ItemBasedExpenseLineDetail",
                                      "Amount": D("10"),
                                      "ItemBasedExpenseLineDetail": {
                                          "ItemRef": {"value": "5"}, "Qty": 2,
                                          "UnitPrice": 5}}])),
        ("Payment", qbo_row(170, m[8], DocNumber=None, TxnDate="2026-03-06",
                            CustomerRef={"value": "58"}, TotalAmt=D("310.00"),
                            DepositToAccountRef={"value": "35"}, PaymentRefNum="PBNK1/0007",
                            PrivateNote="PBNK1/2026/0007: thanks", CurrencyRef={"value": "EUR"},
                            ExchangeRate=D("1.09"), Line=[
                                {"Amount": D("360.00"), "LinkedTxn": [
                                    {"TxnId": "130", "TxnType": "Invoice"}]},
                                {"Amount": D("50.00"), "LinkedTxn": [
                                    {"TxnId": "140", "TxnType": "CreditMemo"}]}])),
        ("Payment", qbo_row(171, m[8], m[9], "1", TxnDate="2026-03-06",
                            CustomerRef={"value": "58"}, TotalAmt=0,
                            PrivateNote="Voided: PBNK1/2026/0008", Line=[])),
        ("BillPayment", qbo_row(180, m[10], TxnDate="2026-03-07", VendorRef={"value": "60"},
                                TotalAmt=D("99.99"), PayType="Check", DocNumber="PBNK1/0009",
                                CheckPayment={"BankAccountRef": {"value": "35"}}, Line=[
                                    {"Amount": D("99.99"), "LinkedTxn": [
                                        {"TxnId": "150", "TxnType": "Bill"}]}])),
        ("JournalEntry", qbo_row(190, m[11], DocNumber="MISC/1", TxnDate="2026-03-08",
                                 PrivateNote="Accrual", Line=[
                                     {"DetailType": "JournalEntryLineDetail", "Amount": D("25"),
                                      "Description": "Rent",
                                      "JournalEntryLineDetail": {
                                          "PostingType": "Debit",
                                          "AccountRef": {"value": "7"}}},
                                     {"DetailType": "JournalEntryLineDetail", "Amount": D("25"),
                                      "JournalEntryLineDetail": {
                                          "PostingType": "Credit",
                                          "AccountRef": {"value": "33"},
                                          "Entity": {"Type": "Vendor",
                                                     "EntityRef": {"value": "60"}}}}])),
        ("Bill", deleted_row(151, m[12])),
        ("JournalEntry", deleted_row(191, m[13])),
    ]


def by_id(result):
    return {(c.pull_type, c.remote_id): c for c in result.changes}


def test_qbo_records_of_every_kind_and_status():
    t = utcnow().replace(microsecond=0) - timedelta(days=2)
    books = QboBooks(qbo_sample(t))
    cursor = position(t)
    result = qbo_changes(books, dict.fromkeys(qbo_pull.PULL_TYPES, cursor))
    assert isinstance(result, PullResult) and not result.failed and not result.reread
    # one CDC call for the ten types sharing a cursor, from the cursor less the overlap
    assert books.calls == [("cdc", ",".join(qbo_pull.PULL_TYPES),
                            (t - OVERLAP).isoformat() + "+00:00")]
    assert result.reads == 1
    changes = by_id(result)
    assert len(changes) == 14 and [c.occurred_at for c in result.changes] == sorted(
        c.occurred_at for c in result.changes)

    customer = changes["Customer", "58"]
    assert (customer.remote_type, customer.kinds, customer.operation) == (
        "customer", ("customer",), "create")
    assert customer.occurred_at == t and customer.data["entity"] == "Customer"
    assert customer.record == IncomingParty(
        kinds=("customer",), remote_id="58", remote_version="0", status="active",
        name="Acme Inc", email="ap@acme.test", phone="555-0100", currency="USD",
        address=customer.record.address)
    assert (customer.record.address.street, customer.record.address.country_code,
            customer.record.address.state) == ("1 Main St", "US", "IL")
    vendor = changes["Vendor", "60"]
    assert (vendor.record.status, vendor.operation, vendor.record.vat) == (
        "archived", "update", "12-3456789")
    item = changes["Item", "5"].record
    assert isinstance(item, IncomingProduct) and (item.code, item.sale_price,
                                                  item.purchase_price) == ("CONS", D("120"),
                                                                           D("80"))

    invoice = changes["Invoice", "130"]
    assert (invoice.remote_type, invoice.operation, invoice.data["number"]) == (
        "invoice", "create", "INV/2026/0001")
    doc = invoice.record
    assert isinstance(doc, IncomingDocument) and (doc.kind, doc.remote_version, doc.status) == (
        "invoice", "0", "active")
    assert (doc.number, doc.reference, str(doc.date), str(doc.due_date), doc.party_id) == (
        "INV/2026/0001", "PO 77", "2026-03-01", "2026-03-31", "58")
    assert (doc.currency, doc.exchange_rate, doc.amount_untaxed, doc.amount_tax,
            doc.amount_total, doc.balance) == ("EUR", D("1.0850"), D("375.50"), D("29.70"),
                                               D("405.20"), D("45.20"))
    assert [(l.description, l.quantity, l.unit_price, l.amount, l.item_id, l.tax_id,
             l.account_id) for l in doc.lines] == [
        ("Consulting", D("3"), D("120"), D("360.00"), "5", "TAX", "79"),
        ("Travel", 1, D("15.5"), D("15.50"), "5", "NON", None)]
    voided = changes["Invoice", "131"]
    assert (voided.record.status, voided.operation, voided.record.remote_version) == (
        "voided", "void", "2")
    credit = changes["CreditMemo", "140"].record
    assert (credit.kind, credit.reference, credit.party_id) == ("credit_note", "Returned", "58")
    bill = changes["Bill", "150"].record
    assert (bill.kind, bill.party_id, bill.amount_total, bill.lines[0].account_id,
            bill.lines[0].tax_id) == ("bill", "60", D("99.99"), "7", "NON")
    vendor_credit = changes["VendorCredit", "160"].record
    assert (vendor_credit.kind, vendor_credit.lines[0].item_id,
            vendor_credit.lines[0].quantity) == ("vendor_credit", "5", 2)

    payment = changes["Payment", "170"]
    assert (payment.remote_type, payment.kinds, payment.operation) == (
        "customer_payment", ("customer_payment",), "create")
    record = payment.record
    assert isinstance(record, IncomingPayment)
    assert (record.kind, record.party_id, record.amount, record.account_id, record.currency,
            record.exchange_rate, record.number, record.reference, str(record.date)) == (
        "customer_payment", "58", D("310.00"), "35", "EUR", D("1.09"), "PBNK1/0007",
        "PBNK1/2026/0007: thanks", "2026-03-06")
    assert [(a.document_kind, a.document_id, a.amount) for a in record.allocations] == [
        ("invoice", "130", D("360.00")), ("credit_note", "140", D("50.00"))]
    voided_payment = changes["Payment", "171"]
    assert (voided_payment.record.status, voided_payment.operation) == ("voided", "void")
    bill_payment = changes["BillPayment", "180"].record
    assert (bill_payment.kind, bill_payment.account_id, bill_payment.number,
            bill_payment.allocations[0].document_kind) == (
        "vendor_payment", "35", "PBNK1/0009", "bill")

    journal = changes["JournalEntry", "190"]
    assert (journal.remote_type, journal.kinds) == ("journal_entry", ("journal_entry",))
    entry = journal.record
    assert isinstance(entry, IncomingJournalEntry) and (entry.number, entry.narration) == (
        "MISC/1", "Accrual")
    assert [(l.account_id, l.debit, l.credit, l.party_id) for l in entry.lines] == [
        ("7", D("25"), D("0"), None), ("33", D("0"), D("25"), "60")]

    for key in (("Bill", "151"), ("JournalEntry", "191")):
        gone = changes[key]
        assert (gone.record.status, gone.operation, gone.record.remote_version) == (
            "deleted", "delete", None)
    assert isinstance(changes["Bill", "151"].record, IncomingDocument)
    assert changes["Bill", "151"].record.kind == "bill"
    # Change.data holds a few facts, JSON-safe, not the payload
    assert invoice.data == {"entity": "Invoice", "status": "active", "version": "0",
                            "number": "INV/2026/0001", "total": "405.20"}
    # every type was read completely: its cursor is the answer's time
    assert set(result.cursors) == set(qbo_pull.PULL_TYPES)
    assert len(set(result.cursors.values())) == 1


def test_every_pulled_record_survives_json():
    """What the Odoo side keeps of a change (incoming_json) gives the same record back."""
    from accounting_sync.providers import incoming_json
    t = utcnow().replace(microsecond=0) - timedelta(days=1)
    changes = qbo_changes(QboBooks(qbo_sample(t)), {}).changes + xero_changes(
        XeroApi(xero_sample(t)), {}).changes
    assert {type(c.record).__name__ for c in changes} == set(incoming_json.RECORD_TYPES)
    for change in changes:
        assert incoming_json.load(incoming_json.dump(change.record)) == change.record


def test_qbo_same_version_same_event_id():
    t = utcnow().replace(microsecond=0) - timedelta(hours=3)
    rows = qbo_sample(t)
    first = qbo_changes(QboBooks(rows), {"Invoice": position(t)}, types=["Invoice"])
    again = qbo_changes(QboBooks(rows), {"Invoice": position(t + timedelta(minutes=2))},
                        types=["Invoice"])
    assert [c.event_id for c in first.changes] == [c.event_id for c in again.changes]
    edited = [(e, dict(r, SyncToken="3") if r["Id"] == "130" else r) for e, r in rows]
    third = qbo_changes(QboBooks(edited), {"Invoice": position(t)}, types=["Invoice"])
    ids = {c.remote_id: c.event_id for c in third.changes}
    assert ids["131"] == first.changes[1].event_id and ids["130"] != first.changes[0].event_id
    assert event_id("qbo", REALM, "Invoice", "130", "0") == first.changes[0].event_id


def test_qbo_cursors_group_windows_and_full_reads():
    now = utcnow().replace(microsecond=0)
    t1, t2 = now - timedelta(days=3), now - timedelta(hours=5)
    books = QboBooks(qbo_sample(now - timedelta(days=4)))
    cursors = {"Customer": None, "Vendor": position(t1), "Item": position(t1),
               "Invoice": position(t2), "Payment": position(t2),
               "JournalEntry": position(now - timedelta(days=31))}
    result = qbo_changes(books, cursors, types=list(cursors))
    assert [c[:2] for c in books.calls] == [
        ("query", "SELECT * FROM Customer WHERE Active IN (true, false) STARTPOSITION 1 "
                  "MAXRESULTS 1000"),
        ("cdc", "Vendor,Item"), ("cdc", "Invoice,Payment"),
        ("query", "SELECT * FROM JournalEntry STARTPOSITION 1 MAXRESULTS 1000")]
    assert books.calls[1][2] == (t1 - OVERLAP).isoformat() + "+00:00"
    assert result.reads == 4 and result.reread == ("JournalEntry",) and not result.failed
    assert set(result.cursors) == set(cursors)
    # a full read finds the archived vendor too, and never a deleted object
    assert {c.remote_id for c in result.changes if c.pull_type == "JournalEntry"} == {"190"}
    assert {c.pull_type for c in result.changes} == {"Customer", "JournalEntry"}


def test_qbo_full_read_pages():
    now = utcnow().replace(microsecond=0)
    rows = [("Customer", qbo_row(n, now - timedelta(hours=n), DisplayName="C%d" % n,
                                 Active=n % 3 != 0)) for n in range(1, 8)]
    books = QboBooks(rows)
    result = qbo_changes(books, {}, types=["Customer"], page=3)
    assert [c[1][-28:] for c in books.calls] == [
        "STARTPOSITION 1 MAXRESULTS 3", "STARTPOSITION 4 MAXRESULTS 3",
        "STARTPOSITION 7 MAXRESULTS 3"]
    assert result.reads == 3 and len(result.changes) == 7
    assert sum(c.record.status == "archived" for c in result.changes) == 2
    assert result.reread == ()  # no cursor: a first read, not a re-read


def busy_books(now, count, cap, spread=timedelta(hours=2), deleted=()):
    """``count`` invoices and customers changed over ``spread`` before ``now``."""
    rows = []
    for n in range(1, count + 1):
        when = now - spread + spread * n / (count + 1)
        entity = "Invoice" if n % 2 else "Customer"
        rows.append((entity, deleted_row(n, when) if n in deleted else qbo_row(
            n, when, DocNumber="N%d" % n, TotalAmt=D(n), DisplayName="P%d" % n)))
    return QboBooks(rows, cap=cap)


def test_qbo_cap_splits_the_window_until_answers_are_under_it():
    now = utcnow().replace(microsecond=0)
    books = busy_books(now, 60, cap=25, deleted={59})
    start = now - timedelta(hours=3)
    result = qbo_changes(books, {"Invoice": position(start), "Customer": position(start)},
                         types=["Customer", "Invoice"])
    assert not result.failed
    # every object changed in the window once, none missing: the later part by CDC (with
    # its deletion), the earlier by the query API
    assert sorted(int(c.remote_id) for c in result.changes) == list(range(1, 61))
    assert by_id(result)["Invoice", "59"].operation == "delete"
    cdc = [c for c in books.calls if c[0] == "cdc"]
    assert len(cdc) >= 2 and all(c[1] == "Customer,Invoice" for c in cdc)
    queries = [c for c in books.calls if c[0] == "query"]
    middle = cdc[-1][2]
    assert {q[1].split()[3] for q in queries} == {"Customer", "Invoice"}
    assert all("MetaData.LastUpdatedTime < '%s'" % middle in q[1] for q in queries)
    assert result.reads == len(books.calls)
    # the cursor is the time of the answer under the cap
    assert set(result.cursors) == {"Customer", "Invoice"}


def test_qbo_cap_hit_within_a_second_reads_the_window_by_query():
    moment = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    rows = [("Invoice", qbo_row(n, moment, DocNumber="N%d" % n, TotalAmt=D(1)))
            for n in range(1, 8)] + [("Invoice", deleted_row(8, moment))]
    # eight objects changed in the very second the provider answers in
    books = QboBooks(rows, cap=4, clock=lambda: moment + timedelta(milliseconds=400))
    result = qbo_changes(books, {"Invoice": position(moment - timedelta(hours=1))},
                         types=["Invoice"])
    assert sorted(int(c.remote_id) for c in result.changes) == list(range(1, 9))
    last = books.calls[-1]
    assert last[0] == "query" and "LastUpdatedTime <" not in last[1]
    assert [c[0] for c in books.calls].count("query") == 1
    assert result.cursors == {"Invoice": position(moment)} and not result.failed


def test_qbo_look_back_refused_means_a_full_read():
    now = utcnow().replace(microsecond=0)
    books = QboBooks(qbo_sample(now - timedelta(days=1)))
    books.fail["cdc"] = ProviderError(code="request_refused", status=400, params={
        "provider": "QuickBooks Online", "status": 400,
        "text": "Operation cdc with changedSince date 2026-01-01 which is older than fixed "
                "days is not supported."})
    result = qbo_changes(books, {"Bill": position(now - timedelta(days=20))}, types=["Bill"])
    assert [c[0] for c in books.calls] == ["cdc", "query"]
    assert result.reread == ("Bill",) and "Bill" in result.cursors and not result.failed
    assert {c.remote_id for c in result.changes} == {"150"}


def test_qbo_a_failing_type_keeps_its_cursor_out_and_the_others_go_on():
    now = utcnow().replace(microsecond=0)
    books = QboBooks(qbo_sample(now - timedelta(days=1)))
    books.fail["Item"] = ProviderUnavailableError(code="unavailable", params={
        "provider": "QuickBooks Online", "status": 503})
    cursors = {"Customer": None, "Item": None, "Invoice": position(now - timedelta(days=2))}
    result = qbo_changes(books, cursors, types=list(cursors))
    assert set(result.failed) == {"Item"} and result.failed["Item"].code == "unavailable"
    assert set(result.cursors) == {"Customer", "Invoice"}
    assert {c.pull_type for c in result.changes} == {"Customer", "Invoice"}
    assert result.reads == 3  # the failed call counts: it was sent
    # an error about the whole company stops the pull: no more calls
    books = QboBooks(qbo_sample(now - timedelta(days=1)))
    books.fail["Customer"] = AuthorizationError(code="not_authorized", params={
        "provider": "QuickBooks Online", "status": 401})
    result = qbo_changes(books, cursors, types=list(cursors))
    assert set(result.failed) == {"Customer", "Item", "Invoice"} and result.reads == 1
    assert not result.cursors and not result.changes


# == Xero: stand-ins ==================================================================================

class XeroApi:
    """What XeroPull calls of xero-python's AccountingApi: each get_* answers ``books``'
    elements of its resource modified after If-Modified-Since, paged."""

    METHODS = {"get_contacts": "Contacts", "get_items": "Items", "get_invoices": "Invoices",
               "get_credit_notes": "CreditNotes", "get_payments": "Payments",
               "get_manual_journals": "ManualJournals"}

    def __init__(self, books, clock=None):
        self.books, self.calls, self.fail = books, [], {}
        self.clock = clock or utcnow

    def __getattr__(self, name):
        resource = self.METHODS[name]

        def get(tenant, **kwargs):
            self.calls.append((resource, kwargs))
            if resource in self.fail:
                raise self.fail[resource]
            since = kwargs.get("if_modified_since")
            rows = [r for r in self.books.get(resource, ())
                    if since is None or datetime.fromisoformat(xero_pull.xero_time(
                        r["UpdatedDateUTC"])[:-1]) > since]
            body = {"Id": "x", "Status": "OK", "DateTimeUTC": ms_date(self.clock())}
            if "page" in kwargs:
                size = kwargs["page_size"]
                rows = rows[(kwargs["page"] - 1) * size:kwargs["page"] * size]
                body["pagination"] = {"page": kwargs["page"], "pageSize": size}
            body[resource] = rows
            return body
        return get


class FakeXeroAdapter:
    def __init__(self, page_size=100):
        self.page_size = page_size

    @staticmethod
    def _api_call(func, *args, pace=None, **kwargs):
        return func(*args, **kwargs)


def xero_changes(api, cursors, types=xero_pull.PULL_TYPES, page_size=100):
    return xero_pull.XeroPull(FakeXeroAdapter(page_size), api, UK, types).run(cursors)


def uuid(n):
    return "%08d-0000-4000-8000-%012d" % (n, n)


def xero_sample(t):
    m = [t + timedelta(minutes=n) for n in range(20)]
    contact = {"ContactID": uuid(1), "Name": "Acme Ltd"}
    invoice_ref = {"InvoiceID": uuid(20), "InvoiceNumber": "INV/1", "Type": "ACCREC",
                   "Contact": contact, "CurrencyCode": "EUR"}
    return {
        "Contacts": [
            dict(contact, ContactStatus="ACTIVE", EmailAddress="ap@acme.test", TaxNumber="GB1",
                 IsCustomer=True, IsSupplier=False, DefaultCurrency="GBP",
                 UpdatedDateUTC=ms_date(m[0]),
                 Phones=[{"PhoneType": "MOBILE", "PhoneNumber": "07700"},
                         {"PhoneType": "DEFAULT", "PhoneAreaCode": "020",
                          "PhoneNumber": "7946 0000"}],
                 Addresses=[{"AddressType": "STREET"},
                            {"AddressType": "POBOX", "AddressLine1": "1 High St",
                             "City": "London", "PostalCode": "EC1", "Country": "GB"}]),
            {"ContactID": uuid(2), "Name": "Old Supplier", "ContactStatus": "ARCHIVED",
             "IsCustomer": False, "IsSupplier": False, "UpdatedDateUTC": ms_date(m[1])},
        ],
        "Items": [{"ItemID": uuid(10), "Code": "CONS", "Name": "Consulting",
                   "Description": "Hours", "SalesDetails": {"UnitPrice": D("120.0000")},
                   "PurchaseDetails": {"UnitPrice": D("80")},
                   "UpdatedDateUTC": ms_date(m[2])}],
        "Invoices": [
            {"InvoiceID": uuid(20), "Type": "ACCREC", "InvoiceNumber": "INV/1",
             "Reference": "PO 77", "Contact": contact, "Date": "/Date(1772323200000+0000)/",
             "DueDate": "/Date(1774915200000+0000)/", "Status": "AUTHORISED",
             "CurrencyCode": "EUR", "CurrencyRate": D("1.160000"), "SubTotal": D("375.50"),
             "TotalTax": D("75.10"), "Total": D("450.60"), "AmountDue": D("90.60"),
             "UpdatedDateUTC": ms_date(m[3]), "LineItems": [
                 {"Description": "Consulting", "Quantity": D("3.0000"),
                  "UnitAmount": D("120.0000"), "LineAmount": D("360.00"),
                  "AccountCode": "200", "TaxType": "OUTPUT2", "TaxAmount": D("72.00"),
                  "ItemCode": "CONS", "Item": {"ItemID": uuid(10), "Code": "CONS"}},
                 {"Description": "Travel", "Quantity": 1, "UnitAmount": D("15.5"),
                  "LineAmount": D("15.50"), "AccountID": uuid(99), "TaxType": "OUTPUT2",
                  "TaxAmount": D("3.10")}]},
            {"InvoiceID": uuid(21), "Type": "ACCPAY", "InvoiceNumber": "SUP-9",
             "Contact": {"ContactID": uuid(2)}, "Status": "VOIDED", "Total": D("10"),
             "Date": "/Date(1772323200000+0000)/", "UpdatedDateUTC": ms_date(m[4]),
             "LineItems": []},
            {"InvoiceID": uuid(22), "Type": "ACCPAY", "Status": "DRAFT", "Total": D("5"),
             "Contact": {"ContactID": uuid(2)}, "UpdatedDateUTC": ms_date(m[5])},
            {"InvoiceID": uuid(23), "Type": "ACCREC", "Status": "DELETED", "Total": D("5"),
             "Contact": contact, "UpdatedDateUTC": ms_date(m[6])},
        ],
        "CreditNotes": [
            {"CreditNoteID": uuid(30), "Type": "ACCRECCREDIT", "CreditNoteNumber": "CN-1",
             "Contact": contact, "Status": "AUTHORISED", "Total": D("50"),
             "RemainingCredit": D("0"), "UpdatedDateUTC": ms_date(m[7])},
            {"CreditNoteID": uuid(31), "Type": "ACCPAYCREDIT", "CreditNoteNumber": "VC-1",
             "Contact": {"ContactID": uuid(2)}, "Status": "SUBMITTED", "Total": D("8"),
             "UpdatedDateUTC": ms_date(m[8])},
        ],
        "Payments": [
            {"PaymentID": uuid(40), "Date": "/Date(1772582400000+0000)/",
             "Amount": D("360.00"), "Reference": "PBNK1/2026/0007: thanks",
             "CurrencyRate": D("1.250000"), "Status": "AUTHORISED",
             "PaymentType": "ACCRECPAYMENT", "UpdatedDateUTC": ms_date(m[9]),
             "Account": {"AccountID": uuid(90), "Code": "090"}, "Invoice": invoice_ref},
            {"PaymentID": uuid(41), "Amount": D("8"), "Status": "DELETED",
             "PaymentType": "APCREDITPAYMENT", "UpdatedDateUTC": ms_date(m[10]),
             "Account": {"AccountID": uuid(90)},
             "CreditNote": {"CreditNoteID": uuid(31), "Type": "ACCPAYCREDIT",
                            "Contact": {"ContactID": uuid(2)}}},
        ],
        "ManualJournals": [
            {"ManualJournalID": uuid(50), "Narration": "MISC/1: Accrual", "Status": "POSTED",
             "Date": "/Date(1772582400000+0000)/", "UpdatedDateUTC": ms_date(m[11]),
             "JournalLines": [{"LineAmount": D("25.00"), "AccountCode": "429",
                               "TaxType": "NONE", "Description": "Rent"},
                              {"LineAmount": D("-25.00"), "AccountCode": "800"}]},
            {"ManualJournalID": uuid(51), "Narration": "MISC/2", "Status": "VOIDED",
             "UpdatedDateUTC": ms_date(m[12]), "JournalLines": []},
        ],
    }


def test_xero_records_of_every_kind_and_status():
    t = utcnow().replace(microsecond=0) - timedelta(days=1)
    api = XeroApi(xero_sample(t))
    result = xero_changes(api, dict.fromkeys(xero_pull.PULL_TYPES, position(t)))
    assert not result.failed and result.reads == 6 and set(result.cursors) == set(
        xero_pull.PULL_TYPES)
    assert [c.occurred_at for c in result.changes] == sorted(
        c.occurred_at for c in result.changes)
    for resource, kwargs in api.calls:
        assert kwargs["if_modified_since"] == t - OVERLAP
        assert ("page" in kwargs) == (resource != "Items")
    assert dict(api.calls)["Contacts"]["include_archived"] is True
    assert dict(api.calls)["Invoices"]["order"] == "InvoiceID ASC"
    changes = {c.remote_id: c for c in result.changes}

    acme = changes[uuid(1)]
    assert (acme.remote_type, acme.kinds, acme.operation, acme.occurred_at) == (
        "contact", ("customer",), "update", t)
    party = acme.record
    assert (party.name, party.email, party.phone, party.vat, party.currency) == (
        "Acme Ltd", "ap@acme.test", "020 7946 0000", "GB1", "GBP")
    assert (party.address.street, party.address.city, party.address.country_code) == (
        "1 High St", "London", "GB")
    assert party.remote_version == xero_pull.xero_time(ms_date(t))
    old = changes[uuid(2)]
    assert (old.kinds, old.record.status) == (("customer", "vendor"), "archived")
    item = changes[uuid(10)]
    assert (item.remote_type, item.record.code, item.record.sale_price) == (
        "product", "CONS", D("120.0000"))

    invoice = changes[uuid(20)]
    doc = invoice.record
    assert (invoice.remote_type, doc.kind, doc.status, doc.number, doc.reference) == (
        "invoice", "invoice", "active", "INV/1", "PO 77")
    assert (str(doc.date), str(doc.due_date), doc.party_id, doc.currency,
            doc.exchange_rate) == ("2026-03-01", "2026-03-31", uuid(1), "EUR", D("0.862069"))
    assert (doc.amount_untaxed, doc.amount_tax, doc.amount_total, doc.balance) == (
        D("375.50"), D("75.10"), D("450.60"), D("90.60"))
    assert [(l.account_id, l.tax_id, l.tax_amount, l.item_id, l.item_code) for l in
            doc.lines] == [("200", "OUTPUT2", D("72.00"), uuid(10), "CONS"),
                           (uuid(99), "OUTPUT2", D("3.10"), None, None)]
    assert invoice.data["Type"] == "ACCREC" and invoice.data["Status"] == "AUTHORISED"
    assert (changes[uuid(21)].record.kind, changes[uuid(21)].record.status,
            changes[uuid(21)].operation) == ("bill", "voided", "void")
    assert changes[uuid(22)].record.status == "draft"
    assert (changes[uuid(23)].record.status, changes[uuid(23)].operation) == (
        "deleted", "delete")
    assert (changes[uuid(30)].record.kind, changes[uuid(30)].remote_type,
            changes[uuid(30)].record.balance) == ("credit_note", "credit_note", D("0"))
    assert (changes[uuid(31)].record.kind, changes[uuid(31)].record.status) == (
        "vendor_credit", "draft")

    payment = changes[uuid(40)]
    record = payment.record
    assert (payment.remote_type, payment.operation, record.kind, record.status) == (
        "customer_payment", "create", "customer_payment", "active")
    assert (record.amount, record.account_id, record.party_id, record.currency,
            record.exchange_rate, record.reference, str(record.date)) == (
        D("360.00"), "090", uuid(1), "EUR", D("0.800000"), "PBNK1/2026/0007: thanks",
        "2026-03-04")
    assert [(a.document_kind, a.document_id, a.amount) for a in record.allocations] == [
        ("invoice", uuid(20), D("360.00"))]
    refund = changes[uuid(41)]
    assert (refund.record.kind, refund.record.status, refund.operation,
            refund.record.account_id, refund.record.allocations[0].document_kind) == (
        "vendor_payment", "deleted", "delete", uuid(90), "vendor_credit")

    journal = changes[uuid(50)]
    entry = journal.record
    assert (journal.remote_type, entry.status, entry.narration, str(entry.date)) == (
        "journal_entry", "active", "MISC/1: Accrual", "2026-03-04")
    assert [(l.account_id, l.debit, l.credit) for l in entry.lines] == [
        ("429", D("25.00"), D("0")), ("800", D("0"), D("25.00"))]
    assert (changes[uuid(51)].record.status, changes[uuid(51)].operation) == (
        "voided", "void")


def test_xero_pages_until_a_short_page_and_full_reads():
    t = utcnow().replace(microsecond=0)
    books = {"Invoices": [
        {"InvoiceID": uuid(n), "Type": "ACCREC", "Status": "AUTHORISED", "Total": D(n),
         "Contact": {"ContactID": uuid(1)},
         "UpdatedDateUTC": ms_date(t - timedelta(minutes=n))} for n in range(1, 8)]}
    api = XeroApi(books, clock=lambda: t)
    result = xero_changes(api, {}, types=["Invoices"], page_size=3)
    assert [kw["page"] for _r, kw in api.calls] == [1, 2, 3]
    assert all("if_modified_since" not in kw for _r, kw in api.calls)
    assert len(result.changes) == 7 and result.reads == 3
    assert result.cursors == {"Invoices": position(t)}
    # a page exactly full asks for one more
    api = XeroApi({"Invoices": books["Invoices"][:6]})
    xero_changes(api, {}, types=["Invoices"], page_size=3)
    assert [kw["page"] for _r, kw in api.calls] == [1, 2, 3]


def test_xero_a_failing_type_keeps_its_cursor_out():
    t = utcnow().replace(microsecond=0) - timedelta(hours=1)
    api = XeroApi(xero_sample(t))
    api.fail["Payments"] = ProviderUnavailableError(code="timeout", params={
        "provider": "Xero", "seconds": 30})
    result = xero_changes(api, {}, types=["Invoices", "Payments", "ManualJournals"])
    assert set(result.failed) == {"Payments"} and result.reads == 3
    assert set(result.cursors) == {"Invoices", "ManualJournals"}
    assert {c.pull_type for c in result.changes} == {"Invoices", "ManualJournals"}


def test_xero_pull_types_for_webhook_events():
    def event(category, remote_type="x"):
        return Change(event_id="e", company_id=UK, remote_type=remote_type, remote_id=uuid(1),
                      operation="update", occurred_at=utcnow(), data={"category": category})
    adapter = get_adapter("xero", client_id="a", client_secret="b")
    assert adapter.pull_types_for([event("CONTACT")]) == ("Contacts",)
    assert adapter.pull_types_for([event("INVOICE")]) == ("Invoices", "Payments")
    assert adapter.pull_types_for([event("CREDITNOTE"), event("CONTACT")]) == (
        "Contacts", "CreditNotes", "Payments")
    assert adapter.pull_types_for([event("SUBSCRIPTION")]) == ()
    qbo = get_adapter("quickbooks_online", client_id="a", client_secret="b")
    assert qbo.pull_types_for([event("Invoice")]) == qbo_pull.PULL_TYPES


def test_capabilities_and_types():
    qbo = get_adapter("quickbooks_online", client_id="a", client_secret="b")
    xero = get_adapter("xero", client_id="a", client_secret="b")
    assert qbo.CAPABILITIES.pulls_changes and xero.CAPABILITIES.pulls_changes
    assert qbo.CAPABILITIES.pull_types == (
        "Customer", "Vendor", "Item", "Invoice", "CreditMemo", "Bill", "VendorCredit",
        "Payment", "BillPayment", "JournalEntry")
    assert xero.CAPABILITIES.pull_types == (
        "Contacts", "Items", "Invoices", "CreditNotes", "Payments", "ManualJournals")
    with pytest.raises(UsageError):
        xero.changes(None, UK, {}, types=["Estimates"])


# == through the adapters and the provider sandbox =================================================

from test_sync_adapters import (  # noqa: E402  (fixtures qbo, xero: connected companies)
    SCALE, customer, payment, qbo, qbo_bill, qbo_invoice, qbo_parties_and_item, xero,
    xero_invoice,
)
from conftest import REDIRECT_URI, authorize  # noqa: E402


def pull(books, cursors, types=None):
    """``changes()``; the calls it made are ``result.calls`` (the sandbox's log)."""
    before = books.sb.api_calls(books.provider)
    logged = len(books.sb.calls(provider=books.provider))
    result = books.adapter.changes(books.tokens, books.company, cursors, types)
    # every call counted, and only those: the sandbox saw as many
    assert result.reads == books.sb.api_calls(books.provider) - before
    result.calls = books.sb.calls(provider=books.provider)[logged:]
    return result


def made(result, path_contains):
    return [c for c in result.calls if path_contains in c["path"]]


def latest(result, pull_type, remote_id):
    found = [c for c in result.changes if (c.pull_type, c.remote_id) == (pull_type, remote_id)]
    assert found, (pull_type, remote_id)
    return found[-1]


def test_qbo_remote_changes_come_back_as_changes(qbo):
    party, vendor, item = qbo_parties_and_item(qbo)
    first_invoice = qbo.ok(qbo_invoice(qbo, "INV-1", party, item))
    second_invoice = qbo.ok(qbo_invoice(qbo, "INV-2", party, item))
    bill = qbo.ok(qbo_bill(qbo, "bill", "B-1", vendor, D("50")))
    first = pull(qbo, {})
    assert not made(first, "/cdc") and set(first.cursors) == set(qbo_pull.PULL_TYPES)
    assert len(made(first, "/query")) == 10  # a full read of each type
    assert not first.reread and not first.failed
    # what our pushes stored is what the pull reads: the same version, the same time
    pulled = latest(first, "Invoice", first_invoice.remote_id)
    assert pulled.record.remote_version == first_invoice.remote_version == "0"
    assert pulled.occurred_at == first_invoice.remote_updated_at
    assert pulled.operation == "create" and pulled.record.number == "INV-1"
    assert pulled.record.amount_total == D("435.20") and pulled.record.party_id == party

    sb = qbo.sb
    sb.act("qbo", "create", "Payment", REALM, record={
        "CustomerRef": {"value": party}, "TotalAmt": 100, "TxnDate": "2025-03-12",
        "DepositToAccountRef": {"value": qbo.accounts["Checking"]}, "PaymentRefNum": "CHK 9",
        "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": first_invoice.remote_id,
                                                "TxnType": "Invoice"}]}]})
    sb.act("qbo", "void", "Invoice", REALM, id=second_invoice.remote_id)
    sb.act("qbo", "delete", "Bill", REALM, id=bill.remote_id)
    sb.act("qbo", "update", "Customer", REALM, id=party,
           changes={"PrimaryEmailAddr": {"Address": "new@acme.test"}})
    # Each full read's cursor is the time of its own answer, to the second: on a loaded
    # machine the ten reads may straddle a second, and types whose windows start apart are
    # read in calls of their own. Types at one cursor are read in one call.
    cursors = dict.fromkeys(first.cursors, min(first.cursors.values()))
    second = pull(qbo, cursors)
    [cdc] = made(second, "/cdc")  # one call for the ten types
    assert second.reads == 1 and cdc["query"]["entities"] == ",".join(qbo_pull.PULL_TYPES)
    since = datetime.fromisoformat(cdc["query"]["changedSince"]).replace(tzinfo=None)
    assert since == datetime.fromisoformat(cursors["Invoice"]) - OVERLAP
    received = latest(second, "Payment", [c.remote_id for c in second.changes
                                          if c.pull_type == "Payment"][0])
    assert (received.remote_type, received.operation, received.record.status) == (
        "customer_payment", "create", "active")
    assert (received.record.amount, received.record.party_id, received.record.number,
            received.record.account_id) == (D("100"), party, "CHK 9",
                                            qbo.accounts["Checking"])
    assert [(a.document_kind, a.document_id, a.amount)
            for a in received.record.allocations] == [
        ("invoice", first_invoice.remote_id, D("100"))]
    voided = latest(second, "Invoice", second_invoice.remote_id)
    assert (voided.operation, voided.record.status, voided.record.amount_total) == (
        "void", "voided", D("0"))
    gone = latest(second, "Bill", bill.remote_id)
    assert (gone.operation, gone.record.status, gone.record.kind) == ("delete", "deleted",
                                                                      "bill")
    edited = latest(second, "Customer", party)
    assert (edited.operation, edited.record.email, edited.record.remote_version) == (
        "update", "new@acme.test", "1")
    paid = latest(second, "Invoice", first_invoice.remote_id)
    assert paid.record.balance == D("335.20")
    # the overlap reads again what changed just before the cursor: the same versions give
    # the same event ids, which is how the Odoo side deduplicates them
    unchanged = {c.event_id for c in first.changes if c.pull_type in ("Vendor", "Item")}
    assert unchanged and unchanged <= {c.event_id for c in second.changes}
    assert all(second.cursors[t] >= first.cursors[t] for t in qbo_pull.PULL_TYPES)


def test_qbo_void_and_deactivate_report_the_remote_time(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    invoice = qbo.ok(qbo_invoice(qbo, "INV-9", party, item))
    assert invoice.remote_updated_at is not None
    voided = qbo.void("invoice", invoice.remote_id)
    archived = qbo.deactivate("customer", party)
    after = pull(qbo, {}, ["Customer", "Invoice"])
    assert latest(after, "Invoice", invoice.remote_id).occurred_at == voided.remote_updated_at
    assert latest(after, "Customer", party).occurred_at == archived.remote_updated_at
    assert latest(after, "Customer", party).record.status == "archived"
    assert latest(after, "Customer", party).record.remote_version == archived.remote_version
    # a batch's items carry it too
    batch = qbo.ok(customer("Globex", "ap@globex.test"), customer("Initech", None))
    assert len(qbo.calls("/batch")) == 1 and all(r.remote_updated_at for r in batch)
    read = pull(qbo, {}, ["Customer"])
    for written in batch:
        assert latest(read, "Customer", written.remote_id).occurred_at == (
            written.remote_updated_at)
    bill = qbo.ok(qbo_bill(qbo, "bill", "B-9", _vendor, D("20")))
    deleted = qbo.void("bill", bill.remote_id)  # QBO deletes a bill
    assert deleted.ok and deleted.remote_updated_at is not None
    cursor = position(utcnow() - timedelta(minutes=1))
    gone = latest(pull(qbo, {"Bill": cursor}, ["Bill"]), "Bill", bill.remote_id)
    assert gone.operation == "delete"
    assert abs(gone.occurred_at - deleted.remote_updated_at) < timedelta(seconds=2)


def test_qbo_cap_splits_the_window_through_the_sandbox(qbo):
    sb = qbo.sb
    sb.configure(cdc_max_objects=4)
    qbo.adapter.cdc_cap = 4
    ids = []
    try:
        for offset in (-1200, -600, 0):  # three customers 20 and 10 minutes ago, and now
            sb.configure(clock_offset=offset)
            ids += [sb.act("qbo", "create", "Customer", REALM,
                           record={"DisplayName": "C%d-%d" % (offset, n)})["Id"]
                    for n in range(3)]
    finally:
        sb.configure(clock_offset=0)
    cursor = position(utcnow() - timedelta(minutes=30))
    result = pull(qbo, {"Customer": cursor, "Vendor": cursor}, ["Customer", "Vendor"])
    assert not result.failed and set(result.cursors) == {"Customer", "Vendor"}
    assert sorted(c.remote_id for c in result.changes) == sorted(ids)
    cdc, queries = made(result, "/cdc"), made(result, "/query")
    assert len(cdc) == 3  # capped, capped, under the cap
    assert len(queries) == 2  # the earlier part, per type
    assert all(c["query"]["entities"] == "Customer,Vendor" for c in cdc)


def test_qbo_look_back_through_the_sandbox(sb):
    adapter = get_adapter("quickbooks_online", client_id="qbo-id", client_secret="qbo-secret",
                          environment="local", base_url=sb.url, time_scale=SCALE)
    # the sandbox's clock runs two days ahead of ours: a cursor 28 days old by our clock is
    # 30 days old by Intuit's, which refuses it; the pull then reads in full
    sb.configure(clock_offset=2 * 86400)
    try:
        params, _verifier = authorize(sb, adapter, companies=[REALM])
        tokens = adapter.exchange_code(params["code"], REDIRECT_URI)
        sb.act("qbo", "create", "Customer", REALM, record={"DisplayName": "Late Co"})
        old = position(utcnow() - timedelta(days=28, hours=23))
        result = adapter.changes(tokens, REALM, {"Customer": old, "Item": old},
                                 ["Customer", "Item"])
        assert result.reread == ("Customer", "Item") and not result.failed
        assert [c.record.name for c in result.changes] == ["Late Co"]
        cdc = sb.calls(provider="qbo", path_contains="/cdc")
        assert len(cdc) == 1 and cdc[0]["status"] == 400
        assert result.reads == 3
        # a cursor older than 30 days by our clock makes no CDC call at all
        before = len(sb.calls(provider="qbo", path_contains="/cdc"))
        result = adapter.changes(tokens, REALM, {"Customer": position(
            utcnow() - timedelta(days=31))}, ["Customer"])
        assert result.reread == ("Customer",) and result.reads == 1
        assert len(sb.calls(provider="qbo", path_contains="/cdc")) == before
        # the new cursor is Intuit's time, two days ahead of ours
        assert result.cursors["Customer"] > position(utcnow() + timedelta(days=1))
    finally:
        sb.configure(clock_offset=0)


def test_qbo_a_failing_type_through_the_sandbox(qbo):
    party, _vendor, _item = qbo_parties_and_item(qbo)
    recent = position(utcnow() - timedelta(hours=1))
    qbo.sb.add_fault(status=503, provider="qbo", path_contains="/cdc", times=1)
    result = pull(qbo, {"Customer": None, "Invoice": recent, "Payment": recent,
                        "JournalEntry": position(utcnow() - timedelta(hours=2))},
                  ["Customer", "Invoice", "Payment", "JournalEntry"])
    # the first CDC call (Invoice and Payment, which share a cursor) failed; the others
    # were read and advance
    assert set(result.failed) == {"Invoice", "Payment"}
    assert result.failed["Invoice"].code == "unavailable"
    assert set(result.cursors) == {"Customer", "JournalEntry"}
    assert [c.remote_id for c in result.changes if c.pull_type == "Customer"] == [party]
    assert result.reads == 3


def xero_pull_books(xero):
    party = xero.ok(customer()).remote_id
    supplier = xero.ok(customer("Paper Co", None, kind="vendor")).remote_id
    sales = xero.ok(xero_invoice("invoice", "INV/1", party))
    other = xero.ok(xero_invoice("invoice", "INV/2", party, qty=D("1")))
    bill = xero.ok(xero_invoice("bill", "BILL/1", supplier))
    return party, supplier, sales, other, bill


def test_xero_remote_changes_come_back_as_changes(xero):
    party, supplier, sales, other, bill = xero_pull_books(xero)
    first = pull(xero, {})
    assert set(first.cursors) == set(xero_pull.PULL_TYPES) and not first.failed
    pulled = latest(first, "Invoices", sales.remote_id)
    assert pulled.record.remote_version == sales.remote_version
    assert pulled.occurred_at == sales.remote_updated_at
    assert (pulled.remote_type, pulled.record.kind, pulled.record.number,
            pulled.record.amount_total, pulled.record.currency) == (
        "invoice", "invoice", "INV/1", D("436.99"), "GBP")
    assert latest(first, "Invoices", bill.remote_id).record.kind == "bill"
    contact = latest(first, "Contacts", party)
    assert contact.remote_type == "contact" and contact.record.remote_version == (
        xero_pull.xero_time(xero.record("Contacts", party)["UpdatedDateUTC"]))
    assert latest(first, "Contacts", supplier).kinds == ("vendor",)  # IsSupplier after a bill

    sb = xero.sb
    sb.act("xero", "create", "Payments", UK, record={
        "Invoice": {"InvoiceID": sales.remote_id}, "Account": {"Code": "090"},
        "Amount": 100, "Date": "2025-03-12", "Reference": "BACS 1"})
    sb.act("xero", "void", "Invoices", UK, id=other.remote_id)
    sb.act("xero", "update", "Contacts", UK, id=party, changes={"EmailAddress": "new@acme.test"})
    sb.act("xero", "delete", "Contacts", UK, id=supplier)  # Xero archives a contact
    second = pull(xero, first.cursors)
    assert len(second.calls) == 6 and all(c["method"] == "GET" for c in second.calls)
    received = [c for c in second.changes if c.pull_type == "Payments"]
    assert len(received) == 1
    payment_change = received[0]
    assert (payment_change.remote_type, payment_change.operation) == ("customer_payment",
                                                                      "create")
    record = payment_change.record
    assert (record.amount, record.account_id, record.party_id, record.reference,
            str(record.date), record.currency) == (D("100"), "090", party, "BACS 1",
                                                   "2025-03-12", "GBP")
    assert [(a.document_kind, a.document_id, a.amount) for a in record.allocations] == [
        ("invoice", sales.remote_id, D("100"))]
    voided = latest(second, "Invoices", other.remote_id)
    assert (voided.operation, voided.record.status) == ("void", "voided")
    assert latest(second, "Invoices", sales.remote_id).record.balance == D("336.99")
    edited = latest(second, "Contacts", party)
    assert (edited.operation, edited.record.email) == ("update", "new@acme.test")
    archived = latest(second, "Contacts", supplier)
    assert archived.record.status == "archived"
    # overlap: what did not change is read again as the same event
    unchanged = {c.event_id for c in first.changes if c.remote_id == bill.remote_id}
    assert unchanged <= {c.event_id for c in second.changes}

    # a payment deleted in Xero
    sb.act("xero", "delete", "Payments", UK, id=record.remote_id)
    third = pull(xero, second.cursors, ["Payments"])
    deleted = latest(third, "Payments", record.remote_id)
    assert (deleted.operation, deleted.record.status) == ("delete", "deleted")
    assert deleted.event_id != payment_change.event_id


def test_xero_our_voids_report_the_remote_time(xero):
    party, _supplier, sales, other, _bill = xero_pull_books(xero)
    paid = xero.ok(payment("customer_payment", party, "090", [
        Allocation(Ref(other.remote_id), "invoice", D("10"))]))
    assert paid.remote_updated_at is not None
    voided = xero.void("invoice", sales.remote_id)
    removed = xero.void("customer_payment", paid.remote_id)
    archived = xero.deactivate("customer", party)
    result = pull(xero, {}, ["Contacts", "Invoices", "Payments"])
    for pull_type, remote_id, written in (("Invoices", sales.remote_id, voided),
                                          ("Payments", paid.remote_id, removed),
                                          ("Contacts", party, archived)):
        change = latest(result, pull_type, remote_id)
        assert written.ok and change.occurred_at == written.remote_updated_at, pull_type
        assert change.record.remote_version == written.remote_version, pull_type
    assert latest(result, "Payments", paid.remote_id).record.status == "deleted"


def test_xero_pages_and_a_failing_type_through_the_sandbox(xero):
    xero.sb.configure(clock_offset=-3600)  # a contact last changed an hour ago
    try:
        old = xero.sb.act("xero", "create", "Contacts", UK, record={"Name": "Old Co"})
    finally:
        xero.sb.configure(clock_offset=0)
    party = xero.ok(customer()).remote_id
    numbers = ["INV/%d" % n for n in range(1, 6)]
    for number in numbers:
        xero.ok(xero_invoice("invoice", number, party, qty=D("1")))
    xero.adapter.page_size = 2
    xero.sb.add_fault(status=500, provider="xero", path_contains="/Payments", times=1)
    result = pull(xero, {}, ["Contacts", "Invoices", "Payments"])
    assert set(result.failed) == {"Payments"} and set(result.cursors) == {"Contacts",
                                                                          "Invoices"}
    assert sorted(c.record.number for c in result.changes if c.pull_type == "Invoices") == (
        numbers)
    pages = [c["query"] for c in made(result, "/Invoices")]
    assert [q["page"] for q in pages] == ["1", "2", "3"]
    assert all(q["pageSize"] == "2" for q in pages)
    assert result.reads == 2 + 3 + 1  # Contacts: a full page of two, then an empty one
    assert old["ContactID"] in {c.remote_id for c in result.changes}  # a full read
    # If-Modified-Since: the cursor less the overlap
    again = pull(xero, result.cursors, ["Contacts", "Invoices"])
    assert again.reads == 1 + 3  # all five invoices changed within the overlap
    assert {c.event_id for c in again.changes if c.pull_type == "Invoices"} == {
        c.event_id for c in result.changes if c.pull_type == "Invoices"}
    assert {c.remote_id for c in again.changes if c.pull_type == "Contacts"} == {party}

"""Payments are never written twice: answers lost after the write (the sandbox's
``lose_answer`` faults), pushes retried in other batches, and the providers' "already paid"
refusals — for QuickBooks Online and Xero, through the real libraries against the sandbox.

What the tests pin down (the payment rule is in accounting_sync/providers/sync_rules.py):

* a batch whose answer is lost (the write done, a 502/504, a timeout or a closed
  connection instead of its answer) raises ProviderUnavailableError; pushed again in another
  batch with ``find_existing``, its payments are linked, never created a second time;
* a lost partial payment is linked and the document's balance is what Odoo says;
* a payment refused because its document is paid already is linked when the payment there
  is this one (party, date, amount, documents; our number in its reference field). When it
  is not (another amount or date), it *fails* with the refusal in plain words: it cannot be
  created (the provider refuses it) and the payment there is another one, so linking it
  would bind a payment that is not this one;
* a lost payment whose twin of the same day (same party, amount, documents) is there under
  another number is *created*: two equal payments of one day are two payments;
* the same ``push()`` twice sends the same request keys, and the provider replays.
"""
from datetime import date
from decimal import Decimal as D

import pytest

from accounting_sync.providers import ProviderUnavailableError
from accounting_sync.providers.quickbooks_online import payloads as qbo_payloads
from accounting_sync.providers.documents import Allocation, Payment, Ref
from test_sync_adapters import (  # noqa: F401 (qbo and xero are fixtures)
    REALM, UK, customer, qbo, qbo_bill, qbo_invoice, qbo_parties_and_item, xero, xero_invoice,
)

DAY = date(2025, 3, 10)


def paying(kind, party, account, allocations, number, day=DAY, find_existing=True, key=None):
    """An Odoo payment named ``number`` paying ``allocations`` ((document id, amount)); its
    kind of document follows from the payment's kind."""
    document_kind = "invoice" if kind == "customer_payment" else "bill"
    return Payment(key=key or "pay-%s-%s" % (number, day), kind=kind, date=day,
                   party=Ref(party), amount=sum((a for _d, a in allocations), D("0")),
                   currency="USD" if account != "090" else "GBP", account=Ref(account),
                   allocations=[Allocation(Ref(d), document_kind, a) for d, a in allocations],
                   reference="Invoice payment", number=number, find_existing=find_existing)


def keys(books, path, method="POST"):
    return [c["idempotency_key"] for c in books.calls(path) if c["method"] == method]


# == QuickBooks Online ===========================================================================

def qbo_invoices(qbo, party, item, count):
    results = qbo.ok(*[qbo_invoice(qbo, "INV/%d" % n, party, item) for n in range(count)])
    results = results if isinstance(results, list) else [results]
    return [(r.remote_id, D(str(qbo.record("Invoice", r.remote_id)["TotalAmt"])))
            for r in results]


def balances(books, resource, ids):
    field = "Balance" if books.provider == "qbo" else "AmountDue"
    return [D(str(books.record(resource, i)[field])) for i in ids]


def test_qbo_lost_batch_pushed_again_in_another_batch_is_linked(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    invoices = qbo_invoices(qbo, party, item, 3)
    account = qbo.accounts["Checking"]
    long_number = "PCUSTOMER/BANK-EUR/2026/00001"  # longer than PaymentRefNum's 21
    pays = [paying("customer_payment", party, account, [invoice], number)
            for invoice, number in zip(invoices, (long_number, "PBNK1/2026/00002",
                                                  "PBNK1/2026/00003"))]
    qbo.sb.add_fault(status=502, provider="qbo", path_contains="/batch", lose_answer=True)
    with pytest.raises(ProviderUnavailableError):
        qbo.push(pays[0], pays[1])
    written = qbo.records("Payment")
    assert len(written) == 2  # the batch was done; its answer is what got lost
    assert written[0]["PaymentRefNum"] == qbo_payloads.short_number(long_number)
    assert len(written[0]["PaymentRefNum"]) == 21
    assert written[0]["PrivateNote"] == long_number + ": Invoice payment"
    queries = len(qbo.calls("/query"))
    # The retry is composed differently: the first payment left out, a third added.
    again, third = qbo.ok(pays[1], pays[2])
    assert len(qbo.calls("/query")) == queries + 1  # one look-up for the whole batch
    assert again.linked_existing and again.remote_id == written[1]["Id"]
    assert not third.linked_existing
    first = qbo.ok(pays[0])
    assert first.linked_existing and first.remote_id == written[0]["Id"]
    assert len(qbo.records("Payment")) == 3
    assert balances(qbo, "Invoice", [i for i, _t in invoices]) == [0, 0, 0]


def test_qbo_lost_partial_payment_is_linked_and_the_balance_is_right(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    [(invoice, total)] = qbo_invoices(qbo, party, item, 1)
    account = qbo.accounts["Checking"]
    partial = paying("customer_payment", party, account, [(invoice, D("100"))],
                     "PBNK1/2026/00001")
    qbo.sb.add_fault(status=504, provider="qbo", path_contains="/payment", method="POST",
                     lose_answer=True)
    with pytest.raises(ProviderUnavailableError):
        qbo.push(partial)  # a lone payment: a plain create, its answer lost
    [written] = qbo.records("Payment")
    again = qbo.ok(partial)
    assert again.linked_existing and again.remote_id == written["Id"]
    assert balances(qbo, "Invoice", [invoice]) == [total - 100]
    # Not this payment: the same amount another day, or the same day under another number.
    next_day = paying("customer_payment", party, account, [(invoice, D("100"))],
                      "PBNK1/2026/00002", day=date(2025, 3, 11))
    twin = paying("customer_payment", party, account, [(invoice, D("100"))],
                  "PBNK1/2026/00003")
    created = qbo.ok(next_day, twin)
    assert not any(r.linked_existing for r in created)
    assert len(qbo.records("Payment")) == 3
    assert balances(qbo, "Invoice", [invoice]) == [total - 300]


def test_qbo_refused_as_overpaid_links_the_same_payment_or_fails_plainly(qbo):
    party, vendor, item = qbo_parties_and_item(qbo)
    [(invoice, total)] = qbo_invoices(qbo, party, item, 1)
    account = qbo.accounts["Checking"]
    first = qbo.ok(paying("customer_payment", party, account, [(invoice, total)],
                          "PBNK1/2026/00001"))
    # Sent again as if never sent (no look-up first): QBO refuses it (6000), then it is found.
    resent = paying("customer_payment", party, account, [(invoice, total)], "PBNK1/2026/00001",
                    find_existing=False, key="pay-1-resent")
    linked = qbo.ok(resent)
    assert linked.linked_existing and linked.remote_id == first.remote_id
    assert "already paid" in linked.note
    other = paying("customer_payment", party, account, [(invoice, total)], "PBNK1/2026/00002",
                   day=date(2025, 3, 12), find_existing=False)
    [refused] = qbo.push(other)
    assert not refused.ok and refused.error.code == "overpaid_unmatched"
    assert refused.error.provider_code == "6000"
    assert refused.error.message.startswith("QuickBooks Online refused the customer payment "
                                            "PBNK1/2026/00002")
    assert "No payment there has this one's party, date, amount and documents" in (
        refused.error.message)
    assert len(qbo.records("Payment")) == 1
    # A bill payment carries the number in DocNumber.
    bill = qbo.ok(qbo_bill(qbo, "bill", "BILL/1", vendor, D("80"))).remote_id
    paid = qbo.ok(paying("vendor_payment", vendor, account, [(bill, D("80"))],
                         "PBNK1/2026/00003"))
    assert qbo.record("BillPayment", paid.remote_id)["DocNumber"] == "PBNK1/2026/00003"
    again = qbo.ok(paying("vendor_payment", vendor, account, [(bill, D("80"))],
                          "PBNK1/2026/00003", find_existing=False, key="bp-resent"))
    assert again.linked_existing and again.remote_id == paid.remote_id
    assert len(qbo.records("BillPayment")) == 1


def test_qbo_the_same_push_twice_sends_the_same_keys(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    invoices = qbo_invoices(qbo, party, item, 3)
    account = qbo.accounts["Checking"]
    pays = [paying("customer_payment", party, account, [invoice], "PBNK1/2026/%05d" % n,
                   find_existing=False) for n, invoice in enumerate(invoices)]
    before = len(keys(qbo, "/batch"))  # the invoices' batch
    first, second = qbo.push(*pays[:2]), qbo.push(*pays[:2])
    assert [r.remote_id for r in first] == [r.remote_id for r in second]
    batch_keys = keys(qbo, "/batch")[before:]
    assert len(batch_keys) == 2 and batch_keys[0] == batch_keys[1]  # QBO replayed it
    lone = [qbo.push(pays[2])[0] for _n in range(2)]
    assert lone[0].remote_id == lone[1].remote_id
    lone_keys = keys(qbo, "/payment")
    assert len(lone_keys) == 2 and lone_keys[0] == lone_keys[1]
    assert len(qbo.records("Payment")) == 3
    voids = [qbo.void("customer_payment", lone[0].remote_id, lone[0].remote_version)
             for _n in range(2)]
    assert all(v.ok for v in voids) and voids[0].remote_version == voids[1].remote_version
    void_keys = keys(qbo, "/payment")[2:]
    assert len(void_keys) == 2 and void_keys[0] == void_keys[1]


def test_qbo_answers_lost_by_a_closed_connection_or_a_timeout(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    invoices = qbo_invoices(qbo, party, item, 2)
    account = qbo.accounts["Checking"]
    pays = [paying("customer_payment", party, account, [invoice], "PBNK1/2026/%05d" % n)
            for n, invoice in enumerate(invoices)]
    qbo.sb.add_fault(status=None, provider="qbo", path_contains="/payment", close=True,
                     lose_answer=True)
    with pytest.raises(ProviderUnavailableError):
        qbo.push(pays[0])
    qbo.adapter.timeout = 0.5
    qbo.sb.add_fault(status=None, provider="qbo", path_contains="/payment", delay=1.5,
                     lose_answer=True)
    with pytest.raises(ProviderUnavailableError):
        qbo.push(pays[1])
    assert len(qbo.records("Payment")) == 2  # both written, neither answered
    results = qbo.ok(*pays)
    assert all(r.linked_existing for r in results)
    assert len(qbo.records("Payment")) == 2


# == Xero ========================================================================================

def xero_invoices(xero, party, count, price=D("120")):
    results = xero.ok(*[xero_invoice("invoice", "INV/%d" % n, party, price=price)
                        for n in range(count)])
    results = results if isinstance(results, list) else [results]
    return [(r.remote_id, D(str(xero.record("Invoices", r.remote_id)["Total"])))
            for r in results]


def live(xero):
    return [p for p in xero.records("Payments") if p["Status"] == "AUTHORISED"]


def test_xero_lost_request_pushed_again_in_another_request_is_linked(xero):
    party = xero.ok(customer()).remote_id
    invoices = xero_invoices(xero, party, 4)
    pays = [paying("customer_payment", party, "090", [invoices[0]], "PBNK1/2026/00001"),
            paying("customer_payment", party, "090", invoices[1:3], "PBNK1/2026/00002"),
            paying("customer_payment", party, "090", [invoices[3]], "PBNK1/2026/00003")]
    xero.sb.add_fault(status=502, provider="xero", path_contains="/Payments", method="PUT",
                      lose_answer=True)
    with pytest.raises(ProviderUnavailableError):
        xero.push(pays[0], pays[1])
    written = live(xero)
    assert len(written) == 3  # one Xero payment per document paid
    assert {p["Reference"] for p in written} == {"PBNK1/2026/00001: Invoice payment",
                                                 "PBNK1/2026/00002: Invoice payment"}
    reads = len(xero.calls("/Payments")) - len(keys(xero, "/Payments", "PUT"))
    again, third = xero.ok(pays[1], pays[2])
    assert len(xero.calls("/Payments")) - len(keys(xero, "/Payments", "PUT")) == reads + 1
    assert again.linked_existing
    assert again.remote_id == ",".join(p["PaymentID"] for p in written[1:])  # in order
    assert not third.linked_existing
    first = xero.ok(pays[0])
    assert first.linked_existing and first.remote_id == written[0]["PaymentID"]
    assert len(live(xero)) == 4
    assert balances(xero, "Invoices", [i for i, _t in invoices]) == [0, 0, 0, 0]


def test_xero_partial_payment_lost_by_timeout_is_linked(xero):
    party = xero.ok(customer()).remote_id
    [(invoice, total)] = xero_invoices(xero, party, 1)
    partial = paying("customer_payment", party, "090", [(invoice, D("100"))],
                     "PBNK1/2026/00001")
    xero.adapter.timeout = 0.5
    xero.sb.add_fault(status=None, provider="xero", path_contains="/Payments", method="PUT",
                      delay=1.5, lose_answer=True)
    with pytest.raises(ProviderUnavailableError):
        xero.push(partial)
    [written] = live(xero)
    again = xero.ok(partial)
    assert again.linked_existing and again.remote_id == written["PaymentID"]
    assert balances(xero, "Invoices", [invoice]) == [total - 100]
    twin = paying("customer_payment", party, "090", [(invoice, D("100"))], "PBNK1/2026/00002")
    assert not xero.ok(twin).linked_existing  # the same day, another number: another payment
    assert balances(xero, "Invoices", [invoice]) == [total - 200]


def test_xero_refused_as_overpaid_links_completes_or_fails_plainly(xero):
    party = xero.ok(customer()).remote_id
    invoices = xero_invoices(xero, party, 3)
    first = xero.ok(paying("customer_payment", party, "090", [invoices[0]], "PBNK1/2026/00001"))
    linked = xero.ok(paying("customer_payment", party, "090", [invoices[0]],
                            "PBNK1/2026/00001", find_existing=False, key="pay-1-resent"))
    assert linked.linked_existing and linked.remote_id == first.remote_id
    assert "already paid" in linked.note
    # Half of a two-document payment is there (a crash before the all-or-nothing clean-up):
    # refused for the paid document, then found, and only the other document's is created.
    seeded = xero.sb.seed("xero", "Payments", {
        "Invoice": {"InvoiceID": invoices[1][0]}, "Account": {"Code": "090"},
        "Date": DAY.isoformat(), "Amount": float(invoices[1][1]),
        "Reference": "PBNK1/2026/00002: Invoice payment"}, UK)
    both = paying("customer_payment", party, "090", invoices[1:], "PBNK1/2026/00002",
                  find_existing=False)
    puts = len(keys(xero, "/Payments", "PUT"))
    completed = xero.ok(both)
    assert len(keys(xero, "/Payments", "PUT")) == puts + 2  # refused, then the missing half
    ids = completed.remote_id.split(",")
    assert ids[0] == seeded["PaymentID"] and len(ids) == 2 and "linked" in completed.note
    assert balances(xero, "Invoices", [i for i, _t in invoices]) == [0, 0, 0]
    assert len(live(xero)) == 3
    other = paying("customer_payment", party, "090", [(invoices[0][0], D("10"))],
                   "PBNK1/2026/00003", find_existing=False)
    [refused] = xero.push(other)
    assert not refused.ok and "exceeds the amount outstanding" in refused.error.message
    assert refused.error.code == "overpaid_unmatched" and refused.error.provider_code == (
        "validation")
    assert "No payment there has this one's party, date, amount and documents" in (
        refused.error.message)
    assert len(live(xero)) == 3


def test_xero_half_made_payment_is_completed_when_looked_up(xero):
    party = xero.ok(customer()).remote_id
    invoices = xero_invoices(xero, party, 2)
    seeded = xero.sb.seed("xero", "Payments", {
        "Invoice": {"InvoiceID": invoices[1][0]}, "Account": {"Code": "090"},
        "Date": DAY.isoformat(), "Amount": 50.0, "Reference": "PBNK1/2026/00001"}, UK)
    half = paying("customer_payment", party, "090", [invoices[0], (invoices[1][0], D("50"))],
                  "PBNK1/2026/00001")
    result = xero.ok(half)
    ids = result.remote_id.split(",")
    assert len(ids) == 2 and ids[1] == seeded["PaymentID"] and ids[0] != ids[1]
    assert len(live(xero)) == 2
    assert balances(xero, "Invoices", [i for i, _t in invoices]) == [0, invoices[1][1] - 50]


def test_xero_the_same_push_twice_sends_the_same_keys(xero):
    party = xero.ok(customer()).remote_id
    invoices = xero_invoices(xero, party, 2)
    pays = [paying("customer_payment", party, "090", [invoice], "PBNK1/2026/%05d" % n,
                   find_existing=False) for n, invoice in enumerate(invoices)]
    first, second = xero.push(*pays), xero.push(*pays)
    assert [r.remote_id for r in first] == [r.remote_id for r in second]
    put_keys = keys(xero, "/Payments", "PUT")
    assert len(put_keys) == 2 and put_keys[0] == put_keys[1]  # Xero replayed it
    assert len(live(xero)) == 2
    voids = [xero.void("customer_payment", first[0].remote_id) for _n in range(2)]
    assert all(v.ok for v in voids)
    delete_keys = keys(xero, "/Payments/")
    assert len(delete_keys) == 2 and delete_keys[0] == delete_keys[1]
    assert len(live(xero)) == 1

"""Reading a remote company's books for a reconciliation (``Adapter.books`` →
``books.RemoteBooks``), through the real adapters and the provider sandbox over HTTP: what is
read, in how many calls, within a budget, and what an answer of the wrong shape gives."""
from datetime import date
from decimal import Decimal as D

import pytest

from accounting_sync.providers import ProviderError
from accounting_sync.providers.books import DELETED, POSTED, VOIDED, ReadBudget
from test_sync_adapters import (  # noqa: F401  (fixtures qbo, xero: connected companies)
    qbo, qbo_bill, qbo_invoice, qbo_parties_and_item, xero, xero_invoice, customer,
)

REALM = "9341453050000001"
UK = "11111111-1111-4111-8111-111111111111"
START, AS_OF = date(2025, 1, 1), date(2025, 12, 31)
KINDS = ("invoice", "credit_note", "bill", "vendor_credit")


def books(company, known=None, budget=None, **kwargs):
    before = company.sb.api_calls(company.provider)
    budget = budget or ReadBudget()
    result = company.adapter.books(company.tokens, company.company, AS_OF, START,
                                   kwargs.pop("kinds", KINDS), known=known, budget=budget,
                                   **kwargs)
    # every call counted, and only those: the sandbox saw as many
    assert result.reads == budget.used == company.sb.api_calls(company.provider) - before
    return result


# == QuickBooks Online =============================================================================

def test_qbo_books_in_seven_reads(qbo):
    party, vendor, item = qbo_parties_and_item(qbo)
    first = qbo.ok(qbo_invoice(qbo, "INV-1", party, item))
    second = qbo.ok(qbo_invoice(qbo, "INV-2", party, item, qty=D("1")))
    bill = qbo.ok(qbo_bill(qbo, "bill", "B-1", vendor, D("50")))
    qbo.sb.act("qbo", "create", "Payment", REALM, record={
        "CustomerRef": {"value": party}, "TotalAmt": 100, "TxnDate": "2025-03-12",
        "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": first.remote_id,
                                                "TxnType": "Invoice"}]}]})
    result = books(qbo)
    assert result.complete and result.reads == 7  # trial balance, 2 agings, 4 queries
    doc = result.documents[first.remote_id]
    assert (doc.kind, doc.number, doc.partner_id, doc.status) == (
        "invoice", "INV-1", party, POSTED)
    assert (doc.total, doc.tax, doc.balance, doc.lines) == (
        D("435.20"), D("29.70"), D("335.20"), 2)
    assert result.documents[bill.remote_id].kind == "bill"
    open_ar = D("335.20") + result.documents[second.remote_id].balance
    assert result.receivable == {party: open_ar} and result.receivable_total == open_ar
    assert result.payable == {vendor: D("50.00")}
    # the trial balance by account id, debits less credits, balanced
    tb = result.trial_balance
    assert tb[qbo.accounts["Accounts Receivable (A/R)"]].balance == open_ar
    assert tb[qbo.accounts["Services"]].balance < 0
    assert sum(r.balance for r in tb.values()) == 0
    # the report's own tax row (no account in this chart) is kept, by its name
    assert tb["name:Sales Tax Payable"].balance == -(doc.tax + result.documents[
        second.remote_id].tax)


def test_qbo_known_documents_outside_the_window_are_read_by_id(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    kept = qbo.ok(qbo_invoice(qbo, "INV-1", party, item))
    gone = qbo.ok(qbo_invoice(qbo, "INV-2", party, item))
    voided = qbo.ok(qbo_invoice(qbo, "INV-3", party, item))
    qbo.sb.act("qbo", "update", "Invoice", REALM, id=kept.remote_id,
               changes={"TxnDate": "2024-12-20"})  # dated before the window now
    qbo.sb.act("qbo", "delete", "Invoice", REALM, id=gone.remote_id)
    qbo.sb.act("qbo", "void", "Invoice", REALM, id=voided.remote_id)
    result = books(qbo, known={"invoice": [kept.remote_id, gone.remote_id,
                                           voided.remote_id]}, kinds=("invoice",))
    assert result.reads == 3 + 1 + 1  # reports, the window, one Id IN query
    assert result.documents[kept.remote_id].date == date(2024, 12, 20)
    assert result.not_found == {gone.remote_id}
    assert result.documents[voided.remote_id].status == VOIDED


def test_qbo_the_budget_stops_the_reading(qbo):
    party, _vendor, item = qbo_parties_and_item(qbo)
    qbo.ok(qbo_invoice(qbo, "INV-1", party, item))
    result = books(qbo, budget=ReadBudget(2))
    assert result.reads == 2 and not result.complete
    assert result.unread == ["agings", "documents"]
    assert result.has_read("trial_balance") and not result.documents


def test_qbo_a_report_of_the_wrong_shape_is_a_clear_error(qbo):
    qbo.sb.add_fault(provider="qbo", path_contains="/reports/TrialBalance", status=200,
                     body={"Rows": {"Row": "not a list"}})
    with pytest.raises(ProviderError) as caught:
        books(qbo)
    assert caught.value.code == "unreadable_answer"


# == Xero ============================================================================================

def test_xero_books_in_three_reads(xero):
    party = xero.ok(customer()).remote_id
    first = xero.ok(xero_invoice("invoice", "INV-1", party))
    credit = xero.ok(xero_invoice("credit_note", "CN-1", party, qty=D("1")))
    bill = xero.ok(xero_invoice("bill", "B-1", party, qty=D("1")))
    result = books(xero)
    assert result.complete and result.reads == 3  # trial balance, Invoices, CreditNotes
    doc = result.documents[first.remote_id]
    assert (doc.kind, doc.number, doc.partner_id, doc.status, doc.total, doc.tax) == (
        "invoice", "INV-1", party, POSTED, D("436.99"), D("72.00"))
    assert result.documents[credit.remote_id].kind == "credit_note"
    assert result.documents[bill.remote_id].kind == "bill"
    # the agings come from the documents read: a credit note lowers what is owed
    assert result.receivable == {party: doc.balance - result.documents[
        credit.remote_id].balance}
    assert result.payable == {party: result.documents[bill.remote_id].balance}
    tb = result.trial_balance
    assert sum(r.balance for r in tb.values()) == 0
    receivable = next(r for r in tb.values() if r.code == "610")
    assert receivable.balance == result.receivable_total


def test_xero_pages_and_known_documents_by_id(xero):
    party = xero.ok(customer()).remote_id
    made = [xero.ok(xero_invoice("invoice", "INV-%d" % n, party)) for n in range(3)]
    xero.sb.act("xero", "void", "Invoices", UK, id=made[0].remote_id)
    xero.sb.act("xero", "update", "Invoices", UK, id=made[1].remote_id,
                changes={"Date": "2024-12-20"})
    xero.adapter.books_page_size = 2
    result = books(xero, known={"invoice": [m.remote_id for m in made]},
                   kinds=("invoice",))
    # trial balance, two pages of the window, then the one dated before it by IDs
    assert result.reads == 4
    assert result.documents[made[0].remote_id].status == VOIDED
    assert result.documents[made[1].remote_id].date == date(2024, 12, 20)
    assert not result.not_found
    assert DELETED not in {d.status for d in result.documents.values()}


def test_xero_the_budget_stops_the_reading(xero):
    party = xero.ok(customer()).remote_id
    xero.ok(xero_invoice("invoice", "INV-1", party))
    result = books(xero, budget=ReadBudget(1))
    assert result.reads == 1 and result.unread == ["documents", "agings"]
    assert not result.documents and result.receivable_total is None


# == QuickBooks Desktop: one request an exchange, against the sandbox's company file ==================

def test_qbd_books_read_one_request_at_a_time():
    from provider_sandbox import qbd_xml
    from provider_sandbox.qbd import Clock, CompanyFile
    from test_sandbox_qbd_reports import add, sale

    from accounting_sync.providers import get_adapter
    from accounting_sync.providers.books import RemoteBooks

    company = CompanyFile(country="US", company_name="Books", clock=Clock())
    customer = add(company, "Customer", "<Name>Acme</Name>")["ListID"]
    first = sale(company, "Invoice", "Acme", "2026-12-02", [("Consulting", 2, None, "Tax")])
    second = sale(company, "Invoice", "Acme", "2026-12-03", [("Consulting", 1, None, "Non")])
    outside = sale(company, "Invoice", "Acme", "2025-11-03", [("Consulting", 1, None, "Non")])
    adapter = get_adapter("quickbooks_desktop")
    books, read, requests = RemoteBooks(), adapter.first_books_read(), []
    known = {"invoice": [first["TxnID"], outside["TxnID"], "DEAD-1"]}
    while read is not None:
        request = adapter.books_request(read, date(2026, 12, 31), date(2026, 12, 1))
        if qbd_xml.schema() is not None:
            assert qbd_xml.validate(request) is None, qbd_xml.validate(request)
        requests.append(read.part)
        read = adapter.parse_books(read, company.handle(request), books, ("invoice", "bill"),
                                   known, date(2026, 12, 31))
    # the trial balance, the window's invoices, the linked ones outside it, the bills
    assert requests == ["trial_balance", "documents", "known", "documents"]
    assert set(books.documents) == {first["TxnID"], second["TxnID"], outside["TxnID"]}
    assert books.not_found == {"DEAD-1"}
    doc = books.documents[first["TxnID"]]
    assert (doc.kind, doc.partner_id, doc.status) == ("invoice", customer, "posted")
    assert doc.total == doc.balance and doc.tax > 0
    receivable = books.trial_balance["name:Accounts Receivable"]
    assert receivable.balance == doc.total + books.documents[second["TxnID"]].total
    assert sum(r.balance for r in books.trial_balance.values()) == 0
    # the agings come from the documents read: what the customer owes, dated to the as-of date
    assert books.receivable == {customer: receivable.balance + books.documents[
        outside["TxnID"]].balance}

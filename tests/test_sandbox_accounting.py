"""The sandbox's accounting endpoints through the real client libraries, as a sync engine
uses them: python-quickbooks for QuickBooks Online, xero-python's AccountingApi for Xero."""
import base64
import hashlib
import json
import time
from datetime import date
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.objects.base import Ref
from quickbooks.objects.bill import Bill as QBBill
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine, AccountBasedExpenseLineDetail, SalesItemLine, SalesItemLineDetail,
)
from quickbooks.objects.invoice import Invoice as QBInvoice
from quickbooks.objects.item import Item as QBItem
from quickbooks.objects.payment import Payment as QBPayment, PaymentLine
from quickbooks.objects.tax import TxnTaxDetail
from quickbooks.objects.vendor import Vendor
from xero_python.accounting import (Account, AccountingApi, Contact, Contacts, Invoice, Invoices,
                                    LineItem, ManualJournal, ManualJournalLine, ManualJournals,
                                    Payment, PaymentDelete, Payments)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import AccountingBadRequestException, RateLimitException

REDIRECT = "http://127.0.0.1:8069/callback"
REALM = "9341453050000001"
UK = "11111111-1111-4111-8111-111111111111"
VERIFIER = "v" * 50


class LocalQuickBooks(QuickBooks):
    """python-quickbooks pointed at the sandbox (as accounting_sync's adapter does)."""
    base = None

    @property
    def api_url(self):
        return self.base


def approve(sb, url, params, company):
    sb.configure(auto_approve={"login": "alice@example.com", "companies": [company]})
    response = requests.get(url, params=dict(params, response_type="code", state="s",
                                             redirect_uri=REDIRECT), allow_redirects=False,
                            timeout=10)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


@pytest.fixture
def qb(sb, monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox is plain http
    code = approve(sb, sb.url + "/qbo/connect/oauth2", {
        "client_id": "qbo-id", "scope": "com.intuit.quickbooks.accounting"}, REALM)["code"]
    tokens = requests.post(sb.url + "/qbo/oauth2/v1/tokens/bearer", auth=("qbo-id", "secret"),
                           data={"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": REDIRECT}, timeout=10).json()
    holder = SimpleNamespace(client_id="qbo-id", environment="sandbox",
                             access_token=tokens["access_token"],
                             refresh_token=tokens["refresh_token"])
    client = LocalQuickBooks(auth_client=holder, company_id=REALM, minorversion=75)
    client.base = sb.url + "/qbo/v3"
    client.token = tokens["access_token"]
    return client


def xero_api(sb, scope="openid offline_access accounting.invoices"):
    """xero-python's AccountingApi with a token the sandbox granted for ``scope`` (PKCE)."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest())
    code = approve(sb, sb.url + "/xero/identity/connect/authorize", {
        "client_id": "xero-id", "scope": scope,
        "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256"},
        UK)["code"]
    tokens = requests.post(sb.url + "/xero/identity/connect/token", auth=("xero-id", "secret"),
                           data={"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": REDIRECT, "code_verifier": VERIFIER},
                           timeout=10).json()
    client = ApiClient(Configuration(oauth2_token=OAuth2Token(
        client_id="xero-id", client_secret="secret")), pool_threads=1)
    token = dict(tokens, scope=tokens["scope"].split(), expires_at=time.time() + 1200)
    client.oauth2_token_getter(lambda: token)
    client.oauth2_token_saver(lambda new: None)
    api = AccountingApi(client, base_url=sb.url + "/xero/api.xro/2.0")
    api.token = tokens["access_token"]
    return api


@pytest.fixture
def xero(sb):
    return xero_api(sb)


def qbo_error(excinfo):
    return excinfo.value.error_code, excinfo.value.detail


def customer(qb, name):
    record = Customer()
    record.DisplayName = name
    return record.save(qb=qb)


def ref(value):
    result = Ref()
    result.value = value
    return result


def invoice(customer_ref, *lines, doc_number=None):
    """Lines: (amount, tax code) on a sales item line."""
    record = QBInvoice()
    record.CustomerRef = customer_ref
    record.DocNumber = doc_number
    for amount, tax_code in lines:
        line = SalesItemLine()
        line.Amount = amount
        line.SalesItemLineDetail = SalesItemLineDetail()
        line.SalesItemLineDetail.TaxCodeRef = ref(tax_code)
        record.Line.append(line)
    return record


# -- QuickBooks Online --------------------------------------------------------------------

def test_qbo_create_read_update_and_stale_sync_token(sb, qb):
    acme = customer(qb, "Acme")
    assert acme.SyncToken == "0" and int(acme.Id) > 9  # after the seeded chart of accounts
    copy = Customer.get(acme.Id, qb=qb)
    copy.CompanyName = "Acme Inc"
    saved = copy.save(qb=qb)
    assert saved.SyncToken == "1" and saved.CompanyName == "Acme Inc"
    with pytest.raises(QuickbooksException) as stale:
        copy.save(qb=qb)  # still SyncToken 0
    assert stale.value.error_code == 5010
    sparse = qb.update_object("Customer", json.dumps(
        {"Id": acme.Id, "SyncToken": "1", "sparse": True, "Notes": "VIP"}))["Customer"]
    assert (sparse["SyncToken"], sparse["Notes"], sparse["CompanyName"]) == ("2", "VIP",
                                                                            "Acme Inc")
    [stored] = sb.records("qbo", "Customer")
    assert (stored["SyncToken"], stored["Notes"]) == ("2", "VIP")
    stored["Notes"] = "changed locally"  # a copy
    assert sb.records("qbo", "Customer")[0]["Notes"] == "VIP"
    accounts = {a["Name"]: a for a in sb.records("qbo", "Account")}
    assert accounts["Checking"]["AccountType"] == "Bank"
    assert accounts["Accounts Receivable (A/R)"]["AccountSubType"] == "AccountsReceivable"


def test_qbo_duplicate_names_and_document_numbers(qb):
    acme = customer(qb, "Acme")
    vendor = Vendor()
    vendor.DisplayName = "ACME"
    with pytest.raises(QuickbooksException) as duplicate:
        vendor.save(qb=qb)
    code, detail = qbo_error(duplicate)
    assert code == 6240 and "Id=%s" % acme.Id in detail
    first = invoice(acme.to_ref(), (10, "NON"), doc_number="INV/0001").save(qb=qb)
    with pytest.raises(QuickbooksException) as taken:
        invoice(acme.to_ref(), (20, "NON"), doc_number="INV/0001").save(qb=qb)
    code, detail = qbo_error(taken)
    assert code == 6140 and detail.endswith(
        "DocNumber=INV/0001 is assigned to TxnType=Invoice with TxnId=%s" % first.Id)
    again = invoice(acme.to_ref(), (20, "NON"), doc_number="INV/0001").save(
        qb=qb, params={"include": "allowduplicatedocnum"})
    assert again.Id != first.Id
    with pytest.raises(QuickbooksException) as colon:
        customer(qb, "Parent:Child")
    assert colon.value.error_code == 2040


def test_qbo_inactive_customer_is_object_not_found(qb):
    gone = customer(qb, "Gone Ltd")
    gone.Active = False
    gone = gone.save(qb=qb)
    with pytest.raises(ObjectNotFoundException) as missing:
        invoice(gone.to_ref(), (10, "NON")).save(qb=qb)
    code, detail = qbo_error(missing)
    assert code == 610 and "CustomerRef=%s" % gone.Id in detail and "inactive" in detail
    assert Customer.filter(DisplayName="Gone Ltd", qb=qb) == []
    assert [c.Id for c in Customer.where("Active = false", qb=qb)] == [gone.Id]
    assert customer(qb, "Gone Ltd").Active  # the name is free again


def test_qbo_tax_payments_and_voids(qb):
    acme = customer(qb, "Acme")
    item = QBItem()
    item.Name, item.Type, item.IncomeAccountRef = "Consulting", "Service", ref("2")
    item = item.save(qb=qb)
    draft = invoice(acme.to_ref(), (100, "TAX"), (33.33, "NON"))
    draft.Line[0].SalesItemLineDetail.ItemRef = item.to_ref()
    sale = draft.save(qb=qb)
    assert sale.TxnTaxDetail.TotalTax == 8.25  # 8.25 % of the TAX line only
    assert sale.TotalAmt == sale.Balance == 141.58
    payment = QBPayment()
    payment.CustomerRef, payment.TotalAmt = acme.to_ref(), 50
    line = PaymentLine()
    line.Amount, line.LinkedTxn = 50, [sale.to_linked_txn()]
    payment.Line = [line]
    payment = payment.save(qb=qb)
    paid = QBInvoice.get(sale.Id, qb=qb)
    assert paid.Balance == 91.58 and paid.SyncToken == "1"
    line.Amount = payment.TotalAmt = 100  # more than the balance left
    with pytest.raises(QuickbooksException) as too_much:
        payment.save(qb=qb)
    assert too_much.value.error_code == 6000
    payment = QBPayment.get(payment.Id, qb=qb)
    payment.void(qb=qb)
    assert QBPayment.get(payment.Id, qb=qb).TotalAmt == 0
    restored = QBInvoice.get(sale.Id, qb=qb)
    assert restored.Balance == 141.58
    restored.void(qb=qb)
    voided = QBInvoice.get(sale.Id, qb=qb)
    assert (voided.TotalAmt, voided.Balance, voided.PrivateNote) == (0, 0, "Voided")
    voided.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        QBInvoice.get(sale.Id, qb=qb)


def test_qbo_tax_override_account_lines_and_name_lengths(qb):
    """A TotalTax sent is kept and prorated (the difference noted); account-based bill lines
    take expense accounts, not A/P, nor A/R without a customer; names over 100 → 2050."""
    acme = customer(qb, "Acme")
    item = QBItem()
    item.Name, item.Type, item.IncomeAccountRef = "Consulting", "Service", ref("2")
    item = item.save(qb=qb)
    draft = invoice(acme.to_ref(), (100, "TAX"))
    draft.Line[0].SalesItemLineDetail.ItemRef = item.to_ref()
    draft.TxnTaxDetail = TxnTaxDetail()
    draft.TxnTaxDetail.TotalTax = 15  # Odoo's 15 %, not QBO's 8.25 %
    sale = draft.save(qb=qb)
    assert (sale.TxnTaxDetail.TotalTax, sale.TotalAmt) == (15, 115)
    [tax_line] = sale.TxnTaxDetail.TaxLine
    assert tax_line.Amount == 15 and tax_line.TaxLineDetail.OverrideDeltaAmount == 6.75
    vendor = Vendor()
    vendor.DisplayName = "Paper Co"
    vendor = vendor.save(qb=qb)

    def bill(account_id, customer_ref=None):
        record, line = QBBill(), AccountBasedExpenseLine()
        line.Amount = 40
        line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
        line.AccountBasedExpenseLineDetail.AccountRef = ref(account_id)
        line.AccountBasedExpenseLineDetail.TaxCodeRef = ref("NON")
        line.AccountBasedExpenseLineDetail.CustomerRef = customer_ref
        record.VendorRef, record.Line = vendor.to_ref(), [line]
        return record
    assert bill("4").save(qb=qb).TotalAmt == 40  # Office Supplies
    assert bill("7", acme.to_ref()).save(qb=qb).TotalAmt == 40  # A/R, with its customer
    for account_id, words in (("9", "When you use Accounts Payable"),
                              ("7", "When you use Accounts Receivable")):
        with pytest.raises(QuickbooksException) as refused:
            bill(account_id).save(qb=qb)
        code, detail = qbo_error(refused)
        assert code == 6000 and words in detail
    too_long = Vendor()
    too_long.DisplayName = "V" * 101
    with pytest.raises(QuickbooksException) as length:
        too_long.save(qb=qb)
    code, detail = qbo_error(length)
    assert code == 2050 and "Max:100 supported. Supplied length:101" in detail


def test_qbo_batch_and_journal_rules(sb, qb):
    customer(qb, "Taken")
    before = sb.api_calls("qbo", REALM)
    fresh, taken = Customer(), Customer()
    fresh.DisplayName, taken.DisplayName = "Fresh", "Taken"
    result = batch_create([fresh, taken], qb=qb)
    assert sb.api_calls("qbo", REALM) == before + 1
    assert [c.DisplayName for c in result.successes] == ["Fresh"]
    [fault] = result.faults
    assert fault.Error[0].code == "6240" and fault.original_object is taken
    answer = qb.batch_operation(json.dumps({"BatchItemRequest": [
        {"bId": "q", "Query": "select * from Customer where DisplayName in ('Fresh', 'x')"},
        {"bId": "j", "operation": "create", "JournalEntry": {"Line": [
            {"DetailType": "JournalEntryLineDetail", "Amount": 100, "JournalEntryLineDetail":
                {"PostingType": "Debit", "AccountRef": {"value": "4"}}},
            {"DetailType": "JournalEntryLineDetail", "Amount": 90, "JournalEntryLineDetail":
                {"PostingType": "Credit", "AccountRef": {"value": "5"}}}]}}]}))
    query, journal = answer["BatchItemResponse"]
    assert [c["DisplayName"] for c in query["QueryResponse"]["Customer"]] == ["Fresh"]
    error = journal["Fault"]["Error"][0]
    assert error["code"] == "6000" and "debits and credits must be equal" in error["Detail"]


def test_qbo_requestid_replays_and_seed(sb, qb):
    acme = customer(qb, "Acme")
    first = invoice(acme.to_ref(), (10, "NON")).save(qb=qb, request_id="sync-42")
    second = invoice(acme.to_ref(), (10, "NON")).save(qb=qb, request_id="sync-42")
    assert second.Id == first.Id and len(sb.records("qbo", "Invoice")) == 1
    assert [c["idempotency_key"] for c in sb.calls(path_contains="/invoice")] == ["sync-42"] * 2
    with pytest.raises(QuickbooksException) as too_long:
        invoice(acme.to_ref(), (10, "NON")).save(qb=qb, request_id="x" * 51)
    assert too_long.value.error_code == 1060
    remote = sb.seed("qbo", "Customer", {"DisplayName": "Made Remotely"})
    assert remote["SyncToken"] == "0" and remote["Id"]
    with pytest.raises(QuickbooksException) as exists:
        customer(qb, "made remotely")
    assert "Id=%s" % remote["Id"] in exists.value.detail
    assert Customer.get(remote["Id"], qb=qb).DisplayName == "Made Remotely"


def test_qbo_ten_requests_per_second(sb, qb):
    sb.configure(rate_limits=True, time_scale=0.2)  # a "second" lasts 5 real seconds
    for number in range(10):
        assert customer(qb, "C%d" % number).Id
    response = requests.get("%s/qbo/v3/company/%s/query" % (sb.url, REALM), timeout=10,
                            params={"minorversion": 75, "query": "select * from Customer"},
                            headers={"Authorization": "Bearer " + qb.token})
    assert response.status_code == 429
    assert response.json()["Fault"]["Error"][0]["code"] == "3001"
    assert 1 <= int(response.headers["Retry-After"]) <= 5
    assert 0 < int(response.headers["X-Retry-After-Ms"]) <= 5000
    sb.configure(time_scale=1000)  # the window shrinks to 1 ms
    time.sleep(0.01)
    assert len(Customer.all(qb=qb)) == 10


# -- Xero ---------------------------------------------------------------------------------

def sale(contact_id, amount=100, status="AUTHORISED", **kwargs):
    return Invoice(type="ACCREC", contact=Contact(contact_id=contact_id), status=status,
                   date=date(2024, 1, 15), due_date=date(2024, 2, 15), line_items=[
                       LineItem(description="Widget", quantity=1, unit_amount=amount,
                                account_code="200", tax_type="OUTPUT2")], **kwargs)


def test_xero_contacts_mixed_batches_and_idempotency(sb, xero):
    [acme] = xero.create_contacts(UK, Contacts(contacts=[Contact(name="Acme Ltd")])).contacts
    with pytest.raises(AccountingBadRequestException) as duplicate:
        xero.create_contacts(UK, Contacts(contacts=[Contact(name="ACME LTD")]))
    assert duplicate.value.reason == ("The contact name ACME LTD is already assigned to another "
                                      "contact. The contact name must be unique across all "
                                      "active contacts.")
    bad = Invoice(type="ACCREC", contact=Contact(contact_id=acme.contact_id), line_items=[
        LineItem(description="x", quantity=1, unit_amount=5, account_code="999")])
    batch = Invoices(invoices=[sale(acme.contact_id), bad])
    good, failed = xero.create_invoices(UK, batch, summarize_errors=False,
                                        idempotency_key="batch-1").invoices
    assert (good.status_attribute_string, failed.status_attribute_string) == ("OK", "ERROR")
    assert good.invoice_number == "INV-0001" and good.total == 120 and good.amount_due == 120
    assert [e.message for e in failed.validation_errors] == [
        "Account code '999' is not a valid code for this document."]
    again = xero.create_invoices(UK, batch, summarize_errors=False, idempotency_key="batch-1")
    assert again.invoices[0].invoice_id == good.invoice_id
    assert len(sb.records("xero", "Invoices")) == 1
    with pytest.raises(AccountingBadRequestException) as summarized:
        xero.create_invoices(UK, batch)
    assert summarized.value.error_data["Type"] == "ValidationException"
    assert len(summarized.value.error_data["Elements"]) == 1
    assert len(sb.records("xero", "Invoices")) == 2  # the valid one was saved all the same
    named = xero.update_or_create_invoices(UK, Invoices(invoices=[Invoice(
        type="ACCPAY", contact=Contact(name="New Supplier"), line_items=[
            LineItem(description="Paper", quantity=2, unit_amount=10, account_code="429")])]))
    assert named.invoices[0].total == 24  # 20 + 20 % input VAT
    found = xero.get_contacts(UK, where='Name=="Acme Ltd" OR Name=="New Supplier"').contacts
    assert {c.name for c in found} == {"Acme Ltd", "New Supplier"}


def test_xero_invoice_status_rules_and_payments(sb, xero):
    [acme] = xero.create_contacts(UK, Contacts(contacts=[Contact(name="Acme Ltd")])).contacts
    [inv] = xero.create_invoices(UK, Invoices(invoices=[sale(acme.contact_id)])).invoices
    changed = Invoices(invoices=[sale(acme.contact_id, amount=150)])
    with pytest.raises(AccountingBadRequestException) as locked:
        xero.update_invoice(UK, inv.invoice_id, changed)
    assert locked.value.reason == "Invoice not of valid status for modification"
    [ref_only] = xero.update_invoice(UK, inv.invoice_id, Invoices(invoices=[
        Invoice(reference="PO-7")])).invoices
    assert ref_only.reference == "PO-7" and ref_only.total == 120
    pay = Payment(invoice=Invoice(invoice_id=inv.invoice_id), account=Account(code="090"),
                  amount=130, date=date(2024, 1, 20))
    with pytest.raises(AccountingBadRequestException) as over:
        xero.create_payments(UK, Payments(payments=[pay]))
    assert over.value.reason == "Payment amount exceeds the amount outstanding on this document"
    pay.amount = 120
    [payment] = xero.create_payments(UK, Payments(payments=[pay])).payments
    [paid] = xero.get_invoices(UK, where='InvoiceNumber=="%s"' % inv.invoice_number).invoices
    assert (paid.status, paid.amount_due, paid.amount_paid) == ("PAID", 0, 120)
    void = Invoices(invoices=[Invoice(status="VOIDED")])
    with pytest.raises(AccountingBadRequestException) as blocked:
        xero.update_invoice(UK, inv.invoice_id, void)
    assert blocked.value.reason == "Payments must be removed before voiding"
    xero.delete_payment(UK, payment.payment_id, PaymentDelete(status="DELETED"))
    [open_again] = xero.get_invoice(UK, inv.invoice_id).invoices
    assert (open_again.status, open_again.amount_due) == ("AUTHORISED", 120)
    [voided] = xero.update_invoice(UK, inv.invoice_id, void).invoices
    assert voided.status == "VOIDED"
    [reused] = xero.create_invoices(UK, Invoices(invoices=[sale(
        acme.contact_id, invoice_number=inv.invoice_number)])).invoices  # voided: free again
    with pytest.raises(AccountingBadRequestException) as unique:
        xero.create_invoices(UK, Invoices(invoices=[sale(
            acme.contact_id, invoice_number=reused.invoice_number)]))
    assert unique.value.reason == "Invoice # must be unique."


def test_xero_tax_rates_say_what_they_apply_to_and_bank_accounts_stay_off_lines(xero):
    rates = {r.tax_type: r for r in xero.get_tax_rates(UK).tax_rates}
    assert (rates["OUTPUT2"].can_apply_to_revenue, rates["OUTPUT2"].can_apply_to_expenses) == (
        True, False)
    assert (rates["INPUT2"].can_apply_to_revenue, rates["INPUT2"].can_apply_to_expenses) == (
        False, True)
    assert rates["NONE"].can_apply_to_revenue and rates["NONE"].can_apply_to_expenses
    [acme] = xero.create_contacts(UK, Contacts(contacts=[Contact(name="Acme Ltd")])).contacts
    lines = [LineItem(description="No item", quantity=1, unit_amount=10, account_code="200",
                      tax_type="OUTPUT2", tax_amount=1.5)]
    [sent] = xero.create_invoices(UK, Invoices(invoices=[Invoice(
        type="ACCREC", status="AUTHORISED", contact=Contact(contact_id=acme.contact_id),
        line_items=lines)])).invoices
    assert sent.total == 11.5 and sent.line_items[0].item_code is None  # TaxAmount kept
    with pytest.raises(AccountingBadRequestException) as bank:
        xero.create_invoices(UK, Invoices(invoices=[Invoice(
            type="ACCREC", contact=Contact(contact_id=acme.contact_id), line_items=[
                LineItem(description="x", quantity=1, unit_amount=5, account_code="090")])]))
    assert bank.value.reason == "Account code '090' is not a valid code for this document."


def test_xero_manual_journals_must_balance(xero):
    def journal(credit):
        return ManualJournals(manual_journals=[ManualJournal(
            narration="Accrual", status="POSTED", journal_lines=[
                ManualJournalLine(line_amount=100, account_code="429"),
                ManualJournalLine(line_amount=-credit, account_code="200")])])
    with pytest.raises(AccountingBadRequestException) as unbalanced:
        xero.create_manual_journals(UK, journal(90))
    assert unbalanced.value.reason == "The total debits (100.00) must equal total credits (90.00)"
    [posted] = xero.create_manual_journals(UK, journal(100)).manual_journals
    assert posted.status == "POSTED" and posted.manual_journal_id


def test_xero_sixty_calls_per_minute(sb, xero):
    sb.configure(rate_limits=True, time_scale=10)  # a "minute" lasts 6 real seconds
    for _ in range(60):
        xero.get_contacts(UK)
    with pytest.raises(RateLimitException) as throttled:  # POST: urllib3 does not retry it
        xero.update_or_create_contacts(UK, Contacts(contacts=[Contact(name="One too many")]))
    assert throttled.value.rate_limit == "minute"
    assert 1 <= int(throttled.value.headers["Retry-After"]) <= 6
    assert 0 < int(throttled.value.headers["X-Retry-After-Ms"]) <= 6000
    assert sb.api_calls("xero", UK) == 61
    sb.configure(time_scale=10000)
    time.sleep(0.01)
    response = requests.get(sb.url + "/xero/api.xro/2.0/Contacts", timeout=10, headers={
        "Authorization": "Bearer " + xero.token, "xero-tenant-id": UK})
    assert response.status_code == 200 and response.headers["X-MinLimit-Remaining"] == "59"


def test_xero_records_and_seed(sb, xero):
    remote = sb.seed("xero", "Contacts", {"Name": "Made Remotely", "EmailAddress": "r@x.test"})
    assert remote["ContactID"] and remote["ContactStatus"] == "ACTIVE"
    with pytest.raises(AccountingBadRequestException):
        xero.create_contacts(UK, Contacts(contacts=[Contact(name="made remotely")]))
    [found] = xero.get_contacts(UK, where='EmailAddress=="r@x.test"').contacts
    assert found.contact_id == remote["ContactID"]
    seeded = sb.seed("xero", "Invoices", {"Type": "ACCREC", "Contact": {"Name": "Made Remotely"},
                                          "Status": "AUTHORISED", "LineItems": [{
                                              "Description": "x", "Quantity": 1,
                                              "UnitAmount": 10, "AccountCode": "200"}]})
    assert (seeded["InvoiceNumber"], seeded["Total"]) == ("INV-0001", 12.0)
    assert [c["Name"] for c in sb.records("xero", "Contacts")] == ["Made Remotely"]
    assert sb.records("xero", "Contacts")[0]["IsCustomer"] is True
    with pytest.raises(ValueError, match="must be unique"):
        sb.seed("xero", "Invoices", dict(seeded, InvoiceID=None))
    assert sb.api_calls("xero") == 2

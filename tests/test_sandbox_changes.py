"""The sandbox as a remote user of QuickBooks Online and Xero: remote-user actions, the
change log, QBO Change Data Capture, Xero If-Modified-Since, webhook delivery (to a real
receiver on 127.0.0.1) and Xero's intent-to-receive — all over real HTTP."""
import base64
import hashlib
import hmac
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

REDIRECT = "http://127.0.0.1:8069/callback"
REALM, REALM2 = "9341453050000001", "9341453050000002"
UK, US = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
QBO_KEY, XERO_KEY = "qbo-verifier-token", "xero-webhook-key"
DAY = 86400


# -- clients ----------------------------------------------------------------------------------

def approve(sb, url, params, company):
    sb.configure(auto_approve={"login": "alice@example.com", "companies": [company]})
    response = requests.get(url, params=dict(params, response_type="code", state="s",
                                             redirect_uri=REDIRECT), allow_redirects=False,
                            timeout=10)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


class QBOClient:
    """The v3 API over requests, with a token of one realm (issued at the sandbox clock)."""

    def __init__(self, sb, realm=REALM):
        code = approve(sb, sb.url + "/qbo/connect/oauth2", {
            "client_id": "qbo-id", "scope": "com.intuit.quickbooks.accounting"}, realm)
        tokens = requests.post(sb.url + "/qbo/oauth2/v1/tokens/bearer", auth=("qbo-id", "s"),
                               data={"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": REDIRECT}, timeout=10).json()
        self.base = "%s/qbo/v3/company/%s" % (sb.url, realm)
        self.headers = {"Authorization": "Bearer " + tokens["access_token"],
                        "Accept": "application/json"}

    def get(self, path, **params):
        return requests.get(self.base + path, params=dict(params, minorversion=75),
                            headers=self.headers, timeout=10)

    def post(self, path, body, **params):
        return requests.post(self.base + path, params=dict(params, minorversion=75),
                             json=body, headers=self.headers, timeout=10)

    def cdc(self, entities, since):
        return self.get("/cdc", entities=entities, changedSince=since)


class XeroClient:
    def __init__(self, sb, tenant=UK):
        code = approve(sb, sb.url + "/xero/identity/connect/authorize", {
            "client_id": "xero-id", "scope": "openid offline_access accounting.invoices"},
            tenant)
        tokens = requests.post(sb.url + "/xero/identity/connect/token", auth=("xero-id", "s"),
                               data={"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": REDIRECT}, timeout=10).json()
        self.base = sb.url + "/xero/api.xro/2.0"
        self.headers = {"Authorization": "Bearer " + tokens["access_token"],
                        "xero-tenant-id": tenant, "Accept": "application/json"}

    def get(self, path, since=None, **params):
        headers = dict(self.headers)
        if since is not None:
            headers["If-Modified-Since"] = since
        return requests.get(self.base + path, params=params, headers=headers, timeout=10)

    def put(self, path, body):
        return requests.put(self.base + path, json=body, headers=self.headers, timeout=10)


def control(sb, path, body=None, method="POST"):
    return requests.request(method, sb.url + path, json=body, timeout=30)


def at(sb, seconds):
    """Move the sandbox clock to ``seconds`` after the real time."""
    sb.configure(clock_offset=seconds)


def qbo_stamp(sb_time):
    """A QBO changedSince for an epoch time (UTC, with its zone)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(sb_time))


# -- a webhook receiver -----------------------------------------------------------------------

class Receiver:
    """An HTTP server on 127.0.0.1 that checks each delivery's signature (401 when bad,
    like the addon's controllers), or answers what ``statuses`` says first, or 200 to
    everything (``lenient``)."""

    def __init__(self):
        self.deliveries, self.statuses, self.lenient, self.body = [], [], False, b""
        self.on_delivery = None  # called with each delivery before it is answered
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                xero = self.path.startswith("/xero")
                key = XERO_KEY if xero else QBO_KEY
                given = self.headers.get("x-xero-signature" if xero else "intuit-signature")
                expected = base64.b64encode(hmac.new(key.encode(), raw, hashlib.sha256)
                                            .digest()).decode()
                valid = hmac.compare_digest(expected, given or "")
                receiver.deliveries.append({"path": self.path, "valid": valid, "raw": raw,
                                            "json": json.loads(raw), "headers": dict(
                                                self.headers)})
                if receiver.on_delivery:
                    receiver.on_delivery(receiver.deliveries[-1])
                status = (receiver.statuses.pop(0) if receiver.statuses else
                          200 if valid or receiver.lenient else 401)
                answer = receiver.body if status == 200 else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.05})
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(sb):
    server = Receiver()
    sb.configure(webhook_url_qbo=server.url + "/qbo", webhook_key_qbo=QBO_KEY,
                 webhook_url_xero=server.url + "/xero", webhook_key_xero=XERO_KEY)
    yield server
    sb.reset()  # stops an auto-delivery thread before the receiver goes
    server.stop()


# -- data -------------------------------------------------------------------------------------

def qbo_customer(sb, name, realm=REALM):
    return sb.act("qbo", "create", "Customer", company=realm, record={"DisplayName": name})


def qbo_invoice(sb, customer_id, amount=100.0, realm=REALM, **fields):
    return sb.act("qbo", "create", "Invoice", company=realm, record=dict({
        "CustomerRef": {"value": customer_id},
        "Line": [{"Amount": amount, "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"TaxCodeRef": {"value": "NON"}}}]}, **fields))


def qbo_payment(sb, customer_id, invoice_id, amount, realm=REALM):
    return sb.act("qbo", "create", "Payment", company=realm, record={
        "CustomerRef": {"value": customer_id}, "TotalAmt": amount,
        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id,
                                                   "TxnType": "Invoice"}]}]})


def xero_invoice(sb, contact_name, amount=100.0, status="AUTHORISED", tenant=UK):
    return sb.act("xero", "create", "Invoices", company=tenant, record={
        "Type": "ACCREC", "Contact": {"Name": contact_name}, "Status": status,
        "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": amount,
                       "AccountCode": "200"}]})


def xero_payment(sb, invoice_id, amount, tenant=UK):
    return sb.act("xero", "create", "Payments", company=tenant, record={
        "Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"}, "Amount": amount})


# == remote-user actions: QBO =================================================================

def test_qbo_payment_against_an_invoice_lowers_its_balance(sb):
    customer = qbo_customer(sb, "Harbour Ltd")
    invoice = qbo_invoice(sb, customer["Id"], 250.0)
    answer = control(sb, "/_sandbox/act", {
        "provider": "qbo", "action": "create", "resource": "Payment", "record": {
            "CustomerRef": {"value": customer["Id"]}, "TotalAmt": 100.0,
            "Line": [{"Amount": 100.0, "LinkedTxn": [{"TxnId": invoice["Id"],
                                                      "TxnType": "Invoice"}]}]}})
    assert answer.status_code == 200, answer.text
    payment = answer.json()
    assert payment["Id"] and payment["SyncToken"] == "0"
    read = QBOClient(sb).get("/invoice/%s" % invoice["Id"]).json()["Invoice"]
    assert (read["Balance"], read["SyncToken"]) == (150.0, "1")
    assert read["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]


def test_qbo_update_is_sparse_bumps_the_version_and_recomputes(sb):
    customer = sb.act("qbo", "create", "Customer", record={
        "DisplayName": "Quay Co", "BillAddr": {"Line1": "1 Quay", "City": "Bristol"}})
    at(sb, 120)
    updated = sb.act("qbo", "update", "Customer", id=customer["Id"], changes={
        "PrimaryEmailAddr": {"Address": "ap@quay.example"}, "BillAddr": {"City": "Bath"}})
    assert updated["SyncToken"] == "1"
    assert updated["BillAddr"] == {"Line1": "1 Quay", "City": "Bath"}
    assert updated["MetaData"]["LastUpdatedTime"] > customer["MetaData"]["LastUpdatedTime"]
    assert updated["MetaData"]["CreateTime"] == customer["MetaData"]["CreateTime"]

    invoice = qbo_invoice(sb, customer["Id"], 100.0)
    line = dict(invoice["Line"][0], Amount=80.0)
    edited = sb.act("qbo", "update", "Invoice", id=invoice["Id"],
                    changes={"DueDate": "2031-01-31", "Line": [line]})
    assert (edited["DueDate"], edited["TotalAmt"], edited["Balance"]) == ("2031-01-31", 80.0,
                                                                          80.0)
    assert edited["SyncToken"] == "1"
    with pytest.raises(ValueError, match="Balance"):
        sb.act("qbo", "update", "Invoice", id=invoice["Id"], changes={"Balance": 1})


def test_qbo_void_zeroes_amounts_and_notes_it(sb):
    customer = qbo_customer(sb, "Void Works")
    invoice = qbo_invoice(sb, customer["Id"], 75.0, PrivateNote="rush job")
    voided = sb.act("qbo", "void", "Invoice", id=invoice["Id"])
    assert (voided["TotalAmt"], voided["Balance"], voided["SyncToken"]) == (0, 0, "1")
    assert voided["PrivateNote"] == "Voided - rush job"
    assert all(line["Amount"] == 0 for line in voided["Line"])

    other = qbo_invoice(sb, customer["Id"], 60.0)
    payment = qbo_payment(sb, customer["Id"], other["Id"], 60.0)
    with pytest.raises(ValueError, match="6000"):  # a paid invoice: void the payment first
        sb.act("qbo", "void", "Invoice", id=other["Id"])
    voided_payment = sb.act("qbo", "void", "Payment", id=payment["Id"])
    assert voided_payment["TotalAmt"] == 0
    assert sb.records("qbo", "Invoice")[-1]["Balance"] == 60.0
    with pytest.raises(ValueError, match="deleted instead"):
        sb.act("qbo", "void", "Bill", id="1")


def test_qbo_delete_forgets_the_record_and_name_lists_go_inactive(sb):
    customer = qbo_customer(sb, "Gone Soon")
    invoice = qbo_invoice(sb, customer["Id"])
    assert sb.act("qbo", "delete", "Invoice", id=invoice["Id"]) == {
        "Id": invoice["Id"], "status": "Deleted", "domain": "QBO"}
    read = QBOClient(sb).get("/invoice/%s" % invoice["Id"])
    assert read.status_code == 400 and "was deleted" in read.json()["Fault"]["Error"][0][
        "Detail"]
    with pytest.raises(ValueError, match="it was deleted"):
        sb.act("qbo", "update", "Invoice", id=invoice["Id"], changes={"DueDate": "2030-01-01"})
    inactive = sb.act("qbo", "delete", "Customer", id=customer["Id"])
    assert (inactive["Active"], inactive["SyncToken"]) == (False, "1")
    assert sb.change_log(entity="Customer")[-1]["operation"] == "delete"


def test_qbo_merge_moves_the_transactions_and_deletes_the_merged(sb):
    keep, merged = qbo_customer(sb, "Keep Me"), qbo_customer(sb, "Merge Me")
    invoice = qbo_invoice(sb, merged["Id"])
    kept = sb.act("qbo", "merge", "Customer", id=merged["Id"], changes={"into": keep["Id"]})
    assert kept["Id"] == keep["Id"] and kept["SyncToken"] == "1"
    assert sb.records("qbo", "Invoice")[0]["CustomerRef"] == {"value": keep["Id"],
                                                              "name": "Keep Me"}
    assert [c["Id"] for c in sb.records("qbo", "Customer")] == [keep["Id"]]
    assert sb.change_log(entity="Customer")[-1]["data"] == {"deletedId": merged["Id"]}
    assert invoice["Id"] in {c["id"] for c in sb.change_log(entity="Invoice")}


def test_bad_actions_are_refused_with_a_clear_message(sb):
    customer = qbo_customer(sb, "Strict")
    cases = [
        (dict(provider="qbo", action="shred", resource="Invoice", id="1"), "action must be"),
        (dict(provider="qbo", action="update", resource="Customer", id=customer["Id"]),
         "needs changes"),
        (dict(provider="qbo", action="void", resource="Invoice"), "needs the id"),
        (dict(provider="qbo", action="update", resource="Customer", id="999",
              changes={"Notes": "x"}), "no Customer Id=999"),
        (dict(provider="qbo", action="create", resource="Invoice", record={"Line": []}),
         "2020"),
        (dict(provider="nope", action="create", resource="Invoice", record={}),
         "provider must be"),
        (dict(provider="xero", action="merge", resource="Contacts", id="x",
              changes={"into": "y"}), "no merge"),
    ]
    for arguments, message in cases:
        with pytest.raises(ValueError, match=message):
            sb.act(**arguments)
        answer = control(sb, "/_sandbox/act", arguments)
        assert answer.status_code == 400 and message in answer.json()["error"], arguments


# == remote-user actions: Xero ================================================================

def test_xero_payment_and_its_deletion_move_the_amount_due(sb):
    invoice = xero_invoice(sb, "Fjord AS", 120.0)
    payment = xero_payment(sb, invoice["InvoiceID"], 50.0)
    assert payment["Invoice"]["Status"] == "AUTHORISED"
    xero = XeroClient(sb)
    read = xero.get("/Invoices/" + invoice["InvoiceID"]).json()["Invoices"][0]
    assert (read["AmountDue"], read["AmountPaid"], read["Status"]) == (70.0, 50.0, "AUTHORISED")
    with pytest.raises(ValueError, match="Payments must be removed before voiding"):
        sb.act("xero", "void", "Invoices", id=invoice["InvoiceID"])
    xero_payment(sb, invoice["InvoiceID"], 70.0)
    assert xero.get("/Invoices/" + invoice["InvoiceID"]).json()["Invoices"][0]["Status"] == (
        "PAID")
    deleted = sb.act("xero", "delete", "Payments", id=payment["PaymentID"])
    assert deleted["Status"] == "DELETED"
    read = xero.get("/Invoices/" + invoice["InvoiceID"]).json()["Invoices"][0]
    assert (read["AmountDue"], read["AmountPaid"], read["Status"]) == (50.0, 70.0, "AUTHORISED")


def test_xero_void_delete_archive_and_update(sb):
    authorised = xero_invoice(sb, "Loch Ltd", 40.0)
    with pytest.raises(ValueError, match="cannot go back to DELETED"):
        sb.act("xero", "delete", "Invoices", id=authorised["InvoiceID"])
    assert sb.act("xero", "void", "Invoices", id=authorised["InvoiceID"])["Status"] == "VOIDED"
    draft = xero_invoice(sb, "Loch Ltd", 10.0, status="DRAFT")
    assert sb.act("xero", "delete", "Invoices", id=draft["InvoiceID"])["Status"] == "DELETED"

    contact = sb.records("xero", "Contacts")[0]
    time.sleep(0.01)
    updated = sb.act("xero", "update", "Contacts", id=contact["ContactID"], changes={
        "EmailAddress": "ap@loch.example",
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "0123"}]})
    assert updated["EmailAddress"] == "ap@loch.example"
    assert updated["UpdatedDateUTC"] > contact["UpdatedDateUTC"]
    archived = sb.act("xero", "delete", "Contacts", id=contact["ContactID"])
    assert archived["ContactStatus"] == "ARCHIVED"

    # a user in Xero may edit the lines of an approved invoice without payments
    open_invoice = xero_invoice(sb, "Tarn Ltd", 30.0)
    lines = [dict(open_invoice["LineItems"][0], UnitAmount=45.0, LineAmount=45.0)]
    edited = sb.act("xero", "update", "Invoices", id=open_invoice["InvoiceID"],
                    changes={"LineItems": lines, "DueDate": "2031-02-28"})
    assert (edited["Total"], edited["AmountDue"]) == (45.0, 45.0)
    assert edited["DueDate"].startswith("/Date(")
    with pytest.raises(ValueError, match="AmountDue"):
        sb.act("xero", "update", "Invoices", id=open_invoice["InvoiceID"],
               changes={"AmountDue": 1})


# == the change log ===========================================================================

def test_the_change_log_tells_api_writes_from_remote_users(sb):
    qbo = QBOClient(sb)
    created = qbo.post("/customer", {"DisplayName": "From The App"})
    assert created.status_code == 200, created.text
    qbo_customer(sb, "From A User")
    log = control(sb, "/_sandbox/changes?provider=qbo&entity=Customer", method="GET").json()
    assert [(c["operation"], c["source"]) for c in log] == [("create", "api"),
                                                           ("create", "remote")]
    assert log[0]["id"] == created.json()["Customer"]["Id"]
    assert log[0]["company"] == REALM and log[0]["time"] <= log[1]["time"]
    assert [c["id"] for c in sb.change_log(source="remote")] == [log[1]["id"]]
    assert sb.change_log(since=log[1]["time"] + 1) == []


# == QBO Change Data Capture ==================================================================

def test_cdc_answers_what_changed_since_a_time(sb):
    customer = qbo_customer(sb, "Old Customer")
    old = qbo_invoice(sb, customer["Id"])
    doomed = qbo_invoice(sb, customer["Id"])
    at(sb, 600)
    since = sb.change_log()[-1]["time"] + 300
    fresh = qbo_invoice(sb, customer["Id"])
    at(sb, 610)
    payment = qbo_payment(sb, customer["Id"], old["Id"], 40.0)
    sb.act("qbo", "delete", "Invoice", id=doomed["Id"])
    qbo = QBOClient(sb)
    answer = qbo.cdc("Invoice,Payment,Customer,Estimate", qbo_stamp(since))
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert set(data) == {"CDCResponse", "time"}
    invoices, payments, customers, estimates = data["CDCResponse"][0]["QueryResponse"]
    assert [r["Id"] for r in invoices["Invoice"]] == [fresh["Id"], old["Id"], doomed["Id"]]
    assert invoices["Invoice"][1]["Balance"] == 60.0  # full current payloads
    assert invoices["Invoice"][-1] == {
        "Id": doomed["Id"], "status": "Deleted", "domain": "QBO",
        "MetaData": {"LastUpdatedTime": invoices["Invoice"][-1]["MetaData"][
            "LastUpdatedTime"]}}
    assert (invoices["startPosition"], invoices["maxResults"], invoices["totalCount"]) == (
        1, 3, 3)
    assert [r["Id"] for r in payments["Payment"]] == [payment["Id"]]
    assert customers == {} and estimates == {}
    # a time without zone is the company's; lower-case names are fine
    everything = qbo.cdc("invoice", "2000-01-01")
    assert everything.status_code == 400
    assert sb.api_calls("qbo") == 2
    sb.add_fault(status=503, provider="qbo", path_contains="/cdc")
    assert qbo.cdc("Invoice", qbo_stamp(since)).status_code == 503


def test_cdc_cap_is_shared_across_entities_oldest_first(sb):
    sb.configure(cdc_max_objects=3)
    start = time.time()
    ids = []
    for n in range(5):
        at(sb, 10 * n)
        customer = qbo_customer(sb, "Cap %d" % n)
        ids.append(("Customer", customer["Id"]))
        at(sb, 10 * n + 5)
        ids.append(("Invoice", qbo_invoice(sb, customer["Id"])["Id"]))
    answer = QBOClient(sb).cdc("Invoice,Customer", qbo_stamp(start - 1)).json()
    invoices, customers = answer["CDCResponse"][0]["QueryResponse"]
    assert [r["Id"] for r in customers["Customer"]] == [ids[0][1], ids[2][1]]
    assert [r["Id"] for r in invoices["Invoice"]] == [ids[1][1]]
    assert invoices["totalCount"] + customers["totalCount"] == 3


def test_cdc_looks_back_30_days_and_knows_its_entities(sb):
    qbo_customer(sb, "Long Ago")
    then = time.time()
    at(sb, 31 * DAY)
    qbo = QBOClient(sb)  # a token issued at the new clock
    answer = qbo.cdc("Customer", qbo_stamp(then - 60))
    assert answer.status_code == 400
    error = answer.json()["Fault"]["Error"][0]
    assert error["code"] == "500" and "older than fixed days is not supported" in error[
        "Detail"]
    assert answer.json()["Fault"]["type"] == "ValidationFault"
    recent = qbo.cdc("Customer", qbo_stamp(time.time() + 29 * DAY))
    assert recent.json()["CDCResponse"][0]["QueryResponse"] == [{}]
    for entities in ("TaxCode", "Invoice,Gadget"):
        refused = qbo.cdc(entities, qbo_stamp(time.time() + 30 * DAY))
        assert refused.status_code == 400
        assert refused.json()["Fault"]["Error"][0]["code"] == "500", entities
    assert qbo.cdc("", "2026-01-01").json()["Fault"]["Error"][0]["code"] == "2020"
    assert qbo.cdc("Customer", "last week").json()["Fault"]["Error"][0]["code"] == "2010"


# == Xero If-Modified-Since ===================================================================

def test_xero_if_modified_since_pages_in_update_order(sb):
    xero = XeroClient(sb)
    contacts = []
    for n in range(5):
        at(sb, 10 * n)
        contacts.append(sb.act("xero", "create", "Contacts", record={"Name": "Peer %d" % n}))
    cutoff = time.time() + 15
    at(sb, 60)
    sb.act("xero", "update", "Contacts", id=contacts[0]["ContactID"],
           changes={"EmailAddress": "p0@peer.example"})
    at(sb, 70)
    sb.act("xero", "delete", "Contacts", id=contacts[3]["ContactID"])
    header = formatdate(cutoff, usegmt=True)
    first = xero.get("/Contacts", since=header, page=1, pageSize=2).json()
    assert [c["Name"] for c in first["Contacts"]] == ["Peer 2", "Peer 4"]
    assert first["pagination"] == {"page": 1, "pageSize": 2, "pageCount": 2, "itemCount": 4}
    second = xero.get("/Contacts", since=header, page=2, pageSize=2).json()
    assert [(c["Name"], c["ContactStatus"]) for c in second["Contacts"]] == [
        ("Peer 0", "ACTIVE"), ("Peer 3", "ARCHIVED")]  # archived ones included
    assert "Peer 3" not in {c["Name"] for c in xero.get("/Contacts").json()["Contacts"]}


def test_xero_if_modified_since_on_every_changing_resource(sb):
    at(sb, 0)
    old = xero_invoice(sb, "Early Bird", 10.0)
    cutoff = time.time() + 5
    at(sb, 10)
    invoice = xero_invoice(sb, "Late Bird", 90.0)
    payment = xero_payment(sb, invoice["InvoiceID"], 20.0)
    note = sb.act("xero", "create", "CreditNotes", record={
        "Type": "ACCRECCREDIT", "Contact": {"Name": "Late Bird"}, "Status": "AUTHORISED",
        "LineItems": [{"Description": "Refund", "UnitAmount": 5, "AccountCode": "200"}]})
    item = sb.act("xero", "create", "Items", record={"Code": "LATE", "Name": "Late"})
    journal = sb.act("xero", "create", "ManualJournals", record={
        "Narration": "Late", "JournalLines": [{"LineAmount": 5, "AccountCode": "200"},
                                              {"LineAmount": -5, "AccountCode": "429"}]})
    xero = XeroClient(sb)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(cutoff))
    expected = {"Invoices": ("InvoiceID", [invoice["InvoiceID"]]),
                "Payments": ("PaymentID", [payment["PaymentID"]]),
                "CreditNotes": ("CreditNoteID", [note["CreditNoteID"]]),
                "Items": ("ItemID", [item["ItemID"]]),
                "ManualJournals": ("ManualJournalID", [journal["ManualJournalID"]])}
    for resource, (id_field, ids) in expected.items():
        answer = xero.get("/" + resource, since=since, page=1).json()
        assert [r[id_field] for r in answer[resource]] == ids, resource
        assert answer["pagination"]["itemCount"] == len(ids)
    assert old["InvoiceID"] in {i["InvoiceID"] for i in xero.get("/Invoices").json()["Invoices"]}


# == webhooks =================================================================================

def test_qbo_legacy_webhooks_one_delivery_per_realm_signed(sb, receiver):
    sb.configure(qbo_webhook_format="legacy")
    customer = qbo_customer(sb, "Hook One")
    invoice = qbo_invoice(sb, customer["Id"])
    sb.act("qbo", "void", "Invoice", id=invoice["Id"])
    other = qbo_customer(sb, "Hook Two", realm=REALM2)
    qbo_customer(sb, "Hook Three")
    sb.act("qbo", "update", "Customer", id=other["Id"], company=REALM2,
           changes={"Notes": "x"})
    pending = sb.webhook_log()["pending"]
    assert len(pending) == 6
    report = control(sb, "/_sandbox/webhooks/deliver").json()
    assert report["statuses"] == [200, 200] and report["delivered"] == 6
    assert report["pending"] == 0
    first, second = receiver.deliveries
    assert first["valid"] and second["valid"]
    assert first["headers"]["Content-Type"] == "application/json"
    (notification,) = first["json"]["eventNotifications"]
    assert notification["realmId"] == REALM
    entities = notification["dataChangeEvent"]["entities"]
    assert [(e["name"], e["operation"]) for e in entities] == [
        ("Customer", "Create"), ("Invoice", "Create"), ("Invoice", "Void"),
        ("Customer", "Create")]
    assert entities[1]["id"] == invoice["Id"]
    assert entities[0]["lastUpdated"].endswith("Z")
    assert second["json"]["eventNotifications"][0]["realmId"] == REALM2
    assert [e["operation"] for e in second["json"]["eventNotifications"][0][
        "dataChangeEvent"]["entities"]] == ["Create", "Update"]
    assert sb.deliver_webhooks()["deliveries"] == []  # nothing pending any more
    assert len(control(sb, "/_sandbox/webhooks", method="GET").json()["deliveries"]) == 2


def test_qbo_cloudevents_webhooks(sb, receiver):
    sb.configure(qbo_webhook_format="cloudevents")
    keep, merged = qbo_customer(sb, "CE Keep"), qbo_customer(sb, "CE Merged")
    invoice = qbo_invoice(sb, keep["Id"])
    qbo_payment(sb, keep["Id"], invoice["Id"], 10.0)
    sb.act("qbo", "merge", "Customer", id=merged["Id"], changes={"into": keep["Id"]})
    report = sb.deliver_webhooks("qbo")
    assert report["statuses"] == [200]
    (delivery,) = receiver.deliveries
    assert delivery["valid"]
    assert delivery["headers"]["Content-Type"] == "application/cloudevents+json"
    events = delivery["json"]
    assert [e["type"] for e in events] == [
        "qbo.customer.created.v1", "qbo.customer.created.v1", "qbo.invoice.created.v1",
        "qbo.payment.created.v1", "qbo.invoice.updated.v1", "qbo.customer.merged.v1"]
    assert events[-1]["data"] == {"deletedId": merged["Id"]}
    assert all(e["specversion"] == "1.0" and e["source"] == "intuit.qbo"
               and e["intuitaccountid"] == REALM and e["datacontenttype"] ==
               "application/json" for e in events)
    assert events[2]["intuitentityid"] == invoice["Id"]
    assert len({e["id"] for e in events}) == len(events)


def test_xero_webhooks_contacts_invoices_credit_notes_only(sb, receiver):
    invoice = xero_invoice(sb, "Xero Hook", 50.0)
    xero_payment(sb, invoice["InvoiceID"], 50.0)
    note = sb.act("xero", "create", "CreditNotes", record={
        "Type": "ACCRECCREDIT", "Contact": {"Name": "Xero Hook"}, "Status": "DRAFT",
        "LineItems": [{"Description": "Refund", "UnitAmount": 5, "AccountCode": "200"}]})
    sb.act("xero", "create", "Items", record={"Code": "NOHOOK"})
    report = sb.deliver_webhooks("xero")
    assert report["statuses"] == [200] and report["delivered"] == 4
    (delivery,) = receiver.deliveries
    assert delivery["valid"] and delivery["path"] == "/xero"
    body = delivery["json"]
    assert set(body) == {"events", "firstEventSequence", "lastEventSequence", "entropy"}
    assert [(e["eventCategory"], e["eventType"]) for e in body["events"]] == [
        ("INVOICE", "CREATE"), ("CONTACT", "CREATE"), ("INVOICE", "UPDATE"),
        ("CREDITNOTE", "CREATE")]  # the payment is an UPDATE of its invoice
    assert body["events"][0]["resourceId"] == invoice["InvoiceID"]
    assert body["events"][0]["resourceUrl"] == "%s/xero/api.xro/2.0/Invoices/%s" % (
        sb.url, invoice["InvoiceID"])
    assert body["events"][3]["data"] == {"Type": "ACCRECCREDIT", "Status": "DRAFT"}
    assert "data" not in body["events"][0]
    assert all(e["tenantId"] == UK and e["tenantType"] == "ORGANISATION"
               for e in body["events"])
    assert body["lastEventSequence"] - body["firstEventSequence"] == 3
    assert note["CreditNoteID"] == body["events"][3]["resourceId"]


def test_a_delivery_not_answered_200_stays_pending_and_is_retried(sb, receiver):
    qbo_customer(sb, "Retry Me")
    receiver.statuses = [500]
    report = sb.deliver_webhooks()
    assert report["statuses"] == [500]
    assert (report["delivered"], report["pending"]) == (0, 1)
    assert sb.webhook_log()["pending"][0]["attempts"] == 1
    report = sb.deliver_webhooks()
    assert (report["statuses"], report["delivered"], report["pending"]) == ([200], 1, 0)
    assert receiver.deliveries[0]["raw"] == receiver.deliveries[1]["raw"]
    receiver.stop()  # nobody listening: the event waits
    qbo_customer(sb, "Nobody Home")
    report = sb.deliver_webhooks()
    assert report["statuses"] == [None] and report["pending"] == 1
    assert report["deliveries"][0]["error"]


def test_a_receiver_may_call_the_sandbox_back_while_it_handles_a_delivery(sb, receiver):
    """As Odoo does: it reads the changed record before it answers the webhook."""
    xero = XeroClient(sb)
    read = []
    receiver.on_delivery = lambda delivery: read.append(xero.get(
        "/Contacts/" + delivery["json"]["events"][0]["resourceId"]).status_code)
    sb.act("xero", "create", "Contacts", record={"Name": "Call Me Back"})
    assert sb.deliver_webhooks()["statuses"] == [200]
    sb.act("xero", "create", "Contacts", record={"Name": "Call Me Again"})
    assert control(sb, "/_sandbox/webhooks/deliver").json()["statuses"] == [200]
    assert read == [200, 200]


def test_webhook_faults(sb, receiver):
    sb.configure(qbo_webhook_format="legacy")
    first, second = qbo_customer(sb, "Fault A"), qbo_customer(sb, "Fault B")
    qbo_customer(sb, "Fault C", realm=REALM2)
    # a wrong key: the receiver refuses, the events stay
    report = sb.deliver_webhooks(faults=["bad_signature"])
    assert report["statuses"] == [401] and report["pending"] == 3
    assert not receiver.deliveries[-1]["valid"]
    # reversed order within the delivery, several realms in one, each sent twice
    receiver.deliveries.clear()
    sb.configure(webhook_faults=["out_of_order", "multi_realm", "duplicate"])
    report = sb.deliver_webhooks()
    assert report["statuses"] == [200, 200] and report["delivered"] == 3
    assert receiver.deliveries[0]["raw"] == receiver.deliveries[1]["raw"]
    notifications = receiver.deliveries[0]["json"]["eventNotifications"]
    assert [n["realmId"] for n in notifications] == [REALM2, REALM]
    assert [e["id"] for e in notifications[1]["dataChangeEvent"]["entities"]] == [
        second["Id"], first["Id"]]
    with pytest.raises(ValueError, match="unknown webhook fault"):
        sb.deliver_webhooks(faults=["lost"])


def test_at_most_100_events_a_delivery(sb, receiver):
    for n in range(101):
        sb.act("xero", "create", "Contacts", record={"Name": "Bulk %d" % n})
    report = sb.deliver_webhooks("xero")
    assert [d["event_count"] for d in report["deliveries"]] == [100, 1]
    assert receiver.deliveries[1]["json"]["firstEventSequence"] == 101


def test_auto_delivery_retries_and_stops_on_reset(sb, receiver):
    receiver.statuses = [503]
    sb.configure(webhook_delivery="auto")
    qbo_customer(sb, "Auto")
    deadline = time.time() + 10
    while time.time() < deadline and not (len(receiver.deliveries) >= 2
                                          and not sb.webhook_log()["pending"]):
        time.sleep(0.05)
    assert [d["status"] for d in sb.webhook_log()["deliveries"]] == [503, 200]
    thread = sb.webhooks.thread
    assert thread.is_alive()
    sb.reset()
    assert not thread.is_alive()
    assert sb.webhook_log() == {"pending": [], "deliveries": [], "dropped": 0}


def test_webhook_settings_are_checked(sb):
    for settings, message in (({"webhook_url_qbo": "https://example.com/hook"}, "127.0.0.1"),
                              ({"qbo_webhook_format": "xml"}, "legacy"),
                              ({"webhook_delivery": "sometimes"}, "manual"),
                              ({"webhook_key_xero": ""}, "non-empty"),
                              ({"webhook_faults": ["late"]}, "unknown webhook fault"),
                              ({"clock_offset": "soon"}, "clock_offset"),
                              ({"cdc_max_objects": 0}, "cdc_max_objects")):
        with pytest.raises(ValueError, match=message):
            sb.configure(**settings)
        assert control(sb, "/_sandbox/configure", settings).status_code == 400
    qbo_customer(sb, "No URL yet")
    with pytest.raises(ValueError, match="webhook_url_qbo"):
        sb.deliver_webhooks("qbo")
    assert sb.deliver_webhooks() == {"deliveries": [], "delivered": 0, "pending": 1,
                                     "statuses": []}


# == Xero intent to receive ===================================================================

def test_intent_to_receive_passes_a_receiver_that_checks_signatures(sb, receiver):
    report = control(sb, "/_sandbox/webhooks/intent_to_receive", {}).json()
    assert report["passed"] is True, report
    assert [a["status"] for a in report["attempts"]] == [200, 401, 200, 401, 401, 200]
    assert all(d["json"]["events"] == [] for d in receiver.deliveries)
    assert len({d["json"]["entropy"] for d in receiver.deliveries}) == 6


def test_intent_to_receive_fails_a_receiver_that_answers_200_to_everything(sb, receiver):
    receiver.lenient = True
    report = sb.intent_to_receive()
    assert report["passed"] is False
    assert [a["ok"] for a in report["attempts"]] == [True, False, True, False, False, True]
    receiver.lenient, receiver.body = False, b"ok"  # a body with the 200: fails too
    assert sb.intent_to_receive(url=receiver.url + "/xero", key=XERO_KEY)["passed"] is False


# == reset ====================================================================================

def test_reset_forgets_changes_events_deliveries_and_the_clock(sb, receiver):
    qbo_customer(sb, "Before Reset")
    sb.deliver_webhooks()
    sb.configure(clock_offset=5 * DAY)
    sb.reset()
    assert sb.change_log() == []
    assert sb.webhook_log() == {"pending": [], "deliveries": [], "dropped": 0}
    config = sb.configure()
    assert (config["clock_offset"], config["webhook_url_qbo"], config["webhook_delivery"]) == (
        0, None, "manual")
    contact = sb.act("xero", "create", "Contacts", record={"Name": "Now"})
    assert abs(int(contact["UpdatedDateUTC"][6:-7]) / 1000 - time.time()) < 5

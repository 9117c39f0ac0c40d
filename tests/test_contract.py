"""The provider contract (accounting_sync/providers/base.py): capabilities, adapters built from
settings, plan → execute → interpret (equal to push, against the sandbox through the real
libraries), webhooks, and message codes with their parameters."""
import base64
import dataclasses
import hashlib
import hmac
import json
from datetime import date, datetime
from decimal import Decimal as D

import pytest

from accounting_sync.providers import (
    ADAPTERS, PROVIDERS, Adapter, Answer, Capabilities, ConfigurationError, ProviderError,
    QuickBooksOnlineAdapter, RateLimitError, Setting, WebhookPayloadError,
    WebhookSignatureError, XeroAdapter, capabilities, get_adapter, item_required_kinds,
)
from accounting_sync.providers.documents import KINDS, Document, Line, Party, Product, Ref
from accounting_sync.providers.messages import GROUPS, MESSAGES, NOUNS, params_of, render
from accounting_sync.providers.quickbooks_online import lookups as qbo_lookups
from accounting_sync.providers.quickbooks_online import payloads as qbo_payloads
from accounting_sync.providers.sync_rules import UsageError
from accounting_sync.providers.xero import payloads as xero_payloads
from conftest import REDIRECT_URI, authorize

SCALE = 1000.0
REALM = "9341453050000001"
REALM_2 = "9341453050000002"
UK = "11111111-1111-4111-8111-111111111111"
US = "22222222-2222-4222-8222-222222222222"
QBO_KEY = "qbo-verifier-token"
XERO_KEY = "xero-webhook-key"


# == capabilities =================================================================================

def test_the_capabilities_table():
    assert PROVIDERS == [("quickbooks_online", "QuickBooks Online"), ("xero", "Xero"),
                         ("quickbooks_desktop", "QuickBooks Desktop")]
    assert list(ADAPTERS) == [code for code, _label in PROVIDERS]
    qbo, xero = capabilities("quickbooks_online"), capabilities("xero")
    assert qbo is QuickBooksOnlineAdapter.CAPABILITIES and xero is XeroAdapter.CAPABILITIES
    assert (qbo.code, qbo.label, qbo.batch_size, qbo.queued, qbo.credentials) == (
        "quickbooks_online", "QuickBooks Online", 30, False, "oauth")
    assert (xero.code, xero.label, xero.batch_size, xero.queued, xero.credentials) == (
        "xero", "Xero", 50, False, "oauth")
    assert qbo.item_required_kinds == ("invoice", "credit_note") and xero.item_required_kinds == ()
    assert qbo.tax_total_on_document and not xero.tax_total_on_document
    for caps in (qbo, xero):
        assert caps.pulls_changes and caps.pull_types and caps.webhooks
        assert caps.settings[:2] == (Setting("client_id", "Client ID", False),
                                     Setting("client_secret", "Client Secret", True))
        webhook_setting = caps.setting(caps.webhook_secret)
        assert webhook_setting.secret and not webhook_setting.required
    assert qbo.setting("webhook_verifier_token").label == "Webhook Verifier Token"
    assert xero.setting("webhook_key").label == "Webhook Key"
    assert (qbo.sandbox_code, qbo.access_ttl, qbo.refresh_ttl_note) == (
        "qbo", 3600, "at most 5 years, and 100 days unused")
    assert (xero.sandbox_code, xero.access_ttl, xero.refresh_ttl_note) == (
        "xero", 1800, "60 days unused")
    assert not qbo.disconnects_tenants and xero.disconnects_tenants
    assert not qbo.multiple_companies and xero.multiple_companies
    with pytest.raises(dataclasses.FrozenInstanceError):
        qbo.batch_size = 10
    # The class attributes the callers read come from the table.
    assert (QuickBooksOnlineAdapter.code, QuickBooksOnlineAdapter.label,
            QuickBooksOnlineAdapter.BATCH_SIZE, QuickBooksOnlineAdapter.SANDBOX_CODE,
            QuickBooksOnlineAdapter.access_ttl, QuickBooksOnlineAdapter.TAX_TOTAL_ON_DOCUMENT) \
        == ("quickbooks_online", "QuickBooks Online", 30, "qbo", 3600, True)
    assert (XeroAdapter.BATCH_SIZE, XeroAdapter.ITEM_REQUIRED_KINDS) == (50, ())
    assert item_required_kinds("quickbooks_online") == ("invoice", "credit_note")
    with pytest.raises(ConfigurationError) as unknown:
        capabilities("sage")
    assert unknown.value.code == "unknown_provider" and unknown.value.params == {
        "provider": "sage"}


def test_an_adapter_is_built_from_a_settings_dict(sb):
    for code in ("quickbooks_online", "xero"):
        adapter = get_adapter(code, settings={"client_id": "id-1", "client_secret": "s-1",
                                              capabilities(code).webhook_secret: "hook"},
                              environment="local", base_url=sb.url + "/", timeout=7,
                              time_scale=SCALE)
        assert (adapter.client_id, adapter.client_secret) == ("id-1", "s-1")
        assert adapter.settings[capabilities(code).webhook_secret] == "hook"
        assert adapter.base_url == sb.url and adapter.timeout == 7
        assert adapter.time_scale == SCALE
        assert adapter.endpoints["api"].startswith(
            "%s/%s/" % (sb.url, capabilities(code).sandbox_code))
        same = get_adapter(code, client_id="id-1", client_secret="s-1", environment="local",
                           base_url=sb.url, timeout=7, time_scale=SCALE)
        assert same.endpoints == adapter.endpoints
        with pytest.raises(ConfigurationError) as missing:
            get_adapter(code, settings={"client_id": "id-1"}, environment="local",
                        base_url=sb.url)
        assert missing.value.code == "client_credentials_missing"
    # The production adapter needs no base URL; the webhook key is optional.
    assert get_adapter("xero", settings={"client_id": "a", "client_secret": "b"}).base_url is None


class PasswordAdapter(Adapter):
    """A provider whose credentials are a password (as the Web Connector's will be)."""

    CAPABILITIES = Capabilities(code="password_provider", label="Password Provider",
                                batch_size=2, queued=True, credentials="password",
                                settings=(Setting("password", "Connector Password", True),))


def test_an_adapter_without_oauth_needs_no_client_id():
    adapter = PasswordAdapter(settings={"password": "pw"}, environment="local")
    assert adapter.settings == {"password": "pw"} and adapter.code == "password_provider"
    with pytest.raises(ConfigurationError) as missing:
        PasswordAdapter(settings={})
    assert missing.value.code == "setting_missing"
    assert missing.value.params == {"provider": "Password Provider",
                                    "setting": "Connector Password"}
    # Queued: its requests are planned (and fetched later), never executed at once.
    [first, second] = adapter.plan([party("A"), party("B"), party("C")])
    assert (first.size, second.size) == (2, 1)
    with pytest.raises(UsageError):
        adapter.execute(None, "company", first)
    # Its answer comes back later; interpret is given it then.
    results, follow_ups = adapter.interpret(second, Answer(key=second.key, raw="<QBXML/>"))
    assert follow_ups == [] and results[0].error.code == "no_answer"


# == plan, execute, interpret =====================================================================

def party(name, email=None, kind="customer", key=None, remote_id=None, version=None):
    return Party(key=key or "%s-%s" % (kind, name), kind=kind, name=name, email=email,
                 remote_id=remote_id, remote_version=version)


def test_plan_batches_records_in_order_with_stable_keys():
    qbo = get_adapter("quickbooks_online", client_id="a", client_secret="b")
    records = [party("P%02d" % n) for n in range(61)]
    requests = qbo.plan(records)
    assert [r.size for r in requests] == [30, 30, 1]
    assert [rec for r in requests for rec in r.records] == records
    assert all(r.kind == "customer" and r.body is None and r.operation == "write"
               for r in requests)
    assert [r.key for r in qbo.plan(records)] == [r.key for r in requests]  # deterministic
    assert len({r.key for r in requests}) == 3
    reordered = qbo.plan(records[1::-1] + records[2:30])[0]
    assert reordered.key != requests[0].key  # the order is part of the key
    versioned = qbo.plan([party("P00", remote_id="7", version="3")] + records[1:30])[0]
    assert versioned.key != requests[0].key  # so are remote ids and versions
    xero = get_adapter("xero", client_id="a", client_secret="b")
    assert [r.size for r in xero.plan(records)] == [50, 11]
    assert xero.plan(records[:30])[0].key == requests[0].key  # a digest of the records only
    assert qbo.plan([]) == []
    with pytest.raises(UsageError):
        qbo.plan([party("A"), Product(key="p", name="Thing")])


def test_interpret_gives_one_result_per_record_in_order():
    adapter = get_adapter("xero", client_id="a", client_secret="b")
    [request] = adapter.plan([party("A"), party("B")])
    with pytest.raises(UsageError):
        adapter.interpret(request, Answer(key="another request"))
    first = dataclasses.replace(adapter.plan([party("A")])[0])
    one, _none = adapter.interpret(first, Answer(key=first.key))
    [missing] = one
    assert not missing.ok and missing.outcome_unknown and missing.error.code == "no_answer"
    assert missing.error.message == "Xero did not answer for this record; sync again."


def connected(sb, code, companies):
    adapter = get_adapter(code, settings={"client_id": code + "-id",
                                          "client_secret": code + "-secret"},
                          environment="local", base_url=sb.url, time_scale=SCALE)
    params, verifier = authorize(sb, adapter, companies=companies)
    return adapter, adapter.exchange_code(params["code"], REDIRECT_URI, code_verifier=verifier)


def by_plan(adapter, tokens, company, records):
    """push, done by hand: plan → execute → interpret for every request."""
    results = []
    for request in adapter.plan(records):
        answer = adapter.execute(tokens, company, request)
        assert answer.key == request.key
        found, follow_ups = adapter.interpret(request, answer)
        assert follow_ups == []
        results += found
    return results


def scenario(code, account, write):
    """Parties (one a name clash), a product, documents (one that cannot be sent): the
    outcomes, with the remote ids each step gives the next."""
    outcomes = []

    def step(records):
        results = write(records)
        outcomes.append([(r.ok, r.linked_existing, r.note_code, r.error and r.error.code,
                          r.error and r.error.provider_code) for r in results])
        return results
    parties = step([party("Acme %d" % n, "ap%d@acme.test" % n) for n in range(55)]
                   + [party("Acme 3", "other@acme.test", key="clash")])
    [product] = step([Product(key="p-1", name="Consulting", code="CONS", sale_price=D("100"),
                              income_account=Ref(account))])
    lines = [Line("Work", D("1"), D("100"), D("100.00"), Ref(account),
                  item=Ref(product.remote_id))]
    step([Document(key="doc-%d" % n, kind="invoice", number="INV/%d" % n,
                   date=date(2025, 3, 3), party=Ref(parties[n].remote_id), currency=None,
                   lines=lines if n != 1 else [dataclasses.replace(lines[0], item=None)],
                   amount_untaxed=D("100"), amount_tax=D("0"), amount_total=D("100"),
                   find_existing=False)
          for n in range(3)])
    return outcomes


@pytest.mark.parametrize("code,provider,company,account", [
    ("quickbooks_online", "qbo", REALM, "1"), ("xero", "xero", UK, "200")])
def test_plan_execute_interpret_is_push(sb, code, provider, company, account):
    """The same records through push() and through plan → execute → interpret, each in a
    fresh sandbox: the same outcomes, the same idempotency keys sent."""
    runs = []
    for by_hand in (False, True):
        sb.reset()
        adapter, tokens = connected(sb, code, [company])
        if by_hand:
            outcomes = scenario(code, account, lambda r: by_plan(adapter, tokens, company, r))
        else:
            outcomes = scenario(code, account, lambda r: adapter.push(tokens, company, r))
        keys = [c["idempotency_key"] for c in sb.calls(provider=provider)
                if c["idempotency_key"]]
        runs.append((outcomes, keys))
    (pushed, push_keys), (planned, plan_keys) = runs
    assert pushed == planned and push_keys == plan_keys and len(push_keys) >= 4
    parties, _product, documents = pushed
    assert parties[-1][3] == "name_in_use" and parties[-1][4] == "name_clash"
    assert all(ok for ok, *_rest in parties[:-1])
    if code == "quickbooks_online":
        assert documents[1][3:] == ("item_required", "payload")  # never sent
    assert documents[0][0] and documents[2][0]


# == webhooks =====================================================================================

def sign(key, body):
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def qbo_webhook(payload, key=QBO_KEY, header="intuit-signature"):
    body = json.dumps(payload).encode()
    return {header: sign(key, body), "Content-Type": "application/cloudevents+json"}, body


LEGACY = {"eventNotifications": [
    {"realmId": REALM, "dataChangeEvent": {"entities": [
        {"id": "1234", "operation": "Create", "name": "Invoice",
         "lastUpdated": "2025-09-08T20:52:31.657Z"},
        {"id": "55", "operation": "Merge", "name": "Customer", "deletedId": "54",
         "lastUpdated": "2025-09-08T20:53:00Z"},
        {"id": "1234", "operation": "Emailed", "name": "Invoice",
         "lastUpdated": "2025-09-08T20:54:00Z"},
        {"id": "9", "operation": "Update", "name": "Estimate",
         "lastUpdated": "2025-09-08T22:00:00+02:00"}]}},
    {"realmId": REALM_2, "dataChangeEvent": {"entities": [
        {"id": "77", "operation": "Void", "name": "BillPayment",
         "lastUpdated": "2025-09-09T08:00:00.000Z"},
        {"id": "78", "operation": "Delete", "name": "CreditMemo",
         "lastUpdated": "2025-09-09T08:01:00.000Z"}]}}]}


def test_qbo_legacy_webhook_of_two_realms():
    adapter = get_adapter("quickbooks_online", client_id="a", client_secret="b")
    headers, body = qbo_webhook(LEGACY)
    changes = adapter.parse_webhook(headers, body, QBO_KEY)
    assert [(c.company_id, c.remote_type, c.remote_id, c.operation) for c in changes] == [
        (REALM, "invoice", "1234", "create"), (REALM, "customer", "55", "merge"),
        (REALM, "Estimate", "9", "update"), (REALM_2, "vendor_payment", "77", "void"),
        (REALM_2, "credit_note", "78", "delete")]  # the Emailed event changes nothing
    invoice, merged, estimate, _void, _delete = changes
    assert invoice.occurred_at == datetime(2025, 9, 8, 20, 52, 31, 657000)
    assert estimate.occurred_at == datetime(2025, 9, 8, 20, 0)  # naive UTC
    assert invoice.kinds == ("invoice",) and estimate.kinds == ()
    assert merged.data == {"entity": "Customer", "deletedId": "54"}
    assert len({c.event_id for c in changes}) == 5
    again = adapter.parse_webhook(headers, body, QBO_KEY)
    assert [c.event_id for c in again] == [c.event_id for c in changes]  # deduplicable


CLOUD = [
    {"specversion": "1.0", "id": "88cd52b6-9cc1-4a5d-9b8a-4e2c0b6d1a01",
     "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
     "type": "qbo.invoice.created.v1", "datacontenttype": "application/json",
     "time": "2025-09-10T10:00:00.123Z", "intuitentityid": "1234",
     "intuitaccountid": REALM, "data": {}},
    {"specversion": "1.0", "id": "88cd52b6-9cc1-4a5d-9b8a-4e2c0b6d1a02",
     "source": "intuit.x", "type": "qbo.customer.merged.v1", "time": "2025-09-10T10:01:00Z",
     "intuitentityid": "55", "intuitaccountid": REALM_2, "data": {"deletedId": "54"}},
    {"specversion": "1.0", "id": "88cd52b6-9cc1-4a5d-9b8a-4e2c0b6d1a03",
     "source": "intuit.x", "type": "qbo.payment.void.v1", "time": "2025-09-10T10:02:00Z",
     "intuitentityid": "61", "intuitaccountid": REALM, "data": {}},
    {"specversion": "1.0", "id": "88cd52b6-9cc1-4a5d-9b8a-4e2c0b6d1a04",
     "source": "intuit.x", "type": "qbo.item.updated.v1", "time": "2025-09-10T10:03:00Z",
     "intuitentityid": "12", "intuitaccountid": REALM_2},
]


def test_qbo_cloudevents_webhook_of_two_realms():
    adapter = get_adapter("quickbooks_online", client_id="a", client_secret="b")
    headers, body = qbo_webhook(CLOUD)
    changes = adapter.parse_webhook(headers, body, QBO_KEY)
    assert [(c.event_id[-2:], c.company_id, c.remote_type, c.remote_id, c.operation)
            for c in changes] == [
        ("01", REALM, "invoice", "1234", "create"), ("02", REALM_2, "customer", "55", "merge"),
        ("03", REALM, "customer_payment", "61", "void"),
        ("04", REALM_2, "product", "12", "update")]
    assert changes[0].event_id == CLOUD[0]["id"]
    assert changes[0].occurred_at == datetime(2025, 9, 10, 10, 0, 0, 123000)
    assert changes[1].data == {"deletedId": "54", "entity": "Customer"}
    # One CloudEvent alone reads as a list of one; header names are case-insensitive.
    headers, body = qbo_webhook(CLOUD[2], header="Intuit-Signature")
    [alone] = adapter.parse_webhook(headers, body, QBO_KEY)
    assert alone.remote_type == "customer_payment" and alone.data["entity"] == "Payment"


def test_qbo_webhook_signatures():
    adapter = get_adapter("quickbooks_online", client_id="a", client_secret="b")
    headers, body = qbo_webhook(CLOUD)
    cases = [({"intuit-signature": sign("another token", body)}, body, QBO_KEY,
              "webhook_signature_bad"),
             (headers, body + b" ", QBO_KEY, "webhook_signature_bad"),  # the body tampered
             ({"intuit-signature": "not base64 at all!"}, body, QBO_KEY,
              "webhook_signature_bad"),
             ({}, body, QBO_KEY, "webhook_signature_missing"),
             ({"intuit-signature": "  "}, body, QBO_KEY, "webhook_signature_missing"),
             (headers, body, "", "webhook_secret_missing")]
    for bad_headers, bad_body, key, code in cases:
        with pytest.raises(WebhookSignatureError) as refused:
            adapter.parse_webhook(bad_headers, bad_body, key)
        assert isinstance(refused.value, ProviderError) and refused.value.code == code
        assert refused.value.message == render(code, refused.value.params)
    assert adapter.parse_webhook(headers, body.decode(), QBO_KEY)  # a str body is its UTF-8


def test_qbo_webhook_bodies_that_cannot_be_read():
    """Correctly signed, but not JSON or of neither payload: a typed WebhookPayloadError
    (never a bare exception); one event of the wrong shape among good ones is left out."""
    adapter = get_adapter("quickbooks_online", client_id="a", client_secret="b")
    for body in (b"{not json", b"", b"\xff\xfe", json.dumps({"hello": 1}).encode(),
                 json.dumps("text").encode()):
        with pytest.raises(WebhookPayloadError) as unreadable:
            adapter.parse_webhook({"intuit-signature": sign(QBO_KEY, body)}, body, QBO_KEY)
        assert isinstance(unreadable.value, ProviderError)
        assert unreadable.value.code == "webhook_unreadable"
        assert unreadable.value.params["provider"] == "QuickBooks Online"
    broken = [CLOUD[0], {"specversion": "1.0", "id": "x", "type": "qbo.invoice.created.v1",
                         "time": "2025-09-10T10:00:00Z", "intuitentityid": "../1",
                         "intuitaccountid": REALM}, "junk", dict(CLOUD[1], time="soon"),
              dict(CLOUD[2], type="qbo.payment.exploded.v1"), CLOUD[3]]
    headers, body = qbo_webhook(broken)
    assert [c.remote_id for c in adapter.parse_webhook(headers, body, QBO_KEY)] == ["1234", "12"]
    legacy = {"eventNotifications": [{"realmId": "no realm", "dataChangeEvent": {}},
                                     LEGACY["eventNotifications"][1]]}
    headers, body = qbo_webhook(legacy)
    assert [c.remote_id for c in adapter.parse_webhook(headers, body, QBO_KEY)] == ["77", "78"]


def xero_webhook(payload, key=XERO_KEY):
    body = json.dumps(payload).encode()
    return {"x-xero-signature": sign(key, body)}, body


CONTACT_ID = "5e6f7a8b-0000-4000-8000-000000000001"
INVOICE_ID = "5e6f7a8b-0000-4000-8000-000000000002"
CREDIT_ID = "55d84274-a3da-4829-a7c0-0cab601b95cc"
XERO_EVENTS = {"events": [
    {"resourceUrl": "https://api.xero.com/api.xro/2.0/Contacts/" + CONTACT_ID,
     "resourceId": CONTACT_ID, "eventDateUtc": "2025-12-02T00:44:09.923",
     "eventType": "CREATE", "eventCategory": "CONTACT", "tenantId": UK,
     "tenantType": "ORGANISATION"},
    {"resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/" + INVOICE_ID,
     "resourceId": INVOICE_ID, "eventDateUtc": "2025-12-02T00:45:00",
     "eventType": "UPDATE", "eventCategory": "INVOICE", "tenantId": US,
     "tenantType": "ORGANISATION"},
    {"resourceUrl": "https://api.xero.com/api.xro/2.0/CreditNotes/" + CREDIT_ID,
     "resourceId": CREDIT_ID, "tenantId": UK, "tenantType": "ORGANISATION",
     "eventCategory": "CREDITNOTE", "eventType": "UPDATE",
     "eventDateUtc": "2025-12-02T00:46:00.100", "data": {"Type": "ACCPAYCREDIT",
                                                         "Status": "VOIDED"}},
    {"resourceUrl": "https://api.xero.com/Subscriptions/1", "resourceId": CONTACT_ID,
     "eventDateUtc": "2025-12-02T00:47:00", "eventType": "UPDATE",
     "eventCategory": "SUBSCRIPTION", "tenantId": US, "tenantType": "APPLICATION"}],
    "firstEventSequence": 76, "lastEventSequence": 79, "entropy": "FXNGWLCCGVANWHKILRUB"}


def test_xero_webhook_events():
    adapter = get_adapter("xero", client_id="a", client_secret="b")
    headers, body = xero_webhook(XERO_EVENTS)
    changes = adapter.parse_webhook(headers, body, XERO_KEY)
    assert [(c.company_id, c.remote_type, c.kinds, c.remote_id, c.operation) for c in changes] \
        == [(UK, "contact", ("customer", "vendor"), CONTACT_ID, "create"),
            (US, "invoice_or_bill", ("invoice", "bill"), INVOICE_ID, "update"),
            (UK, "vendor_credit", ("vendor_credit",), CREDIT_ID, "void")]
    contact, _invoice, credit = changes
    assert contact.occurred_at == datetime(2025, 12, 2, 0, 44, 9, 923000)
    assert contact.data == {"category": "CONTACT", "resourceUrl":
                            XERO_EVENTS["events"][0]["resourceUrl"]}
    assert credit.data["Type"] == "ACCPAYCREDIT" and credit.data["Status"] == "VOIDED"
    assert len({c.event_id for c in changes}) == 3
    assert [c.event_id for c in adapter.parse_webhook(headers, body, XERO_KEY)] == [
        c.event_id for c in changes]


def test_xero_intent_to_receive():
    """A series of deliveries with no events: 200 (``[]``) for the correctly signed ones,
    401 (WebhookSignatureError) for the others."""
    adapter = get_adapter("xero", client_id="a", client_secret="b")
    intent = {"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
              "entropy": "YSXCMKAQBJOEMYRPWVEN"}
    headers, body = xero_webhook(intent)
    assert adapter.parse_webhook(headers, body, XERO_KEY) == []
    wrong_headers, _body = xero_webhook(intent, key="someone else's key")
    for bad_headers in (wrong_headers, {}, {"X-Xero-Signature": ""}):
        with pytest.raises(WebhookSignatureError) as refused:
            adapter.parse_webhook(bad_headers, body, XERO_KEY)
        assert refused.value.code in ("webhook_signature_bad", "webhook_signature_missing")
    with pytest.raises(WebhookSignatureError) as unset:
        adapter.parse_webhook(headers, body, None)
    assert unset.value.code == "webhook_secret_missing"
    assert unset.value.params["setting"] == "Webhook Key"


def test_xero_webhook_bodies_that_cannot_be_read():
    adapter = get_adapter("xero", client_id="a", client_secret="b")
    for body in (b"<html>", b"[]", json.dumps({"events": "none"}).encode()):
        with pytest.raises(WebhookPayloadError) as unreadable:
            adapter.parse_webhook({"x-xero-signature": sign(XERO_KEY, body)}, body, XERO_KEY)
        assert unreadable.value.code == "webhook_unreadable"
        assert unreadable.value.message.startswith("The Xero webhook cannot be read: ")
    events = dict(XERO_EVENTS, events=[dict(XERO_EVENTS["events"][0], resourceId="42"),
                                       dict(XERO_EVENTS["events"][1], eventType="DELETE"),
                                       XERO_EVENTS["events"][2]])
    headers, body = xero_webhook(events)
    assert [c.remote_id for c in adapter.parse_webhook(headers, body, XERO_KEY)] == [CREDIT_ID]


def test_changes_check_the_company_id_before_any_call():
    # (the pulls themselves: tests/test_pull.py)
    for code in ("quickbooks_online", "xero"):
        adapter = get_adapter(code, client_id="a", client_secret="b")
        with pytest.raises(ProviderError) as bad:
            adapter.changes(None, "not/a company", {})
        assert bad.value.code == "bad_company_id"


# == messages =====================================================================================

def test_the_catalogue():
    grouped = [code for codes in GROUPS.values() for code in codes]
    assert sorted(grouped) == sorted(MESSAGES) and len(grouped) == len(set(grouped))
    for code in MESSAGES:
        params = {name: "<%s>" % name for name in params_of(code)}
        assert "%(" not in render(code, params)
    nouns = (set(qbo_payloads.NOUN.values()) | set(xero_payloads.NOUN.values())
             | set(qbo_lookups.REFERENCED.values()) | set(qbo_lookups.REFERENCED_BY_KIND.values()))
    assert nouns <= set(NOUNS)
    assert set(qbo_payloads.NOUN) == set(xero_payloads.NOUN) == set(KINDS)


def test_qbo_faults_become_codes_and_params():
    code, params = qbo_lookups.fault_message(
        "customer", "Parent:Child", "2040", "Invalid String",
        "Invalid String : DisplayName cannot contain a colon")
    assert code == "refused_colon" and params == {
        "provider": "QuickBooks Online", "noun": "customer", "record": "Parent:Child",
        "text": "Invalid String: DisplayName cannot contain a colon"}
    assert qbo_lookups.fault_message("invoice", "INV/1", "610", "Object Not Found", "",
                                     "ItemRef")[0] == "reference_inactive"
    assert qbo_lookups.fault_message("bill", "B/1", "610", "Object Not Found", "",
                                     "AccountRef") == ("reference_inactive_mapped", {
        "provider": "QuickBooks Online", "thing": "account", "odoo_thing": "account",
        "text": "Object Not Found"})
    assert qbo_lookups.fault_message("customer_payment", "P/1", "6000", "Business "
                                     "Validation Error", "Business Validation Error: too "
                                     "much")[0] == "refused_overpaid"
    assert qbo_lookups.fault_message("invoice", "INV/1", "6140", "Duplicate")[0] == \
        "number_taken"
    assert qbo_lookups.fault_message("vendor", "Acme", "6240", "Duplicate Name")[1] == {
        "provider": "QuickBooks Online", "holder": "customer, vendor or employee",
        "name": "Acme", "suffix": "Vendor"}


def rendered(error):
    assert error.message == render(error.code, error.params)
    return error.code, error.params


def test_main_failures_carry_codes_and_params(sb):
    qbo, tokens = connected(sb, "quickbooks_online", [REALM])
    push = lambda *records: qbo.push(tokens, REALM, list(records))  # noqa: E731
    acme = push(party("Acme", "ap@acme.test"))[0]
    clash, twin, same = push(party("acme", "boss@acme.test", key="c2"),
                             party("Acme", "ap@acme.test", key="t1"),
                             party("ACME", "ap@acme.test", key="t2"))
    assert rendered(clash.error) == ("name_in_use", {
        "provider": "QuickBooks Online", "noun": "customer", "name": "Acme",
        "theirs": "ap@acme.test", "ours": "boss@acme.test"})
    assert twin.ok and twin.linked_existing and twin.remote_id == acme.remote_id
    assert rendered(same.error) == ("duplicate_match", {
        "provider": "QuickBooks Online", "name": "Acme", "id": acme.remote_id})
    # An answer that says nothing about a record, or cannot be read: outcome unknown.
    sb.add_fault(status=200, provider="qbo", path_contains="/batch", body={
        "BatchItemResponse": [{"bId": "0", "Customer": "junk"}]})
    unreadable, unanswered = push(party("B"), party("C"))
    assert rendered(unanswered.error) == ("no_answer", {"provider": "QuickBooks Online"})
    assert rendered(unreadable.error)[0] == "bad_answer"
    assert unreadable.outcome_unknown and unanswered.outcome_unknown
    # The ladder: 503, 429, 401, and the pacer.
    sb.add_fault(status=503, provider="qbo", path_contains="companyinfo")
    with pytest.raises(ProviderError) as outage:
        qbo.company_info(tokens, REALM)
    assert rendered(outage.value) == ("unavailable", {"provider": "QuickBooks Online",
                                                      "status": 503})
    sb.add_fault(status=429, provider="qbo", path_contains="companyinfo", retry_after=7)
    with pytest.raises(RateLimitError) as throttled:
        qbo.company_info(tokens, REALM)
    assert rendered(throttled.value) == ("throttled", {"provider": "QuickBooks Online",
                                                       "seconds": 7})
    assert throttled.value.retry_after == 7
    sb.expire_access_tokens()
    with pytest.raises(ProviderError) as expired:
        qbo.company_info(tokens, REALM)
    assert rendered(expired.value)[0] == "not_authorized" and expired.value.status == 401
    assert expired.value.provider_code  # QBO's own code (3200)
    with pytest.raises(ProviderError) as bad_id:
        qbo.company_info(tokens, "12a")
    assert rendered(bad_id.value) == ("bad_company_id", {
        "provider": "QuickBooks Online", "rule": "a company (realm) id is 1 to 32 digits"})


def test_xero_refusals_carry_codes_and_the_providers_words(sb):
    xero, tokens = connected(sb, "xero", [UK])
    contact = xero.push(tokens, UK, [party("Acme Ltd")])[0].remote_id
    [refused] = xero.push(tokens, UK, [Document(
        key="d", kind="invoice", number="INV/1", date=date(2025, 3, 3), party=Ref(contact),
        currency="GBP", lines=[Line("Oops", D("1"), D("10"), D("10.00"), Ref("999"))],
        amount_untaxed=D("10"), amount_tax=D("0"), amount_total=D("10"), find_existing=False)])
    code, params = rendered(refused.error)
    assert code == "refused_account" and refused.error.provider_code == "validation"
    assert params["provider"] == "Xero" and params["noun"] == "invoice"
    assert params["record"] == "INV/1" and "'999'" in params["text"]
    [no_code] = xero.push(tokens, UK, [Product(key="p", name="***")])
    assert rendered(no_code.error) == ("item_code_missing", {"provider": "Xero"})
    assert no_code.error.provider_code == "payload"
    sb.add_fault(status=429, provider="xero", path_contains="Organisation", retry_after=3)
    with pytest.raises(RateLimitError) as throttled:
        xero.company_info(tokens, UK)
    assert rendered(throttled.value)[0] in ("throttled", "throttled_limit")
    assert throttled.value.params["seconds"] == 3

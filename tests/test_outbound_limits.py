"""Every outbound call of the adapters, against the sandbox through the real libraries: a
total deadline (a slow drip ends at it), a size cap, no redirect ever followed, error bodies
never echoed, answers of the wrong shape typed (per record inside a push), and remote company
ids checked before any call."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from accounting_sync.providers import (
    ProviderError,
    ProviderResponseError,
    ProviderUnavailableError,
    RemoteCompany,
    check_company_id,
    get_adapter,
)
from accounting_sync.providers.documents import Party
from accounting_sync.providers.transport import WATCHDOG_NAME
from conftest import REDIRECT_URI, authorize

REALM = "9341453050000001"
UK, US = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
TIMEOUT = 0.5
MARGIN = 1.0  # what a deadline may overrun: scheduling, closing the sockets
SECRET = "sk_live_5f2e8c4d9a7b6e1f"


def qbo(sb, **kwargs):
    return get_adapter("quickbooks_online", client_id="qbo-id", client_secret="qbo-secret",
                       environment="local", base_url=sb.url, time_scale=1000.0, **kwargs)


def xero(sb, **kwargs):
    return get_adapter("xero", client_id="xero-id", client_secret="xero-secret",
                       environment="local", base_url=sb.url, time_scale=1000.0, **kwargs)


def qbo_connected(sb, **kwargs):
    adapter = qbo(sb, **kwargs)
    params, _verifier = authorize(sb, adapter, companies=[REALM])
    return adapter, adapter.exchange_code(params["code"], REDIRECT_URI)


def xero_connected(sb, **kwargs):
    adapter = xero(sb, **kwargs)
    params, verifier = authorize(sb, adapter, companies=[UK, US])
    return adapter, adapter.exchange_code(params["code"], REDIRECT_URI, code_verifier=verifier)


def party(name):
    return Party(key="customer-" + name, kind="customer", name=name)


def no_watchdog_left():
    return not [t for t in threading.enumerate() if t.name == WATCHDOG_NAME]


@pytest.fixture
def bystander():
    """A second local server that records every request it receives."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self):
            length = int(self.headers.get("Content-Length") or 0)
            received.append({"path": self.path, "headers": dict(self.headers),
                             "body": self.rfile.read(length)})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PUT = do_DELETE = _record

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    server.received = received
    server.url = "http://127.0.0.1:%s" % server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


# -- a total deadline -------------------------------------------------------------------------

SLOW_CALLS = {
    "qbo api": ("qbo", "companyinfo", lambda a, t: a.company_info(t, REALM)),
    "qbo token refresh": ("qbo", "tokens/bearer", lambda a, t: a.refresh(t.refresh_token)),
    "xero api": ("xero", "Organisation", lambda a, t: a.company_info(t, UK)),
    "xero token refresh": ("xero", "connect/token", lambda a, t: a.refresh(t.refresh_token)),
    "xero identity api": ("xero", "/Connections", lambda a, t: a.companies(t, {})),
}


@pytest.mark.parametrize("name", sorted(SLOW_CALLS))
def test_a_slow_drip_ends_at_the_deadline(sb, name):
    provider, path, call = SLOW_CALLS[name]
    adapter, tokens = (qbo_connected if provider == "qbo" else xero_connected)(
        sb, timeout=TIMEOUT)
    # a byte every 0.1 s: each read gets data well within the per-read timeout
    sb.add_fault(status=None, provider=provider, path_contains=path, drip=0.1)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailableError, match="did not answer within 0.5 seconds"):
        call(adapter, tokens)
    assert time.monotonic() - started < TIMEOUT + MARGIN
    assert no_watchdog_left()


def test_a_slow_but_complete_answer_is_an_answer(sb):
    adapter, tokens = xero_connected(sb, timeout=5)
    sb.add_fault(status=None, provider="xero", path_contains="Organisation", drip=0.01,
                 drip_bytes=256)
    assert adapter.company_info(tokens, UK).name == "Demo Company (UK)"
    adapter, tokens = qbo_connected(sb, timeout=5)
    sb.add_fault(status=None, provider="qbo", path_contains="companyinfo", drip=0.01,
                 drip_bytes=256, chunked=True)
    assert adapter.company_info(tokens, REALM).name == "Sandbox Company US 1"


def test_the_deadline_is_per_call_and_per_thread(sb):
    adapter, tokens = xero_connected(sb, timeout=TIMEOUT)
    sb.add_fault(status=None, provider="xero", path_contains="Organisation", drip=0.1)
    outcome = {}

    def slow():
        try:
            adapter.company_info(tokens, UK)
        except ProviderUnavailableError as e:
            outcome["slow"] = e

    thread = threading.Thread(target=slow)
    thread.start()
    outcome["fast"] = adapter.companies(tokens, {})  # meanwhile, in this thread
    thread.join()
    assert "did not answer" in outcome["slow"].message
    assert {c.id for c in outcome["fast"]} == {UK, US}
    assert no_watchdog_left()


# -- a size cap -------------------------------------------------------------------------------

def test_a_huge_answer_is_refused(sb):
    adapter, tokens = qbo_connected(sb)  # the default cap: 32 MiB
    sb.add_fault(status=None, provider="qbo", path_contains="companyinfo",
                 body_size=33 * 1024 * 1024)  # said by its Content-Length
    with pytest.raises(ProviderResponseError, match="larger than 32 MiB") as refused:
        adapter.company_info(tokens, REALM)
    assert refused.value.code == "too_large"
    adapter, tokens = qbo_connected(sb, max_response_bytes=100000)
    sb.add_fault(status=503, provider="qbo", path_contains="companyinfo", body_size=300000,
                 chunked=True)  # no Content-Length: refused while reading
    with pytest.raises(ProviderResponseError, match="larger than 97.7 KiB"):
        adapter.company_info(tokens, REALM)
    sb.add_fault(status=None, provider="qbo", path_contains="tokens/bearer", body_size=300000)
    with pytest.raises(ProviderResponseError, match="larger than"):
        adapter.refresh(tokens.refresh_token)
    assert adapter.company_info(tokens, REALM).name == "Sandbox Company US 1"


def test_a_huge_xero_answer_is_refused(sb):
    adapter, tokens = xero_connected(sb, max_response_bytes=100000)
    for chunked in (False, True):
        sb.add_fault(status=None, provider="xero", path_contains="Organisation",
                     body_size=300000, chunked=chunked)
        with pytest.raises(ProviderResponseError) as refused:
            adapter.company_info(tokens, UK)
        assert refused.value.code == "too_large"
    sb.add_fault(status=400, provider="xero", path_contains="Accounts", body_size=300000,
                 chunked=True)  # an error body is capped too
    with pytest.raises(ProviderResponseError, match="larger than"):
        adapter.fetch_chart(tokens, UK)
    assert adapter.company_info(tokens, UK).name == "Demo Company (UK)"


# -- no redirect is followed ------------------------------------------------------------------

REDIRECTED = {
    "qbo api": ("qbo", "companyinfo", 302, lambda a, t: a.company_info(t, REALM)),
    "qbo batch": ("qbo", "/batch", 307, lambda a, t: a.push(t, REALM, [
        party("Redirect A"), party("Redirect B")])),
    "qbo token refresh": ("qbo", "tokens/bearer", 307, lambda a, t: a.refresh(t.refresh_token)),
    "qbo userinfo": ("qbo", "userinfo", 301, lambda a, t: a.identity(t)),
    "qbo revoke": ("qbo", "revoke", 308, lambda a, t: a.revoke(t.refresh_token)),
    "xero api": ("xero", "Organisation", 302, lambda a, t: a.company_info(t, UK)),
    "xero write": ("xero", "Contacts", 307, lambda a, t: a.push(t, UK, [party("Redirect")])),
    "xero connections": ("xero", "Connections", 303, lambda a, t: a.companies(t, {})),
    "xero token refresh": ("xero", "connect/token", 308,
                           lambda a, t: a.refresh(t.refresh_token)),
}


@pytest.mark.parametrize("name", sorted(REDIRECTED))
def test_a_redirect_is_never_followed(sb, bystander, name):
    provider, path, status, call = REDIRECTED[name]
    adapter, tokens = (qbo_connected if provider == "qbo" else xero_connected)(sb)
    sb.add_fault(status=status, provider=provider, path_contains=path,
                 location=bystander.url + "/steal")
    with pytest.raises(ProviderResponseError, match="redirect") as redirected:
        call(adapter, tokens)
    assert redirected.value.code == "redirect" and redirected.value.status == status
    assert bystander.received == []


# -- error bodies are parsed, never echoed ----------------------------------------------------

HTML = "<html><body><h1>Gateway says no</h1><p>token=%s</p></body></html>" % SECRET

ECHOED = {
    "qbo api": ("qbo", "companyinfo", lambda a, t: a.company_info(t, REALM)),
    "qbo batch": ("qbo", "/customer", lambda a, t: a.push(t, REALM, [party("Echo")])),
    "qbo userinfo": ("qbo", "userinfo", lambda a, t: a.identity(t)),
    "qbo token refresh": ("qbo", "tokens/bearer", lambda a, t: a.refresh(t.refresh_token)),
    "xero api": ("xero", "Organisation", lambda a, t: a.company_info(t, UK)),
    "xero write": ("xero", "Contacts", lambda a, t: a.push(t, UK, [party("Echo")])),
    "xero revoke": ("xero", "revocation", lambda a, t: a.revoke(t.refresh_token)),
}


@pytest.mark.parametrize("name", sorted(ECHOED))
def test_an_html_error_body_is_not_echoed(sb, name):
    provider, path, call = ECHOED[name]
    adapter, tokens = (qbo_connected if provider == "qbo" else xero_connected)(sb)
    sb.add_fault(status=400, provider=provider, path_contains=path, body=HTML,
                 content_type="text/html")
    try:
        results = call(adapter, tokens)
    except ProviderError as e:
        message = str(e)
    else:  # a push: the record failed, saying why
        [result] = results
        assert not result.ok
        message = str(result.error)
    assert SECRET not in message and "<" not in message
    assert "not JSON" in message


def test_a_json_error_message_is_cleaned(sb):
    adapter, tokens = qbo_connected(sb)
    sb.add_fault(status=400, provider="qbo", path_contains="companyinfo", body={"Fault": {
        "Error": [{"Message": "Bad\x1b[31m request\r\nX-Injected: yes", "Detail": "d" * 5000,
                   "code": "2020"}], "type": "ValidationFault"}})
    with pytest.raises(ProviderError) as refused:
        adapter.company_info(tokens, REALM)
    message = refused.value.message
    assert "Bad [31m request X-Injected: yes" in message
    assert refused.value.code == "request_refused" and refused.value.provider_code == "2020"
    assert "\x1b" not in message and "\n" not in message and len(message) < 700
    adapter, tokens = xero_connected(sb)
    sb.add_fault(status=400, provider="xero", path_contains="Organisation", body={
        "Message": "A validation exception occurred", "Elements": [
            {"ValidationErrors": [{"Message": "Tenant\x00 is\u202e odd"}]}]})
    with pytest.raises(ProviderError, match="Tenant is odd"):
        adapter.company_info(tokens, UK)
    sb.add_fault(status=400, provider="xero", path_contains="connect/token",
                 body={"error": "invalid_grant", "error_description": "gone\x07" + "!" * 900})
    with pytest.raises(ProviderError) as grant:
        adapter.refresh(tokens.refresh_token)
    assert grant.value.code == "invalid_grant" and "\x07" not in grant.value.message
    assert len(grant.value.message) < 400


# -- answers of the wrong shape ---------------------------------------------------------------

WRONG_SHAPES = [
    ("qbo company_info, a list", "qbo", "companyinfo", [1, 2],
     lambda a, t: a.company_info(t, REALM)),
    ("qbo company_info, a text inside", "qbo", "companyinfo", {"CompanyInfo": "Acme"},
     lambda a, t: a.company_info(t, REALM)),
    ("qbo company_info, no name", "qbo", "companyinfo", {"CompanyInfo": {"Country": "US"}},
     lambda a, t: a.company_info(t, REALM)),
    ("qbo company_info, HTML", "qbo", "companyinfo", "<html>maintenance</html>",
     lambda a, t: a.company_info(t, REALM)),
    ("qbo company_info, empty", "qbo", "companyinfo", "",
     lambda a, t: a.company_info(t, REALM)),
    ("qbo companies", "qbo", "companyinfo", {"CompanyInfo": {"CompanyName": ["x"]}},
     lambda a, t: a.companies(t, {"realmId": REALM})),
    ("qbo fetch_chart, rows are an object", "qbo", "/query", {"QueryResponse": {
        "Account": {"Id": "1"}}}, lambda a, t: a.fetch_chart(t, REALM)),
    ("qbo fetch_chart, a row is a text", "qbo", "/query", {"QueryResponse": {
        "Account": ["Sales"]}}, lambda a, t: a.fetch_chart(t, REALM)),
    ("qbo fetch_chart, an Id that is no id", "qbo", "/query", {"QueryResponse": {
        "Account": [{"Id": "../../x", "Name": "Sales"}]}},
     lambda a, t: a.fetch_chart(t, REALM)),
    ("qbo identity, a list", "qbo", "userinfo", [], lambda a, t: a.identity(t)),
    ("qbo identity, no subject", "qbo", "userinfo", {"email": "a@b.c"},
     lambda a, t: a.identity(t)),
    ("qbo refresh, a list", "qbo", "tokens/bearer", ["token"],
     lambda a, t: a.refresh(t.refresh_token)),
    ("qbo refresh, no access token", "qbo", "tokens/bearer", {"token_type": "bearer"},
     lambda a, t: a.refresh(t.refresh_token)),
    ("qbo refresh, expires_in is a text", "qbo", "tokens/bearer",
     {"access_token": "a", "expires_in": "soon"}, lambda a, t: a.refresh(t.refresh_token)),
    ("qbo refresh, HTML", "qbo", "tokens/bearer", "<html>hi</html>",
     lambda a, t: a.refresh(t.refresh_token)),
    ("qbo void", "qbo", "/invoice", {"Invoice": "voided"},
     lambda a, t: a.void(t, REALM, "invoice", "10", "0")),
    ("xero companies, an object", "xero", "Connections", {"tenantId": UK},
     lambda a, t: a.companies(t, {})),
    ("xero companies, a tenant id that is no UUID", "xero", "Connections",
     [{"id": UK, "tenantId": "../x", "tenantType": "ORGANISATION", "tenantName": "X"}],
     lambda a, t: a.companies(t, {})),
    ("xero company_info, no organisation", "xero", "Organisation", {"Organisations": []},
     lambda a, t: a.company_info(t, UK)),
    ("xero company_info, a text", "xero", "Organisation", "ok",
     lambda a, t: a.company_info(t, UK)),
    ("xero company_info, empty", "xero", "Organisation", "",
     lambda a, t: a.company_info(t, UK)),
    ("xero fetch_chart", "xero", "Accounts", {"Accounts": {"Code": "200"}},
     lambda a, t: a.fetch_chart(t, UK)),
    ("xero fetch_chart, a rate that is no number", "xero", "TaxRates",
     {"TaxRates": [{"TaxType": "OUTPUT2", "EffectiveRate": "lots"}]},
     lambda a, t: a.fetch_chart(t, UK)),
    ("xero refresh, a number", "xero", "connect/token", 42,
     lambda a, t: a.refresh(t.refresh_token)),
    ("xero exchange_code", "xero", "connect/token", {"access_token": {"a": 1}},
     lambda a, t: a.exchange_code("code", REDIRECT_URI, code_verifier="v" * 43)),
    ("xero deactivate", "xero", "Contacts", {"Contacts": "archived"},
     lambda a, t: a.deactivate(t, UK, "customer", UK)),
    ("xero disconnect", "xero", "Connections", [{"tenantId": UK}],
     lambda a, t: a.disconnect(t, RemoteCompany(id=UK, name="Demo Company (UK)"))),
]


@pytest.mark.parametrize("case", WRONG_SHAPES, ids=[c[0] for c in WRONG_SHAPES])
def test_an_answer_of_the_wrong_shape_is_a_typed_error(sb, case):
    _name, provider, path, body, call = case
    adapter, tokens = (qbo_connected if provider == "qbo" else xero_connected)(sb)
    sb.add_fault(status=200, provider=provider, path_contains=path, body=body)
    with pytest.raises(ProviderResponseError) as bad:
        call(adapter, tokens)
    assert bad.value.code == "unreadable_answer"
    assert bad.value.params["provider"] == adapter.label and bad.value.params["problem"]
    assert bad.value.message.startswith(adapter.label)


def qbo_customer_answer(n, name):
    return {"bId": str(n), "Customer": {"Id": str(900 + n), "SyncToken": "0",
                                        "DisplayName": name}}


def test_one_unreadable_batch_item_fails_only_its_record(sb):
    adapter, tokens = qbo_connected(sb)
    sb.add_fault(status=200, provider="qbo", path_contains="/batch", body={
        "BatchItemResponse": [qbo_customer_answer(0, "A"), {"bId": "1", "Customer": "B"},
                              qbo_customer_answer(2, "C"), ["junk"],
                              {"bId": "3", "Fault": "no"}]})
    first, second, third, fourth = adapter.push(tokens, REALM, [
        party("A"), party("B"), party("C"), party("D")])
    assert first.ok and first.remote_id == "900" and third.ok and third.remote_id == "902"
    for unknown in (second, fourth):
        assert not unknown.ok and unknown.error.code == "bad_answer" and unknown.outcome_unknown
        assert isinstance(unknown.error, ProviderError)
        assert unknown.error.message.startswith("QuickBooks Online sent an answer")
    sb.add_fault(status=200, provider="qbo", path_contains="/batch",
                 body={"BatchItemResponse": {"bId": "0"}})
    results = adapter.push(tokens, REALM, [party("E"), party("F")])
    assert [r.error.code for r in results] == ["bad_answer", "bad_answer"]
    sb.add_fault(status=200, provider="qbo", path_contains="/customer",
                 body={"Customer": {"Id": None}})
    [lone] = adapter.push(tokens, REALM, [party("G")])  # a lone record: a plain write
    assert lone.error.code == "bad_answer" and lone.outcome_unknown


def xero_contact_answer(name):
    return {"ContactID": "5e6f7a8b-0000-4000-8000-%012d" % len(name), "Name": name,
            "UpdatedDateUTC": "/Date(1573755038314+0000)/"}


def test_one_unreadable_xero_element_fails_only_its_record(sb):
    adapter, tokens = xero_connected(sb)
    sb.add_fault(status=200, provider="xero", path_contains="Contacts", method="PUT", body={
        "Contacts": [xero_contact_answer("A"), "B", xero_contact_answer("CCC"),
                     {"Name": "D", "ContactID": 7}]})
    first, second, third, fourth = adapter.push(tokens, UK, [
        party("A"), party("B"), party("CCC"), party("D")])
    assert first.ok and first.remote_version == "2019-11-14T18:10:38.314000Z"
    assert third.ok and third.remote_id.endswith("000000000003")
    for unknown in (second, fourth):
        assert not unknown.ok and unknown.error.code == "bad_answer" and unknown.outcome_unknown
    sb.add_fault(status=200, provider="xero", path_contains="Contacts", method="PUT",
                 body={"Contacts": {"ContactID": UK}})
    results = adapter.push(tokens, UK, [party("E"), party("F")])
    assert [r.error.code for r in results] == ["bad_answer", "bad_answer"]


# -- remote company ids -----------------------------------------------------------------------

BAD_REALMS = ["", "12a", "1" * 33, "123/../../v3/company/1", "١٢٣", "123\n", None, ["1"]]
BAD_TENANTS = ["", "not-a-uuid", UK + "/x", UK.replace("-", ""), 42]


def test_a_bad_company_id_makes_no_call(sb):
    adapter, tokens = qbo_connected(sb)
    before = len(sb.calls())
    for realm in BAD_REALMS:
        for call in (lambda: adapter.companies(tokens, {"realmId": realm or "x"}),
                     lambda: adapter.company_info(tokens, realm),
                     lambda: adapter.fetch_chart(tokens, realm),
                     lambda: adapter.push(tokens, realm, [party("A")]),
                     lambda: adapter.push(tokens, realm, []),
                     lambda: adapter.void(tokens, realm, "invoice", "1"),
                     lambda: adapter.deactivate(tokens, realm, "customer", "1")):
            with pytest.raises(ProviderError) as refused:
                call()
            assert refused.value.code == "bad_company_id", realm
    assert len(sb.calls()) == before
    x_adapter, x_tokens = xero_connected(sb)
    before = len(sb.calls())
    for tenant in BAD_TENANTS:
        for call in (lambda: x_adapter.company_info(x_tokens, tenant),
                     lambda: x_adapter.fetch_chart(x_tokens, tenant),
                     lambda: x_adapter.push(x_tokens, tenant, [party("A")]),
                     lambda: x_adapter.void(x_tokens, tenant, "invoice", UK),
                     lambda: x_adapter.deactivate(x_tokens, tenant, "customer", UK)):
            with pytest.raises(ProviderError) as refused:
                call()
            assert refused.value.code == "bad_company_id", tenant
    assert len(sb.calls()) == before
    assert check_company_id("quickbooks_online", REALM) == REALM
    assert check_company_id("xero", UK) == UK
    with pytest.raises(ProviderError):
        check_company_id("xero", REALM)


# -- the sandbox's faults themselves ------------------------------------------------------------

def test_sandbox_faults_for_slow_huge_redirected_and_replaced_answers(sb):
    info = sb.url + "/qbo/.well-known/openid_configuration"
    sb.add_fault(status=307, provider="qbo", location="http://127.0.0.1:9/elsewhere")
    redirected = requests.get(info, allow_redirects=False, timeout=5)
    assert redirected.status_code == 307
    assert redirected.headers["Location"] == "http://127.0.0.1:9/elsewhere"
    sb.add_fault(status=200, provider="qbo", body=[1, 2], content_type="text/html")
    replaced = requests.get(info, timeout=5)
    assert replaced.json() == [1, 2] and replaced.headers["Content-Type"] == "text/html"
    sb.add_fault(status=None, provider="qbo", body_size=100000, chunked=True, drip=0.001,
                 drip_bytes=20000)
    padded = requests.get(info, timeout=5)
    assert "Content-Length" not in padded.headers and len(padded.content) == 100000
    assert padded.json()["issuer"].endswith("/qbo/op/v1")  # still valid JSON
    sb.add_fault(status=None, provider="qbo", drip=0.001, drip_bytes=64)
    assert requests.get(info, timeout=5).json()["issuer"].endswith("/qbo/op/v1")
    for bad in ({"status": 302}, {"status": 200}, {"status": 404, "location": "x"},
                {"status": None}, {"drip": 61}, {"body_size": 65 * 1024 * 1024},
                {"chunked": "yes"}, {"status": 301, "location": "http://a\r\nb"}):
        answer = requests.post(sb.url + "/_sandbox/faults", json=bad, timeout=5)
        assert answer.status_code == 400, bad
    assert [f["id"] for f in sb.fault_list()] == []

"""The provider sandbox's wire contract, with plain requests (and xero-python's own
deserializer for the Organisation answer)."""
import base64
import hashlib
import hmac
import json
import time
from functools import partial
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token

from provider_sandbox import Sandbox

REDIRECT = "http://127.0.0.1:8069/callback"
REALM_1, REALM_2 = "9341453050000001", "9341453050000002"
UK, US = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
QBO_APP, XERO_APP = ("qbo-id", "qbo-secret"), ("xero-id", "xero-secret")
QBO_SCOPE = "com.intuit.quickbooks.accounting openid email"
XERO_SCOPE = "openid email profile offline_access accounting.settings accounting.invoices"
VERIFIER = "v" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest())
CHALLENGE = CHALLENGE.rstrip(b"=").decode()
get, post, delete = (partial(f, timeout=10) for f in (requests.get, requests.post,
                                                      requests.delete))


@pytest.fixture(scope="module")
def server():
    sandbox = Sandbox(port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sb(server):
    server.reset()
    return server


def callback(response):
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def authorize(sb, provider, scope=None, method=get, **form):
    params = dict(response_type="code", redirect_uri=REDIRECT, state=provider + "-state")
    if provider == "qbo":
        url = sb.url + "/qbo/connect/oauth2"
        params.update(client_id=QBO_APP[0], scope=scope or QBO_SCOPE)
    else:
        url = sb.url + "/xero/identity/connect/authorize"
        params.update(client_id=XERO_APP[0], scope=scope or XERO_SCOPE,
                      code_challenge=CHALLENGE, code_challenge_method="S256")
    if method is post:
        return post(url, data=dict(params, **form), allow_redirects=False)
    return get(url, params=params, allow_redirects=False)


def qbo_token(sb, auth=QBO_APP, **form):
    return post(sb.url + "/qbo/oauth2/v1/tokens/bearer", data=form, auth=auth)


def xero_token(sb, **form):
    return post(sb.url + "/xero/identity/connect/token", data=form, auth=XERO_APP)


def qbo_connect(sb, realm=REALM_1):
    sb.configure(auto_approve={"login": "alice@example.com", "companies": [realm]})
    params = callback(authorize(sb, "qbo"))
    assert params["realmId"] == realm
    response = qbo_token(sb, grant_type="authorization_code", code=params["code"],
                         redirect_uri=REDIRECT)
    assert response.status_code == 200, response.text
    return response.json()


def xero_connect(sb, companies=(UK,), scope=XERO_SCOPE):
    sb.configure(auto_approve={"login": "alice@example.com", "companies": list(companies)})
    params = callback(authorize(sb, "xero", scope))
    response = xero_token(sb, grant_type="authorization_code", code=params["code"],
                          redirect_uri=REDIRECT, code_verifier=VERIFIER)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(tokens, **headers):
    return dict(headers, Authorization="Bearer " + tokens["access_token"])


def qbo_api(sb, tokens, path, realm=REALM_1, **params):
    return get("%s/qbo/v3/company/%s/%s" % (sb.url, realm, path), headers=bearer(tokens),
               params={"minorversion": 75, **params})


def xero_org(sb, tokens, tenant=UK):
    return get(sb.url + "/xero/api.xro/2.0/Organisation",
               headers=bearer(tokens, **{"xero-tenant-id": tenant}))


def jwt_claims(token, secret):
    header, payload, signature = token.split(".")
    expected = hmac.new(secret.encode(), (header + "." + payload).encode(), hashlib.sha256)
    assert base64.urlsafe_b64decode(signature + "==") == expected.digest()
    return json.loads(base64.urlsafe_b64decode(payload + "=="))


def test_discovery_index_and_consent_pages(sb):
    doc = get(sb.url + "/qbo/.well-known/openid_configuration").json()
    for key in ("authorization_endpoint", "token_endpoint", "revocation_endpoint",
                "userinfo_endpoint", "jwks_uri", "issuer"):
        assert doc[key].startswith(sb.url + "/qbo/")
    assert get(doc["jwks_uri"]).json() == {"keys": []}
    assert "Sandbox Company US 1" in get(sb.url + "/").text
    page = authorize(sb, "qbo").text
    assert "<title>QuickBooks Online" in page and '<form method="post">' in page
    for needle in ('name="client_id" value="qbo-id"', 'name="state" value="qbo-state"',
                   '<select name="login">', "alice@example.com", "bob@example.com",
                   'name="login_other"', 'name="decision" value="approve"', 'value="deny">',
                   'type="radio" name="company" value="%s" checked' % REALM_1):
        assert needle in page
    page = authorize(sb, "xero").text
    assert "<title>Xero" in page
    assert 'type="checkbox" name="company" value="%s" checked' % UK in page
    bad = get(sb.url + "/qbo/connect/oauth2", params={"redirect_uri": REDIRECT})
    assert bad.status_code == 400 and "text/html" in bad.headers["Content-Type"]


def test_approve_and_deny_through_the_form(sb):
    approved = callback(authorize(sb, "qbo", method=post, login="alice@example.com",
                                  login_other="Carol@Example.com", company=REALM_2,
                                  decision="approve"))
    assert approved["state"] == "qbo-state" and approved["realmId"] == REALM_2
    tokens = qbo_token(sb, grant_type="authorization_code", code=approved["code"],
                       redirect_uri=REDIRECT).json()
    info = get(sb.url + "/qbo/v1/openid_connect/userinfo", headers=bearer(tokens)).json()
    assert info["email"] == "carol@example.com" and info["givenName"] == "Carol"
    denied = callback(authorize(sb, "qbo", method=post, login="bob@example.com",
                                decision="deny"))
    assert denied == {"error": "access_denied", "state": "qbo-state"}
    denied = callback(authorize(sb, "xero", method=post, decision="deny"))
    assert denied["error"] == "access_denied" and denied["error_description"]
    approved = callback(authorize(sb, "xero", method=post, login="bob@example.com",
                                  company=[UK, US], decision="approve"))
    assert approved["scope"] == XERO_SCOPE and approved["state"] == "xero-state"


def test_qbo_code_exchange(sb):
    tokens = qbo_connect(sb, REALM_2)
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 8726400
    claims = jwt_claims(tokens["id_token"], QBO_APP[1])
    assert claims["aud"] == [QBO_APP[0]] and claims["realmid"] == REALM_2
    code = callback(authorize(sb, "qbo"))["code"]
    exchange = partial(qbo_token, sb, grant_type="authorization_code", code=code)
    assert exchange(auth=None, redirect_uri=REDIRECT).json() == {"error": "invalid_client"}
    assert exchange(redirect_uri=REDIRECT + "/other").json()["error"] == "invalid_grant"
    code = callback(authorize(sb, "qbo"))["code"]
    exchange = partial(qbo_token, sb, grant_type="authorization_code", code=code,
                       redirect_uri=REDIRECT)
    assert exchange().status_code == 200
    assert exchange().status_code == 400 and exchange().json()["error"] == "invalid_grant"


def test_qbo_refresh_rotation_and_stale_window(sb):
    first = qbo_connect(sb)
    refresh = partial(qbo_token, sb, grant_type="refresh_token")
    second = refresh(refresh_token=first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"] and "id_token" not in second
    third = refresh(refresh_token=first["refresh_token"])
    assert third.status_code == 200  # stale, but inside the 24 h window
    sb.configure(qbo_stale_window=0)
    stale = refresh(refresh_token=first["refresh_token"])
    assert stale.status_code == 400 and stale.json() == {
        "error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}
    assert refresh(refresh_token=third.json()["refresh_token"]).status_code == 200


def test_qbo_api_and_its_errors(sb):
    tokens = qbo_connect(sb)
    info = qbo_api(sb, tokens, "companyinfo/" + REALM_1).json()["CompanyInfo"]
    assert info["CompanyName"] == "Sandbox Company US 1" and info["Country"] == "USA"
    query = qbo_api(sb, tokens, "query", query="select * from CompanyInfo").json()
    assert query["QueryResponse"]["CompanyInfo"][0]["Id"] == REALM_1
    forbidden = qbo_api(sb, tokens, "companyinfo/" + REALM_2, realm=REALM_2)
    assert forbidden.status_code == 403
    assert forbidden.json()["Fault"]["Error"][0]["code"] == "3100"
    no_minor = get("%s/qbo/v3/company/%s/companyinfo/%s" % (sb.url, REALM_1, REALM_1),
                   headers=bearer(tokens))
    assert no_minor.status_code == 400 and "Fault" in no_minor.json()
    sb.expire_access_tokens()
    expired = qbo_api(sb, tokens, "companyinfo/" + REALM_1)
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    error = expired.json()["fault"]["error"][0]
    assert error["code"] == "3200" and error["detail"].startswith("Token expired")


def test_qbo_revocation(sb):
    tokens = qbo_connect(sb)
    revoke = partial(post, sb.url + "/qbo/v2/oauth2/tokens/revoke", auth=QBO_APP)
    assert revoke(json={"token": "nope"}).json() == {"error": "invalid_request"}
    assert revoke(data="{not json").status_code == 400
    response = revoke(json={"token": tokens["refresh_token"]})
    assert response.status_code == 200 and response.content == b""
    assert qbo_token(sb, grant_type="refresh_token",
                     refresh_token=tokens["refresh_token"]).status_code == 400
    revoked = qbo_api(sb, tokens, "companyinfo/" + REALM_1)
    assert revoked.json()["fault"]["error"][0]["detail"] == "Token revoked"


def test_xero_code_exchange_pkce_and_scopes(sb):
    sb.configure(auto_approve={"login": "alice@example.com"})
    code = callback(authorize(sb, "xero"))["code"]
    mismatch = xero_token(sb, grant_type="authorization_code", code=code,
                          redirect_uri=REDIRECT, code_verifier="w" * 50)
    assert mismatch.status_code == 400 and mismatch.json() == {"error": "invalid_grant"}
    tokens = xero_connect(sb)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 1800
    assert tokens["scope"] == XERO_SCOPE and tokens["refresh_token"]
    claims = jwt_claims(tokens["id_token"], XERO_APP[1])
    assert claims["aud"] == XERO_APP[0] and claims["email"] == "alice@example.com"
    assert claims["iss"] == sb.url + "/xero/identity" and claims["xero_userid"] == claims["sub"]
    assert "refresh_token" not in xero_connect(sb, scope="openid accounting.settings")
    retired = callback(authorize(sb, "xero", "offline_access accounting.transactions"))
    assert retired["error"] == "invalid_scope" and retired["state"] == "xero-state"


def test_xero_refresh_tokens_are_single_use_with_grace(sb):
    first = xero_connect(sb)
    form = dict(grant_type="refresh_token", refresh_token=first["refresh_token"],
                scope=XERO_SCOPE, client_id=XERO_APP[0], client_secret=XERO_APP[1])
    second = post(sb.url + "/xero/identity/connect/token", data=form)  # as xero-python
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    assert xero_token(sb, **form).status_code == 200  # inside the 30 min grace period
    sb.configure(xero_refresh_grace=0)
    assert xero_token(sb, **form).json() == {"error": "invalid_grant"}
    assert xero_token(sb, grant_type="refresh_token",
                      refresh_token=second.json()["refresh_token"]).status_code == 200


def test_xero_connections_and_organisation(sb):
    tokens = xero_connect(sb, companies=(UK, US))
    connections = get(sb.url + "/xero/Connections", headers=bearer(tokens)).json()
    assert [c["tenantName"] for c in connections] == ["Demo Company (UK)", "Demo Company (US)"]
    assert len({c["authEventId"] for c in connections}) == 1
    assert connections[0]["tenantType"] == "ORGANISATION"
    client = ApiClient(Configuration(oauth2_token=OAuth2Token(
        client_id=XERO_APP[0], client_secret=XERO_APP[1])), pool_threads=1)
    token = dict(tokens, scope=tokens["scope"].split(), expires_at=time.time() + 1200)
    client.oauth2_token_getter(lambda: token)
    client.oauth2_token_saver(lambda new: None)
    api = AccountingApi(client, base_url=sb.url + "/xero/api.xro/2.0")
    organisation = api.get_organisations(US).organisations[0]
    assert organisation.name == "Demo Company (US)" and organisation.base_currency.value == "USD"
    deleted = delete(sb.url + "/xero/connections/" + connections[1]["id"],
                     headers=bearer(tokens))
    assert deleted.status_code == 204
    forbidden = xero_org(sb, tokens, US)
    assert forbidden.status_code == 403
    assert forbidden.json()["Detail"] == "AuthenticationUnsuccessful"
    again = xero_connect(sb, companies=(UK,))
    [uk] = get(sb.url + "/xero/connections", headers=bearer(again)).json()
    assert uk["id"] == connections[0]["id"] and uk["authEventId"] != connections[0]["authEventId"]


def test_xero_expiry_and_revocation(sb):
    tokens = xero_connect(sb)
    sb.expire_access_tokens("xero")
    expired = xero_org(sb, tokens)
    assert expired.status_code == 401 and expired.json()["Detail"].startswith("TokenExpired")
    assert expired.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    fresh = xero_token(sb, grant_type="refresh_token",
                       refresh_token=tokens["refresh_token"]).json()
    assert xero_org(sb, fresh).status_code == 200
    revoked = post(sb.url + "/xero/identity/connect/revocation",
                   data={"token": fresh["refresh_token"]}, auth=XERO_APP)
    assert revoked.status_code == 200
    assert xero_token(sb, grant_type="refresh_token",
                      refresh_token=fresh["refresh_token"]).json() == {"error": "invalid_grant"}
    qbo = qbo_connect(sb)
    sb.revoke_all("qbo")
    assert qbo_api(sb, qbo, "companyinfo/" + REALM_1).status_code == 401


def test_faults(sb):
    tokens = xero_connect(sb)
    sb.add_fault(status=429, provider="xero", path_contains="Organisation", retry_after=7)
    throttled = xero_org(sb, tokens)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
    assert throttled.headers["X-Rate-Limit-Problem"] == "minute"
    assert xero_org(sb, tokens).status_code == 200  # times=1
    post(sb.url + "/_sandbox/faults", json={"status": 503, "provider": "qbo", "times": None})
    for _ in range(2):
        assert qbo_token(sb, grant_type="refresh_token", refresh_token="x").status_code == 503
    assert [c["fault"] for c in sb.calls(provider="qbo")] == [True, True]
    delete(sb.url + "/_sandbox/faults")
    assert qbo_token(sb, grant_type="refresh_token", refresh_token="x").status_code == 400
    assert post(sb.url + "/_sandbox/configure", json={"no_such": 1}).status_code == 400


def test_faults_that_lose_the_answer_after_the_work(sb):
    """``lose_answer``: the request takes full effect, then its answer is replaced by the
    fault's status, comes ``delay`` seconds late (the client times out) or never comes
    (``close``); ``close`` alone drops the connection before any work."""
    qbo = qbo_connect(sb)
    customers = "%s/qbo/v3/company/%s/customer" % (sb.url, REALM_1)

    def create(name, timeout=10):
        return requests.post(customers, params={"minorversion": 75, "requestid": name},
                             headers=bearer(qbo), json={"DisplayName": name}, timeout=timeout)

    def names():
        return [c["DisplayName"] for c in sb.records("qbo", "Customer")]
    sb.add_fault(status=502, provider="qbo", path_contains="/customer", method="POST",
                 lose_answer=True, times=2)
    assert create("Lost").status_code == 502 and names() == ["Lost"]
    assert create("Lost").status_code == 502  # the replay's answer is lost too (times=2)
    replayed = create("Lost")  # the requestid answers the first, real answer
    assert replayed.status_code == 200 and replayed.json()["Customer"]["DisplayName"] == "Lost"
    assert names() == ["Lost"]
    [lost, _again, answered] = sb.calls(provider="qbo", path_contains="/customer")
    assert (lost["status"], lost["fault"], lost["answer_lost"]) == (502, True, True)
    assert (answered["fault"], answered["answer_lost"]) == (False, False)
    sb.add_fault(status=None, provider="qbo", path_contains="/customer", delay=1.0,
                 lose_answer=True)
    with pytest.raises(requests.exceptions.Timeout):
        create("Late", timeout=0.3)
    assert names() == ["Lost", "Late"]  # written before the answer was due
    sb.add_fault(status=None, provider="qbo", path_contains="/customer", close=True,
                 lose_answer=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        create("Dropped")
    assert names() == ["Lost", "Late", "Dropped"]
    sb.add_fault(status=None, provider="qbo", path_contains="/customer", close=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        create("Never")
    assert "Never" not in names()  # close alone: dropped before any work
    # Over HTTP, at a rate, for one method: Xero's PUT answers 504 after the create.
    xero = xero_connect(sb)
    answer = post(sb.url + "/_sandbox/faults", json={
        "status": 504, "provider": "xero", "path_contains": "Contacts", "method": "PUT",
        "lose_answer": True, "rate": 1.0})
    assert answer.status_code == 200
    assert [f["lose_answer"] for f in get(sb.url + "/_sandbox/faults").json()] == [True]
    for name in ("Acme", "Globex"):
        put = requests.put(sb.url + "/xero/api.xro/2.0/Contacts", json={"Contacts": [
            {"Name": name}]}, headers=bearer(xero, **{"xero-tenant-id": UK}), timeout=10)
        assert put.status_code == 504
    assert [c["Name"] for c in sb.records("xero", "Contacts")] == ["Acme", "Globex"]
    for bad in ({"status": None, "lose_answer": True}, {"status": 500, "close": True},
                {"lose_answer": "yes"}, {"status": None, "close": True, "body": "x"}):
        assert post(sb.url + "/_sandbox/faults", json=bad).status_code == 400, bad


def test_call_log_never_holds_secrets(sb):
    tokens = qbo_connect(sb)
    qbo_token(sb, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    qbo_api(sb, tokens, "companyinfo/" + REALM_1, requestid="req-1")
    xero = xero_connect(sb)
    xero_org(sb, xero)
    log = get(sb.url + "/_sandbox/calls").text
    for secret in [*tokens.values(), *xero.values(), QBO_APP[1], XERO_APP[1], VERIFIER]:
        if isinstance(secret, str) and len(secret) > 8 and " " not in secret:
            assert secret not in log
    [refresh] = sb.calls(provider="qbo", grant_type="refresh_token")
    assert refresh["status"] == 200 and refresh["path"] == "/qbo/oauth2/v1/tokens/bearer"
    [api] = sb.calls(path_contains="companyinfo")
    assert api["idempotency_key"] == "req-1" and api["query"]["minorversion"] == "75"
    [org] = sb.calls(provider="xero", path_contains="Organisation")
    assert org["tenant"] == UK and org["fault"] is False

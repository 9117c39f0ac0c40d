"""The provider adapters (accounting_sync/providers) against the sandbox, through the real
libraries: requests-oauthlib for OAuth, python-quickbooks and xero-python for the APIs."""
import socket
from datetime import timedelta

import pytest

from accounting_sync.providers import (
    AuthorizationError,
    ConfigurationError,
    InvalidGrantError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
    get_adapter,
)
from accounting_sync.providers.base import utcnow
from conftest import REDIRECT_URI, authorize

REALM_1, REALM_2 = "9341453050000001", "9341453050000002"
XERO_UK, XERO_US = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def qbo(sb, **kwargs):
    return get_adapter("quickbooks_online", client_id="qbo-id", client_secret="qbo-secret",
                       environment="local", base_url=sb.url, **kwargs)


def xero(sb, **kwargs):
    return get_adapter("xero", client_id="xero-id", client_secret="xero-secret",
                       environment="local", base_url=sb.url, **kwargs)


def qbo_tokens(sb, adapter, realm=REALM_1):
    params, verifier = authorize(sb, adapter, companies=[realm])
    assert verifier is None  # QBO: no PKCE
    assert params["realmId"] == realm
    return params, adapter.exchange_code(params["code"], REDIRECT_URI)


def xero_tokens(sb, adapter, companies=(XERO_UK,)):
    params, verifier = authorize(sb, adapter, companies=list(companies))
    assert verifier
    return adapter.exchange_code(params["code"], REDIRECT_URI, code_verifier=verifier)


# -- configuration ---------------------------------------------------------------------------

def test_missing_app_keys_are_a_configuration_error(sb):
    with pytest.raises(ConfigurationError, match="client id and client secret"):
        get_adapter("xero", client_id="", client_secret="", environment="local", base_url=sb.url)
    with pytest.raises(ConfigurationError, match="base URL"):
        get_adapter("xero", client_id="a", client_secret="b", environment="local")
    with pytest.raises(ConfigurationError, match="Unknown provider"):
        get_adapter("sage", client_id="a", client_secret="b")


def test_production_endpoints_are_the_providers_own():
    adapter = get_adapter("quickbooks_online", client_id="a", client_secret="b")
    url, _verifier = adapter.authorization_url(REDIRECT_URI, "all_accounting", "s")
    assert url.startswith("https://appcenter.intuit.com/connect/oauth2?")
    assert "com.intuit.quickbooks.accounting" in url
    adapter = get_adapter("xero", client_id="a", client_secret="b")
    url, verifier = adapter.authorization_url(REDIRECT_URI, "customers_sales", "s")
    assert url.startswith("https://login.xero.com/identity/connect/authorize?")
    assert "code_challenge_method=S256" in url and verifier
    assert "accounting.manualjournals" not in url and "offline_access" in url


# -- QuickBooks Online -----------------------------------------------------------------------

def test_qbo_code_exchange_identity_and_company(sb):
    adapter = qbo(sb)
    params, tokens = qbo_tokens(sb, adapter, REALM_2)
    now = utcnow()
    assert timedelta(minutes=55) < tokens.expires_at - now <= timedelta(hours=1)
    assert tokens.refresh_expires_at - now > timedelta(days=99)
    assert adapter.identity(tokens).login == "alice@example.com"
    [company] = adapter.companies(tokens, params)
    assert (company.id, company.name) == (REALM_2, "Sandbox Company US 2")
    # the code is single use
    with pytest.raises(InvalidGrantError):
        adapter.exchange_code(params["code"], REDIRECT_URI)


def test_qbo_refresh_rotates_and_the_stale_token_survives_a_while(sb):
    adapter = qbo(sb)
    _params, tokens = qbo_tokens(sb, adapter)
    new = adapter.refresh(tokens.refresh_token)
    assert new.access_token != tokens.access_token
    assert new.refresh_token != tokens.refresh_token
    assert adapter.company_info(new, REALM_1).name == "Sandbox Company US 1"
    # QBO: the previous refresh token stays usable for 24 hours
    assert adapter.refresh(tokens.refresh_token).access_token
    with pytest.raises(InvalidGrantError):
        adapter.refresh("not-a-token")


def test_qbo_api_errors_are_typed(sb):
    adapter = qbo(sb)
    _params, tokens = qbo_tokens(sb, adapter)
    with pytest.raises(AuthorizationError) as forbidden:
        adapter.company_info(tokens, REALM_2)
    assert forbidden.value.forbidden and forbidden.value.status == 403
    sb.add_fault(status=429, provider="qbo", path_contains="companyinfo", retry_after=2)
    with pytest.raises(RateLimitError) as throttled:
        adapter.company_info(tokens, REALM_1)
    assert throttled.value.retry_after == 2
    sb.add_fault(status=500, provider="qbo", path_contains="companyinfo")
    with pytest.raises(ProviderUnavailableError):
        adapter.company_info(tokens, REALM_1)
    sb.expire_access_tokens()
    with pytest.raises(AuthorizationError) as expired:
        adapter.company_info(tokens, REALM_1)
    assert expired.value.status == 401 and not expired.value.forbidden


def test_qbo_revoke_ends_the_grant(sb):
    adapter = qbo(sb)
    _params, tokens = qbo_tokens(sb, adapter)
    adapter.revoke(tokens.refresh_token)
    with pytest.raises(InvalidGrantError):
        adapter.refresh(tokens.refresh_token)
    with pytest.raises(AuthorizationError):
        adapter.company_info(tokens, REALM_1)


def test_timeouts_and_unreachable_provider(sb):
    adapter = qbo(sb, timeout=0.5)
    _params, tokens = qbo_tokens(sb, adapter)
    sb.add_fault(status=None, delay=2, provider="qbo", path_contains="companyinfo")
    with pytest.raises(ProviderUnavailableError):
        adapter.company_info(tokens, REALM_1)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_url = "http://127.0.0.1:%s" % s.getsockname()[1]
    dead = get_adapter("xero", client_id="a", client_secret="b", environment="local",
                       base_url=dead_url, timeout=2)
    with pytest.raises(ProviderUnavailableError):
        dead.refresh("whatever")
    with pytest.raises(ProviderUnavailableError):
        dead.revoke("whatever")


def test_token_endpoint_outage_is_not_an_invalid_grant(sb):
    adapter = qbo(sb)
    _params, tokens = qbo_tokens(sb, adapter)
    sb.add_fault(status=503, provider="qbo", path_contains="tokens/bearer")
    with pytest.raises(ProviderUnavailableError):
        adapter.refresh(tokens.refresh_token)
    assert adapter.refresh(tokens.refresh_token).access_token  # nothing was lost


# -- Xero ------------------------------------------------------------------------------------

def test_xero_pkce_is_enforced(sb):
    adapter = xero(sb)
    params, verifier = authorize(sb, adapter, companies=[XERO_UK])
    with pytest.raises(InvalidGrantError):
        adapter.exchange_code(params["code"], REDIRECT_URI, code_verifier="x" * 60)
    params, verifier = authorize(sb, adapter, companies=[XERO_UK])
    tokens = adapter.exchange_code(params["code"], REDIRECT_URI, code_verifier=verifier)
    assert "offline_access" in tokens.scope
    assert timedelta(minutes=25) < tokens.expires_at - utcnow() <= timedelta(minutes=30)


def test_xero_identity_tenants_and_organisation(sb):
    adapter = xero(sb)
    tokens = xero_tokens(sb, adapter, companies=(XERO_UK, XERO_US))
    identity = adapter.identity(tokens)
    assert identity.login == "alice@example.com" and identity.subject
    companies = {c.id: c for c in adapter.companies(tokens, {})}
    assert {c.name for c in companies.values()} == {"Demo Company (UK)", "Demo Company (US)"}
    assert all(c.connection_id for c in companies.values())
    assert adapter.company_info(tokens, XERO_US).name == "Demo Company (US)"
    adapter.disconnect(tokens, companies[XERO_US])
    with pytest.raises(AuthorizationError) as forbidden:
        adapter.company_info(tokens, XERO_US)
    assert forbidden.value.forbidden
    assert adapter.company_info(tokens, XERO_UK).name == "Demo Company (UK)"


def test_xero_refresh_tokens_are_single_use(sb):
    sb.configure(xero_refresh_grace=0)
    adapter = xero(sb)
    tokens = xero_tokens(sb, adapter)
    new = adapter.refresh(tokens.refresh_token)
    assert new.refresh_token != tokens.refresh_token
    with pytest.raises(InvalidGrantError):
        adapter.refresh(tokens.refresh_token)
    assert adapter.refresh(new.refresh_token).access_token


def test_xero_expired_access_token_and_revocation(sb):
    adapter = xero(sb)
    tokens = xero_tokens(sb, adapter)
    sb.expire_access_tokens()
    with pytest.raises(AuthorizationError) as expired:
        adapter.company_info(tokens, XERO_UK)
    assert expired.value.status == 401
    fresh = adapter.refresh(tokens.refresh_token)
    assert adapter.company_info(fresh, XERO_UK).name == "Demo Company (UK)"
    adapter.revoke(fresh.refresh_token)
    with pytest.raises(InvalidGrantError):
        adapter.refresh(fresh.refresh_token)
    sb.add_fault(status=429, provider="xero", retry_after=3)
    with pytest.raises(RateLimitError):
        adapter.refresh(fresh.refresh_token)


def test_logs_never_hold_tokens(sb):
    adapter = xero(sb)
    tokens = xero_tokens(sb, adapter)
    adapter.company_info(tokens, XERO_UK)
    dump = repr(sb.calls())
    assert tokens.access_token not in dump and tokens.refresh_token not in dump


def test_xero_identity_token_for_another_app_is_refused(sb):
    tokens = xero_tokens(sb, xero(sb))
    other_app = get_adapter("xero", client_id="another-app", client_secret="x",
                            environment="local", base_url=sb.url)
    with pytest.raises(ProviderError, match="identity token is not valid"):
        other_app.identity(tokens)

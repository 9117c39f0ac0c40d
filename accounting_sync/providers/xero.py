"""Xero: OAuth (with PKCE) through requests-oauthlib, the API through xero-python."""
import time
from datetime import timezone

import jwt
import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException, OAuth2Error
from xero_python.identity import IdentityApi

from .base import OAuthAdapter, RemoteCompany, RemoteIdentity, _retry_after
from .errors import AuthorizationError, ProviderError, ProviderUnavailableError, RateLimitError
from .rate_limits import Rate
from .xero_sync import XeroWriter

BASE_SCOPES = ["offline_access", "openid", "email", "profile"]
# Granular scopes: apps created since March 2026 may not ask for accounting.transactions.
SCOPES = {
    "customers_sales": ["accounting.contacts", "accounting.invoices", "accounting.payments",
                        "accounting.settings"],
    "all_accounting": ["accounting.contacts", "accounting.invoices", "accounting.payments",
                       "accounting.settings", "accounting.manualjournals",
                       "accounting.banktransactions"],
}


class XeroAdapter(OAuthAdapter):
    code = "xero"
    label = "Xero"
    uses_pkce = True
    access_ttl = 1800
    default_refresh_ttl = 60 * 86400  # expires after 60 days unused
    # Per tenant (provider-facts 2.2): 60 a minute, 5,000 a day.
    RATE_LIMITS = (Rate("minute", 60, 60.0), Rate("day", 5000, 86400.0, burst=5000))
    ENDPOINTS = {
        "production": {
            "authorize": "https://login.xero.com/identity/connect/authorize",
            "token": "https://identity.xero.com/connect/token",
            "revoke": "https://identity.xero.com/connect/revocation",
            "identity_api": "https://api.xero.com",
            "api": "https://api.xero.com/api.xro/2.0",
            "issuer": "https://identity.xero.com",
        },
    }
    # Xero has no separate sandbox host: demo companies live in production.
    ENDPOINTS["sandbox"] = ENDPOINTS["production"]

    @classmethod
    def local_endpoints(cls, base_url):
        root = base_url + "/xero"
        return {
            "authorize": root + "/identity/connect/authorize",
            "token": root + "/identity/connect/token",
            "revoke": root + "/identity/connect/revocation",
            "identity_api": root,
            "api": root + "/api.xro/2.0",
            "issuer": root + "/identity",
        }

    def scopes(self, access_scope):
        return SCOPES.get(access_scope, SCOPES["all_accounting"]) + BASE_SCOPES

    def revoke(self, token):
        self._http("POST", self.endpoints["revoke"], data={"token": token},
                   auth=(self.client_id, self.client_secret))

    def identity(self, tokens):
        if not tokens.id_token:
            raise ProviderError("Xero returned no identity token (is the openid scope granted?).")
        try:
            # The token comes straight from the token endpoint over TLS, so its signature
            # need not be checked (OpenID Connect Core 3.1.3.7); its audience must be us.
            claims = jwt.decode(tokens.id_token, audience=self.client_id,
                                algorithms=["RS256", "HS256"],
                                options={"verify_signature": False, "verify_aud": True})
        except jwt.PyJWTError as e:
            raise ProviderError("Xero's identity token is not valid: %s" % e) from e
        return RemoteIdentity(subject=claims.get("xero_userid") or claims.get("sub"),
                              login=claims.get("email") or claims.get("preferred_username"),
                              name=claims.get("name"))

    def companies(self, tokens, callback_params):
        connections = self._api_call(self.identity_api(tokens).get_connections)
        return [RemoteCompany(id=c.tenant_id, name=c.tenant_name, connection_id=c.id)
                for c in connections if (c.tenant_type or "ORGANISATION") == "ORGANISATION"]

    def company_info(self, tokens, company_id):
        result = self._api_call(self.accounting_api(tokens).get_organisations, company_id,
                                pace=company_id)
        organisation = result.organisations[0]
        return RemoteCompany(id=company_id, name=organisation.name,
                             country=organisation.country_code and organisation.country_code.value)

    def disconnect(self, tokens, company):
        connection_id = company.connection_id
        if not connection_id:
            matches = [c for c in self.companies(tokens, {}) if c.id == company.id]
            if not matches:
                return
            connection_id = matches[0].connection_id
        self._api_call(self.identity_api(tokens).delete_connection, connection_id)

    # -- the books: chart and writes (rules in xero_sync) ------------------------------------

    def _writer(self, tokens, company_id):
        return XeroWriter(self, self.accounting_api(tokens), company_id)

    # -- the API client ----------------------------------------------------------------------

    def api_client(self, tokens):
        if not tokens or not tokens.access_token:
            raise AuthorizationError("The connection has no access token: connect it first.")
        client = ApiClient(
            Configuration(oauth2_token=OAuth2Token(client_id=self.client_id,
                                                   client_secret=self.client_secret)),
            pool_threads=1)
        # urllib3 would otherwise sleep Retry-After (hours, for the daily limit) and retry a
        # throttled GET by itself; a 429 must reach us as a RateLimitError instead.
        client.rest_client.pool_manager.connection_pool_kw["retries"] = False
        expires_at = (tokens.expires_at.replace(tzinfo=timezone.utc).timestamp()
                      if tokens.expires_at else None)
        token = {
            "access_token": tokens.access_token,
            "token_type": "Bearer",
            "expires_at": expires_at,
            "expires_in": int(expires_at - time.time()) if expires_at else None,
            "scope": list(tokens.scope) or BASE_SCOPES,
        }
        # Refreshing is ours (under a database lock); the SDK only reads the token.
        client.oauth2_token_getter(lambda: token)
        client.oauth2_token_saver(lambda new_token: None)
        return client

    def accounting_api(self, tokens):
        return AccountingApi(self.api_client(tokens), base_url=self.endpoints["api"])

    def identity_api(self, tokens):
        return IdentityApi(self.api_client(tokens), base_url=self.endpoints["identity_api"])

    def _api_call(self, func, *args, pace=None, **kwargs):
        """Call the SDK; ``pace`` is the tenant whose rate limits the call counts against
        (accounting calls; the identity API has none per tenant)."""
        pacer = self.pacer(pace) if pace else None
        if pacer:
            pacer.acquire()
        try:
            # A (connect, read) pair: xero-python ignores a lone float timeout.
            return func(*args, _request_timeout=(self.timeout, self.timeout), **kwargs)
        except ApiException as e:
            if e.status == 429 and pacer:
                pacer.close_for(_retry_after(e.headers or {}))
            raise self._translate(e) from e
        except OAuth2Error as e:
            raise AuthorizationError("The Xero access token has expired: %s" % e) from e
        except urllib3.exceptions.HTTPError as e:
            raise ProviderUnavailableError(
                "Xero could not be reached: %s" % e.__class__.__name__) from e

    def _translate(self, error):
        status = error.status
        headers = error.headers or {}
        request_id = headers.get("Xero-Correlation-Id")
        if status == 401:
            return AuthorizationError("Xero refused the access token (HTTP 401).", status=401,
                                      request_id=request_id)
        if status == 403:
            return AuthorizationError(
                "Xero refused access to this organisation (HTTP 403): it is not connected "
                "to this app for the signed-in user.", forbidden=True, status=403,
                request_id=request_id)
        if status == 429:
            return RateLimitError("Xero is throttling requests (%s limit)."
                                  % (headers.get("X-Rate-Limit-Problem") or "rate"),
                                  retry_after=_retry_after(headers),
                                  status=429, request_id=request_id)
        if status and status >= 500:
            return ProviderUnavailableError("Xero is unavailable (HTTP %s)." % status,
                                            status=status, request_id=request_id)
        return ProviderError("Xero answered HTTP %s: %s" % (status, (error.body or "")[:300]),
                             status=status, request_id=request_id)

    @staticmethod
    def _request_id(headers):
        return headers.get("Xero-Correlation-Id")

"""QuickBooks Online: OAuth through requests-oauthlib, the API through python-quickbooks."""
from types import SimpleNamespace

from quickbooks import QuickBooks
from quickbooks import exceptions as qb_exceptions
from quickbooks.objects.company_info import CompanyInfo
import requests

from .base import OAuthAdapter, RemoteCompany, RemoteIdentity, _retry_after
from .errors import (
    AuthorizationError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from .quickbooks_online_sync import QboWriter
from .rate_limits import Rate

MINOR_VERSION = 75
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
OPENID_SCOPES = ["openid", "email", "profile"]


class _QuickBooksClient(QuickBooks):
    """python-quickbooks' client with a base URL we choose and a timeout on every call
    (the library itself sets none)."""

    base_api_url = None
    timeout = None
    transport = None  # the adapter's context manager allowing http to a local sandbox
    pacer = None      # the realm's rate_limits.Pacer
    last_response = None

    @property
    def api_url(self):
        return self.base_api_url

    def process_request(self, request_type, url, headers="", params="", data=""):
        headers.update({"Authorization": "Bearer " + self.session.access_token})
        if self.pacer:
            self.pacer.acquire("batch" if url.split("?")[0].endswith("/batch") else None)
        try:
            with self.transport():
                self.last_response = self.session.request(
                    request_type, url, headers=headers, params=params, data=data,
                    timeout=self.timeout)
        except requests.RequestException as e:
            raise ProviderUnavailableError(
                "QuickBooks Online could not be reached: %s" % e.__class__.__name__) from e
        if self.last_response.status_code == 429 and self.pacer:
            self.pacer.close_for(_retry_after(self.last_response))
        return self.last_response


class QuickBooksOnlineAdapter(OAuthAdapter):
    code = "quickbooks_online"
    label = "QuickBooks Online"
    uses_pkce = False
    access_ttl = 3600
    # Per realm (provider-facts 1.5): 10 a second, 500 a minute, 40 batch requests a minute.
    RATE_LIMITS = (Rate("per-second", 10, 1.0), Rate("per-minute", 500, 60.0),
                   Rate("batch", 40, 60.0, kind="batch"))
    ENDPOINTS = {
        "production": {
            "authorize": "https://appcenter.intuit.com/connect/oauth2",
            "token": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
            "revoke": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
            "userinfo": "https://accounts.platform.intuit.com/v1/openid_connect/userinfo",
            "api": "https://quickbooks.api.intuit.com/v3",
        },
        "sandbox": {
            "authorize": "https://appcenter.intuit.com/connect/oauth2",
            "token": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
            "revoke": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
            "userinfo": "https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo",
            "api": "https://sandbox-quickbooks.api.intuit.com/v3",
        },
    }

    @classmethod
    def local_endpoints(cls, base_url):
        root = base_url + "/qbo"
        return {
            "authorize": root + "/connect/oauth2",
            "token": root + "/oauth2/v1/tokens/bearer",
            "revoke": root + "/v2/oauth2/tokens/revoke",
            "userinfo": root + "/v1/openid_connect/userinfo",
            "api": root + "/v3",
        }

    def scopes(self, access_scope):
        # QBO has one accounting scope; the access scope limits what the sync sends.
        return [ACCOUNTING_SCOPE] + OPENID_SCOPES

    def revoke(self, token):
        self._http("POST", self.endpoints["revoke"], json={"token": token},
                   auth=(self.client_id, self.client_secret))

    def identity(self, tokens):
        data = self._http("GET", self.endpoints["userinfo"], tokens.access_token).json()
        name = " ".join(filter(None, [data.get("givenName"), data.get("familyName")]))
        return RemoteIdentity(subject=data.get("sub"), login=data.get("email") or data.get("sub"),
                              name=name or None)

    def companies(self, tokens, callback_params):
        realm = callback_params.get("realmId")
        if not realm:
            raise ProviderError("QuickBooks Online did not say which company was chosen "
                                "(no realmId in the callback).")
        return [self.company_info(tokens, realm)]

    def company_info(self, tokens, company_id):
        client = self.client(tokens, company_id)
        info = self._api_call(client, CompanyInfo.get, company_id, qb=client)
        return RemoteCompany(id=str(company_id), name=info.CompanyName,
                             country=getattr(info, "Country", None))

    # -- the books: chart and writes (rules in quickbooks_online_sync) ------------------------

    def _writer(self, tokens, company_id):
        return QboWriter(self, self.client(tokens, company_id))

    # -- the API client ----------------------------------------------------------------------

    def client(self, tokens, realm_id):
        """A python-quickbooks client for one realm, with the given (fresh) access token."""
        if not tokens or not tokens.access_token:
            raise AuthorizationError("The connection has no access token: connect it first.")
        holder = SimpleNamespace(client_id=self.client_id, environment=self.environment,
                                 access_token=tokens.access_token,
                                 refresh_token=tokens.refresh_token)
        client = _QuickBooksClient(auth_client=holder, company_id=str(realm_id),
                                   minorversion=MINOR_VERSION)
        client.base_api_url = self.endpoints["api"]
        client.timeout = self.timeout
        client.transport = self._transport
        client.pacer = self.pacer(realm_id)
        return client

    def _api_call(self, client, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except qb_exceptions.QuickbooksException as e:
            raise self._translate(e, client.last_response) from e

    def _translate(self, error, response):
        status = response.status_code if response is not None else None
        request_id = self._request_id(response.headers) if response is not None else None
        code = str(error.error_code) if error.error_code else None
        if status == 401:
            return AuthorizationError(
                "QuickBooks Online refused the access token (HTTP 401).", code=code or "3200",
                status=401, request_id=request_id)
        if status == 403:
            return AuthorizationError(
                "QuickBooks Online refused access to this company (HTTP 403): the token was "
                "issued for another company or environment.", forbidden=True, code=code,
                status=403, request_id=request_id)
        if status == 429:
            return RateLimitError("QuickBooks Online is throttling requests.",
                                  retry_after=_retry_after(response),
                                  code=code, status=429, request_id=request_id)
        if status and status >= 500:
            return ProviderUnavailableError(
                "QuickBooks Online is unavailable (HTTP %s)." % status, code=code,
                status=status, request_id=request_id)
        message = error.message
        if error.detail:
            message = "%s: %s" % (message, error.detail)
        return ProviderError(message, code=code, status=status, request_id=request_id)

    @staticmethod
    def _request_id(headers):
        return headers.get("intuit_tid")


"""Xero: OAuth (with PKCE) through requests-oauthlib, the API through xero-python, its webhooks
(:mod:`.webhooks`)."""
import time
from datetime import timezone

import jwt
import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException, ApiSSLException, OAuth2Error
from xero_python.identity import IdentityApi

from .. import transport
from ..answers import WrongShape, clean, obj, objects, parse_json, reading, text, unreadable_answer
from ..base import Capabilities, RemoteCompany, RemoteIdentity, Setting
from ..errors import AuthorizationError, ProviderError, RateLimitError
from ..http import retry_after
from ..oauth import OAuthAdapter
from ..pull import wanted_types
from ..rate_limits import Rate
from ..books import ReadBudget
from . import books, pull, webhooks
from .lookups import UUID, xero_id
from .payloads import LABEL, RESOURCES
from .writer import XeroWriter

BASE_SCOPES = ["offline_access", "openid", "email", "profile"]
# Granular scopes: apps created since March 2026 may not ask for accounting.transactions.
SCOPES = {
    "customers_sales": ["accounting.contacts", "accounting.invoices", "accounting.payments",
                        "accounting.settings", "accounting.reports.trialbalance.read"],
    "all_accounting": ["accounting.contacts", "accounting.invoices", "accounting.payments",
                       "accounting.settings", "accounting.manualjournals",
                       "accounting.banktransactions", "accounting.reports.trialbalance.read"],
}


class XeroAdapter(OAuthAdapter):
    """Xero (see :class:`..base.Adapter` for the contract)."""

    CAPABILITIES = Capabilities(
        code="xero", label=LABEL, batch_size=50,  # elements a request, as Xero recommends
        credentials="oauth",
        item_required_kinds=(),  # every line may be account-based (AccountCode, no ItemCode)
        tax_total_on_document=False,  # TaxAmount line by line, on taxable lines
        pulls_changes=True, pull_types=pull.PULL_TYPES, webhooks=True,
        settings=(Setting("client_id", "Client ID", False),
                  Setting("client_secret", "Client Secret", True),
                  Setting(webhooks.SECRET, "Webhook Key", True, required=False)),
        webhook_secret=webhooks.SECRET, sandbox_code="xero", access_ttl=1800,
        refresh_ttl_note="60 days unused",
        # Reset Credentials drops the tenant connection (DELETE /connections/{id}) first.
        disconnects_tenants=True,
        # One consent may approve several organisations.
        multiple_companies=True)
    uses_pkce = True
    page_size = pull.PAGE_SIZE  # elements a page of a pull asks for (.pull); lower in tests
    books_page_size = books.PAGE_SIZE  # ... of a reconciliation's document read (.books)
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
    COMPANY_ID = UUID
    COMPANY_ID_WORDS = "an organisation (tenant) id is a UUID"
    FORBIDDEN_CODE = "forbidden_organisation"
    # Elements[].ValidationErrors[].Message, Message, Detail (problem answers), then OAuth's.
    MESSAGE_PATHS = (("Elements", [], "ValidationErrors", [], "Message"), ("Message",),
                     ("Detail",)) + OAuthAdapter.MESSAGE_PATHS

    @classmethod
    def sandbox_resource(cls, kind):
        return RESOURCES[kind].collection if kind in RESOURCES else "Invoices"

    @classmethod
    def web_url(cls, environment, kind, remote_id):
        page = RESOURCES[kind].web_page if kind in RESOURCES else None
        return "https://go.xero.com/%s%s" % (page or "Dashboard/?", remote_id)

    LOCAL_PATHS = {"authorize": "/identity/connect/authorize",
                   "token": "/identity/connect/token",
                   "revoke": "/identity/connect/revocation", "identity_api": "",
                   "api": "/api.xro/2.0", "issuer": "/identity"}

    def scopes(self, access_scope):
        return SCOPES.get(access_scope, SCOPES["all_accounting"]) + BASE_SCOPES

    def revoke(self, token):
        self._http("POST", self.endpoints["revoke"], data={"token": token},
                   auth=(self.client_id, self.client_secret))

    def identity(self, tokens):
        if not tokens.id_token:
            raise ProviderError(code="no_id_token", params={"provider": self.label})
        try:
            # The token comes straight from the token endpoint over TLS, so its signature
            # need not be checked (OpenID Connect Core 3.1.3.7); its audience must be us.
            claims = jwt.decode(tokens.id_token, audience=self.client_id,
                                algorithms=["RS256", "HS256"],
                                options={"verify_signature": False, "verify_aud": True})
        except jwt.PyJWTError as e:
            raise ProviderError(code="bad_id_token", params={
                "provider": self.label, "text": clean(str(e)) or e.__class__.__name__}) from e
        with reading(self.label):
            subject = (text(claims.get("xero_userid"), "its xero_userid")
                       or text(claims.get("sub"), "its sub", required=True))
            return RemoteIdentity(
                subject=subject,
                login=(text(claims.get("email"), "its email")
                       or text(claims.get("preferred_username"), "its preferred_username")),
                name=text(claims.get("name"), "its name"))

    def companies(self, tokens, callback_params):
        data = self._api_call(self.identity_api(tokens).get_connections)
        with reading(self.label):
            companies = []
            for connection in objects(data, "its list of connections"):
                if (text(connection.get("tenantType")) or "ORGANISATION") != "ORGANISATION":
                    continue
                tenant = xero_id(connection.get("tenantId"), "a connection's tenantId")
                companies.append(RemoteCompany(
                    id=tenant, name=text(connection.get("tenantName"), "a tenantName") or tenant,
                    connection_id=xero_id(connection.get("id"), "a connection's id")))
            return companies

    def company_info(self, tokens, company_id):
        tenant = self.check_company_id(company_id)
        data = self._api_call(self.accounting_api(tokens).get_organisations, tenant,
                              pace=tenant)
        with reading(self.label):
            organisations = objects(obj(data, "its answer").get("Organisations"),
                                    "its Organisations")
            if not organisations:
                raise WrongShape("it lists no organisation")
            organisation = organisations[0]
            return RemoteCompany(
                id=tenant, name=text(organisation.get("Name"), "the organisation's name",
                                     required=True),
                country=text(organisation.get("CountryCode"), "its CountryCode"))

    def disconnect(self, tokens, company):
        connection_id = company.connection_id
        if not connection_id:
            matches = [c for c in self.companies(tokens, {}) if c.id == company.id]
            if not matches:
                return
            connection_id = matches[0].connection_id
        if not isinstance(connection_id, str) or not UUID.fullmatch(connection_id):
            raise ProviderError(code="bad_connection_id", provider_code="bad_company_id",
                                params={"provider": self.label})
        self._api_call(self.identity_api(tokens).delete_connection, connection_id,
                       empty_ok=True)

    # -- the books: chart and writes (rules in .writer) -------------------------------------

    def _writer(self, tokens, company_id):
        return XeroWriter(self, self.accounting_api(tokens), company_id)

    # -- the API client ----------------------------------------------------------------------

    def api_client(self, tokens):
        if not tokens or not tokens.access_token:
            raise AuthorizationError(code="not_connected")
        client = ApiClient(
            Configuration(oauth2_token=OAuth2Token(client_id=self.client_id,
                                                   client_secret=self.client_secret)),
            pool_threads=1)
        # The guarded pool manager (.transport): a total deadline, a size cap, no redirects,
        # and no retries by urllib3 itself, which would otherwise sleep Retry-After (hours,
        # for the daily limit) and retry a throttled GET: a 429 must reach us.
        client.rest_client.pool_manager = transport.pool_manager(
            like=client.rest_client.pool_manager)
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

    def _api_call(self, func, *args, pace=None, empty_ok=False, **kwargs):
        """Call the SDK and return Xero's answer as JSON, parsed here (Decimal for
        fractions), not deserialised by the SDK; ``empty_ok``: an empty answer (204) is
        None. ``pace`` is the tenant whose rate limits the call counts against (accounting
        calls; the identity API has none per tenant). The call and the reading of its body
        run in the one guard (.transport); errors are typed by the one status ladder."""
        pacer = self.pacer(pace) if pace else None
        if pacer:
            pacer.acquire()
        try:
            with self._guard():
                # A (connect, read) pair: xero-python ignores a lone float timeout.
                response = func(*args, _preload_content=False,
                                _request_timeout=(self.timeout, self.timeout), **kwargs)
                body = response.data
                response.release_conn()
        except ApiSSLException as e:
            raise self.unreachable("SSLError") from e
        except ApiException as e:
            answer = e.http_resp
            if answer is None:  # the SDK could not even build the request
                raise ProviderError(code="not_callable", params={
                    "provider": self.label, "text": clean(e.reason)}) from e
            if answer.status == 429 and pacer:
                pacer.close_for(retry_after(answer.getheaders() or {}))
            raise (self._error_for(answer.status, answer.getheaders(), answer.data)
                   or unreadable_answer(self.label, "it answered HTTP %s, which is no error, as "
                                        "an error" % answer.status)) from e
        except OAuth2Error as e:
            raise AuthorizationError(code="token_expired", params={"provider": self.label}) from e
        except urllib3.exceptions.HTTPError as e:
            raise self.unreachable(e.__class__.__name__) from e
        if empty_ok and not (body or b"").strip():
            return None
        return parse_json(body, self.label)

    def _throttled(self, headers, code, kwargs):
        """A 429 names the limit reached (``X-Rate-Limit-Problem``): ``throttled_limit``."""
        seconds = retry_after(headers)
        return RateLimitError(code="throttled_limit", retry_after=seconds, provider_code=code,
                              params={"provider": self.label, "seconds": seconds,
                                      "limit": clean(headers.get("X-Rate-Limit-Problem"), 30)
                                      or "rate"}, **kwargs)

    @staticmethod
    def _request_id(headers):
        return headers.get("Xero-Correlation-Id")

    # -- the books ---------------------------------------------------------------------------

    def books(self, tokens, company_id, as_of, start, kinds, known=None, basis="accrual",
              budget=None):
        """The organisation's trial balance, documents and the agings they give
        (:mod:`.books`)."""
        writer = self._writer(tokens, self.check_company_id(company_id))
        with reading(self.label):
            return books.XeroBooks(writer, budget or ReadBudget(), self.books_page_size).run(
                as_of, start, kinds, known, basis)

    # -- changes -------------------------------------------------------------------------------

    def changes(self, tokens, company_id, cursors, types=None):
        """What changed in the organisation since each resource's cursor, read with
        If-Modified-Since (:mod:`.pull`): a :class:`..incoming.PullResult`."""
        tenant = self.check_company_id(company_id)
        types = wanted_types(self.CAPABILITIES, types)
        return pull.XeroPull(self, self.accounting_api(tokens), tenant, types).run(cursors)

    def pull_types_for(self, changes):
        """The resources that hold what webhook ``changes`` name: Contacts, Invoices,
        CreditNotes, and Payments whenever an invoice or a credit note changed (Xero has no
        payment webhook: a payment shows as an update of the invoice it pays)."""
        return pull.pull_types_for(changes)

    def parse_webhook(self, headers, raw_body, secret):
        """The changes of one Xero webhook delivery (:func:`.webhooks.parse`): the
        ``x-xero-signature`` checked with the webhook key ``secret``; an intent-to-receive
        (``events: []``) correctly signed gives ``[]``."""
        return webhooks.parse(headers, raw_body, secret)

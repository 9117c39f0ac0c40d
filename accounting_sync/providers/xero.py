"""Xero: OAuth (with PKCE) through requests-oauthlib, the API through xero-python."""
import time
from datetime import timezone

import jwt
import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException, ApiSSLException, OAuth2Error
from xero_python.identity import IdentityApi

from . import transport
from .answers import WrongShape, clean, obj, objects, parse_json, reading, text
from .base import OAuthAdapter, RemoteCompany, RemoteIdentity, _retry_after
from .errors import (
    AuthorizationError, ProviderError, ProviderResponseError, ProviderUnavailableError,
)
from .rate_limits import Rate
from .xero_lookups import UUID, xero_id
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
    SANDBOX_CODE = "xero"
    SANDBOX_RESOURCES = {"customer": "Contacts", "vendor": "Contacts", "product": "Items",
                         "invoice": "Invoices", "bill": "Invoices", "credit_note": "CreditNotes",
                         "vendor_credit": "CreditNotes", "customer_payment": "Payments",
                         "vendor_payment": "Payments", "journal_entry": "ManualJournals"}
    WEB_PAGES = {"customer": "Contacts/View/", "vendor": "Contacts/View/",
                 "product": "Accounts/Inventory/",
                 "invoice": "AccountsReceivable/View.aspx?InvoiceID=",
                 "credit_note": "AccountsReceivable/ViewCreditNote.aspx?creditNoteID=",
                 "bill": "AccountsPayable/View.aspx?InvoiceID=",
                 "vendor_credit": "AccountsPayable/ViewCreditNote.aspx?creditNoteID=",
                 "journal_entry": "Journal/View.aspx?invoiceID="}

    @classmethod
    def sandbox_resource(cls, kind):
        return cls.SANDBOX_RESOURCES.get(kind, "Invoices")

    @classmethod
    def web_url(cls, environment, kind, remote_id):
        return "https://go.xero.com/%s%s" % (cls.WEB_PAGES.get(kind, "Dashboard/?"), remote_id)

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
    ITEM_REQUIRED_KINDS = ()  # every line may be account-based (AccountCode, no ItemCode)
    COMPANY_ID = UUID
    COMPANY_ID_WORDS = "an organisation (tenant) id is a UUID"
    FORBIDDEN = ("%s refused access to this organisation (HTTP 403): it is not connected to "
                 "this app for the signed-in user.")
    # Elements[].ValidationErrors[].Message, Message, Detail (problem answers), then OAuth's.
    MESSAGE_PATHS = (("Elements", [], "ValidationErrors", [], "Message"), ("Message",),
                     ("Detail",)) + OAuthAdapter.MESSAGE_PATHS

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
            raise ProviderError("Xero's identity token is not valid: %s"
                                % (clean(e) or e.__class__.__name__)) from e
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
            raise ProviderError("This is not a valid Xero connection id: it is a UUID.",
                                code="bad_company_id")
        self._api_call(self.identity_api(tokens).delete_connection, connection_id,
                       empty_ok=True)

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
            raise ProviderUnavailableError("Xero could not be reached: SSLError") from e
        except ApiException as e:
            answer = e.http_resp
            if answer is None:  # the SDK could not even build the request
                raise ProviderError("Xero could not be called: %s" % clean(e.reason)) from e
            if answer.status == 429 and pacer:
                pacer.close_for(_retry_after(answer.getheaders() or {}))
            raise (self._error_for(answer.status, answer.getheaders(), answer.data)
                   or ProviderResponseError("Xero answered HTTP %s, which is not an error, "
                                            "as one." % answer.status)) from e
        except OAuth2Error as e:
            raise AuthorizationError("The Xero access token has expired.") from e
        except urllib3.exceptions.HTTPError as e:
            raise ProviderUnavailableError(
                "Xero could not be reached: %s" % e.__class__.__name__) from e
        if empty_ok and not (body or b"").strip():
            return None
        return parse_json(body, self.label)

    def _throttled(self, headers):
        return "Xero is throttling requests (%s limit)." % (
            clean(headers.get("X-Rate-Limit-Problem"), 30) or "rate")

    @staticmethod
    def _request_id(headers):
        return headers.get("Xero-Correlation-Id")


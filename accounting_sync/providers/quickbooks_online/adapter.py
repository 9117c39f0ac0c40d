"""QuickBooks Online: OAuth through requests-oauthlib, the API through python-quickbooks, its
webhooks (:mod:`.webhooks`)."""
from types import SimpleNamespace

from quickbooks import QuickBooks
from quickbooks import exceptions as qb_exceptions

from .. import transport
from ..answers import obj, parse_json, pick, reading, text, unreadable_answer
from ..base import Capabilities, RemoteCompany, RemoteIdentity, Setting
from ..errors import AuthorizationError, ProviderError
from ..http import retry_after
from ..oauth import OAuthAdapter
from ..pull import wanted_types
from ..rate_limits import Rate
from ..books import ReadBudget
from . import books, pull, webhooks
from .lookups import PAGE, QBO_ID
from .payloads import ENTITIES, ITEM_REQUIRED_KINDS, LABEL
from .writer import QboWriter

MINOR_VERSION = 75
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
OPENID_SCOPES = ["openid", "email", "profile"]


class _QuickBooksClient(QuickBooks):
    """python-quickbooks' client with a base URL we choose. The library builds the URLs and
    reads the answers; each request goes through the adapter's one HTTP seam (a total
    deadline, a size cap, no redirects) and each answer through its status ladder and shape
    check first, so the library only ever reads a JSON object that is not a Fault."""

    base_api_url = None
    adapter = None    # the QuickBooksOnlineAdapter
    pacer = None      # the realm's rate_limits.Pacer
    last_response = None

    @property
    def api_url(self):
        return self.base_api_url

    def _start_session(self):
        # The library's own session would follow redirects, Authorization header included.
        self.session = transport.OAuthSession(self.auth_client.client_id, token={
            "access_token": self.auth_client.access_token,
            "refresh_token": self.auth_client.refresh_token,
        })
        return self.auth_client.refresh_token

    def process_request(self, request_type, url, headers="", params="", data=""):
        headers.update({"Authorization": "Bearer " + self.session.access_token})
        if self.pacer:
            self.pacer.acquire("batch" if url.split("?")[0].endswith("/batch") else None)
        self.last_response = None
        with self.adapter._outbound():
            self.last_response = self.session.request(
                request_type, url, headers=headers, params=params, data=data,
                timeout=self.adapter.timeout, allow_redirects=False)
        if self.last_response.status_code == 429 and self.pacer:
            self.pacer.close_for(retry_after(self.last_response))
        self.adapter._check_answer(self.last_response)
        return self.last_response


class QuickBooksOnlineAdapter(OAuthAdapter):
    """QuickBooks Online (see :class:`..base.Adapter` for the contract)."""

    CAPABILITIES = Capabilities(
        code="quickbooks_online", label=LABEL, batch_size=30,  # POST /batch: 30 items
        credentials="oauth",
        # Invoice and credit memo lines are SalesItemLineDetail lines: an item each.
        item_required_kinds=ITEM_REQUIRED_KINDS,
        tax_total_on_document=True,  # TxnTaxDetail.TotalTax is kept (provider-facts 1.9)
        pulls_changes=True, pull_types=pull.PULL_TYPES, webhooks=True,
        settings=(Setting("client_id", "Client ID", False),
                  Setting("client_secret", "Client Secret", True),
                  Setting(webhooks.SECRET, "Webhook Verifier Token", True, required=False)),
        webhook_secret=webhooks.SECRET, sandbox_code="qbo", access_ttl=3600,
        refresh_ttl_note="at most 5 years, and 100 days unused",
        disconnects_tenants=False, multiple_companies=False)
    uses_pkce = False
    # A pull (.pull): objects a CDC answer holds at most (all its entities together), and
    # rows a query page asks for; lower in tests.
    cdc_cap = pull.CDC_CAP
    query_page = PAGE
    # Per realm (provider-facts 1.5): 10 a second, 500 a minute, 40 batch requests a minute.
    RATE_LIMITS = (Rate("per-second", 10, 1.0), Rate("per-minute", 500, 60.0),
                   Rate("batch", 40, 60.0, kind="batch"))
    COMPANY_ID = QBO_ID  # realm ids are numeric like entity ids
    COMPANY_ID_WORDS = "a company (realm) id is 1 to 32 digits"
    FORBIDDEN_CODE = "forbidden_company"
    _unauthorized_code = "3200"
    # Fault.Error[].Message/Detail (the 401 answer spells them in lower case), then OAuth's.
    MESSAGE_PATHS = (("Fault", "Error", [], "Message"), ("Fault", "Error", [], "Detail"),
                     ("fault", "error", [], "message"), ("fault", "error", [], "detail"),
                     ) + OAuthAdapter.MESSAGE_PATHS
    CODE_PATHS = (("Fault", "Error", [], "code"), ("fault", "error", [], "code"),
                  ) + OAuthAdapter.CODE_PATHS

    @classmethod
    def sandbox_resource(cls, kind):
        return ENTITIES[kind].name if kind in ENTITIES else "Invoice"

    @classmethod
    def web_url(cls, environment, kind, remote_id):
        host = ("https://app.sandbox.qbo.intuit.com" if environment == "sandbox"
                else "https://app.qbo.intuit.com")
        page = ENTITIES[kind].web_page if kind in ENTITIES else "homepage?"
        return "%s/app/%s%s" % (host, page, remote_id)

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

    LOCAL_PATHS = {"authorize": "/connect/oauth2", "token": "/oauth2/v1/tokens/bearer",
                   "revoke": "/v2/oauth2/tokens/revoke",
                   "userinfo": "/v1/openid_connect/userinfo", "api": "/v3"}

    def scopes(self, access_scope):
        # QBO has one accounting scope; the access scope limits what the sync sends.
        return [ACCOUNTING_SCOPE] + OPENID_SCOPES

    def revoke(self, token):
        self._http("POST", self.endpoints["revoke"], json={"token": token},
                   auth=(self.client_id, self.client_secret))

    def identity(self, tokens):
        response = self._http("GET", self.endpoints["userinfo"], tokens.access_token)
        with reading(self.label):
            data = obj(parse_json(response.content, self.label, "its user info"),
                       "its user info")
            subject = text(data.get("sub"), "the user id", required=True)
            name = " ".join(filter(None, [text(data.get("givenName"), "the given name"),
                                          text(data.get("familyName"), "the family name")]))
            return RemoteIdentity(subject=subject,
                                  login=text(data.get("email"), "the e-mail") or subject,
                                  name=name or None)

    def companies(self, tokens, callback_params):
        realm = (callback_params or {}).get("realmId")
        if not realm:
            raise ProviderError(code="no_company_chosen", params={
                "provider": self.label, "field": "realmId"})
        return [self.company_info(tokens, realm)]

    def company_info(self, tokens, company_id):
        realm = self.check_company_id(company_id)
        client = self.client(tokens, realm)
        data = self._api_call(client.get_single_object, "CompanyInfo", realm)
        with reading(self.label):
            info = obj(data.get("CompanyInfo"), "its CompanyInfo")
            return RemoteCompany(
                id=realm, name=text(info.get("CompanyName"), "the company name", required=True),
                country=text(info.get("Country"), "the country"))

    # -- the books: chart and writes (rules in .writer) -------------------------------------

    def _writer(self, tokens, company_id):
        return QboWriter(self, self.client(tokens, company_id))

    # -- the API client ----------------------------------------------------------------------

    def client(self, tokens, realm_id):
        """A python-quickbooks client for one realm, with the given (fresh) access token."""
        realm_id = self.check_company_id(realm_id)
        if not tokens or not tokens.access_token:
            raise AuthorizationError(code="not_connected")
        holder = SimpleNamespace(client_id=self.client_id, environment=self.environment,
                                 access_token=tokens.access_token,
                                 refresh_token=tokens.refresh_token)
        client = _QuickBooksClient(auth_client=holder, company_id=realm_id,
                                   minorversion=MINOR_VERSION)
        client.base_api_url = self.endpoints["api"]
        client.adapter = self
        client.pacer = self.pacer(realm_id)
        return client

    def _api_call(self, func, *args, **kwargs):
        """Call python-quickbooks: every answer it reads was checked by ``_check_answer``, so
        what it still raises means it could not read one."""
        try:
            return func(*args, **kwargs)
        except qb_exceptions.QuickbooksException as e:
            raise unreadable_answer(self.label, "python-quickbooks could not read it") from e

    def _check_answer(self, response):
        """Before python-quickbooks reads an answer: the status ladder, then a JSON object
        (a Fault in it, whatever the status, is the refusal it holds)."""
        self._raise_for_status(response)
        with reading(self.label):
            data = obj(parse_json(response.content, self.label), "its answer")
        if "Fault" in data or "fault" in data:
            code = (pick(data, *self.CODE_PATHS) or [None])[0]  # the refusal's provider_code
            raise self._refusal(response.status_code, data, code,
                                self._request_id(response.headers))
        return data

    @staticmethod
    def _request_id(headers):
        return headers.get("intuit_tid")

    # -- the books ---------------------------------------------------------------------------

    def books(self, tokens, company_id, as_of, start, kinds, known=None, basis="accrual",
              budget=None):
        """The realm's trial balance, agings and documents (:mod:`.books`)."""
        writer = self._writer(tokens, self.check_company_id(company_id))
        writer.client.use_decimal = True  # amounts as Decimal, to the cent
        with reading(self.label):
            return books.QboBooks(writer, budget or ReadBudget()).run(
                as_of, start, kinds, known, basis)

    # -- changes -------------------------------------------------------------------------------

    def changes(self, tokens, company_id, cursors, types=None):
        """What changed in the realm since each entity's cursor, by Change Data Capture
        (:mod:`.pull`): a :class:`..incoming.PullResult`."""
        realm = self.check_company_id(company_id)
        types = wanted_types(self.CAPABILITIES, types)
        client = self.client(tokens, realm)
        client.use_decimal = True  # amounts as Decimal, as sent
        return pull.QboPull(self, client, realm, types).run(cursors)

    def parse_webhook(self, headers, raw_body, secret):
        """The changes of one QBO webhook delivery (:func:`.webhooks.parse`): the
        ``intuit-signature`` checked with the verifier token ``secret``, then legacy
        ``eventNotifications`` or CloudEvents."""
        return webhooks.parse(headers, raw_body, secret)

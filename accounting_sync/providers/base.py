"""What every OAuth provider adapter shares: token sets, the OAuth dance, the one HTTP seam
(:meth:`OAuthAdapter._outbound` over :mod:`.transport`) and the one status ladder
(:meth:`OAuthAdapter._error_for`)."""
import base64
import contextlib
import hashlib
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from . import transport
from .answers import (
    WrongShape, clean, is_json, join, kind_of, number, obj, pick, reading, text, try_json,
)
from .errors import (
    AuthorizationError,
    ConfigurationError,
    InvalidGrantError,
    ProviderError,
    ProviderResponseError,
    ProviderUnavailableError,
    RateLimitError,
)
from .rate_limits import pacer_for
from .transport import DEFAULT_MAX_RESPONSE_BYTES

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30  # seconds, every outbound call in total
MAX_TOKEN_LIFETIME = 10 * 366 * 86400  # seconds: more is not an answer
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_insecure_lock = threading.Lock()


def utcnow():
    """Naive UTC now, the form Odoo stores datetimes in."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class TokenSet:
    """Tokens as returned by a token endpoint, with absolute (naive UTC) expiry times."""

    access_token: str
    refresh_token: str = None
    expires_at: datetime = None
    refresh_expires_at: datetime = None
    id_token: str = None
    scope: tuple = field(default_factory=tuple)

    @classmethod
    def from_response(cls, data, now=None, refresh_ttl=None):
        """Build from a token endpoint's JSON; ``refresh_ttl`` is used when the provider
        does not say how long the refresh token lives (Xero: 60 days if unused)."""
        now = now or utcnow()
        expires_in = int(number(data.get("expires_in"), default=0))
        refresh_in = int(number(data.get("x_refresh_token_expires_in"), default=0)
                         or refresh_ttl or 0)
        scope = data.get("scope") or ()
        if isinstance(scope, str):
            scope = scope.split()
        return cls(
            access_token=text(data["access_token"]),
            refresh_token=text(data.get("refresh_token")),
            expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
            refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in else None,
            id_token=text(data.get("id_token")),
            scope=tuple(scope),
        )


@dataclass
class RemoteIdentity:
    """Who signed in at the provider."""

    subject: str
    login: str
    name: str = None


@dataclass
class RemoteCompany:
    """A remote company: a QBO realm or a Xero tenant (``connection_id`` is Xero's)."""

    id: str
    name: str
    connection_id: str = None
    country: str = None


def pkce_pair():
    """A PKCE (S256) code verifier and its challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def mask(secret):
    """What a log may show of a secret."""
    if not secret:
        return ""
    return secret[:4] + "…" if len(secret) > 8 else "…"


class OAuthAdapter:
    """Base class of the provider adapters.

    ``environment`` is ``production``, ``sandbox`` (the provider's own developer sandbox) or
    ``local`` (this project's provider sandbox, or any server speaking the same protocol,
    at ``base_url``). Every outbound call ends within ``timeout`` seconds in total and reads
    at most ``max_response_bytes`` of answer (:mod:`.transport`).
    """

    code = None
    label = None
    uses_pkce = False
    access_ttl = 3600          # seconds, what the provider documents
    default_refresh_ttl = None  # seconds, when the token response does not say
    ENDPOINTS = {}              # environment -> {authorize, token, revoke, ...}
    RATE_LIMITS = ()            # the published limits per remote company (rate_limits.Rate)
    COMPANY_ID = None           # a valid remote company id (compiled regular expression)
    COMPANY_ID_WORDS = None     # ... in words
    FORBIDDEN = "%s refused access to this company (HTTP 403)."
    # Capability: the document kinds whose lines the provider takes only with an item
    # (documents.Line.item); a line without one is account-based on every other kind.
    ITEM_REQUIRED_KINDS = ()
    # Whether the tax total sent on a document is kept whatever its lines' tax codes say (QBO
    # TxnTaxDetail.TotalTax), or only line by line, on taxable lines (Xero TaxAmount).
    TAX_TOTAL_ON_DOCUMENT = False
    _unauthorized_code = None   # the code of a 401 whose answer names none
    # Where an error answer's messages and code are (answers.pick paths): OAuth's own.
    MESSAGE_PATHS = (("error_description",), ("error",))
    CODE_PATHS = (("error",),)

    def __init__(self, client_id, client_secret, environment="production", base_url=None,
                 timeout=DEFAULT_TIMEOUT, time_scale=1.0,
                 max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES):
        if not client_id or not client_secret:
            raise ConfigurationError(
                "The %s app's client id and client secret are not set." % self.label)
        self.client_id = client_id
        self.client_secret = client_secret
        self.environment = environment
        self.timeout = _positive(timeout, DEFAULT_TIMEOUT)
        self.max_response_bytes = int(_positive(max_response_bytes,
                                                DEFAULT_MAX_RESPONSE_BYTES))
        # Only the local sandbox compresses time; Intuit and Xero count in real seconds.
        self.time_scale = float(time_scale or 1.0) if environment == "local" else 1.0
        if environment == "local":
            if not base_url:
                raise ConfigurationError("The local sandbox environment needs a base URL.")
            self.base_url = base_url.rstrip("/")
            self.endpoints = self.local_endpoints(self.base_url)
        elif environment in self.ENDPOINTS:
            self.base_url = None
            self.endpoints = dict(self.ENDPOINTS[environment])
        else:
            raise ConfigurationError("Unknown environment %r." % environment)

    SANDBOX_CODE = None  # this provider's name in the local provider sandbox's URLs

    @classmethod
    def record_url(cls, environment, base_url, company_id, kind, remote_id):
        """Where a person sees a remote record: the provider's web app, or the local
        sandbox's record page."""
        remote_id = str(remote_id or "").split(",")[0]
        if environment == "local":
            return "%s/_sandbox/view/%s/%s/%s?company=%s" % (
                (base_url or "").rstrip("/"), cls.SANDBOX_CODE, cls.sandbox_resource(kind),
                remote_id, company_id or "")
        return cls.web_url(environment, kind, remote_id)

    @classmethod
    def sandbox_resource(cls, kind):
        raise NotImplementedError

    @classmethod
    def web_url(cls, environment, kind, remote_id):
        raise NotImplementedError

    @classmethod
    def item_required(cls, kind):
        """Whether every line of a ``kind`` document needs an item (``Line.item``) here."""
        return kind in cls.ITEM_REQUIRED_KINDS

    # -- endpoints and ids -----------------------------------------------------------------

    def pacer(self, company_id):
        """The process-wide pacer of one remote company's API calls."""
        return pacer_for((self.code, self.endpoints["api"], str(company_id), self.time_scale),
                         self.RATE_LIMITS, time_scale=self.time_scale, label=self.label)

    @classmethod
    def local_endpoints(cls, base_url):
        raise NotImplementedError

    @classmethod
    def check_company_id(cls, value):
        """``value`` as the remote company id it must be (a str), else a ProviderError
        (code ``bad_company_id``): an id goes into URLs and headers only once checked, so a
        bad one (the QBO callback's ``realmId`` comes straight from a query string) makes no
        call at all."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not cls.COMPANY_ID.fullmatch(value):
            raise ProviderError("This is not a valid %s company id: %s."
                                % (cls.label, cls.COMPANY_ID_WORDS), code="bad_company_id")
        return value

    def _is_loopback_http(self):
        parts = urlsplit(self.endpoints["token"])
        return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS

    @contextlib.contextmanager
    def _transport(self):
        """oauthlib refuses plain http; allow it only for a sandbox on this machine."""
        if not self._is_loopback_http():
            yield
            return
        with _insecure_lock:
            previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
            try:
                yield
            finally:
                if previous is None:
                    os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
                else:
                    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = previous

    # -- the one HTTP seam -----------------------------------------------------------------

    def _guard(self):
        """The limits of one outbound call (:class:`.transport.Guard`)."""
        return transport.Guard(self.label, self.timeout, self.max_response_bytes)

    @contextlib.contextmanager
    def _outbound(self):
        """Around one call through requests (plain, requests-oauthlib or python-quickbooks'
        session, all made by :mod:`.transport`): plain http allowed for a local sandbox, the
        deadline and the size cap, and requests' exceptions as typed errors."""
        with self._transport(), self._guard():
            try:
                yield
            except requests.RequestException as e:
                raise ProviderUnavailableError(
                    "%s could not be reached: %s" % (self.label, e.__class__.__name__)) from e

    def _http(self, method, url, access_token=None, **kwargs):
        """A plain call (revoke, userinfo); the answer's status checked."""
        headers = kwargs.pop("headers", {})
        if access_token:
            headers["Authorization"] = "Bearer " + access_token
        headers.setdefault("Accept", "application/json")
        with transport.session() as session, self._outbound():
            response = session.request(method, url, headers=headers, timeout=self.timeout,
                                       allow_redirects=False, **kwargs)
        self._raise_for_status(response)
        return response

    def _raise_for_status(self, response):
        error = self._error_for(response.status_code, response.headers, response.content)
        if error is not None:
            raise error

    def _error_for(self, status, headers, body):
        """The one status ladder: None for a 2xx answer, else the typed error for it. The
        body is read for the provider's own message fields (:attr:`MESSAGE_PATHS`), never
        shown as such."""
        if 200 <= status < 300:
            return None
        headers = headers or {}
        data = try_json(body)
        known = is_json(data)
        code = (pick(data, *self.CODE_PATHS) or [None])[0] if known else None
        kwargs = {"status": status, "request_id": self._request_id(headers)}
        if 300 <= status < 400:
            error = ProviderResponseError(
                "%s answered with a redirect (HTTP %s), which is never followed: check the %s "
                "address in the settings." % (self.label, status, self.label),
                code="redirect", **kwargs)
        elif status == 401:
            error = AuthorizationError("%s refused the access token (HTTP 401)." % self.label,
                                       code=code or self._unauthorized_code, **kwargs)
        elif status == 403:
            error = AuthorizationError(self.FORBIDDEN % self.label, forbidden=True, code=code,
                                       **kwargs)
        elif status == 429:
            error = RateLimitError(self._throttled(headers), retry_after=_retry_after(headers),
                                   code=code, **kwargs)
        elif status >= 500:
            error = ProviderUnavailableError("%s is unavailable (HTTP %s)." % (self.label, status),
                                             code=code, **kwargs)
        else:
            return self._refusal(status, data, code, kwargs["request_id"])
        if known:
            error.answer = data
        return error

    def _refusal(self, status, data, code, request_id):
        """A 4xx that is about the request (or a 200 holding an error): the provider's
        message, picked and cleaned; a body that is not JSON is said to be so."""
        if not is_json(data):
            message = "%s answered HTTP %s with a body that is not JSON." % (self.label, status)
        else:
            messages = pick(data, *self.MESSAGE_PATHS)
            message = ("%s refused the request (HTTP %s): %s" % (self.label, status,
                                                                 join(messages))
                       if messages else "%s refused the request (HTTP %s) without saying why."
                       % (self.label, status))
        error = ProviderError(message, code=code, status=status, request_id=request_id)
        if is_json(data):
            error.answer = data
        return error

    def _throttled(self, headers):
        return "%s is throttling requests." % self.label

    @staticmethod
    def _request_id(headers):
        return None

    # -- OAuth -----------------------------------------------------------------------------

    def scopes(self, access_scope):
        """The OAuth scopes for an access scope (``all_accounting``, ``customers_sales``)."""
        raise NotImplementedError

    def authorization_url(self, redirect_uri, access_scope, state):
        """Return ``(url, code_verifier)``; the verifier is None unless PKCE is used and
        must be kept server-side until the callback."""
        extra = {}
        verifier = None
        if self.uses_pkce:
            verifier, challenge = pkce_pair()
            extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
        session = transport.OAuthSession(self.client_id, redirect_uri=redirect_uri,
                                         scope=self.scopes(access_scope), state=state)
        with self._transport():
            try:
                url, _state = session.authorization_url(self.endpoints["authorize"], **extra)
            except oauth_errors.InsecureTransportError as e:
                raise self._insecure() from e
        return url, verifier

    def exchange_code(self, code, redirect_uri, code_verifier=None):
        """Trade an authorization code for tokens."""
        if not code or not isinstance(code, str):
            raise InvalidGrantError("The callback carried no authorization code.",
                                    code="invalid_grant")
        session = transport.OAuthSession(self.client_id, redirect_uri=redirect_uri)
        extra = {"code_verifier": code_verifier} if code_verifier else {}
        data = self._token_call(session.fetch_token, self.endpoints["token"], code=code,
                                client_secret=self.client_secret, **extra)
        return TokenSet.from_response(data, refresh_ttl=self.default_refresh_ttl)

    def refresh(self, refresh_token):
        """Trade a refresh token for a new token set (the refresh token may rotate)."""
        if not refresh_token:
            raise InvalidGrantError("There is no refresh token: the connection was never "
                                    "authorized or its tokens were cleared.")
        session = transport.OAuthSession(self.client_id)
        data = self._token_call(session.refresh_token, self.endpoints["token"],
                                refresh_token=refresh_token)
        tokens = TokenSet.from_response(data, refresh_ttl=self.default_refresh_ttl)
        if not tokens.refresh_token:  # some providers only rotate now and then
            tokens.refresh_token = refresh_token
        return tokens

    def _token_call(self, method, url, **kwargs):
        """A token request through requests-oauthlib; the answer is vetted by
        :meth:`_check_token_response` before oauthlib parses it."""
        auth = requests.auth.HTTPBasicAuth(self.client_id, self.client_secret)
        session = method.__self__
        session.register_compliance_hook("access_token_response", self._check_token_response)
        session.register_compliance_hook("refresh_token_response", self._check_token_response)
        try:
            with session, self._outbound():
                return dict(method(url, auth=auth, timeout=self.timeout, **kwargs))
        except oauth_errors.InsecureTransportError as e:
            raise self._insecure() from e
        except oauth_errors.OAuth2Error as e:  # oauthlib's own checks, after ours
            raise ProviderResponseError("%s sent a token answer this connector cannot use: %s."
                                        % (self.label, clean(e.description or e.error)
                                           or "not valid")) from e

    def _insecure(self):
        return ConfigurationError("The %s OAuth endpoints must use https." % self.label,
                                  code="insecure_transport")

    def _check_token_response(self, response):
        """Compliance hook, before oauthlib parses: a refusal (``invalid_grant``...), a
        redirect, throttling or an outage become typed errors, and a success must be a JSON
        object with an access token and well-typed fields."""
        status = response.status_code
        data = try_json(response.content)
        oauth_error = data.get("error") if isinstance(data, dict) else None
        if status in (400, 401) or (200 <= status < 300 and oauth_error):
            raise self._token_refusal(status, data, oauth_error)
        error = self._error_for(status, response.headers, response.content)
        if error is not None:
            raise error
        with reading(self.label):
            if not is_json(data):
                raise WrongShape("its token answer is %s"
                                 % ("empty" if not response.content.strip() else "not JSON"))
            _check_token_fields(obj(data, "its token answer"))
        return response

    def _token_refusal(self, status, data, oauth_error):
        code = clean(oauth_error, 60) or None
        description = clean(data.get("error_description")) if isinstance(data, dict) else ""
        if code == "invalid_grant":
            return InvalidGrantError("%s no longer accepts this authorization (%s)."
                                     % (self.label, description or "invalid_grant"),
                                     code="invalid_grant", status=status)
        if code == "invalid_client" or (status == 401 and not code):
            return ConfigurationError("%s rejected the app's client id or secret."
                                      % self.label, code="invalid_client", status=status)
        if not code:
            return self._refusal(status, data, None, None)
        return ProviderError("%s refused the token request: %s"
                             % (self.label, description or code), code=code, status=status)

    def revoke(self, token):
        """Revoke the authorization at the provider."""
        raise NotImplementedError

    def identity(self, tokens):
        """The remote login that authorized (e-mail and subject)."""
        raise NotImplementedError

    def companies(self, tokens, callback_params):
        """The remote companies this authorization gives access to."""
        raise NotImplementedError

    def company_info(self, tokens, company_id):
        """Read the remote company (name...) with the access token: a cheap live check."""
        raise NotImplementedError

    def disconnect(self, tokens, company):
        """Drop this app's access to one company (Xero: ``DELETE /connections/{id}``)."""

    # -- the books: chart and writes (the rules live in each provider's *_sync module) --------

    def fetch_chart(self, tokens, company_id):
        """The remote company's accounts, taxes, country and home currency (a ``Chart``)."""
        writer = self._writer(tokens, self.check_company_id(company_id))
        with reading(self.label):
            return writer.lookups.chart()

    def push(self, tokens, company_id, records):
        """Create or update ``records`` (one kind); one WriteResult per record, same order.
        A record whose answer cannot be read fails with code ``bad_answer``: its outcome is
        unknown, as with ``no_answer`` (:attr:`.documents.WriteResult.outcome_unknown`)."""
        company_id = self.check_company_id(company_id)
        if not records:
            return []
        return self._writer(tokens, company_id).push(records)

    def void(self, tokens, company_id, kind, remote_id, remote_version=None):
        """Void (or, where the provider has no void, delete) a document, payment or
        journal entry."""
        writer = self._writer(tokens, self.check_company_id(company_id))
        return writer.void(kind, remote_id, remote_version)

    def deactivate(self, tokens, company_id, kind, remote_id, remote_version=None):
        """Make a customer, vendor or product inactive (archived, or deleted for Xero items)."""
        writer = self._writer(tokens, self.check_company_id(company_id))
        return writer.deactivate(kind, remote_id, remote_version)

    def _writer(self, tokens, company_id):
        """The provider's writer for one company and one call."""
        raise NotImplementedError


def _check_token_fields(data):
    """What TokenSet.from_response and oauthlib read from a token answer, well typed."""
    text(data.get("access_token"), "its access token", required=True)
    for name in ("refresh_token", "id_token", "token_type"):
        text(data.get(name), "its " + name)
    for name in ("expires_in", "x_refresh_token_expires_in"):
        value = number(data.get(name), "its " + name)
        if value is not None and not (value == value.to_integral_value()
                                      and 0 <= value <= MAX_TOKEN_LIFETIME):
            raise WrongShape("its %s is not a whole number of seconds" % name)
    scope = data.get("scope")
    if scope is not None and not isinstance(scope, str) and not (
            isinstance(scope, list) and all(isinstance(s, str) for s in scope)):
        raise WrongShape("its scope is %s, not a text" % kind_of(scope))


def _positive(value, default):
    """A positive number, else ``default``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return default
    return value


def _retry_after(response_or_headers):
    headers = getattr(response_or_headers, "headers", response_or_headers) or {}
    try:
        return min(86400, max(1, int(float(headers.get("Retry-After") or 60))))
    except (TypeError, ValueError, OverflowError):
        return 60

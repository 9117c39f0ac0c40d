"""What every OAuth provider adapter shares: token sets, the OAuth dance, one HTTP seam."""
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
from requests_oauthlib import OAuth2Session

from .errors import (
    AuthorizationError,
    ConfigurationError,
    InvalidGrantError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from .rate_limits import pacer_for

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30  # seconds, every outbound call
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
        expires_in = int(data.get("expires_in") or 0)
        refresh_in = data.get("x_refresh_token_expires_in") or refresh_ttl
        scope = data.get("scope") or ()
        if isinstance(scope, str):
            scope = scope.split()
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
            refresh_expires_at=now + timedelta(seconds=int(refresh_in)) if refresh_in else None,
            id_token=data.get("id_token"),
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
    at ``base_url``).
    """

    code = None
    label = None
    uses_pkce = False
    access_ttl = 3600          # seconds, what the provider documents
    default_refresh_ttl = None  # seconds, when the token response does not say
    ENDPOINTS = {}              # environment -> {authorize, token, revoke, ...}
    RATE_LIMITS = ()            # the published limits per remote company (rate_limits.Rate)

    def __init__(self, client_id, client_secret, environment="production", base_url=None,
                 timeout=DEFAULT_TIMEOUT, time_scale=1.0):
        if not client_id or not client_secret:
            raise ConfigurationError(
                "The %s app's client id and client secret are not set." % self.label)
        self.client_id = client_id
        self.client_secret = client_secret
        self.environment = environment
        self.timeout = timeout
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

    # -- endpoints -------------------------------------------------------------------------

    def pacer(self, company_id):
        """The process-wide pacer of one remote company's API calls."""
        return pacer_for((self.code, self.endpoints["api"], str(company_id), self.time_scale),
                         self.RATE_LIMITS, time_scale=self.time_scale, label=self.label)

    @classmethod
    def local_endpoints(cls, base_url):
        raise NotImplementedError

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
        session = OAuth2Session(self.client_id, redirect_uri=redirect_uri,
                                scope=self.scopes(access_scope), state=state)
        with self._transport():
            url, _state = session.authorization_url(self.endpoints["authorize"], **extra)
        return url, verifier

    def exchange_code(self, code, redirect_uri, code_verifier=None):
        """Trade an authorization code for tokens."""
        session = OAuth2Session(self.client_id, redirect_uri=redirect_uri)
        extra = {"code_verifier": code_verifier} if code_verifier else {}
        data = self._token_call(session.fetch_token, self.endpoints["token"], code=code,
                                client_secret=self.client_secret, **extra)
        return TokenSet.from_response(data, refresh_ttl=self.default_refresh_ttl)

    def refresh(self, refresh_token):
        """Trade a refresh token for a new token set (the refresh token may rotate)."""
        if not refresh_token:
            raise InvalidGrantError("There is no refresh token: the connection was never "
                                    "authorized or its tokens were cleared.")
        session = OAuth2Session(self.client_id)
        data = self._token_call(session.refresh_token, self.endpoints["token"],
                                refresh_token=refresh_token)
        tokens = TokenSet.from_response(data, refresh_ttl=self.default_refresh_ttl)
        if not tokens.refresh_token:  # some providers only rotate now and then
            tokens.refresh_token = refresh_token
        return tokens

    def _token_call(self, method, url, **kwargs):
        auth = requests.auth.HTTPBasicAuth(self.client_id, self.client_secret)
        session = method.__self__
        session.register_compliance_hook("access_token_response", self._check_token_response)
        session.register_compliance_hook("refresh_token_response", self._check_token_response)
        try:
            with self._transport():
                return dict(method(url, auth=auth, timeout=self.timeout, **kwargs))
        except oauth_errors.InvalidGrantError as e:
            raise InvalidGrantError(
                "The provider no longer accepts this authorization (%s)."
                % (e.description or "invalid_grant"), code="invalid_grant", status=400) from e
        except oauth_errors.InvalidClientError as e:
            raise ConfigurationError(
                "The provider rejected the app's client id or secret.", code="invalid_client",
                status=401) from e
        except oauth_errors.OAuth2Error as e:
            raise ProviderError("The provider refused the token request: %s"
                                % (e.description or e.error), code=e.error,
                                status=e.status_code) from e
        except requests.RequestException as e:
            raise ProviderUnavailableError(
                "%s could not be reached: %s" % (self.label, e.__class__.__name__)) from e

    def _check_token_response(self, response):
        """Compliance hook: turn 429 and 5xx into typed errors before oauthlib parses."""
        if response.status_code == 429:
            raise RateLimitError("%s is throttling token requests." % self.label,
                                 retry_after=_retry_after(response), status=429)
        if response.status_code >= 500:
            raise ProviderUnavailableError(
                "%s's token endpoint failed (HTTP %s)." % (self.label, response.status_code),
                status=response.status_code)
        return response

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
        return self._writer(tokens, company_id).lookups.chart()

    def push(self, tokens, company_id, records):
        """Create or update ``records`` (one kind); one WriteResult per record, same order."""
        if not records:
            return []
        return self._writer(tokens, company_id).push(records)

    def void(self, tokens, company_id, kind, remote_id, remote_version=None):
        """Void (or, where the provider has no void, delete) a document, payment or
        journal entry."""
        return self._writer(tokens, company_id).void(kind, remote_id, remote_version)

    def deactivate(self, tokens, company_id, kind, remote_id, remote_version=None):
        """Make a customer, vendor or product inactive (archived, or deleted for Xero items)."""
        return self._writer(tokens, company_id).deactivate(kind, remote_id, remote_version)

    def _writer(self, tokens, company_id):
        """The provider's writer for one company and one call."""
        raise NotImplementedError

    # -- the one HTTP seam for plain calls --------------------------------------------------

    def _http(self, method, url, access_token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if access_token:
            headers["Authorization"] = "Bearer " + access_token
        headers.setdefault("Accept", "application/json")
        try:
            response = requests.request(method, url, headers=headers, timeout=self.timeout,
                                        **kwargs)
        except requests.RequestException as e:
            raise ProviderUnavailableError(
                "%s could not be reached: %s" % (self.label, e.__class__.__name__)) from e
        self._raise_for_status(response)
        return response

    def _raise_for_status(self, response):
        status = response.status_code
        if status < 400:
            return
        request_id = self._request_id(response.headers)
        if status == 401:
            raise AuthorizationError("%s refused the access token (HTTP 401)." % self.label,
                                     status=401, request_id=request_id)
        if status == 403:
            raise AuthorizationError(
                "%s refused access to this company (HTTP 403)." % self.label, forbidden=True,
                status=403, request_id=request_id)
        if status == 429:
            raise RateLimitError("%s is throttling requests." % self.label,
                                 retry_after=_retry_after(response), status=429,
                                 request_id=request_id)
        if status >= 500:
            raise ProviderUnavailableError(
                "%s is unavailable (HTTP %s)." % (self.label, status), status=status,
                request_id=request_id)
        raise ProviderError("%s answered HTTP %s: %s" % (self.label, status, response.text[:300]),
                            status=status, request_id=request_id)

    @staticmethod
    def _request_id(headers):
        return None


def _retry_after(response_or_headers):
    headers = getattr(response_or_headers, "headers", response_or_headers) or {}
    try:
        return max(1, int(float(headers.get("Retry-After") or 60)))
    except (TypeError, ValueError):
        return 60

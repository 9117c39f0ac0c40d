"""What every OAuth 2.0 provider adapter shares (``Capabilities.credentials == "oauth"``): the
app's client id and secret, the authorization URL (with PKCE where the provider uses it),
trading a code or a refresh token for a :class:`~.base.TokenSet` through requests-oauthlib,
and the token endpoint's refusals as typed errors."""
import base64
import hashlib
import secrets

import requests
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from . import transport
from .answers import WrongShape, clean, is_json, kind_of, number, obj, reading, text, try_json
from .base import DEFAULT_TIMEOUT, TokenSet
from .errors import ConfigurationError, InvalidGrantError, ProviderError, ProviderResponseError
from .http import HttpAdapter
from .transport import DEFAULT_MAX_RESPONSE_BYTES

MAX_TOKEN_LIFETIME = 10 * 366 * 86400  # seconds: more is not an answer


def pkce_pair():
    """A PKCE (S256) code verifier and its challenge."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


class OAuthAdapter(HttpAdapter):
    """Base class of the OAuth provider adapters: built from the app's ``client_id`` and
    ``client_secret`` (or a ``settings`` dict holding them, the way :func:`.get_adapter`
    passes the Odoo side's app settings), and the environment (:class:`.base.Adapter`)."""

    uses_pkce = False
    default_refresh_ttl = None  # seconds, when the token response does not say

    def __init__(self, client_id=None, client_secret=None, environment="production",
                 base_url=None, timeout=DEFAULT_TIMEOUT, time_scale=1.0,
                 max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES, settings=None):
        settings = dict(settings or {})
        if client_id is not None:
            settings["client_id"] = client_id
        if client_secret is not None:
            settings["client_secret"] = client_secret
        self.client_id = settings.get("client_id")
        self.client_secret = settings.get("client_secret")
        super().__init__(settings=settings, environment=environment, base_url=base_url,
                         timeout=timeout, time_scale=time_scale,
                         max_response_bytes=max_response_bytes)

    def _check_settings(self):
        if not self.client_id or not self.client_secret:
            raise ConfigurationError(code="client_credentials_missing",
                                     params={"provider": self.label})
        return super()._check_settings()

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
            raise InvalidGrantError(code="no_authorization_code", provider_code="invalid_grant")
        session = transport.OAuthSession(self.client_id, redirect_uri=redirect_uri)
        extra = {"code_verifier": code_verifier} if code_verifier else {}
        data = self._token_call(session.fetch_token, self.endpoints["token"], code=code,
                                client_secret=self.client_secret, **extra)
        return TokenSet.from_response(data, refresh_ttl=self.default_refresh_ttl)

    def refresh(self, refresh_token):
        """Trade a refresh token for a new token set (the refresh token may rotate)."""
        if not refresh_token:
            raise InvalidGrantError(code="no_refresh_token")
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
            raise ProviderResponseError(params={
                "provider": self.label, "problem": "its token answer cannot be used: %s" % (
                    clean(e.description or e.error) or "not valid")}) from e

    def _insecure(self):
        return ConfigurationError(code="insecure_transport", params={"provider": self.label})

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
        params = {"provider": self.label}
        if code == "invalid_grant":
            return InvalidGrantError(code="invalid_grant", provider_code="invalid_grant",
                                     status=status, params=dict(
                                         params, text=description or "invalid_grant"))
        if code == "invalid_client" or (status == 401 and not code):
            return ConfigurationError(code="invalid_client", provider_code=code, status=status,
                                      params=params)
        if not code:
            return self._refusal(status, data, None, None)
        return ProviderError(code="token_refused", provider_code=code, status=status,
                             params=dict(params, text=description or code))

    def revoke(self, token):
        """Revoke the authorization at the provider."""
        raise NotImplementedError

    def identity(self, tokens):
        """The remote login that authorized (e-mail and subject)."""
        raise NotImplementedError

    def companies(self, tokens, callback_params):
        """The remote companies this authorization gives access to."""
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

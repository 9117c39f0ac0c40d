"""OAuth 2.0 shared by both providers: grants, codes and tokens, the consent flow, client
authentication, the token endpoint skeleton, and the HS256 JWT of the id tokens.

A *grant* is one approval by one login for one client id (and the companies chosen then);
codes, access tokens and refresh tokens all point at their grant, so revoking the grant
kills every token issued from it.
"""
import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from . import pages
from .core import Abort, BadRequest, Provider, html_response, json_response, now, redirect

CODE_TTL = 600
LOGINS = ("alice@example.com", "bob@example.com")


class OAuthError(Abort):
    """An RFC 6749 error answer: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status, error, description=None):
        body = {"error": error}
        if description:
            body["error_description"] = description
        super().__init__(json_response(status, body))


def oauth_error_response(status, detail=None):
    """The generic OAuth error for a status (bad input, injected faults)."""
    if status == 401:
        error = "invalid_client"
    elif status in (429, 503):
        error = "temporarily_unavailable"
    elif status >= 500:
        error = "server_error"
    else:
        error = "invalid_request"
    return OAuthError(status, error, detail).response


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_hs256(claims, secret):
    """A compact JWT signed with HMAC-SHA256 (the sandbox signs id tokens with the client
    secret: there is no key pair to publish)."""
    def segment(data):
        return b64url(json.dumps(data, separators=(",", ":")).encode())
    signing_input = segment({"alg": "HS256", "typ": "JWT"}) + "." + segment(claims)
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def pkce_s256(verifier):
    return b64url(hashlib.sha256(verifier.encode()).digest())


def subject_id(provider, login):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, provider + ":" + login))


def person_names(login):
    """(given name, family name) from the e-mail's local part: john.smith -> John, Smith."""
    parts = [p for p in re.split(r"[._+-]+", login.partition("@")[0]) if p]
    return (parts[0].capitalize() if parts else login), " ".join(p.capitalize() for p in parts[1:])


def with_query(url, params):
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


# -- the store ----------------------------------------------------------------------------

@dataclass
class Grant:
    client_id: str
    login: str
    subject: str
    companies: list
    scope: list
    auth_time: float
    auth_event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    revoked: bool = False


@dataclass
class Code:
    grant: Grant
    redirect_uri: str
    challenge: str
    expires_at: float
    used: bool = False


@dataclass
class Token:
    value: str
    grant: Grant
    expires_at: float
    replaced_at: float = None  # refresh tokens: when a newer one was issued

    def alive(self, t):
        return not self.grant.revoked and t < self.expires_at


class Store:
    """Codes and tokens of one provider, by value."""

    def __init__(self):
        self.grants = []
        self.codes = {}
        self.access = {}
        self.refresh = {}

    def new_code(self, grant, redirect_uri, challenge):
        """A code for a new grant."""
        self.grants.append(grant)
        t = now()
        self.codes = {k: c for k, c in self.codes.items() if c.expires_at > t}
        value = secrets.token_urlsafe(32)
        self.codes[value] = Code(grant, redirect_uri, challenge, t + CODE_TTL)
        return value

    def take_code(self, value, client_id, redirect_uri, verifier):
        """The code's grant; the code is spent by any attempt of its own client."""
        code = self.codes.get(value or "")
        if code is None or code.grant.client_id != client_id:
            raise OAuthError(400, "invalid_grant")
        spent, code.used = code.used, True
        if spent or now() >= code.expires_at or redirect_uri != code.redirect_uri:
            raise OAuthError(400, "invalid_grant")
        if code.challenge and not (verifier and hmac.compare_digest(
                pkce_s256(verifier), code.challenge)):
            raise OAuthError(400, "invalid_grant")
        return code.grant

    def issue(self, grant, access_ttl, refresh_ttl=None):
        """A new access token, and a refresh token unless ``refresh_ttl`` is None."""
        t = now()
        access = Token(secrets.token_urlsafe(32), grant, t + access_ttl)
        self.access[access.value] = access
        refresh = None
        if refresh_ttl is not None:
            refresh = Token(secrets.token_urlsafe(32), grant, t + refresh_ttl)
            self.refresh[refresh.value] = refresh
        return access, refresh

    def use_refresh(self, value, client_id, window):
        """The grant of a usable refresh token, or None. A token stays usable for ``window``
        seconds after its first use (QBO's stale window, Xero's grace period)."""
        token = self.refresh.get(value or "")
        t = now()
        if token is None or token.grant.client_id != client_id or not token.alive(t):
            return None
        if token.replaced_at is None:
            token.replaced_at = t
        elif t >= token.replaced_at + window:
            return None
        return token.grant

    def grant_of(self, value, client_id):
        token = self.access.get(value) or self.refresh.get(value)
        if token is None or token.grant.client_id != client_id:
            return None
        return token.grant

    def expire_access_tokens(self):
        t = now()
        for token in self.access.values():
            token.expires_at = min(token.expires_at, t)


# -- the provider base --------------------------------------------------------------------

class OAuthProvider(Provider):
    """Consent, token and revocation logic common to QBO and Xero; subclasses give the
    wire details (paths, token answers, error shapes)."""

    multiple_companies = False  # Xero: one approval may connect several organisations
    reuse_window = None  # the setting: how long a used refresh token stays usable

    def reset(self):
        self.store = Store()

    def expire_access_tokens(self):
        self.store.expire_access_tokens()

    def revoke_all(self):
        for grant in self.store.grants:
            self.revoke(grant)

    def revoke(self, grant):
        grant.revoked = True

    # -- hooks ------------------------------------------------------------------------------

    def check_scope(self, scopes):
        """An error description if these scopes may not be requested, else None."""
        return None

    def approved(self, grant):
        """Called when a login approves (Xero creates its connections here)."""

    def callback_params(self, grant):
        """Extra parameters of the approval redirect (QBO realmId, Xero scope)."""
        raise NotImplementedError

    def deny_params(self):
        return {}

    def unauthorized(self, reason, token=None):
        """The 401 answer for a bad access token; ``reason`` is expired/revoked/invalid."""
        raise NotImplementedError

    def token_response(self, request, grant, client_secret, first):
        """The token endpoint's answer: ``first`` for a code exchange, else a refresh."""
        raise NotImplementedError

    def invalid_refresh(self):
        return OAuthError(400, "invalid_grant")

    # -- consent ------------------------------------------------------------------------------

    def authorize(self, request):
        """GET shows the consent page (or approves at once under auto_approve); POST is the
        page's form, which carries the original parameters as hidden inputs."""
        params = request.query.first_values()
        form = request.form() if request.method == "POST" else None
        if form is not None:
            params.update((k, v) for k, v in form.first_values().items()
                          if k not in ("login", "login_other", "company", "decision"))
        client_id, redirect_uri = params.get("client_id"), params.get("redirect_uri")
        parts = urlsplit(redirect_uri or "")
        if not client_id or parts.scheme not in ("http", "https") or not parts.netloc:
            raise Abort(self.page_error(400, "The request needs a client_id and an absolute "
                                             "http(s) redirect_uri."))
        state = {"state": params["state"]} if "state" in params else {}

        def back(**answer):
            return redirect(with_query(redirect_uri, {**answer, **state}))

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type")
        scopes = list(dict.fromkeys((params.get("scope") or "").split()))
        problem = "scope is required" if not scopes else self.check_scope(scopes)
        if problem:
            return back(error="invalid_scope", error_description=problem)
        challenge = params.get("code_challenge")
        if challenge and params.get("code_challenge_method") != "S256":
            return back(error="invalid_request",
                        error_description="code_challenge_method must be S256")
        auto = self.app.config["auto_approve"]
        if form is None and auto:
            return self._approve(params, scopes, auto["login"], auto["companies"], back)
        if form is None:
            return self.consent_page(params, client_id, scopes)
        decision = form.get("decision")
        if decision == "deny":
            return back(error="access_denied", **self.deny_params())
        if decision != "approve":
            raise BadRequest("decision must be approve or deny")
        login = (form.get("login_other") or "").strip() or (form.get("login") or "").strip()
        if not login:
            raise BadRequest("choose a login")
        chosen = form.getlist("company")
        if not chosen or not set(chosen) <= {c["id"] for c in self.companies()}:
            raise BadRequest("choose a company")
        return self._approve(params, scopes, login.lower(), chosen, back)

    def _approve(self, params, scopes, login, wanted, back):
        known = [c["id"] for c in self.companies()]
        companies = [c for c in wanted if c in known] or known[:1]
        if not self.multiple_companies:
            companies = companies[:1]
        grant = Grant(params["client_id"], login, subject_id(self.name, login), companies,
                      scopes, now())
        self.approved(grant)
        code = self.store.new_code(grant, params["redirect_uri"], params.get("code_challenge"))
        return back(code=code, **self.callback_params(grant))

    def consent_page(self, params, client_id, scopes):
        return html_response(200, pages.consent_page(
            self.label, client_id, scopes, params, self.companies(), LOGINS,
            self.multiple_companies))

    def page_error(self, status, message):
        return html_response(status, pages.error_page(self.label, status, message))

    # -- token, revocation, bearer ---------------------------------------------------------

    def client_credentials(self, request, form=None):
        """(client_id, client_secret) from Basic auth or the form fields; 401
        invalid_client if either is missing."""
        scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded, validate=True).decode(
                    "utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = secret = ""
        elif form is not None:
            client_id, secret = form.get("client_id"), form.get("client_secret")
        else:
            client_id = secret = None
        if not client_id or not secret:
            raise OAuthError(401, "invalid_client")
        return client_id, secret

    def token(self, request):
        response = self._token(request)
        response.headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
        return response

    def _token(self, request):
        form = request.form()
        client_id, secret = self.client_credentials(request, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.store.take_code(form.get("code"), client_id, form.get("redirect_uri"),
                                         form.get("code_verifier"))
            return self.token_response(request, grant, secret, first=True)
        if grant_type == "refresh_token":
            grant = self.store.use_refresh(form.get("refresh_token"), client_id,
                                           self.config(self.reuse_window))
            if grant is None:
                raise self.invalid_refresh()
            return self.token_response(request, grant, secret, first=False)
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        raise OAuthError(400, "unsupported_grant_type")

    def issue(self, grant, with_refresh=True):
        return self.store.issue(grant, self.config("access_ttl"),
                                self.config("refresh_ttl") if with_refresh else None)

    def authenticate(self, request):
        """The grant of the request's bearer token; raise Abort(401) if it is not valid."""
        token = self.store.access.get(request.bearer_token() or "")
        if token is None:
            raise Abort(self.unauthorized("invalid"))
        if token.grant.revoked:
            raise Abort(self.unauthorized("revoked", token))
        if not token.alive(now()):
            raise Abort(self.unauthorized("expired", token))
        return token.grant

    def id_token(self, request, grant, client_secret, claims):
        t = int(now())
        return jwt_hs256({"iss": self.issuer(request), "sub": grant.subject, "iat": t,
                          "exp": t + 300, "auth_time": int(grant.auth_time), **claims},
                         client_secret)

    def issuer(self, request):
        raise NotImplementedError

"""What every adapter that talks HTTP shares: its endpoints per environment, its pacer, the one
HTTP seam (:meth:`HttpAdapter._outbound` over :mod:`.transport`) and the one status ladder
(:meth:`HttpAdapter._error_for`: an HTTP status and body → the typed error, with its code)."""
import contextlib
import os
import threading
from urllib.parse import urlsplit

import requests

from . import transport
from .answers import is_json, join, pick, try_json
from .base import Adapter
from .errors import (
    AuthorizationError, ConfigurationError, ProviderError, ProviderResponseError,
    ProviderUnavailableError, RateLimitError,
)
from .rate_limits import pacer_for

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_insecure_lock = threading.Lock()


class HttpAdapter(Adapter):
    """An adapter whose provider answers over HTTP (see :class:`.base.Adapter`)."""

    ENDPOINTS = {}              # environment -> {authorize, token, revoke, api, ...}
    LOCAL_PATHS = {}            # the same endpoints' paths in the local provider sandbox
    RATE_LIMITS = ()            # the published limits per remote company (rate_limits.Rate)
    FORBIDDEN_CODE = "forbidden"  # the message code of a 403
    _unauthorized_code = None   # the provider's code of a 401 whose answer names none
    # Where an error answer's messages and code are (answers.pick paths): OAuth's own.
    MESSAGE_PATHS = (("error_description",), ("error",))
    CODE_PATHS = (("error",),)

    def __init__(self, settings=None, environment="production", base_url=None, **kwargs):
        super().__init__(settings=settings, environment=environment, base_url=base_url,
                         **kwargs)
        if environment == "local":
            if not base_url:
                raise ConfigurationError(code="base_url_missing")
            self.endpoints = self.local_endpoints(self.base_url)
        elif environment in self.ENDPOINTS:
            self.base_url = None
            self.endpoints = dict(self.ENDPOINTS[environment])
        else:
            raise ConfigurationError(code="unknown_environment",
                                     params={"environment": str(environment)})

    @classmethod
    def local_endpoints(cls, base_url):
        """The endpoints of the local provider sandbox at ``base_url``: its
        ``/<sandbox_code>`` and :attr:`LOCAL_PATHS`."""
        root = "%s/%s" % (base_url, cls.SANDBOX_CODE)
        return {name: root + path for name, path in cls.LOCAL_PATHS.items()}

    def pacer(self, company_id):
        """The process-wide pacer of one remote company's API calls."""
        return pacer_for((self.code, self.endpoints["api"], str(company_id), self.time_scale),
                         self.RATE_LIMITS, time_scale=self.time_scale, label=self.label)

    # -- the one HTTP seam -----------------------------------------------------------------

    def _is_loopback_http(self):
        parts = urlsplit(self.endpoints.get("token") or self.endpoints["api"])
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
                raise self.unreachable(e.__class__.__name__) from e

    def unreachable(self, reason):
        """The typed error of a call that could not reach the provider (``unreachable``)."""
        return ProviderUnavailableError(code="unreachable", params={
            "provider": self.label, "reason": reason})

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

    # -- the one status ladder -----------------------------------------------------------------

    def _error_for(self, status, headers, body):
        """None for a 2xx answer, else the typed error for it: 3xx ``redirect``, 401
        ``not_authorized``, 403 :attr:`FORBIDDEN_CODE`, 429 ``throttled``, 5xx
        ``unavailable``, another 4xx a refusal (:meth:`_refusal`); ``provider_code`` is the
        code the answer names (:attr:`CODE_PATHS`). The body is read for the provider's own
        message fields (:attr:`MESSAGE_PATHS`), never shown as such."""
        if 200 <= status < 300:
            return None
        headers = headers or {}
        data = try_json(body)
        known = is_json(data)
        code = (pick(data, *self.CODE_PATHS) or [None])[0] if known else None
        params = {"provider": self.label, "status": status}
        kwargs = {"status": status, "request_id": self._request_id(headers)}
        if 300 <= status < 400:
            error = ProviderResponseError(code="redirect", params=params, **kwargs)
        elif status == 401:
            error = AuthorizationError(code="not_authorized", params=params,
                                       provider_code=code or self._unauthorized_code, **kwargs)
        elif status == 403:
            error = AuthorizationError(code=self.FORBIDDEN_CODE, params=params, forbidden=True,
                                       provider_code=code, **kwargs)
        elif status == 429:
            error = self._throttled(headers, code, kwargs)
        elif status >= 500:
            error = ProviderUnavailableError(code="unavailable", params=params,
                                             provider_code=code, **kwargs)
        else:
            return self._refusal(status, data, code, kwargs["request_id"])
        if known:
            error.answer = data
        return error

    def _refusal(self, status, data, code, request_id):
        """A 4xx that is about the request (or a 200 holding an error): the provider's
        message, picked and cleaned (``request_refused``, ``request_refused_silently``); a
        body that is not JSON is said to be so (``request_refused_not_json``)."""
        params = {"provider": self.label, "status": status}
        if not is_json(data):
            message_code = "request_refused_not_json"
        else:
            messages = pick(data, *self.MESSAGE_PATHS)
            message_code = "request_refused" if messages else "request_refused_silently"
            if messages:
                params["text"] = join(messages)
        error = ProviderError(code=message_code, params=params, provider_code=code,
                              status=status, request_id=request_id)
        if is_json(data):
            error.answer = data
        return error

    def _throttled(self, headers, code, kwargs):
        """The RateLimitError of a 429 (``throttled``), waiting its ``Retry-After``."""
        seconds = retry_after(headers)
        return RateLimitError(code="throttled", retry_after=seconds, provider_code=code,
                              params={"provider": self.label, "seconds": seconds}, **kwargs)

    @staticmethod
    def _request_id(_headers):
        """What support asks for, from an answer's headers."""
        return None


def retry_after(response_or_headers):
    """Seconds a 429's ``Retry-After`` asks for (1 to 86,400; 60 when it says nothing
    usable)."""
    headers = getattr(response_or_headers, "headers", response_or_headers) or {}
    try:
        return min(86400, max(1, int(float(headers.get("Retry-After") or 60))))
    except (TypeError, ValueError, OverflowError):
        return 60

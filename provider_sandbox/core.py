"""The provider-independent machinery: clock, configuration, requests and responses, the
routing table, fault injection, the call log and the HTTP server.

Every piece of mutable state is guarded by ``App.lock`` (one re-entrant lock): the HTTP
handler threads hold it for the whole of a request except an injected delay and the sending
of the answer (a dripped one may take long), and the public methods take it too, so handlers
never need to lock anything themselves.
"""
import itertools
import json
import random
import re
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

MAX_BODY = 10 * 1024 * 1024
MAX_FAULT_BODY = 64 * 1024 * 1024  # a fault's body_size, for a huge answer
REDIRECTS = range(301, 309)
CALL_LOG_SIZE = 10000
FAULT_SEED = 1234
# Request fields that hold secrets: the call log shows them as REDACTED, never their value.
SECRET_FIELDS = frozenset({"code", "code_verifier", "token", "access_token", "refresh_token",
                           "id_token", "client_secret"})
REDACTED = "<redacted>"

DEFAULT_CONFIG = {
    "qbo_access_ttl": 3600,
    "qbo_refresh_ttl": 8726400,  # what Intuit sends: 101 days
    "qbo_stale_window": 86400,
    "xero_access_ttl": 1800,
    "xero_refresh_ttl": 60 * 86400,
    "xero_refresh_grace": 1800,
    "auto_approve": None,
    "rate_limits": False,  # enforce the providers' published rate limits (limits.py)
    "time_scale": 1.0,     # a limit's "minute" lasts 60 / time_scale real seconds
    "clock_offset": 0,     # seconds added to the real time: the sandbox clock (now())
    "cdc_max_objects": 1000,  # QBO Change Data Capture: objects per answer, all entities
    # webhooks (webhooks.py): where and how the providers' events are delivered
    "webhook_url_qbo": None,
    "webhook_url_xero": None,
    "webhook_key_qbo": None,   # QBO's verifier token
    "webhook_key_xero": None,  # Xero's webhook key
    "qbo_webhook_format": "cloudevents",  # or "legacy" (eventNotifications)
    "webhook_delivery": "manual",  # or "auto": a background thread delivers and retries
    "webhook_faults": [],      # of WEBHOOK_FAULTS
    "webhook_timeout": None,   # seconds; None = the provider's (QBO 3, Xero 5)
}
WEBHOOK_FAULTS = ("bad_signature", "duplicate", "out_of_order", "multi_realm")
WEBHOOK_HOSTS = ("127.0.0.1", "localhost")
_CLOCK = {"offset": 0.0}  # the clock_offset in force (one clock per process)


def now():
    """The sandbox clock, in seconds since the epoch: every expiry and every stamp the
    sandbox writes is computed from it. ``clock_offset`` moves it away from the real time
    (one clock per process: the last sandbox configured sets it)."""
    return time.time() + _CLOCK["offset"]


def set_clock_offset(seconds):
    _CLOCK["offset"] = float(seconds)


def validate_config(changes):
    """Return ``changes`` checked and normalised; raise ValueError on a bad key or value."""
    clean = {}
    for key, value in changes.items():
        if key not in DEFAULT_CONFIG:
            raise ValueError("unknown setting %r (known: %s)" % (key, ", ".join(DEFAULT_CONFIG)))
        if key == "auto_approve":
            clean[key] = _auto_approve(value)
        elif key == "rate_limits":
            if not isinstance(value, bool):
                raise ValueError("rate_limits must be true or false")
            clean[key] = value
        elif key == "time_scale":
            if not _is_number(value) or not 0 < value < float("inf"):
                raise ValueError("time_scale must be a number > 0")
            clean[key] = float(value)
        elif key == "clock_offset":
            if not _is_number(value) or not abs(value) < 100 * 365 * 86400:
                raise ValueError("clock_offset must be a number of seconds (may be negative)")
            clean[key] = value
        elif key == "cdc_max_objects":
            if not _is_number(value, integer=True) or value < 1:
                raise ValueError("cdc_max_objects must be a whole number >= 1")
            clean[key] = value
        elif key.startswith("webhook_") or key == "qbo_webhook_format":
            clean[key] = _webhook_setting(key, value)
        elif not _is_number(value) or value < 0:
            raise ValueError("%s must be a number of seconds >= 0" % key)
        else:
            clean[key] = value
    return clean


def _is_number(value, integer=False):
    return isinstance(value, int if integer else (int, float)) and not isinstance(value, bool)


def _webhook_setting(key, value):
    """One webhook setting checked (see DEFAULT_CONFIG)."""
    if key in ("webhook_url_qbo", "webhook_url_xero"):
        if value is None:
            return None
        parts = urlsplit(value) if isinstance(value, str) else None
        if not parts or parts.scheme not in ("http", "https") or (
                parts.hostname or "").lower() not in WEBHOOK_HOSTS:
            raise ValueError("%s must be None or an http(s) URL on %s"
                             % (key, " or ".join(WEBHOOK_HOSTS)))
        return value
    if key in ("webhook_key_qbo", "webhook_key_xero"):
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError("%s must be None or a non-empty string" % key)
        return value
    if key == "qbo_webhook_format":
        if value not in ("legacy", "cloudevents"):
            raise ValueError('qbo_webhook_format must be "legacy" or "cloudevents"')
        return value
    if key == "webhook_delivery":
        if value not in ("manual", "auto"):
            raise ValueError('webhook_delivery must be "manual" or "auto"')
        return value
    if key == "webhook_faults":
        return webhook_faults(value)
    if value is not None and (not _is_number(value) or not 0 < value <= 60):  # timeout
        raise ValueError("webhook_timeout must be None or a number of seconds in (0, 60]")
    return value


def webhook_faults(value):
    """A list of webhook fault names (None = none); ValueError on an unknown one."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError("webhook_faults must be a list of %s" % ", ".join(WEBHOOK_FAULTS))
    unknown = [v for v in value if v not in WEBHOOK_FAULTS]
    if unknown:
        raise ValueError("unknown webhook fault %s (known: %s)"
                         % (", ".join(unknown), ", ".join(WEBHOOK_FAULTS)))
    return list(dict.fromkeys(value))


def _auto_approve(value):
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"login", "companies"}:
        raise ValueError('auto_approve must be None or {"login": ..., "companies": [...]}')
    login = value.get("login")
    if not isinstance(login, str) or not login.strip():
        raise ValueError("auto_approve needs a non-empty login")
    companies = value.get("companies") or []
    if not isinstance(companies, list) or not all(isinstance(c, str) for c in companies):
        raise ValueError("auto_approve companies must be a list of company ids")
    return {"login": login.strip().lower(), "companies": list(companies)}


# -- requests and responses ---------------------------------------------------------------

class BadRequest(Exception):
    """Malformed input: answered 400 in the provider's error shape."""


class Abort(Exception):
    """Raised by a handler to answer at once with ``response``."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


class Params:
    """Decoded ``a=1&b=2`` pairs (a query string or a form body); a repeated name keeps
    every value."""

    def __init__(self, text):
        try:
            self.pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError) as e:
            raise BadRequest("malformed parameters") from e

    def get(self, name, default=None):
        return next((value for key, value in self.pairs if key == name), default)

    def getlist(self, name):
        return [value for key, value in self.pairs if key == name]

    def first_values(self):
        values = {}
        for key, value in self.pairs:
            values.setdefault(key, value)
        return values


class Request:
    def __init__(self, method, target, headers, body, host):
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query_string = parts.query
        self.headers = headers
        self.body = body
        self.host = headers.get("Host") or host
        self.args = {}  # named groups of the matched route

    @property
    def base_url(self):
        """This server's URL as the client addressed it (for absolute URLs in answers)."""
        return "http://" + self.host

    @property
    def query(self):
        return Params(self.query_string)

    def text(self):
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise BadRequest("the body is not UTF-8") from e

    def form(self):
        content_type = (self.headers.get("Content-Type") or "").lower()
        if self.body and not content_type.startswith("application/x-www-form-urlencoded"):
            raise BadRequest("expected an application/x-www-form-urlencoded body")
        return Params(self.text())

    def json(self):
        try:
            return json.loads(self.text())
        except (ValueError, RecursionError) as e:
            raise BadRequest("the body is not valid JSON") from e

    def bearer_token(self):
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def loggable(self):
        """Query string, tenant, idempotency key and grant type for the call log."""
        try:
            query = self.query.first_values()
        except BadRequest:
            query = {}
        try:
            grant_type = self.form().get("grant_type") if self.method == "POST" else None
        except BadRequest:
            grant_type = None
        return {
            "query": {k: REDACTED if k in SECRET_FIELDS else v for k, v in query.items()},
            "grant_type": grant_type,
            "tenant": self.headers.get("xero-tenant-id"),
            "idempotency_key": self.headers.get("Idempotency-Key") or query.get("requestid"),
        }


@dataclass
class Response:
    """An answer. ``drip`` > 0 sends the body ``drip_bytes`` at a time, ``drip`` seconds
    apart (a slow-drip server); ``chunked`` sends it with ``Transfer-Encoding: chunked``
    instead of a Content-Length."""

    status: int
    body: bytes = b""
    headers: dict = None
    drip: float = 0.0
    drip_bytes: int = 1
    chunked: bool = False
    close: bool = False  # send nothing: close the connection without an answer

    def __post_init__(self):
        self.headers = dict(self.headers or {})


def json_response(status, data, headers=None):
    response = Response(status, json.dumps(data).encode(), headers)
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    return response


def html_response(status, text, headers=None):
    response = Response(status, text.encode(), headers)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def redirect(location):
    return Response(302, b"", {"Location": location})


class Route:
    """``pattern`` is a regular expression matched (case-insensitively) against the whole
    path; its named groups land in ``request.args``. ``kind`` picks the error shape
    ("api", "oauth" or "page") for bad input and injected faults. ``locked=False`` (control
    routes only) runs the handler without holding the lock: for controls that wait on
    something else (webhook deliveries, whose receiver may call the sandbox back)."""

    def __init__(self, method, pattern, handler, kind="api", locked=True):
        self.method = method
        self.regex = re.compile(pattern, re.IGNORECASE)
        self.handler = handler
        self.kind = kind
        self.locked = locked


class Provider:
    """One provider's routes, seed data and error shapes. ``App`` calls ``reset`` under its
    lock at start and on every reset; handlers run under the lock too."""

    name = None    # "qbo", "xero": the provider argument of the public API
    prefix = None  # every path of this provider starts with it
    label = None

    def __init__(self, app):
        self.app = app

    def config(self, key):
        return self.app.config[self.name + "_" + key]

    def reset(self):
        raise NotImplementedError

    def routes(self):
        raise NotImplementedError

    def endpoints(self, base_url):
        """{title: absolute URL} of the main endpoints, for the index page."""
        raise NotImplementedError

    def companies(self):
        """[{"id", "name"}] of the seeded companies, the default one first."""
        raise NotImplementedError

    def error(self, kind, status, detail=None):
        """A response in this provider's error shape; ``detail`` None = a default text."""
        raise NotImplementedError

    def decorate(self, request, response):
        """Add the headers this provider puts on every response (trace ids...)."""

    def api_company(self, request):
        """The company an accounting API request is for (counted and rate limited), else
        None (OAuth and identity endpoints)."""
        return None

    def enter(self, request):
        """A request arrives (before any injected delay; under the lock): count it and hold
        a concurrency slot for its company."""
        company = self.api_company(request)
        if company is not None:
            self.api_calls[company] = self.api_calls.get(company, 0) + 1
            self.limiter.enter(company)

    def leave(self, request):
        company = self.api_company(request)
        if company is not None:
            self.limiter.leave(company)

    def expire_access_tokens(self):
        raise NotImplementedError

    def revoke_all(self):
        raise NotImplementedError


# -- fault injection ----------------------------------------------------------------------

@dataclass
class Fault:
    id: int
    status: int = 500
    provider: str = None
    path_contains: str = ""
    method: str = None
    times: int = 1
    rate: float = None
    retry_after: int = None
    delay: float = 0.0
    body: object = None
    drip: float = 0.0
    drip_bytes: int = 1
    body_size: int = None
    chunked: bool = False
    location: str = None
    content_type: str = None
    lose_answer: bool = False
    close: bool = False

    def __post_init__(self):
        def check(ok, message):
            if not ok:
                raise ValueError(message)
        check(self.status is None or (_is_number(self.status, integer=True)
                                      and (self.status == 200 or self.status in REDIRECTS
                                           or 400 <= self.status <= 599)),
              "status must be None, 200, a redirect 301-308 or an HTTP error status 400-599")
        check(self.status != 200 or self.body is not None,
              "status 200 needs a body (it replaces the answer)")
        check((self.location is not None) == (self.status in REDIRECTS),
              "a redirect status 301-308 needs a location, and only a redirect has one")
        check(self.location is None or (isinstance(self.location, str) and self.location
                                        and not re.search(r"[\x00-\x1f\x7f]", self.location)),
              "location must be a URL without control characters")
        check(_is_number(self.drip) and 0 <= self.drip <= 60,
              "drip must be a number of seconds between 0 and 60")
        check(_is_number(self.drip_bytes, integer=True) and 1 <= self.drip_bytes <= MAX_BODY,
              "drip_bytes must be a whole number of bytes >= 1")
        check(self.body_size is None or (_is_number(self.body_size, integer=True)
                                         and 0 <= self.body_size <= MAX_FAULT_BODY),
              "body_size must be None or a number of bytes between 0 and %d" % MAX_FAULT_BODY)
        check(isinstance(self.chunked, bool), "chunked must be true or false")
        check(self.content_type is None or (isinstance(self.content_type, str)
                                            and re.fullmatch(r"[\w.+-]+/[\w.+-]+(;[ -~]*)?",
                                                             self.content_type)),
              "content_type must be None or a media type")
        check(isinstance(self.path_contains, str), "path_contains must be a string")
        check(self.method is None or isinstance(self.method, str),
              "method must be None or an HTTP method")
        self.method = self.method.upper() if self.method else None
        if self.rate is not None:
            check(_is_number(self.rate) and 0 <= self.rate <= 1,
                  "rate must be a probability between 0 and 1")
            self.times = None  # a rate replaces the count
        check(self.times is None or (_is_number(self.times, integer=True) and self.times > 0),
              "times must be None or a positive integer")
        check(self.retry_after is None or (_is_number(self.retry_after, integer=True)
                                           and self.retry_after >= 0),
              "retry_after must be None or a whole number of seconds >= 0")
        check(_is_number(self.delay) and 0 <= self.delay <= 600,
              "delay must be a number of seconds between 0 and 600")
        check(isinstance(self.lose_answer, bool), "lose_answer must be true or false")
        check(isinstance(self.close, bool), "close must be true or false")
        check(not self.close or (self.status is None and self.body is None and not self.drip
                                 and self.body_size is None and not self.chunked
                                 and self.content_type is None),
              "close sends no answer: it takes no status, body, drip, body_size, chunked or "
              "content_type")
        check(not self.lose_answer or self.status is not None or self.delay or self.close,
              "lose_answer needs what happens to the answer: a status (it replaces the "
              "answer), a delay (the answer comes that late) or close (no answer)")
        check(self.status is not None or self.delay or self.drip or self.body_size is not None
              or self.chunked or self.close, "a fault needs a status, a delay, a drip, a "
              "body_size, chunked or close")
        try:
            json.dumps(self.body)
        except (TypeError, ValueError) as e:
            raise ValueError("body must be None, a string or JSON-serialisable data") from e

    def applies(self, provider, request, rng):
        if self.provider not in (None, provider):
            return False
        if self.method not in (None, request.method) or self.path_contains not in request.path:
            return False
        return self.rate is None or rng.random() < self.rate


# -- the application ----------------------------------------------------------------------

class App:
    """The state and the request dispatcher, without the server (see ``sandbox.Sandbox``)."""

    def __init__(self, provider_classes, verbose=False):
        from .changes import ChangeLog  # they import this module
        from .webhooks import Webhooks
        self.lock = threading.RLock()
        self.verbose = verbose
        self.changes = ChangeLog()
        self.webhooks = Webhooks(self)
        self.changes.listeners.append(self.webhooks.on_change)
        self.providers = {cls.name: cls(self) for cls in provider_classes}
        self.routes = [(p, route) for p in self.providers.values() for route in p.routes()]
        self.reset()

    def add_routes(self, routes):
        """Routes outside the providers (control, index): no faults, not logged."""
        self.routes += [(None, route) for route in routes]

    # -- state ------------------------------------------------------------------------------

    def reset(self):
        self.webhooks.halt()  # the auto-delivery thread ends first (it takes the lock)
        with self.lock:
            self.config = dict(DEFAULT_CONFIG, webhook_faults=[])
            set_clock_offset(0)
            self.changes.clear()
            self.webhooks.reset()
            self.faults = []
            self.fault_ids = itertools.count(1)
            self.rng = random.Random(FAULT_SEED)
            self.call_log = deque(maxlen=CALL_LOG_SIZE)
            for provider in self.providers.values():
                provider.reset()

    def configure(self, **changes):
        clean = validate_config(changes)
        with self.lock:
            self.config.update(clean)
            if "clock_offset" in clean:
                set_clock_offset(clean["clock_offset"])
            self.webhooks.configured()
            return dict(self.config, webhook_faults=list(self.config["webhook_faults"]))

    def add_fault(self, status=500, provider=None, path_contains="", method=None, times=1,
                  rate=None, retry_after=None, delay=0.0, body=None, drip=0.0, drip_bytes=1,
                  body_size=None, chunked=False, location=None, content_type=None,
                  lose_answer=False, close=False):
        self.provider_names(provider)
        with self.lock:
            fault = Fault(0, status, provider, path_contains, method, times, rate, retry_after,
                          delay, body, drip, drip_bytes, body_size, chunked, location,
                          content_type, lose_answer, close)
            fault.id = next(self.fault_ids)
            self.faults.append(fault)
            return fault.id

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def calls(self, provider=None, path_contains=None, grant_type=None, method=None):
        with self.lock:
            return [dict(call, query=dict(call["query"])) for call in self.call_log
                    if provider in (None, call["provider"])
                    and (not path_contains or path_contains in call["path"])
                    and grant_type in (None, call["grant_type"])
                    and (method is None or method.upper() == call["method"])]

    def expire_access_tokens(self, provider=None):
        with self.lock:
            for name in self.provider_names(provider):
                self.providers[name].expire_access_tokens()

    def revoke_all(self, provider=None):
        with self.lock:
            for name in self.provider_names(provider):
                self.providers[name].revoke_all()

    def companies(self, provider):
        if provider not in self.providers:
            raise ValueError("provider must be one of %s" % ", ".join(self.providers))
        return self.providers[provider].companies()

    def provider_names(self, provider):
        if provider is None:
            return list(self.providers)
        if provider not in self.providers:
            raise ValueError("provider must be None or one of %s" % ", ".join(self.providers))
        return [provider]

    # -- dispatch ---------------------------------------------------------------------------

    def dispatch(self, request):
        provider = next((p for p in self.providers.values()
                         if request.path.lower().startswith(p.prefix + "/")), None)
        route, others = self._match(request)
        kind = (route or others[0]).kind if route or others else "api"
        if provider:
            with self.lock:
                provider.enter(request)
        try:
            return self._respond(provider, route, others, kind, request)
        finally:
            if provider:
                with self.lock:
                    provider.leave(request)

    def _respond(self, provider, route, others, kind, request):
        """The answer to one request, faults applied. A fault's ``delay`` comes first — after
        the work with ``lose_answer`` — and its status, or ``close``, stands in for the
        answer: instead of the work, or with ``lose_answer`` once the work is done."""
        if provider is None and route is not None and not route.locked:
            return self._run(provider, route, others, kind, request)  # it locks itself
        fault = None
        if provider:
            with self.lock:
                fault = next((f for f in self.faults
                              if f.applies(provider.name, request, self.rng)), None)
                if fault and fault.times:
                    fault.times -= 1
                    if not fault.times:
                        self.faults.remove(fault)
            if fault and fault.delay and not fault.lose_answer:
                time.sleep(fault.delay)
        with self.lock:
            if fault and (fault.status or fault.close) and not fault.lose_answer:
                response = self._fault_response(provider, kind, fault)
            else:
                response = self._run(provider, route, others, kind, request)
                if fault and (fault.status or fault.close):  # the work is done, its answer lost
                    response = self._fault_response(provider, kind, fault)
            if fault:
                self._shape_response(response, fault)
            if provider:
                provider.decorate(request, response)
                self.call_log.append(dict(
                    provider=provider.name, method=request.method, path=request.path,
                    status=None if response.close else response.status, time=now(),
                    fault=bool(fault and (fault.status or fault.close)),
                    answer_lost=bool(fault and fault.lose_answer), **request.loggable()))
        if fault and fault.delay and fault.lose_answer:
            time.sleep(fault.delay)
        return response

    def _match(self, request):
        """(the route, []) or (None, the routes of this path for other methods)."""
        others = []
        for _provider, route in self.routes:
            match = route.regex.fullmatch(request.path)
            if match and route.method == request.method:
                request.args = match.groupdict()
                return route, []
            if match:
                others.append(route)
        return None, others

    def _run(self, provider, route, others, kind, request):
        if route is None and others:
            response = self._error(provider, kind, 405, "method not allowed here")
            response.headers["Allow"] = ", ".join(r.method for r in others)
            return response
        if route is None:
            return self._error(provider, kind, 404, "no such endpoint: %s" % request.path)
        try:
            return route.handler(request)
        except Abort as e:
            return e.response
        except BadRequest as e:
            return self._error(provider, kind, 400, str(e))
        except Exception:  # a sandbox bug: say so, but answer
            traceback.print_exc(file=sys.stderr)
            return self._error(provider, kind, 500, "internal sandbox error")

    @staticmethod
    def _error(provider, kind, status, detail):
        if provider is None:
            return json_response(status, {"error": detail})
        return provider.error(kind, status, detail)

    @staticmethod
    def _fault_response(provider, kind, fault):
        if fault.close:
            return Response(0, close=True)
        if fault.status in REDIRECTS:
            response = Response(fault.status, b"", {"Location": fault.location})
        elif fault.status == 200:
            response = Response(200)
        else:
            response = provider.error(kind, fault.status)
        if fault.body is not None:
            if isinstance(fault.body, str):
                response.body = fault.body.encode()
                response.headers["Content-Type"] = "text/plain; charset=utf-8"
            else:
                response.body = json.dumps(fault.body).encode()
                response.headers["Content-Type"] = "application/json; charset=utf-8"
        if fault.status == 429 or fault.retry_after is not None:
            response.headers["Retry-After"] = str(
                60 if fault.retry_after is None else fault.retry_after)
        return response

    @staticmethod
    def _shape_response(response, fault):
        """What a fault does to any answer (its own or the real one): padding, content type,
        drip, chunking."""
        if fault.body_size is not None and len(response.body) < fault.body_size:
            # spaces: a JSON body stays valid JSON, only bigger
            response.body += b" " * (fault.body_size - len(response.body))
        if fault.content_type:
            response.headers["Content-Type"] = fault.content_type
        response.drip, response.drip_bytes = fault.drip, fault.drip_bytes
        response.chunked = fault.chunked

    def fault_list(self):
        with self.lock:
            return [asdict(fault) for fault in self.faults]


# -- the HTTP server ----------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server_version = "ProviderSandbox/1.0"
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds an idle keep-alive connection may hold a thread
    # headers and body are two writes: without TCP_NODELAY a keep-alive client (requests
    # sessions, urllib3 pools) waits ~40 ms for the delayed ACK on every answer
    disable_nagle_algorithm = True

    def _handle(self):
        try:
            if self.headers.get("Transfer-Encoding"):
                return self._send(Response(411, b"Content-Length required\n"), close=True)
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                return self._send(Response(400 if length < 0 else 413, b"bad body length\n"),
                                  close=True)
            body = self.rfile.read(length)
            host = "%s:%s" % self.server.server_address[:2]
            request = Request(self.command, self.path, self.headers, body, host)
            try:
                response = self.server.app.dispatch(request)
            except Exception:  # a sandbox bug outside any handler: still answer
                traceback.print_exc(file=sys.stderr)
                response = Response(500, b"internal sandbox error\n")
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def _send(self, response, close=False):
        if response.close:  # no answer at all: the client sees the connection closed
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(response.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not (response.drip or response.chunked):
            self.wfile.write(response.body)
            return
        size = response.drip_bytes if response.drip else 64 * 1024
        for start in range(0, len(response.body), size):
            if start and response.drip:
                self.wfile.flush()
                time.sleep(response.drip)
            piece = response.body[start:start + size]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if response.chunked
                             else piece)
        if response.chunked:
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            super().log_message(fmt, *args)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, app):
        self.app = app
        super().__init__(address, _Handler)

"""The one transport under every outbound call: a total deadline, a size cap, no redirects.

``timeout=`` in requests and urllib3 bounds each socket operation, not a call: a server
sending a byte every few seconds holds a call as long as it likes. Here a call runs inside a
:class:`Guard` (``with Guard(label, timeout, max_bytes):``):

* **Deadline.** Every socket our connection classes open or reuse while a guard is active
  in the calling thread is registered with it (a duplicate of its descriptor, so that a
  socket the library closes meanwhile can never be confused with a new one); a watchdog
  ``threading.Timer`` shuts them all down at the deadline, which ends any blocking connect,
  TLS handshake, send or read at once. When the guard closes, the watchdog is cancelled and
  joined (no thread is left behind) and, if the deadline passed, whatever the call raised
  or returned becomes a :class:`ProviderUnavailableError` ("… did not answer within N
  seconds"). Connects never wait longer than the time left either. The guard lives in a
  thread-local, so each Odoo worker thread has its own; nothing is patched globally. (DNS
  resolution cannot be interrupted this way; the system resolver's own timeout bounds it.)
* **Size.** The response class refuses a body larger than ``max_bytes`` — by its
  Content-Length before reading, or while reading (after decompression), never holding more
  than the limit and one piece in memory — with a :class:`ProviderResponseError`
  (``too_large``).
* **No redirects.** Sessions made here never follow a redirect (requests
  ``allow_redirects=False`` is forced on every send; the urllib3 pool manager forces
  ``redirect=False`` and no retries): a 3xx reaches the adapter as an answer, which makes
  it an error, so the Authorization header, client secret and tokens never reach another
  address.

Mount it with :func:`session` / :class:`OAuthSession` (requests, requests-oauthlib,
python-quickbooks' session) and :func:`pool_manager` (xero-python's urllib3 pool manager).
The hooks are urllib3 1.26's (``HTTPConnection._new_conn``/``request``,
``HTTPResponse.read``/``_decode``, ``pool_classes_by_scheme``). A SOCKS proxy, which urllib3
serves with connection classes of its own, is not guarded.
"""
import logging
import socket
import threading
import time

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth2Session
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.response import HTTPResponse
from urllib3.util.connection import allowed_gai_family
from urllib3.util.response import is_fp_closed

from .errors import ProviderResponseError, ProviderUnavailableError

_logger = logging.getLogger(__name__)
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
READ_PIECE = 64 * 1024
WATCHDOG_NAME = "accounting-sync-deadline"
_local = threading.local()


def current():
    """The guard active in this thread, or None."""
    return getattr(_local, "guard", None)


def _seconds(value):
    """A number of seconds as a short text: ``0.5``, ``30``."""
    return ("%.1f" % value).rstrip("0").rstrip(".")


def _size(value):
    for unit, size in (("MiB", 1048576), ("KiB", 1024)):
        if value >= size:
            return ("%.1f" % (value / size)).rstrip("0").rstrip(".") + " " + unit
    return "%d bytes" % value


class Guard:
    """One outbound call's limits: ``timeout`` seconds in total, ``max_bytes`` of body; a
    context manager (see the module docstring)."""

    def __init__(self, label, timeout, max_bytes=DEFAULT_MAX_RESPONSE_BYTES):
        self.label = label
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.expired = False
        self._lock = threading.Lock()
        self._watched = []
        self._previous = None
        self._deadline = None
        self._timer = None

    # -- the context --------------------------------------------------------------------------

    def __enter__(self):
        self._deadline = time.monotonic() + self.timeout
        self._timer = threading.Timer(self.timeout, self._expire)
        self._timer.daemon = True
        self._timer.name = WATCHDOG_NAME
        self._timer.start()
        self._previous = current()
        _local.guard = self
        return self

    def __exit__(self, exc_type, exc, traceback):
        _local.guard = self._previous
        self._timer.cancel()
        self._timer.join()
        with self._lock:
            watched, self._watched = self._watched, []
        for sock in watched:
            sock.close()
        if self.expired:
            raise self.timeout_error() from exc
        return False

    def timeout_error(self):
        return ProviderUnavailableError(code="timeout", params={
            "provider": self.label, "seconds": _seconds(self.timeout)})

    def too_large(self):
        return ProviderResponseError(code="too_large", params={
            "provider": self.label, "size": _size(self.max_bytes)})

    # -- sockets ------------------------------------------------------------------------------

    def remaining(self):
        return self._deadline - time.monotonic()

    def connect_timeout(self, timeout):
        """``timeout`` (a number or None) capped by the time left."""
        left = max(self.remaining(), 0.001)
        if not isinstance(timeout, (int, float)) or timeout > left:
            return left
        return timeout

    def watch(self, sock):
        """Shut ``sock`` down at the deadline (at once if it has passed)."""
        try:
            duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, ValueError):  # already closed
            return
        with self._lock:
            if not self.expired:
                self._watched.append(duplicate)
                return
        _shut(duplicate)
        duplicate.close()

    def _expire(self):
        with self._lock:
            self.expired = True
            watched = list(self._watched)
        for sock in watched:
            _shut(sock)


def _shut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError as e:  # not connected yet, or already closed by the other side
        _logger.debug("shutting a socket down at the deadline: %s", e)


# -- urllib3: connections, pools, responses ---------------------------------------------------

class _WatchedConnection:
    """Registers its socket with the active guard: on connect (before connecting, so that a
    connect that hangs is interrupted too) and on every request over a kept-alive socket."""

    def _new_conn(self):
        guard = current()
        if guard is None:
            return super()._new_conn()
        if guard.expired:
            raise guard.timeout_error()
        host = self._dns_host.strip("[]")
        error = None
        try:
            for family, kind, proto, _name, address in socket.getaddrinfo(
                    host, self.port, allowed_gai_family(), socket.SOCK_STREAM):
                sock = socket.socket(family, kind, proto)
                try:
                    guard.watch(sock)
                    for option in self.socket_options or ():
                        sock.setsockopt(*option)
                    sock.settimeout(guard.connect_timeout(self.timeout))
                    if self.source_address:
                        sock.bind(self.source_address)
                    sock.connect(address)
                    return sock
                except OSError as e:
                    error = e
                    sock.close()
                    if guard.expired:
                        break
            raise error or OSError("getaddrinfo returned no address")
        except socket.timeout as e:
            raise ConnectTimeoutError(self, "Connection to %s timed out." % self.host) from e
        except OSError as e:
            raise NewConnectionError(self, "Failed to establish a new connection: %s" % e) \
                from e

    def _watch_socket(self):
        guard = current()
        if guard is not None and self.sock is not None:
            guard.watch(self.sock)

    def request(self, *args, **kwargs):
        self._watch_socket()
        return super().request(*args, **kwargs)

    def request_chunked(self, *args, **kwargs):
        self._watch_socket()
        return super().request_chunked(*args, **kwargs)


class _HTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _CappedResponse(HTTPResponse):
    """Refuses a body larger than the active guard's ``max_bytes``: by Content-Length before
    reading; while reading, counting what every read (plain or chunked, decoded or not)
    yields; a whole-body read goes piece by piece."""

    _counted = 0

    def _limit(self):
        guard = current()
        return guard.max_bytes if guard is not None else None

    def _refuse(self):
        guard = current()
        self.close()
        raise guard.too_large()

    def read(self, amt=None, decode_content=None, cache_content=False):
        limit = self._limit()
        if limit is None or self._fp is None:
            return super().read(amt, decode_content, cache_content)
        if self._fp_bytes_read == 0 and (self.length_remaining or 0) > limit:
            self._refuse()
        if amt is not None:
            return super().read(amt, decode_content, cache_content)
        pieces = []
        while self._fp is not None and not is_fp_closed(self._fp):
            piece = super().read(READ_PIECE, decode_content)
            if piece:
                pieces.append(piece)
            elif self.length_remaining == 0 or self._fp is None or is_fp_closed(self._fp):
                break
        decode = self.decode_content if decode_content is None else decode_content
        if decode and self._decoder:
            pieces.append(self._decode(b"", True, True))
        data = b"".join(pieces)
        if cache_content:
            self._body = data
        return data

    def _decode(self, data, decode_content, flush_decoder):
        data = super()._decode(data, decode_content, flush_decoder)
        limit = self._limit()
        if limit is not None:
            self._counted += len(data)
            if self._counted > limit:
                self._refuse()
        return data


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection
    ResponseCls = _CappedResponse


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection
    ResponseCls = _CappedResponse


POOL_CLASSES = {"http": _HTTPPool, "https": _HTTPSPool}


class PoolManager(urllib3.PoolManager):
    """A urllib3 pool manager of guarded connections that never follows a redirect and never
    retries by itself (a retry is the caller's decision: a 429 must reach it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool_classes_by_scheme = POOL_CLASSES

    def urlopen(self, method, url, redirect=True, **kw):
        kw["retries"] = False
        return super().urlopen(method, url, redirect=False, **kw)


def pool_manager(like=None, **kwargs):
    """A :class:`PoolManager`; ``like``: an existing urllib3 pool manager whose settings
    (pool sizes, certificates) it takes."""
    if like is not None:
        kwargs = dict(like.connection_pool_kw, headers=like.headers, **kwargs)
    return PoolManager(**kwargs)


# -- requests -------------------------------------------------------------------------------

class _GuardedAdapter(HTTPAdapter):
    """requests' transport adapter over the guarded pools (proxies too, except SOCKS)."""

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        result = super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = POOL_CLASSES
        return result

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = POOL_CLASSES
        return manager


class _NoRedirects:
    """A requests session over the guarded adapter that never follows a redirect."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adapter = _GuardedAdapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request, **kwargs):
        kwargs["allow_redirects"] = False
        return super().send(request, **kwargs)


class Session(_NoRedirects, requests.Session):
    """A guarded requests session."""


class OAuthSession(_NoRedirects, OAuth2Session):
    """A guarded requests-oauthlib session."""


def session():
    return Session()

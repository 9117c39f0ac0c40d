"""What every provider's webhooks share: the signature check, the body read, event ids and
times. Each provider's ``webhooks`` module turns its events into :class:`~.base.Change` s.

* **Signature first.** A provider signs the raw body: a header holds the base64 of its
  HMAC-SHA256 with a key the provider gave the app (QBO's verifier token, Xero's webhook
  key). :func:`verified_body` checks it — with :func:`hmac.compare_digest`, over the bytes as
  received — before anything of the body is read: a missing key, a missing header or a
  signature that does not match raises :class:`~.errors.WebhookSignatureError`.
* **Then the body.** A correctly signed body that is not JSON, or not of the documented
  shape as a whole, raises :class:`~.errors.WebhookPayloadError` (``webhook_unreadable``).
  One event of the wrong shape in a delivery that is otherwise fine is left out (and
  logged): the others are not lost for it. Neither error is ever a bare exception; what to
  answer is the caller's (Intuit retries a delivery that is not answered 200 and holds the
  next ones back until it is; Xero wants 401 for a bad signature and 200 otherwise), so a
  controller answers a WebhookPayloadError with 200 and logs it.
* **What is kept can be kept.** An event whose id, company, type or record id a database
  cannot store — a NUL character, a lone surrogate (both valid in JSON text), or longer than
  :data:`ID_LENGTH` characters (a unique index holds the event id) — is of the wrong shape
  too: left out (:func:`storable`), never an error of the whole delivery.
* **Event ids.** Where the provider gives none (QBO's legacy payload, Xero), an event's id is
  a digest of what identifies it (company, entity, id, operation, time), so a redelivered
  event has the same id and is deduplicated.
"""
import base64
import binascii
import hashlib
import hmac
import logging
import re
from datetime import datetime, timezone

from .answers import SHAPE_ERRORS, WrongShape, clean, parse_json
from .errors import ProviderResponseError, WebhookPayloadError, WebhookSignatureError
from .sync_rules import digest

_logger = logging.getLogger(__name__)
EVENT_ID_LENGTH = 40
# The longest event id, company, type or record id of an event kept (the providers' are UUIDs,
# digests, numbers and entity names).
ID_LENGTH = 255
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, lone surrogates


def header(headers, name):
    """The value of header ``name`` (any case) in ``headers``: a dict, or any mapping with
    ``items()`` (werkzeug's headers); None when absent."""
    wanted = name.lower()
    for key, value in (headers.items() if headers is not None else ()):
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return None


def signature(key, body):
    """The base64 HMAC-SHA256 of ``body`` with ``key``, as a provider sends it."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def verified_body(provider, headers, raw_body, secret, header_name, setting):
    """``raw_body`` as bytes once its signature in ``header_name`` is checked with
    ``secret`` (the label of the setting holding it is ``setting``); else
    WebhookSignatureError."""
    params = {"provider": provider, "header": header_name, "setting": setting}
    if not secret:
        raise WebhookSignatureError(code="webhook_secret_missing", params=params)
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body or b"")
    given = header(headers, header_name)
    if not isinstance(given, str) or not given.strip():
        raise WebhookSignatureError(code="webhook_signature_missing", params=params)
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    expected = hmac.new(key, body, hashlib.sha256).digest()
    try:
        sent = base64.b64decode(given.strip(), validate=True)
    except (binascii.Error, ValueError):
        sent = b""
    if not hmac.compare_digest(expected, sent):
        raise WebhookSignatureError(code="webhook_signature_bad", params=params)
    return body


def unreadable(provider, problem):
    return WebhookPayloadError(params={"provider": provider, "problem": problem})


def read_json(provider, body):
    """The webhook's JSON (a signed body that is not JSON: WebhookPayloadError)."""
    try:
        return parse_json(body, provider, "its body")
    except ProviderResponseError as e:
        raise unreadable(provider, e.params.get("problem") or "it is not JSON") from e


def events(provider, items, read):
    """``read(item)`` of each event (a Change, a list of them, or None to leave it out); an
    event of the wrong shape is left out and logged, the others kept."""
    found = []
    for position, item in enumerate(items):
        try:
            change = read(item)
            for one in change if isinstance(change, list) else [change]:
                storable(one)
        except WrongShape as e:
            _logger.warning("%s webhook: event %d left out: %s", provider, position, e.problem)
            continue
        except SHAPE_ERRORS:
            _logger.warning("%s webhook: event %d left out: not shaped as documented",
                            provider, position, exc_info=True)
            continue
        if isinstance(change, list):
            found += change
        elif change is not None:
            found.append(change)
    return found


def storable(change):
    """WrongShape unless a database can store what identifies ``change`` (a Change, or
    None): no NUL character nor lone surrogate, at most :data:`ID_LENGTH` characters."""
    for what, value in (("its id", getattr(change, "event_id", None)),
                        ("its company", getattr(change, "company_id", None)),
                        ("its type", getattr(change, "remote_type", None)),
                        ("its record id", getattr(change, "remote_id", None))):
        if isinstance(value, str) and (len(value) > ID_LENGTH or _UNSTORABLE.search(value)):
            raise WrongShape("%s cannot be kept: longer than %d characters, or with a NUL "
                             "character or a lone surrogate" % (what, ID_LENGTH))


def event_id(*parts):
    """The id of an event the provider gives none: a digest of what identifies it
    (WrongShape if a text of it is no Unicode a digest can be made of: a lone surrogate)."""
    try:
        return digest(["event"] + [p if p is not None else "" for p in parts], EVENT_ID_LENGTH)
    except UnicodeEncodeError:
        raise WrongShape("what identifies it holds a lone surrogate") from None


def when(value, what="its time"):
    """An ISO 8601 time (``Z``, an offset, or none: UTC) as a naive UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        raise WrongShape("%s is missing" % what)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:  # (year 1 or 9999 with an offset: OverflowError)
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        # what was sent, as a log line can hold it (no lone surrogate)
        shown = clean(value, 40).encode("utf-8", "replace").decode("utf-8")
        raise WrongShape("%s is not a time: %s" % (what, shown)) from None
    return moment

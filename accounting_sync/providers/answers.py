"""Reading a provider's answers: JSON parsed and shape-checked here, never trusted.

* :func:`parse_json` turns a body into JSON or raises :class:`ProviderResponseError`
  (HTML, text or an empty body where JSON is expected).
* :func:`obj`, :func:`objects`, :func:`text`... check one value's shape and raise
  :class:`WrongShape`, which :func:`reading` turns into a ``ProviderResponseError`` naming the
  provider — as it does with the ``AttributeError``/``TypeError``/``KeyError``/``ValueError``/
  ``IndexError``/``ArithmeticError`` that reading an answer of an unexpected shape raises
  deeper down, so that none of those ever leaves an adapter.
* :func:`clean` is what a provider's own words go through before they reach a message:
  control characters out, length limited. :func:`pick` gathers them from the fields each
  provider documents; an error body is never shown as such. :func:`distinct` is the one
  place where repeats are taken out of what a provider said (QBO's Message repeated at the
  start of its Detail, the same Xero validation message for two lines), for every message
  built from a provider's words (:func:`join`, QBO's ``plain_message``, Xero's
  ``refused_message``).
"""
import json
import logging
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from .errors import ProviderResponseError

_logger = logging.getLogger(__name__)

MESSAGE_LENGTH = 300   # characters of one provider message
MESSAGES_LENGTH = 600  # characters of the provider's messages together
# C0 and C1 controls, and the Unicode separators and direction marks a log or a page could
# be fooled by.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]+")
_SPACES = re.compile(r"\s+")
# What reading an answer of the wrong shape raises deep down (``d.get`` on a list, ``d["x"]``
# on a missing key, ``Decimal("abc")``...).
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError, IndexError, ArithmeticError)


class WrongShape(ProviderResponseError):
    """An answer (or a part of it) is not of the documented shape; ``problem`` says how.
    :func:`reading` turns it into a ProviderResponseError naming the provider (should one
    escape, it is still a typed ``unreadable_answer``)."""

    def __init__(self, problem):
        super().__init__(params={"provider": "The provider", "problem": problem})
        self.problem = problem


class OwnValueError(ValueError):
    """A ValueError of ours (a bad call, a record that cannot be sent): :func:`reading`
    never takes it for an answer of the wrong shape."""


def kind_of(value):
    """A JSON value's type in words."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a text" if value else "an empty text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "something else"


# -- bodies -------------------------------------------------------------------------------

def parse_json(body, label, what="its answer"):
    """``body`` (bytes or str) as JSON, Decimal for fractions; an empty or non-JSON body is a
    :class:`ProviderResponseError`, whose message never holds the body."""
    data = try_json(body)
    if data is _NOT_JSON:
        problem = "is empty" if not (body or b"").strip() else "is not JSON"
        raise ProviderResponseError(params={"provider": label,
                                            "problem": "%s %s" % (what, problem)})
    return data


_NOT_JSON = object()


def try_json(body):
    """``body`` as JSON, or the marker ``_NOT_JSON`` when it is empty or not JSON."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _NOT_JSON
    if not isinstance(body, str) or not body.strip():
        return _NOT_JSON
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):
        return _NOT_JSON


def is_json(data):
    return data is not _NOT_JSON


# -- the provider's own words -------------------------------------------------------------

def clean(value, limit=MESSAGE_LENGTH):
    """A provider's text for a message: a string (or number), control characters and runs
    of white space made one space, at most ``limit`` characters; anything else → ""."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return ""
    text = _SPACES.sub(" ", _CONTROL.sub(" ", str(value))).strip()
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text


def pick(data, *paths):
    """The cleaned, distinct, non-empty texts found at ``paths`` in ``data``. A path is a
    tuple of keys; ``[]`` in it means "each element of this list", so
    ``("Fault", "Error", [], "Message")`` is every Fault.Error[].Message. Values of the wrong
    type are skipped."""
    found = []
    for path in paths:
        for value in _walk(data, path):
            text = clean(value)
            if text and text not in found:
                found.append(text)
    return found


def _walk(data, path):
    if not path:
        yield data
        return
    step, rest = path[0], path[1:]
    if step == []:
        if isinstance(data, list):
            for element in data[:20]:
                yield from _walk(element, rest)
    elif isinstance(data, dict) and step in data:
        yield from _walk(data[step], rest)


_NOT_WORD = re.compile(r"[^0-9a-z]+")
_SPACED_COLON = re.compile(r"\s+:\s+")


def _words(value):
    """A text as its lower-case words between spaces (`` invalid string ``)."""
    return " %s " % " ".join(_NOT_WORD.sub(" ", value.casefold()).split())


def distinct(texts):
    """``texts`` (a provider's words, cleaned) once each, in their order: a text whose words
    another holds in the same order is left out — QBO's Message "Invalid String" next to its
    Detail "Invalid String : DisplayName cannot contain a colon", a message said twice —
    comparing words only (case and punctuation ignored); QBO's `` : `` between a title and
    what follows reads ``: ``. Empty texts are dropped."""
    texts = [_SPACED_COLON.sub(": ", t).strip() for t in texts if isinstance(t, str)]
    words = [_words(t) for t in texts]
    kept = []
    for n, (value, mine) in enumerate(zip(texts, words)):
        if not mine.strip():
            continue
        if any(mine in other and (mine != other or m < n)
               for m, other in enumerate(words) if m != n):
            continue
        kept.append(value)
    return kept


def join(messages, limit=MESSAGES_LENGTH, separator="; "):
    """Messages as one text of at most ``limit`` characters, repeats taken out
    (:func:`distinct`)."""
    return clean(separator.join(distinct(messages)), limit)


# -- shapes ---------------------------------------------------------------------------------

def obj(value, what="the answer"):
    """``value`` when it is a JSON object, else :class:`WrongShape`."""
    if not isinstance(value, dict):
        raise WrongShape("%s is %s, not an object" % (what, kind_of(value)))
    return value


def objects(value, what="the list"):
    """``value`` when it is a list of objects (None: an empty list), else WrongShape."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise WrongShape("%s is %s, not a list" % (what, kind_of(value)))
    for element in value:
        if not isinstance(element, dict):
            raise WrongShape("an element of %s is %s, not an object" % (what, kind_of(element)))
    return value


def text(value, what="a value", required=False):
    """A JSON string (a number is accepted as its text) or None (also for ""); ``required``:
    None is WrongShape too."""
    if value is None or value == "":
        if required:
            raise WrongShape("%s is missing" % what)
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    raise WrongShape("%s is %s, not a text" % (what, kind_of(value)))


def flag(value, default=True, what="a flag"):
    """A JSON true/false (None: ``default``)."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise WrongShape("%s is %s, not true/false" % (what, kind_of(value)))
    return value


def number(value, what="an amount", default=None):
    """A JSON number (or numeric text) as Decimal (None: ``default``)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise WrongShape("%s is %s, not a number" % (what, kind_of(value)))
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise WrongShape("%s is not a number" % what) from None
    if not result.is_finite():
        raise WrongShape("%s is not a number" % what)
    return result


def utc_time(value):
    """An ISO 8601 time (``Z``, an offset, or none: UTC) as a naive UTC datetime; None for
    anything else (a time an answer gives for information only)."""
    if not isinstance(value, str) or not value.strip():
        return None
    stamp = value.strip()
    if stamp.endswith(("Z", "z")):
        stamp = stamp[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


@contextmanager
def reading(label):
    """Around code that reads ``label``'s answers: a wrong shape becomes a
    :class:`ProviderResponseError` naming the provider (the traceback is logged)."""
    try:
        yield
    except WrongShape as e:
        raise unreadable_answer(label, e.problem) from e
    except SHAPE_ERRORS as e:
        if isinstance(e, OwnValueError):
            raise
        _logger.warning("%s sent an answer of an unexpected shape", label, exc_info=True)
        raise unreadable_answer(label, UNSHAPED) from e


UNSHAPED = "it is not shaped as its API documents"


def unreadable_answer(label, problem):
    """The typed error of an answer ``label`` sent that cannot be read (code
    ``unreadable_answer``)."""
    return ProviderResponseError(params={"provider": label, "problem": problem})

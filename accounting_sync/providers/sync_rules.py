"""Rules both providers' writers share: idempotency keys, amounts, names, and the results of
one record. (When an existing remote record is linked instead of creating a new one is
:mod:`.matching`.)

Exactly once
    Every write carries an idempotency key (QBO ``requestid``, Xero ``Idempotency-Key``) that
    is a digest (:func:`digest`) of what the caller passed in and nothing else: the
    operation, the kind and, for each record, its ``key``, remote id and remote version, in
    the order given (a QBO batch item's ``bId`` is its position in the batch). Nothing random
    or clock-based goes into a key, so calling ``push()``, ``void()`` or ``deactivate()``
    again with the same records sends the same keys, and the provider answers the first
    result again instead of writing twice. A follow-up a writer decides on after reading the
    remote company (the retry after a QBO 5010 with the fresh SyncToken, a create over a
    voided number, the missing part of a Xero payment) is keyed by the record and what was
    read, so it too repeats only over the same remote state. A retry after a crash may group
    records differently, so before creating anything the writers also look for it in the
    remote company (:mod:`.matching`).

Names the providers refuse (:func:`fit`, and each provider's payload module)
    A name goes out as the provider will take it, by one deterministic rule, the same on
    every send; the look-ups (by name, by code: :func:`.matching.choose_party`,
    :func:`.matching.choose_product`)
    search for and compare the name *as sent*, so a record sent once is found and linked
    again instead of being created twice:

    * QBO refuses ``:`` (its Parent:Child separator; Fault 2040 "Invalid String") in a
      Customer's or Vendor's DisplayName and an Item's Name: each colon, with the spaces
      around it, becomes `` - `` ("Wayne Enterprises: Gotham" → "Wayne Enterprises -
      Gotham"). The Odoo name is kept where QBO has room for it: CompanyName (a company's
      name, colons allowed) and, when the DisplayName differs from it, Notes ("Name in
      Odoo: …"). Xero takes colons.
    * Lengths: QBO DisplayName, CompanyName, Item Name and Sku at most 100 characters
      (Fault 2050 otherwise); Xero Contact Name 255, Item Code 30, Item Name 50. A longer
      text keeps its first characters and ends with ``~`` and the first 6 hex digits of the
      SHA-256 of the whole text (:func:`fit`): the same text always gives the same name,
      and two long texts that start alike still get different names.

"""
import hashlib
from decimal import ROUND_HALF_UP, Decimal

from .answers import OwnValueError, reading
from .documents import BAD_ANSWER, KINDS, WriteResult
from .errors import ProviderError, ProviderResponseError
from .messages import render

CENT = Decimal("0.01")
NAME_HASH = 6  # hex digits of the SHA-256 that a shortened name or code ends with
UNREADABLE = "unreadable_answer"  # the code of an answer that cannot be read (errors.py)


class PayloadError(OwnValueError):
    """A record cannot be expressed in the provider's payload: ``code`` and ``params`` say
    why (:mod:`.messages`); the record fails with them, nothing is sent."""

    def __init__(self, code, **params):
        super().__init__(render(code, params))
        self.code, self.params = code, params

    def result(self, key):
        """The failed result of the record ``key`` (``provider_code`` ``payload``, the code
        these failures had before the catalogue)."""
        return failed(key, self.code, self.params, provider_code="payload")


class UsageError(OwnValueError):
    """The call itself is wrong (records of several kinds, a kind that cannot be voided):
    a programming error on the caller's side."""


def money(value):
    """Decimal → JSON number rounded half-up to the cent (``12.3`` for 12.30)."""
    return float(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def cents(value):
    """A comparable Decimal rounded to the cent (None stays None)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def number(value, places=None):
    """Decimal → JSON number keeping its precision (or ``places`` decimals)."""
    value = Decimal(value)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return float(value)


def digest(parts, length):
    """An idempotency key: sha256 of the joined parts, hex, at most ``length`` chars."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def fit(text, limit):
    """``text`` in at most ``limit`` characters (the rule "Names the providers refuse"):
    unchanged when it fits, else its first characters (trailing spaces dropped), ``~`` and
    the first :data:`NAME_HASH` hex digits of the SHA-256 of the whole text."""
    if not text or len(text) <= limit:
        return text
    tail = "~" + digest([text], NAME_HASH)
    return text[:limit - len(tail)].rstrip() + tail


def numbered(number, text):
    """A free-text field that starts with our number: ``"PBNK1/2026/00007: memo"`` (the
    number alone without a memo or when the memo is the number; the memo alone without a
    number)."""
    if not number:
        return text or None
    if text and text != number:
        return "%s: %s" % (number, text)
    return number


def carries_number(value, number):
    """Whether a remote reference field holds our ``number``, alone or as :func:`numbered`
    wrote it."""
    if not value or not number:
        return False
    value = value.strip()
    return value == number or value.startswith(number + ": ")


def chunks(items, size):
    """``items`` in consecutive lists of at most ``size``."""
    return [items[start:start + size] for start in range(0, len(items), size)]


def single_kind(records):
    """The one kind of ``records``; a list of several kinds is a programming error."""
    kinds = {getattr(r, "kind", "product") for r in records}
    if len(kinds) != 1:
        raise UsageError("push() takes records of one kind, got %s" % sorted(kinds))
    kind = kinds.pop()
    if kind not in KINDS:
        raise UsageError("Unknown record kind %r" % kind)
    return kind


def record_label(record):
    """How a message names a record: its name, number or reference (a payment without one:
    its date and amount)."""
    label = (getattr(record, "name", None) or getattr(record, "number", None)
             or getattr(record, "reference", None))
    if not label and hasattr(record, "allocations"):
        label = "of %s (%s)" % (record.date, record.amount)
    return label or record.key


def failed(key, code, params=None, provider_code=None):
    """The failed result of record ``key``: a ProviderError of ``code`` and ``params``."""
    return WriteResult(key=key, ok=False, error=ProviderError(
        code=code, params=params, provider_code=provider_code))


def no_answer(key, provider):
    """A record the provider's answer says nothing about: whether it was written is unknown
    (code ``no_answer``)."""
    return failed(key, "no_answer", {"provider": provider})


def unreadable(key, error):
    """A record whose answer could not be read (``error``, a ProviderResponseError of code
    ``unreadable_answer``): failed with code ``bad_answer``; whether it was written is
    unknown, as with ``no_answer``."""
    return WriteResult(key=key, ok=False, error=ProviderResponseError(
        code=BAD_ANSWER, params={"provider": error.params.get("provider"),
                                 "problem": error.params.get("problem")}))


def for_record(label, record, produce, *args):
    """``produce(*args)``, the WriteResult of one record; an answer about this record that
    cannot be read fails only it (:func:`unreadable`)."""
    try:
        with reading(label):
            return produce(*args)
    except ProviderResponseError as e:
        if e.code != UNREADABLE:
            raise
        return unreadable(record.key, e)

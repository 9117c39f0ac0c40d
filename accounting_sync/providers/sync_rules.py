"""Rules both providers' writers share: idempotency keys, amounts, and when an existing remote
record is linked instead of creating a new one.

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
    remote company:

Parties (the name-clash rule, :func:`choose_party`)
    * same name (case-insensitive) and the same e-mail, or one side has no e-mail → link;
    * same name, different e-mails → fail, naming both e-mails: rename the Odoo partner (or
      fix its e-mail) or link it manually; two records are never merged silently;
    * no name match, and exactly one remote party of the same kind has the e-mail → link;
    * otherwise create.

Products (:func:`choose_product`)
    Same code (QBO Sku / Xero Code) → link; else same name → link when either side has no
    code or the codes agree, fail when they differ; else create.

Documents (:func:`choose_document`)
    A document with the same number, the same party and the same total (to the cent) →
    link. The same number on another party or another total → fail (never a second document
    with that number) when the provider keeps numbers unique, else create.

Payments (:func:`choose_payment`)
    Looked up when ``find_existing`` says a send may have gone unanswered, and again when the
    provider refuses a create because a document it pays is paid already (QBO 6000, Xero
    "… exceeds the amount outstanding …"). A remote payment is this one when its party, its
    date, its amount (to the cent) and the documents it pays with the amount applied to each
    (to the cent) all agree. Among those, one whose reference field carries our number (QBO
    PaymentRefNum or BillPayment DocNumber, Xero Reference: :func:`carries_number`) is
    certain and taken first, then one with no reference at all; one whose reference holds
    anything else is another payment (an equal one of the same day, or one entered by hand
    under its own reference) and is never linked: linking it could bind two Odoo payments
    to one remote payment. No match → created; after the "already paid" refusal it cannot
    be, so it fails with the refusal in plain words. Xero keeps one payment per allocation:
    there the rule is applied allocation by allocation (see :mod:`.xero_sync`).

Names the providers refuse (:func:`fit`, and each provider's payload module)
    A name goes out as the provider will take it, by one deterministic rule, the same on
    every send; the look-ups (by name, by code: :func:`choose_party`, :func:`choose_product`)
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

Within one call a remote record is linked to one record at most: a second record matching the
same remote record fails (the Odoo side keeps one binding per remote record) — except a
payment, which then takes the next remote payment that agrees, or is created (two equal
payments of one day are two payments).
"""
import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .answers import OwnValueError, reading
from .documents import BAD_ANSWER, KINDS, WriteResult
from .errors import ProviderError, ProviderResponseError

CENT = Decimal("0.01")
NAME_HASH = 6  # hex digits of the SHA-256 that a shortened name or code ends with


class PayloadError(OwnValueError):
    """A record cannot be expressed in the provider's payload; the message says why."""


class UsageError(OwnValueError):
    """The call itself is wrong (records of several kinds, a kind that cannot be voided):
    a programming error on the caller's side."""


@dataclass
class Candidate:
    """A remote record as the look-ups see it (only the fields the rules compare)."""

    id: str
    name: str = None
    email: str = None
    code: str = None
    party: str = None          # documents: the remote party id
    total: Decimal = None      # documents: the remote total
    version: str = None
    number: str = None
    date: str = None           # payments: ISO date
    allocations: tuple = ()    # payments: (remote document, amount) pairs


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


def failed(key, message, code=None):
    return WriteResult(key=key, ok=False, error=ProviderError(message, code=code))


def unreadable(key, error):
    """A record whose answer could not be read (``error``, a ProviderResponseError): failed
    with code ``bad_answer``; whether it was written is unknown, as with ``no_answer``."""
    return WriteResult(key=key, ok=False, error=ProviderResponseError(
        "%s Whether this record was written there is not known; sync again."
        % error.message, code=BAD_ANSWER))


def for_record(label, record, produce, *args):
    """``produce(*args)``, the WriteResult of one record; an answer about this record that
    cannot be read fails only it (:func:`unreadable`)."""
    try:
        with reading(label):
            return produce(*args)
    except ProviderResponseError as e:
        if e.code != BAD_ANSWER:
            raise
        return unreadable(record.key, e)


def linked(key, candidate):
    return WriteResult(key=key, ok=True, remote_id=candidate.id, remote_version=candidate.version,
                       remote_number=candidate.number, linked_existing=True)


def _norm(text):
    return (text or "").strip().casefold()


def index(candidates, attribute):
    """Candidates by a normalized attribute (lists, since e-mails may repeat)."""
    result = {}
    for candidate in candidates:
        value = _norm(getattr(candidate, attribute))
        if value:
            result.setdefault(value, []).append(candidate)
    return result


def first(indexed, value):
    found = indexed.get(_norm(value))
    return found[0] if found else None


def choose_party(provider, noun, name, email, by_name, by_email):
    """Apply the name-clash rule; return ``(candidate, None)`` to link, ``(None, message)``
    to fail, ``(None, None)`` to create. ``by_name``/``by_email`` come from :func:`index`."""
    named = first(by_name, name)
    if named:
        if not named.email or not email or _norm(named.email) == _norm(email):
            return named, None
        return None, (
            "%(provider)s already has a %(noun)s named “%(name)s” with e-mail %(theirs)s, but "
            "the Odoo partner has e-mail %(ours)s. They are not merged automatically: rename "
            "the Odoo partner (or correct its e-mail), or link it to the existing %(noun)s "
            "manually." % {"provider": provider, "noun": noun, "name": named.name,
                           "theirs": named.email, "ours": email})
    emailed = by_email.get(_norm(email), []) if email else []
    if len(emailed) == 1:
        return emailed[0], None
    return None, None


def choose_product(provider, name, code, by_code, by_name):
    """Link by code, then by name unless the codes disagree (see the module docstring)."""
    if code and first(by_code, code):
        return first(by_code, code), None
    named = first(by_name, name)
    if named:
        if not code or not named.code or _norm(named.code) == _norm(code):
            return named, None
        return None, (
            "%(provider)s already has an item named “%(name)s” with code %(theirs)s, but the "
            "Odoo product's code is %(ours)s. Rename the Odoo product (or align the codes), or "
            "link it to the existing item manually."
            % {"provider": provider, "name": named.name, "theirs": named.code, "ours": code})
    return None, None


def choose_document(provider, noun, record_number, party_id, total, existing, unique_number):
    """Link a remote document with the same number, party and total; fail on a number clash
    (see the module docstring). ``existing`` holds the remote documents with that number."""
    total = cents(total)
    for candidate in existing:
        if candidate.party == party_id and cents(candidate.total) == total:
            return candidate, None
    clashes = [c for c in existing if unique_number or c.party == party_id]
    if not clashes:
        return None, None
    other = clashes[0]
    return None, (
        "%(provider)s already has %(noun)s %(number)s (id %(id)s) for another party or another "
        "total (%(theirs)s there, %(ours)s in Odoo); it is not created a second time. Renumber "
        "the Odoo document or void the remote one, then sync again."
        % {"provider": provider, "noun": noun, "number": record_number, "id": other.id,
           "theirs": cents(other.total), "ours": total})


def choose_payment(number, party_id, day, amount, allocations, candidates, taken=()):
    """The remote payment that is this one (see the module docstring), else None to create
    it. ``number``: our number as the provider's reference field holds it; ``day``: an ISO
    date; ``allocations``: (remote document, amount) pairs, the documents named as the
    candidates name theirs; ``taken``: remote ids already linked or written in this call."""
    wanted = sorted((str(document), cents(value)) for document, value in allocations)
    agree = [c for c in candidates
             if c.id not in taken and c.party == party_id and c.date == day
             and cents(c.total) == cents(amount)
             and sorted((str(d), cents(v)) for d, v in c.allocations) == wanted]
    ours = [c for c in agree if carries_number(c.number, number)]
    return (ours or [c for c in agree if not (c.number or "").strip()] or [None])[0]


def claim(claimed, key, candidate, provider):
    """Link ``candidate`` for record ``key`` unless another record of this call took it."""
    if candidate.id in claimed:
        return failed(key, "Another record of this sync already matched %s record “%s” (id %s): "
                      "link one of them manually." % (provider, candidate.name or candidate.number
                                                      or candidate.id, candidate.id),
                      code="duplicate_match")
    claimed.add(candidate.id)
    return linked(key, candidate)

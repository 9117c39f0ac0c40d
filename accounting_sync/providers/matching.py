"""When an existing remote record is linked instead of creating a new one: the rules, the
look-ups that apply them and the linking, once for every provider.

A provider's look-ups (a subclass of :class:`Lookups`) only say how to *query* its remote
company — which rows have these names, e-mails, codes, numbers — and what its records are
sent as (names as sent: :mod:`.sync_rules`, "Names the providers refuse"); the decisions
(:class:`Decision`: link, fail, create) are taken here, by the rules below, and
:meth:`Writer.link_existing` applies them to a push's creates.

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
    there the rule is applied allocation by allocation (see :mod:`.xero.writer`).


Within one call a remote record is linked to one record at most: a second record matching the
same remote record fails (the Odoo side keeps one binding per remote record) — except a
payment, which then takes the next remote payment that agrees, or is created (two equal
payments of one day are two payments).
"""
from dataclasses import dataclass, field
from decimal import Decimal

from .documents import DOCUMENT_KINDS, JOURNAL_KINDS, PARTY_KINDS, PAYMENT_KINDS, WriteResult
from .sync_rules import PayloadError, cents, carries_number, failed


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


@dataclass
class Decision:
    """What to do with one record to create: link ``candidate``; fail with ``code``
    (:mod:`.messages`), ``params`` and ``provider_code``; or create it (neither) —
    ``voided_number``: its number is held only by a voided document (QBO keeps a voided
    document's number: the create must say it reuses it)."""

    candidate: Candidate = None
    code: str = None
    params: dict = field(default_factory=dict)
    provider_code: str = None
    voided_number: bool = False

    def failure(self, key):
        return failed(key, self.code, self.params, self.provider_code)


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
    """Apply the name-clash rule: a :class:`Decision` (code ``name_in_use`` on a clash).
    ``by_name``/``by_email`` come from :func:`index`."""
    named = first(by_name, name)
    if named:
        if not named.email or not email or _norm(named.email) == _norm(email):
            return Decision(named)
        return Decision(code="name_in_use", provider_code="name_clash", params={
            "provider": provider, "noun": noun, "name": named.name, "theirs": named.email,
            "ours": email})
    emailed = by_email.get(_norm(email), []) if email else []
    if len(emailed) == 1:
        return Decision(emailed[0])
    return Decision()


def choose_product(provider, name, code, by_code, by_name, own_code=None):
    """Link by ``code`` (what the item is looked up by, as sent), then by name unless the
    codes disagree: ``own_code`` is the Odoo product's own code as sent (None when it has
    none), compared with the same-named item's (code ``item_in_use`` when they differ)."""
    if code and first(by_code, code):
        return Decision(first(by_code, code))
    named = first(by_name, name)
    if named:
        if not own_code or not named.code or _norm(named.code) == _norm(own_code):
            return Decision(named)
        return Decision(code="item_in_use", provider_code="name_clash", params={
            "provider": provider, "name": named.name, "theirs": named.code, "ours": own_code})
    return Decision()


def choose_document(provider, noun, record_number, party_id, total, existing, unique_number,
                    provider_code=None):
    """Link a remote document with the same number, party and total; fail on a number clash
    (code ``number_in_use``, with ``provider_code``). ``existing`` holds the remote
    documents with that number."""
    total = cents(total)
    for candidate in existing:
        if candidate.party == party_id and cents(candidate.total) == total:
            return Decision(candidate)
    clashes = [c for c in existing if unique_number or c.party == party_id]
    if not clashes:
        return Decision()
    other = clashes[0]
    return Decision(code="number_in_use", provider_code=provider_code, params={
        "provider": provider, "noun": noun, "number": record_number, "id": other.id,
        "theirs": str(cents(other.total)), "ours": str(total)})


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


def match_payments(wanted, candidates, taken=()):
    """The payment rule over a call's payments: ``wanted`` holds, per record, its remote
    payments as ``(number, party, day, amount, allocations)`` (one for QBO; one per
    allocation for Xero, None for one that cannot exist); the answer, per record, the
    candidate found for each (None: not there). A candidate is given to one payment at
    most; ``taken``: remote ids that records of this call already hold."""
    taken, found = set(taken), []
    for parts in wanted:
        mine = []
        for part in parts:
            candidate = part and choose_payment(*part, candidates, taken)
            if candidate:
                taken.add(candidate.id)
            mine.append(candidate or None)
        found.append(mine)
    return found


def linked(key, candidate):
    return WriteResult(key=key, ok=True, remote_id=candidate.id, remote_version=candidate.version,
                       remote_number=candidate.number, linked_existing=True)


def claim(claimed, key, candidate, provider):
    """Link ``candidate`` for record ``key`` unless another record of this call took it
    (code ``duplicate_match``)."""
    if candidate.id in claimed:
        return failed(key, "duplicate_match", {
            "provider": provider, "name": candidate.name or candidate.number or candidate.id,
            "id": candidate.id})
    claimed.add(candidate.id)
    return linked(key, candidate)


class Lookups:
    """The look-ups made before creating, for one provider: the decisions are taken here;
    a subclass answers the queries (``party_candidates``, ``item_candidates``,
    ``document_candidates``, ``payments``) and says what records are sent as."""

    label = None          # the provider's label, for messages
    NOUN = {}             # kind -> what the provider calls it (messages.NOUNS)
    NUMBER_CLASH = None   # the provider_code of a number clash found by a look-up

    def __init__(self, writer):
        self.writer = writer

    def find(self, kind):
        """The look-up of ``kind``: ``(kind, records) -> [Decision]``."""
        if kind in PARTY_KINDS:
            return self.parties
        if kind == "product":
            return self.items
        if kind in DOCUMENT_KINDS + JOURNAL_KINDS:
            return self.documents
        return self.payments

    # -- parties -------------------------------------------------------------------------------

    def party_name(self, record):
        """The name a party is sent (and looked up) by."""
        raise NotImplementedError

    def party_candidates(self, kind, records, names):
        """The remote parties of ``kind`` named ``names`` or with the records' e-mails."""
        raise NotImplementedError

    def names_held_elsewhere(self, _kind, _names):
        """{normalized name: the noun of what holds it} for names the provider keeps unique
        across kinds (QBO: customers, vendors and employees); none by default."""
        return {}

    def name_held_elsewhere(self, kind, name, holder):
        """The Decision for a party whose name another kind of record holds."""
        raise NotImplementedError

    def parties(self, kind, records):
        """A :class:`Decision` per record, by the name-clash rule."""
        names = {id(r): self.party_name(r) for r in records}
        candidates = self.party_candidates(kind, records, names)
        by_name, by_email = index(candidates, "name"), index(candidates, "email")
        elsewhere = self.names_held_elsewhere(kind, list(names.values()))
        decisions = []
        for record in records:
            name = names[id(record)]
            decision = choose_party(self.label, self.NOUN[kind], name, record.email, by_name,
                                    by_email)
            if not decision.candidate and not decision.code and _norm(name) in elsewhere:
                decision = self.name_held_elsewhere(kind, name, elsewhere[_norm(name)])
            decisions.append(decision)
        return decisions

    # -- items ---------------------------------------------------------------------------------

    def item_keys(self, record):
        """``(code, name, own_code)`` an item is sent and looked up by (choose_product)."""
        raise NotImplementedError

    def item_candidates(self, codes, names):
        """The remote items with these codes or names."""
        raise NotImplementedError

    def items(self, _kind, records):
        """A :class:`Decision` per record: by code, then by name (choose_product)."""
        keys = {id(r): self.item_keys(r) for r in records}
        candidates = self.item_candidates([k[0] for k in keys.values() if k[0]],
                                          [k[1] for k in keys.values()])
        by_code, by_name = index(candidates, "code"), index(candidates, "name")
        return [choose_product(self.label, name, code, by_code, by_name, own_code)
                for code, name, own_code in (keys[id(r)] for r in records)]

    # -- documents and journal entries -----------------------------------------------------------

    def document_key(self, _kind, record):
        """What a document is looked up by: its number (Xero manual journals: narration)."""
        return record.number

    def document_total(self, _kind, record):
        return record.amount_total

    def unique_number(self, _kind):
        """Whether the provider keeps ``kind``'s numbers unique (a clash fails)."""
        return True

    def document_candidates(self, kind, records):
        """``(existing, voided)``: the remote documents by :meth:`document_key` (lists of
        Candidate, voided and deleted ones left out), and the keys only voided documents
        hold."""
        raise NotImplementedError

    def documents(self, kind, records):
        """A :class:`Decision` per record: same number, party and total → link (the
        documents rule)."""
        existing, voided = self.document_candidates(kind, records)
        decisions = []
        for record in records:
            key = self.document_key(kind, record)
            party = str(record.party.id) if getattr(record, "party", None) else None
            decision = choose_document(self.label, self.NOUN[kind], record.number, party,
                                       self.document_total(kind, record),
                                       existing.get(key, []), self.unique_number(kind),
                                       self.NUMBER_CLASH)
            if not decision.candidate and not decision.code and key in voided:
                decision = Decision(voided_number=True)
            decisions.append(decision)
        return decisions

    def payments(self, kind, records, taken=()):
        """A :class:`Decision` per record (the payment rule, :func:`match_payments`)."""
        raise NotImplementedError


class Writer:
    """What every provider's writer shares: building a push's payloads and linking its
    creates that already exist. A writer is made for one call (one remote company); it has
    ``lookups`` (a :class:`Lookups`) and ``label``."""

    label = None
    lookups = None

    @staticmethod
    def prepare(records, build):
        """``(results, creates, updates)``: ``build(record)``'s payload of each record, as
        ``(index, payload)`` creates (no remote id) and updates; a record whose payload
        cannot be built has its failed result already."""
        results, creates, updates = [None] * len(records), [], []
        for position, record in enumerate(records):
            try:
                payload = build(record)
            except PayloadError as e:
                results[position] = e.result(record.key)
                continue
            (updates if record.remote_id else creates).append((position, payload))
        return results, creates, updates

    def link_existing(self, kind, records, creates, results):
        """Link (or fail) the ``creates`` that already exist remotely, by the rules above;
        return ``(remaining, voided_numbers)``: the creates still to send, and apart those
        whose number only a voided document holds. Documents, journal entries and payments
        are looked up only when ``find_existing`` says a send of theirs may have gone
        unanswered: the others were certainly never sent (the provider's own number and
        overpayment checks guard them)."""
        if not creates:
            return creates, []
        remaining = []
        if kind in DOCUMENT_KINDS + JOURNAL_KINDS + PAYMENT_KINDS:
            remaining = [c for c in creates if not records[c[0]].find_existing]
            creates = [c for c in creates if records[c[0]].find_existing]
            if not creates:
                return remaining, []
        decisions = self.lookups.find(kind)(kind, [records[i] for i, _body in creates])
        voided_numbers, claimed = [], set()
        for (position, body), decision in zip(creates, decisions):
            key = records[position].key
            if decision.code:
                results[position] = decision.failure(key)
            elif decision.candidate:
                results[position] = claim(claimed, key, decision.candidate, self.label)
            elif decision.voided_number:
                voided_numbers.append((position, body))
            else:
                remaining.append((position, body))
        return remaining, voided_numbers

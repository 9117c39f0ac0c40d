"""Xero: reading the chart and writing records (the adapter's fetch_chart, execute — and so
push —, void and deactivate), through xero-python's AccountingApi.

Rules:

* **Requests**: creates are ``PUT`` (``create_*``), updates ``POST`` (``update_or_create_*``),
  each with at most 50 elements, ``summarizeErrors=false`` (a bad element never stops the
  others) and an ``Idempotency-Key`` so a replayed request answers the first result. Amounts
  go with ``unitdp=4``. The SDK is called with ``_preload_content=False`` and Xero's JSON is
  read as sent.
* **Keys are deterministic** (the rule in :mod:`..sync_rules`, "Exactly once"): an
  ``Idempotency-Key`` is the sha256 of the operation, the kind and, for each record in the
  order given, its ``key``, remote id and remote version (and, for the missing part of a
  payment, the positions of the allocations sent); a payment delete, a void or an archive
  of the remote id (and version) it acts on. No uuid, no clock: ``push()`` called again with
  the same records sends the same requests with the same keys.
* **Before creating**, existing records are looked up and linked (:mod:`.lookups`,
  :mod:`..matching`): contacts by Name and EmailAddress, items by Code then Name; invoices
  and bills by InvoiceNumber, credit notes by CreditNoteNumber, manual journals by
  Narration — linked when party and total match — when ``find_existing`` says a send of
  theirs may have gone unanswered. A sales document Xero refuses because its number is taken
  ("Invoice # must be unique.") is looked up then, and linked when it is the same document.
* **Updates**: contacts, items and manual journals are updated in place. A DRAFT or
  SUBMITTED document is updated in place; an AUTHORISED one only when its lines and amounts
  are unchanged (then only its header is sent) — otherwise it is voided and a new one is
  created (new id, ``WriteResult.note`` says so); a PAID one whose lines changed fails (its
  payments must be removed first); a voided or deleted one fails. Xero payments cannot be
  edited: an update deletes the old payments and creates new ones (noted). When Xero refuses
  the new document or payments, the old ones are already gone: the message says to correct
  the record and reset its sync state.
* **Payments**: one Xero payment per allocation, all in the same request; the result's
  ``remote_id`` is their ids, comma-joined in allocation order. When some of a record's
  payments fail, the ones written are deleted again and the record fails, so a payment is
  all or nothing. A payment whose send may have gone unanswered (``find_existing``) is
  looked up first by the documents it pays (one query per 50 documents) and the payment
  rule of :mod:`.sync_rules` is applied to each allocation: every allocation found → the
  set is linked; none → created; some (a set left half-made, e.g. by a crash before the
  all-or-nothing clean-up) → the ones found are linked and only the missing ones created —
  and if Xero refuses those, the found ones that carry our number are deleted too, so that
  nothing of it is left. A payment Xero refuses because a document is paid already ("…
  exceeds the amount outstanding …") is looked up then under the same rule: all found →
  linked; some → the rest created; none → it fails with Xero's refusal and a note that no
  payment there matched.
* **Void**: an AUTHORISED document → ``VOIDED``, DRAFT/SUBMITTED → ``DELETED``, already voided or
  deleted → done; a payment → ``POST /Payments/{id}`` ``{"Status":"DELETED"}``; a manual
  journal → ``VOIDED`` (a draft one ``DELETED``). **Deactivate**: a contact is ARCHIVED, an
  item deleted.
* **Times**: every successful result says when the record last changed
  (``WriteResult.remote_updated_at``, its UpdatedDateUTC; the latest of a payment's Xero
  payments), so the webhook or pull that reports our own write can be recognised (with
  ``remote_version``, the same time as an ISO string). An item deleted leaves none.
* **Errors**: 401/403, 429 (``retry_after`` from ``Retry-After``) and 5xx/timeouts raise the
  typed errors of :mod:`..errors`; validation errors fail the record they belong to (a
  message code and its parameters: :func:`.lookups.refusal`; ``provider_code``
  ``validation``). An
  answer of the wrong shape raises ``ProviderResponseError`` — except an element answered
  for one record, which fails only that record with code ``bad_answer`` (written or not is
  then unknown).
"""
from decimal import Decimal

from . import payloads as xp
from ..answers import kind_of, obj, objects, reading, text, unreadable_answer, utc_time
from ..documents import DOCUMENT_KINDS, PARTY_KINDS, PAYMENT_KINDS, WriteResult
from ..errors import ProviderError
from ..matching import Candidate, Writer, claim
from ..sync_rules import (
    UsageError, carries_number, cents, digest, failed, for_record, no_answer, record_label,
    single_kind, unreadable,
)
from .lookups import (
    GONE, OVERPAID, REFUSED, Lookups, Refused, errors_of, first_object, refusal,
    typed_refusals, xero_id, xero_time,
)
from .payloads import LABEL, NOUN, RESOURCES

KEY_LENGTH = 64


class Replacement:
    """A record replaced rather than updated (void and recreate, delete and recreate): the
    note code of its success (``note``), the message code when the new one is refused
    (``refused``: the old one is gone, so the record must then be created afresh), and the
    parameters of both (``params``)."""

    def __init__(self, note, refused, **params):
        self.note, self.refused, self.params = note, refused, dict(params, provider=LABEL)

    def noted(self, result):
        return result.noted(self.note, **self.params)

    def failed(self, messages):
        """``(code, params)`` of the new one's refusal."""
        return self.refused, dict(self.params, text="; ".join(messages))


class Completion:
    """A payment some of whose Xero payments are there already (``found``: allocation
    position → candidate): only the missing ones are sent, and the result names them all, in
    allocation order. ``ours``: the found ones that carry our number, deleted again when Xero
    refuses the rest (a payment is all or nothing)."""

    def __init__(self, found, count, number):
        self.found, self.count = found, count
        self.positions = [n for n in range(count) if n not in found]
        self.ours = [c.id for c in found.values() if carries_number(c.number, number)]

    def noted(self, result):
        return result.noted("payments_completed", provider=LABEL, found=len(self.found),
                            count=self.count)

    def merge(self, ids, versions):
        """Every payment's id and version in allocation order, the new ones (``ids``,
        ``versions``) in the missing positions."""
        new = iter(zip(ids, versions))
        merged = [(self.found[n].id, self.found[n].version) if n in self.found else next(new)
                  for n in range(self.count)]
        return [i for i, _v in merged], [v for _i, v in merged]

    @staticmethod
    def failed(messages):
        """``(code, params)`` of the refusal of the missing part."""
        return "payments_completion_refused", {"provider": LABEL, "text": "; ".join(messages)}


class Api:
    """What each kind is called at Xero (:data:`.payloads.RESOURCES`): collection, id field,
    create and update methods."""

    def __init__(self, api, kind):
        resource = RESOURCES[kind]
        self.collection, self.id_field = resource.collection, resource.id_field
        self.create = getattr(api, "create_" + resource.method)
        self.update = getattr(api, "update_or_create_" + resource.method, None)
        self.unitdp = resource.unitdp


class XeroWriter(Writer):
    """One tenant, one operation: made by the adapter for each call."""

    label = LABEL

    def __init__(self, adapter, api, tenant):
        self.adapter = adapter
        self.api = api
        self.tenant = tenant
        self.lookups = Lookups(self)

    def call(self, method, *args, empty_ok=False, **kwargs):
        """Xero's JSON answer, an object (``empty_ok``: {} for an empty answer); 400/404
        raise :class:`Refused`, the rest the typed errors."""
        try:
            data = self.adapter._api_call(method, self.tenant, *args, pace=self.tenant,
                                          empty_ok=empty_ok, **kwargs)
        except ProviderError as error:
            if type(error) is ProviderError and error.status in (400, 404):
                raise Refused(error) from error
            raise
        return obj(data if data is not None else {}, "its answer")

    # -- push ----------------------------------------------------------------------------------

    def push(self, records):
        kind = single_kind(records)
        notes = {}

        def elements(record):
            built = xp.build(record, record.remote_id)
            return built if isinstance(built, list) else [built]
        results, creates, updates = self.prepare(records, elements)
        with reading(LABEL), typed_refusals():
            return self._push(kind, records, creates, updates, results, notes)

    def _push(self, kind, records, creates, updates, results, notes):
        creates = self._link_existing(kind, records, creates, results, notes)
        if kind in DOCUMENT_KINDS:
            updates = self._plan_document_updates(kind, records, updates, creates, results,
                                                  notes)
        elif kind in PAYMENT_KINDS:
            self._delete_old_payments(records, updates, creates, results, notes)
            updates = []
        api = Api(self.api, kind)
        creates.sort(key=lambda operation: operation[0])
        self._send(kind, api, api.create, records, creates, results, notes, "create")
        if kind in DOCUMENT_KINDS:
            self._link_number_clashes(kind, records, creates, results, notes)
        elif kind in PAYMENT_KINDS:
            self._link_overpaid(kind, api, records, creates, results, notes)
        self._send(kind, api, api.update, records, updates, results, notes, "update")
        return results

    def _link_existing(self, kind, records, creates, results, notes):
        """:meth:`..matching.Writer.link_existing`; payments by :meth:`_link_payments`."""
        if kind not in PAYMENT_KINDS:
            return self.link_existing(kind, records, creates, results)[0]
        # Only payments a send of which may have gone unanswered.
        unknown = [(i, e) for i, e in creates if records[i].find_existing]
        return [(i, e) for i, e in creates if not records[i].find_existing] + (
            self._link_payments(kind, records, unknown, results, notes, set()) if unknown
            else [])

    def _link_number_clashes(self, kind, records, creates, results, notes):
        """Xero refused a new sales document because its number is taken: link the remote
        one when it is the same document (party and total), else say whose number it is."""
        clashes = [i for i, _e in creates if i not in notes and _refused_for(results[i],
                                                                             "# must be unique")]
        if not clashes:
            return
        decisions = self.lookups.documents(kind, [records[i] for i in clashes])
        claimed = {r.remote_id for r in results if r and r.ok}
        for index, decision in zip(clashes, decisions):
            if decision.candidate:
                results[index] = claim(claimed, records[index].key, decision.candidate, LABEL)
            elif decision.code:
                results[index] = decision.failure(records[index].key)

    def _link_payments(self, kind, records, operations, results, notes, taken, refused=False):
        """Link the payments found in Xero (the rule: :meth:`.lookups.Lookups.payments`);
        return the operations still to send: whole payments, or the missing part of one
        (noted as a :class:`Completion`). ``refused``: they were refused as paying documents
        paid already, and fail when nothing matches (they cannot be created)."""
        decisions = self.lookups.payments(kind, [records[i] for i, _e in operations], taken)
        remaining, claimed = [], set()
        for (index, elements), found in zip(operations, decisions):
            record = records[index]
            there = {n: c for n, c in enumerate(found) if c}
            if elements and len(there) == len(elements):
                results[index] = claim(claimed, record.key, Candidate(
                    id=",".join(c.id for c in found),
                    version=max(c.version or "" for c in found) or None), LABEL)
                if refused and results[index].ok:
                    results[index].noted("overpaid_linked_all", provider=LABEL)
            elif there:
                notes[index] = Completion(there, len(elements), record.number)
                remaining.append((index, [e for n, e in enumerate(elements) if n not in there]))
            elif refused:
                said = results[index].error.params
                results[index] = failed(record.key, "overpaid_unmatched", {
                    name: said.get(name) for name in ("provider", "noun", "record", "text")},
                    REFUSED)
            else:
                remaining.append((index, elements))
        return remaining

    def _link_overpaid(self, kind, api, records, creates, results, notes):
        """New payments Xero refused because a document they pay is paid already: look them
        up, link them (or send only their missing part) when they are there."""
        refused = [(i, e) for i, e in creates if i not in notes
                   and _refused_for(results[i], OVERPAID)]
        if not refused:
            return
        taken = {p for r in results if r and r.ok and r.remote_id for p in r.remote_id.split(",")}
        rest = self._link_payments(kind, records, refused, results, notes, taken, refused=True)
        self._send(kind, api, api.create, records, rest, results, notes, "complete")

    def _send(self, kind, api, method, records, operations, results, notes, operation):
        """Write ``operations`` (index, elements) in requests of at most 50 elements."""
        for chunk in _element_chunks(operations, self.adapter.BATCH_SIZE):
            # a void-and-recreate names the voided document: its create is a new request
            key = digest([operation, kind] + [_keyed(records[i], notes.get(i)) for i, _e in chunk],
                         KEY_LENGTH)
            body = {api.collection: [e for _i, elements in chunk for e in elements]}
            extra = {"unitdp": 4} if api.unitdp else {}
            try:
                answers = self.call(method, body, summarize_errors=False, idempotency_key=key,
                                    **extra).get(api.collection) or []
            except Refused as refused:
                answers = refused.elements
                if not answers:
                    for index, _elements in chunk:
                        replacement = notes.get(index)
                        if isinstance(replacement, Completion):
                            self._delete_payments(replacement.ours)
                        results[index] = failed(records[index].key, *(
                            replacement.failed([str(refused)]) if replacement else refusal(
                                NOUN[kind], record_label(records[index]), [str(refused)])),
                            provider_code=REFUSED)
                    continue
            if not isinstance(answers, list):  # no record's outcome can be read
                error = unreadable_answer(LABEL, "its %s is %s, not a list"
                                          % (api.collection, kind_of(answers)))
                for index, _elements in chunk:
                    results[index] = unreadable(records[index].key, error)
                continue
            position = 0
            for index, elements in chunk:
                mine = answers[position:position + len(elements)]
                position += len(elements)
                results[index] = for_record(LABEL, records[index], self._result, kind, api,
                                            records[index], mine, len(elements),
                                            notes.get(index))

    def _result(self, kind, api, record, answers, expected, replacement):
        if len(answers) != expected:
            return no_answer(record.key, LABEL)
        answers = objects(answers, "the elements answered for this record")
        messages = [m for a in answers for m in errors_of(a)]
        if messages:
            if kind in PAYMENT_KINDS:
                self._delete_payments([xero_id(a.get("PaymentID"), "a PaymentID")
                                       for a in answers
                                       if not errors_of(a) and a.get("PaymentID")]
                                      + (replacement.ours if isinstance(replacement, Completion)
                                         else []))
            code, params = (replacement.failed(messages) if replacement
                            else refusal(NOUN[kind], record_label(record), messages))
            return failed(record.key, code, params, REFUSED)
        last = answers[-1]
        number = (text(last.get("InvoiceNumber"), "its InvoiceNumber")
                  or text(last.get("CreditNoteNumber"), "its CreditNoteNumber"))
        ids = [xero_id(a.get(api.id_field), "its " + api.id_field) for a in answers]
        versions = [xero_time(a.get("UpdatedDateUTC")) for a in answers]
        if isinstance(replacement, Completion):
            ids, versions = replacement.merge(ids, versions)
        result = WriteResult(key=record.key, ok=True, remote_id=",".join(ids),
                             remote_version=max(v or "" for v in versions) or None,
                             remote_number=number, remote_updated_at=latest(versions))
        return replacement.noted(result) if replacement else result

    # -- updates that Xero does not allow in place -----------------------------------------------

    def _read_document(self, kind, remote_id):
        collection = xp.DOCUMENT_TYPES[kind][0]
        method = self.api.get_invoice if collection == "Invoices" else self.api.get_credit_note
        return first_object(self.call(method, remote_id).get(collection), collection)

    def _plan_document_updates(self, kind, records, updates, creates, results, notes):
        """Decide, per AUTHORISED/PAID/voided document, what an update may do (see module
        docstring); returns the updates to send, and adds void-and-recreate to ``creates``."""
        ready = []
        for index, elements in updates:
            record = records[index]
            try:
                remote = self._read_document(kind, record.remote_id)
            except Refused as refused:
                results[index] = failed(record.key, "document_not_found", {
                    "provider": LABEL, "noun": NOUN[kind], "record": record_label(record),
                    "text": str(refused)}, "not_found")
                continue
            status = text(remote.get("Status"), "its Status")
            same = _same_lines(remote, elements[0])
            if status in ("DRAFT", "SUBMITTED"):
                ready.append((index, elements))
            elif status == "AUTHORISED" and same:
                ready.append((index, [xp.header_payload(record, record.remote_id)]))
            elif status == "AUTHORISED":
                results[index] = self._void_and_recreate(kind, record, remote, index, creates,
                                                         notes)
            elif status == "PAID" and same:
                results[index] = written(record.key, record.remote_id, remote).noted(
                    "paid_unchanged", provider=LABEL)
            else:
                params = {"provider": LABEL, "noun": NOUN[kind], "record": record_label(record)}
                if status != "PAID":
                    params["status"] = (status or "removed").lower()
                results[index] = failed(record.key, "paid_locked" if status == "PAID"
                                        else "status_locked", params, "status")
        return ready

    def _void_and_recreate(self, kind, record, remote, index, creates, notes):
        """Void an AUTHORISED document whose lines changed and queue a new one; answers a
        failed result when Xero refuses the void, else None (the create answers later)."""
        try:
            voided = self._void_document(kind, record.remote_id, remote, record.key)
        except Refused as refused:
            return failed(record.key, "void_before_recreate_refused", {
                "provider": LABEL, "noun": NOUN[kind], "record": record_label(record),
                "text": str(refused)}, REFUSED)
        if not voided.ok:
            return voided
        creates.append((index, [xp.build(record)]))
        number = text(remote.get(xp.DOCUMENT_TYPES[kind][2])) or record.remote_id
        notes[index] = Replacement("voided_recreated", "recreate_refused", noun=NOUN[kind],
                                   number=number)
        return None

    def _delete_old_payments(self, records, updates, creates, results, notes):
        """Xero payments cannot be edited: delete the old ones, create the new ones."""
        for index, elements in updates:
            record = records[index]
            problem = self._delete_payments(record.remote_id.split(","))
            if problem:
                results[index] = failed(record.key, "payment_replace_failed", {"text": problem},
                                        REFUSED)
                continue
            creates.append((index, elements))
            notes[index] = Replacement("payments_replaced", "payments_replace_refused")

    def _delete_payments(self, payment_ids, times=None):
        """Delete payments (already deleted ones count); return a problem in words, or None.
        ``times``: a list to which each deleted payment's UpdatedDateUTC (ISO) is added."""
        for payment_id in payment_ids:
            try:
                answer = self.call(self.api.delete_payment, payment_id, xp.PAYMENT_DELETE,
                                   idempotency_key=digest(["delete", payment_id], KEY_LENGTH))
                # Deleted: its answer is read for its time only, never failed for its shape.
                deleted = answer.get("Payments")
                current = (deleted[0] if isinstance(deleted, list) and deleted
                           and isinstance(deleted[0], dict) else {})
            except Refused as refused:
                current = (first_object(self.call(self.api.get_payment, payment_id)
                                        .get("Payments"), "Payments")
                           if refused.status == 400 else {})
                if current.get("Status") != "DELETED":
                    return str(refused)
            stamp = current.get("UpdatedDateUTC")
            if times is not None and isinstance(stamp, str):
                times.append(xero_time(stamp))
        return None

    # -- void and deactivate ---------------------------------------------------------------------

    def void(self, kind, remote_id, _remote_version=None):
        if kind not in PAYMENT_KINDS + DOCUMENT_KINDS + ("journal_entry",):
            raise UsageError("Xero cannot void a %s" % kind)
        try:
            with reading(LABEL):
                if kind in PAYMENT_KINDS:
                    times = []
                    problem = self._delete_payments(str(remote_id).split(","), times)
                    if problem:
                        return failed(str(remote_id), "payment_delete_refused", {
                            "provider": LABEL, "text": problem}, REFUSED)
                    return WriteResult(key=str(remote_id), ok=True, remote_id=str(remote_id),
                                       remote_version=max(times) if times else None,
                                       remote_updated_at=latest(times))
                if kind == "journal_entry":
                    return self._void_journal(remote_id)
                return self._void_document(kind, remote_id,
                                           self._read_document(kind, remote_id),
                                           str(remote_id))
        except Refused as refused:
            return failed(str(remote_id), "void_refused", {
                "provider": LABEL, "noun": NOUN.get(kind, kind), "text": str(refused)}, REFUSED)

    def _void_document(self, kind, remote_id, remote, key):
        status = text(remote.get("Status"), "its Status")
        if status in GONE:
            return written(key, remote_id, remote).noted(
                "already_void", provider=LABEL, status=status.lower())
        if status == "PAID":
            return failed(key, "void_paid", {"provider": LABEL, "noun": NOUN[kind]}, "status")
        new_status = "VOIDED" if status == "AUTHORISED" else "DELETED"
        collection = xp.DOCUMENT_TYPES[kind][0]
        method = (self.api.update_invoice if collection == "Invoices"
                  else self.api.update_credit_note)
        answer = self.call(method, remote_id,
                           {collection: [xp.void_payload(kind, remote_id, new_status)]},
                           idempotency_key=digest(["void", kind, remote_id], KEY_LENGTH))
        return written(key, remote_id, first_object(answer.get(collection), collection))

    def _void_journal(self, remote_id):
        remote = first_object(self.call(self.api.get_manual_journal, remote_id)
                              .get("ManualJournals"), "ManualJournals")
        status = text(remote.get("Status"), "its Status")
        if status in GONE:
            return written(str(remote_id), remote_id, remote).noted(
                "already_void", provider=LABEL, status=status.lower())
        new_status = "DELETED" if status == "DRAFT" else "VOIDED"
        answer = self.call(self.api.update_manual_journal, remote_id, {"ManualJournals": [
            xp.void_payload("journal_entry", remote_id, new_status,
                            text(remote.get("Narration"), "its Narration"))]},
            idempotency_key=digest(["void", "journal_entry", remote_id], KEY_LENGTH))
        return written(str(remote_id), remote_id,
                       first_object(answer.get("ManualJournals"), "ManualJournals"))

    def deactivate(self, kind, remote_id, remote_version=None):
        if kind not in PARTY_KINDS + ("product",):
            raise UsageError("Xero cannot deactivate a %s" % kind)
        key = str(remote_id)
        try:
            with reading(LABEL):
                if kind == "product":
                    self.call(self.api.delete_item, remote_id, empty_ok=True)
                    return WriteResult(key=key, ok=True, remote_id=key)
                answer = self.call(self.api.update_contact, remote_id,
                                   {"Contacts": [xp.archive_contact_payload(remote_id)]},
                                   idempotency_key=digest(["archive", remote_id,
                                                           remote_version or ""], KEY_LENGTH))
                return written(key, key, first_object(answer.get("Contacts"), "Contacts"))
        except Refused as refused:
            if refused.status == 404:
                return WriteResult(key=key, ok=True, remote_id=key).noted("already_gone",
                                                                          provider=LABEL)
            return failed(key, "deactivate_refused", {
                "provider": LABEL, "noun": NOUN[kind], "text": str(refused)}, REFUSED)


def written(key, remote_id, element):
    """A successful result for ``remote_id`` from the Xero record ``element`` it now is: its
    UpdatedDateUTC as the version (ISO) and as ``remote_updated_at``."""
    version = xero_time(element.get("UpdatedDateUTC"))
    return WriteResult(key=key, ok=True, remote_id=str(remote_id), remote_version=version,
                       remote_updated_at=utc_time(version))


def latest(versions):
    """The latest of Xero versions (ISO times) as a naive UTC datetime, None without any."""
    times = [t for t in map(utc_time, versions or ()) if t is not None]
    return max(times) if times else None


def _keyed(record, note):
    """What an ``Idempotency-Key`` is made of for one record: its key, remote id and remote
    version, and the allocations sent when only part of a payment is."""
    parts = "%s:%s:%s" % (record.key, record.remote_id or "", record.remote_version or "")
    if isinstance(note, Completion):
        parts += ":" + ",".join(map(str, note.positions))
    return parts


def _element_chunks(operations, size):
    """Consecutive groups of whole operations holding at most ``size`` elements (a record
    holding more is sent alone)."""
    chunk, count = [], 0
    for operation in operations:
        n = len(operation[1])
        if chunk and count + n > size:
            yield chunk
            chunk, count = [], 0
        chunk.append(operation)
        count += n
    if chunk:
        yield chunk


def _same_lines(remote, element):
    """Whether a remote document has the lines, amounts and currency of the payload."""
    if element.get("CurrencyCode") and remote.get("CurrencyCode") not in (
            None, element["CurrencyCode"]):
        return False
    lines = element.get("LineItems") or []
    remote_lines = objects(remote.get("LineItems"), "its LineItems")
    account = "AccountID" if lines and "AccountID" in lines[0] else "AccountCode"

    def key(line):
        return (line.get("Description") or "", _exact(line.get("Quantity")),
                _exact(line.get("UnitAmount")), cents(line.get("LineAmount")),
                str(line.get(account)), line.get("TaxType") or "NONE",
                cents(line.get("TaxAmount") or 0))
    return sorted(map(key, lines)) == sorted(map(key, remote_lines))


def _exact(value):
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


def _refused_for(result, words):
    """Whether ``result`` is Xero's refusal whose own words hold ``words``."""
    return (not result.ok and getattr(result.error, "provider_code", None) == REFUSED
            and words in (result.error.params.get("text") or ""))

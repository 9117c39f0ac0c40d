"""QuickBooks Online: reading the chart and writing records (the adapter's fetch_chart,
execute — and so push —, void and deactivate), through python-quickbooks' client.

Rules:

* **Batches**: ``POST /batch`` with at most 30 items; each batch carries a ``requestid`` (≤ 36
  characters) and each item a ``bId`` (its position in the batch, ≤ 10 characters), so QBO
  answers a replayed batch with its first response. Single writes (a lone record, a void, a
  deactivation) carry a ``requestid`` of ≤ 50 characters. Items fail one by one: one bad
  record never stops the others.
* **Request keys are deterministic** (the rule in :mod:`..sync_rules`, "Exactly once"): a
  ``requestid`` is the sha256 of the operation and, for each record in the order given, its
  ``key``, remote id and the SyncToken the write carries (the record's ``remote_version``,
  else the one just read; none on a create); a void or deactivation of the remote id, its
  operation and that SyncToken. No uuid, no clock: ``push()`` called again with the same
  records sends the same batches with the same ``requestid`` and ``bId`` values.
* **Before creating** (a retry after a crash may group records differently, so the
  ``requestid`` alone is not enough), existing records are looked up and linked under the
  rules of :mod:`..matching`: customers and vendors by DisplayName (as sent: colons made
  `` - ``, long names shortened, the rule "Names the providers refuse") and e-mail — QBO keeps
  DisplayName unique across customers, vendors and employees (6240), so a customer named like
  an existing vendor (or the reverse) fails with a message suggesting a suffix; items by Sku
  then Name (as sent); invoices, credit memos, bills, vendor credits and journal entries by
  DocNumber (``in (...)``, one query per 30 numbers), linked when party and total match — documents
  only when ``find_existing`` says a send of theirs may have gone unanswered. A 6140
  (duplicate number) answer triggers the same look-up; a second document with the same
  number is never created — except over a *voided* one, which keeps its number in QBO: that
  create is sent alone with ``include=allowduplicatedocnum``. Payments and bill payments
  whose send may have gone unanswered (``find_existing``) are looked up by party and date
  (one query per batch) and linked under the payment rule; a payment QBO refuses with a
  6000 (it applies more to a document than its open balance: the document may be paid by
  this very payment already) is looked up then, linked when it is the same payment, else
  fails with QBO's refusal in plain words and a note that no payment there matched.
* **Updates** are sparse and carry the record's SyncToken (read first when unknown); a 5010
  (stale object) re-reads the entity and retries once with the fresh SyncToken. The new
  SyncToken is returned as ``remote_version``.
* **Void**: Invoice ``operation=void``; CreditMemo, Bill, VendorCredit and JournalEntry have no
  void in QBO and are deleted (``operation=delete``); Payment and BillPayment
  ``operation=update&include=void``. A transaction already deleted in QBO counts as voided.
  **Deactivate**: a sparse ``Active: false`` (customers, vendors, items are never deleted).
* **Times**: every successful write, void and deactivation says when the record last
  changed after it (``WriteResult.remote_updated_at``: its ``MetaData.LastUpdatedTime``, the
  answer's ``time`` for a delete), so the webhook or pull that reports our own write can be
  recognised (with ``remote_version``, the SyncToken).
* **Errors**: 401/403, 429 and 5xx/timeouts raise the typed errors of :mod:`..errors` for the
  whole call; anything about one record becomes that record's failed ``WriteResult`` with a
  message code and its parameters (:func:`.lookups.fault_message`) and QBO's code as its
  ``provider_code``. An answer of the wrong shape raises
  ``ProviderResponseError`` — except an answer about one record (a batch item, a lone
  write's answer), which fails only that record with code ``bad_answer`` (written or not is
  then unknown).
* Journal-entry lines name a party by id only; its entity type (Customer or Vendor) is
  looked up by id (and by name where the id is ambiguous).
"""
import json

from . import payloads
from ..answers import (
    WrongShape, clean, kind_of, obj, reading, text, unreadable_answer, utc_time,
)
from ..documents import JOURNAL_KINDS, PARTY_KINDS, PAYMENT_KINDS, WriteResult
from ..errors import AuthorizationError, ProviderError
from ..matching import Writer, claim
from ..sync_rules import (
    UsageError, chunks, digest, failed, for_record, no_answer, record_label, single_kind,
    unreadable,
)
from .lookups import (
    NUMBER_CLASH, OVERPAID, QBO_ID, Lookups, fault_message, qbo_id,
)
from .payloads import LABEL, NOUN

AUTH_FAULTS = ("AuthenticationFault", "AuthorizationFault", "AUTHENTICATION")


class RecordFault(Exception):
    """QBO refused something about one record (a validation Fault)."""

    def __init__(self, code, message, detail="", element=None):
        super().__init__(message)
        self.code, self.message, self.detail, self.element = code, message, detail, element

    @classmethod
    def from_fault(cls, fault):
        """The first error of a Fault, its texts cleaned; None when it is not shaped as a
        Fault (an object with a list ``Error`` of objects)."""
        errors = fault.get("Error") if isinstance(fault, dict) else None
        if not (isinstance(errors, list) and errors and isinstance(errors[0], dict)):
            return None
        error = errors[0]
        return cls(clean(error.get("code"), 20), clean(error.get("Message")),
                   clean(error.get("Detail")), clean(error.get("element"), 60) or None)

    @classmethod
    def from_error(cls, error):
        """The Fault of a refusal (a ProviderError whose ``answer`` holds it), else the
        refusal's own plain message."""
        answer = error.answer if isinstance(error.answer, dict) else {}
        return (cls.from_fault(answer.get("Fault") or answer.get("fault"))
                or cls(error.provider_code or "", error.message))


class QboWriter(Writer):
    """One realm, one operation: made by the adapter for each call."""

    label = LABEL

    def __init__(self, adapter, client):
        self.adapter = adapter
        self.client = client
        self.lookups = Lookups(self)

    # -- HTTP through python-quickbooks --------------------------------------------------------

    def _url(self, path):
        return "%s/company/%s/%s" % (self.client.api_url, self.client.company_id, path)

    def call(self, method, path, body=None, params=None, request_id=None):
        """GET or POST: QBO's answer, a JSON object; a Fault about the record raises
        :class:`RecordFault`, anything else (authorization, throttling, outage, an answer
        that cannot be read) the typed errors."""
        try:
            if method == "GET":
                return self.adapter._api_call(self.client.get, self._url(path),
                                              params=dict(params or {}))
            return self.adapter._api_call(self.client.post, self._url(path), json.dumps(body),
                                          params=dict(params or {}), request_id=request_id)
        except ProviderError as error:
            if type(error) is ProviderError:  # a refusal about what was sent
                raise RecordFault.from_error(error) from error
            raise

    def query(self, statement):
        """One query page's QueryResponse; every error is typed (a bad query is our bug, not
        the record's)."""
        data = self.adapter._api_call(self.client.query, statement)
        return obj(data.get("QueryResponse") or {}, "its QueryResponse")

    def read_entity(self, entity, remote_id):
        if not QBO_ID.fullmatch(str(remote_id)):  # it goes into the URL path
            raise ProviderError(code="bad_remote_id", params={
                "provider": LABEL, "rule": "it is 1 to 32 digits"})
        return obj(self.call("GET", "%s/%s" % (entity.lower(), remote_id)).get(entity) or {},
                   "the %s in its answer" % entity)

    # -- push ----------------------------------------------------------------------------------

    def push(self, records):
        kind = single_kind(records)
        with reading(LABEL):
            entity_types = (self.lookups.entity_types(records) if kind in JOURNAL_KINDS
                            else None)
        results, creates, updates = self.prepare(records, lambda record: payloads.build(
            record, entity_types, create=not record.remote_id))
        with reading(LABEL):
            creates, over_voided = self.link_existing(kind, records, creates, results)
            for index, body in over_voided:
                results[index] = for_record(LABEL, records[index], self._create_over_voided,
                                            kind, records[index], body)
            updates = self._with_sync_tokens(kind, records, updates, results)
            operations = sorted([(i, "create", body) for i, body in creates]
                                + [(i, "update", body) for i, body in updates],
                                key=lambda o: o[0])
            for chunk in chunks(operations, self.adapter.BATCH_SIZE):
                self._send_batch(kind, records, chunk, results)
            if kind in PAYMENT_KINDS:
                self._link_overpaid(kind, records, creates, results)
        return results

    def _create_over_voided(self, kind, record, body):
        entity = payloads.ENTITY[kind]
        try:
            data = self.call("POST", entity.lower(), body,
                             params={"include": "allowduplicatedocnum"},
                             request_id=digest([_keyed("create_over_voided", record, body)],
                                               50))
        except RecordFault as fault:
            return self._failure(kind, record, fault)
        return self._written(record.key, data.get(entity), data).noted("recreated_over_voided")

    def _with_sync_tokens(self, kind, records, updates, results):
        """Sparse update bodies; SyncTokens the records do not know are read first."""
        entity = payloads.ENTITY[kind]
        unknown = [records[i].remote_id for i, _body in updates if not records[i].remote_version]
        tokens = self.lookups.sync_tokens(entity, unknown)
        ready = []
        for index, body in updates:
            record = records[index]
            token = record.remote_version or tokens.get(str(record.remote_id))
            if token is None:
                results[index] = failed(record.key, "remote_gone", {
                    "provider": LABEL, "noun": NOUN[kind], "id": record.remote_id}, "610")
                continue
            ready.append((index, payloads.sparse(body, record.remote_id, token)))
        return ready

    def _send_batch(self, kind, records, chunk, results):
        if len(chunk) == 1:
            # A lone record goes as a plain write: the 40 batch requests a minute are
            # scarcer than the 500 plain ones.
            index, op, body = chunk[0]
            results[index] = for_record(LABEL, records[index], self._send_one, kind,
                                        records[index], op, body)
            return
        entity = payloads.ENTITY[kind]
        request_id = digest(["batch"] + [_keyed(op, records[i], body) for i, op, body in chunk],
                            36)
        body = payloads.batch_body(entity, [(op, b) for _i, op, b in chunk])
        try:
            data = self.call("POST", "batch", body, request_id=request_id)
        except RecordFault as fault:
            for index, _op, _body in chunk:
                results[index] = self._failure(kind, records[index], fault)
            return
        items = data.get("BatchItemResponse")
        if not isinstance(items, list):  # no record's outcome can be read
            error = unreadable_answer(LABEL, "its BatchItemResponse is %s, not a list"
                                      % kind_of(items))
            for index, _op, _body in chunk:
                results[index] = unreadable(records[index].key, error)
            return
        answers = {}
        for item in items:  # an item without a usable bId answers for no record
            if isinstance(item, dict) and isinstance(item.get("bId"), (str, int)):
                answers.setdefault(str(item["bId"]), item)
        for n, (index, op, item_body) in enumerate(chunk):
            record, answer = records[index], answers.get(str(n))
            if answer is None:
                results[index] = no_answer(record.key, LABEL)
            else:
                results[index] = for_record(LABEL, record, self._item_result, kind, record, op,
                                            item_body, answer)

    def _item_result(self, kind, record, op, body, answer):
        """One batch item's answer: the entity written, or a Fault about the record."""
        if "Fault" not in answer:
            return self._written(record.key, answer.get(payloads.ENTITY[kind]))
        fault = RecordFault.from_fault(answer["Fault"])
        if fault is None:
            raise WrongShape("the Fault of its batch item is not shaped as documented")
        if answer["Fault"].get("type") in AUTH_FAULTS:
            raise AuthorizationError(
                code="refused_authorization", provider_code=fault.code or None,
                params={"provider": LABEL, "text": fault.message or "authorization failed"})
        return self._after_fault(kind, record, op, body, fault)

    def _send_one(self, kind, record, op, body):
        """One create or (sparse) update, keyed like its batch item would be."""
        entity = payloads.ENTITY[kind]
        try:
            data = self.call("POST", entity.lower(), body,
                             request_id=digest([_keyed(op, record, body)], 50))
        except RecordFault as fault:
            return self._after_fault(kind, record, op, body, fault)
        return self._written(record.key, data.get(entity), data)

    def _link_overpaid(self, kind, records, creates, results):
        """New payments QBO refused as applying more to a document than its open balance:
        link the payment already there when it is this one, else keep the refusal and say
        that none matched."""
        refused = [i for i, _body in creates if not results[i].ok
                   and getattr(results[i].error, "provider_code", None) == OVERPAID]
        if not refused:
            return
        taken = {r.remote_id for r in results if r and r.ok and r.remote_id}
        decisions = self.lookups.payments(kind, [records[i] for i in refused], taken)
        for index, decision in zip(refused, decisions):
            key = records[index].key
            if decision.candidate:
                results[index] = claim(taken, key, decision.candidate, LABEL)
                if results[index].ok:
                    results[index].noted("overpaid_linked", provider=LABEL)
            else:
                said = results[index].error.params
                results[index] = failed(key, "overpaid_unmatched", {
                    name: said.get(name) for name in ("provider", "noun", "record", "text")},
                    OVERPAID)

    def _after_fault(self, kind, record, op, body, error):
        """What to do when QBO refused one record's create or update."""
        if error.code == "5010" and op == "update":
            return self._retry_stale(kind, record, body)
        if error.code == NUMBER_CLASH and op == "create":
            decision = self.lookups.documents(kind, [record])[0]
            if decision.candidate:
                return claim(set(), record.key, decision.candidate, LABEL)
            if decision.voided_number:
                return self._create_over_voided(kind, record, body)
            if decision.code:
                return decision.failure(record.key)
            return failed(record.key, *fault_message(kind, record_label(record), error.code,
                                                     error.message, error.detail), NUMBER_CLASH)
        return self._failure(kind, record, error)

    def _retry_stale(self, kind, record, body):
        """5010: someone changed the entity meanwhile; re-read it, retry once."""
        entity = payloads.ENTITY[kind]
        try:
            token = text(self.read_entity(entity, record.remote_id).get("SyncToken"),
                         "its SyncToken")
            body = payloads.sparse(body, record.remote_id, token)
            data = self.call("POST", entity.lower(), body,
                             request_id=digest([_keyed("update", record, body)], 50))
        except RecordFault as fault:
            return self._failure(kind, record, fault)
        return self._written(record.key, data.get(entity), data)

    @staticmethod
    def _failure(kind, record, fault):
        return failed(record.key, *fault_message(kind, _label(kind, record), fault.code,
                                                 fault.message, fault.detail, fault.element),
                      provider_code=fault.code or None)

    @staticmethod
    def _written(key, entity_json, answer=None):
        """The result of a write from the entity QBO answered (an object with a QBO Id);
        ``answer``: the whole answer, whose ``time`` says when a delete (which leaves no
        MetaData) happened."""
        entity_json = obj(entity_json, "the record in its answer")
        return WriteResult(key=key, ok=True,
                           remote_id=qbo_id(entity_json.get("Id"), "the record's Id"),
                           remote_version=text(entity_json.get("SyncToken"),
                                               "the record's SyncToken"),
                           remote_number=text(entity_json.get("DocNumber")
                                              or entity_json.get("PaymentRefNum"),
                                              "the record's number"),
                           remote_updated_at=last_updated(entity_json, answer))

    # -- void and deactivate ---------------------------------------------------------------------

    def void(self, kind, remote_id, remote_version=None):
        if kind not in payloads.VOID_PARAMS:
            raise UsageError("QuickBooks Online cannot void a %s" % kind)

        def attempt(token):
            params, body = payloads.void_request(kind, remote_id, token)
            return self.call("POST", payloads.ENTITY[kind].lower(), body, params=params,
                             request_id=digest(["void", kind, remote_id, token], 50))
        return self._versioned_write(kind, remote_id, remote_version, attempt, gone_ok=True)

    def deactivate(self, kind, remote_id, remote_version=None):
        if kind not in PARTY_KINDS + ("product",):
            raise UsageError("QuickBooks Online cannot deactivate a %s" % kind)

        def attempt(token):
            return self.call("POST", payloads.ENTITY[kind].lower(),
                             payloads.deactivate_body(remote_id, token),
                             request_id=digest(["deactivate", kind, remote_id, token], 50))
        return self._versioned_write(kind, remote_id, remote_version, attempt)

    def _versioned_write(self, kind, remote_id, remote_version, attempt, gone_ok=False):
        """Run ``attempt(sync_token)``, reading the token when unknown and retrying once on a
        5010; the result's key is the remote id. An answer of the wrong shape raises
        ProviderResponseError."""
        with reading(LABEL):
            return self._versioned(kind, remote_id, remote_version, attempt, gone_ok)

    def _versioned(self, kind, remote_id, remote_version, attempt, gone_ok):
        entity, key = payloads.ENTITY[kind], str(remote_id)

        def fresh_token():
            return text(self.read_entity(entity, remote_id).get("SyncToken"), "its SyncToken")
        try:
            try:
                data = attempt(remote_version or fresh_token())
            except RecordFault as fault:
                if fault.code != "5010":
                    raise
                data = attempt(fresh_token())
        except RecordFault as fault:
            if gone_ok and fault.code == "610":
                return WriteResult(key=key, ok=True, remote_id=key).noted(
                    "already_deleted", provider=LABEL)
            return failed(key, *fault_message(kind, key, fault.code, fault.message, fault.detail,
                                              fault.element), provider_code=fault.code or None)
        result = self._written(key, data.get(entity), data)
        result.remote_id = key
        return result


def last_updated(entity_json, answer=None):
    """When QBO says the record last changed (its ``MetaData.LastUpdatedTime``; the answer's
    ``time`` for a record deleted), naive UTC; None when it says neither."""
    meta = entity_json.get("MetaData")
    moment = utc_time(meta.get("LastUpdatedTime")) if isinstance(meta, dict) else None
    if moment is None and isinstance(answer, dict) and (
            entity_json.get("status") == "Deleted" or not meta):
        moment = utc_time(answer.get("time"))
    return moment


def _label(kind, record):
    """How a message names a record: a party or an item by the name it was sent under."""
    if kind in PARTY_KINDS:
        return payloads.display_name(record.name)
    if kind == "product":
        return payloads.item_name(record.name)
    return record_label(record)


def _keyed(op, record, body):
    """What a write's ``requestid`` is made of for one record: the operation, the record's key
    and remote id, and the SyncToken the write carries."""
    return "%s:%s:%s:%s" % (op, record.key, record.remote_id or "", body.get("SyncToken", ""))

"""What an answer means for each record of a request, and what is sent next.

Each record's ``XxxRs`` is found by its ``requestID`` (its 1-based position in the request);
a record the response says nothing about fails with ``no_answer``, every record of a response
that cannot be read with ``bad_answer`` (both: whether it was written is unknown). By status:

==============================  ==========================================================
``0`` (and a 500–999 warning    written: ``remote_id`` (ListID/TxnID), ``remote_version``
with the record)                (EditSequence), ``remote_number`` (RefNumber),
                                ``remote_updated_at`` (TimeModified, naive UTC)
``3100`` on a list add          the name is in use: query it (``clash``); found in the same
                                list → linked by the rules of :mod:`..matching` (same name,
                                case-insensitive, and the e-mails do not disagree; an item of
                                the same type), inactive → ``qbd_name_inactive``, an item of
                                another type → ``qbd_item_type``; not in the list (QuickBooks
                                keeps names unique across customers, vendors, employees and
                                other names) → ``name_taken``
``3200`` on a Mod               stale EditSequence: query the record (``reread``), then send
                                the Mod again with the fresh EditSequence — once; a second
                                3200 → ``stale``
``3170 3175 3176 3180``         QuickBooks was busy with the record → ``qbd_locked`` (the Odoo
                                side sends it again in the next session)
``3120 3140``                   a reference is missing → ``qbd_reference_missing``
                                (``reference_kind``: customer, vendor, product, account, tax,
                                document or record; ``reference``: the id or name QuickBooks
                                named); the record's own ListID/TxnID gone on a Mod →
                                ``remote_gone``
anything else                   ``refused`` (``provider_code``: the statusCode, ``text``: the
                                statusMessage)
==============================  ==========================================================

A look-up before an add (``find``, for records whose ``find_existing`` says a send may have
gone unanswered): found → linked (``linked_existing``), by :mod:`..matching`'s rules —
documents and journal entries: one whose Memo starts with our full number is ours, else the
same number, party and total (another one with our number → ``number_in_use``; bills and
vendor credits may share a number across vendors); payments: :func:`..matching.choose_payment`
(party, date, amount and documents paid, the Memo carrying our number); nothing found
(status 1) → the add is sent. A record linked once per answer: a second record matching the
same remote record fails with ``duplicate_match``.

Removals: voided, deleted or made inactive → ok; the record already gone (3120) → ok, noted
``already_gone``; locks → ``qbd_locked``; else ``void_refused``, ``payment_delete_refused``
or ``deactivate_refused``.
"""
import re

from ..documents import PARTY_KINDS, PAYMENT_KINDS
from ..matching import Candidate, choose_document, choose_party, choose_payment, index
from ..sync_rules import carries_number, cents, failed, no_answer
from . import pending as p
from .qbxml import LABEL, NOUN, parse_own, query_message, to_text, with_edit_sequence
from .reading import decimal, remote_id, text, written

LOCKED = (3170, 3175, 3176, 3180)
NAME_IN_USE, NOT_FOUND, BAD_REFERENCE, STALE = 3100, 3120, 3140, 3200
NOTHING_FOUND = 1
SHARED_NUMBER_KINDS = ("bill", "vendor_credit")  # numbers may repeat across vendors
# The words of a 3140 ("an invalid reference to QuickBooks Customer "Acme" in the Invoice")
# -> reference_kind; a 3120 ("Object "80000001-…" specified in the request cannot be found")
# is placed by the reference element that holds that id.
_REFERENCE = re.compile(r'reference to QuickBooks\s+([A-Za-z ]+?)\s*"([^"]*)"', re.I)
_OBJECT = re.compile(r'"([^"]+)"')
REFERENCE_WORDS = (("customer", "customer"), ("vendor", "vendor"), ("employee", "customer"),
                   ("entity", "customer"), ("payee", "vendor"), ("item sales tax", "tax"),
                   ("sales tax", "tax"), ("tax", "tax"), ("item", "product"),
                   ("account", "account"), ("terms", "terms"))
REFERENCE_ELEMENTS = (("CustomerRef", "customer"), ("VendorRef", "vendor"),
                      ("PayeeEntityRef", "vendor"), ("EntityRef", "customer"),
                      ("ItemRef", "product"), ("SalesTaxCodeRef", "tax"),
                      ("ItemSalesTaxRef", "tax"), ("AppliedToTxnAdd", "document"))


def reference_of(element_text, said):
    """``(reference_kind, reference)`` a 3120/3140 message names: by its words, else by the
    reference element of the request sent that holds the id it names."""
    found = _REFERENCE.search(said or "")
    if found:
        words, name = found.group(1).strip().casefold(), found.group(2)
        kind = next((k for word, k in REFERENCE_WORDS if word in words), "record")
        return kind, name
    found = _OBJECT.search(said or "")
    wanted = found.group(1) if found else None
    if wanted and element_text:
        for node in parse_own(element_text).iter():
            if isinstance(node.tag, str) and (node.text or "").strip() == wanted:
                holder = node.getparent()
                for tag, kind in REFERENCE_ELEMENTS:
                    if holder is not None and holder.tag == tag:
                        return kind, wanted
                if holder is not None and holder.tag.endswith("AccountRef"):
                    return "account", wanted
    return "record", wanted or ""


class Outcomes:
    """Reads one answer for one request (see the module docstring): :meth:`result` per
    record, the follow-up records in :attr:`follow_ups` (Pending s, to be planned into
    requests by the adapter)."""

    def __init__(self):
        self.follow_ups = []
        self.claimed = set()

    # -- one record ---------------------------------------------------------------------------

    def result(self, record, status):
        """The WriteResult of ``record`` (a Pending) given its ``status`` (None: no answer);
        None when a follow-up takes over (the record's result comes with its answer)."""
        if record.action == p.FAIL:
            error = record.error or {}
            return failed(record.key, error.get("code"), error.get("params"), "payload")
        if status is None:
            return no_answer(record.key, LABEL)
        handler = {p.ADD: self._written, p.MOD: self._written, p.DEACTIVATE: self._removed,
                   p.VOID: self._removed, p.DELETE: self._removed, p.FIND: self._found,
                   p.CLASH: self._clash, p.REREAD: self._reread}[record.action]
        return handler(record, status)

    def _written(self, record, status):
        if status.ok and status.rets:
            return written(record.key, status.rets[0])
        if status.code == NAME_IN_USE and record.action == p.ADD and record.obj in (
                "Customer", "Vendor", "ItemService", "ItemNonInventory"):
            self._follow(record, p.CLASH, _query_text(record), said=status.message)
            return None
        if status.code == STALE and record.action in (p.MOD, p.DEACTIVATE):
            if record.attempt:
                return failed(record.key, "stale", {"provider": LABEL,
                                                    "noun": NOUN[record.kind]}, str(STALE))
            self._follow(record, p.REREAD, _reread_text(record), then=record.element,
                         then_action=record.action)
            return None
        return self.failure(record, status)

    def failure(self, record, status):
        """The failed result of a write QuickBooks refused with ``status``."""
        params = {"provider": LABEL, "noun": NOUN[record.kind], "record": record.number or ""}
        code = str(status.code) if status.code is not None else None
        if status.code in LOCKED:
            return failed(record.key, "qbd_locked", params, code)
        if status.code in (NOT_FOUND, BAD_REFERENCE):
            kind, reference = reference_of(record.element, status.message)
            if record.remote_id and (reference == record.remote_id
                                     or (status.code == NOT_FOUND and kind == "record")):
                return failed(record.key, "remote_gone", {
                    "provider": LABEL, "noun": NOUN[record.kind], "id": record.remote_id}, code)
            return failed(record.key, "qbd_reference_missing", dict(
                params, reference_kind=kind, reference=reference, text=status.message), code)
        return failed(record.key, "refused", dict(params, text=status.message or code or ""),
                      code)

    def _removed(self, record, status):
        if status.code == 0 or (status.ok and status.rets):
            ret = status.rets[0] if status.rets else status.node
            result = written(record.key, ret)
            result.remote_id = result.remote_id or record.remote_id
            return result
        if status.code == NOT_FOUND:
            result = written(record.key, status.node)
            result.remote_id = record.remote_id
            return result.noted("already_gone", provider=LABEL)
        if record.action == p.DEACTIVATE and status.code == STALE:
            return self._written(record, status)
        if status.code in LOCKED:
            return self.failure(record, status)
        said = status.message or str(status.code)
        code = str(status.code) if status.code is not None else None
        if record.action == p.VOID:
            return failed(record.key, "void_refused", {
                "provider": LABEL, "noun": NOUN[record.kind], "text": said}, code)
        if record.action == p.DELETE:
            return failed(record.key, "payment_delete_refused",
                          {"provider": LABEL, "text": said}, code)
        return failed(record.key, "deactivate_refused", {
            "provider": LABEL, "noun": NOUN[record.kind], "text": said}, code)

    def _reread(self, record, status):
        if status.ok and status.rets:
            version = text(status.rets[0], "EditSequence")
            again = p.Pending(**dict(vars(record), action=record.then_action or p.MOD,
                                     element=to_text(with_edit_sequence(record.then, version)),
                                     remote_version=version, then=None, then_action=None,
                                     attempt=record.attempt + 1))
            self.follow_ups.append(again)
            return None
        if status.code in (NOTHING_FOUND, NOT_FOUND):
            return failed(record.key, "remote_gone", {
                "provider": LABEL, "noun": NOUN[record.kind], "id": record.remote_id},
                str(status.code))
        return self.failure(record, status)

    # -- look-ups -----------------------------------------------------------------------------

    def _found(self, record, status):
        """The look-up before an add: linked, failed, or the add sent."""
        if status.code == NOTHING_FOUND or (status.ok and not status.rets):
            self._follow(record, p.ADD, record.then)
            return None
        if not status.ok:
            return self.failure(record, status)
        decided = self._decide(record, status.rets)
        if decided is None:
            self._follow(record, p.ADD, record.then)
        return decided

    def _clash(self, record, status):
        """The look-up after 3100: the record of that name in the kind's own list."""
        if status.ok and status.rets:
            decided = self._decide(record, status.rets)
            if decided is not None:
                return decided
        elif status.code not in (NOTHING_FOUND, None) and not status.ok:
            return self.failure(record, status)
        name = record.match.get("name") or record.number
        if record.kind in PARTY_KINDS:
            return failed(record.key, "name_taken", {
                "provider": LABEL, "holder": "customer, vendor or employee", "name": name,
                "suffix": "Vendor" if record.kind == "vendor" else "Customer"},
                str(NAME_IN_USE))
        return failed(record.key, "refused", {
            "provider": LABEL, "noun": NOUN[record.kind], "record": name,
            "text": record.match.get("said") or name}, str(NAME_IN_USE))

    def _decide(self, record, rets):
        """Link, fail, or None (not there: create) for the Rets a look-up found."""
        if record.kind in PARTY_KINDS:
            return self._party(record, rets)
        if record.kind == "product":
            return self._item(record, rets)
        if record.kind in PAYMENT_KINDS:
            return self._payment(record, rets)
        return self._document(record, rets)

    def _link(self, record, ret):
        candidate_id = remote_id(ret)
        if candidate_id in self.claimed:
            return failed(record.key, "duplicate_match", {
                "provider": LABEL, "id": candidate_id,
                "name": text(ret, "FullName") or text(ret, "Name") or text(ret, "RefNumber")
                or candidate_id})
        self.claimed.add(candidate_id)
        return written(record.key, ret, linked_existing=True)

    def _inactive(self, record, ret):
        return failed(record.key, "qbd_name_inactive", {
            "provider": LABEL, "noun": NOUN[record.kind],
            "name": text(ret, "FullName") or text(ret, "Name")})

    def _party(self, record, rets):
        rets = {remote_id(r): r for r in rets}
        candidates = [Candidate(id=i, name=text(r, "FullName") or text(r, "Name"),
                                email=text(r, "Email")) for i, r in rets.items()]
        decision = choose_party(LABEL, NOUN[record.kind], record.match.get("name"),
                                record.match.get("email"), index(candidates, "name"), {})
        if decision.code:
            return decision.failure(record.key)
        if not decision.candidate:
            return None
        ret = rets[decision.candidate.id]
        if text(ret, "IsActive") == "false":
            return self._inactive(record, ret)
        return self._link(record, ret)

    def _item(self, record, rets):
        name = (record.match.get("name") or "").casefold()
        for ret in rets:
            if (text(ret, "FullName") or text(ret, "Name") or "").casefold() != name:
                continue
            if ret.tag != record.obj + "Ret":
                return failed(record.key, "qbd_item_type", {
                    "provider": LABEL, "name": text(ret, "FullName") or text(ret, "Name"),
                    "found": ret.tag[4:-3] or ret.tag, "wanted": record.obj[4:]})
            if text(ret, "IsActive") == "false":
                return self._inactive(record, ret)
            return self._link(record, ret)
        return None

    def _document(self, record, rets):
        match = record.match
        for ret in rets:
            if carries_number(text(ret, "Memo"), match.get("number")):
                return self._link(record, ret)
        by_id = {remote_id(r): r for r in rets}
        candidates = [Candidate(id=i, party=text(r, "CustomerRef/ListID")
                                or text(r, "VendorRef/ListID"), total=_total(r),
                                number=text(r, "RefNumber")) for i, r in by_id.items()]
        decision = choose_document(LABEL, NOUN[record.kind], match.get("number"),
                                   match.get("party"), match.get("total"), candidates,
                                   record.kind not in SHARED_NUMBER_KINDS)
        if decision.code:
            return decision.failure(record.key)
        if decision.candidate:
            return self._link(record, by_id[decision.candidate.id])
        return None

    def _payment(self, record, rets):
        match = record.match
        by_id = {remote_id(r): r for r in rets}
        candidates = [Candidate(
            id=i, party=text(r, "CustomerRef/ListID") or text(r, "PayeeEntityRef/ListID"),
            total=decimal(r, "TotalAmount") if decimal(r, "TotalAmount") is not None
            else decimal(r, "Amount"),
            date=text(r, "TxnDate"), number=text(r, "Memo"),
            allocations=tuple((text(a, "TxnID"), decimal(a, "Amount") or 0)
                              for a in r.findall("AppliedToTxnRet")))
            for i, r in by_id.items()]
        candidate = choose_payment(match.get("number"), match.get("party"), match.get("date"),
                                   match.get("total"), match.get("allocations") or (),
                                   candidates, self.claimed)
        return self._link(record, by_id[candidate.id]) if candidate else None

    # -- follow-ups ---------------------------------------------------------------------------

    def _follow(self, record, action, element, then=None, then_action=None, said=None):
        match = dict(record.match)
        if said:
            match["said"] = said
        self.follow_ups.append(p.Pending(**dict(
            vars(record), action=action, element=element, then=then, then_action=then_action,
            match=match)))


def _total(ret):
    """A document's total as its Ret says it: Subtotal + SalesTaxTotal (invoices, credit
    memos), AmountDue (bills), CreditAmount (vendor credits), the debits (journal entries)."""
    for path in ("TotalAmount", "AmountDue", "CreditAmount"):
        value = decimal(ret, path)
        if value is not None:
            return value
    if ret.find("Subtotal") is not None:
        return (decimal(ret, "Subtotal") or 0) + (decimal(ret, "SalesTaxTotal") or 0)
    debits = [decimal(line, "Amount") or 0 for line in ret.findall("JournalDebitLine")]
    return cents(sum(debits)) if debits else None


def _query_text(record):
    """The clash look-up of a list record: by the name it was sent with."""
    return to_text(query_message("Item" if record.kind == "product" else record.obj, True,
                                 name=record.match.get("name")))


def _reread_text(record):
    """The query for a record's current EditSequence."""
    listed = record.kind in PARTY_KINDS or record.kind == "product"
    obj = "Item" if record.kind == "product" else record.obj
    return to_text(query_message(obj, listed, remote_id=record.remote_id, only=(
        "ListID" if listed else "TxnID", "EditSequence")))

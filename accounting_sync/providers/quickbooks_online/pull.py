"""QuickBooks Online: what changed in a realm, read by Change Data Capture (the adapter's
``changes``; provider-facts 1.7, 8.2), as :mod:`..incoming` records.

* **Types** (cursor keys) are QBO entity names, in the order they are applied
  (:data:`PULL_TYPES`): Customer, Vendor, Item, Invoice, CreditMemo, Bill, VendorCredit,
  Payment, BillPayment, JournalEntry.
* **Windows**: a type's window starts at its cursor minus the overlap (:mod:`..pull`).
  The types whose windows start alike are read in one call, ``GET /cdc?entities=<the
  types>&changedSince=<start>``; its answer's ``time`` ends the window and is their new
  cursor.
* **The cap**: an answer holds at most 1,000 objects (:data:`CDC_CAP`, the adapter's
  ``cdc_cap``), all its entities together, and says nothing when more changed: an answer
  holding that many is no safe checkpoint. CDC bounds a window at its start only, so the
  window is halved towards its end — ``changedSince`` the middle of what is left, again and
  again — until an answer is under the cap: that answer is complete for the later part,
  and the earlier part, now bounded at both ends, is read by the query API (``SELECT *
  FROM <type> WHERE MetaData.LastUpdatedTime >= '<start>' AND MetaData.LastUpdatedTime <
  '<middle>'``, ``STARTPOSITION``/``MAXRESULTS 1000`` pages). When even the last second of
  the window holds a cap of changes, the whole window is read by the query API. The query
  API shows no deleted object: the deleted objects of the capped answers are kept, the
  others deleted in the earlier part are not seen (QBO keeps no other trace of them).
* **Look-back**: CDC reads at most 30 days back (:data:`CDC_LOOKBACK`): a cursor older than
  that less :data:`LOOKBACK_MARGIN`, or one QBO refuses as too old ("… older than fixed
  days is not supported"), reads the type in full by the query API and lists it in
  ``PullResult.reread``; so does a cursor that is None (not listed). A full read's cursor
  is the ``time`` of its first answer. Customers, vendors and items are read active and
  inactive (``Active IN (true, false)``; a query naming no ``Active`` answers active ones
  only).
* **Records**: deleted objects (``status: "Deleted"``) are ``deleted`` (their id only); a
  transaction whose TotalAmt is 0 and whose PrivateNote starts with "Voided" is ``voided``
  (QBO zeroes a voided invoice or payment and notes it so); an inactive customer, vendor or
  item is ``archived``. ``remote_version`` is the SyncToken, as the writer stores it.
  ``operation``: ``delete``, ``void``, else ``create`` for a record never changed since
  (SyncToken 0; without a SyncToken: MetaData's CreateTime is its LastUpdatedTime, which
  QBO gives to the second only), else ``update``; ``occurred_at`` is LastUpdatedTime
  (naive UTC).
"""
from datetime import timedelta
from decimal import Decimal

from .. import pull
from ..answers import flag, number, obj, objects, reading, text, utc_time
from ..base import utcnow
from ..documents import Address
from ..errors import ProviderError
from ..incoming import (
    IncomingAllocation, IncomingDocument, IncomingJournalEntry, IncomingJournalLine,
    IncomingLine, IncomingParty, IncomingPayment, IncomingProduct,
)
from .lookups import PAGE, country_code, qbo_id
from .payloads import ENTITIES, LABEL

PULL_TYPES = ("Customer", "Vendor", "Item", "Invoice", "CreditMemo", "Bill", "VendorCredit",
              "Payment", "BillPayment", "JournalEntry")
CDC_CAP = 1000                       # objects an answer holds at most, all entities together
CDC_LOOKBACK = timedelta(days=30)    # how far back CDC reads
LOOKBACK_MARGIN = timedelta(days=1)  # cursors older than the look-back less this: full read
KIND = {entity.name: kind for kind, entity in ENTITIES.items()}  # entity -> our kind
NAME_LISTS = ("Customer", "Vendor", "Item")
SALES = ("Invoice", "CreditMemo")
PAYMENTS = ("Payment", "BillPayment")
# LinkedTxn.TxnType -> the kind of the document a payment line pays
LINKED_KINDS = {"Invoice": "invoice", "CreditMemo": "credit_note", "Bill": "bill",
                "VendorCredit": "vendor_credit"}
TOO_OLD = ("older than", "look-back", "lookback", "30 days")  # words of the look-back refusal


def stamp(moment):
    """A naive UTC time as QBO reads it in ``changedSince`` and queries."""
    return moment.replace(microsecond=0).isoformat() + "+00:00"


def _ceil_second(moment):
    return moment if not moment.microsecond else (
        moment.replace(microsecond=0) + timedelta(seconds=1))


class QboPull:
    """One ``changes()`` call for one realm (made by the adapter)."""

    def __init__(self, adapter, client, realm, types):
        self.adapter, self.client, self.realm = adapter, client, realm
        self.cap = int(getattr(adapter, "cdc_cap", CDC_CAP) or CDC_CAP)
        self.page = int(getattr(adapter, "query_page", PAGE) or PAGE)
        self.pull = pull.Pull("qbo", realm, types)

    # -- the plan --------------------------------------------------------------------------

    def run(self, cursors):
        cursors = dict(cursors or {})
        oldest = utcnow() - (CDC_LOOKBACK - LOOKBACK_MARGIN)
        windows, full = {}, []
        for entity in self.pull.types:
            start = pull.start_of(cursors.get(entity))
            if start is None:
                full.append(entity)
            elif start < oldest:
                full.append(entity)
                self.pull.reread.append(entity)
            else:
                windows.setdefault(start, []).append(entity)
        order = {t: n for n, t in enumerate(self.pull.types)}
        steps = sorted([(order[types[0]], start, types) for start, types in windows.items()]
                       + [(order[t], None, [t]) for t in full], key=lambda s: s[0])
        for _n, start, types in steps:
            if start is None:
                self.pull.guarded(types, lambda t=types[0]: self._full(t))
            else:
                self.pull.guarded(types, lambda s=start, ts=types: self._window(ts, s))
        return self.pull.finish()

    def _full(self, entity):
        rows, first = self.query(entity)
        self._done(entity, rows, first)

    def _window(self, types, start):
        """Read ``types`` from ``start`` (see the module docstring)."""
        try:
            found, end = self.cdc(types, start)
        except ProviderError as error:
            if not _too_old(error):
                raise
            self.pull.reread += [t for t in types if t not in self.pull.reread]
            for entity in types:
                self.pull.guarded([entity], lambda e=entity: self._full(e))
            return
        if _count(found) < self.cap:
            for entity in types:
                self.pull.guarded([entity], lambda e=entity: self._done(e, found[e], end))
            return
        kept = _deleted(found)  # what a capped answer still tells for sure
        capped = start
        while True:
            middle = _ceil_second(capped + (end - capped) / 2)
            if middle >= end:  # narrower than a second: CDC cannot split it
                break
            later, later_end = self.cdc(types, middle)
            if _count(later) < self.cap:
                for entity in types:
                    self.pull.guarded([entity], lambda e=entity: self._earlier(
                        e, start, middle, kept[e] + later[e], later_end))
                return
            kept = {entity: kept[entity] + rows for entity, rows in _deleted(later).items()}
            capped, end = middle, later_end
        # Even the last second holds a cap of changes: the query API reads the whole window.
        for entity in types:
            self.pull.guarded([entity], lambda e=entity: self._earlier(
                e, start, None, kept[e], None))

    def _earlier(self, entity, start, before, rows, end):
        """``rows`` and what the query API reads of ``entity`` in [start, before); the
        window ends at ``end`` (None: when that read began)."""
        earlier, first = self.query(entity, start, before)
        self._done(entity, earlier + rows, end or first)

    def _done(self, entity, rows, end):
        with reading(LABEL):
            changes = [self.change(entity, row, answered) for row, answered in rows]
        self.pull.done(entity, changes, end)

    # -- the calls ---------------------------------------------------------------------------

    def cdc(self, types, since):
        """One CDC call: ({type: [(row, the answer's time)]}, the answer's time)."""
        asked = utcnow()
        data = self.pull.call(self.adapter._api_call, self.client.change_data_capture,
                              ",".join(types), stamp(since))
        with reading(LABEL):
            data = obj(data, "its answer")
            answered = utc_time(text(data.get("time"), "its time")) or asked
            found = {entity: [] for entity in types}
            for response in objects(data.get("CDCResponse"), "its CDCResponse"):
                for query in objects(response.get("QueryResponse"), "its QueryResponse"):
                    for entity in types:
                        found[entity] += [(row, answered) for row in objects(
                            query.get(entity), "its %s list" % entity)]
        return found, answered

    def query(self, entity, since=None, before=None):
        """Every row of ``entity`` last changed in [since, before) (a missing bound: none),
        page by page: ([(row, its answer's time)], the time of the first answer)."""
        conditions = ["Active IN (true, false)"] if entity in NAME_LISTS else []
        if since is not None:
            conditions.append("MetaData.LastUpdatedTime >= '%s'" % stamp(since))
        if before is not None:
            conditions.append("MetaData.LastUpdatedTime < '%s'" % stamp(before))
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        rows, first, position = [], None, 1
        while True:
            asked = utcnow()
            data = self.pull.call(self.adapter._api_call, self.client.query,
                                  "SELECT * FROM %s%s STARTPOSITION %d MAXRESULTS %d" % (
                                      entity, where, position, self.page))
            with reading(LABEL):
                data = obj(data, "its answer")
                answered = utc_time(text(data.get("time"), "its time")) or asked
                page = objects(obj(data.get("QueryResponse") or {}, "its QueryResponse")
                               .get(entity), "its %s rows" % entity)
            first = first or answered
            rows += [(row, answered) for row in page]
            if len(page) < self.page:
                return rows, first
            position += self.page

    # -- records -----------------------------------------------------------------------------

    def change(self, entity, row, answered):
        """The Change of one row of ``entity`` (read at ``answered``)."""
        row = obj(row, "a %s row" % entity)
        record = record_of(entity, row)
        meta = obj(row.get("MetaData") or {}, "its MetaData")
        updated = utc_time(text(meta.get("LastUpdatedTime"), "its LastUpdatedTime"))
        created = utc_time(text(meta.get("CreateTime"), "its CreateTime"))
        if record.status == "deleted":
            operation = "delete"
        elif record.status == "voided":
            operation = "void"
        elif record.remote_version is not None:  # every change of it increments it
            operation = "create" if record.remote_version == "0" else "update"
        else:
            operation = "create" if created is not None and created == updated else "update"
        kind = KIND[entity]
        return self.pull.change(
            entity, record, kind, (kind,), operation, updated or answered,
            pull.facts(entity=entity, status=record.status, version=record.remote_version,
                       number=getattr(record, "number", None) or None,
                       name=getattr(record, "name", None),
                       total=_total(record)))


# -- reading rows -------------------------------------------------------------------------------

def _too_old(error):
    """Whether QBO refused a CDC call because its changedSince is older than it looks back."""
    words = " ".join(filter(None, [error.params.get("text"), error.message])).lower()
    return type(error) is ProviderError and any(w in words for w in TOO_OLD)


def _count(found):
    return sum(len(rows) for rows in found.values())


def _deleted(found):
    """The deleted objects of an answer, by type."""
    return {entity: [(row, answered) for row, answered in rows
                     if isinstance(row, dict) and row.get("status") == "Deleted"]
            for entity, rows in found.items()}


def _ref(row, key):
    value = row.get(key)
    if not value:
        return None
    return text(obj(value, "its " + key).get("value"), "its %s value" % key)


def _day(value, what):
    return pull.day(text(value, what), what)


def _total(record):
    total = getattr(record, "amount_total", None)
    return total if total is not None else getattr(record, "amount", None)


def is_voided(row):
    """QBO voids a transaction by zeroing its amounts and noting "Voided" first."""
    return (not number(row.get("TotalAmt"), "its TotalAmt", Decimal(0))
            and (text(row.get("PrivateNote"), "its PrivateNote") or "").lower()
            .startswith("voided"))


def status_of(entity, row):
    if row.get("status") == "Deleted":
        return "deleted"
    if entity in NAME_LISTS:
        return "active" if flag(row.get("Active"), True, "its Active") else "archived"
    return "voided" if is_voided(row) else "active"


def record_of(entity, row):
    """One QBO row of ``entity`` as its :mod:`..incoming` record."""
    remote_id = qbo_id(row.get("Id"), "its Id")
    status = status_of(entity, row)
    version = text(row.get("SyncToken"), "its SyncToken")
    kind = KIND[entity]
    if status == "deleted":
        if entity in NAME_LISTS[:2]:
            return IncomingParty(kinds=(kind,), remote_id=remote_id, status=status)
        if entity == "Item":
            return IncomingProduct(remote_id=remote_id, status=status)
        if entity in PAYMENTS:
            return IncomingPayment(kind=kind, remote_id=remote_id, status=status)
        if entity == "JournalEntry":
            return IncomingJournalEntry(remote_id=remote_id, status=status)
        return IncomingDocument(kind=kind, remote_id=remote_id, status=status)
    common = {"remote_id": remote_id, "remote_version": version, "status": status}
    if entity in ("Customer", "Vendor"):
        return _party(kind, row, common)
    if entity == "Item":
        return IncomingProduct(
            name=text(row.get("Name"), "its Name"), code=text(row.get("Sku"), "its Sku"),
            description=text(row.get("Description"), "its Description"),
            sale_price=number(row.get("UnitPrice"), "its UnitPrice"),
            purchase_price=number(row.get("PurchaseCost"), "its PurchaseCost"), **common)
    if entity in PAYMENTS:
        return _payment(entity, kind, row, common)
    if entity == "JournalEntry":
        return _journal(row, common)
    return _document(entity, kind, row, common)


def _party(kind, row, common):
    address = obj(row.get("BillAddr") or {}, "its BillAddr")
    return IncomingParty(
        kinds=(kind,), name=text(row.get("DisplayName"), "its DisplayName"),
        email=text(obj(row.get("PrimaryEmailAddr") or {}, "its PrimaryEmailAddr")
                   .get("Address"), "its e-mail address"),
        phone=text(obj(row.get("PrimaryPhone") or {}, "its PrimaryPhone")
                   .get("FreeFormNumber"), "its phone number"),
        vat=text(row.get("TaxIdentifier"), "its TaxIdentifier"),
        currency=_ref(row, "CurrencyRef"),
        address=Address(
            street=text(address.get("Line1"), "its address line"),
            street2=text(address.get("Line2"), "its address line"),
            city=text(address.get("City"), "its City"),
            zip=text(address.get("PostalCode"), "its PostalCode"),
            state=text(address.get("CountrySubDivisionCode"), "its CountrySubDivisionCode"),
            country_code=country_code(text(address.get("Country"), "its Country")),
        ) if address else None, **common)


def _money_of(row):
    return {"currency": _ref(row, "CurrencyRef"),
            "exchange_rate": number(row.get("ExchangeRate"), "its ExchangeRate")}


def _document(entity, kind, row, common):
    total = number(row.get("TotalAmt"), "its TotalAmt")
    tax = number(obj(row.get("TxnTaxDetail") or {}, "its TxnTaxDetail").get("TotalTax"),
                 "its TotalTax")
    lines = [line for line in map(_line, objects(row.get("Line"), "its lines")) if line]
    untaxed = (total - (tax or 0) if total is not None
               else sum((l.amount or 0 for l in lines), Decimal(0)))
    return IncomingDocument(
        kind=kind, number=text(row.get("DocNumber"), "its DocNumber"),
        reference=(text(row.get("PrivateNote"), "its PrivateNote")
                   or text(obj(row.get("CustomerMemo") or {}, "its CustomerMemo").get("value"),
                           "its CustomerMemo")),
        date=_day(row.get("TxnDate"), "its TxnDate"),
        due_date=_day(row.get("DueDate"), "its DueDate"),
        party_id=_ref(row, "CustomerRef" if entity in SALES else "VendorRef"),
        amount_untaxed=untaxed, amount_tax=tax if tax is not None else Decimal(0),
        amount_total=total, balance=number(row.get("Balance"), "its Balance"), lines=lines,
        **_money_of(row), **common)


def _line(line):
    """A document line (None for a subtotal or a description-only line)."""
    detail_type = text(line.get("DetailType"), "a line's DetailType")
    amount = number(line.get("Amount"), "a line's Amount")
    description = text(line.get("Description"), "a line's Description")
    if detail_type in ("SalesItemLineDetail", "ItemBasedExpenseLineDetail"):
        detail = obj(line.get(detail_type) or {}, "its " + detail_type)
        return IncomingLine(
            description=description, quantity=number(detail.get("Qty"), "a line's Qty"),
            unit_price=number(detail.get("UnitPrice"), "a line's UnitPrice"), amount=amount,
            account_id=_ref(detail, "ItemAccountRef"), tax_id=_ref(detail, "TaxCodeRef"),
            item_id=_ref(detail, "ItemRef"))
    if detail_type == "AccountBasedExpenseLineDetail":
        detail = obj(line.get(detail_type) or {}, "its " + detail_type)
        return IncomingLine(description=description, amount=amount,
                            account_id=_ref(detail, "AccountRef"),
                            tax_id=_ref(detail, "TaxCodeRef"))
    if detail_type == "DiscountLineDetail":
        detail = obj(line.get(detail_type) or {}, "its " + detail_type)
        return IncomingLine(description=description or "Discount",
                            amount=-amount if amount is not None else None,
                            account_id=_ref(detail, "DiscountAccountRef"),
                            tax_id=_ref(detail, "TaxCodeRef"))
    return None


def _payment(entity, kind, row, common):
    allocations = []
    for line in objects(row.get("Line"), "its lines"):
        amount = number(line.get("Amount"), "a line's Amount", Decimal(0))
        for link in objects(line.get("LinkedTxn"), "a line's LinkedTxn"):
            document_kind = LINKED_KINDS.get(text(link.get("TxnType"), "a TxnType"))
            if document_kind:
                allocations.append(IncomingAllocation(
                    document_kind=document_kind,
                    document_id=qbo_id(link.get("TxnId"), "a TxnId"), amount=amount))
    if entity == "Payment":
        party, account = _ref(row, "CustomerRef"), _ref(row, "DepositToAccountRef")
        reference_number = text(row.get("PaymentRefNum"), "its PaymentRefNum")
    else:
        party = _ref(row, "VendorRef")
        account = (_ref(obj(row.get("CheckPayment") or {}, "its CheckPayment"),
                        "BankAccountRef")
                   or _ref(obj(row.get("CreditCardPayment") or {}, "its CreditCardPayment"),
                           "CCAccountRef"))
        reference_number = text(row.get("DocNumber"), "its DocNumber")
    return IncomingPayment(
        kind=kind, date=_day(row.get("TxnDate"), "its TxnDate"), party_id=party,
        amount=number(row.get("TotalAmt"), "its TotalAmt"), account_id=account,
        reference=text(row.get("PrivateNote"), "its PrivateNote"), allocations=allocations,
        number=reference_number, **_money_of(row), **common)


def _journal(row, common):
    lines = []
    for line in objects(row.get("Line"), "its lines"):
        if text(line.get("DetailType"), "a line's DetailType") != "JournalEntryLineDetail":
            continue
        detail = obj(line.get("JournalEntryLineDetail") or {}, "its JournalEntryLineDetail")
        amount = number(line.get("Amount"), "a line's Amount", Decimal(0))
        debit = text(detail.get("PostingType"), "its PostingType") == "Debit"
        entity = obj(detail.get("Entity") or {}, "its Entity")
        lines.append(IncomingJournalLine(
            account_id=_ref(detail, "AccountRef"), debit=amount if debit else Decimal(0),
            credit=Decimal(0) if debit else amount,
            description=text(line.get("Description"), "a line's Description"),
            party_id=_ref(entity, "EntityRef"), tax_id=_ref(detail, "TaxCodeRef")))
    return IncomingJournalEntry(
        number=text(row.get("DocNumber"), "its DocNumber"),
        date=_day(row.get("TxnDate"), "its TxnDate"),
        narration=text(row.get("PrivateNote"), "its PrivateNote"), lines=lines,
        **_money_of(row), **common)

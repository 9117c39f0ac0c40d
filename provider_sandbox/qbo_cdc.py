"""QuickBooks Online Change Data Capture: ``GET /v3/company/{realm}/cdc?entities=A,B&
changedSince=<ISO 8601>``.

What Intuit documents: full payloads of the objects of the entities asked for that changed
at or after ``changedSince``, deleted ones with ``status: "Deleted"``; a look-back of 30
days; at most 1,000 objects in one answer, all entities together (ask for a shorter window
when an answer is full); every entity except JournalCode, TaxAgency, TimeActivity, TaxCode
and TaxRate. What the sandbox had to guess is in README.md ("Change Data Capture").
"""
import copy

from .core import now
from .qbo_accounting import ENTITIES, QBOError, meta_time, parse_time

LOOK_BACK_DAYS = 30
NOT_SUPPORTED = ("JournalCode", "TaxAgency", "TimeActivity", "TaxCode", "TaxRate")
# Entities QBO answers CDC for that the sandbox keeps no records of: always no change.
UNMODELLED = ("Attachable", "Budget", "Class", "CompanyCurrency", "CompanyInfo", "Department",
              "Deposit", "Employee", "Estimate", "PaymentMethod", "Purchase", "PurchaseOrder",
              "RefundReceipt", "SalesReceipt", "Term", "Transfer")


def requested_entities(text):
    """The canonical entity names of ``entities=`` in the order asked, each once."""
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    if not names:
        raise QBOError("2020", "Required parameter entities is missing in the request",
                       "entities")
    known = {name.lower(): name for name in ENTITIES + UNMODELLED + NOT_SUPPORTED}
    result = []
    for name in names:
        canonical = known.get(name.lower())
        if canonical is None or canonical in NOT_SUPPORTED:
            raise QBOError("500", "Operation cdc is not supported for the entity %s (Change "
                                  "Data Capture does not cover %s)"
                           % (name, ", ".join(NOT_SUPPORTED) if canonical else
                              "unknown entities"), "entities")
        if canonical not in result:
            result.append(canonical)
    return result


def changed_since(text):
    """Epoch seconds of ``changedSince`` (no zone: the company's time), checked against
    the look-back."""
    if not text:
        raise QBOError("2020", "Required parameter changedSince is missing in the request",
                       "changedSince")
    since = parse_time(text)
    if since is None:
        raise QBOError("2010", "Property Name:changedSince has an invalid value: %r (an ISO "
                               "8601 date or datetime, e.g. 2026-01-31T09:00:00-08:00)"
                       % text, "changedSince")
    if since < now() - LOOK_BACK_DAYS * 86400:
        raise QBOError("500", "Operation cdc with changedSince date %s which is older than "
                              "fixed days is not supported. (Change Data Capture looks back "
                              "%d days at most, to %s)" % (text, LOOK_BACK_DAYS, meta_time(
                                  now() - LOOK_BACK_DAYS * 86400)), "changedSince")
    return since


def change_data_capture(accounting, books, params):
    """The CDCResponse of one request: the objects changed since ``changedSince``, the
    first ``cdc_max_objects`` of them by LastUpdatedTime (all entities together); per
    entity the active ones (by LastUpdatedTime) and then the deleted ones."""
    entities = requested_entities(params.get("entities"))
    since = changed_since(params.get("changedSince"))
    changed = []  # (time, entity order, numeric Id, entity, payload, deleted)
    for order, entity in enumerate(entities):
        if entity in UNMODELLED:
            continue
        for record in books.records[entity].values():
            stamp = parse_time((record.get("MetaData") or {}).get("LastUpdatedTime"))
            if stamp is not None and stamp >= since:
                changed.append((stamp, order, _number(record["Id"]), entity, record, False))
        for (kind, record_id), when in books.deleted.items():
            if kind == entity and int(when) >= since:
                changed.append((int(when), order, _number(record_id), entity, {
                    "Id": record_id, "status": "Deleted", "domain": "QBO",
                    "MetaData": {"LastUpdatedTime": meta_time(when)}}, True))
    changed.sort(key=lambda c: c[:3])
    changed = changed[:accounting.provider.app.config["cdc_max_objects"]]
    responses = []
    for entity in entities:
        rows = [c for c in changed if c[3] == entity]
        rows.sort(key=lambda c: (c[5], c[0], c[2]))  # active first, then deleted
        if not rows:
            responses.append({})
            continue
        responses.append({entity: [copy.deepcopy(c[4]) for c in rows], "startPosition": 1,
                          "maxResults": len(rows), "totalCount": len(rows)})
    return {"CDCResponse": [{"QueryResponse": responses}]}


def _number(record_id):
    text = str(record_id)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)

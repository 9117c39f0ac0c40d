"""What a remote user does in QuickBooks Online or Xero (``Sandbox.act``): create, update,
void, delete (and merge, QBO name lists) records, through the same functions API writes go
through — the same validation, totals, balances, versions and change log — as a user of
the provider's web app would. Bad input raises ValueError with the provider's message.
"""
import copy

from .core import now
from .qbo_accounting import (COMPUTED_FIELDS, NAME_LISTS, PAYMENTS, QBOError, READ_ONLY,
                             SYSTEM_FIELDS, TRANSACTIONS, bump)
from .xero_accounting import COMPUTED, ID_FIELDS, READ_ONLY as XERO_READ_ONLY

ACTIONS = ("create", "update", "void", "delete", "merge")
QBO_VOIDABLE = ("Invoice", "CreditMemo", "Payment", "BillPayment")
XERO_VOIDABLE = ("Invoices", "CreditNotes", "ManualJournals")
# QBO merge: the references to a name-list record, by entity
MERGE_REFS = {"Customer": "CustomerRef", "Vendor": "VendorRef", "Item": "ItemRef"}


def deep_merge(old, changes):
    """``old`` with ``changes`` merged in: objects merged key by key, anything else (lists
    included) replaced."""
    result = copy.deepcopy(old) if isinstance(old, dict) else {}
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def check_arguments(action, record, record_id, changes):
    if action not in ACTIONS:
        raise ValueError("action must be one of %s" % ", ".join(ACTIONS))
    if action == "create":
        if not isinstance(record, dict):
            raise ValueError("create needs record (a dict)")
        if record_id is not None or changes is not None:
            raise ValueError("create takes a record, not an id or changes")
        return
    if record_id in (None, ""):
        raise ValueError("%s needs the id of the record" % action)
    if record is not None:
        raise ValueError("%s takes an id (and changes), not a record" % action)
    if action in ("update", "merge") and (not isinstance(changes, dict) or not changes):
        raise ValueError("%s needs changes (a non-empty dict)%s" % (
            action, ': {"into": "<Id of the record it is merged into>"}'
            if action == "merge" else ""))
    if action in ("void", "delete") and changes is not None:
        raise ValueError("%s takes no changes" % action)


# -- QuickBooks Online --------------------------------------------------------------------

def qbo_act(accounting, action, entity, realm, record, record_id, changes):
    books = accounting.realm_books(realm)
    entity = accounting.known(entity)
    if action == "create":
        return accounting.seed(entity, record, realm)
    if action == "void" and entity not in QBO_VOIDABLE:
        raise ValueError("QBO voids %s; a %s is deleted instead"
                         % (", ".join(QBO_VOIDABLE), entity))
    if action == "delete" and entity in READ_ONLY and entity != "Account":
        raise ValueError("QBO does not delete %s" % entity)
    if action == "merge" and entity not in MERGE_REFS:
        raise ValueError("QBO merges %s only" % ", ".join(MERGE_REFS))
    record_id = str(record_id)
    old = books.records[entity].get(record_id)
    if old is None:
        raise ValueError("no %s Id=%s in realm %s%s" % (
            entity, record_id, books.realm,
            " (it was deleted)" if (entity, record_id) in books.deleted else ""))
    body = {"Id": record_id, "SyncToken": old["SyncToken"]}
    try:
        if action == "update":
            return qbo_update(accounting, books, entity, old, body, changes)
        if action == "void":
            return accounting.void(books, entity, body)
        if action == "delete":
            if entity in TRANSACTIONS:
                return accounting.delete(books, entity, body)
            if entity in NAME_LISTS:  # QBO "deletes" a name-list record by making it inactive
                return accounting.update(books, entity, dict(body, sparse=True, Active=False),
                                         {"allowduplicatedocnum"}, operation="delete")
            return qbo_read_only_update(accounting, books, entity, old, {"Active": False},
                                        "delete")  # an Account: made inactive too
        return qbo_merge(accounting, books, entity, old, changes)
    except QBOError as e:
        raise ValueError(str(e)) from None


def qbo_update(accounting, books, entity, old, body, changes):
    fixed = [k for k in changes if k in SYSTEM_FIELDS or (
        k in COMPUTED_FIELDS and not (k == "TotalAmt" and entity in PAYMENTS))]
    if fixed:
        raise ValueError("changes may not set %s: QBO sets %s itself"
                         % (", ".join(fixed), "them" if len(fixed) > 1 else "it"))
    if entity == "Account":
        return qbo_read_only_update(accounting, books, entity, old, changes, "update")
    if entity in READ_ONLY:
        raise ValueError("the sandbox keeps %s as seeded (seed new ones)" % entity)
    merged = {k: deep_merge(old[k], v) if isinstance(v, dict) and isinstance(old.get(k), dict)
              else v for k, v in changes.items()}
    return accounting.update(books, entity, dict(body, sparse=True, **merged),
                             {"allowduplicatedocnum"})


def qbo_read_only_update(accounting, books, entity, old, changes, operation):
    """An account renamed, renumbered or made inactive in QBO: stored as changed."""
    record = deep_merge(old, changes)
    if not isinstance(record.get("Active", True), bool):
        raise ValueError("Active must be true or false")
    if record.get("Name"):
        record["FullyQualifiedName"] = record["Name"]
    bump(record)
    books.records[entity][old["Id"]] = record
    accounting.changed(books, entity, old["Id"], operation)
    return copy.deepcopy(record)


def qbo_merge(accounting, books, entity, old, changes):
    """QBO merges a customer, vendor or item into another: the other keeps the
    transactions, this one is gone (deleted, for Change Data Capture); one Merge change
    of the one kept, carrying the ``deletedId``."""
    if set(changes) != {"into"}:
        raise ValueError('merge needs changes={"into": "<Id of the record it is merged '
                         'into>"}')
    target = books.records[entity].get(str(changes["into"]))
    if target is None or target["Id"] == old["Id"] or not target.get("Active", True):
        raise ValueError("%s Id=%s is no other active %s to merge into"
                         % (entity, changes["into"], entity))
    ref = {"value": target["Id"], "name": target.get(NAME_LISTS[entity])}
    for kind in TRANSACTIONS:
        for doc in books.records[kind].values():
            if repoint(doc, entity, old["Id"], ref):
                bump(doc)
                accounting.changed(books, kind, doc["Id"], "update")
    del books.records[entity][old["Id"]]
    books.deleted[(entity, old["Id"])] = now()
    bump(target)
    accounting.changed(books, entity, target["Id"], "merge", {"deletedId": old["Id"]})
    return copy.deepcopy(target)


def repoint(node, entity, source_id, ref):
    """Point the references to ``entity`` ``source_id`` in ``node`` at ``ref``; True if
    there were any."""
    found = False
    if isinstance(node, dict):
        for key, value in node.items():
            if key == MERGE_REFS[entity] and isinstance(value, dict) and str(
                    value.get("value")) == source_id:
                node[key] = dict(ref)
                found = True
            elif (key == "Entity" and isinstance(value, dict) and value.get("Type") == entity
                  and str((value.get("EntityRef") or {}).get("value")) == source_id):
                value["EntityRef"] = dict(ref)
                found = True
            else:
                found = repoint(value, entity, source_id, ref) or found
    elif isinstance(node, list):
        for item in node:
            found = repoint(item, entity, source_id, ref) or found
    return found


# -- Xero -----------------------------------------------------------------------------------

def xero_act(accounting, action, resource, tenant, record, record_id, changes):
    org = accounting.org(tenant)
    resource = accounting.resource(resource)
    if action == "create":
        return accounting.seed(resource, record, tenant)
    if action == "merge":
        raise ValueError("Xero has no merge in its API (archive the contact instead)")
    if resource in XERO_READ_ONLY:
        raise ValueError("the sandbox keeps %s as seeded (seed new ones)" % resource)
    old = accounting.lookup(org, resource, str(record_id))
    if old is None:
        raise ValueError("no %s %s in tenant %s" % (resource, record_id, org.tenant))
    id_field = ID_FIELDS[resource]
    if action == "update":
        fixed = [k for k in changes if k in COMPUTED or k == id_field]
        if fixed:
            raise ValueError("changes may not set %s: Xero sets %s itself"
                             % (", ".join(fixed), "them" if len(fixed) > 1 else "it"))
        element = {k: deep_merge(old[k], v) if isinstance(v, dict) and isinstance(
            old.get(k), dict) else v for k, v in changes.items()}
    elif action == "void":
        if resource not in XERO_VOIDABLE:
            raise ValueError("Xero voids %s%s" % (", ".join(XERO_VOIDABLE), (
                "; a payment is deleted instead" if resource == "Payments" else "")))
        element = {"Status": "VOIDED"}
    elif resource == "Contacts":  # delete: Xero archives a contact
        element = {"ContactStatus": "ARCHIVED"}
    elif resource == "Items":  # Xero really deletes an item (DELETE /Items/{ItemID})
        del org.records["Items"][old[id_field]]
        accounting.changed(org, "Items", old[id_field], "delete")
        return copy.deepcopy(old)
    else:  # documents (DRAFT / SUBMITTED only), journals, payments
        element = {"Status": "DELETED"}
    accounting.remote_edit = True
    try:
        saved, errors = accounting.save(org, resource, element, "POST", old[id_field], 2)
    finally:
        accounting.remote_edit = False
    if errors:
        raise ValueError("; ".join(errors))
    return saved


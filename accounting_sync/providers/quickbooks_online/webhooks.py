"""QuickBooks Online webhooks (provider-facts 1.8, 8.1) as :class:`..base.Change` s.

* **Signature**: header ``intuit-signature``, the base64 HMAC-SHA256 of the raw body with the
  app's *verifier token* (the setting :data:`SECRET`), checked first
  (:func:`..webhooks.verified_body`).
* **Two payloads**, told apart by their shape:

  - legacy, an object ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities":
    [{"id", "operation", "name", "lastUpdated", "deletedId"?}]}}]}``: an event's id is a
    digest of realm, entity, id, operation and ``lastUpdated`` (Intuit's own advice);
  - CloudEvents, an array of ``{"specversion": "1.0", "id", "type":
    "qbo.<entity>.<operation>.v1", "time", "intuitentityid", "intuitaccountid", "data"}``
    (one object alone is read as an array of one): the event's id is its ``id``.

  One delivery may hold events of several realms: each Change says its own ``company_id``.
* **Operations**: Create/created → ``create``, Update/updated → ``update``, Delete/deleted →
  ``delete``, Void/void → ``void``, Merge/merged → ``merge`` (``data.deletedId``: the record
  merged away). ``Emailed`` changes nothing in the books: such events are left out.
* **Types**: the entities we sync map to our kinds (Customer → ``customer``, Item →
  ``product``, CreditMemo → ``credit_note``, Payment → ``customer_payment``, BillPayment →
  ``vendor_payment``...); Account → ``account`` and TaxCode / TaxRate → ``tax`` (mapped, not
  synced); any other entity keeps its own name (``Estimate``). ``data["entity"]`` is the
  entity as QBO names it.
* A body that is not JSON, or neither payload, raises WebhookPayloadError; an event of the
  wrong shape (an id that is no QBO id, a missing time...) is left out (:mod:`..webhooks`).
"""
from .. import webhooks
from ..answers import WrongShape, obj, objects, text
from ..base import Change
from .lookups import qbo_id
from .payloads import ENTITIES, LABEL

SECRET = "webhook_verifier_token"  # the setting holding the verifier token
SECRET_LABEL = "Webhook Verifier Token"
HEADER = "intuit-signature"
OPERATIONS = {"create": "create", "created": "create", "update": "update",
              "updated": "update", "delete": "delete", "deleted": "delete", "void": "void",
              "voided": "void", "merge": "merge", "merged": "merge"}
IGNORED_OPERATIONS = ("emailed",)
# entity (lower case, as CloudEvents spell it) -> (its name, remote_type, kinds)
TYPES = dict({e.name.lower(): (e.name, kind, (kind,)) for kind, e in ENTITIES.items()}, **{
    "account": ("Account", "account", ()), "taxcode": ("TaxCode", "tax", ()),
    "taxrate": ("TaxRate", "tax", ())})


def parse(headers, raw_body, secret):
    """The :class:`..base.Change` s of one delivery (see the module docstring)."""
    body = webhooks.verified_body(LABEL, headers, raw_body, secret, HEADER, SECRET_LABEL)
    data = webhooks.read_json(LABEL, body)
    if isinstance(data, dict) and "specversion" in data:
        data = [data]
    if isinstance(data, list):
        return webhooks.events(LABEL, data, _cloud_event)
    if isinstance(data, dict) and isinstance(data.get("eventNotifications"), list):
        return webhooks.events(LABEL, data["eventNotifications"], _notification)
    raise webhooks.unreadable(LABEL, "it is neither a list of CloudEvents nor an object with "
                                     "eventNotifications")


def _change(event_id, realm, entity, entity_id, operation, moment, data):
    """The Change of one event, or None for an operation that changes nothing."""
    operation = (operation or "").lower()
    if operation in IGNORED_OPERATIONS:
        return None
    if operation not in OPERATIONS:
        raise WrongShape("its operation is not one QuickBooks Online documents")
    entity, remote_type, kinds = TYPES.get(entity.lower(), (entity, entity, ()))
    return Change(event_id=event_id, company_id=realm, remote_type=remote_type,
                  remote_id=entity_id, operation=OPERATIONS[operation], occurred_at=moment,
                  data=dict(data, entity=entity), kinds=kinds)


def _notification(item):
    """One legacy eventNotifications element: the changes of its entities."""
    item = obj(item, "an event notification")
    realm = qbo_id(item.get("realmId"), "its realmId")
    change_event = obj(item.get("dataChangeEvent") or {}, "its dataChangeEvent")
    return webhooks.events(LABEL, objects(change_event.get("entities"), "its entities"),
                           lambda entity: _legacy_entity(realm, entity))


def _legacy_entity(realm, entity):
    entity = obj(entity, "an entity")
    name = text(entity.get("name"), "its entity name", required=True)
    entity_id = qbo_id(entity.get("id"), "its entity id")
    operation = text(entity.get("operation"), "its operation", required=True)
    stamp = text(entity.get("lastUpdated"), "its lastUpdated", required=True)
    data = {}
    if entity.get("deletedId") is not None:
        data["deletedId"] = text(entity.get("deletedId"), "its deletedId")
    return _change(webhooks.event_id("qbo", realm, name, entity_id, operation, stamp), realm,
                   name, entity_id, operation, webhooks.when(stamp, "its lastUpdated"), data)


def _cloud_event(event):
    """One CloudEvent: ``type`` is ``qbo.<entity>.<operation>.v<n>``."""
    event = obj(event, "a CloudEvent")
    parts = (text(event.get("type"), "its type", required=True)).split(".")
    if len(parts) < 3 or parts[0] != "qbo":
        raise WrongShape("its type is not a QuickBooks Online event type")
    return _change(text(event.get("id"), "its id", required=True),
                   qbo_id(event.get("intuitaccountid"), "its intuitaccountid"), parts[1],
                   qbo_id(event.get("intuitentityid"), "its intuitentityid"), parts[2],
                   webhooks.when(event.get("time")),
                   dict(obj(event.get("data") or {}, "its data")))

"""Xero webhooks (provider-facts 2.4, 8.3) as :class:`..base.Change` s.

* **Signature**: header ``x-xero-signature``, the base64 HMAC-SHA256 of the raw body with the
  app's *webhook key* (the setting :data:`SECRET`), checked first
  (:func:`..webhooks.verified_body`). Xero's intent-to-receive is a series of deliveries
  with ``events: []``, some signed correctly and some not: a correct one gives ``[]`` (answer
  200 with an empty body), a wrong one raises WebhookSignatureError (answer 401).
* **Payload**: ``{"events": [{"resourceUrl", "resourceId", "eventDateUtc", "eventType",
  "eventCategory", "tenantId", "tenantType", "data"?}], "firstEventSequence",
  "lastEventSequence", "entropy"}``. Events of several organisations may come in one
  delivery: each Change says its own ``company_id`` (``tenantId``). Xero gives an event no
  id: a Change's ``event_id`` is a digest of tenant, category, resource, type and time.
* **Types**: CONTACT → ``contact`` (a Xero contact is customer and vendor at once: ``kinds``
  both); INVOICE → ``invoice_or_bill`` (the event does not say which: ``kinds`` both);
  CREDITNOTE → ``credit_note`` (``data.Type`` ACCRECCREDIT) or ``vendor_credit``
  (ACCPAYCREDIT), ``credit_note_or_vendor_credit`` without it. Application-level events
  (SUBSCRIPTION, ``tenantType`` APPLICATION) are about the app, not a company: left out.
* **Operations**: only CREATE → ``create`` and UPDATE → ``update`` (a void, an archive or a
  delete arrives as an UPDATE: read the record to know) — except where a credit note's
  ``data.Status`` says VOIDED (``void``) or DELETED (``delete``).
* A body that is not JSON, or without an ``events`` list, raises WebhookPayloadError; an
  event of the wrong shape (an id that is no UUID, a missing time...) is left out
  (:mod:`..webhooks`).
"""
from .. import webhooks
from ..answers import WrongShape, obj, text
from ..base import Change
from .lookups import xero_id
from .payloads import LABEL

SECRET = "webhook_key"  # the setting holding the webhook key
SECRET_LABEL = "Webhook Key"
HEADER = "x-xero-signature"
OPERATIONS = {"CREATE": "create", "UPDATE": "update"}
STATUS_OPERATIONS = {"VOIDED": "void", "DELETED": "delete"}
# eventCategory -> (remote_type, kinds)
CATEGORIES = {
    "CONTACT": ("contact", ("customer", "vendor")),
    "INVOICE": ("invoice_or_bill", ("invoice", "bill")),
    "CREDITNOTE": ("credit_note_or_vendor_credit", ("credit_note", "vendor_credit")),
}
CREDIT_NOTE_TYPES = {"ACCRECCREDIT": "credit_note", "ACCPAYCREDIT": "vendor_credit"}


def parse(headers, raw_body, secret):
    """The :class:`..base.Change` s of one delivery (see the module docstring)."""
    body = webhooks.verified_body(LABEL, headers, raw_body, secret, HEADER, SECRET_LABEL)
    data = webhooks.read_json(LABEL, body)
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise webhooks.unreadable(LABEL, "it is not an object with a list of events")
    return webhooks.events(LABEL, data["events"], _event)


def _event(event):
    """One event's Change, or None for an application-level event."""
    event = obj(event, "an event")
    if (text(event.get("tenantType"), "its tenantType") or "ORGANISATION") != "ORGANISATION":
        return None
    category = text(event.get("eventCategory"), "its eventCategory", required=True)
    event_type = text(event.get("eventType"), "its eventType", required=True)
    if event_type not in OPERATIONS:
        raise WrongShape("its eventType is not one Xero documents")
    tenant = xero_id(event.get("tenantId"), "its tenantId")
    resource = xero_id(event.get("resourceId"), "its resourceId")
    stamp = text(event.get("eventDateUtc"), "its eventDateUtc", required=True)
    data = dict(obj(event.get("data") or {}, "its data"))
    remote_type, kinds = CATEGORIES.get(category, (category.lower(), ()))
    operation = OPERATIONS[event_type]
    if category == "CREDITNOTE":
        kind = CREDIT_NOTE_TYPES.get(text(data.get("Type"), "its credit note Type"))
        if kind:
            remote_type, kinds = kind, (kind,)
        operation = STATUS_OPERATIONS.get(text(data.get("Status"), "its Status"), operation)
    return Change(
        event_id=webhooks.event_id("xero", tenant, category, resource, event_type, stamp,
                                   data.get("Status")),
        company_id=tenant, remote_type=remote_type, remote_id=resource, operation=operation,
        occurred_at=webhooks.when(stamp, "its eventDateUtc"),
        data=dict(data, category=category, resourceUrl=text(event.get("resourceUrl"),
                                                            "its resourceUrl")),
        kinds=kinds)

"""What a queued request carries from one Web Connector call to the next.

QuickBooks Desktop answers a request in a later HTTP call (the Web Connector fetches the
qbXML in ``sendRequestXML`` and hands the response back in ``receiveResponseXML``), so a
:class:`~..base.Request` is stored in the database in between: :func:`dump_request` makes it
JSON, :func:`load_request` gives it back. Its records are then :class:`Pending` s — light
records that keep the original record's ``key`` (the Odoo engine zips a request's records
with its sync states by position and key), its number or name for messages, and what the
answer is read against: the action sent, the remote id and edit sequence, the qbXML message
sent (and the one to send after a query), the attempt counter and what a look-up compares.
"""
import json
from dataclasses import asdict, dataclass, field, fields

from ..base import Request
from ..errors import ProviderResponseError

# Pending.action: what the message sent for the record does.
ADD, MOD, FIND, CLASH, REREAD = "add", "mod", "find", "clash", "reread"
VOID, DELETE, DEACTIVATE, FAIL = "void", "delete", "deactivate", "fail"
ACTIONS = (ADD, MOD, FIND, CLASH, REREAD, VOID, DELETE, DEACTIVATE, FAIL)
DUMP_VERSION = 1


@dataclass
class Pending:
    """One record of a queued request.

    ``key``: the original record's key; ``kind``; ``number``: its Odoo number or name (as
    messages name it); ``action``: one of :data:`ACTIONS` — ``add``/``mod`` write it,
    ``find`` is the look-up before an add (not found: ``then`` is sent), ``clash`` the
    look-up after QuickBooks said its name is in use (3100), ``reread`` the query for a fresh
    EditSequence after 3200 (then ``then`` is sent again with it), ``void``/``delete``/
    ``deactivate`` remove it, ``fail`` was never sent (``error``: its code and params);
    ``obj``: the qbXML object (Customer, ItemService, Invoice...); ``remote_id`` /
    ``remote_version``: ListID or TxnID and EditSequence; ``element``: the qbXML request sent
    (its XML, without requestID); ``then``: the message to send next (``then_action``: as
    what); ``attempt``: how many times a stale EditSequence was refreshed; ``match``: what a
    look-up's answer is compared with (name, e-mail, party, total, numbers, date,
    allocations), JSON values only."""

    key: str
    kind: str
    action: str
    number: str = None
    obj: str = None
    remote_id: str = None
    remote_version: str = None
    element: str = None
    then: str = None
    then_action: str = None
    attempt: int = 0
    match: dict = field(default_factory=dict)
    error: dict = None


@dataclass
class Removal:
    """A record to remove from the company file: a document, payment or journal entry to
    void (payments, which QuickBooks cannot void, are deleted), a customer, vendor or product
    to make inactive. ``service``: a product is an ItemService (else ItemNonInventory);
    ``number``: how messages name it."""

    key: str
    kind: str
    remote_id: str
    remote_version: str = None
    service: bool = True
    number: str = None


_PENDING_FIELDS = {f.name for f in fields(Pending)}


def dump_request(request):
    """``request`` (its records :class:`Pending` s) as JSON text, for the database."""
    return json.dumps({
        "version": DUMP_VERSION, "key": request.key, "kind": request.kind,
        "operation": request.operation, "body": request.body, "size": request.size,
        "records": [asdict(record) for record in request.records],
    }, sort_keys=True)


def load_request(text):
    """The :class:`~..base.Request` :func:`dump_request` wrote; anything else is a
    ProviderResponseError (``unreadable_answer``)."""
    try:
        data = json.loads(text)
        records = [Pending(**{k: v for k, v in item.items() if k in _PENDING_FIELDS})
                   for item in data["records"]]
        return Request(kind=data["kind"], records=records, key=data["key"],
                       body=data.get("body"), size=int(data.get("size") or len(records)),
                       operation=data.get("operation") or "write")
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ProviderResponseError(params={
            "provider": "QuickBooks Desktop",
            "problem": "a stored request cannot be read (%s)" % type(e).__name__}) from None

"""The :mod:`.incoming` records as JSON and back: a change row keeps what was read, so that
it can be applied again later (Apply again) exactly as it was read."""
import dataclasses
import datetime
from decimal import Decimal, InvalidOperation

from . import incoming
from .documents import Address

RECORD_TYPES = {cls.__name__: cls for cls in (
    incoming.IncomingDocument, incoming.IncomingPayment, incoming.IncomingParty,
    incoming.IncomingProduct, incoming.IncomingJournalEntry)}
NESTED = {"lines": incoming.IncomingLine, "allocations": incoming.IncomingAllocation,
          "address": Address}
# what a record's nested lists hold where it is not NESTED's
NESTED_OF = {incoming.IncomingJournalEntry: {"lines": incoming.IncomingJournalLine}}
DECIMALS = {"quantity", "unit_price", "amount", "tax_amount", "exchange_rate",
            "amount_untaxed", "amount_tax", "amount_total", "balance", "sale_price",
            "purchase_price", "debit", "credit"}
DATES = {"date", "due_date"}


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def dump(record):
    """``record`` (an incoming record) as a JSON-ready dict, with its type."""
    if record is None:
        return None
    return dict(_plain(record), __type__=type(record).__name__)


def _value(name, value, nested=None):
    if value is None:
        return None
    if name in NESTED:
        cls = (nested or {}).get(name, NESTED[name])
        if isinstance(value, list):
            return [_build(cls, v) for v in value if isinstance(v, dict)]
        return _build(cls, value) if isinstance(value, dict) else None
    if name in DECIMALS:
        try:
            return Decimal(str(value))
        except (InvalidOperation, ValueError):
            return None
    if name in DATES:
        try:
            return datetime.date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
    if name == "kinds":
        return tuple(value)
    return value


def _build(cls, data):
    names = {f.name for f in dataclasses.fields(cls)}
    nested = NESTED_OF.get(cls)
    return cls(**{k: _value(k, v, nested) for k, v in data.items() if k in names})


def load(data):
    """The incoming record of a :func:`dump` dict (None for anything else)."""
    if not isinstance(data, dict) or data.get("__type__") not in RECORD_TYPES:
        return None
    return _build(RECORD_TYPES[data["__type__"]], data)

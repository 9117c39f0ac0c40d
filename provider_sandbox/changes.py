"""The change log: every write to the books, from the API (the app's own pushes) or from a
remote user (``Sandbox.seed`` / ``Sandbox.act``), one entry per record changed.

It is what the providers' change feeds are made of: QBO webhooks and Xero webhooks
(webhooks.py, a listener of this log), and it is readable from Python
(``Sandbox.change_log``) and over HTTP (``GET /_sandbox/changes``). QBO Change Data Capture
and Xero ``If-Modified-Since`` read the records' own stamps (``MetaData.LastUpdatedTime``,
``UpdatedDateUTC``), which the same writes set from the same clock.

Entries: ``{"seq", "provider", "company", "entity", "id", "operation", "time", "source",
"data"}`` — ``entity`` a QBO entity name ("Invoice") or a Xero resource ("Invoices");
``operation`` one of OPERATIONS; ``time`` the sandbox clock (epoch seconds); ``source``
"api" or "remote"; ``data`` what a webhook needs besides (a QBO merge's ``deletedId``, a
Xero credit note's ``Type`` and ``Status``), else {}.
"""
import itertools
from collections import deque
from contextlib import contextmanager
from datetime import datetime, timezone

from .core import now

OPERATIONS = ("create", "update", "void", "delete", "archive", "merge")
SOURCES = ("api", "remote")
LOG_SIZE = 10000  # entries kept per company


class ChangeLog:
    """Per company (provider, company id), the last LOG_SIZE changes in order. Every
    method runs under the app's lock (the writers hold it)."""

    def __init__(self):
        self.listeners = []  # called with each new entry (under the lock)
        self.clear()

    def clear(self):
        self.logs = {}  # (provider, company) -> deque of entries
        self.sequence = itertools.count(1)
        self.source = "api"

    @contextmanager
    def remote(self):
        """Within it, changes are recorded as made by a remote user."""
        before, self.source = self.source, "remote"
        try:
            yield
        finally:
            self.source = before

    def record(self, provider, company, entity, record_id, operation, data=None):
        if operation not in OPERATIONS:
            raise ValueError("unknown change operation %r" % operation)
        entry = {"seq": next(self.sequence), "provider": provider, "company": company,
                 "entity": entity, "id": str(record_id), "operation": operation,
                 "time": now(), "source": self.source, "data": dict(data or {})}
        self.logs.setdefault((provider, company), deque(maxlen=LOG_SIZE)).append(entry)
        for listener in self.listeners:
            listener(dict(entry, data=dict(entry["data"])))
        return entry

    def entries(self, provider=None, company=None, entity=None, since=None, source=None):
        """Copies of the entries matching every filter given, oldest first; ``since`` epoch
        seconds or an ISO 8601 datetime (entries at or after it)."""
        if source is not None and source not in SOURCES:
            raise ValueError("source must be None or one of %s" % ", ".join(SOURCES))
        stamp = parse_since(since)
        found = [dict(entry, data=dict(entry["data"]))
                 for (p, c), log in self.logs.items()
                 if provider in (None, p) and company in (None, c)
                 for entry in log
                 if (entity is None or entry["entity"].lower() == str(entity).lower())
                 and (stamp is None or entry["time"] >= stamp)
                 and source in (None, entry["source"])]
        return sorted(found, key=lambda entry: entry["seq"])


def parse_since(value):
    """Epoch seconds of ``value`` (a number, a numeric string or an ISO 8601 datetime, UTC
    when it names no zone); None for None; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            return moment.timestamp()
    raise ValueError("since must be epoch seconds or an ISO 8601 datetime, not %r" % (value,))

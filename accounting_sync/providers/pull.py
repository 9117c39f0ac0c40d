"""What every provider's pull (``Adapter.changes``) shares: cursors and windows, one Change
per remote record version read, the reads counted, a type that fails left out while the
others go on. Each provider's ``pull`` module reads its API and turns its records into the
records of :mod:`.incoming`.

* **Cursors** are :func:`.incoming.position` strings: a naive UTC time to the second,
  ``"2026-03-03T10:00:00"``, the provider's own clock wherever its answer says the time (QBO
  ``time``, Xero ``DateTimeUTC``), else ours when the read started. A type's window starts
  at its cursor minus :data:`OVERLAP` (clock skew, records written while the last read ran):
  what the overlap reads again is the same record version, so the same Change ``event_id``
  (:func:`event_id`), which the Odoo side deduplicates on. A cursor that is None (or not a
  position) reads the type in full.
* **Errors**: a type whose read fails (a :class:`~.errors.ProviderError`) goes into
  ``PullResult.failed`` with nothing of it in ``changes`` and no cursor; the other types go
  on — except after an error about the whole company (authorization, throttling:
  :data:`COMPANY_ERRORS`), after which no call is made and the types still to read fail
  with that same error.
* **Reads**: every API call sent counts in ``PullResult.reads`` (a call our own pacing
  refused before sending does not).
"""
from datetime import date, timedelta

from . import webhooks
from .answers import WrongShape
from .base import Change
from .errors import AuthorizationError, ProviderError, RateLimitError
from .incoming import PullResult, moment, position
from .sync_rules import UsageError

OVERLAP = timedelta(minutes=5)
# Errors that concern the whole remote company: the types not yet read are not tried.
COMPANY_ERRORS = (AuthorizationError, RateLimitError)


def start_of(cursor):
    """Where a pull from ``cursor`` starts reading (naive UTC), None for a full read."""
    at = moment(cursor)
    return at - OVERLAP if at is not None else None


def wanted_types(capabilities, types):
    """``types`` (default: every pull type) in the order they are applied; a type the
    provider does not pull is a UsageError (the caller's bug)."""
    known = tuple(capabilities.pull_types)
    if types is None:
        return known
    types = list(types)
    unknown = [t for t in types if t not in known]
    if unknown:
        raise UsageError("%s does not pull %s (it pulls %s)" % (
            capabilities.label, ", ".join(map(str, unknown)), ", ".join(known)))
    return tuple(t for t in known if t in types)


def event_id(provider, company_id, pull_type, remote_id, version):
    """A pulled change's id: the same remote record version read twice is one event."""
    return webhooks.event_id("pull", provider, company_id, pull_type, remote_id, version)


def day(value, what):
    """The date an ISO text (``2026-03-01``, or a time of that day) says, None for none;
    WrongShape when it says none."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise WrongShape("%s is not a date" % what) from None


def facts(**values):
    """``Change.data``: the values given that say something, as JSON-safe texts."""
    return {key: value if isinstance(value, (bool, str)) else str(value)
            for key, value in values.items() if value not in (None, "")}


class Pull:
    """One ``changes()`` call being made: what was read, per type, and the result."""

    def __init__(self, provider, company_id, types):
        self.provider, self.company_id, self.types = provider, company_id, tuple(types)
        self.result = PullResult()
        self.stopped = None      # the company-wide error that stopped the pull
        self.reread = []
        self._read = {}          # pull type -> [Change]

    # -- calls -----------------------------------------------------------------------------

    def call(self, func, *args, **kwargs):
        """``func(*args, **kwargs)``, counted as one read unless our own pacing refused it
        before sending; no call at all once the pull is stopped."""
        if self.stopped is not None:
            raise self.stopped
        self.result.reads += 1
        try:
            return func(*args, **kwargs)
        except RateLimitError as error:
            if error.code == "paced":  # nothing was sent
                self.result.reads -= 1
            raise

    # -- per type ----------------------------------------------------------------------------

    def change(self, pull_type, record, remote_type, kinds, operation, occurred_at, data):
        """The Change of one record version read under ``pull_type``."""
        return Change(
            event_id=event_id(self.provider, self.company_id, pull_type, record.remote_id,
                              record.remote_version or record.status),
            company_id=self.company_id, remote_type=remote_type, remote_id=record.remote_id,
            operation=operation, occurred_at=occurred_at, data=data, kinds=tuple(kinds),
            record=record, pull_type=pull_type)

    def done(self, pull_type, changes, end):
        """``pull_type`` read completely up to ``end`` (naive UTC): its changes (each record
        version once) and its new cursor."""
        unique = {}
        for change in changes:
            unique.setdefault(change.event_id, change)
        self._read[pull_type] = list(unique.values())
        self.result.cursors[pull_type] = position(end)

    def fail(self, types, error):
        """The types ``types`` could not be read: ``error`` (a ProviderError); after a
        company-wide one, no more calls."""
        for pull_type in types:
            self._read.pop(pull_type, None)
            self.result.cursors.pop(pull_type, None)
            self.result.failed[pull_type] = error
        if isinstance(error, COMPANY_ERRORS) and self.stopped is None:
            self.stopped = error

    def guarded(self, types, read):
        """Run ``read()`` for ``types``; a ProviderError fails them (and is not raised)."""
        if self.stopped is not None:
            self.fail(types, self.stopped)
            return
        try:
            read()
        except ProviderError as error:
            self.fail(types, error)

    def finish(self):
        """The PullResult: changes oldest first (then in the order types are applied),
        ``reread`` in that order too (the types read in full that did not fail)."""
        order = {t: n for n, t in enumerate(self.types)}
        changes = [c for t in self.types for c in self._read.get(t, ())]
        changes.sort(key=lambda c: (c.occurred_at, order[c.pull_type], c.remote_id))
        self.result.changes = changes
        self.result.reread = tuple(t for t in self.types
                                   if t in self.reread and t not in self.result.failed)
        return self.result

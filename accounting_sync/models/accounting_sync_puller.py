import json
import logging
from datetime import timedelta

import psycopg2

from odoo import api, fields, models

from ..providers import ProviderError
from ..providers.base import Change
from ..providers.incoming import moment, position
from ..providers.incoming_json import dump

_logger = logging.getLogger(__name__)

# A first pull starts from when the connection was made if that was at most this long ago,
# else from now: a connection older than two-way sync brings no history back (payments
# recorded by hand in Odoo meanwhile would be recorded twice).
FIRST_PULL_LOOKBACK = timedelta(days=1)
# The daily backstop reads at least this far back, whatever the cursors say.
FULL_WINDOW = timedelta(days=1)
# Changes applied per transaction by a committing pull (the scheduled job).
APPLY_CHUNK = 25
# The advisory lock (PULL_LOCK, connection id): one pull or apply of a connection at once.
PULL_LOCK = 7346101


class AccountingSyncPuller(models.AbstractModel):
    """The incremental pull: what changed in the remote company since each remote type's
    cursor is read (QBO Change Data Capture, Xero If-Modified-Since pages), recorded as
    change rows — our own writes left out, each remote version once — applied oldest first
    (:class:`accounting.sync.applier`), and each cursor advanced to what was applied. The
    same path serves the webhooks (which only say that something changed) and the
    schedule."""

    _name = "accounting.sync.puller"
    _description = "Accounting Sync: incremental pull"

    @api.model
    def _pull(self, connection, trigger="pull", full=False, user=None, commit=False,
              keep_empty=True, notified_only=False):
        """Pull and apply the changes of ``connection``; the run it made. ``full``: read
        at least a day back (the daily backstop); ``commit``: commit at the end (the
        scheduled job); ``keep_empty``: keep the run of a pull that read nothing (else it
        is dropped and an empty recordset returned: the cursors say when it read);
        ``notified_only``: read only the remote types the waiting webhook events name (the
        provider says which: Xero's resources are read one by one). False when another
        transaction is pulling this connection."""
        connection = connection.sudo()
        # A committing pull commits on its way (and applies in transactions of its own):
        # it holds the lock for its database session, not for one transaction.
        if not self._lock(connection, wait=False, session=commit):
            return False
        try:
            return self._pull_locked(connection, trigger, full, user, commit, keep_empty,
                                     notified_only)
        finally:
            if commit:
                unlock = "SELECT pg_advisory_unlock(%s, %s)"
                try:
                    self.env.cr.execute(unlock, (PULL_LOCK, connection.id))
                except psycopg2.Error:  # this transaction failed: its caller rolls it back
                    self.env.cr.rollback()  # pylint: disable=invalid-commit
                    self.env.cr.execute(unlock, (PULL_LOCK, connection.id))

    def _pull_locked(self, connection, trigger, full, user, commit, keep_empty,
                     notified_only):
        Run = self.env["accounting.sync.run"].sudo()
        run = Run.create({"connection_id": connection.id, "trigger": trigger,
                          "user_id": (user or self.env.user).id})
        capabilities = connection._capabilities()
        if not capabilities.pulls_changes:
            run._finish("done", self.env._("%(provider)s changes are not pulled.",
                                           provider=connection._provider_label()))
            return run
        now = self.env.cr.now()
        cursors = self._cursors(connection, capabilities.pull_types, now)
        positions = {cursor.remote_type: cursor.position for cursor in cursors}
        if full:
            floor = now - FULL_WINDOW
            positions = {kind: position(min(moment(at) or floor, floor))
                         for kind, at in positions.items()}
        self.env.cr.execute("""
            SELECT max(id) FROM accounting_sync_change
             WHERE connection_id = %s AND source = 'webhook' AND state = 'new'
        """, (connection.id,))
        notified = self.env.cr.fetchone()[0]
        adapter = connection._adapter()
        types = tuple(capabilities.pull_types)
        if notified_only and notified and not full:
            types = tuple(adapter.pull_types_for(self._notifications(connection, notified))) \
                or types
        try:
            result = connection._call_provider(lambda adapter, tokens: adapter.changes(
                tokens, connection.remote_company_id,
                {kind: at for kind, at in positions.items() if kind in types}, types),
                adapter=adapter)
        except ProviderError as e:
            message = connection._message(e)
            cursors.write({"last_error": message})
            run._finish("failed", message)
            self._commit(commit)
            return run
        received = self._record_pulled(connection, result.changes)
        run._count(changes_received=received, reads=result.reads)
        if commit:
            self._apply_in_transactions(connection, run)
        else:
            self.env["accounting.sync.applier"]._apply_changes(connection, run=run)
        self._advance(connection, cursors, result, now)
        if notified and not result.failed:
            self.env["accounting.sync.change"].sudo().search([
                ("connection_id", "=", connection.id), ("source", "=", "webhook"),
                ("state", "=", "new"), ("id", "<=", notified)]).write({
                    "state": "applied", "applied_at": fields.Datetime.now(), "run_id": run.id,
                    "message": self.env._("Read by the pull of %(time)s.",
                                          time=fields.Datetime.to_string(now))})
        outcome = None
        if result.failed:
            outcome = self.env._("Not read this time: %(types)s. %(problem)s", types=", ".join(
                sorted(result.failed)), problem=connection._message(
                    next(iter(result.failed.values()))))
        elif result.reread:
            outcome = self.env._(
                "Read in full, their last pull being older than %(provider)s lets a pull "
                "look back: %(types)s.", provider=connection._provider_label(),
                types=", ".join(result.reread))
        connection.sudo()._write_outside({"last_pull_at": now})
        if not (keep_empty or received or notified or result.failed or result.reread):
            run.unlink()
            self._commit(commit)
            return Run.browse()
        run._finish("partial" if result.failed else None, outcome)
        self._commit(commit)
        return run

    def _apply_in_transactions(self, connection, run):
        """Apply the new changes of ``connection`` :data:`APPLY_CHUNK` at a time, each
        chunk in a transaction of its own, committed: Odoo's payment wizard slows down with
        every environment a transaction has made (2.5× over 200 payments in one), and what
        is applied is kept when a later chunk fails. The rows read are committed first, so
        that those transactions see them; this session's pull lock keeps other pulls
        of the connection out meanwhile."""
        self.env.cr.commit()  # pylint: disable=invalid-commit
        while True:
            with self.env.registry.cursor() as cr:
                env = self.env(cr=cr, su=True)
                changes = env["accounting.sync.change"].search(
                    [("connection_id", "=", connection.id), ("source", "=", "pull"),
                     ("state", "=", "new")], order="occurred_at, id", limit=APPLY_CHUNK)
                if not changes:
                    break
                env["accounting.sync.applier"]._apply_changes(
                    connection.with_env(env), changes, run=run.with_env(env))
        run.invalidate_recordset()

    def _notifications(self, connection, last_id):
        """The waiting webhook events of ``connection`` (up to ``last_id``) as Changes."""
        self.env.cr.execute("""
            SELECT event_id, remote_type, remote_id, operation, occurred_at, data
              FROM accounting_sync_change
             WHERE connection_id = %s AND source = 'webhook' AND state = 'new' AND id <= %s
        """, (connection.id, last_id))
        changes = []
        for event_id, remote_type, remote_id, operation, occurred_at, data in \
                self.env.cr.fetchall():
            try:
                data = json.loads(data or "{}")
            except ValueError:
                data = {}
            changes.append(Change(event_id=event_id, company_id=connection.remote_company_id,
                                  remote_type=remote_type, remote_id=remote_id,
                                  operation=operation, occurred_at=occurred_at,
                                  data=data if isinstance(data, dict) else {}))
        return changes

    def _lock(self, connection, wait=True, session=False):
        """Hold this connection's pull lock until the transaction ends (``session``: until
        it is released, whatever is committed meanwhile); ``wait``: until it is free, else
        False when another transaction holds it."""
        function = "pg_%sadvisory_%slock" % ("" if wait else "try_", "" if session else "xact_")
        self.env.cr.execute("SELECT %s(%%s, %%s)" % function, (PULL_LOCK, connection.id))
        return wait or self.env.cr.fetchone()[0]

    def _commit(self, commit):
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _cursors(self, connection, kinds, now):
        """The cursors of ``connection`` for ``kinds``, made where missing: a first pull
        reads from when the connection was made, or from now when that was more than
        :data:`FIRST_PULL_LOOKBACK` ago."""
        Cursor = self.env["accounting.sync.cursor"].sudo()
        cursors = Cursor.search([("connection_id", "=", connection.id),
                                 ("remote_type", "in", list(kinds))])
        missing = [kind for kind in kinds if kind not in cursors.mapped("remote_type")]
        if missing:
            made = connection.create_date
            start = made if made and made >= now - FIRST_PULL_LOOKBACK else now
            cursors |= Cursor.create([{"connection_id": connection.id, "remote_type": kind,
                                       "position": position(start)} for kind in missing])
        return cursors

    @api.model
    def _record_pulled(self, connection, changes):
        """Record the pulled ``changes``; our own writes (the version a push recorded) and
        versions already recorded are left out. How many rows were new."""
        if not changes:
            return 0
        ids = list({c.remote_id for c in changes if c.remote_id})
        # A Xero payment sent from Odoo over several documents is several Xero payments,
        # bound as one ("id1,id2"): each is ours.
        self.env.cr.execute("""
            SELECT remote_type, remote_id, remote_version, remote_updated_at
              FROM accounting_sync_binding
             WHERE connection_id = %s AND (remote_id = ANY(%s)
                   OR (remote_id LIKE '%%,%%' AND string_to_array(remote_id, ',') && %s))
        """, (connection.id, ids, ids))
        ours, several = {}, {}
        for kind, remote_id, version, updated_at in self.env.cr.fetchall():
            ours[(kind, remote_id)] = version
            if "," in remote_id:
                for part in remote_id.split(","):
                    several[(kind, part)] = updated_at
        rows = []
        for change in changes:
            record = change.record
            version = getattr(record, "remote_version", None)
            if version and any(ours.get((kind, change.remote_id)) == version
                               for kind in change.kinds or ()):
                continue  # our own write, read back
            if getattr(record, "status", None) != "deleted" and any(
                    several.get((kind, change.remote_id)) and change.occurred_at
                    and change.occurred_at <= several[(kind, change.remote_id)]
                    + timedelta(seconds=1) for kind in change.kinds or ()):
                continue  # one of the payments our write made
            rows.append((connection.id, connection.company_id.id, change.event_id, "pull",
                         change.remote_type, change.remote_id, version, change.operation,
                         change.occurred_at, json.dumps(change.data, default=str),
                         json.dumps(dump(record)), change.pull_type))
        return len(self.env["accounting.sync.change"]._insert(rows))

    @api.model
    def _advance(self, connection, cursors, result, now):
        """Move each cursor read completely to where the read ended — or, where a change
        of its type failed, no further than that change (the next pull reads it again)."""
        self.env.cr.execute("""
            SELECT pull_type, min(occurred_at) FROM accounting_sync_change
             WHERE connection_id = %s AND source = 'pull' AND state = 'failed'
             GROUP BY pull_type
        """, (connection.id,))
        held = dict(self.env.cr.fetchall())
        for cursor in cursors:
            kind = cursor.remote_type
            if kind in result.failed:
                cursor.write({"last_error": connection._message(result.failed[kind])})
                continue
            if kind not in result.cursors:
                continue
            target = result.cursors[kind]
            if held.get(kind) and (moment(target) is None or held[kind] < moment(target)):
                target = position(held[kind])
            values = {"position": target, "last_pull_at": now, "last_error": False}
            if kind in result.reread:
                values["reread_at"] = now
            cursor.write(values)

"""The sync engine orchestrates, and only that: the due sync states of a connection (the
queue the synced models keep) → batches, in dependency order → the adapter's plan, each
request recorded before it leaves → the answers → the sync states and the run.

The synced models build their provider-neutral records themselves
(``_accounting_sync_build``, see accounting_sync_mixin); the adapter turns them into API
calls (providers/). Commits happen in one place, :meth:`RunContext.commit`."""
import itertools
import logging
import time
from datetime import timedelta

import psycopg2

from odoo import api, models
from odoo.exceptions import UserError

from ..const import MODEL_OF_KIND
from ..providers import Answer, ProviderError, ProviderUnavailableError, RateLimitError
from ..providers.documents import KINDS
from ..providers.quickbooks_desktop import Removal
from .params import MAX_ATTEMPTS, MAX_TRANSIENT_RETRIES
from .run_context import MappingError, Paused, RunContext

_logger = logging.getLogger(__name__)

# An unanswered send younger than this is made again as it was, under the same request keys
# (the providers answer a repeated key with the first answer); an older one's records are
# looked up in the remote company instead (a provider may forget old keys).
REPLAY_WINDOW = timedelta(hours=1)
# Due sync states taken per round: a run works through the queue a bounded batch at a time.
ROUND_SIZE = 2000


class _Built:
    """A record built to be sent, and the hash of its payload."""

    __slots__ = ("record", "payload_hash")

    def __init__(self, record, payload_hash):
        self.record = record
        self.payload_hash = payload_hash


class AccountingSyncEngine(models.AbstractModel):
    _name = "accounting.sync.engine"
    _description = "Accounting Sync engine"

    # ------------------------------------------------------------------------------------
    # A run
    # ------------------------------------------------------------------------------------

    @api.model
    def _execute(self, run, bindings=None, commit=False, budget=None):
        """Work through the due sync states of ``run.connection_id`` (or ``bindings`` only).
        With ``commit`` (cron), each batch is committed as soon as it is done. With a
        ``budget`` (seconds), the run pauses once it is spent, for the next call to resume.

        The caller has checked the user's rights (the buttons and actions do, before they
        get here); the engine then reads and writes sync state with ``sudo()``, in the
        connection's company (company-dependent values: a product's income account...)."""
        company = run.sudo().connection_id.company_id
        self = self.sudo().with_company(company)  # pylint: disable=self-cls-assignment
        run = run.with_env(self.env)
        bindings = bindings.with_env(self.env) if bindings is not None else None
        connection = run.connection_id
        context = RunContext(self.env, connection, run, commit, budget)
        try:
            connection._check_can_sync()
            self.env["accounting.sync.request"]._forget_answered(connection)
            done = set()
            while True:
                due = self._due(connection, bindings, done)
                if not due:
                    break
                done.update(due.ids)
                self._round(context, due)
                if bindings is not None:
                    break
        except Paused as pause:
            run._pause(pause.remaining)
            return run
        except (RateLimitError, ProviderUnavailableError) as e:
            retry_after = getattr(e, "retry_after", 60)
            _logger.info("Accounting sync: run %s of connection %s interrupted (%s); resuming "
                         "in %ss", run.id, connection.id, e, retry_after)
            run._finish("interrupted", self.env._(
                "%(error)s The sync resumes in %(seconds)s seconds; nothing was lost.",
                error=connection._message(e), seconds=retry_after))
            connection._schedule_sync(seconds=retry_after, outside=True)
            return run
        except (UserError, ProviderError) as e:
            message = e.args[0] if isinstance(e, UserError) else connection._message(e)
            run._finish("failed", message)
            connection._write_outside({"last_error": message})
            return run
        except psycopg2.Error:
            raise  # the transaction is lost: the caller's to handle (cron, request retry)
        except Exception:  # noqa: BLE001 - one unforeseen error must not leave a run running
            _logger.exception("Accounting sync: run %s of connection %s failed", run.id,
                              connection.id)
            run._finish("failed", self.env._(
                "The sync stopped on an unexpected error; what was sent before it is recorded. "
                "The server log has the details for support."))
            return run
        run._finish()
        return run

    @api.model
    def _due(self, connection, bindings, done):
        """The next round of due sync states: pending, to void, or failed with attempts
        left — found through the (connection, state) index, never by reading history."""
        domain = [("connection_id", "=", connection.id), ("id", "not in", list(done)),
                  "|", ("state", "in", ("pending", "to_void")),
                  "&", ("state", "=", "failed"), ("attempts", "<", MAX_ATTEMPTS)]
        if bindings is not None:
            domain = [("id", "in", bindings.ids), ("state", "not in", ("skipped", "synced"))] \
                + domain[1:]
        return self.env["accounting.sync.binding"].search(domain, order="id", limit=ROUND_SIZE)

    def _round(self, context, due):
        """One round: the records to send, kind by kind in dependency order (contacts and
        products before the documents, documents before payments), then the voids."""
        if context.preflight is None:
            context.preflight = self._preflight(context)
        allowed = set(context.connection._allowed_kinds())
        voids = due.filtered(lambda b: b.state == "to_void" or b.error_code == "void_failed")
        for kind in KINDS:
            todo = (due - voids).filtered(lambda b, k=kind: b.remote_type == k)
            if not todo:
                continue
            if kind not in allowed:
                todo.write({"state": "skipped", "last_error": self.env._(
                    "Out of the connection's access scope.")})
                continue
            self._process(context, kind, todo)
        if voids:
            self._void(context, voids)

    def _preflight(self, context):
        """The remote chart (read once) and the pre-flight: the accounts and taxes the due
        records need and lack, said once in the run's outcome."""
        connection = context.connection
        if not connection.remote_record_ids and not context.capabilities.queued:
            # (a queued provider's chart comes with its first link)
            connection._refresh_chart(outside=True)
        preflight = connection._preflight()
        if not preflight.ok:
            context.run.outcome = preflight.summary()
        return preflight

    # ------------------------------------------------------------------------------------
    # One kind, in batches: the adapter's plan, each request recorded before it leaves
    # ------------------------------------------------------------------------------------

    def _process(self, context, kind, bindings):
        """Send ``bindings`` of ``kind``: first the unanswered requests that can be made
        again as they were (same records, same order: the same keys, which the providers
        answer with their first answer), then the others in batches; a record whose last
        request got no answer is looked up before it is created."""
        Request = self.env["accounting.sync.request"]
        model = MODEL_OF_KIND[kind]
        chunks, frozen_members = [], set()
        by_res_id = {b.res_id: b for b in bindings}
        fresh_after = self.env.cr.now() - REPLAY_WINDOW
        frozen = [] if context.capabilities.queued else Request._frozen_sends(
            context.connection, kind, model)
        for key, started, members in frozen:
            if started < fresh_after or not all(res_id in by_res_id for res_id, _h in members):
                continue  # too old to rely on the provider's replay, or a record left
            chunk = self.env["accounting.sync.binding"].browse(
                [by_res_id[res_id].id for res_id, _h in members])
            chunks.append((chunk, key))
            frozen_members.update(res_id for res_id, _h in members)
        rest = bindings.filtered(lambda b: b.res_id not in frozen_members)
        chunks += [(rest[start:start + context.batch_size], None)
                   for start in range(0, len(rest), context.batch_size)]
        for done, (chunk, frozen_key) in enumerate(chunks):
            if context.out_of_time():
                raise Paused(sum(len(c) for c, _k in chunks[done:]))
            self._process_chunk(context, model, chunk, frozen_key)
            context.commit()

    def _process_chunk(self, context, model, chunk, frozen_key):
        """Build the records of ``chunk``, leave the unchanged ones, and send the others
        through the adapter's plan. ``frozen_key``: the unanswered request this chunk made
        before, if it is made again."""
        connection = context.connection
        to_send, hashes = [], {}
        # One recordset for the chunk, so that reading one record prefetches them all.
        records = self.env[model].browse(chunk.mapped("res_id")).exists()
        by_id = {r.id: r for r in records}
        context.preload(records._accounting_sync_references(connection))
        records._accounting_sync_prefetch()
        in_flight = self.env["accounting.sync.request"]._in_flight(
            connection, model, chunk.mapped("res_id"))
        for binding in chunk:
            built = self._build(context, binding, by_id.get(binding.res_id), in_flight)
            if built is not None:
                hashes[binding.id] = built.payload_hash
                to_send.append((binding, built.record))
        if not to_send:
            return
        by_key = {}
        for binding, record in to_send:
            record.key = binding._idempotency_key(hashes[binding.id])
            record.remote_id = binding.remote_id or None
            record.remote_version = binding.remote_version or None
            by_key[record.key] = binding
        if context.capabilities.queued:
            # Its plan builds the request bodies: whether to look a record up first is
            # decided before (a queued request is never made again as it was).
            for binding, record in to_send:
                if hasattr(record, "find_existing"):
                    record.find_existing = binding.res_id in in_flight
        for request in context.adapter.plan([record for _b, record in to_send]):
            # The same request again only if it is made exactly as it was (the same key);
            # else the records that may have reached the provider unanswered are looked up.
            again = request.key == frozen_key
            for record in request.records if not context.capabilities.queued else ():
                if hasattr(record, "find_existing"):
                    record.find_existing = not again and by_key[record.key].res_id in in_flight
            members = self.env["accounting.sync.binding"].browse(
                [by_key[record.key].id for record in request.records])
            self._send(context, request, members, hashes)

    def _build(self, context, binding, record, in_flight):
        """The provider-neutral record ``binding`` sends, or None when there is nothing to
        send (it failed, waits, or is unchanged: its state says so)."""
        connection = context.connection
        if not record:
            self._fail(context, binding, self.env._("The Odoo record was deleted."))
            return None
        foreign = connection._foreign(record)
        if foreign:
            # Never through another company's connection, whoever asks.
            self._fail(context, binding, self.env._(
                "%(record)s belongs to %(company)s; %(connection)s syncs %(own)s only.",
                record=binding.record_name, company=foreign.name,
                connection=connection.name, own=connection.company_id.name))
            return None
        if binding.record_name != record.display_name:
            binding.record_name = record.display_name  # kept current
        if record._accounting_sync_kind(connection) != binding.remote_type:
            # Back to draft, or out of scope, since it was queued: a record never linked is
            # forgotten (posting it again queues it; a send of its that got no answer is
            # still on record, and looked up then), a linked one is left as it is.
            if binding.remote_id:
                binding.write({"state": "synced"})
            else:
                binding.unlink()
            return None
        try:
            built = record._accounting_sync_build(context, binding)
        except MappingError as e:
            self._hold(context, binding, e)
            return None
        payload_hash = binding._payload_hash(built)
        if binding.remote_id and binding.payload_hash == payload_hash and \
                binding.res_id not in in_flight:
            binding.write({"state": "synced", "last_synced_at": self.env.cr.now(),
                           "last_error": False, "error_code": False})
            context.run._count(unchanged=1)
            return None
        return _Built(built, payload_hash)

    def _send(self, context, request, members, hashes):
        """One request of the adapter's plan: recorded (committed) before it leaves, then
        executed at once and its answer applied — or, for a queued provider, left for its
        exchange to fetch and answer (:meth:`_receive`)."""
        Request = self.env["accounting.sync.request"]
        connection = context.connection
        queued = context.capabilities.queued
        if queued and request.body is None:
            # Nothing of it can be sent (every record refused before sending): its answer
            # is known at once.
            self._receive(context, request, Answer(key=request.key), members, hashes)
            return
        Request._start(connection, request, members, hashes,
                       state="queued" if queued else "sent",
                       data=context.adapter.dump_request(request) if queued else None)
        if queued:
            members.write({"state": "waiting", "error_code": "queued", "run_id": context.run.id,
                           "last_error": self.env._("Queued: waiting for %s to fetch it.",
                                                    context.capabilities.label)})
            context.queued_out.append(request)
            return
        answer = self._execute_request(context, request)
        context.run._count(batches=1)
        self._receive(context, request, answer, members, hashes)

    def _receive(self, context, request, answer, members, hashes):
        """The answer to ``request`` (at once, or from a queued provider's exchange): the
        adapter's results on the records' sync states, and its follow-up requests sent in
        turn."""
        results, follow_ups = context.adapter.interpret(request, answer)
        self.env["accounting.sync.request"]._answered(request.key, results)
        # A record carried on by a follow-up (a look-up, then its add) is answered by it.
        followed = {record.key for follow_up in follow_ups for record in follow_up.records}
        for binding, record, result in zip(members, request.records, results):
            if record.key in followed:
                continue
            self._apply(context, binding, record, result, hashes[binding.id],
                        False if result.outcome_unknown else request.key)
        self._wake_blocked(members.filtered(lambda b: b.state == "synced"))
        by_key = dict(zip((r.key for r in request.records), members))
        for follow_up in follow_ups:
            self._send(context, follow_up, self.env["accounting.sync.binding"].browse(
                [by_key[r.key].id for r in follow_up.records]), hashes)
        return results

    def _execute_request(self, context, request):
        """The adapter carries ``request`` out; throttling and outages wait and send the same
        request again (same records, same keys) instead of ending the run, within bounds."""
        connection = context.connection
        failures = 0
        for _attempt in itertools.count():
            try:
                return connection._call_provider(
                    lambda adapter, tokens: adapter.execute(
                        tokens, connection.remote_company_id, request),
                    adapter=context.adapter)
            except RateLimitError as e:
                # Throttled: wait as told (the pacer already closed for it), however often.
                wait = e.retry_after
                if wait > context.max_inline_wait:
                    raise
            except ProviderUnavailableError:
                failures += 1
                if failures > MAX_TRANSIENT_RETRIES:
                    raise
                wait = context.backoff * 2 ** (failures - 1)
            if context.deadline is not None and \
                    time.monotonic() + wait > context.deadline + context.max_inline_wait:
                raise ProviderUnavailableError(self.env._(
                    "%s keeps refusing or failing requests; the sync resumes later.",
                    context.capabilities.label))
            _logger.info("Accounting sync: %s busy or failing for connection %s; sending the "
                         "same request again in %ss", context.capabilities.label,
                         connection.id, wait)
            time.sleep(wait)
        return None  # not reached

    # ------------------------------------------------------------------------------------
    # Answers on sync states
    # ------------------------------------------------------------------------------------

    def _apply(self, context, binding, record, result, payload_hash, send=False):
        """Record the provider's answer for ``binding``; ``send`` is the key of the request
        it answers (accounting.sync.request), when the answer is definite. Only a refusal of
        the record counts as an attempt; an answer that never came (or could not be read)
        leaves the record pending, to be found in the remote company by the next run."""
        run = context.run
        values = {"run_id": run.id, "remote_company_id": context.connection.remote_company_id}
        if send:
            values["answered_send"] = send
        error = result.error
        if result.ok:
            created = not binding.remote_id
            values.update({
                "state": "synced", "remote_id": result.remote_id, "blocked_by_id": False,
                "remote_version": result.remote_version, "attempts": 0,
                "remote_updated_at": getattr(result, "remote_updated_at", None),
                "remote_number": result.remote_number or getattr(record, "number", None),
                "payload_hash": payload_hash, "last_synced_at": self.env.cr.now(),
                "last_error": False, "error_code": False, "request_id": False,
            })
            binding.write(values)
            linked = created and getattr(result, "linked_existing", False)
            run._count(created=1 if created and not linked else 0, linked=1 if linked else 0,
                       updated=0 if created else 1)
            return
        values.update({"last_error": context.connection._message(error),
                       "error_code": getattr(error, "code", None),
                       "request_id": getattr(error, "request_id", None)})
        if result.outcome_unknown:
            values["state"] = "pending"
            binding.write(values)
            run._count(unanswered=1)
        else:
            values.update(state="failed", attempts=binding.attempts + 1)
            binding.write(values)
            run._count(failed=1)

    def _fail(self, context, binding, message):
        binding.write({"state": "failed", "last_error": message, "error_code": "data",
                       "blocked_by_id": False, "attempts": binding.attempts + 1,
                       "run_id": context.run.id})
        context.run._count(failed=1)

    def _hold(self, context, binding, error):
        """A record that cannot be built: it waits for a mapping, is blocked behind another
        record (failed with it if that one failed, else waiting with it), or fails. A
        waiting record is not due: a mapping set, or the record it waits for synced, makes
        it due again."""
        if error.reason == "data":
            self._fail(context, binding, str(error))
            return
        blocker = error.blocker
        failed = error.reason == "blocked" and blocker and blocker.state == "failed"
        binding.write({
            "state": "failed" if failed else "waiting", "last_error": str(error),
            "error_code": error.reason, "run_id": context.run.id,
            "blocked_by_id": blocker.id if blocker and error.reason == "blocked" else False})
        context.run._count(**({"failed": 1} if failed else {"waiting": 1}))

    def _wake_blocked(self, synced):
        """The records that waited for these ones are due again."""
        if synced:
            self.env["accounting.sync.binding"].search([
                ("blocked_by_id", "in", synced.ids), ("state", "in", ("waiting", "failed"))
            ]).write({"state": "pending", "attempts": 0})

    # ------------------------------------------------------------------------------------
    # Voids: cancelled documents and payments that were synced
    # ------------------------------------------------------------------------------------

    def _void(self, context, bindings):
        connection, run = context.connection, context.run
        for done, binding in enumerate(bindings):
            if context.out_of_time():
                raise Paused(len(bindings) - done)
            if not binding.remote_id or binding.voided:
                binding.write({"state": "synced"} if binding.remote_id else {
                    "state": "skipped", "last_error": self.env._("Cancelled before it was "
                                                                 "sent.")})
                continue
            result = connection._call_provider(lambda adapter, tokens, b=binding: adapter.void(
                tokens, connection.remote_company_id, b.remote_type, b.remote_id,
                b.remote_version))
            run._count(batches=1)
            if result.ok:
                binding.write({"state": "synced", "voided": True,
                               "remote_version": result.remote_version, "run_id": run.id,
                               "remote_updated_at": getattr(result, "remote_updated_at", None),
                               "last_synced_at": self.env.cr.now(), "last_error": False})
                run._count(voided=1)
            else:
                binding.write({"state": "failed", "error_code": "void_failed",
                               "last_error": connection._message(result.error),
                               "attempts": binding.attempts + 1, "run_id": run.id})
                run._count(failed=1)
            context.commit()

    # ------------------------------------------------------------------------------------
    # A queued provider: the next request, planned when its exchange asks; its answer later
    # ------------------------------------------------------------------------------------

    @api.model
    def _queued_next(self, context, planned):
        """Plan the next request of a queued provider's exchange from the due sync states
        (kind by kind in dependency order, at most a batch; then the voids), leaving out
        ``planned`` (binding ids already planned in this session: a record left pending by
        its answer waits for the next session instead of looping). Returns the
        providers.Request queued (its row committed, accounting.sync.request), or None when
        nothing is due."""
        connection = context.connection
        Binding = self.env["accounting.sync.binding"]
        if context.preflight is None:
            context.preflight = self._preflight(context)
        allowed = set(connection._allowed_kinds())
        while not context.queued_out:
            base = [("connection_id", "=", connection.id), ("id", "not in", list(planned))]
            # pending, or failed with attempts left (sent again, as the other providers'
            # runs do), but not a void that failed
            due = ["|", ("state", "=", "pending"), "&", ("state", "=", "failed"),
                   ("attempts", "<", MAX_ATTEMPTS), ("error_code", "!=", "void_failed")]
            chunk = None
            for kind in KINDS:
                chunk = Binding.search(base + due + [("remote_type", "=", kind)], order="id",
                                       limit=context.batch_size)
                if chunk:
                    break
            if chunk:
                planned.update(chunk.ids)
                if chunk[0].remote_type not in allowed:
                    chunk.write({"state": "skipped", "last_error": self.env._(
                        "Out of the connection's access scope.")})
                    continue
                self._process_chunk(context, MODEL_OF_KIND[chunk[0].remote_type], chunk, None)
                # A record that waits for another one is planned again once that one is
                # synced (it is due again then, in this session too).
                planned.difference_update(chunk.filtered(
                    lambda b: b.state == "waiting" and b.error_code == "blocked").ids)
                continue
            voids = Binding.search(base + ["|", ("state", "=", "to_void"), "&",
                                           ("state", "=", "pending"),
                                           ("error_code", "=", "void_failed")],
                                   order="id", limit=context.batch_size)
            if not voids:
                return None
            planned.update(voids.ids)
            self._queue_removals(context, voids)
        return context.queued_out.pop(0)

    def _queue_removals(self, context, bindings):
        """Voids of documents and payments, and inactivations of contacts and products, as
        queued requests (QuickBooks Desktop: TxnVoid, TxnDel, Mod with IsActive false)."""
        adapter = context.adapter
        todo = self.env["accounting.sync.binding"]
        for binding in bindings:
            if not binding.remote_id or binding.voided:
                binding.write({"state": "synced"} if binding.remote_id else {
                    "state": "skipped", "last_error": self.env._("Cancelled before it was "
                                                                 "sent.")})
            else:
                todo |= binding
        for kind in KINDS:
            of_kind = todo.filtered(lambda b, k=kind: b.remote_type == k)
            if not of_kind:
                continue
            orders = [Removal(key=binding._idempotency_key("remove:%s" % binding.remote_id),
                              kind=kind, remote_id=binding.remote_id,
                              remote_version=binding.remote_version,
                              service=binding.res_model != "product.product" or self.env[
                                  "product.product"].browse(binding.res_id).type == "service")
                      for binding in of_kind]
            for request in adapter.plan_removals(orders):
                by_key = {order.key: binding for order, binding in zip(orders, of_kind)}
                members = self.env["accounting.sync.binding"].browse(
                    [by_key[r.key].id for r in request.records])
                self._send(context, request, members, {b.id: False for b in members})

    @api.model
    def _queued_answer(self, context, row, raw):
        """The answer ``raw`` (the qbXML response, or None when the connector reported an
        error instead) to the queued request ``row``: the adapter's results on the records'
        sync states, its follow-ups queued (``context.queued_out``). Returns the bindings
        answered and their results, in order."""
        adapter = context.adapter
        request = adapter.load_request(row.records_data)
        members = row.member_ids.sorted("position")
        Binding = self.env["accounting.sync.binding"]
        by_record = {(b.res_model, b.res_id): b for b in Binding.search([
            ("connection_id", "=", context.connection.id),
            ("res_model", "=", row.res_model), ("res_id", "in", members.mapped("res_id"))])}
        # The records still carried by this request, in its order (a record re-planned since
        # belongs to its newer request).
        positions = {member.position: by_record.get((member.res_model, member.res_id))
                     for member in members}
        records, bindings = [], Binding
        for position, record in enumerate(request.records):
            binding = positions.get(position)
            if binding:
                records.append(record)
                bindings |= binding
        if not bindings:
            return bindings, []
        request.records = records
        answer = Answer(key=request.key, raw=raw)
        if request.operation == "write":
            hashes = {m.res_id: m.payload_hash for m in members}
            results = self._receive(context, request, answer, bindings,
                                    {b.id: hashes.get(b.res_id) for b in bindings})
        else:
            results = self._receive_removals(context, request, answer, bindings)
        return bindings, results

    def _receive_removals(self, context, request, answer, bindings):
        results, follow_ups = context.adapter.interpret(request, answer)
        self.env["accounting.sync.request"]._answered(request.key, results)
        run = context.run
        for binding, result in zip(bindings, results):
            if result.ok:
                binding.write({"state": "synced", "voided": True, "run_id": run.id,
                               "remote_version": result.remote_version or binding.remote_version,
                               "answered_send": request.key,
                               "last_synced_at": self.env.cr.now(), "last_error": False,
                               "error_code": False})
                run._count(voided=1)
            elif result.outcome_unknown:
                binding.write({"state": "pending", "error_code": "void_failed",
                               "last_error": context.connection._message(result.error)})
                run._count(unanswered=1)
            else:
                binding.write({"state": "failed", "error_code": "void_failed",
                               "last_error": context.connection._message(result.error),
                               "attempts": binding.attempts + 1, "run_id": run.id})
                run._count(failed=1)
        by_key = dict(zip((r.key for r in request.records), bindings))
        for follow_up in follow_ups:
            self._send(context, follow_up, self.env["accounting.sync.binding"].browse(
                [by_key[r.key].id for r in follow_up.records]), {b.id: False for b in bindings})
        return results

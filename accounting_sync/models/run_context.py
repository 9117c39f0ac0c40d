"""What one sync run knows while it works: the connection, its mappings and the sync states
it has read (cached), its clock and its commits. The synced models build their records
through it (``account_ref``, ``dependency_ref``...)."""
import time
from datetime import timedelta
from decimal import Decimal

from ..const import PARAM_RETRY_BACKOFF
from ..providers import documents as doc
from .params import positive_param, run_lease_seconds

# A committing (cron) run may wait a little longer for a throttled provider than a run
# inside a user's request.
INLINE_WAIT_CRON = 60.0     # seconds
INLINE_WAIT_REQUEST = 15.0  # seconds


class MappingError(Exception):
    """A record cannot be built, in plain words. ``reason``: ``mapping`` (an account or tax
    has no counterpart yet: the record waits, it has not failed), ``blocked`` (a record it
    needs is not synced: ``blocker`` is that record's sync state) or ``data`` (the record
    itself cannot be sent: it fails)."""

    def __init__(self, message, reason="data", blocker=None):
        super().__init__(message)
        self.reason = reason
        self.blocker = blocker


class Paused(Exception):
    """The run used its time: ``remaining`` records (at least) wait for the next call."""

    def __init__(self, remaining):
        super().__init__(remaining)
        self.remaining = remaining


def dec(value, digits=2):
    return Decimal(str(round(value or 0.0, digits)))


class RunContext:
    """One run's state: see the module docstring."""

    def __init__(self, env, connection, run, commit, budget=None):
        self.env = env
        self.connection = connection
        self.run = run
        self.do_commit = commit
        self.capabilities = connection._capabilities()
        self.batch_size = self.capabilities.batch_size
        self._adapter = None
        self.deadline = time.monotonic() + budget if budget is not None else None
        self.max_inline_wait = INLINE_WAIT_CRON if commit else INLINE_WAIT_REQUEST
        self.backoff = positive_param(env, PARAM_RETRY_BACKOFF, 2.0)
        self.preflight = None
        if self.capabilities.queued:  # QuickBooks Desktop: requests per exchange, as set
            self.batch_size = max(connection.qbwc_batch_size or self.batch_size, 1)
        # A queued provider's requests planned in this transaction, not yet fetched.
        self.queued_out = []
        self._accounts = {}
        self._taxes = {}
        self._bindings = {}

    @property
    def adapter(self):
        """The connection's adapter, built once per run."""
        if self._adapter is None:
            self._adapter = self.connection._adapter()
        return self._adapter

    # -- time and commits ----------------------------------------------------------------------

    def commit(self):
        """The one place a run commits (per batch, in the cron): what was sent is recorded
        at once, and the run's lease renewed."""
        if self.do_commit:
            self.run.lease_until = self.env.cr.now() + timedelta(
                seconds=run_lease_seconds(self.env))
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def out_of_time(self):
        return self.deadline is not None and time.monotonic() >= self.deadline

    # -- references ------------------------------------------------------------------------------

    def account_ref(self, account):
        return self._mapped_ref(account, self._accounts, self.env._("Account"))

    def optional_account_ref(self, account):
        try:
            return self.account_ref(account) if account else None
        except MappingError:
            return None

    def tax_ref(self, tax):
        return self._mapped_ref(tax, self._taxes, self.env._("Tax"))

    def _mapped_ref(self, record, cache, label):
        """The remote account or tax ``record`` maps to; a MappingError naming it if none."""
        if record.id not in cache:
            argument = "accounts" if record._name == "account.account" else "taxes"
            cache[record.id] = self.env["accounting.sync.mapping"]._match(
                self.connection, **{argument: record}).remote_record_id
        remote = cache[record.id]
        if not remote:
            raise MappingError(reason="mapping", message=self.env._(
                "%(label)s %(record)s has no counterpart in %(remote)s: map it under "
                "Accounting Sync → Mappings.", label=label, record=record.display_name,
                remote=self.connection.remote_company_name))
        return doc.Ref(remote.remote_id, remote.name)

    def preload(self, records):
        """Read the sync states of ``records`` (one query per model) before building a batch
        that references them, instead of one query per reference."""
        Binding = self.env["accounting.sync.binding"]
        for model in {r._name for r in records}:
            ids = {r.id for r in records if r._name == model} - {
                record_id for (name, record_id) in self._bindings if name == model}
            if not ids:
                continue
            found = Binding.search([("connection_id", "=", self.connection.id),
                                    ("res_model", "=", model), ("res_id", "in", list(ids))])
            for binding in found:
                self._bindings[(model, binding.res_id)] = binding
            for record_id in ids - set(found.mapped("res_id")):
                self._bindings[(model, record_id)] = Binding

    def binding_of(self, record):
        key = (record._name, record.id)
        if key not in self._bindings:
            self._bindings[key] = self.env["accounting.sync.binding"].search([
                ("connection_id", "=", self.connection.id), ("res_model", "=", record._name),
                ("res_id", "=", record.id)], limit=1)
        return self._bindings[key]

    def dependency_ref(self, record):
        """The remote record of ``record``, which must be synced before the record that
        needs it; a ``blocked`` MappingError if it is not."""
        binding = self.binding_of(record)
        if not binding or not binding.remote_id:
            reason = binding.last_error if binding else self.env._("not synced yet")
            raise MappingError(self.env._(
                "%(record)s must be synced first: %(reason)s",
                record=record.display_name, reason=reason or self.env._("not synced yet")),
                reason="blocked", blocker=binding or None)
        return doc.Ref(binding.remote_id, record.display_name)

    def item_ref(self, product, kind):
        """The remote item of a line: its product's; for a line without product, the
        connection's Default Product where the provider needs an item (QBO sales lines),
        else none (an account-based line)."""
        if not product and kind in self.capabilities.item_required_kinds:
            product = self.connection.default_product_id
            if not product:
                raise MappingError(self.env._(
                    "A line has no product, and %s needs one on this kind of document: set "
                    "a Default Product on the connection (it is synced with the documents "
                    "that need it).", self.capabilities.label), reason="mapping")
        if not product:
            return None
        return self.dependency_ref(product)

    def exchange_rate(self, currency, amount, amount_company_signed):
        if currency == self.connection.company_id.currency_id or not amount:
            return None
        return Decimal(str(round(abs(amount_company_signed) / abs(amount), 6)))

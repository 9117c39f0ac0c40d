"""The sync engine: which Odoo records to send, as what, in which order, and what came back.

Odoo records are turned into the provider-neutral records of ``providers.documents``;
the connection's adapter turns those into API calls (batched, with idempotency keys).
"""
import itertools
import logging
import time

import psycopg2
from datetime import timedelta
from decimal import Decimal

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..providers import ProviderError, ProviderUnavailableError, RateLimitError
from ..providers import documents as doc

_logger = logging.getLogger(__name__)

MOVE_KINDS = {
    "out_invoice": "invoice", "out_refund": "credit_note",
    "in_invoice": "bill", "in_refund": "vendor_credit",
}
SALES_KINDS = ("customer", "product", "invoice", "credit_note", "customer_payment")
MODEL_OF_KIND = {
    "customer": "res.partner", "vendor": "res.partner", "product": "product.product",
    "invoice": "account.move", "credit_note": "account.move", "bill": "account.move",
    "vendor_credit": "account.move", "journal_entry": "account.move",
    "customer_payment": "account.payment", "vendor_payment": "account.payment",
}
DEFAULT_BATCH = {"quickbooks_online": 30, "xero": 50}
MAX_ATTEMPTS = 5
# A record edited in a transaction that began before the last send but committed after it
# has an older write_date: look back this much, and let the payload hash tell.
CHANGE_MARGIN = timedelta(minutes=10)
# An unanswered send younger than this is made again as it was, under the same request keys
# (the providers answer a repeated key with the first answer); an older one's records are
# looked up in the remote company instead (a provider may forget old keys).
REPLAY_WINDOW = timedelta(hours=1)
# A throttled request is sent again within the run once the pacer / Retry-After allows (as
# long as that wait is short and the run has time); a failing one (5xx, timeout) this many
# times, ``accounting_sync.retry_backoff`` seconds apart, doubling; then the run ends and is
# rescheduled. Neither counts as an attempt of the records sent.
MAX_TRANSIENT_RETRIES = 4
INLINE_WAIT_CRON = 60.0     # seconds
INLINE_WAIT_REQUEST = 15.0  # seconds
# Odoo calls a cron job that reports remaining work up to 10 times in a row, all within one
# cron time limit: a run pauses after this share of it.
CRON_CALLS_PER_LIMIT = 12


class MappingError(Exception):
    """A record cannot be built, in plain words. ``reason``: ``mapping`` (an account or tax
    has no counterpart yet: the record waits, it has not failed), ``blocked`` (a record it
    needs is not synced: ``blocker`` is that record's sync state) or ``data`` (the record
    itself cannot be sent: it fails)."""

    def __init__(self, message, reason="data", blocker=None):
        super().__init__(message)
        self.reason = reason
        self.blocker = blocker


class _Paused(Exception):
    """The run used its time: ``remaining`` records (at least) wait for the next call."""

    def __init__(self, remaining):
        super().__init__(remaining)
        self.remaining = remaining


def positive_param(env, key, default):
    """A positive number from a system parameter; the default when it is unset, and (with a
    warning naming it) when it is not a positive number, rather than failing every sync."""
    value = env["ir.config_parameter"].sudo().get_param(key)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0
    if number > 0:
        return number
    _logger.warning("Accounting sync: system parameter %s=%r is not a positive number; "
                    "using %s", key, value, default)
    return default


def run_time_budget(env):
    """Seconds a committing (cron) run may work before it pauses and asks to be called
    again: ``accounting_sync.run_time_budget``, else a twelfth of the cron time limit."""
    configured = positive_param(env, "accounting_sync.run_time_budget", None)
    if configured:
        return max(configured, 1.0)
    limit = config.get("limit_time_real_cron") or 0
    if limit < 0:
        limit = config.get("limit_time_real") or 0
    return min(max(limit / CRON_CALLS_PER_LIMIT, 5.0), 60.0) if limit > 0 else 60.0


def run_lease_seconds(env):
    """How long a run is held by its worker without news (a committed batch): its time
    share, the longest a batch can take (a few requests and retries), and a margin. A run
    whose lease ran out belongs to a worker that died, and is taken over."""
    timeout = positive_param(env, "accounting_sync.timeout", 30.0)
    return run_time_budget(env) + (MAX_TRANSIENT_RETRIES + 1) * timeout + 60


def _dec(value, digits=2):
    return Decimal(str(round(value or 0.0, digits)))


class AccountingSyncEngine(models.AbstractModel):
    _name = "accounting.sync.engine"
    _description = "Accounting Sync engine"

    # ------------------------------------------------------------------------------------
    # Entry point
    # ------------------------------------------------------------------------------------

    @api.model
    def _execute(self, run, only=None, commit=False, budget=None):
        """Sync ``run.connection_id``: everything due, or only the bindings ``only``.
        With ``commit`` (cron), each batch is committed as soon as it is done. With a
        ``budget`` (seconds), the run pauses once it is spent, still ``running`` with its
        ``remaining`` count, for the next call to resume.

        The caller has checked the user's rights (the buttons and actions do, before they
        get here); the engine then reads and writes sync state with ``sudo()``."""
        # The caller checked the rights. Company-dependent values (a product's income
        # account...) are read in the connection's company.
        company = run.sudo().connection_id.company_id
        self = self.sudo().with_company(company)  # pylint: disable=self-cls-assignment
        run = run.with_env(self.env)
        only = only.with_env(self.env) if only is not None else None
        connection = run.connection_id
        context = _RunContext(self.env, connection, run, commit, budget)
        try:
            connection._check_can_sync()
            self.env["accounting.sync.attempt"].sudo()._forget_answered(connection)
            context.load_chart()
            for kind in connection._allowed_kinds():
                bindings = self._bindings_to_sync(context, kind, only)
                context.process(kind, bindings)
            self._void_cancelled(context, only)
        except _Paused as pause:
            # Still running: the cron calls again at once (ir.cron progress) and resumes it.
            run.write({"remaining": pause.remaining, "outcome": self.env._(
                "Paused after its time share with at least %(count)s records to go; it "
                "continues at once.", count=pause.remaining)})
            return run
        except (RateLimitError, ProviderUnavailableError) as e:
            retry_after = getattr(e, "retry_after", 60)
            _logger.info("Accounting sync: run %s of connection %s interrupted (%s); resuming "
                         "in %ss", run.id, connection.id, e, retry_after)
            run._finish("interrupted", self.env._(
                "%(error)s The sync resumes in %(seconds)s seconds; nothing was lost.",
                error=str(e), seconds=retry_after))
            connection._schedule_sync(seconds=retry_after, outside=True)
            return run
        except (UserError, ProviderError) as e:
            message = e.args[0] if isinstance(e, UserError) else str(e)
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
    def _sync_records(self, connection, records):
        """Sync ``records`` now, with what they reference (customer, products, the
        documents a payment pays) first. Records out of the connection's scope, or of
        another company than the connection's, are left. The caller checked the rights."""
        # The caller checked the rights.
        self = self.sudo().with_company(  # pylint: disable=self-cls-assignment
            connection.company_id)
        connection = connection.with_env(self.env)
        todo = self.env["accounting.sync.binding"]
        for record in self._with_dependencies(connection, records.with_env(self.env)):
            kind = self._kind_of(connection, record)
            if not kind:
                continue
            binding = self.env["accounting.sync.binding"].search([
                ("connection_id", "=", connection.id), ("res_model", "=", record._name),
                ("res_id", "=", record.id)])
            if not binding:
                binding = binding.create({
                    "connection_id": connection.id, "res_model": record._name,
                    "res_id": record.id, "record_name": record.display_name,
                    "remote_type": kind})
            elif binding.state == "failed":
                binding.attempts = 0
            todo |= binding
        run = self.env["accounting.sync.run"].create({
            "connection_id": connection.id, "trigger": "records", "user_id": self.env.uid})
        return self._execute(run, only=todo)

    @api.model
    def _default_product_needed(self, connection, moves):
        """The connection's Default Product, if a line of ``moves`` needs it (no product, on a
        document whose provider needs an item on every line)."""
        product = connection.default_product_id
        required = connection._item_required_kinds()
        if product and any(MOVE_KINDS.get(m.move_type) in required and m.invoice_line_ids.filtered(
                lambda l: l.display_type == "product" and not l.product_id) for m in moves):
            return product
        return self.env["product.product"]

    def _with_dependencies(self, connection, records):
        result = []
        if records._name == "account.move":
            result += list(records.commercial_partner_id) + list(
                records.invoice_line_ids.product_id) + list(
                self._default_product_needed(connection, records))
        if records._name == "account.payment":
            result += list(records.partner_id.commercial_partner_id)
            invoices = records.reconciled_invoice_ids | records.reconciled_bill_ids
            result += list(invoices.commercial_partner_id) + list(
                invoices.invoice_line_ids.product_id) + list(invoices)
        return result + list(records)

    def _kind_of(self, connection, record):
        """What ``record`` is sent as by ``connection``, or None (out of scope, or of
        another company)."""
        if self._foreign_company(connection, record):
            return None
        allowed = connection._allowed_kinds()
        kind = None
        if record._name == "account.move":
            if record.state != "posted" or record.date < connection.sync_start_date:
                return None
            kind = MOVE_KINDS.get(record.move_type) or (
                "journal_entry" if record.journal_id.type == "general" else None)
        elif record._name == "account.payment":
            if record.date < connection.sync_start_date:
                return None
            kind = "customer_payment" if record.partner_type == "customer" else "vendor_payment"
        elif record._name == "res.partner":
            kind = "customer" if record.customer_rank >= record.supplier_rank else "vendor"
        elif record._name == "product.product":
            kind = "product"
        return kind if kind in allowed else None

    @api.model
    def _foreign_company(self, connection, record):
        """The company of ``record`` when it is not the connection's (a partner or product
        shared by every company belongs to none), else False."""
        company = record.company_id if "company_id" in record._fields else None
        return company if company and company != connection.company_id else False

    # ------------------------------------------------------------------------------------
    # What to send
    # ------------------------------------------------------------------------------------

    def _scope_moves(self, connection, move_types):
        return self.env["account.move"].search([
            ("company_id", "=", connection.company_id.id),
            ("move_type", "in", move_types),
            ("state", "=", "posted"),
            ("date", ">=", connection.sync_start_date),
        ], order="date, id")

    def _scope_payments(self, connection, partner_type):
        return self.env["account.payment"].search([
            ("company_id", "=", connection.company_id.id),
            ("partner_type", "=", partner_type),
            ("state", "in", ("in_process", "paid")),
            ("date", ">=", connection.sync_start_date),
        ], order="date, id")

    def _candidates(self, connection, kind):
        """The Odoo records of ``kind`` in scope (dated on or after the start date)."""
        if kind in MOVE_KINDS.values():
            move_type = next(t for t, k in MOVE_KINDS.items() if k == kind)
            return self._scope_moves(connection, [move_type])
        if kind == "journal_entry":
            return self._scope_moves(connection, ["entry"]).filtered(
                lambda m: m.journal_id.type == "general" and not m.origin_payment_id
                and not m.statement_line_id)
        if kind == "customer_payment":
            return self._scope_payments(connection, "customer")
        if kind == "vendor_payment":
            return self._scope_payments(connection, "supplier")
        if kind in ("customer", "vendor"):
            sales = kind == "customer"
            moves = self._scope_moves(connection, ["out_invoice", "out_refund"] if sales
                                      else ["in_invoice", "in_refund"])
            payments = self._scope_payments(connection, "customer" if sales else "supplier")
            partners = (moves.partner_id | payments.partner_id).commercial_partner_id
            if not sales:  # a partner already sent as a customer stays one record
                bound = self.env["accounting.sync.binding"].search([
                    ("connection_id", "=", connection.id), ("res_model", "=", "res.partner"),
                    ("res_id", "in", partners.ids), ("remote_type", "=", "customer")])
                partners = partners.filtered(lambda p: p.id not in bound.mapped("res_id"))
            return partners
        if kind == "product":
            moves = self._scope_moves(connection, list(connection._allowed_move_types()))
            products = moves.invoice_line_ids.product_id
            return products | self._default_product_needed(connection, moves)
        return self.env[MODEL_OF_KIND[kind]]

    def _bindings_to_sync(self, context, kind, only):
        """Bindings of ``kind`` that need sending: new records, pending or failed ones, and
        synced ones whose record changed since (the payload hash decides later)."""
        connection = context.connection
        Binding = self.env["accounting.sync.binding"]
        if only is not None:
            return only.filtered(lambda b: b.remote_type == kind and b.state != "skipped")
        records = self._candidates(connection, kind)
        existing = Binding.search([
            ("connection_id", "=", connection.id), ("res_model", "=", records._name),
            ("res_id", "in", records.ids)])
        by_id = {b.res_id: b for b in existing}
        missing = records.filtered(lambda r: r.id not in by_id)
        created = Binding.create([{
            "connection_id": connection.id, "res_model": r._name, "res_id": r.id,
            "record_name": r.display_name, "remote_type": kind,
        } for r in missing])
        due = created
        for record in records - missing:
            binding = by_id[record.id]
            if binding.state == "skipped" or binding.remote_type != kind or binding.voided:
                continue
            if binding.state in ("pending", "failed"):
                if binding.attempts < MAX_ATTEMPTS or binding.state == "pending":
                    due |= binding
            elif record.write_date and binding.last_synced_at and \
                    record.write_date >= binding.last_synced_at - CHANGE_MARGIN:
                # Changed since (or around) the last send: the payload hash decides.
                due |= binding
        return due

    def _void_cancelled(self, context, only):
        """Cancelled documents and payments that were synced: void them remotely."""
        connection = context.connection
        domain = [("connection_id", "=", connection.id), ("state", "=", "synced"),
                  ("voided", "=", False), ("remote_id", "!=", False),
                  ("res_model", "in", ("account.move", "account.payment"))]
        if only is not None:
            domain.append(("id", "in", only.ids))
        bindings = self.env["accounting.sync.binding"].search(domain)
        cancelled = set()
        for model, state in (("account.move", "cancel"), ("account.payment", "canceled")):
            ids = [b.res_id for b in bindings if b.res_model == model]
            cancelled.update((model, record_id) for record_id in self.env[model].search(
                [("id", "in", ids), ("state", "=", state)]).ids)
        todo = bindings.filtered(lambda b: (b.res_model, b.res_id) in cancelled)
        for done, binding in enumerate(todo):
            if context.out_of_time():
                raise _Paused(len(todo) - done)
            result = connection._call_provider(lambda adapter, tokens, b=binding: adapter.void(
                tokens, connection.remote_company_id, b.remote_type, b.remote_id,
                b.remote_version))
            context.run._count(batches=1)
            if result.ok:
                binding.write({"voided": True, "remote_version": result.remote_version,
                               "last_synced_at": self.env.cr.now(), "run_id": context.run.id})
                context.run._count(voided=1)
            else:
                binding.write({"state": "failed", "last_error": str(result.error),
                               "run_id": context.run.id})
                context.run._count(failed=1)
            context.commit()

    # ------------------------------------------------------------------------------------
    # Building provider-neutral records
    # ------------------------------------------------------------------------------------

    def _build(self, context, binding, record):
        if not record:
            raise MappingError(self.env._("The Odoo record was deleted."))
        builder = {
            "customer": self._build_party, "vendor": self._build_party,
            "product": self._build_product,
            "customer_payment": self._build_payment, "vendor_payment": self._build_payment,
            "journal_entry": self._build_journal_entry,
        }.get(binding.remote_type, self._build_document)
        return builder(context, binding, record)

    def _build_party(self, context, binding, partner):
        return doc.Party(
            key=None, kind=binding.remote_type, name=partner.name.strip(),
            email=partner.email or None, phone=partner.phone or partner.mobile or None,
            vat=partner.vat or None,
            company_name=partner.name if partner.is_company else None,
            address=doc.Address(street=partner.street or None, street2=partner.street2 or None,
                                city=partner.city or None, zip=partner.zip or None,
                                state=partner.state_id.code or None,
                                country_code=partner.country_id.code or None),
        )

    def _build_product(self, context, binding, product):
        income = product.property_account_income_id or \
            product.categ_id.property_account_income_categ_id
        expense = product.property_account_expense_id or \
            product.categ_id.property_account_expense_categ_id
        return doc.Product(
            key=None, name=product.name, code=product.default_code or None,
            description=product.description_sale or None,
            sale_price=_dec(product.list_price, 4), purchase_price=_dec(product.standard_price, 4),
            income_account=context.account_ref(income) if income else None,
            # Only products that are bought need their expense account: unmapped, it is left out.
            expense_account=context.optional_account_ref(expense),
            service=product.type == "service",
        )

    def _build_document(self, context, binding, move):
        party = context.dependency_ref(move.commercial_partner_id,
                                       "customer" if move.is_sale_document() else "vendor")
        lines = []
        for line in move.invoice_line_ids.filtered(lambda l: l.display_type == "product"):
            if len(line.tax_ids) > 1:
                raise MappingError(self.env._(
                    "Line “%(line)s” has several taxes; send it with one (combined) tax.",
                    line=line.name))
            lines.append(doc.Line(
                description=line.name or line.product_id.display_name or "/",
                quantity=_dec(line.quantity, 4), unit_price=_dec(line.price_unit, 6),
                amount=_dec(line.price_subtotal),
                account=context.account_ref(line.account_id),
                tax=context.tax_ref(line.tax_ids) if line.tax_ids else None,
                tax_amount=_dec(line.price_total - line.price_subtotal),
                item=context.item_ref(line.product_id, binding.remote_type),
                discount_percent=_dec(line.discount) if line.discount else None,
            ))
        if not lines:
            raise MappingError(self.env._("The document has no lines to send."))
        return doc.Document(
            key=None, kind=binding.remote_type, number=move.name,
            date=move.invoice_date or move.date, due_date=move.invoice_date_due or None,
            party=party, currency=move.currency_id.name, lines=lines,
            amount_untaxed=_dec(move.amount_untaxed), amount_tax=_dec(move.amount_tax),
            amount_total=_dec(move.amount_total),
            exchange_rate=context.exchange_rate(move.currency_id, move.amount_total,
                                                move.amount_total_signed),
            reference=move.ref or None,
            tax_code=doc.Ref(context.connection.remote_tax_code)
            if context.connection.remote_tax_code and move.amount_tax else None,
        )

    def _build_payment(self, context, binding, payment):
        kind = "customer" if payment.partner_type == "customer" else "vendor"
        party = context.dependency_ref(payment.partner_id.commercial_partner_id, kind)
        allocations = []
        counterpart_lines = payment.move_id.line_ids.filtered(
            lambda l: l.account_id.account_type in ("asset_receivable", "liability_payable"))
        for partial in counterpart_lines.matched_debit_ids | counterpart_lines.matched_credit_ids:
            other = (partial.debit_move_id | partial.credit_move_id) - counterpart_lines
            move = other.move_id
            if move.move_type not in MOVE_KINDS:
                continue
            same_currency = move.currency_id == payment.currency_id
            amount = (partial.debit_amount_currency if partial.debit_move_id == other
                      else partial.credit_amount_currency) if same_currency else partial.amount
            allocations.append(doc.Allocation(
                document=context.dependency_ref(move, MOVE_KINDS[move.move_type]),
                document_kind=MOVE_KINDS[move.move_type], amount=_dec(amount)))
        if not allocations:
            raise MappingError(self.env._(
                "The payment is not reconciled with a synced invoice or bill yet."))
        bank_account = payment.journal_id.default_account_id
        return doc.Payment(
            key=None, kind=binding.remote_type, date=payment.date, party=party,
            amount=_dec(payment.amount), currency=payment.currency_id.name,
            account=context.account_ref(bank_account), allocations=allocations,
            exchange_rate=context.exchange_rate(payment.currency_id, payment.amount,
                                                payment.amount_company_currency_signed),
            number=payment.name, reference=payment.memo or None,
        )

    def _build_journal_entry(self, context, binding, move):
        lines = []
        for line in move.line_ids:
            partner = line.partner_id.commercial_partner_id
            partner_binding = partner and context.binding_of(partner)
            lines.append(doc.JournalLine(
                account=context.account_ref(line.account_id),
                debit=_dec(line.debit), credit=_dec(line.credit),
                description=line.name or None,
                party=doc.Ref(partner_binding.remote_id, partner.name)
                if partner_binding and partner_binding.remote_id else None,
            ))
        return doc.JournalEntry(
            key=None, kind="journal_entry", date=move.date, number=move.name, lines=lines,
            currency=move.company_id.currency_id.name, narration=move.ref or move.name,
        )


class _RunContext:
    """What one run knows: the connection, its mappings (cached), counters, commits."""

    def __init__(self, env, connection, run, commit, budget=None):
        self.env = env
        self.connection = connection
        self.run = run
        self.do_commit = commit
        self.engine = env["accounting.sync.engine"]
        self.batch_size = DEFAULT_BATCH.get(connection.provider, 30)
        self.deadline = time.monotonic() + budget if budget is not None else None
        # A committing (cron) run may wait a little longer for a throttled provider than a
        # run inside a user's request.
        self.max_inline_wait = INLINE_WAIT_CRON if commit else INLINE_WAIT_REQUEST
        self.backoff = positive_param(env, "accounting_sync.retry_backoff", 2.0)
        self._accounts = {}
        self._taxes = {}
        self._bindings = {}

    def commit(self):
        """Commit each finished batch in the cron: what was sent is recorded at once, and
        the run's lease renewed."""
        if self.do_commit:
            self.run.lease_until = self.env.cr.now() + timedelta(
                seconds=run_lease_seconds(self.env))
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def out_of_time(self):
        return self.deadline is not None and time.monotonic() >= self.deadline

    def load_chart(self):
        """The remote chart (read once), and the pre-flight: the accounts and taxes the
        records to sync need and lack, said once in the run's outcome."""
        if not self.connection.remote_record_ids:
            self.connection._refresh_chart(outside=True)
        self.preflight = self.connection._preflight()
        if not self.preflight.ok:
            self.run.outcome = self.preflight.summary()

    # -- references ------------------------------------------------------------------------

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
            kind = "account" if record._name == "account.account" else "tax"
            cache[record.id] = self.connection._remote_for(**{kind: record})
        remote = cache[record.id]
        if not remote:
            raise MappingError(reason="mapping", message=self.env._(
                "%(label)s %(record)s has no counterpart in %(remote)s: map it under "
                "Accounting Sync → Mappings.", label=label, record=record.display_name,
                remote=self.connection.remote_company_name))
        return doc.Ref(remote.remote_id, remote.name)

    def preload(self, records):
        """Read the bindings of ``records`` (one query per model) before building a batch
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

    def _references(self, records):
        """The records a batch of ``records`` will look up the bindings of."""
        if records._name == "account.move":
            return list(records.commercial_partner_id) + list(
                records.invoice_line_ids.product_id | self.connection.default_product_id) + \
                list(records.line_ids.partner_id.commercial_partner_id)
        if records._name == "account.payment":
            return list(records.partner_id.commercial_partner_id) + list(
                records.reconciled_invoice_ids | records.reconciled_bill_ids)
        return []

    def binding_of(self, record):
        key = (record._name, record.id)
        if key not in self._bindings:
            self._bindings[key] = self.env["accounting.sync.binding"].search([
                ("connection_id", "=", self.connection.id), ("res_model", "=", record._name),
                ("res_id", "=", record.id)], limit=1)
        return self._bindings[key]

    def dependency_ref(self, record, kind):
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
        if not product and kind in self.connection._item_required_kinds():
            product = self.connection.default_product_id
            if not product:
                raise MappingError(self.env._(
                    "A line has no product, and %s needs one on this kind of document: set "
                    "a Default Product on the connection (it is synced with the documents "
                    "that need it).", self.connection._provider_label()), reason="mapping")
        if not product:
            return None
        return self.dependency_ref(product, "product")

    def exchange_rate(self, currency, amount, amount_company_signed):
        if currency == self.connection.company_id.currency_id or not amount:
            return None
        return Decimal(str(round(abs(amount_company_signed) / abs(amount), 6)))

    # -- one kind, in batches ----------------------------------------------------------------

    def process(self, kind, bindings):
        """Send ``bindings`` of ``kind``: first the unanswered sends that can be made again
        as they were (same records, same order: the same request keys), then the others in
        batches; a record whose last send got no answer is looked up before it is created."""
        if not bindings:
            return
        Attempt = self.env["accounting.sync.attempt"].sudo()
        model = bindings[:1].res_model
        chunks, frozen_members = [], set()
        by_res_id = {b.res_id: b for b in bindings}
        fresh_after = self.env.cr.now() - REPLAY_WINDOW
        for send, started, members in Attempt._frozen_sends(self.connection, kind, model):
            if started < fresh_after or not all(res_id in by_res_id for res_id, _h in members):
                continue  # too old to rely on the provider's replay, or a member left
            chunk = self.env["accounting.sync.binding"].browse(
                [by_res_id[res_id].id for res_id, _h in members])
            chunks.append((chunk, send, dict(members)))
            frozen_members.update(res_id for res_id, _h in members)
        rest = bindings.filtered(lambda b: b.res_id not in frozen_members)
        chunks += [(rest[start:start + self.batch_size], None, None)
                   for start in range(0, len(rest), self.batch_size)]
        for done, (chunk, send, sent_hashes) in enumerate(chunks):
            if self.out_of_time():
                raise _Paused(sum(len(c) for c, _s, _h in chunks[done:]))
            self._process_chunk(kind, model, chunk, send, sent_hashes)
            self.commit()

    def _process_chunk(self, kind, model, chunk, send, sent_hashes):
        Binding = self.env["accounting.sync.binding"]
        Attempt = self.env["accounting.sync.attempt"].sudo()
        to_send, sent_bindings, hashes = [], Binding, {}
        # One recordset for the chunk, so that reading one record prefetches them all.
        records = self.env[model].browse(chunk.mapped("res_id")).exists()
        by_id = {r.id: r for r in records}
        self.preload(self._references(records))
        states = Attempt._states(self.connection, model, chunk.mapped("res_id"))
        in_flight = {res_id for res_id, (flying, _g) in states.items() if flying}
        for binding in chunk:
            foreign = by_id.get(binding.res_id) and self.engine._foreign_company(
                self.connection, by_id[binding.res_id])
            if foreign:
                # Never through another company's connection, whoever asks.
                self._fail(binding, self.env._(
                    "%(record)s belongs to %(company)s; %(connection)s syncs %(own)s only.",
                    record=binding.record_name, company=foreign.name,
                    connection=self.connection.name, own=self.connection.company_id.name))
                continue
            odoo_record = by_id.get(binding.res_id)
            if odoo_record and binding.record_name != odoo_record.display_name:
                binding.record_name = odoo_record.display_name  # kept current
            try:
                record = self.engine._build(self, binding, odoo_record)
            except MappingError as e:
                self._hold(binding, e)
                continue
            payload_hash = Binding._payload_hash(record)
            if binding.state == "synced" and binding.payload_hash == payload_hash and \
                    binding.res_id not in in_flight:
                binding.write({"last_synced_at": self.env.cr.now()})
                self.run._count(unchanged=1)
                continue
            record.key = binding._idempotency_key(
                payload_hash, states.get(binding.res_id, (False, 0))[1])
            record.remote_id = binding.remote_id or None
            record.remote_version = binding.remote_version or None
            hashes[binding.id] = payload_hash
            to_send.append(record)
            sent_bindings |= binding
        if not to_send:
            return
        # The same send again only if it is made exactly as it was; else a new send, whose
        # records that may have reached the provider unanswered are looked up first.
        again = bool(send) and sent_bindings == chunk and all(
            hashes[b.id] == sent_hashes.get(b.res_id) for b in chunk)
        for binding, record in zip(sent_bindings, to_send):
            if hasattr(record, "find_existing"):
                record.find_existing = not again and binding.res_id in in_flight
        if not again:
            send = Attempt._start(self.connection, kind, sent_bindings, hashes)
        results = self._push(to_send)
        self.run._count(batches=1)
        for binding, record, result in zip(sent_bindings, to_send, results):
            self._apply(binding, record, result, hashes[binding.id],
                        False if result.outcome_unknown else send)

    def _push(self, records):
        """``adapter.push(records)``; throttling and outages wait and send the same request
        again (same records, same keys) instead of ending the run, within bounds."""
        failures = 0
        for _attempt in itertools.count():
            try:
                return self.connection._call_provider(
                    lambda adapter, tokens: adapter.push(
                        tokens, self.connection.remote_company_id, records))
            except RateLimitError as e:
                # Throttled: wait as told (the pacer already closed for it), however often.
                wait = e.retry_after
                if wait > self.max_inline_wait:
                    raise
            except ProviderUnavailableError:
                failures += 1
                if failures > MAX_TRANSIENT_RETRIES:
                    raise
                wait = self.backoff * 2 ** (failures - 1)
            if self.deadline is not None and time.monotonic() + wait > self.deadline + \
                    self.max_inline_wait:
                raise ProviderUnavailableError(self.env._(
                    "%s keeps refusing or failing requests; the sync resumes later.",
                    self.connection._provider_label()))
            _logger.info("Accounting sync: %s busy or failing for connection %s; sending the "
                         "same request again in %ss", self.connection._provider_label(),
                         self.connection.id, wait)
            time.sleep(wait)
        return []  # not reached

    def _apply(self, binding, record, result, payload_hash, send=False):
        """Record the provider's answer for ``binding``; ``send`` is the id of the send it
        answers (accounting.sync.attempt), when the answer is definite. Only a refusal of
        the record counts as an attempt; an answer that never came (or could not be read)
        leaves the record pending, to be found in the remote company by the next run."""
        values = {"run_id": self.run.id, "remote_company_id": self.connection.remote_company_id}
        if send:
            values["answered_send"] = send
        error = result.error
        if result.ok:
            created = not binding.remote_id
            values.update({
                "state": "synced", "remote_id": result.remote_id, "blocked_by_id": False,
                "remote_version": result.remote_version, "attempts": 0,
                "remote_number": result.remote_number or getattr(record, "number", None),
                "payload_hash": payload_hash, "last_synced_at": self.env.cr.now(),
                "last_error": False, "error_code": False, "request_id": False,
            })
            binding.write(values)
            linked = created and getattr(result, "linked_existing", False)
            self.run._count(created=1 if created and not linked else 0,
                            linked=1 if linked else 0, updated=0 if created else 1)
        elif result.outcome_unknown:
            values.update({"state": "pending", "last_error": str(error),
                           "error_code": getattr(error, "code", None),
                           "request_id": getattr(error, "request_id", None)})
            binding.write(values)
            self.run._count(unanswered=1)
        else:
            values.update({"state": "failed", "last_error": str(error),
                           "attempts": binding.attempts + 1,
                           "error_code": getattr(error, "code", None),
                           "request_id": getattr(error, "request_id", None)})
            binding.write(values)
            self.run._count(failed=1)

    def _fail(self, binding, message):
        binding.write({"state": "failed", "last_error": message, "error_code": "data",
                       "blocked_by_id": False, "attempts": binding.attempts + 1,
                       "run_id": self.run.id})
        self.run._count(failed=1)

    def _hold(self, binding, error):
        """A record that cannot be built: it waits for a mapping, is blocked behind another
        record (failed with it if that one failed, else waiting with it), or fails."""
        if error.reason == "data":
            self._fail(binding, str(error))
            return
        blocker = error.blocker
        failed = error.reason == "blocked" and blocker and blocker.state == "failed"
        binding.write({
            "state": "failed" if failed else "pending", "last_error": str(error),
            "error_code": error.reason, "run_id": self.run.id,
            "blocked_by_id": blocker.id if blocker and error.reason == "blocked" else False})
        self.run._count(**({"failed": 1} if failed else {"waiting": 1}))


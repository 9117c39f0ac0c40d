import json
import logging
from datetime import datetime
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare

from ..providers import incoming
from ..providers.incoming_json import load

_logger = logging.getLogger(__name__)

# The fields of a document Odoo lets change once it is posted: a conflict on these alone
# may be settled for the remote version.
ACCEPTABLE = ("due_date", "reference")
PARTY_FIELDS = ("name", "email", "phone", "vat", "street", "street2", "city", "zip",
                "country_id")
PRODUCT_FIELDS = {"name": "name", "code": "default_code", "description": "description_sale",
                  "sale_price": "list_price", "purchase_price": "standard_price"}


class AccountingSyncApplier(models.AbstractModel):
    """What a change read from a remote company does to the books, once, oldest first:

    * a **payment** recorded remotely against documents we sent becomes Odoo payments in
      the journal of its deposit account (or the connection's default), posted, reconciled
      with those documents and bound to the remote payment so they are never sent back;
      that payment voided or deleted later cancels them (and only them);
    * a **document we sent, voided or deleted** remotely: its sync state records it, the
      accountant gets an activity, and under the connection's policy the Odoo document is
      cancelled (reversed where the lock date forbids cancelling);
    * a **document we sent, edited** remotely: a conflict (Odoo's and the remote values side
      by side) unless nothing Odoo sent differs (a payment changed its balance: its fresh
      version is kept for the next push);
    * a **contact or item we sent, edited** remotely: updated on the Odoo side, or sent again,
      by the connection's policy (Odoo wins, remote wins, newest wins);
    * anything else (made remotely, not ours): ignored, saying why."""

    _name = "accounting.sync.applier"
    _description = "Accounting Sync: apply changes read from a remote company"

    @api.model
    def _apply_changes(self, connection, changes=None, run=None, again=False):
        """Apply ``changes`` (default: the pulled changes of ``connection`` not applied
        yet), oldest first by the provider's time; one that fails does not stop the
        others. ``again``: the person asked (Apply again)."""
        Change = self.env["accounting.sync.change"].sudo()
        if changes is None:
            changes = Change.search([("connection_id", "=", connection.id),
                                     ("source", "=", "pull"), ("state", "=", "new")])
        order = {kind: i for i, kind in enumerate(connection._capabilities().pull_types)}
        changes = changes.sorted(lambda c: (c.occurred_at or datetime.min,
                                            order.get(c.pull_type, 99), c.id))
        newest = {}
        for change in changes:
            newest[(change.pull_type, change.remote_id)] = change
        newer = self._newer_applied(connection, changes)
        for change in changes:
            key = (change.pull_type, change.remote_id)
            if newest[key] != change or change.id in newer:
                self._done(change, run, "ignored", self.env._(
                    "A newer version of this record was read; that one is applied."))
                continue
            try:
                with self.env.cr.savepoint():
                    state, message, values = self._apply_one(connection, change)
            except (UserError, ValidationError) as e:
                state, message, values = "failed", str(e.args[0] if e.args else e), {}
            except Exception:  # noqa: BLE001 - one change never stops the others
                _logger.exception("Accounting sync: change %s of connection %s could not be "
                                  "applied", change.id, connection.id)
                state, message, values = "failed", self.env._(
                    "This change could not be applied because of an unexpected error; the "
                    "server log has the details. Apply it again once it is fixed."), {}
            if again and state == "failed":
                message = self.env._("Applied again by %(user)s: %(message)s",
                                     user=self.env.user.name, message=message)
            self._done(change, run, state, message, values)

    def _newer_applied(self, connection, changes):
        """The ids of ``changes`` of which a newer version was already applied."""
        if not changes:
            return set()
        self.env.cr.execute("""
            SELECT c.id FROM accounting_sync_change c
              JOIN accounting_sync_change n
                ON n.connection_id = c.connection_id AND n.pull_type = c.pull_type
               AND n.remote_id = c.remote_id AND n.occurred_at > c.occurred_at
               AND n.source = 'pull' AND n.state IN ('applied', 'conflict')
             WHERE c.id = ANY(%s) AND c.connection_id = %s
        """, (changes.ids, connection.id))
        return {row[0] for row in self.env.cr.fetchall()}

    def _done(self, change, run, state, message, values=None):
        change.write(dict(values or {}, state=state, message=message,
                          applied_at=fields.Datetime.now(),
                          run_id=run.id if run else change.run_id.id))
        if run:
            run._count(**{"changes_%s" % ("conflict" if state == "conflict" else state): 1})

    def _apply_one(self, connection, change):
        """``(state, message, values for the change row)`` of applying ``change``."""
        record = load(json.loads(change.record or "null"))
        if isinstance(record, incoming.IncomingPayment):
            return self._apply_payment(connection, change, record)
        if isinstance(record, incoming.IncomingDocument):
            return self._apply_document(connection, change, record)
        if isinstance(record, incoming.IncomingParty):
            return self._apply_party(connection, change, record)
        if isinstance(record, incoming.IncomingProduct):
            return self._apply_product(connection, change, record)
        return "ignored", self.env._("Nothing of this kind is brought into Odoo."), {}

    # ------------------------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------------------------

    def _bindings(self, connection, kinds, remote_ids):
        return self.env["accounting.sync.binding"].sudo().search([
            ("connection_id", "=", connection.id), ("remote_type", "in", list(kinds)),
            ("remote_id", "in", list(remote_ids))])

    @staticmethod
    def _about(binding):
        """The change row's link to the Odoo record of ``binding``."""
        return {"binding_id": binding.id, "res_model": binding.res_model,
                "res_id": binding.res_id, "record_name": binding.record_name}

    def _quiet(self, connection):
        """The environment whose writes are not queued back to ``connection``."""
        return self.with_context(accounting_sync_from_connection=connection.id).env

    def _responsible(self, connection, record):
        user = getattr(record, "invoice_user_id", False) or connection.token_holder_id \
            or connection.create_uid
        return user if user and user.active else self.env.user

    def _import(self, connection, record, kind, method, off):
        """A record made remotely: brought in (accounting.sync.importer) where the
        connection says so and it is in the books there; else ignored, saying why."""
        Importer = self.env["accounting.sync.importer"]
        if not Importer._enabled(connection, kind):
            return "ignored", off, {}
        if record.status != "active":
            return "ignored", self.env._("Not in the remote books (draft, voided, deleted or "
                                         "archived): not brought in."), {}
        binding, said = getattr(Importer, method)(connection, record)
        return "applied", said, self._about(binding)

    # ------------------------------------------------------------------------------------
    # Payments
    # ------------------------------------------------------------------------------------

    def _apply_payment(self, connection, change, record):  # pylint: disable=unused-argument
        Binding = self.env["accounting.sync.binding"].sudo()
        # Ours may be bound as "<id>/<document>" (one Odoo payment per document it pays) or,
        # sent to Xero over several documents, as "<id>,<id>".
        remote_id = record.remote_id
        own = Binding.search([("connection_id", "=", connection.id),
                              ("remote_type", "=", record.kind), "|", "|", "|", "|",
                              ("remote_id", "=", remote_id),
                              ("remote_id", "=like", "%s/%%" % remote_id),
                              ("remote_id", "=like", "%s,%%" % remote_id),
                              ("remote_id", "=like", "%%,%s" % remote_id),
                              ("remote_id", "=like", "%%,%s,%%" % remote_id)])
        provider = connection._provider_label()
        if record.status in ("voided", "deleted"):
            return self._payment_removed(connection, own, record, provider)
        if own:
            if own.filtered(lambda b: b.origin == "odoo"):
                return "ignored", self.env._(
                    "A payment sent from Odoo: Odoo's version stands."), self._about(own[:1])
            own.write({"remote_version": record.remote_version})
            return "ignored", self.env._("Already recorded in Odoo."), self._about(own[:1])
        targets = []
        documents = self._bindings(connection, {a.document_kind for a in record.allocations},
                                   {a.document_id for a in record.allocations})
        by_remote = {(b.remote_type, b.remote_id): b for b in documents
                     if b.res_model == "account.move"}
        for allocation in record.allocations:
            binding = by_remote.get((allocation.document_kind, allocation.document_id))
            if binding and allocation.amount:
                targets.append((allocation, binding))
        if not targets:
            return "ignored", self.env._(
                "It pays no document sent from Odoo."), {}
        journal = self._payment_journal(connection, record.account_id)
        payments = self.env["account.payment"]
        quiet = self._quiet(connection)
        for allocation, binding in targets:
            move = quiet["account.move"].browse(binding.res_id).exists()
            payments |= self._register_payment(connection, quiet, move, record, allocation, journal)
        for payment, (allocation, _binding) in zip(payments, targets):
            Binding.create({
                "connection_id": connection.id, "res_model": "account.payment",
                "res_id": payment.id, "record_name": payment.display_name,
                "remote_type": record.kind, "origin": "remote", "state": "synced",
                "remote_id": record.remote_id if len(targets) == 1 else "%s/%s" % (
                    record.remote_id, allocation.document_id),
                "remote_version": record.remote_version,
                "remote_company_id": connection.remote_company_id,
                "last_synced_at": fields.Datetime.now(), "payload_hash": False})
        first = Binding.search([("res_model", "=", "account.payment"),
                                ("res_id", "=", payments[:1].id),
                                ("connection_id", "=", connection.id)])
        return "applied", self.env._(
            "Recorded in Odoo as %(payments)s and reconciled with %(documents)s.",
            payments=", ".join(payments.mapped("name")),
            documents=", ".join(b.record_name or "" for _a, b in targets)), self._about(first)

    def _payment_journal(self, connection, remote_account):
        """The bank journal of the Odoo account mapped to the remote deposit account, else
        the connection's journal for remote payments; else a clear error."""
        journal = self.env["account.journal"]
        if remote_account:
            mapping = self.env["accounting.sync.mapping"].sudo().search([
                ("connection_id", "=", connection.id), ("kind", "=", "account"),
                ("remote_record_id.remote_id", "=", remote_account),
                ("account_id", "!=", False)])
            if mapping:
                journal = journal.sudo().search([
                    ("company_id", "=", connection.company_id.id),
                    ("type", "in", ("bank", "cash")),
                    ("default_account_id", "in", mapping.account_id.ids)], limit=1)
        journal = journal or connection.payment_journal_id
        if not journal:
            raise UserError(self.env._(
                "No journal for payments received in %(provider)s account %(account)s: map "
                "that account to a bank journal's account, or set a Journal for Remote "
                "Payments on the connection, then apply this change again.",
                provider=connection._provider_label(), account=remote_account or "?"))
        return journal

    def _register_payment(self, connection, env, move, record, allocation, journal):
        """One Odoo payment of ``allocation`` on ``move``, posted and reconciled."""
        provider = connection._provider_label()
        if not move or move.state != "posted":
            raise UserError(self.env._(
                "%(document)s is not posted in Odoo: the payment recorded in %(provider)s "
                "cannot be reconciled with it.", document=move.display_name or "?",
                provider=provider))
        currency = move.currency_id
        if record.currency and record.currency != currency.name:
            raise UserError(self.env._(
                "The payment recorded in %(provider)s is in %(currency)s, %(document)s in "
                "%(own)s.", provider=provider, currency=record.currency,
                document=move.display_name, own=currency.name))
        amount = float(allocation.amount)
        if float_compare(amount, abs(move.amount_residual), precision_rounding=currency.rounding) > 0:
            raise UserError(self.env._(
                "The payment recorded in %(provider)s (%(amount)s) is more than what is due on "
                "%(document)s in Odoo (%(due)s): was it also paid in Odoo?",
                provider=provider, amount=amount, document=move.display_name,
                due=abs(move.amount_residual)))
        wizard = env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids).create({
                "payment_date": record.date or fields.Date.context_today(self),
                "journal_id": journal.id, "amount": amount, "currency_id": currency.id,
                "payment_difference_handling": "open",
                "communication": self.env._("%(provider)s payment %(id)s",
                                            provider=provider, id=record.remote_id)})
        return wizard._create_payments()

    def _payment_removed(self, connection, own, record, provider):
        made = own.filtered(lambda b: b.origin == "remote")
        if not made:
            if own:
                own.write({"remote_status": record.status})
                payment = own[:1]._record()
                if payment:
                    payment.activity_schedule(
                        "mail.mail_activity_data_todo", user_id=self._responsible(
                            connection, payment).id,
                        summary=self.env._("%(state)s in %(provider)s",
                                           state=self._status_word(record.status),
                                           provider=provider))
                return "applied", self.env._(
                    "A payment sent from Odoo was %(state)s in %(provider)s: an activity asks "
                    "the accountant what to do.", state=self._status_word(record.status).lower(),
                    provider=provider), self._about(own[:1])
            return "ignored", self.env._("No payment of Odoo's comes from it."), {}
        quiet = self._quiet(connection)
        payments = quiet["account.payment"].browse(made.mapped("res_id")).exists()
        for payment in payments.filtered(lambda p: p.state != "canceled"):
            payment.action_draft()
            payment.action_cancel()
        made.write({"remote_status": record.status, "remote_version": record.remote_version})
        return "applied", self.env._(
            "%(state)s in %(provider)s: %(payments)s cancelled in Odoo.",
            state=self._status_word(record.status), provider=provider,
            payments=", ".join(payments.mapped("name"))), self._about(made[:1])

    def _status_word(self, status):
        return self.env._("Voided") if status == "voided" else self.env._("Deleted")

    # ------------------------------------------------------------------------------------
    # Documents
    # ------------------------------------------------------------------------------------

    def _apply_document(self, connection, change, record):  # pylint: disable=unused-argument
        binding = self._bindings(connection, (record.kind,), (record.remote_id,))
        provider = connection._provider_label()
        if not binding:
            return self._import(connection, record, record.kind, "_import_document", self.env._(
                "Made in %(provider)s, not sent from Odoo: bringing such documents into Odoo "
                "is off for this connection.", provider=provider))
        about = self._about(binding)
        move = binding._record()
        if not move:
            return "ignored", self.env._("Its Odoo record no longer exists."), about
        if record.status in ("voided", "deleted"):
            if binding.voided:
                return "ignored", self.env._("Cancelled in Odoo and voided from here."), about
            return "applied", self._document_removed(connection, binding, move, record), about
        odoo, remote = self._document_values(move), self._remote_document_values(record)
        differs = sorted(key for key, value in remote.items()
                         if value is not None and odoo.get(key) != value)
        if not differs:
            binding.write({"remote_version": record.remote_version})
            return "applied", self.env._(
                "Nothing Odoo sent differs (its balance or status changed there)."), about
        return "conflict", self.env._(
            "Edited in %(provider)s, now different from Odoo: %(fields)s. Keep Odoo's to send "
            "it again, or accept the remote version where Odoo allows it.",
            provider=provider, fields=", ".join(
                self.env["accounting.sync.change"]._comparison_labels().get(k, k)
                for k in differs)), dict(
            about, odoo_values=json.dumps({k: odoo.get(k) for k in differs}),
            remote_values=json.dumps({k: remote[k] for k in differs}),
            acceptable=json.dumps([k for k in differs if k in ACCEPTABLE]))

    @staticmethod
    def _money(value):
        return None if value is None else "%.2f" % abs(Decimal(str(value)))

    def _document_values(self, move):
        return {"amount_total": self._money(move.amount_total),
                "amount_tax": self._money(move.amount_tax),
                "date": (move.invoice_date or move.date).isoformat(),
                "due_date": move.invoice_date_due and move.invoice_date_due.isoformat(),
                "currency": move.currency_id.name,
                "reference": move.ref or None}

    def _remote_document_values(self, record):
        return {"amount_total": self._money(record.amount_total),
                "amount_tax": self._money(record.amount_tax),
                "date": record.date and record.date.isoformat(),
                "due_date": record.due_date and record.due_date.isoformat(),
                "currency": record.currency,
                "reference": record.reference or None}

    def _document_removed(self, connection, binding, move, record):
        """The binding records it; an activity; the connection's policy may cancel."""
        provider = connection._provider_label()
        status = self._status_word(record.status)
        binding.write({"remote_status": record.status,
                       "remote_version": record.remote_version})
        done = ""
        if connection.remote_void_policy == "cancel":
            done = self._cancel_document(connection, move)
        move.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self._responsible(connection, move).id,
            summary=self.env._("%(state)s in %(provider)s", state=status, provider=provider),
            note=self.env._("%(document)s was %(state)s in %(provider)s (%(remote)s). "
                            "%(done)s", document=move.display_name, state=status.lower(),
                            provider=provider, remote=connection.remote_company_name or "",
                            done=done))
        return self.env._("%(state)s in %(provider)s: activity for the accountant. %(done)s",
                          state=status, provider=provider, done=done).strip()

    def _cancel_document(self, connection, move):
        """Cancel ``move`` (or reverse it where its date is locked); the words said."""
        move = move.with_env(self._quiet(connection))
        if move.state != "posted":
            return ""
        if move.payment_state not in ("not_paid", "invoicing_legacy"):
            return self.env._("Not cancelled in Odoo: it has payments.")
        try:
            with self.env.cr.savepoint():
                move.button_draft()
                move.button_cancel()
            return self.env._("Cancelled in Odoo, as the connection's policy says.")
        except UserError:
            reversal = move._reverse_moves([{
                "ref": self.env._("Voided in %(provider)s",
                                  provider=connection._provider_label()),
                "date": fields.Date.context_today(self)}], cancel=True)
            return self.env._("Reversed in Odoo by %(reversal)s (its date is locked), as the "
                              "connection's policy says.", reversal=reversal.display_name)

    @api.model
    def _accept_remote(self, change):
        """Write the remote values of a conflict on the Odoo document."""
        remote = change._json("remote_values")
        move = change.binding_id._record()
        if not move:
            raise UserError(self.env._("Its Odoo record no longer exists."))
        values = {}
        if "due_date" in remote:
            values["invoice_date_due"] = remote["due_date"]
        if "reference" in remote:
            values["ref"] = remote["reference"] or False
        move.with_env(self._quiet(change.connection_id)).write(values)
        change.binding_id.write({"remote_version": change.remote_version})
        move.message_post(body=self.env._(
            "Updated from %(provider)s by %(user)s: %(fields)s.",
            provider=change.connection_id._provider_label(), user=self.env.user.name,
            fields=", ".join("%s → %s" % (k, v) for k, v in sorted(remote.items()))))
        change.write({"state": "applied", "applied_at": fields.Datetime.now(),
                      "message": self.env._("Remote version accepted by %(user)s.",
                                            user=self.env.user.name)})

    # ------------------------------------------------------------------------------------
    # Contacts and items
    # ------------------------------------------------------------------------------------

    def _apply_party(self, connection, change, record):
        kinds = [k for k in record.kinds if k in ("customer", "vendor")]
        bindings = self._bindings(connection, kinds, (record.remote_id,))
        if not bindings:
            return self._import(connection, record, "contact", "_import_party", self.env._(
                "A contact not synced with Odoo: bringing contacts made remotely into Odoo "
                "is off for this connection."))
        binding = bindings[0]
        partner = binding._record()
        remote = {"name": record.name, "email": record.email, "phone": record.phone,
                  "vat": record.vat}
        address = record.address
        if address:
            remote.update(street=address.street, street2=address.street2,
                          city=address.city, zip=address.zip)
            if address.country_code:
                country = self.env["res.country"].search(
                    [("code", "=", address.country_code.upper())], limit=1)
                remote["country_id"] = country.id or None
        return self._master_data(connection, change, bindings, partner, remote,
                                 {name: partner[name].id if name == "country_id"
                                  else partner[name] for name in PARTY_FIELDS})

    def _apply_product(self, connection, change, record):
        bindings = self._bindings(connection, ("product",), (record.remote_id,))
        if not bindings:
            return self._import(connection, record, "product", "_import_product", self.env._(
                "An item not synced with Odoo: bringing items made remotely into Odoo is "
                "off for this connection."))
        product = bindings[0]._record()
        remote = {PRODUCT_FIELDS[key]: getattr(record, key) for key in PRODUCT_FIELDS}
        for name in ("list_price", "standard_price"):
            if remote[name] is not None:
                remote[name] = float(remote[name])
        return self._master_data(connection, change, bindings, product, remote,
                                 {name: product[name] for name in remote})

    def _master_data(self, connection, change, bindings, record, remote, odoo):
        """A contact or item edited remotely, by the connection's policy."""
        about = self._about(bindings[0])
        provider = connection._provider_label()
        if not record:
            return "ignored", self.env._("Its Odoo record no longer exists."), about
        differs = {}
        for name, value in remote.items():
            if value is None:
                continue
            mine = odoo.get(name)
            if isinstance(value, float):
                same = float_compare(value, mine or 0.0, precision_digits=4) == 0
            else:
                same = (mine or False) == (value or False)
            if not same:
                differs[name] = value
        if not differs:
            bindings.write({"remote_version": change.remote_version})
            return "applied", self.env._("Nothing Odoo sent differs."), about
        policy = connection.master_data_policy
        remote_wins = policy == "remote_wins" or (
            policy == "newest_wins" and change.occurred_at and record.write_date
            and change.occurred_at > record.write_date)
        labels = {name: record._fields[name].get_description(self.env)["string"]
                  for name in differs}
        if remote_wins:
            record.with_env(self._quiet(connection)).write(differs)
            bindings.write({"remote_version": change.remote_version})
            record.message_post(body=self.env._(
                "Updated from %(provider)s (%(remote)s): %(fields)s.", provider=provider,
                remote=connection.remote_company_name or "", fields=", ".join(
                    sorted(labels.values()))))
            return "applied", self.env._(
                "Odoo updated from %(provider)s: %(fields)s.", provider=provider,
                fields=", ".join(sorted(labels.values()))), about
        bindings.write({"remote_version": change.remote_version, "state": "pending",
                        "attempts": 0, "payload_hash": False})
        return "applied", self.env._(
            "Odoo's version kept (%(fields)s), as the connection's policy says: it is sent "
            "again with the next sync.", fields=", ".join(sorted(labels.values()))), about

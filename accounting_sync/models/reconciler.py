"""The comparison of a reconciliation (``accounting.sync.reconciliation._reconcile``): Odoo's
figures, read by a few indexed queries, against the remote books a provider read
(:mod:`..providers.books`), as line values.

What is compared, for the documents dated from the connection's sync start date to the
as-of date (the window both sides hold):

* **documents** (invoices, credit notes, bills, vendor credits in the connection's scope):
  total, tax and open balance, each in the document's currency. Classes: *missing remotely*
  (posted in Odoo and never synced, or synced and no longer in the remote company),
  *missing in Odoo* (in the remote company, linked to nothing here), *voided on one side*,
  *rounding* (the totals differ by at most a cent a line), *amount differs* (total or tax),
  *open balance differs* (the totals agree, a payment is on one side only);
* **customers and vendors**: what each owes or is owed (home currency), against the remote
  agings;
* **accounts**: the trial balance by remote account, Odoo's side the sum of the Odoo
  accounts mapped to it (posted lines dated in the window; cash basis: payments and
  journal entries only), Odoo accounts with activity and no mapping and remote accounts no
  Odoo account is mapped to as *unmapped account*;
* **totals**: receivables and payables against the agings' totals, and whether the remote
  trial balance balances.

Documents and partners are kept only where they differ (the counts say how many agreed);
accounts and totals are all kept.
"""
from collections import defaultdict
from decimal import Decimal

from ..const import MOVE_KINDS
from ..providers.books import DELETED, DOCUMENT_KINDS, POSTED, SIDES, VOIDED

CENT = Decimal("0.01")
ZERO = Decimal(0)
KIND_MOVE_TYPES = {kind: move_type for move_type, kind in MOVE_KINDS.items()}
LEVEL_SEQUENCE = {"total": 1, "account": 2, "partner": 3, "document": 4}
PARTNER_KINDS = {"receivable": "customer", "payable": "vendor"}


def money(value):
    return Decimal(str(value or 0)).quantize(CENT)


class Reconciler:
    """One comparison: ``connection``, ``as_of``, ``basis``; :meth:`odoo_figures` first (it
    says which remote documents are linked), then :meth:`lines` with the remote books."""

    def __init__(self, connection, as_of, basis):
        self.connection, self.as_of, self.basis = connection, as_of, basis
        self.env = connection.env
        self.start = connection.sync_start_date
        self.kinds = [k for k in DOCUMENT_KINDS if k in connection._allowed_kinds()]
        self.currency = connection.company_id.currency_id
        self.moves = {}        # move id -> row
        self.bound = {}        # move id -> binding row
        self.by_remote = {}    # remote id -> move id
        self.partners = {}     # (side, odoo partner id) -> remote id
        self.counts = defaultdict(int)
        self.currencies = {}   # ISO code -> res.currency id
        self._t = connection.env._

    # -- Odoo's side ------------------------------------------------------------------------

    def odoo_figures(self):
        """Read Odoo's documents, their links and the partners' links; answer the remote ids
        linked, by kind (what the provider reads by id when its window does not hold it)."""
        cr = self.env.cr
        self.env["account.move"].flush_model()
        self.env["accounting.sync.binding"].flush_model()
        move_types = tuple(KIND_MOVE_TYPES[k] for k in self.kinds) or ("none",)
        cr.execute("""
            SELECT m.id, m.name, m.move_type, m.state, m.date, m.amount_total, m.amount_tax,
                   m.amount_residual, m.amount_residual_signed, m.currency_id,
                   m.commercial_partner_id,
                   (SELECT count(*) FROM account_move_line l
                     WHERE l.move_id = m.id AND l.display_type = 'product') AS lines
              FROM account_move m
             WHERE m.company_id = %s AND m.move_type IN %s AND m.state IN ('posted', 'cancel')
               AND m.date >= %s AND m.date <= %s
        """, (self.connection.company_id.id, move_types, self.start, self.as_of))
        for row in cr.dictfetchall():
            self.moves[row["id"]] = row
        cr.execute("""
            SELECT res_id, remote_id, state, remote_status, remote_type
              FROM accounting_sync_binding
             WHERE connection_id = %s AND res_model = 'account.move' AND res_id = ANY(%s)
        """, (self.connection.id, list(self.moves)))
        known = defaultdict(list)
        for row in cr.dictfetchall():
            self.bound[row["res_id"]] = row
            if row["remote_id"]:
                self.by_remote[row["remote_id"]] = row["res_id"]
                known[MOVE_KINDS[self.moves[row["res_id"]]["move_type"]]].append(
                    row["remote_id"])
        # cancelled documents never sent are nobody's business here
        self.moves = {k: m for k, m in self.moves.items()
                      if m["state"] == "posted" or (self.bound.get(k) or {}).get("remote_id")}
        partner_ids = list({m["commercial_partner_id"] for m in self.moves.values()
                            if m["commercial_partner_id"]})
        cr.execute("""
            SELECT res_id, remote_type, remote_id FROM accounting_sync_binding
             WHERE connection_id = %s AND res_model = 'res.partner' AND remote_id IS NOT NULL
               AND remote_type IN ('customer', 'vendor') AND res_id = ANY(%s)
        """, (self.connection.id, partner_ids))
        for res_id, remote_type, remote_id in cr.fetchall():
            side = "receivable" if remote_type == "customer" else "payable"
            self.partners[(side, res_id)] = remote_id
        return dict(known)

    def _linked_elsewhere(self, remote_ids):
        """Remote documents linked to Odoo documents outside the window (their date
        changed on one side): remote id -> move id."""
        if not remote_ids:
            return {}
        self.env.cr.execute("""
            SELECT remote_id, res_id FROM accounting_sync_binding
             WHERE connection_id = %s AND res_model = 'account.move'
               AND remote_id = ANY(%s)
        """, (self.connection.id, list(remote_ids)))
        return dict(self.env.cr.fetchall())

    def _trial_balance(self):
        """Odoo's balance (debit - credit) and line count by account, in the window."""
        self.env["account.move.line"].flush_model()
        cash = "AND m.move_type = 'entry'" if self.basis == "cash" else ""
        self.env.cr.execute("""
            SELECT l.account_id, sum(l.balance), count(*)
              FROM account_move_line l JOIN account_move m ON m.id = l.move_id
             WHERE l.company_id = %%s AND l.parent_state = 'posted'
               AND l.date >= %%s AND l.date <= %%s %s
             GROUP BY l.account_id
        """ % cash, (self.connection.company_id.id, self.start, self.as_of))
        return {account: (money(balance), count)
                for account, balance, count in self.env.cr.fetchall()}

    # -- the comparison ---------------------------------------------------------------------

    def lines(self, books):
        """The line values of the comparison with ``books`` (a RemoteBooks)."""
        result = []
        if books.has_read("documents"):
            result += self._documents(books)
        if books.has_read("agings"):
            result += self._partners(books)
            result += self._aging_totals(books)
        if books.has_read("trial_balance"):
            result += self._accounts(books)
        return result

    def _line(self, level, name, odoo, remote, klass, message, key, **extra):
        odoo = None if odoo is None else money(odoo)
        remote = None if remote is None else money(remote)
        values = {
            "level": level, "level_sequence": LEVEL_SEQUENCE[level], "name": name,
            "odoo_amount": float(odoo or 0), "remote_amount": float(remote or 0),
            "difference": float((odoo or ZERO) - (remote or ZERO)),
            "difference_class": klass or False, "message": message or False,
            "key": "%s:%s" % (level, key), "sequence": 0 if klass else 1,
            "currency_id": extra.pop("currency_id", self.currency.id),
        }
        values.update(extra)
        return values

    @staticmethod
    def _tolerance(lines):
        return CENT * max(int(lines or 0), 1)

    def _documents(self, books):
        result = []
        t = self._t
        seen = set()
        for move_id, move in self.moves.items():
            binding = self.bound.get(move_id) or {}
            remote_id = binding.get("remote_id")
            doc = books.documents.get(remote_id) if remote_id else None
            seen.add(remote_id)
            klass, message = self._compare_document(move, binding, doc, books)
            self.counts["documents"] += 1
            if not klass:
                continue
            odoo_total = move["amount_total"] if move["state"] == "posted" else 0
            if klass in ("open_balance_differs",):
                odoo_figure, remote_figure = move["amount_residual"], doc.balance
            else:
                odoo_figure = odoo_total
                remote_figure = doc.total if doc and doc.status == POSTED else (
                    None if doc is None else 0)
            result.append(self._line(
                "document", move["name"], odoo_figure, remote_figure, klass, message,
                "account.move:%s" % move_id, res_model="account.move", res_id=move_id,
                remote_id=remote_id or False, remote_kind=MOVE_KINDS[move["move_type"]],
                currency_id=move["currency_id"]))
        unlinked = {rid: doc for rid, doc in books.documents.items() if rid not in seen}
        elsewhere = self._linked_elsewhere(unlinked)
        for remote_id, doc in unlinked.items():
            if remote_id in elsewhere or doc.status in (DELETED, VOIDED) or \
                    (doc.status != POSTED):
                continue
            self.counts["documents"] += 1
            result.append(self._line(
                "document", doc.number or remote_id, None, doc.total, "missing_odoo",
                t("%(provider)s has this document; no Odoo document is linked to it.",
                  provider=self.connection._provider_label()),
                "remote:%s" % remote_id, remote_id=remote_id, remote_kind=doc.kind,
                currency_id=self._currency_of(doc.currency)))
        return result

    def _currency_of(self, code):
        """The Odoo currency of an ISO code (the home currency for none), once a code."""
        if not code:
            return self.currency.id
        if code not in self.currencies:
            self.currencies[code] = self.env["res.currency"].with_context(
                active_test=False).search([("name", "=", code)], limit=1).id or \
                self.currency.id
        return self.currencies[code]

    def _compare_document(self, move, binding, doc, books):
        """(class, message) of one Odoo document against its remote copy (None: agree)."""
        t = self._t
        provider = self.connection._provider_label()
        posted = move["state"] == "posted"
        remote_id = binding.get("remote_id")
        if not remote_id:
            state = binding.get("state")
            return "missing_remote", (
                t("Never sent to %(provider)s (its sync state: %(state)s).", provider=provider,
                  state=state) if state else
                t("Never sent to %(provider)s: it has no sync state.", provider=provider))
        if doc is None or doc.status == DELETED:
            if remote_id not in books.not_found and doc is None:
                return None, None  # not read (the budget): not compared
            if not posted:
                return None, None
            return "missing_remote", t(
                "Sent to %(provider)s as %(id)s, which it no longer has: it was deleted there.",
                provider=provider, id=remote_id)
        if doc.status == VOIDED or not posted:
            if doc.status == VOIDED and not posted:
                return None, None
            return "voided", (
                t("Voided in %(provider)s, posted in Odoo.", provider=provider)
                if doc.status == VOIDED else
                t("Cancelled in Odoo, still standing in %(provider)s.", provider=provider))
        total = money(move["amount_total"]) - money(doc.total)
        tax = money(move["amount_tax"]) - money(doc.tax)
        lines = max(move["lines"] or 0, doc.lines or 0)
        if total:
            if abs(total) <= self._tolerance(lines):
                return "rounding", t(
                    "The totals differ by %(cents)s cents over %(lines)s lines: rounding line "
                    "by line.", cents=int(abs(total) * 100), lines=lines)
            return "amount_differs", t(
                "The totals differ by %(amount)s (Odoo %(odoo)s, %(provider)s %(remote)s).",
                amount=total, odoo=money(move["amount_total"]), provider=provider,
                remote=money(doc.total))
        if tax and abs(tax) > self._tolerance(lines):
            return "amount_differs", t(
                "The totals agree but the tax differs by %(amount)s (Odoo %(odoo)s, "
                "%(provider)s %(remote)s).", amount=tax, odoo=money(move["amount_tax"]),
                provider=provider, remote=money(doc.tax))
        balance = money(move["amount_residual"]) - money(doc.balance)
        if balance:
            return "open_balance_differs", t(
                "The totals agree; the open balance differs by %(amount)s (Odoo %(odoo)s, "
                "%(provider)s %(remote)s): a payment is recorded on one side only.",
                amount=balance, odoo=money(move["amount_residual"]), provider=provider,
                remote=money(doc.balance))
        return None, None

    def _odoo_open(self):
        """What each partner owes or is owed in Odoo (home currency), by side."""
        open_ = {"receivable": defaultdict(lambda: ZERO), "payable": defaultdict(lambda: ZERO)}
        for move in self.moves.values():
            if move["state"] != "posted" or move["date"] > self.as_of:
                continue
            side, sign = SIDES[MOVE_KINDS[move["move_type"]]]
            open_[side][move["commercial_partner_id"]] += sign * abs(
                money(move["amount_residual_signed"]))
        return open_

    def _partners(self, books):
        result = []
        t = self._t
        provider = self.connection._provider_label()
        names = dict(self.env["res.partner"].browse(
            [m["commercial_partner_id"] for m in self.moves.values()
             if m["commercial_partner_id"]]).sudo().mapped(lambda p: (p.id, p.display_name)))
        for side, odoo_open in self._odoo_open().items():
            remote_open = dict(getattr(books, side))
            kind = PARTNER_KINDS[side]
            for partner_id, amount in odoo_open.items():
                remote_id = self.partners.get((side, partner_id))
                remote = remote_open.pop(remote_id, ZERO) if remote_id else None
                self.counts["partners"] += 1
                if remote is not None and money(amount) == money(remote):
                    continue
                if remote is None and not money(amount):
                    continue
                klass = "open_balance_differs" if remote_id else "missing_remote"
                message = t(
                    "Odoo says %(odoo)s is open, %(provider)s %(remote)s.", odoo=money(amount),
                    provider=provider, remote=money(remote or 0)) if remote_id else t(
                    "Not linked to a %(provider)s %(kind)s, with %(odoo)s open in Odoo.",
                    provider=provider, kind=kind, odoo=money(amount))
                result.append(self._line(
                    "partner", names.get(partner_id, str(partner_id)), amount, remote, klass,
                    message, "%s:res.partner:%s" % (side, partner_id), res_model="res.partner",
                    res_id=partner_id, remote_id=remote_id or False, remote_kind=kind))
            linked = self._partners_linked(kind, list(remote_open))
            for remote_id, amount in remote_open.items():
                if not money(amount):
                    continue
                self.counts["partners"] += 1
                partner_id = linked.get(remote_id)
                name = books.partner_names.get(remote_id) or names.get(partner_id) or remote_id
                result.append(self._line(
                    "partner", name, ZERO if partner_id else None, amount,
                    "open_balance_differs" if partner_id else "missing_odoo",
                    t("%(provider)s says %(remote)s is open; Odoo has nothing open in the "
                      "window.", provider=provider, remote=money(amount)),
                    "%s:remote:%s" % (side, remote_id), remote_id=remote_id, remote_kind=kind,
                    res_model="res.partner" if partner_id else False,
                    res_id=partner_id or False))
        return result

    def _partners_linked(self, kind, remote_ids):
        if not remote_ids:
            return {}
        self.env.cr.execute("""
            SELECT remote_id, res_id FROM accounting_sync_binding
             WHERE connection_id = %s AND res_model = 'res.partner' AND remote_type = %s
               AND remote_id = ANY(%s)
        """, (self.connection.id, kind, remote_ids))
        return dict(self.env.cr.fetchall())

    def _aging_totals(self, books):
        t = self._t
        result = []
        odoo_open = self._odoo_open()
        for side, label in (("receivable", t("Accounts receivable (open, aging)")),
                            ("payable", t("Accounts payable (open, aging)"))):
            if side == "payable" and "bill" not in self.kinds:
                continue
            odoo = sum(odoo_open[side].values(), ZERO)
            remote = getattr(books, side + "_total") or ZERO
            differs = money(odoo) != money(remote)
            result.append(self._line(
                "total", label, odoo, remote, "open_balance_differs" if differs else None,
                t("The open documents of the customers or vendors listed above make the "
                  "difference.") if differs else False, side))
        return result

    def _accounts(self, books):
        t = self._t
        provider = self.connection._provider_label()
        mappings = self.env["accounting.sync.mapping"].sudo().search([
            ("connection_id", "=", self.connection.id), ("kind", "=", "account"),
            ("account_id", "!=", False), ("remote_record_id", "!=", False)])
        remote_of = {m.account_id.id: m.remote_record_id for m in mappings}
        rows = books.trial_balance
        # remote rows by the ids the chart may know them by: id, else code
        row_key = {}
        for key, row in rows.items():
            row_key[key] = key
            if row.code:
                row_key.setdefault(row.code, key)
        def key_of(record):
            """The trial balance row of a remote account: by its id, its code, else its
            name (QuickBooks Desktop's report names accounts by their full name only)."""
            return row_key.get(record.remote_id) or row_key.get(
                "name:%s" % record.name) or record.remote_id

        grouped = defaultdict(lambda: [ZERO, 0, []])
        result = []
        odoo_balances = self._trial_balance()
        accounts = self.env["account.account"].sudo().browse(list(odoo_balances))
        names = {a.id: a.display_name for a in accounts}
        for account_id, (balance, count) in odoo_balances.items():
            record = remote_of.get(account_id)
            key = record and key_of(record)
            if not record:
                if balance:
                    result.append(self._line(
                        "account", names.get(account_id), balance, None, "unmapped_account",
                        t("This Odoo account is mapped to no %(provider)s account: map it to "
                          "compare it.", provider=provider),
                        "account.account:%s" % account_id, res_model="account.account",
                        res_id=account_id))
                continue
            grouped[key][0] += balance
            grouped[key][1] += count
            grouped[key][2].append(account_id)
        for key, (balance, count, account_ids) in grouped.items():
            row = rows.get(key)
            remote = row.balance if row else ZERO
            difference = money(balance) - money(remote)
            self.counts["accounts"] += 1
            klass = None
            message = False
            if difference:
                klass = "rounding" if abs(difference) <= self._tolerance(count) else \
                    "amount_differs"
                message = t("Odoo %(odoo)s, %(provider)s %(remote)s on the trial balance.",
                            odoo=money(balance), provider=provider, remote=money(remote))
            record = remote_of[account_ids[0]]
            result.append(self._line(
                "account", row.name if row else record.display_name, balance, remote, klass,
                message, "remote:%s" % key, res_model="account.account",
                res_id=account_ids[0], remote_id=key))
        mapped_keys = set(grouped)
        for key, row in rows.items():
            if key in mapped_keys or not money(row.balance):
                continue
            if any(key_of(r) == key for r in remote_of.values()):
                # mapped, with no Odoo activity in the window
                self.counts["accounts"] += 1
                result.append(self._line(
                    "account", row.name, ZERO, row.balance, "amount_differs",
                    t("Odoo has no activity on the accounts mapped to it in the window."),
                    "remote:%s" % key, remote_id=key))
                continue
            result.append(self._line(
                "account", row.name, None, row.balance, "unmapped_account",
                t("No Odoo account is mapped to this %(provider)s account.",
                  provider=provider), "remote:%s" % key, remote_id=key))
        remote_total = sum((r.balance for r in rows.values()), ZERO)
        result.append(self._line(
            "total", t("Trial balance: debits less credits"), ZERO, remote_total,
            "amount_differs" if money(remote_total) else None,
            t("The %(provider)s trial balance does not balance.", provider=provider)
            if money(remote_total) else False, "trial_balance"))
        return result

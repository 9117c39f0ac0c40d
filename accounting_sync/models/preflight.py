"""The pre-flight: before the first sync and before every run, what the records waiting to be
synced need and lack — once, all of it — instead of failing record by record."""
from collections import Counter

from psycopg2.extensions import AsIs

from .accounting_sync_mapping import APPLIED


class Preflight:
    """What ``connection`` (sudo) needs for its records in scope that are not synced yet.

    ``start`` overrides the connection's start date (the first-sync dialog asks for it).
    With ``apply``, the accounts and taxes with no mapping are matched now (mappings
    created, applied or suggested) and every mapping is marked needed or not; without, the
    matches are only worked out. It reads the records whose sync state is due or waiting
    (the queue); with ``scan``, every record in scope that is not synced (the first sync,
    before anything is queued)."""

    def __init__(self, connection, start=None, apply=True, scan=False):
        self.scan = scan
        self.connection = connection
        self.env = env = connection.env
        self.start = start or connection.sync_start_date
        Mapping = env["accounting.sync.mapping"]
        self.accounts, self.taxes = env["account.account"], env["account.tax"]
        self.usage = Counter()
        self.currencies = Counter()
        if self.start:
            self._read_needs()
        existing = Mapping.sudo().search([
            ("connection_id", "=", connection.id), "|",
            ("account_id", "in", self.accounts.ids), ("tax_id", "in", self.taxes.ids)])
        if apply:
            mappings = Mapping._match(connection, self.accounts, self.taxes)
            self._mark_needed(mappings)
            self.mappings = mappings
            self.missing = [(m.account_id or m.tax_id, m.suggested_remote_id)
                            for m in mappings if not m.remote_record_id]
            self.warnings = [(m.account_id or m.tax_id, m.warning) for m in mappings
                             if m.remote_record_id and m.warning]
        else:
            self.mappings = existing
            mapped = {(m.account_id or m.tax_id): m for m in existing}
            self.missing, self.warnings = [], []
            remotes = connection.remote_record_ids
            for record in list(self.accounts) + list(self.taxes):
                mapping = mapped.get(record)
                if mapping:
                    if not mapping.remote_record_id:
                        self.missing.append((record, mapping.suggested_remote_id))
                    elif mapping.warning:
                        self.warnings.append((record, mapping.warning))
                    continue
                kind = "account" if record._name == "account.account" else "tax"
                values = Mapping._match_values(connection, kind, record, remotes)
                if values.get("confidence") not in APPLIED:
                    self.missing.append((record, env["accounting.sync.remote.record"].browse(
                        values.get("suggested_remote_id"))))
        remote_currency = connection.remote_currency
        self.foreign_currencies = {code: count for code, count in self.currencies.items()
                                   if remote_currency and code != remote_currency}

    @property
    def ok(self):
        return not self.missing

    @property
    def suggestions(self):
        return [(record, remote) for record, remote in self.missing if remote]

    def _read_needs(self):
        connection, cr = self.connection, self.env.cr
        for model in ("account.move", "account.move.line", "account.payment",
                      "accounting.sync.binding"):
            self.env[model].flush_model()
        kinds = set(connection._allowed_kinds())
        doc_types = tuple(connection._allowed_move_types())
        general = tuple(self.env["account.journal"].search([
            ("company_id", "=", connection.company_id.id), ("type", "=", "general")]).ids) or (0,)
        cr.execute("""
            SELECT l.account_id, t.account_tax_id, l.product_id, m.id, c.name
              FROM account_move m
              JOIN account_move_line l ON l.move_id = m.id
              JOIN res_currency c ON c.id = m.currency_id
         LEFT JOIN account_move_line_account_tax_rel t ON t.account_move_line_id = l.id
         %(join)s JOIN accounting_sync_binding b
                ON b.connection_id = %(connection)s AND b.res_model = 'account.move'
               AND b.res_id = m.id
             WHERE m.company_id = %(company)s AND m.state = 'posted' AND m.date >= %(start)s
               AND (%(scan)s AND b.id IS NULL OR b.state IN ('pending', 'waiting', 'failed'))
               AND ((m.move_type IN %(doc_types)s AND l.display_type = 'product')
                    OR (%(entries)s AND m.move_type = 'entry' AND m.journal_id IN %(general)s
                        AND m.origin_payment_id IS NULL AND m.statement_line_id IS NULL))
        """, {"connection": connection.id, "company": connection.company_id.id,
              "start": self.start, "doc_types": doc_types, "general": general,
              "entries": "journal_entry" in kinds, "scan": self.scan,
              "join": AsIs("LEFT" if self.scan else "")})
        account_ids, tax_ids, product_ids = set(), set(), set()
        by_account, by_tax, moves = {}, {}, {}
        for account_id, tax_id, product_id, move_id, currency in cr.fetchall():
            account_ids.add(account_id)
            by_account.setdefault(account_id, set()).add(move_id)
            if tax_id:
                tax_ids.add(tax_id)
                by_tax.setdefault(tax_id, set()).add(move_id)
            if product_id:
                product_ids.add(product_id)
            moves[move_id] = currency
        self.currencies.update(moves.values())
        # Products are sent with their income account (QBO items need one).
        products = self.env["product.product"].with_company(connection.company_id).browse(
            product_ids)
        for product in products:
            income = product.property_account_income_id or \
                product.categ_id.property_account_income_categ_id
            if income:
                account_ids.add(income.id)
                by_account.setdefault(income.id, set()).add(("product", product.id))
        # Payments are sent with their journal's bank account.
        payment_kinds = {"customer": "customer_payment", "supplier": "vendor_payment"}
        partner_types = tuple(t for t, k in payment_kinds.items() if k in kinds) or ("",)
        cr.execute("""
            SELECT j.default_account_id, p.id, c.name
              FROM account_payment p
              JOIN account_journal j ON j.id = p.journal_id
              JOIN res_currency c ON c.id = p.currency_id
         %(join)s JOIN accounting_sync_binding b
                ON b.connection_id = %(connection)s AND b.res_model = 'account.payment'
               AND b.res_id = p.id
             WHERE p.company_id = %(company)s AND p.state IN ('in_process', 'paid')
               AND p.date >= %(start)s AND p.partner_type IN %(types)s
               AND j.default_account_id IS NOT NULL
               AND (%(scan)s AND b.id IS NULL OR b.state IN ('pending', 'waiting', 'failed'))
        """, {"connection": connection.id, "company": connection.company_id.id,
              "start": self.start, "types": partner_types, "scan": self.scan,
              "join": AsIs("LEFT" if self.scan else "")})
        for account_id, payment_id, currency in cr.fetchall():
            account_ids.add(account_id)
            by_account.setdefault(account_id, set()).add(("payment", payment_id))
            self.currencies[currency] += 1
        self.accounts = self.env["account.account"].browse(sorted(account_ids))
        self.taxes = self.env["account.tax"].browse(sorted(tax_ids))
        for account_id, users in by_account.items():
            self.usage[("account", account_id)] = len(users)
        for tax_id, users in by_tax.items():
            self.usage[("tax", tax_id)] = len(users)

    def _mark_needed(self, mappings):
        all_mappings = self.connection.mapping_ids
        (all_mappings - mappings).filtered("needed").write({"needed": False, "usage_count": 0})
        for mapping in mappings:
            key = (mapping.kind, (mapping.account_id or mapping.tax_id).id)
            values = {"needed": True, "usage_count": self.usage.get(key, 0)}
            if (mapping.needed, mapping.usage_count) != (True, values["usage_count"]):
                mapping.write(values)

    def summary(self):
        """The pre-flight in one sentence for a notification or a run's outcome."""
        if not self.missing:
            text = self.env._("every account and tax the records to sync use has a counterpart.")
        else:
            names = ", ".join(record.display_name for record, _remote in self.missing[:8])
            more = len(self.missing) - 8
            text = self.env._("%(count)s accounts or taxes have no counterpart yet (%(names)s%(more)s): "
                     "map them under Mappings; the records that use them wait.",
                     count=len(self.missing), names=names,
                     more=self.env._(" and %s more", more) if more > 0 else "")
            if self.suggestions:
                text += " " + self.env._("%s suggestions are ready to accept.", len(self.suggestions))
        if self.warnings:
            text += " " + self.env._("%s mappings have a warning.", len(self.warnings))
        if self.foreign_currencies:
            text += " " + self.env._(
                "Records in %(currencies)s go to a company whose currency is %(home)s: it must "
                "accept those currencies.", currencies=", ".join(sorted(
                    self.foreign_currencies)), home=self.connection.remote_currency)
        return text

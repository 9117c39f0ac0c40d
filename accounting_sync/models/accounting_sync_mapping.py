import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Odoo account types -> the provider-neutral groups the adapters give remote accounts.
ACCOUNT_GROUPS = {
    "asset_receivable": "receivable", "asset_cash": "bank", "asset_current": "current_asset",
    "asset_non_current": "fixed_asset", "asset_prepayments": "current_asset",
    "asset_fixed": "fixed_asset", "liability_payable": "payable",
    "liability_credit_card": "current_liability", "liability_current": "current_liability",
    "liability_non_current": "long_term_liability", "equity": "equity",
    "equity_unaffected": "equity", "income": "income", "income_other": "other_income",
    "expense": "expense", "expense_depreciation": "expense",
    "expense_direct_cost": "cost_of_sales", "off_balance": "other",
}
# Groups an accountant treats as one when choosing a counterpart (what the picker offers).
MATCH_CLASSES = {
    "income": "income", "other_income": "income", "expense": "expense",
    "cost_of_sales": "expense", "bank": "bank", "receivable": "receivable",
    "payable": "payable", "current_asset": "asset", "fixed_asset": "asset",
    "current_liability": "liability", "long_term_liability": "liability",
    "equity": "equity", "other": "other",
}
TAX_CLASSES = {"sale": "sales", "purchase": "purchases", "none": "both"}
CONFIDENCE = [("exact", "Exact"), ("high", "High"), ("medium", "Medium"),
              ("low", "Suggestion"), ("manual", "Manual")]
# Confidence at which a match is applied by itself; below, it is only suggested.
APPLIED = ("exact", "high", "medium")
RATE_TOLERANCE = 0.005
STOP_WORDS = {"of", "and", "the", "a", "an", "income", "account", "accounts", "on", "for"}


def words(text):
    return {w for w in re.findall(r"[a-z0-9]+", (text or "").lower()) if w not in STOP_WORDS}


def similarity(left, right):
    """Share of the words two names have in common (0 to 1)."""
    a, b = words(left), words(right)
    return len(a & b) / len(a | b) if a and b else 0.0


class AccountingSyncMapping(models.Model):
    """Which remote account or tax an Odoo account or tax is sent as, how sure the match
    is, and what an accountant should know about it."""

    _name = "accounting.sync.mapping"
    _description = "Accounting Sync: account and tax mapping"
    _order = "needed desc, remote_record_id nulls first, kind, id"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True, index=True,
                                    ondelete="cascade", check_company=True)
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    kind = fields.Selection([("account", "Account"), ("tax", "Tax")], required=True)
    account_id = fields.Many2one("account.account", index=True, ondelete="cascade",
                                 check_company=True)
    tax_id = fields.Many2one("account.tax", index=True, ondelete="cascade", check_company=True)
    match_class = fields.Char(compute="_compute_match_class", store=True,
                              help="What the Odoo account or tax is for: the remote records "
                                   "offered are of the same class.")
    odoo_type = fields.Char(compute="_compute_match_class", store=True)
    remote_record_id = fields.Many2one(
        "accounting.sync.remote.record", string="Remote", ondelete="set null",
        check_company=True,
        domain="[('connection_id', '=', connection_id), ('kind', '=', kind), "
               "('match_class', 'in', [match_class, 'both'])]")
    suggested_remote_id = fields.Many2one(
        "accounting.sync.remote.record", string="Suggestion", ondelete="set null",
        check_company=True, readonly=True,
        help="The best counterpart found, not sure enough to be applied by itself.")
    matched_by = fields.Selection(
        [("code", "Code"), ("name", "Name"), ("rate", "Rate"), ("type", "Type"),
         ("manual", "Manual")], readonly=True)
    confidence = fields.Selection(CONFIDENCE, readonly=True)
    needed = fields.Boolean(readonly=True, index=True,
                            help="Records not synced yet use it (the last pre-flight said so).")
    usage_count = fields.Integer(string="Records", readonly=True,
                                 help="Records not synced yet that use it (last pre-flight).")
    warning = fields.Char(compute="_compute_warning")

    _sql_constraints = [
        ("account_unique", "unique(connection_id, account_id)", "This account is mapped already."),
        ("tax_unique", "unique(connection_id, tax_id)", "This tax is mapped already."),
    ]

    @api.depends("kind", "account_id.account_type", "tax_id.type_tax_use")
    def _compute_match_class(self):
        types = dict(self.env["account.account"]._fields["account_type"]._description_selection(
            self.env))
        for mapping in self:
            if mapping.kind == "account" and mapping.account_id:
                group = ACCOUNT_GROUPS.get(mapping.account_id.account_type, "other")
                mapping.match_class = MATCH_CLASSES[group]
                mapping.odoo_type = types.get(mapping.account_id.account_type)
            elif mapping.kind == "tax" and mapping.tax_id:
                mapping.match_class = TAX_CLASSES.get(mapping.tax_id.type_tax_use, "both")
                mapping.odoo_type = "%s %%" % round(mapping.tax_id.amount, 4) \
                    if mapping.tax_id.amount_type == "percent" else mapping.tax_id.amount_type
            else:
                mapping.match_class = mapping.odoo_type = False

    @api.depends("remote_record_id", "match_class", "tax_id.amount")
    def _compute_warning(self):
        for mapping in self:
            mapping.warning = mapping._problem(mapping.remote_record_id)[0]

    def _problem(self, remote):
        """``(warning, refused)``: what an accountant should know of mapping to ``remote``;
        refused when the remote amounts would disagree with Odoo's."""
        self.ensure_one()
        if not remote:
            return False, False
        if remote.match_class not in (self.match_class, "both"):
            return self.env._("%(odoo)s is mapped to a remote %(remote)s account.",
                              odoo=self.odoo_type, remote=remote.group_label), False
        if self.kind == "tax" and self.tax_id.amount_type == "percent":
            ours, theirs = self.tax_id.amount, remote.rate
            taxable = not remote.exempt and (theirs or not remote.rate_known)
            if bool(ours) != bool(taxable):
                connection = self.connection_id
                if ours and connection._tax_total_on_document():
                    return self.env._(
                        "%(remote)s is not taxable at %(provider)s; Odoo's tax total is sent "
                        "with the document and kept, so totals agree.", remote=remote.name,
                        provider=connection._provider_label()), False
                return self.env._(
                    "Odoo's tax is %(ours)s %% and %(remote)s %(theirs)s: the remote amounts "
                    "would not be Odoo's.", ours=round(ours, 4), remote=remote.name,
                    theirs=self.env._("is exempt") if not taxable else
                    self.env._("is %s %%", round(theirs, 4))), True
            if remote.rate_known and abs(ours - theirs) > RATE_TOLERANCE:
                return self.env._(
                    "Rates differ: Odoo %(ours)s %%, %(remote)s %(theirs)s %%. Odoo's tax "
                    "amounts are sent, so totals agree, but the remote document shows its "
                    "own rate.", ours=round(ours, 4), remote=remote.name,
                    theirs=round(theirs, 4)), False
        return False, False

    @api.constrains("connection_id", "remote_record_id")
    def _check_remote_record(self):
        for mapping in self:
            remote = mapping.remote_record_id
            if not remote:
                continue
            if remote.connection_id != mapping.connection_id:
                raise ValidationError(self.env._(
                    "%(remote)s belongs to connection %(other)s, not %(connection)s.",
                    remote=remote.display_name, other=remote.connection_id.display_name,
                    connection=mapping.connection_id.display_name))
            warning, refused = mapping._problem(remote)
            if refused:
                raise ValidationError(warning)

    @api.onchange("remote_record_id")
    def _onchange_remote_record_id(self):
        self.matched_by = "manual"
        self.confidence = "manual"

    def write(self, vals):
        if "remote_record_id" in vals and "matched_by" not in vals:
            vals = dict(vals, matched_by="manual", confidence="manual")
        result = super().write(vals)
        if vals.get("remote_record_id"):
            # The records that waited for a counterpart are due again.
            self.env["accounting.sync.binding"].sudo()._wake_mappings(self.connection_id)
        return result

    def action_accept_suggestion(self):
        """Use the suggested counterparts (those that are not refused)."""
        self.check_access("write")
        for mapping in self.filtered(lambda m: m.suggested_remote_id and not m.remote_record_id):
            if not mapping._problem(mapping.suggested_remote_id)[1]:
                mapping.write({"remote_record_id": mapping.suggested_remote_id.id,
                               "matched_by": "manual", "confidence": "manual"})
        return True

    # ------------------------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------------------------

    @api.model
    def _match(self, connection, accounts=None, taxes=None):
        """The mappings of ``accounts`` and ``taxes`` on ``connection``, made (matched) for
        those that have none: by code, then name, then a similar name of the same class
        (taxes: rate, name and use); a match below medium confidence is only suggested."""
        Mapping = self.sudo()
        accounts = accounts or self.env["account.account"]
        taxes = taxes or self.env["account.tax"]
        existing = Mapping.search([("connection_id", "=", connection.id), "|",
                                   ("account_id", "in", accounts.ids),
                                   ("tax_id", "in", taxes.ids)])
        done = set(existing.account_id.ids) | {("tax", t) for t in existing.tax_id.ids}
        remotes = connection.sudo().remote_record_ids
        values = []
        for account in accounts.filtered(lambda a: a.id not in done):
            values.append(self._match_values(connection, "account", account, remotes))
        for tax in taxes.filtered(lambda t: ("tax", t.id) not in done):
            values.append(self._match_values(connection, "tax", tax, remotes))
        return existing | Mapping.create(values)

    @api.model
    def _match_values(self, connection, kind, record, remotes):
        candidates = remotes.filtered(lambda r: r.kind == kind and r.active)
        if kind == "account":
            group = ACCOUNT_GROUPS.get(record.account_type, "other")
            match_class = MATCH_CLASSES[group]
            same_class = candidates.filtered(lambda r: r.match_class == match_class)
            found, how, confidence = self._best_account(record, candidates, same_class)
        else:
            match_class = TAX_CLASSES.get(record.type_tax_use, "both")
            same_class = candidates.filtered(lambda r: r.match_class in (match_class, "both"))
            found, how, confidence = self._best_tax(
                record, same_class, connection._tax_total_on_document())
        values = {"connection_id": connection.id, "kind": kind, kind + "_id": record.id}
        if found and confidence in APPLIED:
            values.update(remote_record_id=found.id, matched_by=how, confidence=confidence)
        elif found:
            values.update(suggested_remote_id=found.id, confidence=confidence)
        return values

    @api.model
    def _best_account(self, account, candidates, same_class):
        code = (account.code or "").strip()
        by_code = candidates.filtered(lambda r: code and (r.code or "").strip() == code)
        if by_code:
            return by_code[:1], "code", "exact"
        name = (account.name or "").strip().casefold()
        by_name = same_class.filtered(lambda r: r.name.strip().casefold() == name) or \
            candidates.filtered(lambda r: r.name.strip().casefold() == name)
        if by_name:
            return by_name[:1], "name", "high"
        if not same_class:
            return None, None, None
        scored = sorted(same_class, key=lambda r: (-similarity(account.name, r.name),
                                                   r.code or "", r.id))
        best = scored[0]
        if similarity(account.name, best.name) >= 0.5:
            return best, "name", "medium"
        return best, "type", "low"

    @api.model
    def _best_tax(self, tax, candidates, total_kept=False):
        """The remote tax for ``tax``: the same rate (and name), else one whose rate the
        provider sets per document, else — suggested only — the nearest rate (or, where the
        document's tax total is kept, a non-taxable code)."""
        if tax.amount_type != "percent" or not candidates:
            return None, None, None
        name = (tax.name or "").strip().casefold()

        def taxable(remote):
            return not remote.exempt and (remote.rate or not remote.rate_known)
        allowed = candidates.filtered(lambda r: bool(tax.amount) == bool(taxable(r)))
        same_rate = allowed.filtered(lambda r: r.rate_known and
                                     abs(r.rate - tax.amount) <= RATE_TOLERANCE)
        named = same_rate.filtered(lambda r: r.name.strip().casefold() == name)
        if named:
            return named[:1], "rate", "exact"
        if same_rate:
            best = sorted(same_rate, key=lambda r: (-similarity(tax.name, r.name), r.id))[0]
            return best, "rate", "high"
        any_rate = allowed.filtered(lambda r: not r.rate_known)
        if any_rate:  # the provider sets the rate per document: any Odoo rate fits
            return any_rate[:1], "rate", "medium"
        if not allowed and tax.amount and total_kept:
            # Not taxable there, but the document's tax total is kept: the best there is.
            allowed = candidates
        if not allowed:
            return None, None, None
        best = sorted(allowed, key=lambda r: (abs(r.rate - tax.amount), r.id))[0]
        return best, "rate", "low"

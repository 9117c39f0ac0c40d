from odoo import api, fields, models

from .accounting_sync_mapping import MATCH_CLASSES

GROUPS = [
    ("income", "Income"), ("other_income", "Other income"), ("expense", "Expense"),
    ("cost_of_sales", "Cost of sales"), ("bank", "Bank"), ("receivable", "Receivable"),
    ("payable", "Payable"), ("current_asset", "Current asset"), ("fixed_asset", "Fixed asset"),
    ("current_liability", "Current liability"), ("long_term_liability", "Long-term liability"),
    ("equity", "Equity"), ("other", "Other"),
]
APPLIES_TO = [("sales", "Sales"), ("purchases", "Purchases"), ("both", "Sales and purchases")]


class AccountingSyncRemoteRecord(models.Model):
    """The remote company's accounts and taxes, read for mapping."""

    _name = "accounting.sync.remote.record"
    _description = "Accounting Sync: remote account or tax"
    _order = "kind, match_class, code, name"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True, index=True,
                                    ondelete="cascade", check_company=True)
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    kind = fields.Selection([("account", "Account"), ("tax", "Tax")], required=True)
    remote_id = fields.Char(string="Remote ID", required=True)
    name = fields.Char(required=True)
    code = fields.Char()
    remote_type = fields.Char(help="The type as the provider says it")
    group = fields.Selection(GROUPS, help="What the account is for, the same for every provider")
    applies_to = fields.Selection(APPLIES_TO, help="Taxes: sales, purchases or both")
    match_class = fields.Char(compute="_compute_match_class", store=True, index=True)
    rate = fields.Float(digits=(16, 4))
    rate_known = fields.Boolean(
        help="Taxes: the provider says the rate; otherwise it decides it per document (a "
             "QuickBooks Online US TAX code), and any Odoo rate fits.")
    exempt = fields.Boolean(help="Taxes: not taxable, or 0 %")
    currency = fields.Char()
    is_bank = fields.Boolean(string="Bank")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("remote_unique", "unique(connection_id, kind, remote_id)",
         "This remote record is already known."),
    ]

    @api.depends("kind", "group", "applies_to")
    def _compute_match_class(self):
        for record in self:
            if record.kind == "account":
                record.match_class = MATCH_CLASSES.get(record.group or "other", "other")
            else:
                record.match_class = record.applies_to or "both"

    @api.depends("kind", "code", "name", "group", "rate", "rate_known", "exempt")
    def _compute_display_name(self):
        groups = dict(self._fields["group"]._description_selection(self.env))
        for record in self:
            if record.kind == "tax":
                rate = self.env._("exempt") if record.exempt else (
                    "%s %%" % round(record.rate, 4) if record.rate_known else
                    self.env._("rate per document"))
                record.display_name = "%s · %s" % (record.name, rate)
            else:
                name = " ".join(filter(None, [record.code, record.name]))
                group = groups.get(record.group)
                record.display_name = "%s · %s" % (name, group) if group else name

    @property
    def group_label(self):
        return dict(self._fields["group"]._description_selection(self.env)).get(
            self.group, self.remote_type or "")

    @api.model
    def _store_chart(self, connection, chart):
        """Keep what ``chart`` (the adapter's) says of the remote accounts and taxes; return
        what it says of the remote company, for the connection."""
        Remote = self.sudo()
        known = {(r.kind, r.remote_id): r for r in connection.sudo().with_context(
            active_test=False).remote_record_ids}
        for kind, items in (("account", chart.accounts), ("tax", chart.taxes)):
            for item in items:
                values = {
                    "name": item.name, "active": item.active,
                    "code": getattr(item, "code", None) or False,
                    "remote_type": getattr(item, "type", None) or False,
                    "group": getattr(item, "group", None) or (
                        "other" if kind == "account" else False),
                    "applies_to": getattr(item, "applies_to", None) or (
                        "both" if kind == "tax" else False),
                    "exempt": bool(getattr(item, "exempt", False)),
                    "currency": getattr(item, "currency", None) or False,
                    "is_bank": bool(getattr(item, "is_bank", False)),
                    "rate": float(getattr(item, "rate", None) or 0.0),
                    "rate_known": getattr(item, "rate", None) is not None,
                }
                if (kind, item.id) in known:
                    known[(kind, item.id)].write(values)
                else:
                    Remote.create(dict(values, connection_id=connection.id, kind=kind,
                                       remote_id=item.id))
        return {"remote_currency": chart.currency or False,
                "remote_country": chart.country or False,
                "remote_tax_code": getattr(chart, "default_tax_code", None) or False}

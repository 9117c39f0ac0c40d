from odoo import fields, models
from odoo.exceptions import AccessError, UserError

SYNC_STATES = [("pending", "Pending"), ("synced", "Synced"), ("failed", "Failed"),
               ("skipped", "Never sync")]


def summary_state(states):
    """One record's sync state over its connections: the worst of them."""
    states = {"pending" if s in ("waiting", "to_void") else s for s in states}
    return next((s for s in ("failed", "pending", "synced", "skipped") if s in states), False)


class AccountingSyncMixin(models.AbstractModel):
    """The synced-model contract, and the change queue the synced models keep.

    Each synced model (invoices and bills, payments, partners, products) says what it is sent
    as (:meth:`_accounting_sync_kind`), builds its provider-neutral record
    (:meth:`_accounting_sync_build`) and names the records it needs synced first
    (:meth:`_accounting_sync_dependencies`). When something is posted, edited, cancelled,
    it marks its sync state due — pending, or *to void* — for every connection of its
    company whose scope and start date include it, in the same transaction
    (:meth:`_accounting_sync_mark_due`): a run then takes the due sync states only and
    never searches history."""

    _name = "accounting.sync.mixin"
    _description = "Accounting Sync: synced record"

    accounting_sync_binding_ids = fields.One2many(
        "accounting.sync.binding", compute="_compute_accounting_sync_binding_ids",
        string="Sync States", groups="accounting_sync.group_accounting_sync_user")
    accounting_sync_state = fields.Selection(
        SYNC_STATES, compute="_compute_accounting_sync_binding_ids",
        string="Sync State", groups="accounting_sync.group_accounting_sync_user",
        search="_search_accounting_sync_state")

    # ------------------------------------------------------------------------------------
    # The contract
    # ------------------------------------------------------------------------------------

    def _accounting_sync_kind(self, connection):
        """What this record is sent as by ``connection`` (``None``: out of its scope)."""
        raise NotImplementedError

    def _accounting_sync_build(self, context, binding):
        """This record as the provider-neutral record ``binding`` sends (providers.documents);
        raise ``MappingError`` when it cannot be built."""
        raise NotImplementedError

    def _accounting_sync_dependencies(self, connection):  # pylint: disable=unused-argument
        """The records that must be synced before these ones (a recordset per model)."""
        return []

    def _accounting_sync_references(self, connection):  # pylint: disable=unused-argument
        """The records whose sync states a batch of these reads (read in one query each)."""
        return []

    def _accounting_sync_prefetch(self):
        """Read, for the whole batch at once, what building each of these records reads
        (lines, taxes, reconciliations), instead of a few queries per record."""

    # ------------------------------------------------------------------------------------
    # The change queue
    # ------------------------------------------------------------------------------------

    def _accounting_sync_connections(self):
        """The connections these records may be sent through: those of their companies (a
        record shared by every company: all of them) that have a start date."""
        companies = self.mapped("company_id") if "company_id" in self._fields else None
        domain = [("sync_start_date", "!=", False)]
        if companies is not None and not any(not r.company_id for r in self):
            domain.append(("company_id", "in", companies.ids))
        return self.env["accounting.sync.connection"].sudo().search(domain)

    def _accounting_sync_mark_due(self, void=False, create=True, connections=None):
        """Mark these records' sync states due (``void``: to void) on every connection whose
        scope includes them, with the records they need; ``create``: make the sync states
        that do not exist yet (posting); else only existing ones are marked (an edit of a
        partner never synced is nothing to send)."""
        records = self.sudo()
        if not records:
            return
        Binding = self.env["accounting.sync.binding"].sudo()
        # A change brought in from a remote company is not news to that company.
        source = self.env.context.get("accounting_sync_from_connection")
        for connection in connections if connections is not None else \
                records._accounting_sync_connections():
            if connection.id == source:
                continue
            todo = {}
            allowed = connection._allowed_kinds()
            for record in records:
                if connection._foreign(record):
                    continue
                kind = record._accounting_sync_kind(connection)
                if kind in allowed:
                    todo[record.id] = kind
            if not todo:
                continue
            Binding._enqueue(connection, records.browse(list(todo)), todo, void=void,
                             create=create)
            if not void and create:
                for needed in records.browse(list(todo))._accounting_sync_dependencies(
                        connection):
                    needed._accounting_sync_require(connection)

    def _accounting_sync_require(self, connection):
        """These records are needed by a record to send: make their sync states pending
        where they have none yet (never touch one that exists)."""
        records = self.sudo().filtered(lambda r: not connection._foreign(r))
        kinds = {}
        allowed = connection._allowed_kinds()
        for record in records:
            kind = record._accounting_sync_kind(connection)
            if kind in allowed:
                kinds[record.id] = kind
        if kinds:
            self.env["accounting.sync.binding"].sudo()._enqueue(
                connection, records.browse(list(kinds)), kinds, only_missing=True)

    # ------------------------------------------------------------------------------------
    # Sync state on the record, and Sync to…
    # ------------------------------------------------------------------------------------

    def _compute_accounting_sync_binding_ids(self):
        bindings = self.env["accounting.sync.binding"].search([
            ("res_model", "=", self._name), ("res_id", "in", self.ids)])
        by_record = {}
        for binding in bindings:
            by_record.setdefault(binding.res_id, self.env["accounting.sync.binding"])
            by_record[binding.res_id] |= binding
        for record in self:
            mine = by_record.get(record.id, self.env["accounting.sync.binding"])
            record.accounting_sync_binding_ids = mine
            record.accounting_sync_state = summary_state(mine.mapped("state"))

    def _search_accounting_sync_state(self, operator, value):
        """Records with a sync state ``value`` on some connection (False: on none)."""
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on the sync state."))
        Binding = self.env["accounting.sync.binding"]
        domain = [("res_model", "=", self._name)]
        if value == "pending":
            domain.append(("state", "in", ("pending", "waiting", "to_void")))
        elif value:
            domain.append(("state", "=", value))
        bound = Binding._search(domain).subselect("res_id")
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", bound)]

    def action_accounting_sync(self):
        """Sync these records (and what they depend on) to the connected remote companies of
        their own company: a record never goes through another company's connection."""
        if not self.env.user.has_group("accounting_sync.group_accounting_sync_user"):
            raise AccessError(self.env._("Only Accounting Sync users can sync records."))
        self.check_access("read")
        # The user's connections (record rules: their allowed companies).
        connections = self.env["accounting.sync.connection"].search([
            ("state", "=", "connected"), ("sync_start_date", "!=", False)])
        runs = self.env["accounting.sync.run"]
        for connection in connections:
            mine = self.filtered(lambda r, c=connection: not c._foreign(r) and (
                "company_id" not in r._fields or r.company_id or c.company_id in self.env.companies))
            if mine:
                runs |= connection._start_run("records", records=mine)
        if not runs:
            raise UserError(self.env._(
                "No connected Accounting Sync connection of these records' company."))
        problems = any(run.state != "done" for run in runs)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "warning" if problems else "success",
            "title": self.env._("Accounting Sync"),
            "message": "\n".join(run._summary() + (". " + run.outcome if run.outcome and
                                                   run.state != "done" else "")
                                 for run in runs),
            "next": {"type": "ir.actions.client", "tag": "soft_reload"}}}

    def action_open_accounting_sync_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "accounting_sync.accounting_sync_binding_action")
        action["domain"] = [("res_model", "=", self._name), ("res_id", "=", self.id)]
        action["context"] = {}
        return action

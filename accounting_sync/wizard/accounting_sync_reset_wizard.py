from odoo import api, fields, models
from odoo.exceptions import UserError

from ..providers import ProviderError


class AccountingSyncResetWizard(models.TransientModel):
    """Reset Record Sync State: forget where records went, so that the next sync creates
    them anew (the fix for records sent to the wrong remote company)."""

    _name = "accounting.sync.reset.wizard"
    _description = "Accounting Sync: Reset Record Sync State"
    _check_company_auto = True

    connection_id = fields.Many2one("accounting.sync.connection", required=True,
                                    ondelete="cascade", check_company=True)
    company_id = fields.Many2one(related="connection_id.company_id")
    binding_ids = fields.Many2many("accounting.sync.binding", string="Records",
                                   help="Leave empty to choose by type and date below.")
    remote_type = fields.Selection(
        selection=lambda self: self.env["accounting.sync.binding"]._fields[
            "remote_type"].selection, string="Only Type")
    stale_only = fields.Boolean(
        string="Only records linked to another remote company",
        help="Those synced before the connection was pointed at the company it is linked to "
             "now.")
    date_from = fields.Date(help="Only records dated on or after this date.")
    date_to = fields.Date(help="Only records dated on or before this date.")
    policy = fields.Selection(
        [("forget", "Forget the remote link (the next sync creates them again)"),
         ("void", "Void / delete / inactivate the remote copies, then forget the link"),
         ("never", "Never sync these records")],
        default="forget", required=True)
    count = fields.Integer(compute="_compute_count", string="Records to reset")
    summary = fields.Char(compute="_compute_count")
    confirmed = fields.Boolean(
        string="I have checked the records and the policy",
        help="Voiding removes the remote copies; forgetting sends the records again.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "accounting.sync.binding":
            bindings = self.env["accounting.sync.binding"].browse(
                self.env.context.get("active_ids", []))
            values["binding_ids"] = [fields.Command.set(bindings.ids)]
            values["connection_id"] = bindings.connection_id[:1].id
        elif self.env.context.get("active_model") == "accounting.sync.connection":
            values["connection_id"] = self.env.context.get("active_id")
        return values

    @api.depends("binding_ids", "remote_type", "date_from", "date_to", "connection_id",
                 "policy", "stale_only")
    def _compute_count(self):
        policies = dict(self._fields["policy"]._description_selection(self.env))
        for wizard in self:
            wizard.count = len(wizard._bindings())
            wizard.summary = self.env._(
                "%(count)s records of %(connection)s: %(policy)s", count=wizard.count,
                connection=wizard.connection_id.display_name, policy=policies.get(
                    wizard.policy, "")) if wizard.count else self.env._(
                "Choose the records: select them in the synced records list, or a type or "
                "dates here.")

    def _bindings(self):
        """The bindings to reset, all of this wizard's connection (read as the user: record
        rules apply)."""
        self.ensure_one()
        if self.binding_ids:
            return self.binding_ids.filtered(lambda b: b.connection_id == self.connection_id)
        if not (self.remote_type or self.date_from or self.date_to or self.stale_only):
            return self.env["accounting.sync.binding"]  # an explicit choice, never "all"
        domain = [("connection_id", "=", self.connection_id.id)]
        if self.stale_only:
            domain += [("remote_company_id", "!=", False),
                       ("remote_company_id", "!=", self.connection_id.remote_company_id)]
        if self.remote_type:
            domain.append(("remote_type", "=", self.remote_type))
        bindings = self.env["accounting.sync.binding"].search(domain)
        if self.date_from or self.date_to:
            bindings = bindings.filtered(self._in_dates)
        return bindings

    def _in_dates(self, binding):
        record = binding.sudo()._record()
        day = record and ("date" in record._fields and record.date)
        if not day:
            return False
        return (not self.date_from or day >= self.date_from) and (
            not self.date_to or day <= self.date_to)

    def action_reset(self):
        self.ensure_one()
        connection = self.connection_id
        connection._check_sync_admin()
        bindings = self._bindings()
        if not bindings:
            raise UserError(self.env._("No record matches."))
        if not self.confirmed:
            raise UserError(self.env._("Tick the confirmation: %s", self.summary))
        bindings.check_access("read")
        failures = []
        if self.policy == "void":
            failures = self._void_remote(bindings)
        if self.policy == "never":
            bindings.sudo().write({"state": "skipped"})
        else:
            # Forgotten: due again, to be created anew (under new keys) by the next sync.
            bindings.sudo()._forget()
        summary = dict(self._fields["policy"].selection)[self.policy]
        connection._log(self.env._(
            "%(user)s reset the sync state of %(count)s records: %(policy)s.%(failures)s",
            user=self.env.user.name, count=len(bindings), policy=summary,
            failures=(" " + self.env._("Could not remove remotely: %s", "; ".join(failures)))
            if failures else ""))
        return {"type": "ir.actions.act_window_close"}

    def _void_remote(self, bindings):
        """Void documents and payments, inactivate contacts and products, where the remote
        copy belongs to the company the binding says. Return what failed, in words."""
        connection = self.connection_id
        failures = []
        for binding in bindings.filtered(lambda b: b.remote_id and not b.voided):
            if binding.remote_company_id and binding.remote_company_id != \
                    connection.remote_company_id:
                failures.append(self.env._(
                    "%s is in another remote company; remove it there", binding.record_name))
                continue
            method = "deactivate" if binding.remote_type in (
                "customer", "vendor", "product") else "void"
            try:
                result = connection._call_provider(
                    lambda adapter, tokens, b=binding, m=method: getattr(adapter, m)(
                        tokens, connection.remote_company_id, b.remote_type, b.remote_id,
                        b.remote_version))
            except (ProviderError, UserError) as e:
                failures.append("%s: %s" % (binding.record_name, e))
                continue
            if not result.ok:
                failures.append("%s: %s" % (binding.record_name, result.error))
        return failures

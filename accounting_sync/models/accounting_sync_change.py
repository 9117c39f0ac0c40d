import json
import logging

from psycopg2.extras import execute_values

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

CHANGE_STATES = [("new", "New"), ("applied", "Applied"), ("ignored", "Ignored"),
                 ("conflict", "Conflict"), ("failed", "Failed")]


class AccountingSyncChange(models.Model):
    """One change received from a remote company (a webhook event, or a record read by an
    incremental pull): recorded as it arrives — no API call and no business write inside the
    provider's request — deduplicated by the provider's event id, and applied later, once,
    in order of the provider's own times."""

    _name = "accounting.sync.change"
    _description = "Accounting Sync: change received from a remote company"
    _order = "occurred_at desc, id desc"
    _rec_name = "remote_id"

    connection_id = fields.Many2one("accounting.sync.connection", required=True, readonly=True,
                                    index=True, ondelete="cascade")
    company_id = fields.Many2one(related="connection_id.company_id", store=True, index=True)
    event_id = fields.Char(string="Provider Event ID", required=True, readonly=True)
    remote_type = fields.Char(readonly=True, help="What changed, as the provider names it")
    remote_id = fields.Char(readonly=True, index=True)
    operation = fields.Char(readonly=True)
    occurred_at = fields.Datetime(string="Event Time", readonly=True)
    state = fields.Selection(CHANGE_STATES, required=True, default="new", readonly=True,
                             index=True)
    message = fields.Text(readonly=True)
    data = fields.Text(readonly=True, help="What else the event said")

    _sql_constraints = [
        ("event_unique", "unique(connection_id, event_id)",
         "A provider event is recorded once per connection."),
    ]

    @api.model
    def _record(self, provider, changes):
        """Record ``changes`` (providers.Change) of ``provider``, each for the connections of
        its own remote company (one delivery may span several; an unknown company's events
        are ignored); an event already recorded is left as it is. Return how many rows were
        new."""
        by_company = {}
        for change in changes:
            by_company.setdefault(change.company_id, []).append(change)
        if not by_company:
            return 0
        connections = self.env["accounting.sync.connection"].sudo().with_context(
            active_test=False).search([("provider", "=", provider),
                                       ("remote_company_id", "in", list(by_company))])
        rows = [(connection.id, connection.company_id.id, change.event_id,
                 change.remote_type, change.remote_id, change.operation, change.occurred_at,
                 json.dumps(change.data, default=str), self.env.uid, self.env.uid)
                for connection in connections
                for change in by_company[connection.remote_company_id]]
        # One statement for the whole delivery, however many events it holds.
        inserted = execute_values(self.env.cr._obj, """
            INSERT INTO accounting_sync_change
                        (connection_id, company_id, event_id, remote_type, remote_id,
                         operation, occurred_at, data, create_uid, write_uid, state,
                         create_date, write_date)
                 SELECT v.*, 'new', now() at time zone 'UTC', now() at time zone 'UTC'
                   FROM (VALUES %s) AS v
            ON CONFLICT (connection_id, event_id) DO NOTHING
              RETURNING id
        """, rows, template="(%s, %s, %s, %s, %s, %s, %s::timestamp, %s, %s, %s)",
            fetch=True) if rows else []
        recorded = len(inserted)
        unknown = set(by_company) - set(connections.mapped("remote_company_id"))
        if unknown:
            _logger.info("Accounting sync: %s webhook events of %s remote companies no "
                         "connection syncs were acknowledged and ignored",
                         sum(len(by_company[c]) for c in unknown), len(unknown))
        return recorded

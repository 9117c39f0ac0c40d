import logging
import secrets
import uuid
from urllib.parse import urlsplit

from passlib.context import CryptContext

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..providers.quickbooks_desktop import qwc

_logger = logging.getLogger(__name__)

QBD = "quickbooks_desktop"
SOAP_PATH = "/accounting_sync/qbwc"
QWC_PATH = "/accounting_sync/qbwc/qwc/%s"
SUPPORT_PATH = "/accounting_sync/qbwc/support"
# The Web Connector password: shown once, stored as a salted PBKDF2 hash (as res.users).
PASSWORD_CONTEXT = CryptContext(["pbkdf2_sha512"], pbkdf2_sha512__rounds=60000)
PASSWORD_BYTES = 18  # 24 characters of base64url
COUNTRIES = [("US", "United States"), ("CA", "Canada"), ("UK", "United Kingdom")]


def _guid():
    return "{%s}" % str(uuid.uuid4()).upper()


class AccountingSyncQbwcMixin(models.AbstractModel):
    """A QuickBooks Desktop connection, seen from the Web Connector (QBWC) on the PC where
    QuickBooks runs: nothing here calls out; QBWC calls ``/accounting_sync/qbwc`` on its
    schedule (accounting.sync.qbwc.session answers it).

    An administrator generates the connector password (shown once, stored as a hash) and
    downloads the ``.qwc`` file (AppName, AppID, AppURL, UserName, OwnerID and FileID unique to
    this connection: one queue per connection, never per user name or file path); the first
    Web Connector session pins the company file, confirms the country and qbXML version and
    links the lists; the later ones push what the change queue holds, within the sync window.
    In one-time mode the connection deauthorizes itself once the first link is done and the
    queue is empty."""

    _name = "accounting.sync.qbwc.mixin"
    _description = "Accounting Sync: QuickBooks Web Connector side of a connection"

    qbwc_username = fields.Char(
        string="Web Connector User", copy=False, readonly=True, index=True,
        help="The user name in the .qwc file; unique to this connection.")
    qbwc_password_hash = fields.Char(groups="base.group_system", copy=False)
    qbwc_password_set = fields.Boolean(string="Password Set", readonly=True, copy=False)
    qbwc_owner_id = fields.Char(string="OwnerID", copy=False, readonly=True)
    qbwc_file_id = fields.Char(string="FileID", copy=False, readonly=True)
    qbwc_country = fields.Selection(
        COUNTRIES, string="QuickBooks Country", default="US",
        help="The edition of QuickBooks Desktop (taxes and addresses differ); confirmed by "
             "the first Web Connector session.")
    qbwc_qbxml_version = fields.Char(
        string="qbXML Version", readonly=True, copy=False,
        help="The lower of this connector's and the highest the company file supports.")
    qbwc_mode = fields.Selection(
        [("ongoing", "Ongoing"), ("one_time", "One-time")], string="Sync Mode",
        default="ongoing", required=True,
        help="Ongoing: every Web Connector run sends what is queued. One-time: after the first "
             "link and once the queue is empty, the connection deauthorizes itself.")
    qbwc_interval = fields.Integer(
        string="Web Connector Runs Every (minutes)", default=30,
        help="Written in the .qwc file (Scheduler/RunEveryNMinutes).")
    qbwc_window = fields.Boolean(
        string="Sync Window", help="Work only between these hours (in the time zone of the "
                                   "administrator who generated the password): the usual cure "
                                   "for \"user was working in QuickBooks\".")
    qbwc_window_start = fields.Float(string="From", default=19.0)
    qbwc_window_end = fields.Float(string="Until", default=7.0)
    qbwc_batch_size = fields.Integer(
        string="Requests per Exchange", default=25,
        help="qbXML requests sent in one message (onError=continueOnError).")
    qbwc_company_file = fields.Char(
        string="Company File", readonly=True, copy=False,
        help="Pinned by the first Web Connector session: another company file is refused.")
    qbwc_linked_at = fields.Datetime(string="Lists Linked", readonly=True, copy=False)
    qbwc_link_requested = fields.Boolean(readonly=True, copy=False)
    qbwc_last_contact_at = fields.Datetime(string="Last Web Connector Contact", readonly=True,
                                           copy=False)
    qbwc_last_client_version = fields.Char(string="Web Connector Version", readonly=True,
                                           copy=False)
    qbwc_last_company_file = fields.Char(string="Company File Open", readonly=True, copy=False)
    qbwc_last_country = fields.Char(string="Country Reported", readonly=True, copy=False)
    qbwc_last_message = fields.Char(string="Last Web Connector Message", readonly=True,
                                    copy=False)
    qbwc_queued_count = fields.Integer(string="Queued", compute="_compute_qbwc_queued",
                                       help="Records waiting for the next Web Connector run")
    qbwc_url = fields.Char(string="Web Connector URL", compute="_compute_qbwc_url")
    qbwc_url_warning = fields.Char(compute="_compute_qbwc_url")

    _sql_constraints = [
        ("qbwc_username_unique", "unique(qbwc_username)",
         "This Web Connector user name belongs to another connection."),
    ]

    # ------------------------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------------------------

    def _compute_qbwc_queued(self):
        Binding = self.env["accounting.sync.binding"]
        counts = dict(Binding._read_group(
            [("connection_id", "in", self.ids), "|", ("state", "in", ("pending", "to_void")),
             "&", ("state", "=", "waiting"), ("error_code", "in", ("queued", "qbd_locked"))],
            ["connection_id"], ["__count"]))
        for connection in self:
            connection.qbwc_queued_count = counts.get(connection, 0)

    @api.depends("provider")
    def _compute_qbwc_url(self):
        base = (self.env["ir.config_parameter"].sudo().get_param("web.base.url") or "").rstrip(
            "/")
        url = base + SOAP_PATH
        warning = False
        parts = urlsplit(base)
        if parts.scheme != "https" and (parts.hostname or "") not in ("localhost", "127.0.0.1"):
            warning = self.env._(
                "The Web Connector only calls https addresses (or localhost): %(url)s is plain "
                "http. Serve Odoo over https (web.base.url) before adding the .qwc file.",
                url=url)
        for connection in self:
            connection.qbwc_url = url if connection.provider == QBD else False
            connection.qbwc_url_warning = warning if connection.provider == QBD else False

    # ------------------------------------------------------------------------------------
    # Identity: user name and GUIDs on creation, the password on request
    # ------------------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        connections = super().create(vals_list)
        connections._qbwc_ensure_identity()
        return connections

    def write(self, vals):
        result = super().write(vals)
        if vals.get("provider") == QBD:
            self._qbwc_ensure_identity()
        return result

    def _qbwc_ensure_identity(self):
        """A QuickBooks Desktop connection's Web Connector user name, OwnerID and FileID,
        made once."""
        for connection in self.sudo().filtered(lambda c: c.provider == QBD):
            values = {}
            if not connection.qbwc_username:
                values["qbwc_username"] = "odoo-%s-%s" % (connection.id,
                                                          secrets.token_hex(3))
            if not connection.qbwc_owner_id:
                values["qbwc_owner_id"] = _guid()
            if not connection.qbwc_file_id:
                values["qbwc_file_id"] = _guid()
            if values:
                connection.write(values)

    def action_qbwc_generate_password(self):
        """A new Web Connector password, shown once to the administrator who asked; the old
        one stops working at once. The connection is then authorized: the Web Connector may
        log in with it."""
        self.ensure_one()
        self._check_sync_admin()
        self._qbwc_check_provider()
        self._qbwc_ensure_identity()
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        connection = self.sudo()
        replaced = connection.qbwc_password_set
        connection.write({
            "qbwc_password_hash": PASSWORD_CONTEXT.hash(password), "qbwc_password_set": True,
            "state": "connected", "token_holder_id": self.env.user.id,
            "authorization_lost": False, "last_error": False,
        })
        self._log(self.env._(
            "Web Connector password %(what)s by %(user)s.",
            what=self.env._("replaced (the old one no longer works)") if replaced
            else self.env._("generated"), user=self.env.user.name))
        return self._notification(self.env._(
            "Web Connector password for %(user)s: %(password)s — type it in the Web Connector "
            "now; it is not shown again.", user=connection.qbwc_username, password=password),
            kind="warning", title=self.env._("Copy this password now"), sticky=True)

    def action_qbwc_download_qwc(self):
        self.ensure_one()
        self._check_sync_admin()
        self._qbwc_check_provider()
        self._qbwc_ensure_identity()
        return {"type": "ir.actions.act_url", "target": "self",
                "url": QWC_PATH % self.id}

    def action_qbwc_link_again(self):
        """Read the company file's lists again at the next Web Connector run."""
        self.ensure_one()
        self._check_sync_admin()
        self._qbwc_check_provider()
        self.sudo().qbwc_link_requested = True
        return self._notification(self.env._(
            "The lists are read again at the next Web Connector run."))

    def action_open_qbwc_sessions(self):
        self.ensure_one()
        self._check_sync_admin()
        return self._open_action("accounting_sync.accounting_sync_qbwc_session_action")

    def _qbwc_check_provider(self):
        if self.provider != QBD:
            raise UserError(self.env._("%s is not a QuickBooks Desktop connection.", self.name))

    def _qbwc_check_password(self, password):
        """Whether ``password`` is this connection's (constant time; False when none set)."""
        hashed = self.sudo().qbwc_password_hash if len(self) == 1 else False
        if not hashed or not isinstance(password, str) or not password:
            PASSWORD_CONTEXT.dummy_verify()  # the same time either way
            return False
        try:
            return PASSWORD_CONTEXT.verify(password, hashed)
        except (ValueError, TypeError):
            return False

    def _qbwc_qwc(self):
        """The .qwc file of this connection (text)."""
        self.ensure_one()
        self._qbwc_ensure_identity()
        connection = self.sudo()
        base = (self.env["ir.config_parameter"].sudo().get_param("web.base.url") or "").rstrip(
            "/")
        return qwc(
            app_name="Odoo %s (%s)" % (connection.name, self.env.cr.dbname),
            app_id="odoo-accounting-sync-%s" % connection.id,
            app_url=base + SOAP_PATH, app_support=base + SUPPORT_PATH,
            username=connection.qbwc_username, owner_id=connection.qbwc_owner_id,
            file_id=connection.qbwc_file_id,
            run_every_minutes=max(connection.qbwc_interval or 30, 1),
            description=self.env._("Odoo Accounting Sync for %s", connection.company_id.name))

    def _qbwc_deauthorize(self, reason):
        """One-time mode is over (or an administrator ended it): the password no longer
        works, the Web Connector is answered "nvu"."""
        connection = self.sudo()
        connection.write({"qbwc_password_hash": False, "qbwc_password_set": False,
                          "state": "disconnected"})
        connection.message_post(body=reason)

    def _adapter_options(self):
        """What the adapter is built with besides the common settings: nothing, but for
        QuickBooks Desktop its country, qbXML version and batch size."""
        self.ensure_one()
        if self.provider != QBD:
            return {}
        return {"country": self.qbwc_country or "US",
                "qbxml_version": self.qbwc_qbxml_version or "13.0",
                "batch_size": max(self.qbwc_batch_size or 25, 1)}

    def _qbwc_within_window(self, now):
        """Whether ``now`` (naive UTC) is within the sync window (always, without one), in
        the time zone of the administrator who authorized the Web Connector (else UTC)."""
        self.ensure_one()
        if not self.qbwc_window:
            return True
        tz = self.token_holder_id.tz or "UTC"
        local = fields.Datetime.context_timestamp(self.with_context(tz=tz), now)
        hour = local.hour + local.minute / 60.0
        start, end = self.qbwc_window_start % 24, self.qbwc_window_end % 24
        if start <= end:
            return start <= hour < end
        return hour >= start or hour < end  # over midnight, e.g. 19:00-07:00

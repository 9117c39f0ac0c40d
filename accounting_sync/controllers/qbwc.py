import logging
import re

import psycopg2

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import request

from ..providers.quickbooks_desktop.soap import (
    MAX_BODY_BYTES, SoapError, parse_call, render_fault, render_result,
)

_logger = logging.getLogger(__name__)

SOAP_HEADERS = [("Content-Type", "text/xml; charset=utf-8")]
# What each method answers when something unforeseen goes wrong: never a 500, never a
# traceback, never a fault for a well-formed call (the Web Connector would retry forever).
FALLBACK = {"authenticate": ["", "nvu"], "receiveResponseXML": -1, "connectionError": "done",
            "closeConnection": "Done.", "sendRequestXML": "", "getLastError": "",
            "clientVersion": "", "serverVersion": ""}


class AccountingSyncQbwc(http.Controller):
    """The QuickBooks Web Connector's SOAP service (Intuit's QBWebConnectorSvc.wsdl,
    SOAP 1.1 document/literal) and the .qwc file that points a Web Connector at it."""

    @http.route("/accounting_sync/qbwc", type="http", auth="public", methods=["POST"],
                csrf=False, save_session=False)
    def qbwc(self):
        http_request = request.httprequest
        if (http_request.content_length or 0) > MAX_BODY_BYTES:
            return self._fault("The request is too large.")
        raw = http_request.get_data(cache=False)
        try:
            method, args = parse_call(raw)
        except SoapError as e:
            return self._fault("Not a QuickBooks Web Connector call: %s." % e)
        env = request.env(su=True, context=dict(request.env.context,
                                                 qbwc_client=http_request.remote_addr))
        try:
            with env.cr.savepoint():
                value = env["accounting.sync.qbwc.session"]._dispatch(method, args)
        except psycopg2.Error:
            raise  # Odoo retries the request on a serialization failure
        except Exception:  # noqa: BLE001 - the Web Connector gets its method's answer
            _logger.exception("Accounting sync: Web Connector call %s failed", method)
            value = FALLBACK.get(method, "")
        return request.make_response(render_result(method, value), headers=SOAP_HEADERS)

    @http.route("/accounting_sync/qbwc", type="http", auth="public", methods=["GET"],
                csrf=False, save_session=False)
    def qbwc_get(self):
        return request.make_response(
            "QuickBooks Web Connector endpoint of Odoo Accounting Sync: add the .qwc file "
            "downloaded from the connection to the Web Connector.",
            headers=[("Content-Type", "text/plain; charset=utf-8")])

    @http.route("/accounting_sync/qbwc/support", type="http", auth="public", methods=["GET"],
                save_session=False)
    def qbwc_support(self):
        return request.make_response(
            "Odoo Accounting Sync — QuickBooks Desktop through the Web Connector. Each "
            "connection's form in Odoo (Accounting Sync → Connections) shows the last Web "
            "Connector contact and what went wrong; its administrator can download the .qwc "
            "file and generate a new password there.",
            headers=[("Content-Type", "text/plain; charset=utf-8")])

    @http.route("/accounting_sync/qbwc/qwc/<int:connection_id>", type="http", auth="user",
                methods=["GET"])
    def qwc(self, connection_id):
        """The connection's .qwc file, for its administrators only."""
        connection = request.env["accounting.sync.connection"].browse(connection_id).exists()
        if not connection:
            return request.not_found()
        try:
            connection._check_sync_admin()
            connection._qbwc_check_provider()
        except AccessError:
            return request.not_found()
        text = connection._qbwc_qwc()
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", connection.name or "quickbooks").strip("-")
        return request.make_response(text.encode("utf-8"), headers=[
            ("Content-Type", "application/xml; charset=utf-8"),
            ("Content-Disposition", 'attachment; filename="%s.qwc"' % (name or "odoo"))])

    def _fault(self, message):
        # A Fault, for a body that is no call at all; 400 rather than SOAP 1.1's 500: the
        # request is at fault, and nothing here ever answers 500.
        return request.make_response(render_fault(message), status=400, headers=SOAP_HEADERS)

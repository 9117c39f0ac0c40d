from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import content_disposition, request

USER_GROUP = "accounting_sync.group_accounting_sync_user"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AccountingSyncReconciliationController(http.Controller):

    @http.route("/accounting_sync/reconciliation/<int:reconciliation_id>/xlsx", type="http",
                auth="user", methods=["GET"])
    def reconciliation_xlsx(self, reconciliation_id):
        """A reconciliation as a workbook, one sheet per level: for Accounting Sync users of
        its company only (the record rules decide, before anything is read)."""
        if not request.env.user.has_group(USER_GROUP):
            raise Forbidden()
        rec = request.env["accounting.sync.reconciliation"].browse(reconciliation_id).exists()
        if not rec:
            raise NotFound()
        try:
            rec.check_access("read")
        except AccessError as e:
            raise Forbidden() from e
        content = rec._xlsx()
        return request.make_response(content, headers=[
            ("Content-Type", XLSX), ("Content-Length", len(content)),
            ("Content-Disposition", content_disposition(rec._export_name() + ".xlsx"))])

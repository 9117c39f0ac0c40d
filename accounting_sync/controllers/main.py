import logging

from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from ..providers import ProviderError

_logger = logging.getLogger(__name__)

ADMIN_GROUP = "accounting_sync.group_accounting_sync_admin"


class AccountingSyncOAuthController(http.Controller):

    @http.route("/accounting_sync/oauth/callback", type="http", auth="user", methods=["GET"])
    def oauth_callback(self, state=None, code=None, error=None, error_description=None, **kw):
        """Where Intuit and Xero send the admin's browser back after the consent page."""
        if not request.env.user.has_group(ADMIN_GROUP):
            _logger.warning("Accounting sync: user %s is not an admin, refusing the callback",
                            request.env.uid)
            raise Forbidden()
        connection = request.env["accounting.sync.connection"]._connection_from_oauth_state(state)
        env = request.env
        if error:
            if error == "access_denied":
                message = env._("You declined the authorization, so nothing changed.")
            else:
                message = env._("The provider reported an error: %(error)s %(description)s",
                            error=error, description=error_description or "")
            connection.message_post(body=env._("Connecting was not completed: %s", message))
            return self._error_page(connection, message)
        if not code:
            return self._error_page(connection,
                                    env._("The provider sent no authorization code."))
        try:
            url = connection._oauth_callback(code, kw)
        except (UserError, ProviderError) as e:
            message = e.args[0] if isinstance(e, UserError) else str(e)
            connection.message_post(body=env._("Connecting failed: %s", message))
            return self._error_page(connection, message)
        return request.redirect(url, local=True)

    def _error_page(self, connection, message):
        return request.render("accounting_sync.oauth_error_page", {
            "connection": connection,
            "message": message,
            "back_url": "/odoo/%s/%s" % (connection._name, connection.id),
        })

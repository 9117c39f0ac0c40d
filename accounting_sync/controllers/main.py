import logging

from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..providers import ProviderError

_logger = logging.getLogger(__name__)

ADMIN_GROUP = "accounting_sync.group_accounting_sync_admin"


class AccountingSyncOAuthController(http.Controller):

    @http.route("/accounting_sync/oauth/callback", type="http", auth="user", methods=["GET"])
    def oauth_callback(self, state=None, code=None, error=None, error_description=None, **kw):
        """Where Intuit and Xero send the admin's browser back after the consent page.

        Once the state is verified (and its nonce consumed), every outcome is a page, never
        an error response: the request's transaction then commits, so a state is never
        usable twice."""
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
                                error=str(error)[:100], description=str(
                                    error_description or "")[:300])
            connection._log(env._("Connecting was not completed: %s", message))
            return self._error_page(connection, message)
        if not code:
            return self._error_page(connection,
                                    env._("The provider sent no authorization code."))
        try:
            with env.cr.savepoint():
                url = connection._oauth_callback(code, kw)
        except (UserError, ProviderError, AccessError) as e:
            message = e.args[0] if isinstance(e, (UserError, AccessError)) else str(e)
        except Exception:  # noqa: BLE001 - an error page, never a traceback or a 500
            _logger.exception("Accounting sync: the OAuth callback of connection %s failed",
                              connection.id)
            message = env._("Connecting failed on an unexpected error; nothing was stored. "
                            "Try again; the server log has the details.")
        else:
            return request.redirect(url, local=True)
        connection._log(env._("Connecting failed: %s", message))
        return self._error_page(connection, message)

    def _error_page(self, connection, message):
        return request.render("accounting_sync.oauth_error_page", {
            "connection": connection,
            "message": message,
            "back_url": connection._form_url(),
        })

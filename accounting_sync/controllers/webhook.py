import logging

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..providers import (
    PROVIDERS, ConfigurationError, WebhookPayloadError, WebhookSignatureError, capabilities,
    get_adapter,
)

_logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class AccountingSyncWebhook(http.Controller):

    @http.route("/accounting_sync/webhook/<string:provider>", type="http", auth="public",
                methods=["POST"], csrf=False, save_session=False)
    def webhook(self, provider):
        """A provider's webhook delivery: the signature checked over the raw body with the
        app's key (401 if it does not match), then each event recorded as a change of the
        connection of its own remote company — nothing else happens inside the provider's
        request. A signed body that cannot be read is answered 200 and logged (the
        providers retry a whole delivery that is refused)."""
        if provider not in dict(PROVIDERS) or not capabilities(provider).webhooks:
            raise NotFound()
        http_request = request.httprequest
        if (http_request.content_length or 0) > MAX_BODY_BYTES:
            return request.make_response("", status=413)
        raw = http_request.get_data(cache=False)
        if len(raw) > MAX_BODY_BYTES:
            return request.make_response("", status=413)
        env = request.env(su=True)
        settings = env["accounting.sync.app.setting"]._values(provider)
        secret = settings.get(capabilities(provider).webhook_secret)
        try:
            adapter = get_adapter(provider, settings=settings)
            changes = adapter.parse_webhook(http_request.headers, raw, secret)
        except (WebhookSignatureError, ConfigurationError) as e:
            _logger.warning("Accounting sync: %s webhook refused: %s", provider, e)
            return request.make_response("", status=401)
        except WebhookPayloadError as e:
            _logger.warning("Accounting sync: %s webhook with a good signature could not be "
                            "read: %s", provider, e)
            return request.make_response("", status=200)
        if env["accounting.sync.change"]._record(provider, changes):
            # The pull that reads what the events name runs in the pull job, now — unless
            # a call of it is already due (a trigger row and a NOTIFY per delivery cost a
            # third of the acknowledgement).
            cron = env.ref("accounting_sync.ir_cron_pull")
            env.cr.execute("""
                SELECT 1 FROM ir_cron_trigger
                 WHERE cron_id = %s AND call_at <= now() at time zone 'UTC' LIMIT 1
            """, (cron.id,))
            if not env.cr.fetchone():
                cron._trigger()
        return request.make_response("", status=200)

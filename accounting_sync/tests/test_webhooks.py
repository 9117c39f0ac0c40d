"""The webhook endpoints, over HTTP as the providers call them: the signature checked over
the raw body (401 when it does not match or is missing), each event recorded once as a change
of the connection of its own remote company, an unreadable body with a good signature
acknowledged (200) and nothing recorded."""
import base64
import hashlib
import hmac
import json

from odoo.tests import tagged

from .common import QBO_REALM_1, QBO_REALM_2, XERO_UK, AccountingSyncCase

QBO_TOKEN = "qbo-verifier-token"
XERO_KEY = "xero-webhook-key"


def sign(key, body):
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def legacy(realm, entity_id, operation="Create", name="Invoice",
           updated="2026-03-01T10:00:00.000Z"):
    return {"realmId": realm, "dataChangeEvent": {"entities": [
        {"id": entity_id, "operation": operation, "name": name, "lastUpdated": updated}]}}


@tagged("post_install", "-at_install")
class TestWebhooks(AccountingSyncCase):

    def setUp(self):
        super().setUp()
        Setting = self.env["accounting.sync.app.setting"]
        Setting._set("quickbooks_online", client_id="c", client_secret="s",
                     webhook_verifier_token=QBO_TOKEN)
        Setting._set("xero", client_id="c", client_secret="s", webhook_key=XERO_KEY)
        self.qbo = self.create_connection("quickbooks_online")
        self.qbo.sudo().write({"state": "connected", "remote_company_id": QBO_REALM_1})
        self.xero = self.create_connection("xero")
        self.xero.sudo().write({"state": "connected", "remote_company_id": XERO_UK})
        self.env.flush_all()

    def post(self, provider, body, headers):
        return self.url_open("/accounting_sync/webhook/%s" % provider, data=body,
                             headers=headers, timeout=10)

    def changes(self, connection):
        return self.env["accounting.sync.change"].sudo().search(
            [("connection_id", "=", connection.id)])

    def test_quickbooks_events_are_recorded_once_for_their_own_realm(self):
        body = json.dumps({"eventNotifications": [
            legacy(QBO_REALM_1, "1234"), legacy(QBO_REALM_2, "99")]}).encode()
        headers = {"intuit-signature": sign(QBO_TOKEN, body),
                   "Content-Type": "application/json"}
        for _delivery in range(2):  # Intuit delivers again: nothing is recorded twice
            self.assertEqual(self.post("quickbooks_online", body, headers).status_code, 200)
        change = self.changes(self.qbo)
        self.assertEqual(len(change), 1, "the other realm is no connection's: ignored")
        self.assertEqual((change.remote_id, change.operation, change.state),
                         ("1234", "create", "new"))
        self.assertFalse(self.changes(self.xero))

    def test_a_bad_or_missing_signature_is_refused_and_records_nothing(self):
        body = json.dumps({"eventNotifications": [legacy(QBO_REALM_1, "1")]}).encode()
        for headers in ({"intuit-signature": sign("another token", body)}, {}):
            self.assertEqual(self.post("quickbooks_online", body, headers).status_code, 401)
        key_body = json.dumps({"events": []}).encode()
        self.assertEqual(self.post("xero", key_body,
                                   {"x-xero-signature": sign("wrong", key_body)}).status_code,
                         401, "Xero's intent-to-receive with a bad signature")
        self.assertFalse(self.changes(self.qbo))

    def test_xero_intent_to_receive_and_events(self):
        empty = json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
                            "entropy": "ABC"}).encode()
        answer = self.post("xero", empty, {"x-xero-signature": sign(XERO_KEY, empty)})
        self.assertEqual((answer.status_code, answer.content), (200, b""))
        invoice = "5e6f7a8b-0000-4000-8000-000000000002"
        body = json.dumps({"events": [{
            "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/" + invoice,
            "resourceId": invoice, "eventDateUtc": "2026-03-02T00:45:00",
            "eventType": "UPDATE", "eventCategory": "INVOICE", "tenantId": XERO_UK,
            "tenantType": "ORGANISATION"}]}).encode()
        self.assertEqual(self.post("xero", body, {"x-xero-signature": sign(XERO_KEY, body)})
                         .status_code, 200)
        change = self.changes(self.xero)
        self.assertEqual((change.remote_id, change.operation), (invoice, "update"))

    def test_an_unreadable_body_with_a_good_signature_is_acknowledged(self):
        for body in (b"not json", b'{"eventNotifications": "no list"}', b"\xff\xfe"):
            headers = {"intuit-signature": sign(QBO_TOKEN, body)}
            self.assertEqual(self.post("quickbooks_online", body, headers).status_code, 200,
                             "never a 400: Intuit would retry the whole delivery")
        self.assertFalse(self.changes(self.qbo))

    def test_only_post_and_only_known_providers(self):
        self.assertEqual(self.url_open("/accounting_sync/webhook/xero").status_code, 405)
        self.assertEqual(self.post("nothing", b"{}", {}).status_code, 404)
        big = b"{" + b" " * (1024 * 1024 + 1) + b"}"
        self.assertEqual(self.post("xero", big, {"x-xero-signature": sign(XERO_KEY, big)})
                         .status_code, 413)

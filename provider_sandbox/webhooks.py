"""Webhook delivery, as QuickBooks Online and Xero send it, to a receiver on 127.0.0.1.

Every logged change (changes.py) of an entity the provider sends webhooks for becomes a
pending event (QBO: WEBHOOK_ENTITIES; Xero: contacts, invoices and credit notes only — a
payment shows as an UPDATE of the invoice it pays). ``deliver`` sends the pending events
now, as real deliveries (POST, signed, at most MAX_EVENTS each; QBO one delivery per realm);
an event not answered 200 stays pending and goes again with the next delivery, and the
events after it wait (providers deliver in order, head of line first). With
``webhook_delivery="auto"`` a background thread delivers shortly after each change and
retries with a short back-off.

No HTTP request is ever sent while holding the app's lock: the receiver (an Odoo test
server) may call the sandbox back while it handles a delivery.
"""
import base64
import hashlib
import hmac
import http.client
import itertools
import json
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from urllib.parse import urlsplit

from .core import _webhook_setting, now, webhook_faults

WEBHOOK_ENTITIES = ("Customer", "Vendor", "Item", "Invoice", "CreditMemo", "Bill",
                    "VendorCredit", "Payment", "BillPayment", "JournalEntry", "Account")
XERO_CATEGORIES = {"Contacts": "CONTACT", "Invoices": "INVOICE", "CreditNotes": "CREDITNOTE"}
# change operation -> QBO legacy operation, CloudEvents type word; Xero: CREATE or UPDATE
QBO_OPERATIONS = {"create": "Create", "update": "Update", "delete": "Delete", "void": "Void",
                  "merge": "Merge", "archive": "Update"}
CLOUDEVENT_OPERATIONS = {"create": "created", "update": "updated", "delete": "deleted",
                         "void": "void", "merge": "merged", "archive": "updated"}
SIGNATURE_HEADERS = {"qbo": "intuit-signature", "xero": "x-xero-signature"}
TIMEOUTS = {"qbo": 3.0, "xero": 5.0}  # the providers wait 3 s (Intuit) / 5 s (Xero)
MAX_EVENTS = 100
MAX_PENDING = 10000  # events kept pending per provider (the oldest dropped beyond)
DELIVERY_LOG_SIZE = 1000
MAX_ANSWER = 64 * 1024  # bytes of a receiver's answer read and kept
AUTO_DELAY = 0.1  # seconds the auto thread waits after a change: one write's events together
BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0)  # seconds between the auto thread's retries
# Xero's intent-to-receive: a series of POSTs, correctly signed (True) or not
INTENT_SERIES = (True, False, True, False, False, True)


def utc_ms(t):
    """2025-09-08T20:52:31.657 (UTC, milliseconds, no zone)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03d" % int(t % 1 * 1000)


def sign(key, body):
    """base64(HMAC-SHA256(key, body)): how both providers sign a delivery."""
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()
                            ).decode("ascii")


def wrong_key(key):
    return "not-" + key


def entropy():
    return uuid.uuid4().hex[:20].upper()


def post(url, body, headers, timeout):
    """POST ``body`` to ``url`` (no redirects followed): (status or None, answer bytes,
    error text or None, seconds taken)."""
    parts = urlsplit(url)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER)
        return response.status, answer, None, time.monotonic() - started
    except (OSError, http.client.HTTPException) as e:  # refused, reset, timed out
        return None, b"", "%s: %s" % (type(e).__name__, e), time.monotonic() - started
    finally:
        connection.close()


class Webhooks:
    """The pending events, the delivery log and the auto-delivery thread of one app."""

    def __init__(self, app):
        self.app = app
        self.round_lock = threading.Lock()  # one delivery round at a time: order kept
        self.wake = threading.Event()
        self.thread = None
        self.stop_event = None
        self.generation = 0
        self.reset()

    def reset(self):
        """Forget pending events and deliveries (under the app's lock; ``halt`` first)."""
        self.generation += 1  # a round still under way discards what it learns
        self.pending = {"qbo": [], "xero": []}
        self.dropped = {"qbo": 0, "xero": 0}  # events dropped from a full pending list
        self.deliveries = deque(maxlen=DELIVERY_LOG_SIZE)
        self.sequence = itertools.count(1)
        self.delivery_ids = itertools.count(1)

    # -- events -------------------------------------------------------------------------------

    def on_change(self, entry):
        """A listener of the change log (under the lock): a webhook event, if the provider
        sends one for this entity."""
        provider, entity = entry["provider"], entry["entity"]
        if entity not in (WEBHOOK_ENTITIES if provider == "qbo" else XERO_CATEGORIES):
            return
        pending = self.pending[provider]
        pending.append(dict(entry, event_seq=next(self.sequence), event_id=str(uuid.uuid4()),
                            attempts=0))
        if len(pending) > MAX_PENDING:  # nobody takes them (no webhook URL): keep the last
            self.dropped[provider] += len(pending) - MAX_PENDING
            del pending[:len(pending) - MAX_PENDING]
        if self.app.config["webhook_delivery"] == "auto":
            self.wake.set()

    def log(self, provider=None):
        """{"pending": [events], "deliveries": [deliveries], "dropped": events dropped from
        a full pending list} (under the lock)."""
        names = self.app.provider_names(provider)
        return {"pending": [dict(e, data=dict(e["data"])) for name in names
                            for e in self.pending[name]],
                "deliveries": [dict(d) for d in self.deliveries if d["provider"] in names],
                "dropped": sum(self.dropped[name] for name in names)}

    # -- bodies -------------------------------------------------------------------------------

    @staticmethod
    def batches(provider, events, multi_realm):
        """The deliveries to make, in order: lists of at most MAX_EVENTS events; QBO one
        realm per delivery unless ``multi_realm``."""
        groups = [events]
        if provider == "qbo" and not multi_realm:
            by_realm = {}
            for event in events:
                by_realm.setdefault(event["company"], []).append(event)
            groups = list(by_realm.values())
        return [group[start:start + MAX_EVENTS] for group in groups
                for start in range(0, len(group), MAX_EVENTS)]

    def body(self, provider, events, qbo_format, reverse):
        """(raw body, Content-Type) of one delivery."""
        events = list(reversed(events)) if reverse else events
        if provider == "xero":
            base = getattr(self.app, "url", "http://127.0.0.1")
            data = {"events": [self.xero_event(e, base) for e in events],
                    "firstEventSequence": min(e["event_seq"] for e in events),
                    "lastEventSequence": max(e["event_seq"] for e in events),
                    "entropy": entropy()}
            return json.dumps(data).encode(), "application/json; charset=utf-8"
        if qbo_format == "cloudevents":
            return (json.dumps([self.cloud_event(e) for e in events]).encode(),
                    "application/cloudevents+json")
        notifications = {}
        for event in events:
            notifications.setdefault(event["company"], []).append(self.qbo_entity(event))
        data = {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {
            "entities": entities}} for realm, entities in notifications.items()]}
        return json.dumps(data).encode(), "application/json"

    @staticmethod
    def qbo_entity(event):
        entity = {"id": event["id"], "operation": QBO_OPERATIONS[event["operation"]],
                  "name": event["entity"], "lastUpdated": utc_ms(event["time"]) + "Z"}
        if event["operation"] == "merge":
            entity["deletedId"] = event["data"].get("deletedId")
        return entity

    @staticmethod
    def cloud_event(event):
        return {"specversion": "1.0", "id": event["event_id"], "source": "intuit.qbo",
                "type": "qbo.%s.%s.v1" % (event["entity"].lower(),
                                          CLOUDEVENT_OPERATIONS[event["operation"]]),
                "datacontenttype": "application/json", "time": utc_ms(event["time"]) + "Z",
                "intuitentityid": event["id"], "intuitaccountid": event["company"],
                "data": ({"deletedId": event["data"].get("deletedId")}
                         if event["operation"] == "merge" else {})}

    @staticmethod
    def xero_event(event, base):
        category = XERO_CATEGORIES[event["entity"]]
        result = {"resourceUrl": "%s/xero/api.xro/2.0/%s/%s" % (base, event["entity"],
                                                                event["id"]),
                  "resourceId": event["id"], "eventDateUtc": utc_ms(event["time"]),
                  "eventType": "CREATE" if event["operation"] == "create" else "UPDATE",
                  "eventCategory": category, "tenantId": event["company"],
                  "tenantType": "ORGANISATION"}
        if category == "CREDITNOTE":
            result["data"] = {k: event["data"].get(k) for k in ("Type", "Status")}
        return result

    # -- delivering -----------------------------------------------------------------------------

    def deliver(self, provider=None, faults=None, stop=None):
        """Send the pending events now (never under the app's lock); the report:
        {"deliveries": [...], "statuses": [...], "delivered": events acknowledged,
        "pending": events still pending}. A provider named but without its webhook URL and
        key is an error; with ``provider=None`` such a provider is skipped."""
        extra = webhook_faults(faults)
        names = self.app.provider_names(provider)
        report = {"deliveries": [], "delivered": 0}
        with self.round_lock:
            for name in names:
                self._deliver(name, provider is not None, extra, report, stop)
        with self.app.lock:
            report["pending"] = sum(len(self.pending[name]) for name in names)
        report["statuses"] = [d["status"] for d in report["deliveries"]]
        return report

    def _settings(self, provider, explicit):
        config = self.app.config
        url, key = config["webhook_url_" + provider], config["webhook_key_" + provider]
        if (not url or not key) and explicit:
            raise ValueError("configure webhook_url_%s and webhook_key_%s first"
                             % (provider, provider))
        timeout = config["webhook_timeout"] or TIMEOUTS[provider]
        return url, key, timeout

    def _deliver(self, provider, explicit, extra, report, stop):
        with self.app.lock:
            url, key, timeout = self._settings(provider, explicit)
            if not url or not key:
                return
            faults = list(dict.fromkeys(self.app.config["webhook_faults"] + extra))
            qbo_format = self.app.config["qbo_webhook_format"]
            generation = self.generation
            batches = self.batches(provider, [dict(e) for e in self.pending[provider]],
                                   "multi_realm" in faults)
        for events in batches:
            if stop is not None and stop.is_set():
                return
            body, content_type = self.body(provider, events, qbo_format,
                                           "out_of_order" in faults)
            signature = sign(wrong_key(key) if "bad_signature" in faults else key, body)
            headers = {"Content-Type": content_type, SIGNATURE_HEADERS[provider]: signature,
                       "User-Agent": "ProviderSandbox-Webhooks/1.0"}
            copies = 2 if "duplicate" in faults else 1
            acknowledged = False
            for copy in range(copies):
                status, answer, error, took = post(url, body, headers, timeout)
                acknowledged = acknowledged or status == 200
                delivery = {
                    "provider": provider, "kind": "events", "url": url, "status": status,
                    "error": error, "seconds": round(took, 3), "faults": faults,
                    "copy": copy + 1, "event_seqs": [e["event_seq"] for e in events],
                    "event_count": len(events), "companies": list(dict.fromkeys(
                        e["company"] for e in events)), "content_type": content_type,
                    "signature": signature, "body": body.decode(),
                    "answer": answer.decode("utf-8", "replace")}
                with self.app.lock:
                    if generation != self.generation:
                        return  # reset meanwhile: what this round learnt is moot
                    self._logged(delivery)
                report["deliveries"].append(delivery)
            with self.app.lock:
                if generation != self.generation:
                    return
                sent = {e["event_seq"] for e in events}
                for event in self.pending[provider]:
                    if event["event_seq"] in sent:
                        event["attempts"] += copies
                if acknowledged:
                    self.pending[provider] = [e for e in self.pending[provider]
                                              if e["event_seq"] not in sent]
                    report["delivered"] += len(events)
            if not acknowledged:
                return  # head of line: the later events wait for these

    def _logged(self, delivery):
        delivery.update(id=next(self.delivery_ids), time=now())
        self.deliveries.append(dict(delivery))

    def intent_to_receive(self, url=None, key=None):
        """Xero's intent-to-receive validation: a series of POSTs of an empty event list,
        some correctly signed and some not; passed when every correct one got 200 with an
        empty body and every incorrect one 401."""
        with self.app.lock:
            url = _webhook_setting("webhook_url_xero", url or self.app.config[
                "webhook_url_xero"])
            key = _webhook_setting("webhook_key_xero", key or self.app.config[
                "webhook_key_xero"])
            timeout = self.app.config["webhook_timeout"] or TIMEOUTS["xero"]
            generation = self.generation
        if not url or not key:
            raise ValueError("intent_to_receive needs a url and a key (or webhook_url_xero "
                             "and webhook_key_xero configured)")
        attempts = []
        for correct in INTENT_SERIES:
            body = json.dumps({"events": [], "firstEventSequence": 0, "lastEventSequence": 0,
                               "entropy": entropy()}).encode()
            signature = sign(key if correct else wrong_key(key), body)
            status, answer, error, took = post(url, body, {
                "Content-Type": "application/json; charset=utf-8",
                "x-xero-signature": signature, "User-Agent": "ProviderSandbox-Webhooks/1.0"},
                timeout)
            ok = (status == 200 and answer == b"") if correct else status == 401
            attempts.append({"signed": "correctly" if correct else "incorrectly",
                             "status": status, "empty_body": answer == b"", "ok": ok,
                             "error": error, "seconds": round(took, 3)})
            with self.app.lock:
                if generation == self.generation:
                    self._logged({"provider": "xero", "kind": "intent_to_receive", "url": url,
                                  "status": status, "error": error, "seconds": round(took, 3),
                                  "faults": [] if correct else ["bad_signature"], "copy": 1,
                                  "event_seqs": [], "event_count": 0, "companies": [],
                                  "content_type": "application/json; charset=utf-8",
                                  "signature": signature, "body": body.decode(),
                                  "answer": answer.decode("utf-8", "replace")})
        return {"passed": all(a["ok"] for a in attempts), "url": url, "attempts": attempts}

    # -- the auto-delivery thread ---------------------------------------------------------------

    def configured(self):
        """The settings changed (under the lock): start or stop the auto thread."""
        if self.app.config["webhook_delivery"] == "auto":
            if self.thread is None or not self.thread.is_alive() or self.stop_event.is_set():
                self.stop_event = threading.Event()
                self.thread = threading.Thread(target=self._run, args=(self.stop_event,),
                                               name="sandbox-webhooks", daemon=True)
                self.thread.start()
            self.wake.set()  # what is pending goes now
        elif self.stop_event is not None:
            self.stop_event.set()
            self.wake.set()

    def halt(self):
        """Stop the auto thread and wait for it (never under the app's lock)."""
        thread, stop = self.thread, self.stop_event
        if stop is not None:
            stop.set()
            self.wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=15)
        self.thread = None

    def _run(self, stop):
        failures = 0
        while not stop.is_set():
            woke = self.wake.wait(BACKOFF[min(failures, len(BACKOFF)) - 1] if failures
                                  else 0.5)
            if stop.is_set() or not (woke or failures) or stop.wait(AUTO_DELAY):
                continue
            self.wake.clear()
            try:
                pending = self.deliver(stop=stop)["pending"]
            except Exception:  # a sandbox bug: say so, keep the thread alive
                traceback.print_exc(file=sys.stderr)
                pending = 1
            failures = failures + 1 if pending else 0

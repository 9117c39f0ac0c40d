"""A fuzz of both webhook endpoints over real HTTP: 10,000 bodies, 5,000 to each provider.

Every body is made from the seed and its own index alone
(``random.Random("<seed>/<provider>/<index>")``): a failure names both, and
``FuzzDraw(seed, provider, index).delivery()`` makes that body again
(``ACCOUNTING_SYNC_FUZZ_SEED=<n>`` runs the whole fuzz with another seed).

What is sent (the families): random bytes; other encodings (latin-1, cp1252, UTF-16 and
UTF-32 with and without BOM, Shift JIS...) and invalid UTF-8; truncated, unbalanced and
too-deep JSON; JSON of the wrong shapes (numbers, strings, null, lists of wrong things,
objects with missing, extra or wrong-typed fields, the other provider's payload); huge
numbers and NaN/Infinity literals; fields replaced by nasty values (unicode, NUL, lone
surrogates, SQL and HTML injections, very long texts, times that are not times, ids of
unknown companies and of the connected one); bodies near the 1 MB limit, at it and just over
it; and byte- and JSON-level mutations of valid payloads: QBO legacy ``eventNotifications``
and CloudEvents (an array, or one object, sent as ``application/json`` or
``application/cloudevents+json``), Xero ``{"events": [...]}`` and its intent-to-receive
``events: []``. Each is signed correctly (also with spaces around the signature or another
case of the header's name), or with a wrong key, the other provider's key, a stale
signature (of the body before it was mutated), an empty or garbage one, the header twice,
the signature in another header, or not at all; some go chunked (no Content-Length).

What must hold: no 5xx and no 400, ever; over 1 MB → 413 whatever the signature; else a
correct signature → 200 and any other → 401 (the header twice is refused: werkzeug joins
the two values with a comma, which is no signature); nothing logged at ERROR, nor with a
traceback (by the controller, nor by the provider layer leaving out an event whose shape it
did not foresee); and afterwards the database holds nothing new but change rows (and
triggers of the module's jobs; the other tables' row counts and this transaction's
``pg_stat_xact_user_tables`` say so): each for an event of the connected company whose
record id (and CloudEvent id) is in a correctly signed body — and every event of the
connected company in a correctly signed, unmutated valid body is among them.

The refused deliveries' warnings are muted (:class:`LogCatcher` counts them, and keeps what
is logged at ERROR — a server-side exception — to fail on). Four senders at once: the
server's requests share the test transaction one at a time, the rest overlaps (about 50 s
a provider).
"""
import base64
import functools
import hashlib
import hmac
import http.client
import json
import logging
import os
import random
import re
import string
import threading
import time
import traceback
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import urlsplit

import requests

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..controllers.webhook import MAX_BODY_BYTES
from .common import QBO_REALM_1, QBO_REALM_2, XERO_UK, XERO_US, AccountingSyncCase

_logger = logging.getLogger(__name__)

SEED = int(os.environ.get("ACCOUNTING_SYNC_FUZZ_SEED") or 20260301)
BODIES = int(os.environ.get("ACCOUNTING_SYNC_FUZZ_BODIES") or 5000)  # per provider
SENDERS = int(os.environ.get("ACCOUNTING_SYNC_FUZZ_SENDERS") or 4)  # sending at once
QBO, XERO = "quickbooks_online", "xero"
KEYS = {QBO: "fuzz-qbo-verifier-token", XERO: "fuzz/xero+webhook==key"}
HEADERS = {QBO: "intuit-signature", XERO: "x-xero-signature"}
CONNECTED = {QBO: QBO_REALM_1, XERO: XERO_UK}
UNKNOWN = {QBO: QBO_REALM_2, XERO: XERO_US}
CONTROLLER_LOGGER = "odoo.addons.accounting_sync.controllers.webhook"
MUTED = (CONTROLLER_LOGGER, "odoo.addons.accounting_sync.providers.webhooks",
         "odoo.addons.accounting_sync.models.accounting_sync_change", "odoo.http", "werkzeug",
         "odoo.tests.common")
# What the fuzz may write: change rows, and the trigger of a job that reads them.
WRITABLE_TABLES = {"accounting_sync_change", "ir_cron_trigger"}
UNCHANGED_MODELS = ("account.move", "account.payment", "res.partner", "accounting.sync.binding",
                    "accounting.sync.run", "accounting.sync.connection",
                    "accounting.sync.app.setting")

FAMILIES = (("valid", 14), ("intent", 4), ("mutated_bytes", 12), ("mutated_json", 14),
            ("nasty_fields", 12), ("wrong_shape", 9), ("huge_numbers", 4), ("random_bytes", 8),
            ("encoding", 7), ("truncated", 6), ("deep", 6), ("size_limit", 2), ("empty", 1))
MODES = (("good", 44), ("good_spaced", 2), ("good_header_case", 3), ("wrong_key", 9),
         ("other_key", 3), ("stale", 6), ("missing", 10), ("empty", 2), ("garbage", 9),
         ("repeated", 6), ("wrong_header", 4), ("key_as_signature", 2))
GOOD_MODES = ("good", "good_spaced", "good_header_case")
CONTENT_TYPES = (None, "text/plain", "application/json; charset=utf-8",
                 "application/octet-stream", "application/cloudevents-batch+json")

QBO_NAMES = ("Invoice", "Customer", "Vendor", "Item", "Payment", "Bill", "BillPayment",
             "CreditMemo", "VendorCredit", "Account", "TaxCode", "TaxRate", "Estimate",
             "JournalEntry", "Purchase", "Employee")
LEGACY_OPERATIONS = {"Create": "create", "Update": "update", "Delete": "delete",
                     "Void": "void", "Merge": "merge", "Emailed": None}
CLOUD_OPERATIONS = {"created": "create", "updated": "update", "deleted": "delete",
                    "voided": "void", "merged": "merge", "emailed": None}
XERO_RESOURCES = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}

INJECTIONS = (
    "' OR '1'='1", "1' OR '1'='1' --", "1; DROP TABLE accounting_sync_change; --",
    "1) UNION SELECT password FROM res_users --", "9341453050000001' OR 1=1 --",
    "$$; DELETE FROM account_move; $$", "%(remote_id)s", "%s%s%s%n", "\\'; --",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)",
    "<svg/onload=alert(1)>", "{{7*7}}", "${jndi:ldap://127.0.0.1/a}", "../../../etc/passwd",
    "1\r\nSet-Cookie: a=b", "null", "undefined", "NaN", "true", "[]", "{}",
)
UNICODE = (
    "é", "Ünïcödé", "日本語", "😀", "👩‍👩‍👧", "\u202egnp.exe", "\ufeff1", "1\u200b", "１２３",
    "١٢٣", "ⅠⅡⅢ", "1\u0301", "\u0000", "a\u0000b", "\ud800", "\udfff", "\udc00\ud800",
    "\x7f", "\x1b[31mred", "\u2028", "𝟙𝟚𝟛", "ß" * 3, "\U0010ffff",
)
NOT_TIMES = (
    "", " ", "yesterday", "now", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
    "2026-03-01T25:61:61Z", "0000-00-00T00:00:00", "1709287200", "2026-03-01T10:00:00 Z",
    "2026-03-01T10:00:00+24:00", "2026-03-01T10:00:00.123456789Z", "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00", "2026-W09-1", "March 1st, 2026", "2026/03/01 10:00",
    "T10:00:00", "2026-03-01T10:00:00ZZ", "-2026-03-01T10:00:00Z", "+12026-03-01T10:00:00Z",
    "2026-03-01T10:00:00.000Z\u0000", "２０２６-03-01T10:00:00Z", "2026-03-01",
    "1970-01-01T00:00:00Z", "2038-01-19T03:14:08Z",
)
# Literals json.dumps cannot write (or should not): put in place of a placeholder.
RAW_LITERALS = (
    "NaN", "Infinity", "-Infinity", "1e999999", "-1E-999999", "1.0e+309", "-0", "0.0",
    "1" + "0" * 5000, "-" + "9" * 10000, "123456789012345678901234567890123", "9" * 32,
    "18446744073709551616", "1.5e", "01", "+1", "0x10", ".5", "nul", "tru", "\"\\uZZZZ\"",
    "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"a\tb\"", "\"\\u0000\"", "\"unterminated",
    "1 2", "[1,]", "{\"a\":1,}", "{\"a\"}", "{1:2}", "'single'",
)


def sign(key, body):
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


class Delivery:
    """One body to POST, how, and what must come of it."""

    __slots__ = ("provider", "index", "family", "mode", "body", "headers", "chunked", "raw",
                 "expected", "signed", "pristine")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    def describe(self):
        body = self.body if len(self.body) <= 300 else (
            self.body[:200] + b"...(%d bytes)..." % len(self.body) + self.body[-60:])
        return "seed %s, %s body #%d (%s, signature %s, %s headers %r): %r" % (
            SEED, self.provider, self.index, self.family, self.mode,
            "chunked" if self.chunked else "raw" if self.raw else "plain",
            [(name, value[:60]) for name, value in self.headers], body)


class FuzzDraw:
    """The body of one index, drawn from its own random generator."""

    def __init__(self, seed, provider, index):
        self.provider = provider
        self.index = index
        self.rng = random.Random("%s/%s/%s" % (seed, provider, index))
        self.serial = 0
        self.literals = {}

    # -- the delivery -----------------------------------------------------------------------

    def delivery(self):
        rng = self.rng
        family = self.weighted(FAMILIES)
        payload_type, body, base, pristine = getattr(self, "family_" + family)()
        content_type = ("application/cloudevents+json" if payload_type == "cloud"
                        and rng.random() < 0.5 else "application/json")
        if rng.random() < 0.12:
            content_type = rng.choice(CONTENT_TYPES)
        mode = self.weighted(MODES)
        key, name = KEYS[self.provider], HEADERS[self.provider]
        good = sign(key, body)
        headers = [("Content-Type", content_type)] if content_type else []
        raw = mode in ("repeated", "good_spaced")
        if mode == "good":
            headers.append((name, good))
        elif mode == "good_spaced":
            headers.append((name, " " * rng.randint(0, 3) + good + rng.choice((" ", "  ", "\t"))))
        elif mode == "good_header_case":
            headers.append((rng.choice((name.upper(), name.title(), name.swapcase())), good))
        elif mode == "wrong_key":
            headers.append((name, sign(rng.choice((key[:-1], key + "x", key.upper(), "", " ",
                                                   "another key")), body)))
        elif mode == "other_key":
            headers.append((name, sign(KEYS[XERO if self.provider == QBO else QBO], body)))
        elif mode == "stale":
            stale = base if base is not None and base != body else body + b"\n"
            headers.append((name, sign(key, stale)))
        elif mode == "empty":
            headers.append((name, ""))
        elif mode == "garbage":
            headers.append((name, self.garbage(good, key, body)))
        elif mode == "repeated":
            wrong = self.garbage(good, key, body)
            headers += rng.choice(([(name, good), (name, good)], [(name, good), (name, wrong)],
                                   [(name, wrong), (name, good)], [(name, good), (name, "")],
                                   [(name, good), (name.upper(), good)]))
        elif mode == "wrong_header":
            headers.append((rng.choice((HEADERS[XERO if self.provider == QBO else QBO],
                                        name + "-2", "x-" + name, "signature", "authorization")),
                            good))
            # (not ``intuit_signature``: WSGI names it as ``intuit-signature``, HTTP_INTUIT_...)
        elif mode == "key_as_signature":
            headers.append((name, rng.choice((key, base64.b64encode(key.encode()).decode()))))
        if len(body) > MAX_BODY_BYTES:
            expected = 413
        else:
            expected = 200 if mode in GOOD_MODES else 401
        return Delivery(provider=self.provider, index=self.index, family=family, mode=mode,
                        body=body, headers=headers, raw=raw,
                        chunked=not raw and rng.random() < 0.03, expected=expected,
                        signed=expected == 200, pristine=pristine if expected == 200 else [])

    def garbage(self, good, key, body):
        """A signature header value that is not the body's signature."""
        rng = self.rng
        position = rng.randrange(42)  # a base64 digit whose 6 bits all count
        changed = rng.choice([c for c in string.ascii_letters + string.digits + "+/"
                              if c != good[position]])
        urlsafe = good.replace("+", "-").replace("/", "_")
        return rng.choice((
            "".join(rng.choices(string.printable.strip(), k=rng.randint(1, 90))),
            base64.b64encode(rng.randbytes(32)).decode(),
            good[:-rng.randint(1, 10)],
            good[:position] + changed + good[position + 1:],
            hmac.new(key.encode(), body, hashlib.sha256).hexdigest(),
            urlsafe if urlsafe != good else good.lower(),
            good.rstrip("="),
            "sha256=" + good,
            "Bearer " + good,
            good.lower(),
            good + "é",
            "é" * 44,
            base64.b64encode(hmac.new(key.encode(), body, hashlib.sha1).digest()).decode(),
            base64.b64encode(hashlib.sha256(body).digest()).decode(),
            "====",
            "=" + good[1:],
        ))

    # -- the families -------------------------------------------------------------------------
    # Each returns (payload type, body, the body before it was mutated or None, the events
    # the body must get recorded when correctly signed: [(remote id, operation)]).

    def family_valid(self):
        kind, payload, pristine = self.valid()
        return kind, self.dumps(payload), None, pristine

    def family_intent(self):
        if self.provider == XERO:
            sequence = self.rng.randint(0, 10 ** 6)
            payload = {"events": [], "firstEventSequence": sequence,
                       "lastEventSequence": sequence, "entropy": self.letters(20)}
            return "xero", self.dumps(payload), None, []
        return "legacy", self.dumps(self.rng.choice(({"eventNotifications": []}, []))), None, []

    def family_mutated_bytes(self):
        kind, payload, _pristine = self.valid()
        base = self.dumps(payload)
        body = bytearray(base)
        rng = self.rng
        for _round in range(rng.randint(1, 8)):
            at = rng.randrange(len(body) + 1)
            action = rng.randrange(8)
            if action == 0 and body:
                body[min(at, len(body) - 1)] ^= 1 << rng.randrange(8)
            elif action == 1 and body:
                body[min(at, len(body) - 1)] = rng.randrange(256)
            elif action == 2:
                body[at:at] = rng.randbytes(rng.randint(1, 8))
            elif action == 3:
                del body[at:at + rng.randint(1, 16)]
            elif action == 4:
                body[at:at] = body[at:at + rng.randint(1, 64)]
            elif action == 5:
                body[at:at] = rng.choice((b'"', b"'", b",", b":", b"{", b"}", b"[", b"]",
                                          b"\\", b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80"))
            elif action == 6:
                body = body.replace(rng.choice((b'"', b":", b",")), rng.choice((b"'", b"=", b";")),
                                    rng.randint(1, 3))
            else:
                body = body.replace(rng.choice((b"1", b"a", b"e", b"0")),
                                    rng.choice((b"2", b"A", b"E", b"9")), rng.randint(1, 4))
        return kind, bytes(body), base, []

    def family_mutated_json(self):
        kind, payload, _pristine = self.valid()
        base = self.dumps(payload)
        rng = self.rng
        for _round in range(rng.randint(1, 6)):
            nodes = self.nodes(payload)
            if not nodes:
                payload = self.nasty()
                continue
            container, key = rng.choice(nodes)
            action = rng.randrange(11)
            if action == 0:
                del container[key]
            elif action == 1:
                container[key] = self.nasty()
            elif action == 2:
                container[key] = self.wrong_type(container[key])
            elif action == 3 and isinstance(container, dict):
                container[rng.choice(("extra", "id", "Id", "realmId", "tenantId", "data",
                                      "events", "eventNotifications", "specversion",
                                      self.letters(8)))] = self.nasty()
            elif action == 4:
                container[key] = [container[key]]
            elif action == 5 and isinstance(container, list):
                container.insert(key, json.loads(json.dumps(container[key])))
            elif action == 6 and isinstance(container, dict):
                container[rng.choice((key.upper(), key.lower(), key.swapcase(), key + " ",
                                      " " + key))] = container.pop(key)
            elif action == 7:
                container[key] = self.not_time()
            elif action == 8:
                container[key] = self.identifier()
            elif action == 9:
                container[key] = self.company()
            else:
                container[key] = self.raw(self.deep_text(rng.randint(1, 1100)))
        return kind, self.dumps(payload), base, []

    def family_nasty_fields(self):
        kind, payload, _pristine = self.valid()
        base = self.dumps(payload)
        rng = self.rng
        for event in self.events_of(kind, payload):
            # mostly one field wrong in an event otherwise fine: it gets as far as it can
            for key in rng.sample(list(event), min(len(event), rng.choice((0, 1, 1, 1, 2, 3)))):
                if rng.random() < 0.1:
                    del event[key]
                else:
                    event[key] = self.nasty_for(key)
            if rng.random() < 0.15:
                event[rng.choice(("extra", "Extra", self.letters(5)))] = self.nasty()
        return kind, self.dumps(payload), base, []

    def family_wrong_shape(self):
        rng = self.rng
        other = XERO if self.provider == QBO else QBO
        shapes = (
            lambda: self.nasty(),
            lambda: self.raw(rng.choice(RAW_LITERALS)),
            lambda: [self.nasty() for _n in range(rng.randint(0, 5))],
            lambda: [[self.nasty()]],
            lambda: {},
            lambda: {self.letters(6): self.nasty() for _n in range(rng.randint(1, 5))},
            lambda: {"eventNotifications": self.nasty()},
            lambda: {"eventNotifications": [self.nasty() for _n in range(rng.randint(1, 4))]},
            lambda: {"eventNotifications": [{"realmId": self.company(),
                                             "dataChangeEvent": self.nasty()}]},
            lambda: {"eventNotifications": [{"realmId": self.company(), "dataChangeEvent": {
                "entities": self.nasty()}}]},
            lambda: {"eventNotifications": [{"realmId": self.company(), "dataChangeEvent": {
                "entities": [self.nasty() for _n in range(rng.randint(1, 4))]}}]},
            lambda: {"events": self.nasty()},
            lambda: {"events": [self.nasty() for _n in range(rng.randint(1, 4))]},
            lambda: {"specversion": self.nasty(), "id": self.identifier()},
            lambda: {"specversion": "1.0"},
            lambda: [{"specversion": "1.0"}, {"type": self.nasty()}],
            lambda: FuzzDraw(rng.random(), other, self.index).valid()[1],  # the other's payload
            lambda: {"eventNotifications": [], "events": [], "specversion": "1.0"},
        )
        return "shape", self.dumps(rng.choice(shapes)()), None, []

    def family_huge_numbers(self):
        kind, payload, _pristine = self.valid()
        base = self.dumps(payload)
        rng = self.rng
        if rng.random() < 0.2:
            return kind, rng.choice(RAW_LITERALS[:13]).encode(), base, []
        for _round in range(rng.randint(1, 4)):
            nodes = self.nodes(payload)
            container, key = rng.choice(nodes)
            container[key] = self.raw(rng.choice(RAW_LITERALS[:13]))
        return kind, self.dumps(payload), base, []

    def family_random_bytes(self):
        rng = self.rng
        size = rng.choice((rng.randint(0, 16), rng.randint(17, 256), rng.randint(257, 4096),
                           rng.randint(4097, 65536)))
        return "bytes", rng.choice((b"", b"{", b"[", b'{"events": [', b"\xef\xbb\xbf")) + \
            rng.randbytes(size), None, []

    def family_encoding(self):
        kind, payload, _pristine = self.valid()
        rng = self.rng
        target = self.events_of(kind, payload)
        (target[0] if target else payload if isinstance(payload, dict) else {})["memo"] = \
            rng.choice(("Café crème", "Ünïcödé ☕ 日本語", "Łódź — «ça»", "Приве́т"))
        text = json.dumps(payload, ensure_ascii=False)
        base = text.encode("utf-8")
        encoding = rng.choice(("latin-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be",
                               "utf-32", "utf-32-be", "shift_jis", "gb18030", "cp1251",
                               "utf-7", "utf-8-sig", "invalid", "invalid"))
        if encoding != "invalid":
            return kind, text.encode(encoding, "replace"), base, []
        body = bytearray(base)
        for _round in range(rng.randint(1, 4)):
            at = rng.randrange(len(body) + 1)
            body[at:at] = rng.choice((b"\xc0\xaf", b"\x80", b"\xe2\x82", b"\xed\xa0\x80",
                                      b"\xf5\x80\x80\x80", b"\xff", b"\xfe\xff", b"\xc3",
                                      b"\xf0\x9f\x98", b"\xe0\x80\x80"))
        return kind, bytes(body), base, []

    def family_truncated(self):
        kind, payload, _pristine = self.valid()
        base = self.dumps(payload)
        return kind, base[:self.rng.randrange(len(base))], base, []

    def family_deep(self):
        rng = self.rng
        shape = rng.randrange(6)
        if shape < 3:
            opening, closing = rng.choice((("[", "]"), ("{\"a\":", "}"), ("[{\"events\":", "}]")))
            depth = rng.choice((rng.randint(1, 50), rng.randint(800, 1100),
                                rng.randint(1100, 100000),  # and up to the limit, or just over
                                (MAX_BODY_BYTES - 1) // (len(opening) + len(closing))
                                + rng.choice((-1, 0, 1))))
            if shape == 2:  # never closed
                return "deep", (opening * depth).encode(), None, []
            return "deep", self.deep_text(depth, opening, closing).encode(), None, []
        # a valid payload with a deep value where a provider would put its data
        kind, payload, _pristine = self.valid()
        base = self.dumps(payload)
        depth = rng.choice((rng.randint(1, 900), rng.randint(850, 1000), rng.randint(1000, 50000)))
        events = self.events_of(kind, payload)
        deep = self.raw(self.deep_text(depth, *rng.choice((("[", "]"), ("{\"a\":", "}")))))
        if events:
            event = rng.choice(events)
            if shape == 3:
                event["data"] = {"Status": deep} if kind == "xero" else {"deletedId": deep}
            elif shape == 4:
                event["data"] = {"a": deep}
            else:
                event[rng.choice(list(event) or ["x"])] = deep
        else:
            payload = {"events": deep} if kind == "xero" else {"eventNotifications": deep}
        return kind, self.dumps(payload), base, []

    def family_size_limit(self):
        """A valid payload padded to a size near, at or just over the limit."""
        kind, payload, pristine = self.valid(connected=True)
        rng = self.rng
        marker = self.raw("PAD")
        events = self.events_of(kind, payload)
        if kind == "xero":
            payload["entropy"] = marker
        elif kind == "cloud":
            events[0]["data"] = dict(events[0].get("data") or {}, note=marker)
        else:
            payload["padding"] = marker
        target = MAX_BODY_BYTES + rng.choice((
            -rng.randint(3, 5000), -2, -1, 0, 0, 1, 1, 2, rng.randint(3, 5000)))
        style = self.style()
        self.literals[marker] = '""'
        empty = len(self.dumps(payload, style))
        chunk = self.letters(64)
        self.literals[marker] = '"%s"' % (chunk * (target // 64 + 1))[:target - empty]
        body = self.dumps(payload, style)
        assert len(body) == target, (len(body), target)
        return kind, body, None, pristine

    def family_empty(self):
        return "empty", self.rng.choice((b"", b" ", b"\n", b"\r\n\t ", b"\x00", b"\xef\xbb\xbf")), \
            None, []

    # -- valid payloads ---------------------------------------------------------------------

    def valid(self, connected=False):
        """(payload type, a payload as the provider documents it, the events of it that must
        be recorded if it came correctly signed)."""
        if self.provider == XERO:
            return ("xero",) + self.xero_payload(connected)
        if self.rng.random() < 0.45:
            return ("legacy",) + self.qbo_legacy(connected)
        return ("cloud",) + self.qbo_cloud(connected)

    def qbo_legacy(self, connected):
        rng = self.rng
        notifications, pristine = [], []
        for _notification in range(rng.randint(1, 3)):
            realm = CONNECTED[QBO] if connected else self.realm()
            entities = []
            for _entity in range(rng.randint(1, 4)):
                operation = rng.choice(list(LEGACY_OPERATIONS))
                entity = {"name": rng.choice(QBO_NAMES), "id": self.qbo_id(),
                          "operation": operation, "lastUpdated": self.stamp()}
                if operation == "Merge":
                    entity["deletedId"] = self.qbo_id()
                entities.append(entity)
                if realm == CONNECTED[QBO] and LEGACY_OPERATIONS[operation]:
                    pristine.append((entity["id"], LEGACY_OPERATIONS[operation]))
            notifications.append({"realmId": realm, "dataChangeEvent": {"entities": entities}})
        return {"eventNotifications": notifications}, pristine

    def qbo_cloud(self, connected):
        rng = self.rng
        events, pristine = [], []
        for _event in range(rng.randint(1, 5)):
            realm = CONNECTED[QBO] if connected else self.realm()
            operation = rng.choice(list(CLOUD_OPERATIONS))
            entity_id = self.qbo_id()
            event = {"specversion": "1.0", "id": self.uuid(),
                     "source": "//quickbooks.api.intuit.com",
                     "type": "qbo.%s.%s.v1" % (rng.choice(QBO_NAMES).lower(), operation),
                     "datacontenttype": "application/json", "time": self.stamp(),
                     "intuitentityid": entity_id, "intuitaccountid": realm, "data": {}}
            if operation == "merged":
                event["data"] = {"deletedId": self.qbo_id()}
            events.append(event)
            if realm == CONNECTED[QBO] and CLOUD_OPERATIONS[operation]:
                pristine.append((entity_id, CLOUD_OPERATIONS[operation]))
        if len(events) == 1 and rng.random() < 0.3:
            return events[0], pristine  # one CloudEvent alone
        return events, pristine

    def xero_payload(self, connected):
        rng = self.rng
        events, pristine = [], []
        for _event in range(rng.randint(1, 5)):
            tenant = CONNECTED[XERO] if connected else self.tenant()
            category = rng.choice(list(XERO_RESOURCES))
            resource = self.uuid()
            event_type = rng.choice(("CREATE", "UPDATE"))
            operation = event_type.lower()
            event = {"resourceUrl": "https://api.xero.com/api.xro/2.0/%s/%s" % (
                XERO_RESOURCES[category], resource), "resourceId": resource,
                "eventDateUtc": self.stamp(zulu=False), "eventType": event_type,
                "eventCategory": category, "tenantId": tenant, "tenantType": "ORGANISATION"}
            if category == "CREDITNOTE" and rng.random() < 0.5:
                status = rng.choice(("AUTHORISED", "VOIDED", "DELETED", "PAID"))
                event["data"] = {"Type": rng.choice(("ACCRECCREDIT", "ACCPAYCREDIT")),
                                 "Status": status}
                operation = {"VOIDED": "void", "DELETED": "delete"}.get(status, operation)
            if rng.random() < 0.05:  # about the app, not a company: left out
                event.update(eventCategory="SUBSCRIPTION", tenantType="APPLICATION")
            elif tenant == CONNECTED[XERO]:
                pristine.append((resource, operation))
            events.append(event)
        sequence = rng.randint(1, 10 ** 6)
        return {"events": events, "firstEventSequence": sequence,
                "lastEventSequence": sequence + len(events) - 1,
                "entropy": self.letters(20)}, pristine

    @staticmethod
    def events_of(kind, payload):
        """The event objects of a valid payload (legacy: its notifications and entities)."""
        if kind == "xero":
            return list(payload["events"])
        if kind == "cloud":
            return [payload] if isinstance(payload, dict) else list(payload)
        found = []
        for notification in payload["eventNotifications"]:
            found += [notification] + notification["dataChangeEvent"]["entities"]
        return found

    # -- values -----------------------------------------------------------------------------

    def weighted(self, choices):
        return self.rng.choices([c for c, _w in choices], [w for _c, w in choices])[0]

    def letters(self, size):
        return "".join(self.rng.choices(string.ascii_letters + string.digits, k=size))

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def qbo_id(self):
        """An entity id no other body has: the index and a serial."""
        self.serial += 1
        return "%d%03d" % (self.index + 1, self.serial)

    def realm(self):
        draw = self.rng.random()
        return (CONNECTED[QBO] if draw < 0.6 else UNKNOWN[QBO] if draw < 0.8
                else str(self.rng.randint(10 ** 15, 10 ** 16 - 1)))

    def tenant(self):
        draw = self.rng.random()
        return (CONNECTED[XERO] if draw < 0.6 else UNKNOWN[XERO] if draw < 0.8 else self.uuid())

    def stamp(self, zulu=True):
        rng = self.rng
        return "2026-%02d-%02dT%02d:%02d:%02d.%03d%s" % (
            rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
            rng.randint(0, 59), rng.randint(0, 999), "Z" if zulu else "")

    def long_text(self):
        rng = self.rng
        size = rng.choice((rng.randint(40, 300), rng.randint(2000, 4000),
                           rng.randint(4000, 40000)))
        alphabet = rng.choice((None, "9", "é日😀\u0000\ud800a",
                               "".join(chr(c) for c in range(32, 0x2ff))))
        if alphabet is None:
            return self.noise(size)
        piece = "".join(rng.choices(alphabet, k=min(size, 256)))
        return (piece * (size // len(piece) + 1))[:size]

    def noise(self, size):
        """``size`` random base64 digits (quickly, and nothing a compressor can shrink)."""
        return base64.b64encode(self.rng.randbytes(size * 3 // 4 + 3)).decode()[:size]

    def nasty(self):
        rng = self.rng
        draw = rng.randrange(12)
        if draw == 0:
            return rng.choice((None, True, False, 0, -1, 1.5, -0.0, 2 ** 63, -(2 ** 63),
                               10 ** 40, float("nan"), float("inf"), float("-inf")))
        if draw == 1:
            return rng.choice(INJECTIONS)
        if draw == 2:
            return rng.choice(UNICODE)
        if draw == 3:
            return self.long_text()
        if draw == 4:
            return rng.choice(([], {}, [1, 2], {"a": 1}, ["1"], [None], [[[]]], {"": ""}))
        if draw == 5:
            return self.raw(rng.choice(RAW_LITERALS))
        if draw == 6:
            return self.raw(self.deep_text(rng.randint(1, 1100)))
        if draw == 7:
            return self.not_time()
        if draw == 8:
            return self.identifier()
        if draw == 9:
            return self.company()
        if draw == 10:
            return "".join(chr(rng.randrange(0x110000)) for _n in range(rng.randint(1, 30)))
        return rng.choice(("", " ", "\t", "0", "-1", "1.0", "1e5"))

    def nasty_for(self, key):
        """A value that is wrong where ``key`` is, most often of the kind ``key`` wants."""
        draw = self.rng.random()
        if draw < 0.2:
            return self.nasty()
        if draw < 0.35 and key in ("id", "intuitentityid", "resourceId", "type", "name",
                                   "eventCategory", "realmId", "intuitaccountid", "tenantId"):
            return self.unstorable(key)
        if key in ("realmId", "intuitaccountid", "tenantId"):
            return self.company()
        if key in ("lastUpdated", "time", "eventDateUtc"):
            return self.not_time()
        if key in ("id", "intuitentityid", "resourceId", "deletedId"):
            return self.identifier()
        if key in ("type", "name", "operation", "eventType", "eventCategory", "tenantType",
                   "specversion"):
            return self.rng.choice((self.identifier(), self.rng.choice(INJECTIONS),
                                    self.rng.choice(UNICODE), "qbo", "qbo..", "qbo.a.b.c.d",
                                    "qbo.%s.created.v1" % self.rng.choice(UNICODE),
                                    "qbo.invoice.%s.v1" % self.rng.choice(UNICODE),
                                    "qbo.%s.updated.v1" % self.long_text(), "create", "DELETE",
                                    "Emailed", "APPLICATION", "organisation",
                                    "CONTACT\u0000", self.long_text()))
        return self.nasty()

    def identifier(self):
        """An id that is no id, or is one only just."""
        rng = self.rng
        return rng.choice((
            self.qbo_id(), self.uuid(), self.uuid().upper(), "{%s}" % self.uuid(),
            self.uuid().replace("-", ""), "00000000-0000-0000-0000-000000000000",
            " %s " % self.qbo_id(), self.qbo_id() + "\u0000", "\u0000" + self.uuid(),
            self.qbo_id() + "\ud800", rng.choice(INJECTIONS), rng.choice(UNICODE),
            self.long_text(), "1" * 32, "1" * 33, "0", "-1", int(self.qbo_id()), -5, 1.5,
            float("nan"), True, None, [], {}, [self.qbo_id()], self.letters(rng.randint(1, 64)),
            self.qbo_id() + rng.choice(UNICODE),
        ))

    def unstorable(self, key):
        """What a database cannot keep as an id (or an index hold): a NUL, a lone surrogate,
        hundreds or thousands of characters — around an id that is otherwise fine."""
        rng = self.rng
        fine = {"type": "qbo.invoice.updated.v1", "name": "Invoice", "eventCategory": "INVOICE",
                "realmId": CONNECTED[self.provider], "intuitaccountid": CONNECTED[QBO],
                "tenantId": CONNECTED[XERO]}.get(key) or self.uuid()
        at = rng.randint(0, len(fine))
        return rng.choice((
            fine[:at] + "\u0000" + fine[at:], fine[:at] + "\ud800" + fine[at:],
            fine[:at] + "\udfff\ud800" + fine[at:],
            fine + self.noise(rng.choice((rng.randint(200, 300), rng.randint(2000, 5000),
                                           rng.randint(5000, 50000)))),
            "qbo.%s.updated.v1" % self.noise(rng.randint(250, 5000)) if key == "type"
            else fine + "\x00"))

    def company(self):
        """A realm or tenant id: the connected company's (as is or not quite), another's, or
        no id at all."""
        rng = self.rng
        mine = CONNECTED[self.provider]
        return rng.choice((
            mine, mine, UNKNOWN[self.provider], " %s" % mine, mine + " ", mine + "\u0000",
            mine + "' OR '1'='1", "%s,%s" % (mine, UNKNOWN[self.provider]), [mine],
            {"id": mine}, mine.upper(), "{%s}" % mine, mine.replace("-", ""),
            int(mine) if mine.isdigit() else mine, mine[:-1], mine + "0",
            CONNECTED[XERO if self.provider == QBO else QBO], rng.choice(INJECTIONS),
            rng.choice(UNICODE), self.long_text(), None, "",
        ))

    def not_time(self):
        rng = self.rng
        return rng.choice((rng.choice(NOT_TIMES), rng.choice(NOT_TIMES), self.nasty(),
                           rng.randint(-10 ** 12, 10 ** 12), self.stamp() + rng.choice(UNICODE)))

    def wrong_type(self, value):
        if isinstance(value, str):
            return self.rng.choice((int(value) if value.isdigit() else len(value), [value],
                                    {"value": value}, None, value.encode("utf-8", "surrogatepass").hex()))
        if isinstance(value, (list, dict)):
            return self.rng.choice((json.dumps(value), len(value), None, True))
        return self.rng.choice((str(value), [value], {"value": value}))

    @staticmethod
    def deep_text(depth, opening="[", closing="]"):
        return opening * depth + "0" + closing * depth

    def raw(self, literal):
        """A placeholder that dumps() writes as ``literal``, as it is."""
        marker = "@@raw%d@@" % len(self.literals)
        self.literals[marker] = literal
        return marker

    def nodes(self, value):
        """(container, key) of every value inside ``value`` (not too deep)."""
        found, todo = [], [(value, 0)]
        while todo:
            container, depth = todo.pop()
            if depth > 8:
                continue
            items = (container.items() if isinstance(container, dict)
                     else enumerate(container) if isinstance(container, list) else ())
            for key, item in items:
                found.append((container, key))
                todo.append((item, depth + 1))
        return found

    def style(self):
        """How dumps() writes: escaping, separators, indentation, order."""
        rng = self.rng
        return {"ensure_ascii": rng.random() < 0.8,
                "separators": rng.choice((None, (",", ":"), (", ", ": "))),
                "indent": rng.choice((None, None, None, 2, "\t")),
                "sort_keys": rng.random() < 0.2}

    def dumps(self, payload, style=None):
        """``payload`` as a body, written in ``style`` (default: one drawn)."""
        text = json.dumps(payload, **(style or self.style()))
        for marker, literal in self.literals.items():
            text = text.replace('"%s"' % marker, literal)
        return text.encode("utf-8", "surrogatepass")


_STRING = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.S)
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def scalars(body):
    """Every string and integer a JSON reader could find in ``body`` (a superset: read
    token by token, so deep or unbalanced bodies are covered too)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return set()
    tokens = _STRING.findall(text)
    found = {token for token in tokens if "\\" not in token}
    for token in tokens:
        if "\\" in token:
            try:
                found.add(json.loads('"%s"' % token))
            except ValueError:
                continue
    for token in set(_NUMBER.findall(text)):
        try:
            found |= {token, str(Decimal(token) if "." in token or "e" in token.lower()
                                 else int(token))}
        except ValueError:  # an integer of more digits than Python reads
            continue
    return found


class LogCatcher(mute_logger):
    """mute_logger for ``loggers`` that counts what they log and keeps, of theirs and of
    every other logger's, what is logged at ERROR or above or with a traceback."""

    def __init__(self, *loggers):
        super().__init__(*loggers)
        self.levels = Counter()
        self.errors = []
        self.tracebacks = []

    def __enter__(self):
        super().__enter__()
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, exc_type=None, exc_val=None, exc_tb=None):
        logging.getLogger().removeHandler(self)
        return super().__exit__(exc_type, exc_val, exc_tb)

    def emit(self, record):
        self.levels[record.name, record.levelname] += 1
        if record.levelno >= logging.ERROR:
            self.errors.append(record)
        elif record.exc_info:
            self.tracebacks.append(record)


@tagged("post_install", "-at_install")
class TestWebhookFuzz(AccountingSyncCase):

    def setUp(self):
        super().setUp()
        Setting = self.env["accounting.sync.app.setting"]
        Setting._set(QBO, client_id="c", client_secret="s", webhook_verifier_token=KEYS[QBO])
        Setting._set(XERO, client_id="c", client_secret="s", webhook_key=KEYS[XERO])
        self.connections = {}
        self._senders = threading.local()
        for provider in (QBO, XERO):
            connection = self.create_connection(provider)
            connection.sudo().write({"state": "connected",
                                     "remote_company_id": CONNECTED[provider]})
            self.connections[provider] = connection
        self.env.flush_all()

    def test_quickbooks_online(self):
        self.fuzz(QBO)

    def test_xero(self):
        self.fuzz(XERO)

    # -- the fuzz ---------------------------------------------------------------------------

    def fuzz(self, provider):
        _logger.info("Webhook fuzz of %s: seed %s (ACCOUNTING_SYNC_FUZZ_SEED), %d bodies",
                     provider, SEED, BODIES)
        counts, stats, last_trigger = self.counts(), self.table_writes(), self.last_trigger()
        failures, signed_scalars, pristine = [], set(), set()
        families, answers, sent, spent = Counter(), Counter(), 0, Counter()
        self.env.flush_all()
        started = time.monotonic()
        # A few senders at once: the server's requests share the test transaction (one at a
        # time in it), but reading, signing and answering overlap.
        with LogCatcher(*MUTED) as logs, ThreadPoolExecutor(SENDERS) as pool:
            for outcome in pool.map(functools.partial(self.exchange, provider), range(BODIES)):
                delivery, status, seconds, found = outcome
                spent[delivery.family] += seconds
                sent += len(delivery.body)
                families[delivery.family, delivery.mode in GOOD_MODES] += 1
                answers[status] += 1
                if status != delivery.expected:
                    failures.append("%s, not %s: %s" % (status, delivery.expected,
                                                        delivery.describe()))
                signed_scalars |= found
                pristine |= set(delivery.pristine)
        elapsed = time.monotonic() - started
        _logger.info("Webhook fuzz of %s: %d bodies (%.1f MB) in %.1f s (sending: %s), "
                     "answers %s, logged %s", provider, BODIES, sent / 1e6, elapsed,
                     {f: round(t, 1) for f, t in spent.most_common()}, dict(answers),
                     dict(logs.levels))

        # every family was drawn, signed correctly and not
        for family, _weight in FAMILIES:
            self.assertTrue(families[family, True] and families[family, False],
                            "seed %s: family %s not drawn both ways" % (SEED, family))
        errors = ["%s: %s%s" % (r.name, r.getMessage()[:300], r.exc_info and "\n" + "".join(
            traceback.format_exception(*r.exc_info)[-3:])[-1500:] or "") for r in logs.errors]
        self.assertFalse(failures or errors, "seed %s: %d of %d answers not as expected, the "
                         "first:\n%s\nlogged at ERROR (%d), the first:\n%s" % (
                             SEED, len(failures), BODIES, "\n".join(failures[:15]),
                             len(errors), "\n".join(errors[:5])))
        self.assertFalse([s for s in answers if not isinstance(s, int) or s >= 500 or s == 400])
        # not by the controller, nor by the provider layer: an event it leaves out with a
        # traceback is one whose shape it did not foresee
        self.assertFalse(logs.tracebacks, "seed %s: logged with a traceback: %s" % (SEED, [
            (r.name, r.getMessage()[:200], "".join(traceback.format_exception(*r.exc_info))[-800:])
            for r in logs.tracebacks[:3]]))

        # the database: nothing new but change rows, and those of signed events only
        self.env.invalidate_all()
        self.assertEqual(self.counts(), counts)
        writes = self.table_writes()
        changed = {table: tuple(n - m for n, m in zip(numbers, stats.get(table, (0, 0, 0))))
                   for table, numbers in writes.items() if numbers != stats.get(table, (0, 0, 0))}
        self.assertFalse({t: n for t, n in changed.items()
                          if t not in WRITABLE_TABLES or n[1] or n[2]},
                         "seed %s: written (inserted, updated, deleted): %s" % (SEED, changed))
        crons = self.env["ir.cron"].sudo().with_context(active_test=False).search(
            [("model_id.model", "=", "accounting.sync.connection")])
        triggers = self.env["ir.cron.trigger"].sudo().search([("id", ">", last_trigger)])
        self.assertFalse(triggers.cron_id - crons, "only the module's jobs are triggered")
        rows = self.env["accounting.sync.change"].sudo().search([])
        connection = self.connections[provider]
        self.assertTrue(rows, "seed %s: no event recorded at all" % SEED)
        self.assertEqual(rows.connection_id, connection,
                         "only the connected company of this provider gets events")
        self.assertEqual(set(rows.mapped("source")), {"webhook"})
        for row in rows:
            self.assertTrue(row.remote_id in signed_scalars,
                            "seed %s: %s recorded, but in no correctly signed body" % (
                                SEED, row.remote_id))
            self.assertTrue(row.event_id in signed_scalars
                            or re.fullmatch("[0-9a-f]{40}", row.event_id), row.event_id)
        missing = pristine - {(row.remote_id, row.operation) for row in rows}
        self.assertFalse(missing, "seed %s: events of correctly signed valid bodies not "
                                  "recorded: %s" % (SEED, sorted(missing)[:10]))
        self.assertGreaterEqual(changed["accounting_sync_change"][0], len(rows))  # seen here
        _logger.info("Webhook fuzz of %s: %d change rows, %d from unmutated valid bodies, "
                     "%d job triggers; rows written (inserted, updated, deleted): %s",
                     provider, len(rows), len(pristine), len(triggers), changed)

    def exchange(self, provider, index):
        """Draw body ``index``, send it: (delivery, answer status or the error of the
        exchange, seconds it took, the scalars of the body if it was correctly signed)."""
        delivery = FuzzDraw(SEED, provider, index).delivery()
        started = time.monotonic()
        try:
            status = self.send(delivery)
        except OSError as e:  # requests' errors too: the server closed on us
            status = repr(e)
        seconds = time.monotonic() - started
        return delivery, status, seconds, scalars(delivery.body) if delivery.signed else set()

    def send(self, delivery):
        """POST the delivery, over HTTP as a provider would (http.client where requests
        would not send it as it is: a header twice, spaces around a value). Not through
        self.opener: it flushes the test cursor, which the server's threads use."""
        path = "/accounting_sync/webhook/%s" % delivery.provider
        body = delivery.body
        if not delivery.raw:
            data = body
            if delivery.chunked:
                data = (body[at:at + 65536] for at in range(0, len(body), 65536))
            if not hasattr(self._senders, "session"):
                self._senders.session = requests.Session()
            return self._senders.session.post(self.base_url() + path, data=data,
                                              headers=dict(delivery.headers),
                                              timeout=60).status_code
        url = urlsplit(self.base_url())
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        try:
            connection.putrequest("POST", path)
            for name, value in delivery.headers:
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            answer = connection.getresponse()
            answer.read()
            return answer.status
        finally:
            connection.close()

    # -- the database -----------------------------------------------------------------------

    def counts(self):
        return {model: self.env[model].sudo().with_context(active_test=False).search_count([])
                for model in UNCHANGED_MODELS}

    def table_writes(self):
        """(inserted, updated, deleted) rows of each table in this transaction so far (the
        test server's requests share it)."""
        self.env.cr.execute("""SELECT relname, n_tup_ins, n_tup_upd, n_tup_del
                                 FROM pg_stat_xact_user_tables""")
        return {table: tuple(numbers) for table, *numbers in self.env.cr.fetchall()}

    def last_trigger(self):
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_cron_trigger")
        return self.env.cr.fetchone()[0]

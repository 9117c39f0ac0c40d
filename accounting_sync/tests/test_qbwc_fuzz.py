"""A fuzz of the Web Connector's SOAP endpoint over real HTTP: 10,000 bodies.

As the webhook fuzz (test_webhook_fuzz, whose generator values, log catcher, seed and
senders it reuses), every body is made from the seed and its own index alone
(``random.Random("<seed>/qbwc/<index>")``): a failure names both, and
``QbwcDraw(seed, index).delivery()`` makes that body again (``ACCOUNTING_SYNC_FUZZ_SEED=<n>``
runs the fuzz with another seed, ``ACCOUNTING_SYNC_QBWC_FUZZ_BODIES=<n>`` with more bodies).

What is sent (the families): random bytes and empty bodies; well-formed calls of each of the
WSDL's 8 methods (and the 3 interactive ones) with arguments missing, repeated, extra,
nested, huge, of control characters, NUL or lone surrogates (raw or as character
references), in CDATA, not integers where integers go (qbXMLMajorVers "abc"), version
strings of thousands of digits; random tickets, well-formed (43 characters of base64url)
and not; authenticate with random user names and passwords and with near misses of the
connection's own (its user name with a wrong password, a wrong user name with its password
— never the pair: that would open a session); receiveResponseXML with qbXML-ish answers and
hresults for tickets nobody has; SOAP 1.2 envelopes, and envelopes, Bodies and methods in
wrong namespaces; unknown methods (other cases of the real ones, private names of the
model); XML that is no SOAP at all; XML bombs (entity expansion, quadratic blow-up, external
and parameter entities, external DTDs, XInclude; in UTF-8, UTF-16, UTF-7, EBCDIC, and a
DOCTYPE after 4 KB of comments); other encodings, truncated and byte-mutated calls; bodies
at the 32 MB cap, over it (chunked) and claiming to be over it.

What must hold: every answer is a 200 or a 400, never a traceback (nor a byte of
/etc/passwd); a 200 is a SOAP envelope whose Body holds the method's ``<methodResponse>``
answering as for an unknown ticket ("", -1, "done"...; authenticate: ["", "nvu"]); a 400
holds a SOAP Fault; what can only be refused (bombs, wrong namespaces, unknown methods,
truncated, over the cap...) is a 400; nothing is logged at ERROR or with a traceback;
nothing is written in the database (pg_stat_xact_user_tables of the test transaction, which
the server's requests share; row counts; the connection's Web Connector fields).

A second test signs in for real and feeds the session garbage (random qbXML answers, bad
hresults, first-contact arguments that are no numbers): every answer is the WSDL's, 200.
"""
import base64
import http.client
import logging
import os
import random
import re
import threading
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import requests
from lxml import etree

from odoo.tests import tagged

from ..models.accounting_sync_qbwc_mixin import PASSWORD_CONTEXT
from ..models.accounting_sync_qbwc_session import _CLIENT_VERSIONS
from ..providers.quickbooks_desktop.soap import MAX_BODY_BYTES, METHODS, NS, SOAP12_ENV, SOAP_ENV
from .test_quickbooks_desktop import ENVELOPE, QuickBooksDesktopCase
from .test_webhook_fuzz import INJECTIONS, SEED, SENDERS, UNICODE, FuzzDraw, LogCatcher

_logger = logging.getLogger(__name__)

BODIES = int(os.environ.get("ACCOUNTING_SYNC_QBWC_FUZZ_BODIES") or 10000)
PATH = "/accounting_sync/qbwc"
CHUNK = 1 << 20  # bytes of a chunk, when a body goes chunked
# The connection's Web Connector credentials, fixed so that the bodies (near misses of
# them) depend on the seed alone.
USER = "odoo-fuzz-qbwc-user"
PASSWORD = "Fuzz-Known_Passw0rd-24ch"
WSDL_METHODS = ("serverVersion", "clientVersion", "authenticate", "sendRequestXML",
                "receiveResponseXML", "connectionError", "getLastError", "closeConnection")
INTERACTIVE = ("getInteractiveURL", "interactiveDone", "interactiveRejected")
MUTED = ("odoo.addons.accounting_sync.controllers.qbwc",
         "odoo.addons.accounting_sync.models.accounting_sync_qbwc_session", "odoo.http",
         "werkzeug", "odoo.tests.common")
UNCHANGED_MODELS = ("accounting.sync.qbwc.session", "accounting.sync.run",
                    "accounting.sync.request", "accounting.sync.binding",
                    "accounting.sync.connection", "accounting.sync.remote.record")
CONNECTION_FIELDS = ("state", "qbwc_username", "qbwc_password_set", "qbwc_company_file",
                     "qbwc_last_contact_at", "qbwc_last_client_version",
                     "qbwc_last_company_file", "qbwc_last_country", "qbwc_last_message",
                     "qbwc_qbxml_version", "qbwc_linked_at", "remote_company_id",
                     "write_date")

FAMILIES = (("call", 30), ("authenticate", 8), ("ticket", 9), ("receive", 6),
            ("envelope", 8), ("unknown_method", 4), ("non_soap", 3), ("bomb", 6),
            ("truncated", 6), ("mutated", 8), ("garbage", 5), ("encoding", 4),
            ("empty", 1), ("huge", 0.13))
# Families whose bodies the server cannot tell apart from the call they were made of: a 200
# may answer any method named in the body.
LOOSE = ("mutated", "encoding")
CONTENT_TYPES = ("text/xml; charset=utf-8", "text/xml", "application/soap+xml; charset=utf-8",
                 "text/plain", "application/octet-stream", None)
WRONG_ENVELOPES = ("", "http://schemas.xmlsoap.org/soap/envelope",
                   "http://www.w3.org/2003/05/soap-envelope/",
                   "HTTP://schemas.xmlsoap.org/soap/envelope/", "urn:soap",
                   "http://schemas.xmlsoap.org/wsdl/soap/", NS,
                   "https://schemas.xmlsoap.org/soap/envelope/")
WRONG_METHOD_NS = ("", "http://developer.intuit.com", "https://developer.intuit.com/",
                   "http://developer.intuit.com/QBWC", "HTTP://DEVELOPER.INTUIT.COM/",
                   SOAP_ENV, "urn:intuit", "http://developer.intuit.com/ ")
UNKNOWN_METHODS = ("Authenticate", "AUTHENTICATE", "sendrequestxml", "ServerVersion",
                   "authenticateResponse", "serverVersionResult", "closeConnectionResponse",
                   "_dispatch", "_authenticate", "_fail", "_close", "unlink", "write",
                   "search", "sudo", "__init__", "__class__", "getInteractiveUrl",
                   "interactive", "receiveResponseXml", "connectionerror", "Fault",
                   "getLastErrors", "closeConnection2")
VERSIONS = ("2.3.0.215", "2.1.0.30", "2.1.0.29", "2.0.0.1", "1.0", "", " ", "0", "v2",
            "2.3.0.215 beta", "99999999999999999999.1", "2.3.0.215.1.2.3", "-1.-1",
            "2,3,0,215", "٢.٣", "abc", "1." + "9" * 5000, "9" * 4301, "2." + "0" * 10000)
INTEGERS = ("13", "0", "abc", "", " ", " 13 ", "-1", "1e3", "13.0", "0x10", "١٣", "1_3", "+7",
            "9" * 4299, "9" * 4301, "99999999999999999999", "NaN", "inf", "13\n", "1 3")
HRESULTS = ("0x80040400", "0x80040408", "0x8004041A", "0x80040422", "-2147220472", "0", "",
            " ", "abc", "0x", "0xZZZZ", "80040400", "1" * 5000)

# The answers of the calls no session exists for (the fuzz never signs in).
UNKNOWN_TICKET_ANSWERS = {
    "serverVersion": lambda value: bool(value),
    "clientVersion": lambda value: value in (None, "") or value.startswith("O:"),
    "authenticate": lambda value: value == ["", "nvu"],
    "sendRequestXML": lambda value: value in (None, ""),
    "receiveResponseXML": lambda value: value == "-1",
    "connectionError": lambda value: value == "done",
    "getLastError": lambda value: bool(value) and "expired" in value,
    "closeConnection": lambda value: value == "Done.",
    "getInteractiveURL": lambda value: value in (None, ""),
    "interactiveDone": lambda value: value == "Done",
    "interactiveRejected": lambda value: value in (None, ""),
}
_ANSWER_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def xml_char(ch):
    """Whether XML 1.0 can carry ``ch`` (raw or as a character reference)."""
    code = ord(ch)
    return ch in "\t\n\r" or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or \
        0x10000 <= code <= 0x10FFFF


def read_answer(content):
    """(kind, method, value) of a response body: ("result", method, text or strings),
    ("fault", None, faultstring), or ("bad", None, why)."""
    try:
        root = etree.fromstring(content, _ANSWER_PARSER)
    except (etree.XMLSyntaxError, ValueError) as e:
        return "bad", None, "not XML: %s" % e
    if root.tag != "{%s}Envelope" % SOAP_ENV:
        return "bad", None, "not a SOAP 1.1 envelope: %s" % root.tag
    children = [c for c in root if isinstance(c.tag, str)]
    if len(children) != 1 or children[0].tag != "{%s}Body" % SOAP_ENV:
        return "bad", None, "no lone Body"
    inside = [c for c in children[0] if isinstance(c.tag, str)]
    if len(inside) != 1:
        return "bad", None, "%d elements in the Body" % len(inside)
    answer = inside[0]
    if answer.tag == "{%s}Fault" % SOAP_ENV:
        if answer.findtext("faultcode") != "soap:Client" or not answer.findtext("faultstring"):
            return "bad", None, "a Fault without faultcode soap:Client and faultstring"
        return "fault", None, answer.findtext("faultstring")
    qname = etree.QName(answer)
    method = qname.localname[:-len("Response")] if qname.localname.endswith("Response") else None
    result = answer.find("{%s}%sResult" % (NS, method)) if method else None
    if qname.namespace != NS or method not in METHODS or result is None or len(answer) != 1:
        return "bad", None, "not a methodResponse: %s" % answer.tag
    if METHODS[method][1] is list:
        strings = [s for s in result if isinstance(s.tag, str)]
        if any(s.tag != "{%s}string" % NS or len(s) for s in strings):
            return "bad", method, "an ArrayOfString of other things"
        return "result", method, [s.text or "" for s in strings]
    if len(result):
        return "bad", method, "a result that is not text"
    return "result", method, result.text


class Delivery:
    """One body to POST, how, and what must come of it."""

    __slots__ = ("index", "family", "method", "body", "headers", "how", "claimed", "expected",
                 "loose", "note")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    def describe(self):
        body = self.body if len(self.body) <= 400 else (
            self.body[:250] + b"...(%d bytes)..." % len(self.body) + self.body[-80:])
        return "seed %s, body #%d (%s%s, %s, %s, expected %s): %r" % (
            SEED, self.index, self.family, self.note and " " + self.note or "", self.method,
            self.how, sorted(self.expected), body)


class QbwcDraw(FuzzDraw):
    """The body of one index, drawn from its own random generator (FuzzDraw's values:
    letters, noise, long texts, unicode and injections)."""

    def __init__(self, seed, index):
        super().__init__(seed, "qbwc", index)
        self.valid = True  # cleared by a fragment XML cannot carry, or a nested argument

    def delivery(self):
        rng = self.rng
        family = self.weighted(FAMILIES)
        result = getattr(self, "family_" + family)()
        method, body, expected = result[:3]
        note = result[3] if len(result) > 3 else None
        how = "plain"
        claimed = None
        if family == "huge":
            how, claimed = note.split(":")[0], None
            if how == "claimed":
                claimed = MAX_BODY_BYTES + rng.choice((1, 2, rng.randint(3, 10 ** 6),
                                                       rng.randint(10 ** 6, 90 * 10 ** 6)))
        elif rng.random() < 0.03:
            how = "chunked"
        if b"<!ENTITY" in body.upper() or b"<!DOCTYPE" in body[:4096].upper():
            expected = {400}  # refused before it is parsed
        content_type = ("application/soap+xml; charset=utf-8" if SOAP12_ENV.encode() in body
                        else "text/xml; charset=utf-8")
        if rng.random() < 0.1:
            content_type = rng.choice(CONTENT_TYPES)
        headers = {"Content-Type": content_type} if content_type else {}
        action = rng.random()
        if action < 0.7:
            headers["SOAPAction"] = '"%s%s"' % (NS, method or "x")
        elif action < 0.8:
            headers["SOAPAction"] = rng.choice(('""', "x", '"%sauthenticate"' % NS,
                                                self.noise(rng.randint(1, 300))))
        return Delivery(index=self.index, family=family, method=method, body=body,
                        headers=headers, how=how, claimed=claimed, expected=set(expected),
                        loose=family in LOOSE, note=note)

    # -- the families -------------------------------------------------------------------------
    # Each returns (method meant, body, statuses it may get[, a note]).

    def family_call(self):
        rng = self.rng
        method = rng.choice(WSDL_METHODS * 4 + INTERACTIVE)
        self.valid = True
        return method, self.envelope(self.call(method, self.arguments(method))), \
            {200 if self.valid else 400}

    def family_authenticate(self):
        rng = self.rng
        draw = rng.random()
        if draw < 0.35:
            user, password = USER, self.near_password()
        elif draw < 0.6:
            user, password = self.near_user(), PASSWORD
        elif draw < 0.8:
            user, password = self.near_user(), self.near_password()
        else:
            user, password = self.text(), self.text()
        assert (user, password) != (USER, PASSWORD), "the correct pair is never sent"
        self.valid = True
        arguments = []
        for name, value in (("strUserName", user), ("strPassword", password)):
            if value is not None:
                arguments.append((name, self.fragment(value, plain=rng.random() < 0.7)))
        if rng.random() < 0.2:
            rng.shuffle(arguments)
        if rng.random() < 0.1:
            arguments.append(self.extra_argument("authenticate"))
        return "authenticate", self.envelope(self.call("authenticate", arguments)), \
            {200 if self.valid else 400}, "user %r password %r" % (
                user if user is None else user[:40], password if password is None
                else password[:40])

    def family_ticket(self):
        rng = self.rng
        method = rng.choice(("sendRequestXML", "receiveResponseXML", "connectionError",
                             "getLastError", "closeConnection", "getInteractiveURL",
                             "interactiveDone", "interactiveRejected"))
        self.valid = True
        names = METHODS[method][0]
        arguments = []
        for name in names:
            if name in ("ticket", "wcTicket"):
                arguments.append((name, self.fragment(self.ticket(), plain=rng.random() < 0.8)))
            elif rng.random() < 0.7:
                arguments.append((name, self.fragment(self.value(name), plain=True)))
        return method, self.envelope(self.call(method, arguments)), {200 if self.valid else 400}

    def family_receive(self):
        rng = self.rng
        self.valid = True
        values = [("ticket", self.ticket()), ("response", self.qbxml()),
                  ("hresult", rng.choice(HRESULTS) if rng.random() < 0.6 else ""),
                  ("message", rng.choice(("", "QuickBooks error", self.text())))]
        if rng.random() < 0.15:
            del values[rng.randrange(len(values))]
        arguments = [(name, self.fragment(value, plain=name != "response" or rng.random() < 0.7))
                     for name, value in values]
        return "receiveResponseXML", self.envelope(self.call("receiveResponseXML", arguments)), \
            {200 if self.valid else 400}

    def family_envelope(self):
        """A good call in an envelope that is wrong (or only unusual: SOAP 1.2)."""
        rng = self.rng
        method = rng.choice(WSDL_METHODS)
        self.valid = True
        call = self.call(method, self.arguments(method, clean=True))
        shape = rng.randrange(16)
        ok = {200 if self.valid else 400}
        if shape < 3:
            return method, self.envelope(call, envelope_ns=SOAP12_ENV), ok, "SOAP 1.2"
        if shape < 5:
            return method, self.envelope(call, envelope_ns=rng.choice(WRONG_ENVELOPES)), \
                {400}, "envelope namespace"
        if shape == 5:
            return method, self.envelope(call, body_ns=SOAP12_ENV), {400}, "Body of SOAP 1.2"
        if shape == 6:
            wrong = rng.choice(WRONG_METHOD_NS)
            call = self.call(method, self.arguments(method, clean=True), namespace=wrong)
            return method, self.envelope(call), {400}, "method namespace %r" % wrong
        if shape == 7:
            return method, self.envelope(b""), {400}, "empty Body"
        if shape == 8:
            return method, self.envelope(call + rng.choice((call, self.call(
                rng.choice(WSDL_METHODS), [])))), {400}, "two calls"
        if shape == 9:
            return method, self.envelope(escape("text %s" % rng.random()).encode() + call
                                         + b"tail"), ok, "text around the call"
        if shape == 10:
            return method, self.envelope(self.envelope(call, declaration=False)), {400}, \
                "nested envelope"
        if shape == 11:
            return method, self.envelope(call, body_name=rng.choice(("body", "BODY", "Bodies",
                                                                     "Header"))), {400}, \
                "no Body"
        if shape == 12:
            return method, self.envelope(call, header_after=True), ok, "Header after Body"
        if shape == 13:
            return method, self.envelope(call, envelope_name=rng.choice((
                "envelope", "Envelop", "Body", "QBXML"))), {400}, "no Envelope"
        if shape == 14:
            return method, self.envelope(call, fault=True), {400}, "a Fault in the Body"
        return method, self.envelope(call, comments=True), ok, "comments and PIs"

    def family_unknown_method(self):
        rng = self.rng
        name = rng.choice(UNKNOWN_METHODS + ("x" + self.letters(rng.randint(1, 40)),))
        self.valid = True
        arguments = self.arguments(rng.choice(WSDL_METHODS), clean=True)
        return None, self.envelope(self.call(name, arguments)), {400}, name

    def family_non_soap(self):
        rng = self.rng
        bodies = (
            b"<a/>", b"<Envelope><Body><serverVersion/></Body></Envelope>",
            ('<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">'
             '<HostQueryRq requestID="1"/></QBXMLMsgsRq></QBXML>').encode(),
            b"<QBWCXML><AppName>x</AppName><AppURL>http://127.0.0.1/</AppURL></QBWCXML>",
            b"<html><body><h1>Hello</h1></body></html>",
            b'<rss version="2.0"><channel><title>x</title></channel></rss>',
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            ('<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" targetNamespace="%s">'
             '<message name="authenticate"/></definitions>' % NS).encode(),
            ('<authenticate xmlns="%s"><strUserName>%s</strUserName><strPassword>x'
             '</strPassword></authenticate>' % (NS, USER)).encode(),
            b'<?xml version="1.0"?><methodCall><methodName>authenticate</methodName>'
            b'</methodCall>',
            b'<x:Body xmlns:x="http://schemas.xmlsoap.org/soap/envelope/"><serverVersion '
            b'xmlns="http://developer.intuit.com/"/></x:Body>',
            ('{"method": "authenticate", "params": ["%s", "x"]}' % USER).encode(),
        )
        return None, rng.choice(bodies), {400}

    def family_bomb(self):
        """Entities, DTDs and inclusions: refused, never expanded nor fetched."""
        rng = self.rng
        method = rng.choice(WSDL_METHODS[1:])  # (serverVersion has no argument)
        names = METHODS[method][0]
        use = rng.choice(("argument", "extra", "attribute", "unused"))
        shape = rng.randrange(9)
        if shape == 0:
            entities = '<!ENTITY lol "lol">' + "".join(
                '<!ENTITY lol%d "%s">' % (n, ("&lol%s;" % (n - 1 if n > 1 else "")) * 10)
                for n in range(1, 10))
            reference, note = "&lol9;", "billion laughs"
        elif shape == 1:
            entities = '<!ENTITY a "%s">' % ("a" * rng.randint(10000, 60000))
            reference, note = "&a;" * rng.randint(100, 3000), "quadratic blow-up"
        elif shape == 2:
            entities = '<!ENTITY x SYSTEM "%s">' % rng.choice((
                "file:///etc/passwd", "file:///etc/hostname", "/etc/passwd",
                "http://127.0.0.1:1/x", "http://169.254.169.254/latest/meta-data/",
                "php://filter/resource=/etc/passwd", "expect://id", "ftp://127.0.0.1/x",
                "file:///dev/random", "jar:file:///x!/y"))
            reference, note = "&x;", "external entity"
        elif shape == 3:
            entities = ('<!ENTITY %% p SYSTEM "%s"> %%p;' % rng.choice((
                "http://127.0.0.1:1/evil.dtd", "file:///etc/passwd")))
            reference, note = "x", "parameter entity"
        elif shape == 4:
            entities, reference, note = '<!ATTLIST serverVersion a CDATA "x">', "x", "ATTLIST"
        elif shape == 5:
            entities = '<!ENTITY e "&#38;#60;b&#62;c&#38;#60;/b&#62;">'
            reference, note = "&e;", "entity of markup"
        elif shape == 6:
            entities, reference, note = None, "x", "external DTD"
        elif shape == 7:
            entities, reference, note = "", "x", "empty DOCTYPE"
        else:
            entities = None
            reference = ('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                         'href="%s" parse="text"/>' % rng.choice(("file:///etc/passwd",
                                                                  "/etc/passwd",
                                                                  "http://127.0.0.1:1/")))
            note, use = "XInclude", "argument"
        if use == "argument":
            arguments = [(names[0], reference.encode())]
        elif use == "extra":
            arguments = [("extra", reference.encode())]
        elif use == "attribute" and "<" not in reference:
            arguments = [(names[0] + ' a="%s"' % reference, b"1")]
        else:
            arguments = [(names[0], b"1")]
        call = self.call(method, arguments)
        if shape == 8:
            doctype = b""
        elif shape == 6:
            doctype = ('<!DOCTYPE Envelope SYSTEM "%s">' % rng.choice((
                "http://127.0.0.1:1/x.dtd", "file:///etc/passwd"))).encode()
        elif shape == 7:
            doctype = b"<!DOCTYPE Envelope>"
        else:
            doctype = ("<!DOCTYPE Envelope [%s]>" % entities).encode()
        padding = b"<!--%s-->" % (b"p" * rng.randint(4096, 9000)) if rng.random() < 0.25 \
            else b""
        body = self.envelope(call, declaration=False, prolog=padding + doctype)
        encoding = rng.choice(("utf-8", "utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-7",
                               "cp037", "utf-32"))
        if encoding != "utf-8":
            text = body.decode()
            if encoding != "cp037" or rng.random() < 0.5:
                text = '<?xml version="1.0" encoding="%s"?>' % encoding + text
            body = text.encode(encoding)
        return method, body, {400}, "%s (%s, %s)" % (note, use, encoding)

    def family_truncated(self):
        method = self.rng.choice(WSDL_METHODS)
        self.valid = True
        body = self.envelope(self.call(method, self.arguments(method, clean=True)))
        return method, body[:self.rng.randrange(len(body))], {400}

    def family_mutated(self):
        rng = self.rng
        method = rng.choice(WSDL_METHODS)
        self.valid = True
        body = bytearray(self.envelope(self.call(method, self.arguments(method, clean=True))))
        for _round in range(rng.randint(1, 6)):
            at = rng.randrange(len(body))
            action = rng.randrange(7)
            if action == 0:
                body[at] ^= 1 << rng.randrange(8)
            elif action == 1:
                body[at] = rng.randrange(256)
            elif action == 2:
                body[at:at] = rng.randbytes(rng.randint(1, 8))
            elif action == 3:
                del body[at:at + rng.randint(1, 16)]
            elif action == 4:
                body[at:at] = body[at:at + rng.randint(1, 64)]
            elif action == 5:
                body[at:at] = rng.choice((b"<", b">", b"&", b'"', b"/", b"</a>", b"<a>",
                                          b"\x00", b"\xff", b"\xed\xa0\x80", b"]]>",
                                          b"<![CDATA[", b"&#0;", b"&amp", b"xmlns="))
            else:
                body = body.replace(rng.choice((b"soap", b"xmlns", b"Body", b"ticket")),
                                    rng.choice((b"soap12", b"xmlns:x", b"body", b"Ticket")), 1)
        if b">%s<" % USER.encode() in body and PASSWORD.encode() in body:
            body = bytearray(body.replace(PASSWORD.encode(), b"x"))  # never the correct pair
        return method, bytes(body), {200, 400}

    def family_garbage(self):
        rng = self.rng
        size = rng.choice((rng.randint(1, 16), rng.randint(17, 512), rng.randint(513, 65536)))
        prefix = rng.choice((b"", b"<", b"<?xml", b'<?xml version="1.0"?>', b"\xef\xbb\xbf",
                             b"\xff\xfe", b"<soap:Envelope", b"<![CDATA[", b"<!--"))
        return None, prefix + rng.randbytes(size), {400}

    def family_encoding(self):
        rng = self.rng
        method = rng.choice(WSDL_METHODS)
        self.valid = True
        arguments = self.arguments(method, clean=True)
        name = (METHODS[method][0] or ("extra",))[0]
        word = rng.choice(("Café crème", "Łódź", "日本語", "Приве́т", "ÀÉÎÕÜ"))
        if name not in ("ticket",):
            arguments = [(n, v) for n, v in arguments if n != name] + \
                [(name, escape(word).encode())]
        text = self.envelope(self.call(method, arguments), declaration=False).decode()
        encoding = rng.choice(("utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252",
                               "shift_jis", "utf-32", "utf-7", "cp1251", "wrong", "none",
                               "unknown"))
        if encoding == "wrong":  # says it is one thing, is another
            declared, actual = rng.choice((("utf-8", "latin-1"), ("utf-16", "utf-8"),
                                           ("iso-8859-1", "utf-16-le"), ("ascii", "utf-8")))
        elif encoding == "none":
            declared, actual = None, rng.choice(("latin-1", "utf-16-le", "cp1252"))
        elif encoding == "unknown":
            declared, actual = rng.choice(("foo", "utf-9", "x-evil", "")), "utf-8"
        else:
            declared = actual = encoding
        if declared is not None:
            text = '<?xml version="1.0" encoding="%s"?>' % declared + text
        return method, text.encode(actual, "replace"), {200, 400}, "%s as %s" % (actual,
                                                                                declared)

    def family_empty(self):
        return None, self.rng.choice((b"", b" ", b"\n", b"\r\n\t ", b"\xef\xbb\xbf",
                                      b'<?xml version="1.0"?>', b"\x00")), {400}

    def family_huge(self):
        """At the cap (a good call padded with extra arguments of a megabyte each), over it
        (chunked: no Content-Length to refuse it by) or claiming to be over it."""
        rng = self.rng
        how = rng.choice(("at_cap", "over_cap", "claimed", "claimed"))
        method = rng.choice(WSDL_METHODS)
        head, tail = b'<%s xmlns="%s">' % (method.encode(), NS.encode()), b"</%s>" % (
            method.encode())
        if how == "claimed":
            return method, self.envelope(head + tail), {400}, how
        marker = b"@@pad@@"
        body = self.envelope(head + marker + tail)
        target = MAX_BODY_BYTES + (rng.randint(1, 4096) if how == "over_cap"
                                   else -rng.choice((0, 0, 1, rng.randint(2, 4096))))
        needed = target - len(body) + len(marker)
        piece = b"<pad>%s</pad>" % (b"A" * 1000000)
        count, rest = divmod(needed, len(piece))
        padding = piece * count + (b"<pad>%s</pad>" % (b"B" * (rest - 11)) if rest >= 11
                                   else b" " * rest)
        body = body.replace(marker, padding)
        assert len(body) == target, (len(body), target)
        if how == "over_cap":
            return method, body, {400}, "over_cap:chunked"
        return method, body, {200}, how

    # -- calls and envelopes ------------------------------------------------------------------

    def envelope(self, call, envelope_ns=SOAP_ENV, body_ns=None, declaration=None,
                 prolog=b"", body_name="Body", envelope_name="Envelope", header_after=False,
                 comments=False, fault=False):
        """``call`` (bytes) in a SOAP envelope, written one of the ways a client writes it."""
        rng = self.rng
        prefix = rng.choice(("soap", "soap", "s", "SOAP-ENV", "env", None))
        body_ns = envelope_ns if body_ns is None else body_ns

        def tag(name, namespace):
            if namespace == envelope_ns:
                return "%s:%s" % (prefix, name) if prefix else name
            return "b:%s" % name  # declared where it is used

        declarations = (' xmlns:%s="%s"' % (prefix, envelope_ns) if prefix
                        else ' xmlns="%s"' % envelope_ns if envelope_ns else "")
        if rng.random() < 0.5:
            declarations += (' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                             'xmlns:xsd="http://www.w3.org/2001/XMLSchema"')
        gap = (lambda: rng.choice(("", "\n", "  ", "<!-- c -->", "<?pi x?>"))) if comments \
            else (lambda: rng.choice(("", "", "\n", "\r\n  ")))
        body_tag = tag(body_name, body_ns)
        body_open = body_tag + (' xmlns:b="%s"' % body_ns if body_ns != envelope_ns else "")
        header = ""
        if rng.random() < 0.25:
            header = "<%s>%s</%s>" % (tag("Header", envelope_ns), rng.choice((
                "", '<x xmlns="urn:x">1</x>', "<%s>1</%s>" % (tag("Body", envelope_ns),
                                                            tag("Body", envelope_ns)))),
                tag("Header", envelope_ns))
        if fault:
            call = ("<%s><faultcode>x</faultcode></%s>" % (tag("Fault", envelope_ns),
                                                           tag("Fault", envelope_ns))).encode()
        body = ("<%s>" % body_open).encode() + gap().encode() + call + gap().encode() + \
            ("</%s>" % body_tag).encode()
        inner = (header.encode() + gap().encode() + body) if not header_after else (
            body + ("<%s/>" % tag("Header", envelope_ns)).encode())
        envelope_tag = tag(envelope_name, envelope_ns)
        text = ("<%s%s>" % (envelope_tag, declarations)).encode() + gap().encode() + inner + \
            gap().encode() + ("</%s>" % envelope_tag).encode()
        if declaration is None:
            declaration = rng.random() < 0.7
        if declaration:
            prolog = rng.choice((b'<?xml version="1.0" encoding="utf-8"?>',
                                 b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
                                 b'<?xml version="1.0"?>', b'\xef\xbb\xbf<?xml version="1.0" '
                                                            b'encoding="utf-8"?>')) + prolog
        return prolog + text

    def call(self, method, arguments, namespace=NS):
        """``<method xmlns=NS>`` holding ``arguments`` ([(name, content bytes)])."""
        rng = self.rng
        prefixed = rng.random() < 0.3 and namespace
        declare = (' xmlns:q="%s"' if prefixed else ' xmlns="%s"') % namespace \
            if namespace or not prefixed else ""
        opening = ("q:%s" % method) if prefixed else method
        parts = []
        for name, content in arguments:
            if prefixed and ":" not in name.split(" ")[0] and rng.random() < 0.5:
                name = "q:" + name
            if content or rng.random() < 0.7:
                parts.append(b"<%s>%s</%s>" % (name.encode(), content,
                                               name.split(" ")[0].encode()))
            else:
                parts.append(b"<%s/>" % name.encode())
        inside = b"".join(parts)
        if not inside and rng.random() < 0.5:
            return ("<%s%s/>" % (opening, declare)).encode()
        return ("<%s%s>" % (opening, declare)).encode() + inside + ("</%s>" % opening).encode()

    def arguments(self, method, clean=False):
        """[(name, content)] for ``method``: each of its arguments present or not, with a
        value of its kind or not; some repeated, nested or extra."""
        rng = self.rng
        found, said = [], {}
        for name in METHODS[method][0]:
            if rng.random() < (0.05 if clean else 0.15):
                continue  # missing
            for _time in range(2 if not clean and rng.random() < 0.05 else 1):  # or twice
                value = self.value(name)
                if clean:
                    value = "".join(ch for ch in value if xml_char(ch))[:2000]
                if name == "strPassword" and said.get("strUserName") == USER and \
                        value == PASSWORD:
                    value += "!"  # never the correct pair (the last one said counts)
                if name == "strUserName" and value == USER and PASSWORD in said.values():
                    value += "!"
                said[name] = value
                found.append((name, self.fragment(value, plain=clean or rng.random() < 0.5)))
        if not clean:
            if found and rng.random() < 0.08:
                at = rng.randrange(len(found))
                found[at] = (found[at][0], self.nested())
                self.valid = False  # an argument that is not text
            if rng.random() < 0.15:
                found.append(self.extra_argument(method))
            if rng.random() < 0.1:
                rng.shuffle(found)
        return found

    def extra_argument(self, method):
        """An element ``method`` has no argument of: ignored (unless XML cannot carry it)."""
        rng = self.rng
        name = rng.choice(("extra", "Ticket", "strusername", "password", "qbXMLMajorVersion",
                           "ticketX", "x" + self.letters(rng.randint(1, 20)), "wcTicket",
                           "strVersion",
                           "response", "x:y"))
        if name in METHODS[method][0]:
            name = "not_" + name
        if name == "x:y":
            name = 'x:y xmlns:x="urn:x"'
        draw = rng.random()
        if draw < 0.4:
            return name, self.nested()
        if draw < 0.5:
            depth = rng.choice((5, 50, 150, 400, 1000, 5000))
            if depth > 256:  # deeper than lxml builds without huge_tree
                self.valid = False
            return name, b"<d>" * depth + b"1" + b"</d>" * depth
        return name, self.fragment(self.text(), plain=rng.random() < 0.5)

    def nested(self):
        rng = self.rng
        return rng.choice((b"<a>1</a>", b"x<b/>y", b"<string>a</string><string>b</string>",
                           b"<ticket>%s</ticket>" % self.letters(43).encode(),
                           b'<x xmlns="urn:x"><y/></x>', ("<v>%s</v>" % escape(
                               self.letters(rng.randint(1, 100)))).encode()))

    def fragment(self, value, plain=False):
        """``value`` as an argument's content (bytes): escaped, in CDATA or as character
        references (raw, if it holds what XML cannot carry: then the call is not well-formed
        and ``valid`` is cleared)."""
        rng = self.rng
        if not all(xml_char(ch) for ch in value):
            self.valid = False
        draw = 1.0 if plain else rng.random()
        if draw < 0.15 and "]]>" not in value:
            return b"<![CDATA[" + value.encode("utf-8", "surrogatepass") + b"]]>"
        if draw < 0.3:
            return "".join("&#x%X;" % ord(ch) if rng.random() < 0.4 or ch in "<&>"
                           else ch for ch in value).encode("utf-8", "surrogatepass")
        if draw < 0.4:
            return "".join("&#%d;" % ord(ch) if not ch.isalnum() else ch
                           for ch in value).encode("utf-8", "surrogatepass")
        return escape(value, {'"': "&quot;", "'": "&apos;"} if draw < 0.5 else {}).encode(
            "utf-8", "surrogatepass")

    # -- values -------------------------------------------------------------------------------

    def value(self, name):
        rng = self.rng
        if name in ("ticket", "wcTicket"):
            return self.ticket()
        if name in ("qbXMLMajorVers", "qbXMLMinorVers"):
            return rng.choice(INTEGERS) if rng.random() < 0.8 else self.text()
        if name == "strVersion":
            return rng.choice(VERSIONS) if rng.random() < 0.7 else self.text()
        if name == "strUserName":
            return self.near_user() if rng.random() < 0.5 else self.text()
        if name == "strPassword":
            return self.near_password() if rng.random() < 0.5 else self.text()
        if name == "hresult":
            return rng.choice(HRESULTS) if rng.random() < 0.7 else self.text()
        if name in ("response", "strHCPResponse"):
            return self.qbxml() if rng.random() < 0.7 else self.text()
        if name == "qbXMLCountry":
            return rng.choice(("US", "CA", "UK", "us", "", "XX", "USA", "U\u0000S")) \
                if rng.random() < 0.7 else self.text()
        return self.text()

    def text(self):
        """A string that is wrong somewhere a string goes."""
        rng = self.rng
        draw = rng.randrange(10)
        if draw == 0:
            return rng.choice(INJECTIONS)
        if draw == 1:
            return rng.choice(UNICODE)
        if draw == 2:
            return self.long_text()  # sometimes of NUL and lone surrogates
        if draw == 3:
            return "".join(chr(rng.randrange(0x110000)) for _n in range(rng.randint(1, 30)))
        if draw == 4:
            return "".join(chr(rng.randrange(0x20)) for _n in range(rng.randint(1, 10)))
        if draw == 5:
            return rng.choice(("", " ", "\t", "\n", "0", "-1", "1.0", "null", "None", "true"))
        if draw == 6:
            return self.ticket()
        if draw == 7 and rng.random() < 0.05:
            return self.noise(rng.choice((rng.randint(10 ** 5, 10 ** 6),
                                          rng.randint(10 ** 6, 3 * 10 ** 6))))  # huge
        if draw == 8:
            return rng.choice(VERSIONS + INTEGERS + HRESULTS)
        return self.letters(rng.randint(1, 80))

    def ticket(self):
        """A ticket: of the form the server issues (base64url of 32 bytes), or not."""
        rng = self.rng
        good = base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=").decode()
        return rng.choice((
            good, good, good, good[:20], good[:19], good + "=", good.upper(), " %s " % good,
            good + "\u0000", good[:-1] + "é", self.uuid(), "{%s}" % self.uuid(), "x" * 100,
            "x" * 101, "x" * 20, "", " ", "0", "-1", "None", rng.choice(INJECTIONS),
            rng.choice(UNICODE), self.noise(rng.randint(1, 200)), USER, PASSWORD,
            good + "\ud800", "a" * rng.randint(10 ** 4, 10 ** 5),
        ))

    def near_user(self):
        rng = self.rng
        at = rng.randrange(len(USER))
        return rng.choice((
            USER[:-1], USER + "x", USER.upper(), USER.title(), " " + USER, USER + " ",
            USER + "\n", "\t" + USER, USER[:at] + USER[at + 1:], USER[:at] + "_" + USER[at:],
            USER.replace("o", "\u043e"), USER.replace("-", "\u2010"), USER + "\u200b",
            "\ufeff" + USER, USER + "%", USER[:at] + "%", USER + "*", USER.replace("-", "_"),
            USER * 2, USER + "' OR '1'='1", "odoo-", "odoo-%", "", USER + "\u0000",
            USER + "\ud800", (USER + "x") * 4, USER[:at] + "é" + USER[at + 1:],
        ))

    def near_password(self):
        rng = self.rng
        at = rng.randrange(len(PASSWORD))
        swapped = PASSWORD[:at] + PASSWORD[at:at + 2][::-1] + PASSWORD[at + 2:]
        flipped = PASSWORD[:at] + PASSWORD[at].swapcase() + PASSWORD[at + 1:]
        found = rng.choice((
            PASSWORD[:-1], PASSWORD + "x", PASSWORD[1:], PASSWORD.upper(), PASSWORD.lower(),
            " " + PASSWORD, PASSWORD + " ", PASSWORD + "\n", PASSWORD + "\r\n", "\t" + PASSWORD,
            PASSWORD[:at] + PASSWORD[at + 1:], swapped, flipped, PASSWORD + "\u0000",
            PASSWORD + "\ud800", PASSWORD.replace("o", "\u043e"), PASSWORD + "\u200b",
            "\ufeff" + PASSWORD, PASSWORD * 2, PASSWORD * 200, PASSWORD[:at], "", " ",
            PASSWORD.replace("_", "/").replace("-", "+"),
            base64.b64encode(PASSWORD.encode()).decode(), PASSWORD + "\u0301",
            "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in PASSWORD),
            rng.choice(INJECTIONS), self.noise(rng.choice((24, 4096, 5000))),
        ))
        return found if found != PASSWORD else PASSWORD + "!"

    def qbxml(self):
        """A qbXML-ish answer: well-formed or not, of statuses and Rets, for a ticket
        nobody has."""
        rng = self.rng
        code = rng.choice(("0", "1", "500", "3100", "3175", "3200", "-1", "abc", "9" * 5000,
                           ""))
        rets = "".join("<%s><ListID>%s</ListID><Name>%s</Name><StdDueDays>%s</StdDueDays>"
                       "</%s>" % (kind, escape(self.letters(8)), escape(rng.choice(UNICODE)),
                                  rng.choice(("30", "1e999999", "NaN", "-0", "x")), kind)
                       for kind in rng.sample(("AccountRet", "CustomerRet", "ItemServiceRet",
                                               "StandardTermsRet", "InvoiceRet"),
                                              rng.randint(0, 3)))
        body = ('<?qbxml version="%s"?><QBXML><QBXMLMsgsRs><%s requestID="%s" statusCode="%s" '
                'statusSeverity="%s" statusMessage="%s" iteratorID="%s" '
                'iteratorRemainingCount="%s">%s</%s></QBXMLMsgsRs></QBXML>') % (
            rng.choice(("13.0", "2.0", "x")), rng.choice(("AccountQueryRs", "HostQueryRs",
                                                          "InvoiceAddRs", "XRs", "Rs")),
            escape(self.letters(4)), code, rng.choice(("Info", "Error", "Warn", "")),
            escape(self.letters(20)), escape(self.letters(rng.choice((0, 38, 5000)))),
            rng.choice(("0", "10", "-5", "x", "9" * 5000)), rets,
            "AccountQueryRs")
        draw = rng.random()
        if draw < 0.15:
            return body[:rng.randrange(len(body))]
        if draw < 0.25:
            return '<!DOCTYPE QBXML [<!ENTITY a "b">]>' + body
        if draw < 0.3:
            return self.text()
        return body


@tagged("post_install", "-at_install")
class TestQbwcFuzz(QuickBooksDesktopCase):

    def setUp(self):
        super().setUp()
        # Known credentials, so that the bodies depend on the seed alone.
        self.connection.sudo().write({"qbwc_username": USER,
                                      "qbwc_password_hash": PASSWORD_CONTEXT.hash(PASSWORD)})
        self.password = PASSWORD
        self._senders = threading.local()
        versions = dict(_CLIENT_VERSIONS)  # clientVersion keeps what it was told, by address

        def restore():
            _CLIENT_VERSIONS.clear()
            _CLIENT_VERSIONS.update(versions)
        self.addCleanup(restore)
        self.env.flush_all()

    # -- the fuzz ---------------------------------------------------------------------------

    def test_fuzz(self):
        _logger.info("Web Connector fuzz: seed %s (ACCOUNTING_SYNC_FUZZ_SEED), %d bodies",
                     SEED, BODIES)
        self.assertTrue(self.connection._qbwc_check_password(PASSWORD))
        counts, stats, fields = self.counts(), self.table_writes(), self.connection_fields()
        failures, families, answers, methods = [], Counter(), Counter(), Counter()
        spent, slowest, sent = Counter(), Counter(), 0
        started = time.monotonic()
        with LogCatcher(*MUTED) as logs, ThreadPoolExecutor(SENDERS) as pool:
            for delivery, status, content, seconds in pool.map(self.exchange, range(BODIES)):
                families[delivery.family] += 1
                answers[status] += 1
                spent[delivery.family] += seconds
                slowest[delivery.family] = max(slowest[delivery.family], seconds)
                sent += len(delivery.body)
                problem = self.check(delivery, status, content)
                if problem:
                    failures.append("%s: %s" % (problem, delivery.describe()))
                elif status == 200:
                    methods[delivery.method] += 1
        elapsed = time.monotonic() - started
        _logger.info("Web Connector fuzz: %d bodies (%.1f MB) in %.1f s, answers %s, "
                     "families %s, seconds by family %s (slowest %s), methods answered %s, "
                     "logged %s", BODIES, sent / 1e6, elapsed, dict(answers), dict(families),
                     {f: round(t, 1) for f, t in spent.most_common()},
                     {f: round(t, 2) for f, t in slowest.most_common()}, dict(methods),
                     dict(logs.levels))

        errors = ["%s: %s%s" % (r.name, r.getMessage()[:300], r.exc_info and "\n" + "".join(
            traceback.format_exception(*r.exc_info)[-3:])[-1500:] or "") for r in logs.errors]
        self.assertFalse(bool(failures or errors), "seed %s: %d of %d answers not as expected, the "
                         "first:\n%s\nlogged at ERROR (%d), the first:\n%s" % (
                             SEED, len(failures), BODIES, "\n".join(failures[:15]),
                             len(errors), "\n".join(errors[:5])))
        self.assertFalse(logs.tracebacks, "seed %s: logged with a traceback: %s" % (SEED, [
            (r.name, r.getMessage()[:200], "".join(traceback.format_exception(*r.exc_info))[-800:])
            for r in logs.tracebacks[:3]]))
        for family, _weight in FAMILIES:
            self.assertTrue(families[family], "seed %s: family %s not drawn" % (SEED, family))
        for method in WSDL_METHODS:
            self.assertTrue(methods[method], "seed %s: %s never answered" % (SEED, method))
        self.assertLess(max(slowest.values()), 30, "no body is expanded into hours of work")

        # nothing written: no row anywhere, the Web Connector fields as they were
        self.env.invalidate_all()
        self.assertEqual(self.counts(), counts)
        self.assertEqual(self.connection_fields(), fields)
        writes = self.table_writes()
        changed = {table: tuple(n - m for n, m in zip(numbers, stats.get(table, (0, 0, 0))))
                   for table, numbers in writes.items() if numbers != stats.get(table, (0, 0, 0))}
        self.assertFalse(changed, "seed %s: written (inserted, updated, deleted): %s"
                         % (SEED, changed))
        self.assertTrue(self.connection._qbwc_check_password(PASSWORD), "still signs in")

    def test_signed_in_session_fed_garbage(self):
        """A signed-in session (the right pair: it may write, a failed session records its
        error) fed garbage: qbXML answers mangled or random, bad hresults, first-contact
        arguments that are no numbers. Every call answers as the WSDL says, 200."""
        rng = random.Random("%s/qbwc-session" % SEED)
        path = self.company_file.file_path
        desk = self.company_file.open_session()
        seen = Counter()
        with LogCatcher(*MUTED) as logs:
            for turn in range(16):
                draw = QbwcDraw(SEED, 10 ** 6 + turn)
                auth = self.qbwc_call("authenticate", strUserName=USER, strPassword=PASSWORD)
                self.assertTrue(auth and len(auth) <= 4 and auth[0], "turn %d: %s" % (turn, auth))
                ticket = auth[0]
                hcp = self.company_file.hcp_response()
                genuine = turn % 2 == 0  # the first pins the company file, reads a list
                request = self.qbwc_call(
                    "sendRequestXML", ticket=ticket,
                    strHCPResponse=hcp if genuine else rng.choice((
                        hcp, self.garbled(rng, hcp), draw.qbxml(), draw.text(), "")),
                    strCompanyFileName=path if genuine or rng.random() < 0.7 else rng.choice((
                        path.upper(), path.replace("\\", "/"), draw.text(), "")),
                    qbXMLCountry="US" if genuine else rng.choice(("US", "CA", "UK", "", "XX",
                                                                  draw.text())),
                    qbXMLMajorVers="13" if genuine else rng.choice(INTEGERS),
                    qbXMLMinorVers="0" if genuine else rng.choice(INTEGERS))
                self.assertIsInstance(request or "", str)
                for exchange in range(4):
                    if not request:
                        break
                    seen["exchanges"] += 1
                    real = self.company_file.handle(request, desk)
                    response = real if genuine and not exchange else rng.choice((
                        real, real, self.garbled(rng, real), self.garbled(rng, real),
                        self.garbled(rng, real), draw.qbxml(), draw.text(), ""))
                    hresult = rng.choice(HRESULTS) if rng.random() < 0.25 else ""
                    progress = self.qbwc_call("receiveResponseXML", ticket=ticket,
                                              response=response, hresult=hresult,
                                              message=draw.text() if hresult else "")
                    self.assertTrue(re.fullmatch(r"-1|[0-9]{1,2}|100", progress or ""),
                                    progress)
                    seen[progress] += 1
                    if int(progress) < 0 or int(progress) >= 100:
                        break
                    request = self.qbwc_call(
                        "sendRequestXML", ticket=ticket, strHCPResponse="",
                        strCompanyFileName=path, qbXMLCountry="US",
                        qbXMLMajorVers=rng.choice(INTEGERS), qbXMLMinorVers="0")
                    self.assertIsInstance(request or "", str)
                if rng.random() < 0.3:
                    self.assertEqual(self.qbwc_call(
                        "connectionError", ticket=ticket, hresult=rng.choice(HRESULTS),
                        message=draw.text()), "done")
                self.assertTrue(self.qbwc_call("getLastError", ticket=ticket))
                self.assertTrue(self.qbwc_call("closeConnection", ticket=ticket))
                self.assertEqual(self.qbwc_call("receiveResponseXML", ticket=ticket,
                                                response=hcp, hresult="", message=""), "-1",
                                 "a closed session's ticket is spent")
        _logger.info("Web Connector session fed garbage: %s, logged %s", dict(seen),
                     dict(logs.levels))
        self.assertFalse(bool(logs.errors or logs.tracebacks), [
            (r.name, r.getMessage()[:300], r.exc_info and "".join(
                traceback.format_exception(*r.exc_info))[-1500:])
            for r in (logs.errors + logs.tracebacks)[:3]])
        self.assertGreaterEqual(seen["exchanges"], 8, "one at least in each genuine turn")
        self.assertTrue(seen["-1"] and set(seen) - {"-1", "exchanges"}, "errors and progress")
        self.assertEqual(self.connection.qbwc_company_file, path, "pinned by the first")
        self.assertFalse(self.env["accounting.sync.qbwc.session"].search(
            [("connection_id", "=", self.connection.id), ("state", "=", "open")]))

    @staticmethod
    def garbled(rng, text):
        """A qbXML answer mangled: cut, numbers and codes made wrong, tags swapped."""
        for _round in range(rng.randint(1, 3)):
            action = rng.randrange(9)
            if action == 0:
                text = text[:rng.randrange(len(text) + 1)]
            elif action == 1:
                text = re.sub(r'statusCode="\d+"', 'statusCode="%s"' % rng.choice((
                    "abc", "", "-1", "3175", "500", "9" * 5000)), text)
            elif action == 2:
                text = re.sub(r">(\d+(?:\.\d+)?)<", lambda m: ">%s<" % rng.choice((
                    "NaN", "Infinity", "-0", "1e999", "9" * 5000, "x", "", "1,5")), text)
            elif action == 3:
                text = text.replace("QueryRs", rng.choice(("AddRs", "QueryRq", "Rs", "")))
            elif action == 4:
                text = text.replace("<QBXML>", '<!DOCTYPE QBXML [<!ENTITY a "b">]><QBXML>&a;')
            elif action == 5:
                text = re.sub(r'iteratorRemainingCount="\d+"', 'iteratorRemainingCount="%s"'
                              % rng.choice(("-5", "x", "9" * 5000)), text) + ""
            elif action == 6:
                text = text.replace("<ListID>", "<ListID>%s" % rng.choice(
                    ("", "x" * 5000, "80000001-1234567890", "'; DROP TABLE x; --")), 1)
            elif action == 7:
                at = rng.randrange(len(text) + 1)
                text = text[:at] + rng.choice(("<", "&", "]]>", "<a>", "</QBXML>", "\ufffd")) \
                    + text[at:]
            else:
                text = text * 2
        return text

    def qbwc_call(self, method, **args):
        """One SOAP call over HTTP (what the test wrote flushed first, what it wrote read
        afresh after): its result, after checking the answer is the method's, a 200."""
        inside = "".join("<%s>%s</%s>" % (name, escape("".join(
            ch for ch in str(value) if xml_char(ch))), name) for name, value in args.items())
        body = (ENVELOPE % '<%s xmlns="%s">%s</%s>' % (method, NS, inside, method)).encode()
        self.env.flush_all()
        status, content = self.send(Delivery(body=body, how="plain", headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"%s%s"' % (NS, method)}))
        self.env.invalidate_all()
        self.assertEqual(status, 200, "%s: %r" % (method, content[:500]))
        self.assertNotIn(b"Traceback", content)
        kind, answered, value = read_answer(content)
        self.assertEqual((kind, answered), ("result", method), value)
        return value

    def check(self, delivery, status, content):
        """What is wrong with the answer to ``delivery`` (None: nothing)."""
        if not isinstance(status, int):
            return "no answer (%s)" % status
        if status not in (200, 400):
            return "status %s" % status
        if b"Traceback" in content or b"root:x:0:0" in content:
            return "a traceback or a file's content in the answer %r" % content[:300]
        if status not in delivery.expected:
            return "status %s, not %s (%r)" % (status, sorted(delivery.expected),
                                                content[:300])
        kind, method, value = read_answer(content)
        if status == 400:
            return None if kind == "fault" else "a 400 without a SOAP Fault: %s" % value
        if kind != "result":
            return "a 200 that is no methodResponse: %s" % value
        if delivery.loose:
            if not any(method in delivery.body.decode(encoding, "replace") for encoding in (
                    "utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-7")):
                return "answered %s, which the body does not name" % method
        elif method != delivery.method:
            return "answered %s, not %s" % (method, delivery.method)
        if isinstance(value, list) and len(value) > 4:
            return "authenticate answered %d strings" % len(value)
        if not UNKNOWN_TICKET_ANSWERS[method](value):
            return "%s answered %r" % (method, value if not isinstance(value, str)
                                       else value[:200])
        return None

    def exchange(self, index):
        delivery = QbwcDraw(SEED, index).delivery()
        started = time.monotonic()
        try:
            status, content = self.send(delivery)
        except OSError as e:  # requests' errors too: the server closed on us
            status, content = repr(e), b""
        return delivery, status, content, time.monotonic() - started

    def send(self, delivery):
        """POST the delivery over HTTP: (status, body). Not through self.opener: it
        flushes the test cursor, which the server's threads use."""
        if delivery.how == "claimed":  # a Content-Length over the cap, a body that is not
            url = urlsplit(self.base_url())
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            try:
                connection.putrequest("POST", PATH)
                for name, value in delivery.headers.items():
                    connection.putheader(name, value)
                connection.putheader("Content-Length", str(delivery.claimed))
                connection.endheaders(delivery.body)
                answer = connection.getresponse()
                return answer.status, answer.read()
            finally:
                connection.close()
        data = delivery.body
        if delivery.how in ("chunked", "over_cap"):
            data = (delivery.body[at:at + CHUNK] for at in range(0, len(delivery.body), CHUNK))
        if not hasattr(self._senders, "session"):
            self._senders.session = requests.Session()
        answer = self._senders.session.post(self.base_url() + PATH, data=data,
                                            headers=delivery.headers, timeout=60)
        return answer.status_code, answer.content

    # -- the database -----------------------------------------------------------------------

    def counts(self):
        return {model: self.env[model].sudo().with_context(active_test=False).search_count([])
                for model in UNCHANGED_MODELS}

    def connection_fields(self):
        connection = self.connection.sudo()
        return {name: connection[name] for name in CONNECTION_FIELDS + ("qbwc_password_hash",)}

    def table_writes(self):
        """(inserted, updated, deleted) rows of each table in this transaction so far (the
        test server's requests share it)."""
        self.env.cr.execute("""SELECT relname, n_tup_ins, n_tup_upd, n_tup_del
                                 FROM pg_stat_xact_user_tables""")
        return {table: tuple(numbers) for table, *numbers in self.env.cr.fetchall()}

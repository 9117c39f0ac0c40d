"""A QuickBooks Web Connector (QBWC) client: reads a .qwc file and drives the application's
SOAP endpoint (Odoo's ``/accounting_sync/qbwc``) exactly as the Windows Web Connector does,
handing each qbXML request to a ``qbd.CompanyFile`` and the answer back.

Why: the QuickBooks Desktop sync can only be exercised through this conversation
(serverVersion, clientVersion, authenticate, sendRequestXML/receiveResponseXML loop,
getLastError, connectionError, closeConnection); this client makes it runnable on Linux, in
tests and from the command line (``python -m provider_sandbox.qbwc --help``).

The SOAP 1.1 calls are made by a zeep client built from Intuit's WSDL
(``QBWebConnectorSvc.wsdl`` in the specs folder, see ``qbd_xml.specs_dir``); without the specs
folder a plain ``requests`` transport posts the same document/literal envelopes with the same
SOAPAction headers. Every request is validated against the qbXML 13.0 schema before it reaches
the company file (when the specs are there), as QuickBooks' parser would reject it.
"""
import argparse
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from lxml import etree

from . import qbd_xml
from .qbd import (PARSE_HRESULT, PARSE_MESSAGE, Clock, CompanyFile, QBConnectionError,
                  QBXMLError)

NS = "http://developer.intuit.com/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BINDING = "{%s}TroubleshootWebServiceFSSoap" % NS
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
MAX_EXCHANGES = 10000
MAX_NOOPS = 20
AUTH_STATUSES = {"nvu": "not a valid user", "none": "nothing to do", "busy": "server busy"}


class QWCError(ValueError):
    """A .qwc file QBWC would refuse to add."""


@dataclass
class QWC:
    """The fields of a .qwc file QBWC uses."""
    app_name: str
    app_url: str
    user_name: str
    owner_id: str = ""
    file_id: str = ""
    qb_type: str = "QBFS"
    app_support: str = ""
    run_every_seconds: int = None
    is_read_only: bool = False


def read_qwc(text_or_path):
    """Parse a .qwc (its XML text or a path). Refuses what QBWC refuses: no AppURL, an AppURL
    that is neither https nor http on localhost, no UserName/AppName."""
    text = text_or_path
    if not str(text_or_path).lstrip().startswith("<"):
        text = Path(text_or_path).read_text(encoding="utf-8")
    try:
        root = qbd_xml.parse(text)
    except etree.XMLSyntaxError as error:
        raise QWCError("the .qwc file is not well-formed XML: %s" % error)
    if root.tag != "QBWCXML":
        raise QWCError("the .qwc file's root element must be QBWCXML, not %s" % root.tag)

    def get(name):
        return (root.findtext(name) or "").strip()
    url = get("AppURL")
    if not url:
        raise QWCError("the .qwc file has no AppURL")
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise QWCError("AppURL %s must use https (http is allowed on localhost only)" % url)
    if parts.scheme not in ("http", "https"):
        raise QWCError("AppURL %s is not an http(s) URL" % url)
    for name in ("AppName", "UserName"):
        if not get(name):
            raise QWCError("the .qwc file has no %s" % name)
    every = None
    minutes = root.findtext("Scheduler/RunEveryNMinutes")
    seconds = root.findtext("Scheduler/RunEveryNSeconds")
    if minutes and minutes.strip().isdigit():
        every = int(minutes) * 60
    elif seconds and seconds.strip().isdigit():
        every = int(seconds)
    return QWC(app_name=get("AppName"), app_url=url, user_name=get("UserName"),
               owner_id=get("OwnerID"), file_id=get("FileID"), qb_type=get("QBType") or "QBFS",
               app_support=get("AppSupport"), run_every_seconds=every,
               is_read_only=get("IsReadOnly").lower() == "true")


@dataclass
class SessionReport:
    """What one session did (``describe()`` words it)."""
    server_version: str = None
    client_version_answer: str = None
    auth: list = field(default_factory=list)  # authenticate's strings, as answered
    status: str = None        # authenticate's status: "", a path, "none", "nvu", "busy"
    ticket: str = None
    company_file_mismatch: str = None  # the path authenticate asked for, when not ours
    exchanges: int = 0        # sendRequestXML calls that returned a request
    requests: Counter = field(default_factory=Counter)  # XxxRq type → count
    record_counts: list = field(default_factory=list)   # number of XxxRq per exchange
    progress: list = field(default_factory=list)        # receiveResponseXML answers
    noops: int = 0
    invalid_requests: list = field(default_factory=list)  # {"exchange", "error"}
    hresults: list = field(default_factory=list)          # {"hresult", "message", "applied"}
    connection_errors: list = field(default_factory=list)  # {"hresult", "message", "answer"}
    last_error: str = None    # getLastError's text (not NoOp) or a transport failure
    close_message: str = None  # closeConnection's answer (None: not called)
    stopped: str = ""         # why the session ended, in words
    seconds: float = 0.0

    @property
    def ok(self):
        """The session ran to 100 % with no invalid request, HRESULT or error."""
        return bool(self.progress) and self.progress[-1] >= 100 and not (
            self.invalid_requests or self.hresults or self.connection_errors or self.last_error)

    def as_dict(self):
        data = asdict(self)
        data["requests"] = dict(self.requests)
        return data

    def describe(self):
        lines = ["Session: %s (%.1f s)." % (self.stopped or "ended", self.seconds)]
        if self.server_version is not None:
            lines.append("Server version %r; clientVersion answered %r."
                         % (self.server_version, self.client_version_answer))
        if self.auth:
            lines.append("authenticate: status %r%s." % (
                self.status, " (%s)" % AUTH_STATUSES[self.status]
                if self.status in AUTH_STATUSES else ""))
        if self.company_file_mismatch:
            lines.append("The server asked for company file %r, which is not the one open."
                         % self.company_file_mismatch)
        if self.exchanges:
            kinds = ", ".join("%s ×%d" % item for item in sorted(self.requests.items()))
            lines.append("%d exchange(s), %d request(s): %s." % (
                self.exchanges, sum(self.record_counts), kinds))
            lines.append("Progress: %s." % " → ".join(str(p) for p in self.progress))
        if self.noops:
            lines.append("NoOp answers: %d." % self.noops)
        for item in self.invalid_requests:
            lines.append("Invalid request in exchange %(exchange)d: %(error)s" % item)
        for item in self.hresults:
            lines.append("HRESULT %(hresult)s reported: %(message)s" % item)
        for item in self.connection_errors:
            lines.append("connectionError %(hresult)s (%(message)s) → %(answer)r" % item)
        if self.last_error:
            lines.append("Last error: %s" % self.last_error)
        if self.close_message is not None:
            lines.append("closeConnection: %s" % self.close_message)
        return "\n".join(lines)


class _ZeepTransport:
    """The Web Connector's SOAP calls through zeep, from the WSDL."""

    def __init__(self, wsdl, url, timeout):
        import zeep
        from zeep.transports import Transport
        client = zeep.Client(str(wsdl), transport=Transport(timeout=timeout,
                                                            operation_timeout=timeout))
        self.service = client.create_service(BINDING, url)
        self.fault = zeep.exceptions.Fault

    def call(self, method, **args):
        answer = getattr(self.service, method)(**args)
        if method == "authenticate":
            if answer is None:
                return []
            strings = getattr(answer, "string", answer)
            return ["" if s is None else s for s in (strings or [])]
        if method == "receiveResponseXML":
            return int(answer)
        return "" if answer is None else answer


class _PlainTransport:
    """The same document/literal envelopes posted with ``requests`` (no WSDL at hand)."""

    def __init__(self, url, timeout):
        self.url, self.timeout = url, timeout
        self.session = requests.Session()

    def call(self, method, **args):
        envelope = etree.Element("{%s}Envelope" % SOAP_ENV, nsmap={"soap": SOAP_ENV})
        body = etree.SubElement(envelope, "{%s}Body" % SOAP_ENV)
        operation = etree.SubElement(body, "{%s}%s" % (NS, method), nsmap={None: NS})
        for name, value in args.items():
            etree.SubElement(operation, "{%s}%s" % (NS, name)).text = str(value)
        data = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        response = self.session.post(self.url, data=data, timeout=self.timeout, headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"%s%s"' % (NS, method)})
        root = etree.fromstring(response.content)
        fault = root.find(".//{%s}Fault" % SOAP_ENV)
        if fault is not None or response.status_code != 200:
            raise SoapFault(fault.findtext("faultstring") if fault is not None
                            else "HTTP %d" % response.status_code)
        result = root.find(".//{%s}%sResult" % (NS, method))
        if method == "authenticate":
            return [s.text or "" for s in result.findall("{%s}string" % NS)] \
                if result is not None else []
        text = result.text if result is not None else None
        if method == "receiveResponseXML":
            return int(text)
        return text or ""


class SoapFault(Exception):
    """A SOAP fault from the server (the plain transport's; zeep raises its own)."""


class WebConnector:
    """One Web Connector application (one .qwc) on one company file."""

    def __init__(self, qwc_text_or_path, password, company_file, version="2.3.0.215",
                 validate=True, timeout=30, noop_wait=0.0, max_noops=MAX_NOOPS,
                 max_exchanges=MAX_EXCHANGES, use_zeep=None):
        self.qwc = read_qwc(qwc_text_or_path)
        self.password, self.company, self.version = password, company_file, version
        self.validate, self.timeout = validate, timeout
        self.noop_wait, self.max_noops, self.max_exchanges = noop_wait, max_noops, max_exchanges
        wsdl = qbd_xml.wsdl_path()
        use_zeep = wsdl is not None if use_zeep is None else use_zeep
        if use_zeep and wsdl is None:
            raise ValueError("zeep needs the WSDL, not found in %s" % qbd_xml.specs_dir())
        self.transport_name = "zeep" if use_zeep else "requests"
        self._transport = (_ZeepTransport(wsdl, self.qwc.app_url, timeout) if use_zeep
                           else _PlainTransport(self.qwc.app_url, timeout))
        self.last_requests = []  # the raw qbXML requests of the last session

    def _call(self, method, **args):
        return self._transport.call(method, **args)

    def run_session(self):
        """Run one session as QBWC does and answer its SessionReport. Transport failures and
        SOAP faults end the session (recorded as ``last_error``); they are not raised."""
        report = SessionReport()
        self.last_requests = []
        start = time.monotonic()
        session = None
        try:
            session = self._session(report)
        except Exception as error:  # noqa: BLE001 - QBWC shows any failure and stops
            report.last_error = "%s: %s" % (type(error).__name__, error)
            report.stopped = report.stopped or "failed: %s" % report.last_error
        finally:
            if session is not None:
                self.company.close_session(session)
            report.seconds = time.monotonic() - start
        return report

    def _session(self, report):
        report.server_version = self._call("serverVersion")
        answer = self._call("clientVersion", strVersion=self.version)
        report.client_version_answer = answer
        if answer.startswith("E:"):
            report.stopped = "stopped: clientVersion error: %s" % answer[2:]
            return None
        if answer.startswith("O:"):
            report.stopped = "stopped: the server requires Web Connector %s" % answer[2:]
            return None
        auth = self._call("authenticate", strUserName=self.qwc.user_name,
                          strPassword=self.password)
        report.auth = auth
        if len(auth) > 4 or not auth:
            report.last_error = "authenticate answered %d strings (QBWC1012)" % len(auth)
            report.stopped = "failed: %s" % report.last_error
            return None
        report.ticket = auth[0]
        report.status = auth[1] if len(auth) > 1 else ""
        if report.status in AUTH_STATUSES:  # QBWC ends here: no closeConnection
            report.stopped = "stopped: %s" % AUTH_STATUSES[report.status]
            return None
        if report.status and report.status.lower() != self.company.file_path.lower():
            report.company_file_mismatch = report.status
        session = self.company.open_session()
        major, minor = self.company.max_version().split(".")
        ticket, first = report.ticket, True
        while True:
            if report.exchanges >= self.max_exchanges:
                report.stopped = "stopped: exchange cap (%d) reached" % self.max_exchanges
                break
            request = self._call(
                "sendRequestXML", ticket=ticket,
                strHCPResponse=self.company.hcp_response() if first else "",
                strCompanyFileName=self.company.file_path, qbXMLCountry=self.company.country,
                qbXMLMajorVers=int(major), qbXMLMinorVers=int(minor))
            first = False
            if not request:
                message = self._call("getLastError", ticket=ticket)
                if message == "NoOp":
                    report.noops += 1
                    if report.noops > self.max_noops:
                        report.stopped = "stopped: NoOp answered %d times" % report.noops
                        break
                    time.sleep(self.noop_wait)
                    continue
                report.last_error = message
                report.stopped = "stopped: sendRequestXML answered no request"
                break
            progress = self._exchange(report, ticket, request, session)
            if progress is None:  # connectionError answered: done
                break
            report.progress.append(progress)
            if progress < 0:
                report.last_error = self._call("getLastError", ticket=ticket)
                report.stopped = "stopped: receiveResponseXML answered %d" % progress
                break
            if progress >= 100:
                report.stopped = "done"
                break
        report.close_message = self._call("closeConnection", ticket=ticket)
        return session

    def _exchange(self, report, ticket, request, session):
        """Deliver one request; answer receiveResponseXML's value (None after a
        connectionError the server answered with "done" or nothing)."""
        report.exchanges += 1
        self.last_requests.append(request)
        names = self._request_types(request)
        report.requests.update(names)
        report.record_counts.append(len(names))
        error = qbd_xml.validate(request) if self.validate else None
        if error:
            report.invalid_requests.append({"exchange": report.exchanges, "error": error})
            report.hresults.append({"hresult": PARSE_HRESULT, "message": PARSE_MESSAGE,
                                    "applied": False})
            return self._call("receiveResponseXML", ticket=ticket, response="",
                              hresult=PARSE_HRESULT, message=PARSE_MESSAGE)
        try:
            response = self.company.handle(request, session)
        except QBConnectionError as failure:
            answer = self._call("connectionError", ticket=ticket, hresult=failure.hresult,
                                message=failure.message)
            report.connection_errors.append({"hresult": failure.hresult,
                                             "message": failure.message, "answer": answer})
            report.stopped = "stopped: connectionError answered %r" % answer
            return None
        except QBXMLError as failure:
            report.hresults.append({"hresult": failure.hresult, "message": failure.message,
                                    "applied": failure.applied})
            return self._call("receiveResponseXML", ticket=ticket, response="",
                              hresult=failure.hresult, message=failure.message)
        return self._call("receiveResponseXML", ticket=ticket, response=response,
                          hresult="", message="")

    @staticmethod
    def _request_types(request):
        try:
            root = qbd_xml.parse(request)
        except etree.XMLSyntaxError:
            return []
        messages = root.find("QBXMLMsgsRq")
        return [child.tag for child in (messages if messages is not None else [])
                if isinstance(child.tag, str)]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m provider_sandbox.qbwc",
        description="Run QuickBooks Web Connector sessions of a .qwc against a simulated "
                    "QuickBooks Desktop company file.")
    parser.add_argument("--qwc", required=True, help="the .qwc file (from the application)")
    parser.add_argument("--password", required=True, help="the password typed into QBWC")
    parser.add_argument("--country", choices=("US", "CA", "UK"), default="US",
                        help="country of a new company file (default US)")
    parser.add_argument("--company-file", metavar="STATE.json",
                        help="keep the books in this JSON file (loaded, saved after each "
                             "session); default: a fresh company file per run")
    parser.add_argument("--company-name", default="Sandbox Company")
    parser.add_argument("--sessions", type=int, default=None,
                        help="number of sessions (default 1; with --every, forever)")
    parser.add_argument("--every", type=float, default=None, metavar="SECONDS",
                        help="seconds between sessions (default: the .qwc's Scheduler)")
    parser.add_argument("--noop-wait", type=float, default=5.0,
                        help="seconds to wait after a NoOp (default 5, as QBWC)")
    parser.add_argument("--no-validate", action="store_true",
                        help="do not validate requests against the qbXML schema")
    parser.add_argument("--verbose", action="store_true",
                        help="print every qbXML request and the report's details")
    args = parser.parse_args(argv)
    try:
        qwc = read_qwc(args.qwc)
    except (QWCError, OSError) as error:
        parser.error(str(error))
    if args.company_file and os.path.exists(args.company_file):
        company = CompanyFile.load(args.company_file)
    else:
        # the command line runs on the real time (tests freeze the clock)
        company = CompanyFile(args.country, args.company_name, clock=Clock())
    sessions = args.sessions if args.sessions is not None else (0 if args.every else 1)
    every = args.every if args.every is not None else (qwc.run_every_seconds or 60)
    connector = WebConnector(args.qwc, args.password, company, validate=not args.no_validate,
                             noop_wait=args.noop_wait)
    print("Web Connector %s → %s (%s), company file %s [%s], SOAP via %s"
          % (connector.version, qwc.app_url, qwc.app_name, company.file_path, company.country,
             connector.transport_name))
    count = 0
    try:
        while True:
            count += 1
            report = connector.run_session()
            print("--- session %d" % count)
            print(report.describe())
            if args.verbose:
                for index, request in enumerate(connector.last_requests, 1):
                    print("--- request %d\n%s" % (index, request))
            if args.company_file:
                company.save(args.company_file)
            if sessions and count >= sessions:
                break
            time.sleep(every)
    except KeyboardInterrupt:
        print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reading qbXML responses: parsed safely, matched to requests by ``requestID``, never trusted.

A response is parsed with a parser that resolves no entity, loads no DTD, opens no network
and refuses huge trees (:func:`.qbxml.parser`); anything that is not XML, or XML without
``QBXML/QBXMLMsgsRs``, is a :class:`~..errors.ProviderResponseError` (``unreadable_answer``).
Each ``XxxRs`` becomes a :class:`Status`: its ``statusCode`` (0 OK, 1 nothing found, 500–999
warnings, 1000+ errors), ``statusMessage``, the ``XxxRet`` elements it returned, and its
iterator fields.
"""
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from ..answers import clean, unreadable_answer, utc_time
from ..documents import WriteResult
from .qbxml import LABEL, parser

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.S)


@dataclass
class Status:
    """One ``XxxRs`` of a response."""

    name: str                   # CustomerAddRs, InvoiceQueryRs, TxnVoidRs...
    request_id: str = None
    code: int = None
    severity: str = None
    message: str = ""
    rets: list = field(default_factory=list)   # the XxxRet elements
    iterator_id: str = None
    remaining: int = None
    node: object = None         # the Rs element itself

    @property
    def ok(self):
        """Status OK, or a warning that still returned the record."""
        return self.code == 0 or (self.code is not None and 500 <= self.code < 1000
                                  and bool(self.rets))


def parse_xml(raw, what="its answer"):
    """``raw`` (str or bytes) as an XML element; ProviderResponseError when it is empty or
    not XML."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise unreadable_answer(LABEL, "%s is not UTF-8" % what) from None
    if not isinstance(raw, str) or not raw.strip():
        raise unreadable_answer(LABEL, "%s is empty" % what)
    text = _DECLARATION.sub("", raw.lstrip("\ufeff"), count=1)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser())
    except (etree.XMLSyntaxError, ValueError):
        raise unreadable_answer(LABEL, "%s is not XML" % what) from None
    if root is None:
        raise unreadable_answer(LABEL, "%s is not XML" % what)
    return root


def statuses(raw, what="its answer"):
    """The :class:`Status` es of a qbXML response, in order; ProviderResponseError when it
    is not qbXML."""
    root = parse_xml(raw, what)
    messages = root.find("QBXMLMsgsRs") if root.tag == "QBXML" else None
    if messages is None:
        raise unreadable_answer(LABEL, "%s is not a qbXML response" % what)
    found = []
    for node in messages:
        if not isinstance(node.tag, str) or not node.tag.endswith("Rs"):
            continue
        found.append(Status(
            name=node.tag, request_id=node.get("requestID"), code=_int(node.get("statusCode")),
            severity=node.get("statusSeverity"), message=clean(node.get("statusMessage") or ""),
            rets=[c for c in node if isinstance(c.tag, str) and c.tag.endswith("Ret")],
            iterator_id=node.get("iteratorID") or None,
            remaining=_int(node.get("iteratorRemainingCount")), node=node))
    return found


def by_request_id(raw):
    """{requestID: Status} of a response (the first of a requestID said twice)."""
    found = {}
    for status in statuses(raw):
        if status.request_id is not None:
            found.setdefault(status.request_id, status)
    return found


def _int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# -- values of a Ret --------------------------------------------------------------------------

def text(node, path):
    """The stripped text at ``path`` under ``node`` (None when absent or empty)."""
    if node is None:
        return None
    value = node.findtext(path)
    value = value.strip() if isinstance(value, str) else None
    return value or None


MAX_NUMBER_CHARS = 40
MAX_EXPONENT = 15  # QuickBooks' amounts are at most 15 digits before the point


def decimal(node, path):
    """The number at ``path`` as Decimal (None when absent, not a number, or beyond what
    an amount, a quantity or a rate can be: an exponent like ``1e999999`` would cost
    seconds of CPU in every later conversion)."""
    value = text(node, path)
    if value is None or len(value) > MAX_NUMBER_CHARS:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    if not number.is_finite() or not number.is_zero() and not \
            -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        return None
    return number


def boolean(node, path, default=True):
    value = text(node, path)
    if value is None:
        return default
    return value.lower() == "true"


def remote_id(ret):
    """A Ret's ListID (list records) or TxnID (transactions)."""
    return text(ret, "ListID") or text(ret, "TxnID")


def written(key, ret, **extra):
    """The successful WriteResult of a record whose Ret came back."""
    return WriteResult(key=key, ok=True, remote_id=remote_id(ret),
                       remote_version=text(ret, "EditSequence"),
                       remote_number=text(ret, "RefNumber"),
                       remote_updated_at=utc_time(text(ret, "TimeModified")), **extra)

"""qbXML plumbing for the QuickBooks Desktop stand-in (``qbd.py``) and the Web Connector
client (``qbwc.py``): where the vendor files are, the qbXML 13.0 schema (compiled once per
process), the element order it prescribes, and the conversion between qbXML elements and the
plain dicts the company file keeps its books in.

The vendor files are never copied into the project: they are read from
``$ACCOUNTING_SYNC_SPECS/quickbooks-desktop`` or ``<repo>/../shared/specs/quickbooks-desktop``.
Without them everything still works, except schema validation (``schema()`` is None) and the
schema's element order (records are then written in the order they were built, which is the
schema's order for the fields the company file itself writes).

The dict convention: an element with children is a dict (child name → value), a leaf is its
text (a str), a repeated child is a list. ``element_to_dict`` makes a list of a child that
occurs more than once or whose name is in ``REPEATED`` (transaction lines and the like).
"""
import os
import threading
from pathlib import Path

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
SCHEMA_FILE = "qbxmlops130.xsd"
WSDL_FILE = "QBWebConnectorSvc.wsdl"
# Children that are always lists, even when they occur once (lines, links, applications).
REPEATED = frozenset({
    "InvoiceLineAdd", "InvoiceLineMod", "InvoiceLineRet",
    "CreditMemoLineAdd", "CreditMemoLineMod", "CreditMemoLineRet",
    "ExpenseLineAdd", "ExpenseLineMod", "ExpenseLineRet",
    "ItemLineAdd", "ItemLineMod", "ItemLineRet",
    "JournalDebitLine", "JournalCreditLine", "JournalLineMod",
    "AppliedToTxnAdd", "AppliedToTxnRet", "AppliedToTxnMod", "SetCredit", "LinkedTxn",
    "SupportedQBXMLVersion", "IncludeRetElement", "OwnerID", "TxnDelType", "ListDelType",
})
_LOCK = threading.Lock()
_CACHE = {}


def specs_dir():
    """The folder holding Intuit's qbXML schema and the Web Connector WSDL (it may not exist)."""
    root = os.environ.get("ACCOUNTING_SYNC_SPECS") or \
        Path(__file__).resolve().parents[2] / "shared" / "specs"
    return Path(root) / "quickbooks-desktop"


def wsdl_path():
    """The Web Connector WSDL, or None where the specs folder is absent."""
    path = specs_dir() / WSDL_FILE
    return path if path.is_file() else None


def schema():
    """The compiled qbXML 13.0 schema (``qbxmlops130.xsd``, the whole QBXML document, element
    order included), compiled once per process and per folder; None without the specs."""
    path = specs_dir() / SCHEMA_FILE
    key = ("schema", str(path))
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = etree.XMLSchema(etree.parse(str(path))) if path.is_file() else None
        return _CACHE[key]


def validate(document):
    """Validate a qbXML document (str or bytes) against the schema: None when valid (or when
    the schema is absent), else the first error as lxml words it (line and message)."""
    xsd = schema()
    if xsd is None:
        return None
    try:
        tree = parse(document)
    except etree.XMLSyntaxError as error:
        return "not well-formed: %s" % error
    if xsd.validate(tree):
        return None
    error = xsd.error_log.last_error
    return "line %s: %s" % (error.line, error.message)


def parse(document):
    """Parse a qbXML document (str or bytes; the ``<?xml … encoding=…?>`` declaration is
    allowed) and answer its root element. Raises ``lxml.etree.XMLSyntaxError``."""
    if isinstance(document, str):
        document = document.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.fromstring(document, parser)


def qbxml_version(document):
    """The version of the ``<?qbxml version="…"?>`` processing instruction, or None."""
    node = parse(document) if isinstance(document, (str, bytes)) else document
    previous = node.getprevious()
    while previous is not None:
        if isinstance(previous, etree._ProcessingInstruction) and previous.target == "qbxml":
            return previous.get("version")
        previous = previous.getprevious()
    return None


def child_order():
    """{element name: [child element names in schema order]} from the qbXML schema, groups
    and choices flattened; global elements win over local ones of the same name. Empty
    without the specs."""
    path = specs_dir() / SCHEMA_FILE
    key = ("order", str(path))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    order = _read_order(path) if path.is_file() else {}
    with _LOCK:
        _CACHE[key] = order
    return order


def _read_order(path):
    roots = []
    pending, seen = [path], set()
    while pending:  # the including file and the files it includes
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        root = etree.parse(str(current)).getroot()
        roots.append(root)
        for include in root.iter(XS + "include"):
            pending.append(current.parent / include.get("schemaLocation"))
    groups, types, elements = {}, {}, {}
    for root in roots:
        for node in root:
            if node.tag == XS + "group" and node.get("name"):
                groups[node.get("name")] = node
            elif node.tag == XS + "complexType" and node.get("name"):
                types[node.get("name")] = node
            elif node.tag == XS + "element" and node.get("name"):
                elements[node.get("name")] = node

    def names(node, out):
        for child in node:
            if child.tag in (XS + "sequence", XS + "choice", XS + "complexContent",
                             XS + "extension"):
                names(child, out)
            elif child.tag == XS + "group" and child.get("ref") in groups:
                names(groups[child.get("ref")], out)
            elif child.tag == XS + "element":
                name = child.get("name") or child.get("ref")
                if name not in out:
                    out.append(name)
                if child.get("name") and child.find(XS + "complexType") is not None:
                    local.setdefault(name, child)
        return out

    order, local = {}, {}
    for name, node in elements.items():
        complex_type = node.find(XS + "complexType")
        if complex_type is None and node.get("type") in types:
            complex_type = types[node.get("type")]
        if complex_type is not None:
            order[name] = names(complex_type, [])
    for name, node in types.items():  # XxxRqType / XxxRsType
        order.setdefault(name, names(node, []))
    while local:
        name, node = local.popitem()
        if name not in order:
            order[name] = names(node.find(XS + "complexType"), [])
    return order


def element_to_dict(element):
    """An element's children as a dict (see the module docstring); a leaf gives its text."""
    if len(element) == 0:
        return element.text or ""
    out = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        value = element_to_dict(child)
        if child.tag in out:
            if not isinstance(out[child.tag], list):
                out[child.tag] = [out[child.tag]]
            out[child.tag].append(value)
        elif child.tag in REPEATED:
            out[child.tag] = [value]
        else:
            out[child.tag] = value
    return out


def dict_to_element(name, value, parent=None):
    """Build element ``name`` from a dict/str (under ``parent`` if given), children in the
    schema's order (unknown ones last, in their own order)."""
    element = etree.Element(name) if parent is None else etree.SubElement(parent, name)
    if isinstance(value, dict):
        rank = {child: i for i, child in enumerate(child_order().get(name, ()))}
        keys = sorted(value, key=lambda k: (rank.get(k, len(rank)),))
        for key in keys:
            item = value[key]
            for one in (item if isinstance(item, list) else [item]):
                if one is None:
                    continue
                dict_to_element(key, one, element)
    elif value is not None:
        element.text = str(value)
    return element


def as_list(value):
    """A child that may be absent, single or repeated, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]

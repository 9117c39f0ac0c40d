"""The QuickBooks Web Connector's SOAP 1.1 wire format (document/literal), read and written
with lxml: no SOAP server framework (Intuit's ``QBWebConnectorSvc.wsdl``, namespace
``http://developer.intuit.com/``).

:func:`parse_call` turns a request body into ``(method, arguments)`` — the method is the
Body's first element, each argument one of its children, by the WSDL's names — or raises
:class:`SoapError` for anything that is not one of the WSDL's calls (not XML, entities, not
an Envelope, an unknown method, an argument that is not text). The parser resolves no
entity, loads nothing from the network and refuses huge trees, so a hostile body costs
nothing. :func:`render_result` writes ``<methodResponse><methodResult>`` (a string, an int,
or a list of strings for ``authenticate``'s ArrayOfString); :func:`render_fault` a SOAP 1.1
Fault (for a malformed envelope only: the Web Connector retries a faulting call forever, so
a well-formed call always gets its method's answer, even for an unknown ticket).
"""
from lxml import etree

NS = "http://developer.intuit.com/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
MAX_BODY_BYTES = 32 * 1024 * 1024  # a qbXML response of a large list page is a few MB

# method -> its arguments (WSDL order) and what it returns (str, int or list)
METHODS = {
    "serverVersion": ((), str),
    "clientVersion": (("strVersion",), str),
    "authenticate": (("strUserName", "strPassword"), list),
    "sendRequestXML": (("ticket", "strHCPResponse", "strCompanyFileName", "qbXMLCountry",
                        "qbXMLMajorVers", "qbXMLMinorVers"), str),
    "receiveResponseXML": (("ticket", "response", "hresult", "message"), int),
    "connectionError": (("ticket", "hresult", "message"), str),
    "getLastError": (("ticket",), str),
    "closeConnection": (("ticket",), str),
    "getInteractiveURL": (("wcTicket", "sessionID"), str),
    "interactiveDone": (("wcTicket",), str),
    "interactiveRejected": (("wcTicket", "reason"), str),
}
INT_ARGUMENTS = ("qbXMLMajorVers", "qbXMLMinorVers")

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_comments=True, remove_pis=True, load_dtd=False)


class SoapError(ValueError):
    """A body that is not a Web Connector call; ``str()`` says why in a few words."""


def parse_call(body):
    """``(method, {argument: value})`` of a SOAP request ``body`` (bytes); SoapError when it
    is not a call of the WSDL. Arguments missing are None; the two version numbers of
    sendRequestXML are ints (0 when absent or not a number)."""
    if not isinstance(body, (bytes, bytearray)) or not body.strip():
        raise SoapError("empty body")
    if len(body) > MAX_BODY_BYTES:
        raise SoapError("body too large")
    if b"<!DOCTYPE" in body[:4096].upper() or b"<!ENTITY" in body.upper():
        raise SoapError("document type declarations are not accepted")
    try:
        root = etree.fromstring(bytes(body), _PARSER)
    except (etree.XMLSyntaxError, ValueError) as e:
        raise SoapError("not well-formed XML (%s)" % str(e)[:200]) from None
    docinfo = root.getroottree().docinfo  # a DOCTYPE the byte check missed (UTF-16, UTF-7...)
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise SoapError("document type declarations are not accepted")
    if root.tag not in ("{%s}Envelope" % SOAP_ENV, "{%s}Envelope" % SOAP12_ENV):
        raise SoapError("not a SOAP envelope")
    envelope_ns = etree.QName(root).namespace
    soap_body = root.find("{%s}Body" % envelope_ns)
    calls = [child for child in soap_body if isinstance(child.tag, str)] \
        if soap_body is not None else []
    if len(calls) != 1:
        raise SoapError("the SOAP Body must hold exactly one call")
    call = calls[0]
    qname = etree.QName(call)
    if qname.namespace != NS or qname.localname not in METHODS:
        raise SoapError("unknown method")
    method = qname.localname
    names, _returns = METHODS[method]
    arguments = dict.fromkeys(names)
    for child in call:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name not in arguments:
            continue  # an extra element: ignored, as .NET services do
        if len(child):
            raise SoapError("argument %s is not text" % name)
        arguments[name] = child.text or ""
    for name in INT_ARGUMENTS:
        if name in arguments:
            try:
                arguments[name] = int((arguments[name] or "0").strip())
            except ValueError:
                arguments[name] = 0
    return method, arguments


def render_result(method, value):
    """The SOAP response of ``method`` returning ``value`` (bytes, UTF-8)."""
    _names, returns = METHODS[method]
    envelope = etree.Element("{%s}Envelope" % SOAP_ENV, nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, "{%s}Body" % SOAP_ENV)
    response = etree.SubElement(body, "{%s}%sResponse" % (NS, method), nsmap={None: NS})
    result = etree.SubElement(response, "{%s}%sResult" % (NS, method))
    if returns is list:
        for item in value or ():
            etree.SubElement(result, "{%s}string" % NS).text = _xml_text(item)
    elif returns is int:
        result.text = str(int(value))
    else:
        result.text = _xml_text(value)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def render_fault(message, client=True):
    """A SOAP 1.1 Fault (bytes): ``soap:Client`` for a malformed request."""
    envelope = etree.Element("{%s}Envelope" % SOAP_ENV, nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, "{%s}Body" % SOAP_ENV)
    fault = etree.SubElement(body, "{%s}Fault" % SOAP_ENV)
    etree.SubElement(fault, "faultcode").text = "soap:Client" if client else "soap:Server"
    etree.SubElement(fault, "faultstring").text = _xml_text(message)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _xml_text(value):
    """``value`` as text XML 1.0 can carry (control characters dropped)."""
    text = "" if value is None else str(value)
    return "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20
                   and not 0xD800 <= ord(ch) <= 0xDFFF and ch not in "\ufffe\uffff")

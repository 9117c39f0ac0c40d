"""The Web Connector's SOAP envelope, read and written (providers/quickbooks_desktop/soap.py)."""
import pytest
from lxml import etree

from accounting_sync.providers.quickbooks_desktop.soap import (
    NS, SOAP_ENV, SoapError, parse_call, render_fault, render_result,
)

ENVELOPE = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="%s"><soap:Body>'
            '%%s</soap:Body></soap:Envelope>' % SOAP_ENV)


def call(body):
    return (ENVELOPE % body).encode()


def test_a_call_and_its_arguments_by_the_wsdl_names():
    method, args = parse_call(call(
        '<sendRequestXML xmlns="%s"><ticket>t1</ticket><strHCPResponse>&lt;QBXML/&gt;'
        '</strHCPResponse><strCompanyFileName>C:\\a.QBW</strCompanyFileName>'
        '<qbXMLCountry>US</qbXMLCountry><qbXMLMajorVers>13</qbXMLMajorVers>'
        '<qbXMLMinorVers>x</qbXMLMinorVers><extra>ignored</extra></sendRequestXML>' % NS))
    assert method == "sendRequestXML"
    assert args == {"ticket": "t1", "strHCPResponse": "<QBXML/>",
                    "strCompanyFileName": "C:\\a.QBW", "qbXMLCountry": "US",
                    "qbXMLMajorVers": 13, "qbXMLMinorVers": 0}


def test_missing_arguments_are_none():
    assert parse_call(call('<authenticate xmlns="%s"/>' % NS)) == (
        "authenticate", {"strUserName": None, "strPassword": None})


@pytest.mark.parametrize("body", [
    b"", b"   ", b"<not-xml", b"<a/>", call("<serverVersion/>"),           # no namespace
    call('<nope xmlns="%s"/>' % NS), call(""),                              # unknown, empty
    call('<serverVersion xmlns="%s"/><serverVersion xmlns="%s"/>' % (NS, NS)),  # two calls
    call('<authenticate xmlns="%s"><strUserName><b/></strUserName></authenticate>' % NS),
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
    b'<!DOCTYPE x SYSTEM "http://example.com/x.dtd"><x/>',
])
def test_what_is_not_a_call_is_refused(body):
    with pytest.raises(SoapError):
        parse_call(body)


def test_answers_by_method_shape():
    root = etree.fromstring(render_result("authenticate", ["tk", "none"]))
    result = root.find(".//{%s}authenticateResult" % NS)
    assert [s.text for s in result.findall("{%s}string" % NS)] == ["tk", "none"]
    root = etree.fromstring(render_result("receiveResponseXML", 42))
    assert root.findtext(".//{%s}receiveResponseXMLResult" % NS) == "42"
    root = etree.fromstring(render_result("getLastError", "bad \x00\x07 text"))
    assert root.findtext(".//{%s}getLastErrorResult" % NS) == "bad  text"
    fault = etree.fromstring(render_fault("no call"))
    assert fault.findtext(".//faultstring") == "no call"
    assert fault.findtext(".//faultcode") == "soap:Client"

"""A local stand-in for QuickBooks Online and Xero: their OAuth, identity and API wire
formats on one HTTP server (standard library only); and for QuickBooks Desktop: a company
file answering qbXML and a Web Connector client driving the app's SOAP endpoint. See
README.md."""
from .qbd import CompanyFile, QBConnectionError, QBXMLError
from .sandbox import Sandbox

_QBWC_NAMES = ("WebConnector", "SessionReport", "read_qwc")


def __getattr__(name):
    # imported on first use, so that ``python -m provider_sandbox.qbwc`` runs the module once
    if name in _QBWC_NAMES:
        from . import qbwc
        return getattr(qbwc, name)
    raise AttributeError(name)

__all__ = ["Sandbox", "CompanyFile", "QBXMLError", "QBConnectionError", "WebConnector",
           "SessionReport", "read_qwc"]

"""The first link: what the Web Connector says about QuickBooks and the company file.

The first ``sendRequestXML`` of a session carries ``strHCPResponse``: the answers to a
HostQuery, a CompanyQuery and a PreferencesQuery (:func:`parse_host` reads them into a
:class:`HostInfo`), and :func:`qbxml_version_for` picks the qbXML version to speak: the lower
of ours and the highest the file supports.
"""
import re
from dataclasses import dataclass, field

from ..errors import ProviderResponseError
from .reading import boolean, statuses, text

OUR_VERSION = "13.0"
_VERSION = re.compile(r"^\s*(?:[A-Z]{2})?(\d{1,9})(?:\.(\d{1,9}))?\s*$")
# HomeCurrencyRef FullName (QuickBooks' currency list) -> ISO 4217, for the usual homes.
CURRENCY_CODES = {"us dollar": "USD", "canadian dollar": "CAD", "british pound sterling": "GBP",
                  "pound sterling": "GBP", "euro": "EUR", "australian dollar": "AUD"}


@dataclass
class HostInfo:
    """QuickBooks and its company file: ``country`` (US, CA, UK: which tax and address rules
    apply), ``supported_versions`` (``SupportedQBXMLVersion``, as said: "13.0", "CA3.0"),
    ``file_mode`` (SingleUser / MultiUser), ``home_currency`` (ISO 4217 where known, else
    QuickBooks' name; only when multicurrency is on)."""

    company_name: str = None
    country: str = None
    supported_versions: list = field(default_factory=list)
    product_name: str = None
    major_version: str = None
    minor_version: str = None
    file_mode: str = None
    company_file: str = None
    home_currency: str = None
    multicurrency: bool = False


def parse_host(hcp_response, company_file=None):
    """The :class:`HostInfo` of a ``strHCPResponse`` (None when it is missing or empty: the
    Web Connector sends it on a session's first call only); ProviderResponseError when it is
    not qbXML."""
    if not isinstance(hcp_response, (str, bytes)) or not hcp_response.strip():
        return None
    found = {s.name: s for s in statuses(hcp_response, "the host response")}
    host = _ret(found, "HostQueryRs")
    company = _ret(found, "CompanyQueryRs")
    preferences = _ret(found, "PreferencesQueryRs")
    if host is None and company is None:
        raise ProviderResponseError(params={"provider": "QuickBooks Desktop",
                                            "problem": "the host response has no HostRet"})
    country = (text(host, "Country") or "").upper() or None
    multicurrency = boolean(preferences, "MultiCurrencyPreferences/IsMultiCurrencyOn", False)
    currency = text(preferences, "MultiCurrencyPreferences/HomeCurrencyRef/FullName")
    return HostInfo(
        company_name=text(company, "CompanyName"),
        country=country,
        supported_versions=[v.text.strip() for v in (host.findall("SupportedQBXMLVersion")
                                                     if host is not None else ())
                            if v.text and v.text.strip()],
        product_name=text(host, "ProductName"), major_version=text(host, "MajorVersion"),
        minor_version=text(host, "MinorVersion"), file_mode=text(host, "QBFileMode"),
        company_file=company_file, multicurrency=multicurrency,
        home_currency=(CURRENCY_CODES.get(currency.casefold(), currency)
                       if multicurrency and currency else None))


def _ret(found, name):
    status = found.get(name)
    return status.rets[0] if status is not None and status.rets else None


def version_tuple(value):
    """``"13.0"`` → (13, 0); ``"CA3.0"`` / ``"UK3.0"`` (pre-2008 non-US editions) → (3, 0);
    None for anything else."""
    found = _VERSION.match(str(value or ""))
    if not found:
        return None
    return int(found.group(1)), int(found.group(2) or 0)


def qbxml_version_for(supported_versions, our_max=OUR_VERSION):
    """The qbXML version to speak: the lower of ``our_max`` and the highest of
    ``supported_versions`` ("13.0"-style). A country-prefixed version (``CA3.0``) counts as
    its number (3.0) and is answered "3.0"; none readable → ``our_max``."""
    ours = version_tuple(our_max)
    theirs = [v for v in (version_tuple(s) for s in supported_versions or ()) if v]
    if not theirs:
        return "%d.%d" % ours
    return "%d.%d" % min(ours, max(theirs))

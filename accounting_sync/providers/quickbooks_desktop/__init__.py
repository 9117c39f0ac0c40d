"""QuickBooks Desktop through the QuickBooks Web Connector: qbXML built and read here, queued
by the Odoo side (plain Python, never imports odoo).

Layout::

    adapter.py   QuickBooksDesktopAdapter: plan, plan_removals, interpret
    qbxml.py     the qbXML requests: records → elements, lengths, numbers, country rules
    pending.py   Pending, Removal; dump_request / load_request (a request between two calls)
    reading.py   parsing responses safely; statuses by requestID; values of a Ret
    outcomes.py  what each status means for a record, and the follow-ups
    lists.py     list_request / parse_list: accounts, taxes, items, terms, customers, vendors
    pull.py      pull_request / parse_pull: what changed (transactions, deletions) as Changes
    host.py      parse_host (strHCPResponse) and qbxml_version_for
    qwc.py       the .qwc file
"""
from .adapter import QuickBooksDesktopAdapter
from .host import HostInfo, parse_host, qbxml_version_for
from .lists import (
    ACCOUNT, CUSTOMER, ITEM, ITEM_SALES_TAX, LIST_TYPES, SALES_TAX_CODE, TERMS, VENDOR,
    ListPage, RemoteParty, Terms, list_request, parse_list,
)
from .pending import Pending, Removal, dump_request, load_request
from .pull import PULL_TYPES, PullPage, latest_cursor, parse_pull, pull_request
from .qbxml import ref_number
from .qwc import qwc

__all__ = [
    "ACCOUNT", "CUSTOMER", "HostInfo", "ITEM", "ITEM_SALES_TAX", "LIST_TYPES", "ListPage",
    "PULL_TYPES", "Pending", "PullPage", "QuickBooksDesktopAdapter", "RemoteParty", "Removal",
    "SALES_TAX_CODE", "TERMS", "Terms", "VENDOR", "dump_request", "latest_cursor",
    "list_request", "load_request", "parse_host", "parse_list", "parse_pull", "pull_request",
    "qbxml_version_for", "qwc", "ref_number",
]

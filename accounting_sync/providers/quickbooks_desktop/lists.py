"""Reading the company file's lists: accounts, sales tax codes, item sales taxes, items, terms,
customers and vendors, page by page.

:func:`list_request` builds the qbXML document of one page; :func:`parse_list` reads its
response into a :class:`ListPage`. Item, ItemSalesTax, Customer and Vendor queries take an
iterator in qbXML 13.0 (``iterator="Start"``, then ``"Continue"`` with the ``iteratorID``
QuickBooks returned, the same criteria each time, ``MaxReturned`` records a page, clamped to
100–500); Account, SalesTaxCode and StandardTerms queries do not, and return the whole list at
once. Every query asks for ``ActiveStatus All`` (inactive records too: a mapping must see
them), and ``FromModifiedDate`` when given (an incremental read). An iterator lives only
within one Web Connector session: a stale one is answered 3391, which the page reports in
``status_code``.
"""
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from ..documents import RemoteAccount, RemoteItem, RemoteTax
from .qbxml import add, envelope
from .reading import boolean, decimal, statuses, text

ACCOUNT, SALES_TAX_CODE, ITEM_SALES_TAX, ITEM = "ACCOUNT", "SALES_TAX_CODE", "ITEM_SALES_TAX", "ITEM"
TERMS, CUSTOMER, VENDOR = "TERMS", "CUSTOMER", "VENDOR"
# list type -> (query object, takes an iterator)
QUERIES = {ACCOUNT: ("Account", False), SALES_TAX_CODE: ("SalesTaxCode", False),
           ITEM_SALES_TAX: ("ItemSalesTax", True), ITEM: ("Item", True),
           TERMS: ("StandardTerms", False), CUSTOMER: ("Customer", True),
           VENDOR: ("Vendor", True)}
LIST_TYPES = tuple(QUERIES)
MIN_RETURNED, MAX_RETURNED = 100, 500
# AccountType -> documents.ACCOUNT_GROUPS
ACCOUNT_GROUP = {
    "Bank": "bank", "AccountsReceivable": "receivable", "AccountsPayable": "payable",
    "Income": "income", "OtherIncome": "other_income", "Expense": "expense",
    "OtherExpense": "expense", "CostOfGoodsSold": "cost_of_sales",
    "OtherCurrentAsset": "current_asset", "FixedAsset": "fixed_asset",
    "OtherCurrentLiability": "current_liability", "CreditCard": "current_liability",
    "LongTermLiability": "long_term_liability", "Equity": "equity",
}
BANK_TYPES = ("Bank", "CreditCard")   # may receive or pay money
ITEM_TYPE = {"ItemServiceRet": "Service", "ItemNonInventoryRet": "NonInventory",
             "ItemInventoryRet": "Inventory", "ItemInventoryAssemblyRet": "InventoryAssembly",
             "ItemOtherChargeRet": "OtherCharge", "ItemFixedAssetRet": "FixedAsset",
             "ItemSubtotalRet": "Subtotal", "ItemDiscountRet": "Discount",
             "ItemPaymentRet": "Payment", "ItemSalesTaxRet": "SalesTax",
             "ItemSalesTaxGroupRet": "SalesTaxGroup", "ItemGroupRet": "Group"}


@dataclass
class ListPage:
    """One page of a list: its ``records``, the ``iterator_id`` to continue with and how many
    records ``remaining`` (None without an iterator), the query's ``status_code`` and
    ``status_message`` (1, nothing found, is an empty page)."""

    records: list = field(default_factory=list)
    iterator_id: str = None
    remaining: int = None
    status_code: int = None
    status_message: str = ""

    @property
    def more(self):
        """Whether another page follows (``iterator="Continue"``)."""
        return bool(self.iterator_id) and bool(self.remaining)


@dataclass
class RemoteParty:
    """A customer or vendor of the company file."""

    id: str
    name: str
    kind: str                 # "customer" or "vendor"
    active: bool = True
    email: str = None
    edit_sequence: str = None


@dataclass
class Terms:
    """Standard payment terms (StandardTermsRet)."""

    id: str
    name: str
    active: bool = True
    due_days: int = None
    discount_days: int = None
    discount_percent: object = None


def list_request(list_type, iterator_id=None, max_returned=250, from_modified=None,
                 request_id="1", version="13.0"):
    """The qbXML document that reads one page of ``list_type`` (one of :data:`LIST_TYPES`):
    the first page, or with ``iterator_id`` the next one. ``from_modified``: a datetime (or
    its qbXML text) from which modified records are read."""
    obj, iterates = QUERIES[list_type]
    request = etree.Element(obj + "QueryRq")
    if iterates:
        request.set("iterator", "Continue" if iterator_id else "Start")
        if iterator_id:
            request.set("iteratorID", iterator_id)
        add(request, "MaxReturned", str(max(MIN_RETURNED, min(MAX_RETURNED,
                                                              int(max_returned or 0)))))
    add(request, "ActiveStatus", "All")
    if from_modified:
        add(request, "FromModifiedDate", from_modified.strftime("%Y-%m-%dT%H:%M:%S")
            if isinstance(from_modified, datetime) else str(from_modified))
    return envelope([(request_id, request)], version)


def parse_list(list_type, response):
    """The :class:`ListPage` of ``list_type`` a response holds; ProviderResponseError when it
    is not qbXML."""
    found = [s for s in statuses(response) if s.name == QUERIES[list_type][0] + "QueryRs"]
    if not found:
        return ListPage(status_code=None, status_message="no %sQueryRs in the response"
                        % QUERIES[list_type][0])
    status = found[0]
    reader = READERS[list_type]
    records = [reader(ret) for ret in status.rets] if status.ok else []
    return ListPage(records=[r for r in records if r is not None],
                    iterator_id=status.iterator_id, remaining=status.remaining,
                    status_code=status.code, status_message=status.message)


def account(ret):
    kind = text(ret, "AccountType")
    return RemoteAccount(id=text(ret, "ListID"), name=text(ret, "FullName") or text(ret, "Name"),
                         code=text(ret, "AccountNumber"), type=kind,
                         active=boolean(ret, "IsActive"), is_bank=kind in BANK_TYPES,
                         group=ACCOUNT_GROUP.get(kind, "other"),
                         currency=text(ret, "CurrencyRef/FullName"),
                         subtype=text(ret, "SpecialAccountType"))


def sales_tax_code(ret):
    taxable = boolean(ret, "IsTaxable", default=True)
    return RemoteTax(id=text(ret, "ListID"), name=text(ret, "Name"),
                     active=boolean(ret, "IsActive"), applies_to="both", exempt=not taxable)


def item_sales_tax(ret):
    rate = decimal(ret, "TaxRate")
    return RemoteTax(id=text(ret, "ListID"), name=text(ret, "Name"), rate=rate,
                     active=boolean(ret, "IsActive"), applies_to="sales",
                     exempt=rate is not None and rate == 0)


def item(ret):
    detail = ret.find("SalesAndPurchase")
    if detail is not None:
        price, income = decimal(detail, "SalesPrice"), text(detail, "IncomeAccountRef/ListID")
        expense = text(detail, "ExpenseAccountRef/ListID")
    else:
        detail = ret.find("SalesOrPurchase")
        price = decimal(detail, "Price") if detail is not None else decimal(ret, "SalesPrice")
        income = (text(detail, "AccountRef/ListID") if detail is not None
                  else text(ret, "IncomeAccountRef/ListID"))
        expense = None if detail is not None else (text(ret, "COGSAccountRef/ListID")
                                                   or text(ret, "ExpenseAccountRef/ListID"))
    return RemoteItem(id=text(ret, "ListID"), name=text(ret, "FullName") or text(ret, "Name"),
                      code=text(ret, "ManufacturerPartNumber") or text(ret, "BarCodeValue"),
                      type=ITEM_TYPE.get(ret.tag, ret.tag), active=boolean(ret, "IsActive"),
                      sale_price=price, income_account=income, expense_account=expense)


def terms(ret):
    def days(path):
        value = decimal(ret, path)
        return int(value) if value is not None else None
    return Terms(id=text(ret, "ListID"), name=text(ret, "Name"), active=boolean(ret, "IsActive"),
                 due_days=days("StdDueDays"), discount_days=days("StdDiscountDays"),
                 discount_percent=decimal(ret, "DiscountPct"))


def party(kind):
    def read(ret):
        return RemoteParty(id=text(ret, "ListID"),
                           name=text(ret, "FullName") or text(ret, "Name"), kind=kind,
                           active=boolean(ret, "IsActive"), email=text(ret, "Email"),
                           edit_sequence=text(ret, "EditSequence"))
    return read


READERS = {ACCOUNT: account, SALES_TAX_CODE: sales_tax_code, ITEM_SALES_TAX: item_sales_tax,
           ITEM: item, TERMS: terms, CUSTOMER: party("customer"), VENDOR: party("vendor")}

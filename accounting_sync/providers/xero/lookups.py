"""Xero reads: the chart, the queries of the look-ups made before creating (the rules and
decisions are :mod:`..matching`'s), and Xero's refusals as message codes and parameters
(:mod:`..messages`).

Look-ups use Xero's ``where`` filter (``Name=="Acme" OR EmailAddress=="ap@acme.test"``), at
most 50 values a request; ``"`` in values is escaped with a backslash. Payments are found by
the documents they pay (``Status=="AUTHORISED" AND (Invoice.InvoiceID==Guid("…") OR
CreditNote.CreditNoteID==Guid("…") …)``, fields Xero optimises for payments), page by page
(100 a page). Xero dates (``/Date(1573755038314+0000)/``) become ISO strings for
``remote_version``.

The chart (:meth:`Lookups.chart`) is four calls: Accounts, TaxRates, Items, Organisation.
Each account's provider-neutral ``group`` (:data:`.documents.ACCOUNT_GROUPS`) comes from its
SystemAccount (DEBTORS → receivable, CREDITORS → payable), else its Type, else its Class:

===================================================================  ===================
Type                                                                 group
===================================================================  ===================
BANK                                                                 bank
CURRENT, INVENTORY, PREPAYMENT                                       current_asset
FIXED, NONCURRENT                                                    fixed_asset
CURRLIAB, LIABILITY, PAYG, PAYGLIABILITY, SUPERANNUATIONLIABILITY    current_liability
TERMLIAB                                                             long_term_liability
EQUITY                                                               equity
REVENUE, SALES                                                       income
OTHERINCOME                                                          other_income
DIRECTCOSTS                                                          cost_of_sales
EXPENSE, OVERHEADS, DEPRECIATN, WAGESEXPENSE, SUPERANNUATIONEXPENSE  expense
===================================================================  ===================

(Class, for another Type: ASSET → current_asset, LIABILITY → current_liability, EQUITY →
equity, REVENUE → income, EXPENSE → expense; else other.) A tax rate's ``rate`` is its
EffectiveRate (DisplayTaxRate without one); ``applies_to`` comes from CanApplyToRevenue and
CanApplyToExpenses (both or neither: ``both``), or, where Xero sends neither, from its
ReportTaxType (…OUTPUT…/…SALES… → sales, …INPUT…/…EXPENSES…/…PURCHASES…/…IMPORT… →
purchases); it is ``exempt`` at 0 %. Items are Inventory (IsTrackedAsInventory) or
NonInventory; the country is the Organisation's CountryCode, the currency its BaseCurrency.
"""
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal

from ..answers import WrongShape, clean, distinct, flag, join, number, obj, objects, pick, text
from ..errors import ProviderError
from ..documents import Chart, RemoteAccount, RemoteItem, RemoteTax
from ..matching import Candidate, Lookups as BaseLookups, match_payments
from ..messages import render
from ..sync_rules import cents, chunks
from .payloads import (
    DOCUMENT_TYPES, LABEL, NOUN, SALES_TYPES, contact_name, item_code, item_name,
    journal_total, narration,
)

WHERE_SIZE = 50
PAGE_SIZE = 100  # what Xero answers a page with when no pageSize is given
# What Xero says when a payment would pay a document more than it still owes (paid already):
# "Payment amount exceeds the amount outstanding on this document".
OVERPAID = "exceeds the amount outstanding"
GONE = ("DELETED", "VOIDED")
MS_DATE = re.compile(r"/Date\((-?[0-9]{1,15})")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NUMBER_CLASH = "duplicate_number"  # the provider_code of a number clash a look-up finds
REFUSED = "validation"             # the provider_code of Xero's refusals (ValidationException)
# SystemAccount, then Type, then Class → RemoteAccount.group (the table in the docstring).
SYSTEM_GROUPS = {"DEBTORS": "receivable", "CREDITORS": "payable"}
TYPE_GROUPS = {
    "BANK": "bank", "CURRENT": "current_asset", "INVENTORY": "current_asset",
    "PREPAYMENT": "current_asset", "FIXED": "fixed_asset", "NONCURRENT": "fixed_asset",
    "CURRLIAB": "current_liability", "LIABILITY": "current_liability",
    "PAYG": "current_liability", "PAYGLIABILITY": "current_liability",
    "SUPERANNUATIONLIABILITY": "current_liability", "TERMLIAB": "long_term_liability",
    "EQUITY": "equity", "REVENUE": "income", "SALES": "income",
    "OTHERINCOME": "other_income", "DIRECTCOSTS": "cost_of_sales", "EXPENSE": "expense",
    "OVERHEADS": "expense", "DEPRECIATN": "expense", "WAGESEXPENSE": "expense",
    "SUPERANNUATIONEXPENSE": "expense",
}
CLASS_GROUPS = {"ASSET": "current_asset", "LIABILITY": "current_liability",
                "EQUITY": "equity", "REVENUE": "income", "EXPENSE": "expense"}
# What to do about Xero's common refusals: (words all in one of its messages, message code).
HINTS = (
    (("invoice # must be unique",), "refused_number_in_use"),
    (("credit note # must be unique",), "refused_number_in_use"),
    (("contact name must be unique",), "refused_name_in_use"),
    (("is not a valid code for this document",), "refused_account"),
    (("cannot be used for this type of transaction",), "refused_tax"),
    (("item code", "already exists"), "refused_item_code"),
    (("is archived",), "refused_archived"),
    ((OVERPAID,), "refused_overpaid"),
)


def account_group(row):
    """The provider-neutral group of a Xero account (module docstring)."""
    return (SYSTEM_GROUPS.get(text(row.get("SystemAccount"), "a SystemAccount"))
            or TYPE_GROUPS.get(text(row.get("Type"), "an account's Type"))
            or CLASS_GROUPS.get(text(row.get("Class"), "an account's Class"), "other"))


def applies_to(row):
    """``sales``, ``purchases`` or ``both`` for a tax rate (module docstring)."""
    revenue = flag(row.get("CanApplyToRevenue"), None, "a CanApplyToRevenue")
    expenses = flag(row.get("CanApplyToExpenses"), None, "a CanApplyToExpenses")
    if revenue is None and expenses is None:
        report = (text(row.get("ReportTaxType"), "a ReportTaxType") or "").upper()
        revenue = "OUTPUT" in report or "SALES" in report
        expenses = any(w in report for w in ("INPUT", "EXPENSES", "PURCHASES", "IMPORT"))
    if bool(revenue) == bool(expenses):
        return "both"
    return "sales" if revenue else "purchases"


class Refused(Exception):
    """Xero answered 400 or 404 about what was sent (``error``, the typed ProviderError):
    ``data`` is its JSON answer (an object, else {}), ``elements`` the answered elements it
    holds; the message is Xero's own words, picked and cleaned (the refusal's plain message
    when it has none). One that is not about a record leaves the writer as :meth:`typed`."""

    def __init__(self, error):
        self.error, self.status = error, error.status
        self.data = error.answer if isinstance(error.answer, dict) else {}
        elements = self.data.get("Elements")
        self.elements = elements if isinstance(elements, list) else []
        messages = (pick(self.data, ("Elements", [], "ValidationErrors", [], "Message"))
                    or pick(self.data, ("Message",), ("Detail",)))
        super().__init__(join(messages) or error.message)

    def typed(self):
        error = self.error
        return ProviderError(error.message, code=error.code, params=error.params,
                             provider_code=error.provider_code, status=error.status,
                             request_id=error.request_id)


@contextmanager
def typed_refusals():
    """A refusal no record handled (a look-up's, say) leaves as the typed error it is."""
    try:
        yield
    except Refused as refused:
        raise refused.typed() from refused


def xero_time(value):
    """``/Date(1573755038314+0000)/`` (or an ISO string) → ISO 8601 UTC string."""
    value = text(value, "a date")
    match = MS_DATE.match(value or "")
    if not match:
        return value
    stamp = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc)
    return stamp.isoformat().replace("+00:00", "Z")


def xero_id(value, what="an id"):
    """A Xero id (a UUID) from an answer: it goes into URLs later."""
    value = text(value, what, required=True)
    if not UUID.fullmatch(value):
        raise WrongShape("%s is not a UUID" % what)
    return value


def first_object(value, what):
    """The first element of a list of objects (an empty object for an empty list)."""
    found = objects(value, "its " + what)
    return found[0] if found else {}


def where_any(field_values):
    """``A=="x" OR B=="y"`` for ``[(field, value), ...]``."""
    return " OR ".join('%s=="%s"' % (field, str(value).replace("\\", "\\\\").replace('"', '\\"'))
                       for field, value in field_values)


def errors_of(element):
    """The validation messages of one answered element, cleaned (empty when it was
    written)."""
    element = obj(element, "an answered element")
    messages = [clean(e.get("Message"))
                for e in objects(element.get("ValidationErrors"), "its ValidationErrors")]
    messages = [m for m in messages if m]
    if not messages and (element.get("HasErrors") or element.get("HasValidationErrors")
                         or element.get("StatusAttributeString") == "ERROR"):
        messages = ["Xero refused it without saying why"]
    return messages


def refusal(noun, label, messages):
    """Xero's refusal of one record as ``(message code, params)``: its messages once each
    (:func:`..answers.distinct`), and what to do about the common ones (:data:`HINTS`: the
    first that applies)."""
    messages = distinct(messages) or ["no reason given"]
    params = {"provider": LABEL, "noun": noun, "record": label,
              "text": "; ".join(m.rstrip(".") for m in messages)}
    for words, code in HINTS:
        if any(all(w in m.lower() for w in words) for m in messages):
            return code, params
    return "refused", params


def refused_message(noun, label, messages):
    """:func:`refusal` as its English sentence."""
    return render(*refusal(noun, label, messages))


class Lookups(BaseLookups):
    """The reads a :class:`~.writer.XeroWriter` makes: the chart, and the queries of the
    look-ups (:class:`..matching.Lookups` decides)."""

    label = LABEL
    NOUN = NOUN
    NUMBER_CLASH = NUMBER_CLASH

    def __init__(self, writer):
        super().__init__(writer)
        self.api = writer.api

    def _where(self, method, collection, pairs):
        rows = []
        for part in chunks(pairs, WHERE_SIZE):
            rows += objects(self.writer.call(method, where=where_any(part)).get(collection),
                            "its " + collection)
        return rows

    # -- chart -----------------------------------------------------------------------------------

    def chart(self):
        """Accounts (id = Code, or AccountID for an account without a code), tax rates
        (id = TaxType), items (id = ItemID), base currency and country (module docstring)."""
        with typed_refusals():
            return self._chart()

    def _chart(self):
        accounts = [RemoteAccount(
            id=text(row.get("Code"), "an account's Code")
            or xero_id(row.get("AccountID"), "an AccountID"),
            name=text(row.get("Name"), "an account's Name"),
            code=text(row.get("Code"), "an account's Code"),
            type=text(row.get("Type"), "an account's Type"),
            active=(text(row.get("Status")) or "ACTIVE") == "ACTIVE",
            is_bank=row.get("Type") == "BANK" or flag(row.get("EnablePaymentsToAccount"), False,
                                                     "an EnablePaymentsToAccount"),
            group=account_group(row),
            currency=text(row.get("CurrencyCode"), "an account's CurrencyCode"),
            subtype=text(row.get("SystemAccount"), "a SystemAccount"))
            for row in objects(self.writer.call(self.api.get_accounts).get("Accounts"),
                               "its Accounts")]
        taxes = []
        for row in objects(self.writer.call(self.api.get_tax_rates).get("TaxRates"),
                           "its TaxRates"):
            rate = number(row.get("EffectiveRate", row.get("DisplayTaxRate")), "a tax rate",
                          Decimal(0))
            taxes.append(RemoteTax(
                id=text(row.get("TaxType"), "a TaxType", required=True),
                name=text(row.get("Name"), "a tax rate's Name"), rate=rate,
                active=(text(row.get("Status")) or "ACTIVE") == "ACTIVE",
                applies_to=applies_to(row), exempt=rate == 0))
        items = [_item(row) for row in objects(
            self.writer.call(self.api.get_items).get("Items"), "its Items")]
        organisation = first_object(self.writer.call(self.api.get_organisations)
                                    .get("Organisations"), "Organisations")
        return Chart(accounts=accounts, taxes=taxes, items=items,
                     country=text(organisation.get("CountryCode"), "its CountryCode"),
                     currency=text(organisation.get("BaseCurrency"), "its BaseCurrency"))

    # -- the look-ups' queries (matching.Lookups decides) ----------------------------------------

    def party_name(self, record):
        """In Xero one contact is both customer and supplier, so a vendor may link to a
        customer's contact; by its Name as sent."""
        return contact_name(record)

    def party_candidates(self, kind, records, names):
        pairs = [("Name", n) for n in names.values()] + [("EmailAddress", r.email)
                                                         for r in records if r.email]
        rows = self._where(self.api.get_contacts, "Contacts", pairs)
        return [Candidate(id=xero_id(row.get("ContactID"), "a ContactID"),
                          name=text(row.get("Name")), email=text(row.get("EmailAddress")),
                          version=xero_time(row.get("UpdatedDateUTC")))
                for row in _by_id(rows, "ContactID")
                if row.get("ContactStatus", "ACTIVE") == "ACTIVE"]

    def item_keys(self, record):
        """By Code (the Odoo code, or the slug Xero knows the item by), then by Name, both
        as sent (the rule "Names the providers refuse"); the codes compared on a name match
        only when the Odoo product has a code of its own."""
        code = item_code(record)
        return code, item_name(record), code if record.code else None

    def item_candidates(self, codes, names):
        rows = self._where(self.api.get_items, "Items",
                           [("Code", c) for c in codes] + [("Name", n) for n in names])
        return [Candidate(id=xero_id(row.get("ItemID"), "an ItemID"),
                          name=text(row.get("Name")), code=text(row.get("Code")),
                          version=xero_time(row.get("UpdatedDateUTC")))
                for row in _by_id(rows, "ItemID")]

    def document_key(self, kind, record):
        """Invoices and bills by InvoiceNumber, credit notes by CreditNoteNumber, manual
        journals by Narration."""
        return narration(record) if kind == "journal_entry" else record.number

    def document_total(self, kind, record):
        return journal_total(record) if kind == "journal_entry" else record.amount_total

    def unique_number(self, kind):
        """Xero keeps the numbers of sales documents unique (and we a journal's narration)."""
        return kind == "journal_entry" or DOCUMENT_TYPES[kind][1] in SALES_TYPES

    def document_candidates(self, kind, records):
        """Deleted and voided ones do not count."""
        if kind == "journal_entry":
            return self._journals(records), set()
        collection, xero_type, number_field, id_field = DOCUMENT_TYPES[kind]
        method = (self.api.get_invoices if collection == "Invoices"
                  else self.api.get_credit_notes)
        existing = {}
        for row in self._where(method, collection, [(number_field, r.number) for r in records]):
            if row.get("Type") != xero_type or row.get("Status") in GONE:
                continue
            doc_number = text(row.get(number_field), "a " + number_field)
            existing.setdefault(doc_number, []).append(Candidate(
                id=xero_id(row.get(id_field), "an " + id_field), number=doc_number,
                total=number(row.get("Total"), "a Total"),
                party=text(obj(row.get("Contact") or {}, "a Contact").get("ContactID")),
                version=xero_time(row.get("UpdatedDateUTC"))))
        return existing, set()

    def _journals(self, records):
        existing = {}
        rows = self._where(self.api.get_manual_journals, "ManualJournals",
                           [("Narration", narration(r)) for r in records])
        for row in rows:
            if row.get("Status") in GONE:
                continue
            amounts = [number(l.get("LineAmount"), "a LineAmount", Decimal(0))
                       for l in objects(row.get("JournalLines"), "its JournalLines")]
            total = sum((a for a in amounts if a > 0), Decimal(0))
            journal_text = text(row.get("Narration"), "a Narration")
            existing.setdefault(journal_text, []).append(Candidate(
                id=xero_id(row.get("ManualJournalID"), "a ManualJournalID"), name=journal_text,
                total=total, version=xero_time(row.get("UpdatedDateUTC"))))
        return existing

    def payments(self, kind, records, taken=()):
        """Per record, per allocation, the Xero payment that is it (the payment rule of
        :mod:`..matching`, applied allocation by allocation: Xero keeps one payment per
        document paid) or None: a list per record, not a Decision (the writer links a whole
        set, or completes a part of it). Found by the documents they pay, page by page;
        ``taken``: payment ids that records of this call already hold; a payment is given
        to one allocation at most."""
        documents = sorted({_document(a) for r in records for a in r.allocations} - {None})
        rows = []
        for part in chunks(documents, WHERE_SIZE):
            where = 'Status=="AUTHORISED" AND (%s)' % " OR ".join(
                '%s==Guid("%s")' % pair for pair in part)
            page = 1
            while True:
                found = objects(self.writer.call(self.api.get_payments, where=where,
                                                 page=page).get("Payments"), "its Payments")
                rows += found
                if len(found) < PAGE_SIZE:
                    break
                page += 1
        candidates = [_payment(row) for row in _by_id(rows, "PaymentID")
                      if row.get("Status") not in GONE]
        wanted = []
        for record in records:
            parts = []
            for allocation in record.allocations:
                document = _document(allocation)
                parts.append(document and (
                    record.number, str(record.party.id).lower(), record.date.isoformat(),
                    allocation.amount, [(document[1], allocation.amount)]))
            wanted.append(parts)
        return match_payments(wanted, candidates, taken)


def _item(row):
    """An Items row as a RemoteItem."""
    sales = obj(row.get("SalesDetails") or {}, "its SalesDetails")
    purchases = obj(row.get("PurchaseDetails") or {}, "its PurchaseDetails")
    tracked = flag(row.get("IsTrackedAsInventory"), False, "an IsTrackedAsInventory")
    return RemoteItem(
        id=xero_id(row.get("ItemID"), "an ItemID"),
        name=text(row.get("Name"), "an item's Name") or text(row.get("Code"), "a Code"),
        code=text(row.get("Code"), "an item's Code"),
        type="Inventory" if tracked else "NonInventory",
        sale_price=number(sales.get("UnitPrice"), "an item's UnitPrice"),
        income_account=text(sales.get("AccountCode"), "an item's AccountCode"),
        expense_account=text(purchases.get("COGSAccountCode") if tracked else None,
                             "an item's COGSAccountCode")
        or text(purchases.get("AccountCode"), "an item's AccountCode"))


def _document(allocation):
    """(where field, lower-case id) of the document an allocation pays, None when its id is
    no Xero id (no payment of it can exist)."""
    field_name = ("CreditNote.CreditNoteID" if allocation.document_kind in (
        "credit_note", "vendor_credit") else "Invoice.InvoiceID")
    document_id = str(allocation.document.id)
    return (field_name, document_id.lower()) if UUID.fullmatch(document_id) else None


def _payment(row):
    """A Xero payment as the payment rule sees it: one document, its amount."""
    paid = obj(row.get("Invoice") or row.get("CreditNote") or {}, "the document it pays")
    document = text(paid.get("InvoiceID") or paid.get("CreditNoteID"), "its document's id")
    contact = text(obj(paid.get("Contact") or {}, "a Contact").get("ContactID"), "a ContactID")
    amount = number(row.get("Amount"), "an Amount")
    return Candidate(id=xero_id(row.get("PaymentID"), "a PaymentID"),
                     party=contact.lower() if contact else None,
                     date=(xero_time(row.get("Date")) or "")[:10], total=amount,
                     number=text(row.get("Reference"), "a Reference"),
                     allocations=(((document or "").lower(), cents(amount)),),
                     version=xero_time(row.get("UpdatedDateUTC")))


def _by_id(rows, id_field):
    """Rows once each (two look-ups may find the same record)."""
    return {xero_id(row.get(id_field), "a " + id_field): row for row in rows}.values()

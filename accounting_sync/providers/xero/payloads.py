"""Xero payloads: pure functions from :mod:`..documents` records to Xero Accounting API JSON.

The keys are those of xero_accounting.yaml's components/schemas (tests/test_contract_xero.py
validates every payload, unknown keys refused). Rules:

* accounts: ``Ref.id`` is the AccountCode; the chart gives an account without a code its
  AccountID instead, so an id shaped like a UUID is sent as ``AccountID``;
* names (the rule "Names the providers refuse" in :mod:`..sync_rules`): a contact's ``Name``
  is at most 255 characters, an item's ``Code`` 30 and its ``Name`` 50 (xero_accounting.yaml's
  maxLength); a longer one is shortened by :func:`..sync_rules.fit` (its start, ``~`` and 6
  hex digits of its SHA-256), and the look-ups search for the shortened text. Colons are
  fine in Xero;
* contacts: ``IsCustomer``/``IsSupplier`` are set by Xero itself and never sent; the billing
  address is the POBOX address (the one Xero prints on invoices);
* items: ``Code`` is required: the Odoo code, else a slug of the name (:func:`item_code`);
* documents are created AUTHORISED with tax-exclusive lines; each line carries Odoo's tax
  amount and net amount so the Xero total is Odoo's to the cent. The number goes to
  ``InvoiceNumber`` (invoices and bills: for a bill it is the field Xero shows as the
  bill's reference, since the API's ``Reference`` is for sales only) or
  ``CreditNoteNumber``; the Odoo reference goes to ``Reference`` on sales documents. Every
  line is account-based, on every kind (its Capabilities.item_required_kinds is empty): its
  ``AccountCode`` (or ``AccountID``) and ``TaxType`` come from the line, and it carries no
  ItemCode (``Line.item``, when there is one, holds the ItemID, which Xero does not take on
  a line);
* Xero's ``CurrencyRate`` is units of document currency per unit of base currency: the
  inverse of ``exchange_rate``, to 6 decimals;
* a payment becomes one Xero Payment per allocation (an invoice or a credit note), each
  with the payment's number then its memo as ``Reference`` (``"PBNK1/2026/00007: memo"``,
  cut to 255 characters: Xero documents no length for it, 255 is its limit for document
  references);
* a journal entry becomes a POSTED ManualJournal whose Narration starts with the entry's
  number (the look-up key); debits are positive, credits negative, TaxType NONE unless
  given. Xero journal lines have no contact, so ``JournalLine.party`` is not sent.
"""
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..sync_rules import PayloadError, fit, money, number, numbered

LABEL = "Xero"
CODE_MAX, NAME_MAX, REFERENCE_MAX = 30, 50, 255   # Item Code, Item Name, references
CONTACT_NAME_MAX = 255
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Resource:
    """What one kind of record is in Xero: its ``collection`` (the endpoint, and the list
    an answer holds), its ``id_field``, xero-python's name for it (``method``:
    ``create_<method>``, ``update_or_create_<method>``), what a message calls it (``noun``),
    its page in Xero's web app (``web_page`` + id; None: none), for documents their ``Type``
    (``xero_type``) and ``number_field``, and whether amounts go with ``unitdp=4``."""

    collection: str
    id_field: str
    method: str
    noun: str
    web_page: str = None
    xero_type: str = None
    number_field: str = None
    unitdp: bool = False


# The one table of kinds (kind -> Resource); the others below are read from it.
RESOURCES = {
    "customer": Resource("Contacts", "ContactID", "contacts", "contact", "Contacts/View/"),
    "vendor": Resource("Contacts", "ContactID", "contacts", "contact", "Contacts/View/"),
    "product": Resource("Items", "ItemID", "items", "item", "Accounts/Inventory/",
                        unitdp=True),
    "invoice": Resource("Invoices", "InvoiceID", "invoices", "invoice",
                        "AccountsReceivable/View.aspx?InvoiceID=", "ACCREC", "InvoiceNumber",
                        True),
    "bill": Resource("Invoices", "InvoiceID", "invoices", "bill",
                     "AccountsPayable/View.aspx?InvoiceID=", "ACCPAY", "InvoiceNumber", True),
    "credit_note": Resource("CreditNotes", "CreditNoteID", "credit_notes", "credit note",
                            "AccountsReceivable/ViewCreditNote.aspx?creditNoteID=",
                            "ACCRECCREDIT", "CreditNoteNumber", True),
    "vendor_credit": Resource("CreditNotes", "CreditNoteID", "credit_notes",
                              "vendor credit note",
                              "AccountsPayable/ViewCreditNote.aspx?creditNoteID=",
                              "ACCPAYCREDIT", "CreditNoteNumber", True),
    "customer_payment": Resource("Payments", "PaymentID", "payments", "payment"),
    "vendor_payment": Resource("Payments", "PaymentID", "payments", "payment"),
    "journal_entry": Resource("ManualJournals", "ManualJournalID", "manual_journals",
                              "manual journal", "Journal/View.aspx?invoiceID="),
}
NOUN = {kind: resource.noun for kind, resource in RESOURCES.items()}
# kind -> (endpoint collection, Xero Type, number field, id field), for documents
DOCUMENT_TYPES = {kind: (r.collection, r.xero_type, r.number_field, r.id_field)
                  for kind, r in RESOURCES.items() if r.xero_type}
SALES_TYPES = ("ACCREC", "ACCRECCREDIT")


def _compact(body):
    return {k: v for k, v in body.items() if v not in (None, "", [], {})}


def is_uuid(value):
    return bool(value and UUID.match(str(value)))


def account(reference):
    """A line's account: ``AccountCode``, or ``AccountID`` for an account without a code."""
    key = "AccountID" if is_uuid(reference.id) else "AccountCode"
    return {key: str(reference.id)}


def account_code(reference):
    if is_uuid(reference.id):
        raise PayloadError("account_code_missing", provider=LABEL,
                           account=reference.name or reference.id)
    return str(reference.id)


def currency_rate(exchange_rate):
    if not exchange_rate:
        return None
    return number(Decimal(1) / Decimal(exchange_rate), places=6)


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "-", text or "").strip("-")


def item_code(product):
    """The Code Xero will know the item by (and it is looked up by): the Odoo code, else a
    slug of the name, at most 30 characters (:func:`..sync_rules.fit`)."""
    code = (product.code or "").strip() or slug(product.name)
    if not code:
        raise PayloadError("item_code_missing", provider=LABEL)
    return fit(code, CODE_MAX)


def item_name(product):
    """The Name of an item (and what it is looked up by): at most 50 characters."""
    return fit((product.name or "").strip(), NAME_MAX)


def contact_name(party):
    """The Name of a contact (and what it is looked up by): at most 255 characters."""
    return fit((party.name or "").strip(), CONTACT_NAME_MAX)


def _address(addr):
    fields = _compact({"AddressLine1": addr.street, "AddressLine2": addr.street2,
                       "City": addr.city, "Region": addr.state, "PostalCode": addr.zip,
                       "Country": addr.country_code}) if addr else {}
    return [dict(AddressType="POBOX", **fields)] if fields else None


def contact_payload(party, remote_id=None):
    body = {
        "ContactID": remote_id,
        "Name": contact_name(party),
        "EmailAddress": party.email,
        "TaxNumber": party.vat,
        "DefaultCurrency": party.currency,
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": party.phone}] if party.phone else None,
        "Addresses": _address(party.address),
    }
    return _compact(body)


def item_payload(product, remote_id=None):
    sales = _compact({
        "UnitPrice": number(product.sale_price) if product.sale_price is not None else None,
        "AccountCode": account_code(product.income_account) if product.income_account else None,
    })
    purchase = _compact({
        "UnitPrice": (number(product.purchase_price)
                      if product.purchase_price is not None else None),
        "AccountCode": account_code(product.expense_account) if product.expense_account else None,
    })
    return _compact({
        "ItemID": remote_id,
        "Code": item_code(product),
        "Name": item_name(product),
        "Description": product.description,
        "SalesDetails": sales,
        "PurchaseDetails": purchase,
    })


def _line(line):
    body = {
        "Description": line.description,
        "Quantity": number(line.quantity),
        "UnitAmount": number(line.unit_price, places=4),
        "TaxType": str(line.tax.id) if line.tax else "NONE",
        "TaxAmount": money(line.tax_amount or 0),
        "LineAmount": money(line.amount),
        "DiscountRate": number(line.discount_percent) if line.discount_percent else None,
    }
    body.update(account(line.account))
    return _compact(body)


def document_payload(doc, remote_id=None):
    """An Invoice (ACCREC/ACCPAY) or a CreditNote (ACCRECCREDIT/ACCPAYCREDIT)."""
    _collection, xero_type, number_field, id_field = DOCUMENT_TYPES[doc.kind]
    body = {
        id_field: remote_id,
        "Type": xero_type,
        "Contact": {"ContactID": str(doc.party.id)},
        "Date": doc.date.isoformat(),
        "DueDate": doc.due_date.isoformat() if doc.due_date and id_field == "InvoiceID" else None,
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        number_field: doc.number,
        "Reference": doc.reference if xero_type in SALES_TYPES else None,
        "CurrencyCode": doc.currency,
        "CurrencyRate": currency_rate(doc.exchange_rate),
        "LineItems": [_line(l) for l in doc.lines],
    }
    return _compact(body)


def header_payload(doc, remote_id):
    """What may still change on an AUTHORISED document: everything but lines and amounts."""
    body = document_payload(doc, remote_id)
    for key in ("LineItems", "CurrencyRate", "CurrencyCode", "LineAmountTypes", "Status"):
        body.pop(key, None)
    return body


def payment_payloads(payment):
    """One Xero Payment per allocation."""
    result = []
    reference = numbered(payment.number, payment.reference)
    for allocation in payment.allocations:
        if allocation.document_kind in ("invoice", "bill"):
            target = {"Invoice": {"InvoiceID": str(allocation.document.id)}}
        elif allocation.document_kind in ("credit_note", "vendor_credit"):
            target = {"CreditNote": {"CreditNoteID": str(allocation.document.id)}}
        else:
            raise PayloadError("allocation_invalid", kind=allocation.document_kind)
        account_id = str(payment.account.id)
        body = dict(target, Account={"AccountID" if is_uuid(account_id) else "Code": account_id})
        body.update({"Amount": money(allocation.amount), "Date": payment.date.isoformat(),
                     "Reference": reference[:REFERENCE_MAX] if reference else None,
                     "CurrencyRate": currency_rate(payment.exchange_rate)})
        result.append(_compact(body))
    return result


def narration(entry):
    """The ManualJournal narration: the entry's number, then its own narration."""
    return numbered(entry.number, entry.narration)


def journal_total(entry):
    """The sum of the positive line amounts, as Xero's lines would show it."""
    return sum((Decimal(l.debit or 0) - Decimal(l.credit or 0) for l in entry.lines
                if Decimal(l.debit or 0) > Decimal(l.credit or 0)), Decimal(0)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def journal_payload(entry, remote_id=None):
    lines = []
    for line in entry.lines:
        amount = Decimal(line.debit or 0) - Decimal(line.credit or 0)
        if not amount:
            continue
        body = {"LineAmount": money(amount), "Description": line.description,
                "TaxType": str(line.tax.id) if line.tax else "NONE"}
        body.update(account(line.account))
        lines.append(_compact(body))
    return _compact({
        "ManualJournalID": remote_id,
        "Narration": narration(entry),
        "Date": entry.date.isoformat(),
        "Status": "POSTED",
        "JournalLines": lines,
    })


def build(record, remote_id=None):
    """The payload(s) of any record: a list for payments, else one dict."""
    kind = getattr(record, "kind", "product")
    if kind in ("customer", "vendor"):
        return contact_payload(record, remote_id)
    if kind == "product":
        return item_payload(record, remote_id)
    if kind in DOCUMENT_TYPES:
        return document_payload(record, remote_id)
    if kind in ("customer_payment", "vendor_payment"):
        return payment_payloads(record)
    return journal_payload(record, remote_id)


PAYMENT_DELETE = {"Status": "DELETED"}  # POST /Payments/{PaymentID} (PaymentDelete)


def void_payload(kind, remote_id, status, narration=None):
    """The element voiding (``VOIDED``) or deleting (``DELETED``) a document or a manual
    journal; a manual journal must repeat its narration (required by Xero)."""
    if kind == "journal_entry":
        return {"ManualJournalID": remote_id, "Narration": narration, "Status": status}
    return {DOCUMENT_TYPES[kind][3]: remote_id, "Status": status}


def archive_contact_payload(remote_id):
    return {"ContactID": remote_id, "ContactStatus": "ARCHIVED"}

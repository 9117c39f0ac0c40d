"""Xero: what changed in an organisation, read with ``If-Modified-Since`` (the adapter's
``changes``; provider-facts 2.3–2.5, 8.3), as :mod:`..incoming` records.

* **Types** (cursor keys) are Xero resources, in the order they are applied
  (:data:`PULL_TYPES`): Contacts, Items, Invoices, CreditNotes, Payments, ManualJournals.
* **Reads**: one resource at a time, ``If-Modified-Since`` its cursor minus the overlap
  (:mod:`..pull`; no header: a full read), ``page``/``pageSize`` pages (:data:`PAGE_SIZE`,
  the adapter's ``page_size``; the page size the answer reports where it reports one)
  ordered by the resource's id, which no edit changes, until a page is short. Items have no
  paging in Xero's API: one call. Contacts are read with ``includeArchived=true``, amounts
  with ``unitdp=4``. A type's new cursor is the ``DateTimeUTC`` of its first answer (else
  our clock when its read began).
* **Webhooks** name contacts, invoices and credit notes only; a payment shows as an update
  of the invoice it pays, so :func:`pull_types_for` adds Payments whenever an invoice or a
  credit note changed.
* **Records**: an invoice of Type ACCREC is an ``invoice``, ACCPAY a ``bill``; a credit note
  ACCRECCREDIT a ``credit_note``, ACCPAYCREDIT a ``vendor_credit``; Status VOIDED →
  ``voided``, DELETED → ``deleted``, DRAFT/SUBMITTED → ``draft`` (a manual journal's
  POSTED → active, ARCHIVED → archived). A payment's Invoice (or CreditNote) is its one
  allocation, its Account the bank account (its Code, else its AccountID, as the chart
  names accounts), its kind from its PaymentType (AR… customer, AP… vendor); DELETED →
  ``deleted``. A contact is customer and vendor (``kinds``), narrowed to what IsCustomer /
  IsSupplier say where one of them is true; ContactStatus ARCHIVED (or GDPRREQUEST) →
  ``archived``. ``remote_version`` is UpdatedDateUTC as an ISO string
  (:func:`.lookups.xero_time`), as the writer stores it. Exchange rates are ours (units of
  the base currency per unit of the document's), the inverse of Xero's CurrencyRate.
  Xero says when a record last changed, not when it was made: ``operation`` is ``delete``
  or ``void`` by status, ``create`` for a payment (Xero payments cannot be edited), else
  ``update``.
"""
from decimal import Decimal

from .. import pull
from ..answers import WrongShape, number, obj, objects, reading, text, utc_time
from ..base import utcnow
from ..documents import Address
from ..incoming import (
    IncomingAllocation, IncomingDocument, IncomingJournalEntry, IncomingJournalLine,
    IncomingLine, IncomingParty, IncomingPayment, IncomingProduct,
)
from .lookups import xero_id, xero_time
from .payloads import LABEL

PULL_TYPES = ("Contacts", "Items", "Invoices", "CreditNotes", "Payments", "ManualJournals")
PAGE_SIZE = 100  # Xero's documented page (pageSize: up to 1,000 per a third party)
# resource -> (AccountingApi method, its id field, its other arguments, paged)
READS = {
    "Contacts": ("get_contacts", "ContactID", {"include_archived": True}, True),
    "Items": ("get_items", "ItemID", {"unitdp": 4}, False),
    "Invoices": ("get_invoices", "InvoiceID", {"unitdp": 4}, True),
    "CreditNotes": ("get_credit_notes", "CreditNoteID", {"unitdp": 4}, True),
    "Payments": ("get_payments", "PaymentID", {}, True),
    "ManualJournals": ("get_manual_journals", "ManualJournalID", {}, True),
}
# webhook eventCategory -> the resources a pull reads for it
CATEGORY_TYPES = {"CONTACT": ("Contacts",), "INVOICE": ("Invoices", "Payments"),
                  "CREDITNOTE": ("CreditNotes", "Payments")}
REMOTE_TYPE_CATEGORIES = {"contact": "CONTACT", "invoice_or_bill": "INVOICE",
                          "invoice": "INVOICE", "bill": "INVOICE",
                          "credit_note_or_vendor_credit": "CREDITNOTE",
                          "credit_note": "CREDITNOTE", "vendor_credit": "CREDITNOTE"}
DOCUMENT_KINDS = {"ACCREC": "invoice", "ACCPAY": "bill", "ACCRECCREDIT": "credit_note",
                  "ACCPAYCREDIT": "vendor_credit"}
STATUSES = {"VOIDED": "voided", "DELETED": "deleted", "DRAFT": "draft", "SUBMITTED": "draft",
            "ARCHIVED": "archived"}
CONTACT_STATUSES = {"ARCHIVED": "archived", "GDPRREQUEST": "archived"}
OPERATIONS = {"voided": "void", "deleted": "delete"}


def pull_types_for(changes):
    """The resources a pull reads to fetch what webhook ``changes`` name (module docstring),
    in the order they are applied."""
    wanted = set()
    for change in changes or ():
        category = (change.data or {}).get("category") or REMOTE_TYPE_CATEGORIES.get(
            change.remote_type)
        wanted.update(CATEGORY_TYPES.get(category, ()))
    return tuple(t for t in PULL_TYPES if t in wanted)


class XeroPull:
    """One ``changes()`` call for one tenant (made by the adapter)."""

    def __init__(self, adapter, api, tenant, types):
        self.adapter, self.api, self.tenant = adapter, api, tenant
        self.page_size = int(getattr(adapter, "page_size", PAGE_SIZE) or PAGE_SIZE)
        self.pull = pull.Pull("xero", tenant, types)

    def run(self, cursors):
        cursors = dict(cursors or {})
        for resource in self.pull.types:
            self.pull.guarded([resource], lambda r=resource: self._read(
                r, pull.start_of(cursors.get(r))))
        return self.pull.finish()

    def _read(self, resource, since):
        name, id_field, extra, paged = READS[resource]
        method = getattr(self.api, name)
        kwargs = dict(extra)
        if since is not None:
            kwargs["if_modified_since"] = since
        if paged:
            kwargs.update(order="%s ASC" % id_field, page_size=self.page_size)
        rows, first, page = [], None, 1
        while True:
            if paged:
                kwargs["page"] = page
            asked = utcnow()
            data = self.pull.call(self.adapter._api_call, method, self.tenant, pace=self.tenant,
                                  **kwargs)
            with reading(LABEL):
                data = obj(data, "its answer")
                answered = utc_time(xero_time(data.get("DateTimeUTC"))) or asked
                found = objects(data.get(resource), "its " + resource)
                size = _page_size(data, self.page_size)
            first = first or answered
            rows += [(row, answered) for row in found]
            if not paged or len(found) < size:
                break
            page += 1
        with reading(LABEL):
            changes = [self.change(resource, row, answered) for row, answered in rows]
        self.pull.done(resource, changes, first)

    def change(self, resource, row, answered):
        """The Change of one ``resource`` row (read at ``answered``)."""
        row = obj(row, "an element of its " + resource)
        record, remote_type, kinds = record_of(resource, row)
        if record.status in OPERATIONS:
            operation = OPERATIONS[record.status]
        else:
            operation = "create" if resource == "Payments" else "update"
        return self.pull.change(
            resource, record, remote_type, kinds, operation,
            utc_time(record.remote_version) or answered,
            pull.facts(entity=resource, status=record.status, version=record.remote_version,
                       Type=text(row.get("Type") or row.get("PaymentType"), "its Type"),
                       Status=text(row.get("Status") or row.get("ContactStatus"),
                                   "its Status"),
                       number=getattr(record, "number", None),
                       name=getattr(record, "name", None),
                       total=getattr(record, "amount_total", None)
                       if resource != "Payments" else record.amount))


def _page_size(data, asked):
    """The page size an answer reports (``pagination.pageSize``), else the one asked for."""
    pagination = data.get("pagination")
    if isinstance(pagination, dict):
        size = number(pagination.get("pageSize"), "its pageSize")
        if size is not None and 0 < size < asked:
            return int(size)
    return asked


# -- reading elements -----------------------------------------------------------------------------

def _day(value, what):
    """A Xero date (``/Date(ms+0000)/`` or ISO) as a date."""
    return pull.day(xero_time(value), what)


def _rate(row):
    """Xero's CurrencyRate (document currency per base unit) as ours (its inverse)."""
    rate = number(row.get("CurrencyRate"), "its CurrencyRate")
    return (Decimal(1) / rate).quantize(Decimal("0.000001")) if rate else None


def _account(row):
    """An account as the chart names it: its code, else its AccountID."""
    return (text(row.get("AccountCode") or row.get("Code"), "an AccountCode")
            or text(row.get("AccountID"), "an AccountID"))


def record_of(resource, row):
    """One Xero element of ``resource`` as (its :mod:`..incoming` record, remote type,
    kinds)."""
    if resource == "Contacts":
        record = _contact(row)
        return record, "contact", record.kinds
    if resource == "Items":
        return _item(row), "product", ("product",)
    if resource in ("Invoices", "CreditNotes"):
        record = _document(resource, row)
        return record, record.kind, (record.kind,)
    if resource == "Payments":
        record = _payment(row)
        return record, record.kind, (record.kind,)
    return _journal(row), "journal_entry", ("journal_entry",)


def _common(row, id_field, status):
    return {"remote_id": xero_id(row.get(id_field), "its " + id_field),
            "remote_version": xero_time(row.get("UpdatedDateUTC")), "status": status}


def _contact(row):
    flags = {kind: row.get(key) for kind, key in (("customer", "IsCustomer"),
                                                  ("vendor", "IsSupplier"))}
    kinds = tuple(kind for kind, value in flags.items() if value is True) or (
        "customer", "vendor")
    status = CONTACT_STATUSES.get(text(row.get("ContactStatus"), "its ContactStatus"),
                                  "active")
    return IncomingParty(
        kinds=kinds, name=text(row.get("Name"), "its Name"),
        email=text(row.get("EmailAddress"), "its EmailAddress"), phone=_phone(row),
        vat=text(row.get("TaxNumber"), "its TaxNumber"),
        currency=text(row.get("DefaultCurrency"), "its DefaultCurrency"),
        address=_address(row), **_common(row, "ContactID", status))


def _phone(row):
    phones = [p for p in objects(row.get("Phones"), "its Phones")
              if text(p.get("PhoneNumber"), "a PhoneNumber")]
    phones.sort(key=lambda p: p.get("PhoneType") != "DEFAULT")
    if not phones:
        return None
    phone = phones[0]
    return " ".join(filter(None, (text(phone.get(k), "a phone number") for k in (
        "PhoneCountryCode", "PhoneAreaCode", "PhoneNumber"))))


def _address(row):
    addresses = [a for a in objects(row.get("Addresses"), "its Addresses")
                 if any(a.get(k) for k in ("AddressLine1", "City", "PostalCode"))]
    addresses.sort(key=lambda a: a.get("AddressType") != "POBOX")  # what the writer sends
    if not addresses:
        return None
    found = addresses[0]
    country = text(found.get("Country"), "its Country")
    return Address(street=text(found.get("AddressLine1"), "an AddressLine1"),
                   street2=text(found.get("AddressLine2"), "an AddressLine2"),
                   city=text(found.get("City"), "its City"),
                   zip=text(found.get("PostalCode"), "its PostalCode"),
                   state=text(found.get("Region"), "its Region"),
                   country_code=country.upper() if country and len(country) == 2 else None)


def _item(row):
    sales = obj(row.get("SalesDetails") or {}, "its SalesDetails")
    purchases = obj(row.get("PurchaseDetails") or {}, "its PurchaseDetails")
    return IncomingProduct(
        name=text(row.get("Name"), "its Name"), code=text(row.get("Code"), "its Code"),
        description=text(row.get("Description"), "its Description"),
        sale_price=number(sales.get("UnitPrice"), "its sale UnitPrice"),
        purchase_price=number(purchases.get("UnitPrice"), "its purchase UnitPrice"),
        **_common(row, "ItemID", "active"))


def _status(row):
    return STATUSES.get(text(row.get("Status"), "its Status"), "active")


def _document(resource, row):
    xero_type = text(row.get("Type"), "its Type", required=True)
    kind = DOCUMENT_KINDS.get(xero_type)
    credit = resource == "CreditNotes"
    if kind is None or (kind in ("credit_note", "vendor_credit")) != credit:
        raise WrongShape("its Type %s is not a type of %s" % (xero_type, resource))
    return IncomingDocument(
        kind=kind,
        number=text(row.get("CreditNoteNumber" if credit else "InvoiceNumber"), "its number"),
        reference=text(row.get("Reference"), "its Reference"),
        date=_day(row.get("Date"), "its Date"), due_date=_day(row.get("DueDate"), "its DueDate"),
        party_id=text(obj(row.get("Contact") or {}, "its Contact").get("ContactID"),
                      "its ContactID"),
        currency=text(row.get("CurrencyCode"), "its CurrencyCode"), exchange_rate=_rate(row),
        amount_untaxed=number(row.get("SubTotal"), "its SubTotal"),
        amount_tax=number(row.get("TotalTax"), "its TotalTax"),
        amount_total=number(row.get("Total"), "its Total"),
        balance=number(row.get("RemainingCredit" if credit else "AmountDue"), "its balance"),
        lines=[_line(line) for line in objects(row.get("LineItems"), "its LineItems")],
        **_common(row, "CreditNoteID" if credit else "InvoiceID", _status(row)))


def _line(line):
    item = obj(line.get("Item") or {}, "a line's Item")
    return IncomingLine(
        description=text(line.get("Description"), "a line's Description"),
        quantity=number(line.get("Quantity"), "a line's Quantity"),
        unit_price=number(line.get("UnitAmount"), "a line's UnitAmount"),
        amount=number(line.get("LineAmount"), "a line's LineAmount"),
        account_id=_account(line), tax_id=text(line.get("TaxType"), "a line's TaxType"),
        item_id=text(item.get("ItemID"), "a line's ItemID"),
        tax_amount=number(line.get("TaxAmount"), "a line's TaxAmount"),
        item_code=text(line.get("ItemCode") or item.get("Code"), "a line's ItemCode"))


def _payment(row):
    invoice = row.get("Invoice") or None
    credit = row.get("CreditNote") or None
    document = obj(invoice or credit or {}, "the document it pays")
    document_kind = DOCUMENT_KINDS.get(text(document.get("Type"), "its document's Type"))
    if document_kind is None and document:
        document_kind = "invoice" if invoice else "credit_note"
    payment_type = text(row.get("PaymentType"), "its PaymentType") or ""
    if payment_type.startswith(("AR", "ACCREC")):
        kind = "customer_payment"
    elif payment_type.startswith(("AP", "ACCPAY")):
        kind = "vendor_payment"
    else:
        kind = ("vendor_payment" if document_kind in ("bill", "vendor_credit")
                else "customer_payment")
    amount = number(row.get("Amount"), "its Amount")
    allocations = []
    document_id = text(document.get("CreditNoteID" if credit and not invoice else "InvoiceID"),
                       "its document's id")
    if document_id:
        allocations.append(IncomingAllocation(
            document_kind=document_kind, document_id=xero_id(document_id, "its document's id"),
            amount=amount))
    status = "deleted" if text(row.get("Status"), "its Status") == "DELETED" else "active"
    return IncomingPayment(
        kind=kind, date=_day(row.get("Date"), "its Date"),
        party_id=text(obj(document.get("Contact") or {}, "its Contact").get("ContactID"),
                      "its ContactID"),
        amount=amount, currency=text(document.get("CurrencyCode"), "its CurrencyCode"),
        exchange_rate=_rate(row),
        account_id=_account(obj(row.get("Account") or {}, "its Account")),
        reference=text(row.get("Reference"), "its Reference"), allocations=allocations,
        **_common(row, "PaymentID", status))


def _journal(row):
    lines = []
    for line in objects(row.get("JournalLines"), "its JournalLines"):
        amount = number(line.get("LineAmount"), "a line's LineAmount", Decimal(0))
        lines.append(IncomingJournalLine(
            account_id=_account(line), debit=amount if amount > 0 else Decimal(0),
            credit=-amount if amount < 0 else Decimal(0),
            description=text(line.get("Description"), "a line's Description"),
            tax_id=text(line.get("TaxType"), "a line's TaxType"),
            tax_amount=number(line.get("TaxAmount"), "a line's TaxAmount")))
    status = {"POSTED": "active"}.get(text(row.get("Status"), "its Status")) or _status(row)
    return IncomingJournalEntry(
        date=_day(row.get("Date"), "its Date"),
        narration=text(row.get("Narration"), "its Narration"), lines=lines,
        **_common(row, "ManualJournalID", status))

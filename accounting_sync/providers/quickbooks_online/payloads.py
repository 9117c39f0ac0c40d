"""QuickBooks Online payloads: pure functions from :mod:`..documents` records to QBO V3 JSON.

The keys are Finance.xsd element names (tests/test_contract_quickbooks_online.py checks every
payload against the schema). Rules:

* references are ``{"value": Ref.id}``; money is rounded to the cent and written as a JSON
  number; quantities and unit prices keep their precision;
* names (the rule "Names the providers refuse" in :mod:`..sync_rules`): QBO refuses ``:`` in
  a Customer's or Vendor's DisplayName and an Item's Name (2040 "Invalid String": the colon
  is its Parent:Child separator), so each colon and the spaces around it become `` - ``
  (:func:`display_name`, :func:`item_name`: "Wayne Enterprises: Gotham" → "Wayne
  Enterprises - Gotham"); DisplayName, CompanyName, Item Name and Sku are at most 100
  characters (2050 otherwise), a longer one shortened by :func:`..sync_rules.fit`. The Odoo
  name stays in CompanyName (companies; colons are allowed there) and, when the DisplayName
  differs from it and CompanyName does not hold it, in Notes ("Name in Odoo: …");
* a party's currency is sent on create only (QBO cannot change it once there are
  transactions); a vendor's VAT goes to ``TaxIdentifier`` (QBO has no customer equivalent in
  every region, so a customer's VAT is not sent);
* sales lines (invoices, credit memos: :data:`ITEM_REQUIRED_KINDS`) are SalesItemLineDetail
  lines and need an item — QBO takes the income account from the item, so ``Line.account``
  is not sent, and it would keep a line without ItemRef as mere "documentation", its Amount
  ignored — so a sales line without an item fails with a :class:`PayloadError` asking for a
  product (or the connection's Default Product); a discounted line carries its net unit
  price so that ``Qty × UnitPrice = Amount``. Purchase lines (bills, vendor credits) are
  always AccountBasedExpenseLineDetail lines, item or not: the line's account and tax code,
  so the expense goes where Odoo booked it;
* tax as Odoo computed it: ``TxnTaxDetail.TotalTax`` is Odoo's ``amount_tax`` (sent whenever
  it is not zero or a line has a tax code) and QBO keeps a TotalTax sent (an override,
  prorated over the rates of the code, the difference noted as ``OverrideDeltaAmount``), so
  the remote total is Odoo's to the cent even where the mapped tax code's rate differs from
  Odoo's; ``Document.tax_code`` goes to ``TxnTaxDetail.TxnTaxCodeRef`` (US editions: the tax
  code applied to the transaction as a whole, Finance.xsd). The reference goes to
  ``PrivateNote`` (the memo);
* journal lines with a party carry ``Entity`` with its type (Customer/Vendor/Employee),
  which the caller resolves (``entity_types``: remote party id → type);
* a payment's number (Odoo's payment name) goes to ``PaymentRefNum`` (Payment) or
  ``DocNumber`` (BillPayment), both at most 21 characters: a longer number is shortened by
  :func:`short_number` (the first 4 hex digits of its SHA-256, ``~``, its last 16
  characters), and the full number, then the memo, go to ``PrivateNote`` (at most 4,000
  characters).
"""
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..sync_rules import PayloadError, digest, fit, money, number, numbered

LABEL = "QuickBooks Online"


@dataclass(frozen=True)
class Entity:
    """What one kind of record is in QBO: its entity ``name``, what a message calls it
    (``noun``), its page in the QBO web app (``web_page`` + id), the query parameters that
    void it (``void``: QBO voids invoices and payments, and deletes the other transactions,
    which have no void), and whether a payment's line may link to it (``linked_txn``:
    ``LinkedTxn.TxnType`` is its name)."""

    name: str
    noun: str
    web_page: str
    void: tuple = ()
    linked_txn: bool = False


DELETE = (("operation", "delete"),)
# The one table of kinds (kind -> Entity); the others below are read from it.
ENTITIES = {
    "customer": Entity("Customer", "customer", "customerdetail?nameId="),
    "vendor": Entity("Vendor", "vendor", "vendordetail?nameId="),
    "product": Entity("Item", "product", "items?itemId="),
    "invoice": Entity("Invoice", "invoice", "invoice?txnId=", (("operation", "void"),), True),
    "credit_note": Entity("CreditMemo", "credit note", "creditmemo?txnId=", DELETE, True),
    "bill": Entity("Bill", "bill", "bill?txnId=", DELETE, True),
    "vendor_credit": Entity("VendorCredit", "vendor credit", "vendorcredit?txnId=", DELETE,
                            True),
    "customer_payment": Entity("Payment", "customer payment", "recvpayment?txnId=",
                               (("operation", "update"), ("include", "void"))),
    "vendor_payment": Entity("BillPayment", "bill payment", "billpayment?txnId=",
                             (("operation", "update"), ("include", "void"))),
    "journal_entry": Entity("JournalEntry", "journal entry", "journal?txnId=", DELETE),
}
ENTITY = {kind: entity.name for kind, entity in ENTITIES.items()}
NOUN = {kind: entity.noun for kind, entity in ENTITIES.items()}
LINKED_TXN_TYPE = {kind: e.name for kind, e in ENTITIES.items() if e.linked_txn}
# kind -> query parameters of the void
VOID_PARAMS = {kind: dict(e.void) for kind, e in ENTITIES.items() if e.void}
SALES_KINDS = ("invoice", "credit_note")
# The kinds whose lines QBO takes only with an item (SalesItemLineDetail): the adapter's
# capability (Capabilities.item_required_kinds).
ITEM_REQUIRED_KINDS = SALES_KINDS
UNIT_PRICE_PLACES = 7
REF_NUMBER_MAX = 21       # PaymentRefNum, DocNumber
PRIVATE_NOTE_MAX = 4000
NAME_MAX = 100            # DisplayName, CompanyName, Item Name, Sku
NOTES_MAX = 1024          # Customer / Vendor Notes (IntuitNamesTypes.xsd)
COLON = re.compile(r"\s*:[\s:]*")  # a colon, the spaces around it (and colons next to it)
COLON_REPLACEMENT = " - "


def ref(reference):
    return {"value": str(reference.id)}


def _compact(body):
    """Drop keys whose value is None or empty."""
    return {k: v for k, v in body.items() if v not in (None, "", [], {})}


def address(addr):
    if not addr:
        return None
    return _compact({"Line1": addr.street, "Line2": addr.street2, "City": addr.city,
                     "PostalCode": addr.zip, "CountrySubDivisionCode": addr.state,
                     "Country": addr.country_code})


def without_colons(name):
    """``name`` with each colon (and the spaces around it) made `` - ``."""
    return COLON.sub(COLON_REPLACEMENT, name or "").strip()


def display_name(name):
    """The DisplayName a customer or vendor named ``name`` in Odoo gets (and is looked up
    by): no colon, at most 100 characters."""
    return fit(without_colons(name), NAME_MAX)


def item_name(name):
    """The Name an item gets (and is looked up by): no colon, at most 100 characters."""
    return fit(without_colons(name), NAME_MAX)


def sku(code):
    """The Sku an item gets (and is looked up by): at most 100 characters."""
    return fit((code or "").strip(), NAME_MAX) or None


def party_payload(party, create=True):
    """Customer or Vendor."""
    name = display_name(party.name)
    company = fit(party.company_name, NAME_MAX)
    kept = name == party.name or company == party.name
    body = {
        "DisplayName": name,
        "CompanyName": company,
        "Notes": None if kept else ("Name in Odoo: %s" % party.name)[:NOTES_MAX],
        "PrimaryEmailAddr": {"Address": party.email} if party.email else None,
        "PrimaryPhone": {"FreeFormNumber": party.phone} if party.phone else None,
        "BillAddr": address(party.address),
        "CurrencyRef": {"value": party.currency} if create and party.currency else None,
    }
    if party.kind == "vendor":
        body["TaxIdentifier"] = party.vat
    return _compact(body)


def item_payload(product):
    """Item, Service or NonInventory."""
    return _compact({
        "Name": item_name(product.name),
        "Sku": sku(product.code),
        "Description": product.description,
        "Type": "Service" if product.service else "NonInventory",
        "UnitPrice": number(product.sale_price) if product.sale_price is not None else None,
        "PurchaseCost": (number(product.purchase_price)
                         if product.purchase_price is not None else None),
        "IncomeAccountRef": ref(product.income_account) if product.income_account else None,
        "ExpenseAccountRef": ref(product.expense_account) if product.expense_account else None,
    })


def _sales_line(line, kind):
    if not line.item:
        raise PayloadError("item_required", provider=LABEL, noun=NOUN[kind],
                           line=line.description or "")
    unit_price = line.unit_price
    if line.discount_percent and line.quantity:
        unit_price = (Decimal(line.amount) / Decimal(line.quantity)).quantize(
            Decimal(1).scaleb(-UNIT_PRICE_PLACES), rounding=ROUND_HALF_UP)
    detail = _compact({
        "ItemRef": ref(line.item),
        "Qty": number(line.quantity),
        "UnitPrice": number(unit_price),
        "TaxCodeRef": ref(line.tax) if line.tax else None,
    })
    return _compact({"DetailType": "SalesItemLineDetail", "Amount": money(line.amount),
                     "Description": line.description, "SalesItemLineDetail": detail})


def _purchase_line(line):
    detail = _compact({
        "AccountRef": ref(line.account),
        "TaxCodeRef": ref(line.tax) if line.tax else None,
    })
    return _compact({"DetailType": "AccountBasedExpenseLineDetail", "Amount": money(line.amount),
                     "Description": line.description, "AccountBasedExpenseLineDetail": detail})


def _currency(record):
    body = {"CurrencyRef": {"value": record.currency} if record.currency else None}
    if record.exchange_rate:
        body["ExchangeRate"] = number(record.exchange_rate)
    return body


def document_payload(doc):
    """Invoice, CreditMemo, Bill or VendorCredit."""
    sales = doc.kind in SALES_KINDS
    body = {
        "DocNumber": doc.number,
        "TxnDate": doc.date.isoformat(),
        "PrivateNote": doc.reference,
        "Line": [_sales_line(l, doc.kind) if sales else _purchase_line(l) for l in doc.lines],
        ("CustomerRef" if sales else "VendorRef"): ref(doc.party),
    }
    body.update(_currency(doc))
    if doc.due_date and doc.kind in ("invoice", "bill"):
        body["DueDate"] = doc.due_date.isoformat()
    if doc.amount_tax or doc.tax_code or any(line.tax for line in doc.lines):
        body["TxnTaxDetail"] = _compact({
            "TxnTaxCodeRef": ref(doc.tax_code) if doc.tax_code else None,
            "TotalTax": money(doc.amount_tax or 0)})
    return _compact(body)


def _linked_line(allocation):
    try:
        txn_type = LINKED_TXN_TYPE[allocation.document_kind]
    except KeyError:
        raise PayloadError("allocation_invalid", kind=allocation.document_kind) from None
    return {"Amount": money(allocation.amount),
            "LinkedTxn": [{"TxnId": str(allocation.document.id), "TxnType": txn_type}]}


def short_number(value):
    """A number as QBO's 21-character PaymentRefNum / DocNumber: unchanged when it fits, else
    the first 4 hex digits of its SHA-256, ``~`` and its last 16 characters — the same
    number always gives the same text, and two numbers ending alike still differ."""
    if not value or len(value) <= REF_NUMBER_MAX:
        return value or None
    return "%s~%s" % (digest([value], 4), value[-(REF_NUMBER_MAX - 5):])


def payment_payload(payment):
    """Payment (customer) or BillPayment (vendor, paid by check from a bank account)."""
    note = numbered(payment.number, payment.reference)
    body = {
        "TxnDate": payment.date.isoformat(),
        "TotalAmt": money(payment.amount),
        "PrivateNote": note[:PRIVATE_NOTE_MAX] if note else None,
        "Line": [_linked_line(a) for a in payment.allocations],
    }
    body.update(_currency(payment))
    if payment.kind == "customer_payment":
        body.update({"CustomerRef": ref(payment.party), "DepositToAccountRef": ref(payment.account),
                     "PaymentRefNum": short_number(payment.number)})
    else:
        body.update({"VendorRef": ref(payment.party), "PayType": "Check",
                     "DocNumber": short_number(payment.number),
                     "CheckPayment": {"BankAccountRef": ref(payment.account)}})
    return _compact(body)


def _journal_line(line, entity_types):
    amount = Decimal(line.debit or 0) - Decimal(line.credit or 0)
    detail = {"PostingType": "Debit" if amount > 0 else "Credit", "AccountRef": ref(line.account)}
    if line.tax:
        detail["TaxCodeRef"] = ref(line.tax)
    if line.party:
        entity_type = entity_types.get(str(line.party.id))
        if not entity_type:
            raise PayloadError("party_not_synced", provider=LABEL,
                               name=line.party.name or line.party.id)
        detail["Entity"] = {"Type": entity_type, "EntityRef": ref(line.party)}
    return _compact({"DetailType": "JournalEntryLineDetail", "Amount": money(abs(amount)),
                     "Description": line.description, "JournalEntryLineDetail": detail})


def journal_payload(entry, entity_types):
    """JournalEntry; lines netting to zero are left out."""
    lines = [l for l in entry.lines if Decimal(l.debit or 0) != Decimal(l.credit or 0)]
    body = {
        "DocNumber": entry.number,
        "TxnDate": entry.date.isoformat(),
        "PrivateNote": entry.narration,
        "Line": [_journal_line(l, entity_types) for l in lines],
    }
    body.update(_currency(entry))
    return _compact(body)


def journal_total(entry):
    """What QBO reports as the entry's TotalAmt: the sum of the debits."""
    return sum((Decimal(l.debit or 0) - Decimal(l.credit or 0) for l in entry.lines
                if Decimal(l.debit or 0) > Decimal(l.credit or 0)), Decimal(0))


def build(record, entity_types=None, create=True):
    """The payload of any record (without Id/SyncToken; see :func:`sparse`)."""
    kind = getattr(record, "kind", "product")
    if kind in ("customer", "vendor"):
        return party_payload(record, create=create)
    if kind == "product":
        return item_payload(record)
    if kind in LINKED_TXN_TYPE:
        return document_payload(record)
    if kind in ("customer_payment", "vendor_payment"):
        return payment_payload(record)
    return journal_payload(record, entity_types or {})


def sparse(body, remote_id, sync_token):
    """A sparse update: only the fields sent change (``Line`` replaces all lines)."""
    return dict(body, Id=str(remote_id), SyncToken=str(sync_token), sparse=True)


def void_request(kind, remote_id, sync_token):
    """``(query parameters, body)`` voiding (or deleting) a transaction."""
    params = dict(VOID_PARAMS[kind])
    body = {"Id": str(remote_id), "SyncToken": str(sync_token)}
    if params["operation"] == "update":
        body["sparse"] = True
    return params, body


def deactivate_body(remote_id, sync_token):
    """Customers, vendors and items are made inactive, never deleted."""
    return {"Id": str(remote_id), "SyncToken": str(sync_token), "sparse": True, "Active": False}


def batch_body(entity, operations):
    """A ``/batch`` request: ``operations`` is a list of ``(operation, body)``; each item's
    ``bId`` is its index (QBO allows 10 characters when the batch has a requestid)."""
    return {"BatchItemRequest": [{"bId": str(n), "operation": operation, entity: body}
                                 for n, (operation, body) in enumerate(operations)]}

"""QuickBooks Online payloads: pure functions from :mod:`.documents` records to QBO V3 JSON.

The keys are Finance.xsd element names (tests/test_contract_quickbooks_online.py checks every
payload against the schema). Rules:

* references are ``{"value": Ref.id}``; money is rounded to the cent and written as a JSON
  number; quantities and unit prices keep their precision;
* a party's currency is sent on create only (QBO cannot change it once there are
  transactions); a vendor's VAT goes to ``TaxIdentifier`` (QBO has no customer equivalent in
  every region, so a customer's VAT is not sent);
* sales lines are SalesItemLineDetail lines and need an item (QBO takes the income account
  from the item, so ``Line.account`` is not sent); a discounted line carries its net unit
  price so that ``Qty × UnitPrice = Amount``; purchase lines are AccountBasedExpenseLineDetail
  lines (account and tax code);
* ``TxnTaxDetail.TotalTax`` is Odoo's ``amount_tax``, so the remote total is Odoo's to the
  cent; the reference goes to ``PrivateNote`` (the memo);
* journal lines with a party carry ``Entity`` with its type (Customer/Vendor/Employee),
  which the caller resolves (``entity_types``: remote party id → type);
* a payment's number (Odoo's payment name) goes to ``PaymentRefNum`` (Payment) or
  ``DocNumber`` (BillPayment), both at most 21 characters: a longer number is shortened by
  :func:`short_number` (the first 4 hex digits of its SHA-256, ``~``, its last 16
  characters), and the full number, then the memo, go to ``PrivateNote`` (at most 4,000
  characters).
"""
from decimal import ROUND_HALF_UP, Decimal

from .sync_rules import PayloadError, digest, money, number, numbered

ENTITY = {
    "customer": "Customer", "vendor": "Vendor", "product": "Item",
    "invoice": "Invoice", "credit_note": "CreditMemo", "bill": "Bill",
    "vendor_credit": "VendorCredit", "customer_payment": "Payment",
    "vendor_payment": "BillPayment", "journal_entry": "JournalEntry",
}
SALES_KINDS = ("invoice", "credit_note")
LINKED_TXN_TYPE = {"invoice": "Invoice", "credit_note": "CreditMemo", "bill": "Bill",
                   "vendor_credit": "VendorCredit"}
UNIT_PRICE_PLACES = 7
REF_NUMBER_MAX = 21       # PaymentRefNum, DocNumber
PRIVATE_NOTE_MAX = 4000


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


def party_payload(party, create=True):
    """Customer or Vendor."""
    body = {
        "DisplayName": party.name,
        "CompanyName": party.company_name,
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
        "Name": product.name,
        "Sku": product.code,
        "Description": product.description,
        "Type": "Service" if product.service else "NonInventory",
        "UnitPrice": number(product.sale_price) if product.sale_price is not None else None,
        "PurchaseCost": (number(product.purchase_price)
                         if product.purchase_price is not None else None),
        "IncomeAccountRef": ref(product.income_account) if product.income_account else None,
        "ExpenseAccountRef": ref(product.expense_account) if product.expense_account else None,
    })


def _sales_line(line):
    if not line.item:
        raise PayloadError("QuickBooks Online needs a product on every sales line; line “%s” "
                           "has none." % line.description)
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
        "Line": [_sales_line(l) if sales else _purchase_line(l) for l in doc.lines],
        ("CustomerRef" if sales else "VendorRef"): ref(doc.party),
    }
    body.update(_currency(doc))
    if doc.due_date and doc.kind in ("invoice", "bill"):
        body["DueDate"] = doc.due_date.isoformat()
    if doc.amount_tax or any(line.tax for line in doc.lines):
        body["TxnTaxDetail"] = {"TotalTax": money(doc.amount_tax or 0)}
    return _compact(body)


def _linked_line(allocation):
    try:
        txn_type = LINKED_TXN_TYPE[allocation.document_kind]
    except KeyError:
        raise PayloadError("A payment cannot be allocated to a %s." % allocation.document_kind)
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
            raise PayloadError("The partner “%s” of a journal line is not a customer, vendor or "
                               "employee in QuickBooks Online: sync it first."
                               % (line.party.name or line.party.id))
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


# kind -> query parameters of the void: QBO voids invoices; bills, vendor credits, credit
# memos and journal entries have no void and are deleted; payments are voided by an update.
VOID_PARAMS = {
    "invoice": {"operation": "void"},
    "credit_note": {"operation": "delete"},
    "bill": {"operation": "delete"},
    "vendor_credit": {"operation": "delete"},
    "journal_entry": {"operation": "delete"},
    "customer_payment": {"operation": "update", "include": "void"},
    "vendor_payment": {"operation": "update", "include": "void"},
}


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

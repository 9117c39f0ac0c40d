"""qbXML requests: pure functions from :mod:`..documents` records to qbXML 13.0 elements.

The element names and their order are those of Intuit's ``qbxmlops130.xsd`` (QuickBooks
refuses a request whose elements are out of order: hresult 0x80040400);
tests/test_contract_quickbooks_desktop.py validates every request built here against it.
Rules:

* references: a :class:`~..documents.Ref` with an ``id`` is sent as ``<XxxRef><ListID>``, one
  with only a name as ``<XxxRef><FullName>``; a document paid is named by its ``TxnID``;
* amounts are ``%.2f`` (AMTTYPE), rounded half-up to the cent; quantities, rates and prices
  keep at most 5 decimals (QUANTYPE, PRICETYPE); dates are ISO (``2026-01-31``);
* every text is cut to the ``maxLength`` the schema gives its element
  (``qbxml130_modified.xsd``); a name (Customer and Vendor ``Name`` 41, item ``Name`` 31) is
  shortened by :func:`..sync_rules.fit` (its first characters, ``~`` and 6 hex digits of its
  SHA-256), so the same name is always sent — and looked up — the same way. QuickBooks keeps
  ``:`` as its Parent:Child separator in full names: each colon of a name, with the spaces
  around it, becomes `` - ``. When the name sent differs from Odoo's, Notes says
  "Name in Odoo: …";
* numbers (:func:`ref_number`): ``RefNumber`` is at most 11 characters on invoices, credit
  memos, journal entries and bill payments, 20 on bills, vendor credits and received
  payments. An Odoo number that fits is sent as it is. A longer one is compacted: the
  separators (``/ - _ .`` and spaces) are dropped and a four-digit year (19xx, 20xx) between
  separators keeps its last two digits: ``INV/2026/00001`` (14) → ``INV2600001`` (10),
  ``RINV/2026/00012`` → ``RINV2600012``. If that is still too long, the last characters of
  the compact form are kept behind 3 hex digits of the SHA-256 of the whole number and ``~``:
  ``PBNK1/2026/00007`` → ``a1b~2600007`` (the digest keeps two numbers that end alike
  apart). The same number always gives the same RefNumber; the full Odoo number always goes
  first in ``Memo`` (``numbered``: "INV/2026/00001: reference"), which is how a look-up
  recognises the document or payment as ours;
* country rules (the adapter's ``country``, from HostRet ``Country``): US invoice and credit
  memo lines carry the line's tax (a sales tax code such as ``Tax``/``Non``) as
  ``SalesTaxCodeRef`` and the document's ``tax_code`` (an item sales tax or group) as
  ``ItemSalesTaxRef``; CA and UK lines carry their GST/HST/VAT code as ``SalesTaxCodeRef`` and
  no ``ItemSalesTaxRef`` is sent. Bill and vendor credit lines are expense lines (the line's
  account and tax code) in every country, item or not, so the expense is booked where Odoo
  booked it. A party's VAT number goes to ``TaxRegistrationNumber`` in CA and UK, a US vendor's
  to ``VendorTaxIdent`` (a US customer has none). Addresses: US ``State``, CA the province in
  the same ``State`` element; qbXML 13.0's address has no ``County`` element (UK editions
  read the county from ``State``), so a UK county goes to ``State`` too;
* Mods carry ``ListID``/``TxnID`` and ``EditSequence`` and, for transactions, **every** line
  (a line left out of a Mod is deleted by QuickBooks), each as a new line (``TxnLineID`` -1):
  we keep no line ids, so the Mod replaces the lines as a whole;
* a party's currency is not sent (QuickBooks' ``CurrencyRef`` names its own currency list,
  "US Dollar"...; a transaction takes its party's currency); a transaction's exchange rate is
  sent when it is not 1.
"""
import re
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from ..sync_rules import PayloadError, cents, digest, fit, numbered

LABEL = "QuickBooks Desktop"
COUNTRIES = ("US", "CA", "UK")
NEW_LINE = "-1"           # TxnLineID of a line added by a Mod
PARTY_NAME_MAX = 41       # Customer / Vendor Name, CompanyName
ITEM_NAME_MAX = 31        # ItemService / ItemNonInventory Name, ManufacturerPartNumber
PHONE_MAX = 21
EMAIL_MAX = 1023
TEXT_MAX = 4095           # Memo, Desc, Notes
VAT_MAX = {"TaxRegistrationNumber": 30, "VendorTaxIdent": 15}
ADDRESS_MAX = (("Addr1", 41), ("Addr2", 41), ("City", 31), ("State", 21), ("PostalCode", 13),
               ("Country", 31))
REF_DIGEST = 3            # hex digits of the SHA-256 a compacted number starts with
PLACES = Decimal("0.00001")  # quantities, rates, prices: at most 5 decimals
_SEPARATORS = re.compile(r"[/\-_. ]+")
_YEAR = re.compile(r"(?:^|(?<=[/\-_. ]))(?:19|20)(\d\d)(?=[/\-_. ])")
_COLON = re.compile(r"\s*:[\s:]*")
# Characters XML 1.0 cannot carry (lxml refuses them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# -- values ------------------------------------------------------------------------------------

def amount(value):
    """An AMTTYPE: rounded half-up to the cent, ``%.2f``."""
    return "%.2f" % cents(value)


def quantity(value):
    """A QUANTYPE / PRICETYPE: at most 5 decimals, no exponent, no trailing zeros."""
    value = Decimal(str(value)).quantize(PLACES, rounding=ROUND_HALF_UP).normalize()
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def xml_text(value, limit=None):
    """A text as an element may carry it: characters XML cannot hold dropped, at most
    ``limit`` characters; None for nothing."""
    if value is None:
        return None
    text = _NOT_XML.sub("", str(value)).strip()
    if limit and len(text) > limit:
        text = text[:limit].rstrip()
    return text or None


def list_name(name, limit):
    """The Name a customer, vendor (41) or item (31) is sent and looked up by: no colon (each,
    with the spaces around it, made `` - ``), at most ``limit`` characters (:func:`fit`)."""
    return fit(_COLON.sub(" - ", xml_text(name) or "").strip(), limit)


def ref_number(number, limit):
    """The RefNumber an Odoo ``number`` is sent as, at most ``limit`` characters (the rule in
    the module docstring); None without a number."""
    number = xml_text(number)
    if not number or len(number) <= limit:
        return number
    compact = _SEPARATORS.sub("", _YEAR.sub(r"\1", number))
    if len(compact) <= limit:
        return compact
    head = digest([number], REF_DIGEST) + "~"
    return head + compact[-(limit - len(head)):]


# -- elements ---------------------------------------------------------------------------------

def add(parent, tag, value, limit=None):
    """``<tag>value</tag>`` under ``parent`` (nothing for an empty value); the element."""
    text = xml_text(value, limit)
    if text is None:
        return None
    node = etree.SubElement(parent, tag)
    node.text = text
    return node


def add_ref(parent, tag, reference, by_txn=False):
    """``<tag><ListID>`` (a Ref with an id; ``TxnID`` with ``by_txn``) or ``<tag><FullName>``
    (a Ref with only a name); nothing without a Ref."""
    if reference is None or not (reference.id or reference.name):
        return None
    node = etree.SubElement(parent, tag)
    if reference.id:
        add(node, "TxnID" if by_txn else "ListID", str(reference.id))
    else:
        add(node, "FullName", reference.name)
    return node


def add_address(parent, tag, address):
    """An address (AddressData): street lines, city, state / province / county, postal code,
    country (see the country rules)."""
    if not address:
        return None
    values = {"Addr1": address.street, "Addr2": address.street2, "City": address.city,
              "State": address.state, "PostalCode": address.zip,
              "Country": address.country_code}
    if not any(values.values()):
        return None
    node = etree.SubElement(parent, tag)
    for name, limit in ADDRESS_MAX:
        add(node, name, values[name], limit)
    return node


def message(name, build):
    """``<nameRq><name>…</name></nameRq>`` (``name``: CustomerAdd, InvoiceMod...) with
    ``build(element)`` filling the inner element."""
    request = etree.Element(name + "Rq")
    build(etree.SubElement(request, name))
    return request


def header(element, remote_id, version, txn):
    """A Mod's first elements: ``ListID``/``TxnID`` and ``EditSequence``."""
    add(element, "TxnID" if txn else "ListID", remote_id)
    add(element, "EditSequence", version or "0")


def envelope(messages, version="13.0", on_error="continueOnError"):
    """The whole qbXML document: ``messages`` (``(requestID, element)`` pairs) in one
    ``QBXMLMsgsRq``."""
    root = etree.Element("QBXML")
    body = etree.SubElement(root, "QBXMLMsgsRq", onError=on_error)
    for request_id, element in messages:
        element.set("requestID", str(request_id))
        body.append(element)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="%s"?>\n%s'
            % (version, etree.tostring(root, encoding="unicode")))


def to_text(element):
    return etree.tostring(element, encoding="unicode")


def parser():
    """An XML parser that resolves no entity, reads no DTD, opens no network and refuses
    huge trees: what every answer (and every element we stored) is read with."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                           load_dtd=False, dtd_validation=False, encoding="utf-8")


def parse_own(text):
    """An element this module built and the Odoo side stored (a request's XML text)."""
    return etree.fromstring(text.encode("utf-8"), parser())


# -- list records -----------------------------------------------------------------------------

def party_message(party, country, mod=False):
    """CustomerAdd / VendorAdd, or their Mod."""
    obj = "Customer" if party.kind == "customer" else "Vendor"
    name = list_name(party.name, PARTY_NAME_MAX)

    def build(element):
        if mod:
            header(element, party.remote_id, party.remote_version, False)
        add(element, "Name", name)
        add(element, "CompanyName", list_name(party.company_name, PARTY_NAME_MAX)
            if party.company_name else None)
        add_address(element, "BillAddress" if obj == "Customer" else "VendorAddress",
                    party.address)
        add(element, "Phone", party.phone, PHONE_MAX)
        add(element, "Email", party.email, EMAIL_MAX)
        if name != xml_text(party.name):
            add(element, "Notes", "Name in Odoo: %s" % party.name, TEXT_MAX)
        if obj == "Vendor" and country == "US":
            add(element, "VendorTaxIdent", party.vat, VAT_MAX["VendorTaxIdent"])
        elif country != "US":
            add(element, "TaxRegistrationNumber", party.vat, VAT_MAX["TaxRegistrationNumber"])
    return message(obj + ("Mod" if mod else "Add"), build)


def item_object(service):
    return "ItemService" if service else "ItemNonInventory"


def item_message(product, mod=False):
    """ItemServiceAdd / ItemNonInventoryAdd, or their Mod: SalesAndPurchase when the product
    has an expense account, else SalesOrPurchase (its income account)."""
    obj = item_object(product.service)
    suffix = "Mod" if mod else ""

    def build(element):
        if mod:
            header(element, product.remote_id, product.remote_version, False)
        add(element, "Name", list_name(product.name, ITEM_NAME_MAX))
        if not product.service:
            add(element, "ManufacturerPartNumber", product.code, ITEM_NAME_MAX)
        if product.expense_account:
            detail = etree.SubElement(element, "SalesAndPurchase" + suffix)
            add(detail, "SalesDesc", product.description, TEXT_MAX)
            add(detail, "SalesPrice", _price(product.sale_price))
            add_ref(detail, "IncomeAccountRef", product.income_account)
            add(detail, "PurchaseDesc", product.description, TEXT_MAX)
            add(detail, "PurchaseCost", _price(product.purchase_price))
            add_ref(detail, "ExpenseAccountRef", product.expense_account)
        else:
            detail = etree.SubElement(element, "SalesOrPurchase" + suffix)
            add(detail, "Desc", product.description, TEXT_MAX)
            add(detail, "Price", _price(product.sale_price))
            add_ref(detail, "AccountRef", product.income_account)
    return message(obj + ("Mod" if mod else "Add"), build)


def _price(value):
    return quantity(value) if value is not None else None


def deactivate_message(obj, remote_id, version):
    """``XxxModRq`` making a list record inactive (``IsActive`` false)."""
    def build(element):
        header(element, remote_id, version, False)
        add(element, "IsActive", "false")
    return message(obj + "Mod", build)


# -- transactions -----------------------------------------------------------------------------

SALES_KINDS = ("invoice", "credit_note")
TXN_OBJECT = {"invoice": "Invoice", "credit_note": "CreditMemo", "bill": "Bill",
              "vendor_credit": "VendorCredit", "customer_payment": "ReceivePayment",
              "vendor_payment": "BillPaymentCheck", "journal_entry": "JournalEntry"}
REF_NUMBER_MAX = {"invoice": 11, "credit_note": 11, "journal_entry": 11, "vendor_payment": 11,
                  "bill": 20, "vendor_credit": 20, "customer_payment": 20}
NOUN = {"customer": "customer", "vendor": "vendor", "product": "item", "invoice": "invoice",
        "credit_note": "credit note", "bill": "bill", "vendor_credit": "vendor credit",
        "customer_payment": "customer payment", "vendor_payment": "bill payment",
        "journal_entry": "journal entry"}


def memo(number, text):
    """Memo: the full Odoo number first, then the reference or narration."""
    return xml_text(numbered(xml_text(number), xml_text(text)), TEXT_MAX)


def _exchange_rate(element, record):
    rate = getattr(record, "exchange_rate", None)
    if rate is not None and Decimal(rate) != 1:
        add(element, "ExchangeRate", format(Decimal(rate).normalize(), "f"))


def _sales_line(parent, tag, line, kind, mod):
    if not line.item:
        raise PayloadError("item_required", provider=LABEL, noun=NOUN[kind],
                           line=line.description or "")
    node = etree.SubElement(parent, tag)
    if mod:
        add(node, "TxnLineID", NEW_LINE)
    add_ref(node, "ItemRef", line.item)
    add(node, "Desc", line.description, TEXT_MAX)
    add(node, "Quantity", quantity(line.quantity))
    rate = line.unit_price
    if line.discount_percent and line.quantity:
        rate = Decimal(line.amount) / Decimal(line.quantity)
    add(node, "Rate", quantity(rate))
    add(node, "Amount", amount(line.amount))
    add_ref(node, "SalesTaxCodeRef", line.tax)


def _expense_line(parent, tag, line, mod):
    node = etree.SubElement(parent, tag)
    if mod:
        add(node, "TxnLineID", NEW_LINE)
    add_ref(node, "AccountRef", line.account)
    add(node, "Amount", amount(line.amount))
    add(node, "Memo", line.description, TEXT_MAX)
    add_ref(node, "SalesTaxCodeRef", line.tax)


def document_message(document, country, mod=False):
    """InvoiceAdd, CreditMemoAdd, BillAdd, VendorCreditAdd, or their Mod (every line, as
    new lines)."""
    kind, obj = document.kind, TXN_OBJECT[document.kind]
    line_suffix = "Mod" if mod else "Add"

    def build(element):
        if mod:
            header(element, document.remote_id, document.remote_version, True)
        if kind in SALES_KINDS:
            add_ref(element, "CustomerRef", document.party)
            add(element, "TxnDate", document.date.isoformat())
            add(element, "RefNumber", ref_number(document.number, REF_NUMBER_MAX[kind]))
            if document.due_date:
                add(element, "DueDate", document.due_date.isoformat())
            if country == "US":
                add_ref(element, "ItemSalesTaxRef", document.tax_code)
            add(element, "Memo", memo(document.number, document.reference))
            _exchange_rate(element, document)
            line_tag = obj + "Line" + line_suffix
            for line in document.lines:
                _sales_line(element, line_tag, line, kind, mod)
            return
        add_ref(element, "VendorRef", document.party)
        add(element, "TxnDate", document.date.isoformat())
        if kind == "bill" and document.due_date:
            add(element, "DueDate", document.due_date.isoformat())
        add(element, "RefNumber", ref_number(document.number, REF_NUMBER_MAX[kind]))
        add(element, "Memo", memo(document.number, document.reference))
        _exchange_rate(element, document)
        for line in document.lines:
            _expense_line(element, "ExpenseLine" + line_suffix, line, mod)
    return message(obj + ("Mod" if mod else "Add"), build)


def journal_message(entry, mod=False):
    """JournalEntryAdd (debit and credit lines, ``EntityRef`` for a party), or its Mod
    (``JournalLineMod`` lines; a Mod has no Memo in qbXML 13.0)."""
    def build(element):
        if mod:
            header(element, entry.remote_id, entry.remote_version, True)
        add(element, "TxnDate", entry.date.isoformat())
        add(element, "RefNumber", ref_number(entry.number, REF_NUMBER_MAX["journal_entry"]))
        if not mod:
            add(element, "Memo", memo(entry.number, entry.narration))
        _exchange_rate(element, entry)
        for line in entry.lines:
            debit = Decimal(line.debit or 0) != 0 or Decimal(line.credit or 0) == 0
            if mod:
                node = etree.SubElement(element, "JournalLineMod")
                add(node, "TxnLineID", NEW_LINE)
                add(node, "JournalLineType", "Debit" if debit else "Credit")
            else:
                node = etree.SubElement(element, "JournalDebitLine" if debit
                                        else "JournalCreditLine")
            add_ref(node, "AccountRef", line.account)
            add(node, "Amount", amount(line.debit if debit else line.credit))
            add(node, "Memo", line.description, TEXT_MAX)
            add_ref(node, "EntityRef", line.party)
    return message("JournalEntry" + ("Mod" if mod else "Add"), build)


PAYABLE = {"customer_payment": "invoice", "vendor_payment": "bill"}


def payment_message(payment):
    """ReceivePaymentAdd (deposited to the payment's account, applied to invoices) or
    BillPaymentCheckAdd (paid from the bank account, applied to bills). A payment allocated
    to another kind of document cannot be expressed (``allocation_invalid``), nor a bill
    payment that pays no bill (``qbd_payment_unallocated``)."""
    kind = payment.kind
    for allocation in payment.allocations:
        if allocation.document_kind != PAYABLE[kind]:
            raise PayloadError("allocation_invalid", kind=allocation.document_kind)
    number = ref_number(payment.number, REF_NUMBER_MAX[kind])

    def applied(element):
        for allocation in payment.allocations:
            node = etree.SubElement(element, "AppliedToTxnAdd")
            add(node, "TxnID", str(allocation.document.id))
            add(node, "PaymentAmount", amount(allocation.amount))

    def receive(element):
        add_ref(element, "CustomerRef", payment.party)
        add(element, "TxnDate", payment.date.isoformat())
        add(element, "RefNumber", number)
        add(element, "TotalAmount", amount(payment.amount))
        _exchange_rate(element, payment)
        add(element, "Memo", memo(payment.number, payment.reference))
        add_ref(element, "DepositToAccountRef", payment.account)
        if payment.allocations:
            applied(element)
        else:
            add(element, "IsAutoApply", "false")

    def pay_bills(element):
        if not payment.allocations:
            raise PayloadError("qbd_payment_unallocated", provider=LABEL,
                               record=payment.number or payment.key)
        add_ref(element, "PayeeEntityRef", payment.party)
        add(element, "TxnDate", payment.date.isoformat())
        add_ref(element, "BankAccountRef", payment.account)
        if number:
            add(element, "RefNumber", number)
        else:
            add(element, "IsToBePrinted", "false")
        add(element, "Memo", memo(payment.number, payment.reference))
        _exchange_rate(element, payment)
        applied(element)

    if kind == "customer_payment":
        return message("ReceivePaymentAdd", receive)
    return message("BillPaymentCheckAdd", pay_bills)


# -- queries, voids, deletes ----------------------------------------------------------------

def query_message(obj, list_record=False, remote_id=None, name=None, number=None,
                  lines=False, only=()):
    """``XxxQueryRq`` by id (``ListID``/``TxnID``), by ``FullName`` (``name``) or by
    ``RefNumber`` (``number``); ``lines``: ``IncludeLineItems`` (transactions); ``only``: the
    ``IncludeRetElement`` s (the Ret elements wanted, all by default)."""
    request = etree.Element(obj + "QueryRq")
    if remote_id:
        add(request, "ListID" if list_record else "TxnID", remote_id)
    elif name is not None:
        add(request, "FullName", name)
    else:
        add(request, "RefNumber", number)
    if lines and not list_record:
        add(request, "IncludeLineItems", "true")
    for element in only:
        add(request, "IncludeRetElement", element)
    return request


def void_message(void_type, remote_id):
    request = etree.Element("TxnVoidRq")
    add(request, "TxnVoidType", void_type)
    add(request, "TxnID", remote_id)
    return request


def delete_message(delete_type, remote_id):
    request = etree.Element("TxnDelRq")
    add(request, "TxnDelType", delete_type)
    add(request, "TxnID", remote_id)
    return request


def with_edit_sequence(element_text, version):
    """A Mod request (its XML text) with ``EditSequence`` set to ``version``."""
    element = parse_own(element_text)
    for node in element.iter("EditSequence"):
        node.text = version
    return element

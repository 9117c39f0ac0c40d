"""What the sync engine hands the adapters: provider-neutral records, and what comes back.

The Odoo side turns invoices, partners, products... into these plain objects (amounts as
Decimal, dates as ``datetime.date``, references to remote records as :class:`Ref`); each
adapter turns them into its provider's payloads. Nothing here imports odoo.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .messages import render

# Record kinds, in dependency order: a record only references kinds listed before it.
PARTY_KINDS = ("customer", "vendor")
PRODUCT_KINDS = ("product",)
DOCUMENT_KINDS = ("invoice", "credit_note", "bill", "vendor_credit")
PAYMENT_KINDS = ("customer_payment", "vendor_payment")
JOURNAL_KINDS = ("journal_entry",)
KINDS = PARTY_KINDS + PRODUCT_KINDS + DOCUMENT_KINDS + PAYMENT_KINDS + JOURNAL_KINDS
# A failed WriteResult with one of these codes may still have been written remotely: its
# answer never came (``no_answer``) or could not be read (``bad_answer``).
NO_ANSWER, BAD_ANSWER = "no_answer", "bad_answer"
OUTCOME_UNKNOWN = (NO_ANSWER, BAD_ANSWER)


@dataclass
class Ref:
    """A record in the remote company: its id, and its name where the provider wants one."""

    id: str
    name: str = None


# RemoteAccount.group: what an account is, in the same words for every provider (each
# provider's lookups module holds its table from AccountType/Classification or Type/Class).
ACCOUNT_GROUPS = (
    "income", "other_income", "expense", "cost_of_sales", "bank", "receivable", "payable",
    "current_asset", "fixed_asset", "current_liability", "long_term_liability", "equity",
    "other",
)
# RemoteTax.applies_to: the documents a tax may be used on.
TAX_APPLIES_TO = ("sales", "purchases", "both")


@dataclass
class RemoteAccount:
    id: str
    name: str
    code: str = None
    type: str = None          # QBO AccountType / Xero Type, as the provider says it
    active: bool = True
    is_bank: bool = False     # may receive or pay money (payments' deposit account)
    group: str = "other"      # one of ACCOUNT_GROUPS
    currency: str = None      # ISO 4217, when the provider says it (QBO CurrencyRef, Xero
    #                           CurrencyCode of bank accounts)
    subtype: str = None       # QBO AccountSubType / Xero SystemAccount, as the provider says it


@dataclass
class RemoteTax:
    id: str                   # QBO TaxCode id / Xero TaxType
    name: str
    rate: Decimal = None      # percent; QBO: the sum of the code's sales rates (of its
    #                           purchase rates when it has no sales rate); None when the
    #                           provider decides it per document (a QBO US "TAX" code
    #                           without rates)
    active: bool = True
    applies_to: str = "both"  # one of TAX_APPLIES_TO
    exempt: bool = False      # non-taxable, or 0 %: what an Odoo 0 % tax maps to
    purchase_rate: Decimal = None  # QBO: the sum of the code's purchase rates, when it has


@dataclass
class RemoteItem:
    """A product or service of the remote company (QBO Item / Xero Item), for matching
    Odoo products; ``id`` is what a Product binding's remote id is (QBO Id, Xero ItemID)."""

    id: str
    name: str
    code: str = None          # QBO Sku / Xero Code
    type: str = None          # QBO Type (Service, NonInventory, Inventory, ...); Xero:
    #                           Inventory (tracked) or NonInventory
    active: bool = True
    sale_price: Decimal = None
    income_account: str = None   # a RemoteAccount id
    expense_account: str = None  # a RemoteAccount id


@dataclass
class Chart:
    """The remote company's chart of accounts, taxes and items, for mapping."""

    accounts: list = field(default_factory=list)   # of RemoteAccount
    taxes: list = field(default_factory=list)      # of RemoteTax
    country: str = None       # ISO 3166 alpha-2 of the remote company
    currency: str = None      # its home (base) currency, ISO 4217
    items: list = field(default_factory=list)      # of RemoteItem
    # QBO US: the sales tax code (a rate or a group) Preferences name as the company's
    # default, what Document.tax_code may carry; None elsewhere.
    default_tax_code: str = None


@dataclass
class Address:
    street: str = None
    street2: str = None
    city: str = None
    zip: str = None
    state: str = None
    country_code: str = None  # ISO 3166 alpha-2


@dataclass
class Party:
    """A customer or a vendor (QBO Customer / Vendor, Xero Contact)."""

    key: str                  # idempotency key: stable for this binding and payload version
    kind: str                 # "customer" or "vendor"
    name: str
    email: str = None
    phone: str = None
    vat: str = None
    company_name: str = None
    currency: str = None
    address: Address = None
    remote_id: str = None     # set when updating
    remote_version: str = None  # QBO SyncToken when updating


@dataclass
class Product:
    """QBO Item (Service or NonInventory) / Xero Item."""

    key: str
    name: str
    code: str = None          # SKU / Xero Code (required by Xero: fall back to the name)
    description: str = None
    sale_price: Decimal = None
    purchase_price: Decimal = None
    income_account: Ref = None
    expense_account: Ref = None
    service: bool = True
    remote_id: str = None
    remote_version: str = None


@dataclass
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal           # net of tax, = quantity * unit_price less discount, rounded
    account: Ref              # income account (sales) / expense account (purchases)
    tax: Ref = None           # QBO TaxCode / Xero TaxType
    tax_amount: Decimal = Decimal("0")
    # The product: None makes an account-based line (``account`` and ``tax``) wherever the
    # provider allows one; the kinds where it does not are the provider's
    # Capabilities.item_required_kinds (QBO invoices and credit notes).
    item: Ref = None
    discount_percent: Decimal = None


@dataclass
class Document:
    """An invoice, a customer credit note, a vendor bill or a vendor refund."""

    key: str
    kind: str                 # one of DOCUMENT_KINDS
    number: str               # Odoo's number: QBO DocNumber / Xero InvoiceNumber or Reference
    date: date
    party: Ref
    currency: str
    lines: list               # of Line
    amount_untaxed: Decimal
    amount_tax: Decimal
    amount_total: Decimal
    due_date: date = None
    exchange_rate: Decimal = None   # units of company currency per unit of document currency
    reference: str = None
    remote_id: str = None
    remote_version: str = None
    # QBO US editions: the tax code (a rate or a group) applied to the document as a whole
    # (TxnTaxDetail.TxnTaxCodeRef), e.g. Chart.default_tax_code; Xero has none.
    tax_code: Ref = None
    # Look for it in the remote company before creating it: a send of it may have reached the
    # provider without its answer reaching us. False when it was certainly never sent.
    find_existing: bool = True


@dataclass
class Allocation:
    """Part of a payment applied to one document."""

    document: Ref
    document_kind: str        # one of DOCUMENT_KINDS
    amount: Decimal


@dataclass
class Payment:
    """A customer payment (QBO Payment) or a vendor payment (QBO BillPayment); Xero
    Payment, one per allocated document."""

    key: str
    kind: str                 # "customer_payment" or "vendor_payment"
    date: date
    party: Ref
    amount: Decimal
    currency: str
    account: Ref              # bank / deposit account
    allocations: list         # of Allocation
    exchange_rate: Decimal = None
    reference: str = None     # the memo
    remote_id: str = None
    remote_version: str = None
    # Odoo's payment name, unique per company (e.g. "PBNK1/2026/00007"): written where the
    # provider keeps a payment's reference (QBO PaymentRefNum / BillPayment DocNumber and
    # PrivateNote, Xero Reference), so a look-up can recognise the payment as ours.
    number: str = None
    find_existing: bool = True   # as for Document


@dataclass
class JournalLine:
    account: Ref
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    description: str = None
    party: Ref = None
    tax: Ref = None


@dataclass
class JournalEntry:
    """A miscellaneous journal entry: QBO JournalEntry / Xero ManualJournal."""

    key: str
    kind: str                 # "journal_entry"
    date: date
    number: str
    lines: list               # of JournalLine, balanced
    currency: str = None
    exchange_rate: Decimal = None
    narration: str = None
    remote_id: str = None
    remote_version: str = None
    find_existing: bool = True   # as for Document


@dataclass
class WriteResult:
    """The outcome of writing one record. ``error`` is a ProviderError when ``ok`` is False:
    its ``code`` and ``params`` say why (:mod:`.messages`), its ``provider_code`` the
    provider's own code where it gave one (e.g. QBO "6240"). ``note`` is what else happened,
    in plain words (e.g. voided and recreated): ``MESSAGES[note_code] % note_params``.
    ``remote_updated_at`` is when the remote record last changed after the write, as the
    provider says it (QBO ``MetaData.LastUpdatedTime``, Xero ``UpdatedDateUTC``; QBO's
    answer ``time`` for a delete, which leaves no record), naive UTC: a webhook or a pull
    that reports this time (and ``remote_version``) reports our own write. None where the
    provider said no such time (a record linked rather than written, a Xero item deleted,
    a QBO transaction already gone)."""

    key: str
    ok: bool
    remote_id: str = None
    remote_version: str = None  # QBO SyncToken / Xero UpdatedDateUTC (ISO string)
    remote_number: str = None
    error: Exception = None
    linked_existing: bool = False  # an existing remote record was linked instead of created
    note: str = None
    note_code: str = None
    note_params: dict = field(default_factory=dict)
    remote_updated_at: datetime = None

    def noted(self, code, **params):
        """This result with the note ``code`` (:mod:`.messages`) and its ``params``."""
        self.note_code, self.note_params = code, params
        self.note = render(code, params)
        return self

    @property
    def outcome_unknown(self):
        """Failed, but it may have been written remotely (codes ``no_answer`` and
        ``bad_answer``): look it up before creating it again."""
        return not self.ok and getattr(self.error, "code", None) in OUTCOME_UNKNOWN

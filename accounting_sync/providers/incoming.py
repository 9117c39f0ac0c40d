"""What a pull brings back: provider-neutral records of what changed remotely.

An adapter's ``changes()`` reads what changed in a remote company since a cursor (QBO Change
Data Capture, Xero ``If-Modified-Since`` with paging) and returns a :class:`PullResult`: one
:class:`~.base.Change` per remote record version read, whose ``record`` is one of the records
below, already turned from the provider's shape into ours (amounts as Decimal, dates as
``datetime.date``, remote references as remote ids). The Odoo side decides what each does to
the books (a payment against an invoice we sent becomes an Odoo payment; an edit of a
document we sent becomes a conflict; ...). Nothing here imports odoo.

Statuses (``status``): ``active`` (exists and counts), ``voided`` (kept remotely with its
amounts zeroed or its status VOIDED), ``deleted`` (gone: QBO ``status: "Deleted"``, Xero
``DELETED``; a record read only as deleted carries its id and nothing else), ``draft``
(Xero DRAFT / SUBMITTED: not yet in the books), ``archived`` (a contact or item made
inactive, a Xero manual journal ARCHIVED).

Versions (``remote_version``) are what the writers store for a record pushed: QBO's
SyncToken, Xero's UpdatedDateUTC as an ISO string; so a pulled record whose version is its
binding's ``remote_version`` is unchanged since our last write (and its ``occurred_at`` is
that write's ``WriteResult.remote_updated_at``). A Xero payment we pushed is one Xero
payment per allocation (a binding's remote id is their ids, comma-joined); a pull reads
each Xero payment alone, with its one allocation.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .documents import Address

STATUSES = ("active", "voided", "deleted", "draft", "archived")


@dataclass
class IncomingLine:
    """A document line as the remote company has it."""

    description: str = None
    quantity: Decimal = None
    unit_price: Decimal = None
    amount: Decimal = None          # net of tax
    account_id: str = None          # remote account id (QBO Account Id / Xero AccountCode)
    tax_id: str = None              # QBO TaxCode id / Xero TaxType
    item_id: str = None             # QBO ItemRef Id / Xero Item.ItemID (a product binding's
    #                                 remote id; Xero names it only when the line has an item)
    tax_amount: Decimal = None      # Xero TaxAmount (QBO keeps tax per document only: None)
    item_code: str = None           # Xero ItemCode (QBO: None)


@dataclass
class IncomingDocument:
    """An invoice, credit note, bill or vendor credit (``kind``: one of
    :data:`.documents.DOCUMENT_KINDS`)."""

    kind: str
    remote_id: str
    remote_version: str = None      # QBO SyncToken / Xero UpdatedDateUTC (ISO string)
    status: str = "active"
    number: str = None              # QBO DocNumber / Xero InvoiceNumber
    reference: str = None           # Xero Reference / QBO PrivateNote or CustomerMemo
    date: date = None
    due_date: date = None
    party_id: str = None            # remote customer / vendor / contact id
    currency: str = None
    exchange_rate: Decimal = None
    amount_untaxed: Decimal = None
    amount_tax: Decimal = None
    amount_total: Decimal = None
    balance: Decimal = None         # amount still due
    lines: list = field(default_factory=list)   # of IncomingLine


@dataclass
class IncomingAllocation:
    """The part of a payment applied to one document."""

    document_kind: str              # one of .documents.DOCUMENT_KINDS
    document_id: str                # the document's remote id
    amount: Decimal


@dataclass
class IncomingPayment:
    """A customer payment (QBO Payment, Xero Payment on an ACCREC invoice or credit note) or
    a vendor payment (QBO BillPayment, Xero Payment on an ACCPAY document)."""

    kind: str                       # "customer_payment" or "vendor_payment"
    remote_id: str
    remote_version: str = None
    status: str = "active"
    date: date = None
    party_id: str = None
    amount: Decimal = None          # in the payment's currency
    currency: str = None
    exchange_rate: Decimal = None   # units of the remote home currency per unit of currency
    account_id: str = None          # deposit / bank account (remote id)
    reference: str = None           # QBO PrivateNote / Xero Reference
    allocations: list = field(default_factory=list)   # of IncomingAllocation
    number: str = None              # QBO PaymentRefNum (Payment) / DocNumber (BillPayment);
    #                                 Xero: None (its Reference holds our number, numbered)


@dataclass
class IncomingParty:
    """A customer or vendor (a Xero contact is both: ``kinds`` says which it may be)."""

    kinds: tuple
    remote_id: str
    remote_version: str = None
    status: str = "active"
    name: str = None
    email: str = None
    phone: str = None
    vat: str = None
    currency: str = None
    address: Address = None


@dataclass
class IncomingProduct:
    """An item / product or service."""

    remote_id: str
    remote_version: str = None
    status: str = "active"
    name: str = None
    code: str = None
    description: str = None
    sale_price: Decimal = None
    purchase_price: Decimal = None


@dataclass
class IncomingJournalLine:
    """A journal line: ``debit`` or ``credit`` (the other 0)."""

    account_id: str = None          # QBO AccountRef Id / Xero AccountCode (AccountID without)
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    description: str = None
    party_id: str = None            # QBO Entity.EntityRef (Xero journal lines have none)
    tax_id: str = None              # QBO TaxCodeRef / Xero TaxType
    tax_amount: Decimal = None      # Xero TaxAmount


@dataclass
class IncomingJournalEntry:
    """A miscellaneous journal entry: QBO JournalEntry / Xero ManualJournal (``kind``:
    ``journal_entry``)."""

    remote_id: str
    remote_version: str = None
    status: str = "active"          # Xero POSTED → active, DRAFT → draft, VOIDED, DELETED
    kind: str = "journal_entry"
    number: str = None              # QBO DocNumber (Xero: None; its Narration starts with ours)
    date: date = None
    currency: str = None
    exchange_rate: Decimal = None
    narration: str = None           # QBO PrivateNote / Xero Narration
    lines: list = field(default_factory=list)   # of IncomingJournalLine


@dataclass
class PullResult:
    """What one ``changes()`` call read.

    ``changes``: the Changes read (each with its ``record``), oldest first by
    ``occurred_at`` (the remote record's own last-updated time); ``cursors``: for each remote
    type read completely, the position to resume from next time (an opaque string: the
    Odoo side stores it and gives it back; it advances it only once what it covers is
    applied; today :func:`position` of the provider's time, :mod:`.pull`); ``reads``: how many API calls it made (metered: QBO CorePlus, Xero egress);
    ``reread``: the remote types whose cursor was older than the provider lets a pull look
    back (QBO: 30 days) and were therefore read in full; ``failed``: remote type → the
    ProviderError that stopped its read (its cursor is not in ``cursors``)."""

    changes: list = field(default_factory=list)
    cursors: dict = field(default_factory=dict)
    reads: int = 0
    reread: tuple = ()
    failed: dict = field(default_factory=dict)


def position(moment):
    """A cursor position for ``moment`` (a naive UTC datetime)."""
    return moment.replace(microsecond=0).isoformat() if isinstance(moment, datetime) else None


def moment(cursor):
    """The naive UTC datetime of a cursor position (None for None or a bad one)."""
    try:
        return datetime.fromisoformat(cursor) if cursor else None
    except (TypeError, ValueError):
        return None

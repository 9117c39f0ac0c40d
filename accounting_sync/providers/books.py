"""What a reconciliation reads of a remote company's books, whatever the provider
(the adapters' ``books()``; provider-facts 8.5).

``books(tokens, company_id, as_of, start, kinds, known, basis, budget)`` reads, for the
documents dated from ``start`` (the connection's sync start date) to ``as_of``:

* **the trial balance** at ``as_of`` (:class:`TrialBalanceRow` per remote account: debit
  minus credit), accrual or cash (``basis``);
* **the agings**: what each customer and vendor owes or is owed (:attr:`RemoteBooks.receivable`
  and ``payable``, by remote partner id, in the home currency) and their totals;
* **the documents** of ``kinds`` (invoice, credit_note, bill, vendor_credit) dated in the
  window, in pages (:class:`RemoteDocument`: total, tax, open balance, status) — what was
  sent from Odoo and what was recorded only remotely alike — then, by id, those of
  ``known`` (kind → remote ids the Odoo side linked) the window did not hold (a date changed
  remotely); an id still not found is in :attr:`RemoteBooks.not_found` (deleted remotely).

Reads are metered by the providers (QBO CorePlus, Xero egress): each call counts against
``budget`` (a :class:`ReadBudget`) *before* it is made. When the budget is spent the reading
stops where it is, :attr:`RemoteBooks.complete` is False and :attr:`RemoteBooks.unread` names
the parts not read (``trial_balance``, ``agings``, ``documents``), so that the Odoo side
compares only what was read and says what was not.
"""
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

PARTS = ("trial_balance", "agings", "documents")
CENT = Decimal("0.01")
ZERO = Decimal(0)
# RemoteDocument.status
POSTED, VOIDED, DELETED, DRAFT = "posted", "voided", "deleted", "draft"
DOCUMENT_KINDS = ("invoice", "credit_note", "bill", "vendor_credit")
# the side of the books a document kind is on, and the sign of its open balance there
SIDES = {"invoice": ("receivable", 1), "credit_note": ("receivable", -1),
         "bill": ("payable", 1), "vendor_credit": ("payable", -1)}


class BudgetSpent(Exception):
    """The reconciliation's read budget is spent: the read asked for is not made."""


class ReadBudget:
    """How many reads a reconciliation may still make (``limit``; None: no limit) and has
    made (``used``)."""

    def __init__(self, limit=None):
        self.limit = limit if limit is None else max(int(limit), 0)
        self.used = 0

    def charge(self):
        """Count one read about to be made; BudgetSpent if it would go over the limit."""
        if self.limit is not None and self.used >= self.limit:
            raise BudgetSpent()
        self.used += 1


@dataclass
class RemoteDocument:
    """One remote document as its books hold it now: amounts in its own currency, ``rate``
    the units of the home currency one unit of it is worth (1 in the home currency)."""

    kind: str
    remote_id: str
    number: str = None
    partner_id: str = None
    date: object = None
    total: Decimal = ZERO
    tax: Decimal = ZERO
    balance: Decimal = ZERO
    status: str = POSTED
    lines: int = 0
    currency: str = None
    rate: Decimal = Decimal(1)

    @property
    def open_in_home_currency(self):
        return (self.balance * self.rate).quantize(CENT)


@dataclass
class TrialBalanceRow:
    """One remote account's balance on the trial balance: ``balance`` is debit minus credit;
    ``code`` its account code where the provider shows one."""

    account_id: str
    name: str
    balance: Decimal
    code: str = None


@dataclass
class RemoteBooks:
    """What ``books()`` read (module docstring)."""

    documents: dict = field(default_factory=dict)      # remote id -> RemoteDocument
    not_found: set = field(default_factory=set)         # known ids the provider has not
    receivable: dict = field(default_factory=dict)      # partner remote id -> open amount
    payable: dict = field(default_factory=dict)
    partner_names: dict = field(default_factory=dict)   # partner remote id -> name
    receivable_total: Decimal = None
    payable_total: Decimal = None
    trial_balance: dict = field(default_factory=dict)   # account remote id -> row
    unread: list = field(default_factory=list)          # PARTS not (fully) read
    reads: int = 0

    @property
    def complete(self):
        return not self.unread

    def has_read(self, part):
        """Whether ``part`` was read in full."""
        return part not in self.unread


def agings_from_documents(books, as_of):
    """Fill the agings of ``books`` from its documents dated on or before ``as_of`` (for a
    provider whose aging report is per partner only, Xero): what each partner owes or is
    owed now, in the home currency."""
    receivable, payable = {}, {}
    for doc in books.documents.values():
        if doc.status != POSTED or (doc.date and doc.date > as_of) or not doc.partner_id:
            continue
        side, sign = SIDES[doc.kind]
        target = receivable if side == "receivable" else payable
        target[doc.partner_id] = target.get(doc.partner_id, ZERO) + sign * doc.open_in_home_currency
    books.receivable = {k: v for k, v in receivable.items() if v}
    books.payable = {k: v for k, v in payable.items() if v}
    books.receivable_total = sum(books.receivable.values(), ZERO)
    books.payable_total = sum(books.payable.values(), ZERO)


def reading_parts(books, budget, steps):
    """Run ``steps`` ((part, function) pairs, in order) while the budget lasts: a part whose
    read was stopped by the budget, and every part after it, is listed in ``books.unread``."""
    stopped = False
    for part, step in steps:
        if stopped:
            books.unread.append(part)
            continue
        try:
            step()
        except BudgetSpent:
            stopped = True
            books.unread.append(part)
    books.reads = budget.used
    return books


def books_to_dict(books):
    """``books`` as JSON-safe data (amounts and dates as text): what a reconciliation read
    over several Web Connector exchanges keeps between them."""
    def plain(value):
        if isinstance(value, (Decimal, date)):
            return str(value) if isinstance(value, Decimal) else value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return [plain(v) for v in sorted(value) if v is not None] \
                if isinstance(value, set) else [plain(v) for v in value]
        return value
    return plain({
        "documents": {k: asdict(d) for k, d in books.documents.items()},
        "not_found": books.not_found, "receivable": books.receivable,
        "payable": books.payable, "partner_names": books.partner_names,
        "receivable_total": books.receivable_total, "payable_total": books.payable_total,
        "trial_balance": {k: asdict(r) for k, r in books.trial_balance.items()},
        "unread": books.unread, "reads": books.reads})


def books_from_dict(data):
    """The :class:`RemoteBooks` :func:`books_to_dict` gave."""
    data = data or {}

    def amount(value):
        return None if value is None else Decimal(str(value))

    documents = {}
    for key, doc in (data.get("documents") or {}).items():
        documents[key] = RemoteDocument(**dict(
            doc, total=amount(doc.get("total")), tax=amount(doc.get("tax")),
            balance=amount(doc.get("balance")), rate=amount(doc.get("rate")) or Decimal(1),
            date=date.fromisoformat(doc["date"]) if doc.get("date") else None))
    return RemoteBooks(
        documents=documents, not_found=set(data.get("not_found") or ()),
        receivable={k: amount(v) for k, v in (data.get("receivable") or {}).items()},
        payable={k: amount(v) for k, v in (data.get("payable") or {}).items()},
        partner_names=dict(data.get("partner_names") or {}),
        receivable_total=amount(data.get("receivable_total")),
        payable_total=amount(data.get("payable_total")),
        trial_balance={k: TrialBalanceRow(**dict(r, balance=amount(r.get("balance"))))
                       for k, r in (data.get("trial_balance") or {}).items()},
        unread=list(data.get("unread") or ()), reads=int(data.get("reads") or 0))

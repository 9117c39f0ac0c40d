"""QuickBooks Online reads: the chart, the queries of the look-ups made before creating (the
rules and decisions are :mod:`..matching`'s; see :mod:`.writer`), and QBO's faults as message
codes and parameters (:mod:`..messages`).

Queries use QBO's query language (``SELECT * FROM Customer WHERE DisplayName IN ('a', 'b')``),
paged by ``STARTPOSITION``/``MAXRESULTS`` (1000 rows a page) and with at most 30 values per
``IN``; quotes in values are escaped with a backslash. They filter only on fields QBO lets a
query filter on: payments by party and date (``CustomerRef`` / ``VendorRef`` and
``TxnDate``, one query per batch: the batch's parties, its first to its last date), never
by ``PaymentRefNum``, ``PrivateNote`` or lines, which QBO does not query (nor ``DocNumber``
on a Payment): amounts, documents and our number are compared in memory.

The chart (:meth:`Lookups.chart`) is one paged query per list — Account, TaxRate, TaxCode,
Item, CompanyInfo, Preferences — six calls for a usual company (active records only, as QBO
answers a query that does not name ``Active``). Each account's provider-neutral ``group``
(:data:`.documents.ACCOUNT_GROUPS`) comes from its AccountType, else its Classification:

=========================  ======================  ==================  ==================
AccountType                group                   AccountType         group
=========================  ======================  ==================  ==================
Bank                       bank                    Income              income
Accounts Receivable        receivable              Other Income        other_income
Other Current Asset        current_asset           Cost of Goods Sold  cost_of_sales
Fixed Asset, Other Asset   fixed_asset             Expense             expense
Accounts Payable           payable                 Other Expense       expense
Other Current Liability,   current_liability       Equity              equity
Credit Card
Long Term Liability        long_term_liability     Non-Posting         other
=========================  ======================  ==================  ==================

(Classification, for another AccountType: Asset → current_asset, Liability →
current_liability, Equity → equity, Revenue → income, Expense → expense; else other.)

A TaxCode's ``rate`` is the sum of the RateValue of the TaxRates in its SalesTaxRateList
(``purchase_rate``: in its PurchaseTaxRateList; ``rate`` is that sum when it has no sales
rate), ``applies_to`` says which of the two lists it has (both, or neither: ``both``), and it
is ``exempt`` when it is not Taxable or its rate is 0. A Taxable code without rates (the US
pseudo code ``TAX``, whose rate the transaction's tax code or Automated Sales Tax decides)
has no rate. The country is CompanyInfo's, as ISO 3166 alpha-2 (QBO answers ``US`` or, since
2025, ``USA``); the home currency Preferences' CurrencyPrefs.HomeCurrency; the default tax
code Preferences' TaxPrefs.TaxGroupCodeRef.
"""
import re
from decimal import Decimal

from ..answers import WrongShape, distinct, flag, number, obj, objects, text
from ..documents import PAYMENT_KINDS, Chart, RemoteAccount, RemoteItem, RemoteTax
from ..matching import Candidate, Decision, Lookups as BaseLookups, match_payments
from ..messages import render
from ..sync_rules import cents, chunks
from .payloads import (
    ENTITY, LABEL, LINKED_TXN_TYPE, NOUN, display_name, item_name, journal_total, short_number,
    sku,
)

PAGE = 1000
IN_SIZE = 30
REFERENCED = {"CustomerRef": "customer", "VendorRef": "vendor", "ItemRef": "product",
              "AccountRef": "account", "IncomeAccountRef": "income account",
              "ExpenseAccountRef": "expense account", "DepositToAccountRef": "bank account",
              "BankAccountRef": "bank account", "TaxCodeRef": "tax code",
              "LinkedTxn": "document paid"}
# what is mapped rather than synced: what its Odoo side is called
MAPPED = {"account": "account", "income account": "account", "expense account": "account",
          "bank account": "bank journal's account", "tax code": "tax"}
# what a kind's records mostly reference, for a 610 that does not name the element
REFERENCED_BY_KIND = {"invoice": "customer", "credit_note": "customer",
                      "customer_payment": "customer", "bill": "vendor",
                      "vendor_credit": "vendor", "vendor_payment": "vendor",
                      "product": "account", "journal_entry": "account or party"}


QBO_ID = re.compile(r"[0-9]{1,32}")  # entity Ids are numeric strings

# AccountType → RemoteAccount.group (the table in the module docstring), then Classification.
ACCOUNT_GROUPS = {
    "Bank": "bank", "Accounts Receivable": "receivable",
    "Other Current Asset": "current_asset", "Fixed Asset": "fixed_asset",
    "Other Asset": "fixed_asset", "Accounts Payable": "payable",
    "Credit Card": "current_liability", "Other Current Liability": "current_liability",
    "Long Term Liability": "long_term_liability", "Equity": "equity", "Income": "income",
    "Other Income": "other_income", "Cost of Goods Sold": "cost_of_sales",
    "Expense": "expense", "Other Expense": "expense", "Non-Posting": "other",
}
CLASSIFICATION_GROUPS = {"Asset": "current_asset", "Liability": "current_liability",
                         "Equity": "equity", "Revenue": "income", "Expense": "expense"}
# CompanyInfo.Country as QBO may spell it → ISO 3166 alpha-2 (the markets QBO serves).
COUNTRIES = {"USA": "US", "UNITED STATES": "US", "CAN": "CA", "CANADA": "CA",
             "GBR": "GB", "UK": "GB", "UNITED KINGDOM": "GB", "AUS": "AU", "AUSTRALIA": "AU",
             "IND": "IN", "INDIA": "IN", "FRA": "FR", "FRANCE": "FR", "NZL": "NZ",
             "NEW ZEALAND": "NZ", "IRL": "IE", "IRELAND": "IE", "ZAF": "ZA",
             "SOUTH AFRICA": "ZA", "SGP": "SG", "SINGAPORE": "SG", "HKG": "HK",
             "HONG KONG": "HK", "MYS": "MY", "MALAYSIA": "MY", "PHL": "PH",
             "PHILIPPINES": "PH", "ARE": "AE", "UNITED ARAB EMIRATES": "AE", "BRA": "BR",
             "BRAZIL": "BR", "MEX": "MX", "MEXICO": "MX", "DEU": "DE", "GERMANY": "DE",
             "ESP": "ES", "SPAIN": "ES", "ITA": "IT", "ITALY": "IT"}


def account_group(account_type, classification):
    """The provider-neutral group of a QBO account (module docstring)."""
    return ACCOUNT_GROUPS.get(account_type) or CLASSIFICATION_GROUPS.get(classification,
                                                                         "other")


def country_code(value):
    """CompanyInfo.Country as ISO 3166 alpha-2 (an unknown spelling as given)."""
    if not value:
        return None
    value = value.strip()
    if len(value) == 2:
        return value.upper()
    return COUNTRIES.get(value.upper(), value)


def qbo_id(value, what="an Id"):
    """A QBO entity Id from an answer (it may go into a URL path later), else WrongShape."""
    value = text(value, what, required=True)
    if not QBO_ID.fullmatch(value):
        raise WrongShape("%s is not a QuickBooks Online id" % what)
    return value


# QBO refuses a payment applying more to a document than its open balance with a 6000
# Business Validation Error (whose detail's wording varies): the payment may be there already.
OVERPAID = "6000"
NUMBER_CLASH = "6140"      # Duplicate Document Number
NAME_CLASH = "6240"        # Duplicate Name Exists (across customers, vendors and employees)


def is_voided(row):
    """QBO voids by zeroing the amounts and noting "Voided"."""
    return (not number(row.get("TotalAmt"), "a TotalAmt", Decimal(0))
            and "voided" in (text(row.get("PrivateNote"), "a PrivateNote") or "").lower())


def quote(value):
    return "'%s'" % str(value).replace("\\", "\\\\").replace("'", "\\'")


def name_taken(kind, name, holder="customer, vendor or employee"):
    """The parameters of ``name_taken`` (6240): QBO keeps DisplayName unique across
    customers, vendors and employees."""
    return {"provider": LABEL, "holder": holder, "name": name,
            "suffix": "Vendor" if kind == "vendor" else "Customer"}


def fault_message(kind, label, code, message, detail="", element=None):
    """QBO's fault for one record as ``(message code, params)``, in plain words for the
    person who must fix it: what QBO said once (its Message is mostly repeated at the start
    of its Detail: :func:`..answers.distinct`), and for the common faults what to do."""
    noun = NOUN.get(kind, "record")
    said = ": ".join(distinct([message or "", detail or ""])) or "no reason given"
    if code == "610":
        thing = REFERENCED.get(element) or REFERENCED_BY_KIND.get(kind, noun)
        params = {"provider": LABEL, "thing": thing, "text": said.rstrip(".")}
        if thing in MAPPED:
            return "reference_inactive_mapped", dict(params, odoo_thing=MAPPED[thing])
        return "reference_inactive", params
    if code == NAME_CLASH:
        return "name_taken", name_taken(kind, label)
    if code == NUMBER_CLASH:
        return "number_taken", {"provider": LABEL, "number": label, "text": said}
    if code == "5010":
        return "stale", {"provider": LABEL, "noun": noun}
    if code == "6210":
        return "closed_period", {"provider": LABEL, "noun": noun, "record": label,
                                 "text": said}
    if code == OVERPAID:  # a business rule: the detail says which
        said = re.sub(r"^Business Validation Error:\s*", "", detail or message or said)
    params = {"provider": LABEL, "noun": noun, "record": label, "text": said.rstrip(".")}
    if code == "2050" and element:
        params["field"] = element
    return _refusal(kind, code, said, element), params


def plain_message(kind, label, code, message, detail="", element=None):
    """:func:`fault_message` as its English sentence."""
    return render(*fault_message(kind, label, code, message, detail, element))


def _refusal(kind, code, said, element):
    """The refusal's message code: what to do about a common fault (the others speak for
    themselves)."""
    lowered = said.lower()
    if code == "2040":
        return "refused_colon" if "colon" in lowered else "refused_character"
    if code == "2050":
        return "refused_too_long_field" if element else "refused_too_long"
    if code == "2500":
        return "refused_reference"
    if code == OVERPAID and ("accounts receivable" in lowered or "accounts payable" in lowered):
        return "refused_journal_party" if kind == "journal_entry" else "refused_account_type"
    if code == OVERPAID and kind in PAYMENT_KINDS:
        return "refused_overpaid"
    return "refused"


def _account(row):
    """An Account row as a RemoteAccount."""
    kind, name = text(row.get("AccountType"), "an AccountType"), text(row.get("Name"))
    subtype = text(row.get("AccountSubType"), "an AccountSubType")
    return RemoteAccount(
        id=qbo_id(row.get("Id"), "an account's Id"),
        name=text(row.get("FullyQualifiedName"), "an account's name") or name,
        code=text(row.get("AcctNum"), "an account's AcctNum"), type=kind,
        active=flag(row.get("Active"), what="an account's Active"),
        is_bank=kind == "Bank" or (kind == "Other Current Asset" and (
            subtype == "UndepositedFunds" or name == "Undeposited Funds")),
        group=account_group(kind, text(row.get("Classification"), "a Classification")),
        currency=_ref_value(row, "CurrencyRef"), subtype=subtype)


def _rate_ids(row, field):
    details = objects(obj(row.get(field) or {}, "a " + field).get("TaxRateDetail"),
                      "a TaxRateDetail")
    return [text(obj(d.get("TaxRateRef") or {}, "a TaxRateRef").get("value"), "a TaxRateRef")
            for d in details]


def _tax(row, rates):
    """A TaxCode row as a RemoteTax; ``rates``: TaxRate Id → RateValue."""
    sales, purchases = _rate_ids(row, "SalesTaxRateList"), _rate_ids(row, "PurchaseTaxRateList")
    sales_rate = sum((rates.get(i, Decimal(0)) for i in sales), Decimal(0)) if sales else None
    purchase_rate = (sum((rates.get(i, Decimal(0)) for i in purchases), Decimal(0))
                     if purchases else None)
    taxable = row.get("Taxable")
    if taxable is not None:
        taxable = flag(taxable, what="a tax code's Taxable")
    rate = sales_rate if sales else purchase_rate
    if rate is None and not taxable:
        rate = Decimal(0)
    return RemoteTax(
        id=text(row.get("Id"), "a tax code's Id", required=True),
        name=text(row.get("Name"), "a tax code's name"), rate=rate,
        active=flag(row.get("Active"), what="a tax code's Active"),
        applies_to="both" if bool(sales) == bool(purchases) else (
            "sales" if sales else "purchases"),
        exempt=taxable is False or rate == 0, purchase_rate=purchase_rate)


def _item(row):
    """An Item row as a RemoteItem."""
    return RemoteItem(
        id=qbo_id(row.get("Id"), "an item's Id"), name=text(row.get("Name"), "an item's Name"),
        code=text(row.get("Sku"), "an item's Sku"), type=text(row.get("Type"), "an item's Type"),
        active=flag(row.get("Active"), what="an item's Active"),
        sale_price=number(row.get("UnitPrice"), "an item's UnitPrice"),
        income_account=_ref_value(row, "IncomeAccountRef"),
        expense_account=_ref_value(row, "ExpenseAccountRef"))


def _email(row):
    return text(obj(row.get("PrimaryEmailAddr") or {}, "a PrimaryEmailAddr").get("Address"),
                "an e-mail address")


def _ref_value(row, *keys):
    for key in keys:
        if row.get(key):
            return text(obj(row[key], "a " + key).get("value"), "a %s value" % key)
    return None


class Lookups(BaseLookups):
    """The reads a :class:`~.writer.QboWriter` makes: the chart, and the queries of the
    look-ups (:class:`..matching.Lookups` decides)."""

    label = LABEL
    NOUN = NOUN
    NUMBER_CLASH = NUMBER_CLASH

    def rows(self, entity, where=None):
        """Every row of a query, page by page."""
        result, start = [], 1
        while True:
            query = "SELECT * FROM %s%s STARTPOSITION %d MAXRESULTS %d" % (
                entity, " WHERE " + where if where else "", start, PAGE)
            page = objects(self.writer.query(query).get(entity), "its %s rows" % entity)
            result += page
            if len(page) < PAGE:
                return result
            start += PAGE

    def rows_in(self, entity, field, values):
        """Rows whose ``field`` is one of ``values``."""
        values = sorted({str(v) for v in values if v})
        result = []
        for part in chunks(values, IN_SIZE):
            result += self.rows(entity, "%s IN (%s)" % (field, ", ".join(map(quote, part))))
        return result

    # -- chart -----------------------------------------------------------------------------------

    def chart(self):
        """Accounts, tax codes (with their rates), items, country, home currency and the
        default tax code (module docstring)."""
        accounts = [_account(row) for row in self.rows("Account")]
        rates = {qbo_id(row.get("Id"), "a tax rate's Id"):
                 number(row.get("RateValue"), "a RateValue", Decimal(0))
                 for row in self.rows("TaxRate")}
        taxes = [_tax(row, rates) for row in self.rows("TaxCode")]
        items = [_item(row) for row in self.rows("Item")]
        info = (self.rows("CompanyInfo") or [{}])[0]
        preferences = (self.rows("Preferences") or [{}])[0]
        currency = obj(obj(preferences.get("CurrencyPrefs") or {}, "its CurrencyPrefs")
                       .get("HomeCurrency") or {}, "its HomeCurrency")
        tax_prefs = obj(preferences.get("TaxPrefs") or {}, "its TaxPrefs")
        return Chart(accounts=accounts, taxes=taxes, items=items,
                     country=country_code(text(info.get("Country"), "the country")),
                     currency=text(currency.get("value"), "the home currency"),
                     default_tax_code=_ref_value(tax_prefs, "TaxGroupCodeRef"))

    # -- before writing ------------------------------------------------------------------------

    def sync_tokens(self, entity, remote_ids):
        return {qbo_id(row.get("Id")): text(row.get("SyncToken"), "a SyncToken")
                for row in self.rows_in(entity, "Id", remote_ids)}

    def entity_types(self, entries):
        """Remote party id → "Customer"/"Vendor" for the parties of journal lines."""
        names = {str(l.party.id): display_name(l.party.name or "")
                 for e in entries for l in e.lines if l.party}
        found = {}
        for entity in ("Customer", "Vendor"):
            for row in self.rows_in(entity, "Id", names):
                found.setdefault(qbo_id(row.get("Id")), []).append(
                    (entity, text(row.get("DisplayName"), "a DisplayName")))
        types = {}
        for remote_id, matches in found.items():
            named = [m for m in matches if m[1] == names.get(remote_id)]
            types[remote_id] = (named or matches)[0][0]
        return types

    # -- the look-ups' queries (matching.Lookups decides) ----------------------------------------

    def party_name(self, record):
        """By the DisplayName as sent (the rule "Names the providers refuse")."""
        return display_name(record.name)

    def party_candidates(self, kind, records, names):
        entity = ENTITY[kind]
        rows = self.rows_in(entity, "DisplayName", list(names.values()))
        rows += self.rows_in(entity, "PrimaryEmailAddr", [r.email for r in records if r.email])
        return [Candidate(id=qbo_id(row.get("Id")), name=text(row.get("DisplayName")),
                          email=_email(row), version=text(row.get("SyncToken")))
                for row in _by_id(rows)]

    def names_held_elsewhere(self, kind, names):
        """QBO keeps DisplayName unique across customers and vendors (6240): the names a
        vendor holds, for a customer (and the reverse)."""
        other = "Vendor" if kind == "customer" else "Customer"
        held = (text(row.get("DisplayName")) for row in self.rows_in(other, "DisplayName", names))
        return {name.strip().casefold(): other.lower() for name in held if name}

    def name_held_elsewhere(self, kind, name, holder):
        return Decision(code="name_taken", params=name_taken(kind, name, holder),
                        provider_code=NAME_CLASH)

    def item_keys(self, record):
        """By Sku, then Name, both as sent (the rule "Names the providers refuse")."""
        code = sku(record.code)
        return code, item_name(record.name), code

    def item_candidates(self, codes, names):
        rows = self.rows_in("Item", "Sku", codes) + self.rows_in("Item", "Name", names)
        return [Candidate(id=qbo_id(row.get("Id")), name=text(row.get("Name")),
                          code=text(row.get("Sku")), version=text(row.get("SyncToken")))
                for row in _by_id(rows)]

    def document_total(self, kind, record):
        return journal_total(record) if kind == "journal_entry" else record.amount_total

    def document_candidates(self, kind, records):
        """By DocNumber (``IN``); a voided document keeps its number but is no document."""
        existing, voided = {}, set()
        for row in self.rows_in(ENTITY[kind], "DocNumber", [r.number for r in records]):
            doc_number = text(row.get("DocNumber"), "a DocNumber")
            if is_voided(row):
                voided.add(doc_number)
                continue
            total = number(row.get("TotalAmt"), "a TotalAmt")
            if total is None and kind == "journal_entry":
                total = sum((number(l.get("Amount"), "a line Amount", Decimal(0))
                             for l in objects(row.get("Line"), "its lines")
                             if obj(l.get("JournalEntryLineDetail") or {}, "a line detail")
                             .get("PostingType") == "Debit"), Decimal(0))
            existing.setdefault(doc_number, []).append(Candidate(
                id=qbo_id(row.get("Id")), number=doc_number, total=total,
                party=_ref_value(row, "CustomerRef", "VendorRef"),
                version=text(row.get("SyncToken"))))
        return existing, voided

    def payments(self, kind, records, taken=()):
        """A Decision per record: the remote payment that is it (the payment rule of
        :mod:`..matching`), or none to create it. Queried by party and date, one query per
        30 parties; ``taken``: remote ids that records of this call already hold."""
        entity = ENTITY[kind]
        party_field = "CustomerRef" if kind == "customer_payment" else "VendorRef"
        days = sorted({r.date.isoformat() for r in records})
        when = ("TxnDate = %s" % quote(days[0]) if len(days) == 1 else
                "TxnDate >= %s AND TxnDate <= %s" % (quote(days[0]), quote(days[-1])))
        rows = []
        for part in chunks(sorted({str(r.party.id) for r in records}), IN_SIZE):
            who = ("%s = %s" % (party_field, quote(part[0])) if len(part) == 1 else
                   "%s IN (%s)" % (party_field, ", ".join(map(quote, part))))
            rows += self.rows(entity, "%s AND %s" % (who, when))
        candidates = [_payment(row, kind) for row in _by_id(rows) if not is_voided(row)]
        wanted = [[(short_number(r.number), str(r.party.id), r.date.isoformat(), r.amount,
                    [("%s:%s" % (LINKED_TXN_TYPE.get(a.document_kind), a.document.id),
                      a.amount) for a in r.allocations])] for r in records]
        return [Decision(found[0]) for found in match_payments(wanted, candidates, taken)]


def _payment(row, kind):
    """A Payment or BillPayment row as the payment rule sees it."""
    allocations = []
    for line in objects(row.get("Line"), "its lines"):
        links = objects(line.get("LinkedTxn"), "a line's LinkedTxn")
        if links:
            allocations.append(("%s:%s" % (text(links[0].get("TxnType"), "a TxnType"),
                                           text(links[0].get("TxnId"), "a TxnId")),
                                cents(number(line.get("Amount"), "a line Amount", Decimal(0)))))
    return Candidate(
        id=qbo_id(row.get("Id")), version=text(row.get("SyncToken")),
        party=_ref_value(row, "CustomerRef" if kind == "customer_payment" else "VendorRef"),
        date=(text(row.get("TxnDate"), "a TxnDate") or "")[:10],
        total=number(row.get("TotalAmt"), "a TotalAmt"),
        number=text(row.get("PaymentRefNum" if kind == "customer_payment" else "DocNumber"),
                    "its reference number"),
        allocations=tuple(allocations))


def _by_id(rows):
    """Rows once each (two look-ups may find the same record)."""
    return {qbo_id(row.get("Id")): row for row in rows}.values()

"""Xero reads: the chart, the look-ups made before creating (rules in :mod:`.sync_rules`),
and Xero's answers turned into plain words.

Look-ups use Xero's ``where`` filter (``Name=="Acme" OR EmailAddress=="ap@acme.test"``), at
most 50 values a request; ``"`` in values is escaped with a backslash. Xero dates
(``/Date(1573755038314+0000)/``) become ISO strings for ``remote_version``.
"""
import re
from datetime import datetime, timezone
from decimal import Decimal

from .documents import Chart, RemoteAccount, RemoteTax
from .sync_rules import (
    Candidate, chunks, choose_document, choose_party, choose_product, first, index,
)
from .xero_payloads import DOCUMENT_TYPES, SALES_TYPES, item_code, journal_total, narration

LABEL = "Xero"
WHERE_SIZE = 50
GONE = ("DELETED", "VOIDED")
MS_DATE = re.compile(r"/Date\((-?\d+)")
NOUN = {"invoice": "invoice", "bill": "bill", "credit_note": "credit note",
        "vendor_credit": "vendor credit note", "journal_entry": "manual journal"}


def xero_time(value):
    """``/Date(1573755038314+0000)/`` (or an ISO string) → ISO 8601 UTC string."""
    match = MS_DATE.match(str(value or ""))
    if not match:
        return value or None
    stamp = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc)
    return stamp.isoformat().replace("+00:00", "Z")


def where_any(field_values):
    """``A=="x" OR B=="y"`` for ``[(field, value), ...]``."""
    return " OR ".join('%s=="%s"' % (field, str(value).replace("\\", "\\\\").replace('"', '\\"'))
                       for field, value in field_values)


def errors_of(element):
    """The validation messages of one answered element (empty when it was written)."""
    messages = [e.get("Message") for e in element.get("ValidationErrors") or [] if e]
    if not messages and (element.get("HasErrors") or element.get("HasValidationErrors")
                         or element.get("StatusAttributeString") == "ERROR"):
        messages = ["Xero refused it without saying why"]
    return [m for m in messages if m]


def refused_message(noun, label, messages):
    return "Xero refused the %s %s: %s" % (noun, label, "; ".join(messages))


class Lookups:
    """The reads an :class:`~.xero_sync.XeroWriter` makes."""

    def __init__(self, writer):
        self.writer = writer
        self.api = writer.api

    def _where(self, method, collection, pairs):
        rows = []
        for part in chunks(pairs, WHERE_SIZE):
            rows += self.writer.call(method, where=where_any(part)).get(collection) or []
        return rows

    # -- chart -----------------------------------------------------------------------------------

    def chart(self):
        """Accounts (id = Code, or AccountID for an account without a code), tax rates
        (id = TaxType), base currency and country."""
        accounts = [RemoteAccount(
            id=row.get("Code") or row["AccountID"], name=row.get("Name"),
            code=row.get("Code") or None, type=row.get("Type"),
            active=row.get("Status", "ACTIVE") == "ACTIVE",
            is_bank=row.get("Type") == "BANK" or bool(row.get("EnablePaymentsToAccount")))
            for row in self.writer.call(self.api.get_accounts).get("Accounts") or []]
        taxes = [RemoteTax(
            id=row["TaxType"], name=row.get("Name"),
            rate=Decimal(str(row.get("EffectiveRate", row.get("DisplayTaxRate")) or 0)),
            active=row.get("Status", "ACTIVE") == "ACTIVE")
            for row in self.writer.call(self.api.get_tax_rates).get("TaxRates") or []]
        organisation = (self.writer.call(self.api.get_organisations).get("Organisations")
                        or [{}])[0]
        return Chart(accounts=accounts, taxes=taxes, country=organisation.get("CountryCode"),
                     currency=organisation.get("BaseCurrency"))

    # -- before creating -------------------------------------------------------------------------

    def parties(self, kind, records):
        """``(candidate, message, code)`` per record. In Xero one contact is both customer and
        supplier, so a vendor may link to a customer's contact."""
        pairs = [("Name", r.name) for r in records] + [("EmailAddress", r.email)
                                                       for r in records if r.email]
        rows = self._where(self.api.get_contacts, "Contacts", pairs)
        candidates = [Candidate(id=row["ContactID"], name=row.get("Name"),
                                email=row.get("EmailAddress") or None,
                                version=xero_time(row.get("UpdatedDateUTC")))
                      for row in {r["ContactID"]: r for r in rows}.values()
                      if row.get("ContactStatus", "ACTIVE") == "ACTIVE"]
        by_name, by_email = index(candidates, "name"), index(candidates, "email")
        decisions = []
        for record in records:
            candidate, message = choose_party(LABEL, "contact", record.name, record.email,
                                              by_name, by_email)
            decisions.append((candidate, message, "name_clash" if message else None))
        return decisions

    def items(self, kind, records):
        """By Code (the Odoo code, or the slug Xero knows the item by), then by Name."""
        codes = {id(r): item_code(r) for r in records}
        names = {id(r): (r.name or "")[:50] for r in records}
        pairs = ([("Code", c) for c in codes.values()] + [("Name", n) for n in names.values()])
        rows = self._where(self.api.get_items, "Items", pairs)
        candidates = [Candidate(id=row["ItemID"], name=row.get("Name"), code=row.get("Code"),
                                version=xero_time(row.get("UpdatedDateUTC")))
                      for row in {r["ItemID"]: r for r in rows}.values()]
        by_code, by_name = index(candidates, "code"), index(candidates, "name")
        decisions = []
        for record in records:
            candidate = first(by_code, codes[id(record)])
            message = None
            if not candidate:
                candidate, message = choose_product(LABEL, names[id(record)], record.code,
                                                    by_code, by_name)
            decisions.append((candidate, message, "name_clash" if message else None))
        return decisions

    def documents(self, kind, records):
        """Invoices and bills by InvoiceNumber, credit notes by CreditNoteNumber, manual
        journals by Narration; deleted and voided ones do not count."""
        if kind == "journal_entry":
            return self._journals(records)
        collection, xero_type, number_field, id_field = DOCUMENT_TYPES[kind]
        method = (self.api.get_invoices if collection == "Invoices"
                  else self.api.get_credit_notes)
        existing = {}
        for row in self._where(method, collection, [(number_field, r.number) for r in records]):
            if row.get("Type") != xero_type or row.get("Status") in GONE:
                continue
            existing.setdefault(row.get(number_field), []).append(Candidate(
                id=row[id_field], number=row.get(number_field), total=row.get("Total"),
                party=(row.get("Contact") or {}).get("ContactID"),
                version=xero_time(row.get("UpdatedDateUTC"))))
        decisions = []
        for record in records:
            candidate, message = choose_document(
                LABEL, NOUN[kind], record.number, str(record.party.id), record.amount_total,
                existing.get(record.number, []), unique_number=xero_type in SALES_TYPES)
            decisions.append((candidate, message, "duplicate_number" if message else None))
        return decisions

    def _journals(self, records):
        texts = {id(r): narration(r) for r in records}
        existing = {}
        rows = self._where(self.api.get_manual_journals, "ManualJournals",
                           [("Narration", t) for t in texts.values()])
        for row in rows:
            if row.get("Status") in GONE:
                continue
            total = sum((Decimal(str(l.get("LineAmount") or 0))
                         for l in row.get("JournalLines") or []
                         if Decimal(str(l.get("LineAmount") or 0)) > 0), Decimal(0))
            existing.setdefault(row.get("Narration"), []).append(Candidate(
                id=row["ManualJournalID"], name=row.get("Narration"), total=total,
                version=xero_time(row.get("UpdatedDateUTC"))))
        decisions = []
        for record in records:
            candidate, message = choose_document(
                LABEL, NOUN["journal_entry"], record.number, None, journal_total(record),
                existing.get(texts[id(record)], []), unique_number=True)
            decisions.append((candidate, message, "duplicate_number" if message else None))
        return decisions

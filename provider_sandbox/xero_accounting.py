"""The Xero accounting API under /xero/api.xro/2.0: Accounts and TaxRates (read), Contacts,
Items, Invoices, CreditNotes (with allocations), Payments and ManualJournals; PUT creates,
POST updates or creates; ``where``/``IDs``/``page``/``order``/If-Modified-Since;
``summarizeErrors``; ``Idempotency-Key`` replays; the document status rules.

State is one ``Org`` per tenant, in memory, rebuilt by ``reset``. Records are stored in the
JSON shape Xero answers with (PascalCase, ``/Date(ms+0000)/`` dates).
"""
import copy
import math
import re
import uuid
from collections import OrderedDict
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime

from .core import Response, Route, json_response, now
from .xero import ORGANISATIONS, SEED_TIME

RESOURCES = ("Accounts", "TaxRates", "Contacts", "Items", "Invoices", "CreditNotes", "Payments",
             "ManualJournals")
ID_FIELDS = {"Accounts": "AccountID", "TaxRates": "TaxType", "Contacts": "ContactID",
             "Items": "ItemID", "Invoices": "InvoiceID", "CreditNotes": "CreditNoteID",
             "Payments": "PaymentID", "ManualJournals": "ManualJournalID"}
READ_ONLY = ("Accounts", "TaxRates")
MAX_ELEMENTS = 100
PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000
MAX_IDEMPOTENCY_KEY = 128
# xero_accounting.yaml's maxLength: Contact Name, Item Code, Item Name
MAX_CONTACT_NAME, MAX_ITEM_CODE, MAX_ITEM_NAME = 255, 30, 50
MAX_REPLIES = 10000  # Idempotency-Key answers kept per tenant
ZERO_ID = "00000000-0000-0000-0000-000000000000"
PROVIDER_NAME = "Provider Sandbox"
CENT = Decimal("0.01")
ZERO = Decimal("0")
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
# fields the API computes: ignored in requests
COMPUTED = ("SubTotal", "TotalTax", "Total", "AmountDue", "AmountPaid", "AmountCredited",
            "RemainingCredit", "UpdatedDateUTC", "Payments", "CreditNotes", "Allocations",
            "Prepayments", "Overpayments", "HasErrors", "HasValidationErrors", "HasAttachments",
            "ValidationErrors", "Warnings", "StatusAttributeString", "FullyPaidOnDate",
            "DateString", "DueDateString", "IsDiscounted", "UpdatedDateUTCString")

# Seeded chart per organisation: Code, Name, Type, Class, tax ("output"/"input"/None), system
ACCOUNTS = (
    ("200", "Sales", "REVENUE", "REVENUE", "output", None),
    ("260", "Other Revenue", "REVENUE", "REVENUE", "output", None),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE", "input", None),
    ("429", "General Expenses", "EXPENSE", "EXPENSE", "input", None),
    ("090", "Business Bank Account", "BANK", "ASSET", None, None),
    ("610", "Accounts Receivable", "CURRENT", "ASSET", None, "DEBTORS"),
    ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", None, "CREDITORS"),
)
# TaxType, Name, rate, ReportTaxType -- by country: the output, input and no-tax rates
TAX_RATES = {
    "GB": (("OUTPUT2", "20% (VAT on Income)", "20", "OUTPUT"),
           ("INPUT2", "20% (VAT on Expenses)", "20", "INPUT"),
           ("NONE", "No VAT", "0", "NONE")),
    "US": (("OUTPUT", "Tax on Sales", "8.25", "OUTPUT"),
           ("INPUT", "Tax on Purchases", "8.25", "INPUT"),
           ("NONE", "Tax Exempt", "0", "NONE")),
    "NZ": (("OUTPUT2", "15% GST on Income", "15", "OUTPUT"),
           ("INPUT2", "15% GST on Expenses", "15", "INPUT"),
           ("NONE", "No GST", "0", "NONE")),
}
BANK_NUMBERS = {"GB": "20-00-00 12345678", "US": "123456789", "NZ": "12-3456-7890123-00"}


# -- values ---------------------------------------------------------------------------------

def xdate(t):
    return "/Date(%d+0000)/" % int(round(t * 1000))


def parse_xdate(value):
    """Epoch seconds of "/Date(ms[+zzzz])/" or an ISO date/datetime, else None."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"/Date\((-?\d+)([+-]\d{4})?\)/", value.strip())
    if match:
        return int(match.group(1)) / 1000
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def day(t):
    """Midnight UTC of the day of ``t``: Xero's dates carry no time."""
    return math.floor(t / 86400) * 86400


def date_string(t):
    return datetime.fromtimestamp(day(t), timezone.utc).strftime("%Y-%m-%dT00:00:00")


def dec(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def cents(number):
    return number.quantize(CENT, ROUND_HALF_UP)


def out(number):
    return float(number)


def uid():
    return str(uuid.uuid4())


def key_of(data, name):
    """A key of ``data`` matching ``name`` case-insensitively, else None."""
    if not isinstance(data, dict):
        return None
    return next((k for k in data if k.lower() == name.lower()), None)


def envelope(resource, items, **extra):
    return {"Id": uid(), "Status": "OK", "ProviderName": PROVIDER_NAME,
            "DateTimeUTC": xdate(now()), resource: items, **extra}


def api_exception(number, kind, message, status=400, **extra):
    return json_response(status, {"ErrorNumber": number, "Type": kind, "Message": message,
                                  **extra})


# -- the where language ---------------------------------------------------------------------

WHERE_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>==|!=|>=|<=|>|<|&&|\|\|)'
                         r'|(?P<punct>[(),])|(?P<num>-?\d+(?:\.\d+)?)'
                         r'|(?P<word>[A-Za-z_][\w.]*))')
METHODS = ("contains", "startswith", "endswith", "tolower", "toupper")
MISSING = object()


class Stamp(float):
    """A DateTime(...) literal of a where clause: epoch seconds."""


class QueryError(Exception):
    pass


def where_tokens(text):
    tokens, pos = [], 0
    while text[pos:].strip():
        match = WHERE_TOKEN.match(text, pos)
        if not match:
            raise QueryError("cannot parse the where clause at %r" % text[pos:].strip()[:20])
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r'\\(.)', r"\1", value[1:-1])
        elif kind == "word" and value.upper() in ("AND", "OR", "NOT"):
            kind, value = "op", {"AND": "&&", "OR": "||", "NOT": "!"}[value.upper()]
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class Where:
    """``Name=="X" OR Name=="Y"``, ``Type=="ACCREC" AND Status!="DELETED"``,
    ``Contact.ContactID==Guid("...")``, ``Name.Contains("x")``, ``Name.ToLower()=="x"``,
    ``Date>=DateTime(2024, 01, 31)``, ``EmailAddress!=null``."""

    def __init__(self, text):
        self.tokens = where_tokens(text)
        self.i = 0
        self.tree = self.expr()
        if self.i != len(self.tokens):
            raise QueryError("unexpected %r in the where clause" % self.tokens[self.i][1])

    def peek(self, *values):
        return self.i < len(self.tokens) and self.tokens[self.i][1] in values

    def take(self):
        if self.i >= len(self.tokens):
            raise QueryError("the where clause ends too early")
        self.i += 1
        return self.tokens[self.i - 1]

    def expect(self, value):
        if self.take()[1] != value:
            raise QueryError("expected %r in the where clause" % value)

    def expr(self):
        node = self.conjunction()
        while self.peek("||"):
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self):
        node = self.unary()
        while self.peek("&&"):
            self.take()
            node = ("and", node, self.unary())
        return node

    def unary(self):
        if self.peek("!"):
            self.take()
            return ("not", self.unary())
        if self.peek("("):
            self.take()
            node = self.expr()
            self.expect(")")
            return node
        left = self.operand()
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "op" and self.tokens[self.i][
                1] in ("==", "!=", ">=", "<=", ">", "<"):
            return ("cmp", self.take()[1], left, self.operand())
        return ("truthy", left)

    def operand(self):
        kind, value = self.take()
        if kind == "str":
            return ("lit", value)
        if kind == "num":
            return ("lit", Decimal(value))
        if kind != "word":
            raise QueryError("unexpected %r in the where clause" % value)
        lower = value.lower()
        if lower in ("true", "false"):
            return ("lit", lower == "true")
        if lower == "null":
            return ("lit", None)
        if lower == "guid":
            self.expect("(")
            kind, text = self.take()
            self.expect(")")
            return ("lit", text)
        if lower == "datetime":
            self.expect("(")
            parts = [int(self.take()[1])]
            while self.peek(","):
                self.take()
                parts.append(int(self.take()[1]))
            self.expect(")")
            return ("lit", Stamp(datetime(*parts, tzinfo=timezone.utc).timestamp()))
        path = value.split(".")
        method = None
        if len(path) > 1 and path[-1].lower() in METHODS:
            method = path.pop().lower()
            self.expect("(")
            argument = None if self.peek(")") else self.operand()
            self.expect(")")
            return ("call", path, method, argument)
        return ("field", path)

    def __call__(self, record):
        return bool(self.eval(self.tree, record))

    def value(self, node, record):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "field":
            return field(record, node[1])
        _kind, path, method, argument = node
        text = field(record, path)
        text = "" if text in (MISSING, None) else str(text)
        if method == "tolower":
            return text.lower()
        if method == "toupper":
            return text.upper()
        needle = str(self.value(argument, record) if argument else "").lower()
        return {"contains": needle in text.lower(), "startswith": text.lower().startswith(
            needle), "endswith": text.lower().endswith(needle)}[method]

    def eval(self, node, record):
        kind = node[0]
        if kind == "or":
            return self.eval(node[1], record) or self.eval(node[2], record)
        if kind == "and":
            return self.eval(node[1], record) and self.eval(node[2], record)
        if kind == "not":
            return not self.eval(node[1], record)
        if kind == "truthy":
            return self.value(node[1], record) is True
        _cmp, op, left, right = node
        return compare(self.value(left, record), op, self.value(right, record))


def field(record, path):
    value = record
    for part in path:
        key = key_of(value, part)
        if key is None:
            return MISSING
        value = value[key]
    return value


def compare(a, op, b):
    if a is MISSING:
        a = None
    if a is None or b is None:
        return (a is None and b is None) == (op == "==") if op in ("==", "!=") else False
    if isinstance(a, bool) or isinstance(b, bool):
        return (a == b) == (op == "==") if op in ("==", "!=") else False
    if isinstance(a, Stamp) or isinstance(b, Stamp):
        a = parse_xdate(a) if isinstance(a, str) else a
        b = parse_xdate(b) if isinstance(b, str) else b
        if a is None or b is None:
            return False
    elif isinstance(a, (int, float, Decimal)) or isinstance(b, (int, float, Decimal)):
        a, b = dec(a), dec(b)
        if a is None or b is None:
            return False
    else:
        stamp_a, stamp_b = parse_xdate(a), parse_xdate(b)
        if stamp_a is not None and stamp_b is not None:
            a, b = stamp_a, stamp_b
        else:
            a, b = str(a).lower(), str(b).lower()
    return {"==": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]


def sort_key(value):
    if value is MISSING or value is None:
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    stamp = parse_xdate(value)
    if stamp is not None:
        return (2, stamp)
    return (3, str(value).lower())


# -- one organisation -----------------------------------------------------------------------

class Org:
    def __init__(self, tenant):
        info = ORGANISATIONS[tenant]
        self.tenant = tenant
        self.currency = info["currency"]
        self.records = {resource: OrderedDict() for resource in RESOURCES}
        self.replies = OrderedDict()  # Idempotency-Key -> Response
        self.numbers = {"ACCREC": 0, "ACCRECCREDIT": 0}  # the last INV- / CN- number given
        seeded = xdate(SEED_TIME)
        rates = TAX_RATES[info["country"]]
        for tax_type, name, rate, report in rates:
            # An output (sales) rate cannot apply to expenses, an input (purchase) rate
            # cannot apply to revenue; the no-tax rate applies to everything.
            self.records["TaxRates"][tax_type] = {
                "Name": name, "TaxType": tax_type, "ReportTaxType": report,
                "CanApplyToAssets": True, "CanApplyToEquity": True,
                "CanApplyToExpenses": report != "OUTPUT", "CanApplyToLiabilities": True,
                "CanApplyToRevenue": report != "INPUT", "DisplayTaxRate": float(rate),
                "EffectiveRate": float(rate), "Status": "ACTIVE",
                "TaxComponents": [{"Name": name.split(" (")[0], "Rate": float(rate),
                                   "IsCompound": False, "IsNonRecoverable": False}]}
        by_kind = {"output": rates[0][0], "input": rates[1][0], None: rates[2][0]}
        for code, name, kind, klass, tax, system in ACCOUNTS:
            account_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "xero:%s:account:%s" % (tenant, code)))
            account = {"AccountID": account_id, "Code": code, "Name": name, "Status": "ACTIVE",
                       "Type": kind, "TaxType": by_kind[tax], "Class": klass,
                       "EnablePaymentsToAccount": False,
                       "ShowInExpenseClaims": kind in ("EXPENSE", "DIRECTCOSTS"),
                       "ReportingCode": "", "ReportingCodeName": "", "HasAttachments": False,
                       "UpdatedDateUTC": seeded, "AddToWatchlist": False}
            if kind == "BANK":
                account.update(BankAccountNumber=BANK_NUMBERS[info["country"]],
                               BankAccountType="BANK", CurrencyCode=self.currency)
            if system:
                account["SystemAccount"] = system
            self.records["Accounts"][account_id] = account

    def find(self, resource, ident):
        records = self.records[resource]
        if ident in records:
            return records[ident]
        lowered = str(ident).lower()
        return next((r for k, r in records.items() if k.lower() == lowered), None)

    def account(self, code=None, account_id=None):
        for account in self.records["Accounts"].values():
            if (code is not None and account["Code"] == str(code)) or (
                    account_id is not None and account["AccountID"].lower() == str(
                        account_id).lower()):
                return account
        return None

    def contact_by_name(self, name):
        return next((c for c in self.records["Contacts"].values()
                     if c["ContactStatus"] != "ARCHIVED"
                     and c["Name"].strip().lower() == str(name).strip().lower()), None)


# -- the API --------------------------------------------------------------------------------

class XeroAccounting:
    """The accounting endpoints of the Xero provider (``provider.tenant`` authenticates,
    checks the connection and the rate limits)."""

    def __init__(self, provider):
        self.provider = provider
        self.orgs = {}
        self.remote_edit = False  # Sandbox.act: a user's edit in Xero, not an API call

    def reset(self):
        self.orgs = {tenant: Org(tenant) for tenant in ORGANISATIONS}

    def routes(self):
        base = r"/xero/api\.xro/2\.0/(?P<resource>%s)" % "|".join(RESOURCES)
        return [
            Route("PUT", r"/xero/api\.xro/2\.0/CreditNotes/(?P<id>[^/]+)/Allocations",
                  self.allocate),
            Route("GET", r"/xero/api\.xro/2\.0/Reports/TrialBalance", self.trial_balance),
            Route("GET", base + r"/?", self.list),
            Route("GET", base + r"/(?P<id>[^/]+)", self.get_one),
            Route("PUT", base + r"/?", self.write),
            Route("POST", base + r"/?", self.write),
            Route("POST", base + r"/(?P<id>[^/]+)", self.write),
        ]

    def trial_balance(self, request):
        """GET /Reports/TrialBalance?date=&paymentsOnly= (xero_reports.py)."""
        from .xero_reports import trial_balance_response
        return trial_balance_response(self.orgs[self.provider.tenant(request)], request.query)

    # -- the Python API -----------------------------------------------------------------------

    def org(self, tenant):
        tenant = tenant or next(iter(ORGANISATIONS))
        if tenant not in self.orgs:
            raise ValueError("unknown Xero tenant %r (known: %s)"
                             % (tenant, ", ".join(ORGANISATIONS)))
        return self.orgs[tenant]

    @staticmethod
    def resource(name):
        canonical = next((r for r in RESOURCES if r.lower() == str(name).lower()), None)
        if canonical is None:
            raise ValueError("unknown Xero resource %r (known: %s)"
                             % (name, ", ".join(RESOURCES)))
        return canonical

    def records(self, resource, tenant=None):
        org = self.org(tenant)
        return copy.deepcopy(list(org.records[self.resource(resource)].values()))

    def seed(self, resource, record, tenant=None):
        org = self.org(tenant)
        resource = self.resource(resource)
        if not isinstance(record, dict):
            raise ValueError("record must be a dict")
        if resource in READ_ONLY:
            saved = self._seed_read_only(org, resource, copy.deepcopy(record))
            self.changed(org, resource, saved[ID_FIELDS[resource]], "create", saved)
            return copy.deepcopy(saved)
        element = {k: v for k, v in copy.deepcopy(record).items() if k != ID_FIELDS[resource]}
        saved, errors = self.save(org, resource, element, "PUT", None, 2)
        if errors:
            raise ValueError("; ".join(errors))
        return saved

    @staticmethod
    def _seed_read_only(org, resource, record):
        if resource == "TaxRates":
            if not record.get("TaxType"):
                raise ValueError("a tax rate needs a TaxType")
            rate = record.get("EffectiveRate", record.get("DisplayTaxRate", 0))
            record = dict({"Status": "ACTIVE", "EffectiveRate": rate, "DisplayTaxRate": rate,
                           "ReportTaxType": "OUTPUT", "TaxComponents": []}, **record)
            org.records["TaxRates"][record["TaxType"]] = record
            return record
        if not record.get("Code") or not record.get("Type"):
            raise ValueError("an account needs a Code and a Type")
        if org.account(code=record["Code"]):
            raise ValueError("account code %s already exists" % record["Code"])
        record = dict({"AccountID": uid(), "Status": "ACTIVE", "TaxType": "NONE",
                       "EnablePaymentsToAccount": False, "HasAttachments": False,
                       "UpdatedDateUTC": xdate(now())}, **record)
        org.records["Accounts"][record["AccountID"]] = record
        return record

    def changed(self, org, resource, record_id, operation, record=None):
        """Log a change of the books (change log -> webhooks); a credit note's Type and
        Status go with it (Xero's CREDITNOTE events carry them)."""
        data = None
        if resource == "CreditNotes" and record is not None:
            data = {"Type": record.get("Type"), "Status": record.get("Status")}
        self.provider.app.changes.record("xero", org.tenant, resource, record_id, operation,
                                         data)

    @staticmethod
    def operation(resource, old, new):
        """The change a save made: create, update, or the void / delete / archive its new
        status means."""
        if old is None:
            return "create"
        key = "ContactStatus" if resource == "Contacts" else "Status"
        if old.get(key) != new.get(key):
            return {"VOIDED": "void", "DELETED": "delete", "ARCHIVED": "archive"}.get(
                new.get(key), "update")
        return "update"

    # -- reading ------------------------------------------------------------------------------

    def list(self, request):
        org = self.orgs[self.provider.tenant(request)]
        resource = self.resource(request.args["resource"])
        params = request.query
        records = list(org.records[resource].values())
        id_field = ID_FIELDS[resource]
        since = request.headers.get("If-Modified-Since")
        # archived contacts are hidden, except from a read of what changed since a time
        if resource == "Contacts" and not since and (
                params.get("includeArchived") or "").lower() != "true":
            records = [r for r in records if r.get("ContactStatus") != "ARCHIVED"]
        filters = {"IDs": id_field, "InvoiceNumbers": "InvoiceNumber",
                   "ContactIDs": "Contact.ContactID", "Statuses": "Status"}
        for param, path in filters.items():
            wanted = params.get(param)
            if wanted:
                wanted = {w.strip().lower() for w in wanted.split(",") if w.strip()}
                records = [r for r in records
                           if str(field(r, path.split("."))).lower() in wanted]
        term = params.get("searchTerm")
        if term and resource == "Contacts":
            records = [r for r in records if any(
                term.lower() in str(r.get(k) or "").lower()
                for k in ("Name", "FirstName", "LastName", "EmailAddress", "ContactNumber"))]
        try:
            if params.get("where"):
                where = Where(params.get("where"))
                records = [r for r in records if where(r)]
            order = params.get("order")
            if order:
                for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
                    words = part.split()
                    if len(words) > 2 or (len(words) == 2 and words[1].upper() not in (
                            "ASC", "DESC")):
                        raise QueryError("cannot parse order %r" % order)
                    records.sort(key=lambda r: sort_key(field(r, words[0].split("."))),
                                 reverse=len(words) == 2 and words[1].upper() == "DESC")
        except QueryError as e:
            return api_exception(16, "QueryParseException", str(e))
        if since:
            stamp = self.http_time(since)
            if stamp is None:
                return api_exception(14, "PostDataInvalidException",
                                     "If-Modified-Since is not a valid date: %r" % since)
            records = [r for r in records
                       if (parse_xdate(r.get("UpdatedDateUTC")) or 0) > stamp]
            if not order:  # oldest change first: pages stay stable while reading
                records.sort(key=lambda r: parse_xdate(r.get("UpdatedDateUTC")) or 0)
        extra = {}
        if params.get("page"):
            try:
                page = max(1, int(params.get("page")))
                size = min(MAX_PAGE_SIZE, max(1, int(params.get("pageSize") or PAGE_SIZE)))
            except ValueError:
                return api_exception(14, "PostDataInvalidException",
                                     "page and pageSize must be whole numbers")
            count = len(records)
            records = records[(page - 1) * size:page * size]
            extra["pagination"] = {"page": page, "pageSize": size,
                                   "pageCount": math.ceil(count / size), "itemCount": count}
        return json_response(200, envelope(resource, copy.deepcopy(records), **extra))

    @staticmethod
    def http_time(text):
        try:
            return parsedate_to_datetime(text).timestamp()
        except (TypeError, ValueError, IndexError):
            return parse_xdate(text)

    def get_one(self, request):
        org = self.orgs[self.provider.tenant(request)]
        resource = self.resource(request.args["resource"])
        record = self.lookup(org, resource, request.args["id"])
        if record is None:
            return self.provider.error("api", 404)
        return json_response(200, envelope(resource, [copy.deepcopy(record)]))

    @staticmethod
    def lookup(org, resource, ident):
        """By ID; invoices and credit notes also by number, items by code."""
        record = org.find(resource, ident)
        alternate = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber",
                     "Items": "Code", "Accounts": "Code"}.get(resource)
        if record is None and alternate:
            record = next((r for r in org.records[resource].values()
                           if str(r.get(alternate) or "").lower() == str(ident).lower()
                           and r.get("Status") not in ("DELETED", "VOIDED")), None)
        return record

    # -- writing ------------------------------------------------------------------------------

    def replayable(self, request, run):
        """Idempotency-Key: a repeat of a PUT/POST answers the first answer again."""
        org = self.orgs[self.provider.tenant(request)]
        key = request.headers.get("Idempotency-Key")
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            return api_exception(14, "PostDataInvalidException",
                                 "The Idempotency-Key header must be 1 to %d characters long"
                                 % MAX_IDEMPOTENCY_KEY)
        if key is not None and key in org.replies:
            saved = org.replies[key]
            return Response(saved.status, saved.body, dict(saved.headers))
        response = run(org)
        if key is not None:
            org.replies[key] = Response(response.status, response.body, dict(response.headers))
            while len(org.replies) > MAX_REPLIES:
                org.replies.popitem(last=False)
        return response

    def elements(self, request, resource):
        """The body's elements: {"<Resource>": [...]}, a bare list or one bare element."""
        try:
            body = request.json()
        except Exception:  # BadRequest: not JSON
            raise _Invalid(api_exception(14, "PostDataInvalidException",
                                         "The request body is not valid JSON")) from None
        key = key_of(body, resource)
        items = body[key] if key else body
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list) or not items:
            raise _Invalid(api_exception(14, "PostDataInvalidException",
                                         "Expected {\"%s\": [...]} in the body" % resource))
        if len(items) > MAX_ELEMENTS:
            raise _Invalid(api_exception(14, "PostDataInvalidException",
                                         "A request may hold at most %d %s (got %d); Xero "
                                         "recommends batches of 50" % (MAX_ELEMENTS, resource,
                                                                       len(items))))
        return items

    def write(self, request):
        def run(org):
            resource = self.resource(request.args["resource"])
            if resource in READ_ONLY:
                return self.provider.error("api", 405, "The sandbox does not create or change "
                                                       "%s" % resource)
            try:
                items = self.elements(request, resource)
            except _Invalid as e:
                return e.response
            summarize = (request.query.get("summarizeErrors") or "true").lower() != "false"
            unitdp = 4 if request.query.get("unitdp") == "4" else 2
            path_id = request.args.get("id")
            results = [self.save(org, resource, element, request.method, path_id, unitdp)
                       for element in (items[:1] if path_id else items)]
            return self.answer(resource, results, summarize)
        return self.replayable(request, run)

    @staticmethod
    def answer(resource, results, summarize):
        flag = {"Invoices": "HasErrors", "CreditNotes": "HasErrors", "Contacts":
                "HasValidationErrors", "Payments": "HasValidationErrors"}.get(resource)
        elements = []
        for record, errors in results:
            element = copy.deepcopy(record)
            if errors:
                element["ValidationErrors"] = [{"Message": m} for m in errors]
                if flag:
                    element[flag] = True
            if not summarize:
                element["StatusAttributeString"] = "ERROR" if errors else "OK"
            elements.append(element)
        if summarize and any(errors for _r, errors in results):
            return api_exception(10, "ValidationException", "A validation exception occurred",
                                 Elements=[e for e, (_r, errors) in zip(elements, results)
                                           if errors])
        return json_response(200, envelope(resource, elements))

    def save(self, org, resource, element, method, path_id, unitdp):
        """Validate one element and store it: (the record as answered, [error messages])."""
        if not isinstance(element, dict):
            return {}, ["Each %s element must be an object" % resource]
        id_field = ID_FIELDS[resource]
        ident = path_id or element.get(id_field)
        old = None
        if ident:
            if method == "PUT":
                return element, ["%s %s: PUT only creates; update with POST" % (id_field, ident)]
            old = self.lookup(org, resource, ident)
            if old is None:
                return element, ["%s %s could not be found" % (id_field, ident)]
        elif method == "POST":
            old = self.match(org, resource, element)
        build = {"Contacts": self.contact, "Items": self.item, "Invoices": self.invoice,
                 "CreditNotes": self.credit_note, "Payments": self.payment,
                 "ManualJournals": self.manual_journal}[resource]
        errors = []
        record, commit = build(org, element, old, errors, unitdp)
        if errors:
            record.setdefault(id_field, old[id_field] if old else ZERO_ID)
            return record, errors
        if old is not None and self.same(old, record):
            return copy.deepcopy(old), []
        record[id_field] = old[id_field] if old else uid()
        record["UpdatedDateUTC"] = xdate(now())
        org.records[resource][record[id_field]] = record
        self.changed(org, resource, record[id_field], self.operation(resource, old, record),
                     record)
        if commit:
            commit(record)
        return copy.deepcopy(record), []

    @staticmethod
    def same(old, new):
        def strip(record):
            record = {k: v for k, v in record.items() if k != "UpdatedDateUTC"}
            for name in ("LineItems", "JournalLines"):
                if name in record:
                    record[name] = [{k: v for k, v in line.items() if k != "LineItemID"}
                                    for line in record[name]]
            return record
        return strip(old) == strip(new)

    @staticmethod
    def match(org, resource, element):
        """POST without an ID updates the record its number or code names."""
        field_name = {"Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber",
                      "Items": "Code", "Contacts": "ContactNumber"}.get(resource)
        value = element.get(field_name) if field_name else None
        if not value:
            return None
        return next((r for r in org.records[resource].values()
                     if str(r.get(field_name) or "").lower() == str(value).lower()
                     and r.get("Status") not in ("DELETED", "VOIDED")
                     and (resource != "Invoices" or r["Type"] == "ACCREC")
                     and (resource != "CreditNotes" or r["Type"] == "ACCRECCREDIT")), None)

    @staticmethod
    def merged(old, element):
        record = copy.deepcopy(old) if old else {}
        for key, value in element.items():
            if key not in COMPUTED:
                record[key] = copy.deepcopy(value)
        return record

    # -- contacts and items -------------------------------------------------------------------

    def contact(self, org, element, old, errors, _unitdp):
        record = self.merged(old, element)
        name = record.get("Name")
        if not isinstance(name, str) or not name.strip():
            errors.append("The contact name must be specified")
            name = ""
        record["Name"] = name = name.strip()
        if len(name) > MAX_CONTACT_NAME:
            errors.append("The contact name must not be longer than %d characters (it has %d)"
                          % (MAX_CONTACT_NAME, len(name)))
        status = str(record.get("ContactStatus") or "ACTIVE").upper()
        if status not in ("ACTIVE", "ARCHIVED"):
            errors.append("ContactStatus must be ACTIVE or ARCHIVED")
            status = "ACTIVE"
        record["ContactStatus"] = status
        if name and status == "ACTIVE":
            other = org.contact_by_name(name)
            if other and (old is None or other["ContactID"] != old["ContactID"]):
                errors.append("The contact name %s is already assigned to another contact. The "
                              "contact name must be unique across all active contacts." % name)
        email = record.get("EmailAddress")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
            errors.append("Email address must be valid.")
        currency = record.get("DefaultCurrency")
        if currency and not re.fullmatch(r"[A-Z]{3}", str(currency)):
            errors.append("The currency code %r is not valid" % currency)
            del record["DefaultCurrency"]  # the SDKs could not read it back
        for key in ("Addresses", "Phones", "ContactGroups", "ContactPersons"):
            record.setdefault(key, [])
        record.setdefault("IsSupplier", False)
        record.setdefault("IsCustomer", False)
        record.update(HasAttachments=False, HasValidationErrors=False)
        return record, None

    def item(self, org, element, old, errors, _unitdp):
        record = self.merged(old, element)
        code = record.get("Code")
        if not isinstance(code, str) or not code.strip():
            errors.append("Item code must be specified")
            code = ""
        record["Code"] = code = code.strip()
        if len(code) > MAX_ITEM_CODE:
            errors.append("Item code '%s' is longer than %d characters" % (code, MAX_ITEM_CODE))
        item_name = record.get("Name")
        if isinstance(item_name, str) and len(item_name.strip()) > MAX_ITEM_NAME:
            errors.append("Item name '%s' is longer than %d characters"
                          % (item_name.strip(), MAX_ITEM_NAME))
        other = next((i for i in org.records["Items"].values()
                      if i["Code"].lower() == code.lower()), None) if code else None
        if other and (old is None or other["ItemID"] != old["ItemID"]):
            errors.append("Item code '%s' already exists" % code)
        for key in ("SalesDetails", "PurchaseDetails"):
            details = record.get(key)
            if details is None:
                continue
            if not isinstance(details, dict):
                errors.append("%s must be an object" % key)
                continue
            details = dict(details)
            for code_key in ("AccountCode", "COGSAccountCode"):
                if details.get(code_key) and not org.account(code=details[code_key]):
                    errors.append("Account code '%s' is not a valid code" % details[code_key])
            if details.get("TaxType") and details["TaxType"] not in org.records["TaxRates"]:
                errors.append("The TaxType code '%s' does not exist or cannot be used for this "
                              "type of transaction." % details["TaxType"])
            if "UnitPrice" in details:
                price = dec(details["UnitPrice"])
                if price is None:
                    errors.append("%s.UnitPrice is not a number" % key)
                    del details["UnitPrice"]
                else:
                    details["UnitPrice"] = out(price)
            record[key] = details
        record.setdefault("IsSold", bool(record.get("SalesDetails")))
        record.setdefault("IsPurchased", bool(record.get("PurchaseDetails")))
        record.setdefault("IsTrackedAsInventory", False)
        return record, None

    # -- invoices and credit notes --------------------------------------------------------------

    def invoice(self, org, element, old, errors, unitdp):
        return self.document(org, element, old, errors, unitdp, credit=False)

    def credit_note(self, org, element, old, errors, unitdp):
        return self.document(org, element, old, errors, unitdp, credit=True)

    def document(self, org, element, old, errors, unitdp, credit):
        label = "Credit Note" if credit else "Invoice"
        types = ("ACCRECCREDIT", "ACCPAYCREDIT") if credit else ("ACCREC", "ACCPAY")
        number_field = "CreditNoteNumber" if credit else "InvoiceNumber"
        record = self.merged(old, element)
        kind = str(record.get("Type") or "").upper()
        if old and kind != old["Type"]:
            errors.append("The Type of a document cannot be changed")
            kind = old["Type"]
        if kind not in types:
            errors.append("The document Type must be %s or %s" % types)
            kind = types[0]
        record["Type"] = kind
        sales = kind == types[0]

        new_contact = self.document_contact(org, record, errors)
        for date_field in ("Date", "DueDate"):
            if record.get(date_field) is not None:
                stamp = parse_xdate(record[date_field])
                if stamp is None:
                    errors.append("%s %r is not a valid date" % (date_field, record[date_field]))
                    del record[date_field]
                else:
                    record[date_field] = xdate(day(stamp))
                    record[date_field + "String"] = date_string(stamp)
        if not record.get("Date"):
            record["Date"], record["DateString"] = xdate(day(now())), date_string(now())
        amount_types = next((t for t in LINE_AMOUNT_TYPES
                             if t.lower() == str(record.get("LineAmountTypes") or
                                                 "Exclusive").lower()), None)
        if amount_types is None:
            errors.append("LineAmountTypes must be Exclusive, Inclusive or NoTax")
            amount_types = "Exclusive"
        record["LineAmountTypes"] = amount_types
        currency = str(record.get("CurrencyCode") or org.currency).upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            errors.append("The currency code %r is not valid" % currency)
            currency = org.currency
        record["CurrencyCode"] = currency
        rate = dec(record.get("CurrencyRate", 1))
        if rate is None or rate <= 0:
            errors.append("CurrencyRate must be a positive number")
            rate = Decimal(1)
        record["CurrencyRate"] = out(rate)

        status = str(record.get("Status") or "DRAFT").upper()
        if old and old["Status"] == "PAID" and status == "AUTHORISED":
            status = "PAID"  # what the client last saw was AUTHORISED: no change meant
        record["Status"] = status
        lines = record.get("LineItems")
        if lines is None:
            lines = []
        if not isinstance(lines, list):
            errors.append("LineItems must be a list")
            lines = []
        record["LineItems"] = self.line_items(org, lines, old.get("LineItems", []) if old else [],
                                              sales, amount_types, unitdp, errors,
                                              status in ("AUTHORISED", "PAID"))
        self.totals(record)

        number = record.get(number_field)
        if number not in (None, ""):
            record[number_field] = number = str(number)
            if sales and (old is None or old.get(number_field) != number):
                clash = next((d for d in org.records["CreditNotes" if credit else "Invoices"]
                              .values() if d["Type"] == kind
                              and str(d.get(number_field)).lower() == number.lower()
                              and d["Status"] not in ("DELETED", "VOIDED")
                              and (old is None or d is not old)), None)
                if clash:
                    errors.append("%s # must be unique." % ("Credit Note" if credit
                                                            else "Invoice"))
        else:
            record.pop(number_field, None)

        for key in ("Payments", "Prepayments", "Overpayments"):
            record[key] = copy.deepcopy(old.get(key, [])) if old else []
        record["Allocations" if credit else "CreditNotes"] = copy.deepcopy(
            old.get("Allocations" if credit else "CreditNotes", [])) if old else []
        if old and old.get("FullyPaidOnDate"):
            record["FullyPaidOnDate"] = old["FullyPaidOnDate"]
        record.update(HasAttachments=False, HasErrors=False, IsDiscounted=False)
        self.check_status(old, record, errors, label, self.remote_edit)
        self.settle(record, credit)

        def commit(saved):
            if new_contact is not None:
                new_contact["UpdatedDateUTC"] = saved["UpdatedDateUTC"]
                org.records["Contacts"][new_contact["ContactID"]] = new_contact
                self.changed(org, "Contacts", new_contact["ContactID"], "create")
            if sales and not saved.get(number_field):
                used = {str(d.get(number_field)).lower() for d in
                        org.records["CreditNotes" if credit else "Invoices"].values()}
                while True:
                    org.numbers[kind] += 1
                    number = "%s-%04d" % ("CN" if credit else "INV", org.numbers[kind])
                    if number.lower() not in used:
                        break
                saved[number_field] = number
            contact = org.records["Contacts"].get(saved["Contact"]["ContactID"])
            flag = "IsCustomer" if kind in ("ACCREC", "ACCRECCREDIT") else "IsSupplier"
            if contact is not None and not contact.get(flag):
                contact[flag] = True
                contact["UpdatedDateUTC"] = saved["UpdatedDateUTC"]
                if contact is not new_contact:  # one made now is just created
                    self.changed(org, "Contacts", contact["ContactID"], "update")
        return record, commit

    def document_contact(self, org, record, errors):
        """Resolve record["Contact"] to a summary; a Name alone that matches no contact makes
        a new contact, returned to be stored with the document."""
        given = record.get("Contact")
        if not isinstance(given, dict) or not (given.get("ContactID") or given.get("Name")):
            errors.append("A Contact must be specified for this type of transaction")
            record["Contact"] = {}
            return None
        new = None
        if given.get("ContactID"):
            contact = org.find("Contacts", given["ContactID"])
            if contact is None:
                errors.append("The ContactID %s does not exist" % given["ContactID"])
                record["Contact"] = dict(given)
                return None
        else:
            contact = org.contact_by_name(given["Name"])
            if contact is None:
                name = str(given["Name"]).strip()
                new = contact = {"ContactID": uid(), "ContactStatus": "ACTIVE", "Name": name,
                                 "Addresses": [], "Phones": [], "ContactGroups": [],
                                 "ContactPersons": [], "IsSupplier": False, "IsCustomer": False,
                                 "HasAttachments": False, "HasValidationErrors": False}
        if contact["ContactStatus"] == "ARCHIVED":
            errors.append("The contact %s is archived and cannot be used" % contact["Name"])
        record["Contact"] = {"ContactID": contact["ContactID"], "Name": contact["Name"],
                             "ContactStatus": contact["ContactStatus"],
                             "HasValidationErrors": False}
        return new

    def line_items(self, org, lines, old_lines, sales, amount_types, unitdp, errors,
                   authorised):
        old_ids = {str(line.get("LineItemID")).lower() for line in old_lines}
        result = []
        for number, given in enumerate(lines, 1):
            if not isinstance(given, dict):
                errors.append("Line item %d must be an object" % number)
                continue
            line = {k: v for k, v in given.items() if v is not None}
            item = None
            if line.get("ItemCode"):
                item = next((i for i in org.records["Items"].values()
                             if i["Code"].lower() == str(line["ItemCode"]).lower()), None)
                if item is None:
                    errors.append("Item code '%s' is not valid" % line["ItemCode"])
                else:
                    details = item.get("SalesDetails" if sales else "PurchaseDetails") or {}
                    line["ItemCode"] = item["Code"]
                    line.setdefault("Description", item.get(
                        "Description" if sales else "PurchaseDescription") or item.get(
                        "Description"))
                    if "UnitAmount" not in line and details.get("UnitPrice") is not None:
                        line["UnitAmount"] = details["UnitPrice"]
                    for key in ("AccountCode", "TaxType"):
                        if not line.get(key) and details.get(key):
                            line[key] = details[key]
                    line["Item"] = {"ItemID": item["ItemID"], "Code": item["Code"],
                                    "Name": item.get("Name") or item["Code"]}
            values = {}
            for key in ("Quantity", "UnitAmount", "LineAmount", "DiscountRate", "TaxAmount"):
                if key in line:
                    values[key] = dec(line[key])
                    if values[key] is None:
                        errors.append("Line item %d: %s is not a number" % (number, key))
                        values[key] = ZERO
            quantity = values.get("Quantity", Decimal(1))
            unit = values.get("UnitAmount")
            if unit is None:
                unit = values.get("LineAmount", ZERO) / quantity if quantity else ZERO
            unit = unit.quantize(Decimal(1).scaleb(-unitdp), ROUND_HALF_UP)
            discount = values.get("DiscountRate", ZERO)
            expected = cents(quantity * unit * (1 - discount / 100))
            amount = cents(values["LineAmount"]) if "LineAmount" in values else expected
            if "LineAmount" in values and "UnitAmount" in values and abs(
                    amount - expected) > CENT:
                errors.append("Line item %d: the LineAmount %s does not equal Quantity x "
                              "UnitAmount (%s)" % (number, amount, expected))
            account = None
            if line.get("AccountCode"):
                account = org.account(code=line["AccountCode"])
                # Invoice and credit note lines may not post to system accounts (receivable,
                # payable...) nor to bank accounts, which only payments move.
                if (account is None or account["Status"] != "ACTIVE"
                        or account.get("SystemAccount") or account["Type"] == "BANK"):
                    errors.append("Account code '%s' is not a valid code for this document."
                                  % line["AccountCode"])
                    account = None
                else:
                    line["AccountID"] = account["AccountID"]
            elif authorised and amount:
                errors.append("Account code '' is not a valid code for this document.")
            tax_type = line.get("TaxType") or (account or {}).get("TaxType") or "NONE"
            if amount_types == "NoTax":
                tax_type = "NONE"
            rate = org.records["TaxRates"].get(tax_type)
            if rate is None or rate["Status"] != "ACTIVE":
                errors.append("The TaxType code '%s' does not exist or cannot be used for this "
                              "type of transaction." % tax_type)
                percent = ZERO
            else:
                percent = Decimal(str(rate["EffectiveRate"]))
            if "TaxAmount" in values and amount_types != "NoTax":
                tax = cents(values["TaxAmount"])
            elif amount_types == "Exclusive":
                tax = cents(amount * percent / 100)
            elif amount_types == "Inclusive":
                tax = cents(amount - amount / (1 + percent / 100))
            else:
                tax = ZERO
            line_id = str(line.get("LineItemID") or "")
            line.update(LineItemID=line_id if line_id.lower() in old_ids else uid(),
                        Quantity=out(quantity), UnitAmount=out(unit), LineAmount=out(amount),
                        TaxType=tax_type, TaxAmount=out(tax))
            line.setdefault("Tracking", [])
            if "DiscountRate" in values:
                line["DiscountRate"] = out(discount)
            result.append(line)
        return result

    @staticmethod
    def totals(record):
        amounts = sum((Decimal(str(line["LineAmount"])) for line in record["LineItems"]), ZERO)
        tax = sum((Decimal(str(line["TaxAmount"])) for line in record["LineItems"]), ZERO)
        subtotal = amounts - tax if record["LineAmountTypes"] == "Inclusive" else amounts
        record.update(SubTotal=out(subtotal), TotalTax=out(tax), Total=out(subtotal + tax))

    @staticmethod
    def check_status(old, new, errors, label, remote_edit=False):
        """The status rules (before ``settle``): ``new["Status"]`` is the one asked for.
        ``remote_edit``: a user editing in Xero, who may change the lines of an AUTHORISED
        document without payments (the API may not)."""
        status = new["Status"]
        allowed = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")
        if status not in allowed:
            errors.append("Status must be one of %s" % ", ".join(allowed))
            new["Status"] = old["Status"] if old else "DRAFT"  # answerable by the SDKs
            return
        if old is None:
            if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
                errors.append("%s not of valid status for creation" % label)
            return
        before = old["Status"]
        amounts = ("Type", "LineItems", "LineAmountTypes", "CurrencyCode", "Contact",
                   "SubTotal", "TotalTax", "Total")
        ignored = set(COMPUTED) | {"Status", "AppliedAmount"} | set(amounts)
        same = XeroAccounting.same
        lines_changed = not same({k: old.get(k) for k in amounts},
                                 {k: new.get(k) for k in amounts})
        others_changed = not same({k: v for k, v in old.items() if k not in ignored},
                                  {k: v for k, v in new.items() if k not in ignored})
        if status == before and not lines_changed and not others_changed:
            return
        allocated = any(old.get(k) for k in ("Payments", "Allocations", "CreditNotes"))
        if before in ("VOIDED", "DELETED"):
            errors.append("%s not of valid status for modification (it is %s)"
                          % (label, before))
        elif before in ("DRAFT", "SUBMITTED"):
            if status in ("VOIDED", "PAID"):
                errors.append("%s not of valid status for modification: only an AUTHORISED "
                              "document can be voided (delete a %s one)" % (label, before))
        elif status == "VOIDED":
            if allocated:
                errors.append("Payments must be removed before voiding")
            elif lines_changed:
                errors.append("%s not of valid status for modification" % label)
        elif status in ("DRAFT", "SUBMITTED", "DELETED"):
            errors.append("%s not of valid status for modification: an AUTHORISED document "
                          "cannot go back to %s (void it instead)" % (label, status))
        elif allocated:
            errors.append("This document cannot be edited as it has a payment or credit note "
                          "allocated to it")
        elif lines_changed and not remote_edit:
            errors.append("%s not of valid status for modification" % label)

    @staticmethod
    def settle(record, credit):
        """AmountPaid/AmountCredited/AmountDue (RemainingCredit) and PAID from the payments
        and allocations."""
        total = Decimal(str(record["Total"]))
        paid = sum((Decimal(str(p["Amount"])) for p in record.get("Payments", [])), ZERO)
        applied = sum((Decimal(str(a.get("Amount", a.get("AppliedAmount", 0))))
                       for a in record.get("Allocations" if credit else "CreditNotes", [])),
                      ZERO)
        due = total - paid - applied
        if record["Status"] in ("VOIDED", "DELETED"):
            due = ZERO
        if credit:
            record["RemainingCredit"] = out(due)
            record["AppliedAmount"] = out(applied)
        else:
            record.update(AmountPaid=out(paid), AmountCredited=out(applied), AmountDue=out(due))
        if record["Status"] in ("AUTHORISED", "PAID"):
            record["Status"] = "PAID" if due <= 0 else "AUTHORISED"
            if record["Status"] == "PAID":
                record.setdefault("FullyPaidOnDate", record.get("Date"))
            else:
                record.pop("FullyPaidOnDate", None)

    def refresh(self, org, resource, doc):
        """A payment or allocation changed ``doc``: settle it again and stamp it."""
        self.settle(doc, resource == "CreditNotes")
        doc["UpdatedDateUTC"] = xdate(now())
        self.changed(org, resource, doc[ID_FIELDS[resource]], "update", doc)

    # -- payments and allocations -------------------------------------------------------------

    @staticmethod
    def summary(doc, credit):
        key = "CreditNote" if credit else "Invoice"
        number = "CreditNoteNumber" if credit else "InvoiceNumber"
        result = {key + "ID": doc[key + "ID"], "Type": doc["Type"], "Contact": doc["Contact"],
                  "CurrencyCode": doc["CurrencyCode"], "Status": doc["Status"],
                  "LineItems": [], "Payments": [], "Total": doc["Total"]}
        if doc.get(number):
            result[number] = doc[number]
        return result

    def payment(self, org, element, old, errors, _unitdp):
        if old is not None:
            record = copy.deepcopy(old)
            if str(element.get("Status") or "").upper() != "DELETED":
                errors.append("A payment cannot be edited: delete it (Status DELETED) and "
                              "create a new one")
            elif old["Status"] == "DELETED":
                errors.append("This payment has already been deleted")
            record["Status"] = "DELETED"
            return record, lambda saved: self.unpay(org, saved)
        record = {k: copy.deepcopy(v) for k, v in element.items() if k not in COMPUTED}
        credit = bool(record.get("CreditNote")) and not record.get("Invoice")
        resource, key = ("CreditNotes", "CreditNote") if credit else ("Invoices", "Invoice")
        given = record.get(key) or {}
        number = (given.get(key + "Number") if isinstance(given, dict) else None) or record.get(
            key + "Number")
        doc = None
        if isinstance(given, dict) and given.get(key + "ID"):
            doc = org.find(resource, given[key + "ID"])
        elif number:
            doc = self.lookup(org, resource, number)
        if not given and not number:
            errors.append("You must specify an Invoice or a CreditNote for a payment")
        elif doc is None:
            errors.append("The %s %s could not be found" % (
                key, (given.get(key + "ID") if isinstance(given, dict) else None) or number))
        account_ref = record.get("Account") or {}
        account = None
        if not isinstance(account_ref, dict) or not (account_ref.get("AccountID")
                                                     or account_ref.get("Code")):
            errors.append("You must specify an Account (AccountID or Code) for the payment")
        else:
            account = org.account(code=account_ref.get("Code"),
                                  account_id=account_ref.get("AccountID"))
            if account is None:
                errors.append("Account could not be found")
            elif account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
                errors.append("Account type is invalid for making a payment to/from")
        amount = dec(record.get("Amount"))
        if amount is None or amount <= 0:
            errors.append("The payment Amount must be a number greater than zero")
            amount = ZERO
        amount = cents(amount)
        if doc is not None:
            due = Decimal(str(doc["RemainingCredit"] if credit else doc["AmountDue"]))
            if doc["Status"] == "PAID" or (doc["Status"] == "AUTHORISED" and amount > due):
                errors.append("Payment amount exceeds the amount outstanding on this document")
            elif doc["Status"] != "AUTHORISED":
                errors.append("Payments can only be made against AUTHORISED documents (this "
                              "one is %s)" % doc["Status"])
        stamp = parse_xdate(record["Date"]) if record.get("Date") else now()
        if stamp is None:
            errors.append("Date %r is not a valid date" % record["Date"])
            stamp = now()
        rate = dec(record.get("CurrencyRate", doc["CurrencyRate"] if doc else 1))
        if rate is None or rate <= 0:
            errors.append("CurrencyRate must be a positive number")
            rate = Decimal(1)
        kind = doc["Type"] if doc else ("ACCRECCREDIT" if credit else "ACCREC")
        record.update(Date=xdate(day(stamp)), Amount=out(amount), BankAmount=out(amount),
                      CurrencyRate=out(rate), Status="AUTHORISED",
                      PaymentType={"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT",
                                   "ACCRECCREDIT": "ARCREDITPAYMENT",
                                   "ACCPAYCREDIT": "APCREDITPAYMENT"}[kind],
                      IsReconciled=bool(record.get("IsReconciled", False)), HasAccount=True,
                      HasValidationErrors=False)
        if account:
            record["Account"] = {"AccountID": account["AccountID"], "Code": account["Code"],
                                 "Name": account["Name"]}
        if doc is not None:
            record[key] = self.summary(doc, credit)
            record.pop("Invoice" if credit else "CreditNote", None)

        def commit(saved):
            doc["Payments"].append({
                "PaymentID": saved["PaymentID"], "Date": saved["Date"],
                "Amount": saved["Amount"], "Reference": saved.get("Reference", ""),
                "CurrencyRate": saved["CurrencyRate"], "HasAccount": False,
                "HasValidationErrors": False})
            self.refresh(org, resource, doc)
            saved[key]["Status"] = doc["Status"]
        return record, commit

    def unpay(self, org, payment):
        credit = "CreditNote" in payment
        resource, key = ("CreditNotes", "CreditNote") if credit else ("Invoices", "Invoice")
        doc = org.find(resource, payment[key][key + "ID"])
        if doc is not None:
            doc["Payments"] = [p for p in doc["Payments"]
                               if p["PaymentID"] != payment["PaymentID"]]
            self.refresh(org, resource, doc)
            payment[key]["Status"] = doc["Status"]

    def allocate(self, request):
        """PUT /CreditNotes/{id}/Allocations: apply credit to invoices of the same contact."""
        def run(org):
            note = org.find("CreditNotes", request.args["id"])
            if note is None:
                return self.provider.error("api", 404)
            try:
                items = self.elements(request, "Allocations")
            except _Invalid as e:
                return e.response
            summarize = (request.query.get("summarizeErrors") or "true").lower() != "false"
            results = [self.allocation(org, note, item) for item in items]
            return self.answer("Allocations", results, summarize)
        return self.replayable(request, run)

    def allocation(self, org, note, element):
        errors = []
        if not isinstance(element, dict):
            return {}, ["Each allocation must be an object"]
        given = element.get("Invoice") or {}
        invoice = org.find("Invoices", given.get("InvoiceID")) if isinstance(
            given, dict) and given.get("InvoiceID") else None
        amount = dec(element.get("Amount"))
        if invoice is None:
            errors.append("The Invoice could not be found")
        if amount is None or amount <= 0:
            errors.append("The allocation Amount must be a number greater than zero")
            amount = ZERO
        amount = cents(amount)
        if note["Status"] != "AUTHORISED":
            errors.append("Credit Note not of valid status for allocation (it is %s)"
                          % note["Status"])
        elif amount > Decimal(str(note["RemainingCredit"])):
            errors.append("The amount applied exceeds the remaining credit on the credit note")
        if invoice is not None:
            if invoice["Type"] + "CREDIT" != note["Type"]:
                errors.append("A %s credit note cannot be allocated to a %s invoice"
                              % (note["Type"], invoice["Type"]))
            elif invoice["Contact"]["ContactID"] != note["Contact"]["ContactID"]:
                errors.append("The invoice and the credit note belong to different contacts")
            elif invoice["Status"] != "AUTHORISED":
                errors.append("Invoice not of valid status for allocation (it is %s)"
                              % invoice["Status"])
            elif amount > Decimal(str(invoice["AmountDue"])):
                errors.append("The amount applied exceeds the amount outstanding on the "
                              "invoice")
        stamp = parse_xdate(element.get("Date")) if element.get("Date") else now()
        record = {"AllocationID": ZERO_ID, "Amount": out(amount),
                  "Date": xdate(day(stamp or now())), "IsDeleted": False,
                  "Invoice": ({"InvoiceID": invoice["InvoiceID"]} if invoice
                              else given if isinstance(given, dict) else {}),
                  "CreditNote": {"CreditNoteID": note["CreditNoteID"]}}
        if errors:
            return record, errors
        record["AllocationID"] = uid()
        if invoice.get("InvoiceNumber"):
            record["Invoice"]["InvoiceNumber"] = invoice["InvoiceNumber"]
        note["Allocations"].append({"AllocationID": record["AllocationID"],
                                    "Amount": record["Amount"], "Date": record["Date"],
                                    "Invoice": record["Invoice"]})
        invoice["CreditNotes"].append({"CreditNoteID": note["CreditNoteID"],
                                       "CreditNoteNumber": note.get("CreditNoteNumber", ""),
                                       "AppliedAmount": record["Amount"],
                                       "Date": record["Date"], "Total": note["Total"]})
        self.refresh(org, "CreditNotes", note)
        self.refresh(org, "Invoices", invoice)
        return record, []

    # -- manual journals ----------------------------------------------------------------------

    def manual_journal(self, org, element, old, errors, _unitdp):
        record = self.merged(old, element)
        narration = record.get("Narration")
        if not isinstance(narration, str) or not narration.strip():
            errors.append("Narration cannot be empty")
            record["Narration"] = ""  # the SDKs refuse a journal without one
        status = str(record.get("Status") or "DRAFT").upper()
        record["Status"] = status
        before = old["Status"] if old else None
        if before is None and status not in ("DRAFT", "POSTED"):
            errors.append("A manual journal is created as DRAFT or POSTED")
        elif before in ("VOIDED", "DELETED") and not self.same(old, record):
            errors.append("Manual journal not of valid status for modification (it is %s)"
                          % before)
        elif before == "DRAFT" and status not in ("DRAFT", "POSTED", "DELETED"):
            errors.append("A DRAFT manual journal can be POSTED or DELETED, not %s" % status)
        elif before == "POSTED" and status not in ("POSTED", "VOIDED"):
            errors.append("A POSTED manual journal can be VOIDED, not %s" % status)
        if status not in ("DRAFT", "POSTED", "DELETED", "VOIDED"):
            record["Status"] = before or "DRAFT"  # the SDKs refuse other values
        stamp = parse_xdate(record["Date"]) if record.get("Date") else now()
        if stamp is None:
            errors.append("Date %r is not a valid date" % record["Date"])
            stamp = now()
        record["Date"] = xdate(day(stamp))
        amount_types = next((t for t in LINE_AMOUNT_TYPES if t.lower() == str(
            record.get("LineAmountTypes") or "NoTax").lower()), None)
        if amount_types is None:
            errors.append("LineAmountTypes must be Exclusive, Inclusive or NoTax")
            amount_types = "NoTax"
        record["LineAmountTypes"] = amount_types
        lines = record.get("JournalLines") or []
        if not isinstance(lines, list) or len(lines) < 2:
            errors.append("A manual journal must have at least two journal lines")
            lines = lines if isinstance(lines, list) else []
        debits = credits = ZERO
        result = []
        for number, given in enumerate(lines, 1):
            if not isinstance(given, dict):
                errors.append("Journal line %d must be an object" % number)
                continue
            line = dict(given)
            amount = dec(line.get("LineAmount"))
            if amount is None:
                errors.append("Journal line %d: LineAmount must be a number" % number)
                amount = ZERO
            amount = cents(amount)
            account = org.account(code=line.get("AccountCode"),
                                  account_id=line.get("AccountID"))
            if account is None or account["Status"] != "ACTIVE":
                errors.append("Account code '%s' is not a valid code for this document."
                              % (line.get("AccountCode") or ""))
            else:
                line.update(AccountCode=account["Code"], AccountID=account["AccountID"])
            tax_type = line.get("TaxType") or "NONE"
            rate = org.records["TaxRates"].get(tax_type)
            if rate is None:
                errors.append("The TaxType code '%s' does not exist or cannot be used for this "
                              "type of transaction." % tax_type)
            percent = Decimal(str(rate["EffectiveRate"])) if rate else ZERO
            tax = {"Exclusive": cents(amount * percent / 100),
                   "Inclusive": cents(amount - amount / (1 + percent / 100))}.get(
                amount_types, ZERO)
            line.update(LineAmount=out(amount), TaxType=tax_type, TaxAmount=out(tax),
                        IsBlank=False)
            line.setdefault("Tracking", [])
            if amount > 0:
                debits += amount
            else:
                credits -= amount
            result.append(line)
        if debits != credits:
            errors.append("The total debits (%s) must equal total credits (%s)"
                          % (debits, credits))
        record["JournalLines"] = result
        record.setdefault("ShowOnCashBasisReports", True)
        record["HasAttachments"] = False
        return record, None


class _Invalid(Exception):
    """A malformed request body: ``response`` is the answer."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response

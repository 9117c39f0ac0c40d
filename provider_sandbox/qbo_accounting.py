"""The QuickBooks Online v3 accounting API under /qbo/v3/company/{realm}: entity create,
read, update (full and sparse), void and delete with SyncToken checks; the query language;
/batch; ``requestid`` replays; the business rules a sync engine trips over (duplicate names
and document numbers, inactive references, stale objects, unbalanced journals, payments).

State is one ``Books`` per realm, in memory, rebuilt by ``reset``. Records are stored as the
JSON QBO answers with (plain dicts), so ``records()`` hands out copies of exactly that.
"""
import copy
import re
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .core import BadRequest, Response, Route, json_response, now
from .qbo import COMPANIES, SEED_TIME, fault_response, qbo_time

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_REQUESTID, MAX_BATCH_REQUESTID, MAX_BATCH_BID = 50, 36, 10
MAX_BATCH_ITEMS = 30
MAX_REPLIES = 10000  # requestid answers kept per realm
DEFAULT_MAX_RESULTS, MAX_RESULTS = 100, 1000
COMPANY_TZ = timezone(timedelta(hours=-8))  # the sandbox companies keep Pacific (standard) time
USD = {"value": "USD", "name": "United States Dollar"}

READ_ONLY = ("Account", "TaxCode", "TaxRate", "Preferences")
NAME_LISTS = {"Customer": "DisplayName", "Vendor": "DisplayName", "Item": "Name"}
SALES = ("Invoice", "CreditMemo")
PURCHASES = ("Bill", "VendorCredit")
PAYMENTS = {  # payment entity: (party reference, {linkable document: sign of its lines})
    "Payment": ("CustomerRef", {"Invoice": 1, "CreditMemo": -1}),
    "BillPayment": ("VendorRef", {"Bill": 1, "VendorCredit": -1}),
}
TRANSACTIONS = SALES + PURCHASES + tuple(PAYMENTS) + ("JournalEntry",)
ENTITIES = READ_ONLY + tuple(NAME_LISTS) + TRANSACTIONS
DOC_NUMBERED = SALES + PURCHASES + ("JournalEntry",)
SYSTEM_FIELDS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "time", "status")
COMPUTED_FIELDS = ("Balance", "BalanceWithJobs", "FullyQualifiedName", "TotalAmt", "HomeTotalAmt",
                   "HomeBalance", "RemainingCredit", "UnappliedAmt", "LinkedTxn")
ITEM_TYPES = ("Service", "NonInventory", "Inventory", "Category", "Group")
MAX_REF_NUMBER, MAX_PRIVATE_NOTE = 21, 4000  # DocNumber / PaymentRefNum, PrivateNote
# Name-list strings QBO holds to 100 characters (Finance.xsd: Item Name and Sku; Intuit's API
# reference: DisplayName and CompanyName); longer → 2050.
MAX_NAME_FIELDS = {"Customer": ("DisplayName", "CompanyName"),
                   "Vendor": ("DisplayName", "CompanyName"), "Item": ("Name", "Sku")}
MAX_NAME = 100
# Fields a query may not filter on (QBO: "QueryValidationError: property 'X' is not
# queryable"): notes, payment reference numbers and lines anywhere, a Payment's DocNumber
# (Finance.xsd: "Filter support not provided for Payment").
NOT_QUERYABLE = {None: ("PrivateNote", "PaymentRefNum", "Line"), "Payment": ("DocNumber",)}

MESSAGES = {
    "500": "Unsupported Operation",
    "610": "Object Not Found",
    "1060": "Invalid requestid",
    "2010": "Request has invalid or unsupported property",
    "2020": "Required param missing, need to supply the required value for the API",
    "2040": "Invalid String",
    "2050": "String length is either shorter or longer than supported by specification",
    "2170": "Invalid Enumeration",
    "4000": "Error parsing query",
    "4001": "Invalid query",
    "5010": "Stale Object Error",
    "6000": "A business validation error has occurred while processing your request",
    "6070": "Amount calculation incorrect",
    "6140": "Duplicate Document Number Error",
    "6240": "Duplicate Name Exists Error",
}
INACTIVE_HINT = ("Something you're trying to use has been made inactive or deleted. Check the "
                 "fields with accounts, customers, items, vendors or employees.")

# Seeded chart: Name, AcctNum, AccountType, AccountSubType, Classification
ACCOUNTS = (
    ("Sales of Product Income", "4000", "Income", "SalesOfProductIncome", "Revenue"),
    ("Services", "4100", "Income", "ServiceFeeIncome", "Revenue"),
    ("Cost of Goods Sold", "5000", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
    ("Office Supplies", "6100", "Expense", "OfficeGeneralAdministrativeExpenses", "Expense"),
    ("Checking", "1000", "Bank", "Checking", "Asset"),
    ("Savings", "1010", "Bank", "Savings", "Asset"),
    ("Accounts Receivable (A/R)", "1200", "Accounts Receivable", "AccountsReceivable", "Asset"),
    ("Undeposited Funds", "1300", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("Accounts Payable (A/P)", "2000", "Accounts Payable", "AccountsPayable", "Liability"),
)
SALES_TAX_RATE = Decimal("8.25")


class QBOError(Exception):
    """A v3 API Fault: HTTP 400 alone, or one BatchItemResponse."""

    def __init__(self, code, detail, element=""):
        super().__init__("%s %s: %s" % (code, MESSAGES[code], detail))
        self.code, self.detail, self.element = code, detail, element

    def fault(self):
        return {"Error": [{"Message": MESSAGES[self.code], "Detail": self.detail,
                           "code": self.code, "element": self.element}],
                "type": "ValidationFault"}

    def response(self):
        return fault_response(400, self.code, MESSAGES[self.code], self.detail,
                              "ValidationFault")


# -- values ---------------------------------------------------------------------------------

def meta_time(t=None):
    """MetaData times: the company's local time, to the second, like QBO."""
    t = now() if t is None else t
    return datetime.fromtimestamp(int(t), COMPANY_TZ).isoformat()


def today():
    return datetime.fromtimestamp(now(), COMPANY_TZ).date().isoformat()


def parse_time(text):
    """Epoch seconds of a QBO date or datetime string, else None (no zone = company time)."""
    if not isinstance(text, str) or not re.match(r"\d{4}-\d\d-\d\d", text):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=COMPANY_TZ)
    return value.timestamp()


def dec(value, field):
    if isinstance(value, bool) or value is None:
        raise QBOError("2010", "Property Name:%s has an invalid value: %r" % (field, value), field)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise QBOError("2010", "Property Name:%s has an invalid value: %r" % (field, value),
                       field) from None
    if not number.is_finite():
        raise QBOError("2010", "Property Name:%s has an invalid value: %r" % (field, value), field)
    return number


def cents(number):
    return number.quantize(CENT, ROUND_HALF_UP)


def out(number):
    """A Decimal as the JSON number QBO sends (100.0, 8.25)."""
    return float(number)


def clean(value):
    """The request JSON without the nulls and empty strings python-quickbooks sends for unset
    fields (an empty reference becomes absent)."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            item = clean(item)
            if item is None or item == "" or item == {}:
                continue
            result[key] = item
        return result
    if isinstance(value, list):
        return [clean(item) for item in value if item is not None]
    return value


def ref_id(ref):
    value = ref.get("value") if isinstance(ref, dict) else ref
    if value is None or value == "" or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def display_name(record):
    return record.get("DisplayName") or record.get("FullyQualifiedName") or record.get("Name")


def bump(record, created=False):
    stamp = meta_time()
    if created:
        record["SyncToken"] = "0"
        record["MetaData"] = {"CreateTime": stamp, "LastUpdatedTime": stamp}
    else:
        record["SyncToken"] = str(int(record.get("SyncToken") or 0) + 1)
        record["MetaData"] = dict(record.get("MetaData") or {}, LastUpdatedTime=stamp)


def system_fields(record, record_id):
    return {"Id": record_id, "SyncToken": record.get("SyncToken", "0"),
            "MetaData": record.get("MetaData"), "domain": "QBO", "sparse": False}


# -- one realm ------------------------------------------------------------------------------

class Books:
    """One realm's records, by entity and Id; Ids are increasing numbers per realm."""

    def __init__(self, realm):
        self.realm = realm
        self.last_id = 0
        self.records = {entity: {} for entity in ENTITIES}
        self.deleted = {}  # (entity, Id) -> when it was deleted (for Change Data Capture)
        self.replies = OrderedDict()  # requestid -> Response
        seed_meta = {"CreateTime": SEED_TIME, "LastUpdatedTime": SEED_TIME}
        for name, number, kind, subtype, classification in ACCOUNTS:
            account_id = self.new_id()
            self.records["Account"][account_id] = {
                "Id": account_id, "Name": name, "SubAccount": False,
                "FullyQualifiedName": name, "Active": True, "Classification": classification,
                "AccountType": kind, "AccountSubType": subtype, "AcctNum": number,
                "CurrentBalance": 0, "CurrentBalanceWithSubAccounts": 0, "CurrencyRef": USD,
                "domain": "QBO", "sparse": False, "SyncToken": "0", "MetaData": seed_meta}
        self.records["TaxRate"]["1"] = {
            "Id": "1", "Name": "State sales tax", "Description": "Sales Tax", "Active": True,
            "RateValue": out(SALES_TAX_RATE), "AgencyRef": {"value": "1"},
            "SpecialTaxType": "NONE", "DisplayType": "ReadOnly", "domain": "QBO",
            "sparse": False, "SyncToken": "0", "MetaData": seed_meta}
        rate_list = {"TaxRateDetail": [{"TaxRateRef": {"value": "1", "name": "State sales tax"},
                                        "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}]}
        for code, name, taxable, group in (("TAX", "TAX", True, False),
                                           ("NON", "NON", False, False),
                                           ("2", "State sales tax", True, True)):
            self.records["TaxCode"][code] = {
                "Id": code, "Name": name, "Description": name, "Active": True, "Hidden": False,
                "Taxable": taxable, "TaxGroup": group,
                "SalesTaxRateList": rate_list if taxable else {"TaxRateDetail": []},
                "PurchaseTaxRateList": {"TaxRateDetail": []}, "domain": "QBO",
                "sparse": False, "SyncToken": "0", "MetaData": seed_meta}
        self.records["Preferences"]["1"] = {
            "Id": "1", "domain": "QBO", "sparse": False, "SyncToken": "0", "MetaData": seed_meta,
            "AccountingInfoPrefs": {"TrackDepartments": False, "ClassTrackingPerTxn": False,
                                    "CustomerTerminology": "Customers", "UseAccountNumbers": True,
                                    "FirstMonthOfFiscalYear": "January"},
            "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True,
                                        "QuantityWithPriceAndRate": True,
                                        "QuantityOnHand": True},
            "SalesFormsPrefs": {"CustomTxnNumbers": True, "AllowDiscount": True,
                                "AllowDeposit": False, "AllowShipping": False},
            "VendorAndPurchasesPrefs": {"TrackingByCustomer": True,
                                        "BillableExpenseTracking": True},
            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False,
                         "TaxGroupCodeRef": {"value": "2"}},
            "CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}},
        }

    def new_id(self):
        self.last_id += 1
        return str(self.last_id)

    def account_id(self, subtype):
        return next(a["Id"] for a in self.records["Account"].values()
                    if a["AccountSubType"] == subtype)


# -- the query language -----------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|<>|=|<|>)"
                   r"|(?P<punct>[(),])|(?P<word>[\w.*%:/+-]+))", re.S)
MISSING = object()


def query_error(detail):
    return QBOError("4000", "QueryParserError: %s" % detail)


def tokenize(text):
    tokens, pos = [], 0
    while text[pos:].strip():
        match = TOKEN.match(text, pos)
        if not match:
            raise query_error("Encountered an unexpected character at %r" % text[pos:].strip()[:20])
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        pos = match.end()
    return tokens


def literal(token):
    kind, value = token
    if kind == "str":
        return value
    if kind != "word":
        raise query_error("expected a value, found %r" % value)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def parse_query(text):
    """``select <fields> from <Entity> [where a = 'x' [and ...]] [orderby f [desc], ...]
    [startposition N] [maxresults M]`` -> dict of the parts (QBO has no OR)."""
    match = re.match(r"\s*select\s+(?P<fields>.+?)\s+from\s+(?P<entity>\w+)(?P<rest>.*)$",
                     text or "", re.I | re.S)
    if not match:
        raise query_error("expected 'select * from <Entity>'")
    query = {"entity": match.group("entity"), "conditions": [], "order": [], "start": 1,
             "max": DEFAULT_MAX_RESULTS,
             "count": bool(re.fullmatch(r"count\s*\(\s*\*\s*\)", match.group("fields").strip(),
                                        re.I))}
    tokens = tokenize(match.group("rest"))
    i = 0

    def keyword(*words):
        return i < len(tokens) and tokens[i][0] == "word" and tokens[i][1].lower() in words

    def take():
        nonlocal i
        if i >= len(tokens):
            raise query_error("the query ends too early")
        i += 1
        return tokens[i - 1]

    def number():
        kind, value = take()
        if kind != "word" or not value.isdigit():
            raise query_error("expected a number, found %r" % value)
        return int(value)

    if keyword("where"):
        take()
        while True:
            kind, field = take()
            if kind != "word":
                raise query_error("expected a field name, found %r" % field)
            if keyword("in"):
                take()
                if take() != ("punct", "("):
                    raise query_error("expected ( after IN")
                values = [literal(take())]
                while tokens[i:i + 1] == [("punct", ",")]:
                    take()
                    values.append(literal(take()))
                if take() != ("punct", ")"):
                    raise query_error("expected ) to close IN")
                query["conditions"].append((field, "in", values))
            elif keyword("like"):
                take()
                query["conditions"].append((field, "like", literal(take())))
            else:
                kind, op = take()
                if kind != "op":
                    raise query_error("expected an operator after %s, found %r" % (field, op))
                query["conditions"].append((field, op, literal(take())))
            if keyword("and"):
                take()
                continue
            if keyword("or"):
                raise query_error("OR is not supported in QuickBooks queries")
            break
    while i < len(tokens):
        if keyword("orderby", "order"):
            if take()[1].lower() == "order":
                if not keyword("by"):
                    raise query_error("expected BY after ORDER")
                take()
            while True:
                kind, field = take()
                descending = False
                if keyword("asc", "desc"):
                    descending = take()[1].lower() == "desc"
                query["order"].append((field, descending))
                if tokens[i:i + 1] != [("punct", ",")]:
                    break
                take()
        elif keyword("startposition"):
            take()
            query["start"] = max(1, number())
        elif keyword("maxresults"):
            take()
            query["max"] = number()
            if query["max"] > MAX_RESULTS:
                raise query_error("MAXRESULTS may not exceed %d" % MAX_RESULTS)
        else:
            raise query_error("Encountered %r" % tokens[i][1])
    return query


def field_value(record, path):
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return MISSING
        key = next((k for k in value if k.lower() == part.lower()), None)
        if key is None:
            return MISSING
        value = value[key]
    if isinstance(value, dict):  # a reference or an e-mail address
        value = value.get("value", value.get("Address", MISSING))
    return value


def _number(value):
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)) if re.fullmatch(r"-?\d+(\.\d+)?", str(value)) else None
    except InvalidOperation:
        return None


def compare(actual, op, expected):
    if actual is MISSING or actual is None:
        return False
    if op == "in":
        return any(compare(actual, "=", value) for value in expected)
    if op == "like":
        pattern = "".join(".*" if c == "%" else re.escape(c) for c in str(expected))
        return re.fullmatch(pattern, str(actual), re.I | re.S) is not None
    if isinstance(actual, bool) or isinstance(expected, bool):
        a, b = actual, expected
        if op in ("=", "!=", "<>"):
            return (a == b) == (op == "=")
        return False
    a, b = _number(actual), _number(expected)
    if a is None or b is None:
        a, b = parse_time(actual), parse_time(expected)
    if a is None or b is None:
        a, b = str(actual).lower(), str(expected).lower()
    return {"=": a == b, "!=": a != b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b,
            ">=": a >= b}[op]


def sort_key(value):
    if value is MISSING or value is None:
        return (0, 0)
    number = _number(value)
    if number is not None:
        return (1, number)
    stamp = parse_time(value)
    if stamp is not None:
        return (2, stamp)
    return (3, str(value).lower())


# -- the API --------------------------------------------------------------------------------

class QBOAccounting:
    """The accounting endpoints of the QBO provider (``provider.realm`` authenticates,
    checks ``minorversion`` and the rate limits)."""

    def __init__(self, provider):
        self.provider = provider
        self.books = {}

    def reset(self):
        self.books = {realm: Books(realm) for realm in COMPANIES}

    def routes(self):
        company = r"/qbo/v3/company/(?P<realm>[^/]+)"
        return [
            Route("GET", company + r"/cdc", self.cdc),
            Route("POST", company + r"/batch", self.batch),
            Route("GET", company + r"/query", self.query),
            Route("POST", company + r"/query", self.query),
            Route("GET", company + r"/preferences", self.preferences),
            Route("GET", company + r"/reports/(?P<report>[A-Za-z]+)", self.report),
            Route("POST", company + r"/(?P<entity>[A-Za-z]+)", self.write),
            Route("GET", company + r"/(?P<entity>[A-Za-z]+)/(?P<id>[^/]+)", self.read),
        ]

    # -- the Python API (sandbox.records / seed) ------------------------------------------------

    def realm_books(self, realm):
        realm = realm or next(iter(COMPANIES))
        if realm not in self.books:
            raise ValueError("unknown QBO realm %r (known: %s)" % (realm, ", ".join(COMPANIES)))
        return self.books[realm]

    def records(self, entity, realm=None):
        books = self.realm_books(realm)
        entity = self.known(entity)
        return [copy.deepcopy(r) for r in sorted(books.records[entity].values(),
                                                 key=lambda r: sort_key(r["Id"]))]

    def seed(self, entity, record, realm=None):
        books = self.realm_books(realm)
        entity = self.known(entity)
        if not isinstance(record, dict):
            raise ValueError("record must be a dict")
        body = clean(copy.deepcopy(record))
        try:
            if entity in READ_ONLY:
                return copy.deepcopy(self._seed_read_only(books, entity, body))
            body.pop("Id", None)
            return copy.deepcopy(self.create(books, entity, body, {"allowduplicatedocnum"}))
        except QBOError as e:
            raise ValueError(str(e)) from None

    def _seed_read_only(self, books, entity, body):
        record_id = ref_id(body.get("Id")) or books.new_id()
        record = dict(body, **system_fields({}, record_id))
        record.setdefault("Active", True)
        if record.get("Name"):
            record.setdefault("FullyQualifiedName", record["Name"])
        bump(record, created=True)
        books.records[entity][record_id] = record
        self.changed(books, entity, record_id, "create")
        return record

    def changed(self, books, entity, record_id, operation, data=None):
        """Log a change of the books (change log -> webhooks)."""
        self.provider.app.changes.record("qbo", books.realm, entity, record_id, operation,
                                         data)

    def cdc(self, request):
        """GET /cdc?entities=&changedSince= (Change Data Capture, qbo_cdc.py)."""
        from .qbo_cdc import change_data_capture
        return self.replayable(request, MAX_REQUESTID, lambda books: self.ok(
            change_data_capture(self, books, request.query)))

    def report(self, request):
        """GET /reports/{TrialBalance|AgedReceivables|AgedPayables} (qbo_reports.py)."""
        from .qbo_reports import report
        return self.replayable(request, MAX_REQUESTID, lambda books: json_response(
            200, report(books, request.args["report"], request.query)))

    # -- HTTP handlers ---------------------------------------------------------------------

    @staticmethod
    def entity(name):
        """The canonical entity name of a URL segment ("invoice" -> "Invoice")."""
        canonical = next((e for e in ENTITIES if e.lower() == str(name).lower()), None)
        if canonical is None:
            raise QBOError("500", "Operation is not supported for the resource %s (the sandbox "
                                  "knows %s)" % (name, ", ".join(ENTITIES)))
        return canonical

    @staticmethod
    def known(name):
        """The canonical entity name for the Python API; ValueError if unknown."""
        canonical = next((e for e in ENTITIES if e.lower() == str(name).lower()), None)
        if canonical is None:
            raise ValueError("unknown QBO entity %r (known: %s)" % (name, ", ".join(ENTITIES)))
        return canonical

    @staticmethod
    def ok(data):
        data["time"] = qbo_time()
        return json_response(200, data)

    def replayable(self, request, max_length, run):
        """``requestid``: a repeat answers the first answer again without running again."""
        realm = self.provider.realm(request)
        books = self.books.get(realm)
        if books is None:  # a realm the token names but the sandbox never seeded
            raise BadRequest("unknown realm %s" % realm)
        request_id = request.query.get("requestid")
        if request_id is not None and not 0 < len(request_id) <= max_length:
            return QBOError("1060", "Invalid requestid: it must be 1 to %d characters long "
                                    "(got %d)" % (max_length, len(request_id))).response()
        if request_id is not None and request_id in books.replies:
            saved = books.replies[request_id]
            return Response(saved.status, saved.body, dict(saved.headers))
        try:
            response = run(books)
        except QBOError as e:
            response = e.response()
        if request_id is not None:
            books.replies[request_id] = Response(response.status, response.body,
                                                 dict(response.headers))
            while len(books.replies) > MAX_REPLIES:
                books.replies.popitem(last=False)
        return response

    @staticmethod
    def body(request):
        try:
            data = request.json()
        except BadRequest:
            raise QBOError("2010", "The request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise QBOError("2010", "The request body must be a JSON object")
        return data

    def write(self, request):
        def run(books):
            entity = self.entity(request.args["entity"])
            params = request.query
            include = {v.strip().lower() for v in (params.get("include") or "").split(",") if v}
            result = self.apply(books, entity, (params.get("operation") or "").lower(),
                                include, self.body(request))
            return self.ok({entity: result})
        return self.replayable(request, MAX_REQUESTID, run)

    def read(self, request):
        def run(books):
            entity = self.entity(request.args["entity"])
            record = books.records[entity].get(request.args["id"])
            if record is None:
                gone = (entity, request.args["id"]) in books.deleted
                raise QBOError("610", "Object Not Found : %s Id=%s %s" % (
                    entity, request.args["id"], "was deleted" if gone else "does not exist"))
            return self.ok({entity: copy.deepcopy(record)})
        return self.replayable(request, MAX_REQUESTID, run)

    def preferences(self, request):
        return self.replayable(request, MAX_REQUESTID, lambda books: self.ok(
            {"Preferences": copy.deepcopy(books.records["Preferences"]["1"])}))

    def query(self, request):
        """GET ?query= or POST with the query as the body (python-quickbooks posts it)."""
        def run(books):
            text = request.query.get("query") if request.method == "GET" else request.text()
            realm = request.args["realm"]
            return self.ok({"QueryResponse": self.run_query(books, realm, text)})
        return self.replayable(request, MAX_REQUESTID, run)

    def run_query(self, books, realm, text):
        query = parse_query(text)
        name = query["entity"]
        if name.lower() == "companyinfo":
            entity, rows = "CompanyInfo", [self.provider.company_data(realm)]
        else:
            try:
                entity = self.entity(name)
            except QBOError:
                raise query_error("unknown entity %s" % name) from None
            rows = list(books.records[entity].values())
        conditions = query["conditions"]
        for field, _op, _value in conditions:
            if field.split(".")[0].lower() in {f.lower() for f in NOT_QUERYABLE[None]
                                               + NOT_QUERYABLE.get(entity, ())}:
                raise QBOError("4001", "QueryValidationError: property '%s' is not queryable"
                               % field)
        if entity in NAME_LISTS or entity in ("Account", "TaxCode", "TaxRate"):
            if not any(field.lower() == "active" for field, _op, _v in conditions):
                conditions = conditions + [("Active", "=", True)]
        rows = [r for r in rows if all(compare(field_value(r, f), op, v)
                                       for f, op, v in conditions)]
        if query["count"]:
            return {"totalCount": len(rows)}
        rows.sort(key=lambda r: sort_key(r.get("Id")))
        for field, descending in reversed(query["order"]):
            rows.sort(key=lambda r: sort_key(field_value(r, field)), reverse=descending)
        start = query["start"]
        rows = rows[start - 1:start - 1 + query["max"]]
        if not rows:
            return {}
        return {entity: copy.deepcopy(rows), "startPosition": start, "maxResults": len(rows)}

    def batch(self, request):
        def run(books):
            items = self.body(request).get("BatchItemRequest")
            if not isinstance(items, list) or not items:
                raise QBOError("2020", "Required parameter BatchItemRequest is missing in the "
                                       "request")
            if len(items) > MAX_BATCH_ITEMS:
                raise QBOError("2010", "Batch size %d exceeds the limit of %d BatchItemRequest "
                                       "items" % (len(items), MAX_BATCH_ITEMS))
            if request.query.get("requestid") is not None and any(
                    len(str(item.get("bId", ""))) > MAX_BATCH_BID
                    for item in items if isinstance(item, dict)):
                raise QBOError("2010", "With a requestid every bId must be at most %d "
                                       "characters" % MAX_BATCH_BID)
            include = {v.strip().lower() for v in
                       (request.query.get("include") or "").split(",") if v}
            answers = [self.batch_item(books, request.args["realm"], item, include)
                       for item in items]
            return self.ok({"BatchItemResponse": answers})
        return self.replayable(request, MAX_BATCH_REQUESTID, run)

    def batch_item(self, books, realm, item, include):
        bid = item.get("bId") if isinstance(item, dict) else None
        answer = {"bId": bid}
        try:
            if not isinstance(item, dict) or not bid:
                raise QBOError("2020", "Required parameter bId is missing in the request")
            if "Query" in item:
                answer["QueryResponse"] = self.run_query(books, realm, item["Query"])
                return answer
            names = [k for k in item if k not in ("bId", "operation", "optionsData")]
            if len(names) != 1:
                raise QBOError("2010", "A BatchItemRequest needs exactly one entity or Query")
            entity = self.entity(names[0])
            body = item[names[0]]
            if not isinstance(body, dict):
                raise QBOError("2010", "Property Name:%s must be an object" % names[0])
            operation = str(item.get("operation") or "").lower()
            if operation not in ("create", "update", "delete"):
                raise QBOError("2170", "operation must be create, update or delete")
            if operation == "create" and ref_id(body.get("Id")) is not None:
                raise QBOError("2010", "Property Name:Id must not be given to create")
            answer[entity] = self.apply(books, entity, operation, include, body)
        except QBOError as e:
            answer["Fault"] = e.fault()
        return answer

    # -- operations ------------------------------------------------------------------------

    def apply(self, books, entity, operation, include, body):
        """One write: create, update, void or delete; answers the entity's JSON."""
        if entity in READ_ONLY or entity not in ENTITIES:
            raise QBOError("500", "Operation %s is not supported for %s in the sandbox (read "
                                  "and query only)" % (operation or "create/update", entity))
        body = clean(body)
        if operation == "delete":
            return self.delete(books, entity, body)
        if operation == "void":
            if entity != "Invoice":
                raise QBOError("500", "Operation void is not supported for %s (use "
                                      "operation=update&include=void)" % entity)
            return self.void(books, entity, body)
        if operation not in ("", "create", "update"):
            raise QBOError("2170", "Invalid operation %r" % operation)
        if "void" in include:
            if entity not in PAYMENTS:
                raise QBOError("500", "include=void is not supported for %s" % entity)
            return self.void(books, entity, body)
        if ref_id(body.get("Id")) is not None:
            return self.update(books, entity, body, include)
        if operation == "update":
            raise QBOError("2020", "Required parameter Id is missing in the request")
        return self.create(books, entity, body, include)

    def existing(self, books, entity, body):
        record_id = ref_id(body.get("Id"))
        if record_id is None:
            raise QBOError("2020", "Required parameter Id is missing in the request")
        record = books.records[entity].get(record_id)
        if record is None:
            gone = "was deleted" if (entity, record_id) in books.deleted else "does not exist"
            raise QBOError("610", "Object Not Found : %s Id=%s %s" % (entity, record_id, gone))
        token = body.get("SyncToken")
        if token is None or token == "":
            raise QBOError("2020", "Required parameter SyncToken is missing in the request")
        if str(token) != record["SyncToken"]:
            raise QBOError("5010", "Stale Object Error : You and another user were working on "
                                   "this at the same time. The other user finished before you "
                                   "did, so your work was not saved. (%s Id=%s: SyncToken %s "
                                   "sent, current %s)" % (entity, record_id, token,
                                                          record["SyncToken"]))
        return record

    @staticmethod
    def writable(entity, body):
        """The fields of a request body a client may set (TotalAmt only on payments)."""
        return {k: v for k, v in body.items() if k not in SYSTEM_FIELDS and (
            k not in COMPUTED_FIELDS or (k == "TotalAmt" and entity in PAYMENTS))}

    def create(self, books, entity, body, include):
        fields = self.writable(entity, body)
        record_id = str(books.last_id + 1)  # taken only if the record is valid
        record = self.validate(books, entity, fields, record_id, include, None)
        books.new_id()
        record = dict(record, **system_fields({}, record_id))
        bump(record, created=True)
        books.records[entity][record_id] = record
        self.changed(books, entity, record_id, "create")
        self.after_change(books, entity, None, record)
        return copy.deepcopy(record)

    def update(self, books, entity, body, include, operation="update"):
        old = self.existing(books, entity, body)
        fields = self.writable(entity, body)
        if body.get("sparse") is True:
            merged = copy.deepcopy(self.writable(entity, old))
            if "TxnTaxDetail" in merged and "TxnTaxDetail" not in fields:
                merged["TxnTaxDetail"].pop("TotalTax", None)  # computed again, not kept
            merged.update(fields)
            fields = merged
        record = self.validate(books, entity, fields, old["Id"], include, old)
        record = dict(record, **system_fields(old, old["Id"]))
        bump(record)
        books.records[entity][old["Id"]] = record
        self.changed(books, entity, old["Id"], operation)
        self.after_change(books, entity, old, record)
        return copy.deepcopy(record)

    def delete(self, books, entity, body):
        if entity not in TRANSACTIONS:
            raise QBOError("500", "Operation Delete is not supported for %s: make it inactive "
                                  "(sparse update Active=false)" % entity)
        old = self.existing(books, entity, body)
        self.check_unlinked(books, entity, old, "delete")
        del books.records[entity][old["Id"]]
        books.deleted[(entity, old["Id"])] = now()
        self.changed(books, entity, old["Id"], "delete")
        self.after_change(books, entity, old, None)
        return {"Id": old["Id"], "status": "Deleted", "domain": "QBO"}

    def void(self, books, entity, body):
        old = self.existing(books, entity, body)
        self.check_unlinked(books, entity, old, "void")
        record = copy.deepcopy(old)
        for line in record.get("Line", []):
            line["Amount"] = 0.0
            detail = line.get("SalesItemLineDetail")
            if detail and "Qty" in detail:
                detail["Qty"] = 0.0
        for field in ("TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "UnappliedAmt"):
            if field in record:
                record[field] = 0.0
        tax = record.get("TxnTaxDetail")
        if tax:
            tax["TotalTax"] = 0.0
            for line in tax.get("TaxLine", []):
                line["Amount"] = 0.0
        note = record.get("PrivateNote")  # QBO prepends "Voided" to the memo
        record["PrivateNote"] = ("Voided - %s" % note if note else "Voided")[:MAX_PRIVATE_NOTE]
        bump(record)
        books.records[entity][old["Id"]] = record
        self.changed(books, entity, old["Id"], "void")
        self.after_change(books, entity, old, record)
        return copy.deepcopy(record)

    def check_unlinked(self, books, entity, record, action):
        applied = self.applied(books, entity, record["Id"])
        if applied:
            raise QBOError("6000", "Business Validation Error: You can't %s %s Id=%s: payments "
                                   "of %s are applied to it. Delete or void them first."
                           % (action, entity, record["Id"], applied))

    # -- payments and balances -------------------------------------------------------------------

    @staticmethod
    def links(payment):
        """[(document entity, document Id, line amount)] of a payment's lines."""
        result = []
        for line in payment.get("Line", []):
            for link in line.get("LinkedTxn", [])[:1]:
                result.append((link.get("TxnType"), str(link.get("TxnId")),
                               Decimal(str(line.get("Amount", 0)))))
        return result

    def applied(self, books, entity, doc_id, exclude=None):
        """What payments (other than ``exclude``) apply to a document."""
        total = ZERO
        for payment_entity, (_party, kinds) in PAYMENTS.items():
            if entity not in kinds:
                continue
            for payment in books.records[payment_entity].values():
                if (payment_entity, payment["Id"]) == exclude:
                    continue
                for doc_type, linked_id, amount in self.links(payment):
                    if (doc_type, linked_id) == (entity, doc_id):
                        total += amount
        return total

    def after_change(self, books, entity, old, new):
        """A payment changed: refresh the Balance and LinkedTxn of the documents it links."""
        if entity not in PAYMENTS:
            return
        docs = {(t, i) for record in (old, new) if record for t, i, _a in self.links(record)}
        for doc_type, doc_id in sorted(docs):
            doc = books.records.get(doc_type, {}).get(doc_id)
            if doc is None:
                continue
            before = (doc.get("Balance"), doc.get("LinkedTxn"))
            self.set_balance(books, doc_type, doc)
            if (doc.get("Balance"), doc.get("LinkedTxn")) != before:
                bump(doc)
                self.changed(books, doc_type, doc_id, "update")

    def set_balance(self, books, entity, doc):
        applied = self.applied(books, entity, doc["Id"])
        balance = Decimal(str(doc.get("TotalAmt", 0))) - applied
        doc["Balance"] = out(balance)
        if entity in ("Invoice", "Bill"):
            rate = Decimal(str(doc.get("ExchangeRate", 1)))
            doc["HomeBalance"] = out(cents(balance * rate))
        if entity == "CreditMemo":
            doc["RemainingCredit"] = out(balance)
        payment_entity = next(p for p, (_party, kinds) in PAYMENTS.items() if entity in kinds)
        doc["LinkedTxn"] = [
            {"TxnId": p["Id"], "TxnType": payment_entity}
            for p in sorted(books.records[payment_entity].values(), key=lambda r: int(r["Id"]))
            if any((t, i) == (entity, doc["Id"]) for t, i, _a in self.links(p))]

    # -- validation -----------------------------------------------------------------------------

    def validate(self, books, entity, fields, record_id, include, old):
        """The stored form of ``fields`` (without the system fields), or QBOError."""
        if entity in NAME_LISTS:
            return self.name_list(books, entity, fields, record_id)
        if entity in SALES or entity in PURCHASES:
            record = self.document(books, entity, fields, record_id)
        elif entity in PAYMENTS:
            record = self.payment(books, entity, fields, record_id)
        else:
            record = self.journal(books, fields)
        number = record.get("DocNumber")
        if (entity in DOC_NUMBERED and number and "allowduplicatedocnum" not in include
                and (old is None or old.get("DocNumber") != number)):
            for other in books.records[entity].values():
                if other["Id"] != record_id and other.get("DocNumber") == number:
                    raise QBOError("6140", "Duplicate Document Number Error : You must specify a "
                                           "different number. This number has already been used. "
                                           "DocNumber=%s is assigned to TxnType=%s with TxnId=%s"
                                   % (number, entity, other["Id"]))
        if entity in SALES or entity in PURCHASES:
            record["Id"] = record_id
            applied = self.applied(books, entity, record_id)
            if applied > Decimal(str(record["TotalAmt"])):
                raise QBOError("6000", "Business Validation Error: the new total %s of %s Id=%s "
                                       "is less than the payments applied to it (%s)"
                               % (record["TotalAmt"], entity, record_id, applied))
            self.set_balance(books, entity, record)
        return record

    def resolve(self, books, entity, ref, field, required=False):
        """A reference to an active record -> {"value", "name"}; else 610 (2020 if absent and
        required)."""
        record_id = ref_id(ref)
        if record_id is None:
            if required:
                raise QBOError("2020", "Required parameter %s is missing in the request" % field,
                               field)
            return None
        record = books.records[entity].get(record_id)
        if record is None or record.get("Active") is False:
            why = "does not exist" if record is None else "is inactive"
            raise QBOError("610", "Object Not Found : %s (%s=%s: %s %s %s)" % (
                INACTIVE_HINT, field, record_id, entity, record_id, why), field)
        result = {"value": record_id}
        if display_name(record):
            result["name"] = display_name(record)
        return result

    def name_list(self, books, entity, fields, record_id):
        record = dict(fields)
        name_field = NAME_LISTS[entity]
        name = record.get(name_field)
        if name is None and entity != "Item":
            parts = [record.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName",
                                             "Suffix")]
            name = " ".join(str(p) for p in parts if p) or record.get("CompanyName")
        if not isinstance(name, str) or not name.strip():
            raise QBOError("2020", "Required parameter %s is missing in the request"
                           % ("Name" if entity == "Item" else "DisplayName"), name_field)
        name = name.strip()
        if ":" in name:
            raise QBOError("2040", "Invalid String : %s cannot contain a colon (:), QuickBooks' "
                                   "Parent:Child separator: %r" % (name_field, name), name_field)
        record[name_field] = name
        for field in MAX_NAME_FIELDS[entity]:
            value = record.get(field)
            if isinstance(value, str) and len(value) > MAX_NAME:
                raise QBOError("2050", "String length specified does not match the supported "
                                       "length. Min:0 Max:%d supported. Supplied length:%d "
                                       "(%s)" % (MAX_NAME, len(value), field), field)
        record["FullyQualifiedName"] = name
        if not isinstance(record.get("Active", True), bool):
            raise QBOError("2010", "Property Name:Active must be true or false", "Active")
        record.setdefault("Active", True)
        if record["Active"]:
            rivals = ("Customer", "Vendor") if entity != "Item" else ("Item",)
            for rival in rivals:
                for other in books.records[rival].values():
                    if ((rival, other["Id"]) != (entity, record_id) and other.get("Active")
                            and str(other.get(name_field, "")).lower() == name.lower()):
                        raise QBOError("6240", "The name supplied already exists. : Id=%s (%s "
                                               "%r: another customer, vendor or employee is "
                                               "already using this name)"
                                       % (other["Id"], rival, other[name_field]), name_field)
        if entity == "Item":
            return self.item(books, record)
        record.setdefault("CurrencyRef", USD)
        if entity == "Customer":
            record["Balance"] = 0
            record["BalanceWithJobs"] = 0
        else:
            record["Balance"] = 0
        record.setdefault("PrintOnCheckName", name)
        return record

    def item(self, books, record):
        kind = record.setdefault("Type", "Service")
        if kind not in ITEM_TYPES:
            raise QBOError("2170", "Invalid Enumeration : Type=%r (one of %s)"
                           % (kind, ", ".join(ITEM_TYPES)), "Type")
        required = {"Service": ("IncomeAccountRef",), "NonInventory": ("IncomeAccountRef",),
                    "Inventory": ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef",
                                  "InvStartDate")}.get(kind, ())
        for field in required:
            if not record.get(field):
                raise QBOError("2020", "Required parameter %s is missing in the request "
                                       "(required for Type=%s)" % (field, kind), field)
        for field in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
            if field in record:
                record[field] = self.resolve(books, "Account", record[field], field)
        for field in ("UnitPrice", "PurchaseCost", "QtyOnHand"):
            if field in record:
                record[field] = out(dec(record[field], field))
        if kind == "Inventory":
            record["TrackQtyOnHand"] = True
            record.setdefault("QtyOnHand", 0.0)
        return record

    def common(self, books, record):
        record.setdefault("TxnDate", today())
        if parse_time(record["TxnDate"]) is None:
            raise QBOError("2010", "Property Name:TxnDate has an invalid date: %r"
                           % record["TxnDate"], "TxnDate")
        currency = record.get("CurrencyRef") or USD
        record["CurrencyRef"] = {"value": ref_id(currency) or "USD", "name": (
            currency.get("name") if isinstance(currency, dict) and currency.get("name")
            else ("United States Dollar" if ref_id(currency) in (None, "USD")
                  else ref_id(currency)))}
        rate = dec(record.get("ExchangeRate") or 1, "ExchangeRate")
        if rate <= 0:
            raise QBOError("2010", "Property Name:ExchangeRate must be positive", "ExchangeRate")
        record["ExchangeRate"] = out(rate)
        for field, limit in (("DocNumber", MAX_REF_NUMBER), ("PaymentRefNum", MAX_REF_NUMBER),
                             ("PrivateNote", MAX_PRIVATE_NOTE)):
            if field in record:
                record[field] = str(record[field])
                if len(record[field]) > limit:
                    raise QBOError("2010", "Property Name:%s is longer than %d characters"
                                   % (field, limit), field)
        return rate

    def lines(self, record):
        lines = record.get("Line")
        if not isinstance(lines, list) or not lines:
            raise QBOError("2020", "Required parameter Line is missing in the request", "Line")
        return [dict(line) for line in lines
                if isinstance(line, dict) and line.get("DetailType") != "SubTotalLineDetail"]

    def amount(self, line, number):
        if "Amount" not in line:
            raise QBOError("2020", "Required parameter Line.Amount is missing in the request "
                                   "(line %d)" % number, "Line.Amount")
        return cents(dec(line["Amount"], "Line.Amount"))

    def tax_code(self, books, ref, field):
        resolved = self.resolve(books, "TaxCode", ref, field)
        return resolved, books.records["TaxCode"][resolved["value"]] if resolved else None

    def document(self, books, entity, fields, record_id):
        """Invoice / CreditMemo (sales lines) and Bill / VendorCredit (expense lines)."""
        record = dict(fields)
        sales = entity in SALES
        party, party_entity = (("CustomerRef", "Customer") if sales else ("VendorRef", "Vendor"))
        record[party] = self.resolve(books, party_entity, record.get(party), party, required=True)
        rate = self.common(books, record)
        if entity in ("Invoice", "Bill"):
            record.setdefault("DueDate", record["TxnDate"])
        for field in ("DepositToAccountRef", "APAccountRef", "ARAccountRef"):
            if field in record:
                record[field] = self.resolve(books, "Account", record[field], field)
        lines, net, taxable, discounts = [], ZERO, ZERO, ZERO
        for number, line in enumerate(self.lines(record), 1):
            kind = line.get("DetailType")
            line["Id"], line["LineNum"] = str(number), number
            for empty in ("LinkedTxn", "CustomField"):
                if not line.get(empty):
                    line.pop(empty, None)
            if kind == "DescriptionOnly":
                line["Amount"] = out(self.amount(line, number)) if "Amount" in line else 0.0
                lines.append(line)
                continue
            allowed = (("SalesItemLineDetail", "DiscountLineDetail") if sales else
                       ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"))
            if kind not in allowed:
                raise QBOError("2170", "Invalid Enumeration : Line.DetailType=%r (a %s line is "
                                       "one of %s, DescriptionOnly)" % (kind, entity,
                                                                         ", ".join(allowed)),
                               "Line.DetailType")
            amount = self.amount(line, number)
            line["Amount"] = out(amount)
            detail = dict(line.get(kind) or {})
            if kind == "DiscountLineDetail":
                discounts += amount
                line[kind] = detail
                lines.append(line)
                continue
            if kind == "AccountBasedExpenseLineDetail":
                detail["AccountRef"] = self.resolve(books, "Account", detail.get("AccountRef"),
                                                    "AccountRef", required=True)
                if detail.get("CustomerRef"):
                    detail["CustomerRef"] = self.resolve(books, "Customer",
                                                         detail["CustomerRef"], "CustomerRef")
                self.expense_account(books, entity, detail, number)
            else:
                required = kind == "ItemBasedExpenseLineDetail"
                if detail.get("ItemRef") or required:
                    detail["ItemRef"] = self.resolve(books, "Item", detail.get("ItemRef"),
                                                     "ItemRef", required=required)
                qty, price = detail.get("Qty"), detail.get("UnitPrice")
                if qty not in (None, 0) and price not in (None, 0):
                    expected = cents(dec(qty, "Qty") * dec(price, "UnitPrice"))
                    if expected != amount:
                        raise QBOError("6070", "Amount calculation incorrect : Amount is not "
                                               "equal to UnitPrice * Qty. Supplied value:%s "
                                               "(line %d; UnitPrice * Qty = %s)"
                                       % (amount, number, expected), "Line.Amount")
            code, tax_code = self.tax_code(books, detail.get("TaxCodeRef"), "TaxCodeRef")
            if code:
                detail["TaxCodeRef"] = {"value": code["value"]}
            elif sales:
                detail["TaxCodeRef"] = {"value": "NON"}
            if tax_code and tax_code.get("Taxable"):
                taxable += amount
            line[kind] = detail
            net += amount
            lines.append(line)
        if sales:
            lines.append({"Amount": out(net), "DetailType": "SubTotalLineDetail",
                          "SubTotalLineDetail": {}})
        net -= discounts
        record["Line"] = lines
        tax = self.sales_tax(books, record.get("TxnTaxDetail"), taxable, purchase=not sales)
        if tax is not None:
            record["TxnTaxDetail"] = tax
        total = net + Decimal(str(tax["TotalTax"])) if tax else net
        record["TotalAmt"] = out(total)
        record["HomeTotalAmt"] = out(cents(total * rate))
        return record

    @staticmethod
    def expense_account(books, entity, detail, number):
        """What QBO refuses of an account-based (category) line: Accounts Payable, which
        the bill or vendor credit itself posts to, and Accounts Receivable without the
        customer it needs."""
        account = books.records["Account"][detail["AccountRef"]["value"]]
        if account["AccountType"] == "Accounts Payable":
            raise QBOError("6000", "Business Validation Error: When you use Accounts Payable, "
                                   "you must choose a vendor in the Name field: a %s line "
                                   "cannot post to %s, the %s posts to it itself (line %d)"
                           % (entity, account["Name"], entity, number), "AccountRef")
        if account["AccountType"] == "Accounts Receivable" and not detail.get("CustomerRef"):
            raise QBOError("6000", "Business Validation Error: When you use Accounts "
                                   "Receivable, you must choose a customer in the Name field "
                                   "(line %d)" % number, "AccountRef")

    def sales_tax(self, books, given, taxable, purchase=False):
        """TxnTaxDetail. The rates are those of the TxnTaxCodeRef (default: Preferences'
        TaxGroupCodeRef) — on a bill or vendor credit its PurchaseTaxRateList when it has
        one, else its SalesTaxRateList: one TaxLine per rate, that rate of the lines whose
        TaxCodeRef is taxable, half-up to cents. A non-zero TotalTax sent overrides them, as
        QBO honours a tax amount sent: it is kept, prorated over the TaxLines by rate (the
        last takes the cents left), and each TaxLine notes how far it is from the computed
        tax as ``OverrideDeltaAmount``."""
        given = dict(given) if isinstance(given, dict) else {}
        code_ref, code = self.tax_code(books, given.get("TxnTaxCodeRef"), "TxnTaxCodeRef")
        prefs = books.records["Preferences"]["1"].get("TaxPrefs") or {}
        codes = books.records["TaxCode"]
        source = code or codes.get(ref_id(prefs.get("TaxGroupCodeRef"))) or codes["TAX"]
        lists = ([source.get("PurchaseTaxRateList")] if purchase else []) + [
            source.get("SalesTaxRateList")]
        details = next((l["TaxRateDetail"] for l in lists
                        if isinstance(l, dict) and l.get("TaxRateDetail")), [])
        rates = [(ref_id(d.get("TaxRateRef")), books.records["TaxRate"].get(
            ref_id(d.get("TaxRateRef")))) for d in details]
        rates = [(rate_id, Decimal(str(rate["RateValue"]))) for rate_id, rate in rates if rate]
        computed = [cents(taxable * percent / 100) for _id, percent in rates]
        override = given.get("TotalTax") not in (None, 0, "0")
        if override:
            total = cents(dec(given["TotalTax"], "TxnTaxDetail.TotalTax"))
            weight = sum((percent for _id, percent in rates), ZERO)
            amounts = []
            for n, (_id, percent) in enumerate(rates):
                if n == len(rates) - 1:
                    amounts.append(total - sum(amounts, ZERO))
                else:
                    amounts.append(cents(total * percent / weight) if weight else
                                   (total if n == 0 else ZERO))
        else:
            amounts = computed
            total = sum(amounts, ZERO)
        if not given and not total:
            return None
        result = {"TotalTax": out(total)}
        if code_ref:
            result["TxnTaxCodeRef"] = {"value": code_ref["value"]}
        lines = []
        for (rate_id, percent), amount, expected in zip(rates, amounts, computed):
            detail = {"TaxRateRef": {"value": rate_id}, "PercentBased": True,
                      "TaxPercent": out(percent), "NetAmountTaxable": out(taxable)}
            if override:
                detail["OverrideDeltaAmount"] = out(amount - expected)
            lines.append({"Amount": out(amount), "DetailType": "TaxLineDetail",
                          "TaxLineDetail": detail})
        result["TaxLine"] = lines if total or taxable else []
        return result

    def payment(self, books, entity, fields, record_id):
        record = dict(fields)
        party, kinds = PAYMENTS[entity]
        party_entity = "Customer" if entity == "Payment" else "Vendor"
        record[party] = self.resolve(books, party_entity, record.get(party), party, required=True)
        rate = self.common(books, record)
        if "TotalAmt" not in fields:
            raise QBOError("2020", "Required parameter TotalAmt is missing in the request",
                           "TotalAmt")
        total = cents(dec(fields["TotalAmt"], "TotalAmt"))
        if total < 0:
            raise QBOError("6000", "Business Validation Error: TotalAmt can't be negative")
        if entity == "Payment":
            record["DepositToAccountRef"] = self.resolve(
                books, "Account", record.get("DepositToAccountRef")
                or {"value": books.account_id("UndepositedFunds")}, "DepositToAccountRef")
            if record.get("ARAccountRef"):
                record["ARAccountRef"] = self.resolve(books, "Account", record["ARAccountRef"],
                                                      "ARAccountRef")
        else:
            pay_type = record.get("PayType")
            if pay_type not in ("Check", "CreditCard"):
                raise QBOError("2020", "Required parameter PayType (Check or CreditCard) is "
                                       "missing in the request", "PayType")
            holder, field = (("CheckPayment", "BankAccountRef") if pay_type == "Check"
                             else ("CreditCardPayment", "CCAccountRef"))
            detail = dict(record.get(holder) or {})
            detail[field] = self.resolve(books, "Account", detail.get(field),
                                         "%s.%s" % (holder, field), required=True)
            record[holder] = detail
            if record.get("APAccountRef"):
                record["APAccountRef"] = self.resolve(books, "Account", record["APAccountRef"],
                                                      "APAccountRef")
        lines, applied, wanted = [], ZERO, {}
        for number, line in enumerate(record.get("Line") or [], 1):
            line = dict(line)
            amount = self.amount(line, number)
            links = [dict(link) for link in line.get("LinkedTxn") or []]
            if not links:
                raise QBOError("2020", "Required parameter Line.LinkedTxn is missing in the "
                                       "request (line %d)" % number, "Line.LinkedTxn")
            link = links[0]
            doc_id = ref_id(link.get("TxnId"))
            doc_type = link.get("TxnType") or next(iter(kinds))
            if doc_type not in kinds or doc_id is None:
                raise QBOError("2010", "Property Name:LinkedTxn (line %d): a %s links %s"
                               % (number, entity, " or ".join(kinds)), "LinkedTxn")
            doc = books.records[doc_type].get(doc_id)
            if doc is None:
                raise QBOError("610", "Object Not Found : %s (LinkedTxn TxnId=%s: %s %s does "
                                      "not exist)" % (INACTIVE_HINT, doc_id, doc_type, doc_id),
                               "LinkedTxn")
            if ref_id(doc.get(party)) != record[party]["value"]:
                raise QBOError("6000", "Business Validation Error: %s %s belongs to another %s"
                               % (doc_type, doc_id, party_entity.lower()))
            wanted[(doc_type, doc_id)] = wanted.get((doc_type, doc_id), ZERO) + amount
            line["Amount"] = out(amount)
            line["LinkedTxn"] = [{"TxnId": doc_id, "TxnType": doc_type}]
            applied += amount * kinds[doc_type]
            lines.append(line)
        for (doc_type, doc_id), amount in wanted.items():
            doc = books.records[doc_type][doc_id]
            available = Decimal(str(doc.get("TotalAmt", 0))) - self.applied(
                books, doc_type, doc_id, exclude=(entity, record_id))
            if amount > available:
                raise QBOError("6000", "Business Validation Error: the amount applied to %s %s "
                                       "(%s) is more than its open balance (%s)"
                               % (doc_type, doc_id, amount, cents(available)))
        if lines and applied != total:
            raise QBOError("6000", "Business Validation Error: TotalAmt %s must equal the sum "
                                   "of the line amounts (%s)" % (total, applied))
        record["Line"] = lines
        record["TotalAmt"] = out(total)
        if entity == "Payment":
            record["UnappliedAmt"] = out(total - applied)
            record["HomeTotalAmt"] = out(cents(total * rate))
        return record

    def journal(self, books, fields):
        record = dict(fields)
        self.common(books, record)
        debits = credits = ZERO
        lines = []
        for number, line in enumerate(self.lines(record), 1):
            if line.get("DetailType") != "JournalEntryLineDetail":
                raise QBOError("2170", "Invalid Enumeration : Line.DetailType=%r (a journal "
                                       "line is JournalEntryLineDetail)" % line.get("DetailType"),
                               "Line.DetailType")
            amount = self.amount(line, number)
            detail = dict(line.get("JournalEntryLineDetail") or {})
            posting = detail.get("PostingType")
            if posting not in ("Debit", "Credit"):
                raise QBOError("2020", "Required parameter PostingType (Debit or Credit) is "
                                       "missing in the request (line %d)" % number, "PostingType")
            detail["AccountRef"] = self.resolve(books, "Account", detail.get("AccountRef"),
                                                "AccountRef", required=True)
            account = books.records["Account"][detail["AccountRef"]["value"]]
            entity_ref = detail.get("Entity") or {}
            entity_type = entity_ref.get("Type")
            if entity_ref.get("EntityRef"):
                if entity_type not in ("Customer", "Vendor"):
                    raise QBOError("2170", "Invalid Enumeration : Entity.Type=%r" % entity_type)
                entity_ref = dict(entity_ref, EntityRef=self.resolve(
                    books, entity_type, entity_ref["EntityRef"], "Entity.EntityRef"))
                detail["Entity"] = entity_ref
            needs = {"AccountsReceivable": "Customer", "AccountsPayable": "Vendor"}.get(
                account["AccountSubType"])
            if needs and (entity_type != needs or not entity_ref.get("EntityRef")):
                raise QBOError("6000", "Business Validation Error: When you use %s, you must "
                                       "choose a %s in the Name field (line %d)"
                               % (account["Name"], needs.lower(), number))
            for field in ("TaxCodeRef",):
                if detail.get(field):
                    detail[field] = self.resolve(books, "TaxCode", detail[field], field)
            if posting == "Debit":
                debits += amount
            else:
                credits += amount
            line.update({"Id": str(number), "LineNum": number, "Amount": out(amount),
                         "JournalEntryLineDetail": detail})
            lines.append(line)
        if debits != credits:
            raise QBOError("6000", "Business Validation Error: Transaction must be balanced: "
                                   "debits and credits must be equal (debits %s, credits %s)"
                           % (debits, credits))
        record["Line"] = lines
        record["TotalAmt"] = out(debits)
        record["HomeTotalAmt"] = out(cents(debits * Decimal(str(record["ExchangeRate"]))))
        return record

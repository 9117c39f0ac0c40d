"""The provider contract: what every adapter is and does, whatever kind of provider it talks to.

Three kinds of provider fit it: APIs that answer at once (QuickBooks Online, Xero: a write is
sent and answered within one call), sources of changes (a pull, or webhooks the provider
sends), and a *queued* provider whose requests are stored, fetched later and answered later
still (QuickBooks Desktop, whose Web Connector asks for the next request and hands its
response back in another call). The Odoo side needs no provider-specific knowledge: it reads
what a provider is and needs from its :class:`Capabilities`, builds the provider-neutral
records of :mod:`.documents`, and drives these methods.

Capabilities
    ``Adapter.CAPABILITIES`` (also ``providers.capabilities(code)``, without building an
    adapter) says what a provider is: its selection code and label, its batch size, whether
    it is queued, what credentials it takes (``oauth``: an app's client id and secret and an
    OAuth token set; ``password``: a connector password), the app settings it needs
    (:class:`Setting`: the Odoo side stores them per provider and shows them generically),
    which document kinds need an item on every line, whether the tax total sent on a
    document is kept, whether it pulls changes and sends webhooks, how long its
    authorizations last. An adapter is built from a dict of those settings
    (``get_adapter(code, settings={...}, environment=..., base_url=..., timeout=...,
    time_scale=...)``).

Writing: plan → requests, execute, interpret → results
    ``plan(records)`` turns records of one kind into :class:`Request` s: one per batch of at
    most ``batch_size`` records, records kept in order, each with a ``key`` that is a digest
    of the operation, the kind and the records' keys, remote ids and remote versions (the
    same records in the same order give the same key, whatever the clock). Nothing is sent.

    ``execute(tokens, company_id, request)`` carries one request out and returns its
    :class:`Answer`. For a provider that answers at once it is the whole exchange for those
    records — look-ups, creates, updates and the follow-ups a refusal calls for — with
    idempotency keys (QBO ``requestid``, Xero ``Idempotency-Key``) that are digests of the
    records alone: executing the same request again sends the same keys, so the provider
    answers its first answer again instead of writing twice.

    ``interpret(request, answer)`` turns an answer into ``(results, follow_ups)``: one
    :class:`~.documents.WriteResult` per record of the request, in order (a record the answer
    says nothing about fails with ``no_answer``: whether it was written is unknown), and the
    requests still to send for it (none for the HTTP adapters today).

    ``push(tokens, company_id, records)`` is ``plan`` → ``execute`` → ``interpret`` for every
    request (and its follow-ups, whose results replace the earlier ones of the same records),
    for the providers that answer at once: one result per record, in order.

    A queued adapter (``Capabilities.queued``) uses the same three steps apart in time:
    ``plan`` stores in each request's ``body`` what is to be fetched (QuickBooks Desktop:
    the qbXML request, whose ``requestID`` is derived from the request's ``key``); the Odoo
    side keeps the request (``accounting.sync.request``) until the Web Connector fetches
    the body; when the connector hands the response back, in a later call, the Odoo side
    builds ``Answer(key=request.key, raw=<the response>)`` and calls ``interpret``, whose
    follow-ups (a query before an add, say) are stored and fetched in turn. ``execute`` is
    not called for it (it raises), nor ``push``.

Reading changes
    ``changes(tokens, company_id, cursors, types=None)`` → :class:`~.incoming.PullResult`
    pulls what changed since each remote type's cursor (``cursors``: remote type →
    position, None: read that type in full; ``types``: the remote types to read, default
    ``Capabilities.pull_types``): one :class:`Change` per remote record version, with its
    ``record`` (:mod:`.incoming`) and ``pull_type``, and the cursors to resume from.
    ``parse_webhook(headers, raw_body, secret)`` → ``[Change]`` checks a webhook's signature
    over the raw body first (a missing or wrong one raises
    :class:`~.errors.WebhookSignatureError`, before anything is read) and returns its
    events as :class:`Change` s (no ``record``: a webhook names what changed, a pull reads
    it); ``pull_types_for(changes)`` says which remote types a pull must read to fetch what
    those webhook events name.

Errors and messages
    Everything that goes wrong leaves an adapter as a typed :class:`~.errors.ProviderError`
    (or, for one record, a failed WriteResult whose ``error`` is one) with a ``code`` from
    :mod:`.messages` and the ``params`` of its sentence; ``message`` is that sentence in
    English.
"""
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .answers import number, reading, text
from .errors import ConfigurationError, ProviderError
from .sync_rules import UsageError, chunks, digest, no_answer, single_kind
from .transport import DEFAULT_MAX_RESPONSE_BYTES

DEFAULT_TIMEOUT = 30  # seconds, every outbound call in total
REQUEST_KEY_LENGTH = 64
# Change.operation
OPERATIONS = ("create", "update", "delete", "void", "merge")


def utcnow():
    """Naive UTC now, the form Odoo stores datetimes in."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class TokenSet:
    """Tokens as returned by a token endpoint, with absolute (naive UTC) expiry times."""

    access_token: str
    refresh_token: str = None
    expires_at: datetime = None
    refresh_expires_at: datetime = None
    id_token: str = None
    scope: tuple = field(default_factory=tuple)

    @classmethod
    def from_response(cls, data, now=None, refresh_ttl=None):
        """Build from a token endpoint's JSON; ``refresh_ttl`` is used when the provider
        does not say how long the refresh token lives (Xero: 60 days if unused)."""
        now = now or utcnow()
        expires_in = int(number(data.get("expires_in"), default=0))
        refresh_in = int(number(data.get("x_refresh_token_expires_in"), default=0)
                         or refresh_ttl or 0)
        scope = data.get("scope") or ()
        if isinstance(scope, str):
            scope = scope.split()
        return cls(
            access_token=text(data["access_token"]),
            refresh_token=text(data.get("refresh_token")),
            expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
            refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in else None,
            id_token=text(data.get("id_token")),
            scope=tuple(scope),
        )


@dataclass
class RemoteIdentity:
    """Who signed in at the provider."""

    subject: str
    login: str
    name: str = None


@dataclass
class RemoteCompany:
    """A remote company: a QBO realm or a Xero tenant (``connection_id`` is Xero's)."""

    id: str
    name: str
    connection_id: str = None
    country: str = None


# -- what a provider is -----------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """An app setting a provider needs (stored per provider by the Odoo side): ``key`` is
    what the adapter's ``settings`` dict holds it under, ``label`` what a form calls it,
    ``secret`` whether only system administrators may read it (a password field),
    ``required`` whether the adapter cannot be built without it."""

    key: str
    label: str
    secret: bool = False
    required: bool = True


@dataclass(frozen=True)
class Capabilities:
    """What a provider is and needs, in one place (see the module docstring).

    ``code``: the selection value (``quickbooks_online``, ``xero``); ``label``: its name;
    ``batch_size``: records per request; ``queued``: requests are fetched and answered
    later (False: answered at once); ``credentials``: ``oauth`` or ``password``;
    ``item_required_kinds``: the document kinds whose every line needs an item
    (``documents.Line.item``); ``tax_total_on_document``: the tax total sent on a document
    is kept whatever its lines' tax codes say (else only line by line, on taxable lines);
    ``pulls_changes``: ``changes()`` works; ``pull_types``: the remote types it reads, in
    the order they are applied (cursor keys: QBO entity names, Xero resources);
    ``webhooks``: ``parse_webhook()`` works;
    ``settings``: the app settings (:class:`Setting`) it needs; ``webhook_secret``: the key
    of the setting ``parse_webhook`` checks signatures with; ``sandbox_code``: its path
    prefix in the local provider sandbox; ``access_ttl``: seconds an access token lives;
    ``refresh_ttl_note``: how long an authorization lasts, in plain words (for the
    "expired" message); ``disconnects_tenants``: Reset Credentials drops the tenant
    connection before revoking; ``multiple_companies``: one consent may approve several
    remote companies (the Odoo side then asks which one)."""

    code: str
    label: str
    batch_size: int
    queued: bool = False
    credentials: str = "oauth"
    item_required_kinds: tuple = ()
    tax_total_on_document: bool = False
    pulls_changes: bool = False
    pull_types: tuple = ()
    webhooks: bool = False
    settings: tuple = ()
    webhook_secret: str = None
    sandbox_code: str = None
    access_ttl: int = None
    refresh_ttl_note: str = None
    disconnects_tenants: bool = False
    multiple_companies: bool = False

    def setting(self, key):
        """The :class:`Setting` of ``key``, or None."""
        return next((s for s in self.settings if s.key == key), None)


# -- writing ---------------------------------------------------------------------------------

@dataclass
class Request:
    """One request of a write: ``kind`` and ``records`` (the :mod:`.documents` records, in
    order), ``key`` (a deterministic digest of the operation, the kind and the records'
    keys, remote ids and remote versions), ``body`` (None for the adapters that answer at
    once; a queued adapter's request as it is to be fetched, e.g. qbXML), ``size`` (how many
    records it carries, at most the provider's ``batch_size``), ``operation`` (``write``)."""

    kind: str
    records: list
    key: str
    body: object = None
    size: int = 0
    operation: str = "write"


@dataclass
class Answer:
    """What came back for the request of ``key``: ``results`` (a WriteResult per record,
    from the adapters that answer at once) or ``raw`` (a queued provider's response, e.g.
    the qbXML the Web Connector handed back)."""

    key: str
    results: list = field(default_factory=list)
    raw: object = None


def request_key(operation, kind, records):
    """The :attr:`Request.key` of ``records`` (see :class:`Request`)."""
    return digest(["request", operation, kind] + [
        "%s:%s:%s" % (r.key, r.remote_id or "", r.remote_version or "") for r in records],
        REQUEST_KEY_LENGTH)


# -- reading changes --------------------------------------------------------------------------

@dataclass
class Change:
    """One change received from a remote company (a webhook event or a pulled record).

    ``event_id``: unique per event, to deduplicate on (the provider's own event id, or a
    digest of what identifies the event where it has none); ``company_id``: the remote
    company it happened in (events of several companies come in one delivery: route each by
    it); ``remote_type``: our kind name (:data:`.documents.KINDS`) where the event says which,
    else a neutral word for what it may be (``contact``: a Xero contact, customer and vendor
    at once; ``invoice_or_bill``; ``credit_note_or_vendor_credit``; ``account``; ``tax``) or
    the provider's own entity name for what we do not sync (``Estimate``...); ``kinds``: the
    kinds of :data:`.documents.KINDS` it may concern (look the remote id up among their
    sync states); ``remote_id``; ``operation``: one of :data:`OPERATIONS`; ``occurred_at``:
    naive UTC; ``data``: what else the event says (its ``entity`` / ``category`` as the
    provider names it, and the provider's own fields: QBO ``deletedId`` of a merge, Xero
    ``resourceUrl`` and a credit note's ``Type``/``Status``...).

    A pulled change also has ``record`` (an :mod:`.incoming` record: what the remote
    record is now) and ``pull_type`` (the remote type whose cursor it was read under); its
    ``event_id`` is a digest of provider, company, remote type, remote id and version, so
    the same version read twice (overlapping windows) is one event."""

    event_id: str
    company_id: str
    remote_type: str
    remote_id: str
    operation: str
    occurred_at: datetime
    data: dict = field(default_factory=dict)
    kinds: tuple = ()
    record: object = None
    pull_type: str = None


# -- the adapter --------------------------------------------------------------------------------

class Adapter:
    """The base of every provider adapter (see the module docstring).

    ``settings``: the app settings of :attr:`CAPABILITIES` (a dict); ``environment``:
    ``production``, ``sandbox`` (the provider's own developer sandbox) or ``local`` (this
    project's provider sandbox at ``base_url``); ``timeout``: seconds any one outbound call
    takes at most, in total; ``time_scale``: how much faster than real time the local
    sandbox counts (1 elsewhere); ``max_response_bytes``: the largest answer read.
    """

    CAPABILITIES = None
    # From CAPABILITIES (set for each subclass that declares it), for the callers that read
    # them on the class: code, label, access_ttl, ITEM_REQUIRED_KINDS, TAX_TOTAL_ON_DOCUMENT,
    # SANDBOX_CODE, BATCH_SIZE.
    code = None
    label = None
    access_ttl = None
    ITEM_REQUIRED_KINDS = ()
    TAX_TOTAL_ON_DOCUMENT = False
    SANDBOX_CODE = None
    BATCH_SIZE = 1
    COMPANY_ID = re.compile(r".+")  # a valid remote company id (compiled regular expression)
    COMPANY_ID_WORDS = None         # ... in words

    def __init_subclass__(cls, **kwargs):
        capabilities = cls.__dict__.get("CAPABILITIES")
        if capabilities is not None:
            cls.code, cls.label = capabilities.code, capabilities.label
            cls.access_ttl = capabilities.access_ttl
            cls.ITEM_REQUIRED_KINDS = tuple(capabilities.item_required_kinds)
            cls.TAX_TOTAL_ON_DOCUMENT = capabilities.tax_total_on_document
            cls.SANDBOX_CODE = capabilities.sandbox_code
            cls.BATCH_SIZE = capabilities.batch_size
        return super().__init_subclass__(**kwargs)

    def __init__(self, settings=None, environment="production", base_url=None,
                 timeout=DEFAULT_TIMEOUT, time_scale=1.0,
                 max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES):
        self.settings = dict(settings or {})
        self._check_settings()
        self.environment = environment
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = positive(timeout, DEFAULT_TIMEOUT)
        self.max_response_bytes = int(positive(max_response_bytes,
                                               DEFAULT_MAX_RESPONSE_BYTES))
        # Only the local sandbox compresses time; the providers count in real seconds.
        self.time_scale = float(time_scale or 1.0) if environment == "local" else 1.0

    def _check_settings(self):
        """A required setting missing is a ConfigurationError (``setting_missing``)."""
        for setting in self.CAPABILITIES.settings:
            if setting.required and not self.settings.get(setting.key):
                raise ConfigurationError(code="setting_missing", params={
                    "provider": self.label, "setting": setting.label})

    # -- ids and pages -----------------------------------------------------------------------

    @classmethod
    def check_company_id(cls, value):
        """``value`` as the remote company id it must be (a str), else a ProviderError
        (code ``bad_company_id``): an id goes into URLs and headers only once checked, so a
        bad one (the QBO callback's ``realmId`` comes straight from a query string) makes no
        call at all."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not cls.COMPANY_ID.fullmatch(value):
            raise ProviderError(code="bad_company_id", params={
                "provider": cls.label, "rule": cls.COMPANY_ID_WORDS})
        return value

    @classmethod
    def item_required(cls, kind):
        """Whether every line of a ``kind`` document needs an item (``Line.item``) here."""
        return kind in cls.ITEM_REQUIRED_KINDS

    @classmethod
    def record_url(cls, environment, base_url, company_id, kind, remote_id):
        """Where a person sees a remote record: the provider's web app, or the local
        sandbox's record page."""
        remote_id = str(remote_id or "").split(",")[0]
        if environment == "local":
            return "%s/_sandbox/view/%s/%s/%s?company=%s" % (
                (base_url or "").rstrip("/"), cls.SANDBOX_CODE, cls.sandbox_resource(kind),
                remote_id, company_id or "")
        return cls.web_url(environment, kind, remote_id)

    @classmethod
    def sandbox_resource(cls, kind):
        """What the local sandbox calls ``kind``'s records."""
        raise NotImplementedError

    @classmethod
    def web_url(cls, environment, kind, remote_id):
        """The record's page in the provider's own web app."""
        raise NotImplementedError

    # -- the connection ------------------------------------------------------------------------

    def company_info(self, tokens, company_id):
        """Read the remote company (a RemoteCompany: name...): a cheap live check."""
        raise NotImplementedError

    def disconnect(self, tokens, company):
        """Drop this app's access to one company (Xero: ``DELETE /connections/{id}``)."""

    # -- the books: chart and writes -----------------------------------------------------------

    def fetch_chart(self, tokens, company_id):
        """The remote company's accounts, taxes, items, country and home currency (a
        ``documents.Chart``)."""
        writer = self._writer(tokens, self.check_company_id(company_id))
        with reading(self.label):
            return writer.lookups.chart()

    def plan(self, records, operation="write"):
        """The :class:`Request` s that write ``records`` (one kind; several kinds are a
        UsageError): one per batch of at most ``batch_size``, records in order. Nothing is
        sent; the same records in the same order give the same requests and keys."""
        if not records:
            return []
        kind = single_kind(records)
        return [Request(kind=kind, records=list(batch), key=request_key(operation, kind, batch),
                        size=len(batch), operation=operation)
                for batch in chunks(list(records), self.CAPABILITIES.batch_size)]

    def execute(self, tokens, company_id, request):
        """Carry ``request`` out at once and return its :class:`Answer` (every call of the
        exchange, see the module docstring). Not for a queued adapter."""
        if self.CAPABILITIES.queued:
            raise UsageError("%s answers later: its requests are fetched, not executed"
                             % self.label)
        writer = self._writer(tokens, self.check_company_id(company_id))
        return Answer(key=request.key, results=writer.push(request.records))

    def interpret(self, request, answer):
        """``(results, follow_ups)`` of ``answer`` to ``request``: one WriteResult per record
        in order (``no_answer`` for a record it says nothing about), and the requests still
        to send (none for the adapters that answer at once)."""
        if answer.key != request.key:
            raise UsageError("This answer (key %s) is not the answer to request %s"
                             % (answer.key, request.key))
        given = list(answer.results or ())
        results = []
        for position, record in enumerate(request.records):
            result = given[position] if position < len(given) else None
            if result is None or result.key != record.key:
                result = no_answer(record.key, self.label)
            results.append(result)
        return results, []

    def push(self, tokens, company_id, records):
        """Create or update ``records`` (one kind): ``plan`` → ``execute`` → ``interpret``
        for each request and its follow-ups; one WriteResult per record, same order. A
        record whose answer cannot be read fails with code ``bad_answer``: its outcome is
        unknown, as with ``no_answer`` (:attr:`.documents.WriteResult.outcome_unknown`)."""
        company_id = self.check_company_id(company_id)
        results = []
        for request in self.plan(records):
            latest, pending = {}, [request]
            while pending:
                current = pending.pop(0)
                answers, follow_ups = self.interpret(
                    current, self.execute(tokens, company_id, current))
                latest.update(zip(map(id, current.records), answers))
                pending += follow_ups
            results += [latest[id(record)] for record in request.records]
        return results

    def void(self, tokens, company_id, kind, remote_id, remote_version=None):
        """Void (or, where the provider has no void, delete) a document, payment or
        journal entry; a WriteResult keyed by the remote id."""
        writer = self._writer(tokens, self.check_company_id(company_id))
        return writer.void(kind, remote_id, remote_version)

    def deactivate(self, tokens, company_id, kind, remote_id, remote_version=None):
        """Make a customer, vendor or product inactive (archived, or deleted for Xero items)."""
        writer = self._writer(tokens, self.check_company_id(company_id))
        return writer.deactivate(kind, remote_id, remote_version)

    def _writer(self, tokens, company_id):
        """The provider's writer for one company and one call."""
        raise NotImplementedError

    # -- the books, as a reconciliation reads them ----------------------------------------------

    def books(self, tokens, company_id, as_of, start, kinds, known=None, basis="accrual",
              budget=None):
        """The remote company's trial balance, agings and documents of ``kinds`` dated from
        ``start`` to ``as_of`` (and, by id, the ``known`` ones the window did not hold), each
        read counted against ``budget`` (a :class:`~.books.ReadBudget`): a
        :class:`~.books.RemoteBooks` (see :mod:`.books`)."""
        raise NotImplementedError("%s has no books to read here." % self.label)

    # -- changes -------------------------------------------------------------------------------

    def changes(self, tokens, company_id, cursors, types=None):
        """What changed in the remote company since each type's cursor: a
        :class:`~.incoming.PullResult` (see the module docstring)."""
        raise NotImplementedError("%s does not pull changes." % self.label)

    def pull_types_for(self, changes):  # pylint: disable=unused-argument
        """The remote types a pull reads to fetch what the webhook ``changes`` name (default:
        every type it pulls)."""
        return tuple(self.CAPABILITIES.pull_types)

    def parse_webhook(self, headers, raw_body, secret):
        """The :class:`Change` s of one webhook delivery, once its signature over
        ``raw_body`` (bytes, exactly as received) is checked with ``secret``; a missing or
        wrong signature raises WebhookSignatureError before anything is read."""
        raise NotImplementedError("%s sends no webhooks this connector reads." % self.label)


def positive(value, default):
    """A positive number, else ``default``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return default
    return value

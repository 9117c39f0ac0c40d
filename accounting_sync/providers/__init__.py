"""Provider adapters: plain Python, never imports odoo.

One adapter per provider, on one contract (:mod:`.base`: capabilities, plan → execute →
interpret, push, changes, parse_webhook, record URL). The OAuth providers speak OAuth 2.0
through requests-oauthlib (:mod:`.oauth`) and their API through python-quickbooks or
xero-python; every outbound call goes through one HTTP seam and one status ladder
(:mod:`.http`), ends within the adapter's ``timeout`` in total, reads at most its
``max_response_bytes`` and never follows a redirect (:mod:`.transport`); answers are parsed
and shape-checked here (:mod:`.answers`). Every error leaves this package as one of the
typed errors of :mod:`.errors`, with a message code and its parameters (:mod:`.messages`),
so the Odoo side never has to know a library's exception classes nor a provider's codes.

Layout::

    base.py         the contract: Capabilities, Setting, Request, Answer, Change, Adapter;
                    TokenSet, RemoteIdentity, RemoteCompany, utcnow
    http.py         HttpAdapter: endpoints, pacer, the HTTP seam, the status ladder
    oauth.py        OAuthAdapter: client id and secret, authorization URL, tokens
    transport.py    deadline, size cap, no redirects under every call
    answers.py      reading answers: JSON, shapes, the provider's own words
    errors.py       the typed errors; messages.py: the codes and their English sentences
    documents.py    the provider-neutral records the engine sends, and WriteResult
    incoming.py     the provider-neutral records a pull brings back, and PullResult
    pull.py         what every pull shares: cursors, windows, event ids, failed types
    sync_rules.py   idempotency keys, amounts, names as sent, results of one record
    matching.py     link instead of duplicate: the rules, the look-ups' decisions, linking
    rate_limits.py  pacing within the published limits
    webhooks.py     signatures, bodies, event ids and times of every provider's webhooks
    quickbooks_online/, xero/   one package per provider: adapter, payloads, lookups,
                    writer, webhooks, pull

Adding a provider: its package (an adapter class with ``CAPABILITIES``) and one line in
:data:`ADAPTERS`.

Message codes that changed (``provider_code`` keeps what ``code`` was before, where it was
one of the codes the Odoo side read; :mod:`.messages` lists every code):

==========================  ==============================================  ================
before (``code``)           now ``code``                                    ``provider_code``
==========================  ==============================================  ================
``no_answer``               ``no_answer`` (unchanged)                       None
``bad_answer`` (a record)   ``bad_answer`` (unchanged)                      None
``bad_answer`` (a call)     ``unreadable_answer``                           ``bad_answer``
``duplicate_match``         ``duplicate_match`` (unchanged)                 None
``invalid_grant``           ``invalid_grant`` (unchanged); no code in the   ``invalid_grant``
                            callback: ``no_authorization_code``
``paced``                   ``paced`` (unchanged)                           None
``name_clash``              ``name_in_use`` (party), ``item_in_use``        ``name_clash``
``6240``                    ``name_taken``                                  ``6240``
``6140``                    ``number_in_use`` (a look-up found it),         ``6140``
                            ``number_taken`` (QBO's own words)
``duplicate_number``        ``number_in_use``                               ``duplicate_number``
``payload``                 ``item_required``, ``allocation_invalid``,      ``payload``
                            ``party_not_synced``, ``account_code_missing``,
                            ``item_code_missing``
``validation``              ``refused`` or a ``refused_*`` code with its    ``validation``
                            hint, ``overpaid_unmatched``, ...
a QBO Fault code            ``refused``/``refused_*``, ``stale``,           the Fault code
(``2040``, ``610``...)      ``reference_inactive``, ``remote_gone``...
==========================  ==============================================  ================
"""
from .base import (
    Adapter, Answer, Capabilities, Change, RemoteCompany, RemoteIdentity, Request, Setting,
    TokenSet, utcnow,
)
from .errors import (
    AuthorizationError,
    ConfigurationError,
    InvalidGrantError,
    ProviderError,
    ProviderResponseError,
    ProviderUnavailableError,
    RateLimitError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from .messages import GROUPS, MESSAGES, NOUNS, group_of, render
from .quickbooks_desktop import QuickBooksDesktopAdapter
from .quickbooks_online import QuickBooksOnlineAdapter
from .xero import XeroAdapter

# The one table of providers: code -> adapter class, in the order they are offered.
ADAPTERS = {adapter.CAPABILITIES.code: adapter
            for adapter in (QuickBooksOnlineAdapter, XeroAdapter, QuickBooksDesktopAdapter)}
# (code, label) of every provider, in that order: the connection's selection.
PROVIDERS = [(code, adapter.CAPABILITIES.label) for code, adapter in ADAPTERS.items()]


def _adapter_class(provider):
    try:
        return ADAPTERS[provider]
    except (KeyError, TypeError):
        raise ConfigurationError(code="unknown_provider",
                                 params={"provider": str(provider)}) from None


def capabilities(provider):
    """The :class:`~.base.Capabilities` of ``provider`` (a code of :data:`PROVIDERS`),
    without building an adapter; ConfigurationError (``unknown_provider``) for another."""
    return _adapter_class(provider).CAPABILITIES


def get_adapter(provider, settings=None, **kwargs):
    """The adapter of ``provider`` (``quickbooks_online`` or ``xero``), built from its app
    ``settings`` (a dict keyed by its ``Capabilities.settings``: ``client_id``,
    ``client_secret``...) and ``environment``, ``base_url``, ``timeout``, ``time_scale``,
    ``max_response_bytes`` — or, as before, with the settings as keywords
    (``client_id=..., client_secret=...``)."""
    adapter_class = _adapter_class(provider)
    if settings is not None:
        kwargs["settings"] = settings
    return adapter_class(**kwargs)


def item_required_kinds(provider):
    """The document kinds whose lines ``provider`` takes only with an item (``Line.item``):
    ``("invoice", "credit_note")`` for QuickBooks Online, ``()`` for Xero. A line without an
    item goes as an account-based line on every other kind."""
    return tuple(capabilities(provider).item_required_kinds)


def item_required(provider, kind):
    """Whether every line of a ``kind`` document needs an item with ``provider``."""
    return kind in item_required_kinds(provider)


def check_company_id(provider, value):
    """``value`` as a valid remote company id of ``provider`` (a QBO realm id: 1 to 32
    digits; a Xero tenant id: a UUID), else ProviderError with code ``bad_company_id``."""
    return _adapter_class(provider).check_company_id(value)


__all__ = [
    "ADAPTERS", "Adapter", "Answer", "AuthorizationError", "Capabilities", "Change",
    "ConfigurationError", "GROUPS", "InvalidGrantError", "MESSAGES", "NOUNS", "PROVIDERS",
    "ProviderError", "ProviderResponseError", "ProviderUnavailableError",
    "QuickBooksDesktopAdapter", "QuickBooksOnlineAdapter", "RateLimitError", "RemoteCompany",
    "RemoteIdentity", "Request", "Setting", "TokenSet", "WebhookPayloadError",
    "WebhookSignatureError", "XeroAdapter",
    "capabilities", "check_company_id", "get_adapter", "group_of", "item_required",
    "item_required_kinds", "render", "utcnow",
]

"""Provider adapters: plain Python, never imports odoo.

One adapter per provider speaks OAuth 2.0 (through requests-oauthlib) and the provider's API
(through python-quickbooks or xero-python). Every error leaves this package as one of the typed
errors in :mod:`.errors`, so the Odoo side never has to know a library's exception classes.
Every outbound call ends within the adapter's ``timeout`` in total, reads at most its
``max_response_bytes`` and never follows a redirect (:mod:`.transport`); answers are parsed
and shape-checked here (:mod:`.answers`).
"""
from .base import RemoteCompany, RemoteIdentity, TokenSet
from .errors import (
    AuthorizationError,
    ConfigurationError,
    InvalidGrantError,
    ProviderError,
    ProviderResponseError,
    ProviderUnavailableError,
    RateLimitError,
)
from .quickbooks_online import QuickBooksOnlineAdapter
from .xero import XeroAdapter

ADAPTERS = {
    QuickBooksOnlineAdapter.code: QuickBooksOnlineAdapter,
    XeroAdapter.code: XeroAdapter,
}


def _adapter_class(provider):
    try:
        return ADAPTERS[provider]
    except (KeyError, TypeError):
        raise ConfigurationError("Unknown provider %r." % (provider,)) from None


def get_adapter(provider, **kwargs):
    """Return the adapter for ``provider`` (``quickbooks_online`` or ``xero``)."""
    return _adapter_class(provider)(**kwargs)


def item_required_kinds(provider):
    """The document kinds whose lines ``provider`` takes only with an item (``Line.item``):
    ``("invoice", "credit_note")`` for QuickBooks Online, ``()`` for Xero. A line without an
    item goes as an account-based line on every other kind."""
    return tuple(_adapter_class(provider).ITEM_REQUIRED_KINDS)


def item_required(provider, kind):
    """Whether every line of a ``kind`` document needs an item with ``provider``."""
    return kind in item_required_kinds(provider)


def check_company_id(provider, value):
    """``value`` as a valid remote company id of ``provider`` (a QBO realm id: 1 to 32
    digits; a Xero tenant id: a UUID), else ProviderError with code ``bad_company_id``."""
    return _adapter_class(provider).check_company_id(value)


__all__ = [
    "ADAPTERS", "AuthorizationError", "ConfigurationError", "InvalidGrantError",
    "ProviderError", "ProviderResponseError", "ProviderUnavailableError",
    "QuickBooksOnlineAdapter", "RateLimitError", "RemoteCompany", "RemoteIdentity", "TokenSet",
    "XeroAdapter", "check_company_id", "get_adapter", "item_required", "item_required_kinds",
]

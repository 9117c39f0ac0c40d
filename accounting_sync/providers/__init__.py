"""Provider adapters: plain Python, never imports odoo.

One adapter per provider speaks OAuth 2.0 (through requests-oauthlib) and the provider's API
(through python-quickbooks or xero-python). Every error leaves this package as one of the typed
errors in :mod:`.errors`, so the Odoo side never has to know a library's exception classes.
"""
from .base import RemoteCompany, RemoteIdentity, TokenSet
from .errors import (
    AuthorizationError,
    ConfigurationError,
    InvalidGrantError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitError,
)
from .quickbooks_online import QuickBooksOnlineAdapter
from .xero import XeroAdapter

ADAPTERS = {
    QuickBooksOnlineAdapter.code: QuickBooksOnlineAdapter,
    XeroAdapter.code: XeroAdapter,
}


def get_adapter(provider, **kwargs):
    """Return the adapter for ``provider`` (``quickbooks_online`` or ``xero``)."""
    try:
        adapter_class = ADAPTERS[provider]
    except KeyError:
        raise ConfigurationError("Unknown provider %r." % provider) from None
    return adapter_class(**kwargs)


__all__ = [
    "ADAPTERS", "AuthorizationError", "ConfigurationError", "InvalidGrantError",
    "ProviderError", "ProviderUnavailableError", "QuickBooksOnlineAdapter", "RateLimitError",
    "RemoteCompany", "RemoteIdentity", "TokenSet", "XeroAdapter", "get_adapter",
]

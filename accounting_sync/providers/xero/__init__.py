"""Xero: :class:`~.adapter.XeroAdapter` (OAuth with PKCE and the API through xero-python), its
payloads (:mod:`.payloads`), the queries of its look-ups (:mod:`.lookups`), its writes
(:mod:`.writer`) and its webhooks (:mod:`.webhooks`)."""
from .adapter import XeroAdapter

__all__ = ["XeroAdapter"]

"""QuickBooks Online: :class:`~.adapter.QuickBooksOnlineAdapter` (OAuth and the API through
python-quickbooks), its payloads (:mod:`.payloads`), the queries of its look-ups
(:mod:`.lookups`), its writes (:mod:`.writer`) and its webhooks (:mod:`.webhooks`)."""
from .adapter import QuickBooksOnlineAdapter

__all__ = ["QuickBooksOnlineAdapter"]

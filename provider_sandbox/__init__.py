"""A local stand-in for QuickBooks Online and Xero: their OAuth, identity and API wire
formats on one HTTP server (standard library only). See README.md."""
from .sandbox import Sandbox

__all__ = ["Sandbox"]

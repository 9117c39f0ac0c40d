"""Odoo-free tests: the real client libraries against the provider sandbox on 127.0.0.1."""
import os
import sys
import types
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
# accounting_sync/__init__.py loads the Odoo addon; these tests use only its Odoo-free
# providers package, so register the package without running that __init__.
_addon = types.ModuleType("accounting_sync")
_addon.__path__ = [os.path.join(ROOT, "accounting_sync")]
sys.modules.setdefault("accounting_sync", _addon)

from accounting_sync.providers import errors as provider_errors  # noqa: E402
from accounting_sync.providers.messages import MESSAGES, render  # noqa: E402
from accounting_sync.providers.rate_limits import forget_pacers  # noqa: E402
from provider_sandbox import Sandbox  # noqa: E402

REDIRECT_URI = "http://127.0.0.1:8069/accounting_sync/oauth/callback"


@pytest.fixture(autouse=True)
def provider_errors_made(monkeypatch):
    """Every ProviderError the providers make in a test, checked after it: a code of the
    catalogue, and its message that code's sentence with its params."""
    made = []
    original = provider_errors.ProviderError.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)
    monkeypatch.setattr(provider_errors.ProviderError, "__init__", init)
    yield made
    for error in made:
        assert error.code in MESSAGES, "%r has no catalogue code" % error
        assert error.message == render(error.code, error.params), error.code


@pytest.fixture(scope="session")
def sandbox_server():
    server = Sandbox(host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def sb(sandbox_server):
    """The sandbox, reset: its books, its counters, and our pacing of its companies."""
    sandbox_server.reset()
    forget_pacers()
    return sandbox_server


def authorize(sb, adapter, login="alice@example.com", companies=None, access_scope="all_accounting"):
    """Approve at the sandbox; return (callback query params, code verifier)."""
    auto = {"login": login}
    if companies:
        auto["companies"] = companies
    sb.configure(auto_approve=auto)
    url, verifier = adapter.authorization_url(REDIRECT_URI, access_scope, "state-123")
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert params["state"] == "state-123"
    return params, verifier

"""``Sandbox``: the public API (Python and HTTP under /_sandbox/) around the server."""
import threading

from . import pages, remote
from .core import App, BadRequest, Route, Server, html_response, json_response
from .oauth import LOGINS
from .qbo import QBO
from .xero import Xero

CONTROLS = [
    ("POST", "/_sandbox/reset", "forget every grant, token, connection, fault and call"),
    ("POST", "/_sandbox/configure", "JSON body = settings to change; answers the settings"),
    ("GET", "/_sandbox/faults", "the active fault rules"),
    ("POST", "/_sandbox/faults", "JSON body = add_fault arguments; answers {\"id\"}"),
    ("DELETE", "/_sandbox/faults", "remove every fault rule"),
    ("GET", "/_sandbox/calls", "the call log; filters provider, path_contains, grant_type, "
                               "method"),
    ("POST", "/_sandbox/expire", "JSON {\"provider\"}: expire the current access tokens"),
    ("POST", "/_sandbox/revoke_all", "JSON {\"provider\"}: the user disconnects the app"),
    ("GET", "/_sandbox/records", "provider, resource, company: the stored accounting records"),
    ("POST", "/_sandbox/seed", "JSON {\"provider\", \"resource\", \"record\", \"company\"}: "
                               "store a record as if made remotely; answers it"),
    ("POST", "/_sandbox/act", "JSON {\"provider\", \"action\", \"resource\", \"company\", "
                              "\"record\", \"id\", \"changes\"}: a remote user creates, "
                              "updates, voids, deletes or merges a record; answers it"),
    ("GET", "/_sandbox/changes", "provider, company, entity, since, source: the change log"),
    ("GET", "/_sandbox/webhooks", "provider: pending webhook events and past deliveries"),
    ("POST", "/_sandbox/webhooks/deliver", "JSON {\"provider\", \"faults\"} (optional): "
                                           "deliver the pending events now; answers the "
                                           "report"),
    ("POST", "/_sandbox/webhooks/intent_to_receive", "JSON {\"url\", \"key\"} (optional): "
                                                     "Xero's intent-to-receive validation"),
    ("GET", "/_sandbox/api_calls", "provider, company: {\"count\"} of API calls received"),
    ("GET", "/_sandbox/view/<provider>/<resource>/<id>", "company (optional): one stored "
                                                         "record as a page (Open Remote)"),
]


class Sandbox(App):
    """Both providers on one local HTTP server.

    >>> sb = Sandbox(port=0).start()   # port 0 = any free port
    >>> sb.url                         # http://127.0.0.1:<port>
    """

    def __init__(self, host="127.0.0.1", port=0, verbose=False):
        super().__init__([QBO, Xero], verbose=verbose)
        self.add_routes([
            Route("GET", r"/", self._index),
            Route("POST", r"/_sandbox/reset", self._control(self.reset), locked=False),
            Route("POST", r"/_sandbox/configure", self._control(self.configure, kwargs=True)),
            Route("GET", r"/_sandbox/faults", lambda request: json_response(
                200, self.fault_list())),
            Route("POST", r"/_sandbox/faults", self._control(
                lambda **kw: {"id": self.add_fault(**kw)}, kwargs=True)),
            Route("DELETE", r"/_sandbox/faults", self._control(self.clear_faults)),
            Route("GET", r"/_sandbox/calls", self._calls),
            Route("POST", r"/_sandbox/expire", self._control(self.expire_access_tokens,
                                                              kwargs=True)),
            Route("POST", r"/_sandbox/revoke_all", self._control(self.revoke_all, kwargs=True)),
            Route("GET", r"/_sandbox/records", self._query_control(self.records)),
            Route("POST", r"/_sandbox/seed", self._control(self.seed, kwargs=True)),
            Route("POST", r"/_sandbox/act", self._control(self.act, kwargs=True)),
            Route("GET", r"/_sandbox/changes", self._query_control(self.change_log)),
            Route("GET", r"/_sandbox/webhooks", self._query_control(self.webhook_log)),
            # delivering waits on the receiver, which may call the sandbox back: no lock
            Route("POST", r"/_sandbox/webhooks/deliver", self._control(
                self.deliver_webhooks, kwargs=True), locked=False),
            Route("POST", r"/_sandbox/webhooks/intent_to_receive", self._control(
                self.intent_to_receive, kwargs=True), locked=False),
            Route("GET", r"/_sandbox/api_calls", self._query_control(
                lambda **kw: {"count": self.api_calls(**kw)})),
            Route("GET", r"/_sandbox/view/(?P<provider>[a-z]+)/(?P<resource>[A-Za-z]+)/"
                         r"(?P<record_id>[^/]+)", self._view),
        ])
        self._server = Server((host, port), self)
        self._thread = None

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return "http://%s:%s" % ("127.0.0.1" if host in ("", "0.0.0.0") else host, port)

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name="provider-sandbox", daemon=True)
            self._thread.start()
        return self

    def stop(self):
        self.webhooks.halt()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    # -- accounting state -----------------------------------------------------------------------

    def _accounting(self, provider):
        if provider not in self.providers:
            raise ValueError("provider must be one of %s" % ", ".join(self.providers))
        return self.providers[provider].accounting

    def records(self, provider, resource, company=None):
        """Deep copies of the stored records of one resource (QBO entity "Invoice", Xero
        resource "Invoices") of one company (default: the provider's first)."""
        with self.lock:
            return self._accounting(provider).records(resource, company)

    def seed(self, provider, resource, record, company=None):
        """Store ``record`` as if someone had created it in the remote company (validated
        like an API create); answers it with its ids, versions and computed fields."""
        with self.lock, self.changes.remote():
            return self._accounting(provider).seed(resource, record, company)

    def act(self, provider, action, resource, company=None, record=None, id=None,
            changes=None):
        """What a remote user does in the provider's app: ``create`` ``record`` (like
        ``seed``), ``update`` record ``id`` with ``changes`` (merged in, sparse), ``void``
        or ``delete`` it, or (QBO name lists) ``merge`` it into ``changes["into"]``; through
        the API's own write paths, logged as a remote change. Answers the record after the
        action (ValueError with the provider's message when it cannot be done)."""
        remote.check_arguments(action, record, id, changes)
        act = {"qbo": remote.qbo_act, "xero": remote.xero_act}.get(provider)
        if act is None:
            raise ValueError("provider must be one of %s" % ", ".join(self.providers))
        with self.lock, self.changes.remote():
            return act(self._accounting(provider), action, resource, company, record, id,
                       changes)

    def change_log(self, provider=None, company=None, entity=None, since=None, source=None):
        """The changes made to the books (API writes and remote users' alike), oldest
        first: ``{"seq", "provider", "company", "entity", "id", "operation", "time",
        "source", "data"}``; ``since`` epoch seconds or ISO 8601."""
        self.provider_names(provider)
        with self.lock:
            return self.changes.entries(provider, company, entity, since, source)

    # -- webhooks -----------------------------------------------------------------------------

    def deliver_webhooks(self, provider=None, faults=None):
        """Deliver the pending webhook events now (synchronously): the report
        ``{"deliveries", "statuses", "delivered", "pending"}``. ``faults``: webhook faults
        for this round, added to the ``webhook_faults`` setting."""
        return self.webhooks.deliver(provider, faults)

    def webhook_log(self, provider=None):
        """``{"pending": [events], "deliveries": [deliveries], "dropped": n}``."""
        with self.lock:
            return self.webhooks.log(provider)

    def intent_to_receive(self, url=None, key=None):
        """Xero's intent-to-receive validation against ``url`` (default
        ``webhook_url_xero``) signed with ``key`` (default ``webhook_key_xero``)."""
        return self.webhooks.intent_to_receive(url, key)

    def api_calls(self, provider=None, company=None):
        """How many accounting API calls (not OAuth or identity calls) the sandbox received,
        a batch counting as one; ``company`` a QBO realm or a Xero tenant."""
        with self.lock:
            return sum(count for name in self.provider_names(provider)
                       for key, count in self.providers[name].api_calls.items()
                       if company in (None, key))

    # -- HTTP controls ------------------------------------------------------------------------

    @staticmethod
    def _control(method, kwargs=False):
        """A POST/DELETE control: JSON object body -> keyword arguments; ValueError -> 400."""
        def handler(request):
            args = {}
            if kwargs and request.body.strip():
                args = request.json()
                if not isinstance(args, dict):
                    raise BadRequest("the body must be a JSON object")
            try:
                result = method(**args)
            except (TypeError, ValueError) as e:
                raise BadRequest(str(e)) from e
            return json_response(200, result if result is not None else {"ok": True})
        return handler

    @staticmethod
    def _query_control(method):
        """A GET control: query parameters -> keyword arguments; ValueError -> 400."""
        def handler(request):
            try:
                return json_response(200, method(**{
                    k: v for k, v in request.query.first_values().items() if v}))
            except (TypeError, ValueError) as e:
                raise BadRequest(str(e)) from e
        return handler

    def _calls(self, request):
        filters = {k: v for k, v in request.query.first_values().items() if v}
        try:
            return json_response(200, self.calls(**filters))
        except TypeError as e:
            raise BadRequest(str(e)) from e

    def _view(self, request):
        """One stored record as a page: ``/_sandbox/view/qbo/Invoice/16``."""
        provider, resource = request.args["provider"], request.args["resource"]
        record_id = request.args["record_id"]
        company = request.query.get("company") or None
        if provider not in self.providers:
            raise BadRequest("provider must be one of %s" % ", ".join(self.providers))
        try:
            records = self.records(provider, resource, company)
        except (TypeError, ValueError) as e:
            raise BadRequest(str(e)) from e
        found = next((r for r in records if str(record_id) in {
            str(v) for k, v in r.items() if k == "Id" or k.endswith("ID")}), None)
        return html_response(200 if found else 404, pages.record_page(
            self.providers[provider].label, resource, company, found))

    def _index(self, request):
        providers = [(p.label, p.endpoints(request.base_url), p.companies())
                     for p in self.providers.values()]
        return html_response(200, pages.index_page(request.base_url, providers, LOGINS,
                                                   self.config, CONTROLS, self.fault_list()))

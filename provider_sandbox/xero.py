"""Xero under /xero: OAuth 2.0 (PKCE, single-use refresh tokens with a grace period), the
connections (tenants) API, and the accounting API (Organisation here; the other resources in
xero_accounting.py; the rate limits in limits.py)."""
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus

from .core import Abort, Response, Route, json_response, now
from .limits import XERO_CONCURRENT, XERO_LIMITS, Limiter
from .oauth import OAuthError, OAuthProvider, oauth_error_response, person_names

ORGANISATIONS = {
    "11111111-1111-4111-8111-111111111111": dict(
        name="Demo Company (UK)", currency="GBP", country="GB", version="UK",
        timezone="GMTSTANDARDTIME", short_code="!uK1a1"),
    "22222222-2222-4222-8222-222222222222": dict(
        name="Demo Company (US)", currency="USD", country="US", version="US",
        timezone="EASTERNSTANDARDTIME", short_code="!uS2b2"),
    "33333333-3333-4333-8333-333333333333": dict(
        name="Demo Company (NZ)", currency="NZD", country="NZ", version="NZ",
        timezone="NEWZEALANDSTANDARDTIME", short_code="!nZ3c3"),
}
SEED_TIME = 1700000000
# Apps created since 2 March 2026 may not ask for the broad scopes the granular ones replace.
RETIRED_SCOPES = ("accounting.transactions", "accounting.transactions.read",
                  "accounting.reports.read")
WWW_AUTHENTICATE = 'Bearer error="invalid_token"'


def ms_date(t):
    return "/Date(%d)/" % int(t * 1000)


def iso7(t):
    """Xero's identity-API datetime: 2026-11-22T01:02:03.1234567 (UTC, no zone)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%07d" % int(t % 1 * 10 ** 7)


def problem(status, detail, headers=None):
    return json_response(status, {"Type": None, "Title": HTTPStatus(status).phrase,
                                  "Status": status, "Detail": detail}, headers)


@dataclass
class Connection:
    id: str
    client_id: str
    subject: str
    tenant_id: str
    auth_event_id: str
    created: float
    updated: float

    def as_json(self):
        return {"id": self.id, "authEventId": self.auth_event_id, "tenantId": self.tenant_id,
                "tenantType": "ORGANISATION", "tenantName": ORGANISATIONS[self.tenant_id]["name"],
                "createdDateUtc": iso7(self.created), "updatedDateUtc": iso7(self.updated)}


class Xero(OAuthProvider):
    name = "xero"
    prefix = "/xero"
    label = "Xero"
    multiple_companies = True
    reuse_window = "refresh_grace"

    def __init__(self, app):
        from .xero_accounting import XeroAccounting  # it imports this module
        super().__init__(app)
        self.accounting = XeroAccounting(self)
        self.limiter = Limiter(XERO_LIMITS, XERO_CONCURRENT)

    def reset(self):
        super().reset()
        self.connections = {}  # id -> Connection
        self.accounting.reset()
        self.limiter.reset()
        self.api_calls = {}  # tenant -> API calls received

    def routes(self):
        return [
            Route("GET", r"/xero/identity/connect/authorize", self.authorize, "page"),
            Route("POST", r"/xero/identity/connect/authorize", self.authorize, "page"),
            Route("POST", r"/xero/identity/connect/token", self.token, "oauth"),
            Route("POST", r"/xero/identity/connect/revocation", self.revocation, "oauth"),
            Route("GET", r"/xero/connections", self.list_connections),
            Route("DELETE", r"/xero/connections/(?P<id>[^/]+)", self.delete_connection),
            Route("GET", r"/xero/api\.xro/2\.0/Organisation", self.organisation),
        ] + self.accounting.routes()

    def endpoints(self, base_url):
        root = base_url + "/xero"
        return {"Authorize": root + "/identity/connect/authorize",
                "Token": root + "/identity/connect/token",
                "Revoke": root + "/identity/connect/revocation",
                "Identity API base (connections)": root,
                "Accounting API base": root + "/api.xro/2.0"}

    def companies(self):
        return [{"id": tenant, "name": org["name"]} for tenant, org in ORGANISATIONS.items()]

    def issuer(self, request):
        return request.base_url + "/xero/identity"

    # -- error shapes -------------------------------------------------------------------------

    def error(self, kind, status, detail=None):
        if kind == "page":
            return self.page_error(status, detail or HTTPStatus(status).phrase)
        if kind == "oauth":
            return oauth_error_response(status, detail)
        if status == 401:
            return problem(401, detail or "TokenExpired: token expired at %s"
                           % time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(now())),
                           {"WWW-Authenticate": WWW_AUTHENTICATE})
        if status == 429:
            return problem(429, detail or "You've exceeded the per minute rate limit",
                           {"X-Rate-Limit-Problem": "minute"})
        defaults = {403: "AuthenticationUnsuccessful", 404: "The resource was not found"}
        return problem(status, detail or defaults.get(status, "An error occurred in Xero "
                                                              "(injected by the sandbox)"))

    def unauthorized(self, reason, token=None):
        detail = {"invalid": "TokenInvalid: the access token is not valid",
                  "revoked": "TokenInvalid: the access token has been revoked"}.get(reason)
        return self.error("api", 401, detail or "TokenExpired: token expired at %s" % time.strftime(
            "%m/%d/%Y %H:%M:%S", time.gmtime(token.expires_at)))

    def decorate(self, request, response):
        response.headers["Xero-Correlation-Id"] = str(uuid.uuid4())
        tenant = self.api_company(request)
        if tenant is None:
            return
        t, scale = now(), self.app.config["time_scale"]
        remaining = self.limiter.remaining
        response.headers.update({
            "X-DayLimit-Remaining": str(remaining("day", tenant, t, scale)),
            "X-MinLimit-Remaining": str(remaining("minute", tenant, t, scale)),
            "X-AppMinLimit-Remaining": str(remaining(
                "appminute", getattr(request, "client_id", None), t, scale)),
        })

    def api_company(self, request):
        """The xero-tenant-id of an accounting API request, else None."""
        if not request.path.lower().startswith("/xero/api.xro/"):
            return None
        return request.headers.get("xero-tenant-id") or None

    def throttle(self, request, tenant, client_id):
        """Count the call against the tenant's and the app's limits; 429 with Retry-After
        and X-Rate-Limit-Problem when one is reached and ``rate_limits`` is on."""
        scale = self.app.config["time_scale"]
        refused = self.limiter.admit(tenant, client_id, now(), scale,
                                     self.app.config["rate_limits"])
        if refused:
            problem_name = refused.problem
            headers = dict(refused.headers(), **{"X-Rate-Limit-Problem": problem_name})
            raise Abort(problem(429, "You've exceeded the per %s rate limit" % problem_name
                                if problem_name != "concurrent" else
                                "You've exceeded the concurrent request limit", headers))

    # -- OAuth --------------------------------------------------------------------------------

    def check_scope(self, scopes):
        retired = [s for s in scopes if s in RETIRED_SCOPES]
        if retired:
            return ("apps created since 2 March 2026 cannot request %s: use the granular "
                    "scopes" % ", ".join(retired))
        return None

    def deny_params(self):
        return {"error_description": "The user denied access to the app"}

    def callback_params(self, grant):
        return {"scope": " ".join(grant.scope)}

    def approved(self, grant):
        """One connection per chosen organisation; one already connected for this user and
        client is kept, with the new auth event."""
        t = now()
        for tenant in grant.companies:
            connection = self._connection(grant, tenant)
            if connection:
                connection.auth_event_id, connection.updated = grant.auth_event_id, t
            else:
                connection = Connection(str(uuid.uuid4()), grant.client_id, grant.subject,
                                        tenant, grant.auth_event_id, t, t)
                self.connections[connection.id] = connection

    def revoke(self, grant):
        """Revoking removes all the user's connections to the app, as Xero does."""
        super().revoke(grant)
        self.connections = {k: c for k, c in self.connections.items()
                            if (c.client_id, c.subject) != (grant.client_id, grant.subject)}

    def token_response(self, request, grant, client_secret, first):
        access, refresh = self.issue(grant, with_refresh="offline_access" in grant.scope)
        body = {}
        if first:
            given, family = person_names(grant.login)
            t = int(now())
            body["id_token"] = self.id_token(request, grant, client_secret, {
                "nbf": t, "aud": grant.client_id, "xero_userid": grant.subject,
                "global_session_id": grant.auth_event_id.replace("-", ""),
                "preferred_username": grant.login, "email": grant.login,
                "given_name": given, "family_name": family,
                "name": " ".join(filter(None, [given, family]))})
        body.update({"access_token": access.value, "expires_in": int(self.config("access_ttl")),
                     "token_type": "Bearer"})
        if refresh:
            body["refresh_token"] = refresh.value
        body["scope"] = " ".join(grant.scope)
        return json_response(200, body)

    def revocation(self, request):
        form = request.form()
        client_id, _secret = self.client_credentials(request, form)
        if not form.get("token"):
            raise OAuthError(400, "invalid_request", "token is required")
        grant = self.store.grant_of(form.get("token"), client_id)
        if grant:  # an unknown token is not an error (RFC 7009)
            self.revoke(grant)
        return Response(200)

    # -- connections ----------------------------------------------------------------------------

    def _connection(self, grant, tenant):
        return next((c for c in self.connections.values()
                     if (c.client_id, c.subject, c.tenant_id) ==
                     (grant.client_id, grant.subject, tenant)), None)

    def list_connections(self, request):
        grant = self.authenticate(request)
        event = request.query.get("authEventId")
        return json_response(200, [
            c.as_json() for c in sorted(self.connections.values(), key=lambda c: c.created)
            if (c.client_id, c.subject) == (grant.client_id, grant.subject)
            and event in (None, c.auth_event_id)])

    def delete_connection(self, request):
        grant = self.authenticate(request)
        connection = self.connections.get(request.args["id"])
        if not connection or (connection.client_id, connection.subject) != (
                grant.client_id, grant.subject):
            raise Abort(self.error("api", 404))
        del self.connections[connection.id]
        return Response(204)

    # -- the accounting API ---------------------------------------------------------------------

    def tenant(self, request):
        """The xero-tenant-id of an API call, once the token and the connection are checked."""
        grant = self.authenticate(request)
        tenant = request.headers.get("xero-tenant-id")
        if not self._connection(grant, tenant):
            raise Abort(self.error("api", 403))
        request.client_id = grant.client_id
        self.throttle(request, tenant, grant.client_id)
        return tenant

    def organisation(self, request):
        tenant = self.tenant(request)
        org = ORGANISATIONS[tenant]
        return json_response(200, {
            "Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": "Provider Sandbox",
            "DateTimeUTC": ms_date(now()),
            "Organisations": [{
                "OrganisationID": tenant, "Name": org["name"], "LegalName": org["name"],
                "PaysTax": True, "Version": org["version"], "OrganisationType": "COMPANY",
                "BaseCurrency": org["currency"], "CountryCode": org["country"],
                "IsDemoCompany": True, "OrganisationStatus": "ACTIVE",
                "FinancialYearEndDay": 31, "FinancialYearEndMonth": 12,
                "CreatedDateUTC": ms_date(SEED_TIME), "Timezone": org["timezone"],
                "OrganisationEntityType": "COMPANY", "ShortCode": org["short_code"],
                "Class": "DEMO", "Edition": "BUSINESS"}]})

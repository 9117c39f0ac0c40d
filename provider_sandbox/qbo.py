"""QuickBooks Online (Intuit) under /qbo: discovery, OAuth 2.0 with rotating refresh tokens,
userinfo, and the v3 accounting API (CompanyInfo here; the entities, query and batch in
qbo_accounting.py; the rate limits in limits.py)."""
import re
import time
import uuid
from http import HTTPStatus

from .core import Abort, Response, Route, json_response, now
from .limits import QBO_CONCURRENT, QBO_LIMITS, Limiter
from .oauth import OAuthError, OAuthProvider, oauth_error_response, person_names

COMPANIES = {"9341453050000001": "Sandbox Company US 1",
             "9341453050000002": "Sandbox Company US 2"}
SEED_TIME = "2025-01-15T09:00:00-08:00"
WWW_AUTHENTICATE = 'Bearer realm="Intuit", error="invalid_token"'
# status: (code, Message, fault type, default Detail) of the v3 API's Fault answers
API_FAULTS = {
    400: ("2010", "Request has invalid or unsupported property", "ValidationFault",
          "The request is not valid."),
    403: ("3100", "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
          "AUTHENTICATION", "The access token was not issued for this company."),
    429: ("3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429", "SERVICE",
          "The request limit was reached."),
    500: ("10000", "An application error has occurred while processing your request",
          "SystemFault", "System Failure Error: injected by the provider sandbox"),
    503: ("10000", "Service Unavailable", "SystemFault",
          "The service is temporarily unavailable."),
}


def qbo_time(t=None):
    t = now() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03d+00:00" % (t % 1 * 1000)


def fault_response(status, code, message, detail, fault_type):
    return json_response(status, {"Fault": {"Error": [{"Message": message, "Detail": detail,
                                                       "code": code, "element": ""}],
                                            "type": fault_type}, "time": qbo_time()})


class QBO(OAuthProvider):
    name = "qbo"
    prefix = "/qbo"
    label = "QuickBooks Online"
    reuse_window = "stale_window"

    def __init__(self, app):
        from .qbo_accounting import QBOAccounting  # it imports this module
        super().__init__(app)
        self.accounting = QBOAccounting(self)
        self.limiter = Limiter(QBO_LIMITS, QBO_CONCURRENT)

    def reset(self):
        super().reset()
        self.accounting.reset()
        self.limiter.reset()
        self.api_calls = {}  # realm -> API calls received

    def routes(self):
        company = r"/qbo/v3/company/(?P<realm>[^/]+)"
        return [
            Route("GET", r"/qbo/\.well-known/openid_configuration/?", self.discovery, "oauth"),
            Route("GET", r"/qbo/op/v1/jwks", self.jwks, "oauth"),
            Route("GET", r"/qbo/connect/oauth2", self.authorize, "page"),
            Route("POST", r"/qbo/connect/oauth2", self.authorize, "page"),
            Route("POST", r"/qbo/oauth2/v1/tokens/bearer", self.token, "oauth"),
            Route("POST", r"/qbo/v2/oauth2/tokens/revoke", self.revocation, "oauth"),
            Route("GET", r"/qbo/v1/openid_connect/userinfo", self.userinfo),
            Route("GET", company + r"/companyinfo/(?P<id>[^/]+)", self.company_info),
        ] + self.accounting.routes()

    def endpoints(self, base_url):
        root = base_url + "/qbo"
        return {"Discovery": root + "/.well-known/openid_configuration",
                "Authorize": root + "/connect/oauth2",
                "Token": root + "/oauth2/v1/tokens/bearer",
                "Revoke": root + "/v2/oauth2/tokens/revoke",
                "Userinfo": root + "/v1/openid_connect/userinfo",
                "API base (api_url_v3)": root + "/v3"}

    def companies(self):
        return [{"id": realm, "name": name} for realm, name in COMPANIES.items()]

    def issuer(self, request):
        return request.base_url + "/qbo/op/v1"

    # -- error shapes -------------------------------------------------------------------------

    def error(self, kind, status, detail=None):
        if kind == "page":
            return self.page_error(status, detail or HTTPStatus(status).phrase)
        if kind == "oauth":
            return oauth_error_response(status, detail)
        if status == 401:
            return self.auth_failed(detail or "Token expired: injected by the provider sandbox")
        code, message, fault_type, default = API_FAULTS.get(
            status, API_FAULTS[500 if status >= 500 else 400])
        return fault_response(status, code, message, detail or default, fault_type)

    def auth_failed(self, detail):
        # Intuit's 401 body really is lower-case, unlike every other Fault.
        return json_response(401, {"fault": {"error": [{
            "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            "detail": detail, "code": "3200"}], "type": "AUTHENTICATION"}, "time": qbo_time()},
            {"WWW-Authenticate": WWW_AUTHENTICATE})

    def unauthorized(self, reason, token=None):
        if reason == "expired":
            return self.auth_failed("Token expired: the access token expired at %s"
                                    % qbo_time(token.expires_at))
        return self.auth_failed("Token revoked" if reason == "revoked" else "Token invalid")

    def invalid_refresh(self):
        return OAuthError(400, "invalid_grant", "Incorrect or invalid refresh token")

    def decorate(self, request, response):
        response.headers["intuit_tid"] = "1-%08x-%s" % (int(now()), uuid.uuid4().hex[:24])

    def api_company(self, request):
        """The realm of an accounting API path, else None."""
        match = re.match(r"/qbo/v3/company/([^/]+)/", request.path, re.I)
        return match.group(1) if match else None

    def throttle(self, request, realm, client_id):
        """Count the call against the realm's limits; 429 ThrottleExceeded when one is
        reached and ``rate_limits`` is on."""
        scale = self.app.config["time_scale"]
        kind = "batch" if request.path.lower().rstrip("/").endswith("/batch") else None
        refused = self.limiter.admit(realm, client_id, now(), scale,
                                     self.app.config["rate_limits"], kind)
        if refused:
            what = {"concurrent": "%d concurrent requests" % QBO_CONCURRENT}.get(
                refused.problem) or "%d %srequests per %s" % (
                refused.limit.count, "batch " if refused.problem == "batch" else "",
                "second" if refused.problem == "second" else "minute")
            response = json_response(429, {"Fault": {"Error": [{
                "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                "Detail": "The request limit of %s for realm %s was reached (sandbox "
                          "time_scale %g); retry after %.3f s" % (what, realm, scale,
                                                                  refused.wait),
                "code": "3001"}], "type": "ThrottleExceeded"}, "time": qbo_time()},
                refused.headers())
            raise Abort(response)

    # -- OAuth --------------------------------------------------------------------------------

    def discovery(self, request):
        endpoints = self.endpoints(request.base_url)
        return json_response(200, {
            "issuer": self.issuer(request),
            "authorization_endpoint": endpoints["Authorize"],
            "token_endpoint": endpoints["Token"],
            "userinfo_endpoint": endpoints["Userinfo"],
            "revocation_endpoint": endpoints["Revoke"],
            "jwks_uri": self.issuer(request) + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone",
                                 "com.intuit.quickbooks.accounting",
                                 "com.intuit.quickbooks.payment"],
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        })

    def jwks(self, request):
        # id tokens are HS256, signed with the client secret: there is no public key.
        return json_response(200, {"keys": []})

    def token_response(self, request, grant, client_secret, first):
        access, refresh = self.issue(grant)
        body = {"token_type": "bearer", "access_token": access.value,
                "refresh_token": refresh.value, "expires_in": int(self.config("access_ttl")),
                "x_refresh_token_expires_in": int(self.config("refresh_ttl"))}
        if first:
            body["id_token"] = self.id_token(request, grant, client_secret, {
                "aud": [grant.client_id], "realmid": grant.companies[0]})
        return json_response(200, body)

    def callback_params(self, grant):
        return {"realmId": grant.companies[0]}

    def revocation(self, request):
        client_id, _secret = self.client_credentials(request)
        data = request.json()
        token = data.get("token") if isinstance(data, dict) else None
        grant = self.store.grant_of(token, client_id) if isinstance(token, str) else None
        if grant is None:
            raise OAuthError(400, "invalid_request")
        self.revoke(grant)
        return Response(200)

    def userinfo(self, request):
        grant = self.authenticate(request)
        given, family = person_names(grant.login)
        return json_response(200, {"sub": grant.subject, "email": grant.login,
                                   "emailVerified": True, "givenName": given,
                                   "familyName": family})

    # -- the v3 API -----------------------------------------------------------------------------

    def realm(self, request):
        """The realm of an API path, once the token and ``minorversion`` are checked."""
        grant = self.authenticate(request)
        realm = request.args["realm"]
        if realm not in grant.companies:
            raise Abort(self.error("api", 403))
        if not (request.query.get("minorversion") or "").isdigit():
            raise Abort(self.error("api", 400, "minorversion is required (the sandbox insists "
                                               "on it, e.g. ?minorversion=75)"))
        self.throttle(request, realm, grant.client_id)
        return realm

    def company_info(self, request):
        realm = self.realm(request)
        if request.args["id"] != realm:
            raise Abort(fault_response(400, "610", "Object Not Found",
                                       "Object Not Found : no CompanyInfo with this Id",
                                       "ValidationFault"))
        return json_response(200, {"CompanyInfo": self.company_data(realm), "time": qbo_time()})

    def company_data(self, realm):
        name = COMPANIES[realm]
        return {"Id": realm, "SyncToken": "0", "domain": "QBO", "sparse": False,
                "CompanyName": name, "LegalName": name + " LLC", "Country": "USA",
                "Email": {"Address": "noreply+%s@example.com" % realm},
                "MetaData": {"CreateTime": SEED_TIME, "LastUpdatedTime": SEED_TIME}}

"""Typed provider errors: what the Odoo side needs to decide who must act."""


class ProviderError(Exception):
    """An error reported by (or while talking to) a provider.

    ``message`` is plain words for a user; ``code`` is the provider's own error code and
    ``status`` the HTTP status, when known; ``request_id`` is what support asks for
    (QBO ``intuit_tid``, Xero ``Xero-Correlation-Id``). ``answer`` is the provider's error
    answer as parsed JSON, when it sent one (the writers read a refusal's details from it);
    it is never part of the message.
    """

    answer = None

    def __init__(self, message, code=None, status=None, request_id=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id

    def __str__(self):
        parts = [self.message]
        if self.code:
            parts.append("(code %s)" % self.code)
        return " ".join(parts)


class ConfigurationError(ProviderError):
    """Something on our side is missing or wrong (client id, environment URL...)."""


class AuthorizationError(ProviderError):
    """The provider refused the access token (HTTP 401) or the company (HTTP 403).

    ``forbidden`` is True for a 403: the token is valid but not for this company, which
    means the connection points at a company (or environment) the token was not issued for.
    """

    def __init__(self, message, forbidden=False, **kwargs):
        super().__init__(message, **kwargs)
        self.forbidden = forbidden


class InvalidGrantError(ProviderError):
    """The refresh token or authorization code is no longer valid (``invalid_grant``)."""


class RateLimitError(ProviderError):
    """HTTP 429: try again after ``retry_after`` seconds."""

    def __init__(self, message, retry_after=60, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached, timed out, or answered with a 5xx."""


class ProviderResponseError(ProviderError):
    """The provider answered, but not with what its API documents: JSON of the wrong shape
    (an object where a list is expected, missing fields...), HTML or an empty body where JSON
    is expected (``code`` ``bad_answer``), a redirect, which is never followed
    (``redirect``), or a body larger than the adapter's ``max_response_bytes``
    (``too_large``)."""

    def __init__(self, message, code="bad_answer", **kwargs):
        super().__init__(message, code=code, **kwargs)

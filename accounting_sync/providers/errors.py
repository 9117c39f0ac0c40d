"""Typed provider errors: what the Odoo side needs to decide who must act.

Every error says what happened as a stable ``code`` from :mod:`.messages` with the ``params``
its sentence needs; ``message`` is that sentence in English (``MESSAGES[code] % params``),
so the Odoo side can show its own translation of ``code`` with the same ``params`` and fall
back to ``message``.
"""
from .messages import render


class ProviderError(Exception):
    """An error reported by (or while talking to) a provider.

    ``code`` is one of :data:`.messages.MESSAGES`' codes and ``params`` the values of its
    sentence; ``message`` is that sentence (pass ``code`` and ``params`` and leave
    ``message`` out: it is rendered from them). ``provider_code`` is the provider's own error
    code when it gave one (a QBO Fault code such as ``6240``, an OAuth ``error`` such as
    ``invalid_grant``, ``validation`` for a Xero ValidationException) — or, where this package
    used another code before the catalogue (``name_clash``, ``payload``...), that code (the
    table in the package docstring). ``status`` is the HTTP
    status and ``request_id`` what support asks for (QBO ``intuit_tid``, Xero
    ``Xero-Correlation-Id``), when known. ``answer`` is the provider's error answer as
    parsed JSON, when it sent one (the writers read a refusal's details from it); it is never
    part of the message.
    """

    answer = None

    def __init__(self, message=None, code=None, status=None, request_id=None, params=None,
                 provider_code=None):
        self.params = dict(params or {})
        if message is None:
            message = render(code, self.params)
        super().__init__(message)
        self.message = message
        self.code = code
        self.provider_code = provider_code
        self.status = status
        self.request_id = request_id

    def __str__(self):
        code = self.provider_code or self.code
        return "%s (code %s)" % (self.message, code) if code else self.message


class ConfigurationError(ProviderError):
    """Something on our side is missing or wrong (client id, environment URL...)."""


class AuthorizationError(ProviderError):
    """The provider refused the access token (HTTP 401) or the company (HTTP 403).

    ``forbidden`` is True for a 403: the token is valid but not for this company, which
    means the connection points at a company (or environment) the token was not issued for.
    """

    def __init__(self, message=None, forbidden=False, **kwargs):
        super().__init__(message, **kwargs)
        self.forbidden = forbidden


class InvalidGrantError(ProviderError):
    """The refresh token or authorization code is no longer valid (``invalid_grant``)."""


class RateLimitError(ProviderError):
    """HTTP 429 (``throttled``) or our own pacing (``paced``): try again after
    ``retry_after`` seconds."""

    def __init__(self, message=None, retry_after=60, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached (``unreachable``), timed out (``timeout``), or
    answered with a 5xx (``unavailable``)."""


class ProviderResponseError(ProviderError):
    """The provider answered, but not with what its API documents: JSON of the wrong shape
    (an object where a list is expected, missing fields...), HTML or an empty body where JSON
    is expected (code ``unreadable_answer``), a redirect, which is never followed
    (``redirect``), or a body larger than the adapter's ``max_response_bytes``
    (``too_large``). An unreadable answer's ``provider_code`` is ``bad_answer``, the code it
    had before the catalogue."""

    def __init__(self, message=None, code="unreadable_answer", **kwargs):
        if code == "unreadable_answer":
            kwargs.setdefault("provider_code", "bad_answer")
        super().__init__(message, code=code, **kwargs)


class WebhookSignatureError(ProviderError):
    """A webhook whose signature is missing (``webhook_signature_missing``), wrong
    (``webhook_signature_bad``), or cannot be checked because the key is not set
    (``webhook_secret_missing``): nothing of it may be read. (Xero's intent-to-receive
    wants HTTP 401 then.)"""


class WebhookPayloadError(ProviderResponseError):
    """A correctly signed webhook whose body is not JSON of the documented shape
    (``webhook_unreadable``)."""

    def __init__(self, message=None, code="webhook_unreadable", **kwargs):
        super().__init__(message, code=code, **kwargs)

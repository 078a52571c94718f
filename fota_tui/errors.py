"""One error tree for the whole product.

Every error carries a short ``title`` and a human ``message``; the CLI prints them and
exits 2 (usage/config) or 1 (provider), the TUI shows them in a notification or a pane.
Messages never contain secret values.
"""

from __future__ import annotations


class FotaError(Exception):
    """Base of every error we raise on purpose."""

    title: str = "Error"
    exit_code: int = 1

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class UsageError(FotaError):
    """The command line was wrong."""

    title = "Usage error"
    exit_code = 2


class ConfigError(FotaError):
    """A config or profile file is missing, unreadable or invalid.

    ``path`` names the file and ``key`` the dotted key (or ``line N``) at fault.
    """

    title = "Configuration error"
    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        title: str | None = None,
    ) -> None:
        self.path = path
        self.key = key
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message, title=title)
        self.detail = message


class SecretError(ConfigError):
    """A secret reference could not be resolved. Never carries the value."""

    title = "Secret not available"


class ProviderError(FotaError):
    """Anything that went wrong talking to a platform.

    Only these (never httpx or JSON exceptions) cross the provider boundary.
    """

    title = "Provider error"
    retryable: bool = False

    def __init__(self, provider: str, message: str, *, title: str | None = None) -> None:
        super().__init__(message, title=title)
        self.provider = provider

    def __str__(self) -> str:
        return f"{self.provider}: {self.message}"


class ProviderTimeout(ProviderError):
    title = "Timed out"
    retryable = True


class ProviderUnavailable(ProviderError):
    """Connection refused or reset, DNS failure, HTTP 5xx."""

    title = "Unavailable"
    retryable = True


class ProviderAuthError(ProviderError):
    title = "Authentication failed"


class ProviderRateLimited(ProviderError):
    title = "Rate limited"
    retryable = True

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retry_after: float | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(provider, message, title=title)
        self.retry_after = retry_after


class ProviderRejected(ProviderError):
    """The platform understood the request and refused it."""

    title = "Rejected"

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        status: int | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(provider, message, title=title)
        self.code = code
        self.field = field
        self.status = status

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.provider}:{code} {self.message}"


class ProviderNotFound(ProviderRejected):
    title = "Not found"


class ProviderProtocolError(ProviderError):
    """The platform answered with something we cannot parse."""

    title = "Unexpected response"


class ProviderBadBody(ProviderProtocolError):
    """The answer's body could not be decoded at all (not JSON, cut short): a damaged
    answer rather than a deterministic one, so idempotent reads may try again. A body
    that decodes but has the wrong shape stays a plain ``ProviderProtocolError``."""

    retryable = True


class ProviderLimitExceeded(ProviderProtocolError):
    """A platform's answer broke one of our bounds: a listing with more pages than the cap
    or a page that repeats, a body larger than the limit, a refresh past its deadline.
    Work stops there; the provider goes stale with this message."""

    title = "Bound exceeded"


class ProviderUnsupported(ProviderError):
    """The platform has no such operation (see ``Capabilities``)."""

    title = "Not supported"

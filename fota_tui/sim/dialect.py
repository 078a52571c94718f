"""The base of every platform dialect: routing, and answers in the platform's own form."""

from __future__ import annotations

import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

from fota_tui.models import ProviderKind
from fota_tui.sim.fleet import SimFleet
from fota_tui.sim.http import BadBody, Router, SimRequest, SimResponse

log = logging.getLogger(__name__)


class Dialect(ABC):
    """Speaks one platform's REST API over the shared ``SimFleet``.

    Subclasses register routes in ``__init__`` via ``self.router`` and implement the
    platform's error envelope. ``credentials`` are the demo credentials it accepts.
    """

    kind: ClassVar[ProviderKind]
    credentials: ClassVar[dict[str, str]]

    def __init__(self, fleet: SimFleet) -> None:
        self.fleet = fleet
        self.router = Router()

    @classmethod
    def with_credentials(cls, credentials: Mapping[str, str]) -> type[Dialect]:
        """A subclass that accepts ``credentials`` (over the demo ones) instead.

        Only keys the dialect already has may be overridden (e.g. ``password``), so a typo
        cannot leave the demo value in force unnoticed.
        """
        unknown = sorted(set(credentials) - set(cls.credentials))
        if unknown:
            raise ValueError(
                f"{cls.kind.value} credentials: unknown key(s) {', '.join(unknown)};"
                f" expected some of: {', '.join(cls.credentials)}"
            )
        merged = {**cls.credentials, **credentials}
        return type(cls.__name__, (cls,), {"credentials": merged, "__module__": cls.__module__})

    # -- the platform's own answers ------------------------------------------
    @abstractmethod
    def error(self, status: int, code: str | int, message: str) -> SimResponse:
        """An error in the platform's envelope."""

    @abstractmethod
    def throttled(self) -> SimResponse:
        """The platform's answer when a rate limit is hit."""

    def server_error(self) -> SimResponse:
        return self.error(503, 503, "Service temporarily unavailable")

    def bad_body(self, detail: str) -> SimResponse:
        return self.error(400, 400, f"Malformed request body: {detail}")

    def not_found(self, request: SimRequest) -> SimResponse:
        return self.error(404, 404, f"No such resource: {request.method} {request.path}")

    def method_not_allowed(self, request: SimRequest) -> SimResponse:
        return self.error(405, 405, f"Method {request.method} not allowed on {request.path}")

    @abstractmethod
    def expire_tokens(self) -> None:
        """Invalidate every issued token (fault ``token_expiry``)."""

    # -- seeding -------------------------------------------------------------
    @abstractmethod
    def seed(self, count: int, rng: random.Random) -> None:
        """Add ``count`` devices, the firmware catalogue and jobs in every state."""

    # -- dispatch ------------------------------------------------------------
    def handle(self, request: SimRequest) -> SimResponse:
        handler, path_known = self.router.match(request)
        if handler is None:
            return self.method_not_allowed(request) if path_known else self.not_found(request)
        try:
            with self.fleet.lock:
                return handler(request)
        except BadBody as exc:
            return self.bad_body(str(exc))
        except Exception:  # a simulator bug must still look like a platform error
            log.exception("simulator handler failed: %s %s", request.method, request.path)
            return self.error(500, 500, "Internal server error")

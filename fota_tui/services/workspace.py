"""A profile, opened: the one headless place that builds a profile's clients and journal.

Every front end opens one: the console, ``status`` and each ``campaign`` command. A
workspace

- builds each provider's client once, on first use, and keeps the error of one that
  cannot be built (a missing secret) for that provider alone;
- owns the journal, which is also where OneNET and AOVX clients list the campaigns
  fota-tui keeps;
- hands out the read session (``console``) and the write session (``campaigns``) over
  the same clients: one token and one rate limiter per platform account;
- decides read-only once; the campaign service enforces it.

``aclose`` closes every client it built; the sessions it hands out never do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fota_tui.config.schema import Profile, ProviderConfigBase
from fota_tui.errors import ConfigError, FotaError
from fota_tui.models import utcnow
from fota_tui.providers import build_client
from fota_tui.providers.base import ProviderClient
from fota_tui.services.campaigns.journal import Journal

if TYPE_CHECKING:  # the console opens a workspace before its first frame: kept light
    import httpx

    from fota_tui.services.campaigns.session import CampaignSession
    from fota_tui.services.session import ConsoleSession

log = logging.getLogger(__name__)

# (cfg, *, transport, groups) -> client; ``providers.build_client`` by default.
ClientFactory = Callable[..., ProviderClient]


class Workspace:
    """One opened profile (see the module docstring)."""

    def __init__(
        self,
        profile: Profile,
        data_dir: Path,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] | None = None,
        read_only: bool | None = None,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.profile = profile
        self.read_only = profile.read_only or bool(read_only)
        self.data_dir = data_dir
        self.transport = transport
        self.now = now or utcnow  # looked up here: a test can set the clock of a CLI run
        self.journal = Journal(data_dir, profile.name)
        self._factory = client_factory or build_client
        self._clients: dict[str, ProviderClient] = {}
        self._errors: dict[str, FotaError] = {}

    @property
    def provider_names(self) -> list[str]:
        return [p.name for p in self.profile.providers]

    def config(self, provider: str) -> ProviderConfigBase:
        try:
            return self.profile.provider(provider)
        except KeyError:
            names = ", ".join(self.provider_names) or "none"
            raise ConfigError(
                f"profile '{self.profile.name}' has no provider {provider!r} (providers: {names})",
                key="provider",
            ) from None

    def client(self, provider: str) -> ProviderClient:
        """The provider's client, built once; a provider that cannot be built raises the
        same error every time (and only for that provider)."""
        if provider in self._clients:
            return self._clients[provider]
        if provider in self._errors:
            raise self._errors[provider]
        cfg = self.config(provider)
        try:
            client = self._factory(cfg, transport=self.transport, groups=self.journal)
        except FotaError as exc:
            self._errors[provider] = exc
            raise
        except ImportError as exc:  # an adapter that is not installed / built
            self._errors[provider] = ConfigError(f"no adapter for {cfg.kind.value}: {exc}")
            raise self._errors[provider] from None
        self._clients[provider] = client
        return client

    def build_error(self, provider: str) -> FotaError | None:
        """Why the provider's client could not be built (after a try), or None."""
        return self._errors.get(provider)

    # -- sessions --------------------------------------------------------------------
    def campaigns(
        self, *, now: Callable[[], datetime] | None = None, owned: bool = False
    ) -> CampaignSession:
        """The write session: campaign services over this workspace's clients. An
        ``owned`` session closes the workspace when it is closed."""
        from fota_tui.services.campaigns.session import CampaignSession

        return CampaignSession(
            self.profile,
            self.journal,
            now=now or self.now,
            clients=self.client,
            read_only=self.read_only,
            on_close=self.aclose if owned else None,
        )

    def console(self, **options: Any) -> ConsoleSession:
        """The read session (``ConsoleSession``) over this workspace's clients;
        ``options`` are its clock, cache, publisher and scheduler timing."""
        from fota_tui.services.session import ConsoleSession

        return ConsoleSession(
            self.profile,
            transport=self.transport,
            groups=self.journal,
            read_only=self.read_only,
            client_factory=lambda cfg, **_: self.client(cfg.name),
            owns_clients=False,
            **options,
        )

    async def aclose(self) -> None:
        """Close every client built here. Safe to call twice."""
        clients, self._clients = self._clients, {}
        self._errors.clear()
        for client in clients.values():
            try:
                await client.aclose()
            except Exception:  # closing must never fail the exit
                log.debug("closing %s failed", client.name, exc_info=True)

"""Campaign services for the providers of one profile, sharing one journal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from fota_tui.config.schema import Profile
from fota_tui.errors import ConfigError
from fota_tui.models import utcnow
from fota_tui.providers.base import ProviderClient
from fota_tui.providers.registry import build_client
from fota_tui.services.campaigns.journal import Journal
from fota_tui.services.campaigns.service import CampaignService

# Lends an existing client for a provider (or None: build one). A lent client stays its
# owner's: the session never closes it.
ClientSource = Callable[[str], ProviderClient | None]


class CampaignSession:
    """Builds a provider's client (resolving its secrets) only when it is first used,
    or borrows one from ``clients`` (the console's: one client, one rate limiter and
    one token per platform account). A borrowed client must list campaigns from this
    session's journal (built with ``groups=journal``, or the same journal folder)."""

    def __init__(
        self,
        profile: Profile,
        journal: Journal,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = utcnow,
        clients: ClientSource | None = None,
        read_only: bool = False,
    ) -> None:
        self.profile = profile
        self.read_only = read_only or profile.read_only
        self.journal = journal
        self.transport = transport
        self.now = now
        self._lender = clients
        self._services: dict[str, CampaignService] = {}
        self._borrowed: set[str] = set()

    @property
    def provider_names(self) -> list[str]:
        return [p.name for p in self.profile.providers]

    def borrowed(self, provider: str) -> bool:
        """Whether the provider's client is lent (and so not closed by ``aclose``)."""
        return provider in self._borrowed

    def service(self, provider: str) -> CampaignService:
        if provider not in self._services:
            try:
                cfg = self.profile.provider(provider)
            except KeyError:
                names = ", ".join(self.provider_names) or "none"
                raise ConfigError(
                    f"profile '{self.profile.name}' has no provider {provider!r}"
                    f" (providers: {names})",
                    key="provider",
                ) from None
            client = self._lender(provider) if self._lender is not None else None
            if client is not None:
                self._borrowed.add(provider)
            else:
                client = build_client(cfg, transport=self.transport, groups=self.journal)
            self._services[provider] = CampaignService(
                client,
                self.journal,
                now=self.now,
                settle=timedelta(seconds=cfg.settle_seconds),
                read_only=self.read_only,
            )
        return self._services[provider]

    async def aclose(self) -> None:
        """Close the clients this session built; borrowed ones stay open (their owner's)."""
        for name, service in self._services.items():
            if name not in self._borrowed:
                await service.aclose()
        self._services.clear()
        self._borrowed.clear()


def open_session(
    profile: Profile,
    data_dir: Path,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], datetime] = utcnow,
    clients: ClientSource | None = None,
    journal: Journal | None = None,
    read_only: bool = False,
) -> CampaignSession:
    """The journal lives in ``<data_dir>/journal/<profile>/`` (``journal`` overrides it,
    e.g. the one the lending console's clients list campaigns from). ``clients`` lends
    existing clients (see ``CampaignSession``)."""
    return CampaignSession(
        profile,
        journal if journal is not None else Journal(data_dir, profile.name),
        transport=transport,
        now=now,
        clients=clients,
        read_only=read_only,
    )

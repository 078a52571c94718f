"""Campaign services for the providers of one profile, sharing one journal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

from fota_tui.config.schema import Profile
from fota_tui.errors import ConfigError
from fota_tui.models import utcnow
from fota_tui.providers.registry import build_client
from fota_tui.services.campaigns.journal import Journal
from fota_tui.services.campaigns.service import CampaignService


class CampaignSession:
    """Builds a provider's client (resolving its secrets) only when it is first used."""

    def __init__(
        self,
        profile: Profile,
        journal: Journal,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.profile = profile
        self.journal = journal
        self.transport = transport
        self.now = now
        self._services: dict[str, CampaignService] = {}

    @property
    def provider_names(self) -> list[str]:
        return [p.name for p in self.profile.providers]

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
            client = build_client(cfg, transport=self.transport, groups=self.journal)
            self._services[provider] = CampaignService(client, self.journal, now=self.now)
        return self._services[provider]

    async def aclose(self) -> None:
        for service in self._services.values():
            await service.aclose()
        self._services.clear()


def open_session(
    profile: Profile,
    data_dir: Path,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], datetime] = utcnow,
) -> CampaignSession:
    """The journal lives in ``<data_dir>/journal/<profile>/``."""
    return CampaignSession(profile, Journal(data_dir, profile.name), transport=transport, now=now)

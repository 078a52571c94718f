"""Campaign services for the providers of one profile, over one workspace's clients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fota_tui.config.schema import Profile
from fota_tui.models import utcnow
from fota_tui.providers.base import ProviderClient
from fota_tui.services.campaigns.journal import Journal
from fota_tui.services.campaigns.service import CampaignService

if TYPE_CHECKING:
    import httpx

# The client of a provider (its workspace's: built once, closed by the workspace).
ClientSource = Callable[[str], ProviderClient]


class CampaignSession:
    """One ``CampaignService`` per provider, made on first use, over clients that are
    not its own (a ``Workspace``'s: one client, one rate limiter and one token per
    platform account). The clients list campaigns from this session's journal."""

    def __init__(
        self,
        profile: Profile,
        journal: Journal,
        *,
        clients: ClientSource,
        now: Callable[[], datetime] = utcnow,
        read_only: bool = False,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.profile = profile
        self.read_only = read_only or profile.read_only
        self.journal = journal
        self.now = now
        self._clients = clients
        self._on_close = on_close
        self._services: dict[str, CampaignService] = {}

    @property
    def provider_names(self) -> list[str]:
        return [p.name for p in self.profile.providers]

    def service(self, provider: str) -> CampaignService:
        if provider not in self._services:
            client = self._clients(provider)  # names the providers if it is not one
            cfg = self.profile.provider(provider)
            self._services[provider] = CampaignService(
                client,
                self.journal,
                now=self.now,
                settle=timedelta(seconds=cfg.settle_seconds),
                read_only=self.read_only,
            )
        return self._services[provider]

    async def aclose(self) -> None:
        """Forget the services; the clients stay open unless this session owns its
        workspace (``open_session``)."""
        self._services.clear()
        if self._on_close is not None:
            await self._on_close()


def open_session(
    profile: Profile,
    data_dir: Path,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], datetime] = utcnow,
    read_only: bool = False,
) -> CampaignSession:
    """A campaign session with a workspace of its own (closed with the session): for a
    caller that needs nothing else of the profile. The journal lives in
    ``<data_dir>/journal/<profile>/``."""
    from fota_tui.services.workspace import Workspace

    workspace = Workspace(profile, data_dir, transport=transport, now=now, read_only=read_only)
    return workspace.campaigns(owned=True)

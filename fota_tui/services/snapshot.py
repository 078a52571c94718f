"""One provider's picture at one moment: what a refresh produces and the cache stores."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from fota_tui.errors import ProviderError, ProviderTimeout
from fota_tui.models import (
    AuthState,
    Campaign,
    Device,
    DeviceUpgrade,
    ProviderHealth,
    ProviderKind,
    UtcDatetime,
    utcnow,
)
from fota_tui.providers.base import (
    Incremental,
    Paced,
    PlatformNotes,
    ProviderClient,
    rate_budget,
)


class ProviderSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str
    kind: ProviderKind
    fetched_at: UtcDatetime
    health: ProviderHealth
    devices: tuple[Device, ...] = ()
    upgrades: tuple[DeviceUpgrade, ...] = ()
    campaigns: tuple[Campaign, ...] = ()
    duration_ms: float = 0.0


DEFAULT_DEADLINE = 120.0  # seconds; a profile's is ``Profile.deadline``


async def fetch_snapshot(
    client: ProviderClient,
    now: datetime | None = None,
    *,
    deadline: float = DEFAULT_DEADLINE,
    full: bool = False,
) -> ProviderSnapshot:
    """Read devices, upgrades and campaigns concurrently, within ``deadline`` seconds
    (a platform that trickles or pages for ever cannot hang a refresh). ``full`` makes an
    incremental adapter read everything. Raises ``ProviderError``."""
    if full and isinstance(client, Incremental):
        client.request_full("asked")
    try:
        async with asyncio.timeout(deadline):
            return await _fetch(client, now)
    except TimeoutError:
        raise ProviderTimeout(
            client.name, f"refresh exceeded {deadline:.0f} s; stopped reading"
        ) from None


async def _fetch(client: ProviderClient, now: datetime | None) -> ProviderSnapshot:
    started = time.monotonic()
    swept = client.sweep if isinstance(client, Incremental) else None

    async def devices() -> tuple[Device, ...]:
        return tuple([d async for d in client.devices()])

    async def upgrades() -> tuple[DeviceUpgrade, ...]:
        return tuple([u async for u in client.upgrades()])

    async def campaigns() -> tuple[Campaign, ...]:
        return tuple(await client.campaigns())

    try:
        async with asyncio.TaskGroup() as group:
            d = group.create_task(devices())
            u = group.create_task(upgrades())
            c = group.create_task(campaigns())
    except* ProviderError as failures:
        raise failures.exceptions[0] from None
    elapsed = (time.monotonic() - started) * 1000
    remaining, total = rate_budget(client.limiter if isinstance(client, Paced) else None)
    health = ProviderHealth(
        provider=client.name,
        kind=client.kind,
        ok=True,
        checked_at=now or utcnow(),
        latency_ms=round(elapsed, 1),
        auth=AuthState.OK,
        rate_limit_remaining=remaining,
        rate_limit_total=total,
        warnings=tuple(client.notes) if isinstance(client, PlatformNotes) else (),
        sweep=client.sweep if isinstance(client, Incremental) else None,
        full_read=not isinstance(client, Incremental) or client.sweep is not swept,
    )
    return ProviderSnapshot(
        provider=client.name,
        kind=client.kind,
        fetched_at=health.checked_at,
        health=health,
        devices=d.result(),
        upgrades=u.result(),
        campaigns=c.result(),
        duration_ms=round(elapsed, 1),
    )

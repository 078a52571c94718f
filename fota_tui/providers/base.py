"""The contract every platform adapter implements.

Only domain models (``fota_tui.models``) and ``ProviderError`` subclasses cross this
boundary: no vendor JSON, no httpx exceptions. Paging is hidden behind async iterators.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from fota_tui.models import (
    AuthState,
    Campaign,
    CampaignDetail,
    CampaignSpec,
    Capabilities,
    Device,
    DeviceUpgrade,
    Firmware,
    ProviderHealth,
    ProviderKind,
    Sweep,
)


@dataclass(frozen=True)
class PlannedRequest:
    """One HTTP request a create would send, for previews (secrets already masked)."""

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    note: str | None = None


@dataclass(frozen=True)
class LocalGroup:
    """A campaign that only fota-tui knows (OneNET command batches, AOVX OTA sends).

    The campaign service records one per submission; adapters attach matching
    platform records to it instead of an inferred batch.
    """

    campaign_id: str
    provider: str
    created_at: datetime
    device_ids: tuple[str, ...]
    name: str | None = None
    firmware: str | None = None
    firmware_to: str | None = None
    job_refs: tuple[str, ...] = ()  # platform ids returned by the create, if any


class GroupSource(Protocol):
    def groups(self, provider: str) -> list[LocalGroup]: ...


class CallBudget(Protocol):
    """What a rate limiter tells: calls left in its window, of how many, per how long."""

    @property
    def remaining(self) -> int: ...

    calls: int
    period: float


BUDGET_MIN_PERIOD = 60.0  # shorter windows refill between two looks: nothing to show


def rate_budget(limiter: CallBudget | None) -> tuple[int | None, int | None]:
    """(calls left, calls per window) worth showing an operator: a per-second pace
    refills before anyone reads it, so only windows of a minute or more count."""
    if limiter is None or limiter.period < BUDGET_MIN_PERIOD:
        return None, None
    return int(limiter.remaining), int(limiter.calls)


@runtime_checkable
class Paced(Protocol):
    """An adapter that paces its calls; ``limiter`` is None where no limit is known."""

    limiter: CallBudget | None


@runtime_checkable
class AuthReporting(Protocol):
    """An adapter that knows whether its credentials work right now."""

    auth_state: AuthState


@runtime_checkable
class PlatformNotes(Protocol):
    """An adapter that learns lasting facts about its platform (shown in its pane)."""

    notes: list[str]


@runtime_checkable
class DeviceListEditing(Protocol):
    """An adapter whose platform adds devices to, or removes them from, a campaign."""

    async def add_devices(self, campaign_id: str, device_ids: Sequence[str]) -> Any: ...

    async def remove_devices(self, campaign_id: str, device_ids: Sequence[str]) -> Any: ...


@runtime_checkable
class PlatformClock(Protocol):
    """An adapter that knows the platform's clock (from its ``Date`` headers)."""

    def platform_time(self) -> datetime | None:
        """The platform's time now, or None before any answer carried it."""
        ...


@runtime_checkable
class GroupMembers(Protocol):
    """An adapter whose platform targets device groups and can list their members."""

    async def group_members(self, group: str) -> list[str]:
        """The device ids of ``group``; ``ProviderNotFound`` if there is no such group."""
        ...


@runtime_checkable
class Incremental(Protocol):
    """An adapter that keeps what it knows between refreshes and reads only what can
    have changed, with a full read (a sweep) now and then."""

    @property
    def sweep(self) -> Sweep | None:
        """The last full read: when and why (None before the first)."""
        ...

    def request_full(self, reason: str = "asked") -> None:
        """Make the next refresh a full read."""
        ...


@runtime_checkable
class ProviderClient(Protocol):
    name: str
    kind: ProviderKind
    capabilities: Capabilities

    async def health(self) -> ProviderHealth:
        """Authenticate if needed and make one cheap call. Never raises."""
        ...

    def devices(self) -> AsyncIterator[Device]:
        """Every device the account can see (paging hidden)."""
        ...

    def upgrades(self) -> AsyncIterator[DeviceUpgrade]:
        """Per-device status in every campaign/task/command the platform reports."""
        ...

    async def campaigns(self) -> list[Campaign]:
        """Every campaign/task (or fota-tui grouping) with per-state counts."""
        ...

    async def campaign(self, campaign_id: str) -> CampaignDetail:
        """One campaign with its per-device records."""
        ...

    async def device_history(self, device_id: str) -> list[DeviceUpgrade]:
        """One device's upgrades across campaigns, newest first."""
        ...

    async def firmware(self) -> list[Firmware]:
        """Firmware images / packages available for campaigns."""
        ...

    def plan_campaign(self, spec: CampaignSpec) -> list[PlannedRequest]:
        """The exact requests ``create_campaign`` would send (no I/O)."""
        ...

    async def create_campaign(self, spec: CampaignSpec) -> list[Campaign]:
        """Send a validated spec. Some platforms need several jobs (e.g. >256 targets)."""
        ...

    async def cancel_campaign(self, campaign_id: str) -> Campaign:
        """Cancel (or abort) a campaign; raises ``ProviderUnsupported`` if impossible."""
        ...

    async def aclose(self) -> None: ...

"""The normalized domain: one vocabulary for upgrade state across every platform.

Every record keeps the platform's raw status and reason beside the normalized state,
and every timestamp is timezone-aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]


def utcnow() -> datetime:
    return datetime.now(UTC)


class ProviderKind(StrEnum):
    THINGSPACE = "thingspace"
    OCEANCONNECT = "oceanconnect"
    ONENET = "onenet"
    AOVX = "aovx"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    ProviderKind.THINGSPACE: "Verizon ThingSpace",
    ProviderKind.OCEANCONNECT: "Huawei OceanConnect",
    ProviderKind.ONENET: "China Mobile OneNET",
    ProviderKind.AOVX: "AOVX",
}


class UpgradeState(StrEnum):
    """Per-device upgrade state (one device in one campaign/task/command)."""

    PENDING = "pending"
    QUEUED = "queued"
    SENDING = "sending"
    DOWNLOADING = "downloading"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def active(self) -> bool:
        return self in ACTIVE_STATES


TERMINAL_STATES = frozenset(
    {UpgradeState.SUCCEEDED, UpgradeState.FAILED, UpgradeState.CANCELLED, UpgradeState.EXPIRED}
)
ACTIVE_STATES = frozenset(
    {
        UpgradeState.PENDING,
        UpgradeState.QUEUED,
        UpgradeState.SENDING,
        UpgradeState.DOWNLOADING,
        UpgradeState.IN_PROGRESS,
    }
)


class CampaignState(StrEnum):
    """Campaign/task/job state: the device words plus ``partial``."""

    PENDING = "pending"
    QUEUED = "queued"
    SENDING = "sending"
    DOWNLOADING = "downloading"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    PARTIAL = "partial"

    @property
    def terminal(self) -> bool:
        return self.value in {s.value for s in TERMINAL_STATES} or self is CampaignState.PARTIAL


def state_counts(states: Any) -> dict[UpgradeState, int]:
    """Count an iterable of ``UpgradeState`` into a dict with every state present."""
    counts = dict.fromkeys(UpgradeState, 0)
    for state in states:
        counts[state] += 1
    return counts


def campaign_state_from_counts(counts: dict[UpgradeState, int]) -> CampaignState:
    """Derive a campaign state from per-device counts (used where a platform gives none)."""
    total = sum(counts.values())
    if total == 0:
        return CampaignState.PENDING
    active = sum(counts.get(s, 0) for s in ACTIVE_STATES) + counts.get(UpgradeState.UNKNOWN, 0)
    ok = counts.get(UpgradeState.SUCCEEDED, 0)
    failed = counts.get(UpgradeState.FAILED, 0) + counts.get(UpgradeState.EXPIRED, 0)
    if active:
        started = total - counts.get(UpgradeState.PENDING, 0) - counts.get(UpgradeState.QUEUED, 0)
        if started:
            return CampaignState.IN_PROGRESS
        return CampaignState(
            UpgradeState.QUEUED if counts.get(UpgradeState.QUEUED) else UpgradeState.PENDING
        )
    if ok and failed:
        return CampaignState.PARTIAL
    if ok:
        return CampaignState.SUCCEEDED
    if failed:
        return (
            CampaignState.EXPIRED
            if counts.get(UpgradeState.EXPIRED) and not counts.get(UpgradeState.FAILED)
            else CampaignState.FAILED
        )
    return CampaignState.CANCELLED


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Device(_Record):
    """A device as the platform knows it."""

    provider: str  # the provider's name in the profile
    kind: ProviderKind
    device_id: str  # the platform's id (IMEI on ThingSpace/OneNET, deviceId, terminalId)
    imei: str | None = None
    name: str | None = None
    make: str | None = None
    model: str | None = None
    device_type: str | None = None
    firmware: str | None = None
    online: bool | None = None
    provider_status_raw: Any = None
    updated_at: UtcDatetime | None = None


class DeviceUpgrade(_Record):
    """One device in one campaign/task/command."""

    provider: str
    kind: ProviderKind
    device_id: str
    campaign_id: str | None = None
    state: UpgradeState
    provider_status_raw: Any = None
    provider_reason: str | None = None
    firmware_from: str | None = None
    firmware_to: str | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None


class Campaign(_Record):
    """A campaign, task, upgrade request or a grouping kept by fota-tui."""

    provider: str
    kind: ProviderKind
    campaign_id: str
    name: str | None = None
    state: CampaignState
    provider_status_raw: Any = None
    provider_reason: str | None = None
    firmware_name: str | None = None
    firmware_from: str | None = None
    firmware_to: str | None = None
    counts: dict[UpgradeState, int] = Field(default_factory=dict)
    total: int = 0
    created_at: UtcDatetime | None = None
    start_at: UtcDatetime | None = None
    end_at: UtcDatetime | None = None
    local: bool = False  # True when the platform has no such object and fota-tui groups it
    device_groups: tuple[str, ...] = ()  # the groups a task targets (OceanConnect)

    @property
    def active(self) -> bool:
        return not self.state.terminal


class CampaignDetail(_Record):
    campaign: Campaign
    devices: tuple[DeviceUpgrade, ...] = ()


class Firmware(_Record):
    """A firmware image or package the platform can deliver."""

    provider: str
    kind: ProviderKind
    firmware_id: str
    name: str
    version: str | None = None
    from_version: str | None = None
    make: str | None = None
    model: str | None = None
    device_type: str | None = None
    protocol: str | None = None
    url: str | None = None
    file_type: str | None = None
    released_at: UtcDatetime | None = None


class AuthState(StrEnum):
    UNKNOWN = "unknown"
    OK = "ok"
    FAILED = "failed"
    NOT_REQUIRED = "not_required"


class Sweep(_Record):
    """A full read of a provider whose refreshes are incremental."""

    at: UtcDatetime
    reason: str  # "first read", "every 15 min", "asked", or what did not match


class ProviderHealth(_Record):
    provider: str
    kind: ProviderKind
    ok: bool
    checked_at: UtcDatetime
    latency_ms: float | None = None
    auth: AuthState = AuthState.UNKNOWN
    message: str | None = None
    rate_limit_remaining: int | None = None
    rate_limit_total: int | None = None
    warnings: tuple[str, ...] = ()
    sweep: Sweep | None = None  # the last full read, where refreshes are incremental
    full_read: bool = True  # this refresh read everything


class Capabilities(_Record):
    """What a platform can and cannot do; the UI hides what is missing."""

    cancel_campaign: bool = True
    abort_campaign: bool = False  # stop after start
    add_remove_devices: bool = False
    returns_job_id: bool = True  # False: fota-tui keeps the grouping itself
    native_campaigns: bool = True  # False: campaigns are built by fota-tui
    device_groups: bool = False
    time_windows: bool = False
    device_list: bool = True
    max_targets_per_campaign: int | None = None
    rate_limit_per_minute: int | None = None
    local_time: tuple[int, str] | None = None  # (UTC offset in minutes, name) its times use
    campaign_names: bool = True  # False: the platform names campaigns itself; ours is kept locally
    lists_firmware_handle: bool = True  # False: a listed campaign names its package otherwise


class ExecuteType(StrEnum):
    NOW = "now"
    DEVICE_ONLINE = "device_online"
    CUSTOM = "custom"


class CampaignSpec(BaseModel):
    """What the operator asks for, before it is translated for one platform.

    ``firmware`` is the platform's handle: ThingSpace ``firmwareName``, OceanConnect
    ``fileId``, OneNET package URI, AOVX ``fileUrl``. ``options`` holds the few
    platform-only knobs (see each adapter's ``CAMPAIGN_OPTIONS``).
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    provider: str
    name: str | None = None
    firmware: str
    firmware_from: str | None = None
    firmware_to: str | None = None
    devices: list[str] = Field(default_factory=list)
    device_groups: list[str] = Field(default_factory=list)
    start_at: UtcDatetime | None = None
    end_at: UtcDatetime | None = None
    windows: list[tuple[int, int]] = Field(default_factory=list)  # UTC hours [start, end)
    execute_type: ExecuteType = ExecuteType.NOW
    retry_times: int | None = None
    options: dict[str, Any] = Field(default_factory=dict)

"""ThingSpace wire records → the domain: status tables (docs/platforms/thingspace.md) and pure converters.

Status words are compared after dropping case, spaces, ``_`` and ``-``, so ``Device Rejected``
and ``DeviceRejected`` or ``UpgradedFailed`` (sic) land on the same row. Unknown words map to
``unknown`` with the raw value kept. A device that is still active when its campaign has
ended is ``expired``; when its campaign was cancelled or aborted it is ``cancelled``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fota_tui.models import (
    ACTIVE_STATES,
    Campaign,
    CampaignState,
    Device,
    DeviceUpgrade,
    Firmware,
    ProviderKind,
    UpgradeState,
    campaign_state_from_counts,
    state_counts,
)
from fota_tui.providers.http import ClientOptions
from fota_tui.providers.thingspace.wire import (
    ChangeItem,
    V1Device,
    V1Firmware,
    V1History,
    V1Upgrade,
    V3Campaign,
    V3CampaignDevice,
    V3Firmware,
    V3History,
)

KIND = ProviderKind.THINGSPACE
U, C = UpgradeState, CampaignState

DEVICE_STATES: dict[str, UpgradeState] = {
    "requestpending": U.PENDING,  # v1 device, resultReason absent
    "deviceaccepted": U.QUEUED,
    "accepted": U.QUEUED,
    "adddevicesucceed": U.QUEUED,
    "devicerejected": U.FAILED,
    "nodevicedatafromnetwork": U.QUEUED,
    "receiveddevicedatafromnetwork": U.QUEUED,
    "upgradepending": U.QUEUED,
    "requesttofotaserverfailed": U.QUEUED,  # retried by the platform
    "upgradescheduled": U.SENDING,
    "upgradeinprogress": U.IN_PROGRESS,
    "upgradesuccess": U.SUCCEEDED,
    "upgradefailed": U.FAILED,
    "upgradedfailed": U.FAILED,  # documented typo
    "cancelled": U.CANCELLED,
    # The vendor's v1 upgrade status enum, when a platform reports it per device.
    "queued": U.QUEUED,
    "inprogress": U.IN_PROGRESS,
    "finished": U.SUCCEEDED,
    "requestfailed": U.FAILED,
    # The vendor's v3 campaign status enum (and the example-only words), per device.
    "campaignrequestpending": U.PENDING,
    "campaignrequestqueued": U.QUEUED,
    "campaignqueued": U.QUEUED,
    "campaignprescheduled": U.QUEUED,
    "campaignscheduled": U.QUEUED,
    "campaignended": U.EXPIRED,  # the campaign closed without a result for the device
    "campaignrequestfailed": U.FAILED,
    "campaignfailed": U.FAILED,
    "campaigncancelled": U.CANCELLED,
    "campaignaborted": U.CANCELLED,
}

FROM_COUNTS = None  # ended: succeeded / partial / failed from the device counts
V3_CAMPAIGN_STATES: dict[str, CampaignState | None] = {
    "campaignrequestpending": C.PENDING,
    "campaignrequestqueued": C.QUEUED,
    "campaignqueued": C.QUEUED,  # lifecycle doc spelling
    "campaignprescheduled": C.QUEUED,  # outside the SDK enum
    "campaignscheduled": C.IN_PROGRESS,
    "campaignended": FROM_COUNTS,
    "campaignrequestfailed": C.FAILED,
    "campaignfailed": C.FAILED,
    "campaigncancelled": C.CANCELLED,
    "campaignaborted": C.CANCELLED,
}
V1_UPGRADE_STATES: dict[str, CampaignState | None] = {
    "requestpending": C.PENDING,
    "queued": C.QUEUED,
    "inprogress": C.IN_PROGRESS,
    "finished": FROM_COUNTS,  # partial when some devices failed
    "requestfailed": C.FAILED,
    "upgradefailed": C.FAILED,
    "cancelled": C.CANCELLED,
}
# What happens to devices that are still active once the campaign is over.
_ACTIVE_BECOMES = {
    "campaignended": U.EXPIRED,
    "finished": U.EXPIRED,
    "upgradefailed": U.EXPIRED,
    "campaignrequestfailed": U.FAILED,
    "campaignfailed": U.FAILED,
    "requestfailed": U.FAILED,
    "campaigncancelled": U.CANCELLED,
    "campaignaborted": U.CANCELLED,
    "cancelled": U.CANCELLED,
}
_JUNK = re.compile(r"[\s_\-]+")


def status_key(raw: Any) -> str:
    return _JUNK.sub("", str(raw)).lower() if raw is not None else ""


def device_state(raw: Any, options: ClientOptions, campaign_status: Any = None) -> UpgradeState:
    base = DEVICE_STATES.get(status_key(raw), U.UNKNOWN) if isinstance(raw, str) else U.UNKNOWN
    state = options.map_status(raw, base)
    if state in ACTIVE_STATES:
        state = _ACTIVE_BECOMES.get(status_key(campaign_status), state)
    return state


def job_state(
    raw: Any,
    table: dict[str, CampaignState | None],
    counts: dict[UpgradeState, int],
    options: ClientOptions,
) -> CampaignState:
    override = options.status_map.get(str(raw).strip())
    if override:
        try:
            return CampaignState(override)
        except ValueError:
            pass
    key = status_key(raw) if isinstance(raw, str) else ""
    if key not in table:
        return C.UNKNOWN
    state = table[key]
    if state is not FROM_COUNTS:
        return state
    if not sum(counts.values()):
        return C.EXPIRED  # ended with no device left in it
    return campaign_state_from_counts(counts)


# -- times ----------------------------------------------------------------------
_GO_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{2})(\d{2})(?: [A-Za-z]+)?"
    r"(?: m=[+-][\d.]+)?$"
)


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (with/without ms, ``Z``), ``YYYY-MM-DD`` and Go's ``time.String()``
    (``2021-06-03 00:03:56.079 +0000 UTC``) → aware UTC; junk or Go's zero time → None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _GO_TIME.match(text)
    if match:
        d, t, frac, hh, mm = match.groups()
        text = f"{d}T{t}{(frac or '')[:7]}{hh}:{mm}"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.year <= 1:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is past year 9999 in UTC
        return None


# -- converters -------------------------------------------------------------------
def device(provider: str, w: V1Device) -> Device:
    flags = {
        k: v
        for k, v in (("fotaEligible", w.fotaEligible), ("licenseAssigned", w.licenseAssigned))
        if v is not None
    }
    return Device(
        provider=provider,
        kind=KIND,
        device_id=w.deviceId,
        imei=w.deviceId,
        make=w.make,
        model=w.model,
        firmware=w.firmware,
        provider_status_raw=flags or None,
        updated_at=parse_time(w.upgradeTime),
    )


def firmware_v1(provider: str, w: V1Firmware) -> Firmware:
    return Firmware(
        provider=provider,
        kind=KIND,
        firmware_id=w.firmwareName,
        name=w.firmwareName,
        version=w.toVersion,
        from_version=w.fromVersion,
        make=w.make,
        model=w.model,
        released_at=parse_time(w.launchDate),
    )


def firmware_v3(provider: str, w: V3Firmware) -> Firmware:
    return Firmware(
        provider=provider,
        kind=KIND,
        firmware_id=w.firmwareName,
        name=w.firmwareName,
        version=w.firmwareTo,
        from_version=w.firmwareFrom,
        make=w.make,
        model=w.model,
        protocol=w.protocol,
        released_at=parse_time(w.launchDate),
    )


def v3_upgrade(
    provider: str, c: V3Campaign, d: V3CampaignDevice, options: ClientOptions
) -> DeviceUpgrade:
    return DeviceUpgrade(
        provider=provider,
        kind=KIND,
        device_id=d.deviceId,
        campaign_id=c.id,
        state=device_state(d.status, options, c.status),
        provider_status_raw=d.status,
        provider_reason=d.resultReason,
        firmware_from=c.firmwareFrom,
        firmware_to=c.firmwareTo,
        created_at=parse_time(c.startDate),
        updated_at=parse_time(d.updatedTime),
    )


def v3_campaign(
    provider: str, c: V3Campaign, devices: list[DeviceUpgrade] | None, options: ClientOptions
) -> Campaign:
    """``devices`` None: counts unknown (e.g. straight after create)."""
    counts = state_counts(d.state for d in devices or [])
    return Campaign(
        provider=provider,
        kind=KIND,
        campaign_id=c.id,
        name=c.campaignName,
        state=job_state(c.status, V3_CAMPAIGN_STATES, counts, options),
        provider_status_raw=c.status,
        firmware_name=c.firmwareName,
        firmware_from=c.firmwareFrom,
        firmware_to=c.firmwareTo,
        counts=counts if devices is not None else {},
        total=len(devices or []),
        start_at=parse_time(c.startDate),
        end_at=parse_time(c.endDate),
    )


def v1_upgrades(provider: str, u: V1Upgrade, options: ClientOptions) -> list[DeviceUpgrade]:
    return [
        DeviceUpgrade(
            provider=provider,
            kind=KIND,
            device_id=d.deviceId,
            campaign_id=u.id,
            state=device_state(d.status, options, u.status),
            provider_status_raw=d.status,
            provider_reason=d.resultReason,
            firmware_to=u.firmwareTo,
            created_at=parse_time(u.startDate),
        )
        for d in u.deviceList
    ]


def v1_campaign(
    provider: str, u: V1Upgrade, devices: list[DeviceUpgrade], options: ClientOptions
) -> Campaign:
    counts = state_counts(d.state for d in devices)
    return Campaign(
        provider=provider,
        kind=KIND,
        campaign_id=u.id,
        state=job_state(u.status, V1_UPGRADE_STATES, counts, options),
        provider_status_raw=u.status,
        firmware_name=u.firmwareName,
        firmware_to=u.firmwareTo,
        counts=counts,
        total=len(devices),
        start_at=parse_time(u.startDate),
        end_at=parse_time(u.endDate),
    )


def v1_history(provider: str, h: V1History, options: ClientOptions) -> DeviceUpgrade:
    return DeviceUpgrade(
        provider=provider,
        kind=KIND,
        device_id=h.deviceId,
        campaign_id=h.id,
        state=device_state(h.status, options),
        provider_status_raw=h.status,
        provider_reason=h.reason,
        firmware_from=h.firmwareFrom,
        firmware_to=h.firmwareTo,
        created_at=parse_time(h.startDate),
        updated_at=parse_time(h.upgradeStartTime),
    )


def v3_history(provider: str, h: V3History, options: ClientOptions) -> DeviceUpgrade:
    return DeviceUpgrade(
        provider=provider,
        kind=KIND,
        device_id=h.deviceId,
        campaign_id=h.campaignId,
        state=device_state(h.status, options),
        provider_status_raw=h.status,
        provider_reason=h.reason,
        firmware_from=h.firmwareFrom,
        firmware_to=h.firmwareTo,
        created_at=parse_time(h.startDate),
        updated_at=parse_time(h.reportUpdatedTime),
    )


@dataclass(frozen=True)
class DeviceChange:
    """One device's answer to an add/remove request."""

    device_id: str
    ok: bool
    status: Any
    reason: str | None


def device_change(item: ChangeItem) -> DeviceChange:
    key = status_key(item.status)
    ok = key.endswith(("succeed", "succeeded", "success"))
    return DeviceChange(item.deviceId, ok, item.status, item.reason)


def newest_first(records: list[DeviceUpgrade]) -> list[DeviceUpgrade]:
    floor = datetime.min.replace(tzinfo=UTC)
    return sorted(records, key=lambda r: r.updated_at or r.created_at or floor, reverse=True)

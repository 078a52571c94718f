"""Operations on existing campaigns: cancel, add/remove devices, retry the failed devices.

Each checks the platform's ``Capabilities`` first and says plainly when the platform
cannot do it. Changes are added to the journal entry of the campaign when there is one,
so the audit trail covers what happened after the submission too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from fota_tui.errors import ProviderUnsupported, UsageError
from fota_tui.models import (
    Campaign,
    CampaignDetail,
    CampaignSpec,
    Firmware,
    ProviderKind,
    UpgradeState,
)
from fota_tui.providers.base import DeviceListEditing, ProviderClient
from fota_tui.providers.registry import PLATFORMS
from fota_tui.services.campaigns.journal import Journal

RETRY_STATES = frozenset({UpgradeState.FAILED, UpgradeState.EXPIRED})


def can_cancel(client: ProviderClient) -> bool:
    caps = client.capabilities
    return caps.cancel_campaign or caps.abort_campaign


def cancel_unsupported_reason(kind: ProviderKind) -> str:
    why = PLATFORMS[kind].no_cancel or "the platform has no cancel operation"
    return f"{kind.label} campaigns cannot be cancelled: {why}"


def _note(
    journal: Journal | None, client: ProviderClient, campaign_id: str, now: datetime, note: str
) -> None:
    if journal is None:
        return
    entry = journal.for_campaign(client.name, campaign_id)
    if entry is not None:
        journal.update(entry, now=now, note=f"{note} by {journal.user}")


async def cancel(
    client: ProviderClient, campaign_id: str, *, journal: Journal | None, now: datetime
) -> Campaign:
    """Cancel (before start) or abort (after, where the platform allows it)."""
    if not can_cancel(client):
        raise ProviderUnsupported(client.name, cancel_unsupported_reason(client.kind))
    detail = await client.campaign(campaign_id)
    if not detail.campaign.active:
        raise UsageError(
            f"campaign {campaign_id} is {detail.campaign.state.value}; there is nothing to cancel"
        )
    result = await client.cancel_campaign(campaign_id)
    _note(journal, client, campaign_id, now, f"cancelled ({result.state.value})")
    return result


def _device_method(client: ProviderClient, add: bool) -> Callable[..., Awaitable[Any]]:
    if not client.capabilities.add_remove_devices or not isinstance(client, DeviceListEditing):
        raise ProviderUnsupported(
            client.name,
            f"{client.kind.label} campaigns cannot change their devices after creation",
        )
    return client.add_devices if add else client.remove_devices


async def change_devices(
    client: ProviderClient,
    campaign_id: str,
    device_ids: Sequence[str],
    *,
    add: bool,
    journal: Journal | None,
    now: datetime,
) -> Any:
    """Add or remove devices (ThingSpace); returns what the adapter reports."""
    ids = [d.strip() for d in device_ids if d.strip()]
    if not ids:
        raise UsageError("no device ids given")
    method = _device_method(client, add)
    result = await method(campaign_id, ids)
    verb = "added" if add else "removed"
    _note(journal, client, campaign_id, now, f"{verb} {len(ids)} device(s)")
    return result


def failed_devices(detail: CampaignDetail) -> list[str]:
    return list(dict.fromkeys(d.device_id for d in detail.devices if d.state in RETRY_STATES))


def _firmware_handle(campaign: Campaign, catalogue: Sequence[Firmware]) -> str | None:
    for fw in catalogue:
        if campaign.firmware_name and campaign.firmware_name in (fw.name, fw.firmware_id):
            return fw.firmware_id
    for fw in catalogue:
        if campaign.firmware_to and fw.version == campaign.firmware_to:
            return fw.firmware_id
    return campaign.firmware_name


async def retry_failed_spec(
    client: ProviderClient, campaign_id: str, *, journal: Journal | None
) -> CampaignSpec:
    """A new spec for a campaign's failed (and expired) devices, to review in the wizard.

    Firmware and options come from the journal when fota-tui sent the campaign, else from
    the platform's campaign and firmware list. Times are left empty: choose new ones.
    """
    detail = await client.campaign(campaign_id)
    failed = failed_devices(detail)
    if not failed:
        raise UsageError(f"campaign {campaign_id} has no failed devices to retry")
    campaign = detail.campaign
    entry = journal.for_campaign(client.name, campaign_id) if journal else None
    label = campaign.name or campaign_id
    changes: dict[str, Any] = {
        "devices": failed,
        "device_groups": [],
        "name": f"Retry of {label}",
        "start_at": None,
        "end_at": None,
    }
    if entry is not None:
        base = entry.campaign_spec
    else:
        handle = _firmware_handle(campaign, await client.firmware())
        base = CampaignSpec(
            provider=client.name,
            firmware=handle or "",
            firmware_to=campaign.firmware_to,
        )
    return CampaignSpec.model_validate(base.model_copy(update=changes).model_dump())

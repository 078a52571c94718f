"""Did a create whose answer was lost reach the platform? Look, never guess.

Called when a create timed out, the connection dropped, the answer could not be read, or
an entry was left in ``sending`` by a crash. Matching per platform:

No platform timestamp is compared with our clock (the two may disagree by minutes):
candidates are the campaigns that were not listed before the send (``known_before``),
oldest first, matched by content.

- **thingspace** (v3 campaigns and v1 upgrades): campaigns that did not exist before the
  send (``known_before``), with the same firmware; a
  candidate matches when its name is the name we sent, or when its device list equals
  the submission's. fota-tui always sends a name carrying the submission id when the
  operator gives none, so v3 matches are by name; v1 upgrades have no name and match by
  device list.
- **oceanconnect** (tasks have no name): new tasks since the send whose subtask devices
  equal the submission's devices; a task over device groups matches when it is the only
  new task for the same package.
- **onenet** / **aovx** (no job ids; the journal keeps the grouping): the adapter's view
  of the submission's grouping. A device counts as reached when the platform reports a
  record for it (a cached command / an OTA report row) since the send, carrying the
  package. For AOVX (one request) a device without one was not reached. For OneNET (two
  requests per IMEI) the adapter cannot show a write whose answer was lost, so such
  devices are journaled as *unconfirmed* and held back from new sends (``submit.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from fota_tui.errors import ProviderNotFound
from fota_tui.models import Campaign, CampaignSpec
from fota_tui.providers.base import ProviderClient
from fota_tui.services.campaigns.journal import JournalEntry

MAX_DETAIL_READS = 20
NEVER = datetime.min.replace(tzinfo=UTC)  # candidates checked device by device


@dataclass(frozen=True)
class Found:
    """What the platform shows for a submission."""

    campaign_ids: list[str] = field(default_factory=list)
    reached: list[str] = field(default_factory=list)  # devices with a platform record
    missing: list[str] = field(default_factory=list)  # devices without one (local platforms)
    how: str = ""
    ambiguous: bool = False  # several candidates: neither found nor proven absent

    @property
    def found(self) -> bool:
        return bool(self.campaign_ids)


def is_local(client: ProviderClient) -> bool:
    return not client.capabilities.returns_job_id or not client.capabilities.native_campaigns


async def find_submission(client: ProviderClient, entry: JournalEntry) -> Found:
    """Search the platform for ``entry``; raises ``ProviderError`` if it cannot be read."""
    if is_local(client):
        return await _local(client, entry)
    return await _native(client, entry)


async def _native(client: ProviderClient, entry: JournalEntry) -> Found:
    spec = entry.campaign_spec
    known = set(entry.known_before)
    fresh = [c for c in await client.campaigns() if c.campaign_id not in known]
    fresh.sort(key=lambda c: (c.created_at is None, c.created_at or NEVER, c.campaign_id))
    if client.capabilities.campaign_names and entry.campaign_name:
        named = [
            c for c in fresh if c.name == entry.campaign_name and _same_firmware(client, c, spec)
        ]
        if len(named) == 1:
            return Found([named[0].campaign_id], list(spec.devices), how="by name")
    wanted = set(spec.devices)
    if wanted:
        for candidate in fresh[:MAX_DETAIL_READS]:
            if not _same_firmware(client, candidate, spec):
                continue
            try:
                detail = await client.campaign(candidate.campaign_id)
            except ProviderNotFound:
                continue
            if {d.device_id for d in detail.devices} == wanted:
                return Found([candidate.campaign_id], sorted(wanted), how="by device list")
        return Found(how="no new campaign with these devices")
    groups = set(spec.device_groups)
    same = [c for c in fresh if set(c.device_groups) == groups and _same_firmware(client, c, spec)]
    if len(same) == 1:
        return Found([same[0].campaign_id], how="the only new task on these device groups")
    if not same:
        return Found(how="no new task on these device groups")
    return Found(
        how=f"{len(same)} new tasks on these device groups; cannot tell which", ambiguous=True
    )


def _same_firmware(client: ProviderClient, campaign: Campaign, spec: CampaignSpec) -> bool:
    """Cheap pre-filter: a candidate whose firmware is visibly another one is skipped."""
    names = {campaign.firmware_name, campaign.firmware_to} - {None}
    if not names or not client.capabilities.lists_firmware_handle:
        return True  # nothing to compare: the devices decide
    wanted = {spec.firmware, spec.firmware_to} - {None}
    return bool(names & wanted)


async def _local(client: ProviderClient, entry: JournalEntry) -> Found:
    try:
        detail = await client.campaign(entry.group_id)
    except ProviderNotFound:
        return Found(missing=list(entry.device_ids), how="no record since the send")
    reached = sorted({d.device_id for d in detail.devices if d.provider_status_raw is not None})
    missing = [d for d in entry.device_ids if d not in set(reached)]
    if not reached:
        return Found(missing=missing, how="no record since the send")
    return Found([entry.group_id], reached, missing, how="records since the send")

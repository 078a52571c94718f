"""AOVX returns no job id, so fota-tui groups OTA report records into campaigns itself.

Per terminal, in this order (every step only looks at one terminal's records, so a
single device's history and a full scan assign the same ids):

1. **Local groups** (``LocalGroup`` from the campaign service, or sends this client made)
   claim, for each of their terminals, the record carrying their package whose
   ``sendTime`` is nearest their ``created_at`` (within a day; the server clock offset is
   tried too). Nearest pairs win first, each record goes to one group.
2. The rest are **de-duplicated**: a record re-sent for the same terminal, VERSION and URL
   within a minute is dropped in favour of the newer one.
3. The rest are **inferred batches** keyed by (VERSION, URL, sendTime to the second); see
   ``normalize.batch_id``. ``create_campaign`` derives its id the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fota_tui.models import (
    Campaign,
    CampaignDetail,
    DeviceUpgrade,
    UpgradeState,
    campaign_state_from_counts,
    state_counts,
)
from fota_tui.providers.aovx.normalize import KIND, Report, batch_id, file_name
from fota_tui.providers.base import LocalGroup

CLAIM_WINDOW = timedelta(days=1)
RESEND_WINDOW = timedelta(minutes=1)
NEVER = datetime.min.replace(tzinfo=UTC)
NOT_REPORTED = "not in the OTA report yet"


@dataclass(frozen=True)
class Assigned:
    report: Report
    campaign_id: str


def aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _carries(group: LocalGroup, report: Report) -> bool:
    """Does the record carry the group's package (URL first, then VERSION)?"""
    info = report.info
    if group.firmware and info.url:
        return group.firmware.strip() == info.url
    if group.firmware_to and info.version:
        return group.firmware_to.strip() == info.version
    return not (group.firmware or group.firmware_to)


def _claim(
    rows: Sequence[Report], groups: Sequence[LocalGroup], offset: timedelta
) -> dict[int, str]:
    pairs = []
    for gi, group in enumerate(groups):
        created = aware(group.created_at)
        for ri, row in enumerate(rows):
            if row.sent_at is None or not _carries(group, row):
                continue
            gap = min(abs(row.sent_at - created), abs(row.sent_at - (created + offset)))
            if gap <= CLAIM_WINDOW:
                pairs.append((gap, gi, ri))
    pairs.sort()
    claimed: dict[int, str] = {}
    used: set[int] = set()
    for _, gi, ri in pairs:
        if gi not in used and ri not in claimed:
            used.add(gi)
            claimed[ri] = groups[gi].campaign_id
    return claimed


def _dedupe(rows: Sequence[Report]) -> list[Report]:
    """Drop a record when the same package was re-sent to the terminal within a minute."""
    kept = []
    for i, row in enumerate(rows):
        later = next((r for r in rows[i + 1 :] if r.firmware_key == row.firmware_key), None)
        if (
            later is not None
            and row.sent_at is not None
            and later.sent_at is not None
            and later.sent_at - row.sent_at <= RESEND_WINDOW
        ):
            continue
        kept.append(row)
    return kept


def assign(
    reports: Iterable[Report],
    groups: Sequence[LocalGroup] = (),
    *,
    offset: timedelta = timedelta(0),
) -> list[Assigned]:
    """Give every (de-duplicated) record its campaign id. Deterministic."""
    by_terminal: dict[str, list[Report]] = defaultdict(list)
    for row in reports:
        by_terminal[row.terminal_id].append(row)
    members: dict[str, list[LocalGroup]] = defaultdict(list)
    for group in groups:
        for terminal_id in dict.fromkeys(group.device_ids):
            members[terminal_id].append(group)
    out: list[Assigned] = []
    for terminal_id, rows in by_terminal.items():
        rows.sort(key=lambda r: (r.sent_at or NEVER, r.mark or ""))
        claimed = _claim(rows, members.get(terminal_id, ()), offset)
        out.extend(Assigned(rows[i], cid) for i, cid in sorted(claimed.items()))
        rest = [r for i, r in enumerate(rows) if i not in claimed]
        out.extend(Assigned(r, batch_id(*r.firmware_key, r.sent_at)) for r in _dedupe(rest))
    return out


def upgrade(provider: str, row: Report, campaign_id: str | None) -> DeviceUpgrade:
    return DeviceUpgrade(
        provider=provider,
        kind=KIND,
        device_id=row.terminal_id,
        campaign_id=campaign_id,
        state=row.state,
        provider_status_raw=row.status_raw,
        provider_reason=row.reason,
        firmware_to=row.info.version,
        created_at=row.sent_at,
        updated_at=row.changed_at or row.sent_at,
    )


def default_name(version: str | None, url: str | None, created: datetime | None) -> str:
    what = version or (file_name(url) if url else None) or "OTA"
    when = f" {created.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z" if created else ""
    return f"{what} sent{when}"


def details(
    provider: str, assigned: Iterable[Assigned], groups: Sequence[LocalGroup] = ()
) -> list[CampaignDetail]:
    """Campaigns (newest first) with their per-device records."""
    buckets: dict[str, list[Report]] = {g.campaign_id: [] for g in groups}
    for item in assigned:
        buckets.setdefault(item.campaign_id, []).append(item.report)
    by_id = {g.campaign_id: g for g in groups}
    out = []
    for campaign_id, rows in buckets.items():
        group = by_id.get(campaign_id)
        devices = [upgrade(provider, r, campaign_id) for r in rows]
        if group is not None:
            seen = {r.terminal_id for r in rows}
            devices += [
                DeviceUpgrade(
                    provider=provider,
                    kind=KIND,
                    device_id=d,
                    campaign_id=campaign_id,
                    state=UpgradeState.PENDING,
                    provider_reason=NOT_REPORTED,
                    firmware_to=group.firmware_to,
                    created_at=aware(group.created_at),
                )
                for d in dict.fromkeys(group.device_ids)
                if d not in seen
            ]
        out.append(
            CampaignDetail(
                campaign=_campaign(provider, campaign_id, rows, devices, group),
                devices=tuple(devices),
            )
        )
    out.sort(key=lambda d: (d.campaign.created_at or NEVER, d.campaign.campaign_id), reverse=True)
    return out


def _campaign(
    provider: str,
    campaign_id: str,
    rows: Sequence[Report],
    devices: Sequence[DeviceUpgrade],
    group: LocalGroup | None,
) -> Campaign:
    sent = [r.sent_at for r in rows if r.sent_at is not None]
    first = min(rows, key=lambda r: (r.sent_at or NEVER, r.mark or ""), default=None)
    version = (group.firmware_to if group else None) or (first.info.version if first else None)
    url = (group.firmware if group else None) or (first.info.url if first else None)
    created = aware(group.created_at) if group else (min(sent) if sent else None)
    counts = state_counts(d.state for d in devices)
    return Campaign(
        provider=provider,
        kind=KIND,
        campaign_id=campaign_id,
        name=(group.name if group else None) or default_name(version, url, created),
        state=campaign_state_from_counts(counts),
        firmware_name=file_name(url) if url else None,
        firmware_to=version,
        counts=counts,
        total=len(devices),
        created_at=created,
        start_at=created,
        local=True,
    )

"""Campaigns on OneNET, which has none: fota-tui's LocalGroups, else inferred batches.

A group claims the upgrades whose command uuids it recorded (``job_refs``), or, when it
recorded none, each of its devices' upgrade created closest to the group's creation.
Every other upgrade is batched by ``expired_time`` (the one time the console always sends
itself, identical for every device of a campaign) and by creation time: a batch ends at
a gap longer than ``gap``. A batch id names its first creation time and its expiry, both
in the platform's Beijing clock, so the same commands always give the same id:
``cmd-20261122160000-20261129160000``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fota_tui.models import (
    Campaign,
    CampaignState,
    DeviceUpgrade,
    ProviderKind,
    campaign_state_from_counts,
    state_counts,
)
from fota_tui.providers.base import LocalGroup
from fota_tui.providers.onenet.normalize import FotaPair
from fota_tui.providers.onenet.wire import BEIJING

PREFIX = "cmd-"
_STAMP = "%Y%m%d%H%M%S"
GROUP_SLACK = timedelta(minutes=10)  # a group's commands are created right after it


@dataclass(frozen=True)
class Batch:
    campaign_id: str
    name: str
    members: tuple[int, ...]  # indexes into the pairs list
    group: LocalGroup | None = None


def batch_id(first_created: datetime, expired: datetime | None) -> str:
    end = expired.astimezone(BEIJING).strftime(_STAMP) if expired else "none"
    return f"{PREFIX}{first_created.astimezone(BEIJING).strftime(_STAMP)}-{end}"


def parse_batch_id(campaign_id: str) -> tuple[datetime, datetime | None] | None:
    """(first creation, expiry) in UTC from an inferred batch id; None if not one."""
    if not campaign_id.startswith(PREFIX):
        return None
    first, _, end = campaign_id[len(PREFIX) :].partition("-")
    try:
        start = datetime.strptime(first, _STAMP).replace(tzinfo=BEIJING).astimezone(UTC)
        expiry = (
            None
            if end == "none"
            else datetime.strptime(end, _STAMP).replace(tzinfo=BEIJING).astimezone(UTC)
        )
    except ValueError:
        return None
    return start, expiry


def _claim_by_groups(pairs: Sequence[FotaPair], groups: Sequence[LocalGroup]) -> dict[int, int]:
    """pair index → group index."""
    claimed: dict[int, int] = {}
    by_uuid = {uuid: i for i, p in enumerate(pairs) for uuid in p.uuids}
    for g, group in enumerate(groups):
        for ref in group.job_refs:
            i = by_uuid.get(ref.strip())
            if i is not None:
                claimed.setdefault(i, g)
    for g, group in enumerate(groups):
        if group.job_refs:
            continue
        created = group.created_at
        for imei in group.device_ids:
            best: tuple[timedelta, int] | None = None
            for i, pair in enumerate(pairs):
                if i in claimed or pair.imei != imei or pair.created_at is None:
                    continue
                delta = pair.created_at - created
                if -GROUP_SLACK <= delta <= GROUP_SLACK and (best is None or abs(delta) < best[0]):
                    best = (abs(delta), i)
            if best is not None:
                claimed[best[1]] = g
    return claimed


def assign(
    pairs: Sequence[FotaPair],
    groups: Sequence[LocalGroup] = (),
    gap: timedelta = timedelta(seconds=60),
) -> list[Batch]:
    """Every pair in exactly one batch; deterministic for the same pairs and groups."""
    claimed = _claim_by_groups(pairs, groups)
    batches = [
        Batch(
            group.campaign_id,
            group.name or group.campaign_id,
            tuple(i for i, g2 in sorted(claimed.items()) if g2 == g),
            group,
        )
        for g, group in enumerate(groups)
    ]
    by_expiry: dict[datetime | None, list[tuple[datetime, str, int]]] = {}
    for i, pair in enumerate(pairs):
        if i not in claimed and pair.created_at is not None:
            key = (pair.created_at, pair.imei, i)
            by_expiry.setdefault(pair.write.expired_time, []).append(key)
    for expiry, members in by_expiry.items():
        run: list[int] = []
        last: datetime | None = None
        for created, _, i in sorted(members):
            if run and last is not None and created - last > gap:
                batches.append(_inferred(pairs, run, expiry))
                run = []
            run.append(i)
            last = created
        if run:
            batches.append(_inferred(pairs, run, expiry))
    return batches


def _inferred(pairs: Sequence[FotaPair], run: list[int], expiry: datetime | None) -> Batch:
    first = pairs[run[0]].created_at
    assert first is not None
    label = first.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    return Batch(batch_id(first, expiry), f"Cached commands {label}", tuple(run))


def campaign_of(
    provider: str,
    batch: Batch,
    pairs: Sequence[FotaPair],
    upgrades: Sequence[DeviceUpgrade],
) -> Campaign:
    """A Campaign (local) from a batch and its members' normalized upgrades."""
    members = [pairs[i] for i in batch.members]
    counts = state_counts(u.state for u in upgrades)
    group = batch.group
    created = [p.created_at for p in members if p.created_at] or (
        [group.created_at] if group else []
    )
    valid = [p.write.valid_time for p in members if p.write.valid_time]
    expiry = [p.write.expired_time for p in members if p.write.expired_time]
    if upgrades:
        state = campaign_state_from_counts(counts)
        reason = None
    else:
        state, reason = CampaignState.UNKNOWN, "no cached commands found for this campaign"
    return Campaign(
        provider=provider,
        kind=ProviderKind.ONENET,
        campaign_id=batch.campaign_id,
        name=batch.name,
        state=state,
        provider_status_raw={"commands": sum(len(p.uuids) for p in members)},
        provider_reason=reason,
        firmware_name=group.firmware if group else None,
        firmware_to=group.firmware_to if group else None,
        counts=counts,
        total=len(upgrades) or (len(group.device_ids) if group else 0),
        created_at=min(created) if created else None,
        start_at=min(valid) if valid else None,
        end_at=max(expiry) if expiry else None,
        local=True,
    )

"""The dry run: every rule, per-device eligibility and the exact requests, before sending.

``build_preview`` reads the platform (firmware list, devices, current upgrades), never
writes to it. The resulting ``Preview`` is what ``submit`` sends: only eligible devices,
split into several jobs where the platform caps a job and the split was accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fota_tui.errors import FotaError, ProviderError, ProviderNotFound
from fota_tui.models import CampaignSpec, Device, DeviceUpgrade, Firmware, ProviderKind
from fota_tui.providers.base import GroupMembers, PlannedRequest, ProviderClient
from fota_tui.providers.registry import PLATFORMS
from fota_tui.providers.rules import RuleContext, find_firmware, too_many_targets
from fota_tui.services.campaigns.eligibility import DeviceEligibility, check_eligibility
from fota_tui.services.campaigns.journal import new_submission_id
from fota_tui.services.campaigns.masking import mask_request
from fota_tui.services.campaigns.problems import Problem, problem, spec_field
from fota_tui.services.campaigns.rules import check_rules

NAME_PREFIX = "fota-tui"


@dataclass(frozen=True)
class Preview:
    """What would happen: problems, per-device eligibility, and the jobs and requests.

    ``ok`` means ``submit`` may send it: no problem and at least one job. ``parts`` are
    the specs actually sent (eligible devices only, one per platform job); ``requests``
    are their HTTP requests with secrets masked. ``batch_id`` is the submission's
    idempotency key: submitting the same preview twice sends nothing the second time.
    """

    provider: str
    kind: ProviderKind
    spec: CampaignSpec
    batch_id: str
    now: datetime
    problems: tuple[Problem, ...] = ()
    devices: tuple[DeviceEligibility, ...] = ()
    parts: tuple[CampaignSpec, ...] = ()
    requests: tuple[tuple[PlannedRequest, ...], ...] = ()  # per part
    firmware: Firmware | None = None
    warnings: tuple[str, ...] = ()
    group_members: tuple[str, ...] = ()  # the devices the device groups reach
    split: bool = False  # whether splitting into several jobs was accepted
    max_per_job: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.parts)

    @property
    def eligible(self) -> list[DeviceEligibility]:
        return [d for d in self.devices if d.eligible]

    @property
    def ineligible(self) -> list[DeviceEligibility]:
        return [d for d in self.devices if not d.eligible]

    @property
    def all_requests(self) -> list[PlannedRequest]:
        return [r for part in self.requests for r in part]

    def already_checked_at(self, now: datetime) -> bool:
        """Whether the preview's own checks are as good as new at ``now``."""
        return now <= self.now

    def problems_for(self, field_name: str) -> list[Problem]:
        """Problems of one field (``devices`` matches ``devices[3]`` too)."""
        return [
            p
            for p in self.problems
            if p.field == field_name or p.field.startswith((f"{field_name}[", f"{field_name}."))
        ]


@dataclass
class _Reads:
    firmware: list[Firmware] | None = None
    devices: list[Device] = field(default_factory=list)
    upgrades: list[DeviceUpgrade] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


async def _read(client: ProviderClient, spec: CampaignSpec, need_devices: bool) -> _Reads:
    reads = _Reads()

    async def firmware() -> None:
        try:
            reads.firmware = await client.firmware()
        except ProviderError as exc:
            reads.warnings.append(
                f"could not read the firmware list ({exc.title}: {exc.message}); "
                "the firmware was not checked against it"
            )

    async def devices() -> None:
        reads.devices = [d async for d in client.devices()]

    async def upgrades() -> None:
        reads.upgrades = [u async for u in client.upgrades()]

    await firmware()
    if need_devices:
        try:
            await asyncio.gather(devices(), upgrades())
        except ProviderError as exc:
            reads.problems.append(
                problem(
                    "devices",
                    "eligibility.unavailable",
                    f"cannot check the devices against {client.kind.label} "
                    f"({exc.title}: {exc.message}); nothing is sent until they can be checked",
                )
            )
    return reads


async def _group_members(
    client: GroupMembers, groups: Sequence[str]
) -> tuple[dict[str, list[str]], list[Problem]]:
    """Each group's member devices (a group task reaches all of them)."""
    members: dict[str, list[str]] = {}
    problems = []
    for group in dict.fromkeys(groups):
        try:
            members[group] = await client.group_members(group)
        except ProviderNotFound:
            problems.append(
                problem("device_groups", "eligibility.unknown_group", f"no device group {group!r}")
            )
        except ProviderError as exc:
            problems.append(
                problem(
                    "device_groups",
                    "eligibility.unavailable",
                    f"cannot list the devices of group {group!r} ({exc.title}: {exc.message});"
                    " nothing is sent until they can be checked",
                )
            )
    return members, problems


def _busy_members(
    members: Mapping[str, Sequence[str]],
    upgrades: Sequence[DeviceUpgrade],
    held: Mapping[str, str],
) -> list[Problem]:
    """A group whose members are already being upgraded (or held back) would give them a
    second upgrade: refused, naming the members."""
    active = {u.device_id for u in upgrades if u.state.active} | set(held)
    out = []
    for group, ids in members.items():
        busy = [d for d in ids if d in active]
        if busy:
            shown = ", ".join(busy[:5]) + (f" and {len(busy) - 5} more" if len(busy) > 5 else "")
            out.append(
                problem(
                    "device_groups",
                    "eligibility.group_members_busy",
                    f"group {group!r}: {len(busy)} of its {len(ids)} devices are already in an"
                    f" active campaign or held back ({shown}); target the others by id, or wait",
                )
            )
    return out


async def _busy_groups(client: ProviderClient, groups: Sequence[str]) -> list[Problem]:
    """A device group that an active task already targets cannot take a second one (the
    platform would start another task on the same devices)."""
    try:
        campaigns = await client.campaigns()
    except ProviderError as exc:
        return [
            problem(
                "device_groups",
                "eligibility.unavailable",
                f"cannot check the device groups' active tasks on {client.kind.label}"
                f" ({exc.title}: {exc.message}); nothing is sent until they can be checked",
            )
        ]
    out = []
    for group in dict.fromkeys(groups):
        busy = sorted(c.campaign_id for c in campaigns if c.active and group in c.device_groups)
        if busy:
            out.append(
                problem(
                    "device_groups",
                    "eligibility.group_in_active_campaign",
                    f"group {group!r} is already in active task {', '.join(busy)}",
                )
            )
    return out


def campaign_name(spec: CampaignSpec, batch_id: str, part: int = 1, parts: int = 1) -> str:
    """The name sent: the operator's, or one carrying the submission id (for matching)."""
    name = spec.name or f"{NAME_PREFIX} {batch_id}"
    return f"{name} ({part}/{parts})" if parts > 1 else name


async def build_preview(
    client: ProviderClient,
    spec: CampaignSpec,
    *,
    now: datetime,
    split: bool = False,
    batch_id: str | None = None,
    held: Mapping[str, str] | None = None,
) -> Preview:
    """Check ``spec`` against ``client``'s platform without changing anything.

    ``held`` (from ``Journal.held_devices``) lists devices an earlier, unconfirmed send
    may have reached; they are left out like devices in an active campaign.
    """
    kind = client.kind
    batch_id = batch_id or new_submission_id()
    problems: list[Problem] = []
    if spec.provider != client.name:
        problems.append(
            problem(
                "provider",
                "common.provider",
                f"the spec is for provider {spec.provider!r} but this is {client.name!r}",
            )
        )
    reads = await _read(client, spec, need_devices=bool(spec.devices or spec.device_groups))
    ctx = RuleContext(now=now, firmware=reads.firmware, label=kind.label)
    problems += [p for p in check_rules(kind, spec, ctx) if not too_many_targets(p)]
    problems += reads.problems
    firmware = find_firmware(reads.firmware, spec.firmware)

    members: dict[str, list[str]] = {}
    if spec.device_groups:
        problems += await _busy_groups(client, spec.device_groups)
        if isinstance(client, GroupMembers) and not reads.problems:
            members, found = await _group_members(client, spec.device_groups)
            problems += found + _busy_members(members, reads.upgrades, held or {})
    devices: list[DeviceEligibility] = []
    if spec.devices and not reads.problems:
        devices = check_eligibility(spec, reads.devices, reads.upgrades, firmware, held)
    eligible = [d.device_id for d in devices if d.eligible]
    if spec.devices and devices and not eligible:
        problems.append(
            problem(
                "devices",
                "eligibility.none_eligible",
                f"none of the {len(devices)} devices is eligible on {kind.label}; "
                "see the per-device reasons",
            )
        )

    cap = client.capabilities.max_targets_per_campaign
    chunks: list[list[str]] = [eligible] if spec.devices else [[]]
    if spec.devices and cap and len(eligible) > cap:
        if split:
            chunks = [eligible[i : i + cap] for i in range(0, len(eligible), cap)]
        else:
            capped = spec.model_copy(update={"devices": eligible})
            problems += [p for p in check_rules(kind, capped, ctx) if too_many_targets(p)]
            if not any(too_many_targets(p) for p in problems):
                problems.append(
                    problem(
                        "devices",
                        f"{kind.value}.max_targets",
                        f"{kind.label} accepts at most {cap} devices per job "
                        f"(got {len(eligible)}); accept the split or shorten the list",
                    )
                )

    parts: list[CampaignSpec] = []
    requests: list[tuple[PlannedRequest, ...]] = []
    warnings = list(reads.warnings)
    if eligible or spec.device_groups:
        for index, chunk in enumerate(chunks, 1):
            part = spec.model_copy(
                update={
                    "devices": chunk,
                    "name": campaign_name(spec, batch_id, index, len(chunks)),
                }
            )
            part = CampaignSpec.model_validate(part.model_dump())
            parts.append(part)
    if not problems:
        for part in parts:
            try:
                planned = client.plan_campaign(part)
            except FotaError as exc:
                where = spec_field(getattr(exc, "field", None)) or "spec"
                problems.append(problem(where, "adapter", f"{kind.label}: {exc.message}"))
                break
            requests.append(tuple(mask_request(r) for r in planned))
        if len(parts) > 1:
            warnings.append(
                f"{len(eligible)} devices are split into {len(parts)} {kind.label} jobs "
                f"of at most {cap}"
            )
    warnings += _platform_notes(kind, spec)
    if devices and len(eligible) < len(devices) and eligible:
        warnings.append(
            f"{len(devices) - len(eligible)} of {len(devices)} devices are not eligible "
            "and are left out"
        )
    warnings += [f"device group {g!r}: {len(ids)} devices" for g, ids in members.items()]
    return Preview(
        provider=client.name,
        kind=kind,
        spec=spec,
        batch_id=batch_id,
        now=now,
        group_members=tuple(dict.fromkeys(d for ids in members.values() for d in ids)),
        problems=tuple(problems),
        devices=tuple(devices),
        parts=tuple(parts) if not problems else (),
        requests=tuple(requests) if not problems else (),
        firmware=firmware,
        warnings=tuple(warnings),
        split=split,
        max_per_job=cap,
    )


def _platform_notes(kind: ProviderKind, spec: CampaignSpec) -> list[str]:
    platform = PLATFORMS[kind]
    notes = platform.notes(spec) if platform.notes is not None else []
    if spec.device_groups:
        notes.append(
            "the devices of the groups are resolved by the platform; they are not checked"
            " one by one here"
        )
    return notes

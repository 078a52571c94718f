"""The provider contract as plain async checks, shared by the in-process suite
(``test_contract.py``) and the loopback run (``test_loopback_contract.py``).

Each check takes a ``Subject``: a way to build a client for one provider config, plus what
the check needs to know about the platform behind it (the simulator's truth when there is
one, the secret values that must never show). Only ``ProviderError`` subclasses may leave
an adapter; ``boundary`` turns anything else into a test failure that names the leak.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pytest

from fota_tui.config.schema import ProviderConfigBase
from fota_tui.errors import ProviderError, ProviderUnsupported
from fota_tui.models import (
    Campaign,
    CampaignDetail,
    CampaignSpec,
    CampaignState,
    Device,
    DeviceUpgrade,
    Firmware,
    ProviderKind,
    UpgradeState,
    state_counts,
    utcnow,
)
from fota_tui.providers.base import LocalGroup, PlannedRequest, ProviderClient

T = TypeVar("T")
_IMEI = re.compile(r"^\d{15}$")


class MemoryGroups:
    """A ``GroupSource`` in memory: what the campaign service would have recorded."""

    def __init__(self) -> None:
        self.items: list[LocalGroup] = []

    def record(self, group: LocalGroup) -> None:
        self.items.append(group)

    def groups(self, provider: str) -> list[LocalGroup]:
        return [g for g in self.items if g.provider == provider]


@dataclass
class Subject:
    """One provider under test."""

    cfg: ProviderConfigBase
    make_client: Callable[[], ProviderClient]
    device_count: int | None = None  # the platform's truth, when known
    secrets: frozenset[str] = frozenset()
    groups: MemoryGroups = field(default_factory=MemoryGroups)
    created: list[str] = field(default_factory=list)

    @property
    def kind(self) -> ProviderKind:
        return self.cfg.kind


def secret_values(cfg: ProviderConfigBase) -> frozenset[str]:
    """The plaintext secrets of a config, and the MD5 an AOVX login sends for a password."""
    values = {getattr(cfg, name) for name in cfg.secret_fields}
    values.discard(None)
    digests = {hashlib.md5(v.encode()).hexdigest() for v in values}
    return frozenset(values | digests)


async def boundary(call: Awaitable[T]) -> T:
    """Await an adapter call; anything but a ``ProviderError`` is a contract breach."""
    try:
        return await call
    except ProviderError:
        raise
    except Exception as exc:  # the breach itself, reported with its type
        pytest.fail(f"{type(exc).__name__} crossed the provider boundary: {exc!r}")


async def collect(items: Any) -> list[Any]:
    async def run() -> list[Any]:
        return [item async for item in items]

    return await boundary(run())


def _aware_utc(when: datetime | None, what: str) -> None:
    if when is not None:
        assert when.tzinfo is not None, f"{what} is naive: {when!r}"
        assert when.utcoffset() == timedelta(0), f"{what} is not UTC: {when!r}"


# -- reads --------------------------------------------------------------------------------


async def check_health(subject: Subject, client: ProviderClient) -> None:
    health = await boundary(client.health())
    assert health.ok, health.message
    assert (health.provider, health.kind) == (subject.cfg.name, subject.kind)
    _aware_utc(health.checked_at, "health.checked_at")


async def check_devices(subject: Subject, client: ProviderClient) -> list[Device]:
    devices = await collect(client.devices())
    assert devices, "no devices listed"
    assert all(isinstance(d, Device) for d in devices)
    assert {(d.provider, d.kind) for d in devices} == {(subject.cfg.name, subject.kind)}
    ids = [d.device_id for d in devices]
    duplicated = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicated, f"device ids listed twice: {duplicated[:5]}"
    if subject.device_count is not None:
        assert len(devices) == subject.device_count
    for d in devices:
        _aware_utc(d.updated_at, f"device {d.device_id} updated_at")
    return devices


async def check_upgrades(subject: Subject, client: ProviderClient) -> list[DeviceUpgrade]:
    upgrades = await collect(client.upgrades())
    assert upgrades, "no upgrades listed (the simulator seeds campaigns on every platform)"
    for u in upgrades:
        assert isinstance(u, DeviceUpgrade)
        assert (u.provider, u.kind) == (subject.cfg.name, subject.kind)
        assert isinstance(u.state, UpgradeState)
        assert u.provider_status_raw is not None, f"raw status dropped: {u!r}"
        _aware_utc(u.created_at, "upgrade created_at")
        _aware_utc(u.updated_at, "upgrade updated_at")
    return upgrades


def check_counts(campaign: Campaign) -> None:
    assert isinstance(campaign.state, CampaignState)
    assert all(isinstance(s, UpgradeState) for s in campaign.counts)
    assert all(n >= 0 for n in campaign.counts.values())
    assert sum(campaign.counts.values()) == campaign.total, (
        f"{campaign.campaign_id}: counts {dict(campaign.counts)} do not add up to {campaign.total}"
    )


async def check_campaigns(subject: Subject, client: ProviderClient) -> list[Campaign]:
    campaigns = await boundary(client.campaigns())
    assert campaigns, "no campaigns listed"
    ids = [c.campaign_id for c in campaigns]
    assert len(ids) == len(set(ids)), "campaign ids listed twice"
    for c in campaigns:
        assert (c.provider, c.kind) == (subject.cfg.name, subject.kind)
        check_counts(c)
        for when in (c.created_at, c.start_at, c.end_at):
            _aware_utc(when, f"campaign {c.campaign_id} time")
    return campaigns


def busiest(campaigns: Iterable[Campaign]) -> Campaign:
    """The campaign with the most devices (a stable choice with records to compare)."""
    return max(campaigns, key=lambda c: (c.total, c.campaign_id))


async def check_campaign_detail(subject: Subject, client: ProviderClient) -> CampaignDetail:
    listed = busiest(await boundary(client.campaigns()))
    detail = await boundary(client.campaign(listed.campaign_id))
    assert isinstance(detail, CampaignDetail)
    assert detail.campaign.campaign_id == listed.campaign_id
    assert (detail.campaign.provider, detail.campaign.kind) == (subject.cfg.name, subject.kind)
    check_counts(detail.campaign)
    assert detail.devices, f"campaign {listed.campaign_id} has no device records"
    assert len(detail.devices) == detail.campaign.total
    assert {u.campaign_id for u in detail.devices} == {listed.campaign_id}
    counted = {s: n for s, n in state_counts(u.state for u in detail.devices).items() if n}
    assert counted == {s: n for s, n in detail.campaign.counts.items() if n}
    return detail


async def check_device_history(subject: Subject, client: ProviderClient) -> None:
    detail = await check_campaign_detail(subject, client)
    device = detail.devices[0].device_id
    history = await boundary(client.device_history(device))
    assert all(isinstance(u, DeviceUpgrade) and u.device_id == device for u in history)
    assert detail.campaign.campaign_id in {u.campaign_id for u in history}, (
        f"history of {device} misses campaign {detail.campaign.campaign_id}: "
        f"{[u.campaign_id for u in history]}"
    )


async def check_firmware(subject: Subject, client: ProviderClient) -> list[Firmware]:
    """A catalogue where the platform has one; where campaigns are fota-tui's own
    (``native_campaigns`` False), the packages of the recorded groups are listed too."""
    recorded = None
    if not client.capabilities.native_campaigns:
        recorded = LocalGroup(
            campaign_id="contract-group",
            provider=subject.cfg.name,
            created_at=utcnow() - timedelta(hours=1),
            device_ids=(),
            firmware="http://fw.example.com/contract/recorded-1.2.3.bin",
            firmware_to="1.2.3",
        )
        subject.groups.record(recorded)
    images = await boundary(client.firmware())
    assert images, "no firmware listed"
    if recorded is not None:
        assert recorded.firmware in {f.firmware_id for f in images}
    assert {(f.provider, f.kind) for f in images} == {(subject.cfg.name, subject.kind)}
    ids = [f.firmware_id for f in images]
    assert len(ids) == len(set(ids)), "firmware listed twice"
    return images


# -- writes -------------------------------------------------------------------------------


async def campaign_spec(subject: Subject, client: ProviderClient, name: str) -> CampaignSpec:
    """A spec this platform accepts, built from what the adapter lists: an image and a few
    devices of the image's model (or any devices when the image names no model)."""
    devices = await collect(client.devices())
    images = await boundary(client.firmware())
    start = utcnow() + timedelta(days=2)  # not started yet: cancellable where supported
    if subject.kind is ProviderKind.ONENET:
        # No package catalogue on OneNET: the package URI is the operator's.
        targets = [d.device_id for d in devices if _IMEI.match(d.device_id)][:3]
        return CampaignSpec(
            provider=subject.cfg.name,
            name=name,
            firmware="coap://fw.example.com/contract/pkg-2.0.0.bin",
            firmware_to="2.0.0",
            devices=targets,
            start_at=start,
            end_at=start + timedelta(days=5),
        )

    def fits(image: Firmware) -> list[str]:
        return [d.device_id for d in devices if image.model is None or d.model == image.model]

    def preference(image: Firmware) -> tuple[bool, bool, bool, str]:
        # A firmware package (the default task type), for devices of its model.
        firmware_type = not (image.file_type or "").lower().startswith("software")
        return bool(fits(image)), firmware_type, image.protocol == "LWM2M", image.firmware_id

    image = max(images, key=preference)
    targets = fits(image)[:3] or [d.device_id for d in devices[:3]]
    spec: dict[str, Any] = {
        "provider": subject.cfg.name,
        "name": name,
        "firmware": image.firmware_id,
        "firmware_from": image.from_version,
        "firmware_to": image.version,
        "devices": targets,
    }
    if subject.kind is ProviderKind.THINGSPACE:
        spec["start_at"], spec["end_at"] = start, start + timedelta(days=5)
    return CampaignSpec(**spec)


def _texts(request: PlannedRequest) -> str:
    return repr((request.method, request.url, request.params, request.body, request.note))


async def check_plan(subject: Subject, client: ProviderClient) -> None:
    spec = await campaign_spec(subject, client, "contract plan")
    planned = client.plan_campaign(spec)
    assert planned and all(isinstance(p, PlannedRequest) for p in planned)
    for request in planned:
        assert request.method in {"POST", "PUT", "GET", "DELETE"}
        assert request.url.startswith(subject.cfg.base_url.rstrip("/"))
        text = _texts(request)
        leaked = [s for s in subject.secrets if s in text]
        assert not leaked, f"a secret value appears in a planned request: {request!r}"
    everything = " ".join(_texts(p) for p in planned)
    assert all(device in everything for device in spec.devices), "a target is not planned"


async def check_create_and_cancel(subject: Subject, client: ProviderClient) -> None:
    spec = await campaign_spec(subject, client, f"contract {subject.kind.value}")
    created = await boundary(client.create_campaign(spec))
    assert created and all(isinstance(c, Campaign) for c in created)
    for campaign in created:
        assert (campaign.provider, campaign.kind) == (subject.cfg.name, subject.kind)
        check_counts(campaign)
    subject.created.extend(c.campaign_id for c in created)
    listed = {c.campaign_id: c for c in await boundary(client.campaigns())}
    missing = [c.campaign_id for c in created if c.campaign_id not in listed]
    assert not missing, f"created campaigns not listed afterwards: {missing}"
    target = created[0].campaign_id
    if client.capabilities.cancel_campaign:
        cancelled = await boundary(client.cancel_campaign(target))
        assert cancelled.campaign_id == target
        after = await boundary(client.campaign(target))
        assert after.devices, "the cancelled campaign lost its devices"
        assert all(u.state is UpgradeState.CANCELLED for u in after.devices), [
            (u.device_id, u.state, u.provider_status_raw) for u in after.devices
        ]
    else:
        with pytest.raises(ProviderUnsupported) as caught:
            await boundary(client.cancel_campaign(target))
        assert caught.value.provider == subject.cfg.name


READ_CHECKS: dict[str, Callable[[Subject, ProviderClient], Awaitable[Any]]] = {
    "health": check_health,
    "devices": check_devices,
    "upgrades": check_upgrades,
    "campaigns": check_campaigns,
    "campaign_detail": check_campaign_detail,
    "device_history": check_device_history,
    "firmware": check_firmware,
    "plan": check_plan,
}

"""Incremental refresh: between full sweeps a refresh reads only what can have changed,
and never hides a change (OneNET: one command history per device, docs/platforms/onenet.md).

Every check compares the incremental view with a fresh client's full read of the same
simulated platform at the same moment. Time is fake: the simulator's clock and the
adapter's monotonic clock are advanced by hand.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fota_tui.errors import ProviderError
from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.providers.base import LocalGroup
from fota_tui.providers.http import ClientOptions
from fota_tui.providers.onenet.client import OneNetClient
from fota_tui.services.snapshot import ProviderSnapshot, fetch_snapshot
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.onenet.dialect import OneNetDialect
from fota_tui.sim.server import Simulator

KIND = ProviderKind.ONENET
KEY = OneNetDialect.credentials["api_key"]
URI = "http://fota.example.com/onenet/bc95-g/BC95GJBR01A08_to_BC95GJBR01A09.bin"
HISTORY = "/nbiot/offline/history"
SWEEP = 900.0


class Mono:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Paths(httpx.AsyncBaseTransport):
    """The simulator's transport, recording the path of every request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path.removeprefix("/onenet"))
        return await self.inner.handle_async_request(request)

    def count(self, path: str) -> int:
        return sum(1 for p in self.paths if p == path)


class Groups:
    def __init__(self) -> None:
        self.items: list[LocalGroup] = []

    def groups(self, provider: str) -> list[LocalGroup]:
        return [g for g in self.items if g.provider == provider]


async def no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    sim = Simulator.build(kinds=[KIND], clock=clock, devices=300, seed=11)
    sim.dialects[KIND].rate_limit = None  # type: ignore[attr-defined]  # its 300/s: not under test
    return sim


def make(sim: Simulator, clock: ManualClock, **kwargs: Any) -> tuple[OneNetClient, Paths, Mono]:
    paths, mono = Paths(sim.transport()), Mono()
    options = ClientOptions(
        name="cmcc",
        base_url=sim.base_urls()[KIND],
        transport=paths,
        sleep=no_sleep,
        monotonic=mono,
        full_sweep=SWEEP,
        device_list_every=300.0,
    )
    kwargs.setdefault("per_second", None)
    client = OneNetClient(options, api_key=SecretStr(KEY), clock=clock.now, **kwargs)
    return client, paths, mono


def view(snap: ProviderSnapshot) -> Counter[tuple[str, str | None, str]]:
    return Counter((u.device_id, u.campaign_id, u.state.value) for u in snap.upgrades)


def open_devices(snap: ProviderSnapshot) -> set[str]:
    return {u.device_id for u in snap.upgrades if not u.state.terminal}


async def full_read(sim: Simulator, clock: ManualClock, **kwargs: Any) -> ProviderSnapshot:
    fresh, _, _ = make(sim, clock, **kwargs)
    try:
        return await fetch_snapshot(fresh)
    finally:
        await fresh.aclose()


@pytest.mark.parametrize(("seed", "step"), [(11, 600), (3, 1800)])
async def test_between_sweeps_only_devices_in_flight_are_read_and_nothing_is_missed(
    clock: ManualClock, seed: int, step: float
) -> None:
    sim = Simulator.build(kinds=[KIND], clock=clock, devices=300, seed=seed)
    sim.dialects[KIND].rate_limit = None  # type: ignore[attr-defined]
    client, paths, mono = make(sim, clock)
    first = await fetch_snapshot(client)
    devices = len(first.devices)
    assert first.health.full_read and first.health.sweep is not None
    assert first.health.sweep.reason == "first read"
    assert paths.count(HISTORY) >= devices
    seen_open = [open_devices(first)]
    for _ in range(9):  # upgrades moving on between refreshes
        clock.advance(step)  # (the platform's clock; the adapter's cadences stay untouched)
        mono.now += 30
        paths.paths.clear()
        snap = await fetch_snapshot(client)
        assert not snap.health.full_read
        assert view(snap) == view(await full_read(sim, clock))
        # One history read per device in flight now, or at one of the last two refreshes
        # (a finished upgrade is read again for 10 minutes: HOT_AFTER).
        seen_open.append(open_devices(snap))
        bound = len(set().union(*seen_open[-3:]))
        assert paths.count(HISTORY) <= bound + 2, (paths.count(HISTORY), bound)
        assert paths.count("/devices") == 0  # the device list has its own cadence
    assert paths.count(HISTORY) < devices / 4


async def test_an_upgrade_started_elsewhere_shows_within_one_full_sweep(sim, clock):
    client, _paths, mono = make(sim, clock)
    first = await fetch_snapshot(client)
    busy = open_devices(first) | {u.device_id for u in first.upgrades}
    idle = [d.device_id for d in first.devices if d.device_id not in busy][:2]
    other, _, _ = make(sim, clock)  # another tool, with no journal of ours
    spec = CampaignSpec(provider="cmcc", firmware=URI, devices=idle)
    await other.create_campaign(spec)
    await other.aclose()

    mono.now += 60
    quiet = await fetch_snapshot(client)
    assert not quiet.health.full_read
    assert not {u.device_id for u in quiet.upgrades} & set(idle)  # not read: not yet seen
    mono.now += SWEEP
    swept = await fetch_snapshot(client)
    assert swept.health.full_read and swept.health.sweep is not None
    assert swept.health.sweep.reason == "every 15 min"
    assert set(idle) <= {u.device_id for u in swept.upgrades}
    assert view(swept) == view(await full_read(sim, clock))


async def test_what_fota_tui_sent_shows_on_the_next_refresh(sim, clock):
    groups = Groups()
    client, paths, mono = make(sim, clock, groups=groups)
    first = await fetch_snapshot(client)
    busy = {u.device_id for u in first.upgrades}
    idle = [d.device_id for d in first.devices if d.device_id not in busy][:3]
    (created,) = await client.create_campaign(
        CampaignSpec(provider="cmcc", firmware=URI, devices=idle)
    )
    commands = created.provider_status_raw["commands"]
    refs = tuple(u for pair in commands.values() for u in pair.values())
    groups.items.append(LocalGroup("ft-1", "cmcc", clock.now(), tuple(idle), job_refs=refs))
    mono.now += 60
    paths.paths.clear()
    snap = await fetch_snapshot(client)
    assert not snap.health.full_read
    mine = {u.device_id for u in snap.upgrades if u.campaign_id == "ft-1"}
    assert mine == set(idle)
    assert view(snap) == view(await full_read(sim, clock, groups=groups))


async def test_a_gap_in_an_incremental_answer_makes_a_full_read_that_says_why(sim, clock):
    client, _paths, mono = make(sim, clock)
    await fetch_snapshot(client)
    clock.advance(300)
    mono.now += 60
    sim.faults.script(KIND, "gap", path_contains=HISTORY)  # one answer loses a command
    snap = await fetch_snapshot(client)
    assert snap.health.full_read and snap.health.sweep is not None
    assert snap.health.sweep.reason.startswith("a read did not match what was known")
    assert view(snap) == view(await full_read(sim, clock))


async def test_a_failed_incremental_read_is_followed_by_a_full_one(sim, clock):
    client, _paths, mono = make(sim, clock)
    await fetch_snapshot(client)
    mono.now += 60
    sim.faults.script(KIND, "error", path_contains=HISTORY, times=50)
    with pytest.raises(ProviderError):
        await fetch_snapshot(client)
    sim.faults.clear()
    mono.now += 60
    snap = await fetch_snapshot(client)
    assert snap.health.full_read and snap.health.sweep is not None
    assert snap.health.sweep.reason.startswith("an incremental read failed")


async def test_a_full_refresh_on_demand_reads_everything(sim, clock):
    client, paths, mono = make(sim, clock)
    first = await fetch_snapshot(client)
    mono.now += 60
    paths.paths.clear()
    snap = await fetch_snapshot(client, full=True)
    assert snap.health.full_read and snap.health.sweep is not None
    assert snap.health.sweep.reason == "asked"
    assert paths.count(HISTORY) >= len(first.devices)
    assert paths.count("/devices") >= 1  # the device list too
    mono.now += 300
    paths.paths.clear()
    await fetch_snapshot(client)
    assert paths.count("/devices") >= 1  # its own cadence came round

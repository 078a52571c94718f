"""A profile over the simulator with a manual clock, and rollout specs for each platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fota_tui.models import CampaignSpec, ExecuteType, ProviderKind
from fota_tui.services.rollouts.drivers import Rollouts
from fota_tui.services.rollouts.plan import WavePlan
from fota_tui.services.workspace import Workspace
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import demo_profile
from fota_tui.sim.server import Simulator

TS, OC, ON, AX = (
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
)
KINDS = [TS, OC, ON, AX]
ONENET_URI = "coap://fw.example.com/pkg/BC28JAR01A09.bin"
AOVX_URL = "http://files.aovx.example/FOTA/103/A8_V3.2.0.bin"
FAST = WavePlan(
    waves=("10%", "50%", "100%"),
    soak_seconds=1800,
    wave_timeout_seconds=6 * 3600,
)


async def no_sleep(seconds: float) -> None:
    return None


@dataclass
class RolloutEnv:
    sim: Simulator
    clock: ManualClock
    data: Path
    before: frozenset[str] = frozenset()  # the simulator's jobs before the test's rollout

    def mark(self) -> None:
        self.before = frozenset(j for jobs in self.sim.fleet.jobs.values() for j in jobs)

    def driver(self, *, read_only: bool = False) -> Rollouts:
        """A driver over a workspace of its own (another process, as far as the files go)."""
        profile = demo_profile(self.sim, refresh_interval=30)
        # The limiters pace by the real clock; time here is the manual one.
        profile = profile.model_copy(
            update={
                "providers": [
                    p.model_copy(update={"rate_limit_per_minute": 1_000_000})
                    for p in profile.providers
                ]
            }
        )
        workspace = Workspace(
            profile,
            self.data,
            transport=self.sim.transport(),
            now=self.clock.now,
            read_only=read_only,
        )
        rollouts = Rollouts(workspace, sleep=no_sleep)
        for provider in workspace.provider_names:
            workspace.client(provider).options.sleep = no_sleep  # type: ignore[attr-defined]
        return rollouts

    def jobs_of(self, kind: ProviderKind, devices: list[str]) -> dict[str, int]:
        """How many simulator jobs made since ``mark`` each device is in."""
        counts = dict.fromkeys(devices, 0)
        for job_id, job in self.sim.fleet.jobs[kind].items():
            if job_id in self.before:
                continue
            for device in job.targets:
                if device in counts:
                    counts[device] += 1
        return counts


def make_env(tmp_path: Path, faults: str = "*:fail=0") -> RolloutEnv:
    clock = ManualClock()
    sim = Simulator.build(clock=clock, devices=600, faults=faults)
    # OneNET's 300 calls/s is counted in real seconds, and no real time passes here.
    sim.dialects[ON].rate_limit = None  # type: ignore[attr-defined]
    return RolloutEnv(sim, clock, tmp_path / "data")


def provider(kind: ProviderKind) -> str:
    return f"{kind.value}-demo"


async def rollout_spec(
    env: RolloutEnv, driver: Rollouts, kind: ProviderKind, count: int = 12
) -> CampaignSpec:
    """A campaign of ``count`` online, idle, matching devices of ``kind``."""
    service = driver.engine.session.service(provider(kind))
    client = service.client
    now = env.clock.now()
    busy = {u.device_id for u in [u async for u in client.upgrades()] if u.state.active}
    fleet = env.sim.fleet

    def online(device_id: str) -> bool:  # the simulator knows what ThingSpace does not say
        found = fleet.device(kind, device_id)
        return found is not None and found.online

    idle = [d async for d in client.devices() if d.device_id not in busy and online(d.device_id)]
    if kind in (TS, OC):
        for fw in await service.firmware():
            if kind is TS and fw.protocol != "LWM2M":
                continue
            if kind is OC and fw.file_type != "firmware":
                continue
            keys = ("make", "model") if kind is TS else ("model", "device_type")
            chosen = [
                d.device_id
                for d in idle
                if all(getattr(d, k) == getattr(fw, k) for k in keys) and d.firmware != fw.version
            ][:count]
            if len(chosen) < count:
                continue
            if kind is TS:
                return CampaignSpec(
                    provider=provider(kind),
                    firmware=fw.firmware_id,
                    devices=chosen,
                    start_at=now,
                    end_at=now + timedelta(days=7),
                    options={"auto_assign_license": True},
                )
            return CampaignSpec(
                provider=provider(kind),
                firmware=fw.firmware_id,
                devices=chosen,
                execute_type=ExecuteType.CUSTOM,
                start_at=now + timedelta(minutes=1),
                end_at=now + timedelta(days=7),
            )
        raise AssertionError(f"no firmware with {count} idle devices on {kind}")
    if kind is ON:
        return CampaignSpec(
            provider=provider(kind),
            firmware=ONENET_URI,
            firmware_to="BC28JAR01A09",
            devices=[d.imei or d.device_id for d in idle][:count],
            end_at=now + timedelta(days=7),
            options={"retry": 2, "timeout": 30},
        )
    return CampaignSpec(
        provider=provider(kind),
        firmware=AOVX_URL,
        devices=[d.device_id for d in idle][:count],
        options={"type": 0, "mode": 0, "protocol": 1},
    )

"""A 4-wave rollout over 2,000 simulated devices, faults on, two drivers at once.

    uv run python benchmarks/rollout_soak.py [--kind aovx] [--devices 2000] [--faults SPEC]

The simulator runs in-process on a manual clock; every 10 simulated minutes both
drivers (two workspaces over one data dir, as two processes would be) step the rollout
concurrently. The faults are on from the rollout's creation: the wire faults make reads fail now and then (a failed read decides
nothing), ``fail`` makes a share of upgrades fail. At the end the script prints the
waves, every decision, how often a driver found the rollout busy, and duplicates: the
devices that got more than one job (must be 0), and waves with more than one submission.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory

from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.services.rollouts.drivers import Rollouts
from fota_tui.services.rollouts.plan import WavePlan
from fota_tui.services.workspace import Workspace
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import demo_profile
from fota_tui.sim.server import Simulator

FAULTS = "*:fail=0.01,*:error=0.05,*:throttle=0.03,*:late_listing=120"
FIRMWARE = {
    ProviderKind.AOVX: ("http://files.aovx.example/FOTA/103/A8_V3.2.0.bin", None),
    ProviderKind.ONENET: ("coap://fw.example.com/pkg/BC28JAR01A09.bin", "BC28JAR01A09"),
}
STEP = 600.0


async def no_sleep(seconds: float) -> None:
    return None


def driver(sim: Simulator, clock: ManualClock, data: Path) -> Rollouts:
    profile = demo_profile(sim, refresh_interval=STEP)
    workspace = Workspace(profile, data, transport=sim.transport(), now=clock.now)
    for name in workspace.provider_names:
        workspace.client(name).options.sleep = no_sleep  # type: ignore[attr-defined]
    return Rollouts(workspace, sleep=no_sleep)


async def main(kind: ProviderKind, devices: int, faults: str) -> None:
    clock = ManualClock()
    # The platform's fleet, with room for offline and busy devices (OneNET reads one
    # history per device, so its fleet is kept smaller).
    fleet = devices * (2 if kind is ProviderKind.ONENET else 5)
    sim = Simulator.build(clock=clock, devices=fleet, kinds=[kind])
    if hasattr(sim.dialects[kind], "rate_limit"):
        sim.dialects[kind].rate_limit = None  # type: ignore[attr-defined]
    online = [d for d in sim.fleet.devices[kind].values() if d.online]
    busy = {t for job in sim.fleet.jobs[kind].values() for t in job.targets}
    chosen = [d.imei if kind is ProviderKind.ONENET else d.device_id for d in online]
    chosen = [d for d, o in zip(chosen, online, strict=True) if o.device_id not in busy][:devices]
    firmware, version = FIRMWARE[kind]
    with TemporaryDirectory() as tmp:
        first, second = driver(sim, clock, Path(tmp)), driver(sim, clock, Path(tmp))
        spec = CampaignSpec(
            provider=f"{kind.value}-demo",
            name="soak",
            firmware=firmware,
            firmware_to=version,
            devices=chosen,
            end_at=clock.now().replace(year=clock.now().year + 1)
            if kind is ProviderKind.ONENET
            else None,
            options={"type": 0, "mode": 0, "protocol": 1} if kind is ProviderKind.AOVX else {},
        )
        plan = WavePlan(waves=("1%", "10%", "50%", "100%"), soak_seconds=3600)
        started = time.perf_counter()
        # The plan (a dry run an operator repeats until the platform answers) is made
        # before the faults: OneNET's reads one history per device to check them.
        planned = await first.engine.plan(spec, plan)
        assert planned.ok, [p.message for p in planned.problems]
        before = {j for j in sim.fleet.jobs[kind]}
        rollout = first.engine.create(planned)
        sim.faults.apply_spec(faults)
        sim.apply_settings()
        busy_steps = steps = 0
        while not rollout.finished and steps < 400:
            results = await asyncio.gather(
                first.step([rollout.rollout_id]), second.step([rollout.rollout_id])
            )
            busy_steps += sum(1 for r in results for x in r if x.busy)
            steps += 1
            rollout = first.store.get(rollout.rollout_id)
            clock.advance(STEP)
        elapsed = time.perf_counter() - started
        jobs = Counter(
            t for j, job in sim.fleet.jobs[kind].items() if j not in before for t in job.targets
        )
        twice = sum(1 for n in jobs.values() if n > 1)
        submissions = [len(first.workspace.journal.batch(w.batch_id)) for w in rollout.waves]
        print(f"{kind.label}: {len(chosen)} devices, faults {faults}")
        print(f"state: {rollout.state} after {steps} evaluations ({steps * STEP / 3600:.1f} h)")
        for wave in rollout.waves:
            tally = wave.tally
            shown = f"{tally.succeeded}/{tally.members} ok, {tally.failed} failed" if tally else "-"
            print(f"  wave {wave.index}: {len(wave.devices)} devices, {wave.state}, {shown}")
        for decision in rollout.decisions:
            print(f"  {decision.at:%d %H:%M}  {decision.text}")
        print(f"driver found it busy: {busy_steps} times; submissions per wave: {submissions}")
        print(f"devices with more than one job: {twice}; devices with a job: {len(jobs)}")
        print(f"wall time {elapsed:.1f} s; simulator requests {sum(sim.requests.values())}")
        await first.workspace.aclose()
        await second.workspace.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="aovx", choices=[k.value for k in FIRMWARE])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--faults", default=FAULTS)
    args = parser.parse_args()
    asyncio.run(main(ProviderKind(args.kind), args.devices, args.faults))

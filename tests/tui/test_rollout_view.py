"""The console drives its profile's rollouts on every refresh and shows them above the
campaigns: a line with the wave bar and the next decision, its keys, its own view, and a
halt said once and kept until acknowledged."""

from __future__ import annotations

import pytest
from textual.widgets import Static
from tui_app_harness import settle, sim_app

from fota_tui.errors import UsageError
from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.services.rollouts.engine import RolloutEngine
from fota_tui.services.rollouts.plan import WavePlan
from fota_tui.services.workspace import Workspace
from fota_tui.tui.app import FotaApp
from fota_tui.tui.screens.campaigns import CampaignsScreen
from fota_tui.tui.screens.rollout_view import RolloutScreen

AX = ProviderKind.AOVX
PLAN = WavePlan(waves=("50%", "100%"), soak_seconds=600)


async def start_rollout(app: FotaApp, count: int = 4, engine: RolloutEngine | None = None) -> str:
    """A rollout of idle AOVX terminals, made as ``rollout apply`` makes one."""
    engine = engine or app.rollouts.engine
    client = app.workspace.client("aovx-demo")
    busy = {u.device_id for u in [u async for u in client.upgrades()] if u.state.active}
    sim = app.demo.simulator  # type: ignore[union-attr]
    idle = [
        d.device_id
        async for d in client.devices()
        if d.device_id not in busy and sim.fleet.devices[AX][d.device_id].online
    ][:count]
    spec = CampaignSpec(
        provider="aovx-demo",
        name="A8 app",
        firmware="http://files.aovx.example/FOTA/103/A8_V3.2.0.bin",
        devices=idle,
        options={"type": 0, "mode": 0, "protocol": 1},
    )
    planned = await engine.plan(spec, PLAN)
    assert planned.ok, planned.problems
    return engine.create(planned).rollout_id


async def refresh(pilot: object, app: FotaApp) -> None:
    await pilot.press("r")  # type: ignore[attr-defined]
    await settle(pilot, app)
    for _ in range(100):  # the step runs in a worker after the refresh
        await pilot.pause()  # type: ignore[attr-defined]
        if not app.rollouts.stepping:
            return


async def test_the_console_steps_a_rollout_and_shows_it_with_its_keys() -> None:
    h = sim_app(devices=400)
    async with h.app.run_test(size=(150, 40)) as pilot:
        app = h.app
        await settle(pilot, app)
        h.demo.simulator.faults.apply_spec("aovx:fail=0")
        h.demo.simulator.apply_settings()
        rollout_id = await start_rollout(app)
        await refresh(pilot, app)
        assert app.rollouts.store.get(rollout_id).waves[0].state == "running"

        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CampaignsScreen)
        first = screen.option_list.get_option_at_index(0)
        assert first.id == f"ro:{rollout_id}"
        line = str(first.prompt)
        assert "▶ rollout A8 app · aovx-demo · wave 1/2 " in line and "needs 95 %" in line

        await pilot.press("w")
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert app.rollouts.store.get(rollout_id).state == "paused"
        assert "PAUSED" in str(screen.option_list.get_option_at_index(0).prompt)
        await pilot.press("w")
        await app.workers.wait_for_complete()
        assert app.rollouts.store.get(rollout_id).state == "running"

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RolloutScreen)
        text = str(app.screen.query_one(Static).render())
        assert f"Rollout {rollout_id}: A8 app" in text and "wave 1 started: 2 devices" in text
        # The view follows the rollout while it is open (the app's clock ticks it).
        await app.rollouts.engine.pause(rollout_id)
        app.screen.tick()  # type: ignore[attr-defined]
        text = str(app.screen.query_one(Static).render())
        assert "State: paused" in text
        await pilot.press("escape")


async def test_a_halt_is_said_once_and_stays_until_acknowledged() -> None:
    h = sim_app(devices=400)
    async with h.app.run_test(size=(150, 40)) as pilot:
        app = h.app
        await settle(pilot, app)
        h.demo.simulator.faults.apply_spec("aovx:fail=1")
        h.demo.simulator.apply_settings()
        rollout_id = await start_rollout(app)
        await refresh(pilot, app)
        h.clock.advance(3600)
        await refresh(pilot, app)
        await refresh(pilot, app)
        assert app.rollouts.store.get(rollout_id).state == "halted"
        halts = [n for n in app.notifications_sent if n[0] == "Rollout halted"]
        assert len(halts) == 1 and "wave 1 failure rate 100 % > 5 %" in halts[0][1]

        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CampaignsScreen)
        line = str(screen.option_list.get_option_at_index(0).prompt)
        assert "HALTED" in line and "A: acknowledge" in line
        await pilot.press("A")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.rollouts.store.get(rollout_id).acknowledged
        assert not screen.option_list.option_count or not str(
            screen.option_list.get_option_at_index(0).id
        ).startswith("ro:")


async def test_a_read_only_console_watches_rollouts_without_stepping_them() -> None:
    h = sim_app(devices=400, read_only=True)
    async with h.app.run_test(size=(150, 40)) as pilot:
        app = h.app
        await settle(pilot, app)
        writable = Workspace(
            app.workspace.profile, app.workspace.data_dir, transport=h.demo.transport, now=app.now
        )
        engine = RolloutEngine(writable.campaigns(), app.rollouts.store, now=app.now)
        spec_app = app.rollouts.engine  # the console's own engine refuses to create
        rollout_id = await start_rollout(app, engine=engine)
        with pytest.raises(UsageError, match="read-only"):
            spec_app.create(await engine.plan(engine_spec(app, rollout_id), PLAN))
        await refresh(pilot, app)
        assert app.rollouts.store.get(rollout_id).waves[0].state == "waiting"
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CampaignsScreen)
        assert screen.option_list.get_option_at_index(0).id == f"ro:{rollout_id}"
        assert screen.check_action("rollout_op", ("pause",)) is False
        assert screen.check_action("rollout_op", ("ack",)) is False
        await writable.aclose()


def engine_spec(app: FotaApp, rollout_id: str) -> CampaignSpec:
    return app.rollouts.store.get(rollout_id).campaign_spec


async def test_the_console_counts_a_refresh_s_age_on_its_own_clock() -> None:
    """A demo's fleet clock runs 20 times faster than the clock data ages are read on:
    the rollout sees the refresh as old as it is on the session's clock, from its own now."""
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from fota_tui.services.rollouts.engine import StepResult
    from fota_tui.tui.rollouts import ConsoleRollouts

    wall = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    fleet_now = wall + timedelta(hours=5)  # far ahead, as a sped-up demo's clock is
    snapshot = SimpleNamespace(
        provider="p",
        fetched_at=wall - timedelta(seconds=2),
        health=SimpleNamespace(ok=True, message=None),
        upgrades=(),
    )
    session = SimpleNamespace(
        snapshot=lambda provider: snapshot, clock=SimpleNamespace(now=lambda: wall)
    )
    seen = []

    class Engine:
        async def step(self, rollout_id, observation):  # type: ignore[no-untyped-def]
            seen.append(observation)
            return StepResult(rollout=SimpleNamespace(state="running"))  # type: ignore[arg-type]

    console = ConsoleRollouts(
        SimpleNamespace(),
        session,
        lambda: fleet_now,
        lambda m, t: None,  # type: ignore[arg-type]
    )
    console._engine = Engine()  # type: ignore[assignment]
    await console.step("p", ["ro-0123456789"])
    (observation,) = seen
    assert observation.at == fleet_now - timedelta(seconds=2)

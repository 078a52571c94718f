"""Staged rollouts against the simulator, on every platform, with a manual clock: waves
through to the end, halts on failures and on time, operator control, a crash in the middle
of a wave's start, and two drivers at once. Each wave's devices get exactly one job."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from rollout_env import AX, FAST, KINDS, OC, ON, RolloutEnv, make_env, rollout_spec

from fota_tui.errors import UsageError
from fota_tui.models import ProviderKind
from fota_tui.services.rollouts.drivers import Rollouts
from fota_tui.services.rollouts.observe import Observation
from fota_tui.services.rollouts.record import Rollout

STEP = 1200  # simulated seconds between evaluations


async def start(env: RolloutEnv, driver: Rollouts, kind: ProviderKind, plan=FAST) -> Rollout:
    spec = await rollout_spec(env, driver, kind)
    planned = await driver.engine.plan(spec, plan)
    assert planned.ok, [p.message for p in planned.problems]
    env.mark()
    return driver.engine.create(planned)


async def drive(env: RolloutEnv, driver: Rollouts, rollout: Rollout, steps: int = 40) -> Rollout:
    """Step every ``STEP`` simulated seconds until the rollout is through (or ``steps``)."""
    for _ in range(steps):
        await driver.step([rollout.rollout_id])
        rollout = driver.store.get(rollout.rollout_id)
        if rollout.finished:
            return rollout
        env.clock.advance(STEP)
    return rollout


async def first_wave_running(env: RolloutEnv, driver: Rollouts, rollout: Rollout) -> Rollout:
    """Step until wave 1 is sent (OceanConnect's campaigns start a minute ahead)."""
    for _ in range(3):
        await driver.step([rollout.rollout_id])
        rollout = driver.store.get(rollout.rollout_id)
        if rollout.waves[0].state == "running":
            return rollout
        env.clock.advance(60)
    raise AssertionError(rollout.waiting)


def assert_each_device_once(env: RolloutEnv, kind: ProviderKind, rollout: Rollout) -> None:
    sent = [i for w in rollout.waves if w.sent_at for i in w.watched]
    assert sent
    assert set(env.jobs_of(kind, sent).values()) == {1}


def kinds_of(decisions: list) -> list[str]:
    return [d.kind for d in decisions]


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_rollout_goes_wave_by_wave_to_the_end(env, kind):
    driver = env.driver()
    rollout = await start(env, driver, kind)
    assert [len(w.devices) for w in rollout.waves] == [2, 4, 6]
    rollout = await drive(env, driver, rollout)
    assert rollout.state == "done", rollout.decisions
    assert [w.state for w in rollout.waves] == ["done", "done", "done"]
    texts = [d.text for d in rollout.decisions]
    assert texts[1] == "wave 1 started: 2 devices"
    started = [t for t in texts if t.startswith("wave 2 started")]
    assert len(started) == 1 and "wave 1 at 100 % success, soaked" in started[0]
    # Each wave started only after the previous soaked, and every device got one job.
    for before, after in zip(rollout.waves, rollout.waves[1:], strict=False):
        assert before.succeeded_at is not None and after.started_at is not None
        assert after.started_at - before.succeeded_at >= FAST.soak
    assert_each_device_once(env, kind, rollout)
    await driver.workspace.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_wave_past_the_failure_threshold_halts_the_rollout(tmp_path, kind):
    env = make_env(tmp_path, faults="*:fail=0.5")
    driver = env.driver()
    plan = FAST.model_copy(update={"waves": ("50%", "75%", "100%")})
    rollout = await drive(env, driver, await start(env, driver, kind, plan))
    assert rollout.state == "halted"
    assert rollout.waves[0].state == "halted"
    assert [w.state for w in rollout.waves[1:]] == ["waiting", "waiting"]
    halt = rollout.decisions[-1]
    assert halt.kind == "halt" and "wave 1 failure rate" in halt.text and "> 5 %" in halt.text
    assert not rollout.acknowledged
    # No later wave was ever sent.
    later = [d for w in rollout.waves[1:] for d in w.device_ids]
    assert set(env.jobs_of(kind, later).values()) == {0}
    # Aborting the halted rollout deals with the halted wave's campaign.
    _, notes = await driver.engine.abort(rollout.rollout_id)
    (campaign,) = rollout.waves[0].campaign_ids
    assert notes and all(n.startswith(f"wave 1: {campaign} ") for n in notes)
    await driver.workspace.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_wave_short_of_success_after_its_time_out_halts(env, kind):
    driver = env.driver()
    plan = FAST.model_copy(update={"wave_timeout_seconds": 60})
    rollout = await first_wave_running(env, driver, await start(env, driver, kind, plan))
    deadline = rollout.timeout_at(rollout.waves[0])
    assert deadline is not None
    env.clock.set(deadline)
    await driver.step([rollout.rollout_id])
    assert driver.store.get(rollout.rollout_id).state == "running"  # not yet: 60 s
    env.clock.advance(1)
    await driver.step([rollout.rollout_id])
    rollout = driver.store.get(rollout.rollout_id)
    assert rollout.state == "halted", rollout.decisions
    assert "timed out after 1 min" in rollout.decisions[-1].text
    assert "(needs 95 %)" in rollout.decisions[-1].text
    await driver.workspace.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_pause_holds_the_next_wave_and_resume_releases_it(env, kind):
    driver = env.driver()
    rollout = await start(env, driver, kind)
    for _ in range(10):  # until wave 1 soaks
        await driver.step([rollout.rollout_id])
        rollout = driver.store.get(rollout.rollout_id)
        if rollout.waves[0].state == "soaking":
            break
        env.clock.advance(STEP)
    assert rollout.waves[0].state == "soaking"
    await driver.engine.pause(rollout.rollout_id)
    env.clock.advance(FAST.soak_seconds * 3)
    await driver.step([rollout.rollout_id])
    paused = driver.store.get(rollout.rollout_id)
    assert paused.state == "paused"
    assert paused.waves[1].state == "waiting" and "paused" in paused.waiting
    assert set(env.jobs_of(kind, paused.waves[1].device_ids).values()) == {0}
    await driver.engine.resume(rollout.rollout_id)
    await driver.step([rollout.rollout_id])
    resumed = driver.store.get(rollout.rollout_id)
    assert resumed.waves[1].state == "running"
    assert [d.text for d in resumed.decisions if d.kind == "operator"][1:] == [
        "paused: no wave starts until it is resumed (running waves go on)",
        "resumed",
    ]
    await driver.workspace.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_advance_skips_the_soak_but_not_the_fresh_read(env, kind):
    driver = env.driver()
    rollout = await start(env, driver, kind)
    with pytest.raises(UsageError, match="advance skips a soak only after"):
        await driver.engine.advance(rollout.rollout_id)
    for _ in range(10):
        await driver.step([rollout.rollout_id])
        rollout = driver.store.get(rollout.rollout_id)
        if rollout.waves[0].state == "soaking":
            break
        env.clock.advance(STEP)
    await driver.engine.advance(rollout.rollout_id)
    # A stale read decides nothing, even when advancing.
    stale = Observation(provider=rollout.provider, at=env.clock.now() - timedelta(minutes=5))
    await driver.step([rollout.rollout_id], {rollout.provider: stale})
    assert driver.store.get(rollout.rollout_id).waves[1].state == "waiting"
    await driver.step([rollout.rollout_id])
    rollout = driver.store.get(rollout.rollout_id)
    assert rollout.waves[1].state == "running"
    assert any("soak skipped by the operator" in d.text for d in rollout.decisions)
    await driver.workspace.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_abort_cancels_what_the_platform_can_and_says_what_it_cannot(env, kind):
    driver = env.driver()
    rollout = await first_wave_running(env, driver, await start(env, driver, kind))
    aborted, notes = await driver.engine.abort(rollout.rollout_id)
    assert aborted.state == "aborted"
    assert [w.state for w in aborted.waves[1:]] == ["skipped", "skipped"]
    if kind in (OC, AX):
        assert notes and all("not cancelled" in n for n in notes)
        assert "cannot" in notes[0] or "no stop" in notes[0]
    else:
        assert notes and all(n.endswith("cancelled") for n in notes)
    # Nothing more happens to an aborted rollout.
    env.clock.advance(STEP * 10)
    assert await driver.step([aborted.rollout_id]) == []
    assert driver.store.get(aborted.rollout_id).decisions == aborted.decisions
    await driver.workspace.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_crash_while_a_wave_starts_resumes_without_sending_twice(env, kind):
    """The process dies right after the platform created the wave's campaign, before
    anything recorded the answer: a new driver finds the send in the journal,
    reconciles it, and never sends the wave again."""
    driver = env.driver()
    rollout = await start(env, driver, kind)
    if kind is OC:  # let its start time come
        env.clock.advance(120)
    client = driver.workspace.client(rollout.provider)
    create = client.create_campaign

    async def create_then_die(spec):
        await create(spec)
        raise SystemExit("killed")

    client.create_campaign = create_then_die
    with pytest.raises(SystemExit):
        await driver.step([rollout.rollout_id])
    crashed = driver.store.get(rollout.rollout_id)
    assert crashed.waves[0].state == "starting"
    jobs = env.jobs_of(kind, crashed.waves[0].device_ids)
    assert set(jobs.values()) == {1}

    restarted = env.driver()
    await restarted.step([crashed.rollout_id])  # adopted: sent, its campaign not known yet
    assert not restarted.store.get(crashed.rollout_id).waves[0].campaign_ids
    # Something else (the console's reconcile, 'campaign journal') settles it first.
    env.clock.advance(11 * 60)
    (settled,) = await restarted.engine.session.service(crashed.provider).reconcile_pending()
    assert settled.state == "created"
    rollout = await drive(env, restarted, crashed)
    assert rollout.state == "done", rollout.decisions
    assert rollout.waves[0].campaign_ids == settled.campaign_ids
    assert "answer was lost" in next(d.text for d in rollout.decisions if d.kind == "start")
    assert_each_device_once(env, kind, rollout)
    await restarted.workspace.aclose()
    await driver.workspace.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_crash_before_the_create_leaves_sends_the_wave_once_later(env, kind):
    """The process dies after the journal recorded the send, before the request left:
    the platform has nothing. The next driver waits until reconciliation has proven it
    absent (the settle period), then sends the wave again, once. OneNET's create is two
    commands per device, so absence proves nothing there: the rollout halts and says so,
    and its devices are held back."""
    driver = env.driver()
    rollout = await start(env, driver, kind)
    client = driver.workspace.client(rollout.provider)

    async def die_first(spec):  # type: ignore[no-untyped-def]
        raise SystemExit("killed")

    client.create_campaign = die_first  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        await driver.step([rollout.rollout_id])
    assert set(env.jobs_of(kind, rollout.waves[0].device_ids).values()) == {0}

    restarted = env.driver()
    await restarted.step([rollout.rollout_id])
    held = restarted.store.get(rollout.rollout_id)
    assert held.waves[0].state == "running" and not held.waves[0].campaign_ids
    rollout = await drive(env, restarted, held)
    if kind is ON:  # two commands per device: a command may exist that nothing shows
        assert rollout.state == "halted"
        assert "may have a command from it" in rollout.decisions[-1].text
        assert set(env.jobs_of(kind, rollout.waves[0].device_ids).values()) == {0}
    else:
        assert rollout.state == "done", rollout.decisions
        again = [d.text for d in rollout.decisions if "sending it again (attempt 2)" in d.text]
        assert len(again) == 1 and "never reached" in again[0]
        assert rollout.waves[0].attempt == 2
        assert_each_device_once(env, kind, rollout)
    await restarted.workspace.aclose()
    await driver.workspace.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_two_drivers_at_once_create_each_wave_exactly_once(env, kind):
    first, second = env.driver(), env.driver()
    rollout = await start(env, first, kind)
    busy = 0
    for _ in range(40):
        results = await asyncio.gather(
            first.step([rollout.rollout_id]), second.step([rollout.rollout_id])
        )
        busy += sum(1 for r in results for x in r if x.busy)
        rollout = first.store.get(rollout.rollout_id)
        if rollout.finished:
            break
        env.clock.advance(STEP)
    assert rollout.state == "done", rollout.decisions
    assert busy  # they did overlap
    starts = [d.text for d in rollout.decisions if d.kind == "start"]
    assert len(starts) == 3
    assert_each_device_once(env, kind, rollout)
    for wave in rollout.waves:
        assert len(first.workspace.journal.batch(wave.batch_id)) == 1
    await first.workspace.aclose()
    await second.workspace.aclose()


async def test_a_failed_read_decides_nothing_and_an_old_one_never_counts(env):
    driver = env.driver()
    rollout = await start(env, driver, KINDS[0])
    await driver.step([rollout.rollout_id])
    env.clock.advance(3 * 3600)  # wave 1 is long through on the platform
    down = Observation.failed(rollout.provider, env.clock.now(), "Unavailable: 503")
    await driver.step([rollout.rollout_id], {rollout.provider: down})
    after = driver.store.get(rollout.rollout_id)
    assert after.waves[0].state == "running" and after.state == "running"
    assert "could not be read (Unavailable: 503)" in after.waiting
    fresh = (await driver.observe([rollout.provider]))[rollout.provider]
    old = Observation(
        provider=fresh.provider, at=env.clock.now() - timedelta(seconds=31), upgrades=fresh.upgrades
    )
    await driver.step([rollout.rollout_id], {rollout.provider: old})
    assert driver.store.get(rollout.rollout_id).waves[0].state == "running"
    await driver.step([rollout.rollout_id], {rollout.provider: fresh})
    assert driver.store.get(rollout.rollout_id).waves[0].state == "soaking"
    await driver.workspace.aclose()


async def test_a_read_only_driver_watches_but_never_starts_a_wave(env):
    writer = env.driver()
    rollout = await start(env, writer, KINDS[0])
    watcher = env.driver(read_only=True)
    await watcher.step([rollout.rollout_id])
    watched = watcher.store.get(rollout.rollout_id)
    assert watched.waves[0].state == "waiting" and "read-only" in watched.waiting
    with pytest.raises(UsageError, match="read-only"):
        await watcher.engine.pause(rollout.rollout_id)
    await writer.workspace.aclose()
    await watcher.workspace.aclose()


def test_a_device_its_wave_could_not_reach_counts_as_failed_until_the_platform_shows_it():
    from datetime import UTC, datetime

    from fota_tui.models import DeviceUpgrade, UpgradeState
    from fota_tui.services.rollouts.record import Wave

    wave = Wave(
        index=1,
        devices=["imei-1", "imei-2", "imei-3"],
        device_ids=["d1", "d2", "d3"],
        batch_id="ft-000000000001",
        campaign_ids=["c1"],
        undelivered=["imei-3", "imei-2"],
        sent_at=datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
    )
    at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    def upgrade(device: str, state: UpgradeState) -> DeviceUpgrade:
        return DeviceUpgrade(
            provider="p", kind=KINDS[2], device_id=device, campaign_id="c1", state=state
        )

    upgrades = (upgrade("d1", UpgradeState.SUCCEEDED), upgrade("d2", UpgradeState.QUEUED))
    early = Observation(provider="p", at=at + timedelta(minutes=4), upgrades=upgrades)
    assert early.tally(wave).unseen == 1  # a listing may lag: not failed yet
    seen = Observation(provider="p", at=at + timedelta(minutes=5), upgrades=upgrades)
    tally = seen.tally(wave)
    # d2 turned up after all (its state counts); d3 never did: failed, not "not seen yet".
    assert (tally.succeeded, tally.active, tally.failed, tally.unseen) == (1, 1, 1, 0)


async def test_waves_start_only_inside_the_windows_and_canaries_go_first(env):
    driver = env.driver()
    spec = await rollout_spec(env, driver, AX)
    canary = spec.devices[7]
    plan = FAST.model_copy(update={"windows": ((2, 4),), "canary": (canary,)})
    planned = await driver.engine.plan(spec, plan)
    assert planned.ok and planned.waves[0][0].device_id == canary
    env.mark()
    rollout = driver.engine.create(planned)
    await driver.step([rollout.rollout_id])  # 08:00 UTC
    waiting = driver.store.get(rollout.rollout_id)
    assert waiting.waves[0].state == "waiting"
    assert waiting.waiting == "outside the rollout's windows; the next opens at 02:00Z"
    env.clock.advance(18 * 3600 + 600)  # 02:10 the next day
    await driver.step([rollout.rollout_id])
    started = driver.store.get(rollout.rollout_id)
    assert started.waves[0].state == "running" and started.waves[0].devices[0] == canary
    await driver.workspace.aclose()


async def test_a_wave_whose_success_falls_while_it_soaks_is_gated_again(env):
    from fota_tui.models import DeviceUpgrade, UpgradeState

    driver = env.driver()
    rollout = await first_wave_running(env, driver, await start(env, driver, AX))
    for _ in range(10):
        env.clock.advance(STEP)
        await driver.step([rollout.rollout_id])
        rollout = driver.store.get(rollout.rollout_id)
        if rollout.waves[0].state == "soaking":
            break
    wave = rollout.waves[0]
    (campaign,) = wave.campaign_ids
    states = (UpgradeState.SUCCEEDED, UpgradeState.IN_PROGRESS)  # one redoes its upgrade
    upgrades = tuple(
        DeviceUpgrade(
            provider=rollout.provider,
            kind=AX,
            device_id=device,
            campaign_id=campaign,
            state=state,
            updated_at=env.clock.now(),
        )
        for device, state in zip(wave.watched, states, strict=True)
    )
    env.clock.advance(FAST.soak_seconds)
    seen = Observation(provider=rollout.provider, at=env.clock.now(), upgrades=upgrades)
    await driver.step([rollout.rollout_id], {rollout.provider: seen})
    after = driver.store.get(rollout.rollout_id)
    assert after.waves[0].state == "running" and after.waves[1].state == "waiting"
    assert "fell to 50 % success (below 95 %) while soaking" in after.decisions[-1].text
    await driver.workspace.aclose()

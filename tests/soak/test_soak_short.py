"""The fault soak in its short form (CI, every push): ``benchmarks/soak.py``'s ``run_soak``.

The real console (``make_app``, headless, its own scheduler and workers) against the
simulator in a child process on 127.0.0.1, every platform failing 20 % of requests at
random, a refresh every 2 s and campaign creation through the campaign service during the
faults, then faults off and the recovery, the journal against the simulator's jobs and
the RSS trend. The short form (``SoakConfig.short()``, about 30 s: 25 s from the start
to the end of the faults) trades length for a smaller fleet and more frequent campaign
attempts, and leaves OceanConnect's 60-second call window (its budget, and the wait its
throttling answer implies) to the full 10-minute run, ``uv run python benchmarks/soak.py``;
see ``SoakConfig.short``. The other tests check the judges on made-up runs.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"
KINDS = {"thingspace", "oceanconnect", "onenet", "aovx"}


def load_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fota_soak_bench", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.soak
async def test_soak_short_form_meets_every_pass_criterion(tmp_path: Path) -> None:
    soak = load_soak()
    config = soak.SoakConfig.short()  # also: uv run python benchmarks/soak.py --short
    result = await soak.run_soak(config, workdir=tmp_path)
    report = soak.report(result)

    # The run exercised what it claims: faults on every platform, refreshes under them,
    # campaign creation on every platform, and at least one creation that was sent and
    # ended while the faults were on (not one that finished after they stopped).
    assert sum(result.injected.values()) >= 50, report
    assert set(result.requests) == KINDS and all(result.requests.values()), report
    assert all(s["during_faults"] >= 1 for s in result.refresh_stats.values()), report
    providers = {a.provider for a in result.attempts if a.outcome != "skipped"}
    assert len(providers) == len(KINDS), report
    sent = [
        a
        for a in result.attempts
        if a.outcome in ("created", "unknown", "partial") and not a.after_stop
    ]
    assert sent, report
    assert len(result.recovery) == len(KINDS), report
    assert result.phases["faults_s"] >= 15, report

    # Every pass criterion, each with its figure in the message.
    assert [c.name for c in result.criteria][:4] == [
        "no crash",
        "no unhandled worker error",
        "every pane recovers in budget",
        "journal == simulator jobs",
    ]
    assert len(result.criteria) == 5 and result.criteria[4].name.startswith("RSS growth")
    failed = [f"{c.name}: {c.figure} (limit {c.limit})" for c in result.criteria if not c.ok]
    assert not failed, "\n".join(failed) + "\n\n" + report
    assert result.passed


def test_short_form_spares_only_oceanconnects_throttle() -> None:
    """The short form's fault spec: chaos on every platform; on OceanConnect every chaos
    kind a spec can name but the throttle, at the chaos's share each."""
    from fota_tui.models import ProviderKind
    from fota_tui.sim.faults import _CHAOS, FaultInjector

    soak = load_soak()
    assert set(soak.CHAOS_KINDS) == set(_CHAOS)
    assert set(soak.OC_CHAOS_KINDS) == set(_CHAOS) - {"throttle", "slow"}
    full = soak.SoakConfig()
    assert full.fault_spec == "*:chaos=0.2" and full.oc_throttle
    assert full.oc_calls_per_minute is None and full.drain_timeout is None
    short = soak.SoakConfig.short()
    rates = FaultInjector.from_spec(short.fault_spec).rates
    oc = rates.pop(ProviderKind.OCEANCONNECT)
    assert all(r == {"chaos": 0.2} for r in rates.values()) and len(rates) == 3
    assert oc.pop("chaos") == 0 and "throttle" not in oc
    assert oc == dict.fromkeys(soak.OC_CHAOS_KINDS, pytest.approx(0.2 / 7, rel=1e-3))


async def test_the_drain_is_time_boxed_and_names_what_is_still_running() -> None:
    soak = load_soak()
    driver = soak.CampaignDriver(None, None, soak.SoakConfig.short(), now=None)
    release = asyncio.Event()
    quick = asyncio.create_task(asyncio.sleep(0))
    slow = asyncio.create_task(release.wait())
    hung = asyncio.create_task(asyncio.Event().wait())
    driver._tasks = {"quick": quick, "slow": slow, "hung": hung}
    driver._started = {quick: ("quick", 0.0), slow: ("slow", 1.0), hung: ("hung", 2.0)}
    driver.clock = lambda: 10.0

    still = await driver.drain(0.05)
    assert set(still) == {slow, hung} and not slow.cancelled()  # named, not cancelled
    assert driver.describe(still, 10.0) == [
        "slow: started 9.0 s before",
        "hung: started 8.0 s before",
    ]
    release.set()
    assert await driver.finish(0.2) == ["hung: started 8.0 s before"]
    assert slow.done() and not slow.cancelled() and hung.cancelled()


# --- the judges, on made-up runs (fast; they show each criterion can fail) -------------


class FakeEntry:
    """The fields of a ``JournalEntry`` the ledger reads."""

    def __init__(
        self,
        sid: str,
        state: str,
        devices: list[str],
        ids: tuple[str, ...] = (),
        unconfirmed: tuple[str, ...] = (),
    ) -> None:
        self.submission_id, self.state, self.device_ids = sid, state, tuple(devices)
        self.campaign_ids = list(ids)
        self.not_reached: list[str] = []
        self.unconfirmed = list(unconfirmed)

    @property
    def unresolved(self) -> bool:
        return self.state in ("sending", "unknown")


class FakeService:
    def __init__(self, entries: list[FakeEntry]) -> None:
        self.entries = entries

    async def reconcile_pending(self) -> list[FakeEntry]:
        return []

    def history(self) -> list[FakeEntry]:
        return self.entries


class FakeSession:
    def __init__(self, by_provider: dict[str, list[FakeEntry]]) -> None:
        self.by_provider = by_provider

    def service(self, name: str) -> FakeService:
        return FakeService(self.by_provider.get(name, []))


class FakeSim:
    def __init__(self, jobs: dict[str, list[tuple[str, list[str]]]]) -> None:
        self.jobs = jobs

    async def command(self, op: str, **args: object) -> dict[str, object]:
        if op == "jobs":
            return {
                "jobs": {
                    kind: [
                        {"job_id": j, "name": j, "targets": t} for j, t in self.jobs.get(kind, [])
                    ]
                    for kind in KINDS
                }
            }
        assert op == "resolve"
        return {"ids": {key: key.upper() for key in args["keys"]}}  # type: ignore[attr-defined]


async def test_ledger_flags_duplicates_unjournaled_phantom_and_unresolved() -> None:
    soak = load_soak()
    kinds = {"ts": soak.ProviderKind.THINGSPACE, "ax": soak.ProviderKind.AOVX}
    good = FakeSession(
        {
            "ts": [
                FakeEntry("ft-1", "created", ["a"], ("c1",)),
                FakeEntry("ft-2", "failed", ["b"]),
            ],
            "ax": [FakeEntry("ft-3", "created", ["x", "y"])],
        }
    )
    jobs = {"thingspace": [("c1", ["A"])], "aovx": [("J1", ["X", "Y"])]}
    ledger = await soak.compare_ledger(good, FakeSim(jobs), kinds)
    assert ledger["ts"]["ok"] and ledger["ax"]["ok"]

    bad = FakeSession(
        {
            "ts": [
                FakeEntry("ft-1", "created", ["a"], ("c1", "c9")),
                FakeEntry("ft-2", "unknown", ["b"]),
            ],
            "ax": [FakeEntry("ft-3", "created", ["x", "y"])],
        }
    )
    jobs = {
        "thingspace": [("c1", ["A"]), ("c2", ["B"])],
        "aovx": [("J1", ["X", "Y"]), ("J2", ["X"]), ("J3", ["Z"])],
    }
    ledger = await soak.compare_ledger(bad, FakeSim(jobs), kinds)
    ts, ax = ledger["ts"], ledger["ax"]
    assert (ts["unjournaled"], ts["phantom"], ts["unresolved"]) == (["c2"], ["c9"], ["ft-2"])
    assert (ax["duplicates"], ax["unjournaled"]) == (["X"], ["Z"])
    assert not ts["ok"] and not ax["ok"]


async def test_ledger_accepts_held_devices_either_way() -> None:
    """OneNET: a device the journal holds back as unconfirmed may or may not have a job."""
    soak = load_soak()
    kinds = {"on": soak.ProviderKind.ONENET}
    entries = [FakeEntry("ft-1", "created", ["a", "b", "c"], ("ft-1",), unconfirmed=("b", "c"))]
    jobs = {"onenet": [("u1", ["A"]), ("u2", ["B"])]}
    ledger = await soak.compare_ledger(FakeSession({"on": entries}), FakeSim(jobs), kinds)
    assert ledger["on"]["ok"] and ledger["on"]["unconfirmed_with_job"] == ["B"]


def _log(soak: ModuleType, *refreshes: tuple[float, float, str]) -> object:
    """A provider log from (started, ended, "ok" | error type) triples."""
    log = soak.ProviderLog("p")
    for started, ended, outcome in refreshes:
        ok = outcome == "ok"
        log.refreshes.append(
            soak.Refresh(started=started, ended=ended, ok=ok, error_type="" if ok else outcome)
        )
    return log


def test_recovery_budget_is_one_interval_plus_the_refresh() -> None:
    soak = load_soak()
    stop = 100.0
    quick = _log(soak, (98.0, 99.0, "ProviderUnavailable"), (101.0, 101.5, "ok"))
    judged = soak._recovery("p", quick, stop, 101.6, 1.0, 2.0)
    assert judged.ok and judged.budget == pytest.approx(2.2 + 0.5 + soak.SHOW_SLACK)
    backed_off = _log(soak, (98.0, 99.0, "ProviderUnavailable"), (110.0, 110.5, "ok"))
    assert not soak._recovery("p", backed_off, stop, 110.6, 10.0, 2.0).ok
    never = _log(soak, (98.0, 99.0, "ProviderUnavailable"))
    assert not soak._recovery("p", never, stop, None, 10.0, 2.0).ok


def test_recovery_allows_a_failed_in_flight_refresh_and_throttling() -> None:
    soak = load_soak()
    stop = 100.0
    in_flight = _log(soak, (99.0, 103.0, "ProviderProtocolError"), (105.0, 105.5, "ok"))
    judged = soak._recovery("p", in_flight, stop, 105.6, None, 2.0)
    assert judged.ok and judged.in_flight_tail == pytest.approx(3.0)
    throttled = _log(soak, (98.0, 99.0, "ProviderRateLimited"), (130.0, 130.5, "ok"))
    judged = soak._recovery("p", throttled, stop, 130.6, 30.0, 2.0)
    assert judged.ok and "throttled" in judged.tail_cause
    # Throttling explains nothing when a later failure was something else.
    mixed = _log(
        soak,
        (98.0, 99.0, "ProviderRateLimited"),
        (120.0, 121.0, "ProviderProtocolError"),
        (130.0, 130.5, "ok"),
    )
    assert not soak._recovery("p", mixed, stop, 130.6, 20.0, 2.0).ok

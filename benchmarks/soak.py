"""Fault soak: the real console, headless, against the loopback simulator under chaos.

    uv run python benchmarks/soak.py [--minutes 10] [--fault-rate 0.2] [--refresh 2]
                                     [--devices 2000] [--campaign-every 30] [--json FILE]

What runs:

- the simulator in a child process (this file with ``--sim-child``), serving all four
  platforms on 127.0.0.1 over real HTTP. A child process keeps the console's RSS its own
  (the simulator's memory grows with the jobs it is asked to create) and gives the
  console its own interpreter, as against a real cloud. The parent drives it over a
  line-based JSON pipe: switch faults, read counters, list the jobs created;
- the real app from ``make_app`` (no transport override: real httpx clients over
  loopback), in ``App.run_test`` (headless), with its real scheduler and workers, on a
  profile of the four demo providers with ``refresh_interval = --refresh``;
- phases: warm-up until every pane has shown data once; the fault phase
  (``*:chaos=<rate>``: latency, 5xx, throttling, malformed and truncated bodies, resets
  and token expiry on that share of requests) until ``--minutes`` after the start, with
  one campaign creation per platform every ``--campaign-every`` seconds through the
  console's campaign session, as the wizard opens it (``campaign_session(app)``: the
  console's own clients, journal in the app's temporary data dir). The creations still
  running then finish under the faults (the short form waits 4 s for them, then lets them
  finish after the faults stop, and names them in the report); then the recovery
  phase: faults off, and the time until each pane shows healthy data from a refresh
  finished after the faults stopped is measured. Then the journal is reconciled and
  compared with the jobs the simulator holds.

Pass criteria (each printed with its figure; the exit status is 1 when one fails):

1. no crash: the app is still running at the end and Textual reported no exception;
2. no unhandled worker error: no error screen, no failed worker, no refresh that failed
   with an unexpected (non-``ProviderError``) exception, no ERROR record logged by
   fota_tui or asyncio;
3. every pane recovers within its budget: one refresh interval (plus the scheduler's
   jitter) plus the duration of the refresh that recovered, counted from the faults
   stopping or, when a refresh was still running then, from its end (a refresh in flight
   may be waiting out a throttling ``retry_after``: that wait is reported);
4. after ``reconcile_pending()``, the campaigns the journal says exist are exactly the
   jobs the simulator created during the run: no duplicate, none unjournaled, none the
   journal claims that does not exist, nothing left unresolved;
5. RSS growth (``VmRSS`` of this process, sampled every 2 s) below 10 % from minute 1
   (``--rss-from``; 10 s for runs shorter than 2 minutes) to the end.

``tests/soak/test_soak_short.py`` runs ``run_soak`` in a short form on every push
(``--short``, ``SoakConfig.short``: about 30 s, and without OceanConnect's call window).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fota_tui.models import ProviderKind  # noqa: E402
from fota_tui.services.scheduler import (  # noqa: E402
    RefreshFailed,
    RefreshStarted,
)
from fota_tui.services.session import Applied  # noqa: E402
from fota_tui.text import clean  # noqa: E402

RSS_LIMIT = 0.10  # growth, as a share of the baseline
SCHEDULER_JITTER = 0.1  # RefreshScheduler's default: ± share of the interval
# A refresh's end reaches the pane through the event loop, and the pane is polled every
# 50 ms: on a loaded machine that takes a few hundred ms, which is not a late recovery.
SHOW_SLACK = 0.3
ONENET_URI = "coap://fw.example.com/pkg/BC28JAR01A09.bin"
AOVX_URL = "http://files.aovx.example/FOTA/103/A8_V3.2.0.bin"
BENIGN_SERVER_ERRORS = ("ConnectionResetError", "BrokenPipeError", "ConnectionAbortedError")
# What ``chaos`` draws from, one kind per faulty request (``fota_tui/sim/faults.py``), and
# those of them a fault spec can also name alone, but the throttle ("slow" cannot be).
CHAOS_KINDS = ("error", "throttle", "malformed", "truncated", "reset", "token_expiry", "slow")
OC_CHAOS_KINDS = ("error", "malformed", "truncated", "reset", "token_expiry")


@dataclass
class SoakConfig:
    minutes: float = 10.0  # from the app's start until the faults stop
    fault_rate: float = 0.2
    refresh: float = 2.0
    devices: int = 2000
    seed: int = 7
    speed: float = 1.0  # simulated seconds per real second
    campaign_every: float = 30.0  # per platform
    campaign_devices: int = 3
    rss_from: float | None = None  # seconds; None: 60, or 10 for runs under 2 minutes
    rss_every: float = 2.0
    warmup_timeout: float = 60.0
    recovery_timeout: float = 120.0
    size: tuple[int, int] = (160, 50)
    # The real world on top of the chaos (``--real-world``): late listings, a skewed
    # platform clock, hostile text, trickling bodies; and a second applier that submits
    # the same spec at the same moment (``--appliers 2``).
    real_world: str = ""
    appliers: int = 1
    # The end of the fault period. No campaign attempt starts in its last ``quiet_tail``
    # seconds; the attempts still running when it ends get ``drain_timeout`` more seconds
    # under faults (None: as long as they take), then the faults stop and they finish
    # against the healthy platform. They are listed in the report, never dropped.
    quiet_tail: float = 0.0
    drain_timeout: float | None = None
    # OceanConnect's per-app budget, for the profile (``rate_limit_per_minute``) and the
    # simulator alike; None: the platform's default, 100 calls a minute. And whether the
    # chaos throttles OceanConnect (see ``short``).
    oc_calls_per_minute: int | None = None
    oc_throttle: bool = True

    @classmethod
    def short(cls) -> SoakConfig:
        """The CI form (``--short``, tests/soak): about 30 s in all; the faults from the
        end of the warm-up (about 1.5 s) to 25 s after the start.

        A 400-device fleet keeps OneNET's per-device reads near one refresh interval, and a
        campaign attempt per platform every 6 s gives each platform three. No attempt
        starts in the last 5 s of the faults (under faults a ThingSpace attempt took
        3-12 s in these runs: previews retried, reads backing off); those still running
        then get 4 s more under the faults, then finish against the healthy platform
        (reported, and not counted as sent under faults).

        OceanConnect's 60-second call window is left to the full run. A refresh there is
        12 calls (devices, catalogue, task list, one read per task), so at a refresh every
        2 s its default budget (100 calls a minute) is spent about 14 s into the run, and
        every OceanConnect call after that (a refresh, a campaign create) waits for the
        window to slide, at about 61 s. Its throttling answer carries no Retry-After, so
        the client waits until its window slides too: in a run's first minute, up to 60 s
        for one injected throttle. Either one made the short form a minute long (about 35
        of its 70 s were one OceanConnect create waiting in the call window). So here the
        profile and the simulator give the app a budget the run cannot spend, and
        OceanConnect's faults are the chaos's kinds a spec can name alone, but the
        throttle: 5xx, malformed and truncated bodies, resets and token expiry, each at the
        chaos's share (rate / 7; no slow answers either). The other platforms keep the
        whole chaos; their throttling answers carry a Retry-After of 1-2 s.
        """
        return cls(
            minutes=25 / 60,
            devices=400,
            campaign_every=6.0,
            rss_from=10.0,
            recovery_timeout=70.0,  # room for a platform's rate-limit window (reported)
            quiet_tail=5.0,
            drain_timeout=4.0,
            oc_calls_per_minute=1000,
            oc_throttle=False,
        )

    @property
    def duration(self) -> float:
        return self.minutes * 60.0

    @property
    def rss_baseline_at(self) -> float:
        if self.rss_from is not None:
            return self.rss_from
        return 60.0 if self.duration >= 120 else 10.0

    @property
    def fault_spec(self) -> str:
        """The simulator's fault spec for the fault period."""
        items = [f"*:chaos={self.fault_rate:g}"]
        if not self.oc_throttle:  # the same share of every other chaos kind
            share = self.fault_rate / len(CHAOS_KINDS)
            items.append("oceanconnect:chaos=0")
            items += [f"oceanconnect:{kind}={share:.4g}" for kind in OC_CHAOS_KINDS]
        return ",".join(filter(None, [*items, self.real_world]))


# --- the simulator, in a child process ------------------------------------------------


def child_main(argv: list[str]) -> int:
    """``--sim-child``: serve the simulator and obey JSON commands on stdin."""
    from fota_tui.sim.server import Simulator

    parser = argparse.ArgumentParser()
    parser.add_argument("--sim-child", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--oc-rate-limit", type=int, default=None)
    args = parser.parse_args(argv)
    sim = Simulator.build(seed=args.seed, devices=args.devices, speed=args.speed)
    if args.oc_rate_limit is not None:  # the app's budget (calls per minute)
        sim.dialects[ProviderKind.OCEANCONNECT].rate_limit = args.oc_rate_limit  # type: ignore[attr-defined]
    baseline = {kind: set(jobs) for kind, jobs in sim.fleet.jobs.items()}
    server = sim.serve("127.0.0.1", 0)
    handler_errors: Counter[str] = Counter()
    samples: list[str] = []

    def handle_error(request: object, client_address: object) -> None:
        # A client that went away mid-answer (a cancelled refresh) is not a simulator bug;
        # anything else is, and is reported.
        exc = sys.exc_info()[1]
        name = type(exc).__name__
        handler_errors[name] += 1
        if name not in BENIGN_SERVER_ERRORS and len(samples) < 5:
            samples.append(traceback.format_exc())

    server.httpd.handle_error = handle_error  # type: ignore[method-assign]

    def reply(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    reply({"root": server.root, "sim_now": sim.fleet.now().isoformat()})
    for line in sys.stdin:
        command = json.loads(line)
        op = command.get("op")
        if op == "faults":
            sim.faults.clear()
            sim.faults.apply_spec(command["spec"])
            sim.apply_settings()
            reply({"ok": True})
        elif op == "clear":
            sim.faults.clear()
            sim.apply_settings()
            reply({"ok": True})
        elif op == "stats":
            reply(
                {
                    "injected": dict(sim.faults.injected),
                    "requests": {k.value: n for k, n in sim.requests.items()},
                    "handler_errors": dict(handler_errors),
                    "handler_samples": samples,
                }
            )
        elif op == "jobs":
            with sim.fleet.lock:
                jobs = {
                    kind.value: [
                        {"job_id": job.job_id, "name": job.name, "targets": sorted(job.targets)}
                        for job_id, job in sim.fleet.jobs[kind].items()
                        if job_id not in baseline[kind]
                    ]
                    for kind in ProviderKind
                }
            reply({"jobs": jobs})
        elif op == "resolve":  # platform keys (ids or IMEIs) → simulator device ids
            kind = ProviderKind(command["kind"])
            found = {}
            for key in command["keys"]:
                device = sim.fleet.find_device(kind, key)
                found[key] = device.device_id if device else None
            reply({"ids": found})
        elif op == "stop":
            break
        else:
            reply({"error": f"unknown op {op!r}"})
    server.close()
    reply({"stopped": True})
    return 0


class SimClock:
    """``now()`` on the simulator's clock (for the app, when the simulator runs faster)."""

    def __init__(self, sim: SimChild) -> None:
        self.sim = sim

    def now(self) -> datetime:
        return self.sim.now()


class SimChild:
    """The parent's handle on the simulator process."""

    def __init__(self, config: SoakConfig) -> None:
        self.config = config
        self.proc: asyncio.subprocess.Process | None = None
        self.root = ""
        self.sim_start: datetime | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        c = self.config
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            "--sim-child",
            f"--seed={c.seed}",
            f"--devices={c.devices}",
            f"--speed={c.speed}",
            *([f"--oc-rate-limit={c.oc_calls_per_minute}"] if c.oc_calls_per_minute else []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        hello = await self._read()
        self.root = hello["root"]
        self.sim_start = datetime.fromisoformat(hello["sim_now"])
        self._started = time.monotonic()

    def now(self) -> datetime:
        """The simulator's clock (wall time scaled by ``speed`` from its start)."""
        assert self.sim_start is not None
        elapsed = (time.monotonic() - self._started) * self.config.speed
        return self.sim_start + timedelta(seconds=elapsed)

    async def _read(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        if not line:
            raise RuntimeError("the simulator process ended")
        result: dict[str, Any] = json.loads(line)
        return result

    async def command(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        async with self._lock:
            self.proc.stdin.write((json.dumps({"op": op, **args}) + "\n").encode())
            await self.proc.stdin.drain()
            return await self._read()

    async def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.command("stop"), 10)
        with contextlib.suppress(ProcessLookupError):
            if self.proc.returncode is None:
                self.proc.terminate()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.proc.wait(), 10)


# --- probes -----------------------------------------------------------------------------


def rss_kib() -> int:
    """This process's resident set size (``VmRSS``), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


class ErrorLog(logging.Handler):
    """Counts ERROR records of fota_tui and asyncio (a logged traceback is a bug)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f" [{type(exc).__name__}: {exc}]"
        self.records.append(text)


@dataclass
class Refresh:
    """One refresh of one provider, as the scheduler reported it."""

    started: float
    ended: float | None = None
    ok: bool | None = None
    error: str = ""
    error_type: str = ""
    retry_in: float | None = None
    fetched_at: datetime | None = None

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started


@dataclass
class ProviderLog:
    name: str
    refreshes: list[Refresh] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # refresh failures that were bugs

    def add_started(self, t: float) -> None:
        self.refreshes.append(Refresh(started=t))

    def current(self, t: float) -> Refresh:
        if not self.refreshes or self.refreshes[-1].ended is not None:
            self.refreshes.append(Refresh(started=t))
        return self.refreshes[-1]


class EventRecorder:
    """Wraps the session's publish callback to time every refresh (the app still gets
    every event, unchanged and in order)."""

    def __init__(self, providers: list[str], clock: Callable[[], float]) -> None:
        self.logs = {name: ProviderLog(name) for name in providers}
        self.clock = clock

    def __call__(self, event: Any) -> None:
        log = self.logs.get(getattr(event, "provider", ""))
        if log is None:
            return
        t = self.clock()
        if isinstance(event, RefreshStarted):
            log.add_started(t)
        elif isinstance(event, Applied) and event.live:  # a refresh the session applied
            refresh = log.current(t)
            refresh.ended, refresh.ok = t, True
            refresh.fetched_at = event.source.snapshot.fetched_at
        elif isinstance(event, RefreshFailed):
            refresh = log.current(t)
            refresh.ended, refresh.ok, refresh.retry_in = t, False, event.retry_in
            refresh.error_type = type(event.error).__name__
            refresh.error = f"{event.error.title}: {event.error.message}"
            if event.error.message.startswith("unexpected error"):
                log.unexpected.append(event.error.message[:300])


class AppErrors:
    """Hooks the app's one error path (``report_error``: failed workers and the error
    screen) and Textual's unhandled-exception handler (a crash)."""

    def __init__(self, app: Any) -> None:
        from fota_tui.errors import FotaError

        self.worker_errors: list[str] = []  # non-FotaError: the error screen
        self.notices: list[str] = []  # FotaError from a worker: a notification
        self.crashes: list[str] = []
        report, handle = app.report_error, app._handle_exception

        def report_error(error: BaseException) -> None:
            text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            (self.notices if isinstance(error, FotaError) else self.worker_errors).append(text)
            report(error)

        def handle_exception(error: Exception) -> None:
            self.crashes.append(
                "".join(traceback.format_exception(type(error), error, error.__traceback__))
            )
            handle(error)

        app.report_error = report_error
        app._handle_exception = handle_exception


# --- campaigns --------------------------------------------------------------------------


@dataclass
class Attempt:
    provider: str
    at: float
    outcome: str  # created / failed / unknown / partial / blocked / not sent / error
    detail: str = ""
    devices: list[str] = field(default_factory=list)
    seconds: float = 0.0
    after_stop: bool = False  # still running when the faults stopped; finished after


PREVIEW_TRIES = 5
# Late listings (20 s), a platform clock 15 min behind ours, hostile text in every field,
# and one answer in 500 trickling over 30 s.
REAL_WORLD = "*:late_listing=20,*:skew=-900,*:hostile=1,*:slow_body=0.002"


def _unavailable(preview: Any) -> bool:
    """The preview failed only because the platform could not be read."""
    return bool(preview.problems) and all(
        p.rule == "eligibility.unavailable" for p in preview.problems
    )


class CampaignDriver:
    """One campaign creation per platform every ``every`` seconds, through the service."""

    def __init__(
        self,
        session: Any,
        app: Any,
        config: SoakConfig,
        now: Callable[[], datetime],
        rival: Any = None,
    ):
        self.session = session  # CampaignSession
        self.rival = rival  # a second CampaignSession on the same data dir (another process)
        self.app = app
        self.config = config
        self.now = now
        self.attempts: list[Attempt] = []
        self.bugs: list[str] = []  # non-FotaError exceptions out of the service
        self.used: dict[str, set[str]] = {}
        self.firmware: dict[str, list[Any]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._rivals: list[asyncio.Task[None]] = []
        self._started: dict[asyncio.Task[None], tuple[str, float]] = {}
        self.stopped_at: float | None = None  # when the faults stopped (clock)
        self.clock: Callable[[], float] = time.monotonic

    async def run(
        self,
        until: Callable[[], bool],
        clock: Callable[[], float],
        last_start: float = float("inf"),
    ) -> None:
        """Start the attempts as they fall due until ``until()``; none after ``last_start``."""
        self.clock = clock
        names = list(self.session.provider_names)
        start = clock()
        step = self.config.campaign_every
        due = {name: start + 1.0 + i * step / len(names) for i, name in enumerate(names)}
        while not until():
            t = clock()
            for name in names:
                if t >= due[name] and t < last_start:
                    due[name] += step
                    task = self._tasks.get(name)
                    if task is not None and not task.done():
                        self.attempts.append(Attempt(name, t, "skipped", "previous still running"))
                        continue
                    self._tasks[name] = task = asyncio.create_task(self._attempt(name, clock))
                    self._started[task] = (name, t)
            await asyncio.sleep(0.2)

    def in_flight(self) -> list[asyncio.Task[None]]:
        return [t for t in [*self._tasks.values(), *self._rivals] if not t.done()]

    async def drain(self, timeout: float | None = None) -> list[asyncio.Task[None]]:
        """Wait for the attempts in flight, at most ``timeout`` seconds (None: until they
        end); returns those still running (nothing is cancelled)."""
        tasks = self.in_flight()
        if not tasks:
            return []
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        return sorted(pending, key=lambda t: self._started.get(t, ("", float("inf")))[1])

    def describe(self, tasks: list[asyncio.Task[None]], now: float) -> list[str]:
        """``name: started N s before`` (``now``) for each task; a rival's is unnamed."""
        out = []
        for task in tasks:
            name, started = self._started.get(task, ("rival applier", now))
            out.append(f"{name}: started {now - started:.1f} s before")
        return out

    async def finish(self, timeout: float) -> list[str]:
        """After the faults stopped: let the attempts still in flight end; those still
        running after ``timeout`` are cancelled (a user's Ctrl+C) and named."""
        pending = await self.drain(timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        return self.describe(pending, self.clock())

    async def _attempt(self, name: str, clock: Callable[[], float]) -> None:
        from fota_tui.errors import FotaError
        from fota_tui.services.campaigns import SubmissionBlocked

        t0 = clock()
        attempt = Attempt(name, t0, "error")
        try:
            service = self.session.service(name)
            spec = await self._spec(service)
            if spec is None:
                attempt.outcome, attempt.detail = "not sent", "no eligible devices in the pane"
                return
            attempt.devices = list(spec.devices)
            self.used.setdefault(name, set()).update(spec.devices)
            # Under faults the dry run's reads fail often: try again, as a user would.
            for _ in range(PREVIEW_TRIES):
                preview = await service.preview(spec)
                if preview.ok or not _unavailable(preview):
                    break
                await asyncio.sleep(1.0)
            if not preview.ok:
                first = preview.problems[0] if preview.problems else None
                attempt.outcome = "not sent"
                attempt.detail = f"preview: {first.message if first else 'no job'}"[:160]
                return
            if self.rival is not None:  # the same file, applied by someone else at once
                self.attempts.append(await self._rival(name, spec, clock))
            submission = await service.submit(preview)
            attempt.outcome = submission.outcome
            attempt.detail = ", ".join(submission.campaign_ids)
            last = submission.entries[-1] if submission.entries else None
            if submission.outcome != "created" and last is not None:
                error = f"{last.error.title}: {last.error.message}" if last.error else ""
                note = last.events[-1].note if last.events else ""
                attempt.detail = f"{error} / {note}".strip(" /")
            attempt.detail = attempt.detail[:160]
        except SubmissionBlocked as exc:
            attempt.outcome, attempt.detail = "blocked", exc.message[:160]
        except FotaError as exc:
            attempt.outcome, attempt.detail = "failed", f"{exc.title}: {exc.message}"[:160]
        except Exception as exc:  # a bug in the campaign service: reported, never hidden
            attempt.outcome, attempt.detail = "bug", repr(exc)[:160]
            self.bugs.append(traceback.format_exc())
        except asyncio.CancelledError:
            attempt.outcome, attempt.detail = "cancelled", "still running at the end of the run"
            raise
        finally:
            attempt.seconds = clock() - t0
            attempt.after_stop = self.stopped_at is not None
            self.attempts.append(attempt)

    async def _rival(self, name: str, spec: Any, clock: Callable[[], float]) -> Attempt:
        """Start the rival's submit of ``spec`` now; it races the driver's own."""
        from fota_tui.errors import FotaError
        from fota_tui.services.campaigns import SubmissionBlocked

        attempt = Attempt(f"{name} (rival)", clock(), "error", devices=list(spec.devices))
        service = self.rival.service(name)

        async def run() -> None:
            try:
                preview = await service.preview(spec)
                if not preview.ok:
                    attempt.outcome, attempt.detail = "not sent", "preview refused"
                    return
                submission = await service.submit(preview)
                attempt.outcome = submission.outcome
                attempt.detail = ", ".join(submission.campaign_ids)[:160]
            except SubmissionBlocked as exc:
                attempt.outcome, attempt.detail = "blocked", exc.message[:160]
            except FotaError as exc:
                attempt.outcome, attempt.detail = "failed", f"{exc.title}: {exc.message}"[:160]
            except Exception as exc:
                attempt.outcome, attempt.detail = "bug", repr(exc)[:160]
                self.bugs.append(traceback.format_exc())
            except asyncio.CancelledError:
                attempt.outcome, attempt.detail = "cancelled", "still running at the end"
                raise
            finally:
                attempt.after_stop = self.stopped_at is not None

        self._rivals.append(asyncio.create_task(run()))
        return attempt

    async def _spec(self, service: Any) -> Any:
        """A valid spec for ``campaign_devices`` idle devices the pane shows (never one
        targeted before in this run)."""
        from fota_tui.models import CampaignSpec, ExecuteType

        snapshot = self.app.session.snapshot(service.name)
        if snapshot is None:
            return None
        busy = {u.device_id for u in snapshot.upgrades if u.state.active}
        used = self.used.get(service.name, set())
        idle = [
            d
            for d in snapshot.devices
            if d.device_id not in busy and d.device_id not in used and (d.imei or "") not in used
        ]
        # Whole seconds: OceanConnect's wire format has no fractions.
        now = self.now().replace(microsecond=0)
        count, kind = self.config.campaign_devices, service.kind
        if kind in (ProviderKind.THINGSPACE, ProviderKind.OCEANCONNECT):
            if service.name not in self.firmware:
                self.firmware[service.name] = await service.firmware()
            for fw in self.firmware[service.name]:
                if kind is ProviderKind.THINGSPACE:
                    fits = [
                        d.device_id
                        for d in idle
                        if (d.make, d.model) == (fw.make, fw.model) and d.firmware != fw.version
                    ]
                    if fw.protocol == "LWM2M" and len(fits) >= count:
                        return CampaignSpec(
                            provider=service.name,
                            firmware=fw.firmware_id,
                            devices=fits[:count],
                            start_at=now,
                            end_at=now + timedelta(days=7),
                            windows=[(0, 24)],
                            options={"auto_assign_license": True},
                        )
                else:
                    fits = [
                        d.device_id
                        for d in idle
                        if (d.model, d.device_type) == (fw.model, fw.device_type)
                        and d.firmware != fw.version
                    ]
                    if fw.file_type == "firmware" and len(fits) >= count:
                        return CampaignSpec(
                            provider=service.name,
                            firmware=fw.firmware_id,
                            devices=fits[:count],
                            execute_type=ExecuteType.CUSTOM,
                            start_at=now + timedelta(minutes=10),
                            end_at=now + timedelta(days=1),
                            retry_times=2,
                            options={"retry": True},
                        )
            return None
        if kind is ProviderKind.ONENET:
            return CampaignSpec(
                provider=service.name,
                firmware=ONENET_URI,
                firmware_to="BC28JAR01A09",
                devices=[d.imei or d.device_id for d in idle][:count],
                end_at=now + timedelta(days=2),
                options={"retry": 2, "timeout": 30, "trigger_msg": 7},
            )
        return CampaignSpec(
            provider=service.name,
            firmware=AOVX_URL,
            devices=[d.device_id for d in idle][:count],
            options={"type": 0, "mode": 0, "protocol": 1},
        )


async def compare_ledger(
    session: Any, sim: SimChild, kinds: dict[str, ProviderKind]
) -> dict[str, dict[str, Any]]:
    """Journal (after reconciling) against the simulator's jobs created during the run.

    Native platforms (ThingSpace, OceanConnect) are compared by job id; platforms without
    job ids (OneNET: one command per IMEI, AOVX: one command per send) by device, since
    the journal keeps their grouping. Devices the journal holds back as unconfirmed (a
    lost answer in a multi-request create) may or may not have a job: they are reported,
    never counted as a mismatch.
    """
    jobs = (await sim.command("jobs"))["jobs"]
    out: dict[str, dict[str, Any]] = {}
    for name, kind in kinds.items():
        service = session.service(name)
        reconciled = await service.reconcile_pending()
        entries = service.history()
        sim_jobs = jobs[kind.value]
        keys = sorted({d for e in entries for d in e.device_ids})
        ids = (await sim.command("resolve", kind=kind.value, keys=keys))["ids"] if keys else {}

        def sim_ids(devices: list[str] | tuple[str, ...], ids: dict[str, Any] = ids) -> set[str]:
            return {ids.get(d) or f"?{d}" for d in devices}

        created = [e for e in entries if e.state == "created"]
        unresolved = [e.submission_id for e in entries if e.unresolved]
        device_jobs = Counter(t for job in sim_jobs for t in job["targets"])
        duplicates = sorted(d for d, n in device_jobs.items() if n > 1)
        unconfirmed = set().union(*(sim_ids(e.unconfirmed) for e in entries))
        row: dict[str, Any] = {
            "entries": len(entries),
            "created": len(created),
            "failed": sum(e.state == "failed" for e in entries),
            "unresolved": unresolved,
            "reconciled_now": len(reconciled),
            "sim_jobs": len(sim_jobs),
            "duplicates": duplicates,
            "unconfirmed": sorted(unconfirmed),
            "unconfirmed_with_job": sorted(unconfirmed & set(device_jobs)),
        }
        if kind in (ProviderKind.THINGSPACE, ProviderKind.OCEANCONNECT):
            claimed = Counter(cid for e in created for cid in e.campaign_ids)
            real = {job["job_id"] for job in sim_jobs}
            row["duplicates"] += sorted(cid for cid, n in claimed.items() if n > 1)
            row["unjournaled"] = sorted(real - set(claimed))
            row["phantom"] = sorted(set(claimed) - real)
        else:
            reached = set().union(
                *(sim_ids(e.device_ids) - sim_ids(e.not_reached) for e in created)
            )
            targeted = set(device_jobs)
            row["unjournaled"] = sorted(targeted - reached - unconfirmed)
            row["phantom"] = sorted(reached - targeted - unconfirmed)
        row["ok"] = not (row["duplicates"] or row["unjournaled"] or row["phantom"] or unresolved)
        out[name] = row
    return out


# --- the run ----------------------------------------------------------------------------


@dataclass
class PaneRecovery:
    provider: str
    recovered_after: float | None  # seconds after the faults stopped
    budget: float
    in_flight_tail: float  # a refresh running at the stop ended this much later
    tail_cause: str
    pending_at_stop: float | None  # the scheduler's next try, seconds after the stop
    recovering_refresh: float | None  # its duration
    state_at_stop: str

    @property
    def ok(self) -> bool:
        return self.recovered_after is not None and self.recovered_after <= self.budget


@dataclass
class Criterion:
    name: str
    figure: str
    limit: str
    ok: bool


@dataclass
class SoakResult:
    config: SoakConfig
    criteria: list[Criterion] = field(default_factory=list)
    recovery: list[PaneRecovery] = field(default_factory=list)
    ledger: dict[str, dict[str, Any]] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    refresh_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    injected: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    server_errors: dict[str, int] = field(default_factory=dict)
    rss: list[tuple[float, int]] = field(default_factory=list)
    rss_baseline: int = 0
    rss_end: int = 0
    rss_growth: float = 0.0
    crashes: list[str] = field(default_factory=list)
    worker_errors: list[str] = field(default_factory=list)
    unexpected_refresh_errors: list[str] = field(default_factory=list)
    logged_errors: list[str] = field(default_factory=list)
    campaign_bugs: list[str] = field(default_factory=list)
    notices: int = 0
    in_flight_at_stop: list[str] = field(default_factory=list)  # attempts, after the drain
    cancelled_at_end: list[str] = field(default_factory=list)  # attempts that never ended
    phases: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.criteria) and all(c.ok for c in self.criteria)

    def criterion(self, name: str) -> Criterion:
        return next(c for c in self.criteria if c.name == name)


def _refresh_stats(logs: dict[str, ProviderLog], t_faults: float, t_stop: float) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for name, log in logs.items():
        done = [r for r in log.refreshes if r.ended is not None]
        during = [r for r in done if t_faults <= r.started < t_stop]
        ok = [r.duration for r in done if r.ok and r.duration is not None]
        errors = Counter(r.error_type for r in during if r.ok is False)
        samples: dict[str, str] = {}
        for r in done:
            if r.ok is False:
                samples.setdefault(r.error_type, r.error[:160])
        stats[name] = {
            "refreshes": len(done),
            "during_faults": len(during),
            "failed_during_faults": sum(r.ok is False for r in during),
            "errors": dict(errors.most_common()),
            "median_ok_s": round(statistics.median(ok), 2) if ok else None,
            "max_ok_s": round(max(ok), 2) if ok else None,
            "max_backoff_s": round(max((r.retry_in or 0 for r in during), default=0), 1),
            "samples": samples,
            "after_stop": [
                f"+{r.started - t_stop:.1f}..+{(r.ended or 0) - t_stop:.1f} s "
                + ("ok" if r.ok else f"{r.error[:120]} (next in {r.retry_in or 0:.1f} s)")
                for r in log.refreshes
                if r.ended is not None and r.ended > t_stop
            ][:6],
        }
    return stats


def _recovery(
    name: str,
    log: ProviderLog,
    t_stop: float,
    shown_at: float | None,
    pending: float | None,
    refresh: float,
) -> PaneRecovery:
    """Judge one pane's recovery.

    Budget: one interval (+ jitter) + the duration of the refresh that recovered, counted
    from the stop, or from the end of a refresh that was in flight then and failed (its
    requests met the last faults). When the platform throttled the provider (every failure
    after the stop, or the last one before it, was ``ProviderRateLimited``), the scheduler
    rightly waits out ``retry_after``: the budget is then the time until the recovering
    refresh started + its duration + jitter, and the wait is reported as throttling.
    """
    limited = "ProviderRateLimited"
    in_flight = next(
        (r for r in log.refreshes if r.started <= t_stop and (r.ended or 1e18) > t_stop), None
    )
    before = [r for r in log.refreshes if r.ended is not None and r.ended <= t_stop]
    state = "idle"
    if in_flight is not None:
        state = "refreshing"
    elif before:
        state = "ok" if before[-1].ok else f"failing ({before[-1].error_type})"
    recovering = next(
        (r for r in log.refreshes if r.ok and r.ended is not None and r.ended > t_stop), None
    )
    duration = recovering.duration if recovering else None
    tail, cause = 0.0, ""
    if in_flight is not None and in_flight.ok is False and in_flight.ended is not None:
        tail = in_flight.ended - t_stop
        cause = f"in-flight refresh failed ({in_flight.error_type})"
    budget = tail + refresh * (1 + SCHEDULER_JITTER) + (duration or 0.0) + SHOW_SLACK
    failed_after = [
        r
        for r in log.refreshes
        if r.ok is False
        and r.ended is not None
        and r.ended > t_stop
        and (recovering is None or r.started < recovering.started)
    ]
    last_before = in_flight if in_flight is not None else (before[-1] if before else None)
    throttled = (failed_after and all(r.error_type == limited for r in failed_after)) or (
        not failed_after and last_before is not None and last_before.error_type == limited
    )
    if throttled and recovering is not None and duration is not None:
        wait = recovering.started - t_stop
        budget = max(budget, wait + duration + refresh * SCHEDULER_JITTER + SHOW_SLACK)
        cause = f"throttled by the platform: waited {wait:.1f} s (retry_after)"
    return PaneRecovery(
        provider=name,
        recovered_after=None if shown_at is None else shown_at - t_stop,
        budget=budget,
        in_flight_tail=tail,
        tail_cause=cause,
        pending_at_stop=pending,
        recovering_refresh=duration,
        state_at_stop=state,
    )


async def run_soak(
    config: SoakConfig,
    *,
    progress: Callable[[str], None] | None = None,
    workdir: Path | None = None,
) -> SoakResult:
    """Run the soak and judge it (see the module docstring). Files (journal, cache) go
    to ``workdir``, or to a temporary directory removed afterwards."""
    from fota_tui.services.campaigns import open_session
    from fota_tui.sim.demo import demo_profile
    from fota_tui.sim.server import Simulator
    from fota_tui.tui.app import make_app
    from fota_tui.tui.screens.error import ErrorScreen
    from fota_tui.tui.screens.wizard_session import campaign_session

    say = progress or (lambda text: None)
    result = SoakResult(config)
    clock = time.monotonic
    t0 = clock()
    error_log = ErrorLog()
    loggers = [logging.getLogger("fota_tui"), logging.getLogger("asyncio")]
    for logger in loggers:
        logger.addHandler(error_log)
    sim = SimChild(config)
    scratch = None
    if workdir is None:
        scratch = tempfile.TemporaryDirectory(prefix="fota-soak-")
        workdir = Path(scratch.name)
    base = workdir
    campaigns: Any = None  # the console's campaign session (borrows its clients)
    ledger: Any = None  # a fresh session after the console closed, as the CLI opens one
    try:
        await sim.start()
        say(f"simulator on {sim.root} ({config.devices} devices)")
        # The profile only needs the base URLs and the demo credentials.
        shape = Simulator.build(seed=config.seed, devices=len(ProviderKind))
        profile = demo_profile(shape, sim.root, refresh_interval=config.refresh)
        del shape
        if config.oc_calls_per_minute:  # the same budget as the simulator's (``short``)
            budget = {"rate_limit_per_minute": config.oc_calls_per_minute}
            providers = [
                p.model_copy(update=budget) if p.kind is ProviderKind.OCEANCONNECT else p
                for p in profile.providers
            ]
            profile = profile.model_copy(update={"providers": providers})
        kinds = {p.name: p.kind for p in profile.providers}
        data_dir = base / "data"

        from fota_tui.config.paths import AppPaths

        paths = AppPaths(
            config_dir=base / "config",
            profiles_dir=base / "config" / "profiles",
            cache_dir=base / "cache",
            data_dir=data_dir,
            log_dir=base / "log",
        )
        # The campaign service runs on the app's clock (``app.now``), like the wizard's:
        # wall time, which is the simulator's unless it runs faster.
        fleet_clock = None if config.speed == 1.0 else SimClock(sim)
        app = make_app(profile, paths=paths, clock=fleet_clock)
        # As the wizard and the campaign operations do: the console's clients (one rate
        # limiter and one token per platform account) and the journal in its data dir.
        campaigns = campaign_session(app)
        errors = AppErrors(app)
        recorder = EventRecorder(list(kinds), clock)
        publish = app.session._publish  # the app's callback (posts a Textual message)
        assert publish is not None

        def observe(event: Any) -> None:
            recorder(event)
            publish(event)

        app.session._publish = observe
        rival = open_session(profile, data_dir, now=sim.now) if config.appliers > 1 else None
        driver = CampaignDriver(campaigns, app, config, sim.now, rival)
        stop_rss = asyncio.Event()

        async def sample_rss() -> None:
            while not stop_rss.is_set():
                result.rss.append((clock() - t0, rss_kib()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop_rss.wait(), config.rss_every)

        def panes() -> dict[str, Any]:
            grid = app.dashboard().grid
            return {name: grid.pane(name).view for name in kinds}

        def crashed() -> bool:
            return bool(errors.crashes) or not app.is_running

        async def sleep_until(deadline: float, check: Callable[[], bool] | None = None) -> None:
            while clock() < deadline and not crashed():
                if check is not None and check():
                    return
                await asyncio.sleep(0.05)

        rss_task: asyncio.Task[None] | None = None
        try:
            async with app.run_test(size=config.size):
                rss_task = asyncio.create_task(sample_rss())
                # Warm-up: every pane shows live data once.
                await sleep_until(
                    clock() + config.warmup_timeout,
                    lambda: all(v.health == "ok" for v in panes().values()),
                )
                t_faults = clock()
                result.phases["warmup_s"] = t_faults - t0
                say(f"warm-up done in {t_faults - t0:.1f} s; faults on")
                await sim.command("faults", spec=config.fault_spec)
                t_end_faults = t0 + config.duration
                driving = asyncio.create_task(
                    driver.run(
                        lambda: clock() >= t_end_faults or crashed(),
                        clock,
                        last_start=t_end_faults - config.quiet_tail,
                    )
                )
                next_note = clock() + 60
                while clock() < t_end_faults and not crashed():
                    await asyncio.sleep(0.2)
                    if clock() >= next_note:
                        next_note += 60
                        rss = result.rss[-1][1] if result.rss else 0
                        say(
                            f"t={clock() - t0:.0f}s rss={rss / 1024:.1f} MiB "
                            f"campaign attempts={len(driver.attempts)}"
                        )
                await driving
                # In-flight creations go on under faults (at most ``drain_timeout``); those
                # still running then are named and finish after the faults stop.
                still = await driver.drain(config.drain_timeout)
                driver.stopped_at = clock()
                result.in_flight_at_stop = driver.describe(still, driver.stopped_at)
                # Recovery: faults off; wait for every pane to show fresh, healthy data.
                await sim.command("clear")
                t_stop = clock()
                result.phases["faults_s"] = t_stop - t_faults
                say(f"faults off at t={t_stop - t0:.1f}s; measuring recovery")
                schedules = app.session.scheduler.schedules
                pending = {
                    n: (None if s.running else max(s.due - t_stop, 0.0))
                    for n, s in schedules.items()
                }
                shown: dict[str, float] = {}

                def recovered() -> bool:
                    for name, view in panes().items():
                        if name in shown:
                            continue
                        fresh = [
                            r.fetched_at
                            for r in recorder.logs[name].refreshes
                            if r.ok and r.ended is not None and r.ended > t_stop
                        ]
                        if (
                            fresh
                            and view.health == "ok"
                            and not view.stale
                            and not view.from_cache
                            and view.fetched_at is not None
                            and view.fetched_at >= fresh[0]
                        ):
                            shown[name] = clock()
                    return len(shown) == len(kinds)

                await sleep_until(t_stop + config.recovery_timeout, recovered)
                result.phases["recovery_s"] = clock() - t_stop
                result.cancelled_at_end = await driver.finish(30.0)
                # One more interval with clean data, then the end-of-run RSS sample.
                await sleep_until(clock() + config.refresh)
                stop_rss.set()
                await rss_task
                result.rss.append((clock() - t0, rss_kib()))
                result.recovery = [
                    _recovery(
                        n, recorder.logs[n], t_stop, shown.get(n), pending.get(n), config.refresh
                    )
                    for n in kinds
                ]
                if any(isinstance(s, ErrorScreen) for s in app.screen_stack) and not (
                    errors.worker_errors
                ):
                    errors.worker_errors.append("an ErrorScreen is on the screen stack")
                still_running = app.is_running
                if still_running:
                    await app.action_quit()
        except Exception as exc:  # Textual re-raises an app crash when the test run ends
            errors.crashes.append(
                "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            )
            still_running = False
        finally:
            stop_rss.set()
            if rss_task is not None and not rss_task.done():
                rss_task.cancel()

        # The ledger: reconcile the journal (faults are off) and compare with the jobs,
        # from a new session (the console has closed its clients), as the CLI would.
        say("reconciling the journal")
        await campaigns.aclose()
        if driver.rival is not None:
            await driver.rival.aclose()
        # Read as it would be once the settle period is over: a lost create the platform
        # still does not show is then concluded absent (before, it stays unknown).
        settled = timedelta(seconds=max(p.settle_seconds for p in profile.providers) + 1)
        ledger = open_session(profile, data_dir, now=lambda: sim.now() + settled)
        result.ledger = await compare_ledger(ledger, sim, kinds)
        stats = await sim.command("stats")
        result.injected = stats["injected"]
        result.requests = stats["requests"]
        result.server_errors = stats["handler_errors"]
        result.attempts = driver.attempts
        result.campaign_bugs = driver.bugs
        result.crashes = errors.crashes
        result.worker_errors = errors.worker_errors
        result.notices = len(errors.notices)
        result.unexpected_refresh_errors = [
            f"{n}: {m}" for n, log in recorder.logs.items() for m in log.unexpected
        ]
        result.logged_errors = list(error_log.records)
        t_stop_rel = result.phases.get("warmup_s", 0) + result.phases.get("faults_s", 0)
        result.refresh_stats = _refresh_stats(
            recorder.logs, t0 + result.phases.get("warmup_s", 0), t0 + t_stop_rel
        )
        _judge(result, still_running)
    finally:
        for logger in loggers:
            logger.removeHandler(error_log)
        for session in (campaigns, ledger):
            if session is not None:
                with contextlib.suppress(Exception):
                    await session.aclose()
        await sim.stop()
        if scratch is not None:
            scratch.cleanup()
        result.wall = time.monotonic() - t0
    return result


def _judge(result: SoakResult, still_running: bool) -> None:
    c = result.config
    crit = result.criteria
    crashes = len(result.crashes) + (0 if still_running else 1)
    crit.append(
        Criterion(
            "no crash",
            f"{len(result.crashes)} exceptions, app "
            f"{'running' if still_running else 'NOT running'} at the end",
            "0, running",
            crashes == 0,
        )
    )
    worker = (
        len(result.worker_errors)
        + len(result.unexpected_refresh_errors)
        + len(result.logged_errors)
        + len(result.campaign_bugs)
    )
    crit.append(
        Criterion(
            "no unhandled worker error",
            f"{len(result.worker_errors)} error screens/failed workers, "
            f"{len(result.unexpected_refresh_errors)} unexpected refresh errors, "
            f"{len(result.logged_errors)} logged errors, {len(result.campaign_bugs)} service bugs",
            "0",
            worker == 0,
        )
    )
    slow = [r for r in result.recovery if not r.ok]
    worst = max(
        (r.recovered_after - r.budget for r in result.recovery if r.recovered_after is not None),
        default=0.0,
    )
    crit.append(
        Criterion(
            "every pane recovers in budget",
            f"{len(result.recovery) - len(slow)}/{len(result.recovery)} panes"
            + (f" (worst {worst:+.1f} s vs budget)" if result.recovery else ""),
            f"interval {c.refresh:g} s (+{SCHEDULER_JITTER:.0%}) + refresh duration",
            bool(result.recovery) and not slow,
        )
    )
    bad = {n: r for n, r in result.ledger.items() if not r["ok"]}
    created = sum(r["created"] for r in result.ledger.values())
    jobs = sum(r["sim_jobs"] for r in result.ledger.values())
    crit.append(
        Criterion(
            "journal == simulator jobs",
            f"{created} created entries, {jobs} new simulator jobs; mismatched: "
            + (", ".join(bad) or "none"),
            "no duplicate / unjournaled / phantom / unresolved",
            bool(result.ledger) and not bad,
        )
    )
    # Minute 1, but never before the warm-up (the first data of every pane) ended.
    base_at = max(c.rss_baseline_at, result.phases.get("warmup_s", 0.0))
    base = next((kib for t, kib in result.rss if t >= base_at), 0)
    end = result.rss[-1][1] if result.rss else 0
    result.rss_baseline, result.rss_end = base, end
    result.rss_growth = (end - base) / base if base else float("inf")
    crit.append(
        Criterion(
            f"RSS growth from {base_at:g} s to the end",
            f"{base / 1024:.1f} → {end / 1024:.1f} MiB ({result.rss_growth:+.1%}), "
            f"peak {max((k for _, k in result.rss), default=0) / 1024:.1f} MiB",
            f"< {RSS_LIMIT:.0%}",
            base > 0 and result.rss_growth < RSS_LIMIT,
        )
    )


# --- the report -------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def report(result: SoakResult) -> str:
    c = result.config
    length = f"{c.minutes:g} min" if c.duration >= 120 else f"{c.duration:.0f} s"
    parts = [
        f"fault soak: {length}, chaos {c.fault_rate:.0%} on every platform, refresh "
        f"{c.refresh:g} s, {c.devices} devices, seed {c.seed}; wall {result.wall:.0f} s "
        f"(warm-up {result.phases.get('warmup_s', 0):.1f} s, faults "
        f"{result.phases.get('faults_s', 0):.0f} s, recovery "
        f"{result.phases.get('recovery_s', 0):.1f} s)",
        *(
            [
                f"OceanConnect: {c.oc_calls_per_minute} calls a minute (profile and simulator)"
                + ("" if c.oc_throttle else "; its faults: the chaos's kinds but throttle, slow")
            ]
            if c.oc_calls_per_minute or not c.oc_throttle
            else []
        ),
        "",
        "Faults injected: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.injected.items()))
        + f" (of {sum(result.requests.values())} requests: "
        + ", ".join(f"{k} {v}" for k, v in result.requests.items())
        + ")",
        "Simulator connection errors (client went away): "
        + (", ".join(f"{k} {v}" for k, v in result.server_errors.items()) or "none"),
        "",
        "Refreshes",
        table(
            [
                "provider",
                "total",
                "under faults",
                "failed",
                "median ok",
                "max ok",
                "max backoff",
                "failures by type",
            ],
            [
                [
                    n,
                    str(s["refreshes"]),
                    str(s["during_faults"]),
                    str(s["failed_during_faults"]),
                    f"{s['median_ok_s']} s",
                    f"{s['max_ok_s']} s",
                    f"{s['max_backoff_s']} s",
                    ", ".join(f"{k} {v}" for k, v in s["errors"].items()),
                ]
                for n, s in result.refresh_stats.items()
            ],
        ),
    ]
    for name, stats in result.refresh_stats.items():
        for kind, text in stats["samples"].items():
            parts.append(f"  {name} {kind}: {text}")
    parts += [
        "",
        "Recovery after the faults stopped",
        table(
            ["pane", "at stop", "next try", "recovered", "refresh", "budget", "ok", "note"],
            [
                [
                    r.provider,
                    r.state_at_stop,
                    "-" if r.pending_at_stop is None else f"+{r.pending_at_stop:.1f} s",
                    "never" if r.recovered_after is None else f"{r.recovered_after:.1f} s",
                    "-" if r.recovering_refresh is None else f"{r.recovering_refresh:.1f} s",
                    f"{r.budget:.1f} s",
                    "yes" if r.ok else "NO",
                    r.tail_cause,
                ]
                for r in result.recovery
            ],
        ),
    ]
    for r in result.recovery:
        if not r.ok:
            after = result.refresh_stats.get(r.provider, {}).get("after_stop", [])
            parts.append(f"  {r.provider} after the stop: " + ("; ".join(after) or "no refresh"))
    parts += [
        "",
        "Campaign creation under faults (outcomes per platform)",
        table(
            ["provider", "attempts", "outcomes"],
            [
                [
                    n,
                    str(sum(a.provider == n for a in result.attempts)),
                    ", ".join(
                        f"{k} {v}"
                        for k, v in Counter(
                            a.outcome for a in result.attempts if a.provider == n
                        ).most_common()
                    ),
                ]
                for n in result.ledger
            ],
        ),
    ]
    late = [a for a in result.attempts if a.after_stop]
    parts.append(
        f"Still in flight {c.drain_timeout:g} s after the end of the fault period (then "
        "finished against the healthy platform): "
        + ("; ".join(result.in_flight_at_stop) or "none")
        + (
            " → " + ", ".join(f"{a.provider} {a.outcome} after {a.seconds:.1f} s" for a in late)
            if late
            else ""
        )
        if c.drain_timeout is not None
        else f"Attempts ended after the faults stopped: {len(late)}"
    )
    if result.cancelled_at_end:
        parts.append("Cancelled at the end (never ended): " + "; ".join(result.cancelled_at_end))
    seen: set[tuple[str, str, str]] = set()
    for a in result.attempts:
        key = (a.provider, a.outcome, a.detail[:70])
        if a.outcome != "created" and key not in seen and len(seen) < 12:
            seen.add(key)
            parts.append(f"  {a.provider} {a.outcome}: {a.detail}")
    parts += [
        "",
        "Journal (after reconcile_pending) against the simulator",
        table(
            [
                "provider",
                "entries",
                "created",
                "failed",
                "sim jobs",
                "duplicates",
                "unjournaled",
                "phantom",
                "unresolved",
                "held (unconfirmed)",
            ],
            [
                [
                    n,
                    str(r["entries"]),
                    str(r["created"]),
                    str(r["failed"]),
                    str(r["sim_jobs"]),
                    str(len(r["duplicates"])),
                    str(len(r["unjournaled"])),
                    str(len(r["phantom"])),
                    str(len(r["unresolved"])),
                    f"{len(r['unconfirmed'])} ({len(r['unconfirmed_with_job'])} with a job)",
                ]
                for n, r in result.ledger.items()
            ],
        ),
        "",
        f"Notifications from worker errors (FotaError, expected under faults): {result.notices}",
    ]
    for title, items in (
        ("Crashes", result.crashes),
        ("Error screens / failed workers", result.worker_errors),
        ("Unexpected refresh errors", result.unexpected_refresh_errors),
        ("Logged errors", result.logged_errors),
        ("Campaign service bugs", result.campaign_bugs),
    ):
        if items:
            counted = Counter(item.strip().splitlines()[-1][:200] for item in items)
            parts += ["", f"{title} ({len(items)}):"]
            parts += [f"  {n}x {text}" for text, n in counted.most_common(8)]
    mismatches = {n: r for n, r in result.ledger.items() if not r["ok"]}
    for name, row in mismatches.items():
        parts.append(
            f"  {name}: duplicates {row['duplicates'][:5]}, unjournaled {row['unjournaled'][:5]},"
            f" phantom {row['phantom'][:5]}, unresolved {row['unresolved'][:5]}"
        )
    parts += [
        "",
        "Pass criteria",
        table(
            ["criterion", "figure", "limit", "result"],
            [[k.name, k.figure, k.limit, "PASS" if k.ok else "FAIL"] for k in result.criteria],
        ),
        "",
        "PASS" if result.passed else "FAIL",
    ]
    return "\n".join(parts)


def to_json(result: SoakResult) -> dict[str, Any]:
    data = asdict(result)
    data["passed"] = result.passed
    data["recovery"] = [{**asdict(r), "ok": r.ok} for r in result.recovery]
    return data


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--sim-child" in argv:
        return child_main(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="from the start until the faults stop (default: %(default)s)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.2,
        help="share of requests with a fault (default: %(default)s)",
    )
    parser.add_argument(
        "--refresh",
        type=float,
        default=2.0,
        help="refresh interval in seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--devices", type=int, default=2000, help="fleet size (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=7, help="simulator seed (default: %(default)s)")
    parser.add_argument(
        "--campaign-every",
        type=float,
        default=30.0,
        help="seconds between creations per platform (default: %(default)s)",
    )
    parser.add_argument(
        "--rss-from",
        type=float,
        default=None,
        help="RSS baseline time in seconds (default: 60, or 10 under 2 minutes)",
    )
    parser.add_argument(
        "--recovery-timeout",
        type=float,
        default=120.0,
        help="longest wait for the panes to recover (default: %(default)s)",
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="the CI form (25 s to the end of the faults, 400 devices, a campaign every 6 s,"
        " OceanConnect's call window left out; see SoakConfig.short); other options are ignored",
    )
    parser.add_argument(
        "--real-world",
        action="store_true",
        help=f"add the real world to the chaos: {REAL_WORLD}",
    )
    parser.add_argument(
        "--appliers",
        type=int,
        default=1,
        help="submitters applying the same spec at once (default: %(default)s)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate: expected a share between 0 and 1")
    if args.refresh < 1 or args.minutes <= 0 or args.devices < 4:
        parser.error("--refresh must be >= 1, --minutes > 0 and --devices >= 4")
    config = (
        SoakConfig.short()
        if args.short
        else SoakConfig(
            minutes=args.minutes,
            fault_rate=args.fault_rate,
            refresh=args.refresh,
            devices=args.devices,
            seed=args.seed,
            campaign_every=args.campaign_every,
            rss_from=args.rss_from,
            recovery_timeout=args.recovery_timeout,
        )
    )
    config = dataclasses.replace(
        config, real_world=REAL_WORLD if args.real_world else "", appliers=args.appliers
    )

    def progress(text: str) -> None:
        print(f"[soak] {text}", file=sys.stderr, flush=True)

    result = asyncio.run(run_soak(config, progress=progress))
    print(clean(report(result), keep_newlines=True))  # platform text (hostile) shown, not obeyed
    if args.json:
        args.json.write_text(json.dumps(to_json(result), indent=2, default=str) + "\n")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())

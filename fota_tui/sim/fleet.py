"""The vendor-neutral fleet and job state machine behind every dialect.

A job (campaign, task, OTA command batch) gives each target device a precomputed,
seeded timeline of phases. The phase at any instant is read from that timeline, so
state is deterministic for a seed and a clock, costs nothing while idle, and scales
to 100,000 devices. Dialects translate phases and neutral failure reasons into each
platform's own words.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from fota_tui.models import ProviderKind
from fota_tui.sim.clock import Clock


class Phase(StrEnum):
    PENDING = "pending"  # accepted, not yet validated
    QUEUED = "queued"  # validated, waiting for start time / device
    SENDING = "sending"  # pushed to the device
    DOWNLOADING = "downloading"
    INSTALLING = "installing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = {Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED, Phase.EXPIRED}


class Reason(StrEnum):
    """Neutral failure reasons; each dialect words them its own way."""

    DOWNLOAD_FAILED = "download_failed"
    OUT_OF_STORAGE = "out_of_storage"
    OUT_OF_MEMORY = "out_of_memory"
    CONNECTION_LOST = "connection_lost"
    INTEGRITY_CHECK_FAILED = "integrity_check_failed"
    UNSUPPORTED_PACKAGE = "unsupported_package"
    INVALID_URI = "invalid_uri"
    UPDATE_FAILED = "update_failed"
    DEVICE_TIMEOUT = "device_timeout"
    LOW_BATTERY = "low_battery"
    DEVICE_REJECTED = "device_rejected"  # platform-side validation
    DELIVERY_FAILED = "delivery_failed"  # never reached the device


# Weighted mix of device-side failures (most common first).
_FAILURES = [
    (Reason.DOWNLOAD_FAILED, 30),
    (Reason.CONNECTION_LOST, 20),
    (Reason.DEVICE_TIMEOUT, 15),
    (Reason.INTEGRITY_CHECK_FAILED, 8),
    (Reason.OUT_OF_STORAGE, 8),
    (Reason.LOW_BATTERY, 7),
    (Reason.UPDATE_FAILED, 6),
    (Reason.OUT_OF_MEMORY, 3),
    (Reason.UNSUPPORTED_PACKAGE, 3),
]


@dataclass
class SimDevice:
    kind: ProviderKind
    device_id: str
    imei: str
    name: str
    make: str
    model: str
    device_type: str
    firmware: str  # firmware before any simulated upgrade
    online: bool
    created_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SimFirmware:
    kind: ProviderKind
    firmware_id: str
    name: str
    version: str  # the version after upgrade
    from_version: str
    make: str
    model: str
    device_type: str
    url: str
    released_at: datetime
    file_type: str = "firmwarePackage"
    protocol: str = "LWM2M"
    description: str = ""


@dataclass(frozen=True)
class Step:
    at: datetime
    phase: Phase
    reason: Reason | None = None


@dataclass
class SimTarget:
    device_id: str
    steps: list[Step]
    added_at: datetime
    removed_at: datetime | None = None

    def step_at(self, now: datetime, cancelled_at: datetime | None = None) -> Step:
        times = [s.at for s in self.steps]
        idx = max(bisect.bisect_right(times, now) - 1, 0)
        step = self.steps[idx]
        if cancelled_at is not None and cancelled_at <= now:
            before = self.steps[max(bisect.bisect_right(times, cancelled_at) - 1, 0)]
            return before if before.phase.terminal else Step(cancelled_at, Phase.CANCELLED)
        return step

    def first_at(self, phase: Phase) -> datetime | None:
        return next((s.at for s in self.steps if s.phase is phase), None)


@dataclass
class SimJob:
    kind: ProviderKind
    job_id: str
    name: str
    firmware: SimFirmware
    created_at: datetime
    start_at: datetime
    end_at: datetime
    windows: list[tuple[int, int]] = field(default_factory=list)
    targets: dict[str, SimTarget] = field(default_factory=dict)
    cancelled_at: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def live_targets(self, now: datetime) -> list[SimTarget]:
        return [
            t
            for t in self.targets.values()
            if t.added_at <= now and (t.removed_at is None or t.removed_at > now)
        ]

    def phases(self, now: datetime) -> dict[str, Step]:
        return {t.device_id: t.step_at(now, self.cancelled_at) for t in self.live_targets(now)}

    def counts(self, now: datetime) -> dict[Phase, int]:
        counts = dict.fromkeys(Phase, 0)
        for step in self.phases(now).values():
            counts[step.phase] += 1
        return counts

    def started(self, now: datetime) -> bool:
        return now >= self.start_at

    def finished_at(self, now: datetime) -> datetime | None:
        """When every target reached a terminal phase (or the end date passed)."""
        if now >= self.end_at:
            return self.end_at
        steps = self.phases(now).values()
        if steps and all(s.phase.terminal for s in steps):
            return max(s.at for s in steps)
        return None


@dataclass(frozen=True)
class Timing:
    """How long each phase takes, in simulated seconds (ranges are uniform)."""

    validate: tuple[float, float] = (20, 90)
    reach_online: tuple[float, float] = (5, 900)
    reach_offline: tuple[float, float] = (3600, 4 * 86400)
    send: tuple[float, float] = (5, 60)
    download: tuple[float, float] = (60, 900)
    install: tuple[float, float] = (30, 400)
    success_rate: float = 0.84
    offline_never_rate: float = 0.5


class SimFleet:
    """Devices, firmware and jobs of every platform, advanced by ``clock``."""

    def __init__(self, clock: Clock, seed: int = 7, timing: Timing | None = None) -> None:
        self.clock = clock
        self.seed = seed
        self.timing = timing or Timing()
        self.lock = threading.RLock()
        self.devices: dict[ProviderKind, dict[str, SimDevice]] = {k: {} for k in ProviderKind}
        self.firmware: dict[ProviderKind, list[SimFirmware]] = {k: [] for k in ProviderKind}
        self.jobs: dict[ProviderKind, dict[str, SimJob]] = {k: {} for k in ProviderKind}
        self._device_jobs: dict[tuple[ProviderKind, str], list[str]] = {}
        self._ids = random.Random(f"{seed}:ids")
        self.skew = timedelta(0)  # the platforms' clock minus ours (fault ``skew``)
        self.listing_lag: dict[ProviderKind, timedelta] = {}  # fault ``late_listing``
        self.failure_share: dict[ProviderKind, float] = {}  # fault ``fail``

    # -- identifiers -------------------------------------------------------
    def hex_id(self, length: int = 32, upper: bool = False) -> str:
        value = f"{self._ids.getrandbits(length * 4):0{length}x}"
        return value.upper() if upper else value

    def uuid(self) -> str:
        h = self.hex_id(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def now(self) -> datetime:
        return self.clock.now() + self.skew

    def listed(self, kind: ProviderKind, created_at: datetime, now: datetime | None = None) -> bool:
        """Whether a listing shows an object created at ``created_at`` yet: a platform with
        a listing lag (eventual consistency) shows new objects only some seconds later."""
        lag = self.listing_lag.get(kind)
        return not lag or created_at <= (now or self.now()) - lag

    # -- devices -----------------------------------------------------------
    def add_device(self, device: SimDevice) -> None:
        self.devices[device.kind][device.device_id] = device

    def device(self, kind: ProviderKind, device_id: str) -> SimDevice | None:
        return self.devices[kind].get(device_id)

    def find_device(self, kind: ProviderKind, key: str) -> SimDevice | None:
        """By platform id or IMEI."""
        found = self.devices[kind].get(key)
        if found is None:
            found = next((d for d in self.devices[kind].values() if d.imei == key), None)
        return found

    def jobs_of_device(self, kind: ProviderKind, device_id: str) -> list[SimJob]:
        ids = self._device_jobs.get((kind, device_id), [])
        return [self.jobs[kind][j] for j in ids if j in self.jobs[kind]]

    def firmware_of(self, device: SimDevice, now: datetime | None = None) -> str:
        """Current firmware: the target of the newest job that succeeded on it."""
        now = now or self.now()
        best: tuple[datetime, str] | None = None
        for job in self.jobs_of_device(device.kind, device.device_id):
            target = job.targets.get(device.device_id)
            if target is None:
                continue
            step = target.step_at(now, job.cancelled_at)
            if step.phase is Phase.SUCCEEDED and (best is None or step.at > best[0]):
                best = (step.at, job.firmware.version)
        return best[1] if best else device.firmware

    def active_job_of(self, device: SimDevice, now: datetime | None = None) -> SimJob | None:
        now = now or self.now()
        for job in self.jobs_of_device(device.kind, device.device_id):
            target = job.targets.get(device.device_id)
            if target is None or (target.removed_at and target.removed_at <= now):
                continue
            if not target.step_at(now, job.cancelled_at).phase.terminal:
                return job
        return None

    # -- jobs --------------------------------------------------------------
    def create_job(
        self,
        kind: ProviderKind,
        *,
        job_id: str,
        name: str,
        firmware: SimFirmware,
        device_ids: Iterable[str],
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        windows: list[tuple[int, int]] | None = None,
        created_at: datetime | None = None,
        rejected: dict[str, Reason] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> SimJob:
        """Create a job and plan every target's timeline."""
        with self.lock:
            created = created_at or self.now()
            start = max(start_at or created, created)
            job = SimJob(
                kind=kind,
                job_id=job_id,
                name=name,
                firmware=firmware,
                created_at=created,
                start_at=start,
                end_at=end_at or start + timedelta(days=7),
                windows=list(windows or []),
                meta=dict(meta or {}),
            )
            self.jobs[kind][job_id] = job
            self.add_targets(job, device_ids, at=created, rejected=rejected)
            return job

    def add_targets(
        self,
        job: SimJob,
        device_ids: Iterable[str],
        *,
        at: datetime | None = None,
        rejected: dict[str, Reason] | None = None,
    ) -> list[str]:
        with self.lock:
            at = at or self.now()
            added = []
            for device_id in device_ids:
                if device_id in job.targets and job.targets[device_id].removed_at is None:
                    continue
                reason = (rejected or {}).get(device_id)
                job.targets[device_id] = SimTarget(
                    device_id, self._plan(job, device_id, at, reason), added_at=at
                )
                self._device_jobs.setdefault((job.kind, device_id), []).append(job.job_id)
                added.append(device_id)
            return added

    def remove_targets(self, job: SimJob, device_ids: Iterable[str]) -> list[str]:
        with self.lock:
            now = self.now()
            removed = []
            for device_id in device_ids:
                target = job.targets.get(device_id)
                if target and target.removed_at is None:
                    target.removed_at = now
                    removed.append(device_id)
            return removed

    def cancel_job(self, job: SimJob, at: datetime | None = None) -> None:
        with self.lock:
            if job.cancelled_at is None:
                job.cancelled_at = at or self.now()

    def reschedule(
        self,
        job: SimJob,
        start_at: datetime,
        end_at: datetime,
        windows: list[tuple[int, int]] | None = None,
    ) -> None:
        """New dates/windows for a job that has not started: replan every target.

        Targets the platform rejected at validation stay rejected.
        """
        with self.lock:
            job.start_at, job.end_at, job.windows = start_at, end_at, list(windows or [])
            for device_id, target in list(job.targets.items()):
                last = target.steps[-1].reason
                rejected = last if last is Reason.DEVICE_REJECTED else None
                target.steps = self._plan(job, device_id, target.added_at, rejected)

    def cancel_target(self, job: SimJob, device_id: str, at: datetime | None = None) -> None:
        """Stop one device of a job (its other targets go on)."""
        with self.lock:
            at = at or self.now()
            target = job.targets[device_id]
            if not target.step_at(at, job.cancelled_at).phase.terminal:
                target.steps = [s for s in target.steps if s.at <= at] + [Step(at, Phase.CANCELLED)]

    def _plan(
        self, job: SimJob, device_id: str, at: datetime, rejected: Reason | None
    ) -> list[Step]:
        """A seeded timeline for one device in one job."""
        t = self.timing
        rng = random.Random(f"{self.seed}:{job.kind}:{job.job_id}:{device_id}")
        steps = [Step(at, Phase.PENDING)]
        clock = at + timedelta(seconds=rng.uniform(*t.validate))
        if rejected is not None:
            return [*steps, Step(clock, Phase.FAILED, rejected)]
        steps.append(Step(clock, Phase.QUEUED))
        device = self.devices[job.kind].get(device_id)
        online = device.online if device else False
        begin = max(clock, job.start_at)
        wait = rng.uniform(*(t.reach_online if online else t.reach_offline))
        if not online and rng.random() < t.offline_never_rate:
            wait = (job.end_at - begin).total_seconds() + 1
        send_at = self._in_window(begin + timedelta(seconds=wait), job.windows)
        if send_at >= job.end_at:
            return [*steps, Step(job.end_at, Phase.EXPIRED, Reason.DEVICE_TIMEOUT)]
        steps.append(Step(send_at, Phase.SENDING))
        dl_at = send_at + timedelta(seconds=rng.uniform(*t.send))
        share = self.failure_share.get(job.kind)
        if share is None and rng.random() < 0.03:
            return [*steps, Step(dl_at, Phase.FAILED, Reason.DELIVERY_FAILED)]
        steps.append(Step(dl_at, Phase.DOWNLOADING))
        inst_at = dl_at + timedelta(seconds=rng.uniform(*t.download))
        done_at = inst_at + timedelta(seconds=rng.uniform(*t.install))
        if rng.random() < (t.success_rate if share is None else 1 - share):
            return [*steps, Step(inst_at, Phase.INSTALLING), Step(done_at, Phase.SUCCEEDED)]
        reason = rng.choices([r for r, _ in _FAILURES], [w for _, w in _FAILURES])[0]
        if reason in (Reason.DOWNLOAD_FAILED, Reason.CONNECTION_LOST, Reason.OUT_OF_STORAGE):
            return [*steps, Step(inst_at, Phase.FAILED, reason)]
        return [*steps, Step(inst_at, Phase.INSTALLING), Step(done_at, Phase.FAILED, reason)]

    @staticmethod
    def _in_window(when: datetime, windows: list[tuple[int, int]]) -> datetime:
        """Move ``when`` into the next UTC hour window ``start <= hour < end``."""
        if not windows:
            return when
        for day in range(3):
            base = (when + timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
            for start, end in sorted(windows):
                lo = base + timedelta(hours=start)
                hi = base + timedelta(hours=end)
                if day == 0 and lo <= when < hi:
                    return when
                if lo > when:
                    return lo
        return when

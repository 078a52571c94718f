"""The rollout engine: plan a rollout, then advance it one decision at a time.

A step reads the rollout again under its lock, looks at the current wave and decides:
start it (a campaign submission, exactly once: its submission id comes from the rollout
and the wave, so a second driver, or the same one after a crash, finds it in the journal
and sends nothing), gate it on the latest read of the platform (success → soak → next
wave; failure or time-out → halt), or wait and say why. Nothing is decided on a read
that failed, is older than ``max_age`` or predates the wave's send; a halt always can be.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fota_tui.config.store import LockBusy
from fota_tui.errors import FotaError, ProviderError, UsageError
from fota_tui.models import CampaignSpec, utcnow
from fota_tui.providers.rules import Problem, problem
from fota_tui.services.campaigns.eligibility import DeviceEligibility, Ineligible, Reason
from fota_tui.services.campaigns.journal import JournalEntry, current_user
from fota_tui.services.campaigns.operations import cancel_unsupported_reason
from fota_tui.services.campaigns.preview import Preview
from fota_tui.services.campaigns.service import CampaignService
from fota_tui.services.campaigns.session import CampaignSession
from fota_tui.services.campaigns.submit import SubmissionBlocked
from fota_tui.services.rollouts import plan as plans
from fota_tui.services.rollouts.observe import Observation
from fota_tui.services.rollouts.plan import WavePlan, duration_text
from fota_tui.services.rollouts.record import (
    Rollout,
    RolloutStore,
    Wave,
    new_rollout_id,
    wave_batch_id,
)
from fota_tui.text import devices_text

DEFAULT_NAME = "fota-tui rollout"
START_MARGIN = timedelta(minutes=1)  # a wave's scheduled start, when the spec's has passed


@dataclass(frozen=True)
class RolloutPlan:
    """The dry run of a rollout: its waves and the first wave's campaign, or problems."""

    spec: CampaignSpec
    plan: WavePlan
    problems: tuple[Problem, ...] = ()
    rollout_id: str = ""  # the id ``create`` records it under (wave 1's submission derives from it)
    waves: tuple[tuple[DeviceEligibility, ...], ...] = ()
    left_out: tuple[DeviceEligibility, ...] = ()
    first: Preview | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.waves) and self.first is not None


@dataclass
class StepResult:
    rollout: Rollout
    busy: str = ""  # another driver held the rollout; nothing was done
    changed: bool = False  # stepped (its progress may have moved)
    decisions: list[str] = field(default_factory=list)


def never_reached(entries: Sequence[JournalEntry]) -> bool:
    """The journal shows the create never reached the platform: interrupted before it
    was sent, or concluded absent by reconciliation (never a platform's rejection)."""
    return bool(entries) and all(
        e.state == "failed"
        and e.reconciled
        and not e.unconfirmed
        and (e.first_sent_at is None or e.absent_since is not None)
        for e in entries
    )


def _unsent_jobs(
    rollout: Rollout,
    wave: Wave,
    entries: Sequence[JournalEntry],
    now: datetime,
    halt: Callable[[Rollout, Wave, datetime, str], None],
) -> bool:
    """A wave split into several jobs of which some were never sent halts (True)."""
    jobs = max((e.parts for e in entries), default=1)
    if len(entries) >= jobs:
        return False
    halt(
        rollout,
        wave,
        now,
        f"halted: wave {wave.index}: only {len(entries)} of {jobs} jobs were sent;"
        " the rest was not",
    )
    return True


def rollout_name(spec: CampaignSpec, rollout_id: str) -> str:
    return spec.name or f"{DEFAULT_NAME} {rollout_id}"


def wave_name(spec: CampaignSpec, rollout_id: str, index: int, count: int) -> str:
    return f"{rollout_name(spec, rollout_id)} wave {index}/{count}"


def wave_spec(
    spec: CampaignSpec,
    rollout_id: str,
    devices: Sequence[str],
    index: int,
    count: int,
    now: datetime,
) -> CampaignSpec:
    """The campaign of one wave: the rollout's, for the wave's devices, starting now when
    the rollout's start has passed (the end stays the rollout's)."""
    start = spec.start_at
    if start is not None and start < now + START_MARGIN:
        start = (now + START_MARGIN).replace(microsecond=0) + timedelta(seconds=1)
    return spec.model_copy(
        update={
            "devices": list(devices),
            "name": wave_name(spec, rollout_id, index, count),
            "start_at": start,
        }
    )


class RolloutEngine:
    """Plans and steps the rollouts of one profile (see the module docstring)."""

    def __init__(
        self,
        session: CampaignSession,
        store: RolloutStore,
        *,
        now: Callable[[], datetime] = utcnow,
        max_age: timedelta = timedelta(seconds=30),
        lock_wait: float = 0.0,
    ) -> None:
        self.session = session
        self.store = store
        self.now = now
        self.max_age = max_age
        self.lock_wait = lock_wait
        self.user = current_user()
        self.holder = f"{self.user}@{_hostname()} (pid {os.getpid()})"

    @property
    def read_only(self) -> bool:
        return self.session.read_only

    # -- plan and create ---------------------------------------------------------------
    async def plan(self, spec: CampaignSpec, wave_plan: WavePlan) -> RolloutPlan:
        """The dry run: what each wave holds and the first wave's exact requests."""
        problems: list[Problem] = []
        if spec.device_groups:
            problems.append(
                problem(
                    "device_groups",
                    "rollout.devices",
                    "a rollout splits a device list into waves; list the groups' devices"
                    " (devices or devices_file) instead",
                )
            )
        if not spec.devices:
            problems.append(problem("devices", "rollout.devices", "a rollout needs devices"))
        now = self.now()
        problems += [
            problem(key, "rollout.plan", text)
            for key, text in plans.check_schedule(wave_plan, spec.start_at, spec.end_at, now)
        ]
        listed = set(spec.devices)
        problems += [
            problem(f"rollout.canary[{i}]", "rollout.canary", f"{c!r} is not one of the devices")
            for i, c in enumerate(wave_plan.canary)
            if c not in listed
        ]
        if len(set(wave_plan.canary)) < len(wave_plan.canary):
            problems.append(
                problem("rollout.canary", "rollout.canary", "lists a device more than once")
            )
        if problems:
            return RolloutPlan(spec, wave_plan, tuple(problems))
        rollout_id = new_rollout_id()
        service = self.session.service(spec.provider)
        full = await service.preview(
            spec.model_copy(update={"name": wave_name(spec, rollout_id, 1, 1)}), split=True
        )
        if full.problems:
            return RolloutPlan(spec, wave_plan, full.problems, left_out=tuple(full.ineligible))
        waiting = self._waiting_elsewhere(spec.provider)
        left_out = list(full.ineligible)
        eligible: dict[str, DeviceEligibility] = {}
        for item in full.eligible:
            if item.device_id in waiting:
                why = Reason(
                    Ineligible.IN_ACTIVE_CAMPAIGN, f"{item.device_id}: {waiting[item.device_id]}"
                )
                left_out.append(DeviceEligibility(item.device_id, item.device, (why,)))
            else:
                eligible[item.device_id] = item
        if not eligible:
            taken = problem(
                "devices",
                "rollout.devices",
                f"none of the {len(spec.devices)} devices is free: each is left out below",
            )
            return RolloutPlan(spec, wave_plan, (taken,), left_out=tuple(left_out))
        online = {k for k, d in eligible.items() if d.device is not None and d.device.online}
        ordered = plans.order_devices(list(eligible), online, wave_plan.canary)
        sizes, size_problems = plans.wave_sizes(wave_plan.waves, len(ordered))
        if size_problems:
            found = tuple(problem(k, "rollout.waves", t) for k, t in size_problems)
            return RolloutPlan(spec, wave_plan, found, left_out=tuple(left_out))
        waves = [
            tuple(eligible[d] for d in members) for members in plans.split_waves(ordered, sizes)
        ]
        count = len(waves)
        first_spec = wave_spec(spec, rollout_id, [d.device_id for d in waves[0]], 1, count, now)
        first = await service.preview(first_spec, split=True, batch_id=wave_batch_id(rollout_id, 1))
        warnings = [*full.warnings, *plans.plan_warnings(wave_plan, ordered, sizes, eligible)]
        return RolloutPlan(
            spec,
            wave_plan,
            first.problems,
            waves=tuple(waves),
            left_out=tuple(left_out),
            first=first,
            warnings=tuple(warnings),
            rollout_id=rollout_id,
        )

    def _waiting_elsewhere(self, provider: str) -> dict[str, str]:
        """Devices that unfinished rollouts of ``provider`` will send to later (those sent
        already are in an active campaign, which the preview leaves out)."""
        out: dict[str, str] = {}
        for other in self.store.all():
            if other.provider != provider or other.finished:
                continue
            for wave in other.waves:
                if wave.state in ("waiting", "starting"):
                    why = f"waits in wave {wave.index} of rollout {other.rollout_id}"
                    out.update(dict.fromkeys(wave.devices, why))
        return out

    def create(self, planned: RolloutPlan) -> Rollout:
        """Record a planned rollout (nothing is sent until it is stepped)."""
        self._writable("creating a rollout")
        if not planned.ok:
            raise UsageError("the rollout plan has problems; nothing was created")
        now = self.now()
        rollout_id = planned.rollout_id or new_rollout_id()
        if self.store.exists(rollout_id):
            raise UsageError(f"rollout {rollout_id} is recorded already; plan it again")
        spec = planned.spec
        service = self.session.service(spec.provider)
        waves = [
            Wave(
                index=index,
                devices=[d.device_id for d in members],
                device_ids=[d.device.device_id if d.device else d.device_id for d in members],
                batch_id=wave_batch_id(rollout_id, index),
            )
            for index, members in enumerate(planned.waves, 1)
        ]
        rollout = Rollout(
            rollout_id=rollout_id,
            profile=self.session.profile.name,
            provider=spec.provider,
            kind=service.kind,
            name=rollout_name(spec, rollout_id),
            spec=spec.model_dump(mode="json"),
            plan=planned.plan,
            waves=waves,
            created_at=now,
            updated_at=now,
            user=self.user,
            host=_hostname(),
        )
        sizes = ", ".join(str(len(w.devices)) for w in waves)
        rollout.decide(
            now,
            "operator",
            f"created: {devices_text(rollout.devices)} in {len(waves)} waves ({sizes});"
            f" {planned.plan.summary()}",
            self.user,
        )
        return self.store.save(rollout, now)

    # -- stepping ----------------------------------------------------------------------
    async def step(self, rollout_id: str, observation: Observation | None) -> StepResult:
        """One evaluation of one rollout, under its lock."""
        try:
            async with self.store.lock(rollout_id, self.holder, wait=self.lock_wait):
                rollout = self.store.get(rollout_id)
                seen = len(rollout.decisions)
                if rollout.finished:
                    return StepResult(rollout)
                await self._step(rollout, observation)
                self.store.save(rollout, self.now())
                texts = [d.text for d in rollout.decisions[seen:]]
                return StepResult(rollout, changed=True, decisions=texts)
        except LockBusy as busy:
            return StepResult(self.store.get(rollout_id), busy=busy.holder)

    async def _step(self, rollout: Rollout, observation: Observation | None) -> None:
        wave = rollout.current
        now = self.now()
        if wave is None:
            self._finish(rollout, now)
            return
        if wave.state in ("waiting", "starting"):
            await self._maybe_start(rollout, wave, now, after=None)
            return
        if wave.state in ("running", "soaking"):
            await self._gate(rollout, wave, observation, now)

    async def _maybe_start(
        self, rollout: Rollout, wave: Wave, now: datetime, *, after: str | None
    ) -> None:
        unsent = wave.state == "waiting" or not self.session.journal.batch(wave.batch_id)
        if unsent:  # nothing of it reached the journal: the start may still wait
            why = self._start_blocked(rollout, now)
            if why:
                wave.state = "waiting"
                rollout.waiting = why
                return
        await self._start(rollout, wave, now, after=after)

    def _start_blocked(self, rollout: Rollout, now: datetime) -> str:
        if rollout.state == "paused":
            return "paused"
        if self.read_only:
            return "read-only: this profile watches the rollout but does not start waves"
        windows = rollout.plan.windows
        if not plans.in_window(now, windows):
            opens = plans.next_window(now, windows)
            return f"outside the rollout's windows; the next opens at {opens:%H:%M}Z"
        return ""

    async def _start(
        self, rollout: Rollout, wave: Wave, now: datetime, *, after: str | None
    ) -> None:
        service = self.session.service(rollout.provider)
        count = len(rollout.waves)
        if wave.state == "waiting":  # write-ahead: a crash from here on resumes the start
            wave.state = "starting"
            wave.started_at = now
            self.store.save(rollout, now)
        sent = self.session.journal.batch(wave.batch_id)
        if sent:  # sent before: by another driver, or before a crash
            await service.reconcile_pending()
            sent = self.session.journal.batch(wave.batch_id)
            if never_reached(sent):
                await self._send_again(rollout, wave, now)
                return
            self._adopt(rollout, wave, sent, now, after)
            return
        spec = wave_spec(
            rollout.campaign_spec, rollout.rollout_id, wave.devices, wave.index, count, now
        )
        try:
            preview = await service.preview(spec, split=True, batch_id=wave.batch_id)
        except ProviderError as exc:
            wave.state = "waiting"  # nothing was sent: the next start checks pause and windows
            rollout.waiting = f"wave {wave.index} not started: {exc.title}: {exc.message}"
            return
        wave.left_out = {d.device_id: d.summary for d in preview.ineligible}
        if not preview.ok:
            self._not_startable(rollout, wave, preview, now)
            return
        try:
            submission = await service.submit(preview)
        except SubmissionBlocked as exc:
            wave.state = "waiting"
            rollout.waiting = f"wave {wave.index} not started: {exc.message}"
            return
        except FotaError as exc:
            if self.session.journal.batch(wave.batch_id):
                raise  # the platform may have acted; the journal has what is known
            wave.state = "waiting"
            rollout.waiting = f"wave {wave.index} not started: {exc.title}: {exc.message}"
            return
        self._adopt(rollout, wave, list(submission.entries), now, after)

    def _not_startable(self, rollout: Rollout, wave: Wave, preview: Preview, now: datetime) -> None:
        rules = {p.rule for p in preview.problems}
        if rules <= {"eligibility.unavailable"} and preview.problems:
            wave.state = "waiting"
            rollout.waiting = f"wave {wave.index} not started: {preview.problems[0].message}"
            return
        if rules <= {"eligibility.none_eligible"}:
            wave.state = "skipped"
            wave.finished_at = now
            reasons = sorted({d.summary for d in preview.ineligible})
            rollout.decide(
                now,
                "note",
                f"wave {wave.index} skipped: none of its {len(wave.devices)} devices is eligible"
                f" any more ({'; '.join(reasons[:3])})",
            )
            return
        self._halt(
            rollout, wave, now, f"wave {wave.index} cannot be sent: {preview.problems[0].message}"
        )

    def _adopt(
        self,
        rollout: Rollout,
        wave: Wave,
        entries: Sequence[JournalEntry],
        now: datetime,
        after: str | None,
    ) -> None:
        """The wave's submission, as the journal has it, decides the wave's state."""
        states = {e.state for e in entries}
        wave.learn(entries)
        first = min((e.first_sent_at for e in entries if e.first_sent_at), default=None)
        wave.sent_at = wave.sent_at or first or now
        if states == {"failed"} and not any(e.unconfirmed for e in entries):
            error = next((e.error for e in entries if e.error), None)
            why = f"{error.title}: {error.message}" if error else "the platform refused it"
            self._halt(rollout, wave, now, f"wave {wave.index} was not created ({why})")
            return
        if "created" in states and _unsent_jobs(rollout, wave, entries, now, self._halt):
            return
        wave.state = "running"
        sent = len(wave.watched)
        lead = after or f"wave {wave.index} started"
        note = f"{lead}: {devices_text(sent)}"
        if wave.left_out:
            note += f" ({len(wave.left_out)} left out: not eligible any more)"
        if states & {"unknown", "sending"}:
            note += "; the platform's answer was lost, so its campaign is being reconciled"
        rollout.decide(now, "start", note)

    async def _refresh_ids(self, rollout: Rollout, wave: Wave, now: datetime) -> bool:
        """The wave's submission as the journal has it now (another process may have
        reconciled it): its campaigns, its undelivered devices, and whether it can be
        gated at all."""
        journal = self.session.journal
        entries = journal.batch(wave.batch_id)
        if any(e.unresolved for e in entries):
            try:
                await self.session.service(rollout.provider).reconcile_pending()
            except ProviderError as exc:
                rollout.waiting = f"wave {wave.index}: reconciling failed ({exc.title})"
                return False
            entries = journal.batch(wave.batch_id)
            if any(e.unresolved for e in entries):
                rollout.waiting = (
                    f"wave {wave.index}: its campaign is not confirmed yet (reconciling)"
                )
                return False
        wave.learn(entries)
        late = [c for b in wave.earlier for e in journal.batch(b) for c in e.campaign_ids]
        if late:
            self._halt(
                rollout,
                wave,
                now,
                f"halted: wave {wave.index}'s earlier create turned up late ({', '.join(late)});"
                " its devices may be in two campaigns: check them and cancel one",
            )
            return False
        if never_reached(entries):
            await self._send_again(rollout, wave, now)
            return False
        if all(e.state == "failed" for e in entries):
            held = sum(len(e.unconfirmed) for e in entries)
            why = (
                f"{rollout.provider} does not show it, but {held} device(s) may have a command"
                " from it (a create of several requests was interrupted); they are held back"
                " until the campaign's end"
                if held
                else "reconciled"
            )
            self._halt(rollout, wave, now, f"halted: wave {wave.index} was not created ({why})")
            return False
        return not _unsent_jobs(rollout, wave, entries, now, self._halt)

    async def _send_again(self, rollout: Rollout, wave: Wave, now: datetime) -> None:
        """Reconciliation proved the wave's create never reached the platform (a crash
        before it left, or a lost request concluded absent): a new attempt, with its own
        submission id (the same for every driver), sends it."""
        why = self._start_blocked(rollout, now)
        if why:
            rollout.waiting = f"wave {wave.index} is to be sent again: {why}"
            return
        wave.earlier.append(wave.batch_id)
        wave.attempt += 1
        wave.batch_id = wave_batch_id(rollout.rollout_id, wave.index, wave.attempt)
        wave.state, wave.sent_at, wave.campaign_ids = "starting", None, []
        rollout.decide(
            now,
            "note",
            f"wave {wave.index}: its create never reached {rollout.provider} (reconciled);"
            f" sending it again (attempt {wave.attempt})",
        )
        self.store.save(rollout, now)
        await self._start(rollout, wave, now, after=None)

    async def _gate(
        self, rollout: Rollout, wave: Wave, observation: Observation | None, now: datetime
    ) -> None:
        plan = rollout.plan
        if not await self._refresh_ids(rollout, wave, now):
            self._check_timeout(rollout, wave, now)
            return
        stale = (
            observation.stale(wave, now, self.max_age)
            if observation is not None
            else f"no read of {rollout.provider} yet"
        )
        if stale:
            rollout.waiting = f"waiting for a fresh status: {stale}"
            self._check_timeout(rollout, wave, now)
            return
        assert observation is not None
        tally = observation.tally(wave)
        wave.tally, wave.observed_at = tally, observation.at
        rollout.waiting = ""
        if tally.failure_pct > plan.failure:
            self._halt(
                rollout,
                wave,
                now,
                f"halted: wave {wave.index} failure rate {tally.failure_pct:.0f} % >"
                f" {plan.failure:g} % ({tally.failed} of {tally.members} failed)",
            )
            return
        if wave.state == "running":
            if tally.success_pct >= plan.success:
                wave.state = "soaking"
                wave.succeeded_at = observation.at
                rollout.decide(
                    now,
                    "gate",
                    f"wave {wave.index} reached {tally.success_pct:.0f} % success"
                    f" (≥ {plan.success:g} %); soaking {duration_text(plan.soak)}",
                )
            elif tally.finished:
                self._halt(
                    rollout,
                    wave,
                    now,
                    f"halted: wave {wave.index} finished at {tally.success_pct:.0f} % success,"
                    f" below {plan.success:g} %",
                )
                return
            else:
                self._check_timeout(rollout, wave, now)
                return
        if wave.state == "soaking" and tally.success_pct < plan.success:
            wave.state, wave.succeeded_at = "running", None
            rollout.decide(
                now,
                "gate",
                f"wave {wave.index} fell to {tally.success_pct:.0f} % success (below"
                f" {plan.success:g} %) while soaking; it is gated again",
            )
            return
        if wave.state == "soaking":
            assert wave.succeeded_at is not None
            soaked = now - wave.succeeded_at
            if soaked < plan.soak and not rollout.advance:
                return
            await self._next(rollout, wave, tally.success_pct, soaked, now)

    async def _next(
        self, rollout: Rollout, wave: Wave, success: float, soaked: timedelta, now: datetime
    ) -> None:
        following = next((w for w in rollout.waves if w.index > wave.index), None)
        if following is None:
            wave.state, wave.finished_at = "done", now
            self._finish(rollout, now)
            return
        why = self._start_blocked(rollout, now)
        if why:
            rollout.waiting = f"wave {following.index} is due: {why}"
            return
        skipped = " (soak skipped by the operator)" if rollout.advance else ""
        wave.state, wave.finished_at = "done", now
        rollout.advance = False
        after = (
            f"wave {following.index} started: wave {wave.index} at {success:.0f} % success,"
            f" soaked {duration_text(soaked)}{skipped}"
        )
        await self._start(rollout, following, now, after=after)

    def _check_timeout(self, rollout: Rollout, wave: Wave, now: datetime) -> None:
        deadline = rollout.timeout_at(wave)
        if wave.state != "running" or deadline is None or now <= deadline:
            return
        tally = wave.tally
        at = f"at {tally.success_pct:.0f} % success" if tally else "with no status read"
        self._halt(
            rollout,
            wave,
            now,
            f"halted: wave {wave.index} timed out after {duration_text(rollout.plan.wave_timeout)}"
            f" {at} (needs {rollout.plan.success:g} %)",
        )

    def _halt(self, rollout: Rollout, wave: Wave, now: datetime, why: str) -> None:
        wave.state = "halted"
        wave.finished_at = now
        rollout.state = "halted"
        rollout.acknowledged = False
        rollout.decide(now, "halt", why)

    def _finish(self, rollout: Rollout, now: datetime) -> None:
        sent = [w for w in rollout.waves if w.tally]
        ok = sum(w.tally.succeeded for w in sent if w.tally)
        members = sum(w.tally.members for w in sent if w.tally)
        share = f", {100 * ok / members:.0f} % success" if members else ""
        rollout.state = "done"
        rollout.decide(now, "done", f"done: {len(rollout.waves)} waves through{share}")

    # -- operator ----------------------------------------------------------------------
    def _writable(self, what: str) -> None:
        if self.read_only:
            raise UsageError(
                f"profile '{self.session.profile.name}' is read-only (read_only = true or"
                f" --read-only); {what} refused"
            )

    async def _operate(
        self, rollout_id: str, change: Callable[[Rollout, datetime], str]
    ) -> Rollout:
        async with self.store.lock(rollout_id, self.holder, wait=5.0):
            rollout = self.store.get(rollout_id)
            now = self.now()
            text = change(rollout, now)
            if not text:  # nothing changed: no decision is recorded
                return rollout
            rollout.decide(now, "operator", text, self.user)
            return self.store.save(rollout, now)

    async def pause(self, rollout_id: str) -> Rollout:
        return await self._switch(rollout_id, "running", "paused")

    async def resume(self, rollout_id: str) -> Rollout:
        return await self._switch(rollout_id, "paused", "running")

    async def _switch(self, rollout_id: str, before: str, after: str) -> Rollout:
        """Pause (``running`` → ``paused``) or resume; what is so already changes nothing."""
        verb = "pauses" if after == "paused" else "resumes"
        self._writable("pausing" if after == "paused" else "resuming")

        def change(rollout: Rollout, now: datetime) -> str:
            if rollout.state == after:
                return ""
            if rollout.state != before:
                raise UsageError(
                    f"rollout {rollout_id} is {rollout.state}; only a {before} one {verb}"
                )
            rollout.state = after  # type: ignore[assignment]
            if after == "paused":
                return "paused: no wave starts until it is resumed (running waves go on)"
            return "resumed"

        return await self._operate(rollout_id, change)

    async def advance(self, rollout_id: str) -> Rollout:
        """Skip the current soak (the next wave still needs a fresh, passing read)."""
        self._writable("advancing")

        def change(rollout: Rollout, now: datetime) -> str:
            wave = rollout.current
            if rollout.finished or wave is None:
                raise UsageError(f"rollout {rollout_id} is {rollout.state}")
            if wave.state != "soaking":
                tally = wave.tally
                shown = f" ({tally.success_pct:.0f} %)" if tally else ""
                raise UsageError(
                    f"wave {wave.index} is {wave.state}; advance skips a soak only after the"
                    f" wave reached {rollout.plan.success:g} % success{shown}"
                )
            rollout.advance = True
            return f"advance: skip the soak of wave {wave.index}"

        return await self._operate(rollout_id, change)

    async def acknowledge(self, rollout_id: str) -> Rollout:
        self._writable("acknowledging")

        def change(rollout: Rollout, now: datetime) -> str:
            if rollout.state != "halted":
                raise UsageError(
                    f"rollout {rollout_id} is {rollout.state}; only a halt is acknowledged"
                )
            if rollout.acknowledged:
                return ""
            rollout.acknowledged = True
            return "halt acknowledged"

        return await self._operate(rollout_id, change)

    async def abort(self, rollout_id: str) -> tuple[Rollout, list[str]]:
        """Stop for good: cancel what the platform lets us cancel, say what it did not."""
        self._writable("aborting")
        notes: list[str] = []
        async with self.store.lock(rollout_id, self.holder, wait=30.0):
            rollout = self.store.get(rollout_id)
            if rollout.state in ("aborted", "done"):
                raise UsageError(f"rollout {rollout_id} is {rollout.state} already")
            now = self.now()
            service = self.session.service(rollout.provider)
            try:  # what the journal knows of each sent wave, settled where it can be
                await service.reconcile_pending()
            except ProviderError as exc:
                notes.append(f"the journal could not be reconciled ({exc.title})")
            journal = self.session.journal
            for wave in rollout.waves:
                if wave.state in ("waiting", "skipped", "done"):
                    continue
                entries = [e for b in (*wave.earlier, wave.batch_id) for e in journal.batch(b)]
                for entry in entries:
                    if entry.unresolved:
                        notes.append(
                            f"wave {wave.index}: submission {entry.submission_id} is unresolved;"
                            " its campaign may exist and was not cancelled"
                        )
                for campaign_id in [c for e in entries for c in e.campaign_ids]:
                    notes.append(await _cancel_note(service, wave, campaign_id))
            for wave in rollout.waves:
                if wave.state == "waiting":
                    wave.state = "skipped"
            rollout.state = "aborted"
            text = "aborted" + (": " + "; ".join(notes) if notes else ": no wave had been sent")
            rollout.decide(now, "operator", text, self.user)
            return self.store.save(rollout, now), notes


async def _cancel_note(service: CampaignService, wave: Wave, campaign_id: str) -> str:
    """Cancel one campaign of a wave where the platform can; say what happened."""
    where = f"wave {wave.index}: {campaign_id}"
    if not service.can_cancel:
        return f"{where} not cancelled ({cancel_unsupported_reason(service.kind)})"
    try:
        await service.cancel(campaign_id)
    except FotaError as exc:
        return f"{where} not cancelled ({exc.message})"
    return f"{where} cancelled"


def _hostname() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return ""

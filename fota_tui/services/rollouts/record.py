"""A rollout as it is kept: its waves, their state, and every decision with its reason.

One JSON file per rollout under ``<data dir>/journal/<profile>/rollouts/``, beside the
submissions its waves made. Each write replaces the file atomically; a driver changes a
rollout only while it holds the rollout's lock, after reading it again (``RolloutStore``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fota_tui.config.store import atomic_write_text, waiting_file_lock
from fota_tui.errors import UsageError
from fota_tui.models import CampaignSpec, ProviderKind, UtcDatetime
from fota_tui.services.campaigns.journal import JournalEntry
from fota_tui.services.rollouts.plan import WavePlan

log = logging.getLogger(__name__)

WaveState = Literal["waiting", "starting", "running", "soaking", "done", "skipped", "halted"]
RolloutState = Literal["running", "paused", "halted", "aborted", "done"]
FINISHED: tuple[RolloutState, ...] = ("halted", "aborted", "done")
DecisionKind = Literal["start", "gate", "halt", "done", "operator", "note"]


def new_rollout_id() -> str:
    return f"ro-{secrets.token_hex(5)}"


def wave_batch_id(rollout_id: str, index: int, attempt: int = 1) -> str:
    """The submission id of a wave: the same for every driver, so the campaign service's
    idempotency key makes a wave's campaign exactly once, whoever sends it. A wave whose
    create provably never reached the platform is sent again as a new ``attempt``."""
    seed = f"{rollout_id}:wave:{index}" + (f":attempt:{attempt}" if attempt > 1 else "")
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return f"ft-{digest[:12]}"


class Tally(BaseModel):
    """A wave's devices by outcome, as one read of the platform showed them."""

    model_config = ConfigDict(frozen=True)

    members: int = 0
    succeeded: int = 0
    failed: int = 0  # failed, expired or cancelled
    active: int = 0
    unseen: int = 0  # the platform shows no upgrade of this wave for them (yet)

    @property
    def success_pct(self) -> float:
        return 100.0 * self.succeeded / self.members if self.members else 0.0

    @property
    def failure_pct(self) -> float:
        return 100.0 * self.failed / self.members if self.members else 0.0

    @property
    def finished(self) -> bool:
        return self.members > 0 and self.active == 0 and self.unseen == 0


class Wave(BaseModel):
    model_config = ConfigDict(extra="ignore")

    index: int  # 1-based
    devices: list[str]  # as the campaign names them
    device_ids: list[str]  # the platform's ids, in the same order (what status is read by)
    batch_id: str
    attempt: int = 1  # a new attempt only when the last provably never reached the platform
    earlier: list[str] = Field(default_factory=list)  # submission ids of earlier attempts
    state: WaveState = "waiting"
    started_at: UtcDatetime | None = None  # the start was decided
    sent_at: UtcDatetime | None = None  # the campaign's create was sent
    succeeded_at: UtcDatetime | None = None  # the success threshold was reached
    finished_at: UtcDatetime | None = None
    campaign_ids: list[str] = Field(default_factory=list)
    left_out: dict[str, str] = Field(default_factory=dict)  # device → why it was not sent
    undelivered: list[str] = Field(default_factory=list)  # sent to, but the create failed there
    tally: Tally | None = None
    observed_at: UtcDatetime | None = None

    @property
    def watched(self) -> list[str]:
        """The platform ids of the devices this wave sent to."""
        return [i for _, i in self.sent_to()]

    def learn(self, entries: Sequence[JournalEntry]) -> None:
        """What the journal says of the wave's submission: its campaigns, and the devices
        its create could not reach (or reached without confirmation)."""
        self.campaign_ids = [c for e in entries for c in e.campaign_ids]
        self.undelivered = [d for e in entries for d in (*e.not_reached, *e.unconfirmed)]

    def sent_to(self) -> list[tuple[str, str]]:
        """(device as the campaign names it, platform id) of the devices sent to."""
        pairs = zip(self.devices, self.device_ids, strict=False)
        return [(d, i) for d, i in pairs if d not in self.left_out]


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: UtcDatetime
    kind: DecisionKind
    text: str
    user: str = ""  # who, for an operator's action


class Rollout(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rollout_id: str
    profile: str
    provider: str
    kind: ProviderKind
    name: str
    spec: dict[str, object]
    plan: WavePlan
    state: RolloutState = "running"
    waves: list[Wave]
    decisions: list[Decision] = Field(default_factory=list)
    created_at: UtcDatetime
    updated_at: UtcDatetime
    user: str = ""
    host: str = ""
    advance: bool = False  # the operator asked to skip the current soak
    acknowledged: bool = True  # False from a halt until an operator acknowledges it
    waiting: str = ""  # why the last step decided nothing (not a decision)
    version: int = 0

    @property
    def campaign_spec(self) -> CampaignSpec:
        return CampaignSpec.model_validate(self.spec)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def current(self) -> Wave | None:
        """The wave being started, run or soaked (None when every wave is through)."""
        return next((w for w in self.waves if w.state not in ("done", "skipped")), None)

    @property
    def devices(self) -> int:
        return sum(len(w.devices) for w in self.waves)

    def timeout_at(self, wave: Wave) -> datetime | None:
        """When a running wave short of success halts the rollout (its time-out counts
        from the send, or from the campaign's own start when that is later)."""
        if wave.sent_at is None:
            return None
        start = self.campaign_spec.start_at
        begun = max(wave.sent_at, start) if start is not None else wave.sent_at
        return begun + self.plan.wave_timeout

    def decide(self, at: datetime, kind: DecisionKind, text: str, user: str = "") -> None:
        self.decisions.append(Decision(at=at, kind=kind, text=text, user=user))
        self.waiting = ""


class RolloutStore:
    """The rollouts of one profile."""

    def __init__(self, journal_folder: Path) -> None:
        self.folder = Path(journal_folder) / "rollouts"
        self.skipped: list[str] = []
        # The last listing and the folder's stamp then: every write renames a file into
        # the folder, so an unchanged stamp means unchanged rollouts (the console asks on
        # every refresh and every redraw of the campaigns view).
        self._listed: tuple[int, list[Rollout]] | None = None

    def _path(self, rollout_id: str) -> Path:
        if not rollout_id.startswith("ro-") or not rollout_id[3:].isalnum():
            raise UsageError(f"{rollout_id!r} is not a rollout id (ro- and 10 hex digits)")
        return self.folder / f"{rollout_id}.json"

    def save(self, rollout: Rollout, now: datetime) -> Rollout:
        rollout.updated_at = now
        rollout.version += 1
        text = json.dumps(rollout.model_dump(mode="json"), indent=2, ensure_ascii=True)
        atomic_write_text(self._path(rollout.rollout_id), text + "\n")
        return rollout

    def _files(self) -> Iterator[Path]:
        if not self.folder.is_dir():
            return iter(())
        return iter(sorted(self.folder.glob("ro-*.json")))

    def all(self) -> list[Rollout]:
        """Every readable rollout, oldest first; unreadable files are listed in ``skipped``.
        Read for reading: change a rollout through ``get`` under its lock."""
        try:
            stamp = self.folder.stat().st_mtime_ns
        except OSError:
            return []
        if self._listed is not None and self._listed[0] == stamp:
            return list(self._listed[1])
        out, skipped = [], []
        for path in self._files():
            try:
                out.append(Rollout.model_validate(json.loads(path.read_bytes())))
            except (OSError, ValueError, ValidationError):
                skipped.append(str(path))
        if skipped:
            log.warning("rollouts: %d unreadable files skipped", len(skipped))
        self.skipped = skipped
        out.sort(key=lambda r: r.created_at)
        self._listed = (stamp, out)
        return list(out)

    def exists(self, rollout_id: str) -> bool:
        return self._path(rollout_id).exists()

    def get(self, rollout_id: str) -> Rollout:
        path = self._path(rollout_id)
        try:
            return Rollout.model_validate(json.loads(path.read_bytes()))
        except FileNotFoundError:
            known = ", ".join(r.rollout_id for r in self.all()[-5:]) or "none"
            raise UsageError(f"no rollout {rollout_id} (latest: {known})") from None
        except (OSError, ValueError, ValidationError) as exc:
            raise UsageError(
                f"rollout {rollout_id} cannot be read ({type(exc).__name__})"
            ) from None

    def lock(
        self, rollout_id: str, holder: str, *, wait: float = 0.0
    ) -> AbstractAsyncContextManager[None]:
        """One driver changes a rollout at a time, across processes (``LockBusy`` when
        another holds it past ``wait`` seconds)."""
        self._path(rollout_id)
        return waiting_file_lock(self.folder / f".{rollout_id}", holder, wait=wait)

"""The campaign journal: every submission, written before it is sent and updated after.

One JSON file per submission under ``<data dir>/journal/<profile>/``, named
``<UTC stamp>-<submission id>.json`` so a directory listing is the audit trail in order.
Each write replaces the whole file atomically (temp file + ``os.replace``, mode 0600),
under one lock per profile, so a crash leaves the previous or the next version of an
entry, never half of one; and entries never share a file, so one bad file cannot hide
the others. An entry still in ``sending`` (a crash) or ``unknown`` (the answer was lost)
is *unresolved*: the service reconciles it against the platform before it sends again.

The journal is also the ``GroupSource`` for platforms without job ids (OneNET, AOVX).
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fota_tui.config.store import atomic_write_text, file_lock, waiting_file_lock
from fota_tui.errors import ConfigError
from fota_tui.models import CampaignSpec, ProviderKind, UtcDatetime
from fota_tui.providers.base import LocalGroup

log = logging.getLogger(__name__)

Outcome = Literal["sending", "created", "failed", "unknown"]
UNRESOLVED: tuple[Outcome, ...] = ("sending", "unknown")
_ID_RE = re.compile(r"^ft-[0-9a-f]{12}$")


def new_submission_id() -> str:
    """A fresh submission id (also the idempotency key): ``ft-`` + 12 hex digits."""
    return f"ft-{secrets.token_hex(6)}"


def current_user() -> str:
    """The OS user for the audit trail (``unknown`` where the OS cannot say)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "unknown"


class JournalEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    at: UtcDatetime
    state: Outcome
    note: str = ""


class JournalError(BaseModel):
    """What a failed or unknown send reported (never a secret: errors carry none)."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    title: str
    message: str
    code: str | None = None
    field: str | None = None  # as the platform named it
    spec_field: str | None = None  # the campaign field it concerns
    status: int | None = None


class JournalEntry(BaseModel):
    """One create call (one part of a split submission)."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    submission_id: str
    batch_id: str
    part: int = 1
    parts: int = 1
    profile: str
    provider: str
    kind: ProviderKind
    user: str
    host: str = ""
    created_at: UtcDatetime  # when the entry was written (the platform's clock)
    updated_at: UtcDatetime
    sent_at: UtcDatetime | None = None  # the latest send attempt
    first_sent_at: UtcDatetime | None = None
    # The platform's clock at the first send (its Date header): groupings of platforms
    # without job ids match the platform's record times against this, never our clock.
    platform_sent_at: UtcDatetime | None = None
    state: Outcome = "sending"
    attempts: int = 0
    spec: dict[str, Any]
    campaign_name: str | None = None
    requests: int = 1  # HTTP requests the create sends (several: a lost answer can be partial)
    campaign_ids: list[str] = Field(default_factory=list)
    job_refs: list[str] = Field(default_factory=list)
    known_before: list[str] = Field(default_factory=list)  # platform ids before the send
    not_reached: list[str] = Field(default_factory=list)  # devices the platform never got
    # Devices whose command may exist although the platform shows none (an answer lost in
    # a create of several requests); previews hold them back until the spec's end_at.
    unconfirmed: list[str] = Field(default_factory=list)
    error: JournalError | None = None
    reconciled: bool = False
    # Reconciliation concluded the create never reached the platform; later passes look
    # again for a while, and a campaign that turns up corrects the entry (``corrected``).
    absent_since: UtcDatetime | None = None
    corrected: bool = False
    events: list[JournalEvent] = Field(default_factory=list)

    @property
    def unresolved(self) -> bool:
        return self.state in UNRESOLVED

    @property
    def campaign_spec(self) -> CampaignSpec:
        return CampaignSpec.model_validate(self.spec)

    @property
    def device_ids(self) -> tuple[str, ...]:
        return tuple(self.spec.get("devices", []))

    @property
    def device_groups(self) -> tuple[str, ...]:
        return tuple(self.spec.get("device_groups", []))

    @property
    def group_id(self) -> str:
        """The campaign id of this submission where fota-tui keeps the grouping."""
        return self.campaign_ids[0] if self.campaign_ids else self.submission_id


class Journal:
    """The journal of one profile. Implements ``GroupSource``."""

    def __init__(self, data_dir: Path, profile: str, *, user: str | None = None) -> None:
        self.folder = Path(data_dir) / "journal" / profile
        self.profile = profile
        self.user = user or current_user()
        self.skipped: list[str] = []  # files that could not be read on the last listing

    # -- writing -------------------------------------------------------------
    def begin(
        self,
        *,
        provider: str,
        kind: ProviderKind,
        spec: CampaignSpec,
        now: datetime,
        batch_id: str | None = None,
        part: int = 1,
        parts: int = 1,
        campaign_name: str | None = None,
        submission_id: str | None = None,
        requests: int = 1,
    ) -> JournalEntry:
        """Record a submission before anything is sent (state ``sending``, no attempt yet)."""
        submission_id = submission_id or new_submission_id()
        entry = JournalEntry(
            submission_id=submission_id,
            batch_id=batch_id or submission_id,
            part=part,
            parts=parts,
            profile=self.profile,
            provider=provider,
            kind=kind,
            user=self.user,
            host=_hostname(),
            created_at=now,
            updated_at=now,
            spec=spec.model_dump(mode="json"),
            campaign_name=campaign_name,
            requests=requests,
            events=[JournalEvent(at=now, state="sending", note="recorded before sending")],
        )
        self._write(entry)
        return entry

    def update(
        self, entry: JournalEntry, *, now: datetime, note: str = "", **changes: Any
    ) -> JournalEntry:
        """Write a new version of ``entry``; an event is added when the state changes."""
        state = changes.get("state", entry.state)
        events = list(entry.events)
        if state != entry.state or note:
            events.append(JournalEvent(at=now, state=state, note=note))
        updated = entry.model_copy(update={**changes, "updated_at": now, "events": events})
        updated = JournalEntry.model_validate(updated.model_dump())
        self._write(updated)
        return updated

    def _path(self, entry: JournalEntry) -> Path:
        stamp = entry.created_at.strftime("%Y%m%dT%H%M%S%fZ")
        return self.folder / f"{stamp}-{entry.submission_id}.json"

    def _write(self, entry: JournalEntry) -> None:
        if not _ID_RE.match(entry.submission_id):
            raise ValueError(f"bad submission id {entry.submission_id!r}")
        with file_lock(self.folder / ".journal"):
            atomic_write_text(self._path(entry), entry_json(entry))

    # -- reading -------------------------------------------------------------
    def _files(self) -> Iterator[Path]:
        if not self.folder.is_dir():
            return iter(())
        return iter(sorted(p for p in self.folder.glob("*-ft-*.json") if p.is_file()))

    def stamp(self) -> int | None:
        """Changes whenever an entry is written (every write renames into the folder)."""
        try:
            return self.folder.stat().st_mtime_ns
        except OSError:
            return None

    def entries(self, provider: str | None = None) -> list[JournalEntry]:
        """Every readable entry, oldest first; unreadable files are listed in ``skipped``."""
        out, skipped = [], []
        for path in self._files():
            try:
                entry = JournalEntry.model_validate(json.loads(path.read_bytes()))
            except (OSError, ValidationError, ValueError):
                skipped.append(str(path))
                continue
            if provider is None or entry.provider == provider:
                out.append(entry)
        if skipped:
            log.warning("journal: %d unreadable entries skipped", len(skipped))
        self.skipped = skipped
        out.sort(key=lambda e: (e.created_at, e.batch_id, e.part))
        return out

    def get(self, submission_id: str) -> JournalEntry:
        for entry in self.entries():
            if entry.submission_id == submission_id:
                return entry
        raise ConfigError(f"no journal entry {submission_id}", path=str(self.folder))

    def fresh(self, entry: JournalEntry) -> JournalEntry:
        """``entry`` as its file holds it now (the given copy if it cannot be read)."""
        try:
            return JournalEntry.model_validate(json.loads(self._path(entry).read_bytes()))
        except (OSError, ValidationError, ValueError):
            return entry

    def batch(self, batch_id: str) -> list[JournalEntry]:
        return [e for e in self.entries() if e.batch_id == batch_id]

    def unresolved(self, provider: str | None = None) -> list[JournalEntry]:
        return [e for e in self.entries(provider) if e.unresolved]

    def recent_targets(
        self, provider: str, now: datetime, within: timedelta
    ) -> dict[str, JournalEntry]:
        """Devices and groups of submissions sent in the last ``within`` that may exist on
        the platform (sending, unknown or created): a platform may not list them yet."""
        out: dict[str, JournalEntry] = {}
        for entry in self.entries(provider):
            if entry.state == "failed" or now - entry.created_at > within:
                continue
            for target in (*entry.device_ids, *(f"group:{g}" for g in entry.device_groups)):
                out.setdefault(target, entry)
        return out

    def submit_lock(
        self, provider: str, *, wait: float, sleep: Callable[[float], Awaitable[None]]
    ) -> AbstractAsyncContextManager[None]:
        """One submitter per profile and provider at a time, across processes."""
        holder = f"{self.user}@{_hostname()} (pid {os.getpid()})"
        return waiting_file_lock(
            self.folder / f".submit-{provider}", holder, wait=wait, sleep=sleep
        )

    def held_devices(self, provider: str, now: datetime) -> dict[str, str]:
        """Device → why it must not be targeted again yet (unconfirmed sends)."""
        held: dict[str, str] = {}
        for entry in self.entries(provider):
            if not entry.unconfirmed:
                continue
            until = entry.spec.get("end_at")
            expiry = datetime.fromisoformat(until) if isinstance(until, str) else None
            if expiry is not None and expiry <= now:
                continue
            shown = f" until {expiry:%Y-%m-%d %H:%M}Z" if expiry else ""
            for device in entry.unconfirmed:
                held.setdefault(
                    device,
                    f"submission {entry.submission_id} may already have reached it (its answer"
                    f" was lost); held back{shown}",
                )
        return held

    def for_campaign(self, provider: str, campaign_id: str) -> JournalEntry | None:
        for entry in self.entries(provider):
            if campaign_id in entry.campaign_ids or campaign_id == entry.submission_id:
                return entry
        return None

    # -- GroupSource -----------------------------------------------------------
    def groups(self, provider: str) -> list[LocalGroup]:
        """Groupings for platforms without job ids: every submission that reached them."""
        groups = []
        for entry in self.entries(provider):
            if entry.state == "failed" or entry.first_sent_at is None:
                continue
            spec = entry.spec
            groups.append(
                LocalGroup(
                    campaign_id=entry.group_id,
                    provider=entry.provider,
                    created_at=entry.platform_sent_at or entry.first_sent_at,
                    device_ids=tuple(d for d in entry.device_ids if d not in entry.not_reached),
                    name=entry.campaign_name or spec.get("name"),
                    firmware=spec.get("firmware"),
                    firmware_to=spec.get("firmware_to"),
                    job_refs=tuple(entry.job_refs),
                )
            )
        return groups


def entry_json(entry: JournalEntry) -> str:
    """The entry as JSON that any text a platform sent survives: ``ensure_ascii`` escapes
    lone surrogates (which no UTF-8 encoder accepts) instead of failing the write."""
    return json.dumps(entry.model_dump(mode="json"), indent=2, ensure_ascii=True) + "\n"


def _hostname() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return ""

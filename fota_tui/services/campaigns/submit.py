"""Exactly-once submit: journal first, send once, and reconcile whenever the answer is lost.

For each job of a preview: the journal entry is written (``sending``) before the request
leaves, then updated with the platform ids (``created``), the rejection (``failed``), or
``unknown`` when the create timed out, the connection dropped or the answer could not be
read. An ``unknown`` entry is reconciled against the platform (``reconcile.py``) at once
and again before anything else is sent for that provider; it is only ever sent again
when the platform was read and shows it was not created (and the caller asked to resend).

The real world is not polite, so:

- **Absence takes time to prove.** A platform may list a new campaign seconds after it
  exists. A lost create that is not found stays ``unknown`` (and blocks the provider)
  until ``settle`` has passed since the send; only then is it concluded absent. An entry
  concluded absent is looked for again for ``CORRECTION_WINDOW``, and corrected (visibly)
  if it turns up.
- **One submitter at a time.** The duplicate guard and the journal's ``begin`` run under
  a lock per profile and provider in the data dir, so two processes (two engineers, a
  script and the console) cannot both pass the guard; the second waits or is refused.
  Under the lock, targets of a submission sent in the last ``settle`` that the platform
  does not list yet (or that another process sent since the preview) are refused.
- **A journal that cannot be written after the platform acted** raises
  ``JournalNotWritten``: the campaign exists, and the message says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from fota_tui.config.store import LockBusy
from fota_tui.errors import (
    FotaError,
    ProviderError,
    ProviderProtocolError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    UsageError,
)
from fota_tui.models import Campaign, CampaignSpec
from fota_tui.providers.base import PlatformClock, ProviderClient
from fota_tui.providers.rules import RuleContext
from fota_tui.services.campaigns.journal import Journal, JournalEntry, JournalError
from fota_tui.services.campaigns.preview import Preview
from fota_tui.services.campaigns.problems import spec_field
from fota_tui.services.campaigns.reconcile import Found, find_submission, is_local
from fota_tui.services.campaigns.rules import check_rules

AMBIGUOUS = (ProviderTimeout, ProviderUnavailable, ProviderProtocolError)
STALE_AFTER = timedelta(minutes=10)  # a "sending" entry older than this was interrupted
SETTLE = timedelta(minutes=10)  # a lost create is proven absent only this long after the send
CORRECTION_WINDOW = timedelta(days=1)  # entries concluded absent are looked for this long
LOCK_WAIT = 30.0  # seconds a second submitter waits for the first
MAX_ATTEMPTS = 2
UNCERTAIN_EXIT = 3  # the outcome of a create is not known (CLI exit code)

Outcome = Literal["created", "failed", "unknown", "partial"]


class SubmissionBlocked(FotaError):
    """An earlier submission to the same provider is unresolved; nothing was sent."""

    title = "Earlier submission unresolved"
    exit_code = 1


class JournalNotWritten(FotaError):
    """The platform was sent a create, but the journal could not record the outcome."""

    title = "Sent, but not journaled"
    exit_code = UNCERTAIN_EXIT


@dataclass(frozen=True)
class Submission:
    """The result of submitting one preview (one entry per platform job)."""

    batch_id: str
    entries: tuple[JournalEntry, ...]
    campaigns: tuple[Campaign, ...] = ()
    not_sent: int = 0  # jobs not attempted because an earlier one did not succeed
    already_submitted: bool = False

    @property
    def outcome(self) -> Outcome:
        states = {e.state for e in self.entries}
        if self.not_sent and "created" in states:
            return "partial"
        if states & {"unknown", "sending"} or any(e.unconfirmed for e in self.entries):
            return "unknown"  # unconfirmed: some device may or may not have been reached
        if states == {"created"}:
            return "created"
        return "partial" if "created" in states else "failed"

    @property
    def campaign_ids(self) -> list[str]:
        return [cid for e in self.entries for cid in e.campaign_ids]


def error_record(exc: ProviderError) -> JournalError:
    code = field = status = None
    if isinstance(exc, ProviderRejected):
        code, field, status = exc.code, exc.field, exc.status
    return JournalError(
        title=exc.title,
        message=exc.message,
        code=code,
        field=field,
        spec_field=spec_field(field),
        status=status,
    )


def command_details(created: list[Campaign]) -> tuple[list[str], list[str], list[str]]:
    """Platform references, per-device failures and recoveries of a local grouping's create.

    OneNET reports ``{"commands": {imei: {"write": uuid, "execute": uuid}}, "failed":
    {imei: error}, "recovered": {imei: how}}`` in ``provider_status_raw`` (see its
    adapter); other platforms nothing.
    """
    refs: list[str] = []
    failed: list[str] = []
    recovered: list[str] = []
    for campaign in created:
        raw = campaign.provider_status_raw
        if not campaign.local or not isinstance(raw, dict):
            continue
        commands = raw.get("commands")
        if isinstance(commands, dict):
            for uuids in commands.values():
                if isinstance(uuids, dict):
                    refs += [str(u) for u in uuids.values()]
        bad = raw.get("failed")
        if isinstance(bad, dict):
            failed += [str(d) for d in bad]
        fixed = raw.get("recovered")
        if isinstance(fixed, dict):
            recovered += [f"{imei}: {how}" for imei, how in fixed.items()]
    return refs, failed, recovered


class Submitter:
    """Sends previews for one provider through one journal."""

    def __init__(
        self,
        client: ProviderClient,
        journal: Journal,
        now: Callable[[], datetime],
        *,
        stale_after: timedelta = STALE_AFTER,
        settle: timedelta = SETTLE,
        lock_wait: float = LOCK_WAIT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.journal = journal
        self.now = now
        self.stale_after = stale_after
        self.settle_period = settle
        self.lock_wait = lock_wait
        self.sleep = sleep

    # -- submit -------------------------------------------------------------------------
    async def submit(self, preview: Preview, *, resend: bool = False) -> Submission:
        """Send ``preview`` once. ``resend`` allows one more send of a job the platform
        was shown not to have (after a lost answer); it is off by default."""
        if not preview.ok:
            raise UsageError(
                f"the preview for {preview.provider} has {len(preview.problems)} problem(s);"
                " nothing was sent"
            )
        if preview.provider != self.client.name:
            raise UsageError(f"the preview is for {preview.provider}, not {self.client.name}")
        lock = self.journal.submit_lock(self.client.name, wait=self.lock_wait, sleep=self.sleep)
        try:
            async with lock:
                return await self._submit(preview, resend=resend)
        except LockBusy as busy:
            raise SubmissionBlocked(
                f"{self.client.name}: another fota-tui ({busy.holder}) has been submitting to"
                f" it for {busy.waited:.0f} s; nothing was sent. Try again when it is done."
            ) from None

    async def _submit(self, preview: Preview, *, resend: bool) -> Submission:
        """The guard and the sends, under the provider's submit lock."""
        existing = self.journal.batch(preview.batch_id)
        if existing:  # the idempotency key: this preview was submitted before
            settled = [await self.settle(e) if e.unresolved else e for e in existing]
            return Submission(preview.batch_id, tuple(settled), already_submitted=True)
        self._check_still_valid(preview)
        await self.reconcile_pending()
        blocking = self.journal.unresolved(self.client.name)
        if blocking:
            raise SubmissionBlocked(self._blocked(blocking))
        known = await self._known_ids()
        self._check_not_just_sent(preview, known)
        entries: list[JournalEntry] = []
        campaigns: list[Campaign] = []
        parts = len(preview.parts)
        for index, part in enumerate(preview.parts):
            entry = self.journal.begin(
                provider=self.client.name,
                kind=self.client.kind,
                spec=part,
                now=self.now(),
                batch_id=preview.batch_id,
                part=index + 1,
                parts=parts,
                campaign_name=part.name,
                submission_id=preview.batch_id if index == 0 else None,
                requests=len(preview.requests[index]) if index < len(preview.requests) else 2,
            )
            entry, created = await self._send(entry, part, known, resend=resend)
            entries.append(entry)
            campaigns += created
            known += entry.campaign_ids
            if entry.state != "created":
                break
        return Submission(
            preview.batch_id,
            tuple(entries),
            tuple(campaigns),
            not_sent=parts - len(entries),
        )

    def _blocked(self, blocking: list[JournalEntry]) -> str:
        ids = ", ".join(e.submission_id for e in blocking)
        until = max((self.settles_at(e) for e in blocking), default=None)
        when = (
            f"; if the platform does not show it, it is concluded absent at {until:%H:%M:%S}Z"
            if until is not None and until > self.now()
            else ""
        )
        return (
            f"{self.client.name}: submission {ids} is unresolved (still being sent, or its"
            " answer was lost and the platform does not show it yet); nothing was sent. Its"
            f" devices are held back until it is resolved{when}. 'fota-tui campaign journal'"
            " reconciles and shows it."
        )

    def settles_at(self, entry: JournalEntry) -> datetime:
        """When absence on the platform proves a lost create was not made."""
        return (entry.first_sent_at or entry.created_at) + self.settle_period

    def _check_not_just_sent(self, preview: Preview, known: list[str]) -> None:
        """Targets of a recent submission the platform may not show yet, or that another
        process sent since this preview was made, are refused (a duplicate otherwise)."""
        recent = self.journal.recent_targets(self.client.name, self.now(), self.settle_period)
        listed = set(known)
        local = is_local(self.client)
        wanted = [
            *(d for part in preview.parts for d in part.devices),
            *preview.group_members,  # the devices a group task reaches
            *(f"group:{g}" for part in preview.parts for g in part.device_groups),
        ]
        clash: dict[str, JournalEntry] = {}
        for target in wanted:
            entry = recent.get(target)
            if entry is None:
                continue
            unlisted = local or not any(c in listed for c in entry.campaign_ids)
            if unlisted or entry.created_at >= preview.now:
                clash[target] = entry
        if not clash:
            return
        shown = ", ".join(t.removeprefix("group:") for t in list(clash)[:5])
        more = f" and {len(clash) - 5} more" if len(clash) > 5 else ""
        subs = {e.submission_id: e for e in clash.values()}
        who = "; ".join(
            f"{e.submission_id} by {e.user}{'@' + e.host if e.host else ''} at"
            f" {e.created_at:%H:%M:%S}Z" for e in subs.values()
        )  # fmt: skip
        until = max(e.created_at for e in subs.values()) + self.settle_period
        raise SubmissionBlocked(
            f"{self.client.name}: {shown}{more} were just submitted ({who}) and the platform may"
            f" not list it yet; nothing was sent. They are held back until {until:%H:%M:%S}Z;"
            " preview again then."
        )

    def _check_still_valid(self, preview: Preview) -> None:
        """Time passes between preview and submit: re-check the rules that depend on it."""
        if preview.already_checked_at(self.now()):
            return
        ctx = RuleContext(now=self.now(), label=self.client.kind.label)
        for part in preview.parts:
            problems = check_rules(self.client.kind, part, ctx)
            if problems:
                raise UsageError(
                    f"the preview is out of date ({problems[0].message}); preview again."
                    " Nothing was sent."
                )

    async def _known_ids(self) -> list[str]:
        """The platform's campaign ids before sending (native platforms only)."""
        if is_local(self.client):
            return []
        return [c.campaign_id for c in await self.client.campaigns()]

    async def _send(
        self,
        entry: JournalEntry,
        part: CampaignSpec,
        known: list[str],
        *,
        resend: bool,
    ) -> tuple[JournalEntry, list[Campaign]]:
        attempt = entry.attempts + 1
        now = self.now()
        platform = self.client.platform_time() if isinstance(self.client, PlatformClock) else None
        entry = self.journal.update(
            entry,
            now=now,
            note=f"attempt {attempt}: sending",
            attempts=attempt,
            sent_at=now,
            first_sent_at=entry.first_sent_at or now,
            platform_sent_at=entry.platform_sent_at or platform,
            known_before=list(known),
            state="sending",
        )
        try:
            created = await self.client.create_campaign(part)
        except ProviderError as exc:
            if isinstance(exc, AMBIGUOUS) or entry.requests > 1:
                entry = self._after_send(
                    entry,
                    now=self.now(),
                    note=f"no clear answer ({exc.title}: {exc.message}); reconciling",
                    state="unknown",
                    error=error_record(exc),
                )
                entry = await self.settle(entry)
                if (
                    entry.state == "failed"
                    and not entry.unconfirmed
                    and resend
                    and entry.attempts < MAX_ATTEMPTS
                ):
                    return await self._send(entry, part, known, resend=resend)
                return entry, []
            entry = self._after_send(
                entry,
                now=self.now(),
                note=f"rejected: {exc}",
                state="failed",
                error=error_record(exc),
            )
            return entry, []
        refs, uncertain, recovered = command_details(created)
        note = "created: " + ", ".join(c.campaign_id for c in created)
        if recovered:
            note += "; " + "; ".join(recovered)
        entry = self._after_send(
            entry,
            now=self.now(),
            created=created,
            note=note,
            state="created",
            campaign_ids=[c.campaign_id for c in created],
            job_refs=refs,
            error=None,
        )
        if uncertain:
            entry = await self._check_devices(entry, uncertain)
        return entry, created

    def _after_send(
        self, entry: JournalEntry, *, created: list[Campaign] | None = None, **changes: Any
    ) -> JournalEntry:
        """Record what a send did; a journal that cannot be written now is reported as what
        it is (the platform may have acted), never as a configuration error."""
        try:
            return self.journal.update(entry, **changes)
        except FotaError as exc:
            why = exc.message
        if created:
            ids = ", ".join(c.campaign_id for c in created)
            what = f"the platform accepted the create: campaign {ids} exists on {self.client.name}"
        elif changes.get("state") == "failed":
            what = f"{self.client.name} refused the create, so nothing was created"
        else:
            what = f"whether {self.client.name} created the campaign is not known"
        raise JournalNotWritten(
            f"{what}; but the journal could not record it ({why}), so fota-tui cannot guard"
            f" against sending it again. Submission {entry.submission_id}: do not apply this"
            " file again; check the platform ('fota-tui campaign list') and free space or"
            " permissions in the data dir ('fota-tui locate data')."
        )

    async def _check_devices(self, entry: JournalEntry, devices: list[str]) -> JournalEntry:
        """Some devices of a local grouping failed inside the create: was any of them
        reached anyway (an answer lost after the platform acted)? Look before reporting."""
        try:
            found = await find_submission(self.client, entry)
        except ProviderError as exc:
            return self.journal.update(
                entry,
                now=self.now(),
                note=f"{len(devices)} device(s) failed during the create and could not be"
                f" checked ({exc.title}); they stay in the campaign as unconfirmed",
            )
        missing = [d for d in devices if d in set(found.missing)]
        reached = [d for d in devices if d not in set(missing)]
        note = f"{len(devices)} device(s) failed during the create"
        if reached:
            note += f"; {len(reached)} reached although the answer was lost: {', '.join(reached)}"
        if missing:
            note += (
                f"; {len(missing)} not visible on the platform but possibly reached (a lost"
                f" answer can leave a command the platform does not show): {', '.join(missing)}"
            )
        return self.journal.update(entry, now=self.now(), note=note, unconfirmed=missing)

    # -- reconcile ----------------------------------------------------------------------
    async def settle(self, entry: JournalEntry) -> JournalEntry:
        """Reconcile one unresolved entry against the platform (it stays ``unknown`` if
        the platform cannot be read, or does not show it before ``settles_at``)."""
        if entry.state == "sending" and entry.first_sent_at is None:
            return self._after_send(
                entry,
                now=self.now(),
                note="interrupted before sending; nothing was sent",
                state="failed",
                reconciled=True,
            )
        try:
            found = await find_submission(self.client, entry)
        except ProviderError as exc:
            return self._still_unknown(
                entry, f"reconcile failed ({exc.title}: {exc.message}); still unknown"
            )
        if found.found:
            return self._found(entry, found, "reconciled")
        if found.ambiguous:
            return self._still_unknown(
                entry, f"{found.how}: still unknown; check the platform and cancel the extra"
            )
        settles_at = self.settles_at(entry)
        if self.now() < settles_at:
            return self._still_unknown(
                entry,
                f"not visible on the platform yet ({found.how}); a platform may list a new"
                f" campaign late, so it is looked for until {settles_at:%H:%M:%S}Z and its"
                " devices are held back until then",
            )
        # With several requests per create, a device the platform does not show may still
        # have been reached (see ``unconfirmed``); with one request, absence is proof.
        if entry.requests > 1:
            return self._after_send(
                entry,
                now=self.now(),
                note=f"reconciled: nothing visible on the platform ({found.how}); the"
                " devices stay held back in case a command was created",
                state="failed",
                unconfirmed=list(entry.device_ids),
                reconciled=True,
                absent_since=self.now(),
            )
        return self._after_send(
            entry,
            now=self.now(),
            note=f"reconciled: not on the platform ({found.how}) since {settles_at:%H:%M:%S}Z;"
            " nothing was created",
            state="failed",
            reconciled=True,
            absent_since=self.now(),
        )

    def _found(self, entry: JournalEntry, found: Found, how: str) -> JournalEntry:
        partial = entry.requests > 1
        missing = list(found.missing)
        tail = f"; {len(missing)} device(s) " if missing else ""
        if missing:
            tail += "unconfirmed" if partial else "not reached"
        return self._after_send(
            entry,
            now=self.now(),
            note=f"{how} ({found.how}): created {', '.join(found.campaign_ids)}" + tail,
            state="created",
            campaign_ids=found.campaign_ids,
            not_reached=[] if partial else missing,
            unconfirmed=missing if partial else [],
            reconciled=True,
            absent_since=None,
            corrected=entry.state == "failed",
        )

    def _still_unknown(self, entry: JournalEntry, note: str) -> JournalEntry:
        """Stay ``unknown``; the note is added once, not on every look."""
        if entry.state == "unknown" and entry.events and entry.events[-1].note == note:
            return entry
        return self._after_send(entry, now=self.now(), note=note, state="unknown")

    async def reconcile_pending(self) -> list[JournalEntry]:
        """Settle this provider's unresolved entries (``sending`` ones only once stale),
        and look again for those concluded absent lately: a late listing corrects them."""
        settled = []
        for entry in self.journal.entries(self.client.name):
            if entry.absent_since is not None and not entry.unresolved:
                if self.now() - entry.absent_since < CORRECTION_WINDOW:
                    corrected = await self._correct(entry)
                    if corrected is not None:
                        settled.append(corrected)
                continue
            if not entry.unresolved:
                continue
            entry = self.journal.fresh(entry)  # another process may have moved it on since
            if not entry.unresolved:
                continue
            if entry.state == "sending" and self.now() - entry.updated_at < self.stale_after:
                continue  # probably still being sent by another process
            if entry.state == "sending" and entry.first_sent_at is not None:
                entry = self._after_send(
                    entry,
                    now=self.now(),
                    note="left in 'sending' (interrupted); reconciling",
                    state="unknown",
                )
            settled.append(await self.settle(entry))
        return settled

    async def _correct(self, entry: JournalEntry) -> JournalEntry | None:
        """An entry concluded absent that the platform now shows: corrected, visibly."""
        try:
            found = await find_submission(self.client, entry)
        except ProviderError:
            return None
        if not found.found:
            return None
        return self._found(
            entry, found, "corrected: the platform lists it after it was concluded absent"
        )

"""Exactly-once submit: journal first, send once, and reconcile whenever the answer is lost.

For each job of a preview: the journal entry is written (``sending``) before the request
leaves, then updated with the platform ids (``created``), the rejection (``failed``), or
``unknown`` when the create timed out, the connection dropped or the answer could not be
read. An ``unknown`` entry is reconciled against the platform (``reconcile.py``) at once
and again before anything else is sent for that provider; it is only ever sent again
when the platform was read and shows it was not created (and the caller asked to resend).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

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
from fota_tui.providers.base import ProviderClient
from fota_tui.services.campaigns.journal import Journal, JournalEntry, JournalError
from fota_tui.services.campaigns.preview import Preview
from fota_tui.services.campaigns.problems import spec_field
from fota_tui.services.campaigns.reconcile import find_submission, is_local
from fota_tui.services.campaigns.rules import check_rules
from fota_tui.services.campaigns.rules.common import RuleContext

AMBIGUOUS = (ProviderTimeout, ProviderUnavailable, ProviderProtocolError)
STALE_AFTER = timedelta(minutes=10)  # a "sending" entry older than this was interrupted
MAX_ATTEMPTS = 2

Outcome = Literal["created", "failed", "unknown", "partial"]


class SubmissionBlocked(FotaError):
    """An earlier submission to the same provider is unresolved; nothing was sent."""

    title = "Earlier submission unresolved"
    exit_code = 1


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
        if states & {"unknown", "sending"}:
            return "unknown"
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


def command_details(created: list[Campaign]) -> tuple[list[str], list[str]]:
    """Platform references and per-device failures of a local grouping's create.

    OneNET reports ``{"commands": {imei: {"write": uuid, "execute": uuid}}, "failed":
    {imei: error}}`` in ``provider_status_raw`` (see its adapter); other platforms nothing.
    """
    refs: list[str] = []
    failed: list[str] = []
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
    return refs, failed


class Submitter:
    """Sends previews for one provider through one journal."""

    def __init__(
        self,
        client: ProviderClient,
        journal: Journal,
        now: Callable[[], datetime],
        *,
        stale_after: timedelta = STALE_AFTER,
    ) -> None:
        self.client = client
        self.journal = journal
        self.now = now
        self.stale_after = stale_after

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
        existing = self.journal.batch(preview.batch_id)
        if existing:  # the idempotency key: this preview was submitted before
            settled = [await self.settle(e) if e.unresolved else e for e in existing]
            return Submission(preview.batch_id, tuple(settled), already_submitted=True)
        self._check_still_valid(preview)
        await self.reconcile_pending()
        blocking = self.journal.unresolved(self.client.name)
        if blocking:
            ids = ", ".join(e.submission_id for e in blocking)
            raise SubmissionBlocked(
                f"{self.client.name}: submission {ids} is unresolved (still being sent, or its"
                " answer was lost and the platform could not be checked yet); nothing was sent."
                " Try again when the platform answers ('fota-tui campaign list' reconciles)."
            )
        known = await self._known_ids()
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
        entry = self.journal.update(
            entry,
            now=now,
            note=f"attempt {attempt}: sending",
            attempts=attempt,
            sent_at=now,
            first_sent_at=entry.first_sent_at or now,
            known_before=list(known),
            state="sending",
        )
        try:
            created = await self.client.create_campaign(part)
        except ProviderError as exc:
            if isinstance(exc, AMBIGUOUS) or entry.requests > 1:
                entry = self.journal.update(
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
            entry = self.journal.update(
                entry,
                now=self.now(),
                note=f"rejected: {exc}",
                state="failed",
                error=error_record(exc),
            )
            return entry, []
        refs, uncertain = command_details(created)
        entry = self.journal.update(
            entry,
            now=self.now(),
            note="created: " + ", ".join(c.campaign_id for c in created),
            state="created",
            campaign_ids=[c.campaign_id for c in created],
            job_refs=refs,
            error=None,
        )
        if uncertain:
            entry = await self._check_devices(entry, uncertain)
        return entry, created

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
        the platform cannot be read)."""
        if entry.state == "sending" and entry.first_sent_at is None:
            return self.journal.update(
                entry,
                now=self.now(),
                note="interrupted before sending; nothing was sent",
                state="failed",
                reconciled=True,
            )
        try:
            found = await find_submission(self.client, entry)
        except ProviderError as exc:
            return self.journal.update(
                entry,
                now=self.now(),
                note=f"reconcile failed ({exc.title}: {exc.message}); still unknown",
                state="unknown",
            )
        # With several requests per create, a device the platform does not show may still
        # have been reached (see ``unconfirmed``); with one request, absence is proof.
        partial = entry.requests > 1
        missing = list(found.missing) if found.found else list(entry.device_ids)
        if found.found:
            tail = f"; {len(missing)} device(s) " if missing else ""
            if missing:
                tail += "unconfirmed" if partial else "not reached"
            return self.journal.update(
                entry,
                now=self.now(),
                note=f"reconciled ({found.how}): created {', '.join(found.campaign_ids)}" + tail,
                state="created",
                campaign_ids=found.campaign_ids,
                not_reached=[] if partial else missing,
                unconfirmed=missing if partial else [],
                reconciled=True,
            )
        if partial:
            return self.journal.update(
                entry,
                now=self.now(),
                note=f"reconciled: nothing visible on the platform ({found.how}); the"
                " devices stay held back in case a command was created",
                state="failed",
                unconfirmed=missing,
                reconciled=True,
            )
        return self.journal.update(
            entry,
            now=self.now(),
            note=f"reconciled: not on the platform ({found.how}); nothing was created",
            state="failed",
            reconciled=True,
        )

    async def reconcile_pending(self) -> list[JournalEntry]:
        """Settle this provider's unresolved entries; ``sending`` ones only once stale."""
        settled = []
        for entry in self.journal.unresolved(self.client.name):
            if entry.state == "sending" and entry.first_sent_at is not None:
                if self.now() - entry.updated_at < self.stale_after:
                    continue  # probably still in flight in another process
                entry = self.journal.update(
                    entry,
                    now=self.now(),
                    note="left in 'sending' (interrupted); reconciling",
                    state="unknown",
                )
            settled.append(await self.settle(entry))
        return settled

"""The campaign service of one provider: check, preview, submit, reconcile, operate.

This is the API the CLI and the wizard use. Everything that reaches the platform goes
through the journal; nothing is sent unless a preview is clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from fota_tui.errors import UsageError
from fota_tui.models import (
    Campaign,
    CampaignDetail,
    CampaignSpec,
    Capabilities,
    Firmware,
    ProviderKind,
    utcnow,
)
from fota_tui.providers.base import DeviceListEditing, ProviderClient
from fota_tui.providers.rules import RuleContext
from fota_tui.services.campaigns import operations
from fota_tui.services.campaigns.journal import Journal, JournalEntry
from fota_tui.services.campaigns.preview import Preview, build_preview
from fota_tui.services.campaigns.problems import Problem
from fota_tui.services.campaigns.rules import check_rules
from fota_tui.services.campaigns.submit import SETTLE, Submission, Submitter


class CampaignService:
    """``client`` must have been built with ``groups=journal`` (see ``session.py``)."""

    def __init__(
        self,
        client: ProviderClient,
        journal: Journal,
        *,
        now: Callable[[], datetime] = utcnow,
        settle: timedelta = SETTLE,
        read_only: bool = False,
    ) -> None:
        self.client = client
        self.journal = journal
        self.now = now
        self.read_only = read_only
        self.submitter = Submitter(client, journal, now, settle=settle)

    @property
    def name(self) -> str:
        return self.client.name

    @property
    def kind(self) -> ProviderKind:
        return self.client.kind

    @property
    def capabilities(self) -> Capabilities:
        return self.client.capabilities

    # -- checking -----------------------------------------------------------------------
    def check(
        self, spec: CampaignSpec, firmware: Sequence[Firmware] | None = None
    ) -> list[Problem]:
        """The platform's rules only (no I/O): for inline validation while editing."""
        ctx = RuleContext(now=self.now(), firmware=firmware, label=self.kind.label)
        return check_rules(self.kind, spec, ctx)

    async def firmware(self) -> list[Firmware]:
        return await self.client.firmware()

    async def preview(
        self, spec: CampaignSpec, *, split: bool = False, batch_id: str | None = None
    ) -> Preview:
        """The dry run (reads the platform, sends nothing). ``batch_id`` is the submission
        id to use (a rollout's wave has its own); a fresh one by default."""
        now = self.now()
        held = self.journal.held_devices(self.name, now)
        return await build_preview(
            self.client, spec, now=now, split=split, held=held, batch_id=batch_id
        )

    # -- sending ------------------------------------------------------------------------
    def _writable(self, what: str) -> None:
        """Read-only is enforced here, whatever the front end: nothing is sent."""
        if self.read_only:
            raise UsageError(
                f"{self.name}: the profile is read-only (read_only = true or --read-only);"
                f" {what} refused, nothing was sent"
            )

    async def submit(self, preview: Preview, *, resend: bool = False) -> Submission:
        """Send a clean preview exactly once (see ``submit.py``)."""
        self._writable("the campaign")
        return await self.submitter.submit(preview, resend=resend)

    async def reconcile_pending(self) -> list[JournalEntry]:
        """Settle submissions whose outcome is unknown (call at startup / before lists)."""
        return await self.submitter.reconcile_pending()

    def history(self) -> list[JournalEntry]:
        return self.journal.entries(self.name)

    # -- reading ------------------------------------------------------------------------
    async def campaigns(self) -> list[Campaign]:
        return await self.client.campaigns()

    async def campaign(self, campaign_id: str) -> CampaignDetail:
        return await self.client.campaign(campaign_id)

    # -- operations ---------------------------------------------------------------------
    @property
    def can_cancel(self) -> bool:
        return operations.can_cancel(self.client)

    @property
    def can_change_devices(self) -> bool:
        return self.capabilities.add_remove_devices and isinstance(self.client, DeviceListEditing)

    async def cancel(self, campaign_id: str) -> Campaign:
        self._writable("cancelling")
        return await operations.cancel(
            self.client, campaign_id, journal=self.journal, now=self.now()
        )

    async def add_devices(self, campaign_id: str, device_ids: Sequence[str]) -> Any:
        self._writable("adding devices")
        return await operations.change_devices(
            self.client, campaign_id, device_ids, add=True, journal=self.journal, now=self.now()
        )

    async def remove_devices(self, campaign_id: str, device_ids: Sequence[str]) -> Any:
        self._writable("removing devices")
        return await operations.change_devices(
            self.client, campaign_id, device_ids, add=False, journal=self.journal, now=self.now()
        )

    async def retry_failed(self, campaign_id: str) -> CampaignSpec:
        """A spec for the failed devices of a campaign, to review and submit anew."""
        return await operations.retry_failed_spec(self.client, campaign_id, journal=self.journal)

    async def aclose(self) -> None:
        await self.client.aclose()

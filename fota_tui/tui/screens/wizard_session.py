"""The campaign service for the console's profile, and the read-only guard.

The console (``ConsoleSession``) reads; campaigns are created, cancelled and changed
through the headless campaign service (``services/campaigns``), which journals every
submission in the user data dir. ``campaign_session`` opens one for the console's
profile, on the same transport and clock and with the console's own clients: one client
per platform account, so one rate limiter and one token (OceanConnect keeps only the
newest token of an app and counts one call budget per app). The caller closes it
(``aclose``), which leaves the console's clients open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fota_tui.config.paths import resolve_paths
from fota_tui.errors import UsageError
from fota_tui.providers.base import ProviderClient
from fota_tui.services.campaigns import CampaignSession, open_session
from fota_tui.services.campaigns.journal import Journal
from fota_tui.services.session import ConsoleSession


def data_dir(app: Any) -> Path:
    """The console's journal folder (the demo's own on the demo), else the user's."""
    journal_dir = getattr(app, "journal_dir", None)
    if journal_dir is not None:
        return Path(journal_dir)
    paths = getattr(app, "paths", None)
    return paths.data_dir if paths is not None else resolve_paths().data_dir


def campaign_session(app: Any) -> CampaignSession:
    """A campaign session for ``app.session``'s profile (same transport, clock, clients)."""
    console: ConsoleSession = app.session
    groups = console.groups  # the journal the console's clients list campaigns from
    shared = (
        groups if isinstance(groups, Journal) and groups.profile == console.profile.name else None
    )
    journal = shared if shared is not None else Journal(data_dir(app), console.profile.name)

    def lend(provider: str) -> ProviderClient | None:
        try:
            client = console.client(provider)
        except UsageError:  # it failed to build: building it again says why
            return None
        if keeps_groups(client) and shared is None:
            return None  # it would not list the campaigns this journal keeps
        return client

    # The console keeps the transport it was given (the demo's in-process simulator,
    # or a test's); clients the campaign session builds must use the same one.
    return open_session(
        console.profile,
        data_dir(app),
        transport=console.transport,
        now=app.now,
        clients=lend,
        journal=journal,
        read_only=console.read_only,
    )


def keeps_groups(client: ProviderClient) -> bool:
    """Whether fota-tui keeps the client's campaigns (OneNET, AOVX: no job ids), so the
    client lists them from a journal."""
    caps = client.capabilities
    return not (caps.native_campaigns and caps.returns_job_id)


def read_only_reason(console: ConsoleSession) -> str | None:
    """Why nothing may be changed in this session, or None."""
    if not console.read_only:
        return None
    profile = console.profile
    why = (
        "the profile is marked read_only"
        if profile.read_only
        else "the console was started with --read-only"
    )
    return (
        f"Profile '{profile.name}' is read-only ({why}): campaigns cannot be created,"
        " cancelled or changed here."
    )


def tell(app: Any, message: str, title: str, severity: str = "information") -> None:
    """A notification with literal text (the console's ``say`` when there is one)."""
    say = getattr(app, "say", None)
    if callable(say):
        say(message, title, severity=severity)
    else:
        app.notify(message, title=title, severity=severity, markup=False)


def is_production(console: ConsoleSession) -> bool:
    return console.profile.environment == "production"

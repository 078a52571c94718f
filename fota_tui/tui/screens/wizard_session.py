"""The campaign service for the console's profile, and the read-only guard.

The console (``ConsoleSession``) reads; campaigns are created, cancelled and changed
through the headless campaign service (``services/campaigns``), which journals every
submission. Both run over the console's workspace (``services/workspace.py``): the same
clients (one rate limiter and one token per platform account) and the same journal.
Closing a campaign session leaves the workspace's clients open.
"""

from __future__ import annotations

from typing import Any

from fota_tui.services.campaigns import CampaignSession
from fota_tui.services.session import ConsoleSession


def campaign_session(app: Any) -> CampaignSession:
    """The write session of the console's workspace, on the console's clock."""
    session: CampaignSession = app.workspace.campaigns(now=app.now)
    return session


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

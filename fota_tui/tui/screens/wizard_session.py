"""The campaign service for the console's profile, and the read-only guard.

The console (``ConsoleSession``) reads; campaigns are created, cancelled and changed
through the headless campaign service (``services/campaigns``), which journals every
submission in the user data dir. ``campaign_session`` opens one for the console's
profile, on the same transport and clock; the caller closes it (``aclose``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fota_tui.config.paths import resolve_paths
from fota_tui.services.campaigns import CampaignSession, open_session
from fota_tui.services.session import ConsoleSession


def data_dir(app: Any) -> Path:
    paths = getattr(app, "paths", None)
    return paths.data_dir if paths is not None else resolve_paths().data_dir


def campaign_session(app: Any) -> CampaignSession:
    """A campaign session for ``app.session``'s profile (same transport and clock)."""
    console: ConsoleSession = app.session
    # The console keeps the transport it was given (the demo's in-process simulator,
    # or a test's); the campaign clients must use the same one.
    transport = console.transport
    return open_session(console.profile, data_dir(app), transport=transport, now=app.now)


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

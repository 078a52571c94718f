"""Messages and signals between the headless session and the screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from fota_tui.services.fleet import FleetDiff
from fota_tui.services.session import (
    CacheLoaded,
    HealthChanged,
    RefreshSucceeded,
    SessionEvent,
)

_SNAPSHOTS = (RefreshSucceeded, CacheLoaded)


class SessionUpdate(Message):
    """One session event, posted to the app.

    While queued, a newer message for the same provider may replace an older one:
    a newer snapshot replaces an older snapshot (a cached one only replaces a cached
    one), and pure status events (refresh started/failed) are replaced by anything
    newer, because the session already holds their state. Health transitions are
    never dropped: each one is a notification.
    """

    def __init__(self, event: SessionEvent) -> None:
        super().__init__()
        self.event = event

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, SessionUpdate):
            return False
        mine, newer = self.event, message.event
        if mine.provider != newer.provider or isinstance(mine, HealthChanged):
            return False
        if isinstance(mine, _SNAPSHOTS):
            if not isinstance(newer, _SNAPSHOTS):
                return False
            return isinstance(newer, RefreshSucceeded) or isinstance(mine, CacheLoaded)
        return True


@dataclass(frozen=True)
class SessionChange:
    """Published on ``FotaApp.session_changed`` after the session changed.

    ``diff`` is the fleet store change (None when only provider status changed);
    ``rebuilt`` is True when a new session replaced the old one (profile switch).
    """

    provider: str | None = None
    diff: FleetDiff | None = None
    rebuilt: bool = False

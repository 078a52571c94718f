"""Messages and signals between the headless session and the screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from fota_tui.services.fleet import FleetDiff
from fota_tui.services.session import Applied, HealthChanged, SessionEvent


class SessionUpdate(Message):
    """One session event, posted to the app; ``diff`` is what it changed in the store.

    While queued, a newer message for the same provider may replace an older one: an
    applied snapshot is replaced by a newer applied one, which then carries both diffs
    (nothing the session changed goes unpainted), and pure status events (refresh
    started/failed) are replaced by anything newer, because the session already holds
    their state. Health transitions are never dropped: each one is a notification.
    """

    def __init__(self, event: SessionEvent) -> None:
        super().__init__()
        self.event = event
        self.diff: FleetDiff | None = event.diff if isinstance(event, Applied) else None

    def can_replace(self, message: Message) -> bool:
        """Called with the next queued message; True drops this one for it."""
        if not isinstance(message, SessionUpdate):
            return False
        mine, newer = self.event, message.event
        if mine.provider != newer.provider or isinstance(mine, HealthChanged):
            return False
        if isinstance(mine, Applied):
            if not isinstance(newer, Applied) or self.diff is None or message.diff is None:
                return False
            message.diff = self.diff.merge(message.diff)
            return True
        return True


@dataclass(frozen=True)
class SessionChange:
    """Published on ``FotaApp.session_changed`` after the session changed.

    ``diff`` is the fleet store change (None when only provider status changed);
    ``rebuilt`` is True when a new session replaced the old one (profile switch);
    ``rollouts`` when a rollout of the profile changed.
    """

    provider: str | None = None
    diff: FleetDiff | None = None
    rebuilt: bool = False
    rollouts: bool = False

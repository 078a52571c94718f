"""What the adapter knows of each device's command history between refreshes.

OneNET has no bulk status API: a device's upgrade state is in its own command history
(docs/platforms/onenet.md). Reading every device on every refresh costs one request per
device whatever is happening, so a refresh reads only the devices where something can
have changed:

- a device with an upgrade in flight, or one whose upgrade finished within ``HOT_AFTER``
  (a late confirmation still lands);
- a device fota-tui sent something to (a journal group) that its history does not show yet;
- every device, on a full sweep: the first refresh, every ``full_sweep`` seconds (an upgrade
  started outside fota-tui shows within one sweep), on demand, and after a read that
  contradicts what is known.

An incremental read asks from the oldest open command (or the last read, less
``OVERLAP``) onwards; the commands known in that window must come back, or the cache is
not trusted and the provider is read in full.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fota_tui.providers.incremental import HOT_AFTER, Contradiction
from fota_tui.providers.onenet.wire import Command

OVERLAP = timedelta(minutes=10)  # an incremental read starts this much before the last one


@dataclass
class Known:
    """One device's commands (by uuid) and where its next read may start."""

    commands: dict[str, Command] = field(default_factory=dict)
    read_at: datetime | None = None  # platform time of the last read
    open_since: datetime | None = None  # create time of its oldest unfinished command
    hot_until: datetime | None = None  # read again until then (a recent finish)


class HistoryCache:
    def __init__(self) -> None:
        self._known: dict[str, Known] = {}

    def __len__(self) -> int:
        return len(self._known)

    def clear(self) -> None:
        self._known.clear()

    def knows(self, imei: str) -> bool:
        return imei in self._known

    def commands(self, imei: str) -> list[Command]:
        """Newest first, as the history API lists them."""
        known = self._known.get(imei)
        if known is None:
            return []
        return sorted(known.commands.values(), key=_created, reverse=True)

    def start(
        self, imei: str, now: datetime, sent_since: datetime | None = None
    ) -> datetime | None:
        """Where an incremental read of ``imei`` starts, or None when nothing can have
        changed (``sent_since``: fota-tui sent it something then, not yet seen)."""
        known = self._known.get(imei)
        if known is None or known.read_at is None:
            return None
        seen_send = sent_since is not None and any(
            c.create_time is not None and c.create_time >= sent_since
            for c in known.commands.values()
        )
        hot = known.open_since is not None or (
            known.hot_until is not None and now <= known.hot_until
        )
        if not hot and (sent_since is None or seen_send):
            return None
        start = known.read_at - OVERLAP
        for when in (known.open_since, sent_since):
            if when is not None and when < start:
                start = when
        return start

    def replace(self, imei: str, commands: Iterable[Command], read_at: datetime) -> None:
        """A full read of ``imei`` (what the last look showed is kept for ``settle``)."""
        old = self._known.get(imei)
        self._known[imei] = Known(
            {c.cmd_uuid: c for c in commands},
            read_at,
            old.open_since if old else None,
            old.hot_until if old else None,
        )

    def merge(
        self, imei: str, commands: Iterable[Command], read_at: datetime, start: datetime
    ) -> None:
        """An incremental read from ``start``: raises ``Contradiction`` when a known
        command of that window is missing or changed its creation time."""
        known = self._known.setdefault(imei, Known())
        fresh = {c.cmd_uuid: c for c in commands}
        for uuid, old in known.commands.items():
            created = old.create_time
            if created is None or created < start:
                continue
            new = fresh.get(uuid)
            if new is None:
                raise Contradiction(f"{imei}: command {uuid} is missing from a new read")
            if new.create_time != created:
                raise Contradiction(f"{imei}: command {uuid} changed its creation time")
        known.commands.update(fresh)
        known.read_at = read_at

    def settle(self, imei: str, open_since: datetime | None, now: datetime) -> None:
        """What the last look showed: the oldest unfinished command's creation time (None
        when every upgrade is finished). One that just finished stays hot a while."""
        known = self._known.get(imei)
        if known is None:
            return
        if known.open_since is not None and open_since is None:
            known.hot_until = now + HOT_AFTER
        known.open_since = open_since

    def keep(self, imeis: Iterable[str], horizon: datetime) -> None:
        """Forget devices no longer listed and commands older than ``horizon``."""
        listed = set(imeis)
        for imei in [i for i in self._known if i not in listed]:
            del self._known[imei]
        for known in self._known.values():
            old = [
                u for u, c in known.commands.items() if c.create_time and c.create_time < horizon
            ]
            for uuid in old:
                del known.commands[uuid]


def _created(command: Command) -> datetime:
    return command.create_time or datetime.min.replace(tzinfo=UTC)

"""What one read of a platform says about a rollout's waves.

The engine decides only on an ``Observation``: a refresh of the wave's provider (the
console's latest, or one the headless driver makes), with when it was read. A failed
read, or one older than the provider's refresh interval, or made before the wave was
sent, decides nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fota_tui.models import DeviceUpgrade, UpgradeState
from fota_tui.services.rollouts.record import Tally, Wave
from fota_tui.services.snapshot import ProviderSnapshot

UNDELIVERED_AFTER = timedelta(minutes=5)
FAILED = frozenset({UpgradeState.FAILED, UpgradeState.EXPIRED, UpgradeState.CANCELLED})


@dataclass(frozen=True)
class Observation:
    provider: str
    at: datetime  # when the read began (our clock)
    ok: bool = True
    message: str = ""  # why the read failed
    upgrades: tuple[DeviceUpgrade, ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, snapshot: ProviderSnapshot) -> Observation:
        health = snapshot.health
        return cls(
            provider=snapshot.provider,
            at=snapshot.fetched_at,
            ok=health.ok,
            message=health.message or "",
            upgrades=snapshot.upgrades,
        )

    @classmethod
    def failed(cls, provider: str, at: datetime, message: str) -> Observation:
        return cls(provider=provider, at=at, ok=False, message=message)

    def stale(self, wave: Wave, now: datetime, max_age: timedelta) -> str:
        """Why this read cannot count for ``wave`` ('' when it can)."""
        if not self.ok:
            return f"{self.provider} could not be read ({self.message or 'no answer'})"
        if wave.sent_at is not None and self.at < wave.sent_at:
            return f"no read of {self.provider} since wave {wave.index} was sent"
        if now - self.at > max_age:
            return (
                f"the last read of {self.provider} is {int((now - self.at).total_seconds())} s old"
            )
        return ""

    def tally(self, wave: Wave) -> Tally:
        """The wave's devices by their state in the wave's campaigns (the latest record of
        each device wins)."""
        ids = set(wave.campaign_ids)
        latest: dict[str, DeviceUpgrade] = {}
        for upgrade in self.upgrades:
            if upgrade.campaign_id not in ids:
                continue
            seen = latest.get(upgrade.device_id)
            if seen is None or _when(upgrade) >= _when(seen):
                latest[upgrade.device_id] = upgrade
        out = count(latest.get(i) for _, i in wave.sent_to())
        # A device the create could not reach has failed once the platform, read a while
        # after the send (a listing can lag), still shows nothing for it.
        settled = wave.sent_at is not None and self.at - wave.sent_at >= UNDELIVERED_AFTER
        undelivered = set(wave.undelivered) if settled else set()
        lost = sum(1 for d, i in wave.sent_to() if d in undelivered and i not in latest)
        return out.model_copy(update={"failed": out.failed + lost, "unseen": out.unseen - lost})


def count(upgrades: Iterable[DeviceUpgrade | None]) -> Tally:
    members = succeeded = failed = active = unseen = 0
    for upgrade in upgrades:
        members += 1
        if upgrade is None:
            unseen += 1
        elif upgrade.state is UpgradeState.SUCCEEDED:
            succeeded += 1
        elif upgrade.state in FAILED:
            failed += 1
        else:
            active += 1
    return Tally(members=members, succeeded=succeeded, failed=failed, active=active, unseen=unseen)


def _when(upgrade: DeviceUpgrade) -> float:
    stamp = upgrade.updated_at or upgrade.created_at
    return stamp.timestamp() if stamp else 0.0

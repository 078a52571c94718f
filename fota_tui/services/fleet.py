"""The fleet store: one row per device across every provider, updated by diffs.

Headless (no Textual, no Rich). A row joins a ``Device`` with that device's most
relevant ``DeviceUpgrade``. Rows are keyed by ``(provider, device_id)`` and are
immutable; a store update keeps the old row object when nothing changed, so the
UI can cache rendered lines by row identity.

Deriving rows (``derive_rows``) is pure and may run in a worker thread; committing
them (``FleetStore.replace_provider_rows``) only compares and swaps dicts.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from fota_tui.models import Device, DeviceUpgrade, ProviderKind, UpgradeState, state_counts

RowKey = tuple[str, str]
"""``(provider name, device id)``."""

_OLDEST = datetime.min.replace(tzinfo=UTC)
_intern = sys.intern


@dataclass(frozen=True, slots=True, init=False)
class FleetRow:
    """One device as the console shows it: the device plus its most relevant upgrade.

    ``state`` is ``None`` when no upgrade is known for the device. ``key`` and
    ``search_text`` (lower-case text the ``/`` filter searches) are derived.
    """

    provider: str
    kind: ProviderKind
    device_id: str
    imei: str | None
    name: str | None
    model: str | None
    firmware: str | None  # current
    firmware_to: str | None  # target of the relevant upgrade
    state: UpgradeState | None
    provider_status_raw: Any
    campaign_id: str | None
    reason: str | None
    updated_at: datetime | None
    online: bool | None
    key: RowKey = field(compare=False, repr=False)
    search_text: str = field(compare=False, repr=False)

    def __init__(
        self,
        provider: str,
        kind: ProviderKind,
        device_id: str,
        imei: str | None = None,
        name: str | None = None,
        model: str | None = None,
        firmware: str | None = None,
        firmware_to: str | None = None,
        state: UpgradeState | None = None,
        provider_status_raw: Any = None,
        campaign_id: str | None = None,
        reason: str | None = None,
        updated_at: datetime | None = None,
        online: bool | None = None,
    ) -> None:
        # Frozen: set slots through their descriptors (about 3x faster than the
        # object.__setattr__ calls a generated frozen __init__ makes; 100k rows matter).
        # Few-valued strings are interned: one object per value saves memory and
        # makes the filter's per-value lookups identity hits.
        s = _SLOT_SETTERS
        provider = _intern(provider) if provider.__class__ is str else provider
        model = _intern(model) if model.__class__ is str else model
        firmware = _intern(firmware) if firmware.__class__ is str else firmware
        firmware_to = _intern(firmware_to) if firmware_to.__class__ is str else firmware_to
        campaign_id = _intern(campaign_id) if campaign_id.__class__ is str else campaign_id
        s[0](self, provider)
        s[1](self, kind)
        s[2](self, device_id)
        s[3](self, imei)
        s[4](self, name)
        s[5](self, model)
        s[6](self, firmware)
        s[7](self, firmware_to)
        s[8](self, state)
        s[9](self, provider_status_raw)
        s[10](self, campaign_id)
        s[11](self, reason)
        s[12](self, updated_at)
        s[13](self, online)
        s[14](self, (provider, device_id))
        s[15](
            self,
            "\x00".join(
                (
                    device_id,
                    imei or "",
                    name or "",
                    model or "",
                    firmware or "",
                    firmware_to or "",
                    reason or "",
                    campaign_id or "",
                )
            ).lower(),
        )

    def __hash__(self) -> int:  # raw statuses may be unhashable; the key is not
        return hash(self.key)

    def replace(self, **changes: Any) -> FleetRow:
        """A copy with some fields changed (``key``/``search_text`` recomputed)."""
        values = {name: getattr(self, name) for name in ROW_FIELDS}
        values.update(changes)
        return FleetRow(**values)


ROW_FIELDS = tuple(f.name for f in fields(FleetRow) if f.name not in ("key", "search_text"))
"""The data fields of a row, in order."""

_SLOT_SETTERS = tuple(getattr(FleetRow, f.name).__set__ for f in fields(FleetRow))


def _upgrade_rank(upgrade: DeviceUpgrade) -> tuple[datetime, bool]:
    when = upgrade.updated_at or upgrade.created_at or _OLDEST
    return (when, upgrade.state in _ACTIVE)


_ACTIVE = frozenset(s for s in UpgradeState if s.active)


def pick_upgrade(upgrades: Iterable[DeviceUpgrade]) -> DeviceUpgrade | None:
    """The most relevant upgrade of one device: the latest by ``updated_at`` (else
    ``created_at``); on a tie an active one beats a terminal one; undated ones count
    as oldest. Among full ties the first one given wins."""
    best: DeviceUpgrade | None = None
    best_rank: tuple[datetime, bool] | None = None
    for upgrade in upgrades:
        rank = _upgrade_rank(upgrade)
        if best_rank is None or rank > best_rank:
            best, best_rank = upgrade, rank
    return best


def derive_row(device: Device | None, upgrade: DeviceUpgrade | None) -> FleetRow:
    """Build one row from a device, its most relevant upgrade, or both.

    Current firmware comes from the device; without it, it is the upgrade's target
    when that upgrade succeeded, else its source version. The row's ``updated_at`` is
    the newest of the device's and the upgrade's (``updated_at`` else ``created_at``).
    """
    if upgrade is None:
        if device is None:
            raise ValueError("derive_row needs a device, an upgrade or both")
        d = device
        return FleetRow(
            d.provider, d.kind, d.device_id, d.imei, d.name, d.model, d.firmware,
            None, None, d.provider_status_raw, None, None, d.updated_at, d.online,
        )  # fmt: skip
    u = upgrade
    when = u.updated_at or u.created_at
    if device is None:
        firmware = (u.firmware_to if u.state is UpgradeState.SUCCEEDED else None) or u.firmware_from
        return FleetRow(
            u.provider, u.kind, u.device_id, None, None, None, firmware, u.firmware_to,
            u.state, u.provider_status_raw, u.campaign_id, u.provider_reason, when, None,
        )  # fmt: skip
    d = device
    if d.device_id != u.device_id or d.provider != u.provider:
        raise ValueError(
            f"upgrade for {u.provider}/{u.device_id} cannot join device {d.provider}/{d.device_id}"
        )
    updated = d.updated_at
    if when is not None and (updated is None or when > updated):
        updated = when
    firmware = d.firmware
    if firmware is None:
        firmware = (u.firmware_to if u.state is UpgradeState.SUCCEEDED else None) or u.firmware_from
    return FleetRow(
        d.provider, d.kind, d.device_id, d.imei, d.name, d.model, firmware, u.firmware_to,
        u.state, u.provider_status_raw, u.campaign_id, u.provider_reason, updated, d.online,
    )  # fmt: skip


def derive_rows(
    devices: Iterable[Device], upgrades: Iterable[DeviceUpgrade]
) -> dict[RowKey, FleetRow]:
    """Rows for one provider's devices and upgrades (pure; safe in a worker thread).

    Devices keep their listed order; upgrades for unlisted devices add rows after them.
    A device listed twice keeps its last record.
    """
    best: dict[RowKey, DeviceUpgrade] = {}
    best_rank: dict[RowKey, tuple[datetime, bool]] = {}
    for upgrade in upgrades:
        key = (upgrade.provider, upgrade.device_id)
        rank = _upgrade_rank(upgrade)
        held = best_rank.get(key)
        if held is None or rank > held:
            best[key] = upgrade
            best_rank[key] = rank
    rows: dict[RowKey, FleetRow] = {}
    for device in devices:
        key = (device.provider, device.device_id)
        rows[key] = derive_row(device, best.get(key))
    for key, upgrade in best.items():
        if key not in rows:
            rows[key] = derive_row(None, upgrade)
    return rows


@dataclass(frozen=True, slots=True)
class FleetDiff:
    """What one store update did. ``version`` is the store version after it."""

    added: frozenset[RowKey] = frozenset()
    changed: frozenset[RowKey] = frozenset()
    removed: frozenset[RowKey] = frozenset()
    version: int = 0

    @property
    def keys(self) -> frozenset[RowKey]:
        """Every key the update touched."""
        return self.added | self.changed | self.removed

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def __len__(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed)

    def merge(self, later: FleetDiff) -> FleetDiff:
        """One diff equivalent to applying ``self`` then ``later`` (for coalescing)."""
        added = (self.added - later.removed) | (later.added - self.removed)
        removed = (self.removed - later.added) | (later.removed - self.added)
        # removed then re-added, or changed again: the row is simply changed
        changed = ((self.changed | later.changed) | (self.removed & later.added)) - removed
        changed -= added
        return FleetDiff(
            frozenset(added),
            frozenset(changed),
            frozenset(removed),
            max(self.version, later.version),
        )


class FleetStore:
    """Rows per provider, a monotonically increasing ``version`` and per-row versions.

    Not thread-safe: mutate it from one thread (the UI loop); derive rows elsewhere.
    """

    def __init__(self, providers: Iterable[str] = ()) -> None:
        """``providers``: the order rows are kept in (the profile's), whatever order
        their listings arrive in; others follow in the order first seen."""
        self._by_provider: dict[str, dict[RowKey, FleetRow]] = {}
        self._versions: dict[RowKey, int] = {}
        self._rank = {name: i for i, name in enumerate(providers)}
        self.version = 0

    # -- reading ---------------------------------------------------------------

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._by_provider.values())

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        rows = self._by_provider.get(key[0])
        return rows is not None and key in rows

    def __iter__(self) -> Iterator[FleetRow]:
        return chain.from_iterable(rows.values() for rows in self._by_provider.values())

    def rows(self, provider: str | None = None) -> list[FleetRow]:
        """All rows (providers in the order first seen), or one provider's rows."""
        if provider is not None:
            return list(self._by_provider.get(provider, {}).values())
        return list(self)

    def get(self, key: RowKey) -> FleetRow | None:
        rows = self._by_provider.get(key[0])
        return rows.get(key) if rows is not None else None

    def providers(self) -> list[str]:
        return list(self._by_provider)

    def count(self, provider: str) -> int:
        """How many rows ``provider`` has (no copy)."""
        return len(self._by_provider.get(provider, ()))

    def in_store_order(self, rows: Iterable[FleetRow]) -> list[FleetRow]:
        """``rows`` (present ones) in the order the store keeps them: one pass over the
        providers they belong to, so ties sort the same whatever order they came in."""
        wanted = {row.key: row for row in rows}
        if len(wanted) < 2:
            return list(wanted.values())
        touched = {key[0] for key in wanted}
        return [
            wanted[key]
            for provider, bucket in self._by_provider.items()
            if provider in touched
            for key in bucket
            if key in wanted
        ]

    def _bucket(self, provider: str) -> dict[RowKey, FleetRow]:
        """The provider's rows, created in its declared place."""
        bucket = self._by_provider.get(provider)
        if bucket is None:
            bucket = self._by_provider[provider] = {}
            self._reorder()
        return bucket

    def _reorder(self) -> None:
        if self._rank:
            last = len(self._rank)
            order = sorted(self._by_provider, key=lambda p: self._rank.get(p, last))
            self._by_provider = {p: self._by_provider[p] for p in order}

    def row_version(self, key: RowKey) -> int | None:
        """The store version at which this row last changed, or None if absent."""
        return self._versions.get(key)

    def changed_since(self, version: int) -> set[RowKey]:
        """Keys of present rows added or changed after ``version`` (e.g. a cached snapshot)."""
        return {key for key, at in self._versions.items() if at > version}

    def is_changed_since(self, key: RowKey, version: int) -> bool:
        at = self._versions.get(key)
        return at is not None and at > version

    def state_counts(self, provider: str | None = None) -> dict[UpgradeState, int]:
        """Rows per upgrade state (rows without a known upgrade are not counted)."""
        source = self._by_provider.get(provider, {}).values() if provider else iter(self)
        return state_counts(row.state for row in source if row.state is not None)

    # -- writing ---------------------------------------------------------------

    def replace_provider(
        self, provider: str, devices: Iterable[Device], upgrades: Iterable[DeviceUpgrade]
    ) -> FleetDiff:
        """Make ``provider``'s rows exactly those derived from a full listing."""
        return self.replace_provider_rows(provider, derive_rows(devices, upgrades).values())

    def replace_provider_rows(self, provider: str, rows: Iterable[FleetRow]) -> FleetDiff:
        """Make ``provider``'s rows exactly ``rows``; unchanged rows keep their old object."""
        new: dict[RowKey, FleetRow] = {}
        for row in rows:
            if row.provider != provider:
                raise ValueError(
                    f"row {row.device_id!r} belongs to provider {row.provider!r}, not {provider!r}"
                )
            new[row.key] = row
        old = self._by_provider.get(provider, {})
        added: list[RowKey] = []
        changed: list[RowKey] = []
        for key, row in new.items():
            held = old.get(key)
            if held is None:
                added.append(key)
            elif held is row or held == row:
                new[key] = held
            else:
                changed.append(key)
        removed = old.keys() - new.keys()
        if not (added or changed or removed):
            return FleetDiff(version=self.version)
        self.version += 1
        version = self.version
        versions = self._versions
        for key in added:
            versions[key] = version
        for key in changed:
            versions[key] = version
        for key in removed:
            versions.pop(key, None)
        if new:
            known = provider in self._by_provider
            self._by_provider[provider] = new
            if not known:
                self._reorder()
        else:
            self._by_provider.pop(provider, None)
        return FleetDiff(frozenset(added), frozenset(changed), frozenset(removed), version)

    def apply_rows(
        self, rows: Iterable[FleetRow] = (), *, remove: Iterable[RowKey] = ()
    ) -> FleetDiff:
        """Insert or update individual rows (any provider) and remove keys.

        A key both given as a row and in ``remove`` keeps the row.
        """
        added: list[RowKey] = []
        changed: list[RowKey] = []
        removed: list[RowKey] = []
        touched: dict[RowKey, FleetRow | None] = {}
        for key in remove:
            touched[key] = None
        for row in rows:
            touched[row.key] = row
        for key, new in touched.items():
            bucket = self._by_provider.get(key[0])
            held = bucket.get(key) if bucket is not None else None
            if new is None:
                if held is not None:
                    removed.append(key)
            elif held is None:
                added.append(key)
            elif held is not new and held != new:
                changed.append(key)
        if not (added or changed or removed):
            return FleetDiff(version=self.version)
        self.version += 1
        version = self.version
        for key in removed:
            bucket = self._by_provider[key[0]]
            del bucket[key]
            if not bucket:
                del self._by_provider[key[0]]
            self._versions.pop(key, None)
        for key in chain(added, changed):
            new = touched[key]
            assert new is not None
            self._bucket(key[0])[key] = new
            self._versions[key] = version
        return FleetDiff(frozenset(added), frozenset(changed), frozenset(removed), version)

    def remove_provider(self, provider: str) -> FleetDiff:
        """Drop every row of a provider (e.g. removed from the profile)."""
        return self.replace_provider_rows(provider, ())

"""FleetRow derivation and FleetStore diffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fota_tui.models import Device, DeviceUpgrade, ProviderKind, UpgradeState
from fota_tui.services.fleet import (
    FleetDiff,
    FleetRow,
    FleetStore,
    derive_row,
    derive_rows,
    pick_upgrade,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KIND = ProviderKind.AOVX


def device(device_id: str, provider: str = "p1", **kw: object) -> Device:
    return Device(provider=provider, kind=KIND, device_id=device_id, **kw)


def upgrade(
    device_id: str,
    state: UpgradeState,
    *,
    provider: str = "p1",
    updated: datetime | None = None,
    created: datetime | None = None,
    **kw: object,
) -> DeviceUpgrade:
    return DeviceUpgrade(
        provider=provider,
        kind=KIND,
        device_id=device_id,
        state=state,
        updated_at=updated,
        created_at=created,
        **kw,
    )


# -- picking the relevant upgrade ------------------------------------------------


def test_latest_upgrade_wins() -> None:
    old = upgrade("d1", UpgradeState.FAILED, updated=T0, campaign_id="c1")
    new = upgrade("d1", UpgradeState.SUCCEEDED, updated=T0 + timedelta(hours=1), campaign_id="c2")
    assert pick_upgrade([old, new]) is new
    assert pick_upgrade([new, old]) is new


def test_active_beats_older_terminal_and_wins_ties() -> None:
    done = upgrade("d1", UpgradeState.SUCCEEDED, updated=T0)
    running = upgrade("d1", UpgradeState.DOWNLOADING, created=T0 + timedelta(minutes=5))
    assert pick_upgrade([done, running]) is running
    tie_terminal = upgrade("d1", UpgradeState.FAILED, updated=T0)
    tie_active = upgrade("d1", UpgradeState.QUEUED, updated=T0)
    assert pick_upgrade([tie_terminal, tie_active]) is tie_active
    assert pick_upgrade([tie_active, tie_terminal]) is tie_active


def test_newer_terminal_beats_older_active() -> None:
    stale_active = upgrade("d1", UpgradeState.IN_PROGRESS, updated=T0)
    newer_done = upgrade("d1", UpgradeState.EXPIRED, updated=T0 + timedelta(days=1))
    assert pick_upgrade([stale_active, newer_done]) is newer_done


def test_undated_upgrades_count_as_oldest() -> None:
    undated = upgrade("d1", UpgradeState.FAILED)
    dated = upgrade("d1", UpgradeState.SUCCEEDED, updated=T0)
    assert pick_upgrade([undated, dated]) is dated
    assert pick_upgrade([]) is None


# -- deriving rows ---------------------------------------------------------------


def test_row_joins_device_and_upgrade() -> None:
    d = device(
        "d1",
        imei="351234",
        name="Pump 7",
        model="X100",
        firmware="1.0",
        online=True,
        updated_at=T0,
    )
    u = upgrade(
        "d1",
        UpgradeState.FAILED,
        updated=T0 + timedelta(minutes=3),
        campaign_id="c9",
        provider_reason="checksum mismatch",
        provider_status_raw={"code": 7},
        firmware_from="1.0",
        firmware_to="2.0",
    )
    row = derive_row(d, u)
    assert row.key == ("p1", "d1")
    assert (row.imei, row.name, row.model, row.online) == ("351234", "Pump 7", "X100", True)
    assert (row.firmware, row.firmware_to) == ("1.0", "2.0")
    assert row.state is UpgradeState.FAILED
    assert (row.campaign_id, row.reason) == ("c9", "checksum mismatch")
    assert row.provider_status_raw == {"code": 7}
    assert row.updated_at == T0 + timedelta(minutes=3)  # the newer of the two
    assert "checksum mismatch" in row.search_text and "pump 7" in row.search_text


def test_row_without_upgrade_has_no_state() -> None:
    row = derive_row(device("d1", firmware="1.0", provider_status_raw="ONLINE"), None)
    assert row.state is None and row.campaign_id is None and row.firmware_to is None
    assert row.provider_status_raw == "ONLINE"


def test_upgrade_without_device_makes_a_row() -> None:
    ok = derive_row(
        None, upgrade("ghost", UpgradeState.SUCCEEDED, firmware_from="1", firmware_to="2")
    )
    assert ok.key == ("p1", "ghost") and ok.firmware == "2" and ok.name is None
    failed = derive_row(
        None, upgrade("ghost", UpgradeState.FAILED, firmware_from="1", firmware_to="2")
    )
    assert failed.firmware == "1"


def test_derive_row_rejects_mismatched_records() -> None:
    with pytest.raises(ValueError, match="cannot join"):
        derive_row(device("d1"), upgrade("d2", UpgradeState.FAILED))
    with pytest.raises(ValueError, match="needs a device"):
        derive_row(None, None)


def test_derive_rows_keeps_device_order_and_adds_orphans() -> None:
    rows = derive_rows(
        [device("b"), device("a")],
        [
            upgrade("a", UpgradeState.FAILED, updated=T0),
            upgrade("a", UpgradeState.SUCCEEDED, updated=T0 + timedelta(hours=1)),
            upgrade("zz", UpgradeState.QUEUED, updated=T0),
        ],
    )
    assert list(rows) == [("p1", "b"), ("p1", "a"), ("p1", "zz")]
    assert rows[("p1", "a")].state is UpgradeState.SUCCEEDED
    assert rows[("p1", "b")].state is None


def test_rows_are_frozen_and_compare_by_value() -> None:
    a = FleetRow("p1", KIND, "d1", name="x")
    b = FleetRow("p1", KIND, "d1", name="x")
    assert a == b and hash(a) == hash(b)
    assert a != a.replace(name="y")
    assert a.replace(name="y").search_text != a.search_text
    with pytest.raises(AttributeError):
        a.name = "z"  # type: ignore[misc]


# -- the store -------------------------------------------------------------------


def test_replace_provider_reports_added_changed_removed() -> None:
    store = FleetStore()
    first = store.replace_provider(
        "p1",
        [device("a", firmware="1"), device("b", firmware="1"), device("c", firmware="1")],
        [],
    )
    assert first.added == {("p1", "a"), ("p1", "b"), ("p1", "c")}
    assert not first.changed and not first.removed
    assert store.version == 1 and first.version == 1
    kept = store.get(("p1", "a"))

    second = store.replace_provider(
        "p1",
        [device("a", firmware="1"), device("b", firmware="2"), device("d", firmware="1")],
        [upgrade("a", UpgradeState.QUEUED, updated=T0)],
    )
    assert second.added == {("p1", "d")}
    assert second.changed == {("p1", "a"), ("p1", "b")}
    assert second.removed == {("p1", "c")}
    assert store.version == 2
    assert store.get(("p1", "c")) is None
    assert store.get(("p1", "a")) is not kept  # changed: new object
    assert len(store) == 3 and ("p1", "d") in store and ("p1", "c") not in store


def test_unchanged_rows_keep_their_object_and_version() -> None:
    store = FleetStore()
    store.replace_provider("p1", [device("a"), device("b")], [])
    row_a = store.get(("p1", "a"))
    diff = store.replace_provider("p1", [device("a"), device("b")], [])
    assert not diff and len(diff) == 0
    assert store.version == 1
    assert store.get(("p1", "a")) is row_a


def test_providers_are_independent() -> None:
    store = FleetStore()
    store.replace_provider("p1", [device("a")], [])
    store.replace_provider("p2", [device("a", provider="p2")], [])
    diff = store.replace_provider("p1", [], [])
    assert diff.removed == {("p1", "a")}
    assert store.rows() == [store.get(("p2", "a"))]
    assert store.providers() == ["p2"]


def test_replace_provider_rows_rejects_foreign_rows() -> None:
    store = FleetStore()
    with pytest.raises(ValueError, match="belongs to provider 'p2'"):
        store.replace_provider_rows("p1", [FleetRow("p2", KIND, "a")])


def test_changed_since_marks_rows_changed_after_a_snapshot() -> None:
    store = FleetStore()
    store.apply_rows([FleetRow("p1", KIND, n) for n in "abc"])
    snapshot = store.version
    assert store.changed_since(snapshot) == set()
    store.apply_rows([FleetRow("p1", KIND, "b", name="renamed"), FleetRow("p1", KIND, "d")])
    store.apply_rows([FleetRow("p1", KIND, "a")])  # same values: no change
    assert store.changed_since(snapshot) == {("p1", "b"), ("p1", "d")}
    assert store.is_changed_since(("p1", "b"), snapshot)
    assert not store.is_changed_since(("p1", "a"), snapshot)
    assert store.row_version(("p1", "a")) == snapshot
    assert store.row_version(("p1", "zz")) is None


def test_apply_rows_upserts_and_removes() -> None:
    store = FleetStore()
    store.apply_rows([FleetRow("p1", KIND, "a"), FleetRow("p2", KIND, "b")])
    diff = store.apply_rows(
        [FleetRow("p1", KIND, "a", name="new"), FleetRow("p1", KIND, "c")],
        remove=[("p2", "b"), ("p9", "nope")],
    )
    assert diff.changed == {("p1", "a")}
    assert diff.added == {("p1", "c")}
    assert diff.removed == {("p2", "b")}
    assert store.providers() == ["p1"]
    both = store.apply_rows([FleetRow("p1", KIND, "z")], remove=[("p1", "z")])
    assert both.added == {("p1", "z")}  # a row given and removed at once is kept


def test_remove_provider_and_counts() -> None:
    store = FleetStore()
    store.apply_rows(
        [
            FleetRow("p1", KIND, "a", state=UpgradeState.FAILED),
            FleetRow("p1", KIND, "b", state=UpgradeState.FAILED),
            FleetRow("p1", KIND, "c"),
            FleetRow("p2", KIND, "a", state=UpgradeState.SUCCEEDED),
        ]
    )
    assert store.state_counts("p1")[UpgradeState.FAILED] == 2
    assert store.state_counts()[UpgradeState.SUCCEEDED] == 1
    assert sum(store.state_counts().values()) == 3  # rows without an upgrade are not counted
    diff = store.remove_provider("p1")
    assert diff.removed == {("p1", "a"), ("p1", "b"), ("p1", "c")}
    assert len(store) == 1


def test_diff_merge_coalesces_updates() -> None:
    a, b, c = ("p", "a"), ("p", "b"), ("p", "c")
    first = FleetDiff(
        added=frozenset({a}), changed=frozenset({b}), removed=frozenset({c}), version=1
    )
    later = FleetDiff(
        changed=frozenset({a}), removed=frozenset({b}), added=frozenset({c}), version=2
    )
    merged = first.merge(later)
    assert merged.added == {a}  # added then changed: still new
    assert merged.removed == {b}
    assert merged.changed == {c}  # removed then added back: changed
    assert merged.version == 2
    assert merged.keys == {a, b, c}


def test_store_handles_100k_rows() -> None:
    rows = [FleetRow("p1", KIND, f"d{i:06d}", firmware="1.0") for i in range(100_000)]
    store = FleetStore()
    assert len(store.replace_provider_rows("p1", rows).added) == 100_000
    again = store.replace_provider_rows(
        "p1", [r.replace(firmware="2.0") if i % 100 == 0 else r for i, r in enumerate(rows)]
    )
    assert len(again.changed) == 1000 and not again.added and not again.removed

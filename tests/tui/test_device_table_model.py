"""The device table's view model: incremental updates equal a rebuild."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.services.fleet import FleetRow, FleetStore
from fota_tui.services.query import SORT_COLUMNS, parse_query, sort_key
from fota_tui.tui.widgets.table_model import TableModel

T0 = datetime(2025, 6, 1, tzinfo=UTC)
STATES = [None, *UpgradeState]


def random_row(rnd: random.Random, index: int) -> FleetRow:
    return FleetRow(
        rnd.choice(["ts", "oc"]),
        ProviderKind.AOVX,
        f"d{index:05d}",
        model=rnd.choice([None, "m1", "m2", "m3"]),
        firmware=rnd.choice([None, "1.0", "2.0"]),
        firmware_to=rnd.choice([None, "2.0", "3.0"]),
        state=rnd.choice(STATES),
        campaign_id=rnd.choice([None, "c1", "c2"]),
        reason=rnd.choice([None, "timeout", "battery low"]),
        updated_at=rnd.choice([None, T0, T0 + timedelta(minutes=rnd.randrange(100))]),
    )


def check(model: TableModel) -> None:
    """The model's lists equal a from-scratch rebuild (up to the order of ties)."""
    store = model.store
    assert sorted(r.key for r in model.all_rows) == sorted(r.key for r in store)
    assert all(store.get(r.key) is r for r in model.all_rows)  # current objects
    assert model.rows == model.query.filter(model.all_rows)
    if model.sort_column is not None:
        key = sort_key(model.sort_column)
        values = [key(r) for r in model.all_rows if not key(r)[0]]
        assert values == sorted(values, reverse=model.sort_reverse)
        assert all(key(r)[0] for r in model.all_rows[len(values) :])  # None last
    if model.rows:
        assert model.cursor_key == model.rows[model.cursor].key


@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize(
    ("column", "reverse", "query"),
    [
        (None, False, ""),
        ("state", False, ""),
        ("updated", True, "state:failed,expired,none"),
        ("model", False, "-timeout"),
        ("device", True, "fw:2"),
        (None, False, "battery"),
    ],
)
def test_random_updates_match_a_rebuild(
    column: str | None, reverse: bool, query: str, warm: bool
) -> None:
    rnd = random.Random(f"{column}{reverse}{query}{warm}")
    store = FleetStore()
    store.apply_rows(random_row(rnd, i) for i in range(3000))
    model = TableModel(store)
    anchor = model.capture(0, 20)  # the widget wraps every change like this
    model.sort_by(column, reverse)
    model.set_query(parse_query(query))
    model.restore(anchor, 20)
    check(model)
    for step in range(12):
        if warm:
            model.warm()
        keys = [r.key for r in rnd.sample(store.rows(), 60)]
        changed = [random_row(rnd, int(k[1][1:])).replace(provider=k[0]) for k in keys[:40]]
        added = [random_row(rnd, 10_000 + step * 10 + i) for i in range(10)]
        diff = store.apply_rows(changed + added, remove=keys[40:])
        model.move_cursor(rnd.randrange(max(1, len(model.rows))))
        before = model.cursor_key
        anchor = model.capture(0, 20)
        model.apply(diff)
        model.restore(anchor, 20)
        check(model)
        if before is not None and model.shows(before):
            assert model.cursor_key == before  # the cursor follows its row


def test_unchanged_sort_value_keeps_position() -> None:
    store = FleetStore()
    store.apply_rows(
        FleetRow("p", ProviderKind.AOVX, f"d{i}", state=UpgradeState.QUEUED) for i in range(10)
    )
    model = TableModel(store)
    model.sort_by("state")
    order = [r.key for r in model.rows]
    diff = store.apply_rows(
        [store.rows()[0].replace(reason="x"), store.rows()[5].replace(reason="y")]
    )
    model.apply(diff)
    assert [r.key for r in model.rows] == order  # equal sort value: no jumping


def test_flipping_direction_reverses_and_keeps_none_last() -> None:
    store = FleetStore()
    store.apply_rows(
        FleetRow("p", ProviderKind.AOVX, f"d{i}", model=None if i % 3 == 0 else f"m{i % 4}")
        for i in range(30)
    )
    model = TableModel(store)
    model.sort_by("model")
    model.move_cursor(0)
    ascending = list(model.rows)
    model.sort_by("model", reverse=True)
    model.move_cursor(0)
    present = [r for r in ascending if r.model is not None]
    assert model.rows == [*reversed(present), *[r for r in ascending if r.model is None]]
    check(model)


def test_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="valid columns"):
        TableModel().sort_by("colour")
    assert set(SORT_COLUMNS) >= {"state", "device", "updated"}


@pytest.mark.parametrize(("start", "expected"), [(100, "d150"), (40, "d010"), (199, "d150")])
def test_cursor_goes_to_the_closest_shown_row_even_far_away(start: int, expected: str) -> None:
    store = FleetStore()
    store.apply_rows(
        FleetRow(
            "p",
            ProviderKind.AOVX,
            f"d{i:03d}",
            state=UpgradeState.FAILED if i in (10, 150) else UpgradeState.QUEUED,
        )
        for i in range(200)
    )
    model = TableModel(store)
    model.move_cursor(start)
    anchor = model.capture(0, 20)
    model.set_query(parse_query("state:failed"))
    model.restore(anchor, 20)
    assert model.cursor_key == ("p", expected)


def test_a_late_provider_lands_in_listing_order_whatever_order_listings_arrive() -> None:
    """Ties keep the store's order (the profile's providers, each in listing order), so
    the same listings paint the same table however their answers raced."""

    def listing(provider: str, count: int) -> list[FleetRow]:
        ids = [f"{provider}-{(i * 7919) % 1000:03d}" for i in range(count)]  # not sorted
        return [FleetRow(provider, ProviderKind.AOVX, d) for d in ids]

    orders = []
    for arrival in (["ts", "ax"], ["ax", "ts"]):
        store = FleetStore(["ts", "ax"])
        model = TableModel(store)
        model.sort_by("provider")
        for provider in arrival:  # the second is merged in (a small diff), not rebuilt
            model.apply(
                store.replace_provider_rows(
                    provider, listing(provider, 30 if provider == "ax" else 200)
                )
            )
        orders.append([r.device_id for r in model.rows])
        assert [r.device_id for r in model.rows if r.provider == "ax"] == [
            r.device_id for r in listing("ax", 30)
        ]
        assert store.providers() == ["ts", "ax"]
    assert orders[0] == orders[1]


def test_problems_first_is_a_total_order_whatever_order_listings_arrive() -> None:
    """Equal urgency and time across providers: the order still does not depend on
    which provider's listing arrived first (provider, then device id, break ties)."""
    when = T0 + timedelta(hours=1)

    def listing(provider: str) -> list[FleetRow]:
        return [
            FleetRow(provider, ProviderKind.AOVX, f"{provider}-{i}", state=state, updated_at=at)
            for i, (state, at) in enumerate(
                [(UpgradeState.FAILED, when), (UpgradeState.QUEUED, None), (None, None)] * 3
            )
        ]

    orders = []
    for arrival in (["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"]):
        store = FleetStore(["a", "b", "c"])
        model = TableModel(store)
        model.sort_by("attention")
        for provider in arrival:  # later ones are merged in, not rebuilt
            model.apply(store.replace_provider_rows(provider, listing(provider)))
        orders.append([r.key for r in model.rows])
    assert orders[0] == orders[1] == orders[2]

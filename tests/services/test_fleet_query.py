"""The ``/`` filter language and row sorting."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from fota_tui.errors import UsageError
from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.services.fleet import FleetRow
from fota_tui.services.query import (
    SORT_COLUMNS,
    STATE_ORDER,
    VALID_KEYS,
    Query,
    QueryError,
    insert_sorted,
    parse_query,
    reverse_sorted,
    sort_key,
    sort_rows,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def row(device_id: str, **kw: object) -> FleetRow:
    kw.setdefault("provider", "ts-prod")
    kw.setdefault("kind", ProviderKind.THINGSPACE)
    return FleetRow(device_id=device_id, **kw)  # type: ignore[arg-type]


ROWS = [
    row(
        "d1",
        state=UpgradeState.FAILED,
        firmware="1.0",
        firmware_to="2.1",
        campaign_id="camp-A",
        model="X100",
        online=True,
        reason="Download TIMEOUT",
        name="Pump 7",
        imei="351111",
    ),
    row("d2", state=UpgradeState.SUCCEEDED, firmware="2.1", campaign_id="camp-A", online=False),
    row(
        "d3",
        provider="oc-lab",
        kind=ProviderKind.OCEANCONNECT,
        state=UpgradeState.EXPIRED,
        firmware="1.0",
        firmware_to="2.0",
        campaign_id="camp-B",
        model="Y200",
    ),
    row("d4", provider="oc-lab", kind=ProviderKind.OCEANCONNECT, firmware="0.9"),  # no upgrade
    row("d5", state=UpgradeState.IN_PROGRESS, model="x100-pro", online=True),
]


def ids(query: str, rows: list[FleetRow] = ROWS) -> list[str]:
    q = parse_query(query)
    picked = q.filter(rows)
    # filter and matches agree, and the texts fast path agrees too
    assert picked == [r for r in rows if q.matches(r)]
    assert picked == q.filter(rows, [r.search_text for r in rows])
    return [r.device_id for r in picked]


def test_empty_query_matches_everything() -> None:
    q = parse_query("   ")
    assert not q
    assert ids("") == ["d1", "d2", "d3", "d4", "d5"]


def test_state_key_single_and_list() -> None:
    assert ids("state:failed") == ["d1"]
    assert ids("state:failed,expired") == ["d1", "d3"]
    assert ids("STATE:In-Progress") == ["d5"]


def test_state_groups() -> None:
    assert ids("state:none") == ["d4"]
    assert ids("state:active") == ["d5"]
    assert ids("state:terminal") == ["d1", "d2", "d3"]


def test_provider_kind_and_model_keys() -> None:
    assert ids("provider:OC-LAB") == ["d3", "d4"]
    assert ids("provider:oc") == []  # provider names match exactly
    assert ids("kind:thingspace") == ["d1", "d2", "d5"]
    assert ids("model:x100") == ["d1", "d5"]  # substring, any case
    assert ids("model:y2,pro") == ["d3", "d5"]


def test_fw_matches_current_or_target() -> None:
    assert ids("fw:2.1") == ["d1", "d2"]
    assert ids("fw:2.0") == ["d3"]
    assert ids("fw:0.9") == ["d4"]


def test_campaign_and_online_keys() -> None:
    assert ids("campaign:camp-a") == ["d1", "d2"]
    assert ids("online:yes") == ["d1", "d5"]
    assert ids("online:no") == ["d2"]
    assert ids("-online:yes") == ["d2", "d3", "d4"]  # unknown online state is not "yes"


def test_negation() -> None:
    assert ids("-state:succeeded") == ["d1", "d3", "d4", "d5"]
    assert ids("-provider:ts-prod") == ["d3", "d4"]
    assert ids("-timeout") == ["d2", "d3", "d4", "d5"]
    assert ids("-fw:2") == ["d4", "d5"]


def test_free_text_searches_many_fields_case_insensitively() -> None:
    assert ids("timeout") == ["d1"]  # reason
    assert ids("PUMP") == ["d1"]  # name
    assert ids("3511") == ["d1"]  # imei
    assert ids("camp-b") == ["d3"]  # campaign
    assert ids("y200") == ["d3"]  # model
    assert ids("d4") == ["d4"]  # id


def test_terms_are_anded_and_quotes_keep_spaces() -> None:
    assert ids("state:failed,succeeded camp-a -d2") == ["d1"]
    assert ids('"download timeout"') == ["d1"]
    assert ids('"download  timeout"') == []
    assert ids('model:"x100-pro"') == ["d5"]
    assert ids('"state:failed"') == []  # quoted: free text, not a key
    assert ids('"unterminated') == []


def test_colons_that_are_not_keys_are_free_text() -> None:
    odd = [row("10:30", name="aa:bb")]
    assert ids("10:30", odd) == ["10:30"]
    assert ids('"aa:bb"', odd) == ["10:30"]


def test_unknown_key_names_the_key_and_the_valid_keys() -> None:
    with pytest.raises(QueryError) as info:
        parse_query("state:failed colour:red")
    message = str(info.value)
    assert "'colour:'" in message
    for key in VALID_KEYS:
        assert f"{key}:" in message
    assert info.value.key == "colour"
    assert isinstance(info.value, UsageError)  # shown like every other usage error


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("state:", "state", "needs a value"),
        ("state:broken", "state", "unknown state 'broken'"),
        ("kind:nokia", "kind", "unknown provider kind 'nokia'"),
        ("online:maybe", "online", "yes or no"),
        ("fw:,", "fw", "needs a value"),
    ],
)
def test_bad_values_are_explained(text: str, key: str, fragment: str) -> None:
    with pytest.raises(QueryError, match=fragment) as info:
        parse_query(text)
    assert info.value.key == key


def test_refines_detects_narrowing_queries() -> None:
    assert parse_query("fai").refines(parse_query("fa"))
    assert parse_query("state:failed fai").refines(parse_query("state:failed fa"))
    assert parse_query("fa model:x").refines(parse_query("fa"))
    assert not parse_query("fa").refines(parse_query("fai"))
    assert not parse_query("-fai").refines(parse_query("-fa"))  # negation widens
    assert not parse_query("state:failed").refines(parse_query("state:expired"))
    assert parse_query("x") == parse_query("x") and parse_query("x") != Query()


# -- sorting -------------------------------------------------------------------


def test_sort_states_in_lifecycle_order_none_last() -> None:
    rows = [row(f"d{i}", state=s) for i, s in enumerate([None, *reversed(STATE_ORDER)])]
    ordered = sort_rows(rows, "state")
    assert [r.state for r in ordered] == [*STATE_ORDER, None]
    backwards = sort_rows(rows, "state", reverse=True)
    assert [r.state for r in backwards] == [*reversed(STATE_ORDER), None]
    assert ordered == sorted(rows, key=sort_key("state"))


@pytest.mark.parametrize("column", SORT_COLUMNS)
def test_sort_rows_matches_sort_key_and_keeps_none_last(column: str) -> None:
    rnd = random.Random(column)
    rows = [
        row(
            f"d{rnd.randrange(50):02d}-{i}",
            provider=rnd.choice(["b", "a", "c"]),
            model=rnd.choice([None, "m1", "m2"]),
            firmware=rnd.choice([None, "1.0", "2.0"]),
            state=rnd.choice([None, *UpgradeState]),
            campaign_id=rnd.choice([None, "c1", "c2"]),
            reason=rnd.choice([None, "x", "y"]),
            updated_at=rnd.choice([None, T0, T0 + timedelta(hours=1)]),
        )
        for i in range(300)
    ]
    ascending = sort_rows(rows, column)
    assert ascending == sorted(rows, key=sort_key(column))  # stable, same ties
    descending = sort_rows(rows, column, reverse=True)
    key = sort_key(column)
    present = [r for r in descending if not key(r)[0]]
    assert [key(r) for r in present] == sorted((key(r) for r in present), reverse=True)
    tail = descending[len(present) :]
    assert all(key(r)[0] for r in tail)  # rows without a value stay last
    # merging new rows into a sorted list equals sorting everything
    extra = [r.replace(device_id=r.device_id + "-new") for r in rows[:40]]
    for reverse in (False, True):
        merged = insert_sorted(sort_rows(rows, column, reverse), extra, column, reverse)
        assert [key(r) for r in merged] == [
            key(r) for r in sort_rows(rows + extra, column, reverse)
        ]
    # flipping direction gives the same values in the other order, None still last
    flipped = reverse_sorted(ascending, column)
    assert [key(r) for r in flipped] == [key(r) for r in descending]


def test_unknown_sort_column_is_explained() -> None:
    with pytest.raises(ValueError, match="unknown sort column 'colour'"):
        sort_rows(ROWS, "colour")


def test_filtering_100k_rows_is_one_pass_per_term() -> None:
    rows = [
        row(f"dev-{i:06d}", state=STATE_ORDER[i % 10], firmware=f"1.{i % 7}", model=f"m{i % 13}")
        for i in range(100_000)
    ]
    assert len(parse_query("state:failed").filter(rows)) == 10_000
    assert len(parse_query("dev-0000").filter(rows)) == 100
    assert len(parse_query("-state:failed fw:1.3 m1").filter(rows)) == sum(
        1
        for i in range(100_000)
        if i % 10 != 6 and i % 7 == 3 and "m1" in f"dev-{i:06d}\x00m{i % 13}"
    )

"""OneNET wire parsing and normalization from JSON fixtures (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fota_tui.errors import ProviderProtocolError
from fota_tui.models import UpgradeState
from fota_tui.providers.base import LocalGroup
from fota_tui.providers.onenet import batches
from fota_tui.providers.onenet.normalize import (
    command_state,
    confirm_name,
    device_from_record,
    pair_commands,
    pair_state,
    refine_with_object5,
)
from fota_tui.providers.onenet.wire import (
    Command,
    CommandPage,
    DevicePage,
    parse,
    parse_beijing,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

# The item of seed page 001, made valid JSON (its comments and missing comma removed).
SEED_ITEM = {
    "cmd_uuid": "f6869ecb-3dc1-5374-9be0-4fb961f8af3c ",
    "type": "READ",
    "create_time": "2017-08-28 11:34:58",
    "valid_time": "2017-08-28 11:34:58",
    "expired_time": "2017-08-28 11:34:58",
    "send_time": "2017-08-28 11:34:58",
    "trigger_msg": 1,
    "send_status": 5,
    "confirm_time": "2017-08-28 11:34:58",
    "confirm_status": "SUCCESS",
    "feedback_time": "2019-02-28 13:50:43",
    "imei": "869975031234561",
    "remain": "3",
}


def cmd(**fields: Any) -> Command:
    base = {
        "cmd_uuid": "u1",
        "type": "WRITE",
        "create_time": "2026-11-22 15:00:00",
        "valid_time": "2026-11-22 15:00:00",
        "expired_time": "2026-11-29 15:00:00",
        "send_status": 1,
        "imei": "869975031234561",
        "remain": "3",
    }
    return parse("cmcc", Command, {**base, **fields}, "item")


def test_seed_item_parses_with_its_quirks():
    item = parse("cmcc", Command, SEED_ITEM, "item")
    assert item.cmd_uuid == "f6869ecb-3dc1-5374-9be0-4fb961f8af3c"  # trailing space gone
    assert item.remain == 3 and item.trigger_msg == 1
    assert item.create_time == datetime(2017, 8, 28, 3, 34, 58, tzinfo=UTC)  # Beijing → UTC
    assert command_state(item, NOW) == (UpgradeState.SUCCEEDED, None)


def test_absent_times_numeric_uuid_and_string_numbers():
    item = parse("cmcc", Command, {"cmd_uuid": 10018, "send_status": "1", "remain": ""}, "item")
    assert item.cmd_uuid == "10018" and item.send_time is None and item.remain is None
    assert command_state(item, NOW)[0] is UpgradeState.QUEUED
    page = parse("cmcc", CommandPage, {"total_count": "2", "items": None}, "page")
    assert page.total_count == 2 and page.items == []


@pytest.mark.parametrize(
    "data",
    [
        {"total_count": 1, "items": {"cmd_uuid": "x"}},
        {"total_count": 1, "items": [{"type": "READ"}]},
        {"total_count": 1, "items": [{"cmd_uuid": "x", "create_time": 12}]},
        {"total_count": [1], "items": []},
    ],
)
def test_wrong_types_are_protocol_errors(data: dict[str, Any]):
    with pytest.raises(ProviderProtocolError, match="page"):
        parse("cmcc", CommandPage, data, "page")


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("SUCCESS", "SUCCESS"),
        (0, "SUCCESS"),
        ("0", "SUCCESS"),
        ("5", "TIME_OUT"),
        (12, "OFFLINE"),
        ("time_out", "TIME_OUT"),
        ("NTERNAl_SERVER_ERROR", "INTERNAL_SERVER_ERROR"),
        (99, "CODE_99"),
        (None, None),
        ("", None),
    ],
)
def test_confirm_status_names_and_numbers(raw: Any, name: str | None):
    assert confirm_name(raw) == name


@pytest.mark.parametrize(
    ("status", "confirm", "state"),
    [
        (2, None, UpgradeState.CANCELLED),
        (3, None, UpgradeState.SENDING),
        (4, None, UpgradeState.EXPIRED),
        (5, "SUCCESS", UpgradeState.SUCCEEDED),
        (5, "0", UpgradeState.SUCCEEDED),
        (5, 5, UpgradeState.FAILED),
        (5, "OFFLINE", UpgradeState.FAILED),
        (6, None, UpgradeState.FAILED),
        (7, None, UpgradeState.UNKNOWN),
        (8, None, UpgradeState.UNKNOWN),
        ("9", None, UpgradeState.UNKNOWN),
        ("weird", None, UpgradeState.UNKNOWN),
    ],
)
def test_send_status_refined_by_confirm_status(status: Any, confirm: Any, state: UpgradeState):
    item = cmd(send_status=status, confirm_status=confirm)
    got, reason = command_state(item, NOW)
    assert got is state
    if state is UpgradeState.UNKNOWN:
        assert repr(status) in (reason or "")
    if confirm == "OFFLINE":
        assert reason == "OFFLINE"


def test_wait_is_pending_before_valid_time_and_queued_after():
    later = cmd(valid_time="2026-11-22 17:00:00")  # 09:00 UTC, after NOW
    assert command_state(later, NOW)[0] is UpgradeState.PENDING
    assert command_state(later, NOW + timedelta(hours=2))[0] is UpgradeState.QUEUED


def test_profile_override_applies_to_raw_and_combined_keys():
    def override(table: dict[str, str]):
        def apply(raw: Any, default: UpgradeState) -> UpgradeState:
            hit = table.get(str(raw).strip())
            return UpgradeState(hit) if hit else default

        return apply

    undefined = cmd(send_status=8)
    assert command_state(undefined, NOW, override({"8": "failed"}))[0] is UpgradeState.FAILED
    timeout = cmd(send_status=5, confirm_status="TIME_OUT")
    mapped = command_state(timeout, NOW, override({"5:TIME_OUT": "expired"}))
    assert mapped[0] is UpgradeState.EXPIRED


def test_pairs_write_and_execute_and_ignores_other_commands():
    write = cmd(cmd_uuid="w", send_status=5, confirm_status="SUCCESS")
    execute = cmd(cmd_uuid="e", type="EXECUTE", create_time="2026-11-22 15:00:01", send_status=1)
    read = cmd(cmd_uuid="r", type="READ")
    other_expiry = cmd(cmd_uuid="x", type="EXECUTE", expired_time="2026-11-30 15:00:00")
    pairs = pair_commands("869975031234561", [execute, read, other_expiry, write])
    assert [(p.write.cmd_uuid, p.execute and p.execute.cmd_uuid) for p in pairs] == [("w", "e")]
    state, raw, reason = pair_state(pairs[0], NOW)
    assert state is UpgradeState.DOWNLOADING and raw == 1 and "waiting" in (reason or "")
    lone = pair_commands("869975031234561", [write], known_writes=frozenset({"w"}))
    assert lone[0].execute is None and pair_state(lone[0], NOW)[0] is UpgradeState.DOWNLOADING
    assert pair_commands("869975031234561", [write]) == []


@pytest.mark.parametrize(
    ("write", "execute", "state"),
    [
        ((1, None), (1, None), UpgradeState.PENDING),
        ((3, None), (3, None), UpgradeState.SENDING),
        ((5, "SUCCESS"), (3, None), UpgradeState.IN_PROGRESS),
        ((5, "SUCCESS"), (5, "SUCCESS"), UpgradeState.SUCCEEDED),
        ((5, "SUCCESS"), (5, "TIME_OUT"), UpgradeState.FAILED),
        ((5, "SUCCESS"), (2, None), UpgradeState.CANCELLED),
        ((5, "NOT_FOUND"), (5, "METHOD_NOT_ALLOWED"), UpgradeState.FAILED),
        ((2, None), (1, None), UpgradeState.CANCELLED),
        ((1, None), (2, None), UpgradeState.CANCELLED),
        ((4, None), (4, None), UpgradeState.EXPIRED),
        ((5, "SUCCESS"), (8, None), UpgradeState.UNKNOWN),
    ],
)
def test_pair_state_is_the_writes_until_it_succeeded(write, execute, state):
    later = "2026-11-22 17:00:00"
    w = cmd(cmd_uuid="w", send_status=write[0], confirm_status=write[1], valid_time=later)
    e = cmd(
        cmd_uuid="e",
        type="EXECUTE",
        send_status=execute[0],
        confirm_status=execute[1],
        valid_time=later,
    )
    (pair,) = pair_commands("869975031234561", [w, e])
    assert pair_state(pair, NOW)[0] is state


@pytest.mark.parametrize(
    ("values", "state"),
    [
        ({3: 1, 5: 0}, UpgradeState.DOWNLOADING),
        ({3: 2, 5: 0}, UpgradeState.IN_PROGRESS),
        ({3: "3", 5: 0}, UpgradeState.IN_PROGRESS),
        ({3: 0, 5: 1}, UpgradeState.SUCCEEDED),
        ({3: 0, 5: 5}, UpgradeState.FAILED),
        ({3: 0, 5: 0}, UpgradeState.SUCCEEDED),  # nothing new: keep the command state
    ],
)
def test_object5_refines_a_delivered_update(values: dict[int, Any], state: UpgradeState):
    assert refine_with_object5(UpgradeState.SUCCEEDED, None, values)[0] is state
    if state is UpgradeState.FAILED:
        assert refine_with_object5(UpgradeState.SUCCEEDED, None, values)[1] == (
            "integrity check failure"
        )


def test_device_records_with_number_or_string_ids_and_imei_in_auth_info():
    page = parse(
        "cmcc",
        DevicePage,
        {
            "total_count": 3,
            "devices": [
                {
                    "id": 1221,
                    "title": "水表-0007",
                    "online": True,
                    "auth_info": {"869975031234561": "460041234567890"},
                    "other": {
                        "manufacturer": "Quectel",
                        "model": "BC95-G",
                        "version": "BC95GJBR01A08",
                    },
                },
                {"id": "5241665", "title": "dtu", "auth_info": "tes01235n82105"},
                {"id": "7", "auth_info": "869975031234579", "online": "false"},
            ],
        },
        "devices",
    )
    first = device_from_record("cmcc", page.devices[0])
    assert first is not None and first.device_id == "869975031234561"
    assert (first.name, first.make, first.model, first.firmware) == (
        "水表-0007",
        "Quectel",
        "BC95-G",
        "BC95GJBR01A08",
    )
    assert first.provider_status_raw == "1221"
    assert device_from_record("cmcc", page.devices[1]) is None  # not an NB-IoT device
    third = device_from_record("cmcc", page.devices[2])
    assert third is not None and third.online is False


def test_beijing_times_in_every_documented_shape():
    expected = datetime(2021, 1, 2, 1, 2, 24, tzinfo=UTC)
    assert parse_beijing("2021-01-02 09:02:24") == expected
    assert parse_beijing("2021-01-02T09:02:24") == expected
    assert parse_beijing("2021-01-02 09:02:24:185") == expected + timedelta(milliseconds=185)
    assert parse_beijing("Wed Dec 02") is None


def _pair_at(imei: str, created: str, expired: str = "2026-11-29 15:00:00", uuid: str = ""):
    w = cmd(
        cmd_uuid=f"w{uuid or imei}{created}", imei=imei, create_time=created, expired_time=expired
    )
    e = cmd(
        cmd_uuid=f"e{uuid or imei}{created}",
        type="EXECUTE",
        imei=imei,
        create_time=created,
        expired_time=expired,
    )
    return pair_commands(imei, [w, e])[0]


def test_batches_are_inferred_deterministically():
    pairs = [
        _pair_at("1", "2026-11-22 15:00:00"),
        _pair_at("2", "2026-11-22 15:00:40"),
        _pair_at("3", "2026-11-22 15:01:30"),  # 50 s gap: same batch
        _pair_at("4", "2026-11-22 15:05:00"),  # > 60 s: a new batch
        _pair_at("5", "2026-11-22 15:00:10", expired="2026-11-30 00:00:00"),  # other expiry
    ]
    first = batches.assign(pairs)
    again = batches.assign(list(reversed(pairs)))
    ids = sorted(b.campaign_id for b in first)
    assert ids == sorted(b.campaign_id for b in again)
    assert "cmd-20261122150000-20261129150000" in ids and len(ids) == 3
    sizes = {b.campaign_id: len(b.members) for b in first}
    assert sizes["cmd-20261122150000-20261129150000"] == 3
    first_at, expiry = batches.parse_batch_id("cmd-20261122150000-20261129150000") or (None, None)
    assert first_at == datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    assert expiry == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert batches.parse_batch_id("task-1") is None


def test_groups_claim_their_commands_first():
    pairs = [_pair_at("1", "2026-11-22 16:00:00"), _pair_at("2", "2026-11-22 16:00:05")]
    by_ref = LocalGroup(
        "camp-a", "cmcc", NOW, ("1",), name="A", job_refs=(pairs[0].write.cmd_uuid,)
    )
    by_time = LocalGroup("camp-b", "cmcc", NOW + timedelta(seconds=3), ("2",), name="B")
    result = {b.campaign_id: b for b in batches.assign(pairs, [by_ref, by_time])}
    assert result["camp-a"].members == (0,) and result["camp-b"].members == (1,)
    assert set(result) == {"camp-a", "camp-b"}

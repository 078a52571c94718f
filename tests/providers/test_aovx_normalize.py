"""AOVX wire models, normalizers and campaign grouping, from JSON fixtures (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from fota_tui.models import UpgradeState
from fota_tui.providers.aovx import grouping, normalize
from fota_tui.providers.aovx.wire import Envelope, OtaRecord, Page, Terminal
from fota_tui.providers.base import LocalGroup
from fota_tui.providers.http import ClientOptions

# The record printed on seed page 000, verbatim.
SEED_RECORD: dict[str, Any] = {
    "terminalId": "1957EE0C69614AB3B3AF2755103B0AB6",
    "terminalNum": "344050190425",
    "upgradeInfo": '{"TYPE":"0","MODE":"0","PROTOCOL":"1","VERSION":"natives_blob",'
    '"URL":"http://124.223.60.234:8888/FOTA/103/natives_blob.bin"}',
    "status": 1,
    "sendTime": "2023-02-02T10:07:39.151Z",
    "sendTimestamp": 1675332459151,
    "dateTime": "2023-02-02T10:07:39.151Z",
    "mark": "E40507ECDCCE400CA1406A8D97AFF250",
    "dateTimestamp": 1675332459151,
}
SENT = datetime(2023, 2, 2, 10, 7, 39, 151000, tzinfo=UTC)
URL = "http://files.aovx.example/FOTA/103/VG300_V2.3.1.bin"


def record(terminal: str, sent: datetime, status: Any = 1, **info: str) -> normalize.Report:
    upgrade = {"TYPE": "0", "MODE": "0", "PROTOCOL": "1", "VERSION": "VG300_V2.3.1", "URL": URL}
    upgrade.update(info)
    row = OtaRecord.model_validate(
        {
            "terminalId": terminal,
            "upgradeInfo": json.dumps(upgrade),
            "status": status,
            "sendTimestamp": int(sent.timestamp() * 1000),
            "mark": f"{terminal}{sent.timestamp()}",
        }
    )
    return normalize.report(row)


def test_the_seed_record_normalizes():
    report = normalize.report(OtaRecord.model_validate(SEED_RECORD))
    assert report.terminal_id == "1957EE0C69614AB3B3AF2755103B0AB6"
    assert report.info.valid and report.info.version == "natives_blob"
    assert report.info.url == "http://124.223.60.234:8888/FOTA/103/natives_blob.bin"
    assert (report.info.type, report.info.mode, report.info.protocol) == ("0", "0", "1")
    assert report.state is UpgradeState.SENDING and report.status_raw == 1
    assert report.sent_at == SENT and report.changed_at == SENT
    upgrade = grouping.upgrade("p", report, "c1")
    assert upgrade.firmware_to == "natives_blob" and upgrade.created_at == SENT


@pytest.mark.parametrize(
    ("value", "valid", "version"),
    [
        ('{"VERSION":"v1","URL":"http://x/a.bin"}', True, "v1"),
        ({"VERSION": "v2"}, True, "v2"),  # an object instead of a string
        ('{"version":"v3"}', True, "v3"),  # key case varies
        ('{"TYPE":"0","VERSION": broken', False, None),
        ("[1, 2]", False, None),
        (17, False, None),
        (None, False, None),
    ],
)
def test_upgrade_info_is_parsed_from_its_json_string_and_kept_raw_when_invalid(
    value, valid, version
):
    info = normalize.parse_upgrade_info(value)
    assert info.valid is valid and info.version == version and info.raw == value


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        (-1, UpgradeState.FAILED),
        (1, UpgradeState.SENDING),
        (2, UpgradeState.DOWNLOADING),
        (3, UpgradeState.SUCCEEDED),
        (4, UpgradeState.FAILED),
        ("3", UpgradeState.SUCCEEDED),
        (" -1 ", UpgradeState.FAILED),
        (3.0, UpgradeState.SUCCEEDED),
        (0, UpgradeState.UNKNOWN),
        (5, UpgradeState.UNKNOWN),
        (True, UpgradeState.UNKNOWN),
        (None, UpgradeState.UNKNOWN),
        ("done", UpgradeState.UNKNOWN),
        ([1], UpgradeState.UNKNOWN),
    ],
)
def test_status_table(raw, state):
    got, reason = normalize.map_status(raw)
    assert got is state
    if state is UpgradeState.UNKNOWN:
        assert reason and repr(raw) in reason
    if raw == -1:
        assert reason and "delivery failed/timeout" in reason


def test_status_overrides_from_the_profile():
    options = ClientOptions(name="p", base_url="http://x", status_map={"2": "downloading"})
    assert normalize.map_status(2, options.map_status)[0] is UpgradeState.DOWNLOADING
    assert normalize.map_status(3, options.map_status)[0] is UpgradeState.SUCCEEDED
    bad = ClientOptions(name="p", base_url="http://x", status_map={"3": "nonsense"})
    assert normalize.map_status(3, bad.map_status)[0] is UpgradeState.SUCCEEDED


@pytest.mark.parametrize(
    ("text", "epoch", "expected"),
    [
        ("2023-02-02T10:07:39.151Z", None, SENT),
        (None, 1675332459151, SENT),
        ("garbage", 1675332459151, SENT),  # epoch ms wins
        (None, 1675332459, SENT.replace(microsecond=0)),  # epoch seconds
        ("2023-02-02 10:07:39", None, SENT.replace(microsecond=0)),  # naive = UTC
        ("2023-02-02T18:07:39.151+08:00", None, SENT),
        ("02/02/2023", None, None),
        (None, None, None),
    ],
)
def test_times_are_utc_from_iso_or_epoch_ms(text, epoch, expected):
    assert normalize.parse_time(text, epoch) == expected


@pytest.mark.parametrize(
    ("code", "message", "invalid"),
    [
        (401, "whatever", True),
        (500, "token失效", True),
        (500, "token失效，请重新登录", True),
        (1001, "Token expired", True),
        (500, "令牌无效", True),
        (403, "未登录或登录已过期", True),
        (500, "token invalid", True),
        (500, "用户名或密码错误", False),
        (400, "Operation failed", False),
        (500, None, False),
    ],
)
def test_token_invalid_answers_in_english_or_chinese(code, message, invalid):
    assert normalize.is_token_invalid(code, message) is invalid


def test_batch_ids_are_stable_per_second_and_package():
    a = normalize.batch_id("v1", URL, SENT)
    assert a == normalize.batch_id("v1", URL, SENT.replace(microsecond=0))
    assert a != normalize.batch_id("v1", URL, SENT + timedelta(seconds=1))
    assert a != normalize.batch_id("v2", URL, SENT)
    assert normalize.batch_time(a) == SENT.replace(microsecond=0)
    assert normalize.batch_time("ft-123") is None
    assert normalize.batch_id("v1", URL, None).startswith("undated-")


def test_wire_coerces_the_documented_quirks():
    page = Page.model_validate({"total": "12", "size": " 3 ", "data": None})
    assert (page.total, page.size, page.rows) == (12, 3, [])
    assert Page.model_validate({"total": 12.0, "size": ""}).size is None
    assert Envelope.model_validate({"code": "200", "message": "ok"}).code == 200
    terminal = Terminal.model_validate(
        {"id": "A" * 32, "terminalNum": 344050190425, "vehicleNum": None, "unknownField": 1}
    )
    assert terminal.terminal_num == "344050190425" and terminal.vehicle_num is None
    with pytest.raises(ValidationError):
        Terminal.model_validate({"terminalNum": "1"})
    with pytest.raises(ValidationError):
        Page.model_validate({"total": "many"})


def test_resends_within_a_minute_keep_the_newest_record():
    t0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    rows = [
        record("T1", t0, 4),
        record("T1", t0 + timedelta(seconds=40), 1),
        record("T1", t0 + timedelta(seconds=200), 1),
        record("T1", t0 + timedelta(seconds=210), 1, URL="http://other/b.bin"),
    ]
    got = grouping.assign(rows)
    assert [a.report.sent_at for a in got] == [
        t0 + timedelta(seconds=40),
        t0 + timedelta(seconds=200),
        t0 + timedelta(seconds=210),
    ]
    assert got[0].campaign_id == normalize.batch_id("VG300_V2.3.1", URL, t0 + timedelta(seconds=40))


def test_groups_claim_the_nearest_record_and_leave_the_rest_to_inference():
    t0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    rows = [record("T1", t0), record("T1", t0 + timedelta(hours=5)), record("T2", t0)]
    early = LocalGroup("g-early", "p", t0 - timedelta(minutes=3), ("T1",), firmware=URL)
    late = LocalGroup(
        "g-late", "p", t0 + timedelta(hours=5, minutes=1), ("T1",), firmware_to="VG300_V2.3.1"
    )
    other = LocalGroup("g-other", "p", t0, ("T1", "T2"), firmware="http://other/b.bin")
    got = {
        (a.report.terminal_id, a.report.sent_at): a.campaign_id
        for a in grouping.assign(rows, [late, early, other])
    }
    assert got[("T1", t0)] == "g-early"
    assert got[("T1", t0 + timedelta(hours=5))] == "g-late"
    assert got[("T2", t0)] == normalize.batch_id("VG300_V2.3.1", URL, t0)
    details = {d.campaign.campaign_id: d for d in grouping.details("p", [], [other])}
    assert details["g-other"].campaign.total == 2
    assert {d.state for d in details["g-other"].devices} == {UpgradeState.PENDING}


def test_groups_use_the_server_offset_and_ignore_records_too_far_away():
    t0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    rows = [record("T1", t0)]
    local_clock = LocalGroup("g", "p", t0 - timedelta(days=2), ("T1",), firmware=URL)
    assert grouping.assign(rows, [local_clock])[0].campaign_id != "g"
    got = grouping.assign(rows, [local_clock], offset=timedelta(days=2))
    assert got[0].campaign_id == "g"


def test_records_without_valid_info_or_time_still_get_a_stable_campaign():
    row = OtaRecord.model_validate({"terminalId": "T9", "upgradeInfo": "{oops", "status": 3})
    report = normalize.report(row)
    first = grouping.assign([report])[0].campaign_id
    assert first == grouping.assign([report])[0].campaign_id and first.startswith("undated-")
    detail = grouping.details("p", grouping.assign([report]))[0]
    assert detail.campaign.name == "OTA sent" and detail.campaign.state.value == "succeeded"

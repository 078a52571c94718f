"""The AOVX dialect over real HTTP (in-process transport, a few over loopback)."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from fota_tui.models import ProviderKind
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.aovx.dialect import AovxDialect
from fota_tui.sim.fleet import SimFleet
from fota_tui.sim.server import Simulator

KIND = ProviderKind.AOVX
LOGIN = "/system/user/login"
SEND = "/system/asset/command/sendOtaCommand"
REPORT = "/system/asset/command/queryTerminalOtaReport"
LIST = "/system/asset/terminal/queryLoginUserTerminalInfoList"
INFO = "/system/asset/terminal/queryTerminalInfo"
ONLINE = "/system/asset/status/queryTerminalOnlineStatus"
ID_RE = re.compile(r"^([0-9A-F]{32}|[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12})$")
ISO_MS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PLAIN_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
URL = "http://files.aovx.example/FOTA/103/VG300_V2.3.1.bin"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def luhn_ok(value: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator.build(kinds=[KIND], clock=clock, devices=300)


@pytest.fixture
def dialect(sim: Simulator) -> AovxDialect:
    d = sim.dialects[KIND]
    assert isinstance(d, AovxDialect)
    return d


@pytest.fixture
async def api(sim: Simulator):
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_urls()[KIND]) as c:
        yield c


async def login(api: httpx.AsyncClient, path: str = LOGIN) -> str:
    creds = AovxDialect.credentials
    r = await api.post(
        path, json={"userName": creds["username"], "password": md5(creds["password"])}
    )
    body = r.json()
    assert r.status_code == 200 and body["code"] == 200, body
    return str(body["data"]["tokenId"])


async def post(api: httpx.AsyncClient, path: str, body: Any, token: str | None) -> dict[str, Any]:
    headers = {"token": token} if token else {}
    r = await api.post(path, json=body, headers=headers)
    assert r.status_code == 200
    payload: dict[str, Any] = r.json()
    return payload


def window(clock: ManualClock, days: int = 90) -> dict[str, str]:
    now = clock.now()
    return {
        "startTime": (now - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S"),
        "endTime": (now + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"),
    }


# -- auth ---------------------------------------------------------------------------
async def test_login_answers_token_and_user_fields_in_the_envelope(api, clock):
    creds = AovxDialect.credentials
    r = await api.post(LOGIN, json={"userName": "demo", "password": md5(creds["password"])})
    body = r.json()
    assert body["code"] == 200 and isinstance(body["code"], int)
    assert body["message"] == "Operation succeeded"
    data = body["data"]
    for key in ("tokenId", "userId", "orgId", "orgName", "timeDiff", "loginTime", "loginTimestamp"):
        assert key in data
    assert ISO_MS_RE.match(data["loginTime"])
    assert data["loginTimestamp"] == int(clock.now().timestamp() * 1000)
    assert parsedate_to_datetime(r.headers["date"]) == clock.now()
    second = await login(api)
    assert data["tokenId"] != second
    assert data["tokenId"] not in creds.values() and second not in creds.values()
    assert re.fullmatch(r"[0-9a-f]{32}", second)


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"userName": "demo", "password": "demo-aovx-password"}, 400, "MD5"),
        ({"userName": "demo", "password": md5("wrong")}, 500, "用户名或密码错误"),
        ({"userName": "nobody", "password": md5("demo-aovx-password")}, 500, "用户名或密码错误"),
        ({"userName": "demo"}, 400, "required"),
        ({"password": md5("x")}, 400, "required"),
    ],
)
async def test_login_rejections(api, body, code, words):
    r = await api.post(LOGIN, json=body)
    assert r.status_code == 200
    assert r.json()["code"] == code and words in r.json()["message"]
    assert r.json()["data"] is None


async def test_login_path_is_configurable(clock):
    fleet = SimFleet(clock)
    dialect = AovxDialect(fleet, login_path="/api/login/userLogin")
    dialect.seed(20, random.Random(1))
    sim = Simulator(fleet, {KIND: dialect})
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_urls()[KIND]) as api:
        assert (await api.post(LOGIN, json={})).status_code == 404
        token = await login(api, "/api/login/userLogin")
        assert (await post(api, LIST, {"key": ""}, token))["code"] == 200
        dialect.login_path = "/auth"
        await login(api, "/auth")


async def test_missing_unknown_and_expired_tokens_answer_401(api, clock, dialect):
    assert (await post(api, LIST, {}, None)) == {
        "code": 401,
        "message": "token invalid",
        "data": None,
    }
    assert (await post(api, LIST, {}, "0" * 32))["code"] == 401
    token = await login(api)
    clock.advance(2 * 3600 - 1)
    assert (await post(api, LIST, {}, token))["code"] == 200
    clock.advance(2)
    expired = await post(api, LIST, {}, token)
    assert expired["code"] == 401 and "失效" in expired["message"]
    token = await login(api)
    dialect.expire_tokens()
    assert (await post(api, LIST, {}, token))["code"] == 401


# -- terminals ------------------------------------------------------------------------
async def test_terminal_list_fields_types_and_paging(api, sim):
    token = await login(api)
    seen: list[dict[str, Any]] = []
    pages = None
    for page in range(1, 10):
        body = await post(
            api, LIST, {"queryType": 0, "key": "", "pageNum": page, "pageSize": 70}, token
        )
        data = body["data"]
        assert int(data["total"]) == 300 and int(data["size"]) == math.ceil(300 / 70)
        pages = int(data["size"])
        seen += data["data"]
        if page >= pages:
            break
    assert pages == 5 and len(seen) == 300
    assert {t["id"] for t in seen} == set(sim.fleet.devices[KIND])
    for t in seen:
        assert ID_RE.match(t["id"]) and re.fullmatch(r"\d{12}", t["terminalNum"])
        assert len(t["imei"]) == 15 and luhn_ok(t["imei"])
        assert t["typeId"] == 808 and t["typeName"] == "JT/T808-2013"
        assert t["status"] in (0, 1) and PLAIN_RE.match(t["expireTime"])
        assert PLAIN_RE.match(t["createTime"])
        assert t["vehicleNum"] is None or isinstance(t["vehicleNum"], str)
    assert any("-" in t["id"] for t in seen) and any(t["vehicleNum"] is None for t in seen)
    assert any(re.search(r"[\u4e00-\u9fff]", t["vehicleNum"] or "") for t in seen)
    assert any(re.search(r"[\u4e00-\u9fff]", t["orgName"]) for t in seen)
    assert len({t["terminalNum"] for t in seen}) == 300


async def test_total_and_size_are_strings_on_some_pages(api):
    token = await login(api)
    types = {}
    for page in (1, 2, 3):
        data = (await post(api, LIST, {"pageNum": page, "pageSize": 10}, token))["data"]
        types[page] = (type(data["total"]), type(data["size"]))
    assert types[1] == (int, int) and types[3] == (str, str)


@pytest.mark.parametrize("field", ["queryType", "keyType"])
@pytest.mark.parametrize("separator", [",", ";"])
async def test_batch_key_accepts_both_field_names_and_separators(api, sim, field, separator):
    token = await login(api)
    devices = list(sim.fleet.devices[KIND].values())[:3]
    keys = [devices[0].extra["terminalNum"], devices[1].imei, devices[2].extra["terminalNum"]]
    body = {field: 1, "key": separator.join(keys), "pageNum": 1, "pageSize": 20}
    data = (await post(api, LIST, body, token))["data"]
    assert {t["id"] for t in data["data"]} == {d.device_id for d in devices}


async def test_fuzzy_key_matches_part_of_the_terminal_number(api, sim):
    token = await login(api)
    device = next(iter(sim.fleet.devices[KIND].values()))
    fragment = device.extra["terminalNum"][-6:]
    data = (await post(api, LIST, {"queryType": 0, "key": fragment, "pageSize": 50}, token))["data"]
    assert device.device_id in {t["id"] for t in data["data"]}
    assert all(
        fragment in t["terminalNum"]
        or fragment in t["imei"]
        or fragment in t["simNum"]
        or fragment in t["customNum"]
        or fragment in t["id"]
        for t in data["data"]
    )


async def test_terminal_info_and_online_status(api, sim):
    token = await login(api)
    devices = list(sim.fleet.devices[KIND].values())
    device = devices[0]
    info = (await post(api, INFO, {"terminalId": device.device_id}, token))["data"]
    assert info["id"] == device.device_id and info["terminalStatus"]["onlineStatus"] == int(
        device.online
    )
    assert PLAIN_RE.match(info["terminalStatus"]["gtime"])
    no_acc = next(d for d in devices if d.extra["acc"] is None)
    online = (await post(api, ONLINE, {"terminalId": no_acc.device_id}, token))["data"]
    assert "acc" not in online and online["onlineStatus"] in (0, 1)
    assert PLAIN_RE.match(online["gnssTime"]) and PLAIN_RE.match(online["recvTime"])
    with_acc = next(d for d in devices if d.extra["acc"] is not None)
    assert (await post(api, ONLINE, {"terminalId": with_acc.device_id}, token))["data"]["acc"] in (
        0,
        1,
    )
    missing = await post(api, INFO, {"terminalId": "F" * 32}, token)
    assert missing["code"] == 404 and "终端不存在" in missing["message"]
    assert (await post(api, ONLINE, {}, token))["code"] == 400


# -- OTA ------------------------------------------------------------------------------
async def test_ota_report_record_shape_and_statuses(sim, clock, api):
    token = await login(api)
    ids = list(sim.fleet.devices[KIND])
    body = {"ids": ids, **window(clock), "pageNum": 1, "pageSize": 1000}
    data = (await post(api, REPORT, body, token))["data"]
    rows = data["data"]
    expected = sum(len(j.targets) for j in sim.fleet.jobs[KIND].values())
    assert data["total"] == expected == len(rows) and data["size"] == 1
    statuses = set()
    for row in rows:
        assert list(row) == [
            "terminalId",
            "terminalNum",
            "upgradeInfo",
            "status",
            "sendTime",
            "sendTimestamp",
            "dateTime",
            "mark",
            "dateTimestamp",
        ]
        assert isinstance(row["upgradeInfo"], str)
        info = json.loads(row["upgradeInfo"])
        assert set(info) == {"TYPE", "MODE", "PROTOCOL", "VERSION", "URL"}
        assert all(isinstance(v, str) for v in info.values())
        assert ISO_MS_RE.match(row["sendTime"]) and ISO_MS_RE.match(row["dateTime"])
        sent = datetime.fromisoformat(row["sendTime"].replace("Z", "+00:00"))
        assert row["sendTimestamp"] == int(sent.timestamp() * 1000)
        assert row["dateTimestamp"] >= row["sendTimestamp"]
        assert re.fullmatch(r"[0-9A-F]{32}", row["mark"])
        statuses.add(row["status"])
    assert statuses == {-1, 1, 2, 3, 4}  # the seeded sends cover every status
    assert len({r["mark"] for r in rows}) == len(rows)


async def test_ota_report_filters_by_send_time_and_pages_by_count(sim, clock, api):
    token = await login(api)
    ids = list(sim.fleet.devices[KIND])
    now = clock.now()
    recent = {
        "ids": ids,
        "startTime": (now - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"),
        "endTime": now.strftime("%Y-%m-%d %H:%M:%S"),
    }
    expected = sum(
        1
        for j in sim.fleet.jobs[KIND].values()
        for t in j.targets.values()
        if now - timedelta(days=3) <= t.added_at <= now
    )
    first = (await post(api, REPORT, {**recent, "pageNum": 1, "pageSize": 7}, token))["data"]
    assert first["total"] == expected and first["size"] == math.ceil(expected / 7)
    rows = []
    for page in range(1, first["size"] + 1):
        data = (await post(api, REPORT, {**recent, "pageNum": page, "pageSize": 7}, token))["data"]
        assert int(data["size"]) == first["size"]
        rows += data["data"]
    assert len(rows) == expected
    for row in rows:
        sent = datetime.fromisoformat(row["sendTime"].replace("Z", "+00:00"))
        assert now - timedelta(days=3) <= sent <= now
    past = await post(api, REPORT, {**recent, "pageNum": first["size"] + 1, "pageSize": 7}, token)
    assert past["data"]["data"] == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ids": None}, "ids"),
        ({"ids": []}, "ids"),
        ({"ids": "ABC"}, "ids"),
        ({"startTime": None}, "startTime"),
        ({"startTime": "2026-11-01T00:00:00Z"}, "startTime"),
        ({"endTime": "2026/11/30 00:00:00"}, "endTime"),
        ({"startTime": "2026-12-01 00:00:00", "endTime": "2026-11-01 00:00:00"}, "later"),
        ({"pageNum": 0}, "pageNum"),
        ({"pageSize": "x"}, "pageSize"),
    ],
)
async def test_ota_report_validation(api, sim, change, words):
    token = await login(api)
    body = {
        "ids": list(sim.fleet.devices[KIND])[:3],
        "startTime": "2026-11-01 00:00:00",
        "endTime": "2026-11-30 00:00:00",
        "pageNum": 1,
        "pageSize": 20,
    }
    body.update(change)
    answer = await post(api, REPORT, {k: v for k, v in body.items() if v is not None}, token)
    assert answer["code"] == 400 and words in answer["message"] and answer["data"] is None


async def test_send_ota_command_returns_null_data_and_creates_one_record_per_terminal(
    api, sim, clock
):
    token = await login(api)
    online = [d for d in sim.fleet.devices[KIND].values() if d.online][:3]
    ids = [d.device_id for d in online]
    before = len(sim.fleet.jobs[KIND])
    body = {
        "terminalIds": ids,
        "type": 0,
        "mode": 0,
        "protocol": 1,
        "version": "VG300_V2.3.1",
        "fileUrl": URL,
    }
    assert await post(api, SEND, body, token) == {
        "code": 200,
        "message": "Operation succeeded",
        "data": None,
    }
    assert len(sim.fleet.jobs[KIND]) == before + 1
    query = {"ids": ids, **window(clock, 1), "pageNum": 1, "pageSize": 20}
    rows = (await post(api, REPORT, query, token))["data"]["data"]
    mine = [r for r in rows if r["sendTimestamp"] == int(clock.now().timestamp() * 1000)]
    assert sorted(r["terminalId"] for r in mine) == sorted(ids)
    assert {r["status"] for r in mine} == {1}
    assert all(r["dateTime"] == r["sendTime"] for r in mine)
    assert json.loads(mine[0]["upgradeInfo"]) == {
        "TYPE": "0",
        "MODE": "0",
        "PROTOCOL": "1",
        "VERSION": "VG300_V2.3.1",
        "URL": URL,
    }
    # The records move with the clock; sendTime stays, dateTime follows each change.
    marks = {r["mark"]: r for r in mine}
    clock.advance(90 * 60)  # an online terminal finishes within ~40 min
    later = [
        r for r in (await post(api, REPORT, query, token))["data"]["data"] if r["mark"] in marks
    ]
    assert {r["status"] for r in later} <= {2, 3, 4, -1} and len(later) == 3
    for row in later:
        assert row["sendTime"] == marks[row["mark"]]["sendTime"]
        assert row["dateTimestamp"] > row["sendTimestamp"]


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"terminalIds": []}, 400, "terminalIds"),
        ({"terminalIds": "ABC"}, 400, "terminalIds"),
        ({"terminalIds": [""]}, 400, "terminalIds"),
        ({"type": None}, 400, "type"),
        ({"type": 2}, 400, "type"),
        ({"mode": "whole"}, 400, "mode"),
        ({"protocol": -1}, 400, "protocol"),
        ({"version": None}, 400, "version"),
        ({"version": ""}, 400, "version"),
        ({"fileUrl": "VG300.bin"}, 400, "fileUrl"),
        ({"terminalIds": ["0" * 32]}, 404, "终端不存在"),
    ],
)
async def test_send_ota_command_validation(api, sim, change, code, words):
    token = await login(api)
    body = {
        "terminalIds": list(sim.fleet.devices[KIND])[:1],
        "type": 0,
        "mode": 0,
        "protocol": 1,
        "version": "v",
        "fileUrl": URL,
    }
    body.update(change)
    before = len(sim.fleet.jobs[KIND])
    answer = await post(api, SEND, {k: v for k, v in body.items() if v is not None}, token)
    assert answer["code"] == code and words in answer["message"]
    assert len(sim.fleet.jobs[KIND]) == before


async def test_send_accepts_numeric_version_and_string_numbers(api, sim):
    token = await login(api)
    body = {
        "terminalIds": list(sim.fleet.devices[KIND])[:1],
        "type": "1",
        "mode": 1,
        "protocol": "0",
        "version": 231,
        "fileUrl": "ftp://files.aovx.example/a.bin",
    }
    assert (await post(api, SEND, body, token))["code"] == 200
    job = list(sim.fleet.jobs[KIND].values())[-1]
    assert job.meta == {
        "type": 1,
        "mode": 1,
        "protocol": 0,
        "version": "231",
        "url": "ftp://files.aovx.example/a.bin",
    }


# -- envelope for transport-level problems and faults ---------------------------------
async def test_routes_bad_bodies_throttling_and_server_errors(api, sim):
    token = await login(api)
    r = await api.get(LIST, headers={"token": token})
    assert r.status_code == 405 and r.json()["code"] == 405
    r = await api.post("/system/asset/nothing", json={}, headers={"token": token})
    assert r.status_code == 404 and r.json()["code"] == 404
    r = await api.post(LIST, content=b"{nope", headers={"token": token})
    assert r.status_code == 200 and r.json()["code"] == 400
    assert (await post(api, LIST, [1, 2], token))["code"] == 400
    sim.faults.script(KIND, "throttle")
    r = await api.post(LIST, json={}, headers={"token": token})
    assert r.status_code == 200 and r.json()["code"] == 429 and r.headers["retry-after"] == "1"
    assert r.json()["message"] == "Too many requests"
    sim.faults.script(KIND, "error")
    r = await api.post(LIST, json={}, headers={"token": token})
    assert r.status_code == 503 and r.json()["code"] == 503


def test_seeding_twenty_thousand_terminals_is_fast_and_deterministic():
    started = time.perf_counter()
    sim = Simulator.build(kinds=[KIND], clock=ManualClock(), devices=20_000)
    assert time.perf_counter() - started < 6.0
    assert len(sim.fleet.devices[KIND]) == 20_000
    assert {d.model for d in sim.fleet.devices[KIND].values()} == {"VG300", "GA-S10", "A8"}
    catalog = sim.fleet.firmware[KIND]
    assert catalog and all(f.url.startswith("http://files.aovx.example/FOTA/103/") for f in catalog)
    again = Simulator.build(kinds=[KIND], clock=ManualClock(), devices=50)
    same = Simulator.build(kinds=[KIND], clock=ManualClock(), devices=50)
    assert list(again.fleet.devices[KIND]) == list(same.fleet.devices[KIND])


@pytest.mark.loopback
def test_loopback_login_list_report_and_send(clock):
    sim = Simulator.build(kinds=[KIND], clock=clock, devices=40)
    with sim.serve() as server, httpx.Client(base_url=server.base_urls()[KIND]) as api:
        creds = AovxDialect.credentials
        login_body = {"userName": creds["username"], "password": md5(creds["password"])}
        token = api.post(LOGIN, json=login_body).json()["data"]["tokenId"]
        headers = {"token": token}
        listing = api.post(LIST, json={"queryType": 0, "key": ""}, headers=headers).json()
        assert listing["data"]["total"] == 40 and len(listing["data"]["data"]) == 20
        ids = list(sim.fleet.devices[KIND])[:2]
        send = {
            "terminalIds": ids,
            "type": 0,
            "mode": 0,
            "protocol": 1,
            "version": "x",
            "fileUrl": URL,
        }
        assert api.post(SEND, json=send, headers=headers).json()["data"] is None
        now = clock.now()
        report = {
            "ids": ids,
            "startTime": now.strftime("%Y-%m-%d %H:%M:%S"),
            "endTime": now.strftime("%Y-%m-%d %H:%M:%S"),
            "pageNum": 1,
            "pageSize": 20,
        }
        rows = api.post(REPORT, json=report, headers=headers).json()["data"]["data"]
        assert sorted(r["terminalId"] for r in rows) == sorted(ids)
        assert api.post(LIST, json={}, headers={"token": "nope"}).json()["code"] == 401

"""The OneNET dialect over real HTTP (in-process transport, a few over loopback)."""

from __future__ import annotations

import json
import random
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from fota_tui.models import ProviderKind
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.onenet.dialect import OneNetDialect
from fota_tui.sim.fleet import Phase, Reason, SimFleet
from fota_tui.sim.server import Simulator

KIND = ProviderKind.ONENET
KEY = OneNetDialect.credentials["api_key"]
CST = timezone(timedelta(hours=8))
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
JAVA_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} CST \d{4}$"
)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
URI = "http://fota.example.com/onenet/bc95-g/BC95GJBR01A08_to_BC95GJBR01A09.bin"
START = "2026-01-01T00:00:00"


def bj(when: datetime) -> str:
    return when.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def bj_req(when: datetime) -> str:
    return when.astimezone(CST).strftime("%Y-%m-%dT%H:%M:%S")


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
    return Simulator.build(kinds=[KIND], clock=clock, devices=160)


@pytest.fixture
async def api(sim: Simulator):
    async with httpx.AsyncClient(
        transport=sim.transport(), base_url=sim.base_urls()[KIND], headers={"api-key": KEY}
    ) as client:
        yield client


def devices_of(sim: Simulator, online: bool | None = None) -> list[Any]:
    return [d for d in sim.fleet.devices[KIND].values() if online is None or d.online is online]


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errno"] == 0 and body["error"] == "succ", body
    return body.get("data")


async def errno(response: httpx.Response) -> tuple[int, str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"errno", "error"} and isinstance(body["errno"], int)
    return body["errno"], body["error"]


async def history(api: httpx.AsyncClient, imei: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        data = await ok(
            await api.get(
                "/nbiot/offline/history",
                params={"imei": imei, "start": START, "page": page, "per_page": 100, **params},
            )
        )
        items += data["items"]
        if page * 100 >= data["total_count"]:
            return items
        page += 1


def window(clock: ManualClock, valid_in: float | None = 600, days: float = 2) -> dict[str, str]:
    now = clock.now()
    params = {"expired_time": bj_req(now + timedelta(days=days))}
    if valid_in is not None:
        params["valid_time"] = bj_req(now + timedelta(seconds=valid_in))
    return params


async def create_fota(api: httpx.AsyncClient, clock: ManualClock, imei: str, **extra: Any):
    params = {"imei": imei, "obj_id": 5, "obj_inst_id": 0, **window(clock, **extra)}
    write = await ok(
        await api.post(
            "/nbiot/offline",
            params={**params, "mode": 1},
            json={"data": [{"res_id": 1, "val": URI}]},
        )
    )
    execute = await ok(await api.post("/nbiot/execute/offline", params={**params, "res_id": 2}))
    return write["uuid"], execute["uuid"]


# -- auth, errors, throttling --------------------------------------------------------------
async def test_api_key_must_be_the_master_key(sim: Simulator):
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_urls()[KIND]) as c:
        assert await errno(await c.get("/devices")) == (1, "auth failed")
        bad = await c.get("/devices", headers={"api-key": "demo-onenet-device-key"})
        assert await errno(bad) == (1, "auth failed")
        assert (await c.get("/devices", headers={"api-key": KEY})).json()["errno"] == 0
    assert KEY == "demo-onenet-masterkey"


async def test_unknown_routes_and_bad_bodies_answer_in_the_envelope(sim: Simulator, api, clock):
    assert (await api.get("/nbiot/nothing")).status_code == 404
    imei = devices_of(sim)[0].imei
    params = {"imei": imei, "obj_id": 5, "obj_inst_id": 0, "mode": 1, **window(clock)}
    response = await api.post("/nbiot/offline", params=params, content=b"{not json")
    assert (await errno(response))[0] == 3


async def test_rate_limit_answers_errno_7_with_retry_after(sim: Simulator, api):
    dialect = sim.dialects[KIND]
    ticks = [100.0]
    dialect.rate_limit = (3, 1.0)  # type: ignore[attr-defined]
    dialect.monotonic = lambda: ticks[0]  # type: ignore[attr-defined]
    for _ in range(3):
        await ok(await api.get("/devices", params={"per_page": 1}))
    throttled = await api.get("/devices", params={"per_page": 1})
    assert await errno(throttled) == (7, "service internal error")
    assert throttled.headers["retry-after"] == "1"
    ticks[0] += 1.0
    await ok(await api.get("/devices", params={"per_page": 1}))


async def test_faults_throttle_error_and_token_expiry(sim: Simulator, api):
    sim.faults.set(KIND, throttle=1.0)
    assert (await errno(await api.get("/devices")))[0] == 7
    sim.faults.clear(KIND)
    sim.faults.set(KIND, error=1.0)
    response = await api.get("/devices")
    assert response.status_code >= 500 and response.json()["errno"] == 7
    sim.faults.clear(KIND)
    sim.faults.set(KIND, token_expiry=1.0)  # api-keys do not expire: still answered
    await ok(await api.get("/devices"))
    assert sim.dialects[KIND].expired_tokens >= 1  # type: ignore[attr-defined]


# -- seeding ---------------------------------------------------------------------------------
def test_seed_is_fast_and_realistic():
    fleet = SimFleet(ManualClock(), seed=11)
    started = time.perf_counter()
    OneNetDialect(fleet).seed(30_000, random.Random(3))
    elapsed = time.perf_counter() - started
    devices = list(fleet.devices[KIND].values())
    assert len(devices) == 30_000 and elapsed < 6, elapsed
    assert all(len(d.imei) == 15 and luhn_ok(d.imei) for d in devices[:2000])
    assert len({d.imei for d in devices}) == 30_000
    models = {f"{d.make} {d.model}" for d in devices}
    assert {"Quectel BC95-G", "China Mobile M5310-A"} <= models and 2 <= len(models) <= 4
    assert any(re.search(r"[\u4e00-\u9fff]", d.name) for d in devices)
    assert sum(d.name.isascii() for d in devices) > len(devices) // 2
    assert "BC95GJBR01A08" in {d.firmware for d in devices}
    assert len(fleet.firmware[KIND]) >= 3 and all(f.url for f in fleet.firmware[KIND])
    now = fleet.now()
    phases = {p for j in fleet.jobs[KIND].values() for p, n in j.counts(now).items() if n}
    assert {Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED, Phase.EXPIRED, Phase.QUEUED} <= phases


# -- devices ---------------------------------------------------------------------------------
async def test_device_list_pages_as_documented(sim: Simulator, api):
    first = await ok(await api.get("/devices"))
    assert first["per_page"] == 30 and first["page"] == 1 and first["total_count"] == 160
    assert len(first["devices"]) == 30
    seen = []
    for page in range(1, 3):
        data = await ok(await api.get("/devices", params={"page": page, "per_page": 100}))
        seen += data["devices"]
    assert len(seen) == 160
    imeis = [next(iter(d["auth_info"])) for d in seen]
    assert sorted(imeis) == sorted(d.imei for d in devices_of(sim))
    types = {type(d["id"]) for d in seen}
    assert types == {int, str}  # documented quirk: id is a number in some records
    record = seen[0]
    assert record["protocol"] == "LWM2M" and isinstance(record["online"], bool)
    assert TIME_RE.match(record["create_time"])
    assert set(record["other"]) == {"manufacturer", "model", "version"}
    assert (await errno(await api.get("/devices", params={"per_page": 101})))[0] == 5006
    assert (await errno(await api.get("/devices", params={"page": "x"})))[0] == 5108
    beyond = await ok(await api.get("/devices", params={"page": 9, "per_page": 100}))
    assert beyond["devices"] == [] and beyond["total_count"] == 160


async def test_device_list_filters(sim: Simulator, api):
    data = await ok(await api.get("/devices", params={"per_page": 100}))
    ids = [str(d["id"]) for d in data["devices"][:3]]
    picked = await ok(await api.get("/devices", params={"device_id": ",".join(ids)}))
    assert sorted(str(d["id"]) for d in picked["devices"]) == sorted(ids)
    online = await ok(await api.get("/devices", params={"online": "true", "per_page": 100}))
    assert online["total_count"] > 0 and all(d["online"] for d in online["devices"])
    title = data["devices"][0]["title"]
    found = await ok(await api.get("/devices", params={"key_words": title}))
    assert title in [d["title"] for d in found["devices"]]


async def test_get_by_imei_and_status(sim: Simulator, api):
    device = devices_of(sim)[0]
    raw = await api.get("/devices/getbyimei", params={"imei": device.imei})
    assert raw.text.count('"error"') == 2  # the documented example repeats the key
    data = await ok(raw)
    assert set(data) == {"create_time", "online", "id", "observe_status", "title"}
    assert isinstance(data["id"], str) and data["id"].isdigit() and data["title"] == device.name
    assert data["create_time"] == bj(device.created_at)
    assert (await errno(await api.get("/devices/getbyimei", params={"imei": "1" * 15})))[0] == 3
    assert (await errno(await api.get("/devices/getbyimei")))[0] == 3
    status = await ok(await api.get("/devices/status", params={"devIds": f"{data['id']},999"}))
    assert status["total_count"] == 1
    assert status["devices"][0] == {
        "id": data["id"],
        "title": device.name,
        "online": data["online"],
    }
    assert (await errno(await api.get("/devices/status")))[0] == 3


# -- history ---------------------------------------------------------------------------------
def stir(sim: Simulator) -> None:
    """Cancel a running job and add one whose devices end in an undefined error."""
    now = sim.fleet.now()
    running = next(j for j in sim.fleet.jobs[KIND].values() if j.name.startswith("November"))
    sim.fleet.cancel_job(running, now)
    ids = [d.device_id for d in devices_of(sim)[-8:]]
    sim.fleet.create_job(
        KIND,
        job_id="battery",
        name="battery",
        firmware=sim.fleet.firmware[KIND][0],
        device_ids=ids,
        created_at=now - timedelta(hours=1),
        rejected=dict.fromkeys(ids, Reason.LOW_BATTERY),
    )


async def test_history_fields_types_and_quirks(sim: Simulator, api):
    stir(sim)
    items = [i for d in devices_of(sim) for i in await history(api, d.imei)]
    assert items
    for item in items:
        assert item["type"] in ("READ", "WRITE", "EXECUTE")
        assert isinstance(item["remain"], str) and item["remain"].isdigit()
        assert isinstance(item["send_status"], int) and isinstance(item["trigger_msg"], int)
        for key in ("create_time", "valid_time", "expired_time"):
            assert TIME_RE.match(item[key])
        assert UUID_RE.match(item["cmd_uuid"].strip())
        if item["send_status"] == 1:
            assert "send_time" not in item and "confirm_time" not in item
    assert any(i["cmd_uuid"].endswith(" ") for i in items)  # seed: a trailing space
    confirms = {i.get("confirm_status") for i in items} - {None}
    assert "SUCCESS" in confirms and "0" in confirms  # names, and sometimes numbers as text
    assert {1, 2, 4, 5, 6} <= {i["send_status"] for i in items}
    assert {7, 8} & {i["send_status"] for i in items}  # "undefined", both numberings


async def test_history_requires_start_validates_and_pages(sim: Simulator, api):
    imei = max(devices_of(sim), key=lambda d: len(sim.fleet.jobs_of_device(KIND, d.imei))).imei
    assert await errno(await api.get("/nbiot/offline/history", params={"imei": imei})) == (
        3,
        "parameter required: start",
    )
    bad = await api.get("/nbiot/offline/history", params={"imei": imei, "start": "yesterday"})
    assert (await errno(bad))[0] == 5108
    big = await api.get(
        "/nbiot/offline/history", params={"imei": imei, "start": START, "per_page": 101}
    )
    assert (await errno(big))[0] == 5006
    unknown = await api.get("/nbiot/offline/history", params={"imei": "1" * 15, "start": START})
    assert await errno(unknown) == (1, "auth failed")
    everything = await history(api, imei)
    assert len(everything) >= 2
    desc = await ok(
        await api.get(
            "/nbiot/offline/history", params={"imei": imei, "start": START, "per_page": 1}
        )
    )
    assert desc["total_count"] == len(everything) and len(desc["items"]) == 1
    asc = await history(api, imei, sort="ASC")
    times = [i["create_time"] for i in asc]
    assert times == sorted(times) and desc["items"][0]["create_time"] == max(times)
    page2 = await ok(
        await api.get(
            "/nbiot/offline/history",
            params={"imei": imei, "start": START, "per_page": 1, "page": 2, "sort": "ASC"},
        )
    )
    assert page2["items"][0]["cmd_uuid"] == asc[1]["cmd_uuid"]
    late = bj_req(sim.fleet.now() + timedelta(days=1))
    none = await ok(await api.get("/nbiot/offline/history", params={"imei": imei, "start": late}))
    assert none == {"total_count": 0, "items": []}


EXEC_FAILURES = {  # Reason → (send_status, confirm_status) of the execute
    Reason.DEVICE_TIMEOUT: (5, "TIME_OUT"),
    Reason.CONNECTION_LOST: (5, "OFFLINE"),
    Reason.OUT_OF_STORAGE: (5, "NOT_ACCEPTABLE"),
    Reason.UPDATE_FAILED: (6, None),
}
NAMES = (
    "SUCCESS",
    "METHOD_NOT_ALLOWED",
    "FORBIDDEN",
    "NOT_FOUND",
    "INTERNAL_SERVER_ERROR",
    "TIME_OUT",
    "REQ_PARAM_ERROR",
    "RESP_ERROR",
    "UNAUTHORIZED",
    "BAD_REQUEST",
    "NOT_ACCEPTABLE",
    "UNSUPPORTED_CONTENT_FORMAT",
    "OFFLINE",
    "ADDR_OCCUPIED",
)


def name_of(value: str | None) -> str | None:
    return NAMES[int(value)] if value is not None and value.isdigit() else value


async def test_fota_jobs_show_as_write_and_execute_following_the_phase(sim: Simulator, api):
    stir(sim)
    now = sim.fleet.now()
    cache: dict[str, list[dict[str, Any]]] = {}
    checked: set[Phase] = set()
    for job in sim.fleet.jobs[KIND].values():
        for device_id, step in job.phases(now).items():
            if device_id not in cache:
                cache[device_id] = await history(api, device_id)
            mine = [i for i in cache[device_id] if i["create_time"] == bj(job.created_at)]
            by_type = {i["type"]: i for i in mine}
            assert set(by_type) == {"WRITE", "EXECUTE"}, mine
            write, execute = by_type["WRITE"], by_type["EXECUTE"]
            assert write["valid_time"] == bj(job.start_at)
            assert write["expired_time"] == bj(job.end_at)
            pair = (write["send_status"], execute["send_status"])
            phase = step.phase
            checked.add(phase)
            if phase in (Phase.PENDING, Phase.QUEUED):
                assert pair == (1, 1)
            elif phase is Phase.SENDING:
                assert pair == (3, 3) and "send_time" in write
            elif phase in (Phase.DOWNLOADING, Phase.INSTALLING, Phase.SUCCEEDED):
                assert pair == (5, 5)
                assert name_of(execute["confirm_status"]) == "SUCCESS"
            elif phase is Phase.EXPIRED:
                assert pair == (4, 4) and "send_time" not in write
            elif phase is Phase.CANCELLED:
                assert execute["send_status"] == 2 and write["send_status"] in (2, 5)
            elif step.reason in EXEC_FAILURES:
                assert name_of(write.get("confirm_status")) == "SUCCESS"
                status, confirm = EXEC_FAILURES[step.reason]
                assert execute["send_status"] == status
                assert name_of(execute.get("confirm_status")) == confirm
                assert execute["remain"] == "0"
            elif step.reason is Reason.LOW_BATTERY:
                assert execute["send_status"] in (7, 8)
            elif step.reason is Reason.DELIVERY_FAILED:
                assert pair == (6, 6)
            elif step.reason is Reason.DEVICE_REJECTED:
                assert name_of(write["confirm_status"]) == "METHOD_NOT_ALLOWED"
    assert {Phase.SUCCEEDED, Phase.FAILED, Phase.QUEUED, Phase.EXPIRED, Phase.CANCELLED} <= checked


# -- creating, reading, cancelling ----------------------------------------------------------------
async def test_cached_command_validation(sim: Simulator, api, clock):
    imei = devices_of(sim)[0].imei
    base = {"imei": imei, "obj_id": 5, "obj_inst_id": 0, "mode": 1}
    body = {"data": [{"res_id": 1, "val": URI}]}
    now = clock.now()

    async def code(params: dict[str, Any], **kwargs: Any) -> int:
        return (await errno(await api.post("/nbiot/offline", params=params, **kwargs)))[0]

    assert await code({**base}, json=body) == 3  # expired_time required
    assert await code({**base, **window(clock), "imei": ""}, json=body) == 3
    assert await code({**base, **window(clock), "imei": "1" * 15}, json=body) == 1
    past = {
        "valid_time": bj_req(now - timedelta(minutes=1)),
        "expired_time": bj_req(now + timedelta(days=1)),
    }
    assert await code({**base, **past}, json=body) == 5006
    backwards = {
        "valid_time": bj_req(now + timedelta(days=2)),
        "expired_time": bj_req(now + timedelta(days=1)),
    }
    assert await code({**base, **backwards}, json=body) == 5006
    assert await code({**base, "expired_time": "soon"}, json=body) == 5108
    for name, value in (
        ("retry", 11),
        ("timeout", 4),
        ("timeout", 41),
        ("trigger_msg", 8),
        ("mode", 3),
    ):
        assert await code({**base, **window(clock), name: value}, json=body) == 5006, name
    assert await code({**base, **window(clock), "retry": "x"}, json=body) == 5108
    no_mode = {k: v for k, v in base.items() if k != "mode"}
    assert await code({**no_mode, **window(clock)}, json=body) == 3
    assert await code({**base, **window(clock)}, json={"data": []}) == 3
    assert await code({**base, **window(clock)}, json={"data": [{"res_id": "1", "val": 1}]}) == 5108
    huge = {"data": [{"res_id": 1, "val": "x" * 2100}]}
    assert await code({**base, **window(clock)}, json=huge) == 5006
    execute = await api.post("/nbiot/execute/offline", params={**base, **window(clock)})
    assert (await errno(execute))[0] == 3  # res_id is required for execute
    assert len(sim.fleet.jobs[KIND]) == 8  # nothing was created


async def test_created_fota_pair_drives_the_fleet(sim: Simulator, api, clock):
    device = devices_of(sim, online=True)[0]
    jobs_before = len(sim.fleet.jobs[KIND])
    write, execute = await create_fota(api, clock, device.imei, valid_in=120)
    assert UUID_RE.match(write) and UUID_RE.match(execute) and write != execute
    assert len(sim.fleet.jobs[KIND]) == jobs_before + 1
    job = sim.fleet.jobs[KIND][write]
    assert job.firmware.url == URI and list(job.targets) == [device.imei]
    items = {i["cmd_uuid"].strip(): i for i in await history(api, device.imei)}
    assert items[write]["send_status"] == 1 and items[execute]["send_status"] == 1
    assert items[write]["type"] == "WRITE" and items[execute]["type"] == "EXECUTE"
    detail = await ok(
        await api.get(f"/nbiot/offline/history/{write}", params={"imei": device.imei})
    )
    assert detail["content"] == {"data": [{"res_id": 1, "val": URI}]}
    assert detail["args"]["obj_id"] == "5" and "cmd_result" not in detail
    assert detail["feedback_msg"] == [] and "send_time" not in detail
    clock.advance(3 * 3600)
    step = job.targets[device.imei].step_at(clock.now())
    items = {i["cmd_uuid"].strip(): i for i in await history(api, device.imei)}
    if step.phase is Phase.SUCCEEDED:
        assert items[write]["send_status"] == items[execute]["send_status"] == 5
        detail = await ok(
            await api.get(f"/nbiot/offline/history/{execute}", params={"imei": device.imei})
        )
        assert detail["cmd_result"] is not None and detail["feedback_msg"]
    else:
        assert step.phase in (Phase.FAILED, Phase.EXPIRED), step
    pieces = await ok(
        await api.get(f"/nbiot/offline/history/{write}/piecewise", params={"imei": device.imei})
    )
    assert pieces[0]["log"].startswith("received command")
    assert all(JAVA_RE.match(p["time"]) for p in pieces) and len(pieces) >= 2
    missing = await api.get("/nbiot/offline/history/nope", params={"imei": device.imei})
    assert (await errno(missing))[0] == 3


async def test_cancel_one_only_while_waiting(sim: Simulator, api, clock):
    device = devices_of(sim)[1]
    write, execute = await create_fota(api, clock, device.imei, valid_in=3600)
    response = await api.put(f"/nbiot/offline/cancel/{write}", params={"imei": device.imei})
    assert await ok(response) is None and response.json() == {"errno": 0, "error": "succ"}
    job = sim.fleet.jobs[KIND][write]
    assert job.targets[device.imei].step_at(clock.now()).phase is Phase.CANCELLED
    again = await api.put(f"/nbiot/offline/cancel/{write}", params={"imei": device.imei})
    assert (await errno(again))[0] == 5006
    items = {i["cmd_uuid"].strip(): i for i in await history(api, device.imei)}
    assert items[write]["send_status"] == 2 and items[execute]["send_status"] == 1
    await ok(await api.put(f"/nbiot/offline/cancel/{execute} ", params={"imei": device.imei}))
    assert job.cancelled_at is not None
    for other in devices_of(sim):
        done = [i for i in await history(api, other.imei) if i["send_status"] == 5]
        if done:
            late = await api.put(
                f"/nbiot/offline/cancel/{done[0]['cmd_uuid'].strip()}", params={"imei": other.imei}
            )
            assert (await errno(late))[0] == 5006
            break
    else:
        pytest.fail("no delivered command in the seeded fleet")
    unknown = await api.put("/nbiot/offline/cancel/10018", params={"imei": device.imei})
    assert (await errno(unknown))[0] == 3


async def test_cancel_all_reports_succ_failed_total(sim: Simulator, api, clock):
    device = devices_of(sim)[2]
    uuids = set()
    for _ in range(2):
        uuids |= set(await create_fota(api, clock, device.imei, valid_in=3600))
    data = await ok(await api.put("/nbiot/offline/cancel/all", params={"imei": device.imei}))
    assert uuids <= set(data["succ"]) and data["total"] == len(data["succ"]) + len(data["failed"])
    items = {i["cmd_uuid"].strip(): i for i in await history(api, device.imei)}
    assert all(items[u]["send_status"] == 2 for u in uuids)
    again = await ok(await api.put("/nbiot/offline/cancel/all", params={"imei": device.imei}))
    assert again["succ"] == []


async def test_object5_reads_follow_the_upgrade(sim: Simulator, api, clock):
    device = devices_of(sim, online=True)[3]
    write, _ = await create_fota(api, clock, device.imei, valid_in=None)
    target = sim.fleet.jobs[KIND][write].targets[device.imei]
    seen = {}
    for step in target.steps:
        clock.set(step.at + timedelta(seconds=1))
        data = await ok(
            await api.get("/nbiot", params={"imei": device.imei, "obj_id": 5, "obj_inst_id": 0})
        )
        values = {r["res_id"]: r["val"] for r in data[0]["res"]}
        seen[step.phase] = (values[3], values[5])
        if step.phase in (Phase.DOWNLOADING, Phase.INSTALLING, Phase.SUCCEEDED):
            assert values[1] == URI
    if Phase.DOWNLOADING in seen:
        assert seen[Phase.DOWNLOADING] == (1, 0)
    if Phase.INSTALLING in seen:
        assert seen[Phase.INSTALLING] == (3, 0)
    final = target.steps[-1]
    if final.phase is Phase.SUCCEEDED:
        assert seen[Phase.SUCCEEDED] == (0, 1)
    elif final.phase is Phase.FAILED and Phase.DOWNLOADING in seen:
        assert seen[Phase.FAILED][1] in range(2, 10)
    one = await ok(
        await api.get(
            "/nbiot", params={"imei": device.imei, "obj_id": 3, "obj_inst_id": 0, "res_id": 3}
        )
    )
    assert one == [{"obj_inst_id": 0, "res": [{"res_id": 3, "val": sim.fleet.firmware_of(device)}]}]
    nothing = await api.get(
        "/nbiot", params={"imei": device.imei, "obj_id": 3303, "obj_inst_id": 0}
    )
    assert (await errno(nothing))[0] == 5106
    orphan = await api.get("/nbiot", params={"imei": device.imei, "obj_id": 5, "res_id": 3})
    assert (await errno(orphan))[0] == 5108


async def test_instant_read_of_an_offline_device_is_2001(sim: Simulator, api):
    now = sim.fleet.now()
    dialect = sim.dialects[KIND]
    offline = next(d for d in devices_of(sim, online=False) if not dialect.book.online(d, now))  # type: ignore[attr-defined]
    response = await api.get("/nbiot", params={"imei": offline.imei, "obj_id": 5, "obj_inst_id": 0})
    assert await errno(response) == (2001, "device not online")


async def test_cached_read_and_plain_execute(sim: Simulator, api, clock):
    device = devices_of(sim, online=True)[4]
    params = {
        "imei": device.imei,
        "obj_id": 3,
        "obj_inst_id": 0,
        "res_id": 3,
        **window(clock, None),
    }
    uuid = (await ok(await api.get("/nbiot/offline", params=params)))["uuid"]
    plain = {
        "imei": device.imei,
        "obj_id": 3200,
        "obj_inst_id": 0,
        "res_id": 5750,
        **window(clock, None),
    }
    other = (
        await ok(await api.post("/nbiot/execute/offline", params=plain, json={"args": "ping"}))
    )["uuid"]
    clock.advance(60)
    items = {i["cmd_uuid"].strip(): i for i in await history(api, device.imei)}
    assert items[uuid]["type"] == "READ" and items[uuid]["send_status"] == 5
    assert (
        items[other]["type"] == "EXECUTE" and name_of(items[other]["confirm_status"]) == "SUCCESS"
    )
    detail = await ok(await api.get(f"/nbiot/offline/history/{uuid}", params={"imei": device.imei}))
    assert detail["cmd_result"][0]["res"][0] == {"res_id": 3, "val": sim.fleet.firmware_of(device)}


# -- loopback --------------------------------------------------------------------------------------
@pytest.mark.loopback
def test_loopback_serves_devices_history_and_create(sim: Simulator, clock):
    with (
        sim.serve() as server,
        httpx.Client(base_url=server.base_urls()[KIND], headers={"api-key": KEY}) as client,
    ):
        data = client.get("/devices", params={"per_page": 5}).json()["data"]
        imei = next(iter(data["devices"][0]["auth_info"]))
        params = {"imei": imei, "obj_id": 5, "obj_inst_id": 0, "mode": 1, **window(clock)}
        body = json.dumps({"data": [{"res_id": 1, "val": URI}]})
        created = client.post("/nbiot/offline", params=params, content=body).json()
        assert created["errno"] == 0
        uuid = created["data"]["uuid"]
        items = client.get(
            "/nbiot/offline/history", params={"imei": imei, "start": START, "per_page": 100}
        ).json()["data"]["items"]
        assert uuid in [i["cmd_uuid"].strip() for i in items]
        assert httpx.get(f"{server.base_urls()[KIND]}/devices").json()["errno"] == 1

"""The OceanConnect dialect over raw HTTP: auth, throttling, paging, validation codes."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fota_tui.models import ProviderKind
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.oceanconnect.common import ERRORS
from fota_tui.sim.dialects.oceanconnect.dialect import OceanConnectDialect
from fota_tui.sim.server import Simulator

K = ProviderKind.OCEANCONNECT
APP = OceanConnectDialect.credentials["app_id"]
SECRET = OceanConnectDialect.credentials["secret"]
LOGIN = "/iocm/app/sec/v1.1.0/login"
REFRESH = "/iocm/app/sec/v1.1.0/refreshToken"
DEVICES = "/iocm/app/dm/v1.4.0/devices"
IODM = "/iodm/northbound/v1.5.0"
TIME = re.compile(r"^\d{8}T\d{6}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HEX24 = re.compile(r"^[0-9a-f]{24}$")


def luhn_ok(value: str) -> bool:
    digits = [int(c) for c in value]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
        for i, d in enumerate(reversed(digits))
    )
    return total % 10 == 0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator.build(kinds=[K], devices=240, clock=clock, seed=11)


@pytest.fixture
def dialect(sim: Simulator) -> OceanConnectDialect:
    found = sim.dialects[K]
    assert isinstance(found, OceanConnectDialect)
    return found


@pytest.fixture
async def http(sim: Simulator):
    async with httpx.AsyncClient(transport=sim.transport(), base_url=sim.base_urls()[K]) as c:
        yield c


async def login(http: httpx.AsyncClient, **form: str) -> dict[str, Any]:
    response = await http.post(LOGIN, data=form or {"appId": APP, "secret": SECRET})
    assert response.status_code == 200, response.text
    return response.json()


async def headers(http: httpx.AsyncClient) -> dict[str, str]:
    token = (await login(http))["accessToken"]
    return {"app_key": APP, "Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, code: str) -> None:
    status, desc = ERRORS[code]
    assert response.status_code == status, response.text
    assert response.json() == {"error_code": code, "error_desc": desc}


def device_of(dialect: OceanConnectDialect, model: str, n: int = 0) -> str:
    return [d for d in dialect.fleet.devices[K].values() if d.model == model][n].device_id


def package_of(dialect: OceanConnectDialect, model: str, file_type: str) -> str:
    return next(
        f.firmware_id
        for f in dialect.fleet.firmware[K]
        if f.model == model and f.file_type == file_type
    )


# -- auth ---------------------------------------------------------------------------
async def test_login_is_form_encoded_and_expires_in_alternates_int_and_string(http):
    first = await login(http)
    assert set(first) == {"scope", "tokenType", "expiresIn", "accessToken", "refreshToken"}
    assert (first["scope"], first["tokenType"], first["expiresIn"]) == ("default", "bearer", 3600)
    second = await login(http, appId=APP, Secret=SECRET)  # "Secret" capitalised (Go sample)
    assert second["expiresIn"] == "3600"
    tokens = {first["accessToken"], first["refreshToken"], second["accessToken"]}
    assert len(tokens) == 3 and not tokens & {APP, SECRET}
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in tokens)


async def test_login_rejections_use_the_documented_codes(http):
    assert_error(await http.post(LOGIN, data={"appId": APP, "secret": "wrong"}), "100208")
    assert_error(await http.post(LOGIN, data={"appId": APP}), "102202")
    # A JSON body is not a form: the parameters are missing.
    assert_error(await http.post(LOGIN, json={"appId": APP, "secret": SECRET}), "102202")


async def test_only_the_newest_access_token_is_valid(http):
    old = (await login(http))["accessToken"]
    new = (await login(http))["accessToken"]
    query = {"pageNo": 0}
    stale = await http.get(
        DEVICES, params=query, headers={"app_key": APP, "Authorization": f"Bearer {old}"}
    )
    assert_error(stale, "1010005")
    fresh = await http.get(
        DEVICES, params=query, headers={"app_key": APP, "Authorization": f"Bearer {new}"}
    )
    assert fresh.status_code == 200


async def test_refresh_token_issues_a_new_token_and_retires_the_old(http, dialect):
    grant = await login(http)
    body = {"appId": APP, "secret": SECRET, "refreshToken": grant["refreshToken"]}
    refreshed = (await http.post(REFRESH, json=body)).json()
    assert refreshed["accessToken"] != grant["accessToken"]
    assert set(refreshed) == set(grant)
    # The used refresh token was replaced, so it cannot be used twice.
    assert_error(await http.post(REFRESH, json=body), "100006")
    assert_error(await http.post(REFRESH, json={**body, "secret": "nope"}), "100208")
    assert_error(await http.post(REFRESH, json={"appId": APP}), "102202")
    dialect.expire_tokens()
    body["refreshToken"] = refreshed["refreshToken"]
    assert_error(await http.post(REFRESH, json=body), "100006")


async def test_every_call_needs_app_key_and_a_bearer_token(http):
    token = (await login(http))["accessToken"]
    assert_error(
        await http.get(DEVICES, params={"pageNo": 0}, headers={"Authorization": f"Bearer {token}"}),
        "100220",
    )
    assert_error(await http.get(DEVICES, params={"pageNo": 0}, headers={"app_key": APP}), "1010005")
    # The Go sample's access_token header is accepted as well.
    alt = await http.get(
        DEVICES, params={"pageNo": 0}, headers={"app_key": APP, "access_token": token}
    )
    assert alt.status_code == 200


async def test_tokens_expire_on_the_fleet_clock_and_refresh_still_works(http, clock):
    grant = await login(http)
    auth = {"app_key": APP, "Authorization": f"Bearer {grant['accessToken']}"}
    clock.advance(3599)
    assert (await http.get(DEVICES, params={"pageNo": 0}, headers=auth)).status_code == 200
    clock.advance(2)
    assert_error(await http.get(DEVICES, params={"pageNo": 0}, headers=auth), "1010005")
    body = {"appId": APP, "secret": SECRET, "refreshToken": grant["refreshToken"]}
    assert (await http.post(REFRESH, json=body)).status_code == 200


async def test_throttle_is_100_calls_per_60s_per_app_and_sends_no_retry_after(http, dialect, clock):
    dialect.apps["second-app"] = "second-secret"
    auth = await headers(http)
    for _ in range(100):
        assert (await http.get(f"{IODM}/category", headers=auth)).status_code == 200
    throttled = await http.get(f"{IODM}/category", headers=auth)
    assert_error(throttled, "1010009")
    assert "retry-after" not in throttled.headers
    other = (await login(http, appId="second-app", secret="second-secret"))["accessToken"]
    other_auth = {"app_key": "second-app", "Authorization": f"Bearer {other}"}
    assert (await http.get(f"{IODM}/category", headers=other_auth)).status_code == 200
    clock.advance(60)
    assert (await http.get(f"{IODM}/category", headers=auth)).status_code == 200


# -- devices ------------------------------------------------------------------------
async def test_device_list_pages_cover_the_fleet_with_documented_fields(http, dialect):
    auth = await headers(http)
    first = (await http.get(DEVICES, params={"pageNo": 0}, headers=auth)).json()
    assert set(first) == {"devices", "pageNo", "pageSize", "totalCount"}
    assert (first["pageNo"], first["pageSize"], first["totalCount"]) == (0, 25, 240)
    seen = []
    for page in range(3):
        body = (
            await http.get(DEVICES, params={"pageNo": page, "pageSize": 100}, headers=auth)
        ).json()
        seen += [d["deviceId"] for d in body["devices"]]
    assert sorted(seen) == sorted(dialect.fleet.devices[K])
    record = first["devices"][0]
    info = record["deviceInfo"]
    assert UUID.match(record["deviceId"]) and record["gatewayId"] == record["deviceId"]
    assert TIME.match(record["creationTime"]) and TIME.match(record["lastModifiedTime"])
    assert len(info["nodeId"]) == 15 and luhn_ok(info["nodeId"])
    assert info["status"] in {"ONLINE", "OFFLINE", "INACTIVE", "ABNORMAL"}
    assert {"manufacturerName", "deviceType", "model", "swVersion", "fwVersion"} <= set(info)
    device = dialect.fleet.devices[K][record["deviceId"]]
    assert (info["manufacturerName"], info["model"]) == (device.make, device.model)


async def test_device_list_paging_limits_and_filters(http, dialect):
    auth = await headers(http)
    assert_error(
        await http.get(DEVICES, params={"pageNo": 0, "pageSize": 251}, headers=auth), "123029"
    )
    assert_error(await http.get(DEVICES, params={"pageNo": -1}, headers=auth), "123029")
    assert_error(await http.get(DEVICES, headers=auth), "100022")  # no gatewayId, no pageNo
    some = next(iter(dialect.fleet.devices[K]))
    by_gateway = (await http.get(DEVICES, params={"gatewayId": some}, headers=auth)).json()
    assert [d["deviceId"] for d in by_gateway["devices"]] == [some]
    online = (
        await http.get(
            DEVICES, params={"pageNo": 0, "pageSize": 250, "status": "ONLINE"}, headers=auth
        )
    ).json()
    expected = sum(d.extra["status"] == "ONLINE" for d in dialect.fleet.devices[K].values())
    assert online["totalCount"] == expected > 0
    assert {d["deviceInfo"]["status"] for d in online["devices"]} == {"ONLINE"}


async def test_single_device_and_unknown_device(http, dialect):
    auth = await headers(http)
    some = next(iter(dialect.fleet.devices[K]))
    body = (await http.get(f"/iocm/app/dm/v1.1.0/devices/{some}", headers=auth)).json()
    assert body["deviceId"] == some and body["deviceInfo"]["fwVersion"]
    assert_error(await http.get("/iocm/app/dm/v1.1.0/devices/nope", headers=auth), "100403")


# -- packages -----------------------------------------------------------------------
async def test_package_list_get_delete(http, dialect):
    auth = await headers(http)
    listing = (await http.get(f"{IODM}/category", params={"pageSize": 100}, headers=auth)).json()
    assert listing["totalCount"] == len(dialect.fleet.firmware[K]) == len(listing["data"])
    package = listing["data"][0]
    assert set(package) >= {
        "fileId",
        "name",
        "version",
        "fileType",
        "deviceType",
        "model",
        "manufacturerName",
        "protocolType",
        "description",
        "date",
        "uploadTime",
    }
    assert HEX24.match(package["fileId"]) and TIME.match(package["uploadTime"])
    assert {p["fileType"] for p in listing["data"]} == {"firmwarePackage", "softwarePackage"}
    assert re.fullmatch(r"V\d{3}R\d{3}C\d{2}B\d{3}", package["version"])
    soft = (
        await http.get(f"{IODM}/category", params={"fileType": "softwarePackage"}, headers=auth)
    ).json()
    assert soft["totalCount"] == 3 and {p["fileType"] for p in soft["data"]} == {"softwarePackage"}
    # The English URL template spells manufactureName: both spellings filter.
    for param in ("manufacturerName", "manufactureName"):
        quectel = (
            await http.get(f"{IODM}/category", params={param: "Quectel"}, headers=auth)
        ).json()
        assert quectel["totalCount"] == 6
    assert_error(
        await http.get(f"{IODM}/category", params={"pageSize": 101}, headers=auth), "123029"
    )
    one = await http.get(f"{IODM}/category/{package['fileId']}", headers=auth)
    assert one.json() == package
    assert_error(await http.get(f"{IODM}/category/not-hex", headers=auth), "120015")
    deleted = await http.delete(f"{IODM}/category/{package['fileId']}", headers=auth)
    assert deleted.status_code == 200 and deleted.content == b""
    assert_error(await http.get(f"{IODM}/category/{package['fileId']}", headers=auth), "123002")


# -- tasks --------------------------------------------------------------------------
async def test_create_software_task_then_read_it_back(http, dialect):
    auth = await headers(http)
    device = device_of(dialect, "BC95-B8")
    file_id = package_of(dialect, "BC95-B8", "softwarePackage")
    created = await http.post(
        f"{IODM}/operations/softwareUpgrade",
        json={"fileId": file_id, "targets": {"devices": [device]}},
        headers=auth,
    )
    assert created.status_code == 200
    op = created.json()["operationId"]
    assert HEX24.match(op) and op in dialect.fleet.jobs[K]
    task = (await http.get(f"{IODM}/operations/{op}", headers=auth)).json()
    assert task["operateType"] == "software_upgrade" and task["status"] == "WAIT"
    assert task["staResult"] == {
        "total": 1,
        "wait": 1,
        "processing": 0,
        "success": 0,
        "fail": 0,
        "stop": 0,
        "timeout": 0,
    }
    assert task["targets"]["devices"] == [device] and task["policy"]["executeType"] == "now"
    assert task["stopTime"] is None and TIME.match(task["createTime"])
    listed = (
        await http.get(f"{IODM}/operations", params={"deviceId": device}, headers=auth)
    ).json()
    assert op in [t["operationId"] for t in listed["data"]]


async def test_create_by_device_groups_targets_the_group_members(http, dialect):
    auth = await headers(http)
    group = dialect.groups["WaterMeter-Shenzhen"]
    body = {
        "fileId": package_of(dialect, "Boudica150", "firmwarePackage"),
        "targets": {
            "deviceGroups": [group.name],
            "manufacturerName": "Huawei",
            "deviceType": "WaterMeter",
            "model": "Boudica150",
        },
        "policy": {"executeType": "device_online", "retryType": True, "retryTimes": 3},
    }
    created = await http.post(f"{IODM}/operations/firmwareUpgrade", json=body, headers=auth)
    job = dialect.fleet.jobs[K][created.json()["operationId"]]
    assert sorted(job.targets) == sorted(group.device_ids)
    assert job.meta["targets"]["deviceGroups"] == [group.name]
    assert job.meta["policy"]["retryTimes"] == 3


def _body(dialect: OceanConnectDialect, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "fileId": package_of(dialect, "Boudica150", "softwarePackage"),
        "targets": {"devices": [device_of(dialect, "Boudica150")]},
    }
    body.update(changes)
    return body


def _custom(start: timedelta, end: timedelta, now) -> dict[str, Any]:
    fmt = "%Y%m%dT%H%M%SZ"
    return {
        "executeType": "custom",
        "startTime": (now + start).strftime(fmt),
        "endTime": (now + end).strftime(fmt),
    }


GROUP = {
    "deviceGroups": ["WaterMeter-Pilot"],
    "manufacturerName": "Huawei",
    "deviceType": "WaterMeter",
    "model": "Boudica150",
}


@pytest.mark.parametrize(
    ("code", "make"),
    [
        ("120015", lambda d, now: {"targets": {"devices": ["x"]}}),
        ("120015", lambda d, now: _body(d, fileId="not-a-file-id")),
        ("120015", lambda d, now: _body(d, targets="everything")),
        ("120015", lambda d, now: [1, 2]),
        ("123022", lambda d, now: _body(d, targets={})),
        ("123022", lambda d, now: _body(d, targets={"devices": [], "deviceGroups": []})),
        ("123023", lambda d, now: _body(d, targets={**GROUP, "devices": ["a"]})),
        ("123024", lambda d, now: _body(d, targets={"devices": [f"d{i}" for i in range(257)]})),
        (
            "123024",
            lambda d, now: _body(
                d, targets={**GROUP, "deviceGroups": [f"g{i}" for i in range(257)]}
            ),
        ),
        ("123019", lambda d, now: _body(d, targets={**GROUP, "manufacturerName": None})),
        ("123020", lambda d, now: _body(d, targets={**GROUP, "deviceType": ""})),
        (
            "123021",
            lambda d, now: _body(d, targets={k: v for k, v in GROUP.items() if k != "model"}),
        ),
        ("123025", lambda d, now: _body(d, policy={"retryType": False})),
        ("123025", lambda d, now: _body(d, policy={"executeType": "later"})),
        ("123026", lambda d, now: _body(d, policy={"executeType": "custom"})),
        (
            "123026",
            lambda d, now: _body(
                d,
                policy={
                    **_custom(timedelta(hours=1), timedelta(hours=2), now),
                    "startTime": "2026-11-22 09:00:00",
                },
            ),
        ),
        ("123028", lambda d, now: _body(d, policy={"executeType": "now", "retryType": True})),
        (
            "123028",
            lambda d, now: _body(
                d, policy={"executeType": "now", "retryType": True, "retryTimes": 6}
            ),
        ),
        ("123028", lambda d, now: _body(d, policy={"executeType": "now", "retryTimes": 0})),
        (
            "123032",
            lambda d, now: _body(d, policy=_custom(timedelta(hours=2), timedelta(hours=1), now)),
        ),
        (
            "123033",
            lambda d, now: _body(d, policy=_custom(timedelta(hours=-1), timedelta(hours=1), now)),
        ),
        (
            "123034",
            lambda d, now: _body(
                d, policy=_custom(timedelta(hours=1), timedelta(hours=1, minutes=5), now)
            ),
        ),
        ("123002", lambda d, now: _body(d, fileId="0" * 24)),
        ("123002", lambda d, now: _body(d, targets={"devices": ["no-such-device"]})),
        (
            "123002",
            lambda d, now: _body(
                d,
                targets={**GROUP, "deviceGroups": ["no-such-group"]},
                fileId=package_of(d, "Boudica150", "softwarePackage"),
            ),
        ),
        ("123016", lambda d, now: _body(d, targets={"devices": [device_of(d, "BC28")]})),
        ("123016", lambda d, now: _body(d, targets={**GROUP, "model": "BC28"})),
    ],
)
async def test_create_task_validation_codes_match_the_seed_page(http, dialect, clock, code, make):
    auth = await headers(http)
    before = len(dialect.fleet.jobs[K])
    response = await http.post(
        f"{IODM}/operations/softwareUpgrade", json=make(dialect, clock.now()), headers=auth
    )
    assert_error(response, code)
    assert len(dialect.fleet.jobs[K]) == before


async def test_a_firmware_package_is_not_found_by_the_software_endpoint(http, dialect):
    auth = await headers(http)
    body = _body(dialect, fileId=package_of(dialect, "Boudica150", "firmwarePackage"))
    assert_error(
        await http.post(f"{IODM}/operations/softwareUpgrade", json=body, headers=auth), "123002"
    )
    assert (
        await http.post(f"{IODM}/operations/firmwareUpgrade", json=body, headers=auth)
    ).status_code == 200


async def test_malformed_create_body_is_a_bad_request(http):
    auth = await headers(http)
    response = await http.post(f"{IODM}/operations/firmwareUpgrade", content=b"{nope", headers=auth)
    assert_error(response, "120015")


async def test_custom_task_waits_for_its_start_then_moves_on_the_clock(http, dialect, clock):
    auth = await headers(http)
    policy = _custom(timedelta(minutes=30), timedelta(days=2), clock.now())
    devices = [device_of(dialect, "Boudica150", n) for n in range(6)]
    body = _body(
        dialect,
        targets={"devices": devices},
        policy=policy,
        fileId=package_of(dialect, "Boudica150", "firmwarePackage"),
    )
    op = (await http.post(f"{IODM}/operations/firmwareUpgrade", json=body, headers=auth)).json()[
        "operationId"
    ]
    waiting = (await http.get(f"{IODM}/operations/{op}", headers=auth)).json()
    assert waiting["status"] == "WAIT" and waiting["startTime"] is None
    assert waiting["policy"]["startTime"] == policy["startTime"]
    clock.advance(2 * 86400 + 60)
    auth = await headers(http)  # the old token expired meanwhile
    done = (await http.get(f"{IODM}/operations/{op}", headers=auth)).json()
    assert done["status"] in {"SUCCESS", "FAIL", "TIMEOUT"} and TIME.match(done["stopTime"])
    assert done["startTime"] == policy["startTime"]
    sta = done["staResult"]
    assert sta["total"] == 6 == sum(v for k, v in sta.items() if k != "total")


async def test_task_detail_and_sub_operations_use_platform_words(http, dialect, clock):
    auth = await headers(http)
    assert_error(await http.get(f"{IODM}/operations/{'f' * 24}", headers=auth), "123009")
    clock.advance(1800)  # let the running tasks move into processing states
    tasks = (await http.get(f"{IODM}/operations", params={"pageSize": 100}, headers=auth)).json()
    assert tasks["totalCount"] == len(dialect.fleet.jobs[K]) == len(tasks["data"])
    task_words = {t["status"] for t in tasks["data"]}
    assert task_words <= {"WAIT", "PROCESSING", "SUCCESS", "FAIL", "STOP", "TIMEOUT"}
    assert {"WAIT", "PROCESSING", "SUCCESS", "STOP"} <= task_words
    sub_words: set[str] = set()
    for task in tasks["data"]:
        assert task["operateType"] in {"firmware_upgrade", "software_upgrade"}
        assert (
            sum(v for k, v in task["staResult"].items() if k != "total")
            == task["staResult"]["total"]
        )
        subs = (
            await http.get(
                f"{IODM}/operations/{task['operationId']}/subOperations",
                params={"pageSize": 100},
                headers=auth,
            )
        ).json()
        assert subs["totalCount"] == task["staResult"]["total"]
        for sub in subs["data"]:
            sub_words.add(sub["status"])
            assert sub["status"] == sub["status"].lower()
            assert sub["startTime"] is None or TIME.match(sub["startTime"])
            if sub["status"] in {"fail", "timeout"}:
                assert sub["detailInfo"] and TIME.match(sub["stopTime"])
            if sub["status"] in {"wait", "processing"}:
                assert sub["stopTime"] is None
            if sub["status"] == "processing" and sub["extendInfo"]:
                assert set(sub["extendInfo"]) & {"swUpgradeState", "stepDesc"}
    assert {"wait", "processing", "success", "fail", "stop", "timeout"} <= sub_words


async def test_sub_operation_paging_and_case_insensitive_filters(http, dialect):
    auth = await headers(http)
    job = max(dialect.fleet.jobs[K].values(), key=lambda j: len(j.targets))
    url = f"{IODM}/operations/{job.job_id}/subOperations"
    first = (await http.get(url, headers=auth)).json()
    assert (first["pageNo"], first["pageSize"], len(first["data"])) == (0, 10, 10)
    ids = []
    for page in range(0, first["totalCount"] // 7 + 1):
        ids += [
            s["deviceId"]
            for s in (
                await http.get(url, params={"pageNo": page, "pageSize": 7}, headers=auth)
            ).json()["data"]
        ]
    assert sorted(ids) == sorted(job.targets)
    failed = (
        await http.get(url, params={"subOperationStatus": "FAIL", "pageSize": 100}, headers=auth)
    ).json()
    assert failed["totalCount"] > 0 and {s["status"] for s in failed["data"]} == {"fail"}
    assert_error(
        await http.get(url, params={"subOperationStatus": "paused"}, headers=auth), "120015"
    )
    assert_error(await http.get(url, params={"pageSize": 0}, headers=auth), "123029")
    tasks = (
        await http.get(
            f"{IODM}/operations",
            params={"operationStatus": "failed", "pageSize": 100},
            headers=auth,
        )
    ).json()
    assert all(t["status"] == "FAIL" for t in tasks["data"])
    software = (
        await http.get(
            f"{IODM}/operations", params={"operationType": "software_upgrade"}, headers=auth
        )
    ).json()
    assert software["totalCount"] > 0 and {t["operateType"] for t in software["data"]} == {
        "software_upgrade"
    }


async def test_unknown_routes_answer_in_the_error_envelope(http):
    auth = await headers(http)
    response = await http.get(f"{IODM}/nothing", headers=auth)
    assert response.status_code == 404 and set(response.json()) == {"error_code", "error_desc"}


# -- seeding ------------------------------------------------------------------------
def test_seed_is_realistic_and_fast():
    started = time.perf_counter()
    sim = Simulator.build(kinds=[K], devices=30_000, clock=ManualClock(), seed=3)
    elapsed = time.perf_counter() - started
    assert elapsed < 4.0
    devices = list(sim.fleet.devices[K].values())
    assert len(devices) == 30_000
    assert {(d.make, d.model, d.device_type) for d in devices} == {
        ("Huawei", "Boudica150", "WaterMeter"),
        ("Quectel", "BC95-B8", "SmokeDetector"),
        ("Quectel", "BC28", "GasMeter"),
    }
    assert all(UUID.match(d.device_id) for d in devices[:500])
    assert (
        any(not d.name.isascii() for d in devices)
        and sum(d.name.isascii() for d in devices) > 29_000
    )
    dialect = sim.dialects[K]
    assert isinstance(dialect, OceanConnectDialect)
    big = [j for j in sim.fleet.jobs[K].values() if len(j.targets) > 256]
    assert big and all(j.meta["targets"]["deviceGroups"] for j in big)
    assert all(len(j.meta["targets"]["devices"] or []) <= 256 for j in sim.fleet.jobs[K].values())


@pytest.mark.loopback
def test_loopback_login_devices_and_create(sim, dialect):
    with sim.serve() as server, httpx.Client(base_url=server.base_urls()[K]) as client:
        token = client.post(LOGIN, data={"appId": APP, "secret": SECRET}).json()["accessToken"]
        auth = {"app_key": APP, "Authorization": f"Bearer {token}"}
        page = client.get(DEVICES, params={"pageNo": 0, "pageSize": 5}, headers=auth).json()
        assert len(page["devices"]) == 5
        body = _body(dialect)
        created = client.post(f"{IODM}/operations/softwareUpgrade", json=body, headers=auth)
        assert created.json()["operationId"] in dialect.fleet.jobs[K]
        assert (
            client.get(DEVICES, params={"pageNo": 0}, headers={"app_key": APP}).json()["error_code"]
            == "1010005"
        )

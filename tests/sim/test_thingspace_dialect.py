"""The ThingSpace dialect over raw HTTP: auth, every v1/v3 endpoint, paging and quirks."""

from __future__ import annotations

import base64
import json
import random
import re
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fota_tui.models import ProviderKind
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.thingspace.common import valid_imei
from fota_tui.sim.dialects.thingspace.dialect import ThingSpaceDialect
from fota_tui.sim.server import Simulator

KIND = ProviderKind.THINGSPACE
CREDS = ThingSpaceDialect.credentials
ACC = CREDS["account"]
V1, V3 = "/fota/v1", "/fota/v3"
GO_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})? \+0000 UTC$")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
RFC822ISH = re.compile(r"\d\d [A-Z][a-z]{2} \d\d \d\d:\d\d UTC")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Simulator:
    return Simulator.build(kinds=[KIND], clock=clock, devices=240)


@pytest.fixture
def dialect(sim: Simulator) -> ThingSpaceDialect:
    d = sim.dialects[KIND]
    assert isinstance(d, ThingSpaceDialect)
    return d


@pytest.fixture
async def http(sim: Simulator) -> Any:
    base = sim.base_urls()[KIND] + "/api"
    async with httpx.AsyncClient(transport=sim.transport(), base_url=base) as client:
        yield client


def basic(key: str = CREDS["app_key"], secret: str = CREDS["app_secret"]) -> dict[str, str]:
    pair = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


async def token(http: httpx.AsyncClient) -> str:
    r = await http.post("/ts/v1/oauth2/token", data={"grant_type": "client_credentials"},
                        headers=basic())  # fmt: skip
    assert r.status_code == 200
    value: str = r.json()["access_token"]
    return value


async def login(
    http: httpx.AsyncClient, bearer: str, password: str | None = None
) -> httpx.Response:
    body = {"username": CREDS["username"], "password": password or CREDS["password"]}
    return await http.post("/m2m/v1/session/login", json=body,
                           headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip


async def headers(http: httpx.AsyncClient) -> dict[str, str]:
    bearer = await token(http)
    session = (await login(http, bearer)).json()["sessionToken"]
    return {"Authorization": f"Bearer {bearer}", "VZ-M2M-Token": session}


def error_of(r: httpx.Response) -> tuple[int, str]:
    body = r.json()
    assert set(body) == {"errorCode", "errorMessage"} and isinstance(body["errorMessage"], str)
    return r.status_code, body["errorCode"]


def gm01q(dialect: ThingSpaceDialect, n: int, *, free: bool = True) -> list[str]:
    """GM01Q devices with a licence, FOTA-eligible and (optionally) in no active job."""
    fleet = dialect.fleet
    out = []
    for d in fleet.devices[KIND].values():
        if d.model != "GM01Q" or not d.extra["license"] or not d.extra["fota_eligible"]:
            continue
        if free and fleet.active_job_of(d) is not None:
            continue
        out.append(d.device_id)
    return out[:n]


def gm01q_firmware(dialect: ThingSpaceDialect) -> Any:
    return next(f for f in dialect.fleet.firmware[KIND] if f.model == "GM01Q")


def v3_body(dialect: ThingSpaceDialect, devices: list[str], **over: Any) -> dict[str, Any]:
    fw, today = gm01q_firmware(dialect), dialect.fleet.now().date()
    body = {
        "campaignName": "Field test",
        "firmwareName": fw.name,
        "firmwareFrom": fw.from_version,
        "firmwareTo": fw.version,
        "protocol": "LWM2M",
        "startDate": str(today + timedelta(days=1)),
        "endDate": str(today + timedelta(days=5)),
        "campaignTimeWindowList": [{"startTime": 2, "endTime": 8}],
        "deviceList": devices,
        "autoAssignLicenseFlag": False,
        "autoAddDevicesFlag": True,
    }
    return body | over


# -- auth ------------------------------------------------------------------------------
async def test_oauth_token_is_the_same_within_the_hour_and_new_after(http, clock):
    r1 = await http.post("/ts/v1/oauth2/token", data={"grant_type": "client_credentials"},
                         headers=basic())  # fmt: skip
    clock.advance(600)
    r2 = await http.post("/ts/v1/oauth2/token", data={"grant_type": "client_credentials"},
                         headers=basic())  # fmt: skip
    a, b = r1.json(), r2.json()
    assert a["access_token"] == b["access_token"] and a["token_type"] == "Bearer"
    assert a["expires_in"] == 3600 and b["expires_in"] == 3000
    assert a["access_token"] not in CREDS.values() and UUID.match(a["access_token"])
    clock.advance(3001)
    assert await token(http) != a["access_token"]


@pytest.mark.parametrize(
    ("auth", "form", "status", "error"),
    [
        (basic(secret="wrong"), {"grant_type": "client_credentials"}, 401, "invalid_client"),
        ({}, {"grant_type": "client_credentials"}, 401, "invalid_client"),
        ({"Authorization": "Basic !!!"}, {"grant_type": "client_credentials"}, 401,
         "invalid_client"),
        (basic(), {}, 400, "invalid_request"),
        (basic(), {"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)  # fmt: skip
async def test_oauth_errors_use_the_oauth2_form(http, auth, form, status, error):
    r = await http.post("/ts/v1/oauth2/token", data=form, headers=auth)
    assert r.status_code == status and r.json()["error"] == error
    assert "error_description" in r.json()


async def test_login_gives_a_session_and_five_failures_lock_the_user(http, dialect):
    bearer = await token(http)
    ok = await login(http, bearer)
    assert ok.status_code == 200 and UUID.match(ok.json()["sessionToken"])
    assert error_of(await login(http, "bogus")) == (401, "UnAuthorized")
    for _ in range(5):
        assert error_of(await login(http, bearer, "nope")) == (400, "InvalidCredentials")
    assert error_of(await login(http, bearer)) == (400, "UserLocked")  # right password, locked
    assert CREDS["username"] in dialect.tokens.locked


async def test_a_good_login_resets_the_failure_count(http, dialect):
    bearer = await token(http)
    for _ in range(4):
        await login(http, bearer, "nope")
    assert (await login(http, bearer)).status_code == 200
    assert dialect.tokens.failed[CREDS["username"]] == 0


async def test_every_fota_call_needs_both_tokens_and_the_session_slides(http, clock):
    h = await headers(http)
    url = f"{V1}/firmware/{ACC}"
    assert (await http.get(url, headers=h)).status_code == 200
    no_bearer = {"VZ-M2M-Token": h["VZ-M2M-Token"]}
    assert error_of(await http.get(url, headers=no_bearer)) == (401, "UnAuthorized")
    only_bearer = {"Authorization": h["Authorization"]}
    assert error_of(await http.get(url, headers=only_bearer)) == (400, "MissingSessionToken")
    for _ in range(2):  # 15-minute gaps keep the session alive
        clock.advance(15 * 60)
        assert (await http.get(url, headers=h)).status_code == 200
    clock.advance(20 * 60)
    assert error_of(await http.get(url, headers=h)) == (400, "SessionTokenExpired")


async def test_logout_and_expire_tokens_invalidate(http, dialect):
    h = await headers(http)
    r = await http.post("/m2m/v1/session/logout", headers=h)
    assert r.json() == {"sessionToken": h["VZ-M2M-Token"]}
    assert error_of(await http.get(f"{V1}/firmware/{ACC}", headers=h))[1] == "SessionTokenExpired"
    h = await headers(http)
    dialect.expire_tokens()
    assert error_of(await http.get(f"{V1}/firmware/{ACC}", headers=h)) == (401, "UnAuthorized")


async def test_oauth_revoke(http):
    bearer = await token(http)
    r = await http.post("/ts/v1/oauth2/revoke", headers=basic(),
                        data={"grant_type": "client_credentials", "token": bearer})  # fmt: skip
    assert r.status_code == 200 and r.content == b""
    assert error_of(await login(http, bearer)) == (401, "UnAuthorized")


async def test_account_must_keep_its_leading_zeros(http):
    h = await headers(http)
    r = await http.get(f"{V1}/firmware/{ACC.lstrip('0')}", headers=h)
    assert error_of(r) == (400, "InvalidAccount")


async def test_unknown_route_bad_body_and_throttling_use_the_envelope(http, sim):
    h = await headers(http)
    assert error_of(await http.get("/fota/v9/nothing", headers=h)) == (404, "ResourceNotFound")
    r = await http.post(f"{V3}/campaigns/firmware/{ACC}", content=b"{nope", headers=h)
    assert error_of(r) == (400, "InvalidRequestBody")
    sim.faults.set(KIND, throttle=1.0)
    r = await http.get(f"{V1}/firmware/{ACC}", headers=h)
    assert error_of(r) == (429, "RateLimitExceeded") and r.headers["retry-after"] == "2"


# -- firmware --------------------------------------------------------------------------
async def test_firmware_lists_v1_and_v3(http, dialect):
    h = await headers(http)
    v1 = (await http.get(f"{V1}/firmware/{ACC}", headers=h)).json()
    assert len(v1) == len(dialect.fleet.firmware[KIND])
    assert set(v1[0]) == {"firmwareName", "participantName", "launchDate", "releaseNote", "model",
                          "make", "fromVersion", "toVersion"}  # fmt: skip
    assert ISO_Z.match(v1[0]["launchDate"])
    assert "SEQUANSCommunications_GM01Q_SR1.2.0.0-10512_SR1.2.0.0-10657" in {
        f["firmwareName"] for f in v1
    }
    r = await http.get(f"{V3}/firmware/{ACC}", headers=h)
    assert error_of(r) == (400, "MissingParameter")
    every = (await http.get(f"{V3}/firmware/{ACC}", params={"protocol": "all"}, headers=h)).json()
    lwm2m = (await http.get(f"{V3}/firmware/{ACC}", params={"protocol": "LWM2M"}, headers=h)).json()
    assert {f["protocol"] for f in every} == {"LWM2M", "OMA-DM"}
    assert {f["protocol"] for f in lwm2m} == {"LWM2M"} and len(lwm2m) < len(every)
    assert {"firmwareFrom", "firmwareTo", "protocol"} <= set(every[0])
    r = await http.get(f"{V3}/firmware/{ACC}", params={"protocol": "HTTP"}, headers=h)
    assert error_of(r) == (400, "InvalidParameter")


# -- v1 --------------------------------------------------------------------------------
async def test_v1_devices_page_with_a_numeric_cursor_and_string_ids(http, dialect):
    dialect.page_sizes["v1_devices"] = 50
    h = await headers(http)
    start, ids, pages = 0, [], 0
    while True:
        r = await http.get(f"{V1}/devices/{ACC}/index/{start}", headers=h)
        raw = json.loads(r.content)
        pages += 1
        assert type(raw["lastSeenDeviceId"]) is int  # a JSON number, not a string
        assert all(isinstance(d["deviceId"], str) for d in raw["deviceList"])
        ids += [d["deviceId"] for d in raw["deviceList"]]
        if not raw["hasMoreData"]:
            break
        assert str(raw["lastSeenDeviceId"]) == raw["deviceList"][-1]["deviceId"]
        start = raw["lastSeenDeviceId"]
    assert pages == 5 and sorted(ids) == sorted(dialect.fleet.devices[KIND])
    row = raw["deviceList"][0]
    assert set(row) == {"deviceId", "mdn", "model", "make", "firmware", "fotaEligible",
                        "licenseAssigned", "upgradeTime"}  # fmt: skip
    assert GO_TIME.match(row["upgradeTime"])
    r = await http.get(f"{V1}/devices/{ACC}/index/abc", headers=h)
    assert error_of(r) == (400, "InvalidParameter")


async def test_v1_upgrade_time_is_go_format_for_upgraded_devices(http):
    h = await headers(http)
    rows = (await http.get(f"{V1}/devices/{ACC}/index/0", headers=h)).json()["deviceList"]
    upgraded = [r for r in rows if not r["upgradeTime"].startswith("0001-")]
    assert upgraded and all(GO_TIME.match(r["upgradeTime"]) for r in upgraded)


async def collect_v1(http, h, status: str) -> tuple[list[dict[str, Any]], list[set[str]]]:
    start: Any = 0
    items, keys = [], []
    while True:
        body = (
            await http.get(f"{V1}/reports/{ACC}/status/{status}/index/{start}", headers=h)
        ).json()
        keys.append(set(body) - {"hasMoreFlag", "reportList"})
        items += body["reportList"]
        if not body["hasMoreFlag"]:
            return items, keys
        start = body.get("lastSeenUpgradeId", body.get("lastSeenUpgrdadeId"))


@pytest.mark.parametrize("typo_value", ["uuid", "int"])
async def test_v1_reports_alternate_the_cursor_spelling(http, dialect, typo_value):
    dialect.page_sizes["v1_reports"] = 1
    dialect.typo_value = typo_value
    h = await headers(http)
    items, keys = await collect_v1(http, h, "Finished")
    assert len(items) >= 3 and len({u["id"] for u in items}) == len(items)
    assert keys[0] == {"lastSeenUpgradeId"} and keys[1] == {"lastSeenUpgrdadeId"}
    assert [u["startDate"] for u in items] == sorted(u["startDate"] for u in items)
    body = (await http.get(f"{V1}/reports/{ACC}/status/Finished/index/1", headers=h)).json()
    value = body["lastSeenUpgrdadeId"]
    assert UUID.match(value) if typo_value == "uuid" else value == 2
    assert all(u["status"] == "Finished" for u in items)


async def test_v1_reports_can_use_one_spelling_only(http, dialect):
    dialect.page_sizes["v1_reports"] = 1
    h = await headers(http)
    dialect.typo_cursor = "never"
    assert {k for ks in (await collect_v1(http, h, "Finished"))[1] for k in ks} == {
        "lastSeenUpgradeId"
    }
    dialect.typo_cursor = "always"
    _, keys = await collect_v1(http, h, "Finished")
    assert all(k == {"lastSeenUpgrdadeId"} for k in keys[:-1])
    r = await http.get(f"{V1}/reports/{ACC}/status/Done/index/0", headers=h)
    assert error_of(r) == (400, "InvalidParameter")


def v1_create_body(dialect: ThingSpaceDialect, devices: list[str], **over: Any) -> dict[str, Any]:
    fw, today = gm01q_firmware(dialect), dialect.fleet.now().date()
    body = {"accountName": ACC, "firmwareName": fw.name, "firmwareTo": fw.version,
            "startDate": str(today + timedelta(days=1)), "endDate": str(today + timedelta(days=3)),
            "deviceList": devices}  # fmt: skip
    return body | over


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"accountName": None}, "MissingParameter"),
        ({"accountName": "123456-00001"}, "InvalidAccount"),
        ({"firmwareName": "NoSuchImage"}, "FirmwareNotFound"),
        ({"firmwareTo": "9.9"}, "FirmwareVersionMismatch"),
        ({"startDate": "2020-01-01"}, "InvalidDate"),
        ({"startDate": "01/02/2027"}, "InvalidDate"),
        ({"endDate": "2026-11-20"}, "InvalidDate"),
        ({"deviceList": []}, "InvalidDeviceList"),
        ({"deviceList": [359000000000000]}, "InvalidDeviceList"),
    ],
)
async def test_v1_schedule_rejections(http, dialect, over, code):
    h = await headers(http)
    r = await http.post(f"{V1}/upgrades", json=v1_create_body(dialect, gm01q(dialect, 2), **over),
                        headers=h)  # fmt: skip
    assert error_of(r) == (400, code)


async def test_v1_upgrade_lifecycle_change_and_cancel(http, dialect, clock):
    h = await headers(http)
    devices = gm01q(dialect, 2)
    r = await http.post(f"{V1}/upgrades", json=v1_create_body(dialect, [*devices, "12345"]),
                        headers=h)  # fmt: skip
    created = r.json()
    assert created["status"] == "RequestPending" and UUID.match(created["id"])
    assert all(d == {"deviceId": d["deviceId"], "status": "Request Pending"}
               for d in created["deviceList"])  # resultReason absent while pending  # fmt: skip
    clock.advance(120)
    url = f"{V1}/upgrades/{ACC}/upgrade/{created['id']}"
    detail = (await http.get(url, headers=h)).json()
    assert detail["status"] == "Queued" and "endDate" in detail
    by_id = {d["deviceId"]: d for d in detail["deviceList"]}
    assert by_id["12345"] == {"deviceId": "12345", "status": "Device Rejected",
                              "resultReason": "Invalid IMEI"}  # fmt: skip
    assert by_id[devices[0]]["status"] == "Device Accepted"
    extra = gm01q(dialect, 3)[2]
    r = await http.put(url, json={"type": "append", "deviceList": [extra, devices[0]]}, headers=h)
    items = r.json()["deviceList"]
    assert r.json()["id"] == created["id"]
    assert [(i["status"], bool(i["Reason"])) for i in items] == [
        ("AddDeviceSucceed", True), ("AddDeviceFailed", True)]  # fmt: skip
    r = await http.put(url, json={"Type": "remove", "deviceList": [extra]}, headers=h)
    assert error_of(r) == (400, "MissingParameter")  # v1 wants lower-case "type"
    r = await http.put(url, json={"type": "remove", "deviceList": [extra]}, headers=h)
    assert r.json()["deviceList"][0]["status"] == "RemoveDeviceSucceed"
    assert (await http.delete(url, headers=h)).json() == {"success": True}
    assert (await http.get(url, headers=h)).json()["status"] == "Cancelled"
    assert error_of(await http.delete(url, headers=h)) == (400, "InvalidUpgradeStatus")
    missing = f"{V1}/upgrades/{ACC}/upgrade/00000000-0000-4000-a000-000000000000"
    assert error_of(await http.get(missing, headers=h)) == (400, "UpgradeNotFound")


async def test_v1_cannot_cancel_a_started_upgrade(http, dialect):
    h = await headers(http)
    started = next(j for j in dialect.fleet.jobs[KIND].values()
                   if j.meta["api"] == "v1" and j.start_at < dialect.fleet.now())  # fmt: skip
    r = await http.delete(f"{V1}/upgrades/{ACC}/upgrade/{started.job_id}", headers=h)
    assert error_of(r) == (400, "InvalidUpgradeStatus")


async def test_v1_device_history(http, dialect):
    h = await headers(http)
    job = next(j for j in dialect.fleet.jobs[KIND].values() if j.meta["api"] == "v1")
    device_id = next(iter(job.targets))
    rows = (await http.get(f"{V1}/reports/{ACC}/devices/{device_id}", headers=h)).json()
    row = next(r for r in rows if r["id"] == job.job_id)
    assert row["deviceId"] == device_id and row["accountName"] == ACC
    assert {"firmwareFrom", "firmwareTo", "startDate", "status"} <= set(row)
    assert "upgradeStartTime" not in row or ISO_Z.match(row["upgradeStartTime"])
    r = await http.get(f"{V1}/reports/{ACC}/devices/000000000000000", headers=h)
    assert error_of(r) == (400, "DeviceNotFound")


# -- v3 --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"firmwareName": None}, "MissingParameter"),
        ({"firmwareName": "NoSuchImage"}, "FirmwareNotFound"),
        ({"protocol": "OMA-DM"}, "FirmwareNotFound"),  # that image is LwM2M
        ({"firmwareFrom": "SR0"}, "FirmwareVersionMismatch"),
        ({"startDate": "2026-11-21"}, "InvalidDate"),
        ({"endDate": "2026-11-22"}, "InvalidDate"),
        ({"campaignTimeWindowList": [{"startTime": 22, "endTime": 24}]}, "InvalidTimeWindow"),
        ({"campaignTimeWindowList": [{"startTime": 24, "endTime": 24}]}, "InvalidTimeWindow"),
        ({"campaignTimeWindowList": [{"startTime": 0, "endTime": 25}]}, "InvalidTimeWindow"),
        ({"campaignTimeWindowList": [{"startTime": "x", "endTime": 8}]}, "InvalidTimeWindow"),
        ({"deviceList": []}, "InvalidDeviceList"),
        ({"autoAssignLicenseFlag": None}, "MissingParameter"),
        ({"autoAddDevicesFlag": "yes"}, "InvalidParameter"),
    ],
)
async def test_v3_create_rejections(http, dialect, over, code):
    h = await headers(http)
    body = v3_body(dialect, gm01q(dialect, 2), **over)
    r = await http.post(f"{V3}/campaigns/firmware/{ACC}", json=body, headers=h)
    assert error_of(r) == (400, code)


async def test_v3_campaign_walks_the_lifecycle_with_the_clock(http, dialect, clock):
    h = await headers(http)
    devices = gm01q(dialect, 4)
    r = await http.post(f"{V3}/campaigns/firmware/{ACC}", json=v3_body(dialect, devices), headers=h)
    created = r.json()
    assert created["status"] == "CampaignRequestPending"
    assert created["campaignTimeWindowList"] == [{"startTime": 2, "endTime": 8}]
    assert {created["make"], created["model"]} == {"SEQUANS Communications", "GM01Q"}
    url = f"{V3}/campaigns/{ACC}/{created['id']}"
    seen = []
    for step in (0, 120, 900, 86400, 30 * 86400):
        clock.advance(step)
        h = await headers(http)  # the jump outlives both tokens
        seen.append((await http.get(url, headers=h)).json()["status"])
    assert seen[0] == "CampaignRequestPending"
    assert seen[1] in ("CampaignRequestQueued", "CampaignQueued")
    assert seen[2:] == ["CampaignPreScheduled", "CampaignScheduled", "CampaignEnded"]


async def test_v3_campaign_info_has_the_seed_page_shape(http, dialect):
    h = await headers(http)
    body = v3_body(dialect, gm01q(dialect, 2))
    created = (await http.post(f"{V3}/campaigns/firmware/{ACC}", json=body, headers=h)).json()
    info = (await http.get(f"{V3}/campaigns/{ACC}/{created['id']}", headers=h)).json()
    assert info["timeWindowList"] == [{"startTime": 2, "endTime": 8}]
    assert info["autoAssignLicenseFlag"] == "false" and info["autoAddDevicesFlag"] == "true"
    assert info["accountName"] == ACC and info["protocol"] == "LWM2M"
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-11ec-", info["id"])  # time-based like the seed
    r = await http.get(f"{V3}/campaigns/{ACC}/nope", headers=h)
    assert error_of(r) == (400, "CampaignNotFound")


async def test_v3_add_remove_devices_wants_capital_type(http, dialect, clock):
    h = await headers(http)
    devices = gm01q(dialect, 4)
    body = v3_body(dialect, devices[:2])
    created = (await http.post(f"{V3}/campaigns/firmware/{ACC}", json=body, headers=h)).json()
    url = f"{V3}/campaigns/firmware/{ACC}/{created['id']}"
    r = await http.put(url, json={"type": "append", "deviceList": devices[2:]}, headers=h)
    assert error_of(r) == (400, "MissingParameter")
    r = await http.put(url, json={"Type": "append", "devicelist": [devices[2], "1234"]}, headers=h)
    assert r.json()["campaignId"] == created["id"]
    assert [(d["status"], d["Reason"]) for d in r.json()["deviceList"]] == [
        ("AddDeviceSucceed", "Device added"), ("AddDeviceFailed", "Invalid IMEI")]  # fmt: skip
    r = await http.put(url, json={"Type": "remove", "deviceList": [devices[0], devices[3]]},
                       headers=h)  # fmt: skip
    assert [d["status"] for d in r.json()["deviceList"]] == ["RemoveDeviceSucceed",
                                                            "RemoveDeviceFailed"]  # fmt: skip
    clock.advance(1)
    listed = (await http.get(f"{V3}/reports/{ACC}/campaigns/{created['id']}/devices",
                             headers=h)).json()  # fmt: skip
    assert {d["deviceId"] for d in listed["deviceList"]} == {devices[1], devices[2]}


async def test_v3_dates_change_only_before_start(http, dialect, clock):
    h = await headers(http)
    created = (await http.post(f"{V3}/campaigns/firmware/{ACC}",
                               json=v3_body(dialect, gm01q(dialect, 2)), headers=h)).json()  # fmt: skip
    url = f"{V3}/campaigns/firmware/{ACC}/{created['id']}/dates"
    today = dialect.fleet.now().date()
    new = {"startDate": str(today + timedelta(days=2)), "endDate": str(today + timedelta(days=9)),
           "campaignTimeWindowList": [{"startTime": 0, "endTime": 6}]}  # fmt: skip
    r = await http.put(url, json=new, headers=h)
    assert r.json()["startDate"] == new["startDate"] and r.json()["endDate"] == new["endDate"]
    assert r.json()["campaignTimeWindowList"] == [{"startTime": 0, "endTime": 6}]
    job = dialect.fleet.jobs[KIND][created["id"]]
    assert job.start_at.date() == today + timedelta(days=2) and job.windows == [(0, 6)]
    bad = new | {"campaignTimeWindowList": [{"startTime": 5, "endTime": 7}]}
    assert error_of(await http.put(url, json=bad, headers=h)) == (400, "InvalidTimeWindow")
    clock.advance(3 * 86400)
    h = await headers(http)
    assert error_of(await http.put(url, json=new, headers=h)) == (400, "InvalidCampaignStatus")


async def test_v3_delete_cancels_before_start_and_aborts_after(http, dialect, clock):
    h = await headers(http)
    devices = gm01q(dialect, 4)
    ids = []
    for part in (devices[:2], devices[2:]):
        body = v3_body(dialect, part)
        ids.append(
            (await http.post(f"{V3}/campaigns/firmware/{ACC}", json=body, headers=h)).json()["id"]
        )
    assert (await http.delete(f"{V3}/campaigns/{ACC}/{ids[0]}", headers=h)).json() == {
        "success": True
    }
    clock.advance(2 * 86400)
    h = await headers(http)
    await http.delete(f"{V3}/campaigns/{ACC}/{ids[1]}", headers=h)
    statuses = [
        (await http.get(f"{V3}/campaigns/{ACC}/{i}", headers=h)).json()["status"] for i in ids
    ]
    assert statuses == ["CampaignCancelled", "CampaignAborted"]
    r = await http.delete(f"{V3}/campaigns/{ACC}/{ids[0]}", headers=h)
    assert error_of(r) == (400, "InvalidCampaignStatus")


async def test_v3_campaigns_by_status_page_and_show_both_queued_spellings(http, dialect):
    dialect.page_sizes["v3_campaigns"] = 1
    h = await headers(http)
    url = f"{V3}/reports/{ACC}/firmware/campaigns"
    assert error_of(await http.get(url, headers=h)) == (400, "MissingParameter")
    r = await http.get(url, params={"campaignStatus": "Bogus"}, headers=h)
    assert error_of(r) == (400, "InvalidParameter")
    found: dict[str, list[str]] = {}
    for status in ("CampaignRequestQueued", "CampaignQueued", "CampaignEnded",
                   "CampaignPreScheduled", "CampaignScheduled", "CampaignAborted"):  # fmt: skip
        params = {"campaignStatus": status}
        while True:
            body = (await http.get(url, params=params, headers=h)).json()
            found.setdefault(status, []).extend(c["id"] for c in body["campaignList"])
            assert all(c["status"] == status for c in body["campaignList"])
            if not body["hasMoreData"]:
                break
            params["lastSeenCampaignId"] = body["lastSeenCampaignId"]
    assert all(found[s] for s in found)  # every one of these states is seeded
    assert len(found["CampaignEnded"]) >= 2  # and paging crossed pages
    v3_jobs = {j.job_id for j in dialect.fleet.jobs[KIND].values() if j.meta["api"] == "v3"}
    assert {i for ids in found.values() for i in ids} <= v3_jobs


async def test_v3_campaign_devices_page_with_reasons(http, dialect):
    dialect.page_sizes["v3_devices"] = 7
    h = await headers(http)
    job = max((j for j in dialect.fleet.jobs[KIND].values() if j.meta["api"] == "v3"),
              key=lambda j: len(j.targets))  # fmt: skip
    url = f"{V3}/reports/{ACC}/campaigns/{job.job_id}/devices"
    params: dict[str, str] = {}
    rows = []
    while True:
        body = (await http.get(url, params=params, headers=h)).json()
        assert body["maxPageSize"] == 7 and body["totalDevice"] == len(job.targets)
        rows += body["deviceList"]
        if not body["hasMoreData"]:
            break
        params["lastSeenDeviceId"] = body["lastSeenDeviceId"]
    assert sorted(r["deviceId"] for r in rows) == sorted(job.targets)
    assert all(isinstance(r["deviceId"], str) and ISO_Z.match(r["updatedTime"]) for r in rows)
    failed = [r for r in rows if r["status"] in ("UpgradeFailed", "UpgradedFailed")]
    assert failed and all(RFC822ISH.search(r["resultReason"]) for r in failed)
    assert all("try count" in r["resultReason"] for r in failed)


async def test_seeded_reports_show_the_documented_device_words():
    sim = Simulator.build(kinds=[KIND], clock=ManualClock(), devices=3000)
    base = sim.base_urls()[KIND] + "/api"
    async with httpx.AsyncClient(transport=sim.transport(), base_url=base) as http:
        words = await _device_words(http, sim.dialects[KIND])
    assert {"NoDeviceDataFromNetwork", "UpgradePending", "UpgradeScheduled", "UpgradeSuccess",
            "UpgradeFailed", "UpgradedFailed", "Device Rejected", "CampaignAborted",
            "ReceivedDeviceDataFromNetwork"} <= words  # fmt: skip


async def _device_words(http: httpx.AsyncClient, dialect: Any) -> set[str]:
    h = await headers(http)
    words: set[str] = set()
    for job in dialect.fleet.jobs[KIND].values():
        if job.meta["api"] != "v3":
            continue
        url = f"{V3}/reports/{ACC}/campaigns/{job.job_id}/devices"
        words |= {d["status"] for d in (await http.get(url, headers=h)).json()["deviceList"]}
    return words


async def test_v3_device_history_mixes_id_and_campaign_id(http, dialect):
    h = await headers(http)
    keys: set[str] = set()
    for device_id in dialect.fleet.devices[KIND]:
        rows = (await http.get(f"{V3}/reports/{ACC}/devices/{device_id}", headers=h)).json()
        for row in rows:
            keys |= {"campaignId", "id"} & set(row)
            assert GO_TIME.match(row["reportUpdatedTime"]) and row["deviceId"] == device_id
    assert keys == {"campaignId", "id"}


# -- seeding -----------------------------------------------------------------------------
def test_seed_is_realistic_and_fast():
    started = time.perf_counter()
    sim = Simulator.build(kinds=[KIND], clock=ManualClock(), devices=30_000, seed=3)
    assert time.perf_counter() - started < 5
    devices = sim.fleet.devices[KIND]
    assert len(devices) == 30_000 and all(valid_imei(i) for i in devices)
    assert {d.model for d in devices.values()} == {"GM01Q", "ME910C1", "BG96"}
    names = {f.name for f in sim.fleet.firmware[KIND]}
    assert "SEQUANSCommunications_GM01Q_SR1.2.0.0-10512_SR1.2.0.0-10657" in names
    apis = [j.meta["api"] for j in sim.fleet.jobs[KIND].values()]
    assert apis.count("v3") >= 8 and apis.count("v1") >= 3
    assert any(not j.name.isascii() for j in sim.fleet.jobs[KIND].values())


def test_seed_is_deterministic():
    a = Simulator.build(kinds=[KIND], clock=ManualClock(), devices=100, seed=5)
    b = Simulator.build(kinds=[KIND], clock=ManualClock(), devices=100, seed=5)
    assert list(a.fleet.devices[KIND]) == list(b.fleet.devices[KIND])
    assert list(a.fleet.jobs[KIND]) == list(b.fleet.jobs[KIND])
    assert random.Random(1).random() == random.Random(1).random()


@pytest.mark.loopback
def test_loopback_token_login_and_report(sim):
    with sim.serve() as server, httpx.Client(base_url=server.base_urls()[KIND] + "/api") as c:
        r = c.post(
            "/ts/v1/oauth2/token", data={"grant_type": "client_credentials"}, headers=basic()
        )
        bearer = r.json()["access_token"]
        body = {"username": CREDS["username"], "password": CREDS["password"]}
        session = c.post("/m2m/v1/session/login", json=body,
                         headers={"Authorization": f"Bearer {bearer}"}).json()["sessionToken"]  # fmt: skip
        h = {"Authorization": f"Bearer {bearer}", "VZ-M2M-Token": session}
        r = c.get(f"{V3}/reports/{ACC}/firmware/campaigns", params={"campaignStatus": "CampaignEnded"},
                  headers=h)  # fmt: skip
        assert r.status_code == 200 and r.json()["campaignList"]
        assert c.get(f"{V1}/firmware/{ACC}", headers={}).status_code == 401

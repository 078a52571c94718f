"""ThingSpace wire models, status tables and time parsing, from the seed pages' JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fota_tui.errors import ProviderProtocolError
from fota_tui.models import CampaignState, UpgradeState
from fota_tui.providers.http import ClientOptions
from fota_tui.providers.thingspace import normalize as norm
from fota_tui.providers.thingspace.auth import auth_problem
from fota_tui.providers.thingspace.wire import (
    ChangeItem,
    ErrorAnswer,
    V1DevicePage,
    V1Report,
    V3Campaign,
    V3History,
    parse,
)

OPTIONS = ClientOptions(name="ts", base_url="http://x")
U, C = UpgradeState, CampaignState

# Seed page 002 (v1 upgrades by status), as published.
SEED_002 = {
    "hasMoreFlag": False,
    "lastSeenUpgrdadeId": "efb8206b-2e88-4fdb-886d-31d8e87cd95f",
    "reportList": [
        {"id": "3ac8c863-bde7-4f41-878e-dd5473e973bb", "accountName": "0242078689-00001",
         "firmwareName": "FOTA_Verizon_Model-A_01To02_HF",
         "firmwareTo": "VerizonFirmwareVersion-02", "startDate": "2018-04-02", "status": "Queued",
         "deviceList": [{"deviceId": "900000000000002", "status": "Device Accepted",
                         "resultReason": "success"}]},
    ],
}  # fmt: skip
# Seed page 003 (v3 campaign info); the page misses a comma after the list, added here.
SEED_003 = {
    "id": "f858b8c4-2153-11ec-8c44-aeb16d1aa652", "accountName": "0642233522-00001",
    "campaignName": "Smart FOTA", "protocol": "LWM2M", "make": "SEQUANS Communications",
    "model": "GM01Q", "status": "CampaignPreScheduled", "startDate": "2021-09-29",
    "endDate": "2021-10-01",
    "firmwareName": "SEQUANSCommunications_GM01Q_SR1.2.0.0-10512_SR1.2.0.0-10657",
    "firmwareFrom": "SR1.2.0.0-10512", "firmwareTo": "SR1.2.0.0-10657",
    "timeWindowList": [{"startTime": 18, "endTime": 22}],
    "autoAssignLicenseFlag": "false", "autoAddDevicesFlag": "false",
}  # fmt: skip


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-06-03 00:03:56.079 +0000 UTC", utc(2021, 6, 3, 0, 3, 56, 79000)),
        ("2022-01-26 03:45:01 +0000 UTC", utc(2022, 1, 26, 3, 45, 1)),
        ("2022-01-26 11:45:01.5 +0800 CST m=+0.000012", utc(2022, 1, 26, 3, 45, 1, 500000)),
        ("0001-01-01 00:00:00 +0000 UTC", None),  # Go's zero time
        ("2021-07-09T00:00:00.123Z", utc(2021, 7, 9, 0, 0, 0, 123000)),
        ("2021-07-09T00:00:00Z", utc(2021, 7, 9)),
        ("2018-04-02", utc(2018, 4, 2)),
        ("2018-04-02T10:00:00.000+00:00", utc(2018, 4, 2, 10)),  # ISO in a startDate
        ("09 Jul 21 00:00 UTC", None),
        ("", None),
        (12345, None),
    ],
)
def test_parse_time(text: Any, expected: datetime | None):
    assert norm.parse_time(text) == expected


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("Request Pending", U.PENDING),
        ("Device Accepted", U.QUEUED),
        ("AddDeviceSucceed", U.QUEUED),
        ("Device Rejected", U.FAILED),
        ("DeviceRejected", U.FAILED),
        ("NoDeviceDataFromNetwork", U.QUEUED),
        ("ReceivedDeviceDataFromNetwork", U.QUEUED),
        ("RequestToFotaServerFailed", U.QUEUED),
        ("UpgradePending", U.QUEUED),
        ("UpgradeScheduled", U.SENDING),
        ("UpgradeSuccess", U.SUCCEEDED),
        ("upgrade_success", U.SUCCEEDED),
        ("UpgradeFailed", U.FAILED),
        ("UpgradedFailed", U.FAILED),
        ("CampaignAborted", U.CANCELLED),
        ("SomethingNew", U.UNKNOWN),
        (7, U.UNKNOWN),
        (None, U.UNKNOWN),
    ],
)
def test_device_words(raw: Any, state: UpgradeState):
    assert norm.device_state(raw, OPTIONS) is state


@pytest.mark.parametrize(
    ("raw", "campaign", "state"),
    [
        ("UpgradePending", "CampaignEnded", U.EXPIRED),
        ("Device Accepted", "Finished", U.EXPIRED),
        ("UpgradeScheduled", "CampaignAborted", U.CANCELLED),
        ("UpgradePending", "CampaignFailed", U.FAILED),
        ("UpgradeSuccess", "CampaignEnded", U.SUCCEEDED),
        ("UpgradePending", "CampaignScheduled", U.QUEUED),
        ("Mystery", "CampaignEnded", U.UNKNOWN),
    ],
)
def test_the_campaign_decides_what_active_devices_became(raw, campaign, state):
    assert norm.device_state(raw, OPTIONS, campaign) is state


def counts(**n: int) -> dict[UpgradeState, int]:
    out = dict.fromkeys(UpgradeState, 0)
    out.update({UpgradeState(k): v for k, v in n.items()})
    return out


@pytest.mark.parametrize(
    ("raw", "table", "n", "state"),
    [
        ("CampaignEnded", norm.V3_CAMPAIGN_STATES, counts(succeeded=3), C.SUCCEEDED),
        ("CampaignEnded", norm.V3_CAMPAIGN_STATES, counts(succeeded=3, failed=1), C.PARTIAL),
        ("CampaignEnded", norm.V3_CAMPAIGN_STATES, counts(failed=2), C.FAILED),
        ("CampaignEnded", norm.V3_CAMPAIGN_STATES, counts(), C.EXPIRED),
        ("CampaignPreScheduled", norm.V3_CAMPAIGN_STATES, counts(), C.QUEUED),
        ("CampaignQueued", norm.V3_CAMPAIGN_STATES, counts(), C.QUEUED),
        ("CampaignRequestQueued", norm.V3_CAMPAIGN_STATES, counts(), C.QUEUED),
        ("CampaignScheduled", norm.V3_CAMPAIGN_STATES, counts(), C.IN_PROGRESS),
        ("CampaignRequestFailed", norm.V3_CAMPAIGN_STATES, counts(), C.FAILED),
        ("CampaignSomething", norm.V3_CAMPAIGN_STATES, counts(), C.UNKNOWN),
        ("Finished", norm.V1_UPGRADE_STATES, counts(succeeded=1, expired=1), C.PARTIAL),
        ("InProgress", norm.V1_UPGRADE_STATES, counts(), C.IN_PROGRESS),
        ("RequestFailed", norm.V1_UPGRADE_STATES, counts(), C.FAILED),
    ],
)
def test_job_states(raw, table, n, state):
    assert norm.job_state(raw, table, n, OPTIONS) is state


def test_profile_overrides_apply_to_devices_and_campaigns():
    options = ClientOptions(name="ts", base_url="http://x",
                            status_map={"UpgradeScheduled": "downloading", "CampaignEnded": "succeeded"})  # fmt: skip
    assert norm.device_state("UpgradeScheduled", options) is U.DOWNLOADING
    assert norm.job_state("CampaignEnded", norm.V3_CAMPAIGN_STATES, counts(failed=1),
                          options) is C.SUCCEEDED  # fmt: skip


def test_seed_002_reads_with_the_typo_cursor():
    report = parse("ts", V1Report, SEED_002, "report")
    assert report.cursor == "efb8206b-2e88-4fdb-886d-31d8e87cd95f" and not report.hasMoreFlag
    records = norm.v1_upgrades("ts", report.reportList[0], OPTIONS)
    assert records[0].state is U.QUEUED and records[0].provider_reason == "success"
    assert records[0].created_at == utc(2018, 4, 2)
    assert parse("ts", V1Report, {"lastSeenUpgradeId": 40}, "r").cursor == "40"


def test_seed_003_reads_string_flags_and_time_window_list():
    campaign = parse("ts", V3Campaign, SEED_003, "campaign")
    assert campaign.autoAssignLicenseFlag is False and campaign.autoAddDevicesFlag is False
    assert [(w.startTime, w.endTime) for w in campaign.windows] == [(18, 22)]
    summary = norm.v3_campaign("ts", campaign, [], OPTIONS)
    assert summary.state is C.QUEUED and summary.provider_status_raw == "CampaignPreScheduled"
    other = parse("ts", V3Campaign, SEED_003 | {"timeWindowList": None,
                                                "campaignTimeWindowList": [{"startTime": "20", "endTime": "24"}]}, "c")  # fmt: skip
    assert [(w.startTime, w.endTime) for w in other.windows] == [(20, 24)]


def test_numbers_become_exact_strings():
    page = parse("ts", V1DevicePage, {"hasMoreData": True, "lastSeenDeviceId": 352979110201703.0,
                                      "deviceList": [{"deviceId": 352979110201703, "mdn": 6145550100}]},
                 "devices")  # fmt: skip
    assert page.lastSeenDeviceId == "352979110201703"
    assert page.deviceList[0].deviceId == "352979110201703"
    assert page.deviceList[0].mdn == "6145550100"
    for bad in ({"deviceId": 1.5}, {"deviceId": True}, {"deviceId": None}):
        with pytest.raises(ProviderProtocolError, match=r"deviceList\.0\.deviceId"):
            parse("ts", V1DevicePage, {"deviceList": [bad]}, "devices")


def test_history_id_spellings_and_capital_reason():
    a = parse("ts", V3History, {"deviceId": "1", "id": "c-1", "status": "UpgradeSuccess"}, "h")
    b = parse("ts", V3History, {"deviceId": "1", "campaignId": "c-2"}, "h")
    assert (a.campaignId, b.campaignId) == ("c-1", "c-2")
    item = parse("ts", ChangeItem, {"deviceId": "1", "status": "AddDeviceFailed",
                                    "Reason": "Invalid IMEI"}, "c")  # fmt: skip
    change = norm.device_change(item)
    assert not change.ok and change.reason == "Invalid IMEI"
    assert norm.device_change(ChangeItem(deviceId="2", status="RemoveDeviceSucceed")).ok


def test_error_answers_in_every_form():
    assert ErrorAnswer(errorCode="X", errorMessage="m").code == "X"
    oauth = ErrorAnswer(error="invalid_client", error_description="bad")
    assert (oauth.code, oauth.message) == ("invalid_client", "bad")
    fault = ErrorAnswer(fault={"code": 900901, "message": "Invalid Credentials"})
    assert (fault.code, fault.message) == ("900901", "Invalid Credentials")


def answer(status: int, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else httpx.Response(200, json=body).content
    return httpx.Response(status, content=content)


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (400, {"errorCode": "SessionTokenExpired", "errorMessage": "expired"}, "session"),
        (401, {"errorCode": "UnAuthorized", "errorMessage": "Invalid token"}, "oauth"),
        (400, {"errorCode": "UnAuthorized", "errorMessage": "no"}, "oauth"),
        (401, {"fault": {"code": "900901", "message": "Invalid Credentials"}}, "oauth"),
        (400, {"errorCode": "REQUEST_FAILED", "errorMessage": "M2M token is invalid"}, "session"),
        (400, {"errorCode": "InvalidParameter", "errorMessage": "startDate"}, None),
        (400, b"<html>", None),
        (500, {"errorCode": "SessionTokenExpired"}, None),
        (200, {}, None),
    ],
)
def test_auth_problem_classification(status, body, problem):
    assert auth_problem(answer(status, body)) == problem


# Every value of the vendor's enums (SDK models), at both levels.
UPGRADE_ENUM = ("RequestPending", "Queued", "RequestFailed", "InProgress", "Finished",
                "UpgradeFailed")  # fmt: skip
CAMPAIGN_ENUM = ("CampaignRequestPending", "CampaignRequestFailed", "CampaignRequestQueued",
                 "CampaignCancelled", "CampaignAborted", "CampaignFailed", "CampaignScheduled",
                 "CampaignEnded")  # fmt: skip
EXAMPLE_ONLY = ("CampaignQueued", "CampaignPreScheduled")


@pytest.mark.parametrize(
    ("raw", "state"),
    list(zip(UPGRADE_ENUM, [U.PENDING, U.QUEUED, U.FAILED, U.IN_PROGRESS, U.SUCCEEDED,
                            U.FAILED], strict=True))
    + list(zip(CAMPAIGN_ENUM + EXAMPLE_ONLY, [U.PENDING, U.FAILED, U.QUEUED, U.CANCELLED,
                                              U.CANCELLED, U.FAILED, U.QUEUED, U.EXPIRED,
                                              U.QUEUED, U.QUEUED], strict=True)),
)  # fmt: skip
def test_every_enum_value_maps_at_device_level(raw: str, state: UpgradeState):
    assert norm.device_state(raw, OPTIONS) is state


@pytest.mark.parametrize("raw", CAMPAIGN_ENUM + EXAMPLE_ONLY)
def test_every_campaign_enum_value_maps_at_campaign_level(raw: str):
    assert norm.job_state(raw, norm.V3_CAMPAIGN_STATES, counts(), OPTIONS) is not C.UNKNOWN


@pytest.mark.parametrize("raw", UPGRADE_ENUM)
def test_every_upgrade_enum_value_maps_at_job_level(raw: str):
    assert norm.job_state(raw, norm.V1_UPGRADE_STATES, counts(), OPTIONS) is not C.UNKNOWN

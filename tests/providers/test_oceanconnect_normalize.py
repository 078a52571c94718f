"""OceanConnect wire parsing, status mapping and error mapping from JSON fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from fota_tui.errors import (
    ProviderAuthError,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from fota_tui.models import CampaignState, UpgradeState
from fota_tui.providers.http import ClientOptions
from fota_tui.providers.oceanconnect import normalize
from fota_tui.providers.oceanconnect.client import OceanConnectClient
from fota_tui.providers.oceanconnect.wire import (
    OperationInfo,
    QueryDevice,
    StaResult,
    SubOperationInfo,
    TokenResponse,
    load,
)


def no_override(raw: Any, default: UpgradeState) -> UpgradeState:
    return default


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("fail", UpgradeState.FAILED),
        ("failed", UpgradeState.FAILED),
        ("FAIL", UpgradeState.FAILED),
        (" Success ", UpgradeState.SUCCEEDED),
        ("WAIT", UpgradeState.QUEUED),
        ("processing", UpgradeState.IN_PROGRESS),
        ("STOP", UpgradeState.CANCELLED),
        ("timeout", UpgradeState.EXPIRED),
        ("PAUSED", UpgradeState.UNKNOWN),
        (None, UpgradeState.UNKNOWN),
        (3, UpgradeState.UNKNOWN),
    ],
)
def test_subtask_status_words_are_case_insensitive(raw, state):
    assert normalize.upgrade_state(raw, None, no_override) is state


@pytest.mark.parametrize(
    ("extend", "state"),
    [
        ({"swUpgradeState": "downloading"}, UpgradeState.DOWNLOADING),
        ({"swUpgradeState": "RequestDownload"}, UpgradeState.DOWNLOADING),
        ({"swUpgradeState": "otacreated"}, UpgradeState.SENDING),
        ({"step": "3", "stepDesc": "upgrading"}, UpgradeState.IN_PROGRESS),
        ({"stepDesc": "downloading"}, UpgradeState.DOWNLOADING),
        ('{"swUpgradeState": "updating"}', UpgradeState.IN_PROGRESS),
        ("not json", UpgradeState.IN_PROGRESS),
        ({"other": 1}, UpgradeState.IN_PROGRESS),
    ],
)
def test_processing_is_refined_by_extend_info(extend, state):
    assert normalize.upgrade_state("PROCESSING", extend, no_override) is state


def test_extend_info_does_not_refine_finished_subtasks():
    extend = {"swUpgradeState": "downloading"}
    assert normalize.upgrade_state("success", extend, no_override) is UpgradeState.SUCCEEDED


@pytest.mark.parametrize(
    ("raw", "sta", "state"),
    [
        ("SUCCESS", {"total": 3, "success": 3}, CampaignState.SUCCEEDED),
        ("SUCCESS", {"total": 3, "success": 2, "fail": 1}, CampaignState.PARTIAL),
        ("success", {"total": 3, "success": 2, "timeout": "1"}, CampaignState.PARTIAL),
        ("FAIL", {"total": 1, "fail": 1}, CampaignState.FAILED),
        ("failed", None, CampaignState.FAILED),
        ("TIMEOUT", None, CampaignState.EXPIRED),
        ("STOP", None, CampaignState.CANCELLED),
        ("WAIT", None, CampaignState.QUEUED),
        ("PROCESSING", None, CampaignState.IN_PROGRESS),
        ("partialsuccess", None, CampaignState.UNKNOWN),
    ],
)
def test_task_status_mapping(raw, sta, state):
    parsed = StaResult.model_validate(sta) if sta else None
    assert normalize.campaign_state(raw, parsed, no_override) is state


def test_override_applies_to_the_raw_word_in_any_case():
    options = ClientOptions(name="x", base_url="http://x", status_map={"fail": "expired"})
    assert normalize.upgrade_state("FAIL", None, options.map_status) is UpgradeState.EXPIRED
    assert normalize.campaign_state("Fail", None, options.map_status) is CampaignState.EXPIRED


def test_task_fixture_normalizes_with_counts_and_utc_times():
    raw = {
        "operationId": "5c9b1b2a3d4e5f6a7b8c9d0e",
        "createTime": "20190315T081500Z",
        "startTime": "20190315T090000Z",
        "stopTime": None,
        "operateType": "software_upgrade",
        "targets": {"devices": ["d1", "d2"]},
        "policy": {
            "executeType": "custom",
            "startTime": "20190315T090000Z",
            "endTime": "20190316T090000Z",
            "retryType": True,
            "retryTimes": 2,
        },
        "status": "PROCESSING",
        "staResult": {"total": "4", "wait": 1, "processing": 1, "success": 1, "fail": 1},
        "extendPara": {"fileId": "abc", "fileVersion": "V1.2.3", "fileName": "pkg"},
        "unexpected": {"ignored": True},
    }
    info = load("p", OperationInfo, raw, "task")
    campaign = normalize.campaign("p", info, {}, no_override)
    assert campaign.state is CampaignState.IN_PROGRESS and campaign.total == 4
    assert campaign.name == "Software upgrade V1.2.3" and campaign.firmware_name == "pkg"
    assert campaign.counts[UpgradeState.QUEUED] == 1 and campaign.counts[UpgradeState.FAILED] == 1
    assert campaign.created_at == datetime(2019, 3, 15, 8, 15, tzinfo=UTC)
    assert campaign.end_at == datetime(2019, 3, 16, 9, tzinfo=UTC)


def test_times_accept_offsets_and_nulls_and_reject_garbage():
    sub = load(
        "p",
        SubOperationInfo,
        {"deviceId": "d", "createTime": "20200101T080000+08:00", "startTime": None, "stopTime": ""},
        "sub",
    )
    assert sub.createTime == datetime(2020, 1, 1, 0, 0, tzinfo=UTC)
    assert sub.startTime is None and sub.stopTime is None
    for bad in ("yesterday", 1577836800, ["x"]):
        with pytest.raises(ProviderProtocolError, match="createTime"):
            load("p", SubOperationInfo, {"deviceId": "d", "createTime": bad}, "sub")


def test_expires_in_may_be_a_string():
    token = load("p", TokenResponse, {"accessToken": "a", "expiresIn": "3600"}, "token")
    assert token.expiresIn == 3600
    with pytest.raises(ProviderProtocolError):
        load("p", TokenResponse, {"accessToken": "", "expiresIn": 3600}, "token")


def test_device_fixture_normalizes():
    record = load(
        "p",
        QueryDevice,
        {
            "deviceId": "d-1",
            "creationTime": "20190101T000000Z",
            "deviceInfo": {
                "nodeId": "node-7",
                "status": "online",
                "fwVersion": None,
                "swVersion": "V2",
                "manufacturerName": "Huawei",
            },
        },
        "device",
    )
    device = normalize.device("p", record)
    assert device.online is True and device.imei is None and device.firmware == "V2"
    assert device.updated_at == datetime(2019, 1, 1, tzinfo=UTC)
    weird = load("p", QueryDevice, {"deviceId": "d-2", "deviceInfo": {"status": "ASLEEP"}}, "d")
    assert normalize.device("p", weird).online is None


def _client() -> OceanConnectClient:
    options = ClientOptions(name="hw", base_url="http://oc.invalid")
    return OceanConnectClient(options, app_id="app", secret=SecretStr("s"))


def _response(status: int, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers)


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            500,
            {"error_code": "100220", "error_desc": "Get app key from header failed."},
            ProviderAuthError,
            None,
        ),
        (
            403,
            {"error_code": "1010005", "error_desc": "App_key or access_token is invalid."},
            ProviderAuthError,
            None,
        ),
        (
            401,
            {"error_code": "100208", "error_desc": "AppId or secret is not right."},
            ProviderAuthError,
            None,
        ),
        (
            404,
            {"error_code": "123002", "error_desc": "Device or package file not found."},
            ProviderNotFound,
            "123002",
        ),
        (
            400,
            {"error_code": 123029, "error_desc": "pageNo or pageSize beyond the limit."},
            ProviderRejected,
            "123029",
        ),
        (
            500,
            {"error_code": "50252", "error_desc": "Internal server error."},
            ProviderUnavailable,
            None,
        ),
        (502, b"<html>Bad Gateway</html>", ProviderUnavailable, None),
        (400, b"[1, 2]", ProviderRejected, None),
    ],
)
def test_error_envelopes_map_to_the_taxonomy(status, body, error, code):
    with pytest.raises(error) as err:
        _client()._decode(_response(status, body))
    if code is not None:
        assert isinstance(err.value, ProviderRejected) and err.value.code == code


def test_throttle_code_is_rate_limited_with_header_or_window_time():
    throttled = {"error_code": "1010009", "error_desc": "app throttle exceed."}
    with pytest.raises(ProviderRateLimited) as err:
        _client()._decode(_response(403, throttled, **{"Retry-After": "7"}))
    assert err.value.retry_after == 7
    with pytest.raises(ProviderRateLimited) as err:
        _client()._decode(_response(403, throttled))
    assert err.value.retry_after == 60.0  # nothing sent yet: a whole window


def test_success_bodies_must_be_json():
    client = _client()
    assert client._decode(_response(200, b"")) is None
    with pytest.raises(ProviderProtocolError):
        client._decode(_response(200, b'{"data": [<html>'))

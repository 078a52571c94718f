"""Wire fuzzing for the ThingSpace adapter: wire models + normalizers, the error envelope
(``_decode``) and every paging/listing read against fuzzed answers. The only outcomes
allowed are valid domain records or ``ProviderProtocolError`` (see ``fuzz_harness``)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from fuzz_harness import (
    PLAIN_STATUSES,
    PROVIDER,
    KnownBug,
    Platform,
    Route,
    Shape,
    allowed,
    check_plain_decode,
    field_names,
    options,
    response,
    serve,
)
from hypothesis import strategies as st
from pydantic import SecretStr
from strategies import atoms, json_values

from fota_tui.errors import ProviderError
from fota_tui.models import CampaignState, ProviderKind, UpgradeState
from fota_tui.providers.thingspace import normalize as norm
from fota_tui.providers.thingspace import wire
from fota_tui.providers.thingspace.auth import auth_problem
from fota_tui.providers.thingspace.client import ThingSpaceClient

KIND = ProviderKind.THINGSPACE
NOW = datetime.fromisoformat("2026-11-22T08:00:00+00:00")


def make(opts: Any, creds: dict[str, str], **extra: Any) -> ThingSpaceClient:
    return ThingSpaceClient(
        opts,
        account=creds["account"],
        app_key=creds["app_key"],
        app_secret=SecretStr(creds["app_secret"]),
        username=creds["username"],
        password=SecretStr(creds["password"]),
        clock=lambda: NOW,
        **extra,
    )


ACC = r"/api/fota/v[13]/[a-z]+/[^/]+"
PLATFORM = Platform(
    kind=KIND,
    make=make,
    routes=[
        Route("token", "POST", r"/api/ts/v1/oauth2/token"),
        Route("login", "POST", r"/api/m2m/v1/session/login"),
        Route("logout", "POST", r"/api/m2m/v1/session/logout"),
        Route("v3_firmware", "GET", r"/api/fota/v3/firmware/[^/]+"),
        Route("v1_firmware", "GET", r"/api/fota/v1/firmware/[^/]+"),
        Route("v1_devices", "GET", r"/api/fota/v1/devices/[^/]+/index/[^/]*"),
        Route("v3_campaigns", "GET", r"/api/fota/v3/reports/[^/]+/firmware/campaigns"),
        Route("v3_devices", "GET", r"/api/fota/v3/reports/[^/]+/campaigns/[^/]*/devices"),
        Route("v1_reports", "GET", r"/api/fota/v1/reports/[^/]+/status/[^/]+/index/[^/]*"),
        Route("v3_history", "GET", r"/api/fota/v3/reports/[^/]+/devices/[^/]*"),
        Route("v1_history", "GET", r"/api/fota/v1/reports/[^/]+/devices/[^/]*"),
        Route("v3_campaign", "GET", r"/api/fota/v3/campaigns/[^/]+/[^/]*"),
        Route("v1_upgrade", "GET", r"/api/fota/v1/upgrades/[^/]+/upgrade/[^/]*"),
    ],
    quiet={
        "v1_devices": b'{"hasMoreData": false, "deviceList": []}',
        "v3_campaigns": b'{"hasMoreData": false, "campaignList": []}',
        "v3_devices": b'{"hasMoreData": false, "deviceList": []}',
        "v1_reports": b'{"hasMoreFlag": false, "reportList": []}',
        "v3_firmware": b"[]",
        "v1_firmware": b"[]",
        "v3_history": b"[]",
        "v1_history": b"[]",
    },
    status_map={"UpgradeSuccess": "failed", "Weird": "succeeded", "3": "cancelled"},
)
KEYS = field_names(wire)
OPTIONS = options(PLATFORM, "https://thingspace.example/api", None)


def decode(status: int, body: bytes) -> Any:
    client = make(
        OPTIONS,
        {"account": "a", "app_key": "k", "app_secret": "s", "username": "u", "password": "p"},
    )
    return client._decode(response(status, body))


def error_envelope(body: bytes) -> bool:
    """No error envelope: an HTTP 200 body is data, never an error."""
    return False


_serve = partial(serve, PLATFORM)


# -- adapter bugs found by fuzzing --------------------------------
# Fixed bugs: each reproducer must now give records or a protocol error (regression tests).
FIXED_BUGS: list[KnownBug] = [
    KnownBug(
        "TS-1",
        OverflowError,
        "fota_tui/providers/thingspace/normalize.py:parse_time",
        "a time near the datetime limits (9999-12-31T23:59:59-01:00) overflows astimezone",
        lambda: norm.parse_time("9999-12-31T23:59:59-01:00"),
    ),
    KnownBug(
        "TS-3",
        RecursionError,
        "fota_tui/providers/thingspace/client.py:_error_answer",
        "a deeply nested error body escapes _decode as RecursionError (json.loads only"
        " guarded against ValueError)",
        lambda: decode(400, b"[" * 100_000),
    ),
    KnownBug(
        "TS-4",
        RecursionError,
        "fota_tui/providers/thingspace/auth.py:auth_problem",
        "a deeply nested 400/401/403 body escapes auth_problem as RecursionError",
        lambda: auth_problem(response(403, b"[" * 100_000)),
    ),
    KnownBug(
        "TS-5",
        UnicodeEncodeError,
        "fota_tui/providers/thingspace/client.py:_v3_devices",
        "a campaign id with a lone surrogate (JSON '\\ud800') crashes quote() in _v3_devices",
        lambda: _serve(
            "v3_campaigns",
            "upgrades",
            b'{"hasMoreData": false, "campaignList": [{"id": "\\ud800"}]}',
        ),
    ),
    KnownBug(
        "TS-6",
        UnicodeEncodeError,
        "fota_tui/providers/thingspace/client.py:devices",
        "a lastSeenDeviceId cursor with a lone surrogate crashes quote() in devices()",
        lambda: _serve(
            "v1_devices",
            "devices",
            b'{"hasMoreData": true, "lastSeenDeviceId": "\\ud800", "deviceList": []}',
        ),
    ),
    KnownBug(
        "TS-8",
        UnicodeEncodeError,
        "fota_tui/providers/thingspace/client.py:_v1_report",
        "a lastSeenUpgradeId cursor with a lone surrogate crashes quote() in _v1_report",
        lambda: _serve(
            "v1_reports",
            "campaigns",
            b'{"hasMoreFlag": true, "lastSeenUpgradeId": "\\ud800", "reportList": []}',
        ),
    ),
    KnownBug(
        "TS-10",
        UnicodeEncodeError,
        "fota_tui/providers/thingspace/client.py:aclose",
        "a non-ASCII sessionToken crashes aclose(): the logout headers cannot be encoded"
        " and only httpx.HTTPError/ProviderError are suppressed",
        lambda: _serve("login", "devices", '{"sessionToken": "é"}'.encode()),
    ),
]

# Open bugs: each reproducer is a strict xfail (a fix XPASSes: move the entry up).
KNOWN_BUGS: list[KnownBug] = []


# -- wire models and normalizers ---------------------------------------------------------------
def _first(items: Any) -> Any:
    return items[0] if isinstance(items, list) and items else None


CAMPAIGN = wire.V3Campaign(id="c-1", status="CampaignScheduled", firmwareTo="2.0")


def _v3_campaigns(page: wire.V3CampaignPage) -> list[Any]:
    out: list[Any] = []
    for c in page.campaignList:
        out.append(norm.v3_campaign(PROVIDER, c, None, OPTIONS))
        ups = [
            norm.v3_upgrade(PROVIDER, c, d, OPTIONS)
            for d in (wire.V3CampaignDevice(deviceId="1", status="UpgradeSuccess"),)
        ]
        out += [*ups, norm.v3_campaign(PROVIDER, c, ups, OPTIONS)]
    return out


def _v3_devices(page: wire.V3DevicePage) -> list[Any]:
    ups = [norm.v3_upgrade(PROVIDER, CAMPAIGN, d, OPTIONS) for d in page.deviceList]
    return [*ups, norm.v3_campaign(PROVIDER, CAMPAIGN, ups, OPTIONS), *norm.newest_first(ups)]


def _v1_upgrades(upgrades: list[wire.V1Upgrade]) -> list[Any]:
    out: list[Any] = []
    for u in upgrades:
        ups = norm.v1_upgrades(PROVIDER, u, OPTIONS)
        out += [*ups, norm.v1_campaign(PROVIDER, u, ups, OPTIONS)]
    return out


def _changes(answer: wire.ChangeAnswer) -> list[Any]:
    for item in answer.deviceList:
        change = norm.device_change(item)
        assert isinstance(change.ok, bool) and change.device_id == item.deviceId
    return []


def _auth(model: Any) -> list[Any]:
    if isinstance(model, wire.ErrorAnswer):
        assert model.code is None or isinstance(model.code, str)
        assert model.message is None or isinstance(model.message, str)
    return []


def parser(shape: Any, what: str = "fuzz") -> Any:
    return lambda data: wire.parse(PROVIDER, shape, data, what)


SHAPES = [
    Shape(
        "V1DevicePage",
        parser(wire.V1DevicePage),
        lambda p: [norm.device(PROVIDER, d) for d in p.deviceList],
        "v1_devices",
    ),
    Shape(
        "list[V3Firmware]",
        parser(list[wire.V3Firmware]),
        lambda rows: [norm.firmware_v3(PROVIDER, r) for r in rows],
        "v3_firmware",
    ),
    Shape(
        "list[V1Firmware]",
        parser(list[wire.V1Firmware]),
        lambda rows: [norm.firmware_v1(PROVIDER, r) for r in rows],
        "v1_firmware",
    ),
    Shape("V3CampaignPage", parser(wire.V3CampaignPage), _v3_campaigns, "v3_campaigns"),
    Shape(
        "V3Campaign",
        parser(wire.V3Campaign),
        lambda c: [norm.v3_campaign(PROVIDER, c, None, OPTIONS)],
        "v3_campaign",
    ),
    Shape("V3DevicePage", parser(wire.V3DevicePage), _v3_devices, "v3_devices"),
    Shape("V1Report", parser(wire.V1Report), lambda r: _v1_upgrades(r.reportList), "v1_reports"),
    Shape(
        "V1Upgrade",
        parser(wire.V1Upgrade),
        lambda u: _v1_upgrades([u]),
        "v1_reports",
        sample=lambda page: _first(page.get("reportList")) if isinstance(page, dict) else None,
    ),
    Shape(
        "list[V3History]",
        parser(list[wire.V3History]),
        lambda rows: norm.newest_first([norm.v3_history(PROVIDER, r, OPTIONS) for r in rows]),
        base=[{"deviceId": 1, "id": "c", "status": "UpgradeSuccess", "startDate": "2024-01-02"}],
    ),
    Shape(
        "list[V1History]",
        parser(list[wire.V1History]),
        lambda rows: [norm.v1_history(PROVIDER, r, OPTIONS) for r in rows],
        base=[
            {
                "deviceId": "1",
                "status": "UpgradeFailed",
                "reason": "x",
                "upgradeStartTime": "2021-06-03 00:03:56.079 +0000 UTC",
            }
        ],
    ),
    Shape(
        "ChangeAnswer",
        parser(wire.ChangeAnswer),
        _changes,
        base={"deviceList": [{"deviceId": "1", "status": "AddDeviceSucceed", "Reason": "ok"}]},
    ),
    Shape("TokenAnswer", parser(wire.TokenAnswer), _auth, "token"),
    Shape("SessionAnswer", parser(wire.SessionAnswer), _auth, "login"),
    Shape(
        "ErrorAnswer",
        parser(wire.ErrorAnswer),
        _auth,
        base={
            "errorCode": "SessionTokenExpired",
            "errorMessage": "expired",
            "fault": {"code": 1, "description": "x"},
        },
    ),
]

# -- status and time functions ---------------------------------------------------------------------
TABLES = (norm.V3_CAMPAIGN_STATES, norm.V1_UPGRADE_STATES)
FUNCTION_VALUES = {
    "raw": json_values(KEYS),
    "other": atoms(),
    "words": st.sampled_from(sorted(norm.DEVICE_STATES)),
}


def check_functions(raw: Any, other: Any, words: str) -> None:
    for value in (raw, other, words):
        outcome, when = allowed(partial(norm.parse_time, value), KNOWN_BUGS)
        assert outcome != "ok" or when is None or when.utcoffset().total_seconds() == 0
        assert isinstance(norm.status_key(value), str)
        state = norm.device_state(value, OPTIONS, other)
        assert isinstance(state, UpgradeState)
        counts = {s: 1 for s in UpgradeState}
        for table in TABLES:
            assert isinstance(norm.job_state(value, table, counts, OPTIONS), CampaignState)


# -- the envelope ----------------------------------------------------------------------------------
DECODE_EXAMPLES = 100
STATUSES = st.sampled_from(PLAIN_STATUSES)
check_decode = check_plain_decode  # no envelope: a 2xx body is plain JSON

# No error envelope at HTTP 200, so no taxonomy cases (errors come from HTTP statuses).
TAXONOMY: dict[bytes, type[ProviderError]] = {}
NOT_ENVELOPES: tuple[bytes, ...] = ()

# -- listings and paging against fuzzed answers -------------------------------------------------------
PAGERS = [
    ("token", "devices"),
    ("login", "devices"),
    ("v1_devices", "devices"),
    ("v3_campaigns", "upgrades"),
    ("v3_campaigns", "campaigns"),
    ("v3_devices", "upgrades"),
    ("v3_devices", "campaign"),
    ("v1_reports", "campaigns"),
    ("v3_firmware", "firmware"),
    ("v3_firmware", "health"),
    ("v1_firmware", "firmware"),
    ("v3_campaign", "campaign"),
    ("v3_history", "history"),
    ("v1_history", "history"),
]
NO_RECORDS: frozenset[str] = frozenset()  # every op gives records on real traffic

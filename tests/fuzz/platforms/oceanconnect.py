"""Wire fuzzing for the OceanConnect adapter: wire models + normalizers, the error envelope
(``_decode``) and every paged read against fuzzed answers. The only outcomes allowed are
valid domain records or ``ProviderProtocolError`` (see ``fuzz_harness``)."""

from __future__ import annotations

import functools
import json
from functools import partial
from typing import Any

from fuzz_harness import (
    PLAIN_STATUSES,
    PROVIDER,
    KnownBug,
    Platform,
    Route,
    RunawayPaging,
    Shape,
    allowed,
    check_plain_decode,
    field_names,
    json_or_none,
    options,
    record,
    response,
    serve,
)
from hypothesis import strategies as st
from pydantic import SecretStr
from strategies import atoms, json_values

from fota_tui.errors import ProviderError
from fota_tui.models import CampaignState, Firmware, ProviderKind, UpgradeState
from fota_tui.providers.oceanconnect import normalize as norm
from fota_tui.providers.oceanconnect import wire
from fota_tui.providers.oceanconnect.auth import token_rejected
from fota_tui.providers.oceanconnect.client import OceanConnectClient

KIND = ProviderKind.OCEANCONNECT


def make(opts: Any, creds: dict[str, str], **extra: Any) -> OceanConnectClient:
    return OceanConnectClient(opts, app_id=creds["app_id"], secret=SecretStr(creds["secret"]))


IODM = r"/iodm/northbound/v1\.5\.0"
PAGE = b'{"pageNo": 0, "pageSize": 100, "totalCount": 0, "data": []}'
PLATFORM = Platform(
    kind=KIND,
    make=make,
    routes=[
        Route("login", "POST", r"/iocm/app/sec/v1\.1\.0/login"),
        Route("refresh", "POST", r"/iocm/app/sec/v1\.1\.0/refreshToken"),
        Route("devices", "GET", r"/iocm/app/dm/v1\.4\.0/devices"),
        Route("category", "GET", IODM + r"/category"),
        Route("operations", "GET", IODM + r"/operations"),
        Route("suboperations", "GET", IODM + r"/operations/[^/]*/subOperations"),
        Route("operation", "GET", IODM + r"/operations/[^/]*"),
    ],
    quiet={
        "devices": b'{"pageNo": 0, "pageSize": 250, "totalCount": 0, "devices": []}',
        "category": PAGE,
        "operations": PAGE,
        "suboperations": PAGE,
    },
    status_map={"success": "failed", "Weird": "succeeded", "PROCESSING": "downloading"},
)
KEYS = field_names(wire)
OPTIONS = options(PLATFORM, "https://oc.example:8743", None)
MAP = OPTIONS.map_status


def decode(status: int, body: bytes) -> Any:
    return make(OPTIONS, {"app_id": "a", "secret": "s"})._decode(response(status, body))


def error_envelope(body: bytes) -> bool:
    """No error envelope: an HTTP 200 body is data, never an error."""
    return False


_serve = partial(serve, PLATFORM)


def _task_page(**task: Any) -> bytes:
    info = {"operationId": "op-1", "status": "PROCESSING", **task}
    return json.dumps({"pageNo": 0, "pageSize": 100, "totalCount": 1, "data": [info]}).encode()


# -- adapter bugs found by fuzzing --------------------------------
# Fixed bugs: each reproducer must now give records or a protocol error (regression tests).
FIXED_BUGS: list[KnownBug] = [
    KnownBug(
        "OC-1",
        OverflowError,
        "fota_tui/providers/oceanconnect/wire.py:parse_time",
        "a time near the datetime limits (99991231T235959-08:00, 00010101T000000+08:00)"
        " overflows astimezone inside a pydantic validator, so it escapes as OverflowError",
        lambda: wire.load(
            PROVIDER,
            wire.QueryDevice,
            {"deviceId": "d", "creationTime": "99991231T235959-08:00"},
            "device",
        ),
    ),
    KnownBug(
        "OC-3",
        RecursionError,
        "fota_tui/providers/oceanconnect/client.py:_error",
        "a deeply nested error body escapes _error (json.loads only guarded against ValueError)",
        lambda: decode(400, b"[" * 100_000),
    ),
    KnownBug(
        "OC-4",
        RecursionError,
        "fota_tui/providers/oceanconnect/auth.py:token_rejected",
        "a deeply nested 403 body escapes token_rejected as RecursionError",
        lambda: token_rejected(response(403, b"[" * 100_000)),
    ),
    KnownBug(
        "OC-5",
        OverflowError,
        "fota_tui/providers/oceanconnect/client.py:_pages",
        "totalCount 10**400 overflows math.ceil(totalCount / size) in _pages",
        lambda: _serve(
            "operations",
            "campaigns",
            b'{"totalCount": 1' + b"0" * 400 + b', "data": [{"operationId": "x"}]}',
        ),
    ),
    KnownBug(
        "OC-6",
        OverflowError,
        "fota_tui/providers/oceanconnect/client.py:_all_sub_operations",
        "staResult.total 10**400 overflows math.ceil(total / size) in _all_sub_operations;"
        " totals from 1e7 up build a plan list of total/100 entries (1e12 is ~1 TB: the"
        " pager fuzz has to skip those, see _plan_bomb)",
        lambda: _serve("operations", "upgrades", _task_page(staResult={"total": 10**400})),
    ),
    KnownBug(
        "OC-7",
        RunawayPaging,
        "paging:suboperations",
        "staResult.total 100000 makes upgrades() request 1000 subOperations pages although"
        " the second one is already empty",
        lambda: _serve("operations", "upgrades", _task_page(staResult={"total": 100_000})),
    ),
    KnownBug(
        "OC-8",
        OverflowError,
        "fota_tui/providers/oceanconnect/auth.py:_store",
        "expiresIn 10**400 in the login answer overflows float() in OceanConnectAuth._store",
        lambda: _serve(
            "login", "devices", b'{"accessToken": "t", "expiresIn": 1' + b"0" * 400 + b"}"
        ),
    ),
    KnownBug(
        "OC-9",
        UnicodeEncodeError,
        "fota_tui/providers/oceanconnect/client.py:_sub_path",
        "an operationId with a lone surrogate (JSON '\\ud800') crashes quote() in _sub_path",
        lambda: _serve("operations", "upgrades", _task_page(operationId="\ud800")),
    ),
]

# Open bugs: each reproducer is a strict xfail (a fix XPASSes: move the entry up).
KNOWN_BUGS: list[KnownBug] = []


# -- wire models and normalizers ---------------------------------------------------------------
@functools.cache
def packages() -> dict[str, Firmware]:
    traffic = record(PLATFORM)
    body = next(e.body for e in traffic.by_route("category") if e.status == 200)
    page = wire.load(PROVIDER, wire.CategoryPage, json_or_none(body)[1], "category")
    return {f.firmware_id: f for f in (norm.firmware(PROVIDER, i) for i in page.data)}


def _campaigns(infos: list[wire.OperationInfo]) -> list[Any]:
    out = []
    for info in infos:
        version = norm.target_version(info, packages())
        assert version is None or isinstance(version, str)
        out.append(norm.campaign(PROVIDER, info, packages(), MAP))
        out.append(norm.campaign(PROVIDER, info, {}, MAP))
    return out


def _subs(page: wire.SubOperationPage) -> list[Any]:
    return [norm.upgrade(PROVIDER, sub, "op-1", "1.0", MAP) for sub in page.data]


def _checked(model: Any) -> list[Any]:
    if isinstance(model, wire.TokenResponse):
        assert model.accessToken and isinstance(model.expiresIn, int)
    if isinstance(model, wire.CreateTaskResponse):
        assert model.operationId
    return []


def loader(model: Any) -> Any:
    return lambda data: wire.load(PROVIDER, model, data, "fuzz")


def _first(payload: Any) -> Any:
    rows = payload.get("data") if isinstance(payload, dict) else None
    return rows[0] if isinstance(rows, list) and rows else None


SHAPES = [
    Shape("TokenResponse", loader(wire.TokenResponse), _checked, "login"),
    Shape(
        "ErrorBody",
        loader(wire.ErrorBody),
        _checked,
        base={"error_code": "100208", "error_desc": "appId or secret is not right"},
    ),
    Shape(
        "CategoryPage",
        loader(wire.CategoryPage),
        lambda p: [norm.firmware(PROVIDER, i) for i in p.data],
        "category",
    ),
    Shape(
        "DevicePage",
        loader(wire.DevicePage),
        lambda p: [norm.device(PROVIDER, d) for d in p.devices],
        "devices",
    ),
    Shape(
        "OperationPage",
        loader(wire.OperationPage),
        lambda p: _campaigns(list(p.data)),
        "operations",
    ),
    Shape(
        "OperationInfo",
        loader(wire.OperationInfo),
        lambda i: _campaigns([i]),
        "operations",
        sample=_first,
    ),
    Shape("SubOperationPage", loader(wire.SubOperationPage), _subs, "suboperations"),
    Shape(
        "CreateTaskResponse",
        loader(wire.CreateTaskResponse),
        _checked,
        base={"operationId": "5c5a6c4d5e3a9c0001a3b2c1"},
    ),
]

# -- status functions ------------------------------------------------------------------------------
FUNCTION_VALUES = {
    "raw": json_values(KEYS),
    "other": atoms(),
    "word": st.sampled_from(sorted(norm.SUBTASK_STATES)),
}


def check_functions(raw: Any, other: Any, word: str) -> None:
    for value in (raw, other, word):
        assert isinstance(norm.status_key(value), str)
        assert isinstance(norm.upgrade_state(value, other, MAP), UpgradeState)
        assert norm.progress_state(value) is None or isinstance(
            norm.progress_state(value), UpgradeState
        )
        outcome, sta = allowed(
            partial(wire.load, PROVIDER, wire.StaResult, value, "sta"), KNOWN_BUGS
        )
        sta = sta if outcome == "ok" else None
        assert isinstance(norm.campaign_state(value, sta, MAP), CampaignState)
        assert all(n >= 0 for n in norm.counts(sta).values())


# -- the envelope ----------------------------------------------------------------------------------
DECODE_EXAMPLES = 100
STATUSES = st.sampled_from(PLAIN_STATUSES)
check_decode = check_plain_decode  # no envelope: a 2xx body is plain JSON

# No error envelope at HTTP 200, so no taxonomy cases (errors come from HTTP statuses).
TAXONOMY: dict[bytes, type[ProviderError]] = {}
NOT_ENVELOPES: tuple[bytes, ...] = ()

# -- paged reads against fuzzed answers ---------------------------------------------------------------
PAGERS = [
    ("login", "devices"),
    ("devices", "devices"),
    ("category", "firmware"),
    ("category", "health"),
    ("operations", "campaigns"),
    ("operations", "upgrades"),
    ("operations", "history"),
    ("suboperations", "upgrades"),
    ("suboperations", "campaign"),
    ("suboperations", "history"),
    ("operation", "campaign"),
]
NO_RECORDS: frozenset[str] = frozenset()  # every op gives records on real traffic

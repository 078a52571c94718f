"""Wire fuzzing for the OneNET adapter: wire models + normalizers + command pairing and
batching, the ``{errno, error, data}`` envelope (``_decode``) and every paged read against
fuzzed answers. The only outcomes allowed are valid domain records, ``ProviderProtocolError``
or what a well-formed error envelope maps to (see ``fuzz_harness``)."""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from fuzz_harness import (
    PROVIDER,
    Ids,
    KnownBug,
    Platform,
    Route,
    RunawayPaging,
    Shape,
    allowed,
    field_names,
    json_or_none,
    options,
    response,
    same_json,
    serve,
)
from hypothesis import strategies as st
from pydantic import SecretStr
from strategies import HOSTILE_STRINGS, TIME_STRINGS, atoms

from fota_tui.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.providers.base import LocalGroup
from fota_tui.providers.onenet import batches, wire
from fota_tui.providers.onenet import normalize as norm
from fota_tui.providers.onenet.client import OneNetClient

KIND = ProviderKind.ONENET
NOW = datetime.fromisoformat("2026-11-22T08:00:00+00:00")  # the simulator's ManualClock


def make(opts: Any, creds: dict[str, str], **extra: Any) -> OneNetClient:
    return OneNetClient(
        opts, api_key=SecretStr(creds["api_key"]), per_second=None, clock=lambda: NOW, **extra
    )


async def _by_imei(client: OneNetClient, ids: Ids) -> list[Any]:
    return [d async for d in client.devices()]


def _no_rate_limit(dialect: Any) -> None:
    dialect.rate_limit = None


PLATFORM = Platform(
    kind=KIND,
    make=make,
    routes=[
        Route("getbyimei", "GET", r"/devices/getbyimei"),
        Route("devices", "GET", r"/devices"),
        Route("history", "GET", r"/nbiot/offline/history"),
        Route("history_detail", "GET", r"/nbiot/offline/history/[^/]*"),
        Route("nbiot", "GET", r"/nbiot"),
    ],
    quiet={
        "devices": b'{"errno": 0, "error": "succ", "data": {"total_count": 0, "devices": []}}',
        "history": b'{"errno": 0, "error": "succ", "data": {"total_count": 0, "items": []}}',
        "nbiot": b'{"errno": 0, "error": "succ", "data": []}',
    },
    status_map={"6": "expired", "6:TIME_OUT": "cancelled", "weird": "succeeded"},
    extra_ops={"by_imei": _by_imei},
    client_extra=lambda ids: {"imeis": [ids.device_id or ""]},
    prepare_sim=_no_rate_limit,
)
KEYS = field_names(wire)
OPTIONS = options(PLATFORM, "https://api.heclouds.example", None)
MAP = OPTIONS.map_status
CLIENT = make(OPTIONS, {"api_key": "k"})


def decode(status: int, body: bytes) -> Any:
    return CLIENT._decode(response(status, body))


def _errno(value: Any) -> Any:
    """errno as the adapter should read it: an int, or a string of ASCII digits."""
    if isinstance(value, str) and value.strip().lstrip("-").isascii():
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) < 4000:
            return int(text)
    return value


def error_envelope(body: bytes) -> bool:
    """A JSON object whose errno is an integer other than 0."""
    parsed, value = json_or_none(body)
    if not parsed or not isinstance(value, dict) or "errno" not in value:
        return False
    errno = _errno(value["errno"])
    return isinstance(errno, int) and not isinstance(errno, bool) and errno != 0


_serve = partial(serve, PLATFORM)


def _ok(data: Any) -> bytes:
    return json.dumps({"errno": 0, "error": "succ", "data": data}).encode()


# -- adapter bugs found by fuzzing --------------------------------
# Fixed bugs: each reproducer must now give records or a protocol error (regression tests).
FIXED_BUGS: list[KnownBug] = [
    KnownBug(
        "ON-1",
        OverflowError,
        "fota_tui/providers/onenet/wire.py:parse_beijing",
        "Go's zero time '0001-01-01 00:00:00' (Beijing, +08:00) is before year 1 in UTC:"
        " astimezone raises OverflowError inside the pydantic validator",
        lambda: wire.parse(
            PROVIDER,
            wire.Command,
            {"cmd_uuid": "u", "create_time": "0001-01-01 00:00:00"},
            "command",
        ),
    ),
    KnownBug(
        "ON-3",
        RecursionError,
        "fota_tui/providers/onenet/client.py:_decode",
        "a deeply nested HTTP >= 400 body escapes _decode: response.json() is only guarded"
        " against ValueError",
        lambda: decode(502, b"[" * 100_000),
    ),
    KnownBug(
        "ON-4",
        ValueError,
        "fota_tui/providers/onenet/normalize.py:as_int",
        "str.isdigit() accepts '²' and 5000-digit strings, then int() raises: send_status"
        " or confirm_status '²' crashes command_state/confirm_name",
        lambda: _serve(
            "history",
            "upgrades",
            _ok(
                {
                    "total_count": 2,
                    "items": [
                        {
                            "cmd_uuid": "w",
                            "type": "WRITE",
                            "create_time": "2026-11-22 10:00:00",
                            "expired_time": "2026-11-29 10:00:00",
                            "send_status": 5,
                        },
                        {
                            "cmd_uuid": "e",
                            "type": "EXECUTE",
                            "create_time": "2026-11-22 10:00:01",
                            "expired_time": "2026-11-29 10:00:00",
                            "send_status": "²",
                        },
                    ],
                }
            ),
        ),
    ),
    KnownBug(
        "ON-5",
        ValueError,
        "fota_tui/providers/onenet/client.py:_decode",
        "errno '²' (or 5000 digits) passes the isdigit() check and int() raises in _decode",
        lambda: decode(200, b'{"errno": "\\u00b2", "data": null}'),
    ),
    KnownBug(
        "ON-6",
        RunawayPaging,
        "paging:devices",
        "total_count 30000 makes devices() request all 300 pages (1e6: 10000) although"
        " page 2 is already empty (no stop at a short or empty page)",
        lambda: _serve(
            "devices",
            "devices",
            _ok({"total_count": 30_000, "devices": [{"id": 1, "auth_info": {"1": "2"}}]}),
        ),
    ),
    KnownBug(
        "ON-7",
        OverflowError,
        "fota_tui/providers/onenet/client.py:_list_devices",
        "total_count 10**400 overflows math.ceil(total_count / PER_PAGE) in _list_devices()",
        lambda: _serve("devices", "devices", _ok({"total_count": 10**400, "devices": []})),
    ),
]

# Open bugs: each reproducer is a strict xfail (a fix XPASSes: move the entry up).
KNOWN_BUGS: list[KnownBug] = []


# -- wire models, normalizers, pairing and batching ---------------------------------------------------
@functools.cache
def groups() -> tuple[LocalGroup, ...]:
    return (
        LocalGroup(
            campaign_id="local-1",
            provider=PROVIDER,
            created_at=NOW - timedelta(days=1),
            device_ids=("860000000000001",),
            firmware="coap://f.example/a.bin",
            firmware_to="A09",
            job_refs=("u-1",),
        ),
        LocalGroup(
            campaign_id="local-2",
            provider=PROVIDER,
            created_at=NOW - timedelta(days=2),
            device_ids=("860000000000001", "860000000000002"),
        ),
    )


def _commands(page: wire.CommandPage) -> list[Any]:
    out: list[Any] = []
    for cmd in page.items:
        state, reason = norm.command_state(cmd, NOW, MAP)
        assert isinstance(state, UpgradeState) and (reason is None or isinstance(reason, str))
    for imei in ("860000000000001", "860000000000002"):
        pairs = norm.pair_commands(imei, page.items, known_writes=frozenset({"u-1"}))
        ups = []
        for pair in pairs:
            state, raw, reason = norm.pair_state(pair, NOW, MAP)
            state, reason = norm.refine_with_object5(state, reason, {3: 2, 5: 0})
            ups.append(norm.upgrade(PROVIDER, pair, state, raw, reason, "cid", "A09"))
        out += ups
        for batch in batches.assign(pairs, groups()):
            members = [ups[i] for i in batch.members]
            out.append(batches.campaign_of(PROVIDER, batch, pairs, members))
            parsed = batches.parse_batch_id(batch.campaign_id)
            assert parsed is None or parsed[0].tzinfo is not None
    return out


def _devices(page: wire.DevicePage) -> list[Any]:
    devices = [norm.device_from_record(PROVIDER, r) for r in page.devices]
    found = wire.DeviceByImei(id="1", title="t", online=True)
    extra = [norm.device_from_imei(PROVIDER, "860000000000001", found, r) for r in page.devices]
    return [d for d in devices if d is not None] + extra


def _object5(instances: list[wire.Instance]) -> list[Any]:
    values = norm.object5_values(instances)
    for state in (UpgradeState.SUCCEEDED, UpgradeState.QUEUED):
        refined, reason = norm.refine_with_object5(state, None, values)
        assert isinstance(refined, UpgradeState) and (reason is None or isinstance(reason, str))
    return []


def _checked(model: Any) -> list[Any]:
    if isinstance(model, wire.DeviceByImei):
        return [norm.device_from_imei(PROVIDER, "860000000000001", model, None)]
    if isinstance(model, wire.CommandDetail):
        state, _ = norm.command_state(model, NOW, MAP)
        assert isinstance(state, UpgradeState)
    if isinstance(model, wire.Created):
        assert isinstance(model.uuid, str)
    return []


def parser(model: Any) -> Any:
    return lambda data: wire.parse(PROVIDER, model, data, "fuzz")


def _data(payload: Any) -> Any:
    return payload.get("data") if isinstance(payload, dict) else None


def _first_item(payload: Any) -> Any:
    items = (_data(payload) or {}).get("items") if isinstance(_data(payload), dict) else None
    return items[0] if isinstance(items, list) and items else None


SHAPES = [
    Shape("CommandPage", parser(wire.CommandPage), _commands, "history", sample=_data),
    Shape("CommandDetail", parser(wire.CommandDetail), _checked, "history", sample=_first_item),
    Shape("DevicePage", parser(wire.DevicePage), _devices, "devices", sample=_data),
    Shape("DeviceByImei", parser(wire.DeviceByImei), _checked, "getbyimei", sample=_data),
    Shape(
        "list[Instance]",
        lambda d: wire.parse_list(PROVIDER, wire.Instance, d, "fuzz"),
        _object5,
        "nbiot",
        sample=_data,
    ),
    Shape("Created", parser(wire.Created), _checked, base={"uuid": "a1b2c3 "}),
]

# -- status and time functions ---------------------------------------------------------------------
TEXT = st.sampled_from(TIME_STRINGS + HOSTILE_STRINGS) | st.text(max_size=20)
FUNCTION_VALUES = {"raw": atoms(), "text": TEXT, "other": atoms()}


def check_functions(raw: Any, text: str, other: Any) -> None:
    for value in (raw, text):
        outcome, number = allowed(partial(norm.as_int, value), KNOWN_BUGS)
        assert outcome != "ok" or number is None or isinstance(number, int)
        outcome, name = allowed(partial(norm.confirm_name, value), KNOWN_BUGS)
        assert outcome != "ok" or name is None or isinstance(name, str)
        values = {norm.RES_STATE: value, norm.RES_RESULT: other}
        refine = partial(norm.refine_with_object5, UpgradeState.SUCCEEDED, None, values)
        outcome, refined = allowed(refine, KNOWN_BUGS)
        assert outcome != "ok" or isinstance(refined[0], UpgradeState)
    outcome, when = allowed(lambda: wire.parse_beijing(text), KNOWN_BUGS)
    assert outcome != "ok" or when is None or when.utcoffset() == timedelta(0)
    parsed = batches.parse_batch_id(text)
    assert parsed is None or parsed[0].utcoffset() == timedelta(0)


# -- the envelope ----------------------------------------------------------------------------------
DECODE_EXAMPLES = 80
STATUSES = st.sampled_from(
    [200, 200, 200, 201, 204, 400, 401, 403, 404, 408, 418, 429, 500, 502, 503, 599]
)


def check_decode(body: bytes, outcome: str, value: Any) -> None:
    """The 2xx oracle: errno 0 gives the data, another integer errno its error."""
    parsed, doc = json_or_none(body)
    if error_envelope(body):
        assert outcome == "error" and not isinstance(value, ProviderProtocolError)
    elif (
        parsed
        and isinstance(doc, dict)
        and _errno(doc.get("errno")) == 0
        and (not isinstance(doc.get("errno"), bool))
    ):
        assert outcome == "ok" and same_json(value, doc.get("data"))
    else:
        assert outcome == "protocol", f"{body[:80]!r} gave {outcome}"


# Well-formed errno envelopes (HTTP 200) and the documented errors they give.
TAXONOMY: dict[bytes, type[ProviderError]] = {
    b'{"errno": 1, "error": "auth failed"}': ProviderAuthError,
    b'{"errno": 7, "error": "service internal error"}': ProviderRateLimited,
    b'{"errno": 5117, "error": "busy"}': ProviderUnavailable,
    b'{"errno": "10", "error": "required: imei must be set"}': ProviderRejected,
}
NOT_ENVELOPES: tuple[bytes, ...] = (b'{"error": "no errno"}',)  # protocol errors

# -- paged reads against fuzzed answers ---------------------------------------------------------------
PAGERS = [
    ("devices", "devices"),
    ("devices", "upgrades"),
    ("devices", "health"),
    ("getbyimei", "by_imei"),
    ("history", "upgrades"),
    ("history", "campaigns"),
    ("history", "history"),
    ("history", "campaign"),
    ("nbiot", "upgrades"),
]
NO_RECORDS: frozenset[str] = frozenset()  # every op gives records on real traffic

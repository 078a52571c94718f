"""Wire fuzzing for the AOVX adapter: wire models + normalizers + the OTA-record grouping,
the ``{code, message, data}`` envelope (``_decode``, with the ``Date`` header the adapter
reads its clock from) and every paged read against fuzzed answers. The only outcomes
allowed are valid domain records, ``ProviderProtocolError``, or what a well-formed error
envelope maps to (see ``fuzz_harness``)."""

from __future__ import annotations

import functools
import json
import time
from datetime import timedelta
from functools import partial
from typing import Any

from fuzz_harness import (
    PROVIDER,
    Ids,
    KnownBug,
    Platform,
    Route,
    Shape,
    allowed,
    field_names,
    json_or_none,
    options,
    record,
    response,
    same_json,
    serve,
)
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from strategies import HOSTILE_STRINGS, TIME_STRINGS, atoms

from fota_tui.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from fota_tui.models import Firmware, ProviderKind, UpgradeState
from fota_tui.providers.aovx import grouping, wire
from fota_tui.providers.aovx import normalize as norm
from fota_tui.providers.aovx.auth import token_rejected
from fota_tui.providers.aovx.client import AovxClient
from fota_tui.providers.base import LocalGroup

KIND = ProviderKind.AOVX


def make(opts: Any, creds: dict[str, str], **extra: Any) -> AovxClient:
    if "token" in creds:
        return AovxClient(opts, token=SecretStr(creds["token"]), **extra)
    return AovxClient(
        opts, username=creds["username"], password=SecretStr(creds["password"]), **extra
    )


async def _device(client: AovxClient, ids: Ids) -> list[Any]:
    assert ids.device_id
    return [await client.device(ids.device_id)]


async def _online(client: AovxClient, ids: Ids) -> list[Any]:
    assert ids.device_id
    state = await client.online(ids.device_id)
    assert state is None or isinstance(state, bool)
    return []


ASSET = r"/system/asset"
EMPTY = b'{"code": 200, "message": "ok", "data": {"total": 0, "size": 0, "data": []}}'
PLATFORM = Platform(
    kind=KIND,
    make=make,
    routes=[
        Route("login", "POST", r"/system/user/login"),
        Route("terminals", "POST", ASSET + r"/terminal/queryLoginUserTerminalInfoList"),
        Route("terminal", "POST", ASSET + r"/terminal/queryTerminalInfo"),
        Route("online", "POST", ASSET + r"/status/queryTerminalOnlineStatus"),
        Route("report", "POST", ASSET + r"/command/queryTerminalOtaReport"),
    ],
    quiet={"terminals": EMPTY, "report": EMPTY},
    status_map={"3": "failed", "-1": "expired", "weird": "succeeded"},
    extra_ops={"device": _device, "online": _online},
)
KEYS = field_names(wire)
OPTIONS = options(PLATFORM, "https://cloud.aovx.example/prod", None)
MAP = OPTIONS.map_status
CLIENT = make(OPTIONS, {"token": "t"})


def decode(status: int, body: bytes) -> Any:
    return CLIENT._decode(response(status, body))


def error_envelope(body: bytes) -> bool:
    """A JSON object the envelope model accepts, with a code other than 200."""
    parsed, value = json_or_none(body)
    if not parsed or not isinstance(value, dict):
        return False
    try:
        return wire.Envelope.model_validate(value).code != 200
    except ValidationError:
        return False


_serve = partial(serve, PLATFORM)


def _report(**row: Any) -> bytes:
    record = {
        "terminalId": "T1",
        "status": 3,
        "sendTime": "2026-11-20T08:00:00Z",
        "upgradeInfo": json.dumps({"VERSION": "2", "URL": "http://f.example/a.bin"}),
        **row,
    }
    page = {"total": 1, "size": 1, "data": [record]}
    return json.dumps({"code": 200, "message": "ok", "data": page}).encode()


def _token_message_cpu_seconds() -> None:
    """AX-5: the token-words regex must stay linear (a fixed one takes microseconds)."""
    message = "token " * 1000  # 6 KB
    started = time.process_time()
    norm.is_token_invalid(0, message)
    elapsed = time.process_time() - started
    assert elapsed < 0.1, f"is_token_invalid took {elapsed:.2f}s of CPU on a 6 KB message"


# -- adapter bugs found by fuzzing --------------------------------
# Fixed bugs: each reproducer must now give records or a protocol error (regression tests).
FIXED_BUGS: list[KnownBug] = [
    KnownBug(
        "AX-1",
        OverflowError,
        "fota_tui/providers/aovx/normalize.py:parse_time",
        "a time near the datetime limits (sendTime 9999-12-31T23:59:59-01:00, or a Date"
        " header of Fri, 31 Dec 9999 23:59:59 -0800) overflows astimezone in parse_time",
        lambda: _serve("report", "upgrades", _report(sendTime="9999-12-31T23:59:59-01:00")),
    ),
    KnownBug(
        "AX-3",
        RecursionError,
        "fota_tui/providers/aovx/auth.py:token_rejected",
        "a deeply nested body escapes token_rejected (json.loads only guarded against"
        " ValueError) on every request of a login client",
        lambda: token_rejected(response(200, b"[" * 100_000)),
    ),
    KnownBug(
        "AX-4",
        ValueError,
        "fota_tui/providers/aovx/normalize.py:status_code",
        "an OTA status of more than 4300 digits (a JSON string) makes int() raise in status_code",
        lambda: _serve("report", "upgrades", _report(status="1" * 5000)),
    ),
    KnownBug(
        "AX-5",
        AssertionError,
        "fota_tui/providers/aovx/normalize.py:is_token_invalid",
        "catastrophic backtracking: '(token|…).*(invalid|…)' is quadratic, so an error"
        " message of 'token ' * 4000 (24 KB) takes ~8 s of CPU per answer",
        _token_message_cpu_seconds,
    ),
    KnownBug(
        "AX-6",
        ValueError,
        "fota_tui/providers/aovx/normalize.py:file_name",
        "an upgradeInfo URL such as 'http://[abc/x.bin' makes urlsplit raise ValueError"
        " (Invalid IPv6 URL) in file_name (campaign names, firmware())",
        lambda: _serve(
            "report",
            "campaigns",
            _report(upgradeInfo=json.dumps({"VERSION": "2", "URL": "http://[abc/x.bin"})),
        ),
    ),
]

# Open bugs: each reproducer is a strict xfail (a fix XPASSes: move the entry up).
KNOWN_BUGS: list[KnownBug] = []


# -- wire models, normalizers and grouping --------------------------------------------------------
@functools.cache
def groups() -> tuple[LocalGroup, ...]:
    """A local group that claims the first real OTA record (exercises the claim path)."""
    traffic = record(PLATFORM)
    body = next(e.body for e in traffic.by_route("report") if e.status == 200)
    row = json.loads(body)["data"]["data"][0]
    rep = norm.report(wire.OtaRecord.model_validate(row), MAP)
    assert rep.sent_at is not None
    return (
        LocalGroup(
            campaign_id="local-1",
            provider=PROVIDER,
            created_at=rep.sent_at,
            device_ids=(rep.terminal_id, "T-absent"),
            name="mine",
            firmware=rep.info.url,
            firmware_to=rep.info.version,
        ),
    )


def parser(model: Any) -> Any:
    return lambda data: CLIENT._parse(model, data, "fuzz")


def _reports(page: wire.Page) -> list[Any]:
    reports = [norm.report(CLIENT._parse(wire.OtaRecord, row, "row"), MAP) for row in page.rows]
    out: list[Any] = []
    for offset in (timedelta(0), timedelta(hours=8)):
        assigned = grouping.assign(reports, groups(), offset=offset)
        out += [grouping.upgrade(PROVIDER, a.report, a.campaign_id) for a in assigned]
        out += grouping.details(PROVIDER, assigned, groups())
    for rep in reports:
        assert isinstance(rep.firmware_key, tuple)
        if rep.info.url:
            out.append(
                Firmware(
                    provider=PROVIDER,
                    kind=KIND,
                    firmware_id=rep.info.url,
                    name=norm.file_name(rep.info.url),
                    url=rep.info.url,
                )
            )
    return out


def _terminals(page: wire.Page) -> list[Any]:
    return [norm.device(PROVIDER, CLIENT._parse(wire.Terminal, row, "t")) for row in page.rows]


def _checked(model: Any) -> list[Any]:
    if isinstance(model, wire.LoginData):
        assert model.token_id
    if isinstance(model, wire.TerminalInfo):
        return [norm.device(PROVIDER, model, None)]
    return []


def _data(payload: Any) -> Any:
    return payload.get("data") if isinstance(payload, dict) else None


SHAPES = [
    Shape("Envelope", parser(wire.Envelope), _checked, "terminals"),
    Shape("LoginData", parser(wire.LoginData), _checked, "login", sample=_data),
    Shape("Page[Terminal]", parser(wire.Page), _terminals, "terminals", sample=_data),
    Shape("Page[OtaRecord]", parser(wire.Page), _reports, "report", sample=_data),
    Shape("TerminalInfo", parser(wire.TerminalInfo), _checked, "terminal", sample=_data),
    Shape("OnlineStatus", parser(wire.OnlineStatus), _checked, "online", sample=_data),
]

# -- status, time and package functions ------------------------------------------------------------
TEXT = st.sampled_from(TIME_STRINGS + HOSTILE_STRINGS) | st.text(max_size=20)
FUNCTION_VALUES = {"raw": atoms(), "text": TEXT, "number": atoms()}


def check_functions(raw: Any, text: str, number: Any) -> None:
    for value in (raw, text):
        outcome, code = allowed(partial(norm.status_code, value), KNOWN_BUGS)
        assert outcome != "ok" or code is None or isinstance(code, int)
        outcome, mapped = allowed(partial(norm.map_status, value, MAP), KNOWN_BUGS)
        if outcome == "ok":
            state, reason = mapped
            assert isinstance(state, UpgradeState) and (reason is None or isinstance(reason, str))
        info = norm.parse_upgrade_info(value)
        assert info.valid or info.raw is value
        outcome, name = allowed(partial(getattr, info, "file_name"), KNOWN_BUGS)
        assert outcome != "ok" or name is None or isinstance(name, str)
    epoch = number if isinstance(number, int) and not isinstance(number, bool) else None
    outcome, when = allowed(lambda: norm.parse_time(text, epoch), KNOWN_BUGS)
    assert outcome != "ok" or when is None or when.utcoffset() == timedelta(0)
    stamp = norm.batch_time(text)
    assert stamp is None or stamp.tzinfo is not None
    assert isinstance(norm.is_token_invalid(None, text[:200]), bool)


# -- the envelope ----------------------------------------------------------------------------------
DECODE_EXAMPLES = 80
STATUSES = st.sampled_from(
    [200, 200, 200, 201, 204, 400, 401, 403, 404, 408, 418, 429, 500, 502, 503, 599]
)


def check_decode(body: bytes, outcome: str, value: Any) -> None:
    """The 2xx oracle: a JSON object is an envelope, its data or its error."""
    parsed, doc = json_or_none(body)
    if not parsed or not isinstance(doc, dict):
        assert outcome == "protocol", f"a body that is no JSON object gave {outcome}"
    elif error_envelope(body):
        assert outcome == "error" and not isinstance(value, ProviderProtocolError)
    elif outcome == "ok":
        assert wire.Envelope.model_validate(doc).code == 200 and same_json(value, doc.get("data"))
    else:
        assert outcome == "protocol"


# Well-formed error envelopes (HTTP 200) and the documented errors they give.
TAXONOMY: dict[bytes, type[ProviderError]] = {
    b'{"code": 429, "message": "slow down"}': ProviderRateLimited,
    b'{"code": 401, "message": "token expired"}': ProviderAuthError,
    b'{"code": 500, "message": "boom"}': ProviderUnavailable,
    b'{"code": 404, "message": "no such terminal"}': ProviderNotFound,
    b'{"code": "4001", "message": "bad parameter"}': ProviderRejected,
}
NOT_ENVELOPES: tuple[bytes, ...] = (b'{"message": "no code"}',)  # protocol errors

# -- paged reads against fuzzed answers ---------------------------------------------------------------
PAGERS = [
    ("login", "devices"),
    ("terminals", "devices"),
    ("terminals", "health"),
    ("terminals", "campaigns"),
    ("report", "upgrades"),
    ("report", "campaigns"),
    ("report", "firmware"),
    ("report", "history"),
    ("report", "campaign"),
    ("terminal", "device"),
    ("online", "online"),
]
NO_RECORDS = frozenset({"online"})  # ops that give no records on real traffic

"""Pure AOVX wire → domain functions: status table, ``upgradeInfo``, times, terminals."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from fota_tui.models import Device, ProviderKind, UpgradeState
from fota_tui.providers.aovx.wire import OtaRecord, Terminal
from fota_tui.providers.http import JSON_ERRORS

KIND = ProviderKind.AOVX
REQUEST_TIME = "%Y-%m-%d %H:%M:%S"  # request times are UTC in this form
_STAMP = "%Y%m%dT%H%M%SZ"

# OTA report ``status``. Seed page 000 defines the meanings, which outrank the inferred table
# in docs/platforms/aovx.md (that table maps 2 to in_progress). A profile overrides
# any row through ``status_map`` (``options.map_status``); unlisted values are ``unknown``.
STATUS_TABLE: dict[int, tuple[UpgradeState, str | None]] = {
    -1: (UpgradeState.FAILED, "delivery failed/timeout: the upgrade command was not issued"),
    1: (UpgradeState.SENDING, None),  # issued, waiting for the terminal to download
    2: (UpgradeState.DOWNLOADING, None),  # upgrade started, terminal downloading
    3: (UpgradeState.SUCCEEDED, None),
    4: (UpgradeState.FAILED, "upgrade failed (reported by the terminal)"),
}

# Answers that mean "log in again": English or Chinese wording, any code. A subject word
# followed (on the same line) by a verdict word, or one of the standalone phrases.
_TOKEN_SUBJECT = re.compile(r"token|令牌|登录|login|log in|session", re.IGNORECASE)
_TOKEN_VERDICT = re.compile(
    r"invalid|expired|illegal|not exist|missing|empty|失效|过期|无效|非法|不存在|为空|重新登录|again",
    re.IGNORECASE,
)
_TOKEN_PHRASES = re.compile(
    r"未登录|请先登录|重新登录|not logged in|please log ?in|unauthori[sz]ed", re.IGNORECASE
)
_MESSAGE_CHARS = 500  # the wording is at the start; a longer message is not scanned further


def is_token_invalid(code: int | None, message: str | None) -> bool:
    """Linear in the message: each line is searched for a subject, then for a verdict after
    its first subject (one ``subject.*verdict`` regex backtracks quadratically)."""
    if code == 401:
        return True
    if not message:
        return False
    text = message[:_MESSAGE_CHARS]
    if _TOKEN_PHRASES.search(text):
        return True
    for line in text.split("\n"):
        subject = _TOKEN_SUBJECT.search(line)
        if subject and _TOKEN_VERDICT.search(line, subject.end()):
            return True
    return False


_MAX_DIGITS = 18


def status_code(raw: Any) -> int | None:
    """The raw status as an int when it is one (``3``, ``"3"``, ``3.0``), else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        digits = raw.strip().removeprefix("-")
        # ASCII only ("²" and "٣" are digits to isdigit) and short (int() refuses 4300+)
        if digits.isascii() and digits.isdigit() and len(digits) <= _MAX_DIGITS:
            return int(raw)
    return None


StatusOverride = Callable[[Any, UpgradeState], UpgradeState]


def map_status(raw: Any, override: StatusOverride | None = None) -> tuple[UpgradeState, str | None]:
    """(normalized state, reason text); never raises, unmapped → ``unknown``."""
    code = status_code(raw)
    entry = STATUS_TABLE.get(code) if code is not None else None
    state, reason = entry or (UpgradeState.UNKNOWN, f"unmapped AOVX status {raw!r}")
    if override is not None:
        with contextlib.suppress(ValueError):  # a bad override keeps the table's state
            state = override(raw, state)
    return state, reason


# -- upgradeInfo -----------------------------------------------------------------
@dataclass(frozen=True)
class UpgradeInfo:
    """``upgradeInfo`` parsed from its JSON string; ``valid`` False keeps only ``raw``."""

    raw: Any
    valid: bool
    version: str | None = None
    url: str | None = None
    type: str | None = None  # "0" app / "1" code
    mode: str | None = None  # "0" whole / "1" differential
    protocol: str | None = None  # "0" FTP / "1" HTTP

    @property
    def file_name(self) -> str | None:
        return file_name(self.url) if self.url else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def parse_upgrade_info(value: Any) -> UpgradeInfo:
    """Never raises: invalid JSON or a non-object is kept raw with ``valid=False``."""
    data = value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except JSON_ERRORS:  # not JSON, or nested too deep
            return UpgradeInfo(raw=value, valid=False)
    if not isinstance(data, dict):
        return UpgradeInfo(raw=value, valid=False)
    upper = {str(k).upper(): v for k, v in data.items()}
    return UpgradeInfo(
        raw=value,
        valid=True,
        version=_text(upper.get("VERSION")),
        url=_text(upper.get("URL")),
        type=_text(upper.get("TYPE")),
        mode=_text(upper.get("MODE")),
        protocol=_text(upper.get("PROTOCOL")),
    )


def file_name(url: str) -> str:
    try:
        path = urlsplit(url).path
    except ValueError:  # e.g. "http://[abc/x.bin" (an invalid IPv6 host)
        return url
    return PurePosixPath(path).name or url


def file_stem(url: str) -> str:
    """The CN doc's default ``version``: the package file name without its extension."""
    name = file_name(url)
    return name.rsplit(".", 1)[0] if "." in name else name


# -- times -----------------------------------------------------------------------
def parse_time(text: str | None = None, epoch_ms: int | None = None) -> datetime | None:
    """UTC from epoch ms (preferred) or ISO-8601 / ``YYYY-MM-DD HH:MM:SS`` (naive = UTC)."""
    if epoch_ms is not None:
        try:
            seconds = epoch_ms / 1000 if abs(epoch_ms) >= 10**11 else float(epoch_ms)
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is past year 9999 in UTC
        return None


def request_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime(REQUEST_TIME)


# -- OTA records -----------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """One OTA report record, normalized but not yet assigned to a campaign."""

    terminal_id: str
    mark: str | None
    info: UpgradeInfo
    status_raw: Any
    state: UpgradeState
    reason: str | None
    sent_at: datetime | None
    changed_at: datetime | None

    @property
    def firmware_key(self) -> tuple[str, str]:
        """What identifies the package: (VERSION, URL), or the raw text when unparseable."""
        if self.info.valid and (self.info.version or self.info.url):
            return self.info.version or "", self.info.url or ""
        raw = self.info.raw
        return "", raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, default=str)


def report(record: OtaRecord, override: StatusOverride | None = None) -> Report:
    state, reason = map_status(record.status, override)
    info = parse_upgrade_info(record.upgrade_info)
    if not info.valid:
        reason = f"{reason}; " if reason else ""
        reason += "upgradeInfo is not valid JSON (kept raw)"
    return Report(
        terminal_id=record.terminal_id,
        mark=record.mark,
        info=info,
        status_raw=record.status,
        state=state,
        reason=reason,
        sent_at=parse_time(record.send_time, record.send_timestamp),
        changed_at=parse_time(record.date_time, record.date_timestamp),
    )


def batch_id(version: str, url: str, sent_at: datetime | None) -> str:
    """A stable campaign id for one send: its second (UTC) and the package it carried."""
    stamp = sent_at.astimezone(UTC).strftime(_STAMP) if sent_at else "undated"
    digest = hashlib.sha256(f"{version}\n{url}".encode()).hexdigest()[:8]
    return f"{stamp}-{digest}"


def batch_time(campaign_id: str) -> datetime | None:
    """The send second encoded in a ``batch_id``, or None for other ids."""
    stamp, _, digest = campaign_id.partition("-")
    if len(digest) != 8:
        return None
    try:
        return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


# -- terminals -------------------------------------------------------------------
def device(provider: str, terminal: Terminal, online: bool | None = None) -> Device:
    return Device(
        provider=provider,
        kind=KIND,
        device_id=terminal.id,
        imei=terminal.imei,
        name=terminal.vehicle_num or terminal.custom_num or terminal.terminal_num,
        device_type=terminal.type_name,
        online=online,
        provider_status_raw=terminal.status,
    )

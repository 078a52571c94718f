"""The requests a OneNET campaign sends: per IMEI a cached write of the package URI to
``/5/0/1`` and a cached execute of ``/5/0/2``. Pure: validation and request building."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from fota_tui.errors import ProviderRejected
from fota_tui.models import CampaignSpec
from fota_tui.providers.base import PlannedRequest
from fota_tui.providers.http import REDACTED
from fota_tui.providers.onenet import rules
from fota_tui.providers.onenet.wire import to_beijing

DEFAULT_VALIDITY = timedelta(days=7)
NOW_ISH = timedelta(minutes=5)  # a start this close to now means "now"
MAX_CONTENT = 2048  # command bodies are limited to 2 KB
OPTION_RANGES = {
    "retry": rules.RETRY_RANGE,
    "timeout": rules.TIMEOUT_RANGE,
    "trigger_msg": rules.TRIGGER_RANGE,
}
_IMEI = re.compile(r"^\d{15}$")


def window(provider: str, spec: CampaignSpec, now: datetime) -> tuple[datetime | None, datetime]:
    """(valid_time or None for "now", expired_time)."""
    start = spec.start_at
    if start is not None and now - NOW_ISH <= start <= now + NOW_ISH / 10:
        start = None  # let the platform default valid_time to its own clock
    end = spec.end_at or (start or now) + DEFAULT_VALIDITY
    if start is not None and end <= start:
        raise ProviderRejected(
            provider, "end_at must be later than start_at", code="5006", field="end_at"
        )
    return start, end


def options(provider: str, spec: CampaignSpec) -> dict[str, int]:
    """``retry`` / ``timeout`` / ``trigger_msg`` within the documented ranges."""
    values: dict[str, Any] = {}
    if spec.retry_times is not None:
        values["retry"] = spec.retry_times
    for key, raw in spec.options.items():
        if key not in OPTION_RANGES:
            raise ProviderRejected(
                provider,
                f"unknown option {key!r}; expected one of {', '.join(OPTION_RANGES)}",
                code="option",
                field=f"options.{key}",
            )
        values[key] = raw
    for key, value in values.items():
        lo, hi = OPTION_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ProviderRejected(
                provider,
                f"{key} must be an integer between {lo} and {hi}, got {value!r}",
                code="5006",
                field=f"options.{key}",
            )
    return values


def write_body(uri: str) -> dict[str, Any]:
    return {"data": [{"res_id": 1, "val": uri.strip()}]}


def imeis(provider: str, spec: CampaignSpec) -> list[str]:
    if not spec.devices:
        raise ProviderRejected(
            provider, "no devices: give at least one IMEI", code="devices", field="devices"
        )
    bad = [d for d in spec.devices if not _IMEI.match(d.strip())]
    if bad:
        raise ProviderRejected(
            provider,
            f"devices must be 15-digit IMEIs; not: {', '.join(bad[:5])}",
            code="devices",
            field="devices",
        )
    if not spec.firmware.strip():
        raise ProviderRejected(
            provider, "firmware (the package URI) is empty", code="3", field="firmware"
        )
    if len(json.dumps(write_body(spec.firmware)).encode()) > MAX_CONTENT:
        raise ProviderRejected(
            provider,
            "the package URI makes the command exceed 2 KB",
            code="5006",
            field="firmware",
        )
    return list(dict.fromkeys(d.strip() for d in spec.devices))


def requests(
    provider: str, spec: CampaignSpec, base_url: str, now: datetime
) -> list[PlannedRequest]:
    """Write then execute, per IMEI, in the order ``create_campaign`` sends them."""
    targets = imeis(provider, spec)
    start, end = window(provider, spec, now)
    extra = options(provider, spec)
    base = base_url.rstrip("/")
    out = []
    for imei in targets:
        common: dict[str, Any] = {"imei": imei, "obj_id": 5, "obj_inst_id": 0}
        times: dict[str, Any] = {"expired_time": to_beijing(end), **extra}
        if start is not None:
            times = {"valid_time": to_beijing(start), **times}
        out.append(
            PlannedRequest(
                "POST",
                f"{base}/nbiot/offline",
                {**common, "mode": 1, **times},
                write_body(spec.firmware),
                f"api-key: {REDACTED}; write the package URI to /5/0/1",
            )
        )
        out.append(
            PlannedRequest(
                "POST",
                f"{base}/nbiot/execute/offline",
                {**common, "res_id": 2, **times},
                None,
                f"api-key: {REDACTED}; execute /5/0/2 (Update)",
            )
        )
    return out

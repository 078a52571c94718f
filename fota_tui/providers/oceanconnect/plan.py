"""CampaignSpec → the create-task requests OceanConnect needs (pure, no I/O).

One task takes at most 256 devices or 256 groups and never both, so a spec is split
into several tasks. Spec problems raise ``ProviderRejected`` whose ``field`` is the spec
field at fault (``devices``, ``options.model``…), before anything is sent, as the other
adapters do. ``CAMPAIGN_OPTIONS`` lists the platform-only knobs in ``spec.options``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fota_tui.errors import ProviderRejected
from fota_tui.models import CampaignSpec, ExecuteType
from fota_tui.providers.oceanconnect import rules
from fota_tui.providers.oceanconnect.wire import format_time
from fota_tui.providers.platform import option_help

IODM = "/iodm/northbound/v1.5.0"
MAX_TARGETS = 256
CAMPAIGN_OPTIONS = option_help(rules.OPTIONS)
PATHS = {
    "firmware": f"{IODM}/operations/firmwareUpgrade",
    "software": f"{IODM}/operations/softwareUpgrade",
}


@dataclass(frozen=True)
class TaskRequest:
    path: str
    body: dict[str, Any]
    targets: tuple[str, ...]
    by_group: bool
    note: str


def _rejected(provider: str, field: str, message: str) -> ProviderRejected:
    """A spec the platform would refuse: ``field`` is the spec field at fault."""
    return ProviderRejected(provider, f"campaign {message}", field=field)


def _option_text(provider: str, options: dict[str, Any], key: str) -> str | None:
    value = options.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _rejected(provider, f"options.{key}", f"options.{key}: expected a non-empty string")
    return value.strip()


def _policy(provider: str, spec: CampaignSpec, retry: Any) -> tuple[dict[str, Any], list[str]]:
    notes = []
    policy: dict[str, Any] = {"executeType": spec.execute_type.value}
    if spec.execute_type is ExecuteType.CUSTOM:
        if spec.start_at is None or spec.end_at is None:
            raise _rejected(
                provider,
                "start_at" if spec.start_at is None else "end_at",
                "start_at and end_at: both are required with execute_type custom",
            )
        if spec.end_at - spec.start_at <= timedelta(minutes=5):
            raise _rejected(
                provider, "end_at", "end_at: must be more than 5 minutes after start_at"
            )
        policy["startTime"] = format_time(spec.start_at)
        policy["endTime"] = format_time(spec.end_at)
    elif spec.start_at or spec.end_at:
        notes.append("start_at/end_at are only sent with execute_type custom")
    times = spec.retry_times
    if times is not None and not 1 <= times <= 5:
        raise _rejected(provider, "retry_times", f"retry_times: expected 1..5, got {times}")
    if retry is None:
        retry = times is not None
    if not isinstance(retry, bool):
        raise _rejected(provider, "options.retry", "options.retry: expected true or false")
    if retry and times is None:
        raise _rejected(
            provider, "retry_times", "retry_times: required (1..5) when options.retry is true"
        )
    policy["retryType"] = retry
    if retry:
        policy["retryTimes"] = times
    return policy, notes


def task_requests(spec: CampaignSpec, provider: str) -> list[TaskRequest]:
    """The create-task requests for ``spec``, in order; ``provider`` names the profile's
    provider in a ``ProviderRejected``."""
    options = dict(spec.options)
    unknown = sorted(set(options) - set(CAMPAIGN_OPTIONS))
    if unknown:
        raise _rejected(
            provider,
            f"options.{unknown[0]}",
            f"options: unknown {', '.join(unknown)}; "
            f"OceanConnect accepts {', '.join(CAMPAIGN_OPTIONS)}",
        )
    file_type = options.get("file_type", "firmware")
    if file_type not in PATHS:
        raise _rejected(
            provider,
            "options.file_type",
            f'options.file_type: expected "firmware" or "software", got {file_type!r}',
        )
    if not spec.firmware.strip():
        raise _rejected(provider, "firmware", "firmware: the package fileId is required")
    if spec.windows:
        raise _rejected(
            provider, "windows", "windows: OceanConnect tasks have no daily time windows"
        )
    devices = list(dict.fromkeys(d.strip() for d in spec.devices if d.strip()))
    groups = list(dict.fromkeys(g.strip() for g in spec.device_groups if g.strip()))
    if devices and groups:
        raise _rejected(
            provider,
            "device_groups",
            "devices/device_groups: OceanConnect takes either devices or groups"
            " in one campaign, not both",
        )
    if not devices and not groups:
        raise _rejected(provider, "devices", "devices: give devices or device_groups")
    scope: dict[str, str] = {}
    if groups:
        for key, field in (
            ("manufacturer", "manufacturerName"),
            ("device_type", "deviceType"),
            ("model", "model"),
        ):
            value = _option_text(provider, options, key)
            if value is None:
                raise _rejected(
                    provider,
                    f"options.{key}",
                    f"options.{key}: required with device_groups (targets.{field})",
                )
            scope[field] = value
    policy, notes = _policy(provider, spec, options.get("retry"))
    items = groups or devices
    chunks = [items[i : i + MAX_TARGETS] for i in range(0, len(items), MAX_TARGETS)]
    what = "groups" if groups else "devices"
    requests = []
    for n, chunk in enumerate(chunks, 1):
        targets: dict[str, Any] = {"deviceGroups": chunk, **scope} if groups else {"devices": chunk}
        body = {"fileId": spec.firmware.strip(), "targets": targets, "policy": policy}
        note = f"task {n} of {len(chunks)}: {len(chunk)} {what}"
        requests.append(
            TaskRequest(
                PATHS[file_type], body, tuple(chunk), bool(groups), "; ".join([note, *notes])
            )
        )
    return requests

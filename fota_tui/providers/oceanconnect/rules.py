"""Huawei OceanConnect: one software or firmware upgrade task (IODM northbound v1.5.0).

Rules (docs/platforms/oceanconnect.md, seed 004): the package comes from ``/category`` and matches the
device type, model and manufacturer; devices or device groups, never both, and one of
them; at most 256 per task (the preview offers to split a larger device list into several
tasks); execute type now / device_online / custom, where custom needs start >= now and
end - start > 5 minutes; times go out as ``yyyyMMdd'T'HHmmss'Z'`` (whole seconds);
retryTimes is 1..5.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fota_tui.models import CampaignSpec, ExecuteType, Firmware
from fota_tui.providers.platform import Option, option_help
from fota_tui.providers.rules import (
    Problem,
    RuleContext,
    bool_option,
    catalogue_names,
    check_targets,
    choice_option,
    find_firmware,
    problem,
    unknown_options,
    unsupported,
)

LABEL = "OceanConnect"
OPTIONS = (
    Option("file_type", '"firmware" (default) or "software": which task API to call'),
    Option("device_type", "targets.deviceType (required with device_groups)"),
    Option("model", "targets.model (required with device_groups)"),
    Option("manufacturer", "targets.manufacturerName (required with device_groups)"),
    Option("retry", "policy.retryType: retry failed devices (needs retry_times 1..5)"),
)
FILE_TYPES = ("firmware", "software")
MAX_TARGETS = 256
MIN_CUSTOM_WINDOW = timedelta(minutes=5)
RETRY_RANGE = (1, 5)
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
RULE_MAX_TARGETS = "oceanconnect.max_targets"
# spec option → (CategoryInfo field shown to the user, Firmware attribute)
_PACKAGE_FIELDS = {
    "device_type": ("deviceType", "device_type"),
    "model": ("model", "model"),
    "manufacturer": ("manufacturerName", "make"),
}


def format_time(value: datetime) -> str:
    """The platform's time format: ``20261122T080000Z``."""
    return value.strftime(TIME_FORMAT)


def check(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    out = unknown_options(spec, LABEL, option_help(OPTIONS))
    out += choice_option(spec, "file_type", FILE_TYPES, LABEL, "oceanconnect.file_type")
    out += unsupported(spec, LABEL, ("windows", "firmware_from"))
    out += _package(spec, ctx)
    out += _targets(spec)
    out += _policy(spec, ctx)
    out += _retry(spec)
    return out


def _file_type(entry: Firmware) -> str | None:
    raw = (entry.file_type or "").lower()
    return next((t for t in FILE_TYPES if raw.startswith(t)), None)


def _package(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    out = []
    if not spec.firmware.strip():
        return [problem("firmware", "oceanconnect.package", f"{LABEL} needs a package fileId")]
    if spec.device_groups:
        out += [
            problem(
                f"options.{key}",
                "oceanconnect.group_fields",
                f"{LABEL} needs {shown} when the task targets device groups",
            )
            for key, (shown, _) in _PACKAGE_FIELDS.items()
            if not spec.options.get(key)
        ]
    if ctx.firmware is None:
        return out
    entry = find_firmware(ctx.firmware, spec.firmware)
    if entry is None:
        known = catalogue_names(ctx.firmware) if ctx.firmware else "the list is empty"
        return [
            *out,
            problem(
                "firmware",
                "oceanconnect.package",
                f"fileId {spec.firmware!r} is not in the {LABEL} package list (/category: {known})",
            ),
        ]
    wanted = spec.options.get("file_type", "firmware")
    actual = _file_type(entry)
    if wanted in FILE_TYPES and actual and actual != wanted:
        out.append(
            problem(
                "options.file_type",
                "oceanconnect.file_type",
                f"package {entry.firmware_id} is a {actual}Package in the {LABEL} package list (/category), "
                f"so the task must be a {actual} upgrade (got {wanted!r})",
            )
        )
    for key, (shown, attr) in _PACKAGE_FIELDS.items():
        asked, offered = spec.options.get(key), getattr(entry, attr)
        if asked and offered and str(asked) != offered:
            out.append(
                problem(
                    f"options.{key}",
                    "oceanconnect.package_match",
                    f"package {entry.firmware_id} is for {shown} {offered!r} in the {LABEL} package list (/category), "
                    f"not {asked!r}",
                )
            )
    if spec.firmware_to and entry.version and spec.firmware_to != entry.version:
        out.append(
            problem(
                "firmware_to",
                "oceanconnect.package_version",
                f"package {entry.firmware_id} has version {entry.version!r} in the {LABEL} package list (/category), "
                f"not {spec.firmware_to!r}",
            )
        )
    return out


def _targets(spec: CampaignSpec) -> list[Problem]:
    if spec.devices and spec.device_groups:
        return [
            problem(
                "device_groups",
                "oceanconnect.devices_or_groups",
                f"{LABEL} tasks take devices or device groups, never both (error 123023)",
            )
        ]
    if not spec.devices and not spec.device_groups:
        return [
            problem(
                "devices",
                "oceanconnect.devices_or_groups",
                f"{LABEL} tasks need devices or device groups (error 123022)",
            )
        ]
    out = check_targets(spec, LABEL)
    if len(spec.devices) > MAX_TARGETS:
        parts = -(-len(spec.devices) // MAX_TARGETS)
        out.append(
            problem(
                "devices",
                RULE_MAX_TARGETS,
                f"{LABEL} accepts at most {MAX_TARGETS} devices per task (got "
                f"{len(spec.devices)}); accept the split into {parts} tasks or shorten the list",
            )
        )
    if len(spec.device_groups) > MAX_TARGETS:
        out.append(
            problem(
                "device_groups",
                "oceanconnect.max_groups",
                f"{LABEL} accepts at most {MAX_TARGETS} device groups per task (got "
                f"{len(spec.device_groups)})",
            )
        )
    for index, group in enumerate(spec.device_groups):
        if not group.strip():
            out.append(
                problem(
                    f"device_groups[{index}]",
                    "oceanconnect.group_name",
                    f"{LABEL} device group names cannot be empty",
                )
            )
    return out


def _policy(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    out = []
    if spec.execute_type is not ExecuteType.CUSTOM:
        return [
            problem(
                name,
                "oceanconnect.custom_only",
                f'{LABEL} uses start/end times only with execute_type = "custom" '
                f"(got {spec.execute_type.value!r})",
            )
            for name in ("start_at", "end_at")
            if getattr(spec, name) is not None
        ]
    for name in ("start_at", "end_at"):
        if getattr(spec, name) is None:
            out.append(
                problem(
                    name,
                    "oceanconnect.custom_times",
                    f'{LABEL} execute_type "custom" needs start_at and end_at (error 123026)',
                )
            )
    for name in ("start_at", "end_at"):
        value = getattr(spec, name)
        if value is not None and value.microsecond:
            out.append(
                problem(
                    name,
                    "oceanconnect.time_format",
                    f"{LABEL} times are whole seconds (yyyyMMdd'T'HHmmss'Z', e.g. "
                    f"{format_time(value)}); drop the fraction of a second",
                )
            )
    start, end = spec.start_at, spec.end_at
    if start is not None and start < ctx.now:
        out.append(
            problem(
                "start_at",
                "oceanconnect.start_not_past",
                f"{LABEL} start time {format_time(start)} is before now "
                f"({format_time(ctx.now)}) (error 123033)",
            )
        )
    if start is not None and end is not None and end - start <= MIN_CUSTOM_WINDOW:
        out.append(
            problem(
                "end_at",
                "oceanconnect.window",
                f"{LABEL} needs end - start > 5 minutes (got {format_time(start)} to "
                f"{format_time(end)}) (error 123034)",
            )
        )
    return out


def _retry(spec: CampaignSpec) -> list[Problem]:
    out = bool_option(spec, "retry", LABEL, "oceanconnect.retry")
    lo, hi = RETRY_RANGE
    if spec.retry_times is not None and not lo <= spec.retry_times <= hi:
        out.append(
            problem(
                "retry_times",
                "oceanconnect.retry_times",
                f"{LABEL} retryTimes is {lo}..{hi} (got {spec.retry_times}) (error 123028)",
            )
        )
    if spec.options.get("retry") is True and spec.retry_times is None:
        out.append(
            problem(
                "retry_times",
                "oceanconnect.retry_times",
                f"{LABEL} needs retry_times ({lo}..{hi}) when options.retry is true",
            )
        )
    return out

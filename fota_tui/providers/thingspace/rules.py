"""Verizon ThingSpace: a v3 campaign (or a v1 upgrade) as the platform will accept it.

Rules (docs/platforms/thingspace.md): firmware from the account's list; start and end dates
(``YYYY-MM-DD``, start not before today UTC, end not before start); UTC hour windows with
start 0-23, end 1-24 and end >= start + 4 h (v3 only); a non-empty list of IMEIs (15 digits,
Luhn check digit); the license / auto-add flags are booleans.
"""

from __future__ import annotations

from datetime import time
from itertools import pairwise

from fota_tui.models import CampaignSpec, ExecuteType
from fota_tui.providers.platform import Option, option_help
from fota_tui.providers.rules import (
    Problem,
    RuleContext,
    bool_option,
    catalogue_names,
    check_targets,
    choice_option,
    find_firmware,
    luhn_ok,
    problem,
    require_devices,
    unknown_options,
    unsupported,
)

LABEL = "ThingSpace"
OPTIONS = (
    Option("api", '"v3" (default, LwM2M campaign) or "v1" (upgrade)'),
    Option("protocol", '"LWM2M" (default) or "OMA-DM" (v3 only)'),
    Option("auto_assign_license", "bool, v3 autoAssignLicenseFlag (default false)"),
    Option("auto_add_devices", "bool, v3 autoAddDevicesFlag (default false)"),
)
APIS = ("v3", "v1")
PROTOCOLS = ("LWM2M", "OMA-DM")
MIN_WINDOW_HOURS = 4
V3_ONLY = ("protocol", "auto_assign_license", "auto_add_devices")


def check(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    api = spec.options.get("api", "v3")
    out = unknown_options(spec, LABEL, option_help(OPTIONS))
    out += choice_option(spec, "api", APIS, LABEL, "thingspace.api")
    out += unsupported(spec, LABEL, ("device_groups", "retry_times"))
    out += _firmware(spec, ctx)
    out += _dates(spec, ctx)
    out += _windows(spec, api)
    out += require_devices(spec, LABEL, "device (IMEI)")
    out += check_targets(spec, LABEL, what="IMEI")
    out += [
        problem(
            f"devices[{index}]",
            "thingspace.imei",
            f"{LABEL} device lists hold IMEIs: 15 digits with a valid check digit (got {imei!r})",
        )
        for index, imei in enumerate(spec.devices)
        if imei.strip() and not (len(imei) == 15 and imei.isdigit() and luhn_ok(imei))
    ]
    out += _flags(spec, api)
    if spec.execute_type is ExecuteType.DEVICE_ONLINE:
        out.append(
            problem(
                "execute_type",
                "thingspace.execute_type",
                f"{LABEL} schedules by start/end date and hour windows; "
                "use 'now' or 'custom', not 'device_online'",
            )
        )
    return out


def _firmware(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    if not spec.firmware.strip():
        return [problem("firmware", "thingspace.firmware", f"{LABEL} needs a firmware name")]
    if ctx.firmware is None:
        return []
    entry = find_firmware(ctx.firmware, spec.firmware)
    if entry is None:
        known = catalogue_names(ctx.firmware) if ctx.firmware else "the list is empty"
        return [
            problem(
                "firmware",
                "thingspace.firmware",
                f"{spec.firmware!r} is not in the account's {LABEL} firmware list ({known})",
            )
        ]
    out = []
    if spec.firmware_to and entry.version and spec.firmware_to != entry.version:
        out.append(
            problem(
                "firmware_to",
                "thingspace.firmware_to",
                f"{spec.firmware} upgrades to {entry.version!r} in the {LABEL} firmware list, "
                f"not {spec.firmware_to!r}",
            )
        )
    if spec.firmware_from and entry.from_version and spec.firmware_from != entry.from_version:
        out.append(
            problem(
                "firmware_from",
                "thingspace.firmware_from",
                f"{spec.firmware} upgrades from {entry.from_version!r} in the {LABEL} firmware "
                f"list, not {spec.firmware_from!r}",
            )
        )
    protocol = spec.options.get("protocol")
    if protocol and entry.protocol and str(protocol).upper() != entry.protocol.upper():
        out.append(
            problem(
                "options.protocol",
                "thingspace.protocol",
                f"{spec.firmware} is a {entry.protocol} firmware in the {LABEL} firmware list, "
                f"not {protocol}",
            )
        )
    return out


def _dates(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    out = []
    for name in ("start_at", "end_at"):
        if getattr(spec, name) is None:
            out.append(
                problem(
                    name,
                    "thingspace.dates",
                    f"{LABEL} needs a start date and an end date (sent as YYYY-MM-DD, UTC)",
                )
            )
    today = ctx.now.date()
    if spec.start_at is not None and spec.start_at.date() < today:
        out.append(
            problem(
                "start_at",
                "thingspace.start_date",
                f"{LABEL} start date {spec.start_at.date()} is before today ({today}, UTC)",
            )
        )
    if spec.start_at and spec.end_at and spec.end_at.date() < spec.start_at.date():
        out.append(
            problem(
                "end_at",
                "thingspace.end_date",
                f"{LABEL} end date {spec.end_at.date()} is before the start date "
                f"{spec.start_at.date()}",
            )
        )
    return out


def _windows(spec: CampaignSpec, api: object) -> list[Problem]:
    if spec.windows and api == "v1":
        return [
            problem(
                "windows",
                "thingspace.v1_windows",
                f'{LABEL} v1 upgrades have no time windows; use api = "v3" or remove them',
            )
        ]
    out = []
    for index, (start, end) in enumerate(spec.windows):
        where = f"windows[{index}]"
        if not 0 <= start <= 23:
            out.append(
                problem(
                    where,
                    "thingspace.window_hours",
                    f"{LABEL} window start hour is 0-23 UTC (got {start})",
                )
            )
        elif not 1 <= end <= 24:
            out.append(
                problem(
                    where,
                    "thingspace.window_hours",
                    f"{LABEL} window end hour is 1-24 UTC (got {end})",
                )
            )
        elif end < start + MIN_WINDOW_HOURS:
            out.append(
                problem(
                    where,
                    "thingspace.window_length",
                    f"{LABEL} windows need end >= start + {MIN_WINDOW_HOURS} h "
                    f"(got {start}-{end} UTC)",
                )
            )
    ordered = sorted(enumerate(spec.windows), key=lambda item: item[1][0])
    for (_, (_, end_a)), (index_b, (start_b, _)) in pairwise(ordered):
        if start_b < end_a:
            out.append(
                problem(
                    f"windows[{index_b}]",
                    "thingspace.window_overlap",
                    f"{LABEL} windows must not overlap (starts at {start_b} before the previous "
                    f"window ends at {end_a})",
                )
            )
    return out


def _flags(spec: CampaignSpec, api: object) -> list[Problem]:
    out = bool_option(spec, "auto_assign_license", LABEL, "thingspace.flags")
    out += bool_option(spec, "auto_add_devices", LABEL, "thingspace.flags")
    out += choice_option(spec, "protocol", PROTOCOLS, LABEL, "thingspace.protocol")
    if api == "v1":
        out += [
            problem(
                f"options.{key}",
                "thingspace.v3_only",
                f"{LABEL} v1 upgrades have no {key}; it applies to v3 campaigns only",
            )
            for key in V3_ONLY
            if key in spec.options
        ]
    return out


def notes(spec: CampaignSpec) -> list[str]:
    """What a preview adds: ThingSpace takes dates, not times of day."""
    out = []
    for name in ("start_at", "end_at"):
        value = getattr(spec, name)
        if value is not None and value.time() != time(0):
            out.append(
                f"{name}: ThingSpace takes dates only; {value:%Y-%m-%d %H:%M}Z is sent as"
                f" {value:%Y-%m-%d} (use windows for hours of the day)"
            )
    return out

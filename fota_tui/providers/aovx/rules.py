"""AOVX: one ``sendOtaCommand`` (type, mode, protocol, version, fileUrl) to the terminals.

Rules (docs/platforms/aovx.md): terminal ids (32 hex digits, or a dashed UUID); type 0 app /
1 core, mode 0 whole / 1 differential, protocol 0 FTP / 1 HTTP; a version label; a file
URL whose scheme matches the protocol. The command goes out at once: no schedule, groups
or windows.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fota_tui.models import CampaignSpec
from fota_tui.providers.platform import Option, option_help
from fota_tui.providers.rules import (
    Problem,
    RuleContext,
    check_targets,
    choice_option,
    problem,
    require_devices,
    unknown_options,
    unsupported,
)

LABEL = "AOVX"
OPTIONS = (
    Option("type", "0 = app upgrade (default), 1 = code/module upgrade"),
    Option("mode", "0 = whole package (default), 1 = differential"),
    Option("protocol", "0 = FTP, 1 = HTTP (default; FTP for ftp:// URLs)"),
    Option(
        "version",
        "target version label (default: firmware_to, else the file name without extension)",
    ),
)
TERMINAL_RE = re.compile(
    r"^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"
)
VERSION_RE = re.compile(r"^[0-9A-Za-z._-]{1,64}$")
PROTOCOL_SCHEMES = {0: ("ftp",), 1: ("http", "https")}


def check(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    out = unknown_options(spec, LABEL, option_help(OPTIONS))
    out += unsupported(spec, LABEL, ("device_groups", "windows", "retry_times", "end_at"))
    if spec.start_at is not None and spec.start_at > ctx.now:
        out.append(
            problem(
                "start_at",
                "aovx.immediate",
                f"{LABEL} sends the OTA command at once; it cannot be scheduled",
            )
        )
    out += require_devices(spec, LABEL, "terminal id")
    out += check_targets(spec, LABEL, what="terminal id")
    out += [
        problem(
            f"devices[{index}]",
            "aovx.terminal_id",
            f"{LABEL} terminal ids are 32 hex digits or a dashed UUID (got {tid!r})",
        )
        for index, tid in enumerate(spec.devices)
        if tid.strip() and not TERMINAL_RE.match(tid)
    ]
    out += choice_option(spec, "type", (0, 1), LABEL, "aovx.type")
    out += choice_option(spec, "mode", (0, 1), LABEL, "aovx.mode")
    out += choice_option(spec, "protocol", (0, 1), LABEL, "aovx.protocol")
    out += _version(spec)
    out += _file_url(spec)
    return out


def default_version(url: str) -> str:
    """AOVX's default label: the package file name without its extension."""
    name = urlsplit(url).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def _version(spec: CampaignSpec) -> list[Problem]:
    field = "options.version" if "version" in spec.options else "firmware_to"
    value = spec.options.get("version", spec.firmware_to)
    if value is None:
        return []  # the file name is used
    if isinstance(value, str) and VERSION_RE.match(value):
        return []
    return [
        problem(
            field,
            "aovx.version",
            f"{LABEL} version label is 1-64 letters, digits, '.', '_' or '-' (got {value!r})",
        )
    ]


def _file_url(spec: CampaignSpec) -> list[Problem]:
    url = spec.firmware
    parts = urlsplit(url)
    schemes = ("ftp", "http", "https")
    if parts.scheme not in schemes or not parts.hostname or not parts.path.strip("/"):
        return [
            problem(
                "firmware",
                "aovx.file_url",
                f"{LABEL} fileUrl must be an http(s):// or ftp:// URL to the package file "
                f"(got {url[:80]!r})",
            )
        ]
    protocol = spec.options.get("protocol", 1)
    allowed = PROTOCOL_SCHEMES.get(protocol) if isinstance(protocol, int) else None
    if allowed and parts.scheme not in allowed:
        name = "FTP" if protocol == 0 else "HTTP"
        return [
            problem(
                "firmware",
                "aovx.file_url_protocol",
                f"{LABEL} protocol {protocol} ({name}) needs a {'/'.join(allowed)}:// fileUrl "
                f"(got {parts.scheme}://)",
            )
        ]
    if not default_version(url) and "version" not in spec.options and not spec.firmware_to:
        return [
            problem(
                "options.version",
                "aovx.version",
                f"{LABEL} needs a version label: the fileUrl has no file name to derive it from",
            )
        ]
    return []

"""CampaignSpec → the ``sendOtaCommand`` body, validated locally (pure, no I/O).

AOVX sends at once to terminal ids: no groups, schedules or windows. ``version`` is
documented as an int but is a label; the CN doc defaults it to the package file name
without its extension.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fota_tui.errors import ProviderRejected
from fota_tui.models import CampaignSpec, ExecuteType
from fota_tui.providers.aovx import rules
from fota_tui.providers.aovx.normalize import file_stem
from fota_tui.providers.platform import option_help

# CampaignSpec.options this adapter understands.
CAMPAIGN_OPTIONS = option_help(rules.OPTIONS)
START_TOLERANCE = timedelta(minutes=5)


def _rejected(provider: str, field: str, message: str) -> ProviderRejected:
    return ProviderRejected(provider, f"{field}: {message}", field=field)


def _choice(provider: str, options: dict[str, Any], key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        value = int(value)
    if isinstance(value, bool) or value not in (0, 1):
        raise _rejected(provider, f"options.{key}", f"expected 0 or 1 ({CAMPAIGN_OPTIONS[key]})")
    return int(value)


def build(provider: str, spec: CampaignSpec, now: datetime) -> dict[str, Any]:
    """The request body; ``ProviderRejected`` (with ``field``) when the spec cannot be sent."""
    options = dict(spec.options)
    unknown = sorted(set(options) - set(CAMPAIGN_OPTIONS))
    if unknown:
        expected = ", ".join(CAMPAIGN_OPTIONS)
        raise _rejected(provider, f"options.{unknown[0]}", f"unknown option; expected {expected}")
    url = spec.firmware.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "ftp") or not parts.netloc:
        raise _rejected(provider, "firmware", "expected the package URL (http(s):// or ftp://)")
    protocol = _choice(provider, options, "protocol", 0 if scheme == "ftp" else 1)
    if (protocol == 0) != (scheme == "ftp"):
        raise _rejected(
            provider, "options.protocol", f"protocol {protocol} does not match {scheme}://"
        )
    version = options.get("version") or spec.firmware_to or file_stem(url)
    if isinstance(version, bool) or not isinstance(version, str | int) or not str(version).strip():
        raise _rejected(provider, "options.version", "expected a version label")
    devices = list(dict.fromkeys(d.strip() for d in spec.devices if d.strip()))
    if not devices:
        raise _rejected(provider, "devices", "at least one terminal id is required")
    if spec.device_groups:
        raise _rejected(provider, "device_groups", "AOVX sends to terminal ids only")
    if spec.windows:
        raise _rejected(provider, "windows", "AOVX sends immediately; it has no time windows")
    if spec.execute_type is ExecuteType.CUSTOM:
        raise _rejected(provider, "execute_type", "AOVX sends immediately; no custom schedule")
    if spec.start_at is not None and spec.start_at > now + START_TOLERANCE:
        raise _rejected(provider, "start_at", "AOVX sends immediately; it cannot start later")
    return {
        "terminalIds": devices,
        "type": _choice(provider, options, "type", 0),
        "mode": _choice(provider, options, "mode", 0),
        "protocol": protocol,
        "version": str(version).strip(),
        "fileUrl": url,
    }

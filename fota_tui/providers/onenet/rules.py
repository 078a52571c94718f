"""China Mobile OneNET: per IMEI, a cached write of the LwM2M package URI (/5/0/1) and a
cached execute of Update (/5/0/2).

Rules (docs/platforms/onenet.md): IMEIs are 15 digits; expired_time (``end_at``) is required
and later than valid_time (``start_at``), which must not be in the past; retry 0..10,
timeout 5..40 s, trigger_msg 1..7; the package URI is a valid URI and the write payload
stays within the 2 KB command limit.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from fota_tui.models import CampaignSpec
from fota_tui.providers.platform import Option, option_help
from fota_tui.providers.rules import (
    Problem,
    RuleContext,
    check_targets,
    int_range,
    problem,
    require_devices,
    unknown_options,
    unsupported,
)

LABEL = "OneNET"
OPTIONS = (
    Option("retry", "retries after a failed delivery, 0..10 (default 3)"),
    Option("timeout", "device answer timeout in seconds, 5..40 (default 25)"),
    Option("trigger_msg", "uplink that triggers delivery: 1 REGISTER .. 7 any (default 7)"),
)
IMEI_RE = re.compile(r"^\d{15}$")
URI_SCHEMES = ("http", "https", "coap", "coaps")
MAX_PAYLOAD = 2048
RETRY_RANGE = (0, 10)
TIMEOUT_RANGE = (5, 40)
TRIGGER_RANGE = (1, 7)
PACKAGE_URI_RES = 1  # /5/0/1


def write_payload(uri: str) -> bytes:
    """The cached-write body that carries the package URI."""
    body = {"data": [{"res_id": PACKAGE_URI_RES, "val": uri}]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def check(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    out = unknown_options(spec, LABEL, option_help(OPTIONS))
    out += unsupported(spec, LABEL, ("device_groups", "windows"))
    out += _uri(spec.firmware)
    out += require_devices(spec, LABEL, "IMEI")
    out += check_targets(spec, LABEL, what="IMEI")
    out += [
        problem(
            f"devices[{index}]",
            "onenet.imei",
            f"{LABEL} addresses devices by IMEI: 15 digits (got {imei!r})",
        )
        for index, imei in enumerate(spec.devices)
        if imei.strip() and not IMEI_RE.match(imei)
    ]
    out += _times(spec, ctx)
    out += int_range(spec, "retry", *RETRY_RANGE, LABEL, "onenet.retry", "retries")
    out += int_range(spec, "timeout", *TIMEOUT_RANGE, LABEL, "onenet.timeout", "seconds")
    out += int_range(
        spec, "trigger_msg", *TRIGGER_RANGE, LABEL, "onenet.trigger_msg", "1 REGISTER … 7 all"
    )
    lo, hi = RETRY_RANGE
    if spec.retry_times is not None and not lo <= spec.retry_times <= hi:
        out.append(
            problem(
                "retry_times",
                "onenet.retry",
                f"{LABEL} retry is {lo}..{hi} (got {spec.retry_times})",
            )
        )
    return out


def _uri(uri: str) -> list[Problem]:
    rule = "onenet.package_uri"
    if not uri.strip():
        return [problem("firmware", rule, f"{LABEL} needs the package URI written to /5/0/1")]
    parts = urlsplit(uri)
    if parts.scheme not in URI_SCHEMES or not parts.hostname or any(c.isspace() for c in uri):
        return [
            problem(
                "firmware",
                rule,
                f"{LABEL} package URI must be a {'/'.join(URI_SCHEMES)} URI with a host "
                f"and no spaces (got {uri[:80]!r})",
            )
        ]
    size = len(write_payload(uri))
    if size > MAX_PAYLOAD:
        return [
            problem(
                "firmware",
                "onenet.payload_size",
                f"{LABEL} commands carry at most {MAX_PAYLOAD} bytes; this package URI makes a "
                f"{size}-byte write",
            )
        ]
    return []


def _times(spec: CampaignSpec, ctx: RuleContext) -> list[Problem]:
    out = []
    valid, expiry = spec.start_at, spec.end_at
    if expiry is None:
        out.append(
            problem(
                "end_at",
                "onenet.expired_time",
                f"{LABEL} cached commands need an expiry time (expired_time)",
            )
        )
    if valid is not None and valid < ctx.now:
        out.append(
            problem(
                "start_at",
                "onenet.valid_time",
                f"{LABEL} valid_time {valid:%Y-%m-%d %H:%M:%S} UTC is in the past "
                f"(now {ctx.now:%Y-%m-%d %H:%M:%S} UTC)",
            )
        )
    floor = valid or ctx.now
    if expiry is not None and expiry <= floor:
        against = "valid_time (start_at)" if valid else "now"
        out.append(
            problem(
                "end_at",
                "onenet.expired_time",
                f"{LABEL} expired_time must be later than {against} "
                f"(got {expiry:%Y-%m-%d %H:%M:%S} UTC)",
            )
        )
    return out

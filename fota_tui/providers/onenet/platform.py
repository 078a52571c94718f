"""China Mobile OneNET, declared for the rest of fota-tui (see ``providers/platform.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from fota_tui.models import Firmware, ProviderKind
from fota_tui.providers.onenet import rules
from fota_tui.providers.platform import TIME_HINT, FormField, Platform


def credentials(cfg: Any, secrets: Mapping[str, SecretStr]) -> dict[str, Any]:
    return {"api_key": secrets["api_key"], "imeis": list(cfg.imeis)}


TRIGGERS = (
    ("1 REGISTER", 1),
    ("2 UPDATE", 2),
    ("3 REGISTER | UPDATE", 3),
    ("4 NOTIFY", 4),
    ("5 REGISTER | NOTIFY", 5),
    ("6 UPDATE | NOTIFY", 6),
    ("7 NOTIFY | UPDATE | REGISTER (default)", 7),
)
FIELDS = (
    FormField(
        "onenet-uri",
        "firmware",
        "Package URI written to /5/0/1",
        "firmware",
        placeholder="coap://host/path/package.bin",
        hint="http, https, coap or coaps; the cached write carries at most 2 KB.",
    ),
    FormField(
        "onenet-version",
        "firmware_to",
        "Version label (optional; kept in the journal)",
        "firmware",
        placeholder="e.g. BC28JAR01A09",
    ),
    FormField(
        "sc-start",
        "start_at",
        "Valid from (valid_time, UTC; empty = now)",
        "schedule",
        "time",
        hint=TIME_HINT,
        row=1,
    ),
    FormField(
        "sc-end",
        "end_at",
        "Expires (expired_time, UTC; required)",
        "schedule",
        "time",
        default="+1d",
        row=1,
    ),
    FormField(
        "sc-on-retry",
        "options.retry",
        "Retry (0..10)",
        "schedule",
        "int",
        default="3",
        row=2,
        also=("retry_times",),
    ),
    FormField(
        "sc-on-timeout",
        "options.timeout",
        "Timeout (5..40 s)",
        "schedule",
        "int",
        default="25",
        row=2,
    ),
    FormField(
        "sc-on-trigger",
        "options.trigger_msg",
        "Trigger (trigger_msg)",
        "schedule",
        "choice",
        TRIGGERS,
        default=7,
    ),
)


def from_catalogue(fw: Firmware) -> dict[str, Any]:
    return {"firmware": fw.url or fw.firmware_id, "firmware_to": fw.version or ""}


PLATFORM = Platform(
    kind=ProviderKind.ONENET,
    client="fota_tui.providers.onenet.client:OneNetClient",
    credentials=credentials,
    rules=rules.check,
    options=rules.OPTIONS,
    fields=FIELDS,
    from_catalogue=from_catalogue,
    catalogue_noun="package URIs sent before",
)

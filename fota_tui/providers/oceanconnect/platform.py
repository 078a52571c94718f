"""Huawei OceanConnect, declared for the rest of fota-tui (see ``providers/platform.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from fota_tui.models import ExecuteType, Firmware, ProviderKind
from fota_tui.providers.oceanconnect import rules
from fota_tui.providers.platform import TIME_HINT, FormField, Platform


def credentials(cfg: Any, secrets: Mapping[str, SecretStr]) -> dict[str, Any]:
    return {"app_id": cfg.app_id, "secret": secrets["secret"]}


CUSTOM = ("sc-execute", ExecuteType.CUSTOM.value)  # start and end apply to custom only
FIELDS = (
    FormField(
        "oc-file-type",
        "options.file_type",
        "Upgrade type (the list shows the packages of this type)",
        "firmware",
        "choice",
        (("Firmware upgrade", "firmware"), ("Software upgrade", "software")),
        default="firmware",
        above_list=True,
    ),
    FormField(
        "sc-execute",
        "execute_type",
        "Execute",
        "schedule",
        "choice",
        (
            ("now", ExecuteType.NOW.value),
            ("when the device comes online", ExecuteType.DEVICE_ONLINE.value),
            ("custom window (start/end)", ExecuteType.CUSTOM.value),
        ),
        default=ExecuteType.NOW.value,
    ),
    FormField(
        "sc-start",
        "start_at",
        "Start (UTC; custom window only)",
        "schedule",
        "time",
        default="+10m",
        hint=TIME_HINT,
        row=1,
        when=CUSTOM,
    ),
    FormField(
        "sc-end",
        "end_at",
        "End (UTC; custom window only)",
        "schedule",
        "time",
        default="+1d",
        row=1,
        when=CUSTOM,
    ),
    FormField(
        "sc-retry-times",
        "retry_times",
        "Retries (1..5; empty = no retry)",
        "schedule",
        "int",
        also=("options.retry",),
    ),
)


def complete(values: dict[str, Any], options: dict[str, Any], catalogue: Any) -> None:
    """Retries need the retry policy on; a group task names the package's device kind."""
    if values.get("retry_times") is not None:
        options["retry"] = True
    if values.get("device_groups"):
        entry: Firmware | None = next(
            (f for f in catalogue or () if f.firmware_id == values.get("firmware")), None
        )
        if entry is not None:
            options["device_type"] = entry.device_type
            options["model"] = entry.model
            options["manufacturer"] = entry.make


PLATFORM = Platform(
    kind=ProviderKind.OCEANCONNECT,
    client="fota_tui.providers.oceanconnect.client:OceanConnectClient",
    credentials=credentials,
    rules=rules.check,
    options=rules.OPTIONS,
    fields=FIELDS,
    complete=complete,
    derived_steps=(
        ("options.device_type", "targets"),
        ("options.model", "targets"),
        ("options.manufacturer", "targets"),
    ),
    no_cancel="IODM northbound v1.5.0 has no stop or cancel for upgrade tasks",
)

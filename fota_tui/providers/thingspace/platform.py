"""Verizon ThingSpace, declared for the rest of fota-tui (see ``providers/platform.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from fota_tui.models import ProviderKind
from fota_tui.providers.platform import TIME_HINT, FormField, Platform
from fota_tui.providers.thingspace import rules


def credentials(cfg: Any, secrets: Mapping[str, SecretStr]) -> dict[str, Any]:
    return {
        "account": cfg.account,
        "app_key": cfg.app_key,
        "app_secret": secrets["app_secret"],
        "username": cfg.username,
        "password": secrets["password"],
        "api_version": cfg.api_version,
    }


V3 = ("sc-api", "v3")  # windows and flags exist in v3 campaigns only
FIELDS = (
    FormField(
        "sc-api",
        "options.api",
        "API",
        "schedule",
        "choice",
        (("v3 campaign (windows, flags)", "v3"), ("v1 upgrade", "v1")),
        default="v3",
    ),
    FormField(
        "sc-start",
        "start_at",
        "Start date (UTC, sent as YYYY-MM-DD)",
        "schedule",
        "date",
        default=lambda now: now.date().isoformat(),
        hint=TIME_HINT,
        row=1,
    ),
    FormField(
        "sc-end",
        "end_at",
        "End date (UTC)",
        "schedule",
        "date",
        default=lambda now: (now + timedelta(days=7)).date().isoformat(),
        row=1,
    ),
    FormField(
        "sc-windows",
        "windows",
        "Time windows (UTC hours, e.g. 0-6, 20-24; empty = any time)",
        "schedule",
        "windows",
        hint="Each window needs end >= start + 4 h.",
        when=V3,
    ),
    FormField(
        "sc-license",
        "options.auto_assign_license",
        "Auto-assign a license",
        "schedule",
        "check",
        default=False,
        when=V3,
    ),
    FormField(
        "sc-auto-add",
        "options.auto_add_devices",
        "Auto-add devices",
        "schedule",
        "check",
        default=False,
        when=V3,
    ),
)

PLATFORM = Platform(
    kind=ProviderKind.THINGSPACE,
    client="fota_tui.providers.thingspace.client:ThingSpaceClient",
    credentials=credentials,
    rules=rules.check,
    options=rules.OPTIONS,
    notes=rules.notes,
    fields=FIELDS,
)

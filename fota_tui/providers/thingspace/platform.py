"""Verizon ThingSpace, declared for the rest of fota-tui (see ``providers/platform.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from fota_tui.models import ProviderKind
from fota_tui.providers.platform import Platform
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


PLATFORM = Platform(
    kind=ProviderKind.THINGSPACE,
    client="fota_tui.providers.thingspace.client:ThingSpaceClient",
    credentials=credentials,
    rules=rules.check,
    options=rules.OPTIONS,
    notes=rules.notes,
)

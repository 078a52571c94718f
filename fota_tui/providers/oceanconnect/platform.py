"""Huawei OceanConnect, declared for the rest of fota-tui (see ``providers/platform.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from fota_tui.models import ProviderKind
from fota_tui.providers.oceanconnect import rules
from fota_tui.providers.platform import Platform


def credentials(cfg: Any, secrets: Mapping[str, SecretStr]) -> dict[str, Any]:
    return {"app_id": cfg.app_id, "secret": secrets["secret"]}


PLATFORM = Platform(
    kind=ProviderKind.OCEANCONNECT,
    client="fota_tui.providers.oceanconnect.client:OceanConnectClient",
    credentials=credentials,
    rules=rules.check,
    options=rules.OPTIONS,
    no_cancel="IODM northbound v1.5.0 has no stop or cancel for upgrade tasks",
)

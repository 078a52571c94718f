"""China Mobile OneNET, declared for the rest of fota-tui (see ``providers/platform.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from fota_tui.models import ProviderKind
from fota_tui.providers.onenet import rules
from fota_tui.providers.platform import Platform


def credentials(cfg: Any, secrets: Mapping[str, SecretStr]) -> dict[str, Any]:
    return {"api_key": secrets["api_key"], "imeis": list(cfg.imeis)}


PLATFORM = Platform(
    kind=ProviderKind.ONENET,
    client="fota_tui.providers.onenet.client:OneNetClient",
    credentials=credentials,
    rules=rules.check,
    options=rules.OPTIONS,
)

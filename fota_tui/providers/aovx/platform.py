"""AOVX, declared for the rest of fota-tui (see ``providers/platform.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from fota_tui.models import ProviderKind
from fota_tui.providers.aovx import rules
from fota_tui.providers.platform import Platform


def credentials(cfg: Any, secrets: Mapping[str, SecretStr]) -> dict[str, Any]:
    return {
        "token": secrets.get("token"),
        "username": cfg.username,
        "password": secrets.get("password"),
        "login_path": cfg.login_path,
        "password_is_md5": cfg.password_is_md5,
    }


PLATFORM = Platform(
    kind=ProviderKind.AOVX,
    client="fota_tui.providers.aovx.client:AovxClient",
    credentials=credentials,
    rules=rules.check,
    options=rules.OPTIONS,
    no_cancel="an OTA command cannot be withdrawn once it is sent",
)

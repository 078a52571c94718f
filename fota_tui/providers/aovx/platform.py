"""AOVX, declared for the rest of fota-tui (see ``providers/platform.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from fota_tui.models import Firmware, ProviderKind
from fota_tui.providers.aovx import rules
from fota_tui.providers.platform import FormField, Platform


def credentials(cfg: Any, secrets: Mapping[str, SecretStr]) -> dict[str, Any]:
    return {
        "token": secrets.get("token"),
        "username": cfg.username,
        "password": secrets.get("password"),
        "login_path": cfg.login_path,
        "password_is_md5": cfg.password_is_md5,
    }


PROTOCOLS = {"FTP": 0, "HTTP": 1, "HTTPS": 1}  # a listed file's protocol -> options.protocol
TYPES = {"app": 0, "core": 1}  # a listed file's type -> options.type
FIELDS = (
    FormField(
        "aovx-url",
        "firmware",
        "File URL (fileUrl)",
        "firmware",
        placeholder="http://host/path/file.bin",
        hint="Its scheme must match the protocol: http(s) for HTTP, ftp for FTP.",
    ),
    FormField(
        "aovx-version",
        "options.version",
        "Version label (empty = the file name)",
        "firmware",
        also=("firmware_to",),
    ),
    FormField(
        "aovx-type",
        "options.type",
        "Type",
        "firmware",
        "choice",
        (("0 app", 0), ("1 core", 1)),
        default=0,
        row=1,
    ),
    FormField(
        "aovx-mode",
        "options.mode",
        "Mode",
        "firmware",
        "choice",
        (("0 whole package", 0), ("1 differential", 1)),
        default=0,
        row=1,
    ),
    FormField(
        "aovx-protocol",
        "options.protocol",
        "Protocol",
        "firmware",
        "choice",
        (("0 FTP", 0), ("1 HTTP", 1)),
        default=1,
        row=1,
    ),
)


def from_catalogue(fw: Firmware) -> dict[str, Any]:
    url = fw.url or fw.firmware_id
    values: dict[str, Any] = {
        "firmware": url,
        "options.version": fw.version or rules.default_version(url),
    }
    protocol = PROTOCOLS.get((fw.protocol or "").upper())
    if protocol is not None:
        values["options.protocol"] = protocol
    file_type = TYPES.get((fw.file_type or "").lower())
    if file_type is not None:
        values["options.type"] = file_type
    return values


PLATFORM = Platform(
    kind=ProviderKind.AOVX,
    client="fota_tui.providers.aovx.client:AovxClient",
    credentials=credentials,
    rules=rules.check,
    options=rules.OPTIONS,
    fields=FIELDS,
    from_catalogue=from_catalogue,
    catalogue_noun="files",
    schedule_note="AOVX sends the OTA command to the terminals at once: there is no schedule"
    " or retry policy to set.",
    no_cancel="an OTA command cannot be withdrawn once it is sent",
)

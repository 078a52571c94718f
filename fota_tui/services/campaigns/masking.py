"""Belt and braces for previews: mask anything that looks like a credential.

Adapters already mask what their planned requests carry; this pass makes sure a preview
(which is shown, saved and logged) never holds a token even if one slips through.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fota_tui.providers.base import PlannedRequest

MASK = "***"
_SENSITIVE = re.compile(
    r"(pass(word)?|secret|token|api[-_]?key|app[-_]?secret|authorization|access[-_]?token|"
    r"session[-_]?token|signature|sign|cookie)$",
    re.IGNORECASE,
)


def is_sensitive(key: str) -> bool:
    return bool(_SENSITIVE.search(key.replace(" ", "")))


def mask_value(value: Any) -> Any:
    """``value`` with every sensitive key's value replaced by ``***`` (recursively)."""
    if isinstance(value, dict):
        return {k: _mask_item(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    return value


def _mask_item(key: Any, value: Any) -> Any:
    if isinstance(key, str) and is_sensitive(key) and value not in (None, ""):
        return MASK
    return mask_value(value)


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query and not parts.password:
        return url
    query = urlencode(
        [(k, MASK if is_sensitive(k) else v) for k, v in parse_qsl(parts.query, True)],
        safe="*:/",
    )
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", f":{MASK}@")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_request(request: PlannedRequest) -> PlannedRequest:
    return dataclasses.replace(
        request,
        url=mask_url(request.url),
        params=mask_value(dict(request.params)),
        body=mask_value(request.body),
    )

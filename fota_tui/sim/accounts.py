"""Where the simulator serves each platform (demo accounts live in each dialect package)."""

from __future__ import annotations

from fota_tui.models import ProviderKind

IN_PROCESS_ROOT = "http://sim.localhost"  # RFC 6761 loopback name; in-process only


def base_url(root: str, kind: ProviderKind) -> str:
    """Where a platform lives on a simulator served at ``root``."""
    return f"{root.rstrip('/')}/{kind.value}"

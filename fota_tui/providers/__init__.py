"""Platform adapters behind one contract (see base.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from fota_tui.config.schema import ProviderConfigBase
    from fota_tui.providers.base import GroupSource, ProviderClient


def build_client(
    cfg: ProviderConfigBase,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    groups: GroupSource | None = None,
) -> ProviderClient:
    """``registry.build_client``, loaded on first use: the console opens a profile before
    its first frame, and the adapters (and httpx) are not needed for that."""
    from fota_tui.providers import registry

    return registry.build_client(cfg, transport=transport, groups=groups)

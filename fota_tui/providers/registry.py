"""The platforms fota-tui knows (one line each), and building a live adapter from a
profile's provider table: the one place config meets clients."""

from __future__ import annotations

from typing import Any

import httpx

from fota_tui.config.schema import ProviderConfigBase
from fota_tui.config.secrets import resolve_credentials
from fota_tui.models import ProviderKind
from fota_tui.providers.aovx.platform import PLATFORM as AOVX
from fota_tui.providers.base import GroupSource, ProviderClient
from fota_tui.providers.http import ClientOptions
from fota_tui.providers.oceanconnect.platform import PLATFORM as OCEANCONNECT
from fota_tui.providers.onenet.platform import PLATFORM as ONENET
from fota_tui.providers.platform import Platform
from fota_tui.providers.thingspace.platform import PLATFORM as THINGSPACE

PLATFORMS: dict[ProviderKind, Platform] = {
    p.kind: p for p in (THINGSPACE, OCEANCONNECT, ONENET, AOVX)
}


def client_class(kind: ProviderKind) -> Any:
    return PLATFORMS[kind].client_class()


def client_options(
    cfg: ProviderConfigBase, transport: httpx.AsyncBaseTransport | None = None
) -> ClientOptions:
    options = ClientOptions(
        name=cfg.name,
        base_url=str(cfg.base_url),
        timeout=cfg.timeout,
        verify_tls=cfg.verify_tls,
        transport=transport,
        status_map={k: v.value for k, v in cfg.status_map.items()},
        rate_limit_per_minute=cfg.rate_limit_per_minute,
        max_pages=cfg.max_pages,
        max_body_bytes=int(cfg.max_body_mb * 1024 * 1024),
        request_deadline=max(60.0, 4 * cfg.timeout),
        full_sweep=cfg.full_sweep_seconds,
        device_list_every=cfg.device_list_seconds,
    )
    # A platform with mutual TLS has these in its profile table.
    options.ca_bundle = getattr(cfg, "ca_bundle", None)
    options.client_cert = getattr(cfg, "client_cert", None)
    options.client_key = getattr(cfg, "client_key", None)
    return options


def build_client(
    cfg: ProviderConfigBase,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    groups: GroupSource | None = None,
) -> ProviderClient:
    """Resolve the secrets (raises ``SecretError``) and construct the adapter. ``groups``
    is where an adapter lists the campaigns fota-tui keeps for it (its journal)."""
    platform = PLATFORMS[cfg.kind]
    kwargs = platform.credentials(cfg, resolve_credentials(cfg))
    client: ProviderClient = platform.client_class()(
        client_options(cfg, transport), groups=groups, **kwargs
    )
    return client

"""Build a live adapter from a profile's provider table: the one place config meets clients."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import httpx

from fota_tui.config.schema import (
    AovxConfig,
    OceanConnectConfig,
    OneNetConfig,
    ProviderConfigBase,
    ThingSpaceConfig,
)
from fota_tui.config.secrets import resolve_credentials
from fota_tui.models import ProviderKind
from fota_tui.providers.base import GroupSource, ProviderClient
from fota_tui.providers.http import ClientOptions

_CLIENTS = {
    ProviderKind.THINGSPACE: "fota_tui.providers.thingspace.client:ThingSpaceClient",
    ProviderKind.OCEANCONNECT: "fota_tui.providers.oceanconnect.client:OceanConnectClient",
    ProviderKind.ONENET: "fota_tui.providers.onenet.client:OneNetClient",
    ProviderKind.AOVX: "fota_tui.providers.aovx.client:AovxClient",
}


def client_class(kind: ProviderKind) -> Any:
    module, _, name = _CLIENTS[kind].partition(":")
    return getattr(import_module(module), name)


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
    )
    if isinstance(cfg, OceanConnectConfig):
        options.ca_bundle = cfg.ca_bundle
        options.client_cert = cfg.client_cert
        options.client_key = cfg.client_key
    return options


def build_client(
    cfg: ProviderConfigBase,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    groups: GroupSource | None = None,
) -> ProviderClient:
    """Resolve the secrets (raises ``SecretError``) and construct the adapter."""
    secrets = resolve_credentials(cfg)
    options = client_options(cfg, transport)
    kwargs: dict[str, Any]
    if isinstance(cfg, ThingSpaceConfig):
        kwargs = {
            "account": cfg.account,
            "app_key": cfg.app_key,
            "app_secret": secrets["app_secret"],
            "username": cfg.username,
            "password": secrets["password"],
            "api_version": cfg.api_version,
        }
    elif isinstance(cfg, OceanConnectConfig):
        kwargs = {"app_id": cfg.app_id, "secret": secrets["secret"]}
    elif isinstance(cfg, OneNetConfig):
        kwargs = {"api_key": secrets["api_key"], "imeis": list(cfg.imeis), "groups": groups}
    elif isinstance(cfg, AovxConfig):
        kwargs = {
            "token": secrets.get("token"),
            "username": cfg.username,
            "password": secrets.get("password"),
            "login_path": cfg.login_path,
            "password_is_md5": cfg.password_is_md5,
            "groups": groups,
        }
    else:  # pragma: no cover - the schema's union is closed
        raise TypeError(f"unknown provider config {type(cfg).__name__}")
    client: ProviderClient = client_class(cfg.kind)(options, **kwargs)
    return client

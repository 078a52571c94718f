"""The simulator's demo accounts and addresses: static, so a demo profile costs no seeding."""

from __future__ import annotations

from types import MappingProxyType

from fota_tui.models import ProviderKind

IN_PROCESS_ROOT = "http://sim.localhost"  # RFC 6761 loopback name; in-process only

# Keyed like each platform's profile table. Obviously fake: never real credentials.
DEMO_CREDENTIALS = MappingProxyType(
    {
        ProviderKind.THINGSPACE: MappingProxyType(
            {
                "account": "0000123456-00001",
                "app_key": "demo-app-key",
                "app_secret": "demo-app-secret",
                "username": "demo-user",
                "password": "demo-password",
            }
        ),
        ProviderKind.OCEANCONNECT: MappingProxyType(
            {"app_id": "demo-oc-app", "secret": "demo-oc-secret"}
        ),
        ProviderKind.ONENET: MappingProxyType({"api_key": "demo-onenet-masterkey"}),
        ProviderKind.AOVX: MappingProxyType({"username": "demo", "password": "demo-aovx-password"}),
    }
)


def base_url(root: str, kind: ProviderKind) -> str:
    """Where a platform lives on a simulator served at ``root``."""
    return f"{root.rstrip('/')}/{kind.value}"

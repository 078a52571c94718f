"""Config dir, profiles and secret references (headless: no textual/rich here)."""

from fota_tui.config.paths import AppPaths, resolve_paths
from fota_tui.config.schema import (
    PROVIDER_CONFIG_CLASSES,
    AovxConfig,
    AppConfig,
    OceanConnectConfig,
    OneNetConfig,
    Preferences,
    Profile,
    ProviderConfig,
    ProviderConfigBase,
    SecretRef,
    ThingSpaceConfig,
    insecure_transport_warnings,
)
from fota_tui.config.secrets import is_plaintext, mask, resolve_credentials, resolve_secret
from fota_tui.config.store import ConfigStore

__all__ = [
    "PROVIDER_CONFIG_CLASSES",
    "AovxConfig",
    "AppConfig",
    "AppPaths",
    "ConfigStore",
    "OceanConnectConfig",
    "OneNetConfig",
    "Preferences",
    "Profile",
    "ProviderConfig",
    "ProviderConfigBase",
    "SecretRef",
    "ThingSpaceConfig",
    "insecure_transport_warnings",
    "is_plaintext",
    "mask",
    "resolve_credentials",
    "resolve_paths",
    "resolve_secret",
]

"""What ``config.toml`` and ``profiles/<name>.toml`` may contain.

Provider tables are a discriminated union on ``kind``. Unknown keys are errors everywhere.
Secret fields hold a reference (or a plaintext secret) and are never resolved here; see
``fota_tui.config.secrets``.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fota_tui.config.secrets import reference_problem
from fota_tui.models import ProviderKind, UpgradeState

NAME_RE = r"^[A-Za-z0-9_.-]+$"
PROFILE_NAME_RE = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
SECRET_FIELD_NAMES = frozenset({"app_secret", "password", "secret", "api_key", "token"})

Environment = Literal["production", "staging", "lab"]
ProviderName = Annotated[str, StringConstraints(pattern=NAME_RE, max_length=64)]
ProfileName = Annotated[str, StringConstraints(pattern=PROFILE_NAME_RE, max_length=64)]


def _check_reference(value: str) -> str:
    problem = reference_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host name")
    return value.rstrip("/")


# A secret field: an ``env:``/``file:``/``cmd:``/``keyring:`` reference or plaintext.
SecretRef = Annotated[str, AfterValidator(_check_reference)]
BaseUrl = Annotated[str, AfterValidator(_check_url)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderConfigBase(_Strict):
    """Fields every provider table has."""

    kind: ProviderKind
    name: ProviderName
    base_url: BaseUrl
    timeout: float = Field(15.0, gt=0)
    verify_tls: bool = True
    status_map: dict[str, UpgradeState] = Field(default_factory=dict)
    rate_limit_per_minute: int | None = Field(None, ge=1)
    max_pages: int = Field(10_000, ge=1)  # per listing: more is a pager that never ends
    max_body_mb: float = Field(32.0, gt=0)  # per answer, after decompression
    settle_seconds: float = Field(600.0, ge=0)  # a lost create is absent only after this
    # Between full sweeps a refresh reads only what can have changed (where the platform
    # makes that cheaper); the device list is read again at its own, slower cadence.
    full_sweep_seconds: float = Field(900.0, ge=0)
    device_list_seconds: float = Field(300.0, ge=0)

    secret_fields: ClassVar[tuple[str, ...]] = ()


class ThingSpaceConfig(ProviderConfigBase):
    kind: Literal[ProviderKind.THINGSPACE] = ProviderKind.THINGSPACE
    base_url: BaseUrl = "https://thingspace.verizon.com/api"
    account: str
    app_key: str
    app_secret: SecretRef
    username: str
    password: SecretRef
    api_version: Literal["v3", "v1", "both"] = "both"

    secret_fields: ClassVar[tuple[str, ...]] = ("app_secret", "password")


class OceanConnectConfig(ProviderConfigBase):
    kind: Literal[ProviderKind.OCEANCONNECT] = ProviderKind.OCEANCONNECT
    base_url: BaseUrl  # no public host: each deployment has its own server:8743
    app_id: str
    secret: SecretRef
    client_cert: str | None = None
    client_key: str | None = None
    ca_bundle: str | None = None
    rate_limit_per_minute: int | None = Field(100, ge=1)

    secret_fields: ClassVar[tuple[str, ...]] = ("secret",)

    @model_validator(mode="after")
    def _key_needs_cert(self) -> OceanConnectConfig:
        if self.client_key and not self.client_cert:
            raise ValueError("client_key is set but client_cert is not; set both")
        return self


class OneNetConfig(ProviderConfigBase):
    kind: Literal[ProviderKind.ONENET] = ProviderKind.ONENET
    base_url: BaseUrl = "https://api.heclouds.com"
    api_key: SecretRef
    imeis: list[str] = Field(default_factory=list)

    secret_fields: ClassVar[tuple[str, ...]] = ("api_key",)


class AovxConfig(ProviderConfigBase):
    kind: Literal[ProviderKind.AOVX] = ProviderKind.AOVX
    base_url: BaseUrl = "https://cloud.aovx.com/prod"
    token: SecretRef | None = None
    username: str | None = None
    password: SecretRef | None = None
    login_path: str = "/system/user/login"
    password_is_md5: bool = False

    secret_fields: ClassVar[tuple[str, ...]] = ("token", "password")

    @model_validator(mode="after")
    def _token_or_login(self) -> AovxConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together; set both or neither")
        if self.token is None and self.username is None:
            raise ValueError("set either token, or username and password")
        return self


ProviderConfig = Annotated[
    ThingSpaceConfig | OceanConnectConfig | OneNetConfig | AovxConfig,
    Field(discriminator="kind"),
]

PROVIDER_CONFIG_CLASSES: dict[ProviderKind, type[ProviderConfigBase]] = {
    ProviderKind.THINGSPACE: ThingSpaceConfig,
    ProviderKind.OCEANCONNECT: OceanConnectConfig,
    ProviderKind.ONENET: OneNetConfig,
    ProviderKind.AOVX: AovxConfig,
}


class Profile(_Strict):
    """One ``profiles/<name>.toml``; ``name`` comes from the file name."""

    name: ProfileName
    label: str | None = None
    environment: Environment = "production"
    read_only: bool = False
    refresh_interval: float = Field(30.0, ge=1)
    refresh_deadline: float | None = Field(None, ge=1)  # default: see ``deadline``
    providers: list[ProviderConfig] = Field(default_factory=list)

    @property
    def deadline(self) -> float:
        """How long one provider's refresh may take: a small multiple of the interval."""
        return self.refresh_deadline or max(60.0, 4 * self.refresh_interval)

    @field_validator("providers")
    @classmethod
    def _unique_names(cls, providers: list[ProviderConfigBase]) -> list[ProviderConfigBase]:
        seen: dict[str, int] = {}
        for index, provider in enumerate(providers):
            if provider.name in seen:
                raise PydanticCustomError(
                    "duplicate_provider_name",
                    "duplicate provider name '{name}' (already used by providers[{first}]);"
                    " names must be unique in a profile",
                    {"name": provider.name, "index": index, "first": seen[provider.name]},
                )
            seen[provider.name] = index
        return providers

    @property
    def display_label(self) -> str:
        return self.label or self.name

    def provider(self, name: str) -> ProviderConfigBase:
        for provider in self.providers:
            if provider.name == name:
                return provider
        raise KeyError(name)


class Preferences(_Strict):
    theme: str | None = None
    low_bandwidth: bool = False


class AppConfig(_Strict):
    """``config.toml``: the default profile and app preferences."""

    default_profile: ProfileName | None = None
    preferences: Preferences = Field(default_factory=Preferences)


def insecure_transport_warnings(provider_cfg: ProviderConfigBase) -> list[str]:
    """Warnings for settings that expose traffic: no TLS checks, or http:// off loopback.

    Loopback is 127.0.0.0/8, ::1, ``localhost`` and ``*.localhost``.
    """
    warnings = []
    who = f"provider '{provider_cfg.name}'"
    if not provider_cfg.verify_tls:
        warnings.append(f"{who}: verify_tls = false, so the server's certificate is not checked")
    parts = urlsplit(provider_cfg.base_url)
    if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
        warnings.append(
            f"{who}: base_url uses plain http:// to {parts.hostname}; "
            "credentials and data travel unencrypted"
        )
    return warnings


def _is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: always loopback
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- turning pydantic errors into one line per problem --------------------------------

_KINDS = ", ".join(kind.value for kind in ProviderKind)
_MISSING_HINTS = {
    (ProviderKind.OCEANCONNECT.value, "base_url"): (
        "required for oceanconnect, which has no public host: "
        'set base_url = "https://<server>:8743"'
    ),
}
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dotted_key(parts: Sequence[str | int]) -> str:
    """``("providers", 1, "timeout")`` → ``providers[1].timeout``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _PLAIN_KEY.match(part) else json.dumps(part, ensure_ascii=False)
            out += f".{text}" if out else text
    return out


def format_validation_error(
    exc: ValidationError, root: type[BaseModel], data: Mapping[str, Any]
) -> list[tuple[str | None, str]]:
    """``(dotted key, what was expected)`` per problem; never echoes a secret value."""
    problems = []
    for err in exc.errors():
        raw_loc = tuple(err["loc"])
        tag: str | None = None
        loc: list[str | int] = list(raw_loc)
        if _is_tagged(loc):
            tag = str(loc.pop(2))
        if err["type"] == "duplicate_provider_name":
            loc = ["providers", err["ctx"]["index"], "name"]
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("kind")
        message = _describe(err, root, loc, tag)
        context = _provider_context(loc, data)
        problems.append((dotted_key(loc) or None, message + context))
    return problems


def _is_tagged(loc: list[str | int]) -> bool:
    """Pydantic puts the union tag in the path: ``providers, 0, "onenet", "timeout"``."""
    return (
        len(loc) >= 3
        and loc[0] == "providers"
        and isinstance(loc[1], int)
        and loc[2] in ProviderKind._value2member_map_
    )


def _describe(err: Any, root: type[BaseModel], loc: list[str | int], tag: str | None) -> str:
    kind = err["type"]
    field = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "missing":
        return _MISSING_HINTS.get((tag or "", field), "required key is missing")
    if kind == "extra_forbidden":
        return _unknown_key(field, _model_at(root, loc[:-1], tag))
    if kind == "union_tag_invalid":
        return f"unknown kind {err['ctx']['tag']!r}; expected one of: {_KINDS}"
    if kind == "union_tag_not_found":
        return f"required key is missing; expected one of: {_KINDS}"
    if kind == "string_pattern_mismatch" and field == "name":
        return "expected letters, digits, '_', '.' or '-' only" + _got(err, field)
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return "expected a table" + _got(err, field)
    if kind == "list_type":
        return "expected a list (array)" + _got(err, field)
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = re.sub(r"^Input should be (greater|less)", r"expected a value \1", message)
    message = message.replace("Input should be", "expected", 1)
    return message + _got(err, field)


def _got(err: Any, field: str) -> str:
    """`` (got 'x')`` for short scalar inputs of non-secret fields, else nothing."""
    value = err.get("input")
    safe = field not in SECRET_FIELD_NAMES and isinstance(value, str | int | float | bool)
    return f" (got {value!r})" if safe and len(repr(value)) <= 60 else ""


def _model_at(
    root: type[BaseModel], parent: list[str | int], tag: str | None
) -> type[BaseModel] | None:
    if not parent:
        return root
    if tag is not None and len(parent) == 2 and parent[0] == "providers":
        return PROVIDER_CONFIG_CLASSES[ProviderKind(tag)]
    if parent == ["preferences"]:
        return Preferences
    return None


def _unknown_key(field: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return "unknown key"
    allowed = [name for name in model.model_fields if not (model is Profile and name == "name")]
    close = difflib.get_close_matches(field, allowed, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key; {hint}expected one of: {', '.join(allowed)}"


def _provider_context(loc: list[str | int], data: Mapping[str, Any]) -> str:
    if len(loc) < 2 or loc[0] != "providers" or not isinstance(loc[1], int):
        return ""
    providers = data.get("providers")
    if isinstance(providers, list) and loc[1] < len(providers):
        entry = providers[loc[1]]
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            return f" (provider '{entry['name']}')"
    return ""

"""Shared helpers for the audit tests (imported by tests/audit/test_*.py).

- ``AuditSecrets``: distinctive credential values, and the forms a client derives from
  them (the MD5 AOVX logs in with, ThingSpace's Basic ``app_key:app_secret``).
- ``TokenRecorder``: wraps the simulator dialects' token stores so every token they
  issue is remembered, even after it is revoked or expires.
- ``find_hits``: where any of the values occurs in a set of named texts.
- ``campaign_specs``: one valid campaign file per platform, for the seeded fleet.
- ``Tmux``: a private tmux server for driving the real binary.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmux_harness import Tmux  # noqa: F401  (the audit tests import it from here)

from fota_tui.models import ProviderKind
from fota_tui.sim.server import Simulator

TS, OC, ON, AX = (
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
)
FAR_FUTURE_DAYS = 3650


def distinctive(label: str) -> str:
    """``S3CRET-<label>-<16 hex>``: cannot occur anywhere by chance."""
    return f"S3CRET-{label}-{secrets.token_hex(8)}"


@dataclass
class AuditSecrets:
    """Every secret value of the audit profiles (plus the fixed, non-secret ids)."""

    ts_app_secret: str = field(default_factory=lambda: distinctive("ts-app"))
    ts_password: str = field(default_factory=lambda: distinctive("ts-pw"))
    oc_secret: str = field(default_factory=lambda: distinctive("oc-secret"))
    onenet_key: str = field(default_factory=lambda: distinctive("onenet-key"))
    aovx_password: str = field(default_factory=lambda: distinctive("aovx-pw"))
    aovx_token: str = field(default_factory=lambda: secrets.token_hex(16))  # a fixed tokenId
    wrong_secret: str = field(default_factory=lambda: distinctive("oc-wrong"))
    plaintext_key: str = field(default_factory=lambda: distinctive("plain-key"))
    ts_app_key: str = "audit-app-key"
    ts_user: str = "audit-user"
    oc_app: str = "audit-oc-app"
    aovx_user: str = "audit-ops"

    def credentials(self) -> dict[ProviderKind, dict[str, str]]:
        """What the simulator accepts (``Simulator.build(credentials=...)``)."""
        return {
            TS: {
                "app_key": self.ts_app_key,
                "app_secret": self.ts_app_secret,
                "username": self.ts_user,
                "password": self.ts_password,
            },
            OC: {"app_id": self.oc_app, "secret": self.oc_secret},
            ON: {"api_key": self.onenet_key},
            AX: {"username": self.aovx_user, "password": self.aovx_password},
        }

    def values(self) -> dict[str, str]:
        """Label → value of everything that must never be written anywhere."""
        raw = {
            "thingspace app_secret": self.ts_app_secret,
            "thingspace password": self.ts_password,
            "oceanconnect secret": self.oc_secret,
            "onenet api_key": self.onenet_key,
            "aovx password": self.aovx_password,
            "aovx token": self.aovx_token,
            "wrong oceanconnect secret": self.wrong_secret,
            "plaintext api_key": self.plaintext_key,
        }
        derived = {
            "aovx md5(password)": hashlib.md5(self.aovx_password.encode()).hexdigest(),
            "thingspace Basic credentials": base64.b64encode(
                f"{self.ts_app_key}:{self.ts_app_secret}".encode()
            ).decode(),
        }
        return raw | derived


class _RecordingDict(dict[str, Any]):
    """A dict that reports every key (and value) set in it."""

    def __init__(self, initial: Mapping[str, Any], record: Callable[[str, Any], None]) -> None:
        super().__init__(initial)
        self._record = record
        for key, value in initial.items():
            record(key, value)

    def __setitem__(self, key: str, value: Any) -> None:
        self._record(key, value)
        super().__setitem__(key, value)


class TokenRecorder:
    """Every token the simulator hands out, read from the dialects' own token stores.

    ThingSpace: ``TokenStore.oauth`` (OAuth access tokens) and ``.sessions`` (M2M session
    tokens); OceanConnect: ``grants`` (access and refresh token per app); AOVX:
    ``tokens`` (tokenId → expiry). OneNET issues none (a fixed api-key).
    """

    def __init__(self, simulator: Simulator) -> None:
        self.issued: dict[str, str] = {}  # token → where it came from
        dialects = simulator.dialects
        if TS in dialects:
            store = dialects[TS].tokens  # type: ignore[attr-defined]
            store.oauth = _RecordingDict(store.oauth, self._key("thingspace oauth"))
            store.sessions = _RecordingDict(store.sessions, self._key("thingspace session"))
        if OC in dialects:
            oc = dialects[OC]
            oc.grants = _RecordingDict(oc.grants, self._grant)  # type: ignore[attr-defined]
        if AX in dialects:
            ax = dialects[AX]
            ax.tokens = _RecordingDict(ax.tokens, self._key("aovx tokenId"))  # type: ignore[attr-defined]

    def _key(self, source: str) -> Callable[[str, Any], None]:
        def record(key: str, value: Any) -> None:
            self.issued[key] = source

        return record

    def _grant(self, app_id: str, grant: Any) -> None:
        self.issued[grant.access] = "oceanconnect accessToken"
        self.issued[grant.refresh] = "oceanconnect refreshToken"

    def sources(self) -> set[str]:
        return set(self.issued.values())

    def values(self) -> dict[str, str]:
        return {f"{source} #{i}": token for i, (token, source) in enumerate(self.issued.items())}


def add_fixed_aovx_token(simulator: Simulator, token: str) -> None:
    """Let the AOVX dialect accept ``token`` as if its login had issued it."""
    from datetime import timedelta

    ax = simulator.dialects[AX]
    ax.tokens[token] = simulator.fleet.now() + timedelta(days=FAR_FUTURE_DAYS)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Hit:
    value_label: str
    where: str
    context: str


def find_hits(values: Mapping[str, str], texts: Mapping[str, str | bytes]) -> list[Hit]:
    """Every occurrence of every value in every text (bytes are searched as bytes)."""
    hits = []
    for where, text in texts.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
        for label, value in values.items():
            needle = value.encode()
            start = data.find(needle)
            if start >= 0:
                context = data[max(0, start - 60) : start + len(needle) + 20]
                hits.append(Hit(label, where, context.decode("utf-8", "replace")))
    return hits


def read_tree(*roots: Path) -> dict[str, bytes]:
    """Every regular file under ``roots``, path → bytes."""
    files: dict[str, bytes] = {}
    for root in roots:
        if root.is_file():
            files[str(root)] = root.read_bytes()
            continue
        if not root.exists():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[str(path)] = path.read_bytes()
    return files


# -- campaign files ---------------------------------------------------------------------


def _eligible(simulator: Simulator, kind: ProviderKind, count: int) -> tuple[Any, list[Any]]:
    """A firmware package and up to ``count`` idle devices it upgrades."""
    fleet = simulator.fleet
    for fw in fleet.firmware[kind]:
        devices = [
            d
            for d in fleet.devices[kind].values()
            if d.model == fw.model
            and fleet.firmware_of(d) == fw.from_version
            and fleet.active_job_of(d) is None
        ]
        if kind is OC:
            devices = [d for d in devices if d.device_type == fw.device_type and d.make == fw.make]
        if len(devices) >= count:
            return fw, sorted(devices, key=lambda d: d.device_id)[:count]
    raise AssertionError(f"no firmware of {kind.value} has {count} idle devices to upgrade")


def campaign_specs(
    simulator: Simulator, names: Mapping[ProviderKind, str], folder: Path, *, count: int = 2
) -> dict[ProviderKind, Path]:
    """One campaign TOML per platform (provider names from ``names``), written to ``folder``."""
    specs: dict[ProviderKind, Path] = {}
    for kind, provider in names.items():
        fw, devices = _eligible(simulator, kind, count)
        lines = [f"provider = {json.dumps(provider)}", f'name = "audit {kind.value}"']
        if kind is TS:
            ids = [d.imei for d in devices]
            lines += [f"firmware = {json.dumps(fw.name)}", 'start_at = "now"', 'end_at = "+7d"']
            lines += ["[options]", 'api = "v3"', f"protocol = {json.dumps(fw.protocol)}"]
        elif kind is OC:
            ids = [d.device_id for d in devices]
            lines += [
                f"firmware = {json.dumps(fw.firmware_id)}",
                f"firmware_to = {json.dumps(fw.version)}",
                'execute_type = "now"',
                "[options]",
                f"file_type = {json.dumps('firmware' if 'firmware' in fw.file_type else 'software')}",
            ]
        elif kind is ON:
            ids = [d.imei for d in devices]
            lines += [f"firmware = {json.dumps(fw.url)}", 'end_at = "+3d"']
        else:
            ids = [d.device_id for d in devices]
            lines += [f"firmware = {json.dumps(fw.url)}"]
        options_at = next((i for i, line in enumerate(lines) if line == "[options]"), len(lines))
        lines.insert(options_at, f"devices = {json.dumps(ids)}")
        path = folder / f"{kind.value}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        specs[kind] = path
    return specs


# -- tmux ---------------------------------------------------------------------------------


def env_for(dirs: Mapping[str, Path], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a subprocess using ``dirs`` (config/cache/data/log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOTA_TUI_")}
    env.update(
        {
            "FOTA_TUI_CONFIG_DIR": str(dirs["config"]),
            "FOTA_TUI_CACHE_DIR": str(dirs["cache"]),
            "FOTA_TUI_DATA_DIR": str(dirs["data"]),
            "FOTA_TUI_LOG_DIR": str(dirs["log"]),
        }
    )
    env.update(extra or {})
    return env

"""Secret references: ``env:NAME``, ``file:PATH``, ``cmd:COMMAND``, ``keyring:SERVICE/USER``.

Profiles hold references, resolved only at connect time into ``SecretStr``. Anything else
is a plaintext secret: accepted, but flagged by ``is_plaintext`` so the CLI can warn.
Error messages name the provider, the field and the reference, never a value.
"""

from __future__ import annotations

import importlib
import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from fota_tui.errors import SecretError
from fota_tui.logs import register_secret

if TYPE_CHECKING:
    from fota_tui.config.schema import ProviderConfigBase

SCHEMES = ("env", "file", "cmd", "keyring")
CMD_TIMEOUT = 10.0
MASK = "••••"


def split_reference(ref: str) -> tuple[str, str] | None:
    """``(scheme, rest)`` for a reference, ``None`` for a plaintext secret."""
    scheme, sep, rest = ref.partition(":")
    if sep and scheme in SCHEMES:
        return scheme, rest
    return None


def is_plaintext(ref: str) -> bool:
    return split_reference(ref) is None


def reference_problem(ref: str) -> str | None:
    """Why a reference is malformed (checked when a profile loads), or ``None``."""
    parts = split_reference(ref)
    if parts is None:
        return None
    scheme, rest = parts
    if not rest.strip():
        return f"'{scheme}:' needs {_WHAT[scheme]} after the colon"
    if scheme == "cmd":
        try:
            if not shlex.split(rest):
                return "'cmd:' needs a command after the colon"
        except ValueError as exc:
            return f"'cmd:' command cannot be parsed ({exc})"
    if scheme == "keyring":
        service, _, user = rest.rpartition("/")
        if not service or not user:
            return "'keyring:' reference must look like keyring:SERVICE/USER"
    return None


_WHAT = {
    "env": "a variable name",
    "file": "a file path",
    "cmd": "a command",
    "keyring": "SERVICE/USER",
}


def mask(ref: str | None) -> str:
    """How a secret field is shown: the reference, never the value."""
    if ref is None:
        return "(not set)"
    return f"{MASK} (plaintext)" if is_plaintext(ref) else f"{MASK} ({ref})"


def resolve_secret(ref: str, *, field: str, provider: str) -> SecretStr:
    """Resolve one reference (or pass a plaintext secret through) into a ``SecretStr``."""
    parts = split_reference(ref)
    if parts is None:
        if not ref:
            raise _error("is empty", ref="(plaintext)", field=field, provider=provider)
        register_secret(ref)
        return SecretStr(ref)
    problem = reference_problem(ref)
    if problem:
        raise _error(problem, ref=ref, field=field, provider=provider)
    scheme, rest = parts
    try:
        value = _RESOLVERS[scheme](rest.strip())
    except _Failure as exc:
        raise _error(str(exc), ref=ref, field=field, provider=provider) from None
    if not value:
        raise _error("gave an empty value", ref=ref, field=field, provider=provider)
    register_secret(value)
    return SecretStr(value)


def resolve_credentials(provider_cfg: ProviderConfigBase) -> dict[str, SecretStr]:
    """Resolve every secret field that is set; all failures are reported together."""
    resolved: dict[str, SecretStr] = {}
    errors: list[SecretError] = []
    for field in provider_cfg.secret_fields:
        ref = getattr(provider_cfg, field, None)
        if ref is None:
            continue
        try:
            resolved[field] = resolve_secret(ref, field=field, provider=provider_cfg.name)
        except SecretError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SecretError("\n".join(str(e) for e in errors))
    return resolved


class _Failure(Exception):
    """Internal: a resolver failed; the message is safe to show (no value)."""


def _error(problem: str, *, ref: str, field: str, provider: str) -> SecretError:
    return SecretError(f"{ref} {problem}", key=f"{field} of provider '{provider}'")


def _from_env(name: str) -> str:
    if name not in os.environ:
        raise _Failure("is not set")
    return os.environ[name]


def _from_file(path: str) -> str:
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _Failure(f"names a file that does not exist ({file})") from None
    except IsADirectoryError:
        raise _Failure(f"names a directory, not a file ({file})") from None
    except UnicodeDecodeError:
        raise _Failure("names a file that is not UTF-8 text") from None
    except OSError as exc:
        raise _Failure(f"cannot be read ({exc.strerror})") from None
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


def _from_cmd(command: str) -> str:
    argv = shlex.split(command)
    try:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=CMD_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise _Failure(f"failed: command not found ({argv[0]})") from None
    except PermissionError:
        raise _Failure(f"failed: command is not executable ({argv[0]})") from None
    except subprocess.TimeoutExpired:
        raise _Failure(f"timed out after {CMD_TIMEOUT:g} s") from None
    except OSError as exc:
        raise _Failure(f"failed to start ({exc.strerror})") from None
    if result.returncode != 0:
        # stdout/stderr may hold the secret or parts of it: never shown.
        raise _Failure(f"exited with status {result.returncode}")
    try:
        return result.stdout.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _Failure("printed something that is not UTF-8 text") from None


def _from_keyring(spec: str) -> str:
    try:
        keyring = importlib.import_module("keyring")
    except ImportError:
        raise _Failure(
            "needs the 'keyring' package, which is not installed (pip install keyring)"
        ) from None
    service, _, user = spec.rpartition("/")
    try:
        value = keyring.get_password(service, user)
    except Exception as exc:  # any backend failure; its text may not be safe to show
        raise _Failure(f"lookup failed ({type(exc).__name__})") from None
    if value is None:
        raise _Failure("has no entry in the keyring")
    return str(value)


_RESOLVERS = {
    "env": _from_env,
    "file": _from_file,
    "cmd": _from_cmd,
    "keyring": _from_keyring,
}

"""Reading and writing ``config.toml`` and ``profiles/<name>.toml``.

Reads use ``tomllib``; writes use ``tomli-w`` and are atomic (temp file in the same folder,
fsync, ``os.replace``) with mode 0600, under an exclusive ``<file>.lock`` so two processes
never interleave. Loads never write, so a corrupt file stays as it is until the user fixes it.
Every problem becomes a ``ConfigError`` naming the file and the dotted key (or line).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import tomli_w
from pydantic import BaseModel, ValidationError

from fota_tui.config.paths import AppPaths
from fota_tui.config.schema import PROFILE_NAME_RE, AppConfig, Profile, format_validation_error
from fota_tui.errors import ConfigError

if sys.platform == "win32":  # pragma: no cover - POSIX is the supported platform
    import msvcrt

    def _lock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)

    def _try_lock_fd(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _try_lock_fd(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


_M = TypeVar("_M", bound=BaseModel)
MAX_PROBLEMS = 10
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class ConfigStore:
    """The config dir's files. Nothing is created until something is written."""

    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths

    @property
    def config_path(self) -> Path:
        return self.paths.config_file

    # --- config.toml -------------------------------------------------------------------

    def load_config(self) -> AppConfig:
        """The app config; defaults when ``config.toml`` does not exist."""
        data = read_toml(self.config_path)
        if data is None:
            return AppConfig()
        return _validate(AppConfig, data, self.config_path)

    def save_config(self, config: AppConfig) -> None:
        with file_lock(self.config_path):
            atomic_write_text(self.config_path, tomli_w.dumps(_dump(config)))

    def update_config(self, change: Callable[[AppConfig], AppConfig]) -> AppConfig:
        """Load, change and save ``config.toml`` under one lock (no lost updates)."""
        with file_lock(self.config_path):
            config = change(self.load_config())
            atomic_write_text(self.config_path, tomli_w.dumps(_dump(config)))
        return config

    # --- profiles ----------------------------------------------------------------------

    def profile_path(self, name: str) -> Path:
        check_profile_name(name)
        return self.paths.profiles_dir / f"{name}.toml"

    def list_profiles(self) -> list[str]:
        """Names of the profile files, sorted."""
        folder = self.paths.profiles_dir
        if not folder.is_dir():
            return []
        return sorted(
            path.stem
            for path in folder.glob("*.toml")
            if path.is_file() and re.match(PROFILE_NAME_RE, path.stem)
        )

    def load_profile(self, name: str) -> Profile:
        path = self.profile_path(name)
        profile = load_profile_file(path, name)
        if profile is None:
            raise self._missing(name)
        return profile

    def save_profile(self, profile: Profile, *, overwrite: bool = True) -> Path:
        """Write a profile atomically; with ``overwrite=False`` an existing one is an error."""
        path = self.profile_path(profile.name)
        with file_lock(path):
            if not overwrite and path.exists():
                raise ConfigError(
                    f"profile '{profile.name}' already exists (use --force to replace it)",
                    path=str(path),
                )
            atomic_write_text(path, tomli_w.dumps(profile_to_toml_data(profile)))
        return path

    def remove_profile(self, name: str) -> None:
        """Delete a profile and clear ``default_profile`` if it pointed there."""
        path = self.profile_path(name)
        config = self.load_config()  # fail before deleting anything if config.toml is bad
        with file_lock(path):
            try:
                path.unlink()
            except FileNotFoundError:
                raise self._missing(name) from None
            except OSError as exc:
                raise ConfigError(
                    f"cannot remove the file ({exc.strerror})", path=str(path)
                ) from None
        if config.default_profile == name:
            self.update_config(
                lambda c: (
                    c.model_copy(update={"default_profile": None})
                    if c.default_profile == name
                    else c
                )
            )

    def select_profile(self, name: str | None = None) -> Profile:
        """``name``, else ``default_profile``, else the only profile there is."""
        if name is None:
            name = self.load_config().default_profile
        if name is None:
            names = self.list_profiles()
            if len(names) == 1:
                name = names[0]
            elif not names:
                raise ConfigError(
                    "no profiles yet; add one with 'fota-tui profiles add NAME --from FILE'"
                    " or try 'fota-tui --demo'",
                    path=str(self.paths.profiles_dir),
                )
            else:
                raise ConfigError(
                    "no profile selected; pass --profile NAME or set a default with"
                    f" 'fota-tui profiles default NAME' (available: {', '.join(names)})"
                )
        return self.load_profile(name)

    def _missing(self, name: str) -> ConfigError:
        names = self.list_profiles()
        hint = (
            f"available: {', '.join(names)}"
            if names
            else "there are no profiles yet; add one with 'fota-tui profiles add NAME --from FILE'"
        )
        return ConfigError(f"no profile named '{name}' ({hint})", path=str(self.profile_path(name)))


# --- reading -------------------------------------------------------------------------


def check_profile_name(name: str) -> None:
    if not re.match(PROFILE_NAME_RE, name) or len(name) > 64:
        raise ConfigError(
            f"invalid profile name {name!r}: use letters, digits, '_', '.' or '-'"
            " (not starting with '.' or '-')",
            key="name",
        )


def read_toml(path: Path) -> dict[str, Any] | None:
    """Parse a TOML file; ``None`` if it does not exist, ``ConfigError`` if it is bad."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror})", path=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "the file is not UTF-8 text", path=str(path), key=f"byte {exc.start}"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        key = f"line {match[1]}, column {match[2]}" if match else None
        detail = _TOML_POSITION.sub("", message) if match else message
        raise ConfigError(f"invalid TOML: {detail}", path=str(path), key=key) from None


def load_profile_file(path: Path, name: str) -> Profile | None:
    """Read and validate one profile file (any path); ``None`` if it does not exist."""
    check_profile_name(name)
    data = read_toml(path)
    if data is None:
        return None
    if "name" in data:
        raise ConfigError(
            "unknown key: a profile's name comes from its file name; remove this key",
            path=str(path),
            key="name",
        )
    return _validate(Profile, {**data, "name": name}, path, shown=data)


def _validate(
    model: type[_M], data: Mapping[str, Any], path: Path, *, shown: Mapping[str, Any] | None = None
) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = format_validation_error(exc, model, shown if shown is not None else data)
        raise problems_error(path, problems) from None


def problems_error(path: Path, problems: list[tuple[str | None, str]]) -> ConfigError:
    """One ``ConfigError``: the first problem, then one line per further problem."""
    (key, message), *rest = problems
    lines = [message]
    for other_key, other in rest[: MAX_PROBLEMS - 1]:
        lines.append(": ".join(part for part in (str(path), other_key, other) if part))
    if len(rest) >= MAX_PROBLEMS:
        lines.append(f"{path}: … and {len(rest) - MAX_PROBLEMS + 1} more problems")
    return ConfigError("\n".join(lines), path=str(path), key=key)


# --- writing -------------------------------------------------------------------------


def _dump(model: BaseModel) -> dict[str, Any]:
    # Only what was set: defaults (such as public base URLs) are not frozen into files.
    return model.model_dump(mode="json", exclude_none=True, exclude_unset=True)


def profile_to_toml_data(profile: Profile) -> dict[str, Any]:
    """The TOML tables for a profile: no ``name`` (that is the file name), ``kind`` always."""
    data = _dump(profile)
    data.pop("name", None)
    data.pop("providers", None)
    if profile.providers:
        data["providers"] = [{"kind": p.kind.value, **_dump(p)} for p in profile.providers]
    return data


def _ensure_dir(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for created in reversed(missing):
        with suppress(FileExistsError):
            created.mkdir(mode=0o700)
            os.chmod(created, 0o700)


def _open_lock_file(path: Path) -> int:
    try:
        _ensure_dir(path.parent)
        return os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot create the lock file ({exc.strerror})", path=str(path)) from None


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (created 0600 next to the file)."""
    fd = _open_lock_file(path)
    try:
        _lock_fd(fd)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@asynccontextmanager
async def waiting_file_lock(
    path: Path,
    holder: str,
    *,
    wait: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    poll: float = 0.1,
) -> AsyncIterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` without blocking the event loop, waiting
    up to ``wait`` seconds for another holder. ``holder`` (who we are) is written into the
    lock file; on time-out ``LockBusy`` says who holds it."""
    fd = _open_lock_file(path)
    try:
        waited = 0.0
        while not _try_lock_fd(fd):
            if waited >= wait:
                os.lseek(fd, 0, os.SEEK_SET)
                other = os.read(fd, 200).decode("utf-8", "replace").strip()
                raise LockBusy(other or "another process", waited)
            await sleep(poll)
            waited += poll
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class LockBusy(Exception):
    """``waiting_file_lock`` gave up: ``holder`` kept the lock for ``waited`` seconds."""

    def __init__(self, holder: str, waited: float) -> None:
        super().__init__(holder)
        self.holder, self.waited = holder, waited


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step; on failure the old file is untouched."""
    try:
        _ensure_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write the file ({exc.strerror})", path=str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ConfigError(
                f"cannot write the file ({exc.strerror or exc}); the old file is unchanged",
                path=str(path),
            ) from None
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # Make the rename durable; not every platform lets a directory be opened.
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

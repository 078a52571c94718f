"""Where fota-tui keeps its files: the one seam for config, cache, data and log dirs.

Precedence for the config dir: explicit argument (``--config-dir``), then
``$FOTA_TUI_CONFIG_DIR``, then the platform's user config dir. The other dirs follow the
same pattern with their own variables. Nothing here creates a directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "fota-tui"
CONFIG_DIR_ENV = "FOTA_TUI_CONFIG_DIR"
CACHE_DIR_ENV = "FOTA_TUI_CACHE_DIR"
DATA_DIR_ENV = "FOTA_TUI_DATA_DIR"
LOG_DIR_ENV = "FOTA_TUI_LOG_DIR"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    profiles_dir: Path
    cache_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def as_dict(self) -> dict[str, Path]:
        """Name → path, in the order ``fota-tui locate`` prints them."""
        return {
            "config": self.config_dir,
            "profiles": self.profiles_dir,
            "cache": self.cache_dir,
            "data": self.data_dir,
            "log": self.log_dir,
        }


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def resolve_paths(config_dir: Path | str | None = None) -> AppPaths:
    """Resolve every directory without touching the file system."""
    config = (
        Path(config_dir).expanduser()
        if config_dir
        else _from_env(CONFIG_DIR_ENV) or platformdirs.user_config_path(APP_NAME)
    )
    return AppPaths(
        config_dir=config,
        profiles_dir=config / "profiles",
        cache_dir=_from_env(CACHE_DIR_ENV) or platformdirs.user_cache_path(APP_NAME),
        data_dir=_from_env(DATA_DIR_ENV) or platformdirs.user_data_path(APP_NAME),
        log_dir=_from_env(LOG_DIR_ENV) or platformdirs.user_log_path(APP_NAME),
    )

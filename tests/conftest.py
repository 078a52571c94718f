"""Shared fixtures. Every test runs with its own config/cache/data/log dirs under tmp_path,
and in its own working directory, so no test can touch the real user directories or write
into the repository."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from fota_tui.config.paths import AppPaths, resolve_paths

DIR_ENV_VARS = {
    "config": "FOTA_TUI_CONFIG_DIR",
    "cache": "FOTA_TUI_CACHE_DIR",
    "data": "FOTA_TUI_DATA_DIR",
    "log": "FOTA_TUI_LOG_DIR",
}


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Path]:
    """Point $FOTA_TUI_{CONFIG,CACHE,DATA,LOG}_DIR at (not yet created) tmp_path subdirs."""
    dirs = {name: tmp_path / "fota-tui" / name for name in DIR_ENV_VARS}
    for name, var in DIR_ENV_VARS.items():
        monkeypatch.setenv(var, str(dirs[name]))
    # One colour depth for every test, whatever terminal runs the suite (a 16-colour
    # terminal would start the console on its ANSI theme).
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    # Relative writes (default export names) land here, outside the test's own tmp_path.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    return dirs


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """A console under test freezes what it holds (tui/memory.py); the next test starts
    with nothing frozen, so one test's closed apps are collected as usual."""
    yield
    gc.unfreeze()


@pytest.fixture
def app_paths(isolated_dirs: dict[str, Path]) -> AppPaths:
    """The resolved paths for the isolated dirs."""
    return resolve_paths()

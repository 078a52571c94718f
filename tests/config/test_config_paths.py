from pathlib import Path

import pytest

from fota_tui.cli import main
from fota_tui.config import paths as paths_module
from fota_tui.config.paths import resolve_paths


@pytest.fixture
def fake_platformdirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = tmp_path / "platformdirs"
    for kind in ("config", "cache", "data", "log"):
        monkeypatch.setattr(
            paths_module.platformdirs,
            f"user_{kind}_path",
            lambda app, _kind=kind: base / _kind / app,
        )
    return base


def test_explicit_dir_beats_env_and_platformdirs(tmp_path, fake_platformdirs, monkeypatch):
    monkeypatch.setenv("FOTA_TUI_CONFIG_DIR", str(tmp_path / "from-env"))
    paths = resolve_paths(tmp_path / "from-flag")
    assert paths.config_dir == tmp_path / "from-flag"
    assert paths.profiles_dir == tmp_path / "from-flag" / "profiles"


def test_env_beats_platformdirs(tmp_path, fake_platformdirs, monkeypatch):
    monkeypatch.setenv("FOTA_TUI_CONFIG_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("FOTA_TUI_CACHE_DIR", str(tmp_path / "cache-env"))
    paths = resolve_paths()
    assert paths.config_dir == tmp_path / "from-env"
    assert paths.cache_dir == tmp_path / "cache-env"


def test_platformdirs_when_nothing_is_set(fake_platformdirs, monkeypatch):
    for var in ("CONFIG", "CACHE", "DATA", "LOG"):
        monkeypatch.delenv(f"FOTA_TUI_{var}_DIR")
    paths = resolve_paths()
    assert paths.config_dir == fake_platformdirs / "config" / "fota-tui"
    assert paths.cache_dir == fake_platformdirs / "cache" / "fota-tui"
    assert paths.data_dir == fake_platformdirs / "data" / "fota-tui"
    assert paths.log_dir == fake_platformdirs / "log" / "fota-tui"


def test_empty_env_var_falls_back_to_platformdirs(fake_platformdirs, monkeypatch):
    monkeypatch.setenv("FOTA_TUI_CONFIG_DIR", "")
    assert resolve_paths().config_dir == fake_platformdirs / "config" / "fota-tui"


def test_cli_flag_beats_env(tmp_path, capsys, isolated_dirs):
    assert main(["--config-dir", str(tmp_path / "flag"), "locate", "config"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "flag")
    assert main(["locate", "config"]) == 0
    assert capsys.readouterr().out.strip() == str(isolated_dirs["config"])


def test_locate_lists_every_dir_and_creates_nothing(capsys, isolated_dirs):
    assert main(["locate"]) == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert lines == {
        "config": str(isolated_dirs["config"]),
        "profiles": str(isolated_dirs["config"] / "profiles"),
        "cache": str(isolated_dirs["cache"]),
        "data": str(isolated_dirs["data"]),
        "log": str(isolated_dirs["log"]),
    }
    assert main(["profiles", "list"]) == 0
    assert not any(path.exists() for path in isolated_dirs.values())

"""``run_console``: config errors exit 2 with a message, never a traceback."""

from __future__ import annotations

import argparse

import pytest

from fota_tui.config.paths import AppPaths
from fota_tui.tui.app import run_console


def args(**overrides: object) -> argparse.Namespace:
    base = {
        "config_dir": None,
        "profile": None,
        "demo": False,
        "read_only": False,
        "debug": False,
        "low_bandwidth": False,
    }
    base.update(overrides)
    return argparse.Namespace(**base)


def test_missing_profile_is_a_config_error(
    app_paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_console(args(profile="nope")) == 2
    err = capsys.readouterr().err
    assert "no profile named 'nope'" in err and "profiles add NAME --from FILE" in err
    assert "Traceback" not in err


def test_broken_config_file_names_file_and_key(
    app_paths: AppPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    app_paths.config_dir.mkdir(parents=True)
    app_paths.config_file.write_text("[preferences]\nlow_bandwith = true\n")
    assert run_console(args()) == 2
    err = capsys.readouterr().err
    assert "config.toml" in err and "preferences.low_bandwith" in err and "did you mean" in err

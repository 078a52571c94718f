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


def test_the_demo_journals_in_its_own_folder_never_the_users(app_paths: AppPaths) -> None:
    """One journal per simulator run, shared by the console and its campaign service; a
    new demo starts without the last one's campaigns, and nothing lands in the data dir."""
    from fota_tui.services.campaigns.journal import Journal
    from fota_tui.sim.demo import build_demo
    from fota_tui.tui.app import make_app
    from fota_tui.tui.screens.wizard_session import campaign_session

    first, second = build_demo(devices=40), build_demo(devices=40)
    app = make_app(first.profile, transport=first.transport, demo=first, paths=app_paths)
    journal = app.session.groups
    assert isinstance(journal, Journal)
    assert journal.folder.is_relative_to(first.data_dir)
    assert campaign_session(app).journal.folder == journal.folder
    assert not journal.folder.is_relative_to(app_paths.data_dir)
    other = make_app(second.profile, transport=second.transport, demo=second, paths=app_paths)
    assert other.session.groups.folder != journal.folder  # type: ignore[union-attr]
    folder = first.data_dir
    first.close()
    assert not folder.exists()
    plain = make_app(first.profile.model_copy(update={"name": "lab"}), paths=app_paths)
    assert plain.session.groups.folder.is_relative_to(app_paths.data_dir)  # type: ignore[union-attr]
    second.close()

import argparse
import os
import subprocess
import sys
import types

import pytest

from fota_tui import __version__
from fota_tui.cli import NOT_BUILT, build_parser, main
from fota_tui.commands import profiles as profiles_command
from fota_tui.errors import ProviderTimeout


def command_paths(parser: argparse.ArgumentParser, prefix=()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += command_paths(sub, (*prefix, name))
    return found


def test_help_works_on_every_command_and_subcommand(capsys):
    paths = command_paths(build_parser())
    assert ("profiles", "check") in paths and ("locate",) in paths
    for path in paths:
        assert main([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert out.startswith(f"usage: fota-tui {' '.join(path)}".rstrip()), path


def test_usage_errors_exit_2(capsys):
    assert main(["--no-such-flag"]) == 2
    assert main(["profiles"]) == 2  # needs an action
    assert main(["profiles", "add", "lab"]) == 2  # needs --from
    err = capsys.readouterr().err
    assert "required: --from" in err and "Traceback" not in err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"fota-tui {__version__}"


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fota_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),  # carries the isolated FOTA_TUI_*_DIR variables
    )


@pytest.mark.process
def test_real_process_version_and_help():
    result = run_module("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"fota-tui {__version__}")
    result = run_module("--help")
    assert result.returncode == 0 and "profiles" in result.stdout


@pytest.mark.process
def test_real_process_config_error_exits_2(isolated_dirs):
    result = run_module("profiles", "show", "nope")
    assert result.returncode == 2
    assert result.stderr.startswith("fota-tui: Configuration error: ")
    assert str(isolated_dirs["config"] / "profiles" / "nope.toml") in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.process
def test_real_process_usage_error_exits_2():
    result = run_module("profiles", "frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_no_command_without_console_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "fota_tui.tui.app", None)  # as if it did not exist
    assert main([]) == 2
    assert capsys.readouterr().err.strip() == NOT_BUILT


def test_no_command_runs_the_console(monkeypatch):
    seen = []

    def run_console(args) -> int:
        seen.append(args)
        return 0

    fake = types.ModuleType("fota_tui.tui.app")
    fake.run_console = run_console  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fota_tui.tui.app", fake)
    assert main(["--demo", "--read-only", "--profile", "lab"]) == 0
    [args] = seen
    assert args.demo and args.read_only and args.profile == "lab"


def test_fota_errors_print_title_and_message(monkeypatch, capsys):
    def fail(args):
        raise ProviderTimeout("ts-main", "no answer within 15 s")

    monkeypatch.setattr(profiles_command, "run_list", fail)
    assert main(["profiles", "list"]) == 1
    assert capsys.readouterr().err == "fota-tui: Timed out: ts-main: no answer within 15 s\n"


def test_unexpected_error_is_one_line_unless_debug(monkeypatch, capsys):
    def boom(args):
        raise RuntimeError("internal detail that may hold data")

    monkeypatch.setattr(profiles_command, "run_list", boom)
    assert main(["profiles", "list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError" in err and "--debug" in err
    assert "Traceback" not in err and "internal detail" not in err
    assert main(["--debug", "profiles", "list"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError" in err


def test_keyboard_interrupt(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(profiles_command, "run_list", interrupted)
    assert main(["profiles", "list"]) == 130
    assert "Traceback" not in capsys.readouterr().err

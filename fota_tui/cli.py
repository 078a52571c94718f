"""The ``fota-tui`` command: argument parsing and dispatch only.

``main()`` returns an exit code: 0 ok, 1 provider/unexpected error, 2 usage or config
error. Expected errors print one line per problem, never a traceback; ``--debug`` shows
the traceback of unexpected ones.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import os
import re
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from fota_tui import __version__
from fota_tui.commands import register_all
from fota_tui.config.paths import resolve_paths
from fota_tui.errors import FotaError
from fota_tui.logs import setup_logging
from fota_tui.text import SafeStream

CONSOLE_MODULE = "fota_tui.tui.app"
NOT_BUILT = "The console is not built yet; use 'fota-tui profiles …' / 'fota-tui locate'"


class SuggestingParser(argparse.ArgumentParser):
    """A usage error names the closest command or option (``did you mean 'status'?``)."""

    def error(self, message: str) -> NoReturn:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'?([\w-]+)'?", choice.group(2))
            message += _did_you_mean(choice.group(1), options)
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if unknown:
            message += _did_you_mean(unknown.group(1).split("=")[0], _option_strings(self))
        super().error(message)


def _did_you_mean(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every option of ``parser`` and of its commands, recursively."""
    found: list[str] = []
    for action in parser._actions:
        found += [o for o in action.option_strings if o.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _option_strings(sub)
    return list(dict.fromkeys(found))


def build_parser() -> argparse.ArgumentParser:
    parser = SuggestingParser(
        prog="fota-tui",
        description="Keyboard-first console for firmware-over-the-air upgrades across"
        " Verizon ThingSpace, Huawei OceanConnect, China Mobile OneNET and AOVX."
        " Without a command, opens the console.",
    )
    parser.add_argument("--version", action="version", version=f"fota-tui {__version__}")
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="config dir (default: $FOTA_TUI_CONFIG_DIR or the"
        " platform's user config dir; see 'fota-tui locate')",
    )
    parser.add_argument("--profile", metavar="NAME", help="profile to use (default: the default)")
    parser.add_argument("--demo", action="store_true", help="use the built-in simulated fleet")
    parser.add_argument("--read-only", action="store_true", help="never change anything")
    parser.add_argument(
        "--low-bandwidth",
        action="store_true",
        help="for slow links: refresh every 60 s or less often, redraw ages at most every 10 s, no animations",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=SuggestingParser
    )
    register_all(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Every byte the CLI writes goes through the platform-text boundary (``SafeStream``)."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(stdout), SafeStream(stderr)
    try:
        return _main(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = stdout, stderr


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        _start_logging(args)
        if getattr(args, "func", None) is None:
            return _run_console(args)
        return int(args.func(args))
    except FotaError as err:
        print(f"fota-tui: {err.title}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("fota-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)  # the interpreter's own flush at exit writes nowhere
        return 0
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        # Only the type (and, for OS errors, the OS reason): other messages may hold data.
        detail = type(exc).__name__
        if isinstance(exc, OSError) and exc.strerror:
            detail += f": {exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
        hint = "" if args.debug else "; rerun with --debug to see the traceback"
        print(f"fota-tui: unexpected error ({detail}){hint}", file=sys.stderr)
        return 1


def _start_logging(args: argparse.Namespace) -> None:
    """The rotating log file, created with its first record."""
    setup_logging(resolve_paths(args.config_dir).log_dir, debug=args.debug)


def _run_console(args: argparse.Namespace) -> int:
    """Open the TUI, imported lazily so the other commands never load textual."""
    module: ModuleType | None
    try:
        module = importlib.import_module(CONSOLE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name not in ("fota_tui.tui", CONSOLE_MODULE):
            raise
        module = None
    run_console = getattr(module, "run_console", None)
    if run_console is None:
        print(NOT_BUILT, file=sys.stderr)
        return 2
    return int(run_console(args))

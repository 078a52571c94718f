"""``fota-tui status``: a quick, scriptable look at every provider of a profile."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import shutil
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from fota_tui.commands import open_workspace, target_options
from fota_tui.errors import UsageError
from fota_tui.models import UpgradeState

if TYPE_CHECKING:
    from fota_tui.services.workspace import Workspace

FORMATS = ("table", "json", "csv")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="query every provider and print devices and campaigns",
        description="Query every provider of the profile concurrently and print devices and"
        " campaigns. Exit 0 when every provider answered, 1 when any failed (the others are"
        " still printed), 2 for usage or config errors.",
    )
    target_options(parser)
    parser.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="NAME",
        help="only this provider (repeatable)",
    )
    parser.add_argument(
        "--state",
        action="append",
        default=[],
        metavar="STATES",
        type=_states,
        help="only devices in these states, comma-separated (repeatable): the console's"
        " filter words, e.g. failed,expired or active, terminal, attention",
    )
    parser.add_argument(
        "--wide", action="store_true", help="table cells in full, however wide the lines get"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument(
        "--watch", type=float, metavar="SECONDS", help="repeat every SECONDS until interrupted"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="read every device on every refresh (the first is always full; later ones under"
        " --watch read only what can have changed, with a full sweep now and then)",
    )
    parser.set_defaults(func=run)


def _states(text: str) -> frozenset[UpgradeState]:
    from fota_tui.services.query import QueryError, parse_states

    try:
        return parse_states(text)
    except QueryError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _width(args: argparse.Namespace) -> int | None:
    """The table's width: the terminal's, 80 on a pipe, unlimited with ``--wide``."""
    if args.wide:
        return None
    if sys.stdout.isatty():
        return max(shutil.get_terminal_size((80, 24)).columns, 60)
    return 80


def _fit_screen(text: str) -> str:
    """A report taller than the terminal is cut to it, saying how to see the rest: a
    redraw in place cannot scroll, and scrolled lines would pile up in the scrollback."""
    height = shutil.get_terminal_size((80, 24)).lines
    lines = text.splitlines()
    if len(lines) < height:
        return text
    kept = lines[: height - 2]
    note = (
        f"… {len(lines) - len(kept)} more lines: narrow with --state / --provider, or --format csv"
    )
    return "\n".join([*kept, note]) + "\n"


def run(args: argparse.Namespace) -> int:
    if args.watch is not None and not (1 <= args.watch < math.inf):
        raise UsageError("--watch: SECONDS must be a number of at least 1")
    with open_workspace(args) as workspace:
        return _run(args, workspace)


def _run(args: argparse.Namespace, workspace: Workspace) -> int:
    from fota_tui.services import status_report

    profile = workspace.profile
    names = workspace.provider_names
    unknown = [n for n in args.provider if n not in names]
    if unknown:
        raise UsageError(
            f"--provider: no provider {', '.join(map(repr, unknown))} in profile"
            f" {profile.name!r}; it has: {', '.join(names) or '(none)'}"
        )
    renderers: dict[str, Callable[[status_report.StatusReport], str]] = {
        "table": partial(status_report.render_table, width=_width(args)),
        "json": partial(status_report.render_json, compact=args.watch is not None),
        "csv": status_report.render_csv,
    }
    render = renderers[args.format]
    states = sorted(set().union(*args.state), key=list(UpgradeState).index)

    async def once() -> int:
        report = await status_report.collect(
            workspace, providers=args.provider, states=states, full=args.full
        )
        text = render(report)  # under --watch, json is one object per line
        if args.watch is not None and args.format == "table" and sys.stdout.isatty():
            text = _fit_screen(text)
            # Redrawn in place (home, each line cleared to its end, the rest cleared):
            # no blank frame between two reports. Our own controls, past the
            # platform-text boundary on purpose; the report's text still goes through it.
            control = getattr(sys.stdout, "write_control", sys.stdout.write)
            control("\x1b[H")
            for line in text.splitlines():
                sys.stdout.write(line)
                control("\x1b[K\n")
            control("\x1b[J")
            text = ""
        sys.stdout.write(text)
        sys.stdout.flush()
        for p in report.providers:
            if p.error is not None:
                print(f"fota-tui: {p.name}: {p.error.title}: {p.error.message}", file=sys.stderr)
        return report.exit_code

    async def loop() -> int:
        try:
            code = await once()
            while args.watch is not None:
                await asyncio.sleep(args.watch)
                code = await once()
            return code
        finally:
            await workspace.aclose()

    try:
        return asyncio.run(loop())
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    """After a closed pipe, the final flush must not fail again."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())

"""``fota-tui locate [WHAT]``: where fota-tui keeps its files."""

from __future__ import annotations

import argparse
from typing import Any

from fota_tui.commands import paths_from_args

WHAT = ("config", "profiles", "cache", "data", "log")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "locate",
        help="print the config, profiles, cache, data and log dirs in use",
        description="Print the directories fota-tui uses (nothing is created).",
    )
    parser.add_argument("what", nargs="?", choices=WHAT, help="print just this one path")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dirs = paths_from_args(args).as_dict()
    if args.what:
        print(dirs[args.what])
    else:
        for name, path in dirs.items():
            print(f"{name}: {path}")
    return 0

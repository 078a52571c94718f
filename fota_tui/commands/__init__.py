"""CLI commands. Each module exposes ``register(subparsers)``, which adds its parser and
sets ``func=handler`` where ``handler(args: argparse.Namespace) -> int``.

To add a command, append its module to ``COMMAND_MODULES`` (one line). Keep module import
light: import heavy things (textual, httpx clients) inside the handler.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fota_tui.config.paths import AppPaths, resolve_paths
from fota_tui.config.schema import Profile
from fota_tui.config.store import ConfigStore

if TYPE_CHECKING:
    from fota_tui.services.workspace import Workspace

COMMAND_MODULES: tuple[str, ...] = (
    "fota_tui.commands.profiles",
    "fota_tui.commands.locate",
    "fota_tui.commands.status",
    "fota_tui.commands.sim",
    "fota_tui.commands.campaign",
    "fota_tui.commands.rollout",
)


def register_all(subparsers: Any) -> None:
    """Let every command module add its parser to the top-level subparsers."""
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)


def paths_from_args(args: argparse.Namespace) -> AppPaths:
    """The dirs in use, honouring ``--config-dir``."""
    return resolve_paths(getattr(args, "config_dir", None))


def store_from_args(args: argparse.Namespace) -> ConfigStore:
    return ConfigStore(paths_from_args(args))


def profile_from_args(args: argparse.Namespace) -> Profile:
    """The profile to use: ``--profile``, else the default, else the only one.

    ``--read-only`` forces ``read_only`` on. Raises ``ConfigError`` (exit 2) if none fits.
    """
    profile = store_from_args(args).select_profile(getattr(args, "profile", None))
    if getattr(args, "read_only", False) and not profile.read_only:
        profile = profile.model_copy(update={"read_only": True})
    return profile


def target_options(parser: argparse.ArgumentParser) -> None:
    """Let ``--profile``/``--demo`` also follow the command (``status --demo``)."""
    parser.add_argument(
        "--profile",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="profile to use (default: the default profile)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the built-in simulated fleet",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="change nothing, whatever the profile allows",
    )


@contextmanager
def open_workspace(args: argparse.Namespace) -> Iterator[Workspace]:
    """The command line's profile opened as a workspace; with ``--demo``, an in-process
    simulator whose journal lives as long as the command. The caller awaits
    ``workspace.aclose()`` inside its event loop."""
    from fota_tui.services.workspace import Workspace

    read_only = bool(getattr(args, "read_only", False)) or None
    if not getattr(args, "demo", False):
        profile = profile_from_args(args)
        yield Workspace(profile, paths_from_args(args).data_dir, read_only=read_only)
        return
    from fota_tui.sim.demo import build_demo

    demo = build_demo()
    try:
        yield Workspace(
            demo.profile,
            demo.data_dir,
            transport=demo.transport,
            now=demo.clock.now,
            read_only=read_only,
        )
    finally:
        demo.close()

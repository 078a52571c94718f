"""A platform, declared once: what the rest of fota-tui needs to know about it.

Each provider package has a ``platform.py`` with its ``PLATFORM``; ``registry.py``
lists them (one line each). Nothing outside a platform's packages (the adapter here,
the dialect in ``sim/dialects``) branches on the platform for what is declared here:
how to build its client, its campaign options and rules, what it cannot do and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from pydantic import SecretStr

from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.providers.rules import Rule


@dataclass(frozen=True)
class Option:
    """One platform-only campaign option (``spec.options[name]``)."""

    name: str
    help: str  # what it does, its values and its default, for files, previews and errors


def option_help(options: tuple[Option, ...]) -> dict[str, str]:
    return {o.name: o.help for o in options}


# (profile table, resolved secrets) -> the client's keyword arguments
Credentials = Callable[[Any, Mapping[str, SecretStr]], dict[str, Any]]


@dataclass(frozen=True)
class Platform:
    kind: ProviderKind
    client: str  # "module:Class"; imported when the first client is built
    credentials: Credentials
    rules: Rule  # the campaign rules: the one check of a spec before anything is sent
    options: tuple[Option, ...]
    no_cancel: str | None = None  # why its campaigns cannot be cancelled, if they cannot
    notes: Callable[[CampaignSpec], list[str]] | None = None  # what a preview should add

    @property
    def label(self) -> str:
        return self.kind.label

    def client_class(self) -> Any:
        module, _, name = self.client.partition(":")
        return getattr(import_module(module), name)

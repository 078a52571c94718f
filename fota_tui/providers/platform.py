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


TIME_HINT = "A date, 2026-11-23 08:00 (UTC), now, or +30m / +2h / +7d."


@dataclass(frozen=True)
class FormField:
    """A campaign field as the wizard asks for it (no widgets here: the wizard builds them).

    ``target`` is where the value lands in the spec: a spec field (``firmware_to``,
    ``start_at``, ``windows`` …) or ``options.<name>``. ``kind`` says how the typed text
    is read: ``text`` (empty = not set), ``int`` (a wrong number still goes to the rules,
    which name it), ``choice``, ``check``, ``time``, ``date`` (a time the platform keeps
    as a date) or ``windows`` (UTC hour ranges).
    """

    key: str  # the form's key and the control's id
    target: str
    label: str
    step: str  # firmware | targets | schedule
    kind: str = "text"
    choices: tuple[tuple[str, Any], ...] = ()  # (label, value)
    default: Any = ""  # the raw value, or a function of now (UTC) giving it
    hint: str = ""
    placeholder: str = ""
    row: int = 0  # fields of a step with the same non-zero row share a line
    when: tuple[str, Any] | None = None  # applies only while field ``key`` has this value
    also: tuple[str, ...] = ()  # more spec fields whose problems show beside this one
    above_list: bool = False  # shown above the firmware list, which it filters by file type

    def initial(self, now: Any) -> Any:
        return self.default(now) if callable(self.default) else self.default


# Fills or derives spec values the fields do not say directly:
# (spec values, options, the firmware catalogue or None) -> None, editing in place.
Complete = Callable[[dict[str, Any], dict[str, Any], Any], None]
# A catalogue entry chosen in a typed-firmware wizard -> {target: raw value} to fill in.
FromCatalogue = Callable[[Any], dict[str, Any]]


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
    # The wizard: its fields, what it derives, and how a listed package fills the fields
    # (a platform whose fields type the firmware picks from no catalogue).
    fields: tuple[FormField, ...] = ()
    complete: Complete | None = None
    from_catalogue: FromCatalogue | None = None
    derived_steps: tuple[tuple[str, str], ...] = ()  # (spec field ``complete`` sets, step)
    catalogue_noun: str = "packages"  # what its firmware list lists
    schedule_note: str = ""  # said on the schedule step when it has no fields

    @property
    def typed_firmware(self) -> bool:
        """Whether the firmware is typed (a URI) rather than chosen from the catalogue."""
        return any(f.target == "firmware" for f in self.fields)

    def step_fields(self, step: str) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if f.step == step)

    @property
    def label(self) -> str:
        return self.kind.label

    def client_class(self) -> Any:
        module, _, name = self.client.partition(":")
        return getattr(import_module(module), name)

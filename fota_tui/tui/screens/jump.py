"""``:`` jumps anywhere (k9s's command prompt): a view, a provider, a device or a campaign
by id, IMEI or name, with completion as you type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from fota_tui.services.fleet import RowKey
from fota_tui.services.session import ConsoleSession

VIEWS = ("campaigns", "devices", "log", "help", "problems")


@dataclass(frozen=True)
class Jump:
    """Where a ``:`` line leads: ``kind`` is view, provider, device, campaign or filter."""

    kind: str
    target: str = ""
    key: RowKey | None = None  # (provider, id) of a device or campaign


def jump_words(session: ConsoleSession) -> list[str]:
    """What completion offers: views, ``provider NAME``, campaign names and ids, device
    ids and IMEIs."""
    words = [*VIEWS, *(f"provider {name}" for name in session.provider_names)]
    for c in session.campaigns():
        words.append(c.campaign_id)
        if c.name:
            words.append(c.name)
    for row in session.store:
        words.append(row.device_id)
        if row.imei and row.imei != row.device_id:
            words.append(row.imei)
    return list(dict.fromkeys(words))


def resolve_jump(session: ConsoleSession, text: str) -> Jump | None:
    """The place ``text`` names, or None. Exact matches win (case-insensitive); a word
    that only matches devices as free text becomes a device filter."""
    wanted = " ".join(text.split()).lower()
    if not wanted:
        return None
    if wanted in VIEWS:
        return Jump("view", wanted)
    name = wanted.removeprefix("provider ").strip()
    for provider in session.provider_names:
        if provider.lower() == name:
            return Jump("provider", provider)
    if wanted.startswith("provider "):  # a prefix naming one provider is enough
        matches = [p for p in session.provider_names if p.lower().startswith(name)]
        if len(matches) == 1:
            return Jump("provider", matches[0])
    for row in session.store:
        if wanted in (row.device_id.lower(), (row.imei or "").lower()):
            return Jump("device", row.device_id, row.key)
    for c in session.campaigns():
        if wanted in (c.campaign_id.lower(), (c.name or "").lower()):
            return Jump("campaign", c.campaign_id, (c.provider, c.campaign_id))
    if any(wanted in row.search_text for row in session.store):
        return Jump("filter", text.strip())
    return None


class JumpPrompt(ModalScreen[Jump | None]):
    """A one-line prompt at the top; → accepts the completion, Enter jumps."""

    DEFAULT_CSS = """
    JumpPrompt { align: center top; background: $background 40%; }
    JumpPrompt > Vertical {
        width: 80%; max-width: 100; height: auto; margin-top: 1;
        border: round $accent; background: $surface; padding: 0 1;
    }
    JumpPrompt #jump-hint { color: $text-muted; }
    JumpPrompt #jump-error { color: $text-error; height: auto; max-height: 3; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Jump to"
            yield Input(
                placeholder="campaigns, devices, log, problems, provider NAME, a device id, "
                "IMEI or campaign id or name",
                suggester=SuggestFromList(jump_words(self.session), case_sensitive=False),
                id="jump-input",
            )
            yield Static(id="jump-error", markup=False)
            yield Static("→ completes · Enter jumps · Esc cancels", id="jump-hint")

    @on(Input.Submitted, "#jump-input")
    def _submitted(self, event: Input.Submitted) -> None:
        """What was typed, else the completion shown (Enter takes what you see)."""
        event.stop()
        field = self.query_one("#jump-input", Input)
        jump = resolve_jump(self.session, event.value)
        suggestion = field._suggestion  # the completion on screen, if any
        if suggestion and (jump is None or jump.kind == "filter"):
            jump = resolve_jump(self.session, suggestion) or jump  # a named thing wins
        if jump is None:
            typed = event.value.strip()
            shown = typed if len(typed) <= 40 else typed[:39] + "…"
            hint = ""
            if typed.lower().startswith("provider"):
                hint = f" Providers: {', '.join(self.session.provider_names)}."
            error = f"Nothing here is named {shown!r}.{hint}" if typed else ""
            self.query_one("#jump-error", Static).update(error)
            return
        self.dismiss(jump)

    def action_cancel(self) -> None:
        self.dismiss(None)

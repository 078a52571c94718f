"""Small modal prompts."""

from __future__ import annotations

from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ExportPrompt(ModalScreen[str | None]):
    """Ask for an export path; ``.csv`` or ``.json`` picks the format."""

    DEFAULT_CSS = """
    ExportPrompt { align: center middle; }
    ExportPrompt > Vertical {
        width: 72; max-width: 95%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ExportPrompt Input { margin: 1 0 0 0; }
    ExportPrompt .hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Export the current view"
            yield Input(value=self.default, id="export-path")
            yield Static(
                "Enter writes the rows shown (filter and sort applied). "
                "The file name's .csv or .json picks the format. Esc cancels.",
                classes="hint",
                markup=False,
            )

    @on(Input.Submitted, "#export-path")
    def _submit(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        self.dismiss(path or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoicePrompt(ModalScreen[str | None]):
    """A question with a few keyed answers; Esc (or ``n``) answers None."""

    DEFAULT_CSS = """
    ChoicePrompt { align: center middle; }
    ChoicePrompt > Vertical {
        width: 72; max-width: 95%; height: auto;
        border: round $warning; background: $surface; padding: 0 1;
    }
    ChoicePrompt .choices { margin: 1 0 0 0; color: $text-accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, message: str, choices: dict[str, str]) -> None:
        """``choices``: key -> label (``{"a": "use all 3", "v": "only the 1 shown"}``)."""
        super().__init__()
        self.title_text, self.message, self.choices = title, message, choices

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(self.message, markup=False)
            labels = [f"{key}: {label}" for key, label in self.choices.items()]
            yield Static("   ".join([*labels, "Esc: cancel"]), classes="choices", markup=False)

    def on_key(self, event: events.Key) -> None:
        if event.key in self.choices:
            event.stop()
            self.dismiss(event.key)

    def action_cancel(self) -> None:
        self.dismiss(None)

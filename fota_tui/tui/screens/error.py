"""The error screen for unexpected exceptions: a copyable traceback, and the app stays up."""

from __future__ import annotations

import traceback
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

from fota_tui.tui.clipboard import copy_text
from fota_tui.tui.text import literal, sanitize


def format_traceback(error: BaseException) -> str:
    """The traceback as text, each line sanitised (exception messages may hold platform text)."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return "\n".join(sanitize(line) for line in text.splitlines())


class ErrorScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ErrorScreen { align: center middle; }
    ErrorScreen > Vertical {
        width: 90%; height: 80%;
        border: heavy $error; background: $surface; padding: 0 1;
    }
    ErrorScreen #error-message { color: $text-error; text-style: bold; height: auto; }
    ErrorScreen #error-hint { color: $text-muted; height: auto; }
    ErrorScreen TextArea { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("y", "copy", "Copy traceback"),
    ]

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
        self.traceback = format_traceback(error)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Unexpected error"
            yield Static(literal(f"{type(self.error).__name__}: {self.error}"), id="error-message")
            yield Static(
                "The console is still running. y copies the traceback (please include it "
                "in a bug report); Esc closes this.",
                id="error-hint",
                markup=False,
            )
            yield TextArea(self.traceback, read_only=True, id="error-traceback")
        yield Footer(compact=True)

    def action_copy(self) -> None:
        copy_text(self.app, self.traceback)
        self.notify("Traceback copied to the clipboard", title="Copied")

    def action_close(self) -> None:
        self.dismiss(None)

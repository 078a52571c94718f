"""Small modal prompts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from fota_tui.errors import UsageError
from fota_tui.tui.text import sanitize
from fota_tui.tui.widgets.device_table import DeviceTable


class ExportPrompt(ModalScreen[tuple[str, int] | None]):
    """Ask for an export path (``.csv`` or ``.json`` picks the format) and write it with
    ``export``. A refused path keeps the prompt open with what was typed and says why; an
    existing file is only replaced after a second Enter. Dismissed with (path, rows)."""

    DEFAULT_CSS = """
    ExportPrompt { align: center middle; }
    ExportPrompt > Vertical {
        width: 72; max-width: 95%; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ExportPrompt Input { margin: 1 0 0 0; }
    ExportPrompt .hint { color: $text-muted; }
    ExportPrompt #export-error { color: $text-error; height: auto; }
    ExportPrompt #export-error.-warn { color: $text-warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: str, export: Callable[[str], int]) -> None:
        super().__init__()
        self.default = default
        self.export = export
        self._overwrite: str | None = None  # the existing path a second Enter replaces

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Export the current view"
            yield Input(value=self.default, id="export-path")
            yield Static(id="export-error", markup=False)
            yield Static(
                "Enter writes the rows shown (filter and sort applied). "
                "The file name's .csv or .json picks the format. Esc cancels.",
                classes="hint",
                markup=False,
            )

    @on(Input.Submitted, "#export-path")
    def _submit(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            self.dismiss(None)
            return
        note = self.query_one("#export-error", Static)
        target = Path(path).expanduser()
        if target.is_file() and self._overwrite != path:
            self._overwrite = path
            note.add_class("-warn")
            note.update(f"{path} exists. Enter again replaces it; edit the name to keep it.")
            return
        try:
            count = self.export(path)
        except UsageError as exc:  # the typed path stays, with the reason
            self._overwrite = None
            note.remove_class("-warn")
            note.update(exc.message)
            return
        self.dismiss((path, count))

    @on(Input.Changed, "#export-path")
    def _edited(self, event: Input.Changed) -> None:
        if self._overwrite is not None and event.value.strip() != self._overwrite:
            self._overwrite = None
            self.query_one("#export-error", Static).update("")

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


def ask_export(table: DeviceTable, default: str) -> None:
    """Ask for a path (the prompt keeps it until it works) and export ``table``'s view."""

    def done(result: tuple[str, int] | None) -> None:
        if result is not None:
            path, count = result
            table.notify(f"Exported {count} rows to {sanitize(path)}", title="Export",
                         markup=False)  # fmt: skip

    table.app.push_screen(ExportPrompt(default, table.export_view), done)

"""The device table with its ``/`` filter bar and a title that says what is shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from fota_tui.services.fleet import FleetStore
from fota_tui.services.query import QueryError, parse_query
from fota_tui.tui.text import literal
from fota_tui.tui.widgets.device_table import DeviceTable

FILTER_HELP = "free text, state:failed, provider:NAME, fw:VERSION, campaign:ID, -state:succeeded"


class DevicePanel(Vertical):
    """A ``DeviceTable`` plus a filter input that opens with ``/``.

    Typing filters live; an invalid filter shows its message under the input and keeps
    the last valid filter. Enter keeps the filter and returns to the table; Escape
    clears it.
    """

    DEFAULT_CSS = """
    DevicePanel {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-title-style: bold;
        &:focus-within { border: round $primary; }
        #filter-bar { height: auto; display: none; }
        #filter-bar.-open { display: block; }
        #filter-input { border: none; height: 1; padding: 0 1; background: $boost; }
        #filter-error { color: $text-error; height: auto; padding: 0 1; }
        #filter-error.-hidden { display: none; }
    }
    """

    def __init__(
        self,
        store: FleetStore,
        *,
        title: str = "Devices",
        clock: Callable[[], datetime] | None = None,
        age_refresh: float | None = 1.0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._store = store
        self._title = title
        self._shown_title: str | None = None
        self._clock = clock
        self._age_refresh = age_refresh
        self.filter_error: str | None = None

    def compose(self) -> ComposeResult:
        yield DeviceTable(self._store, clock=self._clock, age_refresh=self._age_refresh)
        with Vertical(id="filter-bar"):
            yield Input(
                placeholder=f"filter: {FILTER_HELP}", id="filter-input", select_on_focus=False
            )
            yield Static(id="filter-error", classes="-hidden")

    def on_mount(self) -> None:
        self.border_subtitle = "/ filter · s sort · space select · y copy · e export"
        self._update_title()

    @property
    def table(self) -> DeviceTable:
        return self.query_one(DeviceTable)

    @property
    def filter_open(self) -> bool:
        return self.query_one("#filter-bar").has_class("-open")

    @property
    def filter_input(self) -> Input:
        return self.query_one("#filter-input", Input)

    def open_filter(self) -> None:
        bar = self.query_one("#filter-bar")
        bar.add_class("-open")
        self.filter_input.value = self.table.filter_query.text
        self.filter_input.focus()

    def close_filter(self, *, clear: bool) -> None:
        if clear:
            self.filter_input.value = ""
            self._apply("")
        self.query_one("#filter-bar").remove_class("-open")
        self._show_error(None)
        self.table.focus()

    def set_filter(self, text: str) -> bool:
        """Apply filter text (as if typed); False with ``filter_error`` set if invalid."""
        self.filter_input.value = text
        return self._apply(text)

    def _apply(self, text: str) -> bool:
        try:
            query = parse_query(text)
        except QueryError as exc:
            self._show_error(exc.message)
            return False
        self._show_error(None)
        self.table.set_query(query)
        return True

    def _show_error(self, message: str | None) -> None:
        self.filter_error = message
        error = self.query_one("#filter-error", Static)
        error.set_class(message is None, "-hidden")
        error.update(literal(message or ""))

    @on(Input.Changed, "#filter-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._apply(event.value)

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._apply(event.value):
            self.close_filter(clear=False)

    def key_escape(self) -> None:
        if self.filter_open:
            self.close_filter(clear=True)

    @on(DeviceTable.ViewChanged)
    @on(DeviceTable.SelectionChanged)
    def _view_changed(self) -> None:
        self._update_title()

    def set_title(self, title: str) -> None:
        self._title = title
        self._update_title()

    def _update_title(self) -> None:
        table = self.table
        parts = [f"{self._title} {table.row_count:,}"]
        if table.filter_query:
            parts[0] += f"/{table.total_count:,}"
        selected = len(table.selected_keys)
        if selected:
            hidden = table.hidden_selected()
            parts.append(f"{selected:,} selected" + (f" ({hidden:,} hidden)" if hidden else ""))
        if table.sort_column == "attention":
            parts.append("problems last" if table.sort_reverse else "problems first")
        elif table.sort_column:
            parts.append(f"sort {table.sort_column} {'▼' if table.sort_reverse else '▲'}")
        if table.filter_query:
            parts.append(f"filter {table.filter_query.text}")
        if table.wide:
            parts.append("wide ← →")
        title = " · ".join(parts)
        if title != self._shown_title:  # a new title repaints the whole panel
            self._shown_title = title
            self.border_title = literal(title)

    def query_text(self) -> str:
        return self.table.filter_query.text


__all__ = ["DevicePanel"]

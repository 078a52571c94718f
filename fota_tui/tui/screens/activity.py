"""The activity log (``l``): every notification and every outcome of what the user did,
newest first (toasts fade; this stays for the session)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static

from fota_tui.tui.screens.base import FotaScreen
from fota_tui.tui.text import literal, when_label
from fota_tui.tui.widgets.status_header import StatusHeader

ACTIVITY_KEPT = 500  # entries kept per session

_MARKS = {
    "information": ("●", "$text-accent"),
    "warning": ("▲", "$text-warning"),
    "error": ("✗", "bold $text-error"),
}


@dataclass(frozen=True)
class Activity:
    at: datetime
    title: str
    message: str
    severity: str


class ActivityLog:
    """What the console told the user, oldest first; bounded."""

    def __init__(self) -> None:
        self.entries: deque[Activity] = deque(maxlen=ACTIVITY_KEPT)
        self.version = 0

    def add(self, entry: Activity) -> None:
        self.entries.append(entry)
        self.version += 1


def activity_lines(entries: list[Activity], now: datetime) -> Content:
    if not entries:
        return Content.styled("Nothing yet: notifications and outcomes land here.", "$text-muted")
    lines = []
    for entry in reversed(entries):
        mark, style = _MARKS.get(entry.severity, _MARKS["information"])
        lines.append(
            Content.assemble(
                (f"{mark} ", style),
                (when_label(entry.at, now), "$text-muted"),
                "  ",
                literal(entry.title, "bold"),
            )
        )
        lines.append(Content("  ") + literal(entry.message))
    return Content("\n").join(lines)


class ActivityScreen(FotaScreen):
    HELP_NAME = "Activity log"
    DEFAULT_CSS = """
    ActivityScreen #activity {
        height: auto; padding: 0 1; border: round $panel-lighten-2;
        border-title-color: $text; border-title-style: bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self) -> None:
        super().__init__()
        self._shown = -1

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.session)
        with VerticalScroll(id="activity-scroll"):
            yield Static(id="activity")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.update_header(full=True)
        self.query_one("#activity-scroll").focus()
        self.show()

    def show(self) -> None:
        log = self.fota.activity
        if log.version == self._shown:
            return
        self._shown = log.version
        box = self.query_one("#activity", Static)
        box.border_title = f"Activity · {len(log.entries)} (newest first)"
        box.update(activity_lines(list(log.entries), self.fota.clock.now()))  # as stamped

    def tick(self) -> None:
        self.update_header()
        self.show()

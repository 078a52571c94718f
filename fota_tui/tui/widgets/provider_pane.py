"""One pane per provider: health, auth, data age, stale reason, counts, campaigns, budget."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from fota_tui.models import AuthState
from fota_tui.services.session import ConsoleSession, ProviderView
from fota_tui.tui.text import age_label, count_labels, literal, state_bar

HEALTH_WORDS = {
    "ok": ("● ok", "$text-success"),
    "failing": ("✗ failing", "bold $text-error"),
    "unknown": ("○ waiting", "$text-muted"),
    "error": ("✗ not configured", "bold $text-error"),
}
AUTH_WORDS = {
    AuthState.OK: ("auth ok", "$text-success"),
    AuthState.FAILED: ("auth failed", "bold $text-error"),
    AuthState.UNKNOWN: ("auth ?", "$text-muted"),
    AuthState.NOT_REQUIRED: ("no auth", "$text-muted"),
}


SHORT = 30  # terminal rows under which panes drop their bar (80x24 keeps 8 device rows)
STALE_PREFIX = "stale: "  # the line with the reason wraps (up to three lines); Enter shows all


class PaneLine(Static):
    """One line of a pane: a changed fact resends this line, not the whole pane."""

    DEFAULT_CSS = """
    PaneLine {
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        &.-wrap { height: auto; max-height: 3; text-wrap: wrap; }
    }
    """

    def __init__(self, content: Content) -> None:
        super().__init__(content)
        self.shown = content
        self.spans = tuple(content.spans)

    def show(self, content: Content, *, wrap: bool = False) -> None:
        """``wrap``: the line may take up to three lines (the reason a platform fails)."""
        spans = tuple(content.spans)  # Content's == ignores styles
        relayout = wrap != self.has_class("-wrap")
        self.set_class(wrap, "-wrap")
        if content.plain != self.shown.plain or spans != self.spans or relayout:
            self.shown, self.spans = content, spans
            self.update(content, layout=wrap or relayout)  # one line stays one line


class ProviderPane(Widget, can_focus=True):
    """Renders one ``ProviderView``; the grid re-feeds it on every change and tick.

    Each fact is its own line widget, and the border changes only with the pane's
    state (stale, cached, not configured): a refresh or a clock tick resends just the
    lines whose text changed, which is what keeps an idle console cheap over SSH.
    """

    DEFAULT_CSS = """
    ProviderPane {
        height: auto;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-title-style: bold;
        border-subtitle-style: bold;
        padding: 0 1;
        &.-ok { border: round $success 60%; }
        &.-stale { border: heavy $error; border-subtitle-color: $text-error; }
        &.-cached { border: round $warning; border-subtitle-color: $text-warning; }
        &.-error { border: heavy $error; border-subtitle-color: $text-error; }
        &:focus { border-title-background: $accent; border-title-color: $text; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Open provider")]

    def __init__(self, view: ProviderView, now: datetime, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.view = view
        self.now = now
        self._title: Content | None = None
        self._badge: str | None = None

    def on_mount(self) -> None:
        self.show(self.view)

    def action_open(self) -> None:
        self.post_message(self.Opened(self.view.name))

    def on_click(self) -> None:
        self.action_open()

    class Opened(Message):
        """The user asked for this provider's view (Enter on the pane, or a click)."""

        def __init__(self, provider: str) -> None:
            super().__init__()
            self.provider = provider

    @property
    def text(self) -> str:
        """The pane's text, a line per fact (what the screen shows before cutting)."""
        return "\n".join(line.shown.plain for line in self.query_children(PaneLine))

    def show(self, view: ProviderView) -> None:
        self.view = view
        title = literal(view.name)
        if self._title != title:  # setting a border title repaints, even when unchanged
            self._title = title
            self.border_title = title
        badge = ""
        if view.build_error:
            badge = "NOT CONFIGURED"
        elif view.stale:
            badge = "STALE"
        elif view.from_cache:
            badge = "CACHED"
        if self._badge != badge:
            self._badge = badge
            self.border_subtitle = badge
        self.set_class(view.health == "ok" and not view.from_cache, "-ok")
        self.set_class(view.stale and not view.build_error, "-stale")
        self.set_class(view.from_cache and not view.stale, "-cached")
        self.set_class(bool(view.build_error), "-error")
        self._show_lines(self._lines(view))

    def _show_lines(self, lines: list[Content]) -> None:
        shown = list(self.query_children(PaneLine))
        for line, content in zip(shown, lines, strict=False):
            line.show(content, wrap=content.plain.startswith(STALE_PREFIX))
        if len(lines) > len(shown):
            added = [PaneLine(content) for content in lines[len(shown) :]]
            for line in added:
                line.set_class(line.shown.plain.startswith(STALE_PREFIX), "-wrap")
            self.mount_all(added)
        for line in shown[len(lines) :]:
            line.remove()

    def _lines(self, v: ProviderView) -> list[Content]:
        """One fact per line; lines never wrap (CSS ellipsis), so panes keep their height."""
        width = max(self.content_region.width, 20) if self.is_mounted else 26
        lines: list[Content] = []
        word, style = HEALTH_WORDS[v.health]
        auth_word, auth_style = AUTH_WORDS.get(v.auth, ("auth ?", "$text-muted"))
        # On a short terminal (under SHORT rows) a pane takes three lines: no bar, and
        # devices and age share the health line, so the device table keeps its rows.
        short = self.is_mounted and self.app.size.height < SHORT
        head = Content.assemble((word, style), " · ", (auth_word, auth_style))
        if v.build_error:
            lines.append(head + " · " + v.kind.label)
            lines.append(literal(v.build_error, "$text-error"))
            return lines
        coarse = getattr(self.app, "low_bandwidth", False)
        age = age_label(v.age, coarse=coarse) + (" ↻" if v.refreshing and not coarse else "")
        age_style = "$text-warning" if v.stale or v.from_cache else ""
        noun = "dev" if short else "devices"
        devices = Content.assemble((f"{v.device_count:,} {noun}", "bold"), " · ", (age, age_style))
        full = count_labels(v.counts)
        if short:
            lines.append(head + " · " + devices)
            lines.append(count_labels(v.counts, width))
        else:
            lines.append(head + " · " + v.kind.label)
            lines.append(devices)
            if width >= full.cell_length + 9:  # every count, with a bar of 8 or more beside it
                bar_width = min(width // 3, width - full.cell_length - 1)
                lines.append(state_bar(v.counts, bar_width) + " " + full)
            else:  # the bar gets its own line; the counts keep the bad news whole
                lines.append(state_bar(v.counts, width))
                lines.append(count_labels(v.counts, width))
        campaigns = f"{v.active_campaigns}/{v.campaigns} campaigns active"
        budget = f"budget {v.rate_remaining}/{v.rate_total}" if v.rate_total else ""
        if budget and len(campaigns) + 3 + len(budget) <= width:
            lines.append(Content(f"{campaigns} · {budget}"))
        else:
            lines.append(Content(campaigns))
            if budget:
                lines.append(Content(budget))
        if v.stale and v.stale_reason:
            retry = f" (retry in {v.retry_in:.0f}s)" if v.retry_in else ""
            lines.append(
                Content.styled(STALE_PREFIX, "bold $text-error")
                + literal(v.stale_reason + retry, "$text-error")
            )
        for warning in v.warnings:
            lines.append(Content.styled("⚠ ", "$text-warning") + literal(warning, "$text-warning"))
        return lines


class ProviderGrid(Grid):
    """The panes, four across on wide screens and two across on narrow ones."""

    DEFAULT_CSS = """
    ProviderGrid {
        height: auto;
        grid-size: 4;
        grid-gutter: 0 1;
        grid-rows: auto;
        padding: 0 0;
    }
    """

    def __init__(self, session: ConsoleSession, now: datetime, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.session = session
        self.now = now

    def compose(self) -> ComposeResult:
        for index, view in enumerate(self.session.provider_views(self.now)):
            yield ProviderPane(view, self.now, id=f"pane-{index}")

    def on_resize(self) -> None:
        count = max(len(self.session.provider_names), 1)
        per_row = 4 if self.size.width >= 110 else 2 if self.size.width >= 50 else 1
        self.styles.grid_size_columns = min(per_row, count)
        self.refresh_panes()

    def refresh_panes(self) -> None:
        views = {v.name: v for v in self.session.provider_views()}
        for pane in self.query_children(ProviderPane):  # children only: no DOM walk per tick
            view = views.get(pane.view.name)
            if view is not None:
                pane.show(view)

    def pane(self, provider: str) -> ProviderPane:
        for pane in self.query(ProviderPane):
            if pane.view.name == provider:
                return pane
        raise KeyError(provider)

"""A virtual fleet table on Textual's Line API: only the visible rows are rendered.

The table reads rows from a ``FleetStore`` and keeps its own ordered view (sorted,
then filtered). Updates arrive as ``FleetDiff``s and are merged into the view without
a rebuild; the cursor (by row key), the selection (a set of keys) and the scroll
position survive updates, filtering and sorting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fota_tui.errors import UsageError
from fota_tui.models import UpgradeState, utcnow
from fota_tui.services.export import export_rows
from fota_tui.services.fleet import FleetDiff, FleetRow, FleetStore, RowKey
from fota_tui.services.query import Query
from fota_tui.tui.clipboard import copy_values
from fota_tui.tui.widgets.table_model import TableModel
from fota_tui.tui.widgets.table_render import (
    COLUMNS,
    GUTTER,
    MIDDLE_CUT,
    Layout,
    age_text,
    cell_text,
    fit,
    layout_columns,
    sanitize,
    wide_layout,
)

Clock = Callable[[], datetime]
LINE_CACHE = 256  # rendered lines kept: a few screens (live updates make old ones stale)


@dataclass(frozen=True, slots=True)
class _Styles:
    base: Style
    header: Style
    cursor: Style
    selected: Style
    mark: Style
    changed: Style
    states: dict[UpgradeState | None, Style]


class DeviceTable(ScrollView, can_focus=True):
    """The fleet device table (virtual: renders only visible rows).

    Feed it with ``set_store(store)`` once and ``apply(diff)`` after each store update.
    """

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "activate", "Open", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home,g", "cursor_first", "First", show=False),
        Binding("end,ctrl+end,G", "cursor_last", "Last", show=False),
        Binding("space", "toggle_select", "Select"),
        Binding("a", "select_visible", "Select all"),
        Binding("A", "clear_selection", "Clear selection"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort"),
        Binding("y", "copy_ids", "Copy ids"),
        Binding("w", "toggle_wide", "Wide"),
        Binding("left", "scroll_column(-1)", "Column left", show=False),
        Binding("right", "scroll_column(1)", "Column right", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "device-table--header",
        "device-table--cursor",
        "device-table--selected",
        "device-table--mark",
        "device-table--changed",
        "device-table--state-none",
        *(f"device-table--state-{state.value}" for state in UpgradeState),
    }

    DEFAULT_CSS = """
    DeviceTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        height: 1fr;
        &.-wide { overflow-x: auto; }
        & > .device-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        &:ansi > .device-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .device-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .device-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .device-table--selected {
            background: $primary 25%;
        }
        & > .device-table--mark { color: $text-accent; text-style: bold; }
        & > .device-table--changed { color: $text-warning; text-style: bold; }
        & > .device-table--state-none { color: $text-muted; }
        & > .device-table--state-pending { color: $text-secondary; }
        & > .device-table--state-queued { color: $text-secondary; }
        & > .device-table--state-sending { color: $text-warning; }
        & > .device-table--state-downloading { color: $text-warning; }
        & > .device-table--state-in_progress { color: $text-warning; }
        & > .device-table--state-succeeded { color: $text-success; }
        & > .device-table--state-failed { color: $text-error; text-style: bold; }
        & > .device-table--state-cancelled { color: $text-muted; }
        & > .device-table--state-expired { color: $text-error; }
        & > .device-table--state-unknown { color: $text-muted; text-style: italic; }
    }
    """

    # -- messages ----------------------------------------------------------------

    class RowActivated(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, table: DeviceTable, key: RowKey) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> DeviceTable:
            return self.table

    class SelectionChanged(Message):
        """The set of selected row keys changed."""

        def __init__(self, table: DeviceTable, selected: frozenset[RowKey]) -> None:
            super().__init__()
            self.table = table
            self.selected = selected

        @property
        def control(self) -> DeviceTable:
            return self.table

    class CursorMoved(Message):
        """The cursor moved to another row (``key`` is None when the view is empty)."""

        def __init__(self, table: DeviceTable, key: RowKey | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> DeviceTable:
            return self.table

    class ViewChanged(Message):
        """The visible rows changed: ``shown`` of ``total`` rows pass the filter."""

        def __init__(self, table: DeviceTable, shown: int, total: int) -> None:
            super().__init__()
            self.table = table
            self.shown = shown
            self.total = total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DeviceTable.ViewChanged) and message.table is self.table

        @property
        def control(self) -> DeviceTable:
            return self.table

    # -- setup -------------------------------------------------------------------

    def __init__(
        self,
        store: FleetStore | None = None,
        *,
        clock: Clock | None = None,
        age_refresh: float | None = 1.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """``clock`` gives "now" for the Updated column; ``age_refresh`` is how often
        (seconds) ages are repainted, None to never."""
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._clock: Clock = clock or utcnow
        self._age_refresh = age_refresh
        self._model = TableModel(store)
        self._changed_since: int | None = None
        self._layout: Layout | None = None
        self._styles: _Styles | None = None
        self._styles_focus: bool | None = None
        self._now: datetime | None = None
        self._header: Strip | None = None
        self._line_cache: LRUCache[tuple[object, ...], tuple[FleetRow, Strip]] = LRUCache(
            LINE_CACHE
        )
        self._campaign_names: dict[RowKey, str] = {}
        self._wide = False
        self._shown_ages: dict[int, str] = {}  # row index -> age text it was last drawn with
        self._warming: Iterator[None] | None = None
        self._cursor_touched = False  # has the user moved the cursor (or scrolled) yet?
        self._warm_after_frame = False
        self._warm_scheduled = False
        self._update_virtual_size()

    def on_mount(self) -> None:
        self._start_warming()
        if self._age_refresh:
            self.set_interval(self._age_refresh, self._refresh_ages, name="device-table-ages")

    # -- public state ------------------------------------------------------------

    @property
    def store(self) -> FleetStore:
        return self._model.store

    @property
    def filter_query(self) -> Query:
        """The active filter (``query`` is Textual's DOM query, so not that name)."""
        return self._model.query

    @property
    def rows(self) -> Sequence[FleetRow]:
        """The visible rows in display order (do not mutate)."""
        return self._model.rows

    @property
    def row_count(self) -> int:
        return len(self._model.rows)

    @property
    def total_count(self) -> int:
        return len(self._model.all_rows)

    @property
    def sort_column(self) -> str | None:
        return self._model.sort_column

    @property
    def sort_reverse(self) -> bool:
        return self._model.sort_reverse

    @property
    def cursor_index(self) -> int | None:
        return self._model.cursor if self._model.rows else None

    @property
    def cursor_key(self) -> RowKey | None:
        return self._model.cursor_key

    @property
    def cursor_row(self) -> FleetRow | None:
        return self._model.cursor_row

    @property
    def selected_keys(self) -> frozenset[RowKey]:
        return frozenset(self._model.selected)

    def selected_rows(self) -> list[FleetRow]:
        """Selected rows that still exist, in sort order (filtered-out ones included)."""
        return self._model.selected_rows()

    def hidden_selected(self) -> int:
        """How many selected rows the filter hides."""
        model = self._model
        if not model.query or not model.selected:
            return 0
        return sum(1 for key in model.selected if not model.shows(key))

    def shows(self, key: RowKey) -> bool:
        return self._model.shows(key)

    # -- feeding data ------------------------------------------------------------

    def _change(self, mutate: Callable[[], set[RowKey] | None], *, partial: bool = False) -> None:
        """Run a view change keeping the cursor row and its place on screen.

        ``partial``: repaint only the visible lines whose row changed (live updates
        mostly touch rows that are off screen).
        """
        model = self._model
        old_key, old_cursor, old_count = model.cursor_key, model.cursor, len(model.rows)
        page = self._page()
        old_top = self.scroll_offset.y
        old_window = model.rows[old_top : old_top + page]
        anchor = model.capture(old_top, page)
        gone = mutate()
        self._update_virtual_size()
        if self._cursor_touched:
            top = model.restore(anchor, self._page())
        else:  # until the user moves, the cursor stays on the first row (e.g. while loading)
            model.move_cursor(0)
            top = 0
        if top != old_top:
            self.scroll_to(y=top, animate=False, force=True, immediate=True)
        if not partial or top != old_top or len(model.rows) != old_count:
            self._header = None
            self.refresh()
            self._start_warming()
        else:
            window = model.rows[top : top + page]
            repaint = [
                y
                for y, row in enumerate(window)
                if y >= len(old_window) or old_window[y] is not row
            ]
            for y in repaint:
                self.refresh_line(top + y + 1)
            if model.cursor != old_cursor:
                self._refresh_row(old_cursor)
                self._refresh_row(model.cursor)
            self._start_warming()
            if not repaint and model.cursor == old_cursor:  # no frame will come: warm now
                self._warm_after_frame = False
                if not self._warm_scheduled:
                    self._warm_scheduled = True
                    self.call_later(self._warm_step)
        self.post_message(self.ViewChanged(self, len(model.rows), len(model.all_rows)))
        if old_key != model.cursor_key:
            self.post_message(self.CursorMoved(self, model.cursor_key))
        if gone:
            self._selection_changed()

    @property
    def indexing(self) -> bool:
        """True while lookup indexes for the current rows are still being built (idle work)."""
        return self._warming is not None

    def _start_warming(self) -> None:
        """Build the model's lazy indexes in small steps, starting after the next frame
        is painted (see ``render_lines``) so they never delay what the user sees."""
        self._warming = self._model.warm_steps(chunk=5000)
        self._warm_after_frame = True

    def _warm_step(self) -> None:
        self._warm_scheduled = False
        if self._warming is None:
            return
        try:
            next(self._warming)
        except StopIteration:
            self._warming = None
            return
        self._warm_scheduled = True
        self.call_later(self._warm_step)

    def set_store(self, store: FleetStore) -> None:
        """Show every row of ``store`` (initial load or a switched store)."""
        self._change(lambda: self._model.set_store(store))

    def apply(self, diff: FleetDiff, store: FleetStore | None = None) -> None:
        """Merge a store update into the view (rows are read from the store)."""
        if store is not None and store is not self._model.store:
            self.set_store(store)
        elif diff:
            self._change(lambda: self._model.apply(diff), partial=True)

    def set_query(self, query: Query | None) -> None:
        """Filter the view (None or an empty query shows every row)."""
        self._change(lambda: self._model.set_query(query))

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        """Sort by a column name from ``SORT_COLUMNS`` (None: store order).
        Ties keep their previous order."""
        self._change(lambda: self._model.sort_by(column, reverse))

    def set_campaign_names(self, names: Mapping[RowKey, str]) -> None:
        """Campaign names by (provider, campaign id): the Campaign column shows the name
        where the platform (or the journal) gave one, else the id cut in the middle."""
        if names != self._campaign_names:
            self._campaign_names = dict(names)
            self._line_cache.clear()
            self.refresh()

    def mark_changed_since(self, version: int | None) -> None:
        """Mark rows the store changed after ``version`` (e.g. a cached snapshot's); None clears."""
        self._changed_since = version
        self._line_cache.clear()
        self.refresh()

    # -- cursor and selection ----------------------------------------------------

    def move_cursor(self, index: int, *, scroll: bool = True) -> None:
        """Put the cursor on view row ``index`` (clamped). From then on the cursor
        follows its row through updates (before that it stays on the first row)."""
        self._cursor_touched = True
        model = self._model
        old_index, old_key = model.cursor, model.cursor_key
        model.move_cursor(index)
        if scroll:
            self._scroll_to_cursor()
        self._refresh_row(old_index)
        self._refresh_row(model.cursor)
        if old_key != model.cursor_key:
            self.post_message(self.CursorMoved(self, model.cursor_key))

    def move_cursor_to_key(self, key: RowKey) -> bool:
        """Put the cursor on the row with ``key``; False if it is not shown."""
        index = self._model.index_of(key, self._model.cursor)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def select(self, keys: Iterable[RowKey]) -> None:
        if self._model.select(keys):
            self._selection_changed()

    def deselect(self, keys: Iterable[RowKey]) -> None:
        if self._model.deselect(keys):
            self._selection_changed()

    def set_selection(self, keys: Iterable[RowKey]) -> None:
        new = set(keys)
        if new != self._model.selected:
            self._model.selected = new
            self._selection_changed()

    def clear_selection(self) -> None:
        self.set_selection(())

    def toggle_selection(self, key: RowKey | None = None) -> None:
        """Toggle ``key`` (default: the cursor row)."""
        self._cursor_touched = True
        key = key if key is not None else self._model.cursor_key
        if key is not None:
            self._model.toggle(key)
            self._selection_changed()

    def _selection_changed(self) -> None:
        self.refresh()
        self.post_message(self.SelectionChanged(self, frozenset(self._model.selected)))

    # -- copy / export -----------------------------------------------------------

    def target_rows(self) -> list[FleetRow]:
        """What copy acts on: the selected rows, else the cursor row."""
        if self._model.selected:
            return self._model.selected_rows()
        row = self._model.cursor_row
        return [row] if row is not None else []

    def export_view(self, path: str | os.PathLike[str], fmt: str | None = None) -> int:
        """Write the visible rows (filtered, in display order) to CSV/JSON; returns the count.
        Raises ``UsageError`` with a readable message when it cannot."""
        return export_rows(self._model.rows, path, fmt)

    def action_export(self, path: str, fmt: str | None = None) -> None:
        """Export the view to ``path`` and report the outcome in a notification."""
        try:
            count = self.export_view(path, fmt)
        except UsageError as exc:
            self.notify(sanitize(exc.message), title=exc.title, severity="error", markup=False)
            return
        self.notify(f"Exported {count} rows to {sanitize(path)}", title="Export", markup=False)

    def action_copy_ids(self) -> None:
        """Copy the selected (else the cursor) device ids, one per line (OSC 52)."""
        rows = self.target_rows()
        if not rows:
            self.notify("Nothing to copy", severity="warning")
            return
        copy_values(self.app, [row.device_id for row in rows])

    # -- actions -----------------------------------------------------------------

    def _page(self) -> int:
        """Rows that fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._model.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._model.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._model.cursor - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self._model.cursor + self._page())

    def action_cursor_first(self) -> None:
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        self.move_cursor(len(self._model.rows) - 1)

    def action_activate(self) -> None:
        if self._model.cursor_key is not None:
            self.post_message(self.RowActivated(self, self._model.cursor_key))

    def action_toggle_select(self) -> None:
        self.toggle_selection()

    def action_select_visible(self) -> None:
        self.select(row.key for row in self._model.rows)

    def action_clear_selection(self) -> None:
        self.clear_selection()

    def action_cycle_sort(self) -> None:
        """Sort by the next column; after the last one, back to attention first."""
        names = ["attention", *(spec.name for spec in COLUMNS)]
        current = self._model.sort_column
        index = names.index(current) + 1 if current in names else 0
        self.sort_by(names[index % len(names)])
        self.action_cursor_first()  # a new order is read from its top

    def action_reverse_sort(self) -> None:
        current = self._model.sort_column
        self.sort_by(current or "attention", not self._model.sort_reverse if current else False)

    # -- mouse -------------------------------------------------------------------

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._cursor_touched = True  # the user is looking around: keep their place

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._cursor_touched = True

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:  # header: sort by that column, again to reverse
            spec = self._get_layout().column_at(offset.x)
            if spec is not None:
                same = spec.name == self._model.sort_column
                self.sort_by(spec.name, not self._model.sort_reverse if same else False)
            return
        index = self.scroll_offset.y + offset.y - 1
        if 0 <= index < len(self._model.rows):
            self.move_cursor(index, scroll=False)
            if event.chain >= 2:
                self.action_activate()

    # -- viewport ----------------------------------------------------------------

    def _scroll_to_cursor(self) -> None:
        top, page, cursor = self.scroll_offset.y, self._page(), self._model.cursor
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, force=True, immediate=True)
        elif cursor >= top + page:
            self.scroll_to(y=cursor - page + 1, animate=False, force=True, immediate=True)

    def _update_virtual_size(self) -> None:
        width = self._get_layout().width if self.wide else 0
        self.virtual_size = Size(width, len(self._model.rows) + 1)  # +1: the header line

    @property
    def wide(self) -> bool:
        return self._wide

    def action_scroll_column(self, step: int) -> None:
        """In wide mode, bring the next (or previous) column to the left edge."""
        if not self._wide:
            return
        starts, pos = [0], GUTTER
        for _, width in self._get_layout().columns:
            starts.append(pos)
            pos += width + 1
        x = self.scroll_offset.x
        after = [s for s in starts if s > x] if step > 0 else [s for s in starts if s < x]
        if after:
            target = min(after) if step > 0 else max(after)
            self.scroll_to(x=target, animate=False, immediate=True)

    def action_toggle_wide(self) -> None:
        """Every column in full, scrolled sideways (← →), or fitted to the width again."""
        self._wide = not self._wide
        self.set_class(self._wide, "-wide")
        self._layout = None
        self._header = None
        self._line_cache.clear()
        if not self._wide:
            self.scroll_to(x=0, animate=False, immediate=True)
        self._update_virtual_size()
        self.refresh()
        self.post_message(self.ViewChanged(self, len(self._model.rows), len(self._model.all_rows)))

    # -- rendering ---------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._header = None
        self._line_cache.clear()

    def _on_resize(self, event: events.Resize) -> None:
        self._layout = None
        self._header = None
        self._line_cache.clear()
        self._scroll_to_cursor()

    def _refresh_ages(self) -> None:
        """Repaint only the visible lines whose relative age text changed."""
        rows = self._model.rows
        now = self._clock()
        top = self.scroll_offset.y
        for index in range(top, min(top + max(self.size.height - 1, 0), len(rows))):
            if self._shown_ages.get(index) != age_text(rows[index], now):
                self.refresh_line(index + 1)

    def _refresh_row(self, index: int) -> None:
        y = index - self.scroll_offset.y + 1
        if 1 <= y < self.size.height:
            self.refresh_line(index + 1)

    def _get_layout(self) -> Layout:
        # Lay columns out left of the vertical scrollbar (which overlays the
        # widget's right edge); lines are still padded to the full widget width.
        if self._wide:
            if self._layout is None:
                self._layout = wide_layout()
            return self._layout
        width = self.scrollable_content_region.width
        if self._layout is None or self._layout.width != width:
            self._layout = layout_columns(width)
            self._header = None
            self._line_cache.clear()
        return self._layout

    def _get_styles(self) -> _Styles:
        if self._styles is None or self._styles_focus != self.has_focus:
            component = self.get_component_styles
            self._styles = _Styles(
                base=self.rich_style,
                header=component("device-table--header").rich_style,
                cursor=component("device-table--cursor").rich_style,
                selected=component("device-table--selected").rich_style,
                mark=component("device-table--mark").partial_rich_style,
                changed=component("device-table--changed").partial_rich_style,
                states={
                    None: component("device-table--state-none").partial_rich_style,
                    **{
                        state: component(f"device-table--state-{state.value}").partial_rich_style
                        for state in UpgradeState
                    },
                },
            )
            self._styles_focus = self.has_focus
            self._header = None
            self._line_cache.clear()
        return self._styles

    def render_lines(self, crop: Region) -> list[Strip]:
        self._now = self._clock()  # one clock read per frame
        lines = super().render_lines(crop)
        if self._warm_after_frame and self._warming is not None:
            self._warm_after_frame = False
            if not self._warm_scheduled:
                self._warm_scheduled = True
                self.call_later(self._warm_step)
        return lines

    def render_line(self, y: int) -> Strip:
        strip = self._render_full_line(y)
        if self._wide:  # full-width lines, seen through the window scrolled sideways
            x = self.scroll_offset.x
            return strip.crop_extend(x, x + self.size.width, self._get_styles().base)
        return strip

    def _render_full_line(self, y: int) -> Strip:
        layout = self._get_layout()
        styles = self._get_styles()
        if y == 0:
            return self._render_header(layout, styles)
        index = self.scroll_offset.y + y - 1
        rows = self._model.rows
        if not 0 <= index < len(rows):
            return Strip.blank(self.size.width, styles.base)
        row = rows[index]
        now = self._now or self._clock()
        key = row.key
        changed = self._changed_since is not None and self._model.store.is_changed_since(
            key, self._changed_since
        )
        cache_key = (
            id(row),
            index == self._model.cursor,
            key in self._model.selected,
            changed,
            age_text(row, now),
        )
        self._shown_ages[index] = cache_key[4]
        cached = self._line_cache.get(cache_key)
        if cached is not None and cached[0] is row:
            return cached[1]
        strip = self._render_row(row, layout, styles, now, cache_key[1], cache_key[2], changed)
        self._line_cache[cache_key] = (row, strip)
        return strip

    def _line_width(self, layout: Layout) -> int:
        return max(layout.width, self.size.width) if self._wide else self.size.width

    def _render_header(self, layout: Layout, styles: _Styles) -> Strip:
        if self._header is not None:
            return self._header
        parts = [" " * GUTTER]
        for spec, width in layout.columns:
            label = spec.label
            if spec.name == self._model.sort_column:
                arrow = "▼" if self._model.sort_reverse else "▲"
                if width >= len(label) + 2:
                    label = f"{label} {arrow}"
                else:  # no room for a space: the arrow takes the label's last cell
                    label = fit(label, width - 1) + arrow if width > 1 else arrow
            parts.append(" " + fit(label, width, spec.align))
        strip = Strip([Segment("".join(parts), styles.header)])
        self._header = strip.crop_extend(0, self._line_width(layout), styles.header)
        return self._header

    def _render_row(
        self,
        row: FleetRow,
        layout: Layout,
        styles: _Styles,
        now: datetime,
        is_cursor: bool,
        is_selected: bool,
        changed: bool,
    ) -> Strip:
        if is_cursor:
            style = styles.cursor
            state_style = styles.cursor
        else:
            style = styles.selected if is_selected else styles.base
            state_style = style + styles.states.get(row.state, Style.null())
        mark_style = style if is_cursor else style + styles.mark
        changed_style = style if is_cursor else style + styles.changed
        segments = [
            Segment("●" if is_selected else " ", mark_style),
            Segment("*" if changed else " ", changed_style),
        ]
        run: list[str] = []
        names = self._campaign_names
        for spec, width in layout.columns:
            run.append(" ")
            raw = cell_text(row, spec.name, now, width, names)
            named = spec.name == "campaign" and raw != row.campaign_id
            text = fit(raw, width, spec.align, middle=spec.name in MIDDLE_CUT and not named)
            if spec.name == "state":
                segments.append(Segment("".join(run), style))
                segments.append(Segment(text, state_style))
                run = []
            else:
                run.append(text)
        # cells are fitted exactly, so the width is known: pad to the widget's width
        # (under the scrollbar) and build a single Strip
        line_width = self._line_width(layout)
        used = GUTTER + sum(width + 1 for _, width in layout.columns)
        if used < line_width:
            run.append(" " * (line_width - used))
        segments.append(Segment("".join(run), style))
        if used > line_width:
            return Strip(segments).crop(0, line_width)
        return Strip(segments, line_width)

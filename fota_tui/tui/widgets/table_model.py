"""The device table's view state, without any Textual: ordered rows, filter, sort,
cursor (by key), selection (set of keys) and how to keep them through changes.

``all_rows`` holds every store row in sort order (or store order when unsorted);
``rows`` is ``all_rows`` filtered by the query (the same list when the query is empty).
Lists are replaced, never mutated, so a captured ``Anchor`` can keep the old view.

At fleet scale a pass over 100k rows in Python costs tens of milliseconds, so updates
avoid them: ``warm()`` (called when idle) builds a key → index map and the rows'
search texts, and an update then costs O(k log n) plus a few list copies.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, count, islice
from operator import indexOf

from fota_tui.services.fleet import FleetDiff, FleetRow, FleetStore, RowKey
from fota_tui.services.query import (
    Query,
    insert_sorted,
    locate_sorted,
    reverse_sorted,
    sort_rows,
    sort_value,
    valued_count,
)

_WARM_MIN = 2000  # below this many rows the lazy indexes are not worth keeping


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where the cursor and the viewport were before the view changed."""

    rows: Sequence[FleetRow]
    cursor_key: RowKey | None
    cursor_index: int
    screen_offset: int | None  # cursor row's distance from the top row, if it was visible
    top_key: RowKey | None
    top_index: int


def find_row(rows: Sequence[FleetRow], key: RowKey, hint: int) -> int | None:
    """Index of ``key`` in ``rows``, scanning outwards from ``hint`` (nearest first)."""
    n = len(rows)
    hint = max(0, min(hint, n - 1))
    for distance in range(n):
        after, before = hint + distance, hint - distance
        if after < n and rows[after].key == key:
            return after
        if before >= 0 and rows[before].key == key:
            return before
        if after >= n and before < 0:
            break
    return None


def _splice(rows: list[FleetRow], replace: dict[int, FleetRow], holes: list[int]) -> list[FleetRow]:
    """A copy of ``rows`` with rows replaced at some indexes and others removed."""
    if not holes:
        out = rows.copy()
        for index, row in replace.items():
            out[index] = row
        return out
    holes.sort()
    out = []
    start = 0
    for hole in holes:
        out += rows[start:hole]
        start = hole + 1
    out += rows[start:]
    for index, row in replace.items():  # indexes shift left by the holes before them
        out[index - bisect_left(holes, index)] = row
    return out


class TableModel:
    """Ordered, filtered rows plus cursor and selection, kept across updates.

    Invariant: ``rows == query.filter(all_rows)``, in the same order.
    """

    def __init__(self, store: FleetStore | None = None) -> None:
        self.store = store if store is not None else FleetStore()
        self.all_rows: list[FleetRow] = []
        self.rows: list[FleetRow] = []
        self.query = Query()
        self.sort_column: str | None = None
        self.sort_reverse = False
        self.cursor = 0
        self.cursor_key: RowKey | None = None
        self.selected: set[RowKey] = set()
        # lazy: key -> index in all_rows / rows, and search texts aligned with all_rows
        self._all_index: dict[RowKey, int] | None = None
        self._view_index: dict[RowKey, int] | None = None
        self._texts: list[str] | None = None
        self._last_change: tuple[str, int] | None = None  # what the last change did, for restore
        self.reload()
        self.move_cursor(0)

    # -- lazy indexes --------------------------------------------------------------

    def _set_all(self, rows: list[FleetRow]) -> None:
        self.all_rows = rows
        self._all_index = None
        self._texts = None

    def _set_view(self, rows: list[FleetRow]) -> None:
        self.rows = rows
        self._view_index = None
        self._last_change = None

    def _index_all(self) -> dict[RowKey, int]:
        if self._all_index is None:
            self._all_index = {row.key: i for i, row in enumerate(self.all_rows)}
        return self._all_index

    def _index_view(self) -> dict[RowKey, int]:
        if self.rows is self.all_rows:
            return self._index_all()
        if self._view_index is None:
            self._view_index = {row.key: i for i, row in enumerate(self.rows)}
        return self._view_index

    def _search_texts(self) -> list[str]:
        if self._texts is None:
            self._texts = [row.search_text for row in self.all_rows]
        return self._texts

    def warm(self) -> None:
        """Build the lazy indexes now."""
        for _ in self.warm_steps():
            pass

    def warm_steps(self, chunk: int = 10_000) -> Iterator[None]:
        """Build the lazy indexes a chunk at a time, yielding between chunks so a UI
        can run them when idle. Stops early when the lists change meanwhile."""
        if len(self.all_rows) < _WARM_MIN:
            return
        rows, view = self.all_rows, self.rows
        if self._all_index is None:
            index: dict[RowKey, int] = {}
            for start in range(0, len(rows), chunk):
                index.update({r.key: i for i, r in enumerate(rows[start : start + chunk], start)})
                yield
                if self.all_rows is not rows:
                    return
            self._all_index = index
        if view is not rows and self._view_index is None:
            index = {}
            for start in range(0, len(view), chunk):
                index.update({r.key: i for i, r in enumerate(view[start : start + chunk], start)})
                yield
                if self.rows is not view:
                    return
            self._view_index = index
        if self._texts is None:
            texts: list[str] = []
            for start in range(0, len(rows), chunk):
                texts += [r.search_text for r in rows[start : start + chunk]]
                yield
                if self.all_rows is not rows:
                    return
            self._texts = texts

    # -- building the view ---------------------------------------------------------

    def _sorted(self, rows: list[FleetRow]) -> list[FleetRow]:
        if self.sort_column is None:
            return rows
        return sort_rows(rows, self.sort_column, self.sort_reverse)

    def _refilter(self) -> None:
        if not self.query:
            self._set_view(self.all_rows)
        elif len(self.all_rows) >= _WARM_MIN:
            self._set_view(self.query.filter(self.all_rows, self._search_texts()))
        else:
            self._set_view(self.query.filter(self.all_rows))

    def shows(self, key: RowKey) -> bool:
        """Whether ``key``'s row is in the view (without searching the view)."""
        row = self.store.get(key)
        return row is not None and (not self.query or self.query.matches(row))

    def reload(self) -> None:
        """Rebuild from the store (initial load, or an update touching most rows)."""
        self._set_all(self._sorted(self.store.rows()))
        self._refilter()

    def set_store(self, store: FleetStore) -> set[RowKey]:
        """Switch stores; returns selected keys dropped because their rows are gone."""
        self.store = store
        self.reload()
        gone = {key for key in self.selected if key not in store}
        self.selected -= gone
        return gone

    def apply(self, diff: FleetDiff) -> set[RowKey]:
        """Merge a store update; returns selected keys dropped because their rows are gone.

        A changed row keeps its place when its sort value and its filter match did
        not change (no jumping rows); otherwise it is merged in by sort order (or goes
        last when unsorted), like a new row.
        """
        if not diff:
            return set()
        affected = diff.keys
        if len(affected) * 4 > len(self.all_rows) + 64:
            self.reload()
        else:
            self._merge(affected)
            self._last_change = ("update", len(affected))
        gone = {key for key in diff.removed & self.selected if key not in self.store}
        self.selected -= gone
        return gone

    def _merge(self, affected: frozenset[RowKey]) -> None:
        store, query, all_rows = self.store, self.query, self.all_rows
        index = self._index_all()
        column = self.sort_column
        get = sort_value(column) if column is not None else None
        replace: dict[int, FleetRow] = {}  # index in all_rows -> new row, same place
        holes: list[int] = []  # indexes in all_rows leaving their place
        stay: dict[RowKey, FleetRow] = {}
        leave: set[RowKey] = set()
        moved: list[FleetRow] = []  # rows to (re)insert by sort order
        for key in affected:
            at = index.get(key)
            old = all_rows[at] if at is not None else None
            new = store.get(key)
            if at is None or old is None:
                if new is not None:
                    moved.append(new)
                continue
            if new is not None and (
                (get is None or get(new) == get(old))
                and (not query or query.matches(new) == query.matches(old))
            ):
                replace[at] = new
                stay[key] = new
                continue
            holes.append(at)
            leave.add(key)
            if new is not None:
                moved.append(new)
        moved = store.in_store_order(moved)  # ties: the store's order, not a set's
        if column is not None:
            moved = sort_rows(moved, column, self.sort_reverse)
        shared = self.rows is self.all_rows
        view_index = None if shared else self._index_view()
        self._set_all(self._insert(_splice(all_rows, replace, holes), moved))
        if shared:
            self._set_view(self.all_rows)
            return
        assert view_index is not None
        view_replace = {view_index[k]: row for k, row in stay.items() if k in view_index}
        view_holes = [view_index[k] for k in leave if k in view_index]
        shown = [row for row in moved if query.matches(row)]
        self._set_view(self._insert(_splice(self.rows, view_replace, view_holes), shown))

    def _insert(self, rows: list[FleetRow], moved: list[FleetRow]) -> list[FleetRow]:
        if not moved:
            return rows
        if self.sort_column is None:
            return rows + moved
        return insert_sorted(rows, moved, self.sort_column, self.sort_reverse, presorted=True)

    def set_query(self, query: Query | None) -> None:
        query = query or Query()
        old, self.query = self.query, query
        if query and old and query.refines(old) and len(self.rows) * 4 < len(self.all_rows):
            self._set_view(query.filter(self.rows))  # narrowing a small result
        else:
            self._refilter()

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        """Sort by a column (None: store order). Ties keep their previous order;
        flipping the direction of the current column reverses the rows (None last)."""
        if column is not None:
            sort_value(column)  # validates the name
        reverse = reverse if column is not None else False
        if column is not None and column == self.sort_column and reverse != self.sort_reverse:
            self.sort_reverse = reverse
            shared = self.rows is self.all_rows
            self._set_all(reverse_sorted(self.all_rows, column))
            self._set_view(self.all_rows if shared else reverse_sorted(self.rows, column))
            self._last_change = ("flip", valued_count(self.rows, column))
            return
        self.sort_column = column
        self.sort_reverse = reverse
        source = self.all_rows if column is not None else self.store.rows()
        self._set_all(self._sorted(source))
        self._refilter()

    # -- cursor --------------------------------------------------------------------

    @property
    def cursor_row(self) -> FleetRow | None:
        return self.rows[self.cursor] if self.rows else None

    def move_cursor(self, index: int) -> None:
        rows = self.rows
        self.cursor = max(0, min(index, len(rows) - 1)) if rows else 0
        self.cursor_key = rows[self.cursor].key if rows else None

    def index_of(self, key: RowKey, hint: int = 0, radius: int = 64) -> int | None:
        """Index of ``key`` in the view, or None when it is not shown.

        Tries, cheapest first: the lazy index, rows within ``radius`` of ``hint``, a
        binary search when sorted, then an identity scan in C.
        """
        row = self.store.get(key)
        if row is None or (self.query and not self.query.matches(row)):
            return None
        rows = self.rows
        if self._view_index is not None or (rows is self.all_rows and self._all_index is not None):
            found = self._index_view().get(key)
            if found is not None and found < len(rows) and rows[found] is row:
                return found
        n = len(rows)
        hint = max(0, min(hint, n - 1))
        for distance in range(min(radius, n)):
            after, before = hint + distance, hint - distance
            if after < n and rows[after] is row:
                return after
            if before >= 0 and rows[before] is row:
                return before
        if self.sort_column is not None:
            found = locate_sorted(rows, row, self.sort_column, self.sort_reverse)
            if found >= 0:
                return found
        try:  # the view holds the store's row objects: find it by identity in C
            return indexOf(map(id, rows), id(row))
        except ValueError:  # the store moved on without apply(): search by key
            return find_row(rows, key, hint)

    def capture(self, top: int, page: int) -> Anchor:
        rows, cursor = self.rows, self.cursor
        visible = bool(rows) and top <= cursor < top + page
        return Anchor(
            rows=rows,
            cursor_key=self.cursor_key,
            cursor_index=cursor,
            screen_offset=cursor - top if visible else None,
            top_key=rows[top].key if 0 <= top < len(rows) else None,
            top_index=top,
        )

    def _nearest(self, anchor: Anchor) -> int | None:
        """New index of the old row closest to the old cursor that is still shown."""
        old, at, rows = anchor.rows, anchor.cursor_index, self.rows
        if not rows:
            return None
        for distance in range(1, 17):  # usually a close neighbour is still there
            for probe in (at + distance, at - distance):
                if 0 <= probe < len(old) and self.shows(old[probe].key):
                    return self.index_of(old[probe].key, probe)
        # far away: scan both directions in C for rows (by identity) still shown
        shown = set(map(id, rows)).__contains__
        after = next(compress(count(at + 1), map(shown, map(id, islice(old, at + 1, None)))), None)
        skip = len(old) - at if at < len(old) else 0
        steps = next(
            compress(count(1), map(shown, map(id, islice(reversed(old), skip, None)))), None
        )
        before = at - steps if steps is not None else None
        if after is None and before is None:
            return None
        if before is None or (after is not None and after - at <= at - before):
            assert after is not None
            return indexOf(map(id, rows), id(old[after]))
        return indexOf(map(id, rows), id(old[before]))

    def _hint(self, old_index: int) -> tuple[int, int]:
        """Where a row at ``old_index`` probably is now, and how far to look around it."""
        change = self._last_change
        if change is None:
            return old_index, 64
        if change[0] == "flip":  # the first ``present`` rows were reversed
            present = change[1]
            return (present - 1 - old_index if old_index < present else old_index), 64
        return old_index, change[1] + 64  # an update shifts rows by at most its size

    def restore(self, anchor: Anchor, page: int) -> int:
        """Put the cursor back on its row (or the nearest one still shown); returns the
        new top row so that the cursor keeps its place on the screen."""
        index: int | None = None
        if anchor.cursor_key is not None:
            hint, radius = self._hint(anchor.cursor_index)
            index = self.index_of(anchor.cursor_key, hint, radius)
            if index is None:
                index = self._nearest(anchor)
        self.move_cursor(anchor.cursor_index if index is None else index)
        if anchor.screen_offset is not None:
            top = self.cursor - anchor.screen_offset
        else:
            top = anchor.top_index
            if anchor.top_key is not None:
                hint, radius = self._hint(anchor.top_index)
                found = self.index_of(anchor.top_key, hint, radius)
                if found is not None:
                    top = found
        return max(0, min(top, len(self.rows) - page))

    # -- selection -----------------------------------------------------------------

    def selected_rows(self) -> list[FleetRow]:
        """Selected rows that still exist, in sort order (filtered-out ones included)."""
        if not self.selected:
            return []
        if len(self.selected) * 8 < len(self.all_rows):
            index = self._index_all()
            found = sorted(index[key] for key in self.selected if key in index)
            return [self.all_rows[i] for i in found]
        return [row for row in self.all_rows if row.key in self.selected]

    def select(self, keys: Iterable[RowKey]) -> bool:
        before = len(self.selected)
        self.selected.update(keys)
        return len(self.selected) != before

    def deselect(self, keys: Iterable[RowKey]) -> bool:
        before = len(self.selected)
        self.selected.difference_update(keys)
        return len(self.selected) != before

    def toggle(self, key: RowKey) -> None:
        if key in self.selected:
            self.selected.discard(key)
        else:
            self.selected.add(key)

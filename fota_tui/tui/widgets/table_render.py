"""Text helpers for the device table: literal platform text, column layout, ages.

Platform text is shown literally: it never goes through markup parsing, and control
characters (C0, DEL, C1), bidi overrides, line separators and lone surrogates are
replaced by visible placeholders so nothing from the data can drive the terminal.
Every cell is fitted to an exact cell width (wide CJK/emoji aware) with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from rich.cells import cell_len, set_cell_size

from fota_tui.services.fleet import FleetRow, RowKey
from fota_tui.text import sanitize

ELLIPSIS = "…"


def _head(text: str, cells: int) -> str:
    """The start of ``text`` in exactly ``cells`` cells (a straddling wide char → space)."""
    return text[:cells] if text.isascii() else set_cell_size(text, cells)


def _tail(text: str, cells: int) -> str:
    """The end of ``text`` in exactly ``cells`` cells."""
    if cells <= 0:
        return ""
    if text.isascii():
        return text[-cells:].rjust(cells)
    return set_cell_size(text[::-1], cells)[::-1]


def fit(
    text: str, width: int, align: Literal["left", "right"] = "left", *, middle: bool = False
) -> str:
    """Sanitize ``text`` and fit it to exactly ``width`` cells, with ``…`` when cut.

    ``middle`` cuts in the middle instead of at the end (for ids, whose ends matter).
    """
    if width <= 0:
        return ""
    # A cell holds at most one character of width >= 1, so 4x the width (plus room
    # for a few zero-width marks) is plenty; keeps 10 KB strings cheap.
    limit = width * 4 + 8
    cut = len(text) > limit
    if cut:
        text = text[: limit // 2] + text[-(limit // 2) :] if middle else text[:limit]
    text = sanitize(text)
    size = len(text) if text.isascii() else cell_len(text)
    if not cut and size <= width:
        pad = " " * (width - size)
        return pad + text if align == "right" else text + pad
    if middle and width >= 3:
        head = (width - 1) // 2
        fitted = _head(text, head) + ELLIPSIS + _tail(text, width - 1 - head)
        if cell_len(fitted) == width:
            return fitted
    return _head(text, width - 1) + ELLIPSIS


def format_age(seconds: float | None) -> str:
    """Compact relative age: ``12s``, ``5m``, ``3h``, ``2d`` (``-`` when unknown)."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{max(0, int(seconds))}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def age_text(row: FleetRow, now: datetime) -> str:
    if row.updated_at is None:
        return "-"
    return format_age((now - row.updated_at).total_seconds())


# -- columns -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: ``name`` is its sort column; ``drop`` > 0 may be hidden when narrow
    (highest first); ``grow`` shares out spare width after preferred widths are met."""

    name: str
    label: str
    min_width: int
    width: int
    grow: int = 0
    drop: int = 0
    align: Literal["left", "right"] = "left"


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("provider", "Provider", 7, 14, drop=3),
    ColumnSpec("device", "Device / IMEI", 15, 20),
    ColumnSpec("model", "Model", 6, 10, drop=5),
    ColumnSpec("firmware", "Firmware", 11, 17, drop=2),
    ColumnSpec("state", "State", 11, 11),
    ColumnSpec("campaign", "Campaign", 8, 16, drop=4),
    ColumnSpec("reason", "Reason", 12, 24, grow=1, drop=1),
    ColumnSpec("updated", "Age", 4, 5, align="right"),
)
"""The device table's columns, left to right: short fixed columns take what they need,
``Reason`` takes the rest."""

WIDE_WIDTHS = {
    "provider": 24,
    "device": 42,
    "model": 20,
    "firmware": 40,
    "state": 11,
    "campaign": 40,
    "reason": 100,
    "updated": 5,
}
"""Column widths in wide mode (``w``): every cell in full, scrolled sideways."""


def wide_layout(columns: Sequence[ColumnSpec] = COLUMNS) -> Layout:
    widths = tuple((c, WIDE_WIDTHS.get(c.name, c.width)) for c in columns)
    return Layout(GUTTER + sum(w + 1 for _, w in widths), widths)


# Which columns reach their preferred width first when space is short.
_IMPORTANCE = ("device", "state", "updated", "reason", "firmware", "provider", "campaign", "model")

GUTTER = 2  # selection mark + changed mark


@dataclass(frozen=True, slots=True)
class Layout:
    width: int
    columns: tuple[tuple[ColumnSpec, int], ...]  # (spec, cell width), left to right

    def column_at(self, x: int) -> ColumnSpec | None:
        """The column under cell ``x`` (separators belong to the column on their left)."""
        pos = GUTTER + 1
        if x < pos:
            return None
        for spec, width in self.columns:
            pos += width + 1
            if x < pos:
                return spec
        return None


def layout_columns(width: int, columns: Sequence[ColumnSpec] = COLUMNS) -> Layout:
    """Column widths for a table ``width`` cells wide, from the specs alone.

    Hides droppable columns while the minimum widths do not fit, then raises columns
    to their preferred width by importance, then shares the rest by ``grow``.
    """
    shown = list(columns)

    def needed(cols: Sequence[ColumnSpec]) -> int:
        return GUTTER + sum(c.min_width + 1 for c in cols)

    while needed(shown) > width:
        droppable = [c for c in shown if c.drop]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda c: c.drop))
    widths = {c.name: c.min_width for c in shown}
    spare = width - needed(shown)
    rank = {name: i for i, name in enumerate(_IMPORTANCE)}
    for spec in sorted(shown, key=lambda c: rank.get(c.name, len(rank))):
        if spare <= 0:
            break
        extra = min(spare, spec.width - spec.min_width)
        widths[spec.name] += extra
        spare -= extra
    growers = [c for c in shown if c.grow]
    if spare > 0 and growers:
        total = sum(c.grow for c in growers)
        given = 0
        for spec in growers:
            share = spare * spec.grow // total
            widths[spec.name] += share
            given += share
        widths[growers[-1].name] += spare - given
    return Layout(width, tuple((c, widths[c.name]) for c in shown))


# -- cell text -----------------------------------------------------------------


MIDDLE_CUT = frozenset({"device", "campaign"})
"""Columns holding identifiers: cut in the middle, their ends tell rows apart."""


def cell_text(
    row: FleetRow,
    column: str,
    now: datetime,
    width: int | None = None,
    names: Mapping[RowKey, str] | None = None,
) -> str:
    """The raw (unsanitized, unfitted) text of one cell; ``width`` lets a cell pick a
    shorter form when space is tight; ``names``: campaign names by (provider, id)."""
    if column == "provider":
        return row.provider
    if column == "device":
        if row.imei and row.imei != row.device_id:
            both = f"{row.device_id} · {row.imei}"
            if width is None or len(both) <= width:
                return both
        return row.device_id
    if column == "model":
        return row.model or ""
    if column == "firmware":
        current, target = row.firmware, row.firmware_to
        if target and target != current:
            full = f"{current or '?'} → {target}"
            return full if width is None or len(full) <= width else f"{current or '?'}→{target}"
        return current or ""
    if column == "state":
        return row.state.value if row.state is not None else "-"
    if column == "campaign":
        if row.campaign_id and names:
            return names.get((row.provider, row.campaign_id)) or row.campaign_id
        return row.campaign_id or ""
    if column == "reason":
        return row.reason or ""
    if column == "updated":
        return age_text(row, now)
    raise ValueError(f"unknown column {column!r}")

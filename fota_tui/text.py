"""Platform text made safe to show: what a platform sends is displayed, never obeyed.

Control characters (C0, DEL, C1) become visible Unicode control pictures, so ANSI and
OSC escape sequences cannot reach the terminal, and bidirectional overrides (which can
reorder what a reader sees) become U+FFFD. Markup is a display concern: the TUI builds
text without markup parsing, so ``[bold]`` stays literal.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

_TABLE: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ … ␟
_TABLE[0x09] = " "  # tab: a space keeps columns aligned
_TABLE[0x7F] = "\u2421"  # ␡
_TABLE.update({code: "\ufffd" for code in range(0x80, 0xA0)})  # C1, incl. 8-bit CSI
_TABLE.update({code: "\ufffd" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})


_TABLE_MULTILINE = {code: sub for code, sub in _TABLE.items() if code != 0x0A}


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character replaced by a visible symbol.

    ``keep_newlines`` keeps line feeds (harmless on a terminal, and data in a CSV cell).
    """
    return text.translate(_TABLE_MULTILINE if keep_newlines else _TABLE)


def shorten(text: str, limit: int = 200) -> str:
    """``clean`` and cut to ``limit`` characters with an ellipsis."""
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# JSON escapes C0 itself; these would still reach a terminal raw.
_JSON_UNSAFE = {
    code: f"\\u{code:04x}"
    for code in (0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def json_text(value: Any, **dumps: Any) -> str:
    """``json.dumps`` that is safe to print: equal JSON, no raw terminal controls."""
    return json.dumps(value, ensure_ascii=False, **dumps).translate(_JSON_UNSAFE)


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes: wide (CJK, emoji) 2, combining marks 0."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def fit(text: str, width: int) -> str:
    """``clean(text)`` cut with an ellipsis and padded to exactly ``width`` cells."""
    text = clean(text)
    if cell_width(text) <= width:
        return text + " " * (width - cell_width(text))
    out, used = [], 0
    for ch in text:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…" + " " * (width - 1 - used)


def columns(rows: list[list[str]] | list[tuple[str, ...]], gap: str = "  ") -> list[str]:
    """Rows aligned in columns as wide as their widest cell (in terminal cells)."""
    widths = [max(cell_width(clean(row[i])) for row in rows) for i in range(len(rows[0]))]
    return [
        gap.join(fit(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]

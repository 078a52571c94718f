"""Platform text made safe to show: what a platform sends is displayed, never obeyed.

This is the one output boundary for platform text. Control characters (C0, DEL, C1)
become visible Unicode control pictures, so ANSI and OSC escape sequences cannot reach
the terminal; bidirectional marks and overrides (which can reorder what a reader sees),
line separators and lone surrogates (which no encoder accepts) become U+FFFD. Markup is a
display concern: the TUI builds text without markup parsing, so ``[bold]`` stays literal.

Paths through it: the console's widgets (``sanitize``), CLI stdout and stderr
(``SafeStream``, installed by ``cli.main``), the log file (``logs.RedactingFilter``),
clipboard copies (``clipboard_text``), exports and status output (``clean``,
``json_text``). ``tests/unit/test_output_boundary.py`` fails when a new path bypasses it.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Iterable
from typing import Any, TextIO


def _control_table() -> dict[int, str]:
    table = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ … ␟ (␛ for ESC)
    table[0x7F] = "\u2421"  # ␡
    unsafe = (
        *range(0x80, 0xA0),  # C1 controls (8-bit CSI, OSC, ST…)
        0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F),  # bidi, separators
        *range(0x2066, 0x206A),  # bidi isolates
        *range(0xD800, 0xE000),  # lone surrogates: no encoder accepts them
    )  # fmt: skip
    table.update(dict.fromkeys(unsafe, "\ufffd"))
    return table


CONTROLS = _control_table()  # every character that must never reach an output raw
_TABLE = CONTROLS | {0x09: " "}  # tab: a space keeps columns aligned
_TABLE_MULTILINE = {code: sub for code, sub in _TABLE.items() if code != 0x0A}


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character replaced by a visible symbol.

    ``keep_newlines`` keeps line feeds (harmless on a terminal, and data in a CSV cell).
    """
    if text.isprintable():
        return text
    return text.translate(_TABLE_MULTILINE if keep_newlines else _TABLE)


def sanitize(text: str) -> str:
    """``clean`` for one table cell or label: a tab is shown as ␉ too."""
    return text if text.isprintable() else text.translate(CONTROLS)


def is_clean(text: str) -> bool:
    return text.isprintable() or not any(ord(c) in CONTROLS for c in text)


def clipboard_text(values: Iterable[str]) -> tuple[str, int]:
    """One value per line for a clipboard copy, and how many were refused.

    A value with a control character is refused, not escaped: pasted into a shell, a line
    feed runs a command, and a cleaned id would not be the platform's id.
    """
    kept, refused = [], 0
    for value in values:
        if is_clean(value):
            kept.append(value)
        else:
            refused += 1
    return "\n".join(kept), refused


class SafeStream(io.TextIOBase):
    """A text stream whose every write goes through ``clean`` (line feeds kept) and can
    never fail to encode: the CLI's stdout and stderr."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self._encoding = getattr(inner, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        safe = clean(text, keep_newlines=True)
        try:
            safe.encode(self._encoding)
        except (UnicodeEncodeError, LookupError):
            safe = safe.encode(self._encoding, "backslashreplace").decode(self._encoding)
        self.inner.write(safe)
        return len(text)

    def write_control(self, sequence: str) -> None:
        """Our own terminal control (a redraw), never platform text: written as it is."""
        self.inner.write(sequence)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


def shorten(text: str, limit: int = 200) -> str:
    """``clean`` and cut to ``limit`` characters with an ellipsis."""
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# JSON escapes C0 itself; these would still reach a terminal raw (or fail to encode).
_JSON_UNSAFE = {code: f"\\u{code:04x}" for code in CONTROLS if code >= 0x7F}


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


def devices_text(count: int) -> str:
    """``1 device``, ``3 devices``."""
    return f"{count} device{'' if count == 1 else 's'}"

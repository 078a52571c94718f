"""Platform text made safe to show: what a platform sends is displayed, never obeyed.

Control characters (C0, DEL, C1) become visible Unicode control pictures, so ANSI and
OSC escape sequences cannot reach the terminal, and bidirectional overrides (which can
reorder what a reader sees) become U+FFFD. Markup is a display concern: the TUI builds
text without markup parsing, so ``[bold]`` stays literal.
"""

from __future__ import annotations

_TABLE: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}  # ␀ … ␟
_TABLE[0x09] = " "  # tab: a space keeps columns aligned
_TABLE[0x7F] = "\u2421"  # ␡
_TABLE.update({code: "\ufffd" for code in range(0x80, 0xA0)})  # C1, incl. 8-bit CSI
_TABLE.update({code: "\ufffd" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))})


def clean(text: str) -> str:
    """``text`` with every control character replaced by a visible symbol."""
    return text.translate(_TABLE)


def shorten(text: str, limit: int = 200) -> str:
    """``clean`` and cut to ``limit`` characters with an ellipsis."""
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""The terminal's colour depth, and the theme that keeps state colours apart in it.

In a 16-colour terminal (``TERM=xterm``, no ``COLORTERM``) the default theme's colours are
downsampled, and red and green both land on white: ``failed`` would look like
``succeeded``. There the console starts on an ANSI theme whose error, success, warning
and primary colours are the terminal's own red, green, yellow and blue.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

ANSI_THEME = "ansi-dark"


def colour_depth(environ: Mapping[str, str] | None = None) -> int:
    """16, 256 or 16_777_216 colours, as the environment tells (Rich's rules)."""
    env = os.environ if environ is None else environ
    forced = env.get("TEXTUAL_COLOR_SYSTEM", "").lower()
    if forced in ("standard", "windows"):
        return 16
    if forced == "256":
        return 256
    if forced == "truecolor":
        return 16_777_216
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return 16_777_216
    term = env.get("TERM", "").lower()
    if term.endswith("-256color") or term.endswith("-direct") or term == "xterm-kitty":
        return 256 if not term.endswith("-direct") else 16_777_216
    return 16


def default_theme(environ: Mapping[str, str] | None = None) -> str | None:
    """The theme to start on when the user saved none: None keeps Textual's default."""
    return ANSI_THEME if colour_depth(environ) <= 16 else None

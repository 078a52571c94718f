"""Clipboard copies (OSC 52) through the platform-text boundary.

Every copy in the console goes through here: ids are copied as the platform sent them
only when they are clean, and the user is told about any that were refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App

from fota_tui.text import clean, clipboard_text


def copy_values(app: App[object], values: Sequence[str], noun: str = "device id") -> None:
    """Copy ``values``, one per line; a value with control characters is refused."""
    text, refused = clipboard_text(values)
    copied = len(values) - refused
    if copied:
        app.copy_to_clipboard(text)
    label = noun if copied == 1 else f"{noun}s"
    if not refused:
        app.notify(f"Copied {copied} {label} to the clipboard", markup=False)
        return
    app.notify(
        f"Copied {copied} {label}; {refused} not copied: they hold control characters"
        " (shown as ␛, ␊ … in the table) that a paste into a shell would run",
        title="Clipboard",
        severity="warning",
        markup=False,
    )


def copy_text(app: App[object], text: str) -> None:
    """Copy a block of text (a traceback) with every control character made visible."""
    app.copy_to_clipboard(clean(text, keep_newlines=True))

"""Literal platform text and the small visual vocabulary every view shares.

Platform text (names, reasons, raw statuses) never goes through markup: it is
sanitised with the device table's ``sanitize`` and placed into ``Content`` as plain
text. Styles are theme variables, so every theme (and 16-colour terminals) works.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from textual.content import Content

from fota_tui.models import CampaignState, UpgradeState
from fota_tui.tui.widgets.table_render import format_age, sanitize

__all__ = [
    "STATE_STYLES",
    "age_label",
    "count_labels",
    "format_age",
    "literal",
    "raw_text",
    "sanitize",
    "state_bar",
    "state_content",
    "when_label",
]

STATE_STYLES: dict[str, str] = {
    "pending": "$text-secondary",
    "queued": "$text-secondary",
    "sending": "$text-primary",  # in flight: blue; partial keeps yellow for itself
    "downloading": "$text-primary",
    "in_progress": "$text-primary",
    "succeeded": "$text-success",
    "failed": "bold $text-error",
    "cancelled": "$text-muted",
    "expired": "$text-error",
    "unknown": "italic $text-muted",
    "partial": "$text-warning",
}

# Short words for the pane counts; shown bad news first (``COUNT_ORDER``).
SHORT_STATE = {
    UpgradeState.PENDING: "pend",
    UpgradeState.QUEUED: "queue",
    UpgradeState.SENDING: "send",
    UpgradeState.DOWNLOADING: "dl",
    UpgradeState.IN_PROGRESS: "run",
    UpgradeState.SUCCEEDED: "ok",
    UpgradeState.FAILED: "fail",
    UpgradeState.CANCELLED: "cncl",
    UpgradeState.EXPIRED: "exp",
    UpgradeState.UNKNOWN: "?",
}

# Bar groups: (states, glyph, style). Distinct glyphs keep the bar readable without colour.
_BAR_GROUPS: tuple[tuple[frozenset[UpgradeState], str, str], ...] = (
    (frozenset({UpgradeState.SUCCEEDED}), "█", "$text-success"),
    (
        frozenset({UpgradeState.SENDING, UpgradeState.DOWNLOADING, UpgradeState.IN_PROGRESS}),
        "▓",
        "$text-warning",
    ),
    (frozenset({UpgradeState.PENDING, UpgradeState.QUEUED}), "▒", "$text-secondary"),
    (frozenset({UpgradeState.FAILED, UpgradeState.EXPIRED}), "█", "$text-error"),
    (frozenset({UpgradeState.CANCELLED, UpgradeState.UNKNOWN}), "░", "$text-muted"),
)


def literal(value: object, style: str = "") -> Content:
    """Platform text as plain content: no markup, control characters made visible."""
    text = "" if value is None else sanitize(str(value))
    return Content.styled(text, style) if style else Content(text)


def raw_text(value: Any) -> str:
    """A raw platform status (any JSON-ish value) as one sanitised line."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return sanitize(value)
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return sanitize(text)


def state_content(state: UpgradeState | CampaignState | str | None) -> Content:
    if state is None:
        return Content.styled("-", "$text-muted")
    word = state.value if isinstance(state, UpgradeState | CampaignState) else str(state)
    return Content.styled(sanitize(word), STATE_STYLES.get(word, ""))


def state_bar(counts: Mapping[UpgradeState, int], width: int) -> Content:
    """A proportional bar of per-state counts, ``width`` cells (largest remainder)."""
    total = sum(counts.values())
    if width <= 0:
        return Content("")
    if total == 0:
        return Content.styled("·" * width, "$text-muted")
    sizes = [sum(counts.get(s, 0) for s in states) for states, _, _ in _BAR_GROUPS]
    exact = [size * width / total for size in sizes]
    cells = [int(x) for x in exact]
    # every non-empty group gets at least one cell when there is room
    for i, size in enumerate(sizes):
        if size and not cells[i] and sum(cells) < width:
            cells[i] = 1
    order = sorted(range(len(exact)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in order:
        if sum(cells) >= width:
            break
        if sizes[i]:
            cells[i] += 1
    while sum(cells) > width:
        biggest = max(range(len(cells)), key=lambda i: cells[i])
        cells[biggest] -= 1
    parts = [
        (glyph * n, style) for n, (_, glyph, style) in zip(cells, _BAR_GROUPS, strict=True) if n
    ]
    return Content.assemble(*parts)


COUNT_ORDER = (
    UpgradeState.FAILED,
    UpgradeState.EXPIRED,
    UpgradeState.UNKNOWN,
    *(s for s in SHORT_STATE if s.active),
    UpgradeState.SUCCEEDED,
    UpgradeState.CANCELLED,
)


def compact(n: int) -> str:
    """``950``, ``1.2k``, ``12k``, ``3.4M``: a count in at most four characters."""
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= limit:
            value = n / limit
            return (
                f"{value:.1f}".rstrip("0").rstrip(".") + suffix
                if value < 10
                else f"{n // limit}{suffix}"
            )
    return str(n)


def count_labels(counts: Mapping[UpgradeState, int], width: int | None = None) -> Content:
    """``fail 12 exp 3 run 20 ok 380`` for the non-zero states, bad news first, coloured
    by state. Within ``width`` cells, the later counts are left out whole (never the
    failures), and ``+N`` says how many devices they hold."""
    items = [(s, counts.get(s, 0)) for s in COUNT_ORDER if counts.get(s, 0)]
    if not items:
        return Content.styled("no upgrades", "$text-muted")
    labels = [(f"{SHORT_STATE[s]} {compact(n)}", STATE_STYLES[s.value]) for s, n in items]
    keep = len(labels)
    if width is not None:
        must = sum(1 for s, _ in items if s in (UpgradeState.FAILED, UpgradeState.EXPIRED))
        while keep > max(must, 1):
            rest = sum(n for _, n in items[keep:])
            used = sum(len(text) + 1 for text, _ in labels[:keep]) - 1
            if used + (len(f" +{compact(rest)}") if rest else 0) <= width:
                break
            keep -= 1
    parts: list[tuple[str, str] | str] = []
    for label in labels[:keep]:
        if parts:
            parts.append(" ")
        parts.append(label)
    rest = sum(n for _, n in items[keep:])
    if rest:
        parts.append((f" +{compact(rest)}", "$text-muted"))
    return Content.assemble(*parts)


def age_label(seconds: float | None, *, coarse: bool = False) -> str:
    """``10s ago`` / ``never``. Seconds go in steps of 5 (a pane is resent whole each time
    its text changes); ``coarse`` (low bandwidth) says ``<1m ago`` below a minute."""
    if seconds is None:
        return "never"
    if seconds < 60:
        return "<1m ago" if coarse else f"{format_age(seconds - seconds % 5)} ago"
    return f"{format_age(seconds)} ago"


def when_label(when: datetime | None, now: datetime | None = None) -> str:
    """``2026-11-22 08:00Z (3h ago)``, or ``-``."""
    if when is None:
        return "-"
    stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if now is None:
        return stamp
    delta = (now - when).total_seconds()
    rel = f"{format_age(delta)} ago" if delta >= 0 else f"in {format_age(-delta)}"
    return f"{stamp} ({rel})"


def join(parts: Iterable[Content | str], sep: str = " · ") -> Content:
    return Content(sep).join(list(parts))

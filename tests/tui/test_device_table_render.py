"""Literal, exact-width rendering of platform text in the device table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.services.fleet import FleetRow, FleetStore
from fota_tui.tui.widgets.device_table import DeviceTable
from fota_tui.tui.widgets.table_render import (
    COLUMNS,
    GUTTER,
    fit,
    format_age,
    layout_columns,
    sanitize,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

HOSTILE = [
    FleetRow(
        "ts-prod",
        ProviderKind.THINGSPACE,
        "dev-markup",
        name="[bold red]pwned[/bold red]",
        model="[link=http://evil]x[/link]",
        firmware="1.0[/]",
        firmware_to="[blink]2.0",
        state=UpgradeState.FAILED,
        campaign_id="[reverse]c",
        reason="[bold red]boom[/bold red] :warning: [@click=app.quit]x[/]",
        updated_at=NOW - timedelta(seconds=12),
    ),
    FleetRow(
        "ts-prod",
        ProviderKind.THINGSPACE,
        "dev-\x1b[31mred",
        reason="\x1b]52;c;cGF5bG9hZA==\x07 clip \x1b[2J\x1b[H wipe \x9b31m csi \x9d0;title\x9c",
        firmware="\x00nul\x07bell\x08bs\x7fdel",
        state=UpgradeState.IN_PROGRESS,
        updated_at=NOW - timedelta(minutes=5),
    ),
    FleetRow(
        "ts-prod",
        ProviderKind.THINGSPACE,
        "dev-wide",
        model="设备型号",
        reason="升级失败：固件校验错误 🚀🔥 שגיאה בהורדה \u202eevil\u202c ok \ud800",
        campaign_id="キャンペーン",
        state=UpgradeState.EXPIRED,
        updated_at=NOW - timedelta(hours=3),
    ),
    FleetRow(
        "ts-prod",
        ProviderKind.THINGSPACE,
        "dev-long",
        reason="x" * 10_000,
        name="y" * 10_000,
        firmware="9" * 5_000,
        updated_at=NOW - timedelta(days=2),
    ),
]


class HostApp(App[None]):
    def __init__(self, store: FleetStore) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        yield DeviceTable(self.store, clock=lambda: NOW, age_refresh=None)


# -- helpers -------------------------------------------------------------------


def test_sanitize_replaces_controls_with_visible_symbols() -> None:
    assert sanitize("plain [bold] text") == "plain [bold] text"
    out = sanitize("a\x1b[31mb\x00c\x7fd\x9be\te\nf\u202eg\ud800")
    assert not CONTROL.search(out)
    assert "␛[31m" in out and "␀" in out and "␡" in out and "␉" in out and "␊" in out
    assert "\u202e" not in out and "\ud800" not in out
    out.encode("utf-8")  # lone surrogates are gone


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "abcdefghijklmnop",
        "设备型号设备型号",
        "a设b备c",
        "🚀🔥🚀",
        "x\x1by" * 5,
        "é" * 30,
    ],
)
def test_fit_is_exact_width_with_ellipsis(text: str, width: int) -> None:
    fitted = fit(text, width)
    assert cell_len(fitted) == width
    assert not CONTROL.search(fitted)
    if cell_len(sanitize(text)) > width:
        assert fitted.endswith("…")
    right = fit(text, width, "right")
    assert cell_len(right) == width
    middle = fit(text, width, middle=True)
    assert cell_len(middle) == width
    assert not CONTROL.search(middle)


def test_middle_cut_keeps_both_ends_of_ids() -> None:
    assert fit("350509082644773", 11, middle=True) == "35050…44773"
    assert fit("dev-0012345", 11, middle=True) == "dev-0012345"
    assert fit("x" * 10_000 + "END", 9, middle=True) == "xxxx…xEND"


def test_fit_handles_huge_strings_cheaply() -> None:
    assert fit("z" * 1_000_000, 10) == "zzzzzzzzz…"
    assert fit("宽" * 100_000, 9) == "宽宽宽宽…"
    assert fit("宽" * 100_000, 10) == "宽宽宽宽 …"  # a wide char never straddles the cut


def test_format_age_is_compact() -> None:
    assert [format_age(s) for s in (0, 12, 59.9, 60, 299, 3600, 86399, 86400 * 2.5)] == [
        "0s",
        "12s",
        "59s",
        "1m",
        "4m",
        "1h",
        "23h",
        "2d",
    ]
    assert format_age(-5) == "0s"  # clock skew never shows a negative age
    assert format_age(None) == "-"


@pytest.mark.parametrize("width", [40, 60, 78, 98, 118, 160, 240])
def test_layout_fits_the_width(width: int) -> None:
    layout = layout_columns(width)
    used = GUTTER + sum(w + 1 for _, w in layout.columns)
    names = [spec.name for spec, _ in layout.columns]
    assert {"device", "state", "updated"} <= set(names)  # never dropped
    if width >= 80:
        assert used == width  # wide terminals: every cell is used
    assert names == [c.name for c in COLUMNS if c.name in names]  # order kept
    if width < 80:
        assert "model" not in names  # least important goes first


# -- rendering in a running app ------------------------------------------------


@pytest.mark.parametrize("size", [(100, 30), (80, 24), (60, 20)])
async def test_hostile_text_renders_literally_and_exactly(size: tuple[int, int]) -> None:
    store = FleetStore()
    store.apply_rows(HOSTILE)
    app = HostApp(store)
    async with app.run_test(size=size) as pilot:
        table = app.query_one(DeviceTable)
        table.sort_by(None)
        await pilot.pause()
        width = table.size.width
        lines = [table.render_line(y) for y in range(table.size.height)]
        texts = []
        for strip in lines:
            assert strip.cell_length == width
            assert sum(cell_len(seg.text) for seg in strip) == width
            for segment in strip:
                assert "\x1b" not in segment.text
                assert not CONTROL.search(segment.text)
                assert segment.control is None
                assert segment.style is None or segment.style.link is None  # no markup links
            texts.append(strip.text)
        screen = "\n".join(texts)
        if size[0] >= 80:
            assert "[bold red" in screen  # markup shown as text, not applied
        if size[0] >= 100:
            assert "[bold red]boom" in screen
        assert "␛[31m" in screen  # the escape is visible, not interpreted
        assert "pwned" not in screen or "[bold red]pwned" in screen
        # what Textual would write to the terminal carries no sequence from the data
        update = app.screen._compositor.render_update(full=True)
        with app.console.capture() as capture:
            app.console.print(update, end="")
        terminal = capture.get()
        assert "\x1b]52" not in terminal and "\x1b[31m" not in terminal
        assert "\x1b[2J" not in terminal and "\x07" not in terminal
        assert not re.search("[\x00\x08\x7f\x80-\x9f]", terminal)


async def test_state_label_is_text_so_monochrome_still_reads() -> None:
    store = FleetStore()
    store.apply_rows(HOSTILE)
    app = HostApp(store)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(DeviceTable)
        table.sort_by("device")
        await pilot.pause()
        text = "\n".join(table.render_line(y).text for y in range(1, 5))
        for word in ("failed", "in_progress", "expired"):
            assert word in text
        assert "12s" in text and "5m" in text and "3h" in text and "2d" in text

"""The glance: the first screen answers "what is failing, where, and why" at 120x40 and 80x24."""

from __future__ import annotations

import pytest
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey
from tui_app_harness import settle, sim_app

from fota_tui.models import ACTIVE_STATES, UpgradeState
from fota_tui.tui.colours import colour_depth
from fota_tui.tui.screens.dashboard import DashboardScreen
from fota_tui.tui.screens.prompt import ChoicePrompt
from fota_tui.tui.screens.provider import ProviderScreen
from fota_tui.tui.screens.wizard import CampaignWizardScreen
from fota_tui.tui.text import compact, count_labels
from fota_tui.tui.widgets.provider_pane import PaneLine, ProviderPane
from fota_tui.tui.widgets.status_header import StatusHeader

SIZES = [(120, 40), (80, 24)]
BAD = (UpgradeState.FAILED, UpgradeState.EXPIRED)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_failures_come_first_newest_first_then_expired_then_the_stuck(
    size: tuple[int, int],
) -> None:
    h = sim_app()
    async with h.app.run_test(size=size) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        rows = screen.table.rows
        states = [r.state for r in rows]
        failed = states.count(UpgradeState.FAILED)
        expired = states.count(UpgradeState.EXPIRED)
        assert failed and expired
        assert states[:failed] == [UpgradeState.FAILED] * failed
        assert states[failed : failed + expired] == [UpgradeState.EXPIRED] * expired
        for group in (rows[:failed], rows[failed : failed + expired]):  # newest first
            times = [r.updated_at for r in group if r.updated_at]
            assert times == sorted(times, reverse=True)
        active = [r for r in rows[failed + expired :] if r.state in ACTIVE_STATES]
        flight = rows[failed + expired : failed + expired + len(active)]
        assert flight == active  # in flight next, the longest without progress first
        times = [r.updated_at for r in active if r.updated_at]
        assert times == sorted(times)
        assert "problems first" in str(screen.panel.border_title)


async def test_header_totals_count_the_whole_fleet_failures_in_the_error_colour() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        counts = h.app.session.store.state_counts()
        fleet = h.app.screen.query_one(StatusHeader).query_one("#hdr-fleet", Static)
        text = fleet.render()
        plain = str(text)
        assert f"✗ {counts[UpgradeState.FAILED]} failed" in plain
        assert f"⌛ {counts[UpgradeState.EXPIRED]} expired" in plain
        in_flight = sum(counts[s] for s in ACTIVE_STATES)
        assert f"↻ {in_flight} in flight" in plain
        styles = [s for s in text.spans if plain[s.start : s.end].startswith("✗")]  # type: ignore[attr-defined]
        assert styles and "$text-error" in str(styles[0].style)
        # the header is never cut before the failures: they are on screen
        assert fleet.region.right <= 120 and fleet.region.width >= len(plain)


async def test_bang_shows_only_problems_and_again_shows_all() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        total = screen.table.row_count
        await pilot.press("exclamation_mark")
        shown = {r.state for r in screen.table.rows}
        assert shown and shown <= {*BAD, UpgradeState.UNKNOWN}
        want = sum(1 for r in h.app.session.store if r.state in (*BAD, UpgradeState.UNKNOWN))
        assert screen.table.row_count == want < total
        assert "state:attention" in str(screen.panel.border_title)
        await pilot.press("exclamation_mark")
        assert screen.table.row_count == total


async def test_s_cycles_every_column_and_comes_back_to_problems_first() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        seen = [screen.table.sort_column]
        for _ in range(20):
            await pilot.press("s")
            seen.append(screen.table.sort_column)
            if seen[-1] == "attention":
                break
        assert seen[0] == seen[-1] == "attention" and "provider" in seen and None not in seen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_pane_lines_never_cut_the_failure_and_expired_counts(size: tuple[int, int]) -> None:
    h = sim_app()
    async with h.app.run_test(size=size) as pilot:
        await settle(pilot, h.app)
        for pane in h.app.screen.query(ProviderPane):
            counts = pane.view.counts
            width = pane.content_region.width
            lines = list(pane.query(PaneLine))
            assert all(line.shown.cell_length <= width for line in lines[1:]), pane.text
            for state, word in ((UpgradeState.FAILED, "fail"), (UpgradeState.EXPIRED, "exp")):
                if counts.get(state):
                    assert f"{word} {counts[state]}" in pane.text, pane.text


def test_counts_keep_the_bad_news_and_say_what_they_left_out() -> None:
    counts = {
        UpgradeState.SUCCEEDED: 12_345,
        UpgradeState.FAILED: 1_234,
        UpgradeState.EXPIRED: 7,
        UpgradeState.QUEUED: 300,
    }
    assert count_labels(counts).plain == "fail 1.2k exp 7 queue 300 ok 12k"
    cut = count_labels(counts, 20).plain
    assert cut.startswith("fail 1.2k exp 7") and cut.endswith("+12k") and len(cut) <= 20
    assert count_labels(counts, 5).plain.startswith("fail 1.2k exp 7")  # never dropped
    assert [compact(n) for n in (0, 999, 1000, 1050, 9999, 10_000, 2_500_000)] == [
        "0",
        "999",
        "1k",
        "1.1k",
        "10k",
        "10k",
        "2.5M",
    ]


@pytest.mark.parametrize(
    ("env", "depth"),
    [
        ({"TERM": "xterm"}, 16),
        ({"TERM": "linux"}, 16),
        ({"TERM": "xterm-256color"}, 256),
        ({"TERM": "xterm", "COLORTERM": "truecolor"}, 16_777_216),
        ({"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"}, 16),
    ],
)
def test_colour_depth_follows_the_terminal(env: dict[str, str], depth: int) -> None:
    assert colour_depth(env) == depth


async def test_a_16_colour_terminal_keeps_failed_red_and_succeeded_green(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In TERM=xterm the state words are the terminal's own red and green (and differ)."""
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("COLORTERM")
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        assert h.app.theme == "ansi-dark"
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.table
        screen.panel.set_filter("state:failed,succeeded")  # both on the first screen
        await pilot.pause()
        colours: dict[str, set[int | None]] = {}
        rows = table.rows
        for y in range(1, min(table.size.height, table.row_count + 1)):
            if rows[y - 1] is table.cursor_row:
                continue  # the cursor row is drawn reversed
            for segment in table.render_line(y):
                word = segment.text.strip()
                if word in ("failed", "succeeded", "expired") and segment.style:
                    colour = segment.style.color
                    colours.setdefault(word, set()).add(colour.number if colour else None)
        red, green = {1, 9}, {2, 10}  # ANSI red and green, normal or bright
        assert colours.get("failed") and colours["failed"] <= red, colours
        assert colours.get("succeeded") and colours["succeeded"] <= green, colours
        fleet = screen.query_one(StatusHeader).query_one("#hdr-fleet", Static)
        failed = [s for s in fleet.render_line(0) if s.text.startswith("✗")]
        assert failed and failed[0].style and failed[0].style.color
        assert failed[0].style.color.number in red


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_footer_keeps_help_and_quit_visible_and_no_stray_cell(size: tuple[int, int]) -> None:
    h = sim_app()
    async with h.app.run_test(size=size) as pilot:
        await settle(pilot, h.app)
        keys = list(h.app.screen.query_one(Footer).query(FooterKey))
        palette = next(k for k in keys if k.has_class("-command-palette"))
        # the palette key covers the last cell: nothing beneath shows through
        assert palette.region.right == size[0]
        for action in ("help", "quit"):
            key = next(k for k in keys if k.action == action)
            assert key.region.right <= palette.region.x, (action, key.region, palette.region)


@pytest.mark.parametrize(("answer", "expected"), [("a", 3), ("v", 1), ("escape", None)])
async def test_a_hidden_selection_is_named_and_asked_about(
    answer: str, expected: int | None
) -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.table
        rows = [r for r in table.rows if r.provider == "thingspace-demo"][:3]
        table.select(r.key for r in rows)
        screen.panel.set_filter(rows[0].device_id)  # hides the other two
        await pilot.pause()
        assert "3 selected (2 hidden)" in str(screen.panel.border_title)
        await pilot.press("n")
        assert isinstance(h.app.screen, ChoicePrompt)
        await pilot.press(answer)
        await pilot.pause()
        if expected is None:
            assert h.app.screen is screen  # nothing opened, nothing changed
            assert len(table.selected_keys) == 3
        else:
            wizard = h.app.screen
            assert isinstance(wizard, CampaignWizardScreen)
            assert len(wizard.rows) == expected


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_failing_pane_opens_its_provider_view_with_the_whole_story(
    size: tuple[int, int],
) -> None:
    h = sim_app()
    cfg = h.demo.profile.providers[1]
    async with h.app.run_test(size=size) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        h.demo.simulator.faults.set(cfg.kind, malformed=1.0)
        for _ in range(2):
            await pilot.press("r")
            await settle(pilot, h.app)
        pane = screen.grid.pane(cfg.name)
        reason = pane.view.stale_reason
        assert reason and len(reason) > 40  # longer than any pane line
        stale = [line for line in pane.query(PaneLine) if line.has_class("-wrap")]
        assert stale and stale[0].size.height >= 2  # the reason wraps instead of being cut
        pane.focus()
        await pilot.press("enter")
        provider = h.app.screen
        assert isinstance(provider, ProviderScreen)
        error = str(provider.query_one("#provider-error", Static).render())
        assert " ".join(reason.split()) in " ".join(error.split())  # the whole reason
        story = str(provider.query_one("#provider-incidents", Static).render())
        assert story.count("#1 in a row") == 1 and story.count("#2 in a row") == 1
        facts = str(provider.query_one("#provider-facts", Static).render())
        assert "last good refresh" in facts and "2026-11-22" in facts
        await pilot.press("enter")  # its devices, on the dashboard
        assert h.app.screen is screen
        assert {r.provider for r in screen.table.rows} == {cfg.name}
        await pilot.click(f"#{screen.grid.pane(cfg.name).id}")  # a click opens it too
        assert isinstance(h.app.screen, ProviderScreen)


@pytest.mark.parametrize(("size", "reason_min"), [((120, 40), 24), ((80, 24), 14)])
async def test_reason_takes_the_room_and_campaigns_show_their_names(
    size: tuple[int, int], reason_min: int
) -> None:
    h = sim_app()
    async with h.app.run_test(size=size) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.table
        widths = {spec.name: width for spec, width in table._get_layout().columns}
        assert widths["reason"] >= reason_min and widths["updated"] <= 5
        if "campaign" not in widths:
            return
        names = h.app.session.campaign_names()
        rows = table.rows
        y, row = next(
            (y, r) for y, r in enumerate(rows) if (r.provider, r.campaign_id or "") in names
        )
        line = table.render_line(y + 1).text
        name = names[(row.provider, row.campaign_id or "")]
        assert name[: min(6, widths["campaign"] - 1)] in line


async def test_wide_shows_every_cell_in_full_sideways_and_zoom_gives_the_table_the_screen() -> None:
    h = sim_app()
    async with h.app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.table
        row = max(table.rows, key=lambda r: len(r.reason or ""))
        assert table.move_cursor_to_key(row.key)
        y = table.rows.index(row) - table.scroll_offset.y + 1
        assert (row.reason or "") not in table.render_line(y).text  # cut when fitted
        height = table.size.height
        await pilot.press("z")
        assert not screen.grid.display and table.size.height > height
        await pilot.press("w")
        assert table.wide and "wide" in str(screen.panel.border_title)
        assert table.virtual_size.width > table.size.width
        line = table.render_line(y).text
        assert len(line) == table.size.width  # a window onto the full line
        for _ in range(40):
            if (row.reason or "")[:30] in table.render_line(y).text:
                break
            await pilot.press("right")
        assert (row.reason or "")[:30] in table.render_line(y).text
        await pilot.press("w", "z")
        assert not table.wide and screen.grid.display and table.scroll_offset.x == 0


async def test_at_80x24_panes_shrink_so_the_table_keeps_eight_rows() -> None:
    h = sim_app()
    async with h.app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        assert screen.table.size.height - 1 >= 8  # rows under the header line
        for pane in screen.query(ProviderPane):
            first = pane.text.splitlines()[0]
            assert f"{pane.view.device_count} dev" in first  # devices share the health line


async def test_the_wizard_fits_80x24_with_one_line_inputs() -> None:
    h = sim_app()
    async with h.app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, h.app)
        await pilot.press("space", "n")
        await h.app.workers.wait_for_complete()
        wizard = h.app.screen
        assert isinstance(wizard, CampaignWizardScreen)
        for _ in range(2):  # the provider step, then the firmware step
            await pilot.pause()
            steps = wizard.query_one("#wiz-steps")
            assert steps.region.height == 1 and steps.region.y >= 0
            for widget in wizard.query("Input, Button, Select"):
                if widget.region.area:
                    assert widget.region.height == 1, widget
                    assert widget.region.bottom <= 24, widget
            assert wizard.query_one("#wiz-next").region.bottom <= 23
            await pilot.press("ctrl+n")
            await h.app.workers.wait_for_complete()


def test_a_resolved_time_names_utc_and_the_platforms_own_zone() -> None:
    from datetime import UTC, datetime

    from fota_tui.tui.screens.wizard_form import resolved_label

    when = datetime(2026, 11, 29, 20, 30, tzinfo=UTC)
    assert resolved_label(when) == "→ 2026-11-29 20:30 UTC"
    assert resolved_label(when, (480, "Beijing")) == (
        "→ 2026-11-29 20:30 UTC · 2026-11-30 04:30 Beijing, UTC+08:00"
    )


@pytest.mark.parametrize(("provider", "zone"), [("onenet-demo", True), ("thingspace-demo", False)])
async def test_relative_times_show_their_date_as_you_type(provider: str, zone: bool) -> None:
    from textual.widgets import Input

    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        row = next(r for r in screen.table.rows if r.provider == provider)
        screen.table.select([row.key])
        await pilot.press("n")
        await h.app.workers.wait_for_complete()
        wizard = h.app.screen
        assert isinstance(wizard, CampaignWizardScreen)
        start = wizard.query_one("#sc-start", Input)
        start.value = "+7d"
        await pilot.pause()
        hint = str(start.parent.query_one(".wf-hint", Static).render())  # type: ignore[union-attr]
        assert hint.startswith("→ 2026-11-29 08:00 UTC")  # the harness clock: 11-22 08:00
        assert ("Beijing, UTC+08:00" in hint) is zone
        start.value = ""
        await pilot.pause()
        assert "+30m" in str(start.parent.query_one(".wf-hint", Static).render())  # type: ignore[union-attr]


async def test_r_while_paused_refreshes_once_and_stays_paused() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        await pilot.press("p")
        assert h.app.session.paused
        before = {v.name: v.fetched_at for v in h.app.session.provider_views()}
        h.clock.advance(30)
        await pilot.press("r")
        await settle(pilot, h.app)
        after = {v.name: v.fetched_at for v in h.app.session.provider_views()}
        assert all(after[n] != before[n] for n in before)  # it refreshed
        assert h.app.session.paused and h.app.session.refresh_state == "paused"


async def test_bang_narrows_the_filter_in_use_and_opens_at_the_top() -> None:
    h = sim_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        screen = h.app.screen
        assert isinstance(screen, DashboardScreen)
        screen.panel.set_filter("provider:aovx-demo")
        await pilot.press("G")  # far down
        assert screen.table.cursor_row is screen.table.rows[-1]
        await pilot.press("exclamation_mark")
        assert screen.table.filter_query.text == "provider:aovx-demo state:attention"
        rows = screen.table.rows
        assert rows and {r.provider for r in rows} == {"aovx-demo"}
        assert {r.state for r in rows} <= {*BAD, UpgradeState.UNKNOWN}
        assert screen.table.cursor_row is rows[0]  # the newest failure, not an old row
        await pilot.press("exclamation_mark")
        assert screen.table.filter_query.text == "provider:aovx-demo"
        await pilot.press("g")
        assert screen.table.cursor_row is screen.table.rows[0]


async def test_header_says_how_many_providers_fail_while_polling_is_live() -> None:
    h = sim_app()
    cfg = h.demo.profile.providers[2]
    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        h.demo.simulator.faults.set(cfg.kind, malformed=1.0)
        await pilot.press("r")
        await settle(pilot, h.app)
        h.app._status_changed()
        state = h.app.screen.query_one(StatusHeader).query_one("#hdr-state", Static)
        assert "1/4 failing" in str(state.render()) and state.has_class("-failing")

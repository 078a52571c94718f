"""Hostile platform text is shown literally and never drives the terminal.

The seeded simulator's device names, models and firmware, firmware versions, campaign
names, failure reasons and error messages are replaced by Rich/Textual markup, ANSI and
OSC escape sequences, C0/C1 control characters, NUL, a 10 KB string, right-to-left
text, wide CJK/emoji and spreadsheet formulas. The assertions are on the real render:
the compositor's lines and the exact bytes the app would write to its terminal, the
`fota-tui status` output, and the real binary in tmux.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from audit_harness import ON, Tmux, env_for
from rich.cells import cell_len
from tmux_harness import wait_for_file

from fota_tui.config.paths import resolve_paths
from fota_tui.config.store import ConfigStore
from fota_tui.models import CampaignState, UpgradeState
from fota_tui.sim import hostile as sim_hostile
from fota_tui.sim.clock import ManualClock, ScaledClock
from fota_tui.sim.demo import demo_profile
from fota_tui.sim.dialects.oceanconnect import tasks as oceanconnect_tasks
from fota_tui.sim.dialects.thingspace import words as thingspace_words
from fota_tui.sim.hostile import CONTROLS, ESCAPES, FORMULAS, MARKUP, RTL, WIDE
from fota_tui.sim.server import Simulator

START = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SIZE = (120, 40)

LONG = sim_hostile.LONG
PAYLOADS = tuple(p for p in sim_hostile.PAYLOADS if p != sim_hostile.SURROGATE)  # literal on screen
PANE_ERROR = "[bold red]pane[/] \x1b]52;c;ZXZpbA==\x07 固件 \x9b31m"

# What a reader must see instead of the control characters (the console's contract).
_SHOWN = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421"}
_SHOWN |= dict.fromkeys(range(0x80, 0xA0), "\ufffd")
_SHOWN |= dict.fromkeys((0x202A, 0x202B, 0x202C, 0x202D, 0x202E), "\ufffd")
# Every escape sequence the app itself may send: CSI (SGR, cursor moves) only.
_CSI = re.compile(r"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]")
_FORBIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # any C0 but LF, DEL, C1


def shown(text: str) -> str:
    return text.translate(_SHOWN)


def assert_no_terminal_controls(raw: str, where: str) -> None:
    """Only the app's own CSI sequences: no OSC, DCS, BEL, NUL, C1 or stray ESC."""
    rest = _CSI.sub("", raw)
    bad = sorted({f"U+{ord(c):04X}" for c in _FORBIDDEN.findall(rest)})
    assert not bad, f"{where}: control characters reach the terminal: {bad}"
    assert "\x1b[31m" not in raw, f"{where}: the data's SGR colour reached the terminal"


def test_the_checks_catch_what_they_look_for() -> None:
    """The control-character check itself (the rest of the file relies on it)."""
    assert_no_terminal_controls("\x1b[1;1H\x1b[38;2;1;2;3mok\x1b[0m\n", "clean")
    for bad in ("\x1b]52;c;ZXZpbA==\x07", "\x1b[31m", "\x00", "\x9b31m", "\x1b\\", "\x07"):
        with pytest.raises(AssertionError):
            assert_no_terminal_controls(f"\x1b[0mtext{bad}", "planted")
    assert shown(ESCAPES[1]) == "b␛]52;c;ZXZpbA==␇c"


def poison(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile text in every field a platform controls: the simulator's ``hostile`` fault
    (models included, lone surrogates left out: this file checks the screen literally),
    and the dialects' reason texts."""
    sim_hostile.poison(simulator.fleet, surrogates=False, models=True)
    for n, reason in enumerate(thingspace_words.REASON_TEXT):
        monkeypatch.setitem(thingspace_words.REASON_TEXT, reason, PAYLOADS[n % len(PAYLOADS)])
    for n, reason in enumerate(oceanconnect_tasks.REASONS):
        text = PAYLOADS[(n + 2) % len(PAYLOADS)] + (LONG if n == 0 else "")
        monkeypatch.setitem(oceanconnect_tasks.REASONS, reason, text)


def hostile_errors(simulator: Simulator, kind: Any) -> None:
    """Make ``kind`` answer every request with a 5xx whose message is hostile."""
    dialect = simulator.dialects[kind]
    dialect.server_error = lambda: dialect.error(503, 503, PANE_ERROR)  # type: ignore[method-assign]
    simulator.faults.set(kind, error=1.0)


# -- the real render -----------------------------------------------------------------


@dataclass
class Frame:
    raw: str  # exactly what the app writes to its terminal for a full repaint
    cells: list[list[str]]  # per screen line: one entry per cell ("" after a wide char)

    def line(self, y: int) -> str:
        return "".join(self.cells[y])

    @property
    def text(self) -> str:
        return "\n".join(self.line(y) for y in range(len(self.cells)))

    def find(self, needle: str) -> tuple[int, int] | None:
        """(x, y) in cells of the first occurrence of ``needle``."""
        for y, row in enumerate(self.cells):
            line = "".join(row)
            at = line.find(needle)
            if at >= 0:
                return cell_len(line[:at]), y
        return None


def frame(app: Any) -> Frame:
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    raw = update.render_segments(app.console)
    cells: list[list[str]] = []
    for line in update.strips:
        row: list[str] = []
        for strip in line:
            for segment in strip:
                for char in segment.text:
                    width = cell_len(char)
                    if width == 0 and row:
                        row[-1] += char
                    else:
                        row.append(char)
                        row.extend([""] * (width - 1))
        cells.append(row)
    return Frame(raw, cells)


def check_frame(app: Any, where: str) -> Frame:
    f = frame(app)
    assert_no_terminal_controls(f.raw, where)
    widths = {len(row) for row in f.cells}
    assert widths == {SIZE[0]} and len(f.cells) == SIZE[1], f"{where}: lines {widths}"
    assert app.is_running and app.return_code is None, f"{where}: the app quit"
    return f


RIGHT_ALIGNED = {"Age": 2}  # right-aligned labels: cells between the column's start and them


def columns_at(header: str, labels: list[str]) -> dict[str, int]:
    return {label: header.index(label) for label in labels if label in header}


def check_columns(f: Frame, top: int, bottom: int, header_y: int, state_label: str,
                  states: set[str], where: str) -> int:  # fmt: skip
    """Every row of a table keeps the header's column positions.

    The column before each label ends with a space (nothing spilled over), and the
    state column holds a known state word. Returns the rows checked.
    """
    header = f.line(header_y)
    labels = [w for w in re.findall(r"[A-Z][a-z /]*[a-z]", header) if w != "IMEI"]
    at = columns_at(header, labels)
    x_state = at[state_label]
    checked = 0
    for y in range(top, bottom):
        row = f.cells[y]
        if not "".join(row).strip(" │"):
            continue
        for label, x in at.items():
            start = x - RIGHT_ALIGNED.get(label, 0)  # a right-aligned label sits inside
            assert row[start - 1] == " ", f"{where}: line {y} spills into {label}: {''.join(row)!r}"
        word = "".join(row[x_state : x_state + 12]).split(" ")[0]
        assert word in states, f"{where}: line {y} state column holds {word!r}"
        checked += 1
    return checked


# -- the console ---------------------------------------------------------------------


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Simulator]:
    """The console on a poisoned in-process simulator (as ``--demo`` runs it)."""
    from fota_tui.sim.demo import build_demo
    from fota_tui.tui.app import make_app

    clock = ManualClock(START)
    demo = build_demo(devices=160, clock=clock)
    poison(demo.simulator, monkeypatch)
    app = make_app(demo.profile, transport=demo.transport, clock=clock, demo=demo)
    app.animation_level = "none"
    return app, demo.simulator


async def settle(pilot: Any, app: Any) -> None:
    for _ in range(400):
        await pilot.pause()
        views = app.session.provider_views()
        if not any(v.refreshing or (v.health == "unknown" and not v.build_error) for v in views):
            break
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_dashboard_table_and_panes_show_hostile_text_literally(
    hostile: tuple[Any, Simulator],
) -> None:
    from fota_tui.tui.screens.dashboard import DashboardScreen

    app, simulator = hostile
    states = {s.value for s in UpgradeState} | {"-"}
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert all(v.health == "ok" for v in app.session.provider_views())
        table = screen.table
        region = table.content_region
        seen = ""
        checked = 0
        for provider in app.session.provider_names:  # every platform's rows on screen
            screen.panel.set_filter(f"provider:{provider}")
            await pilot.pause()
            assert table.row_count > 0
            f = check_frame(app, f"dashboard {provider}")
            checked += check_columns(
                f, region.y + 1, region.bottom, region.y, "State", states, provider
            )
            seen += f.text
        assert checked >= 4 * 20
        # literal: markup text, control pictures, wide and right-to-left text
        for fragment in ("[bold", "[@cli", "[link", "␛[31m", "␛]52;c;", "␀bel␇", "固件",
                         "=HYPERLINK"):  # fmt: skip
            assert fragment in seen, fragment
        assert "\ufffdRTL-override\ufffd" in seen

        # a platform whose errors are hostile: the pane says so, literally
        hostile_errors(simulator, ON)
        await pilot.press("r")
        await settle(pilot, app)
        pane = screen.grid.pane("onenet-demo")
        assert pane.view.stale and pane.view.stale_reason
        f = check_frame(app, "stale pane")
        assert "stale: Unavailable: HTTP" in f.text
        body = pane.text  # the pane's full text (the screen cuts it)
        assert shown(PANE_ERROR) in body.replace("\n", "")
        assert not any(ord(c) < 0x20 and c != "\n" for c in body)
        # notifications carry the same text, sanitised
        assert all("\x1b" not in m and "\x07" not in m for _, m in app.notifications_sent)


async def test_device_detail_and_campaigns_show_hostile_text_literally(
    hostile: tuple[Any, Simulator],
) -> None:
    from fota_tui.tui.screens.campaigns import CampaignDetailScreen, CampaignsScreen
    from fota_tui.tui.screens.device_detail import DeviceDetailScreen

    app, _ = hostile
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        dashboard = app.screen
        store = app.session.store
        # a device whose name is the click markup, with upgrades (a reason in history)
        row = next(r for r in store if r.name == MARKUP[2] and r.campaign_id)
        assert dashboard.table.move_cursor_to_key(row.key)
        await pilot.press("enter")
        assert isinstance(app.screen, DeviceDetailScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        f = check_frame(app, "device detail")
        at = f.find(MARKUP[2])
        assert at is not None, f.text
        # clicking the text must not run the action the markup names
        await pilot.click(offset=at)
        await pilot.click(offset=(at[0] + MARKUP[2].index("z"), at[1]))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, DeviceDetailScreen)
        assert shown(row.model or "") in f.text and "platform status" in f.text
        await pilot.press("escape")

        for name in (MARKUP[0], ESCAPES[1], CONTROLS, RTL, WIDE):
            row = next(r for r in store if r.name and r.name.startswith(name))
            assert dashboard.table.move_cursor_to_key(row.key)
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            f = check_frame(app, f"device detail {name!r}")
            assert shown(name) in f.text.replace("\n", ""), name
            await pilot.press("escape")

        # a 10 KB name: shown (wrapped), the screen keeps its size and the app its keys
        row = next(r for r in store if r.name and len(r.name) > 10_000)
        assert dashboard.table.move_cursor_to_key(row.key)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        f = check_frame(app, "device detail 10 KB")
        assert "L" * 100 in f.text
        await pilot.press("escape")

        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, CampaignsScreen)
        f = check_frame(app, "campaigns")
        options = screen.option_list
        region = options.content_region
        header_y = screen.query_one("#campaign-header").region.y
        states = {s.value for s in CampaignState}
        checked = check_columns(f, region.y, region.bottom, header_y, "State", states, "campaigns")
        assert checked >= 20
        visible = [x for x in ("[bold red]", "[link=", "[@click", "␛]52;c;", "␛[31m", "固件升级",
                               "\ufffdRTL", "␀bel") if x in f.text]  # fmt: skip
        assert len(visible) >= 4, visible
        # every line of the list (also those scrolled off): literal, no control characters
        campaigns = screen.shown  # in the order listed
        for index, campaign in enumerate(campaigns):
            prompt = str(options.get_option_at_index(index).prompt)
            assert not _FORBIDDEN.search(prompt), prompt
            if campaign.name:
                assert shown(campaign.name)[:4] in prompt, (campaign.name[:30], prompt)

        # a campaign with a hostile (long) name: its detail screen
        index = next(i for i, c in enumerate(campaigns) if c.name and c.name.startswith(ESCAPES[0]))
        options.highlighted = index
        await pilot.press("enter")
        assert isinstance(app.screen, CampaignDetailScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        f = check_frame(app, "campaign detail")
        assert shown(ESCAPES[0]) in f.text
        detail = app.screen.panel.table
        top = detail.content_region
        check_columns(f, top.y + 1, top.bottom, top.y, "State", {s.value for s in UpgradeState}
                      | {"-"}, "campaign devices")  # fmt: skip
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x07" not in svg and "␛[31mRED" in svg
        await pilot.press("escape", "escape")
        assert app.is_running


# -- the CLI -------------------------------------------------------------------------


@pytest.fixture
def hostile_sim(
    monkeypatch: pytest.MonkeyPatch, isolated_dirs: dict[str, Path]
) -> Iterator[tuple[Simulator, dict[str, str]]]:
    """A poisoned simulator on loopback and a stored profile ``hostile`` for it."""
    # Wall time: the platforms' rate windows must move on (a fixed clock never frees them).
    simulator = Simulator.build(devices=160, clock=ScaledClock(1.0))
    poison(simulator, monkeypatch)
    with simulator.serve() as server:
        profile = demo_profile(simulator, server.root).model_copy(
            update={"name": "hostile", "label": "Hostile [b]label[/b]\x1b]0;title\x07"}
        )
        ConfigStore(resolve_paths()).save_profile(profile)
        yield simulator, env_for(isolated_dirs)


def _status(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fota_tui", "status", "--profile", "hostile", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _cells(line: str) -> list[str]:
    """One entry per terminal cell ("" for the second half of a wide character)."""
    out: list[str] = []
    for char in line:
        out.append(char)
        out.extend([""] * (cell_len(char) - 1))
    return out


def _check_text_table(lines: list[str], first_header: str, state_label: str,
                      states: set[str]) -> int:  # fmt: skip
    """A `status` table: every row's state word sits under the header's state label."""
    top = next(i for i, line in enumerate(lines) if line.startswith(first_header))
    x = lines[top].index(state_label)
    rows = []
    for line in lines[top + 2 :]:
        if not line.strip():
            break
        rows.append(line)
    for line in rows:
        word = "".join(_cells(line)[x : x + 12]).split(" ")[0]
        assert word in states, f"{state_label} column holds {word!r}: {line!r}"
    return len(rows)


@pytest.mark.loopback
def test_status_table_is_literal_and_keeps_its_columns(
    hostile_sim: tuple[Simulator, dict[str, str]],
) -> None:
    _, env = hostile_sim
    table = _status(env, "--state", "failed")
    assert table.returncode == 0, table.stderr
    assert_no_terminal_controls(table.stdout + table.stderr, "status table")
    assert "[bold red]x[/]" in table.stdout and "␛]52;c;" in table.stdout
    lines = table.stdout.splitlines()
    assert _check_text_table(lines, "DEVICE", "STATE", {"failed"}) > 0


@pytest.mark.loopback
def test_status_campaign_table_keeps_its_columns_with_wide_names(
    hostile_sim: tuple[Simulator, dict[str, str]],
) -> None:
    _, env = hostile_sim
    table = _status(env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    campaign_states = {s.value for s in CampaignState}
    assert _check_text_table(lines, "CAMPAIGN", "STATE", campaign_states) > 10


@pytest.mark.loopback
def test_status_json_carries_no_terminal_controls(
    hostile_sim: tuple[Simulator, dict[str, str]],
) -> None:
    _, env = hostile_sim
    as_json = _status(env, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    names = [d["name"] or "" for d in json.loads(as_json.stdout)["devices"]]
    for payload in PAYLOADS:  # data output keeps the platform's value exactly
        assert any(name.startswith(payload) for name in names), payload
    assert_no_terminal_controls(as_json.stdout, "status json")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.loopback
def test_status_csv_has_no_formulas(hostile_sim: tuple[Simulator, dict[str, str]]) -> None:
    _, env = hostile_sim
    result = _status(env, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    header, body = rows[0], rows[1:]
    assert "name" in header and len(body) > 100
    cells = [cell for row in body for cell in row]
    for formula in FORMULAS:
        assert formula not in cells and "'" + formula in cells, formula
    formulas = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert all(_is_number(c) for c in formulas), formulas[:5]  # negative numbers stay


@pytest.mark.loopback
def test_status_csv_carries_no_terminal_controls(
    hostile_sim: tuple[Simulator, dict[str, str]],
) -> None:
    _, env = hostile_sim
    result = _status(env, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert_no_terminal_controls(result.stdout, "status csv")


# -- the real binary in tmux -----------------------------------------------------------


@pytest.mark.tmux
@pytest.mark.loopback
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_real_console_in_tmux_never_forwards_hostile_sequences(
    hostile_sim: tuple[Simulator, dict[str, str]], tmp_path: Path
) -> None:
    """The real binary, in a real terminal (tmux), against the poisoned simulator."""
    _, env = hostile_sim
    env = {k: v for k, v in env.items() if k.startswith("FOTA_TUI_")} | {"TERM": "xterm-256color"}
    tmux = Tmux()
    session = f"hostile-{uuid.uuid4().hex[:6]}"
    done = tmp_path / "exit-code"
    # The server's config turns on set-clipboard before anything runs: tmux then turns an
    # OSC 52 into a paste buffer (and OSC 0/2 into the pane title) where we can see it.
    tmux.start(session, f"{sys.executable} -m fota_tui --profile hostile; echo $? > {done}", env)
    try:
        screens = [tmux.wait_for(session, lambda s: "devices ·" in s and "Devices" in s)]
        tmux.keys(session, "/")
        tmux.wait_for(session, lambda s: "filter: free text" in s)  # the filter has the keys
        tmux.keys(session, "provider:thingspace-demo", literal=True)
        tmux.keys(session, "Enter")
        # The table has the keys again when its bindings are back in the footer.
        screens.append(tmux.wait_for(session, lambda s: "filter provider:" in s and "Select" in s))
        tmux.keys(session, "Down")  # a device with a short name
        screens.append(
            tmux.press_until(session, "Enter", lambda s: "device id" in s and "IMEI" in s)
        )
        tmux.press_until(session, "Escape", lambda s: "devices ·" in s and "device id" not in s)
        tmux.keys(session, "c")
        screens.append(tmux.wait_for(session, lambda s: "Campaigns " in s and "Fail+exp" in s))
        colored = tmux.capture(session, escapes=True)
        # The devices whose platform text carries markup, whatever order puts first.
        tmux.keys(session, "d")
        tmux.wait_for(session, lambda s: "devices ·" in s and "Campaigns " not in s)
        tmux.press_until(session, "Escape", lambda s: "filter provider:" not in s)
        tmux.keys(session, "/")
        tmux.wait_for(session, lambda s: "filter: free text" in s)
        tmux.keys(session, "bold", literal=True)
        tmux.keys(session, "Enter")
        screens.append(tmux.wait_for(session, lambda s: "filter bold" in s))
        text = "\n".join(screens)
        for fragment in ("[bold", "␛]52;c;", "固件", "[@cli"):
            assert fragment in text, fragment
        assert tmux("list-buffers", check=False).strip() == ""
        assert "title" not in tmux("display-message", "-p", "-t", session, "#{pane_title}")
        assert "\x1b]" not in colored and "\x1b[31m" not in colored
        tmux.keys(session, "q")
        assert wait_for_file(done) == "0"
        # Calibration: the same checks do catch the sequences when a program sends them.
        probe = f"{session}-probe"
        tmux.start(probe, "printf '\\033]52;c;ZXZpbA==\\a\\033]2;title\\a\\033[31mRED\\n';"
                   " sleep 30", env)  # fmt: skip
        tmux.wait_for(probe, lambda s: "RED" in s, timeout=10)
        assert tmux("list-buffers").strip()
        assert "title" in tmux("display-message", "-p", "-t", probe, "#{pane_title}")
        assert "\x1b[31m" in tmux.capture(probe, escapes=True)
    finally:
        tmux.kill()


async def test_markup_in_the_profile_label_is_literal() -> None:
    """The header shows the profile label (user text) literally too."""
    from fota_tui.sim.demo import build_demo
    from fota_tui.tui.app import make_app

    clock = ManualClock(START)
    demo = build_demo(devices=40, clock=clock)
    profile = demo.profile.model_copy(update={"label": "[@click=app.quit]lab[/] \x1b[2J"})
    app = make_app(profile, transport=demo.transport, clock=clock, demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        f = check_frame(app, "header")
        at = f.find("[@click=app.quit]lab[/] ␛[2J")
        assert at is not None
        await pilot.click(offset=at)
        await asyncio.sleep(0)
        await pilot.pause()
        assert app.is_running

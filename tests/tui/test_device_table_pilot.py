"""DeviceTable driven through Pilot: keys, mouse, live updates, messages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual import events
from textual.app import App, ComposeResult
from textual.message import Message

from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.services.fleet import FleetRow, FleetStore
from fota_tui.services.query import parse_query
from fota_tui.tui.widgets.device_table import DeviceTable

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STATES = [UpgradeState.FAILED, UpgradeState.SUCCEEDED, UpgradeState.IN_PROGRESS, None]


def make_rows(count: int, provider: str = "ts-prod", start: int = 0) -> list[FleetRow]:
    return [
        FleetRow(
            provider,
            ProviderKind.THINGSPACE,
            f"dev-{i:04d}",
            model=f"M{i % 3}",
            firmware="1.0",
            firmware_to="2.0",
            state=STATES[i % 4],
            campaign_id=f"c-{i % 5}",
            updated_at=NOW - timedelta(seconds=i),
        )
        for i in range(start, start + count)
    ]


class TableApp(App[None]):
    def __init__(self, store: FleetStore) -> None:
        super().__init__()
        self.store = store
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield DeviceTable(self.store, clock=lambda: NOW, age_refresh=None)

    def on_mount(self) -> None:
        self.query_one(DeviceTable).focus()

    def on_device_table_row_activated(self, message: DeviceTable.RowActivated) -> None:
        self.messages.append(message)

    def on_device_table_selection_changed(self, message: DeviceTable.SelectionChanged) -> None:
        self.messages.append(message)

    def on_device_table_view_changed(self, message: DeviceTable.ViewChanged) -> None:
        self.messages.append(message)

    def on_device_table_cursor_moved(self, message: DeviceTable.CursorMoved) -> None:
        self.messages.append(message)

    def of(self, kind: type[Message]) -> list[Message]:
        return [m for m in self.messages if isinstance(m, kind)]


def store_of(rows: list[FleetRow]) -> FleetStore:
    store = FleetStore()
    store.apply_rows(rows)
    return store


def ids(table: DeviceTable) -> list[str]:
    return [row.device_id for row in table.rows]


async def test_keys_move_the_cursor() -> None:
    app = TableApp(store_of(make_rows(200)))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        assert table.cursor_key == ("ts-prod", "dev-0000")
        await pilot.press("down", "down", "j")
        assert table.cursor_index == 3
        await pilot.press("up", "k")
        assert table.cursor_index == 1
        await pilot.press("pagedown")
        page = table.scrollable_content_region.height - 1
        assert table.cursor_index == 1 + page
        await pilot.press("end")
        assert table.cursor_key == ("ts-prod", "dev-0199")
        assert table.scroll_offset.y == table.max_scroll_y  # cursor kept in view
        await pilot.press("pageup", "home")
        assert table.cursor_index == 0 and table.scroll_offset.y == 0
        moved = app.of(DeviceTable.CursorMoved)
        assert moved and moved[-1].key == ("ts-prod", "dev-0000")  # type: ignore[attr-defined]


async def test_filter_narrows_rows_and_reports_counts() -> None:
    app = TableApp(store_of(make_rows(40)))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        table.set_query(parse_query("state:failed"))
        await pilot.pause()
        assert ids(table) == [f"dev-{i:04d}" for i in range(0, 40, 4)]
        assert table.row_count == 10 and table.total_count == 40
        view = app.of(DeviceTable.ViewChanged)[-1]
        assert (view.shown, view.total) == (10, 40)  # type: ignore[attr-defined]
        table.set_query(parse_query("state:failed dev-001"))
        await pilot.pause()
        assert ids(table) == ["dev-0012", "dev-0016"]
        table.set_query(None)
        await pilot.pause()
        assert table.row_count == 40
        assert table.filter_query.text == ""


async def test_sort_by_column_and_keys() -> None:
    rows = make_rows(12)
    app = TableApp(store_of(rows))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        table.sort_by("updated")
        await pilot.pause()
        assert ids(table) == [f"dev-{i:04d}" for i in reversed(range(12))]  # oldest first
        assert "Age ▲" in table.render_line(0).text
        table.sort_by("state", reverse=True)
        await pilot.pause()
        states = [row.state for row in table.rows]
        assert states[:3] == [UpgradeState.FAILED] * 3  # failed after succeeded in lifecycle
        assert states[-3:] == [None] * 3  # no upgrade: last either way
        assert "State ▼" in table.render_line(0).text
        # keys: s cycles to the next column, S flips the direction
        await pilot.press("s")
        assert table.sort_column == "campaign" and not table.sort_reverse
        await pilot.press("S")
        assert table.sort_column == "campaign" and table.sort_reverse
        campaigns = [row.campaign_id for row in table.rows]
        assert campaigns == sorted(campaigns, reverse=True)


async def test_cursor_stays_on_its_row_when_rows_are_inserted_above() -> None:
    store = store_of(make_rows(100, start=100))
    app = TableApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        table.sort_by("device")
        await pilot.pause()
        assert table.move_cursor_to_key(("ts-prod", "dev-0140"))
        await pilot.pause()
        key = table.cursor_key
        screen_row = table.cursor_index - table.scroll_offset.y  # type: ignore[operator]
        assert key == ("ts-prod", "dev-0140")
        diff = store.apply_rows(make_rows(30, start=0))  # dev-0000.. sort above
        table.apply(diff)
        await pilot.pause()
        assert table.cursor_key == key
        assert table.cursor_index == 70
        assert table.cursor_index - table.scroll_offset.y == screen_row  # same place on screen
        assert ids(table)[:2] == ["dev-0000", "dev-0001"]


async def test_live_changes_keep_rows_in_place_and_selection() -> None:
    store = store_of(make_rows(50))
    app = TableApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(DeviceTable)
        await pilot.press("down", "space", "down", "down", "space")
        selected = {("ts-prod", "dev-0001"), ("ts-prod", "dev-0003")}
        assert table.selected_keys == selected
        before = ids(table)
        changed = [
            r.replace(reason="retrying", state=UpgradeState.QUEUED) for r in store.rows()[:10]
        ]
        table.apply(store.apply_rows(changed))
        await pilot.pause()
        assert ids(table) == before  # unsorted: changed rows keep their place
        assert table.rows[0].reason == "retrying"
        assert table.selected_keys == selected and table.cursor_key == ("ts-prod", "dev-0003")
        # a selected row that disappears leaves the selection (and says so)
        table.apply(store.apply_rows(remove=[("ts-prod", "dev-0001")]))
        await pilot.pause()
        assert table.selected_keys == {("ts-prod", "dev-0003")}
        last = app.of(DeviceTable.SelectionChanged)[-1]
        assert last.selected == {("ts-prod", "dev-0003")}  # type: ignore[attr-defined]


async def test_cursor_moves_to_the_nearest_row_when_its_row_goes() -> None:
    store = store_of(make_rows(30))
    app = TableApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(DeviceTable)
        await pilot.press(*["down"] * 5)
        assert table.cursor_key == ("ts-prod", "dev-0005")
        table.apply(store.apply_rows(remove=[("ts-prod", "dev-0005")]))
        await pilot.pause()
        assert table.cursor_key == ("ts-prod", "dev-0006")
        # filtered out: the nearest row that still matches
        table.set_query(parse_query("state:failed"))  # dev-0000, 0004, 0008 ...
        await pilot.pause()
        assert table.cursor_key == ("ts-prod", "dev-0004")


async def test_selection_survives_filter_and_sort() -> None:
    app = TableApp(store_of(make_rows(20)))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        await pilot.press("space", "down", "space", "down", "down", "down", "space")
        picked = {("ts-prod", "dev-0000"), ("ts-prod", "dev-0001"), ("ts-prod", "dev-0004")}
        assert table.selected_keys == picked
        table.set_query(parse_query("state:succeeded"))
        table.sort_by("device", reverse=True)
        await pilot.pause()
        assert table.selected_keys == picked  # hidden rows stay selected
        assert [r.device_id for r in table.selected_rows()] == ["dev-0004", "dev-0001", "dev-0000"]
        assert table.render_line(1).text.startswith(" ")  # dev-0017 is not selected
        table.set_query(None)
        await pilot.pause()
        line = next(
            table.render_line(y).text
            for y in range(1, 21)
            if "dev-0004" in table.render_line(y).text
        )
        assert line.startswith("●")  # selected mark, readable without colour
        await pilot.press("a")  # select all visible
        assert len(table.selected_keys) == 20
        await pilot.press("A")  # clear
        assert table.selected_keys == frozenset()
        sizes = [len(m.selected) for m in app.of(DeviceTable.SelectionChanged)]  # type: ignore[attr-defined]
        assert sizes == [1, 2, 3, 20, 0]


async def test_enter_posts_row_activated() -> None:
    app = TableApp(store_of(make_rows(10)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("down", "down", "enter")
        activated = app.of(DeviceTable.RowActivated)
        assert [m.key for m in activated] == [("ts-prod", "dev-0002")]  # type: ignore[attr-defined]
        assert activated[0].control is app.query_one(DeviceTable)


async def test_copy_puts_selected_or_cursor_ids_on_the_clipboard() -> None:
    app = TableApp(store_of(make_rows(10)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("down", "y")
        assert app.clipboard == "dev-0001"
        await pilot.press("space", "down", "down", "space", "y")
        assert app.clipboard == "dev-0001\ndev-0003"


async def test_ids_with_control_characters_are_refused_by_the_clipboard_and_said() -> None:
    ids = ["dev-0000", "dev-0001\nrm -rf ~\n", "dev-\x1b]52;c;ZXZpbA==\x07"]
    rows = [FleetRow("ts-prod", ProviderKind.THINGSPACE, i, updated_at=NOW) for i in ids]
    app = TableApp(store_of(rows))
    app.notify = lambda message, **kw: app.messages.append(message)  # type: ignore[method-assign,arg-type]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a", "y")  # every row selected
        assert app.clipboard == "dev-0000"
        said = [m for m in app.messages if isinstance(m, str)]
        assert "2 not copied" in said[-1] and "control characters" in said[-1]
        app.copy_to_clipboard("before")
        await pilot.press("A", "down", "y")  # only the hostile one: nothing copied
        assert app.clipboard == "before"
        assert "Copied 0 device ids; 1 not copied" in app.messages[-1]  # type: ignore[operator]


async def test_mouse_click_moves_cursor_header_click_sorts_double_click_opens() -> None:
    app = TableApp(store_of(make_rows(30)))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        await pilot.click(DeviceTable, offset=(20, 4))  # line 4 = row index 3
        assert table.cursor_key == ("ts-prod", "dev-0003")
        state_x = table.render_line(0).text.index("State")
        await pilot.click(DeviceTable, offset=(state_x, 0))
        assert table.sort_column == "state" and not table.sort_reverse
        await pilot.click(DeviceTable, offset=(state_x, 0))
        assert table.sort_reverse
        top = table.scroll_offset.y
        await pilot.double_click(DeviceTable, offset=(20, 2))
        expected = table.rows[top + 1].key
        assert table.cursor_key == expected
        assert app.of(DeviceTable.RowActivated)[-1].key == expected


async def test_mouse_wheel_scrolls_without_moving_the_cursor() -> None:
    app = TableApp(store_of(make_rows(200)))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        for _ in range(3):
            table.post_message(events.MouseScrollDown(table, 5, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert table.scroll_offset.y > 0
        assert table.cursor_index == 0
        first_visible = table.render_line(1).text
        assert table.rows[table.scroll_offset.y].device_id in first_visible


async def test_export_writes_the_current_view(tmp_path: Path) -> None:
    app = TableApp(store_of(make_rows(20)))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        table.set_query(parse_query("state:in_progress"))
        table.sort_by("device", reverse=True)
        await pilot.pause()
        target = tmp_path / "view.json"
        table.action_export(str(target))
        data = json.loads(target.read_text())
        assert [item["device_id"] for item in data] == ids(table)
        assert len(data) == 5
        table.action_export(str(tmp_path / "nope" / "view.csv"))  # reported, not raised
        await pilot.pause()
        assert not (tmp_path / "nope").exists()


async def test_rows_changed_since_a_snapshot_are_marked() -> None:
    store = store_of(make_rows(10))
    app = TableApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DeviceTable)
        snapshot = store.version
        table.mark_changed_since(snapshot)
        table.apply(store.apply_rows([store.rows()[2].replace(reason="new")]))
        await pilot.pause()
        marks = [table.render_line(y).text[1] for y in range(1, 11)]
        assert marks == [" ", " ", "*", " ", " ", " ", " ", " ", " ", " "]


async def test_narrow_terminal_keeps_exact_lines() -> None:
    app = TableApp(store_of(make_rows(50)))
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(DeviceTable)
        header = table.render_line(0).text
        assert "Model" not in header and "State" in header and "Age" in header
        await pilot.resize_terminal(140, 30)
        await pilot.pause()
        assert "Model" in table.render_line(0).text
        for y in range(table.size.height):
            assert table.render_line(y).cell_length == table.size.width


async def test_live_update_repaints_the_changed_visible_rows() -> None:
    store = store_of([r.replace(reason="old-reason") for r in make_rows(300)])
    app = TableApp(store)
    async with app.run_test(size=(120, 20)) as pilot:
        table = app.query_one(DeviceTable)
        await pilot.pause()
        assert app.export_screenshot().count("old-reason") >= 10
        visible = store.get(("ts-prod", "dev-0002"))
        hidden = store.get(("ts-prod", "dev-0250"))
        assert visible is not None and hidden is not None
        diff = store.apply_rows([visible.replace(reason="fresh-one"), hidden.replace(reason="x")])
        table.apply(diff)
        await pilot.pause()
        screen = app.export_screenshot()
        assert "fresh-one" in screen  # the changed row on screen was repainted
        assert table.render_line(3).text.count("fresh-one") == 1


async def test_cursor_stays_at_the_top_until_the_user_moves_it() -> None:
    store = store_of(make_rows(20, provider="zz-last"))
    app = TableApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(DeviceTable)
        table.sort_by("provider")
        table.apply(store.apply_rows(make_rows(30, provider="aa-first")))  # loads above
        await pilot.pause()
        assert table.cursor_index == 0 and table.scroll_offset.y == 0
        assert table.cursor_key == ("aa-first", "dev-0000")  # the user sees the top
        await pilot.press("down")
        table.apply(store.apply_rows(make_rows(5, provider="a-before")))
        await pilot.pause()
        assert table.cursor_key == ("aa-first", "dev-0001")  # now it follows its row
        assert table.cursor_index == 6

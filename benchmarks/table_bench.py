"""Device table benchmark: fota-tui's virtual DeviceTable against Textual's DataTable.

    uv run python benchmarks/table_bench.py [--rows 100000] [--datatable-rows N] [--verbose]

Builds synthetic fleet rows, mounts each table in a headless Textual app (``run_test``)
and times each step from the call until the table's next repaint (the first return
of its ``render_lines`` after the call), in wall-clock and in process CPU time:

- load to first frame: mounting the table on a store holding every row,
- one filter keystroke: ``parse_query`` + ``set_query`` (typing "fail", structured
  queries, clearing),
- sort: ``sort_by`` a new column; and flipping the direction of the current one,
- 1,000 changed rows: ``FleetStore.apply_rows`` + ``DeviceTable.apply(diff)`` while
  sorted by state (so changed rows move),

plus the process RSS after the load. Between steps the benchmark waits for the
table's idle work (index building) to finish, as a user's think time would.
Textual's DataTable is measured on the same rows (load to frame and sort), by default
at the same row count; nothing is extrapolated. Targets are judged on medians.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import DataTable

from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.services.fleet import FleetRow, FleetStore
from fota_tui.services.query import parse_query
from fota_tui.tui.widgets.device_table import DeviceTable
from fota_tui.tui.widgets.table_render import COLUMNS, cell_text

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SIZE = (120, 40)
TARGETS_MS = {"load": 100.0, "filter": 50.0, "sort": 150.0, "update": 50.0}
TARGET_RSS_MB = 300.0

PROVIDERS = (
    ("ts-prod", ProviderKind.THINGSPACE),
    ("oc-lab", ProviderKind.OCEANCONNECT),
    ("onenet-cn", ProviderKind.ONENET),
    ("aovx-eu", ProviderKind.AOVX),
)
REASONS = (
    None,
    None,
    None,
    "download timeout",
    "battery too low",
    "checksum mismatch",
    "device offline for 72 h",
    "rejected by device: version not newer",
)
STATES = (*tuple(UpgradeState), None)


def synthetic_rows(count: int, seed: int = 5) -> list[FleetRow]:
    """Deterministic fleet rows spread over four providers."""
    rnd = random.Random(seed)
    rows = []
    for i in range(count):
        provider, kind = PROVIDERS[i % len(PROVIDERS)]
        state = rnd.choice(STATES)
        imei = f"35{rnd.randrange(10**13):013d}"
        rows.append(
            FleetRow(
                provider=provider,
                kind=kind,
                device_id=imei
                if kind in (ProviderKind.THINGSPACE, ProviderKind.ONENET)
                else f"dev-{i:07d}",
                imei=imei,
                name=f"meter {i}",
                model=f"MX-{rnd.randrange(20)}",
                firmware=f"1.{rnd.randrange(6)}.{rnd.randrange(10)}",
                firmware_to=None if state is None else f"2.{rnd.randrange(3)}.0",
                state=state,
                campaign_id=None if state is None else f"camp-{rnd.randrange(60)}",
                reason=rnd.choice(REASONS) if state is UpgradeState.FAILED else None,
                updated_at=NOW - timedelta(seconds=rnd.randrange(3 * 86400)),
                online=rnd.random() < 0.8,
            )
        )
    return rows


def rss_mb() -> float:
    """Current resident set size (VmRSS) in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class FrameClock:
    """Remembers when a widget first finished painting lines after being armed."""

    def __init__(self) -> None:
        self.frames = 0
        self.first: tuple[float, float] | None = None  # (perf_counter, process_time)

    def arm(self) -> None:
        self.first = None

    def mark(self) -> None:
        self.frames += 1
        if self.first is None:
            self.first = (time.perf_counter(), time.process_time())


class TimedDeviceTable(DeviceTable):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.frame_clock = FrameClock()

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        self.frame_clock.mark()
        return lines


class TimedDataTable(DataTable[str]):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.frame_clock = FrameClock()

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        self.frame_clock.mark()
        return lines


class BenchApp(App[None]):
    pass


@dataclass
class Series:
    """Wall-clock and process-CPU milliseconds of repeated measurements."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def describe(self) -> str:
        if not self.wall:
            return "(not measured)"
        if len(self.wall) == 1:
            return f"{self.wall[0]:7.1f} ms (cpu {self.cpu[0]:.1f})"
        return (
            f"{statistics.median(self.wall):7.1f} ms median, max {max(self.wall):6.1f}"
            f"  (cpu median {statistics.median(self.cpu):.1f}, max {max(self.cpu):.1f}; n={len(self.wall)})"
        )


async def timed(
    series: Series, clock: FrameClock, action: Callable[[], object], pilot: Pilot[None]
) -> None:
    """Time ``action`` until the table's next frame (wall clock and process CPU).

    When the change needs no repaint (an update that touches no visible row), the
    time is until the call returned.
    """
    before = clock.frames
    clock.arm()
    cpu_start = time.process_time()
    start = time.perf_counter()
    result = action()
    if asyncio.iscoroutine(result):
        await result
    returned, cpu_returned = time.perf_counter(), time.process_time()
    for _ in range(3):  # let any repaint happen; the timestamps come from the frame itself
        await pilot.pause()
        if clock.frames != before:
            break
        await asyncio.sleep(0.05)
    if clock.first is None:  # nothing to repaint
        series.wall.append((returned - start) * 1000)
        series.cpu.append((cpu_returned - cpu_start) * 1000)
    else:
        series.wall.append((clock.first[0] - start) * 1000)
        series.cpu.append((clock.first[1] - cpu_start) * 1000)


async def settle(pilot: Pilot[None], table: DeviceTable) -> None:
    """Let the table finish its idle work (index building), as the think time
    between keystrokes would."""
    await pilot.pause()
    while table.indexing:
        await pilot.pause()


def keystroke(table: DeviceTable, text: str) -> None:
    """What the filter input does on each keystroke: parse, then filter."""
    table.set_query(parse_query(text))


FILTERS = ("f", "fa", "fai", "fail", "state:failed", "-state:succeeded fw:2", "dev-00", "")
SORTS = (
    ("device", False),
    ("state", False),
    ("updated", True),
    ("reason", False),
    ("model", True),
    ("provider", False),
)


async def bench_device_table(rows: list[FleetRow], repeats: int) -> dict[str, Series]:
    store = FleetStore()
    store.apply_rows(rows)
    out = {name: Series() for name in ("load", "filter", "sort", "flip", "update")}
    app = BenchApp()
    async with app.run_test(size=SIZE) as pilot:
        table: TimedDeviceTable | None = None
        for _ in range(repeats):
            if table is not None:
                await table.remove()
            table = TimedDeviceTable(store, clock=lambda: NOW, age_refresh=None)
            await timed(out["load"], table.frame_clock, partial(app.mount, table), pilot)
            await settle(pilot, table)
        assert table is not None
        table.focus()
        table.move_cursor(5)  # a user has moved: from now on the cursor follows its row
        await settle(pilot, table)
        out["rss"] = Series([rss_mb()], [0.0])
        for text in FILTERS:  # typing "fail", structured queries, then clearing
            await timed(out["filter"], table.frame_clock, partial(keystroke, table, text), pilot)
            await settle(pilot, table)
        for column, reverse in SORTS:
            await timed(
                out["sort"], table.frame_clock, partial(table.sort_by, column, reverse), pilot
            )
            await settle(pilot, table)
            await timed(
                out["flip"], table.frame_clock, partial(table.sort_by, column, not reverse), pilot
            )
            await settle(pilot, table)
        # 1,000 changed rows while sorted by state, so changed rows move
        table.sort_by("state")
        await settle(pilot, table)
        rnd = random.Random(9)
        for round_ in range(repeats * 3):
            changed = [
                row.replace(
                    state=rnd.choice(tuple(UpgradeState)),
                    reason=f"round {round_}",
                    updated_at=NOW - timedelta(seconds=round_),
                )
                for row in rnd.sample(store.rows(), 1000)
            ]

            def update(changed: list[FleetRow] = changed) -> None:
                table.apply(store.apply_rows(changed))

            await timed(out["update"], table.frame_clock, update, pilot)
            await settle(pilot, table)
    return out


async def bench_data_table(rows: list[FleetRow]) -> dict[str, Series]:
    cells = [tuple(cell_text(row, spec.name, NOW) for spec in COLUMNS) for row in rows]
    out = {"load": Series(), "sort": Series()}
    app = BenchApp()
    async with app.run_test(size=SIZE) as pilot:
        table = TimedDataTable(cursor_type="row")

        async def load() -> None:
            await app.mount(table)
            for spec in COLUMNS:
                table.add_column(spec.label, key=spec.name)
            table.add_rows(cells)

        await timed(out["load"], table.frame_clock, load, pilot)
        await pilot.pause()
        for column, reverse in SORTS[:3]:
            await timed(
                out["sort"], table.frame_clock, partial(table.sort, column, reverse=reverse), pilot
            )
            await pilot.pause()
    return out


def calibrate() -> float:
    """Milliseconds this machine takes, right now, to sort 100k ints with a key lambda
    (best of 5): a yardstick to compare runs and machines."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        sorted(range(100_000), key=lambda x: -x)
        best = min(best, time.perf_counter() - start)
    return best * 1000


LABELS = {
    "load": "load to frame",
    "filter": "filter keystroke",
    "sort": "sort (new column)",
    "flip": "sort (flip direction)",
    "update": "1,000 changed rows",
}


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def report_ours(ours: dict[str, Series], verbose: bool) -> list[str]:
    failed = []
    for name in ("load", "filter", "sort", "flip", "update"):
        target = TARGETS_MS["sort" if name == "flip" else name]
        ok = statistics.median(ours[name].wall) <= target
        over = "" if max(ours[name].wall) <= target else " (max over target)"
        if not ok:
            failed.append(name)
        print(f"  {LABELS[name]:22} {ours[name].describe()}")
        print(f"  {'':22} target <= {target:.0f} ms: {'ok' if ok else 'MISSED'}{over}")
        if verbose:
            print("      wall: " + ", ".join(f"{v:.1f}" for v in ours[name].wall))
            print("      cpu:  " + ", ".join(f"{v:.1f}" for v in ours[name].cpu))
    rss = ours["rss"].wall[0]
    ok = rss <= TARGET_RSS_MB
    print(
        f"  {'RSS after load':22} {rss:7.1f} MB, target <= {TARGET_RSS_MB:.0f} MB: {'ok' if ok else 'MISSED'}"
    )
    return failed if ok else [*failed, "rss"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="DeviceTable rows")
    parser.add_argument(
        "--datatable-rows",
        type=int,
        default=None,
        help="rows for Textual's DataTable (default: as many as --rows; 0 skips it); "
        "100,000 rows take it about 40 s to load on a 2-core machine",
    )
    parser.add_argument("--repeats", type=int, default=3, help="load runs (updates: 3x this)")
    parser.add_argument("--verbose", action="store_true", help="print every measurement")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after building the rows (what an app can do after a big load)",
    )
    args = parser.parse_args()

    import textual

    print(f"Python {sys.version.split()[0]}, Textual {textual.__version__}, {SIZE[0]}x{SIZE[1]}")
    print(f"calibration {calibrate():.1f} ms, load average {load_average()}")
    start = time.perf_counter()
    rows = synthetic_rows(args.rows)
    print(f"built {len(rows):,} synthetic rows in {time.perf_counter() - start:.2f} s")
    gc.collect()
    if args.gc_freeze:
        gc.freeze()
        print("gc.freeze() after building the rows")

    ours = asyncio.run(bench_device_table(rows, args.repeats))
    print(f"\nDeviceTable, {len(rows):,} rows (wall clock to the next frame; cpu = process time)")
    failed = report_ours(ours, args.verbose)

    count = len(rows) if args.datatable_rows is None else min(args.datatable_rows, len(rows))
    if count:
        same = ours
        if count != len(rows):
            same = asyncio.run(bench_device_table(rows[:count], args.repeats))
        theirs = asyncio.run(bench_data_table(rows[:count]))
        print(
            f"\nTextual DataTable vs DeviceTable, both at {count:,} rows (measured, not extrapolated)"
        )
        for name in ("load", "sort"):
            ratio = statistics.median(theirs[name].wall) / statistics.median(same[name].wall)
            print(f"  {name:5} DataTable   {theirs[name].describe()}")
            print(f"  {name:5} DeviceTable {same[name].describe()}")
            print(f"  {name:5} DataTable / DeviceTable = {ratio:.0f}x (medians)")
    print(f"\npeak RSS of this process: {peak_rss_mb():.1f} MB")
    print("all targets met (medians)" if not failed else f"MISSED: {', '.join(failed)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

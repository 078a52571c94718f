"""Low-bandwidth benchmark: bytes an idle ``fota-tui --demo`` writes to its terminal.

    uv run python benchmarks/bandwidth.py [--seconds 60] [--settle 12] [--mode both]

The real binary runs in a private tmux server at 120x40 (``TERM=xterm-256color``), with
empty config/cache dirs, on the demo fleet (2,000 simulated devices, refresh every 5 s).
``tmux pipe-pane -o`` copies everything the app writes to its pty into a file. After
the first frame and the first refresh have settled (``--settle`` seconds after the
dashboard shows data), the file size is noted, the console is left alone for
``--seconds``, and the bytes written meanwhile give the average rate. It runs once
normally and once with ``--low-bandwidth``. Target: <= 2 KB/s (2,048 bytes/s).

``--breakdown`` also splits the bytes by screen area (header, provider panes, device
table, footer, by the row of each cursor move the app sends) and prints the kilobytes of
every second, so a rate above target points at what redraws. "Updates" are bursts of
writes (writes less than 50 ms apart count as one).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 2048.0  # bytes per second
SIZE = (120, 40)
# Cursor moves (CUP) tell where the bytes go; Textual sends one per line it repaints.
_CUP = re.compile(rb"\x1b\[(\d+);(\d+)H")


@dataclass
class Run:
    mode: str
    seconds: float
    data: bytes
    screen: str
    areas: dict[str, range] = field(default_factory=dict)
    writes: list[tuple[float, int]] = field(default_factory=list)  # (seconds in, bytes)
    began: float = 0.0  # wall time the measured window started

    @property
    def rate(self) -> float:
        return len(self.data) / self.seconds

    @property
    def bursts(self) -> int:
        """Terminal updates: writes closer than 50 ms together count as one."""
        count, last = 0, -1.0
        for at, _ in self.writes:
            if at - last > 0.05:
                count += 1
            last = at
        return count

    def per_second(self) -> list[int]:
        counts = [0] * int(self.seconds + 1)
        for at, size in self.writes:
            counts[min(int(at), len(counts) - 1)] += size
        return counts

    def by_area(self) -> tuple[Counter[str], Counter[str]]:
        """Bytes and line repaints (cursor moves) per screen area; bytes go to the row
        of the last cursor move."""
        counts: Counter[str] = Counter()
        repaints: Counter[str] = Counter()
        last_row, last_end = 0, 0
        for match in _CUP.finditer(self.data):
            counts[self._area(last_row)] += match.start() - last_end
            last_row, last_end = int(match.group(1)), match.start()
            repaints[self._area(last_row)] += 1
        counts[self._area(last_row)] += len(self.data) - last_end
        return counts, repaints

    def _area(self, row: int) -> str:
        for name, rows in self.areas.items():
            if row in rows:
                return name
        return "other (no cursor move yet)" if row == 0 else f"row {row}"


class Tmux:
    def __init__(self) -> None:
        self.socket = f"fota-bw-{uuid.uuid4().hex[:8]}"

    def __call__(self, *argv: str, check: bool = True) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *argv],
            check=check,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


def _areas(screen: str) -> dict[str, range]:
    """Screen rows (1-based, as in CUP) of each area, read from the settled dashboard."""
    lines = screen.splitlines()
    table_top = next(i for i, line in enumerate(lines) if "─ Devices" in line) + 1
    height = SIZE[1]
    return {
        "header (row 1)": range(1, 2),
        "provider panes": range(2, table_top),
        "device table": range(table_top, height),
        "footer": range(height, height + 1),
    }


def measure(mode: str, seconds: float, settle: float, workdir: Path) -> Run:
    """One run of the real console; ``mode`` is "normal" or "low-bandwidth"."""
    tmux = Tmux()
    session = f"bw-{uuid.uuid4().hex[:6]}"
    dirs = {name: workdir / mode / name for name in ("config", "cache", "data", "log")}
    env = {f"FOTA_TUI_{name.upper()}_DIR": str(path) for name, path in dirs.items()}
    env["TERM"] = "xterm-256color"
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    flags = "--demo --low-bandwidth" if mode == "low-bandwidth" else "--demo"
    capture = workdir / f"{mode}.out"
    times = workdir / f"{mode}.times"
    tee = f"{shlex.quote(sys.executable)} {shlex.quote(__file__)} --tee {shlex.quote(str(capture))}"
    # The sleep lets pipe-pane attach before the app writes its first byte.
    command = (
        f"cd {shlex.quote(str(ROOT))} && sleep 0.5 && env -u COLUMNS -u LINES {exports}"
        f" {shlex.quote(sys.executable)} -m fota_tui {flags}"
    )
    try:
        tmux("new-session", "-d", "-s", session, "-x", str(SIZE[0]), "-y", str(SIZE[1]), command)
        tmux("pipe-pane", "-o", "-t", session, tee)
        deadline = time.monotonic() + 60
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-t", session)
            if "devices ·" in screen and "─ Devices" in screen:
                break
            time.sleep(0.2)
        else:
            raise SystemExit(f"{mode}: the console did not show the dashboard:\n{screen}")
        time.sleep(settle)
        screen = tmux("capture-pane", "-p", "-t", session)
        start, began = capture.stat().st_size, time.time()
        time.sleep(seconds)
        end = capture.stat().st_size
        tmux("send-keys", "-t", session, "q")
        time.sleep(1.0)
    finally:
        tmux.kill()
    data = capture.read_bytes()[start:end]
    writes = []
    for line in times.read_text().splitlines():
        at, offset, size = line.split()
        if start <= int(offset) < end:
            writes.append((float(at) - began, int(size)))
    return Run(mode, seconds, data, screen, _areas(screen), writes, began)


def tee(path: Path) -> None:
    """pipe-pane's reader: append stdin to ``path``, and "time offset size" per write to
    ``path.times`` (how the bytes spread over time)."""
    times = path.with_suffix(".times")
    offset = 0
    with path.open("ab", buffering=0) as out, times.open("a", buffering=1) as log:
        while chunk := os.read(0, 65536):
            out.write(chunk)
            log.write(f"{time.time():.4f} {offset} {len(chunk)}\n")
            offset += len(chunk)


def report(run: Run, breakdown: bool) -> None:
    verdict = "met" if run.rate <= TARGET else "MISSED"
    print(
        f"{run.mode:>13}: {len(run.data):,} bytes in {run.seconds:.0f} s ="
        f" {run.rate:,.0f} bytes/s ({run.rate / 1024:.2f} KB/s), {run.bursts} updates"
        f" ({run.bursts / run.seconds:.1f}/s); target <= 2 KB/s {verdict}"
    )
    if breakdown:
        counts, repaints = run.by_area()
        for area, count in counts.most_common():
            if not count:
                continue
            lines = repaints[area]
            print(
                f"{'':>15}{area:<16} {count / run.seconds:>8,.0f} bytes/s,"
                f" {lines / run.seconds:>6.1f} cursor moves/s,"
                f" {count / max(lines, 1):>5,.0f} bytes per move"
            )
        seconds = " ".join(f"{n / 1024:.1f}" for n in run.per_second())
        print(f"{'':>15}KB in each second: {seconds}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="idle time measured")
    parser.add_argument(
        "--settle", type=float, default=12.0, help="wait after the dashboard shows data"
    )
    parser.add_argument("--mode", choices=("both", "normal", "low-bandwidth"), default="both")
    parser.add_argument("--breakdown", action="store_true", help="bytes by screen area")
    parser.add_argument("--tee", type=Path, help=argparse.SUPPRESS)  # pipe-pane's reader
    args = parser.parse_args()
    if args.tee:
        tee(args.tee)
        return 0
    if subprocess.run(["tmux", "-V"], capture_output=True).returncode != 0:
        print("tmux is required", file=sys.stderr)
        return 2
    modes = ("normal", "low-bandwidth") if args.mode == "both" else (args.mode,)
    print(
        f"fota-tui --demo in tmux {SIZE[0]}x{SIZE[1]}, idle {args.seconds:.0f} s after"
        f" {args.settle:.0f} s settling (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
    )
    with tempfile.TemporaryDirectory(prefix="fota-bw-") as tmp:
        runs = [measure(mode, args.seconds, args.settle, Path(tmp)) for mode in modes]
    for run in runs:
        report(run, args.breakdown)
    return 0 if all(run.rate <= TARGET for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

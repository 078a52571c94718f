"""Startup benchmark: process start to first frame of ``fota-tui --demo``.

    uv run python benchmarks/startup_bench.py [--runs 9]

Each run starts a fresh ``python -m fota_tui --demo`` on a pseudo-terminal (so Textual
drives a real terminal, not its headless driver) with empty config/cache dirs and
``FOTA_TUI_EXIT_AFTER_FIRST_FRAME=1``: the app exits as soon as its first screen has
been painted and prints ``time.monotonic()`` at that moment. The time from just before
the process is spawned to that mark is the startup time. A minimal Textual app (one
``Static``) is measured the same way, interleaved with the fota-tui runs, and the
report gives both medians and their ratio.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "FOTA_TUI_FIRST_FRAME monotonic="
TARGET = 0.6  # seconds, median

MINIMAL_APP = f'''
import os, sys, time
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("hello")

    def on_mount(self):
        self.call_after_refresh(self.first_frame)

    def first_frame(self):
        self.mark = time.monotonic()
        self.exit()

app = Minimal()
app.run()
print("{MARK}%.6f" % app.mark, file=sys.stderr)
'''


def spawn(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int, float]:
    """The child on a new pseudo-terminal: (child, the terminal's master end, spawn time)."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    started = time.monotonic()
    child = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, close_fds=True
    )
    os.close(slave)
    return child, master, started


def run_once(argv: list[str], env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from spawn to the first-frame mark the child prints."""
    child, master, started = spawn(argv, env)
    output = b""
    deadline = started + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                output += chunk
                if not chunk and child.poll() is not None:
                    break
            elif child.poll() is not None:
                break
        child.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    text = output.decode("utf-8", "replace")
    for line in text.splitlines():
        if MARK in line:
            return float(line.split(MARK, 1)[1].strip()) - started
    raise RuntimeError(f"{argv[1:]} printed no first-frame mark; output tail: {text[-400:]!r}")


PANES = (b"thingspace-demo", b"oceanconnect-demo", b"onenet-demo", b"aovx-demo")


def run_until_visible(
    argv: list[str], env: dict[str, str], needles: tuple[bytes, ...], timeout: float = 30.0
) -> float:
    """Seconds from spawn until every one of ``needles`` has been written to the terminal
    (what a user sees, not an internal mark); the child is then stopped."""
    child, master, started = spawn(argv, env)
    output = b""
    try:
        while time.monotonic() < started + timeout:
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    output += os.read(master, 65536)
                except OSError:
                    break
                if all(n in output for n in needles):
                    return time.monotonic() - started
        raise RuntimeError(f"{argv[1:]}: {needles} not seen; tail: {output[-300:]!r}")
    finally:
        child.kill()
        child.wait()
        os.close(master)


def child_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FOTA_TUI_CONFIG_DIR": str(tmp / "config"),
            "FOTA_TUI_CACHE_DIR": str(tmp / "cache"),
            "FOTA_TUI_DATA_DIR": str(tmp / "data"),
            "FOTA_TUI_LOG_DIR": str(tmp / "log"),
            "FOTA_TUI_EXIT_AFTER_FIRST_FRAME": "1",
            "TERM": "xterm-256color",
            "COLUMNS": "120",
            "LINES": "40",
        }
    )
    env.pop("TEXTUAL", None)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each app (default 9)")
    parser.add_argument(
        "--visible",
        action="store_true",
        help="time until the provider panes' names (the minimal app's text) are written to"
        " the terminal, instead of to the first-frame mark",
    )
    args = parser.parse_args()
    if args.visible:
        return visible(args.runs)
    fota, minimal = interleaved(args.runs, lambda argv, home, _: run_once(argv, child_env(home)))
    fota_median = statistics.median(fota)
    minimal_median = statistics.median(minimal)
    print(f"runs: {args.runs} each, interleaved, fresh config/cache dirs, on a pty")
    print(
        f"fota-tui --demo   median {fota_median:.3f} s  (min {min(fota):.3f}, max {max(fota):.3f})"
    )
    print(
        f"minimal Textual   median {minimal_median:.3f} s  "
        f"(min {min(minimal):.3f}, max {max(minimal):.3f})"
    )
    print(f"ratio             {fota_median / minimal_median:.2f}x")
    verdict = "meets" if fota_median <= TARGET else "MISSES"
    print(f"target            median <= {TARGET:.1f} s: {verdict}")
    return 0


Measure = Callable[[list[str], Path, bool], float]  # (argv, home, is fota-tui) -> seconds


def interleaved(runs: int, measure: Measure) -> tuple[list[float], list[float]]:
    """(fota-tui's times, the minimal app's): one unmeasured run of each first (it warms
    the OS file cache and the bytecode), then the two alternately."""
    fota: list[float] = []
    minimal: list[float] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "minimal_app.py"
        script.write_text(MINIMAL_APP, encoding="utf-8")
        apps = {
            False: [sys.executable, str(script)],
            True: [sys.executable, "-m", "fota_tui", "--demo"],
        }
        for is_fota in (False, True):
            measure(apps[is_fota], tmp / f"warm-{is_fota}", is_fota)
        for i in range(runs):
            minimal.append(measure(apps[False], tmp / f"m{i}", False))
            fota.append(measure(apps[True], tmp / f"f{i}", True))
    return fota, minimal


def visible(runs: int) -> int:
    def measure(argv: list[str], home: Path, is_fota: bool) -> float:
        env = child_env(home)
        env.pop("FOTA_TUI_EXIT_AFTER_FIRST_FRAME")
        return run_until_visible(argv, env, PANES if is_fota else (b"hello",))

    fota, minimal = interleaved(runs, measure)
    fota_median, minimal_median = statistics.median(fota), statistics.median(minimal)
    print(f"runs: {runs} each, interleaved, on a pty, until the text is on the terminal")
    print(f"fota-tui --demo, the four panes' names   median {fota_median:.3f} s")
    print(f"minimal Textual, its text               median {minimal_median:.3f} s")
    print(f"ratio {fota_median / minimal_median:.2f}x (issue 14's target: 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

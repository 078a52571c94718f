"""Idle CPU: what a live console costs while nobody touches it and nothing changes.

    uv run python benchmarks/idle_cpu.py [--seconds 120] [--devices 2000] [--intervals 30 5]

``fota-tui sim`` serves the fleet from its own process on 127.0.0.1; a profile for it
(``--profile-out``) gets ``refresh_interval`` set to each interval in turn. The real
console runs in a private tmux server at 160x50 on that profile. Once every pane shows
data and ``--settle`` seconds have passed, its CPU time (utime + stime from
``/proc/PID/stat``) is sampled every second for ``--seconds``. A minimal Textual app
(``App().run()``) is measured the same way in the same run as the reference.

Reported per run: the average CPU over the whole window (refreshes included), the mean
over the seconds without refresh work (under 5 % each: what the console costs between
refreshes), the median second and the busiest. ``/proc`` counts in ticks of 10 ms, so one
second reads 0 % or at least 1 %. Target: between refreshes under 1 % of a core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from bandwidth import Tmux

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "fota-tui"
SIZE = (160, 50)
TICKS = os.sysconf("SC_CLK_TCK")
QUIET = 5.0  # % of a core: a second above it had refresh work in it


@dataclass
class Sample:
    name: str
    per_second: list[float]  # % of a core in each second

    @property
    def average(self) -> float:
        return statistics.fmean(self.per_second)

    @property
    def median(self) -> float:
        return statistics.median(self.per_second)

    @property
    def quiet(self) -> float:
        """Mean over the seconds without refresh work (under QUIET % each): the cost of
        the clock, the ages and the event loop between refreshes."""
        calm = [p for p in self.per_second if p < QUIET]
        return statistics.fmean(calm) if calm else float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def sample(pid: int, seconds: float) -> list[float]:
    out = []
    last, last_t = cpu_seconds(pid), time.monotonic()
    end = last_t + seconds
    while time.monotonic() < end:
        time.sleep(1.0)
        now, now_t = cpu_seconds(pid), time.monotonic()
        out.append(100.0 * (now - last) / (now_t - last_t))
        last, last_t = now, now_t
    return out


def pane_pid(tmux: Tmux) -> int:
    return int(tmux("display", "-p", "-t", "bench", "#{pane_pid}").strip())


def wait_for(tmux: Tmux, done: object, timeout: float) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        screen = tmux("capture-pane", "-p", "-t", "bench")
        if done(screen):  # type: ignore[operator]
            return screen
        time.sleep(0.5)
    raise SystemExit(f"timed out; the screen:\n{screen}")


def run_console(
    env: dict[str, str], profile: str, interval: int, args: argparse.Namespace
) -> Sample:
    tmux = Tmux()
    try:
        tmux("new-session", "-d", "-s", "bench", "-x", str(SIZE[0]), "-y", str(SIZE[1]),
             *(x for k, v in env.items() for x in ("-e", f"{k}={v}")),
             f"{BIN} --profile {profile}")  # fmt: skip
        wait_for(
            tmux,
            lambda s: s.count("devices ·") >= 4 and "waiting" not in s,
            args.warmup,
        )
        time.sleep(args.settle)
        return Sample(f"console, refresh {interval} s", sample(pane_pid(tmux), args.seconds))
    finally:
        tmux.kill()


def run_minimal(env: dict[str, str], args: argparse.Namespace) -> Sample:
    tmux = Tmux()
    code = "from textual.app import App; App().run()"
    try:
        tmux("new-session", "-d", "-s", "bench", "-x", str(SIZE[0]), "-y", str(SIZE[1]),
             *(x for k, v in env.items() for x in ("-e", f"{k}={v}")),
             f"{sys.executable} -c '{code}'")  # fmt: skip
        time.sleep(args.settle)
        return Sample("minimal Textual app", sample(pane_pid(tmux), args.seconds))
    finally:
        tmux.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="idle time measured")
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--intervals", type=int, nargs="+", default=[30, 5])
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=90.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fota-idle-") as tmp:
        base = Path(tmp)
        env = {
            f"FOTA_TUI_{d.upper()}_DIR": str(base / d) for d in ("config", "cache", "data", "log")
        }
        env.update({"TERM": "xterm-256color", "COLORTERM": "truecolor"})
        full_env = {**os.environ, **env}
        profile_file = base / "sim-profile.toml"
        sim = subprocess.Popen(
            [str(BIN), "sim", "--port", "0", "--devices", str(args.devices),
             "--profile-out", str(profile_file)],
            env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            end = time.monotonic() + 60
            while not profile_file.exists() and time.monotonic() < end:
                time.sleep(0.2)
            samples = [run_minimal(env, args)]
            for interval in args.intervals:
                profile = tomllib.loads(profile_file.read_text())
                profile["refresh_interval"] = interval
                edited = base / f"idle-{interval}.toml"
                edited.write_text(tomli_w.dumps(profile))
                name = f"idle{interval}"
                subprocess.run([str(BIN), "profiles", "add", name, "--from", str(edited)],
                               env=full_env, check=True, capture_output=True)  # fmt: skip
                samples.append(run_console(env, name, interval, args))
        finally:
            sim.terminate()
            sim.wait(10)
    print(f"\nIdle CPU, {args.seconds:.0f} s per run, {args.devices} devices, {SIZE[0]}x{SIZE[1]}")
    print(f"{'run':32} {'average':>9} {'between refreshes':>18} {'median second':>14} {'max':>6}")
    for s in samples:
        print(
            f"{s.name:32} {s.average:8.2f}% {s.quiet:17.2f}% {s.median:13.2f}%"
            f" {max(s.per_second):5.0f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

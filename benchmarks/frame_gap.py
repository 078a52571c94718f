"""Frame gaps while a large refresh is applied: how long the console's event loop is busy
at a stretch (no frame can be painted meanwhile).

    uv run python benchmarks/frame_gap.py [--devices 10000] [--refreshes 3]

``fota-tui sim --devices N`` serves the fleet from its own process on 127.0.0.1 (its CPU is
not the console's). The console (``make_app`` on a profile for it, the real widgets, 160x50,
headless) does its first, full refresh of every provider, then ``--refreshes`` more. A
probe task sleeps 2 ms at a time on the same loop and records how late each wake-up is:
the largest lateness is the longest stretch in which no frame could be drawn. Reported per
refresh: the largest gap, the 99th percentile, and how many gaps exceeded 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEP = 0.002


async def probe(gaps: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(STEP)
        gaps.append(time.perf_counter() - started - STEP)


def start_sim(devices: int, profile_file: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "fota_tui", "sim", "--port", "0", "--devices", str(devices),
         "--profile-out", str(profile_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if "Ctrl+C stops it." in line:
            return process
    raise SystemExit(f"the simulator did not start: {process.wait()}")


async def main(devices: int, refreshes: int) -> None:
    from fota_tui.config.schema import Profile
    from fota_tui.tui.app import make_app

    with tempfile.TemporaryDirectory() as tmp:
        profile_file = Path(tmp) / "sim.toml"
        sim = start_sim(devices, profile_file)
        try:
            data = tomllib.loads(profile_file.read_text())
            profile = Profile.model_validate({"name": "bench", **data})
            app = make_app(profile, autostart=False)
            async with app.run_test(size=(160, 50)) as pilot:
                for _ in range(200):
                    if app.session.started:
                        break
                    await pilot.pause()
                print(f"{devices} devices over loopback, the console headless at 160x50")
                print("refresh | seconds | largest gap | 99th pct | gaps > 50 ms")
                for n in range(refreshes + 1):
                    gaps: list[float] = []
                    stop = asyncio.Event()
                    task = asyncio.create_task(probe(gaps, stop))
                    started = time.perf_counter()
                    await app.session.refresh()
                    for _ in range(20):  # the UI paints what the refresh changed
                        await pilot.pause()
                    elapsed = time.perf_counter() - started
                    stop.set()
                    await task
                    gaps.sort()
                    p99 = gaps[int(len(gaps) * 0.99)] if gaps else 0.0
                    over = sum(1 for g in gaps if g > 0.05)
                    kind = "full" if n == 0 else "incremental"
                    print(
                        f"{n:>2} {kind:<11} | {elapsed:6.2f} | {max(gaps) * 1000:7.1f} ms"
                        f" | {p99 * 1000:6.1f} ms | {over}"
                    )
                rows = len(app.session.store)
                print(
                    f"rows in the table: {rows}; median probe gap {statistics.median(gaps) * 1000:.2f} ms"
                )
                await app.session.stop(save=False)
                await app.workspace.aclose()
        finally:
            sim.terminate()
            sim.wait(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--refreshes", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.devices, args.refreshes))

"""Requests per refresh, full and incremental, for OneNET (one command history per device).

    uv run python benchmarks/incremental_bench.py [--devices 10000] [--refreshes 10]

The simulated OneNET fleet is served in-process (its rate limit off, no latency). The
first refresh is a full sweep; then the platform's clock moves 30 s per refresh (a
refresh interval) and each refresh is incremental. For each, the script prints the
requests by kind, the devices with an upgrade in flight after it, and the ratio of
requests to (in-flight devices + the pages needed to list what changed). The device
list is read on its own cadence (``device_list_seconds``); its pages are counted when
read. CPU is the process's (client and in-process simulator together).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter

import httpx
from pydantic import SecretStr

from fota_tui.models import ProviderKind
from fota_tui.providers.http import ClientOptions
from fota_tui.providers.onenet.client import OneNetClient
from fota_tui.services.snapshot import fetch_snapshot
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.dialects.onenet.dialect import OneNetDialect
from fota_tui.sim.server import Simulator

KIND = ProviderKind.ONENET
INTERVAL = 30.0


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.url.path.removeprefix("/onenet")] += 1
        return await self.inner.handle_async_request(request)


class Mono:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def main(devices: int, refreshes: int) -> None:
    clock = ManualClock()
    sim = Simulator.build(kinds=[KIND], clock=clock, devices=devices, seed=7)
    sim.dialects[KIND].rate_limit = None  # type: ignore[attr-defined]
    transport, mono = Counting(sim.transport()), Mono()

    async def no_sleep(seconds: float) -> None:
        return None

    options = ClientOptions(
        name="cmcc",
        base_url=sim.base_urls()[KIND],
        transport=transport,
        sleep=no_sleep,
        monotonic=mono,
    )
    key = SecretStr(OneNetDialect.credentials["api_key"])
    client = OneNetClient(options, api_key=key, clock=clock.now, per_second=None)
    print(f"{devices} OneNET devices, a refresh every {INTERVAL:.0f} s of platform time")
    print("refresh | requests (history / object 5 / device pages) | in flight | ratio | CPU ms")
    ratios, counts = [], []
    for n in range(refreshes + 1):
        transport.paths.clear()
        cpu = time.process_time()
        snap = await fetch_snapshot(client)
        cpu_ms = (time.process_time() - cpu) * 1000
        paths = transport.paths
        history, object5 = paths["/nbiot/offline/history"], paths["/nbiot"]
        pages = paths["/devices"]
        total = sum(paths.values())
        flight = len({u.device_id for u in snap.upgrades if not u.state.terminal})
        kind = "full" if snap.health.full_read else "incremental"
        ratio = total / max(1, flight + pages)
        if n:
            ratios.append(ratio)
            counts.append(total)
        print(
            f"{n:>2} {kind:<11} | {total:>6} ({history} / {object5} / {pages})"
            f" | {flight:>5} ({flight / max(1, len(snap.devices)):.1%}) | {ratio:.2f}x"
            f" | {cpu_ms:,.0f} ({cpu_ms / max(1, total):.2f} per request)"
        )
        clock.advance(INTERVAL)
        mono.now += INTERVAL
    await client.aclose()
    print(
        f"incremental: median {statistics.median(counts):.0f} requests per refresh,"
        f" median ratio {statistics.median(ratios):.2f}x, worst {max(ratios):.2f}x"
        " (target: within 1.2x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--refreshes", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.devices, args.refreshes))

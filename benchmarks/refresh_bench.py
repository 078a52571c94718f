"""Full-refresh benchmark: four providers against the loopback simulator, with added latency.

    uv run python benchmarks/refresh_bench.py [--devices 10000] [--latency 0.05] [--runs 3]

Each run serves a fresh ``Simulator.build(devices=N, faults="*:latency=L")`` (same seed, so
the same data, and a full rate-limit budget) on 127.0.0.1, builds the four clients from
``demo_profile(sim, server.root)`` and times one cold refresh: ``fetch_snapshot`` of all four
concurrently, login included. One warm-up run is discarded; the report gives the median of
``--runs`` runs per provider and overall, the requests each provider sent (``sim.requests``),
how many of them were repeats of a request already sent in the same refresh, and the ratio
to each provider's lower bound. The simulator runs in a child process by default (its CPU
is the platform's, not the clients'); ``--server thread`` keeps it in this process.

Lower bounds (L = added latency per request; a request cannot answer faster than L).
No platform publishes a cap on concurrent requests, so every request that does not depend on
another one may be in flight at once; what remains is the chain of dependent requests
(login before reads, cursor pages, page 0 before the page count is known, listing before
per-item reads) and, where published, the rate limit. A sliding window of W calls per T
seconds lets R calls finish no sooner than (ceil(R / W) - 1) * T + L.

ThingSpace (cursor paging: every page needs the previous page's cursor; page sizes are the
  server's: devices 1000, v3 campaigns 50, v3 campaign devices 1000, v1 reports 20; no
  published rate limit):
    bound = L * (2 + max(ceil(N / 1000),
                         max_s ceil(C_s / 50) + max_c ceil(D_c / 1000),
                         max_s ceil(U_s / 20)))
    2 = OAuth token, then M2M session login (needs the token); C_s = v3 campaigns in status
    s (each of the 10 statuses is its own listing), D_c = devices of campaign c,
    U_s = v1 upgrades in status s.
OceanConnect (0-based pageNo with totalCount: page 0, then every other page at once;
  devices <= 250 per page, tasks/subtasks/packages <= 100; 100 calls / 60 s per app):
    R = ceil(N / 250) + ceil(T / 100) + ceil(F / 100) + sum_t max(1, ceil(S_t / 100))
    bound = L + max(2 L, (ceil(R / 100) - 1) * 60 s + L)
    L = the login (not counted by the limit), then devices page 0 -> other pages, or task
    list -> subtask pages (staResult.total gives their count); T tasks, S_t subtasks of
    task t, F packages.
OneNET (page/per_page with total_count, <= 100 per page; 300 calls / s; no FOTA API, so
  every device's command history is one listing, and a device whose update was delivered
  in the last 6 h gets one object-5 read (the adapter's documented semantics)):
    R = ceil(N / 100) + sum_i max(1, ceil(H_i / 100)) + O5
    bound = max(L * 4, (ceil(R / 300) - 1) * 1 s + L)
    4 = device page 1 -> other pages -> histories -> object-5 reads; O5 = distinct
    object-5 reads observed (data-dependent; 0 when none is due).
AOVX (1-based pageNum, size = page count; no published maximum page size or ids per
  report query: --aovx-page, default 100; no published rate limit):
    bound = L * (1 + min(2, ceil(N / P)) + max_b ceil(rows_b / P))
    1 = login, then terminal page 1 -> other pages, then one report query per batch of P
    terminal ids (the query needs the ids), rows_b = OTA report rows of batch b.
Fleet: the providers are independent platforms queried at once, so the fleet bound is the
slowest provider's bound.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import multiprocessing
import re
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fota_tui.models import ProviderKind  # noqa: E402
from fota_tui.providers.registry import build_client  # noqa: E402
from fota_tui.services.snapshot import ProviderSnapshot, fetch_snapshot  # noqa: E402
from fota_tui.sim.demo import demo_profile  # noqa: E402
from fota_tui.sim.http import SimRequest, SimResponse  # noqa: E402
from fota_tui.sim.server import Simulator  # noqa: E402

TARGET = 1.5  # measured / bound
TS_PAGES = {"devices": 1000, "v3_campaigns": 50, "v3_devices": 1000, "v1_reports": 20}
V3_STATUS_COUNT = 10  # v3 has no "all" filter: one listing per status value
V1_STATUS_COUNT = 6
OC_DEVICE_PAGE, OC_TASK_PAGE, OC_LIMIT, OC_PERIOD = 250, 100, 100, 60.0
ONENET_PAGE, ONENET_LIMIT, ONENET_PERIOD = 100, 300, 1.0
_ID = re.compile(r"^(?=.*\d)[0-9A-Za-z_.-]{8,}$")


# -- the simulator, counting what it is asked -------------------------------------------


def path_shape(path: str) -> str:
    """``/fota/v3/reports/0000123456-00001/campaigns/<uuid>/devices`` → ids as ``{id}``."""
    return "/".join("{id}" if _ID.match(part) else part for part in path.split("/"))


class CountingSimulator(Simulator):
    """The simulator plus a tally of requests per (kind, method, path shape), repeats and
    throttled answers: the profile the report prints."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tally_lock = threading.Lock()
        self.reset_tally()

    def reset_tally(self) -> None:
        self.tally: Counter[tuple[ProviderKind, str, str]] = Counter()
        self.seen: dict[tuple[ProviderKind, str, str], set[str]] = defaultdict(set)
        self.throttled_answers: Counter[ProviderKind] = Counter()

    def _note(self, request: SimRequest) -> ProviderKind | None:
        head, _, rest = request.path.lstrip("/").partition("/")
        try:
            kind = ProviderKind(head)
        except ValueError:
            return None
        key = (kind, request.method, path_shape("/" + rest))
        query = "&".join(f"{k}={v}" for k, v in sorted(request.query.items()))
        signature = f"{rest}?{query}#{hashlib.sha1(request.body).hexdigest()}"
        with self._tally_lock:
            self.tally[key] += 1
            self.seen[key].add(signature)
        return kind

    def _count_throttled(self, kind: ProviderKind | None, response: SimResponse) -> SimResponse:
        throttled = response.status == 429 or "retry-after" in {h.lower() for h in response.headers}
        if kind is not None and (throttled or b'"1010009"' in response.body[:200]):
            with self._tally_lock:
                self.throttled_answers[kind] += 1
        return response

    def dispatch_blocking(self, request: SimRequest) -> SimResponse:
        kind = self._note(request)
        return self._count_throttled(kind, super().dispatch_blocking(request))

    async def dispatch(self, request: SimRequest) -> SimResponse:
        kind = self._note(request)
        return self._count_throttled(kind, await super().dispatch(request))

    def distinct(self, kind: ProviderKind, method: str | None = None, shape: str = "") -> int:
        return sum(
            len(sigs)
            for (k, m, s), sigs in self.seen.items()
            if k is kind and (method is None or m == method) and (not shape or s == shape)
        )


# -- lower bounds -----------------------------------------------------------------------


@dataclass
class Bound:
    requests: int  # the fewest requests a full refresh needs
    depth: int  # the longest chain of dependent requests
    seconds: float
    detail: str


def _pages(rows: int, size: int) -> int:
    return max(1, math.ceil(rows / size))


def window_time(requests: int, calls: int, period: float, latency: float) -> float:
    """The earliest a sliding window of ``calls`` per ``period`` lets ``requests`` finish."""
    return (math.ceil(requests / calls) - 1) * period + latency


def thingspace_bound(snap: ProviderSnapshot, latency: float) -> Bound:
    v3: Counter[str] = Counter()
    v1: Counter[str] = Counter()
    campaign_pages = []
    for c in snap.campaigns:
        raw = str(c.provider_status_raw)
        if raw.startswith("Campaign"):
            v3[raw] += 1
            campaign_pages.append(_pages(c.total, TS_PAGES["v3_devices"]))
        else:
            v1[raw] += 1
    device_pages = _pages(len(snap.devices), TS_PAGES["devices"])
    v3_list = max((_pages(n, TS_PAGES["v3_campaigns"]) for n in v3.values()), default=1)
    v3_chain = v3_list + max(campaign_pages, default=0)
    v1_chain = max((_pages(n, TS_PAGES["v1_reports"]) for n in v1.values()), default=1)
    depth = 2 + max(device_pages, v3_chain, v1_chain)
    requests = (
        2
        + device_pages
        + V3_STATUS_COUNT
        - len(v3)
        + sum(_pages(n, TS_PAGES["v3_campaigns"]) for n in v3.values())
        + sum(campaign_pages)
        + V1_STATUS_COUNT
        - len(v1)
        + sum(_pages(n, TS_PAGES["v1_reports"]) for n in v1.values())
    )
    detail = (
        f"2 auth + max(devices {device_pages}, v3 list {v3_list} + campaign devices"
        f" {max(campaign_pages, default=0)}, v1 {v1_chain}) = {depth} L"
    )
    return Bound(requests, depth, depth * latency, detail)


def oceanconnect_bound(snap: ProviderSnapshot, latency: float, packages: int) -> Bound:
    tasks = len(snap.campaigns)
    api_calls = (
        _pages(len(snap.devices), OC_DEVICE_PAGE)
        + _pages(tasks, OC_TASK_PAGE)
        + _pages(packages, OC_TASK_PAGE)
        + sum(_pages(c.total, OC_TASK_PAGE) for c in snap.campaigns)
    )
    depth = 3  # login -> page 0 / task list -> other pages / subtask pages
    chain = depth * latency
    limited = latency + window_time(api_calls, OC_LIMIT, OC_PERIOD, latency)
    detail = f"login + max(2 L paging, {api_calls} calls under {OC_LIMIT}/{OC_PERIOD:g} s)"
    return Bound(api_calls + 1, depth, max(chain, limited), detail)


def onenet_bound(snap: ProviderSnapshot, latency: float, object5: int) -> Bound:
    per_device = Counter(u.device_id for u in snap.upgrades)
    history = sum(_pages(per_device.get(d.device_id, 0), ONENET_PAGE) for d in snap.devices)
    requests = _pages(len(snap.devices), ONENET_PAGE) + history + object5
    depth = 4 if object5 else 3
    limited = window_time(requests, ONENET_LIMIT, ONENET_PERIOD, latency)
    detail = (
        f"{requests} calls ({history} histories + {object5} object-5 reads) under"
        f" {ONENET_LIMIT}/{ONENET_PERIOD:g} s"
    )
    return Bound(requests, depth, max(depth * latency, limited), detail)


def aovx_bound(snap: ProviderSnapshot, latency: float, page: int) -> Bound:
    per_device = Counter(u.device_id for u in snap.upgrades)
    ids = [d.device_id for d in snap.devices]
    batches = [ids[i : i + page] for i in range(0, len(ids), page)] or [[]]
    report_pages = [_pages(sum(per_device.get(i, 0) for i in b), page) for b in batches]
    terminal_pages = _pages(len(ids), page)
    depth = 1 + min(terminal_pages, 2) + max(report_pages)
    requests = 1 + terminal_pages + sum(report_pages)
    detail = f"login + terminal pages ({terminal_pages}) + reports ({len(batches)} batches)"
    return Bound(requests, depth, depth * latency, detail)


# -- where the simulator runs -----------------------------------------------------------


@dataclass
class Traffic:
    """What the simulator saw during one refresh."""

    requests: dict[str, int]
    distinct: dict[str, int]
    throttled: dict[str, int]
    tally: dict[str, list[tuple[int, int, str]]]
    object5: int
    packages: int
    cpu_s: float  # CPU time of the process hosting the simulator


class SimHost:
    """The counting simulator on 127.0.0.1 in this process (``--server thread``)."""

    def __init__(self, args: argparse.Namespace) -> None:
        simulator = CountingSimulator.build(
            seed=args.seed, devices=args.devices, faults=f"*:latency={args.latency}"
        )
        assert isinstance(simulator, CountingSimulator)
        self.simulator = simulator
        self.server = self.simulator.serve("127.0.0.1", 0)
        if not args.as_served:
            # The loopback server sends headers and body in two writes; without TCP_NODELAY,
            # Nagle plus the client's delayed ACK hold every answer on a reused connection
            # for ~40 ms, which no real platform does. This handler class is this server's.
            handler: Any = self.server.httpd.RequestHandlerClass
            handler.disable_nagle_algorithm = True
        self.root = self.server.root
        self._before: dict[ProviderKind, int] = {}
        self._cpu = time.process_time()

    def reset(self) -> None:
        self.simulator.reset_tally()
        self._before = dict(self.simulator.requests)
        self._cpu = time.process_time()

    def traffic(self) -> Traffic:
        sim = self.simulator
        kinds = list(sim.dialects)
        return Traffic(
            requests={k.value: sim.requests[k] - self._before.get(k, 0) for k in kinds},
            distinct={k.value: sim.distinct(k) for k in kinds},
            throttled={k.value: sim.throttled_answers[k] for k in kinds},
            tally={
                k.value: sorted(
                    (
                        (count, len(sim.seen[key]), f"{key[1]} {key[2]}")
                        for key, count in sim.tally.items()
                        if key[0] is k
                    ),
                    reverse=True,
                )
                for k in kinds
            },
            object5=sim.distinct(ProviderKind.ONENET, "GET", "/nbiot"),
            packages=len(sim.fleet.firmware[ProviderKind.OCEANCONNECT]),
            cpu_s=time.process_time() - self._cpu,
        )

    def close(self) -> None:
        self.server.close()


def _host_process(args: argparse.Namespace, conn: Connection) -> None:
    """The child of ``--server process``: a SimHost driven over a pipe."""
    host = SimHost(args)
    conn.send(host.root)
    while True:
        command = conn.recv()
        if command == "reset":
            host.reset()
            conn.send(None)
        elif command == "traffic":
            conn.send(asdict(host.traffic()))  # plain data through the pipe
        else:
            host.close()
            conn.send(None)
            return


class ChildHost:
    """The same simulator in a child process (``--server process``, the default), so its
    CPU time is not taken from the clients': a real platform runs on its own machines."""

    def __init__(self, args: argparse.Namespace) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_host_process, args=(args, child), daemon=True)
        self._process.start()
        self.root: str = self._conn.recv()

    def _ask(self, command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def reset(self) -> None:
        self._ask("reset")

    def traffic(self) -> Traffic:
        return Traffic(**self._ask("traffic"))

    def close(self) -> None:
        try:
            self._ask("stop")
        finally:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()


# -- one run ----------------------------------------------------------------------------


@dataclass
class Run:
    total: float
    cpu_s: float = 0.0  # this process's CPU time during the refresh
    traffic: Traffic | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    snapshots: dict[str, ProviderSnapshot] = field(default_factory=dict)


async def refresh(args: argparse.Namespace, host: SimHost | ChildHost) -> Run:
    """One cold refresh of every provider at once (new clients: login included)."""
    shape = Simulator.build(seed=args.seed, devices=len(ProviderKind))  # for the profile only
    profile = demo_profile(shape, host.root)
    clients = {cfg.kind: build_client(cfg) for cfg in profile.providers}
    run = Run(total=0.0)

    async def timed(kind: ProviderKind) -> None:
        started = time.perf_counter()
        try:
            run.snapshots[kind.value] = await fetch_snapshot(clients[kind])
        except Exception as exc:  # report it; the other providers still count
            run.errors[kind.value] = f"{type(exc).__name__}: {exc}"
        run.seconds[kind.value] = time.perf_counter() - started

    host.reset()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        await asyncio.gather(*(timed(kind) for kind in clients))
        run.total = time.perf_counter() - started
        run.cpu_s = time.process_time() - cpu
        run.traffic = host.traffic()  # before aclose(): a logout is not part of the refresh
    finally:
        for client in clients.values():
            await client.aclose()
    return run


def one_run(args: argparse.Namespace) -> Run:
    """A fresh simulator per run: the same data and a full rate-limit budget each time."""
    host = ChildHost(args) if args.server == "process" else SimHost(args)
    try:
        return asyncio.run(refresh(args, host))
    finally:
        host.close()


def bounds(run: Run, latency: float, aovx_page: int) -> dict[str, Bound]:
    assert run.traffic is not None
    traffic = run.traffic
    makers: dict[str, Callable[[ProviderSnapshot], Bound]] = {
        "thingspace": lambda s: thingspace_bound(s, latency),
        "oceanconnect": lambda s: oceanconnect_bound(s, latency, traffic.packages),
        "onenet": lambda s: onenet_bound(s, latency, traffic.object5),
        "aovx": lambda s: aovx_bound(s, latency, aovx_page),
    }
    return {name: makers[name](snap) for name, snap in run.snapshots.items()}


# -- report -----------------------------------------------------------------------------


def report(args: argparse.Namespace, runs: list[Run]) -> dict[str, Any]:
    last = runs[-1]
    assert last.traffic is not None
    traffic = last.traffic
    limits = bounds(last, args.latency, args.aovx_page)
    rows: list[dict[str, Any]] = []
    for name in last.seconds:
        if name in last.errors:
            rows.append({"provider": name, "error": last.errors[name]})
            continue
        measured = statistics.median(r.seconds[name] for r in runs)
        bound = limits[name]
        rows.append(
            {
                "provider": name,
                "devices": len(last.snapshots[name].devices),
                "requests": traffic.requests[name],
                "repeats": traffic.requests[name] - traffic.distinct[name],
                "throttled": traffic.throttled[name],
                "min_requests": bound.requests,
                "depth": bound.depth,
                "bound_s": round(bound.seconds, 3),
                "measured_s": round(measured, 3),
                "ratio": round(measured / bound.seconds, 2),
                "bound": bound.detail,
            }
        )
    fleet_bound = max(b.seconds for b in limits.values()) if limits else float("nan")
    overall = statistics.median(r.total for r in runs)
    return {
        "command": " ".join(["benchmarks/refresh_bench.py", *sys.argv[1:]]),
        "devices": args.devices,
        "latency_s": args.latency,
        "runs": args.runs,
        "providers": rows,
        "overall": {
            "bound_s": round(fleet_bound, 3),
            "measured_s": round(overall, 3),
            "ratio": round(overall / fleet_bound, 2),
            "runs_s": [round(r.total, 3) for r in runs],
            "client_cpu_s": round(statistics.median(r.cpu_s for r in runs), 3),
            "server_cpu_s": round(statistics.median(r.traffic.cpu_s for r in runs if r.traffic), 3),
        },
        "server": args.server,
        "profile": traffic.tally,
    }


def print_report(result: dict[str, Any], verbose: bool) -> None:
    print(
        f"full refresh, {result['devices']} devices, +{result['latency_s'] * 1000:g} ms per"
        f" request, median of {result['runs']} runs (after one warm-up),"
        f" simulator in a {'child process' if result['server'] == 'process' else 'thread'}\n"
    )
    head = f"{'provider':<13} {'dev':>5} {'req':>5} {'rep':>4} {'thr':>4} {'min':>5}"
    print(f"{head} {'bound s':>8} {'meas. s':>8} {'ratio':>6}  bound")
    for row in result["providers"]:
        if "error" in row:
            print(f"{row['provider']:<13} FAILED: {row['error']}")
            continue
        print(
            f"{row['provider']:<13} {row['devices']:>5} {row['requests']:>5} {row['repeats']:>4}"
            f" {row['throttled']:>4} {row['min_requests']:>5} {row['bound_s']:>8.3f}"
            f" {row['measured_s']:>8.3f} {row['ratio']:>6.2f}  {row['bound']}"
        )
    o = result["overall"]
    verdict = "within" if o["ratio"] <= TARGET else "OVER"
    print(
        f"{'fleet':<13} {'':>5} {'':>5} {'':>4} {'':>4} {'':>5} {o['bound_s']:>8.3f}"
        f" {o['measured_s']:>8.3f} {o['ratio']:>6.2f}  slowest provider's bound;"
        f" {verdict} the {TARGET}x target"
    )
    print(f"\nruns: {', '.join(f'{t:.3f}' for t in o['runs_s'])} s")
    print(f"CPU per refresh (median): clients {o['client_cpu_s']:.2f} s,", end=" ")
    print(
        f"simulator {o['server_cpu_s']:.2f} s"
        + (" (same process)" if result["server"] == "thread" else "")
    )
    print("req = requests sent, rep = repeats of a request already sent in the same refresh,")
    print("thr = throttled answers, min = fewest requests the refresh needs")
    if verbose:
        for name, rows in result["profile"].items():
            print(f"\n{name}: count (distinct) per request shape")
            for count, distinct, shape in rows:
                print(f"  {count:>6} ({distinct:>5})  {shape}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000, help="fleet size")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per request")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--aovx-page",
        type=int,
        default=100,
        help="AOVX maximum page size and ids per report query (not published)",
    )
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="run the simulator in a child process (default) or in this process's threads",
    )
    parser.add_argument(
        "--as-served",
        action="store_true",
        help="keep the loopback server's Nagle delay (~40 ms per answer) to show its effect",
    )
    parser.add_argument("--profile", action="store_true", help="print requests per shape")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the result here")
    args = parser.parse_args()
    if args.devices < 1 or args.runs < 1 or args.latency <= 0 or args.aovx_page < 1:
        parser.error("--devices, --runs and --aovx-page must be >= 1, --latency > 0")

    runs = []
    for index in range(args.runs + 1):
        run = one_run(args)
        label = "warm-up" if index == 0 else f"run {index}"
        print(f"{label}: {run.total:.3f} s", file=sys.stderr, flush=True)
        if index:
            runs.append(run)
    result = report(args, runs)
    print_report(result, args.profile)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

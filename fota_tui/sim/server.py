"""The simulator: one fleet, four dialects, faults, served in-process or on loopback."""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from fota_tui.models import ProviderKind
from fota_tui.sim.accounts import IN_PROCESS_ROOT, base_url
from fota_tui.sim.clock import Clock, ScaledClock
from fota_tui.sim.dialect import Dialect
from fota_tui.sim.dialects import dialect_class, share
from fota_tui.sim.faults import FaultInjector
from fota_tui.sim.fleet import SimFleet, Timing
from fota_tui.sim.hostile import ERROR_TEXT, poison
from fota_tui.sim.http import SimRequest, SimResponse
from fota_tui.sim.wire_faults import (
    SLOW_BODY_SECONDS,
    drop_first,
    endless_page,
    first_page,
    gzip_bomb,
    trickle,
)

DEFAULT_DEVICES = 2000


class ConnectionDropped(Exception):
    """The simulated peer reset the connection (``reset`` / ``reset_after``)."""


class Simulator:
    """Routes ``/<kind>/...`` to the platform's dialect, with faults applied."""

    def __init__(
        self,
        fleet: SimFleet,
        dialects: dict[ProviderKind, Dialect],
        faults: FaultInjector | None = None,
    ) -> None:
        self.fleet = fleet
        self.dialects = dialects
        self.faults = faults or FaultInjector()
        self.requests: dict[ProviderKind, int] = dict.fromkeys(dialects, 0)
        self._poisoned = False

    @classmethod
    def build(
        cls,
        *,
        seed: int = 7,
        devices: int = DEFAULT_DEVICES,
        speed: float = 1.0,
        clock: Clock | None = None,
        faults: str | None = None,
        kinds: Iterable[ProviderKind] = tuple(ProviderKind),
        timing: Timing | None = None,
        credentials: Mapping[ProviderKind, Mapping[str, str]] | None = None,
    ) -> Simulator:
        """A seeded simulator; ``clock`` defaults to wall time scaled by ``speed``.

        ``credentials`` replaces a platform's demo credentials (``Dialect.with_credentials``):
        then only those values are accepted, and ``demo_profile`` hands them out.
        """
        fleet = SimFleet(clock or ScaledClock(speed), seed=seed, timing=timing)
        kinds = list(kinds)
        overrides = credentials or {}
        dialects = {}
        for kind in kinds:
            dialect_cls = dialect_class(kind)
            if overrides.get(kind):
                dialect_cls = dialect_cls.with_credentials(overrides[kind])
            dialects[kind] = dialect_cls(fleet)
        total_share = sum(share(k) for k in kinds)
        for kind, dialect in dialects.items():
            count = max(1, round(devices * share(kind) / total_share))
            dialect.seed(count, random.Random(f"{seed}:seed:{kind}"))
        simulator = cls(fleet, dialects, FaultInjector.from_spec(faults, seed=seed))
        simulator.apply_settings()
        return simulator

    def apply_settings(self) -> None:
        """Shape the platforms by the fault settings (``faults.SETTINGS``); call again after
        changing them at run time."""
        faults, fleet = self.faults, self.fleet
        skews = faults.setting("skew").values()
        fleet.skew = timedelta(seconds=max(skews, key=abs)) if skews else timedelta(0)
        fleet.listing_lag = {
            kind: timedelta(seconds=value) for kind, value in faults.setting("late_listing").items()
        }
        fleet.failure_share = {
            kind: rates["fail"] for kind, rates in faults.rates.items() if "fail" in rates
        }
        if faults.setting("hostile") and not self._poisoned:
            poison(fleet)
            self._poisoned = True

    # -- dispatch ------------------------------------------------------------
    def _split(self, path: str) -> tuple[Dialect | None, str]:
        head, _, rest = path.lstrip("/").partition("/")
        try:
            return self.dialects.get(ProviderKind(head)), "/" + rest
        except ValueError:
            return None, path

    def _prepare(self, request: SimRequest) -> tuple[Dialect | None, float, str | None]:
        dialect, request.path = self._split(request.path)
        if dialect is None:
            return None, 0.0, None
        self.requests[dialect.kind] += 1
        decision = self.faults.decide(dialect.kind, request)
        return dialect, decision.latency, decision.fault

    def _respond(self, dialect: Dialect, request: SimRequest, fault: str | None) -> SimResponse:
        response = self._answer(dialect, request, fault)
        # Every answer carries the platform's clock, as real servers' do.
        response.headers.setdefault("date", format_datetime(dialect.fleet.now(), usegmt=True))
        return response

    def _answer(self, dialect: Dialect, request: SimRequest, fault: str | None) -> SimResponse:
        if fault == "reset":
            raise ConnectionDropped("connection reset by peer")
        if fault == "error":
            if self.faults.setting("hostile").get(dialect.kind):
                return dialect.error(503, 503, ERROR_TEXT)
            return dialect.server_error()
        if fault == "endless":
            return endless_page(dialect.handle(first_page(request)))
        if fault == "bomb":
            return gzip_bomb()
        if fault == "gap":
            return drop_first(dialect.handle(request))
        if fault == "throttle":
            return dialect.throttled()
        if fault == "token_expiry":
            dialect.expire_tokens()
        response = dialect.handle(request)
        if fault == "slow_body":
            response.trickle = SLOW_BODY_SECONDS
        if fault == "reset_after":
            raise ConnectionDropped("connection reset by peer after the request was handled")
        if fault == "malformed":
            return SimResponse(response.status, b'{"data": [<html>Bad Gateway', response.headers)
        if fault == "truncated":
            return SimResponse(
                response.status, response.body[: len(response.body) // 2], response.headers
            )
        return response

    async def dispatch(self, request: SimRequest) -> SimResponse:
        dialect, latency, fault = self._prepare(request)
        if dialect is None:
            return SimResponse(404, b"no such platform")
        if latency:
            await asyncio.sleep(latency)
        return self._respond(dialect, request, fault)

    def dispatch_blocking(self, request: SimRequest) -> SimResponse:
        dialect, latency, fault = self._prepare(request)
        if dialect is None:
            return SimResponse(404, b"no such platform")
        if latency:
            time.sleep(latency)
        return self._respond(dialect, request, fault)

    # -- serving -------------------------------------------------------------
    def transport(self) -> SimTransport:
        return SimTransport(self)

    def base_urls(self, root: str = IN_PROCESS_ROOT) -> dict[ProviderKind, str]:
        return {kind: base_url(root, kind) for kind in self.dialects}

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> LoopbackServer:
        return LoopbackServer(self, host, port)


class SimTransport(httpx.AsyncBaseTransport):
    """An httpx transport that answers from the simulator without any socket."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sim_request = SimRequest(
            method=request.method,
            path=request.url.path,
            query=dict(parse_qsl(request.url.query.decode(), keep_blank_values=True)),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.aread(),
        )
        try:
            response = await self.simulator.dispatch(sim_request)
        except ConnectionDropped as exc:
            raise httpx.ReadError(str(exc), request=request) from None
        if response.trickle:
            return httpx.Response(
                response.status,
                headers=response.headers,
                content=trickle(response.body, response.trickle),
                request=request,
            )
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )


class _Server(ThreadingHTTPServer):
    # A client opens dozens of connections at once (every platform, pages in parallel);
    # socketserver's backlog of 5 drops the rest, which then wait 1 s for a SYN retry.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that goes away mid-answer is normal (a console quits, a test ends):
        no traceback for it; anything else is printed as before."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class LoopbackServer:
    """The same handlers on real loopback HTTP/1.1, in a background thread."""

    simulator: Simulator
    host: str = "127.0.0.1"
    port: int = 0

    def __post_init__(self) -> None:
        self.httpd = _Server((self.host, self.port), _make_handler(self.simulator))
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def root(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_urls(self) -> dict[ProviderKind, str]:
        return self.simulator.base_urls(self.root)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _make_handler(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two sends

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: `fota-tui sim` prints its own lines

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = SimRequest(
                method=self.command,
                path=url.path,
                query=dict(parse_qsl(url.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            try:
                response = simulator.dispatch_blocking(request)
            except ConnectionDropped:
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if not response.trickle:
                self.wfile.write(response.body)
                return
            step = max(1, len(response.body) // 100)
            for start in range(0, len(response.body), step):
                time.sleep(response.trickle / 100)
                self.wfile.write(response.body[start : start + step])
                self.wfile.flush()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler

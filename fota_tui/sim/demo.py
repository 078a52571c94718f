"""The built-in demo: a seeded simulator and a profile that talks to it in-process.

The profile needs no simulator (its addresses and accounts are static), and the
simulator is seeded on the first request, off the event loop: the console paints its
first frame before any of that work is done.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, cast

from fota_tui.config.schema import PROVIDER_CONFIG_CLASSES, Profile
from fota_tui.models import ProviderKind
from fota_tui.sim.accounts import IN_PROCESS_ROOT, base_url
from fota_tui.sim.clock import Clock, ScaledClock
from fota_tui.sim.dialects import demo_credentials

if TYPE_CHECKING:
    import httpx

    from fota_tui.sim.server import Simulator

DEMO_SPEED = 20.0  # simulated seconds per real second: campaigns move while you watch
DEMO_REFRESH = 5.0


def demo_profile(
    simulator: Simulator | None = None,
    root: str = IN_PROCESS_ROOT,
    refresh_interval: float = DEMO_REFRESH,
    kinds: tuple[ProviderKind, ...] = tuple(ProviderKind),
) -> Profile:
    """One provider per platform with the simulator's (or the static) demo accounts."""
    credentials: Mapping[ProviderKind, Mapping[str, str]] = (
        {kind: d.credentials for kind, d in simulator.dialects.items()}
        if simulator is not None
        else {kind: demo_credentials(kind) for kind in kinds}
    )
    providers = [
        PROVIDER_CONFIG_CLASSES[kind](
            kind=kind, name=f"{kind.value}-demo", base_url=base_url(root, kind), **creds
        )
        for kind, creds in credentials.items()
    ]
    return Profile(
        name="demo",
        label="Demo fleet (simulated)",
        environment="lab",
        refresh_interval=refresh_interval,
        providers=providers,
    )


class Demo:
    """The demo profile, and a simulator built the first time anything needs it."""

    def __init__(self, profile: Profile, clock: Clock, build: Callable[[Clock], Simulator]) -> None:
        self.profile = profile
        self.clock = clock  # the fleet's clock, usable before the fleet exists
        self._build = build
        self._simulator: Simulator | None = None
        self._lock = threading.Lock()
        self._data: tempfile.TemporaryDirectory[str] | None = None
        # Duck-typed, so httpx (and the simulator) load after the first frame.
        self.transport = cast("httpx.AsyncBaseTransport", _LazyTransport(self))

    @property
    def built(self) -> bool:
        return self._simulator is not None

    @property
    def data_dir(self) -> Path:
        """Where this demo's journal lives: one folder per simulator run, shared by the
        console and the campaign service, removed with the demo (a new demo starts with no
        campaigns of the last one's)."""
        with self._lock:
            if self._data is None:
                self._data = tempfile.TemporaryDirectory(prefix="fota-tui-demo-")
            return Path(self._data.name)

    def close(self) -> None:
        """Remove this demo's journal folder."""
        with self._lock:
            if self._data is not None:
                self._data.cleanup()
                self._data = None

    @property
    def simulator(self) -> Simulator:
        with self._lock:
            if self._simulator is None:
                self._simulator = self._build(self.clock)
            return self._simulator


class _LazyTransport:
    """An httpx async transport that seeds the simulator on the first request."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self._inner: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:  # seed in a thread so the screen stays responsive
            simulator = await asyncio.to_thread(lambda: self.demo.simulator)
            self._inner = simulator.transport()
        return await self._inner.handle_async_request(request)

    async def __aenter__(self) -> _LazyTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        pass

    async def aclose(self) -> None:
        """Shared by every client of the demo; the simulator holds nothing to release."""


def build_demo(
    *,
    seed: int = 7,
    devices: int = 2000,
    speed: float = DEMO_SPEED,
    clock: Clock | None = None,
    faults: str | None = None,
    kinds: tuple[ProviderKind, ...] = tuple(ProviderKind),
) -> Demo:
    """The demo; ``demo.simulator`` seeds on first use (or on the first request)."""

    def build(fleet_clock: Clock) -> Simulator:
        from fota_tui.sim.server import Simulator

        return Simulator.build(
            seed=seed, devices=devices, clock=fleet_clock, faults=faults, kinds=kinds
        )

    return Demo(demo_profile(kinds=kinds), clock or ScaledClock(speed), build)

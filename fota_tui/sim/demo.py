"""The built-in demo: a seeded simulator and a profile that talks to it in-process."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from fota_tui.config.schema import PROVIDER_CONFIG_CLASSES, Profile
from fota_tui.models import ProviderKind
from fota_tui.sim.clock import Clock
from fota_tui.sim.server import IN_PROCESS_ROOT, Simulator

DEMO_SPEED = 20.0  # simulated seconds per real second: campaigns move while you watch
DEMO_REFRESH = 5.0


@dataclass
class Demo:
    simulator: Simulator
    profile: Profile
    transport: httpx.AsyncBaseTransport


def demo_profile(
    simulator: Simulator, root: str = IN_PROCESS_ROOT, refresh_interval: float = DEMO_REFRESH
) -> Profile:
    """One provider per platform, with the simulator's demo credentials."""
    providers = []
    for kind, url in simulator.base_urls(root).items():
        dialect = simulator.dialects[kind]
        providers.append(
            PROVIDER_CONFIG_CLASSES[kind](
                kind=kind, name=f"{kind.value}-demo", base_url=url, **dialect.credentials
            )
        )
    return Profile(
        name="demo",
        label="Demo fleet (simulated)",
        environment="lab",
        refresh_interval=refresh_interval,
        providers=providers,
    )


def build_demo(
    *,
    seed: int = 7,
    devices: int = 2000,
    speed: float = DEMO_SPEED,
    clock: Clock | None = None,
    faults: str | None = None,
    kinds: tuple[ProviderKind, ...] = tuple(ProviderKind),
) -> Demo:
    simulator = Simulator.build(
        seed=seed, devices=devices, speed=speed, clock=clock, faults=faults, kinds=kinds
    )
    return Demo(simulator, demo_profile(simulator), simulator.transport())

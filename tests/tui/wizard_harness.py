"""Helpers for the campaign wizard's Pilot tests (tests/tui/test_wizard_*.py).

``wizard_app`` is the console on the in-process simulator, like ``--demo``, with a
``ManualClock`` shared by the simulator, the console and the campaign service, the
journal in the isolated data dir (also the console's group source, so the campaigns the
wizard creates on OneNET and AOVX show in the campaigns view) and the wizard hooked up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from textual.widgets import Button, Input, OptionList

from fota_tui.config.paths import resolve_paths
from fota_tui.models import Firmware, ProviderKind
from fota_tui.services.campaigns import Journal
from fota_tui.services.fleet import FleetRow
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import Demo, build_demo
from fota_tui.tui.app import FotaApp, make_app
from fota_tui.tui.screens.wizard import CampaignWizardScreen

START = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PROVIDER = {kind: f"{kind.value}-demo" for kind in ProviderKind}


@dataclass
class WizardHarness:
    app: FotaApp
    demo: Demo
    clock: ManualClock
    journal: Journal

    def jobs(self, kind: ProviderKind) -> set[str]:
        return set(self.demo.simulator.fleet.jobs[kind])

    def job(self, kind: ProviderKind, job_id: str):  # type: ignore[no-untyped-def]
        return self.demo.simulator.fleet.jobs[kind][job_id]

    def sim_id(self, kind: ProviderKind, key: str) -> str:
        found = self.demo.simulator.fleet.find_device(kind, key)
        assert found is not None, key
        return found.device_id


def wizard_app(
    *,
    devices: int = 200,
    kinds: tuple[ProviderKind, ...] = tuple(ProviderKind),
    environment: str | None = None,
    read_only: bool | None = None,
) -> WizardHarness:
    """``kinds`` limits the fleet (and the profile) to some platforms: a console that
    refreshes one platform starts faster than one that refreshes four."""
    clock = ManualClock(START)
    demo = build_demo(seed=7, devices=devices, clock=clock, kinds=kinds)
    profile = demo.profile
    if environment is not None:
        profile = profile.model_copy(update={"environment": environment})
    paths = resolve_paths()  # the isolated dirs of tests/conftest.py
    app = make_app(
        profile,
        transport=demo.transport,
        clock=clock,
        autostart=False,
        read_only=read_only,
        # Ages redraw every 10 s instead of every second: less work while a test runs.
        low_bandwidth=True,
        paths=paths,
        wizard=CampaignWizardScreen,
    )
    app.animation_level = "none"
    return WizardHarness(app, demo, clock, app.workspace.journal)


async def start(pilot: object, app: FotaApp) -> None:
    """One refresh of every provider, applied (the scheduler is not running)."""
    await wait_for(pilot, lambda: app.session.started)
    await app.session.refresh()
    await wait_for(pilot, lambda: all(v.health == "ok" for v in app.session.provider_views()))


async def pause(pilot: object, rounds: int = 2) -> None:
    for _ in range(rounds):
        await pilot.pause()  # type: ignore[attr-defined]


async def wait_for(pilot: object, condition: Callable[[], object], rounds: int = 300) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause()  # type: ignore[attr-defined]
    raise AssertionError("condition not reached")


def idle_rows(app: FotaApp, provider: str) -> list[FleetRow]:
    """The provider's rows that are in no active campaign (per the last snapshot)."""
    snap = app.session.snapshot(provider)
    assert snap is not None
    busy = {u.device_id for u in snap.upgrades if u.state.active}
    return [r for r in app.session.store.rows(provider) if r.device_id not in busy]


def fitting_rows(app: FotaApp, provider: str, firmware: Firmware, count: int) -> list[FleetRow]:
    """Idle rows of the firmware's model, not on its version, that the platform will take
    (ThingSpace reports FOTA eligibility and the license in the raw status)."""

    def welcome(row: FleetRow) -> bool:
        raw = row.provider_status_raw
        return not isinstance(raw, dict) or (
            raw.get("fotaEligible") is not False and raw.get("licenseAssigned") is not False
        )

    return [
        r
        for r in idle_rows(app, provider)
        if r.model == firmware.model and r.firmware != firmware.version and welcome(r)
    ][:count]


async def catalogue(h: WizardHarness, kind: ProviderKind) -> list[Firmware]:
    """The platform's firmware list, read through the console's adapter."""
    return await h.app.session.client(PROVIDER[kind]).firmware()


def wizard(app: FotaApp) -> CampaignWizardScreen:
    screen = app.screen
    assert isinstance(screen, CampaignWizardScreen), screen
    return screen


def next_button(w: CampaignWizardScreen) -> Button:
    return w.query_one("#wiz-next", Button)


def error_text(w: CampaignWizardScreen, control_id: str) -> str:
    return str(w.query_one(f"#{control_id}-error").render())


async def set_value(pilot: object, w: CampaignWizardScreen, selector: str, value: str) -> None:
    w.query_one(selector, Input).value = value
    await pilot.pause()  # type: ignore[attr-defined]


async def type_into(pilot: object, w: CampaignWizardScreen, selector: str, text: str) -> None:
    """Focus an input, clear it and type ``text`` key by key."""
    field = w.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*list(text))  # type: ignore[attr-defined]


async def highlight(pilot: object, w: CampaignWizardScreen, option_id: str) -> None:
    """Move the firmware list's cursor to ``option_id`` with the arrow keys."""
    listing = w.query_one("#fw-list", OptionList)
    listing.focus()
    target = listing.get_option_index(option_id)
    if listing.highlighted is None:
        await pilot.press("down")  # type: ignore[attr-defined]
    while listing.highlighted is not None and listing.highlighted < target:
        await pilot.press("down")  # type: ignore[attr-defined]
    while listing.highlighted is not None and listing.highlighted > target:
        await pilot.press("up")  # type: ignore[attr-defined]
    assert listing.highlighted == target


async def go_next(pilot: object, w: CampaignWizardScreen, step: str) -> None:
    """ctrl+n, and wait until ``step`` is shown and done loading."""
    assert not next_button(w).disabled, w.query_one("#wiz-blockers").render()
    await pilot.press("ctrl+n")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: w.step == step and not w.loading_firmware and not w.previewing)


def select_rows(app: FotaApp, rows: Iterable[FleetRow]) -> None:
    app.dashboard().table.set_selection([r.key for r in rows])

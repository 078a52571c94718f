"""The console settles open submissions on every refresh, as the CLI does."""

from __future__ import annotations

from datetime import timedelta

from tui_app_harness import settle, sim_app

from fota_tui.config.paths import AppPaths
from fota_tui.models import CampaignSpec, ProviderKind
from fota_tui.providers import registry

AOVX_URL = "http://files.aovx.example/FOTA/103/A8_V3.2.0.bin"


async def test_a_late_listed_submission_is_settled_by_a_console_refresh(app_paths: AppPaths):
    h = sim_app(app_paths)
    sim, kind = h.demo.simulator, ProviderKind.AOVX
    cfg = next(p for p in h.demo.profile.providers if p.kind is kind)
    sim.faults.set(kind, late_listing=45)  # the platform lists the send 45 s late
    sim.apply_settings()
    journal = h.app.workspace.journal
    client = registry.build_client(cfg, transport=h.demo.transport, groups=journal)
    devices = sorted(sim.fleet.devices[kind])[:2]
    spec = CampaignSpec(provider=cfg.name, firmware=AOVX_URL, devices=devices,
                        options={"type": 0, "mode": 0, "protocol": 1})  # fmt: skip
    now = h.clock.now()
    entry = journal.begin(provider=cfg.name, kind=kind, spec=spec, now=now)
    # The send reached the platform, and its answer was lost.
    journal.update(entry, now=now, attempts=1, sent_at=now, first_sent_at=now, state="unknown")
    await client.create_campaign(spec)
    await client.aclose()

    async with h.app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, h.app)
        await h.app.workers.wait_for_complete()
        (still,) = journal.entries(cfg.name)
        assert (
            still.state == "unknown" and "not visible on the platform yet" in still.events[-1].note
        )
        h.clock.advance(timedelta(seconds=60).total_seconds())
        await pilot.press("r")
        await settle(pilot, h.app)
        await h.app.workers.wait_for_complete()
        await pilot.pause()
        (settled,) = journal.entries(cfg.name)
        assert settled.state == "created", settled.events[-1].note
        said = [m for t, m in h.app.notifications_sent if t == "Submission reconciled"]
        assert len(said) == 1 and entry.submission_id in said[0]

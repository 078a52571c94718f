"""Operations from the campaigns view, against the simulator: cancel (confirmed, and
explained where the platform cannot), ThingSpace add/remove devices, retry failed."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button, TextArea
from wizard_harness import PROVIDER, WizardHarness, idle_rows, start, wait_for, wizard, wizard_app

from fota_tui.models import Campaign, ProviderKind, UpgradeState
from fota_tui.tui.screens.campaign_ops import CancelCampaignScreen, ChangeDevicesScreen
from fota_tui.tui.screens.campaigns import CampaignDetailScreen, CampaignsScreen, campaign_key

TS, OC = ProviderKind.THINGSPACE, ProviderKind.OCEANCONNECT
RETRY_STATES = (UpgradeState.FAILED, UpgradeState.EXPIRED)


def op_shown(screen: object, op: str) -> bool:
    return any(
        b.binding.action == f"campaign_op('{op}')"
        for b in screen.active_bindings.values()  # type: ignore[attr-defined]
    )


async def open_campaigns(pilot: object, h: WizardHarness) -> CampaignsScreen:
    await pilot.press("c")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(h.app.screen, CampaignsScreen))
    return h.app.screen  # type: ignore[return-value]


async def highlight_campaign(pilot: object, screen: CampaignsScreen, campaign: Campaign) -> None:
    listing = screen.option_list
    listing.highlighted = listing.get_option_index(campaign_key(campaign))
    await pilot.pause()  # type: ignore[attr-defined]


def said(h: WizardHarness, title: str) -> list[str]:
    return [m for t, m in h.app.notifications_sent if t == title]


async def test_operations_from_the_campaigns_view() -> None:
    """One console for the three operations (each section starts from the campaign list)."""
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        screen = await open_campaigns(pilot, h)
        await cancel_asks_first_and_is_explained_where_the_platform_cannot(pilot, h, screen)
        await thingspace_add_and_remove_devices(pilot, h, screen)
        await retry_failed_opens_the_wizard_with_the_failed_devices(pilot, h, screen)


async def cancel_asks_first_and_is_explained_where_the_platform_cannot(
    pilot: Any, h: WizardHarness, screen: CampaignsScreen
) -> None:
    campaigns = h.app.session.campaigns()
    ts = next(c for c in campaigns if c.provider == PROVIDER[TS] and c.active)
    await highlight_campaign(pilot, screen, ts)
    assert op_shown(screen, "cancel") and op_shown(screen, "add")

    await pilot.press("x")
    await wait_for(pilot, lambda: isinstance(h.app.screen, CancelCampaignScreen))
    dialog = h.app.screen
    assert dialog.focused is dialog.query_one("#cancel-keep")  # the safe choice
    await pilot.press("enter")  # keep it
    await wait_for(pilot, lambda: h.app.screen is screen)
    assert h.job(TS, ts.campaign_id).cancelled_at is None

    await pilot.press("x")
    await wait_for(pilot, lambda: isinstance(h.app.screen, CancelCampaignScreen))
    await pilot.press("tab", "enter")  # → "Cancel campaign"
    await wait_for(pilot, lambda: bool(said(h, "Campaign cancelled")))
    assert h.job(TS, ts.campaign_id).cancelled_at is not None
    (entry,) = said(h, "Campaign cancelled")
    assert ts.campaign_id in entry and "cancelled" in entry

    # OceanConnect has no cancel: no dialog, the reason instead.
    oc = next(c for c in campaigns if c.provider == PROVIDER[OC] and c.active)
    await highlight_campaign(pilot, screen, oc)
    assert op_shown(screen, "cancel") and not op_shown(screen, "add")  # ThingSpace only
    await pilot.press("x")
    await pilot.pause()
    assert h.app.screen is screen
    (why,) = said(h, "Cannot cancel")
    assert "OceanConnect campaigns cannot be cancelled" in why and "no stop or cancel" in why
    assert h.job(OC, oc.campaign_id).cancelled_at is None


async def thingspace_add_and_remove_devices(
    pilot: Any, h: WizardHarness, screen: CampaignsScreen
) -> None:
    ts = next(
        c
        for c in h.app.session.campaigns()
        if c.provider == PROVIDER[TS] and c.active and not h.job(TS, c.campaign_id).cancelled_at
    )
    await highlight_campaign(pilot, screen, ts)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(h.app.screen, CampaignDetailScreen))
    detail = h.app.screen
    await wait_for(pilot, lambda: detail.loads > 0)  # type: ignore[attr-defined]
    assert op_shown(detail, "add") and op_shown(detail, "remove")  # ThingSpace can
    table = detail.panel.table  # type: ignore[attr-defined]
    victim = table.rows[0]
    table.set_selection([victim.key])

    await pilot.press("minus")
    await wait_for(pilot, lambda: isinstance(h.app.screen, ChangeDevicesScreen))
    dialog = h.app.screen
    assert dialog.query_one("#change-ids", TextArea).text == victim.device_id
    dialog.query_one("#change-apply", Button).press()
    await wait_for(pilot, lambda: bool(said(h, "Devices changed")))
    assert h.job(TS, ts.campaign_id).targets[victim.device_id].removed_at is not None

    # A device of another model: the platform refuses it, and the console says so.
    job = h.job(TS, ts.campaign_id)
    idle = [r for r in idle_rows(h.app, PROVIDER[TS]) if r.device_id not in job.targets]
    stranger = next(r for r in idle if r.model != job.firmware.model)
    newcomer = next(
        r
        for r in idle
        if r.model == job.firmware.model
        and r.provider_status_raw == {"fotaEligible": True, "licenseAssigned": True}
    )
    await add_through_the_dialog(pilot, h, stranger.device_id, notices=2)
    await add_through_the_dialog(pilot, h, newcomer.device_id, notices=3)
    refused, added = said(h, "Devices changed")[1:]
    assert "0 of 1 device(s) added" in refused and stranger.device_id in refused
    assert "does not match" in refused  # the platform's reason, shown literally
    assert stranger.device_id not in job.targets
    assert "1 of 1 device(s) added" in added and newcomer.device_id in job.targets

    # Elsewhere the platform cannot change a campaign's devices: not offered.
    await pilot.press("escape")
    oc = next(c for c in h.app.session.campaigns() if c.provider == PROVIDER[OC])
    await highlight_campaign(pilot, screen, oc)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(h.app.screen, CampaignDetailScreen))
    assert not h.app.screen.check_action("campaign_op", ("add",))
    await pilot.press("escape")
    await wait_for(pilot, lambda: h.app.screen is screen)


async def add_through_the_dialog(
    pilot: Any, h: WizardHarness, device_id: str, *, notices: int
) -> None:
    """``+``, a bad id first (Add stays disabled, the rule is named), then ``device_id``."""
    await pilot.press("plus")
    await wait_for(pilot, lambda: isinstance(h.app.screen, ChangeDevicesScreen))
    dialog = h.app.screen
    ids = dialog.query_one("#change-ids", TextArea)
    apply = dialog.query_one("#change-apply", Button)
    ids.text = "123"
    await wait_for(
        pilot, lambda: "thingspace.imei" in str(dialog.query_one("#change-errors").render())
    )
    assert apply.disabled
    ids.text = device_id
    await wait_for(pilot, lambda: not apply.disabled)
    apply.press()
    await wait_for(pilot, lambda: len(said(h, "Devices changed")) == notices)


async def retry_failed_opens_the_wizard_with_the_failed_devices(
    pilot: Any, h: WizardHarness, screen: CampaignsScreen
) -> None:
    snap = h.app.session.snapshot(PROVIDER[TS])
    assert snap is not None
    failed: dict[str, list[str]] = {}
    for u in snap.upgrades:
        if u.state in RETRY_STATES and u.campaign_id:
            failed.setdefault(u.campaign_id, []).append(u.device_id)
    campaign = next(
        c
        for c in h.app.session.campaigns()
        if c.provider == PROVIDER[TS] and c.campaign_id in failed
    )
    await highlight_campaign(pilot, screen, campaign)
    await pilot.press("R")
    await wait_for(pilot, lambda: h.app.screen is not screen)
    w = wizard(h.app)
    await wait_for(pilot, lambda: w.form.provider == PROVIDER[TS])
    expected = list(dict.fromkeys(failed[campaign.campaign_id]))
    assert w.form.pasted.split("\n") == expected and not w.form.use_table
    assert w.form.name == f"Retry of {campaign.name or campaign.campaign_id}"
    assert w.query_one("#tg-paste", TextArea).text.split("\n") == expected
    assert w.form.firmware  # the campaign's firmware, from the platform's list
    assert not w.query_one("#wiz-next").disabled


async def test_retry_failed_on_oceanconnect_comes_up_with_its_package() -> None:
    """Every OceanConnect campaign with failures: the retry wizard keeps its package."""
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        screen = await open_campaigns(pilot, h)
        snap = h.app.session.snapshot(PROVIDER[OC])
        assert snap is not None
        failed = {u.campaign_id for u in snap.upgrades if u.state in RETRY_STATES}
        campaigns = [
            c
            for c in h.app.session.campaigns()
            if c.provider == PROVIDER[OC] and c.campaign_id in failed
        ]
        assert campaigns
        for campaign in campaigns:
            await highlight_campaign(pilot, screen, campaign)
            await pilot.press("R")
            await wait_for(pilot, lambda: h.app.screen is not screen)
            w = wizard(h.app)
            await wait_for(pilot, lambda w=w: w.form.provider == PROVIDER[OC])
            await pilot.pause()
            # Before, the pre-filled package was dropped while its list was not read yet.
            assert w.form.firmware, campaign
            await pilot.press("escape")
            await wait_for(pilot, lambda: h.app.screen is screen)

"""What keeps the wizard safe: inline rules block Next, Esc changes nothing, a production
profile needs its name typed, read-only never opens it, Submit sends exactly once, and a
lost answer or a rejection is shown as it is."""

from __future__ import annotations

from textual.widgets import Button, Input, Select, TextArea
from wizard_harness import (
    PROVIDER,
    WizardHarness,
    catalogue,
    error_text,
    fitting_rows,
    go_next,
    highlight,
    idle_rows,
    next_button,
    set_value,
    start,
    wait_for,
    wizard_app,
)

from fota_tui.models import ExecuteType, ProviderKind
from fota_tui.services.campaigns import open_session
from fota_tui.tui.screens.campaign_ops import CancelCampaignScreen
from fota_tui.tui.screens.campaigns import CampaignDetailScreen
from fota_tui.tui.screens.dashboard import DashboardScreen
from fota_tui.tui.screens.wizard import CampaignWizardScreen, open_wizard

TS, OC, ON, AX = (
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
)
TS_CREATE = "/campaigns/firmware/"


def blocked_by(w: CampaignWizardScreen, control_id: str, rule: str) -> bool:
    """Next is disabled and the field's message names the rule (and the line above
    the buttons says why)."""
    return (
        next_button(w).disabled
        and rule in error_text(w, control_id)
        and rule in str(w.query_one("#wiz-blockers").render())
    )


async def open_for(pilot: object, h: WizardHarness, kind: ProviderKind, ids: list[str]):  # type: ignore[no-untyped-def]
    screen = open_wizard(h.app, provider=PROVIDER[kind], device_ids=ids)
    assert screen is not None
    await wait_for(pilot, lambda: h.app.screen is screen and screen.form.provider)
    return screen


async def close_with_escape(pilot: object, h: WizardHarness, w: CampaignWizardScreen) -> None:
    """Esc steps back one step at a time to the first step, then closes."""
    steps = []
    while h.app.screen is w:
        steps.append(w.step)
        await pilot.press("escape")  # type: ignore[attr-defined]
    assert steps == ["schedule", "targets", "firmware", "provider"]
    assert isinstance(h.app.screen, DashboardScreen)


async def cancel(pilot: object, h: WizardHarness, w: CampaignWizardScreen) -> None:
    w.query_one("#wiz-cancel", Button).press()
    await wait_for(pilot, lambda: isinstance(h.app.screen, DashboardScreen))


async def test_platform_rules_block_next_inline_and_escape_changes_nothing() -> None:
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        jobs_before = {kind: h.jobs(kind) for kind in ProviderKind}

        # ThingSpace: windows need end >= start + 4 h; dates not before today.
        fw = next(f for f in await catalogue(h, TS) if fitting_rows(h.app, PROVIDER[TS], f, 2))
        rows = fitting_rows(h.app, PROVIDER[TS], fw, 2)
        w = await open_for(pilot, h, TS, [r.device_id for r in rows])
        await pilot.press("c", "d")  # the console's keys do not drop the wizard
        assert h.app.screen is w
        await go_next(pilot, w, "firmware")
        assert blocked_by(w, "fw-chosen", "thingspace.firmware")  # nothing chosen yet
        await highlight(pilot, w, fw.firmware_id)
        await go_next(pilot, w, "targets")
        await go_next(pilot, w, "schedule")
        await set_value(pilot, w, "#sc-windows", "0-2")
        assert blocked_by(w, "sc-windows", "thingspace.window_length")
        assert "end >= start + 4 h" in error_text(w, "sc-windows")
        await set_value(pilot, w, "#sc-windows", "0-6")
        await set_value(pilot, w, "#sc-start", "2026-11-01")
        assert blocked_by(w, "sc-start", "thingspace.start_date")
        await set_value(pilot, w, "#sc-start", "today")
        assert not next_button(w).disabled
        await close_with_escape(pilot, h, w)

        # OceanConnect: retryTimes 1..5; a custom window needs end - start > 5 min.
        rows = idle_rows(h.app, PROVIDER[OC])[:1]
        w = await open_for(pilot, h, OC, [r.device_id for r in rows])
        await go_next(pilot, w, "firmware")
        first = w.query_one("#fw-list")
        await highlight(pilot, w, first.get_option_at_index(0).id)  # type: ignore[attr-defined]
        await go_next(pilot, w, "targets")
        # Devices and groups together are refused by the platform's rule.
        await set_value(pilot, w, "#tg-groups", "meters")
        assert blocked_by(w, "tg-groups", "oceanconnect.devices_or_groups")
        await set_value(pilot, w, "#tg-groups", "")
        await go_next(pilot, w, "schedule")
        assert w.query_one("#sc-start", Input).disabled  # only for a custom window
        await set_value(pilot, w, "#sc-retry-times", "9")
        assert blocked_by(w, "sc-retry-times", "oceanconnect.retry_times")
        await set_value(pilot, w, "#sc-retry-times", "3")
        w.query_one("#sc-execute", Select).value = ExecuteType.CUSTOM.value
        await set_value(pilot, w, "#sc-start", "+1h")
        await set_value(pilot, w, "#sc-end", "+1h")
        assert blocked_by(w, "sc-end", "oceanconnect.window")
        await set_value(pilot, w, "#sc-end", "+2h")
        assert not next_button(w).disabled
        await cancel(pilot, h, w)

        # OneNET: IMEIs are 15 digits; the expiry is required.
        w = await open_for(pilot, h, ON, [])
        await go_next(pilot, w, "firmware")
        await set_value(pilot, w, "#onenet-uri", "coap://fw.example.com/p.bin")
        await go_next(pilot, w, "targets")
        assert blocked_by(w, "tg-paste", "common.no_targets")
        w.query_one("#tg-paste", TextArea).text = "12345, 867389157391037"
        await wait_for(pilot, lambda: "onenet.imei" in error_text(w, "tg-paste"))
        assert blocked_by(w, "tg-paste", "onenet.imei") and "'12345'" in error_text(w, "tg-paste")
        w.query_one("#tg-paste", TextArea).text = "867389157391037"
        await wait_for(pilot, lambda: not next_button(w).disabled)
        await go_next(pilot, w, "schedule")
        await set_value(pilot, w, "#sc-end", "")
        assert blocked_by(w, "sc-end", "onenet.expired_time")
        await cancel(pilot, h, w)

        # AOVX: the fileUrl's scheme must match the protocol.
        rows = idle_rows(h.app, PROVIDER[AX])[:1]
        w = await open_for(pilot, h, AX, [r.device_id for r in rows])
        await go_next(pilot, w, "firmware")
        await set_value(pilot, w, "#aovx-url", "ftp://files.example/FOTA/A8_V3.2.0.bin")
        assert blocked_by(w, "aovx-url", "aovx.file_url_protocol")
        w.query_one("#aovx-protocol", Select).value = 0  # FTP
        await wait_for(pilot, lambda: not next_button(w).disabled)
        await cancel(pilot, h, w)

        # Nothing was sent or journalled by any of it.
        assert {kind: h.jobs(kind) for kind in ProviderKind} == jobs_before
        assert h.journal.entries() == []


async def walk_to_confirm(pilot: object, h: WizardHarness) -> CampaignWizardScreen:
    fw = next(
        f
        for f in await catalogue(h, TS)
        if f.protocol == "LWM2M" and len(fitting_rows(h.app, PROVIDER[TS], f, 2)) == 2
    )
    rows = fitting_rows(h.app, PROVIDER[TS], fw, 2)
    w = await open_for(pilot, h, TS, [r.device_id for r in rows])
    await go_next(pilot, w, "firmware")
    await highlight(pilot, w, fw.firmware_id)
    for step in ("targets", "schedule", "review", "confirm"):
        await go_next(pilot, w, step)
    return w


async def test_production_needs_the_profile_name_and_submit_sends_once() -> None:
    h = wizard_app(environment="production")
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        w = await walk_to_confirm(pilot, h)
        submit = next_button(w)
        assert str(submit.label) == "Submit" and submit.disabled
        assert "type the profile name" in str(w.query_one("#wiz-blockers").render())
        await pilot.press("ctrl+n")  # never submits
        await set_value(pilot, w, "#confirm-name", "dem")
        assert submit.disabled
        await set_value(pilot, w, "#confirm-name", "demo")
        assert not submit.disabled
        preview = w.preview
        assert preview is not None
        before = h.jobs(TS)
        # Two clicks in the same instant, then Enter in the name field.
        w.query_one("#confirm-name", Input).focus()
        submit.press()
        submit.press()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(h.app.screen, CampaignDetailScreen))
        assert w.submits == 1
        assert len(h.jobs(TS) - before) == 1
        # The preview's batch id protects too: submitting it again sends nothing.
        session = open_session(
            h.app.session.profile,
            h.app.workspace.data_dir,
            transport=h.demo.transport,
            now=h.clock.now,
        )
        again = await session.service(PROVIDER[TS]).submit(preview)
        await session.aclose()
        assert again.already_submitted and len(h.jobs(TS) - before) == 1
        assert [e.batch_id for e in h.journal.entries()] == [preview.batch_id]

        # Cancelling it from its progress view needs the profile name too.
        (job_id,) = h.jobs(TS) - before
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(h.app.screen, CancelCampaignScreen))
        dialog = h.app.screen
        go = dialog.query_one("#cancel-go", Button)
        assert go.disabled and dialog.focused is dialog.query_one("#cancel-confirm-name")
        await pilot.press(*"demo")
        assert not go.disabled
        await pilot.press("enter")
        await wait_for(pilot, lambda: h.job(TS, job_id).cancelled_at is not None)


async def test_lost_answer_shows_the_reconciliation_and_a_rejection_shows_the_platform() -> None:
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        faults = h.demo.simulator.faults

        # The platform refuses (429): the result names the platform's answer, and Esc
        # goes back to a fresh dry run.
        w = await walk_to_confirm(pilot, h)
        faults.script(TS, "throttle", method="POST", path_contains=TS_CREATE)
        before = h.jobs(TS)
        w.query_one("#wiz-next", Button).press()
        await wait_for(pilot, lambda: w.step == "result")
        text = str(w.query_one("#result-body").render())
        assert "refused" in text and "Rate limited" in text
        assert h.jobs(TS) == before
        await pilot.press("escape")
        await wait_for(pilot, lambda: w.step == "review" and w.preview is not None)
        assert w.preview.ok  # type: ignore[union-attr]

        # The create reaches the platform but the answer is lost: fota-tui reconciles
        # (lists the platform's campaigns) and shows that; one campaign exists.
        faults.script(TS, "reset_after", method="POST", path_contains=TS_CREATE)
        await go_next(pilot, w, "confirm")
        w.query_one("#wiz-next", Button).press()
        await wait_for(pilot, lambda: w.step == "result")
        text = str(w.query_one("#result-body").render())
        assert "reconciliation" in text and "created" in text.lower()
        assert len(h.jobs(TS) - before) == 1
        assert str(next_button(w).label) == "Open progress ›"
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(h.app.screen, CampaignDetailScreen))
        (created,) = h.jobs(TS) - before
        assert h.app.screen.campaign_id == created  # type: ignore[attr-defined]


async def test_read_only_never_opens_the_wizard_and_says_why() -> None:
    h = wizard_app(read_only=True)
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        dashboard = h.app.screen
        await pilot.press("n")  # the key is not even offered
        assert h.app.screen is dashboard
        assert open_wizard(h.app, provider=PROVIDER[TS]) is None
        # Pushed directly (another hook), it closes itself at once.
        h.app.push_screen(CampaignWizardScreen(h.app.session, []))
        await wait_for(pilot, lambda: h.app.screen is dashboard)
        said = [m for _, m in h.app.notifications_sent if "read-only" in m]
        assert len(said) == 2 and all("cannot be created" in m for m in said)
        # The campaigns view offers no operation either.
        await pilot.press("c")
        await wait_for(pilot, lambda: h.app.screen is not dashboard)
        for op in ("cancel", "retry", "add", "remove"):
            assert h.app.screen.check_action("campaign_op", (op,)) is False
        assert h.journal.entries() == []

"""The campaign wizard end to end, for each platform, against the in-process simulator:
real firmware, real devices selected in the table, and the job the simulator ends up with."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from textual.widgets import Input, Select
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
    pause,
    select_rows,
    set_value,
    start,
    type_into,
    wait_for,
    wizard,
    wizard_app,
)

from fota_tui.models import ExecuteType, ProviderKind
from fota_tui.tui.screens.campaigns import CampaignDetailScreen
from fota_tui.tui.screens.wizard import CampaignWizardScreen, open_wizard

TS, OC, ON, AX = (
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
)
ONENET_URI = "coap://fw.example.com/pkg/BC28JAR01A09.bin"


async def submit(pilot: object, h: WizardHarness, w: CampaignWizardScreen) -> None:
    """Review → Confirm → Submit (the button, focused on purpose), then the progress view."""
    assert w.preview is not None and w.preview.ok, w.preview and w.preview.problems
    await go_next(pilot, w, "confirm")
    button = next_button(w)
    assert str(button.label) == "Submit" and not button.disabled
    button.focus()
    await pilot.press("enter")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(h.app.screen, CampaignDetailScreen))
    await wait_for(pilot, lambda: h.app.screen.loads > 0)  # type: ignore[attr-defined]


def new_job(h: WizardHarness, kind: ProviderKind, before: set[str]):  # type: ignore[no-untyped-def]
    (job_id,) = h.jobs(kind) - before
    return h.job(kind, job_id)


def new_targets(h: WizardHarness, kind: ProviderKind, before: set[str]) -> Counter[str]:
    """How many new simulator jobs each device is in (OneNET: one job per command)."""
    return Counter(d for j in h.jobs(kind) - before for d in h.job(kind, j).targets)


def progress_devices(h: WizardHarness) -> set[str]:
    screen = h.app.screen
    assert isinstance(screen, CampaignDetailScreen)
    return {row.device_id for row in screen.store}


async def test_thingspace_campaign_from_the_selected_rows() -> None:
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        firmware = next(
            fw
            for fw in await catalogue(h, TS)
            if fw.protocol == "LWM2M" and len(fitting_rows(h.app, PROVIDER[TS], fw, 3)) == 3
        )
        rows = fitting_rows(h.app, PROVIDER[TS], firmware, 3)
        select_rows(h.app, rows)
        await pilot.press("n")
        w = wizard(h.app)
        assert w.step == "provider" and w.form.provider == PROVIDER[TS]  # the rows' provider
        await go_next(pilot, w, "firmware")
        # The list holds only what fits the selected devices' model.
        assert "fits 3/3" in str(w.query_one("#fw-list").get_option(firmware.firmware_id).prompt)
        await highlight(pilot, w, firmware.firmware_id)
        assert w.form.firmware == firmware.firmware_id
        await go_next(pilot, w, "targets")
        assert w.built is not None and set(w.built.targets.ids) == {r.device_id for r in rows}
        await go_next(pilot, w, "schedule")
        await set_value(pilot, w, "#sc-windows", "0-6, 20-24")
        w.query_one("#sc-license").value = True  # type: ignore[attr-defined]
        await pause(pilot)
        await go_next(pilot, w, "review")
        assert {d.device_id for d in w.preview.eligible} == {r.device_id for r in rows}  # type: ignore[union-attr]
        before = h.jobs(TS)
        await submit(pilot, h, w)
        job = new_job(h, TS, before)
        assert set(job.targets) == {r.device_id for r in rows}
        assert job.windows == [(0, 6), (20, 24)]
        assert (
            job.firmware.firmware_id == firmware.firmware_id or job.firmware.name == firmware.name
        )
        assert h.app.screen.campaign_id == job.job_id  # type: ignore[attr-defined]
        assert progress_devices(h) == {r.device_id for r in rows}
        (entry,) = h.journal.entries()
        assert entry.state == "created" and entry.campaign_ids == [job.job_id]
        # A submitted selection cannot be sent again by accident: it is cleared.
        assert h.app.dashboard().table.selected_keys == frozenset()


async def test_oceanconnect_custom_task_with_retries() -> None:
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        firmware = next(
            fw
            for fw in await catalogue(h, OC)
            if fw.file_type == "firmware" and len(fitting_rows(h.app, PROVIDER[OC], fw, 2)) == 2
        )
        rows = fitting_rows(h.app, PROVIDER[OC], firmware, 2)
        select_rows(h.app, rows)
        await pilot.press("n")
        w = wizard(h.app)
        assert w.form.provider == PROVIDER[OC]
        await go_next(pilot, w, "firmware")
        # Software packages are not offered for a firmware upgrade, and vice versa.
        listing = w.query_one("#fw-list")
        offered = [listing.get_option_at_index(i).id for i in range(listing.option_count)]  # type: ignore[attr-defined]
        assert firmware.firmware_id in offered
        w.query_one("#oc-file-type", Select).value = "software"
        await pause(pilot)
        offered_sw = [listing.get_option_at_index(i).id for i in range(listing.option_count)]  # type: ignore[attr-defined]
        assert firmware.firmware_id not in offered_sw
        w.query_one("#oc-file-type", Select).value = "firmware"
        await pause(pilot)
        await highlight(pilot, w, firmware.firmware_id)
        await go_next(pilot, w, "targets")
        await go_next(pilot, w, "schedule")
        w.query_one("#sc-execute", Select).value = ExecuteType.CUSTOM.value
        await pause(pilot)
        await set_value(pilot, w, "#sc-start", "+1h")
        await set_value(pilot, w, "#sc-end", "+1d")
        await type_into(pilot, w, "#sc-retry-times", "2")
        await go_next(pilot, w, "review")
        before = h.jobs(OC)
        await submit(pilot, h, w)
        job = new_job(h, OC, before)
        assert set(job.targets) == {r.device_id for r in rows}
        assert (job.start_at - h.clock.now()).total_seconds() == 3600
        assert (job.end_at - h.clock.now()).total_seconds() == 86400
        assert progress_devices(h) == {r.device_id for r in rows}


async def test_onenet_cached_commands_with_a_typed_package_uri() -> None:
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        rows = [r for r in idle_rows(h.app, PROVIDER[ON]) if r.firmware != "BC28JAR01A09"][:2]
        select_rows(h.app, rows)
        listed = [r.device_id for r in h.app.dashboard().table.selected_rows()]  # table order
        await pilot.press("n")
        w = wizard(h.app)
        assert w.form.provider == PROVIDER[ON]
        await go_next(pilot, w, "firmware")
        assert next_button(w).disabled  # no package URI yet
        assert "onenet.package_uri" in error_text(w, "onenet-uri")
        await set_value(pilot, w, "#onenet-uri", "ftp://fw.example.com/p.bin")
        assert next_button(w).disabled and "onenet.package_uri" in error_text(w, "onenet-uri")
        await set_value(pilot, w, "#onenet-uri", ONENET_URI)
        await set_value(pilot, w, "#onenet-version", "BC28JAR01A09")
        await go_next(pilot, w, "targets")
        await go_next(pilot, w, "schedule")
        assert w.query_one("#sc-end", Input).value == "+1d"  # expired_time is required
        await type_into(pilot, w, "#sc-on-retry", "5")
        await go_next(pilot, w, "review")
        writes = [r for r in w.preview.all_requests if r.url.endswith("/nbiot/offline")]  # type: ignore[union-attr]
        assert [r.params["imei"] for r in writes] == listed  # one write each, as listed
        assert all(r.params["retry"] == 5 for r in writes)
        before = h.jobs(ON)
        await submit(pilot, h, w)
        targets = new_targets(h, ON, before)
        assert set(targets) == {h.sim_id(ON, r.device_id) for r in rows}
        (entry,) = h.journal.entries()
        assert h.app.screen.campaign_id == entry.group_id  # type: ignore[attr-defined]
        assert progress_devices(h) == {r.device_id for r in rows}


async def test_aovx_ota_command_from_the_file_list_and_a_csv_file(tmp_path: Path) -> None:
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        files = await catalogue(h, AX)
        chosen = files[1]
        idle = idle_rows(h.app, PROVIDER[AX])
        rows, extra = idle[:2], idle[2]
        select_rows(h.app, rows)
        # A CSV export of two terminals: one already selected, one more.
        csv = tmp_path / "terminals.csv"
        csv.write_text(f"terminal_id,name\n{rows[0].device_id},x\n{extra.device_id},y\n")
        await pilot.press("n")
        w = wizard(h.app)
        assert w.form.provider == PROVIDER[AX]
        await go_next(pilot, w, "firmware")
        await highlight(pilot, w, chosen.firmware_id)
        await pilot.press("enter")  # copies the file into the fields
        await pause(pilot)
        assert w.query_one("#aovx-url", Input).value == chosen.url
        assert w.query_one("#aovx-version", Input).value == chosen.version
        assert w.query_one("#aovx-protocol", Select).value == 1
        await go_next(pilot, w, "targets")
        await set_value(pilot, w, "#tg-csv", str(csv))
        wanted = [rows[0].device_id, rows[1].device_id, extra.device_id]
        assert w.built is not None and sorted(w.built.targets.ids) == sorted(wanted)
        summary = str(w.query_one("#tg-summary").render())
        assert "3 devices" in summary and "2 from the file" in summary
        assert "1 duplicate removed" in summary
        await go_next(pilot, w, "schedule")  # nothing to set on AOVX
        await go_next(pilot, w, "review")
        (request,) = w.preview.all_requests  # type: ignore[union-attr]
        assert request.body["fileUrl"] == chosen.url
        assert sorted(request.body["terminalIds"]) == sorted(wanted)
        before = h.jobs(AX)
        await submit(pilot, h, w)
        job = new_job(h, AX, before)
        assert set(job.targets) == {h.sim_id(AX, d) for d in wanted}
        assert progress_devices(h) == set(wanted)


async def test_moving_between_providers_keeps_what_was_typed_for_each() -> None:
    h = wizard_app()
    async with h.app.run_test(size=(120, 40)) as pilot:
        await start(pilot, h.app)
        screen = open_wizard(h.app, provider=PROVIDER[ON])
        assert screen is not None
        await wait_for(pilot, lambda: h.app.screen is screen and screen.form.provider)
        w = wizard(h.app)
        await go_next(pilot, w, "firmware")
        await set_value(pilot, w, "#onenet-uri", ONENET_URI)
        await set_value(pilot, w, "#onenet-version", "BC28JAR01A09")
        await pilot.press("escape")  # back to the provider step
        await wait_for(pilot, lambda: w.step == "provider")
        await w._choose_provider(PROVIDER[AX])  # the highlight moves on: another form
        assert w.form.provider == PROVIDER[AX] and not w.form.firmware
        await w._choose_provider(PROVIDER[ON])  # and back: nothing typed is lost
        assert w.form.firmware == ONENET_URI and w.form["onenet-version"] == "BC28JAR01A09"
        await go_next(pilot, w, "firmware")
        assert w.query_one("#onenet-uri", Input).value == ONENET_URI

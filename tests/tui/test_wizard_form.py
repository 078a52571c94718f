"""The wizard's form and review text without a terminal: parsing what was typed, merging
targets, mapping problems to steps, pre-filling from a spec, and rendering a dry run
(split plan, masked requests, platform text shown literally)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fota_tui.models import CampaignSpec, ExecuteType, ProviderKind
from fota_tui.providers.rules import RuleContext
from fota_tui.services.campaigns import Problem, check_rules, open_session
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.demo import build_demo
from fota_tui.tui.screens.wizard_form import (
    WizardForm,
    form_from_spec,
    parse_when,
    parse_windows,
    read_id_file,
    split_ids,
    step_of,
)
from fota_tui.tui.screens.wizard_review import plain, preview_content, problem_line

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TODAY = NOW.replace(hour=0)
TS, OC, ON, AX = (
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
)


def checker(kind: ProviderKind):  # type: ignore[no-untyped-def]
    return lambda spec: check_rules(kind, spec, RuleContext(now=NOW, label=kind.label))


def test_ids_are_split_on_lines_commas_semicolons_and_spaces() -> None:
    assert split_ids(" a,b;c\n d  e,,\n") == ["a", "b", "c", "d", "e"]
    assert split_ids("  \n ") == []


def test_hour_windows_and_times_parse_or_say_what_is_expected() -> None:
    assert parse_windows("0-6, 20 - 24") == ([(0, 6), (20, 24)], "")
    assert parse_windows("") == ([], "")
    windows, error = parse_windows("0-6, 8")
    assert windows == [] and "start-end" in error and "'8'" in error
    assert parse_when("2026-11-23", NOW)[0] == datetime(2026, 11, 23, tzinfo=UTC)
    assert parse_when("today", NOW)[0] == datetime(2026, 11, 22, tzinfo=UTC)
    assert parse_when("2026-11-23 10:30", NOW)[0] == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    assert parse_when("+2h", NOW)[0] == NOW + timedelta(hours=2)
    assert parse_when("20261123T000000Z", NOW)[0] == datetime(2026, 11, 23, tzinfo=UTC)
    value, error = parse_when("tomorrow-ish", NOW)
    assert value is None and "expected a UTC time" in error and "tomorrow-ish" in error


def test_csv_ids_skip_header_blank_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("imei,name\n352349110314189,a\n\n# later\n352349110397606,b\n")
    assert read_id_file(str(path)) == (["352349110314189", "352349110397606"], "")
    assert read_id_file("ids.csv", tmp_path)[0] == ["352349110314189", "352349110397606"]
    missing = read_id_file(str(tmp_path / "nope.csv"))
    assert missing[0] == [] and "file not found" in missing[1] and "nope.csv" in missing[1]
    assert "is a directory" in read_id_file(str(tmp_path))[1]
    (tmp_path / "empty.csv").write_text("imei\n")
    assert "holds no device ids" in read_id_file(str(tmp_path / "empty.csv"))[1]


def test_targets_merge_table_paste_and_file_without_duplicates(tmp_path: Path) -> None:
    (tmp_path / "more.csv").write_text("c\nd\n")
    form = WizardForm(
        provider="p", kind=AX, table_ids=("a", "b"), pasted="b c", csv_path="more.csv"
    )
    targets = form.targets(tmp_path)
    assert targets.ids == ["a", "b", "c", "d"]
    assert (targets.from_table, targets.pasted, targets.from_file) == (2, 2, 2)
    assert targets.duplicates == 2
    form.use_table = False
    assert form.targets(tmp_path).ids == ["b", "c", "d"]
    form.csv_path = "gone.csv"
    (problem,) = form.targets(tmp_path).problems
    assert problem.field == "devices_file" and "file not found" in problem.message


def test_problems_belong_to_the_step_that_edits_their_field() -> None:
    assert step_of("firmware") == "firmware"
    assert step_of("options.file_type") == "firmware"
    assert step_of("devices[3]") == "targets"
    assert step_of("options.model") == "targets"
    assert step_of("windows[0]") == "schedule"
    assert step_of("options.trigger_msg") == "schedule"
    assert step_of("provider") == "provider"
    assert step_of("spec") == "review"


def test_build_reports_the_platform_rule_and_blocks_only_its_step() -> None:
    form = WizardForm(provider="ts", kind=TS, firmware="fw", table_ids=("352349110314189",))
    form.set_schedule_defaults(NOW)
    form["sc-windows"] = "0-2"
    built = form.build(NOW, checker(TS))
    assert built.spec is not None
    (window,) = built.for_step("schedule")
    assert window.rule == "thingspace.window_length" and window.field == "windows[0]"
    assert built.blocking("targets") == []  # an earlier step is not blocked by a later one
    assert built.blocking("schedule") == [window]
    form["sc-windows"] = "0-6"
    assert form.build(NOW, checker(TS)).problems == []


def test_unparsable_fields_name_the_field_and_do_not_hide_others() -> None:
    form = WizardForm(provider="oc", kind=OC, firmware="fw", pasted="dev-1")
    form["sc-execute"] = ExecuteType.CUSTOM.value
    form["sc-start"], form["sc-end"], form["sc-retry-times"] = "soon", "+1d", "three"
    built = form.build(NOW, checker(OC))
    by_field = {p.field: p for p in built.problems}
    assert by_field["start_at"].rule == "wizard.time"
    assert by_field["retry_times"].rule == "wizard.number"
    assert "a whole number (got 'three')" in by_field["retry_times"].message
    # The missing start from the unparsable text is not reported twice.
    assert [p.field for p in built.problems].count("start_at") == 1


def test_an_accepted_split_lifts_only_the_256_device_limit() -> None:
    ids = "\n".join(f"dev-{i}" for i in range(300))
    form = WizardForm(provider="oc", kind=OC, firmware="fw", pasted=ids)
    assert [p.rule for p in form.build(NOW, checker(OC)).problems] == ["oceanconnect.max_targets"]
    form.split = True
    assert form.build(NOW, checker(OC)).problems == []


def test_oceanconnect_groups_take_the_package_device_kind() -> None:
    from fota_tui.models import Firmware

    package = Firmware(
        provider="oc",
        kind=OC,
        firmware_id="pkg",
        name="pkg",
        model="BC28",
        device_type="GasMeter",
        make="Quectel",
        file_type="firmware",
    )
    form = WizardForm(provider="oc", kind=OC, firmware="pkg", groups="north, south")
    built = form.build(NOW, checker(OC), catalogue=[package])
    assert built.problems == [] and built.spec is not None
    assert built.spec.device_groups == ["north", "south"]
    assert built.spec.options["model"] == "BC28" and built.spec.options["device_type"] == "GasMeter"


@pytest.mark.parametrize(
    "spec",
    [
        CampaignSpec(
            provider="ts",
            firmware="fw",
            devices=["352349110314189"],
            name="Retry of x",
            start_at=TODAY,
            end_at=TODAY + timedelta(days=7),
            windows=[(0, 6)],  # dates only
            options={"api": "v3", "auto_assign_license": True, "auto_add_devices": False},
        ),
        CampaignSpec(
            provider="oc",
            firmware="pkg",
            devices=["d1", "d2"],
            execute_type="custom",
            start_at=NOW + timedelta(hours=1),
            end_at=NOW + timedelta(days=1),
            retry_times=2,
            options={"file_type": "software", "retry": True},
        ),
        CampaignSpec(
            provider="on",
            firmware="coap://h/p.bin",
            firmware_to="v9",
            devices=["867389157391037"],
            end_at=NOW + timedelta(days=1),
            options={"retry": 4, "timeout": 30, "trigger_msg": 3},
        ),
        CampaignSpec(
            provider="ax",
            firmware="http://h/A8_V3.2.0.bin",
            devices=["5486A44551F8D5DCE4DB2C3E9D011E38"],
            options={"type": 1, "mode": 0, "protocol": 1, "version": "A8_V3.2.0"},
        ),
    ],
    ids=["thingspace", "oceanconnect", "onenet", "aovx"],
)
def test_a_spec_prefills_a_form_that_builds_the_same_spec(spec: CampaignSpec) -> None:
    kind = {"ts": TS, "oc": OC, "on": ON, "ax": AX}[spec.provider]
    form = form_from_spec(spec, kind)
    assert not form.use_table and split_ids(form.pasted) == spec.devices
    built = form.build(NOW, lambda s: [])
    assert built.spec == spec


def test_platform_text_is_shown_literally() -> None:
    hostile = "[bold red]pwned[/] \x1b[2J\x07 ok"
    text = plain(hostile).plain
    assert "[bold red]pwned[/]" in text and "\x1b" not in text and "\x07" not in text
    line = problem_line(Problem("devices[0]", "devices[0]: bad \x1b[31m", "x.rule")).plain
    assert "\x1b" not in line and "[x.rule]" in line


async def test_review_shows_the_split_plan_and_masks_secrets(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    demo = build_demo(devices=1000, clock=clock, kinds=(OC,))
    session = open_session(demo.profile, tmp_path, transport=demo.transport, now=clock.now)
    try:
        svc = session.service("oceanconnect-demo")
        devices = [d async for d in svc.client.devices()]
        busy = {u.device_id async for u in svc.client.upgrades() if u.state.active}
        packages = [f for f in await svc.firmware() if f.file_type == "firmware"]

        def fitting(fw):  # type: ignore[no-untyped-def]
            return [
                d.device_id
                for d in devices
                if d.device_id not in busy and d.model == fw.model and d.firmware != fw.version
            ]

        fw = max(packages, key=lambda f: len(fitting(f)))
        ids = fitting(fw)
        assert len(ids) > 256
        spec = CampaignSpec(provider=svc.name, firmware=fw.firmware_id, devices=ids)
        refused = preview_content(await svc.preview(spec)).plain
        assert "oceanconnect.max_targets" in refused and "nothing can be sent" in refused
        preview = await svc.preview(spec, split=True)
        text = preview_content(preview).plain
        eligible = len(preview.eligible)
        assert "Split plan: 2 jobs" in text
        assert "job 1/2: 256 devices" in text and f"job 2/2: {eligible - 256} devices" in text
        assert "Requests that will be sent (2, secrets masked)" in text
        cfg = demo.profile.provider(svc.name)
        secrets = [getattr(cfg, f) for f in cfg.secret_fields if getattr(cfg, f)]
        assert secrets and not [s for s in secrets if s in text]
    finally:
        await session.aclose()


def test_problem_lines_use_visible_labels_and_positions_counted_from_one() -> None:
    from fota_tui.services.campaigns.problems import problem
    from fota_tui.tui.screens.wizard_review import problem_line

    target = problem("devices[2]", "thingspace.imei", "IMEIs have 15 digits")
    assert problem_line(target).plain.startswith("✗ target #3: IMEIs have 15 digits")
    fw = problem("firmware", "oceanconnect.package", "needs a package fileId")
    line = problem_line(fw, prefix="", labels={"firmware": "Chosen firmware"}).plain
    assert line.startswith("Chosen firmware: needs a package fileId")  # not the field path
    window = problem("windows[0]", "thingspace.window_length", "windows need 4 h")
    assert problem_line(window, prefix="").plain.startswith("window #1: windows need 4 h")

"""Every platform rule: one valid and one invalid case each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fota_tui.models import CampaignSpec, ExecuteType, Firmware, ProviderKind
from fota_tui.providers.onenet.rules import write_payload
from fota_tui.services.campaigns.rules import RuleContext, check_rules

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TS, OC, ON, AX = (
    ProviderKind.THINGSPACE,
    ProviderKind.OCEANCONNECT,
    ProviderKind.ONENET,
    ProviderKind.AOVX,
)
LABELS = {TS: "ThingSpace", OC: "OceanConnect", ON: "OneNET", AX: "AOVX"}

CATALOGUE = {
    TS: [
        Firmware(
            provider="ts",
            kind=TS,
            firmware_id="FW_V2",
            name="FW_V2",
            version="2.0",
            from_version="1.0",
            make="Acme",
            model="M1",
            protocol="LWM2M",
        )
    ],
    OC: [
        Firmware(
            provider="oc",
            kind=OC,
            firmware_id="a" * 32,
            name="pkg",
            version="V2",
            make="Huawei",
            model="NB1",
            device_type="WaterMeter",
            file_type="firmwarePackage",
        )
    ],
    ON: [],
    AX: [],
}


def luhn_imei(body: str) -> str:
    """``body`` (14 digits) plus its Luhn check digit."""
    for check in "0123456789":
        candidate = body + check
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(int(c) for c in reversed(candidate))
        )
        if total % 10 == 0:
            return candidate
    raise AssertionError


IMEIS = [luhn_imei("35900000000000"), luhn_imei("35900000000001")]
TERMINALS = ["0123456789ABCDEF0123456789ABCDEF", "01234567-89ab-cdef-0123-456789abcdef"]

BASE: dict[ProviderKind, dict[str, Any]] = {
    TS: {
        "firmware": "FW_V2",
        "devices": IMEIS,
        "start_at": NOW + timedelta(days=1),
        "end_at": NOW + timedelta(days=8),
        "windows": [(0, 6)],
        "options": {"api": "v3", "auto_assign_license": True, "auto_add_devices": False},
    },
    OC: {"firmware": "a" * 32, "devices": ["dev-1", "dev-2"], "options": {"file_type": "firmware"}},
    ON: {
        "firmware": "coap://fw.example.com/pkg/v2.bin",
        "devices": IMEIS,
        "end_at": NOW + timedelta(days=2),
        "options": {"retry": 3, "timeout": 25, "trigger_msg": 7},
    },
    AX: {
        "firmware": "http://files.example.com/FOTA/103/natives_blob.bin",
        "devices": TERMINALS,
        "options": {"type": 0, "mode": 0, "protocol": 1},
    },
}

OC_CUSTOM = {"execute_type": ExecuteType.CUSTOM}

# (kind, rule, valid change, invalid change)
CASES: list[tuple[ProviderKind, str, dict[str, Any], dict[str, Any]]] = [
    # --- ThingSpace
    (TS, "thingspace.firmware", {}, {"firmware": "FW_NOPE"}),
    (TS, "thingspace.firmware_to", {"firmware_to": "2.0"}, {"firmware_to": "3.0"}),
    (TS, "thingspace.firmware_from", {"firmware_from": "1.0"}, {"firmware_from": "0.9"}),
    (TS, "thingspace.dates", {}, {"end_at": None}),
    (TS, "thingspace.start_date", {"start_at": NOW}, {"start_at": NOW - timedelta(days=1)}),
    (
        TS,
        "thingspace.end_date",
        {"end_at": NOW + timedelta(days=1)},
        {"end_at": NOW},
    ),
    (TS, "thingspace.window_hours", {"windows": [(20, 24)]}, {"windows": [(20, 25)]}),
    (TS, "thingspace.window_length", {"windows": [(2, 6)]}, {"windows": [(2, 5)]}),
    (
        TS,
        "thingspace.window_overlap",
        {"windows": [(0, 6), (6, 12)]},
        {"windows": [(0, 6), (4, 10)]},
    ),
    (TS, "common.no_targets", {}, {"devices": []}),
    (TS, "thingspace.imei", {}, {"devices": [IMEIS[0][:-1] + str((int(IMEIS[0][-1]) + 1) % 10)]}),
    (TS, "thingspace.imei", {}, {"devices": ["A" * 15]}),
    (TS, "common.duplicate_target", {}, {"devices": [IMEIS[0], IMEIS[0]]}),
    (TS, "thingspace.flags", {}, {"options": {"auto_add_devices": "yes"}}),
    (TS, "thingspace.api", {"options": {"api": "v1"}, "windows": []}, {"options": {"api": "v2"}}),
    (TS, "thingspace.v1_windows", {"options": {"api": "v3"}}, {"options": {"api": "v1"}}),
    (
        TS,
        "thingspace.v3_only",
        {"options": {"api": "v1"}, "windows": []},
        {"options": {"api": "v1", "auto_add_devices": True}, "windows": []},
    ),
    (
        TS,
        "thingspace.protocol",
        {"options": {"protocol": "LWM2M"}},
        {"options": {"protocol": "MQTT"}},
    ),
    (TS, "thingspace.execute_type", {}, {"execute_type": ExecuteType.DEVICE_ONLINE}),
    (TS, "common.unsupported_retry_times", {}, {"retry_times": 2}),
    (TS, "common.unknown_option", {}, {"options": {"retries": 2}}),
    # --- OceanConnect
    (OC, "oceanconnect.package", {}, {"firmware": "b" * 32}),
    (OC, "oceanconnect.file_type", {}, {"options": {"file_type": "software"}}),
    (
        OC,
        "oceanconnect.package_match",
        {"options": {"model": "NB1", "device_type": "WaterMeter", "manufacturer": "Huawei"}},
        {"options": {"model": "NB2"}},
    ),
    (OC, "oceanconnect.package_version", {"firmware_to": "V2"}, {"firmware_to": "V3"}),
    (
        OC,
        "oceanconnect.devices_or_groups",
        {
            "devices": [],
            "device_groups": ["g1"],
            "options": {"model": "NB1", "device_type": "WaterMeter", "manufacturer": "Huawei"},
        },
        {"device_groups": ["g1"]},
    ),
    (OC, "oceanconnect.devices_or_groups", {}, {"devices": []}),
    (
        OC,
        "oceanconnect.group_fields",
        {
            "devices": [],
            "device_groups": ["g1"],
            "options": {"model": "NB1", "device_type": "WaterMeter", "manufacturer": "Huawei"},
        },
        {"devices": [], "device_groups": ["g1"], "options": {"model": "NB1"}},
    ),
    (
        OC,
        "oceanconnect.max_targets",
        {"devices": [f"dev-{i}" for i in range(256)]},
        {"devices": [f"dev-{i}" for i in range(257)]},
    ),
    (
        OC,
        "oceanconnect.max_groups",
        {
            "devices": [],
            "device_groups": [f"g{i}" for i in range(256)],
            "options": {"model": "NB1", "device_type": "WaterMeter", "manufacturer": "Huawei"},
        },
        {
            "devices": [],
            "device_groups": [f"g{i}" for i in range(257)],
            "options": {"model": "NB1", "device_type": "WaterMeter", "manufacturer": "Huawei"},
        },
    ),
    (
        OC,
        "oceanconnect.custom_times",
        {**OC_CUSTOM, "start_at": NOW + timedelta(hours=1), "end_at": NOW + timedelta(hours=2)},
        {**OC_CUSTOM, "start_at": NOW + timedelta(hours=1)},
    ),
    (
        OC,
        "oceanconnect.custom_only",
        {"execute_type": ExecuteType.DEVICE_ONLINE},
        {"execute_type": ExecuteType.NOW, "start_at": NOW + timedelta(hours=1)},
    ),
    (
        OC,
        "oceanconnect.start_not_past",
        {**OC_CUSTOM, "start_at": NOW, "end_at": NOW + timedelta(hours=2)},
        {**OC_CUSTOM, "start_at": NOW - timedelta(seconds=1), "end_at": NOW + timedelta(hours=2)},
    ),
    (
        OC,
        "oceanconnect.window",
        {**OC_CUSTOM, "start_at": NOW, "end_at": NOW + timedelta(minutes=5, seconds=1)},
        {**OC_CUSTOM, "start_at": NOW, "end_at": NOW + timedelta(minutes=5)},
    ),
    (
        OC,
        "oceanconnect.time_format",
        {**OC_CUSTOM, "start_at": NOW, "end_at": NOW + timedelta(hours=1)},
        {
            **OC_CUSTOM,
            "start_at": NOW + timedelta(microseconds=500),
            "end_at": NOW + timedelta(hours=1),
        },
    ),
    (
        OC,
        "oceanconnect.group_name",
        {
            "devices": [],
            "device_groups": ["g1"],
            "options": {"model": "NB1", "device_type": "WaterMeter", "manufacturer": "Huawei"},
        },
        {
            "devices": [],
            "device_groups": [" "],
            "options": {"model": "NB1", "device_type": "WaterMeter", "manufacturer": "Huawei"},
        },
    ),
    (OC, "common.blank_target", {}, {"devices": ["dev-1", ""]}),
    (OC, "common.blank_target", {}, {"devices": [" dev-1"]}),
    (OC, "oceanconnect.retry_times", {"retry_times": 5}, {"retry_times": 6}),
    (OC, "oceanconnect.retry_times", {"retry_times": 1}, {"retry_times": 0}),
    (
        OC,
        "oceanconnect.retry_times",
        {"retry_times": 3, "options": {"retry": True}},
        {"options": {"retry": True}},
    ),
    (OC, "oceanconnect.retry", {"options": {"retry": False}}, {"options": {"retry": 1}}),
    (OC, "common.unsupported_windows", {}, {"windows": [(0, 6)]}),
    # --- OneNET
    (ON, "onenet.imei", {}, {"devices": ["35900000000001"]}),
    (ON, "onenet.imei", {}, {"devices": ["35900000000000A"]}),
    (ON, "common.no_targets", {}, {"devices": []}),
    (ON, "onenet.expired_time", {}, {"end_at": None}),
    (
        ON,
        "onenet.expired_time",
        {"start_at": NOW + timedelta(hours=1), "end_at": NOW + timedelta(hours=2)},
        {"start_at": NOW + timedelta(hours=2), "end_at": NOW + timedelta(hours=2)},
    ),
    (ON, "onenet.valid_time", {"start_at": NOW}, {"start_at": NOW - timedelta(minutes=1)}),
    (ON, "onenet.retry", {"options": {"retry": 10}}, {"options": {"retry": 11}}),
    (ON, "onenet.retry", {"options": {"retry": 0}}, {"options": {"retry": -1}}),
    (ON, "onenet.timeout", {"options": {"timeout": 5}}, {"options": {"timeout": 4}}),
    (ON, "onenet.timeout", {"options": {"timeout": 40}}, {"options": {"timeout": 41}}),
    (ON, "onenet.trigger_msg", {"options": {"trigger_msg": 1}}, {"options": {"trigger_msg": 8}}),
    (ON, "onenet.package_uri", {"firmware": "https://h.example/p.bin"}, {"firmware": "not a uri"}),
    (ON, "onenet.package_uri", {}, {"firmware": "file:///tmp/pkg.bin"}),
    (
        ON,
        "onenet.payload_size",
        {"firmware": "https://h.example/" + "a" * 1990},
        {"firmware": "https://h.example/" + "a" * 2100},
    ),
    (ON, "common.unsupported_device_groups", {}, {"device_groups": ["g"]}),
    # --- AOVX
    (AX, "aovx.terminal_id", {}, {"devices": ["12345"]}),
    (AX, "common.no_targets", {}, {"devices": []}),
    (AX, "aovx.type", {"options": {"type": 1}}, {"options": {"type": 2}}),
    (AX, "aovx.mode", {"options": {"mode": 1}}, {"options": {"mode": "whole"}}),
    (AX, "aovx.protocol", {"options": {"protocol": 1}}, {"options": {"protocol": 3}}),
    (AX, "aovx.version", {"options": {"version": "natives_blob"}}, {"options": {"version": "v 2"}}),
    (AX, "aovx.version", {"options": {"version": "1.2-rc.3"}}, {"options": {"version": 2}}),
    (AX, "aovx.file_url", {}, {"firmware": "natives_blob.bin"}),
    (
        AX,
        "aovx.file_url_protocol",
        {"firmware": "ftp://files.example.com/f.bin", "options": {"protocol": 0}},
        {"firmware": "ftp://files.example.com/f.bin", "options": {"protocol": 1}},
    ),
    (AX, "aovx.immediate", {"start_at": NOW}, {"start_at": NOW + timedelta(hours=1)}),
    (AX, "common.unsupported_windows", {}, {"windows": [(0, 6)]}),
]


def check(kind: ProviderKind, change: dict[str, Any], catalogue: bool = True):
    data = {"provider": kind.value, **BASE[kind], **change}
    spec = CampaignSpec.model_validate(data)
    ctx = RuleContext(now=NOW, firmware=CATALOGUE[kind] if catalogue else None)
    return check_rules(kind, spec, ctx)


@pytest.mark.parametrize("kind", list(ProviderKind))
def test_base_specs_are_valid(kind):
    assert check(kind, {}) == []


@pytest.mark.parametrize(("kind", "rule", "valid", "invalid"), CASES)
def test_rule_valid_and_invalid_case(kind, rule, valid, invalid):
    assert rule not in {p.rule for p in check(kind, valid)}
    problems = [p for p in check(kind, invalid) if p.rule == rule]
    assert problems, f"{rule} did not fire for {invalid}"
    for found in problems:
        # The message names the field and the platform.
        assert found.message.startswith(f"{found.field}: ")
        top = found.field.split("[")[0]
        assert top in CampaignSpec.model_fields or top.startswith("options.")
        assert LABELS[kind] in found.message


def test_every_rule_module_rule_is_covered():
    """Each rule id a platform module can emit appears in CASES (no untested rule)."""
    import re
    from pathlib import Path

    from fota_tui import providers

    covered = {rule for _, rule, _, _ in CASES}
    folder = Path(providers.__file__).parent
    emitted = set()
    for name in ("thingspace", "oceanconnect", "onenet", "aovx"):
        text = (folder / name / "rules.py").read_text()
        emitted |= set(re.findall(rf'"({name}\.[a-z_0-9]+)"', text))
    emitted.add("oceanconnect.max_targets")  # via RULE_MAX_TARGETS
    assert emitted - covered == set()


def test_catalogue_checks_are_skipped_without_a_catalogue():
    assert check(TS, {"firmware": "FW_NOPE"}, catalogue=False) == []


def test_oceanconnect_split_message_offers_the_split():
    problems = check(OC, {"devices": [f"d{i}" for i in range(600)]})
    (found,) = [p for p in problems if p.rule == "oceanconnect.max_targets"]
    assert "256" in found.message and "3 tasks" in found.message and "600" in found.message


def test_onenet_payload_is_measured_in_bytes():
    uri = "https://h.example/" + "é" * 1010  # 2 bytes each in UTF-8
    assert len(write_payload(uri)) > 2048
    assert "onenet.payload_size" in {p.rule for p in check(ON, {"firmware": uri})}


def test_thingspace_firmware_problem_lists_what_is_available():
    (found,) = check(TS, {"firmware": "FW_NOPE"})
    assert found.field == "firmware" and "FW_V2" in found.message and "FW_NOPE" in found.message


def test_an_id_in_another_case_is_named_with_the_platforms_spelling() -> None:
    from fota_tui.models import Device, ProviderKind
    from fota_tui.services.campaigns.eligibility import check_eligibility

    known = Device(
        provider="ax", kind=ProviderKind.AOVX, device_id="7FC3212A460B5A83315985034FF3CCD0"
    )
    spec = CampaignSpec(provider="ax", firmware="http://h/f.bin", devices=[known.device_id.lower()])
    (result,) = check_eligibility(spec, [known])
    assert not result.eligible
    assert "did you mean '7FC3212A460B5A83315985034FF3CCD0'?" in result.reasons[0].message

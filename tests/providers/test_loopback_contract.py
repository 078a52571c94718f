"""The provider contract over real loopback HTTP: ``fota-tui sim`` in a subprocess, the
profile it writes, and ``fota-tui status`` against it (exit codes, JSON shape, and a
platform that only fails)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from loopback_sim import SimProcess, fota_tui
from provider_contract import (
    READ_CHECKS,
    MemoryGroups,
    Subject,
    check_create_and_cancel,
    secret_values,
)

from fota_tui.config.schema import Profile
from fota_tui.config.store import load_profile_file
from fota_tui.models import ProviderKind
from fota_tui.providers.registry import build_client
from fota_tui.sim.server import Simulator

pytestmark = pytest.mark.loopback

DEVICES, SEED = 200, 7
TOP_KEYS = {"profile", "generated_at", "providers", "campaigns", "devices"}
PROVIDER_KEYS = {"name", "kind", "ok", "error"}
CAMPAIGN_KEYS = {
    "provider",
    "campaign_id",
    "name",
    "state",
    "provider_status",
    "firmware_to",
    "counts",
}
DEVICE_KEYS = {
    "provider",
    "device_id",
    "state",
    "provider_status",
    "reason",
    "campaign_id",
    "updated_at",
}


@dataclass
class Loopback:
    sim: SimProcess
    home: Path
    profile_file: Path
    profile: Profile


def _start(home: Path, *extra: str) -> Loopback:
    profile_file = home / "sim-profile.toml"
    sim = SimProcess.start(
        home,
        "--devices",
        str(DEVICES),
        "--seed",
        str(SEED),
        "--profile-out",
        str(profile_file),
        *extra,
    )
    profile = load_profile_file(profile_file, "loopback")
    assert profile is not None, "fota-tui sim wrote no profile"
    return Loopback(sim, home, profile_file, profile)


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loopback]:
    running = _start(tmp_path_factory.mktemp("loopback"))
    try:
        yield running
    finally:
        running.sim.stop()


@pytest.fixture(scope="module")
def failing_aovx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loopback]:
    running = _start(tmp_path_factory.mktemp("loopback-faults"), "--faults", "aovx:error=1.0")
    try:
        yield running
    finally:
        running.sim.stop()


def _truth() -> dict[ProviderKind, int]:
    """Devices per platform for this seed and size (the simulator is deterministic)."""
    sim = Simulator.build(seed=SEED, devices=DEVICES)
    return {kind: len(devices) for kind, devices in sim.fleet.devices.items()}


def _subject(loopback: Loopback, kind: ProviderKind) -> Subject:
    cfg = next(p for p in loopback.profile.providers if p.kind is kind)
    groups = MemoryGroups()
    return Subject(
        cfg=cfg,
        make_client=lambda: build_client(cfg, groups=groups),  # no transport: real HTTP
        device_count=_truth()[kind],
        secrets=secret_values(cfg),
        groups=groups,
    )


def test_loopback_sim_prints_one_url_per_platform_and_writes_them(loopback: Loopback) -> None:
    urls = loopback.sim.urls
    assert set(urls) == set(ProviderKind)
    assert {p.kind: p.base_url for p in loopback.profile.providers} == urls


@pytest.mark.parametrize("kind", list(ProviderKind), ids=lambda k: k.value)
@pytest.mark.parametrize("check", list(READ_CHECKS), ids=str)
async def test_loopback_contract_reads(loopback: Loopback, kind: ProviderKind, check: str) -> None:
    subject = _subject(loopback, kind)
    client = subject.make_client()
    try:
        await READ_CHECKS[check](subject, client)
    finally:
        await client.aclose()


@pytest.mark.parametrize("kind", list(ProviderKind), ids=lambda k: k.value)
async def test_loopback_contract_create_and_cancel(loopback: Loopback, kind: ProviderKind) -> None:
    subject = _subject(loopback, kind)
    client = subject.make_client()
    try:
        await check_create_and_cancel(subject, client)
    finally:
        await client.aclose()


# -- fota-tui status against the running simulator ------------------------------------


def _status_json(loopback: Loopback) -> tuple[int, dict[str, Any], str]:
    home = loopback.home
    added = fota_tui(
        home,
        "--config-dir",
        str(home / "cfg"),
        "profiles",
        "add",
        "loopback",
        "--from",
        str(loopback.profile_file),
        "--force",
    )
    assert added.returncode == 0, added.stderr
    done = fota_tui(
        home, "--config-dir", str(home / "cfg"), "status", "--profile", "loopback", "--format",
        "json",
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def test_loopback_status_json_has_the_documented_shape(loopback: Loopback) -> None:
    code, report, stderr = _status_json(loopback)
    assert code == 0, stderr
    assert set(report) == TOP_KEYS
    assert report["profile"] == "loopback"
    providers = report["providers"]
    assert isinstance(providers, list)
    assert {p["kind"] for p in providers} == {k.value for k in ProviderKind}
    for entry in providers:
        assert set(entry) >= PROVIDER_KEYS, entry
        assert entry["ok"] is True and entry["error"] is None
    campaigns, devices = report["campaigns"], report["devices"]
    assert isinstance(campaigns, list) and campaigns
    assert isinstance(devices, list) and len(devices) == DEVICES
    for campaign in campaigns:
        assert set(campaign) >= CAMPAIGN_KEYS, campaign
        assert sum(campaign["counts"].values()) == campaign["total"]
    for device in devices:
        assert set(device) >= DEVICE_KEYS, device
    secrets = set().union(*(secret_values(p) for p in loopback.profile.providers))
    text = json.dumps(report)
    assert not [s for s in secrets if s in text]


def test_loopback_status_names_the_failing_provider_and_prints_the_others(
    failing_aovx: Loopback,
) -> None:
    code, report, stderr = _status_json(failing_aovx)
    assert code == 1
    by_kind = {p["kind"]: p for p in report["providers"]}
    failed = by_kind.pop("aovx")
    assert failed["ok"] is False and failed["error"]
    assert f"{failed['name']}:" in stderr and "Unavailable" in stderr
    assert all(p["ok"] for p in by_kind.values())
    listed = {d["provider"] for d in report["devices"]}
    assert listed == {p["name"] for p in by_kind.values()}


@pytest.fixture(scope="module")
def hostile_loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loopback]:
    """``fota-tui sim --faults *:hostile=1,aovx:error=1``: hostile text in every field
    (a lone surrogate too) and a hostile 5xx message from AOVX, over plain http://."""
    running = _start(
        tmp_path_factory.mktemp("loopback-hostile"), "--faults", "*:hostile=1,aovx:error=1.0"
    )
    try:
        yield running
    finally:
        running.sim.stop()


def test_status_prints_every_provider_and_obeys_no_platform_text(
    hostile_loopback: Loopback,
) -> None:
    code, report, stderr = _status_json(hostile_loopback)
    assert code == 1  # AOVX fails, and is named
    ok = [p for p in report["providers"] if p["ok"]]
    assert len(ok) == 3 and {d["provider"] for d in report["devices"]} == {p["name"] for p in ok}
    home = hostile_loopback.home
    base = ("--config-dir", str(home / "cfg"), "status", "--profile", "loopback")
    table, as_json = fota_tui(home, *base), fota_tui(home, *base, "--format", "json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["devices"]
    names = " ".join(str(d.get("name")) for d in report["devices"])
    assert "\x1b" in names  # the hostile text arrived, and is JSON-escaped on output
    for text in (as_json.stdout, stderr, table.stdout, table.stderr):
        assert not set(text) & {"\x1b", "\x07", "\x9b", "\x00"}, text[:200]
        text.encode("utf-8")
    assert table.returncode == 1 and "pane" in table.stderr  # AOVX's message, shown

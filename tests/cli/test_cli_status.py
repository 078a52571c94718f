"""``fota-tui status``: formats, filters, usage errors and a provider whose secret is missing.

``--demo`` runs the same code as the shipped demo on a 200-device fleet (``build_demo``
with a smaller default) so the file stays fast; the loopback suite runs the real binary.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fota_tui.cli import main
from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.services.export import EXPORT_COLUMNS
from fota_tui.sim import demo
from fota_tui.sim.dialects.aovx.dialect import AovxDialect
from fota_tui.sim.server import LoopbackServer, Simulator

DEMO_DEVICES = 200
DEMO_PROVIDERS = {f"{kind.value}-demo" for kind in ProviderKind}
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


@pytest.fixture(autouse=True)
def small_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        demo, "build_demo", functools.partial(demo.build_demo, devices=DEMO_DEVICES)
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def cells(line: str) -> int:
    """Terminal cells a line takes: East Asian wide/full-width characters take two."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in line
    )


def status_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "status", "--demo", "--format", "json", *argv)
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


# -- formats ------------------------------------------------------------------------------


def test_status_table_fits_80_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "status", "--demo")
    assert code == 0, err
    lines = out.splitlines()
    too_wide = [line for line in lines if cells(line) > 80]
    assert not too_wide, too_wide
    kinds = {k.value for k in ProviderKind}
    provider_rows = [line.split() for line in lines if line[17:].split(" ", 1)[0] in kinds]
    assert sorted(row[1] for row in provider_rows) == sorted(kinds)
    assert all(row[2] == "ok" for row in provider_rows), provider_rows
    assert f"{DEMO_DEVICES} devices" in out  # too many to list without --state


def test_status_table_with_device_rows_fits_80_columns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "status", "--demo", "--state", "failed", "--state", "succeeded")
    assert code == 0, err
    too_wide = [line for line in out.splitlines() if cells(line) > 80]
    assert not too_wide, too_wide
    assert "DEVICE" in out and " failed " in out


def test_status_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    report = status_json(capsys)
    assert set(report) == TOP_KEYS
    assert report["profile"] == "demo"
    assert {p["name"] for p in report["providers"]} == DEMO_PROVIDERS
    for entry in report["providers"]:
        assert set(entry) >= PROVIDER_KEYS, entry
        assert entry["ok"] is True and entry["error"] is None
        assert entry["kind"] in {k.value for k in ProviderKind}
    assert report["campaigns"] and len(report["devices"]) == DEMO_DEVICES
    for campaign in report["campaigns"]:
        assert set(campaign) >= CAMPAIGN_KEYS, campaign
        assert campaign["provider"] in DEMO_PROVIDERS
        assert set(campaign["counts"]) <= {s.value for s in UpgradeState}
    for device in report["devices"]:
        assert set(device) >= DEVICE_KEYS, device
        assert device["state"] is None or device["state"] in {s.value for s in UpgradeState}
        assert device["updated_at"] is None or device["updated_at"].endswith("Z")


def test_status_csv_parses_with_its_header(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "status", "--demo", "--format", "csv")
    assert code == 0, err
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS
    rows = list(reader)
    assert len(rows) == DEMO_DEVICES
    assert {r["provider"] for r in rows} == DEMO_PROVIDERS
    assert len({(r["provider"], r["device_id"]) for r in rows}) == DEMO_DEVICES


# -- filters and usage errors -----------------------------------------------------------------


def test_status_state_filter_keeps_only_those_states(capsys: pytest.CaptureFixture[str]) -> None:
    everything = status_json(capsys)["devices"]
    failed = status_json(capsys, "--state", "failed")["devices"]
    expected = [d["device_id"] for d in everything if d["state"] == "failed"]
    assert failed and [d["device_id"] for d in failed] == expected
    common = [s for s, _ in Counter(d["state"] for d in everything if d["state"]).most_common(2)]
    two = status_json(capsys, *(arg for s in common for arg in ("--state", s)))["devices"]
    assert {d["state"] for d in two} == set(common)
    assert len(two) == sum(1 for d in everything if d["state"] in common)


def test_status_provider_filter(capsys: pytest.CaptureFixture[str]) -> None:
    report = status_json(capsys, "--provider", "aovx-demo")
    assert [p["name"] for p in report["providers"]] == ["aovx-demo"]
    assert {d["provider"] for d in report["devices"]} == {"aovx-demo"}


def test_status_unknown_provider_is_a_usage_error_naming_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "status", "--demo", "--provider", "nope")
    assert code == 2 and not out
    assert "'nope'" in err
    assert all(name in err for name in DEMO_PROVIDERS)


@pytest.mark.parametrize("value", ["0", "0.5", "-3", "nan", "inf"])
def test_status_watch_below_one_second_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    code, out, err = run(capsys, "status", "--demo", "--watch", value)
    assert code == 2 and not out
    assert "--watch" in err and "at least 1" in err


def test_status_watch_that_is_not_a_number_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "status", "--demo", "--watch", "soon")
    assert code == 2 and not out
    assert "--watch" in err and "'soon'" in err


def test_status_unknown_state_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "status", "--demo", "--state", "exploded")
    assert code == 2 and "--state" in err and "'exploded'" in err


# -- a provider whose secret cannot be resolved ---------------------------------------------

PASSWORD = AovxDialect.credentials["password"]
PROFILE = """\
environment = "lab"

[[providers]]
kind = "aovx"
name = "fleet-a"
base_url = "{url}"
username = "{user}"
password = "env:FOTA_TEST_AOVX_PASSWORD"

[[providers]]
kind = "onenet"
name = "china-mobile"
base_url = "http://127.0.0.1:9"
api_key = "env:FOTA_TEST_ONENET_KEY_UNSET"
"""


@pytest.fixture
def aovx_server() -> Iterator[LoopbackServer]:
    sim = Simulator.build(kinds=[ProviderKind.AOVX], devices=20, seed=3)
    with sim.serve("127.0.0.1", 0) as server:
        yield server


def test_status_names_the_provider_whose_secret_is_unset_and_prints_no_secret(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    isolated_dirs: dict[str, Path],
    aovx_server: LoopbackServer,
) -> None:
    monkeypatch.setenv("FOTA_TEST_AOVX_PASSWORD", PASSWORD)
    monkeypatch.delenv("FOTA_TEST_ONENET_KEY_UNSET", raising=False)
    source = tmp_path / "lab.toml"
    url = aovx_server.base_urls()[ProviderKind.AOVX]
    source.write_text(PROFILE.format(url=url, user=AovxDialect.credentials["username"]))
    assert run(capsys, "profiles", "add", "lab", "--from", str(source))[0] == 0

    code, out, err = run(capsys, "status", "--profile", "lab", "--format", "json")
    assert code == 2
    report = json.loads(out)
    by_name = {p["name"]: p for p in report["providers"]}
    assert by_name["fleet-a"]["ok"] is True
    assert by_name["china-mobile"]["ok"] is False
    assert "FOTA_TEST_ONENET_KEY_UNSET" in by_name["china-mobile"]["error"]
    assert "china-mobile" in err and "FOTA_TEST_ONENET_KEY_UNSET" in err
    assert {d["provider"] for d in report["devices"]} == {"fleet-a"}

    code, table, err = run(capsys, "status", "--profile", "lab")
    assert code == 2 and "china-mobile" in table and "FAIL" in table
    logs = "".join(
        p.read_text(errors="replace") for p in isolated_dirs["log"].rglob("*") if p.is_file()
    )
    for text in (out, err, table, logs):
        assert PASSWORD not in text


@pytest.mark.parametrize(
    ("words", "states"),
    [
        ("failed,expired", {UpgradeState.FAILED, UpgradeState.EXPIRED}),
        ("attention", {UpgradeState.FAILED, UpgradeState.EXPIRED, UpgradeState.UNKNOWN}),
        ("terminal", {s for s in UpgradeState if s.terminal}),
    ],
)
def test_state_takes_the_consoles_filter_words(
    capsys: pytest.CaptureFixture[str], words: str, states: set[UpgradeState]
) -> None:
    code, out, _ = run(capsys, "--demo", "status", "--state", words, "--format", "csv")
    assert code == 0
    seen = {UpgradeState(r["state"]) for r in csv.DictReader(io.StringIO(out))}
    assert seen and seen <= states


def test_a_wrong_state_word_or_a_typo_gets_a_suggestion_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "--demo", "status", "--state", "failed,faild")
    assert code == 2 and "unknown state 'faild'" in err and "attention" in err
    code, _, err = run(capsys, "--demo", "stauts")
    assert code == 2 and "did you mean 'status'?" in err
    code, _, err = run(capsys, "--demo", "campaign", "aply")
    assert code == 2 and "did you mean 'apply'?" in err
    code, _, err = run(capsys, "--demo", "status", "--formt", "json")
    assert code == 2 and "did you mean '--format'?" in err


def test_the_table_fits_the_width_and_wide_cuts_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fota_tui.commands import status

    code, narrow, _ = run(capsys, "--demo", "status", "--state", "failed")
    assert code == 0 and max(map(len, narrow.splitlines())) <= 80
    monkeypatch.setattr(status, "_width", lambda args: None if args.wide else 150)
    code, fitted, _ = run(capsys, "--demo", "status", "--state", "failed")
    longest = max(map(len, fitted.splitlines()))
    assert code == 0 and 80 < longest <= 150
    code, wide, _ = run(capsys, "--demo", "status", "--state", "failed", "--wide")
    assert code == 0 and "…" not in wide.split("\n\n", 1)[1]  # providers, campaigns, devices
    # the failures come first in each provider's summary (a cut line keeps them)
    summaries = [line.split()[4] for line in narrow.splitlines() if line.split()[2:3] == ["ok"]]
    assert len(summaries) == len(DEMO_PROVIDERS)
    assert all(s.startswith("fail:") for s in summaries), summaries

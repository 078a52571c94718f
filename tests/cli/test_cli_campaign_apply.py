"""``fota-tui campaign apply``: confirmation, read-only, production profiles (over real
loopback HTTP) and the journal on disk."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_run import run

from fota_tui.models import ProviderKind
from fota_tui.providers import adapter, http
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.server import Simulator

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "campaigns"
AX = ProviderKind.AOVX


async def single_try(provider, call, *, policy, sleep):
    return await http.with_retries(provider, call, policy=http.NO_RETRY, sleep=sleep)


def test_apply_on_the_demo_asks_and_submits(capsys, monkeypatch):
    path = str(EXAMPLES / "aovx.toml")
    code, out, err = run(capsys, monkeypatch, "campaign", "apply", "--demo", path, answer="n")
    assert code == 1 and "Not confirmed; nothing was sent." in err
    assert "About to create 1 AOVX job for 3 devices with provider aovx-demo." in out
    assert "Proceed? [y/N]" in out and "created" not in out

    code, out, _ = run(capsys, monkeypatch, "campaign", "apply", "--demo", path, answer="y")
    assert code == 0 and "Job 1 of 1 (ft-" in out and "): created → campaign " in out


def test_apply_without_an_answer_sends_nothing(capsys, monkeypatch):
    path = str(EXAMPLES / "oceanconnect.toml")
    code, out, err = run(capsys, monkeypatch, "campaign", "apply", "--demo", path)
    assert code == 1 and "nothing was sent" in err and "created" not in out


@pytest.mark.parametrize("kind", ["thingspace", "oceanconnect", "onenet", "aovx"])
def test_apply_yes_creates_on_every_platform(capsys, monkeypatch, kind):
    path = str(EXAMPLES / f"{kind}.toml")
    code, out, err = run(capsys, monkeypatch, "campaign", "apply", "--demo", "--yes", path)
    assert (code, err) == (0, "")
    assert "Proceed" not in out and "): created → campaign " in out


def test_apply_refuses_an_invalid_file_before_asking(capsys, monkeypatch, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text((EXAMPLES / "aovx.toml").read_text().replace("protocol = 1", "protocol = 5"))
    code, out, err = run(capsys, monkeypatch, "campaign", "apply", "--demo", "--yes", str(path))
    assert code == 2 and f"{path}: options.protocol: AOVX accepts one of 0, 1 (got 5)" in err
    assert "About to create" not in out


def test_read_only_refuses_to_apply(capsys, monkeypatch):
    path = str(EXAMPLES / "aovx.toml")
    code, out, err = run(
        capsys, monkeypatch, "--read-only", "campaign", "apply", "--demo", "--yes", path
    )
    assert code == 2 and "read-only" in err and "nothing was sent" in err
    assert "About to create" not in out


# --- a real profile over loopback HTTP ------------------------------------------------


@pytest.fixture
def production(tmp_path, isolated_dirs):
    """A production profile whose AOVX provider is the simulator on 127.0.0.1."""
    sim = Simulator.build(clock=ManualClock(datetime.now(UTC)), devices=40, kinds=[AX])
    server = sim.serve()
    profiles = isolated_dirs["config"] / "profiles"
    profiles.mkdir(parents=True)
    creds = sim.dialects[AX].credentials
    (profiles / "prod.toml").write_text(
        f"""environment = "production"

[[providers]]
kind = "aovx"
name = "fleet"
base_url = "{server.base_urls()[AX]}"
username = "{creds["username"]}"
password = "{creds["password"]}"
"""
    )
    terminals = sorted(sim.fleet.devices[AX])[:2]
    campaign = tmp_path / "ota.toml"
    campaign.write_text(
        'provider = "fleet"\nfirmware = "http://files.aovx.example/FOTA/1/X_V9.bin"\n'
        f"devices = {json.dumps(terminals)}\n"
    )
    yield sim, campaign, isolated_dirs["data"]
    server.close()


@pytest.mark.loopback
def test_production_profile_needs_the_profile_name_typed(capsys, monkeypatch, production):
    sim, campaign, data = production
    before = set(sim.fleet.jobs[AX])
    argv = ["campaign", "apply", "--profile", "prod", str(campaign)]

    code, out, err = run(capsys, monkeypatch, *argv, answer="y")
    assert code == 1 and "Type its name to confirm" in out and "nothing was sent" in err
    assert set(sim.fleet.jobs[AX]) == before

    code, out, _ = run(capsys, monkeypatch, *argv, answer="prod")
    assert code == 0 and "created" in out
    assert len(set(sim.fleet.jobs[AX]) - before) == 1

    # The journal is in the user data dir, private, and says who sent what.
    (path,) = (data / "journal" / "prod").glob("*.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entry = json.loads(path.read_text())
    assert entry["state"] == "created" and entry["provider"] == "fleet"
    assert entry["user"] and entry["profile"] == "prod" and entry["campaign_ids"]
    assert "password" not in path.read_text().lower()
    assert f"Journal: {data / 'journal' / 'prod'}" in out

    code, out, _ = run(capsys, monkeypatch, "campaign", "journal", "--profile", "prod")
    assert code == 0 and entry["submission_id"] in out and entry["user"] in out

    # The devices are now in an active campaign: applying again sends nothing.
    code, out, err = run(capsys, monkeypatch, *argv, answer="prod")
    assert code == 2 and "already in active campaign" in out
    assert len(set(sim.fleet.jobs[AX]) - before) == 1


@pytest.mark.loopback
def test_list_reconciles_a_lost_answer_left_unknown(capsys, monkeypatch, production):
    """The answer of the send is lost and the platform cannot be read right away: the
    journal keeps 'unknown'; the next 'campaign list' settles it without sending again."""
    sim, campaign, data = production
    before = set(sim.fleet.jobs[AX])
    dialect = sim.dialects[AX]
    handle, down = dialect.handle, {"now": False}

    def platform(request):  # answers 503 from the moment the send has been handled
        if down["now"]:
            return dialect.server_error()
        response = handle(request)
        down["now"] = "sendOtaCommand" in request.path
        return response

    monkeypatch.setattr(dialect, "handle", platform)
    sim.faults.script(AX, "reset_after", path_contains="sendOtaCommand")
    monkeypatch.setattr(adapter, "with_retries", single_try)  # no back-off waits
    argv = ["campaign", "apply", "--profile", "prod", "--yes", str(campaign)]

    code, out, _ = run(capsys, monkeypatch, *argv)
    assert code == 3 and ": unknown" in out and "The outcome is uncertain" in out
    assert len(set(sim.fleet.jobs[AX]) - before) == 1

    down["now"] = False
    code, out, _ = run(capsys, monkeypatch, "campaign", "list", "--profile", "prod")
    assert code == 0 and "reconciled (records since the send)" in out
    (path,) = (data / "journal" / "prod").glob("*.json")
    assert json.loads(path.read_text())["state"] == "created"
    assert len(set(sim.fleet.jobs[AX]) - before) == 1


@pytest.mark.loopback
def test_platform_text_in_campaign_commands_is_shown_never_obeyed(capsys, monkeypatch, production):
    """Hostile text in every field (and in error messages) over plain http://: list, show,
    apply and the error line print it made visible; no escape sequence reaches the
    terminal, and a lone surrogate crashes nothing."""
    sim, campaign, _ = production
    sim.faults.set(AX, hostile=1)
    sim.apply_settings()
    argv = ["--profile", "prod"]
    code, out, _ = run(capsys, monkeypatch, "campaign", "apply", *argv, "--yes", str(campaign))
    assert code == 0, out
    code, out, err = run(capsys, monkeypatch, "campaign", "list", *argv)
    assert code == 0
    listed = [line.split()[1] for line in out.splitlines()[2:] if line.startswith("fleet")]
    code, shown, err2 = run(capsys, monkeypatch, "campaign", "show", *argv, listed[0])
    sim.faults.set(AX, error=1.0)  # now every answer is a 5xx with a hostile message
    monkeypatch.setattr(adapter, "with_retries", single_try)
    code, _, failed = run(capsys, monkeypatch, "campaign", "list", *argv)
    assert code == 1 and "pane" in failed  # the platform's message, made visible
    for text in (out, err, shown, err2, failed):
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
        text.encode("utf-8")  # no lone surrogate
    assert "␛]52" in failed or "␛" in out + shown


@pytest.mark.loopback
def test_campaign_show_survives_an_unrelated_provider_that_cannot_open(
    capsys, monkeypatch, production, isolated_dirs
):
    _, campaign, _ = production
    profile = isolated_dirs["config"] / "profiles" / "prod.toml"
    broken = """[[providers]]
kind = "thingspace"
name = "vz"
account = "0000123456-00001"
app_key = "k"
app_secret = "env:FOTA_TEST_MISSING_SECRET"
username = "u"
password = "env:FOTA_TEST_MISSING_SECRET"

"""  # listed first: it is tried first
    profile.write_text(profile.read_text().replace("[[providers]]", broken + "[[providers]]", 1))
    monkeypatch.delenv("FOTA_TEST_MISSING_SECRET", raising=False)
    code, out, _ = run(capsys, monkeypatch, "campaign", "apply", "--profile", "prod",
                       "--yes", str(campaign))  # fmt: skip
    assert code == 0, out
    ids = [
        line.split("→ campaign ")[1].strip() for line in out.splitlines() if "→ campaign" in line
    ]
    code, shown, err = run(capsys, monkeypatch, "campaign", "show", "--profile", "prod", ids[0])
    assert code == 0 and ids[0] in shown and "vz skipped: Secret not available" in err
    code, shown, err = run(
        capsys, monkeypatch, "campaign", "show", "--profile", "prod", "--provider", "vz", ids[0]
    )
    assert code == 2 and "vz" in err and "Secret not available" in err
    code, shown, err = run(capsys, monkeypatch, "campaign", "show", "--profile", "prod", "nope")
    assert code == 2 and "vz skipped: Secret not available" in err
    assert "no campaign 'nope' in fleet (profile 'prod'); not asked: vz (see above)" in err
    code, listed, err = run(capsys, monkeypatch, "campaign", "list", "--profile", "prod")
    assert code == 2 and ids[0] in listed  # the others listed; misconfigured: 2, as status
    assert "vz: Secret not available" in err


@pytest.mark.loopback
def test_status_shows_the_name_the_journal_keeps(capsys, monkeypatch, production, tmp_path):
    """AOVX has no job ids: the campaign's name lives in the journal, and status reads it."""
    _, campaign, _ = production
    named = tmp_path / "named.toml"
    named.write_text('name = "Night rollout"\n' + campaign.read_text())
    code, out, _ = run(capsys, monkeypatch, "campaign", "apply", "--profile", "prod", "--yes",
                       str(named))  # fmt: skip
    assert code == 0, out
    code, out, _ = run(capsys, monkeypatch, "status", "--profile", "prod", "--format", "json")
    assert code == 0
    names = {c["name"] for c in json.loads(out)["campaigns"]}
    assert "Night rollout" in names


@pytest.mark.loopback
def test_status_names_a_campaign_fota_tui_keeps_as_the_journal_does(
    capsys, monkeypatch, production, tmp_path
):
    """AOVX has no campaign objects: `status` lists the grouping under the name it was
    created with (the journal's), as the console and `campaign list` do."""
    _, campaign, _ = production
    named = tmp_path / "named.toml"
    named.write_text('name = "Q4 meters"\n' + campaign.read_text())
    code, out, _ = run(capsys, monkeypatch, "campaign", "apply", "--profile", "prod",
                       "--yes", str(named))  # fmt: skip
    assert code == 0, out
    (created,) = [line.split("→ campaign ")[1].strip() for line in out.splitlines()
                  if "→ campaign" in line]  # fmt: skip
    code, out, _ = run(capsys, monkeypatch, "status", "--profile", "prod", "--format", "json")
    assert code == 0
    campaigns = {c["campaign_id"]: c for c in json.loads(out)["campaigns"]}
    assert campaigns[created]["name"] == "Q4 meters"

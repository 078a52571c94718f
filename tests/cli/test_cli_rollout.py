"""``fota-tui rollout``: plan and apply on the demo for every platform, bad files, and a
real profile over loopback HTTP driven by ``step`` and ``run`` to the end or to a halt."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_run import run

from fota_tui.models import ProviderKind
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.server import Simulator

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "rollouts"
AX = ProviderKind.AOVX
KINDS = ["thingspace", "oceanconnect", "onenet", "aovx"]


@pytest.mark.parametrize("kind", KINDS)
def test_plan_shows_the_waves_and_the_first_waves_requests(capsys, monkeypatch, kind):
    path = str(EXAMPLES / f"{kind}.toml")
    code, out, err = run(capsys, monkeypatch, "rollout", "plan", "--demo", path)
    assert (code, err) == (0, ""), err
    assert "wave 1: 2 devices (reaches 2)" in out
    assert "wave 2: 8 devices (reaches 10)" in out and "wave 3: 10 devices (reaches 20)" in out
    assert "Wave 1:\nJob 1 of 1: " in out and "wave 1/3" in out
    assert "Valid: nothing has been sent." in out


@pytest.mark.parametrize("kind", KINDS)
def test_apply_records_the_rollout_and_starts_wave_one(capsys, monkeypatch, kind):
    path = str(EXAMPLES / f"{kind}.toml")
    code, out, err = run(capsys, monkeypatch, "rollout", "apply", "--demo", path, answer="n")
    assert code == 1 and "Not confirmed; nothing was sent." in err and "recorded" not in out
    code, out, err = run(capsys, monkeypatch, "rollout", "apply", "--demo", "--yes", path)
    assert code == 0, err
    assert "Rollout ro-" in out
    # OceanConnect's campaigns start at the file's start_at (ten minutes on): wave 1 is
    # sent now all the same, scheduled.
    assert ": wave 1 started: 2 devices" in out


BAD = [
    ('waves = ["50%", "50%", "100%"]', "rollout.waves[1]: wave 2 adds no device"),
    ('waves = ["10%", "60%"]', "rollout.waves[1]: the last wave reaches 12 of the 20 devices"),
    ("success = 120", "rollout.success: expected a percentage from 0 to 100 (got 120)"),
    ("failure = -1", "rollout.failure: expected a percentage from 0 to 100 (got -1)"),
    ('soak = "2 weeks"', 'rollout.soak: expected a duration such as "90s"'),
    ('soak = "20d"', "rollout.soak: 3 waves need at least 2 soaks of 20 d"),
    ('canary = ["nope"]', "rollout.canary[0]: 'nope' is not one of the devices"),
    ("windows = [[5, 5]]", "rollout.windows[0]: expected [start, end]"),
    ("speed = 2", "rollout.speed: unknown key"),
]


@pytest.mark.parametrize(("line", "message"), BAD, ids=[b[0].split()[0] for b in BAD])
def test_a_plan_that_cannot_work_is_refused_with_the_field_named(
    capsys, monkeypatch, tmp_path, line, message
):
    text = (EXAMPLES / "onenet.toml").read_text()
    key = line.split()[0]
    kept = [row for row in text.splitlines() if not row.startswith(f"{key} =")]
    at = kept.index("[rollout]") + 1
    path = tmp_path / "r.toml"
    path.write_text("\n".join([*kept[:at], line, *kept[at:]]) + "\n")
    code, _, err = run(capsys, monkeypatch, "rollout", "plan", "--demo", str(path))
    assert code == 2
    assert message in err, err


def test_a_campaign_file_without_a_rollout_table_is_named_as_such(capsys, monkeypatch):
    path = str(Path(__file__).resolve().parents[1] / "data" / "campaigns" / "aovx.toml")
    code, _, err = run(capsys, monkeypatch, "rollout", "plan", "--demo", path)
    assert code == 2 and "no [rollout] table" in err


def test_a_device_group_cannot_be_split_into_waves(capsys, monkeypatch, tmp_path):
    text = (EXAMPLES / "oceanconnect.toml").read_text()
    path = tmp_path / "r.toml"
    path.write_text(text.replace("devices = [", 'device_groups = ["g1"]\ndevices = ['))
    code, _, err = run(capsys, monkeypatch, "rollout", "plan", "--demo", str(path))
    assert code == 2 and "device_groups: a rollout splits a device list into waves" in err


# --- a real profile over loopback HTTP ------------------------------------------------


@pytest.fixture
def fleet(tmp_path, isolated_dirs, monkeypatch):
    """A lab profile whose AOVX provider is the simulator on 127.0.0.1, and a rollout file
    of ten online terminals."""
    clock = ManualClock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    sim = Simulator.build(clock=clock, devices=80, kinds=[AX], faults="aovx:fail=0")
    server = sim.serve()
    profiles = isolated_dirs["config"] / "profiles"
    profiles.mkdir(parents=True)
    creds = sim.dialects[AX].credentials
    (profiles / "lab.toml").write_text(
        f"""refresh_interval = 30

[[providers]]
kind = "aovx"
name = "fleet"
base_url = "{server.base_urls()[AX]}"
username = "{creds["username"]}"
password = "{creds["password"]}"
"""
    )
    online = sorted(d.device_id for d in sim.fleet.devices[AX].values() if d.online)[:10]
    path = tmp_path / "rollout.toml"
    path.write_text(
        'provider = "fleet"\nfirmware = "http://files.aovx.example/FOTA/1/X_V9.bin"\n'
        f"devices = {json.dumps(online)}\n"
        '[rollout]\nwaves = ["20%", "100%"]\nsoak = "30m"\n'
    )
    monkeypatch.setattr("fota_tui.services.workspace.utcnow", clock.now)  # our clock too
    yield sim, clock, path
    server.close()


def rollout_id(out: str) -> str:
    return next(w for w in out.split() if w.startswith("ro-")).rstrip(".")


@pytest.mark.loopback
def test_step_and_run_drive_a_rollout_to_the_end(capsys, monkeypatch, fleet):
    sim, clock, path = fleet
    before = set(sim.fleet.jobs[AX])
    code, out, err = run(
        capsys, monkeypatch, "rollout", "apply", "--profile", "lab", "--yes", str(path)
    )
    assert code == 0, err
    rid = rollout_id(out)
    clock.advance(3600)
    code, out, _ = run(capsys, monkeypatch, "rollout", "step", "--profile", "lab")
    assert code == 0 and f"{rid}: wave 1 reached 100 % success" in out

    real_sleep = asyncio.sleep

    async def time_passes(seconds: float) -> None:  # between evaluations: 20 minutes on
        if seconds >= 1:  # not the event loop's own zero-second yields
            clock.advance(1200)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", time_passes)
    code, out, _ = run(capsys, monkeypatch, "rollout", "run", "--profile", "lab", rid)
    monkeypatch.setattr(asyncio, "sleep", real_sleep)
    assert code == 0 and f"{rid}: wave 2 started: wave 1 at 100 % success" in out
    assert out.rstrip().endswith(f"{rid}: done")
    code, out, _ = run(capsys, monkeypatch, "rollout", "show", "--profile", "lab", rid)
    assert code == 0 and "State: done" in out and "Next: done" in out
    code, out, _ = run(
        capsys, monkeypatch, "rollout", "show", "--profile", "lab", rid, "--format", "json"
    )
    data = json.loads(out)
    assert data["state"] == "done" and [w["state"] for w in data["waves"]] == ["done", "done"]
    # Each terminal of the waves got one job, and nothing else got one.
    jobs = [sim.fleet.jobs[AX][j] for j in set(sim.fleet.jobs[AX]) - before]
    targets = [t for job in jobs for t in job.targets]
    assert sorted(targets) == sorted(d for w in data["waves"] for d in w["devices"])
    code, out, _ = run(capsys, monkeypatch, "rollout", "list", "--profile", "lab")
    assert code == 0 and rid in out and " done " in out


@pytest.mark.loopback
def test_show_exits_1_when_a_rollout_halted(capsys, monkeypatch, fleet):
    sim, clock, path = fleet
    sim.faults.apply_spec("aovx:fail=1")
    sim.apply_settings()
    code, out, err = run(
        capsys, monkeypatch, "rollout", "apply", "--profile", "lab", "--yes", str(path)
    )
    assert code == 0, err
    rid = rollout_id(out)
    clock.advance(3600)
    code, out, _ = run(capsys, monkeypatch, "rollout", "step", "--profile", "lab", rid)
    assert f"{rid}: halted: wave 1 failure rate 100 % > 5 %" in out
    code, out, _ = run(capsys, monkeypatch, "rollout", "show", "--profile", "lab", rid)
    assert code == 1 and "State: halted (not acknowledged)" in out
    code, out, _ = run(capsys, monkeypatch, "rollout", "ack", "--profile", "lab", rid)
    assert code == 0 and "halt acknowledged" in out
    code, out, _ = run(capsys, monkeypatch, "rollout", "show", "--profile", "lab", rid)
    assert code == 1 and "State: halted\n" in out
    code, _, err = run(capsys, monkeypatch, "rollout", "resume", "--profile", "lab", rid)
    assert code == 2 and "only a paused one resumes" in err
    code, out, _ = run(capsys, monkeypatch, "rollout", "ack", "--profile", "lab", rid)
    assert code == 0 and "halted already; nothing changed" in out
    code, _, err = run(
        capsys, monkeypatch, "--read-only", "rollout", "pause", "--profile", "lab", rid
    )
    assert code == 2 and "read-only" in err
    code, _, err = run(capsys, monkeypatch, "rollout", "show", "--profile", "lab", "ro-0000000000")
    assert code == 2 and "no rollout ro-0000000000" in err


@pytest.mark.loopback
def test_a_second_rollout_leaves_out_the_devices_the_first_will_send_to(capsys, monkeypatch, fleet):
    """Applying the same file twice must not put a device in two rollouts: the first's
    later waves are not sent yet (so no platform campaign shows them), and the second
    plan leaves them out by name."""
    _, _, path = fleet
    code, out, err = run(
        capsys, monkeypatch, "rollout", "apply", "--profile", "lab", "--yes", str(path)
    )
    assert code == 0, err
    first = rollout_id(out)
    code, out, err = run(capsys, monkeypatch, "rollout", "plan", "--profile", "lab", str(path))
    assert code == 2
    assert f"waits in wave 2 of rollout {first}" in out
    assert "none of the 10 devices is free" in err
    code, _, err = run(capsys, monkeypatch, "rollout", "ack", "--profile", "lab", first)
    assert code == 2 and "only a halt is acknowledged" in err

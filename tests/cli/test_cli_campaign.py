"""``fota-tui campaign plan | list | show | cancel`` and the example campaign files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fota_tui.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "campaigns"
KINDS = ("thingspace", "oceanconnect", "onenet", "aovx")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def example(kind: str) -> str:
    return (EXAMPLES / f"{kind}.toml").read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_every_example_file_plans_cleanly_against_the_demo(capsys, kind):
    code, out, err = run(capsys, "campaign", "plan", "--demo", str(EXAMPLES / f"{kind}.toml"))
    assert (code, err) == (0, "")
    assert f"Provider: {kind}-demo" in out and "Devices: 3 requested, 3 eligible" in out
    assert "POST http://" in out and "Valid: nothing has been sent." in out
    assert "***" in out  # the auth headers are shown masked


def test_plan_json_is_machine_readable(capsys):
    code, out, _ = run(capsys, "campaign", "plan", "--demo", "--json", str(EXAMPLES / "aovx.toml"))
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["kind"] == "aovx"
    (job,) = data["jobs"]
    (request,) = job["requests"]
    assert request["body"]["terminalIds"] == job["spec"]["devices"]
    assert all(d["eligible"] for d in data["devices"]) and data["problems"] == []


def test_rule_problems_exit_2_with_field_level_messages(capsys, tmp_path):
    path = tmp_path / "bad.toml"
    text = example("thingspace").replace("[[0, 6], [20, 24]]", "[[2, 5]]")
    path.write_text(text.replace('"352349110102733"', '"352349110102734"'))
    code, out, err = run(capsys, "campaign", "plan", "--demo", str(path))
    assert code == 2
    lines = err.splitlines()
    assert f"{path}: windows[0]: ThingSpace windows need end >= start + 4 h (got 2-5 UTC)" in lines
    assert any(
        line.startswith(f"{path}: devices[2]: ThingSpace device lists hold IMEIs") for line in lines
    )
    assert "Problems (2):" in out and "POST" not in out


def test_ineligible_devices_are_listed_and_left_out(capsys, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(example("thingspace").replace('"352349110102733"', '"353456789012348"'))
    code, out, _ = run(capsys, "campaign", "plan", "--demo", str(path))
    assert code == 0
    assert "Devices: 3 requested, 2 eligible" in out
    assert "left out: 353456789012348: not known to the platform" in out
    assert '"353456789012348"' not in out.split("Job 1")[1]


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('provider = "aovx-demo"\nfirmware = "x"\nwindows = 3\n', "windows", "list"),
        ('provider = "nope"\nfirmware = "x"\n', "provider", "no provider 'nope'"),
        ('firmware = "x"\n', "provider", "missing"),
        ('provider = "aovx-demo"\nfirmware = "x"\n[options\n', "line 3", "invalid TOML"),
    ],
)
def test_bad_files_exit_2_naming_file_and_field(capsys, tmp_path, text, key, words):
    path = tmp_path / "c.toml"
    path.write_text(text)
    code, out, err = run(capsys, "campaign", "plan", "--demo", str(path))
    assert code == 2 and out == ""
    assert err.startswith(f"fota-tui: Configuration error: {path}: {key}") and words in err


def test_missing_file_exits_2(capsys, tmp_path):
    code, _, err = run(capsys, "campaign", "plan", "--demo", str(tmp_path / "none.toml"))
    assert code == 2 and "file not found" in err


def test_list_show_and_cancel_on_the_demo(capsys):
    code, out, _ = run(capsys, "campaign", "list", "--demo", "--provider", "thingspace-demo")
    assert code == 0 and out.startswith("PROVIDER")
    rows = [line.split() for line in out.splitlines()[1:]]
    assert rows and all(r[0] == "thingspace-demo" for r in rows)
    open_id = next(r[1] for r in rows if "pending" in r or "queued" in r)

    code, out, _ = run(capsys, "campaign", "show", "--demo", open_id)
    assert code == 0 and out.startswith(f"Campaign {open_id} (Verizon ThingSpace")
    assert "cancel: yes" in out and re.search(r"^DEVICE\s+STATE", out, re.M)

    code, out, _ = run(capsys, "campaign", "cancel", "--demo", "--yes", open_id)
    assert (code, out.strip()) == (0, f"Campaign {open_id}: cancelled")


def test_cancel_is_refused_where_the_platform_cannot(capsys):
    _, out, _ = run(capsys, "campaign", "list", "--demo", "--provider", "oceanconnect-demo")
    task = out.splitlines()[1].split()[1]
    code, _, err = run(capsys, "campaign", "cancel", "--demo", "--yes", task)
    assert code == 2 and "OceanConnect campaigns cannot be cancelled" in err


def test_unknown_campaign_and_provider(capsys):
    code, _, err = run(capsys, "campaign", "show", "--demo", "no-such-campaign")
    assert code == 2 and "no campaign 'no-such-campaign'" in err
    code, _, err = run(capsys, "campaign", "list", "--demo", "--provider", "nope")
    assert code == 2 and "no provider 'nope'" in err


def test_commands_without_a_profile_explain_what_to_do(capsys, tmp_path):
    code, _, err = run(capsys, "campaign", "list")
    assert code == 2 and "no profiles yet" in err


def test_plan_exits_1_when_a_platform_cannot_check_the_file_and_caps_its_problem_list(
    capsys, tmp_path, monkeypatch
):
    """A valid file the platform could not check is not 'invalid' (2) but 'failed' (1); a
    file with thousands of problems prints the first 20 and how many more."""
    from fota_tui.commands import campaign as campaign_cmd
    from fota_tui.services.campaigns.problems import problem

    class Preview:
        ok = False
        problems = [problem("devices", "eligibility.unavailable", "cannot check the devices")]

    assert campaign_cmd._report_problems(Preview(), tmp_path / "c.toml") == 1
    Preview.problems = [problem("devices", "x", f"bad {i}") for i in range(500)]
    assert campaign_cmd._report_problems(Preview(), tmp_path / "c.toml") == 2
    err = capsys.readouterr().err
    assert err.count("bad ") == 20 and "… and 480 more" in err


def test_read_only_is_taken_after_the_subcommand_too(capsys, monkeypatch):
    from pathlib import Path

    from fota_tui.cli import main

    path = str(Path(__file__).resolve().parents[1] / "data" / "campaigns" / "aovx.toml")
    code = main(["campaign", "apply", "--demo", "--read-only", "--yes", path])
    out, err = capsys.readouterr()
    assert code == 2 and "read-only" in err and "created" not in out

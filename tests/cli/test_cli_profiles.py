import shlex
import stat
import sys
import tomllib
from pathlib import Path

import pytest

from fota_tui.cli import main

SECRET = "S3cr3t-Zq9-value"
PY = shlex.quote(sys.executable)

GOOD = """\
label = "Lab bench"
environment = "lab"
refresh_interval = 10

[[providers]]
kind = "thingspace"
name = "ts"
account = "0000123456-00001"
app_key = "key"
app_secret = "env:TS_SECRET"
username = "bob"
password = "file:{secret_file}"

[[providers]]
kind = "aovx"
name = "ax"
token = "cmd:{py} -c \\"print('{secret}')\\""
"""


@pytest.fixture
def good_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    secret_file = tmp_path / "pw.txt"
    secret_file.write_text(SECRET + "\n")
    monkeypatch.setenv("TS_SECRET", SECRET)
    path = tmp_path / "lab-source.toml"
    path.write_text(GOOD.format(secret_file=secret_file, py=PY.replace('"', '\\"'), secret=SECRET))
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_add_list_show_check_default_remove(good_file, capsys, isolated_dirs):
    profiles_dir = isolated_dirs["config"] / "profiles"
    code, out, _ = run(capsys, "profiles", "add", "lab", "--from", str(good_file))
    assert code == 0 and "now the default" in out
    assert stat.S_IMODE((profiles_dir / "lab.toml").stat().st_mode) == 0o600
    code, out, _ = run(capsys, "profiles", "add", "bench", "--from", str(good_file))
    assert code == 0 and "default" not in out  # only the first becomes the default

    code, out, _ = run(capsys, "profiles", "list")
    rows = [line.split() for line in out.splitlines()]
    assert rows[1] == ["bench", "Lab", "bench", "lab", "2"]
    assert rows[2] == ["*", "lab", "Lab", "bench", "lab", "2"]

    code, out, _ = run(capsys, "profiles", "show", "lab")
    assert code == 0
    assert "app_secret: •••• (env:TS_SECRET)" in out
    assert "password: •••• (file:" in out
    assert "base_url: https://thingspace.verizon.com/api (default)" in out

    code, out, err = run(capsys, "profiles", "check")
    assert code == 0, out
    assert "ts (thingspace): ok" in out and "ax (aovx): ok" in out
    assert SECRET not in out.replace(f"print('{SECRET}')", "") + err

    assert run(capsys, "profiles", "default", "bench")[0] == 0
    config = tomllib.loads((isolated_dirs["config"] / "config.toml").read_text())
    assert config == {"default_profile": "bench"}

    code, out, _ = run(capsys, "profiles", "remove", "bench")
    assert code == 0 and "was the default" in out
    assert not (profiles_dir / "bench.toml").exists()
    assert tomllib.loads((isolated_dirs["config"] / "config.toml").read_text()) == {}


def test_secret_values_never_reach_output_or_files(tmp_path, capsys, isolated_dirs, monkeypatch):
    # Only env:/file: references here, so the value may appear nowhere at all.
    monkeypatch.setenv("TS_SECRET", SECRET)
    (tmp_path / "pw.txt").write_text(SECRET)
    source = tmp_path / "lab.toml"
    source.write_text(
        '[[providers]]\nkind = "thingspace"\nname = "ts"\naccount = "a"\napp_key = "k"\n'
        f'username = "u"\napp_secret = "env:TS_SECRET"\npassword = "file:{tmp_path}/pw.txt"\n'
    )
    outputs = []
    for argv in (
        ["profiles", "add", "lab", "--from", str(source)],
        ["profiles", "list"],
        ["profiles", "show", "lab"],
        ["profiles", "check", "lab"],
        ["--debug", "profiles", "check"],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 0, (argv, out, err)
        outputs.append(out + err)
    assert "ts (thingspace): ok" in outputs[3]
    written = "".join(p.read_text() for p in isolated_dirs["config"].rglob("*.toml"))
    assert SECRET not in "".join(outputs) + written


def test_check_reports_unset_env_and_failing_cmd(good_file, capsys, monkeypatch):
    assert run(capsys, "profiles", "add", "lab", "--from", str(good_file))[0] == 0
    monkeypatch.delenv("TS_SECRET")
    code, out, _ = run(capsys, "profiles", "check", "lab")
    assert code == 2
    assert "ts (thingspace): error" in out
    assert "app_secret of provider 'ts': env:TS_SECRET is not set" in out
    assert "1 profile checked, 1 with errors." in out


def test_check_failing_cmd_hides_its_output(tmp_path, capsys):
    source = tmp_path / "p.toml"
    code = f"import sys; print('{SECRET}'); sys.exit(4)"
    source.write_text(
        f'[[providers]]\nkind = "onenet"\nname = "on"\napi_key = """cmd:{PY} -c "{code}" """\n'
    )
    assert run(capsys, "profiles", "add", "p", "--from", str(source))[0] == 0
    code_, out, _ = run(capsys, "profiles", "check", "p")
    assert code_ == 2
    assert "api_key of provider 'on'" in out and "exited with status 4" in out
    assert out.count(SECRET) == out.count(f"print('{SECRET}')")  # only inside the reference


def test_show_and_check_warn_about_plaintext_and_insecure_transport(tmp_path, capsys):
    source = tmp_path / "p.toml"
    source.write_text(
        '[[providers]]\nkind = "oceanconnect"\nname = "oc"\n'
        f'base_url = "http://10.0.0.5:8743"\nverify_tls = false\napp_id = "a"\nsecret = "{SECRET}"\n'
    )
    code, out, err = run(capsys, "profiles", "add", "p", "--from", str(source))
    assert code == 0 and "plaintext secret" in err
    code, out, err = run(capsys, "profiles", "show", "p")
    assert "secret: •••• (plaintext)" in out
    assert "secret holds a plaintext secret" in out
    assert "verify_tls = false" in out and "plain http:// to 10.0.0.5" in out
    code, out, err = run(capsys, "profiles", "check", "p")
    assert code == 0  # warnings only
    assert "oc (oceanconnect): warning" in out
    assert SECRET not in out + err


def test_add_refuses_to_overwrite_without_force(good_file, capsys, isolated_dirs):
    assert run(capsys, "profiles", "add", "lab", "--from", str(good_file))[0] == 0
    path = isolated_dirs["config"] / "profiles" / "lab.toml"
    before = path.read_bytes()
    good_file.write_text(good_file.read_text().replace("Lab bench", "Replaced"))
    code, _, err = run(capsys, "profiles", "add", "lab", "--from", str(good_file))
    assert code == 2 and "already exists" in err and "--force" in err
    assert path.read_bytes() == before
    assert run(capsys, "profiles", "add", "lab", "--from", str(good_file), "--force")[0] == 0
    assert b"Replaced" in path.read_bytes()


BAD_INPUTS = {
    "unknown kind": (
        '[[providers]]\nkind = "sigfox"\nname = "x"\n',
        "providers[0].kind",
        "unknown kind 'sigfox'; expected one of: thingspace, oceanconnect, onenet, aovx",
    ),
    "unknown key": (
        'labl = "x"\n',
        "labl",
        "unknown key; did you mean 'label'?",
    ),
    "wrong type": (
        '[[providers]]\nkind = "onenet"\nname = "on"\napi_key = "env:K"\ntimeout = "fast"\n',
        "providers[0].timeout",
        "expected a valid number",
    ),
    "invalid toml": (
        'label = "x"\nread_only = yes\n',
        "line 2, column 13",
        "invalid TOML",
    ),
    "duplicate provider name": (
        '[[providers]]\nkind = "onenet"\nname = "on"\napi_key = "env:K"\n'
        '[[providers]]\nkind = "aovx"\nname = "on"\ntoken = "env:T"\n',
        "providers[1].name",
        "duplicate provider name 'on'",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_via_add(case, tmp_path, capsys, isolated_dirs):
    text, key, expected = BAD_INPUTS[case]
    source = tmp_path / "bad.toml"
    source.write_text(text)
    code, _, err = run(capsys, "profiles", "add", "lab", "--from", str(source))
    assert code == 2
    assert err.startswith(f"fota-tui: Configuration error: {source}: {key}: ")
    assert expected in err
    assert len(err.splitlines()) == 1
    assert not (isolated_dirs["config"] / "profiles").exists()  # nothing written


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_in_stored_profile(case, capsys, isolated_dirs):
    text, key, expected = BAD_INPUTS[case]
    path = isolated_dirs["config"] / "profiles" / "lab.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    code, out, err = run(capsys, "profiles", "show", "lab")
    assert code == 2
    assert err.startswith(f"fota-tui: Configuration error: {path}: {key}: ")
    assert expected in err
    code, out, err = run(capsys, "profiles", "check")
    assert code == 2 and f"{path}: {key}: " in out
    code, out, err = run(capsys, "profiles", "list")
    assert code == 0 and "invalid" in out
    assert path.read_text() == text  # a load never rewrites a bad file


def test_missing_profile_lists_available(good_file, capsys, isolated_dirs):
    assert run(capsys, "profiles", "add", "lab", "--from", str(good_file))[0] == 0
    for argv in (
        ["profiles", "show", "prod"],
        ["profiles", "remove", "prod"],
        ["profiles", "default", "prod"],
        ["profiles", "check", "prod"],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2, argv
        assert "no profile named 'prod' (available: lab)" in out + err
        assert str(isolated_dirs["config"] / "profiles" / "prod.toml") in out + err


def test_missing_source_file(tmp_path, capsys):
    code, _, err = run(capsys, "profiles", "add", "lab", "--from", str(tmp_path / "nope.toml"))
    assert code == 2 and "nope.toml: file not found" in err


def test_corrupt_config_is_not_overwritten(good_file, capsys, isolated_dirs):
    config = isolated_dirs["config"] / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("default_profile = = 'x'\n")
    for argv in (["profiles", "add", "lab", "--from", str(good_file)], ["profiles", "list"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and f"{config}: line 1, column" in err
    assert config.read_text() == "default_profile = = 'x'\n"
    assert not (isolated_dirs["config"] / "profiles").exists()


def test_list_and_check_with_no_profiles(capsys):
    code, out, _ = run(capsys, "profiles", "list")
    assert code == 0 and "No profiles" in out
    code, _, err = run(capsys, "profiles", "check")
    assert code == 2 and "no profiles to check" in err


def test_bad_profile_name(good_file, capsys):
    code, _, err = run(capsys, "profiles", "add", "../evil", "--from", str(good_file))
    assert code == 2 and "invalid profile name" in err

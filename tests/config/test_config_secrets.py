import shlex
import sys
import types

import pytest

from fota_tui.config.schema import AovxConfig, ThingSpaceConfig
from fota_tui.config.secrets import (
    is_plaintext,
    mask,
    reference_problem,
    resolve_credentials,
    resolve_secret,
)
from fota_tui.errors import SecretError

VALUE = "S3cr3t-value-7f1c"
PY = shlex.quote(sys.executable)


def resolve(ref: str) -> str:
    return resolve_secret(ref, field="app_secret", provider="ts-main").get_secret_value()


def test_env_reference(monkeypatch):
    monkeypatch.setenv("TS_SECRET", VALUE)
    secret = resolve_secret("env:TS_SECRET", field="app_secret", provider="ts-main")
    assert secret.get_secret_value() == VALUE
    assert VALUE not in str(secret) and VALUE not in repr(secret)


def test_unset_env_names_field_provider_and_reference(monkeypatch):
    monkeypatch.delenv("TS_SECRET", raising=False)
    with pytest.raises(SecretError) as info:
        resolve("env:TS_SECRET")
    message = str(info.value)
    assert "env:TS_SECRET is not set" in message
    assert "app_secret" in message and "ts-main" in message
    assert info.value.exit_code == 2


def test_file_reference_strips_one_trailing_newline(tmp_path, monkeypatch):
    (tmp_path / "secret.txt").write_text(VALUE + "\n\n")
    assert resolve(f"file:{tmp_path / 'secret.txt'}") == VALUE + "\n"
    (tmp_path / "crlf.txt").write_bytes(VALUE.encode() + b"\r\n")
    assert resolve(f"file:{tmp_path / 'crlf.txt'}") == VALUE


def test_file_reference_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "token").write_text(VALUE)
    assert resolve("file:~/token") == VALUE


def test_missing_file(tmp_path):
    with pytest.raises(SecretError, match="does not exist"):
        resolve(f"file:{tmp_path / 'nope'}")


def test_cmd_reference_uses_stdout_stripped():
    ref = f"cmd:{PY} -c \"print('  {VALUE}  ')\""
    assert resolve(ref) == VALUE


def test_cmd_runs_without_a_shell(tmp_path):
    # With a shell, `;` would start a second command; without one it is just an argument.
    marker = tmp_path / "marker"
    ref = f"cmd:{PY} -c \"import sys; print(' '.join(sys.argv[1:]))\" ok;touch {marker}"
    assert resolve(ref) == f"ok;touch {marker}"
    assert not marker.exists()


def test_failing_cmd_never_shows_its_output():
    code = f"import sys; print('{VALUE}'); print('{VALUE}', file=sys.stderr); sys.exit(3)"
    ref = f'cmd:{PY} -c "{code}"'
    with pytest.raises(SecretError) as info:
        resolve(ref)
    message = str(info.value)
    assert "exited with status 3" in message
    assert "app_secret" in message and "cmd:" in message
    assert VALUE not in message.replace(ref, "")  # only the reference itself is shown


def test_cmd_not_found():
    with pytest.raises(SecretError, match="command not found"):
        resolve("cmd:/nonexistent/pass-tool show x")


def test_cmd_empty_output_is_an_error():
    with pytest.raises(SecretError, match="empty value"):
        resolve(f'cmd:{PY} -c "pass"')


def test_keyring_without_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    with pytest.raises(SecretError, match="needs the 'keyring' package"):
        resolve("keyring:fota/bob")


def test_keyring_lookup(monkeypatch):
    calls = []

    def get_password(service: str, user: str) -> str | None:
        calls.append((service, user))
        return VALUE if user == "bob" else None

    fake = types.ModuleType("keyring")
    fake.get_password = get_password  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    assert resolve("keyring:thingspace/prod/bob") == VALUE
    assert calls == [("thingspace/prod", "bob")]
    with pytest.raises(SecretError, match="no entry"):
        resolve("keyring:thingspace/alice")


def test_plaintext_passes_through_and_is_flagged():
    assert resolve(VALUE) == VALUE
    assert is_plaintext(VALUE)
    assert is_plaintext("vault:thing")  # unknown scheme: plaintext
    assert not is_plaintext("env:X")


@pytest.mark.parametrize(
    ("ref", "problem"),
    [
        ("env:", "variable name"),
        ("file:  ", "file path"),
        ("cmd:pass 'x", "cannot be parsed"),
        ("keyring:no-user", "SERVICE/USER"),
    ],
)
def test_malformed_references(ref, problem):
    assert problem in (reference_problem(ref) or "")
    with pytest.raises(SecretError, match=problem):
        resolve(ref)


def test_mask_shows_reference_never_value():
    assert mask("env:TS_SECRET") == "•••• (env:TS_SECRET)"
    assert mask(VALUE) == "•••• (plaintext)"
    assert VALUE not in mask(VALUE)


def test_resolve_credentials_resolves_every_set_field(monkeypatch):
    monkeypatch.setenv("TS_SECRET", VALUE)
    cfg = ThingSpaceConfig(
        name="ts",
        account="acct",
        app_key="key",
        app_secret="env:TS_SECRET",
        username="bob",
        password="plain-pw",
    )
    creds = resolve_credentials(cfg)
    assert {k: v.get_secret_value() for k, v in creds.items()} == {
        "app_secret": VALUE,
        "password": "plain-pw",
    }
    aovx = AovxConfig(name="ax", token="env:TS_SECRET")
    assert set(resolve_credentials(aovx)) == {"token"}


def test_resolve_credentials_reports_every_failure(monkeypatch):
    monkeypatch.delenv("A", raising=False)
    monkeypatch.delenv("B", raising=False)
    cfg = ThingSpaceConfig(
        name="ts", account="a", app_key="k", app_secret="env:A", username="u", password="env:B"
    )
    with pytest.raises(SecretError) as info:
        resolve_credentials(cfg)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert "app_secret" in lines[0] and "env:A is not set" in lines[0]
    assert "password" in lines[1] and "env:B is not set" in lines[1]

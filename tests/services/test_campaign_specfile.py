"""Campaign files: TOML → CampaignSpec, with errors naming the file and the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fota_tui.errors import ConfigError
from fota_tui.models import ExecuteType
from fota_tui.services.campaigns.specfile import load_spec_file, parse_time, spec_to_toml

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_full_file_loads(tmp_path):
    path = write(
        tmp_path,
        """
provider = "ts"
name = "Q4 modem rollout"
firmware = "FW_V2"
firmware_to = "2.0"
devices = ["359000000000001", "359000000000002"]
start_at = 2026-11-23T00:00:00Z
end_at = 2026-11-30
windows = [[0, 6], { start = 20, end = 24 }]
execute_type = "custom"
retry_times = 3
split = true

[options]
api = "v3"
auto_assign_license = true
""",
    )
    loaded = load_spec_file(path, now=clock)
    spec = loaded.spec
    assert loaded.split is True and loaded.path == path
    assert spec.provider == "ts" and spec.name == "Q4 modem rollout"
    assert spec.devices == ["359000000000001", "359000000000002"]
    assert spec.start_at == datetime(2026, 11, 23, tzinfo=UTC)
    assert spec.end_at == datetime(2026, 11, 30, tzinfo=UTC)
    assert spec.windows == [(0, 6), (20, 24)]
    assert spec.execute_type is ExecuteType.CUSTOM and spec.retry_times == 3
    assert spec.options == {"api": "v3", "auto_assign_license": True}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"now"', NOW),
        ('"+30m"', NOW + timedelta(minutes=30)),
        ('"+2h"', NOW + timedelta(hours=2)),
        ('"+7d"', NOW + timedelta(days=7)),
        ('"20261123T101500Z"', datetime(2026, 11, 23, 10, 15, tzinfo=UTC)),
        ('"2026-11-23T18:15:00+08:00"', datetime(2026, 11, 23, 10, 15, tzinfo=UTC)),
        ("2026-11-23T10:15:00Z", datetime(2026, 11, 23, 10, 15, tzinfo=UTC)),
    ],
)
def test_time_forms(tmp_path, value, expected):
    path = write(tmp_path, f'provider = "p"\nfirmware = "f"\nstart_at = {value}\n')
    assert load_spec_file(path, now=clock).spec.start_at == expected


def test_relative_times_are_whole_seconds(tmp_path):
    path = write(tmp_path, 'provider = "p"\nfirmware = "f"\nstart_at = "+1h"\n')
    later = NOW + timedelta(microseconds=750_000)
    assert load_spec_file(path, now=lambda: later).spec.start_at == NOW + timedelta(hours=1)


def test_devices_file_is_read_relative_to_the_campaign_file(tmp_path):
    (tmp_path / "ids.csv").write_text("imei,label\n# staging\n111,a\n\n222,b\n")
    path = write(
        tmp_path, 'provider = "p"\nfirmware = "f"\ndevices = ["000"]\ndevices_file = "ids.csv"\n'
    )
    assert load_spec_file(path).spec.devices == ["000", "111", "222"]


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('provider = "p"\nfirmware = "f"\nstart_at = 2026-11-23T00:00:00\n', "start_at",
         "no UTC offset"),
        ('provider = "p"\nfirmware = "f"\nend_at = "tomorrow"\n', "end_at", "expected a time"),
        ('provider = "p"\nfirmware = "f"\nwindows = [[0, 6, 8]]\n', "windows[0]", "[start, end]"),
        ('provider = "p"\nfirmware = "f"\nwindows = "0-6"\n', "windows", "list"),
        ('provider = "p"\nfirmware = "f"\nsplit = "yes"\n', "split", "true or false"),
        ('provider = "p"\nfirmware = "f"\ndevice = ["1"]\n', "device", "unknown key"),
        ('provider = "p"\n', "firmware", "missing"),
        ('provider = "p"\nfirmware = "f"\nexecute_type = "later"\n', "execute_type", "now"),
        ('provider = "p"\nfirmware = "f"\nretry_times = "three"\n', "retry_times", "integer"),
        ('provider = "p"\nfirmware = "f"\ndevices = "1,2"\n', "devices", "list"),
        ('provider = "p"\nfirmware = "f"\ndevices_file = "nope.csv"\n', "devices_file",
         "not found"),
        ('provider = "p"\nfirmware = "f"\nstart_at = [1]\n', "start_at", "expected a time"),
    ],
)  # fmt: skip
def test_bad_fields_name_the_file_and_key(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_spec_file(path)
    err = info.value
    assert err.path == str(path) and err.key == key
    assert str(path) in str(err) and words in str(err)


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, 'firmware = "f"\nfoo = 1\nsplit = 2\nend_at = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_spec_file(path)
    text = str(info.value)
    assert all(k in text for k in ("foo", "split", "end_at"))


def test_invalid_toml_names_the_line(tmp_path):
    path = write(tmp_path, 'provider = "p"\nfirmware = \n')
    with pytest.raises(ConfigError) as info:
        load_spec_file(path)
    assert info.value.key is not None and info.value.key.startswith("line 2")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_spec_file(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="directory"):
        load_spec_file(tmp_path)


def test_round_trip_through_toml(tmp_path):
    path = write(
        tmp_path,
        'provider = "p"\nfirmware = "f"\ndevices = ["1"]\nstart_at = 2026-11-23T00:00:00Z\n'
        'windows = [[0, 6]]\nexecute_type = "custom"\n[options]\nretry = 3\n',
    )
    spec = load_spec_file(path).spec
    again = write(tmp_path, spec_to_toml(spec, split=True), "again.toml")
    loaded = load_spec_file(again)
    assert loaded.spec == spec and loaded.split is True


def test_parse_time_rejects_garbage():
    assert parse_time("soon")[0] is None
    assert parse_time(True)[0] is None


def _devices_file_error(tmp_path: Path, target: str) -> str:
    path = write(tmp_path, f'provider = "p"\nfirmware = "f"\ndevices_file = "{target}"\n')
    with pytest.raises(ConfigError) as info:
        load_spec_file(path)
    assert info.value.key == "devices_file"
    return str(info.value)


def test_a_secret_file_named_as_devices_file_is_refused_without_echoing_it(tmp_path):
    (tmp_path / "creds").write_text("user=admin\npassword=hunter2-secret\n")
    text = _devices_file_error(tmp_path, "creds")
    assert "line 1: not a device id" in text and "right file" in text
    assert "hunter2" not in text and "admin" not in text
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\nMIIEv+QIB/ADAN\n")
    assert "MIIE" not in _devices_file_error(tmp_path, "key.pem")


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_a_device_is_never_read_as_a_devices_file(tmp_path, target):
    assert "is not a regular file" in _devices_file_error(tmp_path, target)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe")  # opening it for reading would block for ever
    assert "is not a regular file" in _devices_file_error(tmp_path, "pipe")


def test_a_devices_file_over_the_size_limit_is_refused(tmp_path):
    with (tmp_path / "huge.csv").open("wb") as handle:
        handle.truncate(9 * 1024 * 1024)  # sparse: costs no disk
    text = _devices_file_error(tmp_path, "huge.csv")
    assert "9.0 MiB" in text and "at most 8 MiB" in text


def test_a_huge_cell_or_a_colon_pair_is_refused_by_its_line_not_crashed_or_echoed(tmp_path):
    (tmp_path / "long.csv").write_text("352349110028482\n" + "A" * 140_000 + "\n")
    text = _devices_file_error(tmp_path, "long.csv")
    assert "line 2: not a device id" in text and "AAAA" not in text
    (tmp_path / "colon.csv").write_text("352349110028482\npassword:hunter2\n")
    text = _devices_file_error(tmp_path, "colon.csv")
    assert "line 2: not a device id" in text and "hunter2" not in text


def test_the_line_named_is_the_file_line_after_a_cell_over_two_lines(tmp_path):
    (tmp_path / "ml.csv").write_text('352349110028482,"note\nmore"\nbad id\n')
    assert "ml.csv, line 3: not a device id" in _devices_file_error(tmp_path, "ml.csv")

"""Campaign files: a ``CampaignSpec`` as TOML, for scripts and reviews.

The keys are the ``CampaignSpec`` fields, plus ``split`` (accept splitting a device list
the platform cannot take in one job) and ``devices_file`` (a CSV of ids, first column,
relative to the TOML file). Times are TOML datetimes with an offset, a date (midnight
UTC), or strings: ISO-8601 with ``Z``/offset, ``20261123T000000Z``, ``now``, ``+30m``,
``+2h``, ``+7d``. Every problem becomes a ``ConfigError`` naming the file and the key.
"""

from __future__ import annotations

import csv
import io
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from fota_tui.config.schema import format_validation_error
from fota_tui.config.store import problems_error, read_toml
from fota_tui.errors import ConfigError
from fota_tui.models import CampaignSpec, utcnow

FILE_ONLY_KEYS = ("split", "devices_file")
TIME_KEYS = ("start_at", "end_at")
_RELATIVE = re.compile(r"^\+\s*(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_HEADER_CELLS = {"device_id", "deviceid", "imei", "id", "terminal_id", "terminalid", "device"}


@dataclass(frozen=True)
class SpecFile:
    """A loaded campaign file."""

    path: Path
    spec: CampaignSpec
    split: bool = False


def load_spec_file(path: Path | str, *, now: Callable[[], datetime] = utcnow) -> SpecFile:
    """Read and validate a campaign file; raises ``ConfigError`` naming file and key."""
    path, data = read_file_table(path, "a campaign TOML file")
    return parse_spec_data(data, path=path, now=now)


def read_file_table(path: Path | str, what: str) -> tuple[Path, dict[str, Any]]:
    """The TOML table of a campaign or rollout file (``ConfigError`` if there is none)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ConfigError(f"is a directory, expected {what}", path=str(path))
    data = read_toml(path)
    if data is None:
        raise ConfigError("file not found", path=str(path))
    return path, data


def parse_spec_data(
    data: Mapping[str, Any], *, path: Path, now: Callable[[], datetime] = utcnow
) -> SpecFile:
    """Validate already-parsed TOML data (``path`` is used for messages and ``devices_file``)."""
    loaded, problems = collect_spec_data(data, path=path, now=now)
    if loaded is None:
        raise problems_error(path, problems)
    return loaded


def collect_spec_data(
    data: Mapping[str, Any], *, path: Path, now: Callable[[], datetime] = utcnow
) -> tuple[SpecFile | None, list[tuple[str | None, str]]]:
    """The campaign file, or ``None`` and every ``(key, problem)`` found."""
    problems: list[tuple[str | None, str]] = []
    allowed = [*CampaignSpec.model_fields, *FILE_ONLY_KEYS]
    for key in data:
        if key not in allowed:
            problems.append((key, f"unknown key; expected one of: {', '.join(allowed)}"))
    fields = {k: v for k, v in data.items() if k in CampaignSpec.model_fields}
    split = data.get("split", False)
    if not isinstance(split, bool):
        problems.append(("split", f"expected true or false (got {split!r})"))
        split = False
    for key in TIME_KEYS:
        if key in fields:
            value, error = parse_time(fields[key], now)
            if error:
                problems.append((key, error))
            else:
                fields[key] = value
    if "windows" in fields:
        windows, window_problems = _parse_windows(fields["windows"])
        problems += window_problems
        fields["windows"] = windows
    if "devices_file" in data:
        extra, error = _read_devices_file(data["devices_file"], path)
        if error:
            problems.append(("devices_file", error))
        else:
            devices = fields.get("devices", [])
            fields["devices"] = [*devices, *extra] if isinstance(devices, list) else devices
    if not problems:
        try:
            spec = CampaignSpec.model_validate(fields)
        except ValidationError as exc:
            problems += format_validation_error(exc, CampaignSpec, fields)
        else:
            return SpecFile(path=path, spec=spec, split=split), []
    return None, problems


def parse_time(value: Any, now: Callable[[], datetime] = utcnow) -> tuple[datetime | None, str]:
    """A campaign time as UTC, or ``(None, why not)``."""
    expected = (
        "expected a time with an offset (2026-11-23T00:00:00Z), a date, "
        "20261123T000000Z, now, or +30m / +2h / +7d"
    )
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return None, f"{value.isoformat()} has no UTC offset; write it as {value.isoformat()}Z"
        return value.astimezone(UTC), ""
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC), ""
    if not isinstance(value, str):
        return None, f"{expected} (got {value!r})"
    text = value.strip()
    base = now().astimezone(UTC).replace(microsecond=0)  # relative times: whole seconds
    if text.lower() == "now":
        return base, ""
    match = _RELATIVE.match(text)
    if match:
        return base + timedelta(**{_UNITS[match[2]]: int(match[1])}), ""
    for parse in (_iso, _compact):
        parsed = parse(text)
        if parsed is not None:
            if parsed.tzinfo is None:
                return None, f"{text!r} has no UTC offset; add Z (UTC) or +HH:MM"
            return parsed.astimezone(UTC), ""
    return None, f"{expected} (got {text!r})"


def _iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None


def _compact(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _parse_windows(value: Any) -> tuple[Any, list[tuple[str | None, str]]]:
    """``[[0, 6], {start = 20, end = 24}]`` → ``[(0, 6), (20, 24)]``."""
    if not isinstance(value, list):
        return value, [("windows", "expected a list of [start, end] UTC hour pairs")]
    out: list[tuple[int, int]] = []
    problems: list[tuple[str | None, str]] = []
    for index, item in enumerate(value):
        pair: Any = item
        if isinstance(item, dict):
            if set(item) != {"start", "end"}:
                problems.append((f"windows[{index}]", "expected a table with start and end"))
                continue
            pair = [item["start"], item["end"]]
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(h, int) and not isinstance(h, bool) for h in pair)
        ):
            problems.append(
                (f"windows[{index}]", f"expected [start, end] whole UTC hours (got {item!r})")
            )
            continue
        out.append((pair[0], pair[1]))
    return out, problems


def _read_devices_file(value: Any, base: Path) -> tuple[list[str], str]:
    if not isinstance(value, str) or not value.strip():
        return [], "expected the path of a CSV file of device ids"
    return read_id_file(value, base.parent)


MAX_ID_FILE_BYTES = 8 * 1024 * 1024  # about 400,000 ids
ID_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def read_id_file(path_text: str, base: Path | None = None) -> tuple[list[str], str]:
    """The ids in the first column of a CSV file, or ``([], why not)``.

    Only a regular file under ``MAX_ID_FILE_BYTES`` is read (not a device, a FIFO or a
    directory). Blank cells, ``#`` comments and a header cell (``imei``, ``device_id``…)
    are skipped; every other cell must look like a device id, and one that does not is
    named by its line, never echoed (the file may not be what the user meant: a secret).
    """
    target = Path(path_text.strip()).expanduser()
    if not target.is_absolute() and base is not None:
        target = base / target
    try:
        info = target.stat()
        if stat.S_ISDIR(info.st_mode):
            return [], f"{target} is a directory; expected a CSV file of device ids"
        if not stat.S_ISREG(info.st_mode):
            return [], f"{target} is not a regular file; expected a CSV file of device ids"
        if info.st_size > MAX_ID_FILE_BYTES:
            return [], (
                f"{target} is {info.st_size / 1048576:.1f} MiB; a device id file may be at"
                f" most {MAX_ID_FILE_BYTES // 1048576} MiB"
            )
        with target.open("rb") as handle:
            raw = handle.read(MAX_ID_FILE_BYTES + 1)
        if len(raw) > MAX_ID_FILE_BYTES:
            return [], f"{target} grew past {MAX_ID_FILE_BYTES // 1048576} MiB while read"
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        return [], f"file not found ({target})"
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        return [], f"cannot read {target} ({reason})"
    ids = []
    reader = csv.reader(io.StringIO(text))
    first = True
    while True:
        try:
            row = next(reader, None)
        except csv.Error:  # a cell longer than the csv module takes, or a broken quote
            return [], _not_an_id(target, reader.line_num)
        if row is None:
            break
        cell = row[0].strip() if row else ""
        header, first = first, False
        if not cell or cell.startswith("#"):
            continue
        if header and cell.lower() in _HEADER_CELLS:
            continue
        if not ID_SHAPE.fullmatch(cell):
            return [], _not_an_id(target, reader.line_num)
        ids.append(cell)
    if not ids:
        return [], f"{target} holds no device ids (first column)"
    return ids, ""


def _not_an_id(target: Path, line: int) -> str:
    return (
        f"{target}, line {line}: not a device id (expected letters, digits and . _ - up to"
        " 128 characters); is this the right file?"
    )


def spec_to_toml(spec: CampaignSpec, *, split: bool = False) -> str:
    """A campaign file for ``spec`` (what ``load_spec_file`` reads back)."""
    data = spec.model_dump(mode="python", exclude_none=True, exclude_defaults=True)
    data["provider"] = spec.provider
    data["firmware"] = spec.firmware
    if spec.windows:
        data["windows"] = [list(w) for w in spec.windows]
    if "execute_type" in data:
        data["execute_type"] = spec.execute_type.value
    if split:
        data["split"] = True
    order = [*CampaignSpec.model_fields, *FILE_ONLY_KEYS]
    ordered = {k: data[k] for k in order if k in data and k != "options"}
    if spec.options:
        ordered["options"] = dict(spec.options)
    return tomli_w.dumps(ordered)

"""Export fleet rows to CSV or JSON (headless).

Stable column order, ISO-8601 UTC times (``2024-05-01T12:00:00Z``), values as the
platform sent them (no markup). Files are written atomically: a temporary file in
the same folder, flushed, then ``os.replace``. Created files are private (0600).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Literal, TextIO

from fota_tui.errors import UsageError
from fota_tui.services.fleet import FleetRow
from fota_tui.text import clean

ExportFormat = Literal["csv", "json"]

EXPORT_COLUMNS = (
    "provider",
    "kind",
    "device_id",
    "imei",
    "name",
    "model",
    "firmware",
    "firmware_to",
    "state",
    "provider_status_raw",
    "campaign_id",
    "reason",
    "updated_at",
    "online",
)
"""Column order of every export."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_time(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def row_record(row: FleetRow) -> dict[str, Any]:
    """A row as JSON-ready values in ``EXPORT_COLUMNS`` order."""
    return {name: _json_value(getattr(row, name)) for name in EXPORT_COLUMNS}


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, str):
        return value
    try:  # raw platform statuses: keep JSON-able structures, else their text
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _csv_cell(value: Any, safe: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        value = value if isinstance(value, int | float) else json.dumps(value, ensure_ascii=False)
        return str(value)
    value = clean(value, keep_newlines=True)  # no terminal controls, on screen or in files
    if safe and value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value  # keep spreadsheets from running platform text as a formula
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_csv(rows: Iterable[FleetRow], out: TextIO, *, csv_formula_guard: bool = True) -> int:
    """Rows as CSV (header first) to a text stream; returns the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(
            [
                _csv_cell(_json_value(getattr(row, name)), csv_formula_guard)
                for name in EXPORT_COLUMNS
            ]
        )
        count += 1
    return count


def write_json(rows: Iterable[FleetRow], out: TextIO) -> int:
    """Rows as a JSON array, one object per line; returns the row count."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n  " if count else "\n  ")
        json.dump(row_record(row), out, ensure_ascii=False)
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def detect_format(path: str | os.PathLike[str], fmt: str | None = None) -> ExportFormat:
    """``fmt`` if given, else from the file suffix (``.csv`` or ``.json``)."""
    chosen = (fmt or Path(path).suffix.lstrip(".")).lower()
    if chosen == "csv":
        return "csv"
    if chosen == "json":
        return "json"
    raise UsageError(
        f"cannot export to {os.fspath(path)!r}: format {chosen or '(none)'!r} is not "
        "supported; use a .csv or .json file name",
        title="Export failed",
    )


def export_rows(
    rows: Iterable[FleetRow],
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    csv_formula_guard: bool = True,
) -> int:
    """Write ``rows`` to ``path`` as CSV or JSON atomically; returns the row count.

    ``csv_formula_guard`` prefixes CSV text cells that a spreadsheet would run as a
    formula (``=``, ``+``, ``-``, ``@``…) with ``'``. Raises ``UsageError`` for an
    unknown format or a path that cannot be written.
    """
    kind = detect_format(path, fmt)
    target = Path(path).expanduser()
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(
            f"cannot export to {os.fspath(target)!r}: folder {os.fspath(folder)!r} does not exist",
            title="Export failed",
        )
    count = 0
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise UsageError(
            f"cannot export to {os.fspath(target)!r}: {exc.strerror or exc}", title="Export failed"
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            if kind == "csv":
                count = write_csv(rows, out, csv_formula_guard=csv_formula_guard)
            else:
                count = write_json(rows, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise UsageError(
                f"cannot export to {os.fspath(target)!r}: {exc.strerror or exc}",
                title="Export failed",
            ) from exc
        raise
    return count

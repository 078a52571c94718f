"""Exporting fleet rows to CSV and JSON."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fota_tui.errors import UsageError
from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.services.export import EXPORT_COLUMNS, export_rows
from fota_tui.services.fleet import FleetRow

PLUS_TWO = timezone(timedelta(hours=2))

ROWS = [
    FleetRow(
        "ts-prod",
        ProviderKind.THINGSPACE,
        "351111",
        imei="351111",
        name="Pump [bold]7[/bold]",
        model="X100",
        firmware="1.0",
        firmware_to="2.0",
        state=UpgradeState.FAILED,
        provider_status_raw={"code": 7, "text": "Failure"},
        campaign_id="c-1",
        reason='=HYPERLINK("http://x")',
        updated_at=datetime(2025, 3, 1, 14, 30, tzinfo=PLUS_TWO),
        online=False,
    ),
    FleetRow("oc-lab", ProviderKind.OCEANCONNECT, "dev-2", reason='line1\nline2, "quoted"'),
]


def test_csv_has_stable_columns_and_plain_values(tmp_path: Path) -> None:
    target = tmp_path / "view.csv"
    assert export_rows(ROWS, target) == 2
    with target.open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == list(EXPORT_COLUMNS)
    first = dict(zip(table[0], table[1], strict=True))
    assert first["provider"] == "ts-prod" and first["kind"] == "thingspace"
    assert first["name"] == "Pump [bold]7[/bold]"  # markup kept literally, not rendered
    assert first["state"] == "failed"
    assert first["updated_at"] == "2025-03-01T12:30:00Z"  # converted to UTC
    assert first["online"] == "false"
    assert json.loads(first["provider_status_raw"]) == {"code": 7, "text": "Failure"}
    assert first["reason"] == '\'=HYPERLINK("http://x")'  # spreadsheet formula defused
    second = dict(zip(table[0], table[2], strict=True))
    assert second["reason"] == 'line1\nline2, "quoted"'  # CSV quoting round-trips
    assert second["state"] == "" and second["updated_at"] == "" and second["online"] == ""


def test_csv_formula_guard_can_be_turned_off(tmp_path: Path) -> None:
    target = tmp_path / "raw.csv"
    export_rows(ROWS[:1], target, csv_formula_guard=False)
    with target.open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert table[0]["reason"] == '=HYPERLINK("http://x")'


def test_json_keeps_types(tmp_path: Path) -> None:
    target = tmp_path / "view.json"
    assert export_rows(ROWS, target) == 2
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [list(item) for item in data] == [list(EXPORT_COLUMNS)] * 2
    assert data[0]["provider_status_raw"] == {"code": 7, "text": "Failure"}
    assert data[0]["updated_at"] == "2025-03-01T12:30:00Z"
    assert data[0]["online"] is False and data[1]["online"] is None
    assert data[0]["reason"] == '=HYPERLINK("http://x")'  # JSON is not a spreadsheet
    assert data[1]["state"] is None


def test_empty_export_is_valid(tmp_path: Path) -> None:
    assert export_rows([], tmp_path / "none.json") == 0
    assert json.loads((tmp_path / "none.json").read_text()) == []
    assert export_rows([], tmp_path / "none.csv") == 0
    assert (tmp_path / "none.csv").read_text().strip() == ",".join(EXPORT_COLUMNS)


def test_format_argument_overrides_suffix(tmp_path: Path) -> None:
    target = tmp_path / "devices.txt"
    export_rows(ROWS, target, "json")
    assert len(json.loads(target.read_text())) == 2


def test_unknown_format_and_missing_folder_are_explained(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"format 'xlsx' is not supported; use a \.csv or \.json"):
        export_rows(ROWS, tmp_path / "view.xlsx")
    with pytest.raises(UsageError, match="does not exist"):
        export_rows(ROWS, tmp_path / "missing" / "view.csv")


def test_write_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "view.csv"
    target.write_text("previous export\n")

    def exploding() -> Iterator[FleetRow]:
        yield ROWS[0]
        raise RuntimeError("refresh failed mid-export")

    with pytest.raises(RuntimeError):
        export_rows(exploding(), target)
    assert target.read_text() == "previous export\n"  # old file untouched
    assert os.listdir(tmp_path) == ["view.csv"]  # no temp file left behind

    export_rows(ROWS, target)
    assert target.read_text().startswith("provider,")
    assert os.listdir(tmp_path) == ["view.csv"]


def test_os_errors_become_usage_errors_and_leave_no_temp_file(tmp_path: Path) -> None:
    occupied = tmp_path / "view.csv"
    occupied.mkdir()  # a folder where the file should go: os.replace fails
    with pytest.raises(UsageError, match=r"cannot export to .*view\.csv"):
        export_rows(ROWS, occupied)
    assert sorted(os.listdir(tmp_path)) == ["view.csv"]
    assert occupied.is_dir()

"""`fota-tui status`: query every provider concurrently and render one picture."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fota_tui.config.schema import ProviderConfigBase, insecure_transport_warnings
from fota_tui.errors import ConfigError, FotaError, ProviderError
from fota_tui.models import Campaign, UpgradeState, utcnow
from fota_tui.services.campaign_query import sort_campaigns
from fota_tui.services.export import format_time, row_record, write_csv
from fota_tui.services.fleet import FleetRow, derive_rows
from fota_tui.services.query import sort_rows
from fota_tui.services.snapshot import ProviderSnapshot, fetch_snapshot
from fota_tui.services.workspace import Workspace
from fota_tui.text import fit, json_text


@dataclass
class ProviderResult:
    name: str
    kind: str
    snapshot: ProviderSnapshot | None = None
    error: FotaError | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class StatusReport:
    profile: str
    generated_at: datetime
    providers: list[ProviderResult]
    states: frozenset[UpgradeState] = frozenset()

    @property
    def campaigns(self) -> list[Campaign]:
        return [c for p in self.providers if p.snapshot for c in p.snapshot.campaigns]

    @property
    def rows(self) -> list[FleetRow]:
        rows = [
            row
            for p in self.providers
            if p.snapshot
            for row in derive_rows(p.snapshot.devices, p.snapshot.upgrades).values()
        ]
        if self.states:
            rows = [r for r in rows if r.state in self.states]
        return sorted(rows, key=lambda r: (r.provider, r.device_id))

    @property
    def exit_code(self) -> int:
        if any(isinstance(p.error, ConfigError) for p in self.providers):
            return 2
        return 0 if all(p.ok for p in self.providers) else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "generated_at": format_time(self.generated_at),
            "providers": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "ok": p.ok,
                    "error": f"{p.error.title}: {p.error.message}" if p.error else None,
                    "warnings": p.warnings,
                    "devices": len(p.snapshot.devices) if p.snapshot else None,
                    "fetched_at": format_time(p.snapshot.fetched_at) if p.snapshot else None,
                }
                for p in self.providers
            ],
            "campaigns": [_campaign_json(c) for c in self.campaigns],
            "devices": [_device_json(r) for r in self.rows],
        }


def _campaign_json(c: Campaign) -> dict[str, Any]:
    return {
        "provider": c.provider,
        "kind": c.kind.value,
        "campaign_id": c.campaign_id,
        "name": c.name,
        "state": c.state.value,
        "provider_status": c.provider_status_raw,
        "firmware_from": c.firmware_from,
        "firmware_to": c.firmware_to,
        "counts": {s.value: n for s, n in c.counts.items() if n},
        "total": c.total,
        "start_at": format_time(c.start_at) if c.start_at else None,
        "end_at": format_time(c.end_at) if c.end_at else None,
        "local": c.local,
    }


def _device_json(row: FleetRow) -> dict[str, Any]:
    record = row_record(row)
    record["provider_status"] = record.pop("provider_status_raw")
    return record


async def collect(
    workspace: Workspace,
    *,
    providers: Sequence[str] = (),
    states: Iterable[UpgradeState] = (),
    full: bool = False,
) -> StatusReport:
    """Fetch every selected provider concurrently over the workspace's clients (so
    campaigns fota-tui keeps carry their journal names); failures are kept per provider."""
    profile = workspace.profile
    chosen = [p for p in profile.providers if not providers or p.name in providers]
    results = await asyncio.gather(*(_one(workspace, cfg, full) for cfg in chosen))
    return StatusReport(profile.name, utcnow(), list(results), frozenset(states))


async def _one(workspace: Workspace, cfg: ProviderConfigBase, full: bool) -> ProviderResult:
    result = ProviderResult(cfg.name, cfg.kind.value, warnings=insecure_transport_warnings(cfg))
    try:
        client = workspace.client(cfg.name)
    except FotaError as exc:
        result.error = exc
        return result
    try:
        result.snapshot = await fetch_snapshot(
            client, deadline=workspace.profile.deadline, full=full
        )
        result.warnings += result.snapshot.health.warnings
    except ProviderError as exc:
        result.error = exc
    return result


# -- rendering ------------------------------------------------------------------

# Bad news first, as in the console's panes: a cut line never loses the failures.
_STATE_ORDER = [
    UpgradeState.FAILED,
    UpgradeState.EXPIRED,
    UpgradeState.UNKNOWN,
    *(s for s in UpgradeState if s.active),
    UpgradeState.SUCCEEDED,
    UpgradeState.CANCELLED,
]
_SHORT = {
    UpgradeState.PENDING: "pend",
    UpgradeState.QUEUED: "queue",
    UpgradeState.SENDING: "send",
    UpgradeState.DOWNLOADING: "dl",
    UpgradeState.IN_PROGRESS: "inst",
    UpgradeState.SUCCEEDED: "ok",
    UpgradeState.FAILED: "fail",
    UpgradeState.CANCELLED: "canc",
    UpgradeState.EXPIRED: "exp",
    UpgradeState.UNKNOWN: "unk",
}
DEVICE_ROWS_IN_TABLE = 50


def _table(
    headers: Sequence[str],
    widths: Sequence[int],
    rows: Iterable[Sequence[object]],
    width: int | None = 80,
    grow: int = -1,
) -> list[str]:
    """Columns of ``widths`` (for 80 columns); column ``grow`` takes what ``width`` adds
    or gives back; ``width=None`` (``--wide``) fits every cell in full."""
    cells = [["" if c is None else str(c) for c in row] for row in rows]
    sizes = list(widths)
    if width is None:
        sizes = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    else:
        sizes[grow] = max(len(headers[grow]), sizes[grow] + width - 80)

    def line(values: Sequence[str]) -> str:
        return " ".join(fit(v, w) for v, w in zip(values, sizes, strict=True)).rstrip()

    out = [line(headers), line(["─" * w for w in sizes])]
    out.extend(line(r) for r in cells)
    return out


def render_table(report: StatusReport, width: int | None = 80) -> str:
    """Human output as wide as ``width`` (80 by default; None: every cell in full)."""
    out = [f"profile {report.profile} · {format_time(report.generated_at)}", ""]
    provider_rows = []
    for p in report.providers:
        if p.snapshot:
            counts: dict[UpgradeState, int] = {}
            for row in derive_rows(p.snapshot.devices, p.snapshot.upgrades).values():
                if row.state is not None:
                    counts[row.state] = counts.get(row.state, 0) + 1
            summary = " ".join(f"{_SHORT[s]}:{counts[s]}" for s in _STATE_ORDER if counts.get(s))
            provider_rows.append([p.name, p.kind, "ok", len(p.snapshot.devices), summary])
        else:
            error = f"{p.error.title}: {p.error.message}" if p.error else ""
            provider_rows.append([p.name, p.kind, "FAIL", "-", error])
    out += _table(
        ["PROVIDER", "KIND", "OK", "DEV", "STATES / ERROR"],
        [16, 12, 4, 6, 37],
        provider_rows,
        width,
    )
    warnings = [f"! {w}" for p in report.providers for w in p.warnings]
    out += warnings
    # The table reads like the console: problems first (files keep a stable order).
    campaigns = sort_campaigns(report.campaigns, "attention")
    if campaigns:
        out += [
            "",
            *_table(
                ["CAMPAIGN", "PROVIDER", "STATE", "TO", "OK/FAIL/ALL"],
                [22, 16, 11, 16, 11],
                (
                    [
                        c.name or c.campaign_id,
                        c.provider,
                        c.state.value,
                        c.firmware_to,
                        f"{c.counts.get(UpgradeState.SUCCEEDED, 0)}/"
                        f"{c.counts.get(UpgradeState.FAILED, 0)}/{c.total}",
                    ]
                    for c in campaigns
                ),
                width,
                grow=0,
            ),
        ]
    rows = sort_rows(report.rows, "attention")
    shown = rows if report.states or len(rows) <= DEVICE_ROWS_IN_TABLE else []
    if shown:
        out += [
            "",
            *_table(
                ["DEVICE", "PROVIDER", "STATE", "REASON", "UPDATED"],
                [17, 14, 11, 20, 13],
                (
                    [
                        r.device_id,
                        r.provider,
                        r.state.value if r.state else "-",
                        r.reason,
                        r.updated_at.strftime("%m-%d %H:%M") if r.updated_at else "",
                    ]
                    for r in shown
                ),
                width,
                grow=3,
            ),
        ]
    elif rows:
        out += ["", f"{len(rows)} devices; list them with --state STATE or --format csv|json"]
    return "\n".join(out) + "\n"


def render_json(report: StatusReport, *, compact: bool = False) -> str:
    """Indented, or one line (``compact``: one object per line under ``--watch``)."""
    return json_text(report.to_json(), indent=None if compact else 2) + "\n"


def render_csv(report: StatusReport) -> str:
    buffer = io.StringIO()
    write_csv(report.rows, buffer)
    return buffer.getvalue()

"""One device: what the platform says about it, and its upgrade timeline everywhere."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static

from fota_tui.models import DeviceUpgrade
from fota_tui.services.fleet import FleetRow, FleetStore, RowKey
from fota_tui.services.session import DeviceHistory
from fota_tui.tui.clipboard import copy_values
from fota_tui.tui.messages import SessionChange
from fota_tui.tui.screens.base import FotaScreen
from fota_tui.tui.text import literal, raw_text, state_content, when_label
from fota_tui.tui.widgets.status_header import StatusHeader


def _fact(label: str, value: Content | str) -> Content:
    return Content.assemble((f"{label:>14} ", "$text-muted"), value)


def facts(row: FleetRow, now_text: str) -> Content:
    online = "-" if row.online is None else ("yes" if row.online else "no")
    lines = [
        _fact("provider", literal(f"{row.provider} ({row.kind.label})")),
        _fact("device id", literal(row.device_id, "bold")),
        _fact("IMEI", literal(row.imei or "-")),
        _fact("name", literal(row.name or "-")),
        _fact("model", literal(row.model or "-")),
        _fact("firmware", literal(row.firmware or "-")),
        _fact("target", literal(row.firmware_to or "-")),
        _fact("state", state_content(row.state)),
        _fact("platform status", literal(raw_text(row.provider_status_raw))),
        _fact("reason", literal(row.reason or "-")),
        _fact("campaign", literal(row.campaign_id or "-")),
        _fact("online", online),
        _fact("updated", now_text),
    ]
    return Content("\n").join(lines)


def timeline_entry(u: DeviceUpgrade, when_text: str) -> Content:
    """Three lines: when, state and provider; campaign and firmware; raw status and reason."""
    first = Content.assemble(
        ("● ", "$text-accent"),
        (when_text, "bold"),
        "  ",
        state_content(u.state),
        "  ",
        literal(u.provider),
    )
    second = Content.assemble(
        ("  │ campaign ", "$text-muted"),
        literal(u.campaign_id or "-"),
        ("  firmware ", "$text-muted"),
        literal(f"{u.firmware_from or '?'} → {u.firmware_to or '?'}"),
    )
    third = Content.assemble(
        ("  │ platform status ", "$text-muted"),
        literal(raw_text(u.provider_status_raw)),
        ("  reason ", "$text-muted"),
        literal(u.provider_reason or "-"),
    )
    return Content("\n").join([first, second, third])


class DeviceDetailScreen(FotaScreen):
    HELP_NAME = "Device detail"
    DEFAULT_CSS = """
    DeviceDetailScreen #device-facts, DeviceDetailScreen #device-history {
        height: auto; padding: 0 1; border: round $panel-lighten-2;
        border-title-color: $text; border-title-style: bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("y", "copy_id", "Copy id"),
    ]

    def __init__(self, key: RowKey, store: FleetStore | None = None) -> None:
        super().__init__()
        self.key = key
        self.store = store
        self.history: DeviceHistory | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.session)
        with VerticalScroll(id="device-scroll"):
            yield Static(id="device-facts")
            yield Static(id="device-history")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.update_header(full=True)
        self.query_one("#device-scroll").focus()
        self.show()
        self.load()

    @property
    def crumb(self) -> str | None:
        return self.key[1]

    def row(self) -> FleetRow | None:
        row = self.session.store.get(self.key)
        if row is None and self.store is not None:
            row = self.store.get(self.key)
        return row

    @work(exclusive=True, exit_on_error=False, group="device-history")
    async def load(self) -> None:
        self.history = await self.session.device_history(self.key, self.row())
        self.show()

    def show(self) -> None:
        now = self.fota.now()
        row = self.row()
        box = self.query_one("#device-facts", Static)
        box.border_title = literal(f"{self.key[0]} · {self.key[1]}")
        if row is None:
            box.update(
                Content.styled("This device is no longer listed by its platform.", "$text-warning")
            )
        else:
            box.update(facts(row, when_label(row.updated_at, now)))
        history = self.query_one("#device-history", Static)
        if self.history is None:
            history.border_title = "Upgrade history"
            history.update(Content.styled("Loading history…", "$text-muted"))
            return
        entries = self.history.entries
        providers = sorted(
            {u.provider for u in entries} | {r.provider for r in self.history.devices}
        )
        history.border_title = literal(
            f"Upgrade history · {len(entries)} {'entry' if len(entries) == 1 else 'entries'}"
            f" · {', '.join(providers) or '-'}"
        )
        lines = [timeline_entry(u, when_label(u.updated_at or u.created_at, now)) for u in entries]
        if not lines:
            lines.append(Content.styled("No upgrades recorded for this device.", "$text-muted"))
        for provider, error in self.history.errors.items():
            lines.append(
                Content.styled(f"{provider}: ", "bold $text-error")
                + literal(
                    f"{error.title}: {error.message} (showing the last refresh)", "$text-error"
                )
            )
        history.update(Content("\n").join(lines))

    def on_session_change(self, change: SessionChange) -> None:
        self.update_header()
        if change.diff is not None and self.key in change.diff.keys:
            self.load()

    def tick(self) -> None:
        self.update_header()

    def action_copy_id(self) -> None:
        copy_values(self.app, [self.key[1]])

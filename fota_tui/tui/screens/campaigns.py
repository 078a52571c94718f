"""Every campaign across providers, and one campaign's per-device table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from fota_tui.errors import FotaError
from fota_tui.models import Campaign, CampaignDetail, UpgradeState
from fota_tui.services.fleet import FleetStore
from fota_tui.tui.messages import SessionChange
from fota_tui.tui.screens.base import FotaScreen
from fota_tui.tui.screens.campaign_ops import (  # campaign operations (campaign_ops.py)
    CAMPAIGN_OP_BINDINGS,
    campaign_op_allowed,
    run_campaign_op,
)
from fota_tui.tui.screens.prompt import ExportPrompt
from fota_tui.tui.text import STATE_STYLES, count_labels, literal, raw_text, state_bar, when_label
from fota_tui.tui.widgets.device_panel import DevicePanel
from fota_tui.tui.widgets.device_table import DeviceTable
from fota_tui.tui.widgets.status_header import StatusHeader
from fota_tui.tui.widgets.table_render import ColumnSpec, Layout, fit, layout_columns

CAMPAIGN_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("provider", "Provider", 6, 14, drop=3),
    ColumnSpec("campaign", "Campaign", 8, 14),
    ColumnSpec("name", "Name", 8, 20, grow=2, drop=4),
    ColumnSpec("state", "State", 11, 11),
    ColumnSpec("progress", "Progress", 6, 14, grow=1),
    ColumnSpec("done", "Done", 7, 11, align="right"),
    ColumnSpec("schedule", "Schedule", 11, 23, drop=1),
    ColumnSpec("firmware", "Firmware", 9, 19, grow=1, drop=2),
)
_SEP = "\x1f"


def campaign_key(campaign: Campaign) -> str:
    return f"{campaign.provider}{_SEP}{campaign.campaign_id}"


def _short_time(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%m-%d %H:%M") if when else ""


def schedule_text(c: Campaign) -> str:
    start = c.start_at or c.created_at
    if start is None and c.end_at is None:
        return "-"
    text = _short_time(start) or "now"
    if c.end_at is not None:
        text += f"→{_short_time(c.end_at)}"
    return text


def firmware_text(c: Campaign) -> str:
    if c.firmware_from or c.firmware_to:
        return f"{c.firmware_from or '?'} → {c.firmware_to or '?'}"
    return c.firmware_name or "-"


def progress(c: Campaign) -> tuple[int, int]:
    """(devices in a terminal state, total devices)."""
    total = c.total or sum(c.counts.values())
    done = sum(n for s, n in c.counts.items() if s.terminal)
    return done, total


def campaign_line(c: Campaign, layout: Layout) -> Content:
    parts: list[Content | str | tuple[str, str]] = [("●" if c.active else " ") + " "]
    for spec, width in layout.columns:
        parts.append(" ")
        if spec.name == "state":
            parts.append((fit(c.state.value, width), STATE_STYLES.get(c.state.value, "")))
        elif spec.name == "progress":
            parts.append(state_bar(c.counts, width))
        else:
            parts.append(fit(_cell(c, spec.name), width, spec.align))
    return Content.assemble(*parts)


def _cell(c: Campaign, column: str) -> str:
    if column == "provider":
        return c.provider
    if column == "campaign":
        return c.campaign_id
    if column == "name":
        return c.name or ("(local group)" if c.local else "")
    if column == "done":
        done, total = progress(c)
        return f"{done}/{total}"
    if column == "schedule":
        return schedule_text(c)
    if column == "firmware":
        return firmware_text(c)
    raise ValueError(column)


def header_line(layout: Layout) -> str:
    return "  " + "".join(" " + fit(spec.label, w, spec.align) for spec, w in layout.columns)


class CampaignsScreen(FotaScreen):
    """All campaigns across providers; Enter opens one."""

    HELP_NAME = "Campaigns"
    AUTO_FOCUS = "#campaign-list"
    DEFAULT_CSS = """
    CampaignsScreen #campaign-header { height: 1; background: $panel; text-style: bold; }
    CampaignsScreen #campaign-list { height: 1fr; border: none; padding: 0; }
    CampaignsScreen #campaign-summary { height: 1; color: $text-muted; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open", show=True),
        *CAMPAIGN_OP_BINDINGS,  # campaign operations (campaign_ops.py)
    ]

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.session)
        yield Static(id="campaign-header", markup=False)
        yield OptionList(id="campaign-list")
        yield Static(id="campaign-summary", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.update_header(full=True)
        self.rebuild()

    def on_resize(self) -> None:
        self.rebuild()

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#campaign-list", OptionList)

    def campaigns(self) -> list[Campaign]:
        return self.session.campaigns()

    def rebuild(self) -> None:
        """Redraw every line, keeping the highlighted campaign."""
        options = self.option_list
        width = max(options.scrollable_content_region.width, 40)
        layout = layout_columns(width, CAMPAIGN_COLUMNS)
        self.query_one("#campaign-header", Static).update(header_line(layout))
        highlighted = options.highlighted_option
        keep = highlighted.id if highlighted is not None else None
        campaigns = self.campaigns()
        options.set_options(Option(campaign_line(c, layout), id=campaign_key(c)) for c in campaigns)
        if campaigns:
            try:
                options.highlighted = options.get_option_index(keep) if keep else 0
            except Exception:  # the campaign is gone: stay near the top
                options.highlighted = 0
        active = sum(1 for c in campaigns if c.active)
        providers = len({c.provider for c in campaigns})
        self.query_one("#campaign-summary", Static).update(
            f"{len(campaigns)} campaigns · {active} active · {providers} providers"
            " · Enter opens the campaign's devices"
        )

    def on_session_change(self, change: SessionChange) -> None:
        self.update_header()
        if change.diff is not None or change.rebuilt:
            self.rebuild()

    def tick(self) -> None:
        self.update_header()

    # -- campaign operations (campaign_ops.py) --
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return campaign_op_allowed(self, action, parameters)

    def action_campaign_op(self, op: str) -> None:
        run_campaign_op(self, op)

    def action_open(self) -> None:
        option = self.option_list.highlighted_option
        if option is not None and option.id:
            self._open(option.id)

    @on(OptionList.OptionSelected, "#campaign-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self._open(event.option.id)

    def _open(self, key: str) -> None:
        provider, _, campaign_id = key.partition(_SEP)
        self.app.push_screen(CampaignDetailScreen(provider, campaign_id))


class CampaignDetailScreen(FotaScreen):
    """One campaign: summary on top, its devices in the same virtual table."""

    HELP_NAME = "Campaign detail"
    AUTO_FOCUS = "DeviceTable"
    DEFAULT_CSS = """
    CampaignDetailScreen #campaign-detail {
        height: auto; padding: 0 1; border: round $panel-lighten-2;
        border-title-color: $text; border-title-style: bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("e", "export", "Export"),
        *CAMPAIGN_OP_BINDINGS,  # campaign operations (campaign_ops.py)
    ]

    def __init__(self, provider: str, campaign_id: str) -> None:
        super().__init__()
        self.provider = provider
        self.campaign_id = campaign_id
        self.store = FleetStore()
        self.detail: CampaignDetail | None = None
        self.error: FotaError | None = None
        self.loads = 0

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.session)
        yield Static(id="campaign-detail")
        yield DevicePanel(
            self.store,
            title="Campaign devices",
            clock=self.fota.now,
            age_refresh=self.fota.age_interval,
            id="campaign-devices",
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.update_header(full=True)
        self.panel.table.sort_by("device")  # platforms list campaign devices in no fixed order
        self.show_summary()
        self.load()

    @property
    def panel(self) -> DevicePanel:
        return self.query_one("#campaign-devices", DevicePanel)

    @work(exclusive=True, exit_on_error=False, group="campaign-detail")
    async def load(self) -> None:
        """Fetch the campaign's devices (cancelled when the screen goes away)."""
        try:
            detail = await self.session.campaign_detail(self.provider, self.campaign_id)
        except FotaError as exc:
            self.error = exc
            rows = self.session.campaign_rows_from_snapshot(self.provider, self.campaign_id)
            if self.detail is None:
                self.notify(
                    f"{exc.message} (showing the devices from the last refresh)",
                    title=exc.title,
                    severity="warning",
                    markup=False,
                )
        else:
            self.error = None
            self.detail = detail
            rows = self.session.campaign_rows(detail)
        diff = self.store.replace_provider_rows(self.provider, rows)
        self.panel.table.apply(diff, self.store)
        self.loads += 1
        self.show_summary()

    def campaign(self) -> Campaign | None:
        if self.detail is not None:
            return self.detail.campaign
        return self.session.find_campaign(self.provider, self.campaign_id)

    def show_summary(self) -> None:
        c = self.campaign()
        now = self.fota.now()
        widget = self.query_one("#campaign-detail", Static)
        widget.border_title = literal(f"{self.provider} · {self.campaign_id}")
        if c is None:
            widget.update(Content.styled("Loading campaign…", "$text-muted"))
            return
        counts = c.counts or _counts_from(self.store)
        done, total = progress(c)
        lines = [
            Content.assemble(
                literal(c.name or "(no name)", "bold"),
                "  ",
                (c.state.value, STATE_STYLES.get(c.state.value, "")),
                f"  {done}/{total} done",
                ("  (fota-tui grouping)" if c.local else ""),
            ),
            state_bar(counts, 40) + " " + count_labels(counts),
            Content.assemble(
                ("firmware ", "$text-muted"),
                literal(firmware_text(c)),
                ("   start ", "$text-muted"),
                when_label(c.start_at or c.created_at, now),
                ("   end ", "$text-muted"),
                when_label(c.end_at, now),
            ),
            Content.assemble(
                ("platform status ", "$text-muted"),
                literal(raw_text(c.provider_status_raw)),
                *(
                    (("   reason ", "$text-muted"), literal(c.provider_reason))
                    if c.provider_reason
                    else ()
                ),
            ),
        ]
        if self.error is not None:
            lines.append(
                Content.styled("could not load the devices: ", "bold $text-error")
                + literal(f"{self.error.title}: {self.error.message}", "$text-error")
            )
        widget.update(Content("\n").join(lines))

    def on_session_change(self, change: SessionChange) -> None:
        self.update_header()
        if change.diff is not None and change.provider == self.provider:
            self.load()

    def tick(self) -> None:
        self.update_header()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return campaign_op_allowed(self, action, parameters)  # campaign_ops.py; else True

    def action_campaign_op(self, op: str) -> None:  # campaign operations (campaign_ops.py)
        run_campaign_op(self, op)

    async def action_back(self) -> None:
        if self.panel.filter_open or self.panel.table.filter_query:
            self.panel.close_filter(clear=True)
            return
        await super().action_back()

    def action_filter(self) -> None:
        self.panel.open_filter()

    def action_export(self) -> None:
        def done(path: str | None) -> None:
            if path:
                self.panel.table.action_export(path)

        self.app.push_screen(ExportPrompt(self.fota.default_export_path(self.campaign_id)), done)

    @on(DeviceTable.RowActivated)
    def _open_device(self, event: DeviceTable.RowActivated) -> None:
        event.stop()
        self.fota.open_device(event.key, store=self.store)


def _counts_from(store: FleetStore) -> dict[UpgradeState, int]:
    return store.state_counts()

"""Every campaign across providers, and one campaign's per-device table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from fota_tui.errors import FotaError
from fota_tui.models import Campaign, CampaignDetail, UpgradeState
from fota_tui.services.campaign_query import (
    CAMPAIGN_SORTS,
    failed_count,
    parse_campaign_filter,
    sort_campaigns,
)
from fota_tui.services.fleet import FleetStore
from fota_tui.services.query import QueryError
from fota_tui.tui.messages import SessionChange
from fota_tui.tui.screens.base import FotaScreen
from fota_tui.tui.screens.campaign_ops import (  # campaign operations (campaign_ops.py)
    CAMPAIGN_OP_BINDINGS,
    campaign_op_allowed,
    run_campaign_op,
)
from fota_tui.tui.screens.prompt import ask_export
from fota_tui.tui.screens.rollout_view import (
    PREFIX,
    ROLLOUT_BINDINGS,
    RolloutScreen,
    rollout_line,
    rollout_op_allowed,
    run_rollout_op,
)
from fota_tui.tui.text import STATE_STYLES, count_labels, literal, raw_text, state_bar, when_label
from fota_tui.tui.widgets.device_panel import DevicePanel
from fota_tui.tui.widgets.device_table import DeviceTable
from fota_tui.tui.widgets.status_header import StatusHeader
from fota_tui.tui.widgets.table_render import ColumnSpec, Layout, fit, layout_columns

CAMPAIGN_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("provider", "Provider", 6, 14, drop=2),
    ColumnSpec("campaign", "Campaign", 8, 14),
    ColumnSpec("name", "Name", 8, 20, grow=2, drop=1),
    ColumnSpec("state", "State", 11, 11),
    ColumnSpec("progress", "Progress", 8, 14, grow=1),
    ColumnSpec("done", "Done", 7, 11, align="right"),
    ColumnSpec("failed", "Fail+exp", 8, 8, align="right"),  # failed and expired devices
    ColumnSpec("schedule", "Schedule", 11, 23, drop=4),
    ColumnSpec("firmware", "Firmware", 9, 19, grow=1, drop=3),
)
_SEP = "\x1f"
CAMPAIGN_FILTER_HELP = (
    "words, state:partial,failed (or active, attention), provider:NAME, kind:aovx"
)


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


def campaign_line(c: Campaign, layout: Layout, kept: str | None = None) -> Content:
    """One campaign; ``kept``: the name fota-tui keeps where the platform names it."""
    parts: list[Content | str | tuple[str, str]] = [("●" if c.active else " ") + " "]
    for spec, width in layout.columns:
        parts.append(" ")
        if spec.name == "state":
            parts.append((fit(c.state.value, width), STATE_STYLES.get(c.state.value, "")))
        elif spec.name == "failed":
            failed = failed_count(c)
            parts.append((fit(str(failed) if failed else "-", width, spec.align),
                          "bold $text-error" if failed else "$text-muted"))  # fmt: skip
        elif spec.name == "progress":
            parts.append(state_bar(c.counts, width))
        elif spec.name == "name" and kept:
            parts.append(fit(f"{kept} · {c.name or ''}", width, spec.align))
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
    """All campaigns across providers: problems first, a filter (/) and sorts (s, S) like
    the device table's; Enter opens one."""

    HELP_NAME = "Campaigns"
    AUTO_FOCUS = "#campaign-list"
    DEFAULT_CSS = """
    CampaignsScreen #campaign-summary { height: 1; padding: 0 1; background: $panel; }
    CampaignsScreen #campaign-header { height: 1; background: $panel; text-style: bold; }
    CampaignsScreen #campaign-list { height: 1fr; border: none; padding: 0; }
    CampaignsScreen #campaign-filter { display: none; height: auto; border: tall $accent; }
    CampaignsScreen #campaign-filter.-open { display: block; }
    CampaignsScreen #campaign-filter-error { height: auto; color: $text-error; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open", show=True),
        Binding("slash", "filter", "Filter"),
        Binding("exclamation_mark", "attention", "Only problems", key_display="!"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
        Binding("g", "cursor('first')", "First", show=False),
        Binding("G", "cursor('last')", "Last", show=False),
        *CAMPAIGN_OP_BINDINGS,  # campaign operations (campaign_ops.py)
        *ROLLOUT_BINDINGS,  # rollouts (rollout_view.py)
    ]

    def __init__(self) -> None:
        super().__init__()
        self.order = "attention"
        self.reverse = False
        self.filter = parse_campaign_filter("")
        self.shown: list[Campaign] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.session)
        yield Static(id="campaign-summary", markup=False)
        yield Static(id="campaign-header", markup=False)
        yield OptionList(id="campaign-list")
        yield Input(placeholder=f"filter: {CAMPAIGN_FILTER_HELP}", id="campaign-filter")
        yield Static(id="campaign-filter-error", markup=False)
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
        """The campaigns shown: filtered, in the chosen order."""
        found = self.filter.filter(self.session.campaigns())
        return sort_campaigns(found, self.order, self.reverse)

    def rebuild(self) -> None:
        """Redraw every line, keeping the highlighted campaign."""
        options = self.option_list
        # Before its first layout the list has no width: lay out for the screen's.
        width = max(options.scrollable_content_region.width or self.app.size.width - 2, 40)
        layout = layout_columns(width, CAMPAIGN_COLUMNS)
        self.query_one("#campaign-header", Static).update(header_line(layout))
        highlighted = options.highlighted_option
        keep = highlighted.id if highlighted is not None else None
        place = options.highlighted or 0
        campaigns = self.shown = self.campaigns()
        kept = self.session.kept_names()
        now = self.fota.now()
        rollouts = [
            Option(rollout_line(r, now, width), id=PREFIX + r.rollout_id)
            for r in self.fota.rollouts.shown()
        ]
        options.set_options(
            [*rollouts, *(
                Option(campaign_line(c, layout, kept.get((c.provider, c.campaign_id))),
                       id=campaign_key(c))
                for c in campaigns
            )]
        )  # fmt: skip
        if campaigns or rollouts:
            try:
                options.highlighted = options.get_option_index(keep) if keep else 0
            except Exception:  # the line is gone: stay where it was
                options.highlighted = min(place, options.option_count - 1)
        self.query_one("#campaign-summary", Static).update(self.summary(campaigns))

    def summary(self, campaigns: list[Campaign]) -> Content:
        """``Campaigns 22/30 · 8 active · 3 with failures · problems first · filter …``"""
        total = len(self.session.campaigns())
        count = f"{len(campaigns)}/{total}" if self.filter else str(total)
        active = sum(1 for c in campaigns if c.active)
        failing = sum(1 for c in campaigns if failed_count(c))
        parts: list[Content] = [
            Content.styled(f"Campaigns {count}", "bold"),
            Content(f"{active} active"),
        ]
        if failing:
            parts.append(Content.styled(f"{failing} with failures", "bold $text-error"))
        if self.order == "attention":
            parts.append(Content("problems last" if self.reverse else "problems first"))
        else:  # most failures and newest first are descending orders
            descending = (self.order in ("failed", "schedule")) != self.reverse
            parts.append(Content(f"sort {self.order} {'▼' if descending else '▲'}"))
        if self.filter:
            parts.append(Content("filter ") + literal(self.filter.text))
        return Content(" · ").join(parts)

    # -- filter and order ----------------------------------------------------------
    @property
    def filter_input(self) -> Input:
        return self.query_one("#campaign-filter", Input)

    def action_filter(self) -> None:
        self.filter_input.add_class("-open")
        self.filter_input.value = self.filter.text
        self.filter_input.focus()

    def set_filter(self, text: str) -> bool:
        """Apply a filter (as if typed); False, with the error shown, when it is wrong."""
        error = self.query_one("#campaign-filter-error", Static)
        try:
            self.filter = parse_campaign_filter(text)
        except QueryError as exc:
            error.update(exc.message)
            return False
        error.update("")
        self.rebuild()
        return True

    @on(Input.Changed, "#campaign-filter")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.set_filter(event.value)

    @on(Input.Submitted, "#campaign-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.set_filter(event.value):
            self._close_filter()

    def _close_filter(self) -> None:
        self.filter_input.remove_class("-open")
        self.option_list.focus()

    def action_attention(self) -> None:
        showing = self.filter.text == "state:attention"
        self.set_filter("" if showing else "state:attention")

    def action_cycle_sort(self) -> None:
        index = (CAMPAIGN_SORTS.index(self.order) + 1) % len(CAMPAIGN_SORTS)
        self.order, self.reverse = CAMPAIGN_SORTS[index], False
        self.rebuild()

    def action_reverse_sort(self) -> None:
        self.reverse = not self.reverse
        self.rebuild()

    def action_cursor(self, where: str) -> None:
        options = self.option_list
        if not options.option_count:
            return
        if where == "down":
            options.action_cursor_down()
        elif where == "up":
            options.action_cursor_up()
        elif where == "first":
            options.highlighted = 0
        else:
            options.highlighted = options.option_count - 1

    async def action_back(self) -> None:
        """Esc closes the filter, then clears it, then goes back."""
        if self.filter_input.has_class("-open"):
            self._close_filter()
            if self.filter:
                self.set_filter("")
            return
        if self.filter:
            self.set_filter("")
            return
        await super().action_back()

    def on_session_change(self, change: SessionChange) -> None:
        self.update_header()
        if change.diff is not None or change.rebuilt or change.rollouts:
            self.rebuild()

    def tick(self) -> None:
        self.update_header()

    # -- campaign operations (campaign_ops.py) --
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rollout_op":
            return rollout_op_allowed(self, parameters)
        return campaign_op_allowed(self, action, parameters)

    def action_rollout_op(self, op: str) -> None:
        run_rollout_op(self, op)

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
        if key.startswith(PREFIX):
            rollout = self.fota.rollouts.store.get(key[len(PREFIX) :])
            self.app.push_screen(RolloutScreen(rollout, self.fota.now()))
            return
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
        self.panel.table.sort_by("attention")  # its failures first, as on the dashboard
        self.show_summary()
        self.load()

    @property
    def panel(self) -> DevicePanel:
        return self.query_one("#campaign-devices", DevicePanel)

    @property
    def crumb(self) -> str | None:
        c = self.campaign()
        return (c.name if c is not None and c.name else None) or self.campaign_id

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
        for header in self.query(StatusHeader):
            header.show_crumbs()  # the campaign's name arrives with its detail
        if c is None:
            widget.update(Content.styled("Loading campaign…", "$text-muted"))
            return
        counts = c.counts or _counts_from(self.store)
        done, total = progress(c)
        kept = self.session.kept_names().get((self.provider, self.campaign_id))
        lines = [
            Content.assemble(
                literal(c.name or "(no name)", "bold"),
                *((("   fota-tui name ", "$text-muted"), literal(kept, "bold")) if kept else ()),
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
        ask_export(self.panel.table, self.fota.default_export_path(self.campaign_id))

    @on(DeviceTable.RowActivated)
    def _open_device(self, event: DeviceTable.RowActivated) -> None:
        event.stop()
        self.fota.open_device(event.key, store=self.store)


def _counts_from(store: FleetStore) -> dict[UpgradeState, int]:
    return store.state_counts()

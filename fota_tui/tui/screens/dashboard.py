"""The main screen: header, one pane per provider, and the fleet device table."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer

from fota_tui.tui.messages import SessionChange
from fota_tui.tui.screens.base import FotaScreen
from fota_tui.tui.screens.prompt import ChoicePrompt, ask_export
from fota_tui.tui.widgets.device_panel import DevicePanel
from fota_tui.tui.widgets.device_table import DeviceTable
from fota_tui.tui.widgets.provider_pane import ProviderGrid, ProviderPane
from fota_tui.tui.widgets.status_header import StatusHeader

ATTENTION_FILTER = "state:attention"


class DashboardScreen(FotaScreen):
    HELP_NAME = "Dashboard"
    AUTO_FOCUS = "DeviceTable"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("e", "export", "Export"),
        Binding("n", "new_campaign", "New campaign"),
        Binding("escape", "clear_filter", "Clear filter"),
        Binding("exclamation_mark", "attention", "Only problems", key_display="!"),
        Binding("z", "zoom", "Zoom table"),
    ]

    _marked: int | None = None
    _filtering = False  # what the footer last showed for "Clear filter"

    def compose(self) -> ComposeResult:
        app = self.fota
        yield StatusHeader(self.session)
        yield ProviderGrid(self.session, app.now())
        yield DevicePanel(
            self.session.store,
            title="Devices",
            clock=app.now,
            age_refresh=app.age_interval,
            id="devices",
        )
        yield Footer(compact=True)

    @property
    def crumb(self) -> str | None:
        return None

    def on_mount(self) -> None:
        super().on_mount()
        self.update_header(full=True)
        # What needs a look first (failed, expired, stuck); ties in the store's order.
        self.table.sort_by("attention")
        self.table.focus()

    @property
    def panel(self) -> DevicePanel:
        return self.query_one("#devices", DevicePanel)

    @property
    def table(self) -> DeviceTable:
        return self.panel.table

    @property
    def grid(self) -> ProviderGrid:
        return self.query_one(ProviderGrid)

    # -- live data ---------------------------------------------------------------
    def on_session_change(self, change: SessionChange) -> None:
        if change.diff is not None:
            names = self.session.campaign_names() | self.session.kept_names()
            self.table.set_campaign_names(names)
            self.table.apply(change.diff, self.session.store)
            marked = self.session.cache_mark_version()
            if marked != self._marked:
                self._marked = marked
                self.table.mark_changed_since(marked)
        self.tick()

    def tick(self) -> None:
        self.update_header()
        self.grid.refresh_panes()

    # -- actions -----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_campaign":
            return self.fota.can_create_campaigns
        if action == "clear_filter":
            return self.filtering
        return True

    @property
    def filtering(self) -> bool:
        return bool(self.table.filter_query) or self.panel.filter_open

    def _bindings_changed(self) -> None:
        """Refresh the footer only when a binding's availability flips: each refresh
        rebuilds its keys, and live updates arrive every few seconds."""
        if self.filtering != self._filtering:
            self._filtering = self.filtering
            self.refresh_bindings()

    def action_filter(self) -> None:
        self.panel.open_filter()
        self._bindings_changed()

    def action_zoom(self) -> None:
        """The device table takes the whole screen (the panes hide), or gives it back."""
        self.grid.display = not self.grid.display

    def action_attention(self) -> None:
        """Only the rows that need attention (failed, expired, unknown), on top of the
        filter in use; again to take that term away. The view opens at its top."""
        words = self.table.filter_query.text.split()
        if ATTENTION_FILTER in words:
            words = [w for w in words if w != ATTENTION_FILTER]
        else:
            words.append(ATTENTION_FILTER)
        self.panel.set_filter(" ".join(words))
        self.table.action_cursor_first()
        self._bindings_changed()

    def action_clear_filter(self) -> None:
        self.panel.close_filter(clear=True)
        self._bindings_changed()

    def action_export(self) -> None:
        ask_export(self.table, self.fota.default_export_path())

    def action_new_campaign(self) -> None:
        rows = self.table.target_rows()
        shown = [row for row in rows if self.table.shows(row.key)]
        if len(shown) == len(rows):
            self.fota.open_campaign_wizard(rows)
            return
        hidden = len(rows) - len(shown)
        choices = {"a": f"all {len(rows)}"}
        if shown:
            choices["v"] = f"only the {len(shown)} shown"

        def chosen(answer: str | None) -> None:
            if answer is not None:
                self.fota.open_campaign_wizard(rows if answer == "a" else shown)

        message = (
            f"{len(rows)} devices are selected and {hidden} of them are hidden by the filter "
            f"'{self.table.filter_query.text}'. Which devices should the campaign target?"
        )
        self.app.push_screen(ChoicePrompt("Hidden selection", message, choices), chosen)

    @on(ProviderPane.Opened)
    def _open_provider(self, event: ProviderPane.Opened) -> None:
        event.stop()
        self.fota.open_provider(event.provider)

    @on(DeviceTable.RowActivated)
    def _open_device(self, event: DeviceTable.RowActivated) -> None:
        event.stop()
        self.fota.open_device(event.key)

    @on(DeviceTable.ViewChanged)
    def _view_changed(self) -> None:
        self._bindings_changed()

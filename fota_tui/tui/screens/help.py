"""``?`` / F1: the keys that work on each screen, built from the real bindings."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

if TYPE_CHECKING:
    from fota_tui.tui.app import FotaApp

# Keys worth listing that the bindings hide from the footer.
_ALWAYS = {
    "activate",
    "cursor_up",
    "cursor_down",
    "page_up",
    "page_down",
    "back",
    "refresh_full",
}


def binding_rows(
    app: FotaApp, bindings: list[BindingType], screen: type | None
) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in bindings:
        if not isinstance(item, Binding):
            continue
        if item.action in seen:
            continue
        if not item.show and item.action not in _ALWAYS:
            continue
        if not app.action_available(item.action, screen):
            continue
        seen.add(item.action)
        keys = ", ".join(
            app.get_key_display(Binding(k.strip(), item.action)) for k in item.key.split(",")
        )
        rows.append((keys, item.description or item.action.replace("_", " ")))
    return rows


def help_sections(app: FotaApp) -> list[tuple[str, list[tuple[str, str]]]]:
    from fota_tui.tui.screens.campaigns import CampaignDetailScreen, CampaignsScreen
    from fota_tui.tui.screens.dashboard import DashboardScreen
    from fota_tui.tui.screens.device_detail import DeviceDetailScreen
    from fota_tui.tui.screens.provider import ProviderScreen
    from fota_tui.tui.widgets.device_table import DeviceTable
    from fota_tui.tui.widgets.provider_pane import ProviderPane

    table = list(DeviceTable.BINDINGS)
    return [
        ("Everywhere", [*binding_rows(app, list(app.BINDINGS), None), ("ctrl+p", "Command palette: every action, switch profile, theme")]),
        (DashboardScreen.HELP_NAME, binding_rows(app, list(DashboardScreen.BINDINGS) + table + list(ProviderPane.BINDINGS), DashboardScreen)),
        (CampaignsScreen.HELP_NAME, binding_rows(app, list(CampaignsScreen.BINDINGS), CampaignsScreen)),
        (
            CampaignDetailScreen.HELP_NAME,
            binding_rows(app, list(CampaignDetailScreen.BINDINGS) + table, CampaignDetailScreen),
        ),
        (DeviceDetailScreen.HELP_NAME, binding_rows(app, list(DeviceDetailScreen.BINDINGS), DeviceDetailScreen)),
        (ProviderScreen.HELP_NAME, binding_rows(app, list(ProviderScreen.BINDINGS), ProviderScreen)),
    ]  # fmt: skip


FILTER_HELP = (
    "Filter (/): words match id, IMEI, name, model, firmware, reason, campaign; "
    "state:failed,expired (or active, terminal, attention)  provider:NAME  kind:onenet  "
    "fw:2.1  campaign:ID  model:X  online:no; "
    '-key:value negates; "quotes" keep spaces. Enter keeps the filter, Esc clears it.'
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 96; max-width: 100%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen .help-title { text-style: bold; color: $text-accent; margin-top: 1; }
    HelpScreen .help-title.-current { color: $text-warning; }
    HelpScreen .help-note { color: $text-muted; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close"),
    ]

    def __init__(self, current: Screen[object] | None = None) -> None:
        super().__init__()
        self.current_name = getattr(current, "HELP_NAME", None)

    def compose(self) -> ComposeResult:
        app: FotaApp = self.app  # type: ignore[assignment]
        with VerticalScroll() as box:
            box.border_title = "Keys"
            box.border_subtitle = "Esc closes"
            sections = help_sections(app)
            sections.sort(key=lambda section: section[0] != self.current_name)
            for title, rows in sections:
                current = title == self.current_name
                label = f"{title}  (this screen)" if current else title
                yield Static(
                    label, classes="help-title -current" if current else "help-title", markup=False
                )
                width = max((len(k) for k, _ in rows), default=4) + 2
                body = Content("\n").join(
                    Content.assemble((f"  {keys:<{width}}", "bold $text-accent"), what)
                    for keys, what in rows
                )
                yield Static(body)
            yield Static(FILTER_HELP, classes="help-note", markup=False)
            yield Static(
                "Platform text is shown literally; control characters appear as ␛-style symbols. "
                "Panes marked STALE show the last good data and why the refresh failed; "
                "CACHED means data from the last session, still being refreshed; "
                "* in the table marks rows changed since the cached data.",
                classes="help-note",
                markup=False,
            )

    def action_close(self) -> None:
        self.dismiss(None)

"""The command palette (Ctrl+P): every action, profile switching and themes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from fota_tui.tui.app import FotaApp


def app_commands(
    app: FotaApp, screen: Screen[Any], base: Iterable[SystemCommand]
) -> Iterable[SystemCommand]:
    """Textual's own commands (``base``), then ours."""
    yield from base
    yield SystemCommand("Refresh now", "Refresh every provider now (r)", app.action_refresh)
    yield SystemCommand(
        "Full refresh",
        "Read every device again, not only what changed (ctrl+r)",
        app.action_refresh_full,
    )
    yield SystemCommand(
        "Pause / resume polling", "Stop or restart the live refresh (p)", app.action_pause
    )
    yield SystemCommand("Campaigns", "Every campaign across providers (c)", app.action_campaigns)
    yield SystemCommand("Devices", "The fleet device table (d)", app.action_devices)
    yield SystemCommand("Help", "The keys that work on each screen (?)", app.action_help)
    yield SystemCommand(
        "Jump to…", "A view, provider, device or campaign by id, IMEI or name (:)", app.action_jump
    )
    yield SystemCommand(
        "Activity log", "Every notification and outcome this session (l)", app.action_activity
    )
    yield SystemCommand(
        "Only problems",
        "Failed, expired and unknown devices across the fleet (! on the dashboard)",
        app.action_problems,
    )
    for name in app.session.provider_names:
        yield SystemCommand(
            f"Provider: {name}",
            "Its health, full last error, last good refresh and failed refreshes",
            partial(app.open_provider, name),
        )
    from fota_tui.tui.screens.base import FotaScreen

    if isinstance(screen, FotaScreen):
        for title, help_text, action in screen_commands(screen):
            yield SystemCommand(title, help_text, action)
    if app.can_create_campaigns:
        yield SystemCommand(
            "New campaign", "Start the campaign wizard for the selected devices (n)",
            lambda: app.open_campaign_wizard(app.target_rows()),
        )  # fmt: skip
    current = app.session.profile.name
    for name in app.profile_names():
        if name != current:
            yield SystemCommand(
                f"Switch profile: {name}",
                "Open this profile (the current session stops)",
                partial(app.switch_profile, name),
            )
    for theme in sorted(app.available_themes):
        if theme != app.theme:
            yield SystemCommand(
                f"Theme: {theme}",
                "Switch the colour theme",
                partial(setattr, app, "theme", theme),
                discover=False,
            )


CAMPAIGN_OPS = (
    ("cancel", "Cancel campaign", "Cancel the highlighted campaign, after a confirmation (x)"),
    ("retry", "Retry failed", "The wizard, pre-filled with the campaign's failed devices (R)"),
    ("add", "Add devices", "Add the selected devices to the campaign (+)"),
    ("remove", "Remove devices", "Remove the selected devices from the campaign (-)"),
)


def screen_commands(screen: Any) -> Iterable[tuple[str, str, Callable[[], Any]]]:
    """Palette entries for the actions of the screen the palette was opened on."""
    from fota_tui.services.query import SORT_COLUMNS
    from fota_tui.tui.screens.campaign_ops import campaign_op_allowed
    from fota_tui.tui.screens.campaigns import CampaignDetailScreen, CampaignsScreen
    from fota_tui.tui.screens.dashboard import DashboardScreen

    if isinstance(screen, CampaignsScreen | CampaignDetailScreen):
        for op, title, help_text in CAMPAIGN_OPS:
            if campaign_op_allowed(screen, "campaign_op", (op,)):
                yield title, help_text, partial(screen.action_campaign_op, op)
    if isinstance(screen, DashboardScreen | CampaignDetailScreen):
        table = screen.panel.table
        yield "Filter devices", "Open the / filter", screen.action_filter
        yield "Export view", "Write the rows shown to CSV or JSON (e)", screen.action_export
        yield (
            "Copy device ids",
            "Selected (or cursor) ids to the clipboard (y)",
            table.action_copy_ids,
        )
        yield (
            "Select all shown",
            "Select every row that passes the filter (a)",
            table.action_select_visible,
        )
        yield "Clear selection", "Deselect every row (A)", table.action_clear_selection
        titles = {"attention": "Sort problems first", "updated": "Sort by age"}
        for column in SORT_COLUMNS:
            yield (
                titles.get(column, f"Sort by {column}"),
                "Sort the device table (s cycles, S reverses)",
                partial(table.sort_by, column),
            )

"""What every console screen shares: the session, live updates and one error handler."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.binding import ActiveBinding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from fota_tui.services.session import ConsoleSession
from fota_tui.tui.messages import SessionChange
from fota_tui.tui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from fota_tui.tui.app import FotaApp


class FotaScreen(Screen[None]):
    """A screen that follows the session: ``session_changed`` and the age ``tick``.

    Workers started from a screen should use ``exit_on_error=False``: a failed worker
    is reported by ``FotaApp.report_error`` (a notification for ``FotaError``, the error
    screen with a traceback for anything else) and the app stays up.
    """

    HELP_NAME: ClassVar[str] = "Screen"
    # The footer lists what matters first (help and quit among the first, so they stay
    # visible at 80 columns); rarer keys stay in help (?) and the palette.
    FOOTER_ORDER: ClassVar[tuple[str, ...]] = (
        "back", "activate", "open", "filter", "attention", "new_campaign", "help", "quit",
        "toggle_select", "cycle_sort", "copy_ids", "copy_id", "export", "refresh", "pause",
        "campaigns", "devices", "clear_filter",
    )  # fmt: skip
    FOOTER_HIDDEN: ClassVar[frozenset[str]] = frozenset(
        {"select_visible", "clear_selection", "reverse_sort"}
    )
    BINDINGS: ClassVar[list[BindingType]] = []

    @property
    def crumb(self) -> str | None:
        """This screen's name in the header's breadcrumbs (None: the dashboard)."""
        return self.HELP_NAME

    @property
    def fota(self) -> FotaApp:
        return cast("FotaApp", self.app)

    @property
    def session(self) -> ConsoleSession:
        return self.fota.session

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The footer's keys: rare ones dropped, the rest in ``FOOTER_ORDER``."""
        shown = {
            key: item
            for key, item in super().active_bindings.items()
            if item.binding.action not in self.FOOTER_HIDDEN
        }
        rank = {action: i for i, action in enumerate(self.FOOTER_ORDER)}
        ordered = sorted(shown.items(), key=lambda kv: rank.get(kv[1].binding.action, len(rank)))
        return dict(ordered)

    def on_mount(self) -> None:
        self.fota.session_changed.subscribe(self, self.on_session_change, immediate=True)

    def on_unmount(self) -> None:
        self.fota.session_changed.unsubscribe(self)

    def on_session_change(self, change: SessionChange) -> None:
        """Called after every session change (override)."""

    def tick(self) -> None:
        """Called on the age clock (every second, or ten in low-bandwidth mode)."""

    def update_header(self, *, full: bool = False) -> None:
        """Refresh the header, if composed yet (a clock tick or an update can come first)."""
        for header in self.query_children(StatusHeader):  # a direct child: no DOM walk per tick
            if full:
                header.update_from(self.session)
            else:
                header.update_state(self.session)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            if isinstance(error, Exception):
                self.fota.report_error(error)

    async def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

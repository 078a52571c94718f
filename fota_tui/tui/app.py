"""The console app (thin): session wiring, app-wide keys, the palette and the factory.

``make_app`` is the one factory the CLI, the tests, the snapshot tests and the screenshot
script use. ``run_console`` is what ``fota-tui`` without a command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from fota_tui.config.paths import AppPaths, resolve_paths
from fota_tui.config.schema import Profile
from fota_tui.config.store import ConfigStore
from fota_tui.errors import ConfigError, FotaError
from fota_tui.services.fleet import FleetRow, FleetStore, RowKey
from fota_tui.services.session import (
    Applied,
    ConsoleSession,
    HealthChanged,
    NowClock,
    WallClock,
)
from fota_tui.services.workspace import Workspace
from fota_tui.tui.colours import default_theme
from fota_tui.tui.memory import Memory
from fota_tui.tui.messages import SessionChange, SessionUpdate
from fota_tui.tui.rollouts import ConsoleRollouts
from fota_tui.tui.text import sanitize

if TYPE_CHECKING:
    import httpx

    from fota_tui.sim.demo import Demo

log = logging.getLogger(__name__)
FIRST_FRAME_ENV = "FOTA_TUI_EXIT_AFTER_FIRST_FRAME"
FIRST_FRAME_MARK = "FOTA_TUI_FIRST_FRAME monotonic="
DEMO_PROFILE = "demo"
LOW_BANDWIDTH_REFRESH = 60.0  # seconds: --low-bandwidth polls at most this often
ADD_PROFILE_HINT = "add a real profile with 'fota-tui profiles add NAME --from FILE'"

WizardFactory = Callable[[ConsoleSession, list[FleetRow]], Screen[Any]]


def default_wizard(session: ConsoleSession, devices: list[FleetRow]) -> Screen[Any]:
    """The campaign wizard, imported when first opened (it is not needed to start)."""
    from fota_tui.tui.screens.wizard import CampaignWizardScreen

    return CampaignWizardScreen(session, devices)


class FotaApp(App[int]):
    """The console. Everything it shows comes from ``self.session`` (a ``ConsoleSession``)."""

    TITLE = "fota-tui"
    CSS = """
    Screen { background: $background; }
    Footer { background: $panel; }
    /* The palette key is docked over the last keys: it paints its whole cell range, or the
       key beneath shows through its last cell (a stray letter after "palette"). */
    Footer.-compact FooterKey.-command-palette { padding-right: 2; offset-x: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("colon", "jump", "Jump", key_display=":"),
        Binding("l", "activity", "Log"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("r", "refresh", "Refresh"),
        Binding("ctrl+r", "refresh_full", "Full refresh", show=False),
        Binding("p", "pause", "Pause"),
        Binding("c", "campaigns", "Campaigns"),
        Binding("d", "devices", "Devices"),
    ]

    def __init__(
        self,
        profile: Profile,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: NowClock | None = None,
        fleet_clock: NowClock | None = None,
        autostart: bool = True,
        read_only: bool | None = None,
        low_bandwidth: bool = False,
        paths: AppPaths | None = None,
        demo: Demo | None = None,
        wizard: WizardFactory | None = None,
        notice: str | None = None,
        timing: SchedulerTiming | None = None,
    ) -> None:
        super().__init__()
        self.timing = timing or SchedulerTiming()
        self.clock: NowClock = clock or WallClock()
        self.fleet_clock: NowClock = fleet_clock or self.clock
        self.autostart = autostart
        self.read_only_flag = read_only
        self.low_bandwidth = low_bandwidth
        self.paths = paths
        self.demo = demo
        self.wizard = wizard
        self.notice = notice
        from fota_tui.tui.screens.activity import ActivityLog

        self.activity = ActivityLog()
        self.memory = Memory(self.timing.monotonic)
        self._transport = transport
        self._demo_transport = demo.transport if demo is not None else None
        # A transport given with a non-demo profile (tests) serves every profile opened.
        self._profile_transport = None if demo is not None else transport
        self.session_changed: Signal[SessionChange] = Signal(self, "session-changed")
        self.session = self._new_session(profile, transport)
        self.first_frame_at: float | None = None
        self._pausable: bool | None = None
        self.notifications_sent: list[tuple[str, str]] = []  # (title, message), for tests/logs
        self._reconciling: set[str] = set()  # providers whose submissions are being settled
        self._rollouts: ConsoleRollouts | None = None
        if low_bandwidth:
            self.animation_level = "none"

    # -- setup -------------------------------------------------------------------
    def _new_session(
        self, profile: Profile, transport: httpx.AsyncBaseTransport | None
    ) -> ConsoleSession:
        """Open ``profile`` in a workspace of its own and its read session."""
        if self.low_bandwidth and profile.refresh_interval < LOW_BANDWIDTH_REFRESH:
            profile = profile.model_copy(update={"refresh_interval": LOW_BANDWIDTH_REFRESH})
        on_demo = transport is not None and transport is self._demo_transport
        self.workspace = Workspace(
            profile,
            self._journal_dir(on_demo),
            transport=transport,
            now=self.now,
            read_only=self.read_only_flag,
        )
        # A demo is a new simulator run: a snapshot of the last one would paint its fleet
        # (and the campaigns sent to it) as if they were this one's.
        cache_dir = self.paths.cache_dir if self.paths is not None and not on_demo else None
        return self.workspace.console(
            cache_dir=cache_dir,
            publish=self._publish,
            clock=self.clock,
            monotonic=self.timing.monotonic,
            sleep=self.timing.sleep,
        )

    def _journal_dir(self, on_demo: bool) -> Path:
        """The data dir of the journal: the demo's own on the demo's simulator."""
        if on_demo and self.demo is not None:
            return self.demo.data_dir
        return (self.paths or resolve_paths()).data_dir

    async def _close_session(self) -> None:
        await self.session.stop()
        await self.workspace.aclose()

    def _publish(self, event: Any) -> None:
        self.post_message(SessionUpdate(event))

    @property
    def age_interval(self) -> float:
        """Seconds between clock-driven redraws (ages): 10 in low-bandwidth mode."""
        return 10.0 if self.low_bandwidth else 1.0

    def now(self) -> datetime:
        return self.fleet_clock.now()

    async def on_mount(self) -> None:
        from fota_tui.tui.screens.dashboard import DashboardScreen

        self._apply_saved_theme()
        self.theme_changed_signal.subscribe(self, self._save_theme)
        await self.push_screen(DashboardScreen())
        if os.environ.get(FIRST_FRAME_ENV):
            self.screen.call_after_refresh(self._first_frame)
        # Clients, cache and polling start once the first frame is on screen.
        self.screen.call_after_refresh(self._start_session)
        self.set_interval(self.age_interval, self._tick, name="age-clock")
        if self.notice:
            self.notify(self.notice, title="Demo mode", timeout=8, markup=False)

    async def _start_session(self) -> None:
        if self.session.started or not self.is_running:
            return
        from fota_tui.providers.pools import warm_up

        await warm_up()  # the TLS context, off the event loop: no frame waits for it
        await self.session.start(scheduler=self.autostart)
        self._status_changed()
        self.memory.settle()  # what startup built stays: out of the collector's walks

    def _first_frame(self) -> None:
        self.first_frame_at = time.monotonic()
        self.exit(0)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.memory.touched()
        await super().on_event(event)

    def _tick(self) -> None:
        self.memory.tick()
        screen = self.screen
        tick = getattr(screen, "tick", None)
        if callable(tick) and screen.is_mounted:
            # The clock can fire before the screen has composed: the next tick paints it.
            with contextlib.suppress(NoMatches):
                tick()

    # -- session events ----------------------------------------------------------
    def on_session_update(self, message: SessionUpdate) -> None:
        """The session has applied it already: paint the diff, never call back."""
        event = message.event
        if isinstance(event, Applied):
            self.memory.settle()  # the applied snapshot stays until the next one
        if isinstance(event, Applied) and event.live:
            self._reconcile_after_refresh(event.provider)
            self._step_rollouts(event.provider)
        elif isinstance(event, HealthChanged):
            self._health_notice(event)
        self.session_changed.publish(SessionChange(event.provider, message.diff))

    @property
    def rollouts(self) -> ConsoleRollouts:
        """The profile's rollouts, driven by this console (tui/rollouts.py)."""
        if self._rollouts is None or self._rollouts.workspace is not self.workspace:
            self._rollouts = ConsoleRollouts(
                self.workspace,
                self.session,
                self.now,
                lambda message, title: self.say(message, title, severity="error"),
            )
        return self._rollouts

    def _step_rollouts(self, provider: str) -> None:
        """A live refresh of a provider advances its rollouts (with that refresh)."""
        due = self.rollouts.due(provider)
        if due:
            self.run_worker(self._step(provider, due), group=f"rollouts-{provider}")

    async def _step(self, provider: str, ids: list[str]) -> None:
        if await self.rollouts.step(provider, ids):
            self.rollouts_changed(provider)

    def rollouts_changed(self, provider: str | None = None) -> None:
        self.session_changed.publish(SessionChange(provider, rollouts=True))

    def _reconcile_after_refresh(self, provider: str) -> None:
        """A provider that answered settles its open submissions (lost answers, late
        listings): the console reconciles on every refresh, as the CLI does."""
        journal = self.workspace.journal
        if provider in self._reconciling:
            return
        if not any(e.unresolved or e.absent_since for e in journal.entries(provider)):
            return
        self._reconciling.add(provider)
        self.run_worker(self._reconcile(provider), group=f"reconcile-{provider}")

    async def _reconcile(self, provider: str) -> None:
        session = self.workspace.campaigns()
        try:
            settled = await session.service(provider).reconcile_pending()
        except FotaError as exc:
            log.info("%s: not reconciled: %s", provider, exc)
            settled = []
        finally:
            await session.aclose()
            self._reconciling.discard(provider)
        for entry in settled:
            if entry.state == "unknown":
                continue  # still open: said once, when it became unknown
            self.say(
                f"{provider}: submission {entry.submission_id}: {entry.events[-1].note}",
                "Submission corrected" if entry.corrected else "Submission reconciled",
                severity="warning" if entry.corrected else "information",
            )

    def _health_notice(self, event: HealthChanged) -> None:
        if event.healthy:
            self.say(f"{event.provider} answers again; its pane is live.", "Provider recovered")
        else:
            reason = event.reason or "refresh failed"
            self.say(
                f"{event.provider}: {reason}. Its pane shows the last good data as STALE.",
                "Provider failing",
                severity="error",
            )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        **kwargs: Any,
    ) -> None:
        """A toast, and an entry in the activity log (``l``) that does not fade."""
        from fota_tui.tui.screens.activity import Activity

        entry = Activity(self.clock.now(), sanitize(str(title)), sanitize(str(message)), severity)
        self.activity.add(entry)
        super().notify(message, title=title, severity=severity, **kwargs)

    def action_activity(self) -> None:
        from fota_tui.tui.screens.activity import ActivityScreen

        if not isinstance(self.screen, ActivityScreen):
            self.push_screen(ActivityScreen())

    def say(self, message: str, title: str, *, severity: SeverityLevel = "information") -> None:
        """Notify with platform text shown literally."""
        message, title = sanitize(message), sanitize(title)
        self.notifications_sent.append((title, message))
        self.notify(message, title=title, severity=severity, markup=False)

    # -- errors ------------------------------------------------------------------
    def report_error(self, error: BaseException) -> None:
        """The one handler for failed workers: a notice for ours, the error screen otherwise."""
        if isinstance(error, FotaError):
            self.say(error.message, error.title, severity="error")
            return
        from fota_tui.tui.screens.error import ErrorScreen

        self.push_screen(ErrorScreen(error))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and isinstance(event.worker.error, Exception):
            self.report_error(event.worker.error)

    # -- actions -----------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause":
            return self.session.running or self.session.paused
        if action == "devices":
            from fota_tui.tui.screens.dashboard import DashboardScreen

            return not isinstance(self.screen, DashboardScreen)
        return True

    def action_available(self, action: str, screen: type | None = None) -> bool:
        """Whether an action is offered at all (help and palette use this)."""
        if action == "new_campaign":
            return self.can_create_campaigns
        return True

    @property
    def can_create_campaigns(self) -> bool:
        return not self.session.read_only

    def wizard_factory(self) -> WizardFactory:
        return self.wizard if self.wizard is not None else default_wizard

    async def action_quit(self) -> None:
        await self._close_session()
        self.exit(0)

    def action_help(self) -> None:
        from fota_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_refresh(self, full: bool = False) -> None:
        if self.session.running:  # while paused: once, and it stays paused
            self.session.refresh_now(full=full)
        else:
            self.run_worker(self.session.refresh(full=full), exit_on_error=False, group="refresh")
        self._status_changed()

    def action_refresh_full(self) -> None:
        """Read everything again, also where refreshes are incremental (OneNET)."""
        self.action_refresh(full=True)
        self.say("Every device is read again (a full sweep).", "Full refresh")

    def action_pause(self) -> None:
        paused = self.session.toggle_pause()
        self.say("Polling paused; r refreshes once, p resumes." if paused else "Polling resumed.",
                 "Paused" if paused else "Live")  # fmt: skip
        self._status_changed()

    def _status_changed(self) -> None:
        self.session_changed.publish(SessionChange())
        pausable = self.check_action("pause", ())
        if pausable != self._pausable:  # a footer rebuild only when "pause" comes or goes
            self._pausable = pausable
            self.refresh_bindings()

    async def action_campaigns(self) -> None:
        from fota_tui.tui.screens.campaigns import CampaignsScreen

        if isinstance(self.screen, CampaignsScreen):
            return
        for index, screen in enumerate(self.screen_stack):
            if isinstance(screen, CampaignsScreen):
                while len(self.screen_stack) > index + 1:
                    await self.pop_screen()
                return
        await self._pop_modals()
        await self.push_screen(CampaignsScreen())

    async def action_devices(self) -> None:
        await self._pop_to_dashboard()
        table = self.dashboard().table
        table.focus()

    def action_jump(self) -> None:
        from fota_tui.tui.screens.jump import JumpPrompt

        if not isinstance(self.screen, JumpPrompt):
            self.push_screen(JumpPrompt(self.session), self._jump)

    async def _jump(self, jump: Any) -> None:
        from fota_tui.tui.screens.campaigns import CampaignDetailScreen

        if jump is None:
            return
        if jump.kind == "view":
            views = {
                "campaigns": self.action_campaigns,
                "devices": self.action_devices,
                "log": self.action_activity,
                "help": self.action_help,
            }
            if jump.target == "problems":
                await self.action_problems()
            else:
                result = views[jump.target]()
                if result is not None:
                    await result
        elif jump.kind == "provider":
            self.open_provider(jump.target)
        elif jump.kind == "device" and jump.key is not None:
            self.open_device(jump.key)
        elif jump.kind == "campaign" and jump.key is not None:
            await self.push_screen(CampaignDetailScreen(*jump.key))
        else:
            await self.show_devices(jump.target)

    async def action_problems(self) -> None:
        await self.show_devices("state:attention")

    async def show_devices(self, filter_text: str) -> None:
        """The dashboard's device table, filtered (``provider:NAME``, ``state:failed``)."""
        await self._pop_to_dashboard()
        dashboard = self.dashboard()
        dashboard.panel.set_filter(filter_text)
        dashboard.table.action_cursor_first()
        dashboard.table.focus()

    def open_provider(self, provider: str) -> None:
        from fota_tui.tui.screens.provider import ProviderScreen

        if provider in self.session.provider_names:
            self.push_screen(ProviderScreen(provider))

    async def _pop_modals(self) -> None:
        from textual.screen import ModalScreen

        while isinstance(self.screen, ModalScreen) and len(self.screen_stack) > 2:
            await self.pop_screen()

    async def _pop_to_dashboard(self) -> None:
        while len(self.screen_stack) > 2:
            await self.pop_screen()

    def dashboard(self) -> Any:
        from fota_tui.tui.screens.dashboard import DashboardScreen

        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        raise LookupError("no dashboard")

    def open_device(self, key: RowKey, store: FleetStore | None = None) -> None:
        from fota_tui.tui.screens.device_detail import DeviceDetailScreen

        self.push_screen(DeviceDetailScreen(key, store))

    def open_campaign_wizard(self, devices: list[FleetRow]) -> None:
        """The wizard hook: push ``CampaignWizardScreen(session, devices)`` when allowed."""
        factory = self.wizard_factory()
        if self.session.read_only:
            self.say("Creating campaigns is not available here.", "Not available",
                     severity="warning")  # fmt: skip
            return

        def done(result: Any) -> None:
            if result:  # sent: the rows it was built from are not a selection any more
                self.session.refresh_now()
                with contextlib.suppress(LookupError):
                    self.dashboard().table.clear_selection()

        self.push_screen(factory(self.session, devices), done)

    def default_export_path(self, stem: str = "devices") -> str:
        stamp = self.clock.now().strftime("%Y%m%d-%H%M%S")
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
        return str(Path.cwd() / f"fota-{safe}-{stamp}.csv")

    # -- profiles and themes -------------------------------------------------------
    def profile_names(self) -> list[str]:
        """Stored profiles plus the built-in demo."""
        names: list[str] = []
        if self.paths is not None:
            try:
                names = ConfigStore(self.paths).list_profiles()
            except ConfigError:
                names = []
        if DEMO_PROFILE not in names:
            names.append(DEMO_PROFILE)
        return names

    def switch_profile(self, name: str) -> Worker[None]:
        return self.run_worker(
            self._switch_profile(name), exclusive=True, group="profile", exit_on_error=False
        )

    async def _switch_profile(self, name: str) -> None:
        try:
            profile, transport = self._load_profile(name)
        except FotaError as exc:  # a bad profile file: say which and keep the session
            self.say(exc.message, exc.title, severity="error")
            return
        await self._close_session()
        self.session = self._new_session(profile, transport)
        from fota_tui.tui.screens.dashboard import DashboardScreen

        await self._pop_to_dashboard()
        await self.switch_screen(DashboardScreen())
        await self._start_session()
        self.session_changed.publish(SessionChange(rebuilt=True))
        self.refresh_bindings()
        self.say(f"Now showing profile '{profile.name}' ({profile.environment}).", "Profile")

    def _load_profile(self, name: str) -> tuple[Profile, httpx.AsyncBaseTransport | None]:
        stored = self.paths is not None and name in ConfigStore(self.paths).list_profiles()
        if name == DEMO_PROFILE and not stored:
            if self.demo is None:
                from fota_tui.sim.demo import build_demo

                self.demo = build_demo()
                self._demo_transport = self.demo.transport
            return self.demo.profile, self._demo_transport
        if self.paths is None:
            raise ConfigError(f"no profile named '{name}' (no config dir)")
        return ConfigStore(self.paths).load_profile(name), self._profile_transport

    def _apply_saved_theme(self) -> None:
        """The saved theme; without one, a 16-colour terminal gets the ANSI theme."""
        theme = None
        if self.paths is not None:
            with contextlib.suppress(ConfigError):
                theme = ConfigStore(self.paths).load_config().preferences.theme
        theme = theme or default_theme()
        if theme and theme in self.available_themes:
            self.theme = theme  # before the save subscription: a default is not saved

    def _save_theme(self, theme: Theme) -> None:
        if self.paths is None:
            return
        store = ConfigStore(self.paths)
        try:
            if store.load_config().preferences.theme == theme.name:
                return
            store.update_config(
                lambda c: c.model_copy(
                    update={"preferences": c.preferences.model_copy(update={"theme": theme.name})}
                )
            )
        except ConfigError as exc:
            self.say(exc.message, "Theme not saved", severity="warning")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from fota_tui.tui.palette import app_commands

        return app_commands(self, screen, super().get_system_commands(screen))

    def target_rows(self) -> list[FleetRow]:
        try:
            rows: list[FleetRow] = self.dashboard().table.target_rows()
        except LookupError:
            return []
        return rows


def make_app(
    profile: Profile,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: NowClock | None = None,
    autostart: bool = True,
    read_only: bool | None = None,
    low_bandwidth: bool = False,
    paths: AppPaths | None = None,
    demo: Demo | None = None,
    wizard: WizardFactory | None = None,
    notice: str | None = None,
    timing: SchedulerTiming | None = None,
) -> FotaApp:
    """The one factory (CLI, tests, snapshots, screenshots).

    ``clock`` (anything with ``now()``) drives data ages and row ages; without it, a demo
    uses wall time for data ages and the simulator's clock for row ages. ``read_only``
    True forces read-only; None follows the profile. ``transport`` serves the profile
    (and, when not a demo, every profile switched to: tests). ``timing`` is the refresh
    scheduler's ``monotonic`` and ``sleep`` (tests: fake time, so no refresh fires on the
    real clock).
    """
    fleet_clock = None
    if clock is None and demo is not None:
        fleet_clock = demo.clock
    return FotaApp(
        profile,
        transport=transport,
        clock=clock,
        fleet_clock=fleet_clock,
        autostart=autostart,
        read_only=read_only,
        low_bandwidth=low_bandwidth,
        paths=paths,
        demo=demo,
        wizard=wizard,
        notice=notice,
        timing=timing,
    )


@dataclass(frozen=True)
class SchedulerTiming:
    """Where the refresh scheduler reads time and waits (real time unless a test says)."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


def run_console(args: argparse.Namespace) -> int:
    """``fota-tui`` without a command: open the profile (or the demo) in the console."""
    from fota_tui.sim.demo import build_demo

    paths = resolve_paths(getattr(args, "config_dir", None))
    store = ConfigStore(paths)
    demo: Demo | None = None
    notice: str | None = None
    try:
        config = store.load_config()
        name = getattr(args, "profile", None)
        if getattr(args, "demo", False):
            demo = build_demo()
            notice = f"Simulated fleet, no network. For real platforms, {ADD_PROFILE_HINT}."
        elif name is None and config.default_profile is None and not store.list_profiles():
            demo = build_demo()
            notice = (
                f"No profile is configured yet, so this is the built-in demo; {ADD_PROFILE_HINT}."
            )
        profile = demo.profile if demo is not None else store.select_profile(name)
    except ConfigError as err:
        print(f"fota-tui: {err.title}: {err}", file=sys.stderr)
        return 2
    app = make_app(
        profile,
        transport=demo.transport if demo is not None else None,
        read_only=True if getattr(args, "read_only", False) else None,
        low_bandwidth=bool(
            getattr(args, "low_bandwidth", False) or config.preferences.low_bandwidth
        ),
        paths=paths,
        demo=demo,
        notice=notice,
    )
    try:
        result = app.run()
    finally:
        if demo is not None:
            demo.close()  # the demo's journal ends with its simulator
    if app.session.started:  # the app ended another way than `q`: keep the cache anyway
        app.session.save_cache()
    if app.first_frame_at is not None:
        print(f"{FIRST_FRAME_MARK}{app.first_frame_at:.6f}", file=sys.stderr)
    if app.return_code:
        return app.return_code
    return int(result or 0)

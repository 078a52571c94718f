"""Rollouts in the campaigns view: a line per rollout above the campaigns, its keys, and
the rollout's own view (what ``fota-tui rollout show`` prints)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from fota_tui.errors import FotaError
from fota_tui.services.rollouts.status import bar, describe, next_decision, wave_position
from fota_tui.text import clean
from fota_tui.tui.screens.prompt import ChoicePrompt
from fota_tui.tui.text import literal

if TYPE_CHECKING:
    from datetime import datetime

    from fota_tui.services.rollouts.record import Rollout

PREFIX = "ro:"
ROLLOUT_BINDINGS: list[BindingType] = [
    Binding("w", "rollout_op('pause')", "Pause/resume rollout"),
    Binding("W", "rollout_op('advance')", "Advance rollout"),
    Binding("X", "rollout_op('abort')", "Abort rollout"),
    Binding("A", "rollout_op('ack')", "Acknowledge halt"),
]
_STYLE = {"halted": "bold $text-error", "paused": "$text-warning", "aborted": "$text-muted"}


def rollout_line(rollout: Rollout, now: datetime, width: int) -> Content:
    """``▶ rollout NAME · provider · wave 2/4 ████▒▒░░ · next …``"""
    state = rollout.state.upper() if rollout.state != "running" else "rollout"
    head = Content.styled(f"▶ {state} ", _STYLE.get(rollout.state, "bold $text-accent"))
    text = f" · {rollout.provider} · wave {wave_position(rollout)} "
    tail = f" · {next_decision(rollout, now)}"
    if rollout.state == "halted" and not rollout.acknowledged:
        tail += " · A: acknowledge"
    line = head + literal(rollout.name) + Content(text) + Content(bar(rollout, 16)) + literal(tail)
    return line.truncate(max(width, 20), ellipsis=True)


def highlighted_rollout(screen: Any) -> str | None:
    option = screen.option_list.highlighted_option
    if option is None or not option.id or not option.id.startswith(PREFIX):
        return None
    return str(option.id[len(PREFIX) :])


def rollout_op_allowed(screen: Any, parameters: tuple[object, ...]) -> bool | None:
    if screen.app.workspace.read_only:
        return False
    return True if highlighted_rollout(screen) else None


def run_rollout_op(screen: Any, op: str) -> None:
    rollout_id = highlighted_rollout(screen)
    if rollout_id is None:
        return
    app = screen.app
    engine = app.rollouts.engine
    rollout = app.rollouts.store.get(rollout_id)

    async def apply(chosen: str | None = "y") -> None:
        if chosen != "y":
            return
        try:
            if op == "abort":
                _, notes = await engine.abort(rollout_id)
                app.say("; ".join(notes) or "no wave was running", f"Rollout {rollout_id} aborted")
            else:
                if op == "pause":
                    change = engine.resume if rollout.state == "paused" else engine.pause
                else:
                    change = engine.advance if op == "advance" else engine.acknowledge
                done = await change(rollout_id)
                app.say(done.decisions[-1].text, f"Rollout {rollout_id}")
        except FotaError as exc:
            app.say(exc.message, exc.title, severity="error")
        app.rollouts_changed(rollout.provider)

    wave = rollout.current
    if op == "advance" and (wave is None or wave.state != "soaking"):
        shown = f"wave {wave.index} is {wave.state}" if wave else f"it is {rollout.state}"
        app.say(
            f"{rollout_id}: {shown}; advance skips a soak only after a wave reached"
            f" {rollout.plan.success:g} % success",
            "Nothing to advance",
            severity="warning",
        )
        return
    if op in ("abort", "advance"):
        message = (
            f"Abort {rollout.name}: no further wave starts, and running campaigns are"
            " cancelled where the platform allows it."
            if op == "abort"
            else f"Skip the soak of {rollout.name}'s current wave? The next wave still"
            " needs a fresh, passing read."
        )
        title = "Abort rollout" if op == "abort" else "Advance rollout"
        app.push_screen(
            ChoicePrompt(title, message, {"y": op}),
            lambda chosen: screen.run_worker(apply(chosen), group="rollout-op"),
        )
        return
    screen.run_worker(apply(), group="rollout-op")


class RolloutScreen(ModalScreen[None]):
    """One rollout: waves, progress, decisions (what ``rollout show`` prints)."""

    DEFAULT_CSS = """
    RolloutScreen { align: center middle; }
    RolloutScreen > VerticalScroll {
        width: 90%; height: 80%; border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close")]

    def __init__(self, rollout: Rollout, now: datetime) -> None:
        super().__init__()
        self.rollout, self.now = rollout, now

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = f"Rollout {self.rollout.rollout_id}"
            yield Static(self._text(), markup=False)

    def _text(self) -> str:
        return "\n".join(clean(line) for line in describe(self.rollout, self.now))

    def tick(self) -> None:
        """Every second (the app's clock): the rollout as it is now."""
        app = self.app
        try:
            self.rollout = app.rollouts.store.get(self.rollout.rollout_id)  # type: ignore[attr-defined]
        except FotaError:
            return
        self.now = app.now()  # type: ignore[attr-defined]
        self.query_one(Static).update(self._text())

    def action_close(self) -> None:
        self.dismiss(None)

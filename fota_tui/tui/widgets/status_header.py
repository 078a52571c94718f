"""The one-line header: profile, environment, read-only badge and refresh state."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from fota_tui.models import ACTIVE_STATES, UpgradeState
from fota_tui.services.session import ConsoleSession
from fota_tui.tui.text import age_label, literal

ENV_WORDS = {"production": "PRODUCTION", "staging": "STAGING", "lab": "LAB"}
WIDE = 100  # narrower terminals get the short fleet totals
STATE_WIDTH = 12  # "↻ refreshing": the widest plain state (CSS min-width adds padding)


class StatusHeader(Horizontal):
    """Always visible; production turns the whole bar the error colour."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
        &.-production { background: $error; color: $text; }
        &.-staging { background: $warning-muted; }
        #hdr-fleet { width: auto; padding: 0 1; text-wrap: nowrap; }
        #hdr-crumbs { width: auto; max-width: 30%; text-wrap: nowrap; text-overflow: ellipsis;
                      color: $text-accent; }
        #hdr-title { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; padding: 0 1; }
        #hdr-env, #hdr-ro { width: auto; padding: 0 1; text-style: bold; }
        #hdr-env { background: $secondary; color: $text; }
        &.-production #hdr-env { background: $foreground; color: $error; }
        &.-staging #hdr-env { background: $warning; color: $text; }
        #hdr-ro { background: $accent; color: $text; margin-left: 1; }
        #hdr-state { width: auto; min-width: 14; padding: 0 1; margin-left: 1; }
        #hdr-state.-paused { color: $text-warning; text-style: bold; }
        #hdr-state.-refreshing { color: $text-accent; }
        #hdr-state.-live { color: $text-success; }
        #hdr-state.-failing { color: $text-error; text-style: bold; }
        &.-production #hdr-state { color: $text; }
    }
    """

    def __init__(self, session: ConsoleSession | None = None) -> None:
        super().__init__()
        self._session = session
        self._counted: tuple[int, bool] | None = None  # (store version, narrow) last counted

    def compose(self) -> ComposeResult:
        # With the session, the bar is filled from its first frame (no empty-bar frame).
        session = self._session
        yield Static(title_of(session) if session else "", id="hdr-title")
        yield Static(id="hdr-crumbs")
        yield Static(id="hdr-fleet")
        yield Static(env_word(session) if session else "", id="hdr-env")
        ro = Static("READ-ONLY", id="hdr-ro")
        ro.display = bool(session and session.read_only)
        yield ro
        yield Static(id="hdr-state")

    def update_from(self, session: ConsoleSession) -> None:
        env = session.profile.environment
        for name in ENV_WORDS:
            self.set_class(env == name, f"-{name}")
        self.query_one("#hdr-title", Static).update(title_of(session))
        self.query_one("#hdr-env", Static).update(env_word(session))
        self.query_one("#hdr-ro", Static).display = session.read_only
        self.show_crumbs()
        self.update_state(session)

    def show_crumbs(self) -> None:
        """``› Campaigns › Q3 rollout``: where this screen is, from the screens beneath it."""
        crumbs = [c for s in self.app.screen_stack if (c := getattr(s, "crumb", None))]
        crumbs_widget = self.query_one("#hdr-crumbs", Static)
        crumbs_widget.update(literal("".join(f" › {c}" for c in crumbs)))
        crumbs_widget.display = bool(crumbs)

    def update_state(self, session: ConsoleSession) -> None:
        self._update_fleet(session)
        state = session.refresh_state
        label = {
            "live": "● live",
            "paused": "‖ paused",
            "refreshing": "↻ refreshing",
            "stopped": "○ stopped",
        }[state]
        views = session.provider_views()
        cached = [v for v in views if v.from_cache]
        if cached:
            oldest = max((v.age or 0.0) for v in cached)
            label += f" · cached {age_label(oldest)}"
        failing = sum(1 for v in views if v.stale)
        if failing:  # live polling is not live data: say how many panes are stale
            label += f" · {failing}/{len(views)} failing"
        widget = self.query_one("#hdr-state", Static)
        widget.set_class(bool(failing), "-failing")
        for name in ("live", "paused", "refreshing", "stopped"):
            widget.set_class(state == name, f"-{name}")
        shown = str(widget.content)
        if shown != label:  # an unchanged header sends nothing
            # Within the min-width (every plain state) the bar keeps its layout, so a
            # state change resends this label only, not the whole line.
            widget.update(label, layout=max(len(shown), len(label)) > STATE_WIDTH)

    def _update_fleet(self, session: ConsoleSession) -> None:
        """Fleet-wide totals, counted again only when the store changed."""
        narrow = self.app.size.width < WIDE
        version = (session.store.version, narrow)
        if version == self._counted:
            return
        self._counted = version
        totals = fleet_totals(session.store.state_counts(), narrow=narrow)
        self.query_one("#hdr-fleet", Static).update(totals)


def fleet_totals(counts: dict[UpgradeState, int], *, narrow: bool = False) -> Content:
    """``✗ 12 failed · ⌛ 3 expired · ↻ 40 in flight · ✓ 80 ok``: the bad news first, each
    with a symbol so it reads without colour; zero counts are left out. ``narrow`` keeps
    the word for failures only (``✗ 12 failed ⌛ 3 ↻ 40 ✓ 80``)."""
    in_flight = sum(counts.get(s, 0) for s in ACTIVE_STATES)
    parts = [
        (counts.get(UpgradeState.FAILED, 0), "✗", "failed", "bold $text-error"),
        (counts.get(UpgradeState.EXPIRED, 0), "⌛", "expired", "$text-error"),
        (counts.get(UpgradeState.UNKNOWN, 0), "?", "unknown", "$text-warning"),
        (in_flight, "↻", "in flight", "$text-primary"),
        (counts.get(UpgradeState.SUCCEEDED, 0), "✓", "ok", "$text-success"),
    ]
    shown = [
        Content.styled(f"{sym} {n:,}" + (f" {word}" if not narrow or sym == "✗" else ""), style)
        for n, sym, word, style in parts
        if n
    ]
    return Content(" " if narrow else " · ").join(shown) if shown else Content("no upgrades")


def title_of(session: ConsoleSession) -> Content:
    profile = session.profile
    title = Content.assemble(("fota-tui", "bold"), " ▸ ", literal(profile.display_label))
    if profile.label and profile.label != profile.name:
        title += Content.styled(f" ({profile.name})", "dim")
    return title


def env_word(session: ConsoleSession) -> str:
    env = session.profile.environment
    return ENV_WORDS.get(env, env.upper())

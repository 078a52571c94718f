"""One provider: health, the full last error, when it last answered, auth, rate budget,
and its recent failed refreshes (a pane shows the headline; this shows everything)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Static

from fota_tui.services.session import ProviderView
from fota_tui.tui.messages import SessionChange
from fota_tui.tui.screens.base import FotaScreen
from fota_tui.tui.text import count_labels, literal, when_label
from fota_tui.tui.widgets.provider_pane import AUTH_WORDS, HEALTH_WORDS
from fota_tui.tui.widgets.status_header import StatusHeader


def _fact(label: str, value: Content | str) -> Content:
    return Content.assemble((f"{label:>16} ", "$text-muted"), value)


def provider_facts(v: ProviderView, now: datetime) -> Content:
    word, style = HEALTH_WORDS[v.health]
    auth_word, auth_style = AUTH_WORDS.get(v.auth, ("auth ?", "$text-muted"))
    budget = f"{v.rate_remaining}/{v.rate_total} calls left" if v.rate_total else "-"
    retry = f"in {v.retry_in:.0f}s" if v.retry_in else "-"
    lines = [
        _fact("platform", v.kind.label),
        _fact("health", Content.styled(word + (" (STALE)" if v.stale else ""), style)),
        _fact("authentication", Content.styled(auth_word.removeprefix("auth "), auth_style)),
        _fact("last good refresh", when_label(v.last_good, now)),
        _fact("data from", when_label(v.fetched_at, now) + (" (cache)" if v.from_cache else "")),
        *_sweep(v, now),
        _fact("failures in a row", str(v.failures)),
        _fact("next retry", retry),
        _fact("rate budget", budget),
        _fact("devices", f"{v.device_count:,}"),
        _fact("upgrades", count_labels(v.counts)),
        _fact("campaigns", f"{v.active_campaigns} active of {v.campaigns}"),
    ]
    for warning in v.warnings:
        lines.append(_fact("note", literal(warning, "$text-warning")))
    return Content("\n").join(lines)


def _sweep(v: ProviderView, now: datetime) -> list[Content]:
    """Where refreshes are incremental: when everything was last read, and why."""
    if v.sweep is None:
        return []
    when = when_label(v.sweep.at, now)
    return [_fact("last full read", Content.assemble(when, " (", literal(v.sweep.reason), ")"))]


def last_error(v: ProviderView) -> Content:
    if v.build_error:
        return literal(v.build_error, "$text-error")
    if v.stale and v.stale_reason:
        return literal(v.stale_reason, "$text-error")
    return Content.styled("None: the last refresh answered.", "$text-success")


def incidents(v: ProviderView, now: datetime) -> Content:
    if not v.errors:
        return Content.styled("No failed refresh this session.", "$text-muted")
    lines = []
    for incident in v.errors:
        lines.append(
            Content.assemble(
                ("● ", "$text-error"),
                (when_label(incident.at, now), "bold"),
                (f"  #{incident.failures} in a row", "$text-muted"),
            )
        )
        lines.append(Content("  ") + literal(f"{incident.title}: {incident.message}"))
    return Content("\n").join(lines)


class ProviderScreen(FotaScreen):
    """Opened from a pane (Enter or click) or with ``:provider NAME``."""

    HELP_NAME = "Provider"
    DEFAULT_CSS = """
    ProviderScreen .provider-box {
        height: auto; padding: 0 1; border: round $panel-lighten-2;
        border-title-color: $text; border-title-style: bold;
    }
    ProviderScreen #provider-error { border: round $error 60%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("enter", "devices_of", "Its devices"),
    ]

    def __init__(self, provider: str) -> None:
        super().__init__()
        self.provider = provider

    @property
    def crumb(self) -> str | None:
        return self.provider

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.session)
        with VerticalScroll(id="provider-scroll"):
            yield Static(id="provider-facts", classes="provider-box")
            yield Static(id="provider-error", classes="provider-box")
            yield Static(id="provider-incidents", classes="provider-box")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.update_header(full=True)
        self.query_one("#provider-scroll").focus()
        self.show()

    def show(self) -> None:
        now = self.session.clock.now()  # the clock the session stamps refreshes with
        view = self.session.provider_view(self.provider, now)
        facts = self.query_one("#provider-facts", Static)
        facts.border_title = literal(f"{view.name} · {view.kind.label}")
        facts.update(provider_facts(view, now))
        error = self.query_one("#provider-error", Static)
        error.border_title = "Last error"
        error.set_class(not (view.stale or view.build_error), "-clear")
        error.update(last_error(view))
        history = self.query_one("#provider-incidents", Static)
        history.border_title = f"Failed refreshes · {len(view.errors)} (newest first)"
        history.update(incidents(view, now))

    def on_session_change(self, change: SessionChange) -> None:
        self.update_header()
        if change.provider == self.provider:
            self.show()

    def tick(self) -> None:
        self.update_header()

    async def action_devices_of(self) -> None:
        """Back to the dashboard, filtered to this provider's devices."""
        await self.fota.show_devices(f"provider:{self.provider}")

"""Operations from the campaigns view: cancel, add/remove devices, retry the failed ones.

A screen that lists campaigns (``CampaignsScreen``) or shows one (``CampaignDetailScreen``)
hooks these up with three lines::

    BINDINGS = [..., *CAMPAIGN_OP_BINDINGS]
    def check_action(self, action, parameters): return campaign_op_allowed(self, action, parameters)
    def action_campaign_op(self, op: str) -> None: run_campaign_op(self, op)

Every operation goes through the campaign service (journalled). Cancel asks first (in a
``production`` profile by typing the profile name) and explains when the platform has no
cancel; add/remove is offered only where the platform has it (ThingSpace); retry failed
opens the wizard pre-filled with the campaign's failed devices. Nothing is offered in a
read-only session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static, TextArea

from fota_tui.errors import FotaError
from fota_tui.models import Campaign, CampaignSpec, ProviderKind
from fota_tui.providers.rules import RuleContext
from fota_tui.services.campaigns import Problem
from fota_tui.services.campaigns.operations import cancel_unsupported_reason
from fota_tui.services.campaigns.problems import problem
from fota_tui.services.campaigns.rules import check_rules
from fota_tui.services.session import ConsoleSession
from fota_tui.tui.screens.wizard_form import field_matches, split_ids
from fota_tui.tui.screens.wizard_review import MUTED, plain, problems_content
from fota_tui.tui.screens.wizard_session import (
    campaign_session,
    is_production,
    read_only_reason,
    tell,
)

CAMPAIGN_OP_BINDINGS: list[BindingType] = [
    Binding("x", "campaign_op('cancel')", "Cancel campaign"),
    Binding("R", "campaign_op('retry')", "Retry failed"),
    Binding("plus", "campaign_op('add')", "Add devices"),
    Binding("minus", "campaign_op('remove')", "Remove devices"),
]
OPS = ("cancel", "retry", "add", "remove")


@dataclass(frozen=True)
class OpTarget:
    """The campaign an operation acts on, and the device rows selected in its table."""

    provider: str
    campaign_id: str
    campaign: Campaign | None = None
    selected: tuple[str, ...] = ()
    members: frozenset[str] | None = None  # the campaign's devices, when the screen knows them
    kind: ProviderKind | None = field(default=None)


def _kind(console: ConsoleSession, provider: str) -> ProviderKind | None:
    return next((p.kind for p in console.profile.providers if p.name == provider), None)


def target_of(screen: Any) -> OpTarget | None:
    """The campaign of a campaign detail screen, or the highlighted one of a list."""
    console: ConsoleSession = screen.app.session
    provider = getattr(screen, "provider", None)
    campaign_id = getattr(screen, "campaign_id", None)
    if isinstance(provider, str) and isinstance(campaign_id, str):
        campaign = screen.campaign() if hasattr(screen, "campaign") else None
        table = screen.panel.table if hasattr(screen, "panel") else None
        selected = tuple(r.device_id for r in table.selected_rows()) if table else ()
        store = getattr(screen, "store", None)
        members = frozenset(r.device_id for r in store) if store is not None else None
        return OpTarget(
            provider, campaign_id, campaign, selected, members or None, _kind(console, provider)
        )
    listing = getattr(screen, "option_list", None)
    option = listing.highlighted_option if listing is not None else None
    if option is None or not option.id:
        return None
    from fota_tui.tui.screens.campaigns import campaign_key

    for campaign in console.campaigns():
        if campaign_key(campaign) == option.id:
            return OpTarget(
                campaign.provider,
                campaign.campaign_id,
                campaign,
                kind=_kind(console, campaign.provider),
            )
    return None


def campaign_op_allowed(screen: Any, action: str, parameters: tuple[object, ...]) -> bool | None:
    """``check_action`` for the operations: hidden when read-only (and add/remove where
    the platform has no such thing), dimmed while no campaign is highlighted."""
    if action != "campaign_op":
        return True
    op = parameters[0] if parameters else None
    console: ConsoleSession = screen.app.session
    if console.read_only or op not in OPS:
        return False
    target = target_of(screen)
    if target is None:
        return None
    if op in ("add", "remove"):
        caps = console.capabilities(target.provider)
        return bool(caps and caps.add_remove_devices)
    return True


def cancel_refusal(console: ConsoleSession, target: OpTarget) -> str | None:
    """Why ``target`` cannot be cancelled, or None."""
    caps = console.capabilities(target.provider)
    kind = target.kind
    if caps is not None and not (caps.cancel_campaign or caps.abort_campaign):
        if kind is None:
            return f"{target.provider} campaigns cannot be cancelled."
        return f"{cancel_unsupported_reason(kind)}."
    campaign = target.campaign
    if campaign is not None and not campaign.active:
        return (
            f"Campaign {target.campaign_id} is {campaign.state.value}; there is nothing to cancel."
        )
    return None


def run_campaign_op(screen: Any, op: str) -> None:
    """Start ``op`` (cancel / retry / add / remove) on the screen's campaign."""
    app = screen.app
    console: ConsoleSession = app.session
    reason = read_only_reason(console)
    if reason is not None:
        tell(app, reason, "Read-only", "warning")
        return
    target = target_of(screen)
    if target is None:
        tell(app, "Highlight a campaign first.", "No campaign")
        return
    if op == "cancel":
        refusal = cancel_refusal(console, target)
        if refusal is not None:
            tell(app, refusal, "Cannot cancel", "warning")
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                screen.run_worker(_cancel(screen, target), group="campaign-op", exit_on_error=False)

        app.push_screen(CancelCampaignScreen(console, target), confirmed)
    elif op in ("add", "remove"):
        caps = console.capabilities(target.provider)
        if not (caps and caps.add_remove_devices):
            label = target.kind.label if target.kind else target.provider
            tell(
                app,
                f"{label} campaigns cannot change their devices after creation.",
                "Not available",
                "warning",
            )
            return
        add = op == "add"

        def chosen(ids: list[str] | None) -> None:
            if ids:
                screen.run_worker(
                    _change(screen, target, ids, add=add), group="campaign-op", exit_on_error=False
                )

        app.push_screen(ChangeDevicesScreen(console, target, add=add), chosen)
    elif op == "retry":
        screen.run_worker(_retry(screen, target), group="campaign-op", exit_on_error=False)


# -- the work (in workers of the calling screen) ------------------------------------------
def _after_change(screen: Any, provider: str) -> None:
    console: ConsoleSession = screen.app.session
    if console.running:
        console.refresh_now(provider)
    load = getattr(screen, "load", None)
    if callable(load):
        load()


def _fail(app: Any, title: str, exc: FotaError) -> None:
    tell(app, f"{exc.title}: {exc.message}", title, "error")


async def _cancel(screen: Any, target: OpTarget) -> None:
    app = screen.app
    session = campaign_session(app)
    try:
        result = await session.service(target.provider).cancel(target.campaign_id)
    except FotaError as exc:
        _fail(app, "Cancel failed", exc)
        return
    finally:
        await session.aclose()
    tell(
        app,
        f"Campaign {target.campaign_id} on {target.provider}: {result.state.value}.",
        "Campaign cancelled",
    )
    _after_change(screen, target.provider)


async def _change(screen: Any, target: OpTarget, ids: list[str], *, add: bool) -> None:
    app = screen.app
    session = campaign_session(app)
    try:
        svc = session.service(target.provider)
        if add:
            result = await svc.add_devices(target.campaign_id, ids)
        else:
            result = await svc.remove_devices(target.campaign_id, ids)
    except FotaError as exc:
        _fail(app, "Add devices failed" if add else "Remove devices failed", exc)
        return
    finally:
        await session.aclose()
    refused = refusals(result)
    verb = "added to" if add else "removed from"
    text = (
        f"{len(ids) - len(refused)} of {len(ids)} device(s) {verb} campaign {target.campaign_id}."
    )
    if refused:
        text += " The platform refused " + "; ".join(refused) + "."
    tell(app, text, "Devices changed", "warning" if refused else "information")
    _after_change(screen, target.provider)


def refusals(result: Any) -> list[str]:
    """``id: reason`` for each device the platform refused in an add/remove answer
    (ThingSpace answers per device, with ``ok``, ``status`` and ``reason``)."""
    if not isinstance(result, list | tuple):
        return []
    out = []
    for item in result:
        if getattr(item, "ok", True) is False:
            why = getattr(item, "reason", None) or getattr(item, "status", None) or "refused"
            out.append(f"{getattr(item, 'device_id', '?')}: {why}")
    return out


async def _retry(screen: Any, target: OpTarget) -> None:
    from fota_tui.tui.screens.wizard import open_wizard

    app = screen.app
    session = campaign_session(app)
    try:
        spec = await session.service(target.provider).retry_failed(target.campaign_id)
    except FotaError as exc:
        _fail(app, "Retry failed devices", exc)
        return
    finally:
        await session.aclose()
    open_wizard(app, provider=target.provider, spec=spec)


# -- dialogs --------------------------------------------------------------------------------
class _OpDialog(ModalScreen[Any]):
    DEFAULT_CSS = """
    _OpDialog { align: center middle; }
    _OpDialog > Vertical {
        width: 84; max-width: 96%; height: auto; max-height: 90%;
        border: round $error; background: $surface; padding: 0 1;
        border-title-style: bold;
    }
    _OpDialog .body { margin: 1 0; }
    _OpDialog .hint { color: $text-muted; }
    _OpDialog .error { color: $text-error; height: auto; }
    _OpDialog Horizontal { height: auto; align-horizontal: right; }
    _OpDialog Horizontal Button { margin-left: 2; }
    _OpDialog TextArea { height: 8; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("c,d", "stay", show=False),  # the console's keys would drop the dialog
    ]

    def action_close(self) -> None:
        self.dismiss(None)

    def action_stay(self) -> None:
        """Stay in the dialog (Esc closes it)."""


class CancelCampaignScreen(_OpDialog):
    """Confirm a cancel; dismisses with True to go ahead. "Keep it" has the focus."""

    def __init__(self, console: ConsoleSession, target: OpTarget) -> None:
        super().__init__()
        self.console = console
        self.target = target
        self.production = is_production(console)

    def compose(self) -> ComposeResult:
        t = self.target
        c = t.campaign
        with Vertical() as box:
            box.border_title = "Cancel campaign"
            lines = [
                Content.assemble(
                    ("Cancel ", "bold"),
                    plain(c.name if c and c.name else t.campaign_id, "bold"),
                    ("?", "bold"),
                ),
                Content.assemble(
                    ("campaign ", MUTED),
                    plain(t.campaign_id),
                    ("  provider ", MUTED),
                    plain(t.provider),
                ),
            ]
            if c is not None:
                pending = sum(n for s, n in c.counts.items() if not s.terminal)
                lines.append(
                    Content.assemble(
                        ("state ", MUTED),
                        plain(c.state.value),
                        f"   {pending} of {c.total or sum(c.counts.values())} devices have not"
                        " finished; they will not be upgraded by this campaign.",
                    )
                )
            caps = self.console.capabilities(t.provider)
            if caps is not None and caps.abort_campaign:
                lines.append(
                    Content.styled(
                        "The platform cancels a campaign that has not started and aborts one"
                        " that has; devices already upgraded stay upgraded.",
                        MUTED,
                    )
                )
            lines.append(Content.styled("This cannot be undone.", "bold $text-error"))
            yield Static(Content("\n").join(lines), classes="body", markup=False)
            if self.production:
                yield Static(
                    f"Production profile: type '{self.console.profile.name}' to enable the cancel.",
                    classes="hint",
                    markup=False,
                )
                yield Input(id="cancel-confirm-name", placeholder="profile name")
            with Horizontal():
                yield Button("Keep it", id="cancel-keep", variant="primary")
                yield Button(
                    "Cancel campaign", id="cancel-go", variant="error", disabled=self.production
                )

    def on_mount(self) -> None:
        if self.production:
            self.query_one("#cancel-confirm-name", Input).focus()
        else:
            self.query_one("#cancel-keep", Button).focus()

    @on(Input.Changed, "#cancel-confirm-name")
    def _typed(self, event: Input.Changed) -> None:
        ok = event.value.strip() == self.console.profile.name
        self.query_one("#cancel-go", Button).disabled = not ok

    @on(Input.Submitted, "#cancel-confirm-name")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.console.profile.name:
            self.dismiss(True)

    @on(Button.Pressed, "#cancel-keep")
    def _keep(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#cancel-go")
    def _go(self) -> None:
        self.dismiss(True)


class ChangeDevicesScreen(_OpDialog):
    """Ask for the device ids to add to (or remove from) a campaign; each id is checked
    with the platform's rule as it is typed, and Apply stays disabled until all pass."""

    DEFAULT_CSS = """
    ChangeDevicesScreen > Vertical { border: round $primary; }
    """

    def __init__(self, console: ConsoleSession, target: OpTarget, *, add: bool) -> None:
        super().__init__()
        self.console = console
        self.target = target
        self.add = add
        self.problems: list[Problem] = []
        self.ids: list[str] = []

    def compose(self) -> ComposeResult:
        t = self.target
        verb = "Add devices to" if self.add else "Remove devices from"
        with Vertical() as box:
            box.border_title = f"{verb} {t.campaign_id}"
            yield Static(
                "Device ids, one per line or separated by commas or spaces."
                + (
                    "" if self.add else " The devices selected in the campaign table are filled in."
                ),
                classes="hint",
                markup=False,
            )
            text = "" if self.add else "\n".join(t.selected)
            yield TextArea(text, id="change-ids", soft_wrap=True)
            yield Static("", id="change-summary", classes="hint", markup=False)
            yield Static(
                "Each id is checked with the platform's rule as you type. Tab reaches the"
                " button; Esc closes without changing anything.",
                classes="hint",
                markup=False,
            )
            yield Static("", id="change-errors", classes="error", markup=False)
            with Horizontal():
                yield Button("Close", id="change-close")
                yield Button(
                    "Add" if self.add else "Remove",
                    id="change-apply",
                    variant="primary" if self.add else "error",
                    disabled=True,
                )

    def on_mount(self) -> None:
        self._check()
        self.query_one("#change-ids", TextArea).focus()

    @on(TextArea.Changed, "#change-ids")
    def _changed(self) -> None:
        self._check()

    def check_ids(self, ids: Sequence[str]) -> list[Problem]:
        """The platform's id rule for each id, and membership in the campaign."""
        kind = self.target.kind
        out: list[Problem] = []
        if kind is not None and ids:
            spec = CampaignSpec(provider=self.target.provider, firmware="-", devices=list(ids))
            ctx = RuleContext(now=self.app.now(), label=kind.label)  # type: ignore[attr-defined]
            out += [p for p in check_rules(kind, spec, ctx) if field_matches(p.field, "devices")]
        members = self.target.members
        if members is not None:
            for index, device in enumerate(ids):
                inside = device in members
                if self.add and inside:
                    out.append(
                        problem(
                            f"devices[{index}]",
                            "ops.already_member",
                            f"{device} is already in campaign {self.target.campaign_id}",
                        )
                    )
                elif not self.add and not inside:
                    out.append(
                        problem(
                            f"devices[{index}]",
                            "ops.not_member",
                            f"{device} is not in campaign {self.target.campaign_id}",
                        )
                    )
        return out

    def _check(self) -> None:
        self.ids = split_ids(self.query_one("#change-ids", TextArea).text)
        self.problems = self.check_ids(self.ids)
        self.query_one("#change-summary", Static).update(f"{len(self.ids)} device id(s)")
        errors = self.query_one("#change-errors", Static)
        errors.update(problems_content(self.problems) if self.problems else Content(""))
        self.query_one("#change-apply", Button).disabled = bool(self.problems) or not self.ids

    @on(Button.Pressed, "#change-close")
    def _close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#change-apply")
    def _apply(self) -> None:
        if self.ids and not self.problems:
            self.dismiss(list(self.ids))

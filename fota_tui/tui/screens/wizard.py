"""The campaign wizard: provider → firmware → targets → schedule → review → confirm →
submit → the campaign's live progress view.

A modal flow over the console. Every field is checked on each change with the chosen
platform's rules (``CampaignService.check``) and its problems are shown under it, with
the rule's id; Next stays disabled while the step (or an earlier one) has a problem.
Review runs the dry run (``CampaignService.preview``); Submit sends that exact preview
once, in a worker (the button disables at once and the preview's batch id makes a second
submit a no-op). Esc goes back one step (or closes) and never changes anything.

Open it with ``open_wizard(app, provider=None, device_ids=(), spec=None)`` or push
``CampaignWizardScreen(session, rows)`` (the console's ``n`` hook).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    Input,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from fota_tui.errors import FotaError
from fota_tui.models import CampaignSpec, Firmware, ProviderKind
from fota_tui.providers.platform import FormField, Platform
from fota_tui.providers.registry import PLATFORMS
from fota_tui.providers.rules import problem
from fota_tui.services.campaigns import (
    CampaignService,
    CampaignSession,
    Preview,
    Problem,
    Submission,
)
from fota_tui.services.fleet import FleetRow
from fota_tui.services.rollouts.plan import wave_sizes
from fota_tui.services.session import ConsoleSession
from fota_tui.tui.screens.wizard_fields import (
    capabilities_text,
    firmware_fields,
    firmware_filters,
    firmware_line,
    schedule_fields,
    target_fields,
)
from fota_tui.tui.screens.wizard_form import (
    STEP_TITLES,
    STEPS,
    TIMES,
    Built,
    WizardForm,
    firmware_fit,
    form_from_spec,
    parse_when,
    resolved_label,
)
from fota_tui.tui.screens.wizard_review import (
    MUTED,
    plain,
    preview_content,
    problem_line,
    submission_content,
)
from fota_tui.tui.screens.wizard_rollout import STAGED, compose_staged, plan_content, read_plan
from fota_tui.tui.screens.wizard_session import (
    campaign_session,
    is_production,
    read_only_reason,
    tell,
)
from fota_tui.tui.widgets.wizard_field import WizardField

if TYPE_CHECKING:
    from fota_tui.services.rollouts.engine import RolloutPlan
    from fota_tui.services.rollouts.plan import WavePlan
    from fota_tui.services.rollouts.record import Rollout
    from fota_tui.tui.app import FotaApp

RESULT = "result"
EDIT_STEPS = ("firmware", "targets", "schedule")
_CHANGES = (Input.Changed, TextArea.Changed, Checkbox.Changed, Select.Changed)


NAME_LABEL = "Campaign name (optional; default: fota-tui <submission id>)"


class CampaignWizardScreen(ModalScreen[bool]):
    """The wizard (see the module docstring). Dismisses with True when something was
    created (the console then refreshes), False otherwise."""

    DEFAULT_CSS = """
    CampaignWizardScreen { align: center middle; }
    CampaignWizardScreen #wizard {
        width: 104; max-width: 98%; height: 92%;
        border: round $primary; background: $surface; padding: 0 1;
        border-title-style: bold;
    }
    CampaignWizardScreen #wiz-steps { height: 1; color: $text-muted; }
    CampaignWizardScreen #wiz-body { height: 1fr; }
    CampaignWizardScreen #wiz-body > VerticalScroll { height: 1fr; padding: 1 1 0 0; }
    CampaignWizardScreen .kind { height: auto; }
    CampaignWizardScreen .intro { color: $text-muted; margin: 0 0 1 0; }
    CampaignWizardScreen #provider-list, CampaignWizardScreen #fw-list {
        height: auto; max-height: 12; margin: 0 0 1 0;
    }
    CampaignWizardScreen #tg-paste { height: 6; }
    CampaignWizardScreen .row { height: auto; }
    CampaignWizardScreen .row > WizardField { width: 1fr; margin-right: 2; }
    CampaignWizardScreen #wiz-blockers { height: auto; max-height: 4; padding: 0 1; }
    CampaignWizardScreen #wiz-buttons { height: auto; align-horizontal: right; }
    CampaignWizardScreen #wiz-buttons Button { margin-left: 2; }
    CampaignWizardScreen #wiz-buttons Button.-textual-compact { height: 1; border: none !important; }
    CampaignWizardScreen #wiz-keys { height: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+n", "next", "Next", priority=True),
        Binding("ctrl+r", "rerun", "Run again", priority=True),
        # The console's c / d would close this screen and lose what was typed.
        Binding("c,d", "stay", show=False),
    ]

    def __init__(
        self,
        session: ConsoleSession,
        devices: Sequence[FleetRow] = (),
        *,
        provider: str | None = None,
        spec: CampaignSpec | None = None,
        campaigns: CampaignSession | None = None,
    ) -> None:
        super().__init__()
        self.console = session
        self.rows = list(devices)
        self.wanted_provider = spec.provider if spec is not None else provider
        self.spec = spec
        self.campaigns = campaigns
        self._own_campaigns = campaigns is None
        self.form = WizardForm()
        self.step = STEPS[0]
        self.built: Built | None = None
        self.unavailable: dict[str, str] = {}  # provider → why it cannot be used
        self._forms: dict[str, WizardForm] = {}  # what was typed for each provider tried
        self.catalogues: dict[str, list[Firmware]] = {}
        self.catalogue_errors: dict[str, str] = {}
        self.loading_firmware = False
        self.preview: Preview | None = None
        self.preview_error: FotaError | None = None
        self.previewing = False
        self.submitting = False
        self.submission: Submission | None = None
        self.submit_error: FotaError | None = None
        self.submits = 0  # submit calls made (the double-submit guard keeps this at 1)
        self._shown: dict[str, object] = {}
        self._bindings_state: tuple[str, bool] | None = None
        # The staged rollout option (wizard_rollout.py): the plan typed, its dry run.
        self.staged = False
        self.wave_plan: WavePlan | None = None
        self.plan_problems: list[Problem] = []
        self.rollout_plan: RolloutPlan | None = None
        self.rollout: Rollout | None = None

    # -- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="wizard") as box:
            box.border_title = "New campaign"
            yield Static(id="wiz-steps", markup=False)
            with ContentSwitcher(id="wiz-body", initial="step-provider"):
                with VerticalScroll(id="step-provider"):
                    yield Static(
                        "Which platform runs this campaign? The devices selected in the table"
                        " are used for the provider they belong to.",
                        classes="intro",
                        markup=False,
                    )
                    yield OptionList(id="provider-list")
                    yield Static(id="provider-about", markup=False)
                with VerticalScroll(id="step-firmware"):
                    yield Vertical(id="fw-filters", classes="kind")
                    yield Static(id="fw-status", markup=False)
                    yield OptionList(id="fw-list")
                    yield Checkbox(
                        "Show every package, not only those that fit the chosen devices",
                        id="fw-all",
                    )
                    yield Vertical(id="fw-kind", classes="kind")
                with VerticalScroll(id="step-targets"):
                    yield Checkbox("Devices selected in the table", id="tg-table")
                    yield WizardField(
                        "Paste device ids (one per line, or separated by commas or spaces)",
                        TextArea(id="tg-paste", soft_wrap=True),
                        ("devices",),
                    )
                    yield WizardField(
                        "CSV file of device ids (first column; optional)",
                        Input(id="tg-csv", placeholder="~/fleet/batch-1.csv"),
                        ("devices_file",),
                    )
                    yield Vertical(id="tg-kind", classes="kind")
                    yield Static(id="tg-summary", markup=False)
                with VerticalScroll(id="step-schedule"):
                    yield WizardField(
                        NAME_LABEL,
                        Input(id="sc-name"),
                        ("name",),
                    )
                    yield Vertical(id="sc-kind", classes="kind")
                    yield from compose_staged()
                with VerticalScroll(id="step-review"):
                    yield Static(id="review-body", markup=False)
                with VerticalScroll(id="step-confirm"):
                    yield Static(id="confirm-body", markup=False)
                    yield WizardField(
                        "Type the profile name to enable Submit",
                        Input(id="confirm-name", placeholder="profile name"),
                        hint="This is a production profile: the campaign reaches real devices.",
                        id="confirm-name-field",
                    )
                with VerticalScroll(id=f"step-{RESULT}"):
                    yield Static(id="result-body", markup=False)
            yield Static(id="wiz-blockers", markup=False)
            with Horizontal(id="wiz-buttons"):
                yield Button("Cancel", id="wiz-cancel")
                yield Button("‹ Back", id="wiz-back")
                yield Button("Next ›", id="wiz-next", variant="primary")
            yield Static(id="wiz-keys", markup=False)

    # -- lifecycle --------------------------------------------------------------------
    @property
    def fota(self) -> FotaApp:
        return self.app  # type: ignore[return-value]

    async def on_mount(self) -> None:
        reason = read_only_reason(self.console)
        if reason is not None:  # never open on a read-only session (and say why)
            tell(self.app, reason, "Read-only", "warning")
            self.dismiss(False)
            return
        if self.campaigns is None:
            self.campaigns = campaign_session(self.app)
        for name in self.console.provider_names:
            try:
                self.campaigns.service(name)
            except FotaError as exc:
                self.unavailable[name] = f"{exc.title}: {exc.message}"
        self.query_one("#confirm-name-field").display = is_production(self.console)
        self._read_staged()
        self._compact()
        await self._fill_providers()
        self._show_step()

    async def on_unmount(self) -> None:
        if self._own_campaigns and self.campaigns is not None:
            await self.campaigns.aclose()

    # -- helpers --------------------------------------------------------------------------
    @property
    def kind(self) -> ProviderKind | None:
        return self.form.kind

    @property
    def platform(self) -> Platform | None:
        return PLATFORMS[self.kind] if self.kind is not None else None

    def _declared(self, control_id: str | None) -> FormField | None:
        return self.form.declared(control_id) if control_id else None

    @property
    def service(self) -> CampaignService | None:
        if not self.form.provider or self.form.provider in self.unavailable:
            return None
        assert self.campaigns is not None
        return self.campaigns.service(self.form.provider)

    def rows_for(self, provider: str) -> list[FleetRow]:
        return [r for r in self.rows if r.provider == provider]

    def _catalogue(self) -> list[Firmware] | None:
        return self.catalogues.get(self.form.provider)

    def now(self) -> Any:
        return self.fota.now()

    def _find(self, selector: str) -> Widget | None:
        try:
            return self.query_one(selector)
        except NoMatches:
            return None

    def _get(self, selector: str, default: Any) -> Any:
        """The value of an input, select, checkbox or text area (``default`` if absent)."""
        widget = self._find(selector)
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Input | Select | Checkbox):
            return widget.value
        return default

    def _put(self, selector: str, value: Any) -> None:
        widget = self._find(selector)
        if isinstance(widget, Input):
            widget.value = value
            widget.cursor_position = len(value)
        elif isinstance(widget, TextArea):
            widget.text = value
        elif isinstance(widget, Select | Checkbox):
            widget.value = value

    def _update(self, selector: str, content: Content | str) -> None:
        """Update a Static only when its content changes (each update repaints)."""
        key = (content.plain, tuple(content.spans)) if isinstance(content, Content) else content
        if self._shown.get(selector) == key:
            return
        widget = self._find(selector)
        if isinstance(widget, Static):
            self._shown[selector] = key
            widget.update(content)

    # -- provider step ---------------------------------------------------------------------
    async def _fill_providers(self) -> None:
        options = []
        kinds = {p.name: p.kind for p in self.console.profile.providers}
        for name in self.console.provider_names:
            count = len(self.rows_for(name))
            why = self.unavailable.get(name)
            parts: list[Content | str | tuple[str, str]] = [
                plain(name, "bold"),
                (f"  {kinds[name].label}", MUTED),
            ]
            if count:
                parts.append(f"  · {count} selected device{'s' if count != 1 else ''}")
            if why:
                parts += [("  · unavailable: ", "$text-error"), plain(why, "$text-error")]
            options.append(Option(Content.assemble(*parts), id=name, disabled=bool(why)))
        listing = self.query_one("#provider-list", OptionList)
        listing.set_options(options)
        choice = self.wanted_provider
        if choice is None:
            usable = [n for n in self.console.provider_names if n not in self.unavailable]
            by_rows = sorted(usable, key=lambda n: -len(self.rows_for(n)))
            choice = by_rows[0] if by_rows else None
        if choice is not None and choice not in self.unavailable:
            with self.prevent(OptionList.OptionHighlighted):
                listing.highlighted = listing.get_option_index(choice)
            await self._choose_provider(choice)

    async def _choose_provider(self, name: str) -> None:
        """Start the form over for ``name``'s platform and mount its fields."""
        if name == self.form.provider or name in self.unavailable:
            return
        kind = next(p.kind for p in self.console.profile.providers if p.name == name)
        if self.form.provider:  # moving on keeps what was typed for this provider
            self._read_form()
            self._forms[self.form.provider] = self.form
        if name in self._forms:
            form = self._forms[name]
        else:
            if self.spec is not None and self.spec.provider == name:
                form = form_from_spec(self.spec, kind)  # its devices are pasted
            else:
                form = WizardForm(provider=name, kind=kind)
            form.table_ids = tuple(r.device_id for r in self.rows_for(name))
            form.use_table = bool(form.table_ids)
            form.set_schedule_defaults(self.now())
        self.form = form
        self.preview = None
        platform = PLATFORMS[kind]
        for selector, fields in (
            ("#fw-filters", firmware_filters(platform)),
            ("#fw-kind", firmware_fields(platform)),
            ("#tg-kind", target_fields(platform, self.console.capabilities(name))),
            ("#sc-kind", schedule_fields(platform)),
        ):
            container = self.query_one(selector)
            await container.remove_children()
            await container.mount_all(fields)
        self.query_one("#wizard").border_title = f"New campaign · {name} ({kind.label})"
        self._label_name(name, kind)
        self._write_form()
        svc = self.service
        if svc is not None:
            self._update("#provider-about", capabilities_text(svc))
        self._revalidate()

    @on(OptionList.OptionHighlighted, "#provider-list")
    async def _provider_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            await self._choose_provider(event.option.id)

    @on(OptionList.OptionSelected, "#provider-list")
    async def _provider_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            await self._choose_provider(event.option.id)
            self.action_next()

    # -- form <-> widgets ---------------------------------------------------------------
    def _write_form(self) -> None:
        """Put the form's values into the widgets (without change events)."""
        f = self.form
        with self.prevent(*_CHANGES):
            for selector, value in (
                ("#tg-table", f.use_table),
                ("#tg-paste", f.pasted),
                ("#tg-csv", f.csv_path),
                ("#tg-groups", f.groups),
                ("#tg-split", f.split),
                ("#sc-name", f.name),
            ):
                self._put(selector, value)
            for item in f.fields:
                self._put(f"#{item.key}", f[item.key])
            table = self.query_one("#tg-table", Checkbox)
            table.disabled = not f.table_ids
            count = len(f.table_ids)
            table.label = (
                f"Devices selected in the table ({count})"
                if count
                else "Devices selected in the table (none for this provider)"
            )
        self._sync_enabled()

    def _read_form(self) -> None:
        f = self.form
        for item in f.fields:
            f[item.key] = self._get(f"#{item.key}", f[item.key])
        f.use_table = bool(self._get("#tg-table", False)) and bool(f.table_ids)
        f.pasted = self._get("#tg-paste", "")
        f.csv_path = self._get("#tg-csv", "")
        f.groups = self._get("#tg-groups", "")
        f.split = bool(self._get("#tg-split", False))
        f.name = self._get("#sc-name", "")

    def _sync_enabled(self) -> None:
        """Fields that do not apply to the current choices are disabled."""
        for item in self.form.fields:
            if item.when is not None and (widget := self._find(f"#{item.key}")) is not None:
                widget.disabled = not self.form.applies(item)

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _field_changed(self, event: Any) -> None:
        control = getattr(event, "control", None)
        control_id = control.id if control is not None else None
        if control_id == "confirm-name":
            self._update_buttons()
            return
        if control_id == "fw-all":
            self._fill_firmware()
            return
        if control_id == STAGED or (control_id or "").startswith("ro-"):
            self._read_staged()
            self.preview = None
            self._update_buttons()
            return
        if not self.form.provider or self.submitting or self.submission is not None:
            return
        self._read_form()
        item = self._declared(control_id)
        if item is not None and item.above_list:
            self._fill_firmware()
        if any(f.when is not None and f.when[0] == control_id for f in self.form.fields):
            self._sync_enabled()
        if item is not None and item.kind in TIMES:
            self._show_resolved(item)
        self.preview = None  # anything edited makes the dry run stale
        self._revalidate()

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "confirm-name" and self._can_next():
            self._submit()
        else:
            self.focus_next()

    # -- validation ---------------------------------------------------------------------
    def _show_resolved(self, item: FormField) -> None:
        """A typed time, resolved as you type: in UTC and in the platform's own zone."""
        control = self.query_one(f"#{item.key}", Input)
        field = control.parent
        if not isinstance(field, WizardField):
            return
        hint = item.hint
        if control.value.strip():
            value, _ = parse_when(control.value, self.now())
            if value is not None:
                caps = self.console.capabilities(self.form.provider)
                hint = resolved_label(value, caps.local_time if caps else None)
        field.set_hint(hint)

    def _revalidate(self) -> None:
        svc = self.service
        if svc is None:
            self.built = None
        else:
            catalogue = self._catalogue()
            self.built = self.form.build(
                self.now(),
                lambda spec: svc.check(spec, firmware=catalogue),
                catalogue=catalogue,
                cwd=Path.cwd(),
            )
        problems = self.built.problems if self.built is not None else []
        for step in EDIT_STEPS:
            for row in self.query_one(f"#step-{step}").query(WizardField):
                row.show(problems)
        self._update_targets_summary()
        self._update_chosen_firmware()
        if self.staged:
            self._read_staged()
        self._update_buttons()

    def _blocking(self) -> list[Problem]:
        if self.built is None or self.step not in ("provider", *EDIT_STEPS):
            return []
        staged = self.plan_problems if self.staged and self.step == "schedule" else []
        return [*self.built.blocking(self.step), *staged]

    def _read_staged(self) -> None:
        """The staged rollout's fields: shown when chosen, read and checked as typed."""
        self.staged = bool(self._get(f"#{STAGED}", False))
        waves = self._find("#sc-waves")
        if waves is not None:
            waves.display = self.staged
        self.wave_plan, self.plan_problems = read_plan(lambda c: str(self._get(f"#{c}", "")))
        targets = self.built.targets.ids if self.built is not None else ()
        if self.wave_plan is not None and targets:  # the waves must fit the devices chosen
            _, sizes = wave_sizes(self.wave_plan.waves, len(targets))
            self.plan_problems += [problem(k, "rollout.waves", t) for k, t in sizes]
        shown = self.plan_problems if self.staged else []
        for row in self.query_one("#sc-waves").query(WizardField):
            row.show(shown)

    def _can_next(self) -> bool:
        step = self.step
        if self.submitting:
            return False
        if step == "provider":
            return self.service is not None
        if step in EDIT_STEPS:
            if step == "firmware" and self.loading_firmware:
                return False
            return self.built is not None and self.built.spec is not None and not self._blocking()
        if step == "review":
            return self.preview is not None and self.preview.ok and not self.previewing
        if step == "confirm":
            if self.preview is None or not self.preview.ok or self.submission is not None:
                return False
            if is_production(self.console):
                typed = self.query_one("#confirm-name", Input).value.strip()
                return typed == self.console.profile.name
            return True
        return step == RESULT

    def _update_buttons(self) -> None:
        next_button = self.query_one("#wiz-next", Button)
        back = self.query_one("#wiz-back", Button)
        cancel = self.query_one("#wiz-cancel", Button)
        next_button.disabled = not self._can_next()
        created = self.submission is not None and bool(self.submission.campaign_ids)
        labels = {
            "review": "Continue ›",
            "confirm": "Submit",
            RESULT: "Open progress ›" if created else "Close",
        }
        next_button.label = labels.get(self.step, "Next ›")
        next_button.variant = "error" if self.step == "confirm" else "primary"
        back.disabled = self.submitting or self.step == "provider"
        back.display = self.step != RESULT or self._result_can_go_back()
        cancel.disabled = self.submitting
        cancel.display = self.step != RESULT
        self._update("#wiz-blockers", self._blockers())
        self._update("#wiz-keys", self._keys())
        state = (self.step, next_button.disabled)
        if state != self._bindings_state:  # ctrl+n follows Next (only when it changes)
            self._bindings_state = state
            self.refresh_bindings()

    def _blockers(self) -> Content | str:
        """The line above the buttons: what keeps Next disabled, or what happens next."""
        step = self.step
        blocking = self._blocking()
        if blocking:
            more = f"  (+{len(blocking) - 1} more above)" if len(blocking) > 1 else ""
            labels = {
                f: field.label.split(" (", 1)[0]
                for field in self.query(WizardField)
                for f in field.fields
            }
            line = problem_line(blocking[0], prefix="Next is disabled: ", labels=labels)
            return line + Content.styled(more, MUTED)
        if step == "firmware" and self.loading_firmware:
            return Content.styled("Loading the firmware list…", MUTED)
        if step == "provider" and self.service is None:
            return Content.styled("Choose an available provider.", "$text-error")
        if step == "review" and self.previewing:
            return Content.styled("Running the dry run…", MUTED)
        if step == "review" and self.preview is not None and not self.preview.ok:
            return Content.styled(
                "The dry run found problems: go back (Esc) and fix them; nothing is sent"
                " until the preview is clean.",
                "$text-error",
            )
        if step == "confirm" and self.submitting:
            return Content.styled("Submitting… waiting for the platform's answer", MUTED)
        if step == "confirm" and is_production(self.console) and not self._can_next():
            return Content.assemble(
                ("Submit is disabled until you type the profile name ", "$text-warning"),
                plain(self.console.profile.name, "bold"),
            )
        if step in ("provider", *EDIT_STEPS):
            return Content.styled("✓ This step is complete. Next: ctrl+n", "$text-success")
        return ""

    def _keys(self) -> Content:
        """The key line at the bottom (a footer would recompose on every focus change)."""
        step = self.step
        created = self.submission is not None and bool(self.submission.campaign_ids)
        keys: list[tuple[str, str]] = {
            "provider": [("↑/↓", "choose"), ("enter", "choose and go on"), ("esc", "cancel")],
            "firmware": [("↑/↓", "choose"), ("ctrl+n", "next"), ("ctrl+r", "reload the list")],
            "targets": [("tab", "next field"), ("ctrl+n", "next")],
            "schedule": [("tab", "next field"), ("ctrl+n", "next")],
            "review": [("↑/↓", "scroll"), ("ctrl+n", "continue"), ("ctrl+r", "run again")],
            "confirm": (
                [("type the name", ""), ("enter", "submit")]
                if is_production(self.console)
                else [("tab", "to Submit"), ("enter", "submit")]
            ),
            RESULT: [("ctrl+n", "open the progress" if created else "close")],
        }.get(step, [])
        if step not in ("provider", RESULT):
            keys.append(("esc", "back"))
        elif step == RESULT:
            keys.append(("esc", "back" if self._result_can_go_back() else "close"))
        parts: list[Content] = []
        for key, what in keys:
            parts.append(Content.assemble((key, "bold $accent"), (f" {what}" if what else "", "")))
        return Content("  ·  ").join(parts)

    # -- step navigation --------------------------------------------------------------
    def _label_name(self, provider: str, kind: ProviderKind) -> None:
        """Where the platform names campaigns itself, the name is fota-tui's only: say so."""
        caps = self.console.capabilities(provider)
        named = caps.campaign_names if caps else True
        label = (
            NAME_LABEL
            if named
            else (
                f"Campaign name (kept by fota-tui only: {kind.label} names its campaigns itself;"
                " shown next to the platform's name)"
            )
        )
        field = self.query_one("#sc-name").parent
        if isinstance(field, WizardField):
            field.set_label(label)

    def _compact(self) -> None:
        """One line per input, list and button (no tall borders): every step, its labels
        and the step bar fit 80x24. Focus shows as the widget's background."""
        for widget in self.query("Input, Button, Select, OptionList, Checkbox, TextArea"):
            if hasattr(widget, "compact"):
                widget.compact = True

    def _show_step(self) -> None:
        self.query_one("#wiz-body", ContentSwitcher).current = f"step-{self.step}"
        marks = []
        for index, step in enumerate(STEPS, 1):
            title = f"{index} {STEP_TITLES[step]}"
            current = step == self.step
            marks.append(Content.styled(f"[{title}]", "bold $text-accent") if current else title)
        if self.step == RESULT:
            marks.append(Content.styled("[Result]", "bold $text-accent"))
        self._update("#wiz-steps", Content(" › ").join(marks))
        if self.step == "firmware":
            self._enter_firmware()
        elif self.step == "review":
            self._run_preview()
        elif self.step == "confirm":
            self._fill_confirm()
        self._update_buttons()
        self._compact()  # widgets a step mounted since
        self.call_after_refresh(self._focus_step)

    def _focus_step(self) -> None:
        if self.step == "confirm" and not is_production(self.console):
            # Never leave focus on Submit: a double Enter or ctrl+n from Review must not send.
            self.query_one("#wiz-back", Button).focus()
            return
        listing = self.query_one("#fw-list", OptionList)
        if self.step == "firmware" and listing.display and listing.option_count:
            listing.focus()  # the list is what this step is about
            return
        if self.step in ("review", RESULT):
            self.query_one(f"#step-{self.step}").focus()  # ↑/↓ and PgUp/PgDn scroll it
            return
        container = self.query_one(f"#step-{self.step}")
        for widget in container.query("*"):
            if widget.focusable and _shown(widget, container):
                widget.focus()
                return
        next_button = self.query_one("#wiz-next", Button)
        if not next_button.disabled:
            next_button.focus()

    def _go(self, step: str) -> None:
        self.step = step
        self._show_step()

    def action_next(self) -> None:
        """ctrl+n: the next step. It never submits: Submit is pressed on purpose."""
        if not self._can_next() or self.step == "confirm":
            self._update_buttons()
            return
        if self.step != RESULT:
            self._go(STEPS[STEPS.index(self.step) + 1])
        elif self.submission is not None and self.submission.campaign_ids and self.service:
            self._open_progress(self.service, self.submission)
        else:
            self._close()

    def action_back(self) -> None:
        if self.submitting:
            tell(
                self.app,
                "Submitting: wait for the platform's answer (a send cannot be recalled).",
                "Please wait",
                "warning",
            )
            return
        if self.step == RESULT:
            if self._result_can_go_back():
                self.submission, self.submit_error = None, None
                self._go("review")
            else:
                self._close()
        elif self.step == "provider":
            self.dismiss(False)
        else:
            self._go(STEPS[STEPS.index(self.step) - 1])

    def action_stay(self) -> None:
        """Keys that would leave the wizard behind do nothing here (Esc leaves)."""

    def action_rerun(self) -> None:
        if self.step == "review" and not self.previewing:
            self._run_preview()
        elif self.step == "firmware" and not self.loading_firmware:
            self.catalogues.pop(self.form.provider, None)
            self._enter_firmware()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rerun":
            return self.step in ("review", "firmware")
        if action == "next":
            return True if self._can_next() and self.step != "confirm" else None
        return True

    @on(Button.Pressed, "#wiz-next")
    def _next_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.step != "confirm":
            self.action_next()
        elif self._can_next():
            self._submit()

    @on(Button.Pressed, "#wiz-back")
    def _back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    @on(Button.Pressed, "#wiz-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if not self.submitting:
            self._close()

    def _close(self) -> None:
        created = self.submission is not None and bool(self.submission.campaign_ids)
        self.dismiss(created)

    # -- firmware step ------------------------------------------------------------------
    def _enter_firmware(self) -> None:
        provider = self.form.provider
        if provider in self.catalogues:
            self.loading_firmware = False  # a load for another provider may have been cut off
            self._fill_firmware()
            return
        self.loading_firmware = True
        self._update(
            "#fw-status", Content.styled(f"Loading the firmware list from {provider}…", MUTED)
        )
        self.query_one("#fw-list", OptionList).clear_options()
        self.run_worker(
            self._load_firmware(provider),
            group="wizard-firmware",
            exclusive=True,
            exit_on_error=False,
        )

    async def _load_firmware(self, provider: str) -> None:
        assert self.campaigns is not None
        try:
            catalogue = await self.campaigns.service(provider).firmware()
        except FotaError as exc:
            self.catalogue_errors[provider] = f"{exc.title}: {exc.message}"
            catalogue = None
        else:
            self.catalogue_errors.pop(provider, None)
        if provider != self.form.provider:
            return
        self.loading_firmware = False
        if catalogue is not None:
            self.catalogues[provider] = catalogue
        self._fill_firmware()
        self.call_after_refresh(self._focus_step)

    def _fitting(self) -> tuple[list[tuple[Firmware, int]], int, bool]:
        """(firmware with fit counts, how many devices were matched, filtered?)."""
        catalogue = list(self._catalogue() or [])
        for item in (f for f in self.form.fields if f.above_list):  # by file type
            wanted = str(self.form[item.key])
            catalogue = [f for f in catalogue if (f.file_type or "").startswith(wanted)]
        models = [r.model for r in self.rows_for(self.form.provider) if r.model]
        scored = [(f, firmware_fit(f, models)) for f in catalogue]
        filtered = bool(models) and not self._show_all and any(n for _, n in scored)
        if filtered:
            scored = [(f, n) for f, n in scored if n]
        scored.sort(key=lambda item: -item[1])
        return scored, len(models), filtered

    @property
    def _show_all(self) -> bool:
        return bool(self.query_one("#fw-all", Checkbox).value)

    def _fill_firmware(self) -> None:
        provider = self.form.provider
        scored, models, filtered = self._fitting()
        width = min(max((len(f.name) for f, _ in scored), default=0), 48)
        listing = self.query_one("#fw-list", OptionList)
        listing.set_options(
            Option(firmware_line(fw, fits, models, width), id=fw.firmware_id) for fw, fits in scored
        )
        listing.display = bool(scored)
        # "Show every package" only where the list can be filtered by the devices' model.
        self.query_one("#fw-all").display = bool(models) and (filtered or self._show_all)
        total = len(self._catalogue() or [])
        if provider in self.catalogue_errors:
            self._update(
                "#fw-status",
                Content.assemble(
                    ("Could not read the firmware list: ", "$text-error"),
                    plain(self.catalogue_errors[provider], "$text-error"),
                    (" (ctrl+r tries again)", MUTED),
                ),
            )
        else:
            typed = self.platform is not None and self.platform.typed_firmware
            what = self.platform.catalogue_noun if self.platform is not None else "packages"
            text = f"{len(scored)} of {total} {what}" if total else f"No {what} listed."
            if filtered:
                text += f" fit the {models} chosen devices (by model)"
            if scored and typed:
                text += " · Enter copies one into the fields below"
            elif scored:
                text += " · ↑/↓ chooses"
            self._update("#fw-status", Content.styled(text, MUTED))
        if not self._typed:
            ids = [fw.firmware_id for fw, _ in scored]
            known = self._catalogue() is not None  # a pre-filled choice waits for the list
            if known and self.form.firmware not in ids:
                self.form.firmware = ""  # not offered here (the other file type, or unknown)
            with self.prevent(OptionList.OptionHighlighted):
                listing.highlighted = (
                    ids.index(self.form.firmware) if self.form.firmware in ids else None
                )
        self._revalidate()

    @on(OptionList.OptionHighlighted, "#fw-list")
    def _firmware_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if not self._typed and event.option.id and event.option.id != self.form.firmware:
            self.form.firmware = event.option.id
            self.preview = None
            self._revalidate()

    @on(OptionList.OptionSelected, "#fw-list")
    def _firmware_selected(self, event: OptionList.OptionSelected) -> None:
        fw = next((f for f in self._catalogue() or [] if f.firmware_id == event.option.id), None)
        if fw is None:
            return
        if not self._typed:
            self.form.firmware = fw.firmware_id
            self._revalidate()
            self.action_next()
            return
        fill = self.platform.from_catalogue if self.platform is not None else None
        for target, value in (fill(fw) if fill is not None else {}).items():
            for item in (f for f in self.form.fields if f.target == target):
                self._put(f"#{item.key}", value)

    @property
    def _typed(self) -> bool:
        """Whether the firmware is typed (and the list only suggests), not chosen."""
        return self.platform is not None and self.platform.typed_firmware

    def _update_chosen_firmware(self) -> None:
        if self._typed:
            return
        fw = next((f for f in self._catalogue() or [] if f.firmware_id == self.form.firmware), None)
        if fw is not None:
            self._update("#fw-chosen", firmware_line(fw, None, 0))
        elif self.form.firmware:
            self._update("#fw-chosen", plain(self.form.firmware))
        else:
            self._update(
                "#fw-chosen", Content.styled("none yet: choose one in the list (↑/↓)", MUTED)
            )

    # -- targets step --------------------------------------------------------------------
    def _update_targets_summary(self) -> None:
        if self.built is None:
            return
        t = self.built.targets
        text = f"{len(t.ids)} device{'s' if len(t.ids) != 1 else ''}"
        sources = [
            f"{n} {what}"
            for n, what in (
                (t.from_table, "from the table"),
                (t.pasted, "pasted"),
                (t.from_file, "from the file"),
            )
            if n
        ]
        if sources:
            text += ": " + ", ".join(sources)
        if t.duplicates:
            text += f" · {t.duplicates} duplicate{'s' if t.duplicates != 1 else ''} removed"
        if t.groups:
            text += f" · {len(t.groups)} device group(s)"
        svc = self.service
        cap = svc.capabilities.max_targets_per_campaign if svc is not None else None
        over = bool(cap and len(t.ids) > cap)
        if cap and over:
            jobs = -(-len(t.ids) // cap)
            text += f" · more than {cap}: " + (
                f"split into {jobs} tasks" if self.form.split else "tick the split box or shorten"
            )
        self._update("#tg-summary", text)
        split = self._find("#tg-split")
        if split is not None:
            split.display = over or self.form.split

    # -- review step ----------------------------------------------------------------------
    def _run_preview(self) -> None:
        built, svc = self.built, self.service
        if built is None or built.spec is None or svc is None:
            return
        self.preview = None
        self.preview_error = None
        self.previewing = True
        if self.staged and self.wave_plan is not None:
            self._update(
                "#review-body",
                Content.styled("Planning the waves against the platform. Nothing is sent.", MUTED),
            )
            self.run_worker(
                self._plan_rollout(built.spec, self.wave_plan),
                group="wizard-preview",
                exclusive=True,
                exit_on_error=False,
            )
            self._update_buttons()
            return
        self._update(
            "#review-body",
            Content.styled(
                f"Running the dry run against {svc.name}: reading the firmware list, the"
                " devices and their current upgrades. Nothing is sent.",
                MUTED,
            ),
        )
        self.run_worker(
            self._preview(svc, built.spec, self.form.split),
            group="wizard-preview",
            exclusive=True,
            exit_on_error=False,
        )
        self._update_buttons()

    async def _preview(self, svc: CampaignService, spec: CampaignSpec, split: bool) -> None:
        async def run() -> Content:
            preview = await svc.preview(spec, split=split)
            self.preview = preview
            return preview_content(preview)

        await self._review(run, "The dry run")

    async def _plan_rollout(self, spec: CampaignSpec, plan: WavePlan) -> None:
        async def run() -> Content:
            planned = await self.fota.rollouts.engine.plan(spec, plan)
            self.rollout_plan = planned
            self.preview = planned.first if planned.ok else None
            return plan_content(planned)

        await self._review(run, "The plan")

    async def _review(self, run: Callable[[], Awaitable[Content]], what: str) -> None:
        """Fill the review with what ``run`` read (a failure is shown, nothing is sent)."""
        try:
            content = await run()
        except FotaError as exc:
            self.preview_error = exc
            content = Content.assemble(
                (f"{what} could not finish: ", "bold $text-error"),
                plain(f"{exc.title}: {exc.message}", "$text-error"),
                ("\nNothing was sent. ctrl+r runs it again; Esc goes back.", MUTED),
            )
        finally:
            self.previewing = False
        self._update("#review-body", content)
        self._update_buttons()

    # -- confirm and submit ------------------------------------------------------------
    def _fill_confirm(self) -> None:
        preview = self.preview
        if preview is None:
            return
        planned = self.rollout_plan if self.staged else None
        if planned is not None:
            devices = sum(len(w) for w in planned.waves)
            head = "Start this staged rollout on "
            body = [
                Content(
                    f"{devices} devices in {len(planned.waves)} waves; wave 1"
                    f" ({len(planned.waves[0])} devices) is sent now"
                ),
                Content.styled(planned.plan.summary(), MUTED),
                Content.styled(
                    "The console (or 'fota-tui rollout run') starts each next wave only when"
                    " the one before succeeded and soaked; every wave is sent exactly once.",
                    MUTED,
                ),
            ]
        else:
            devices = sum(len(p.devices) for p in preview.parts)
            jobs = len(preview.parts)
            what = (
                f"{devices} device{'s' if devices != 1 else ''}" if devices else "the device groups"
            )
            head = "Send this campaign to "
            body = [
                Content(f"{what} in {jobs} job{'s' if jobs != 1 else ''}"),
                Content.assemble(("submission ", MUTED), plain(preview.batch_id)),
                Content.styled(
                    "The journal records the submission before it is sent; if the answer is"
                    " lost, fota-tui checks the platform instead of sending again.",
                    MUTED,
                ),
            ]
        profile = self.console.profile
        production = is_production(self.console)
        lines = [
            Content.assemble(
                (head, "bold"),
                plain(f"{preview.provider} ({preview.kind.label})", "bold"),
                ("?", "bold"),
            ),
            Content.assemble(
                ("profile ", MUTED),
                plain(profile.name),
                (f" ({profile.environment})", "bold $text-error" if production else MUTED),
            ),
            Content.assemble(("firmware ", MUTED), plain(preview.spec.firmware)),
            *body,
            Content(""),
            Content.styled(
                "Type the profile name, then Enter."
                if production
                else "Tab to Submit and press Enter (or click it). Esc goes back.",
                "bold",
            ),
        ]
        self._update("#confirm-body", Content("\n").join(lines))
        self._put("#confirm-name", "")

    def _submit(self) -> None:
        """Send the reviewed preview, once: the flag and the disabled button guard the
        screen, the preview's batch id guards the journal."""
        preview, svc = self.preview, self.service
        if self.submitting or self.submission is not None or preview is None or svc is None:
            return
        self.submitting = True
        self._update_buttons()
        self.run_worker(self._send(svc, preview), group="wizard-submit", exit_on_error=False)

    async def _send(self, svc: CampaignService, preview: Preview) -> None:
        self.submits += 1
        if self.staged and self.rollout_plan is not None:
            await self._start_rollout(self.rollout_plan)
            return
        try:
            submission = await svc.submit(preview)
        except FotaError as exc:  # nothing was sent (blocked, or the preview went stale)
            self.submit_error = exc
            self.submitting = False
            self._update(
                "#result-body",
                Content.assemble(
                    ("Not sent: ", "bold $text-error"),
                    plain(f"{exc.title}: {exc.message}", "$text-error"),
                    ("\nEsc goes back to the review to run the dry run again.", MUTED),
                ),
            )
            self._go(RESULT)
            return
        self.submission = submission
        self.submitting = False
        if self.console.running:
            self.console.refresh_now(svc.name)
        reconciled = any(e.reconciled for e in submission.entries)
        if submission.outcome == "created" and submission.campaign_ids and not reconciled:
            self._open_progress(svc, submission)
            return
        # Anything else (a lost answer that was reconciled, a rejection, a partial or
        # unknown outcome) is shown as it is before going anywhere.
        self._update("#result-body", submission_content(submission))
        self._go(RESULT)

    async def _start_rollout(self, planned: RolloutPlan) -> None:
        """Record the rollout and step it once (wave 1 is sent), then show it."""
        rollouts = self.fota.rollouts
        try:
            rollout = rollouts.engine.create(planned)
            result = await rollouts.engine.step(rollout.rollout_id, None)
        except FotaError as exc:
            self.submit_error = exc
            self.submitting = False
            self._update(
                "#result-body",
                Content.assemble(
                    ("Not started: ", "bold $text-error"),
                    plain(f"{exc.title}: {exc.message}", "$text-error"),
                ),
            )
            self._go(RESULT)
            return
        self.rollout = result.rollout
        self.submitting = False
        said = "; ".join(result.decisions) or result.rollout.waiting or "recorded"
        app = self.fota
        app.say(f"{rollout.rollout_id}: {said}", "Rollout started")
        if self.console.running:
            self.console.refresh_now(planned.spec.provider)
        self.dismiss(True)
        app.rollouts_changed(planned.spec.provider)
        app.call_later(app.action_campaigns)

    def _result_can_go_back(self) -> bool:
        if self.submit_error is not None:
            return True
        return self.submission is not None and self.submission.outcome == "failed"

    def _open_progress(self, svc: CampaignService, submission: Submission) -> None:
        """Close the wizard and show the new campaign's live progress."""
        from fota_tui.tui.screens.campaigns import CampaignDetailScreen

        ids = submission.campaign_ids
        app = self.fota
        more = f" (+{len(ids) - 1} more: {', '.join(ids[1:])})" if len(ids) > 1 else ""
        app.say(f"Campaign {ids[0]} created on {svc.name}{more}.", "Campaign created")
        self.dismiss(True)
        app.call_later(app.push_screen, CampaignDetailScreen(svc.name, ids[0]))


def _shown(widget: Widget, root: Widget) -> bool:
    """Whether ``widget`` and every ancestor up to ``root`` are displayed and enabled."""
    node: Any = widget
    while node is not None and node is not root:
        if not node.display or getattr(node, "disabled", False):
            return False
        node = node.parent
    return True


# -- entry point -----------------------------------------------------------------------
def open_wizard(
    app: Any,
    provider: str | None = None,
    device_ids: Sequence[str | FleetRow] = (),
    spec: CampaignSpec | None = None,
) -> CampaignWizardScreen | None:
    """Open the wizard over ``app`` (a ``FotaApp``); None when it may not open.

    ``device_ids`` are rows or ids (looked up in the fleet store; ids it does not know
    are pasted into the targets); ``spec`` pre-fills every step (retry failed).
    """
    console: ConsoleSession = app.session
    reason = read_only_reason(console)
    if reason is not None:
        tell(app, reason, "Read-only", "warning")
        return None
    known: dict[str, FleetRow] = {}
    for row in console.store:
        if provider is None or row.provider == provider:
            known.setdefault(row.device_id, row)
    rows: list[FleetRow] = []
    unknown: list[str] = []
    for item in device_ids:
        if isinstance(item, FleetRow):
            rows.append(item)
        elif item in known:
            rows.append(known[item])
        else:
            unknown.append(item)
    if unknown and spec is None and provider is not None:
        spec = CampaignSpec(provider=provider, firmware="", devices=unknown)
    screen = CampaignWizardScreen(console, rows, provider=provider, spec=spec)

    def done(created: bool | None) -> None:
        if created and console.running:
            console.refresh_now()

    app.push_screen(screen, done)
    return screen

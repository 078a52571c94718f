"""One labelled field of the campaign wizard, with its inline problems under it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from fota_tui.services.campaigns import Problem
from fota_tui.tui.screens.wizard_form import field_matches
from fota_tui.tui.screens.wizard_review import problems_content


class WizardField(Vertical):
    """A label, a control, an optional hint and the problems of ``fields``.

    ``fields`` are the spec fields the control edits (``devices`` also takes
    ``devices[3]``); ``show`` picks their problems out of a step's problems, marks the
    control invalid and lists each message with its rule.
    """

    DEFAULT_CSS = """
    WizardField { height: auto; margin: 0 0 1 0; }
    WizardField > .wf-label { color: $text; text-style: bold; }
    WizardField > .wf-hint { color: $text-muted; }
    WizardField > .wf-hint.-empty { display: none; }
    WizardField > .wf-error { color: $text-error; height: auto; }
    WizardField > .wf-error.-empty { display: none; }
    """

    def __init__(
        self,
        label: str,
        control: Widget,
        fields: Sequence[str] = (),
        *,
        hint: str = "",
        classes: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(classes=classes, id=id)
        self.label = label
        self.control = control
        self.fields = tuple(fields)
        self.hint = hint
        self.problems: list[Problem] = []
        self._shown = False

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="wf-label", markup=False)
        yield self.control
        yield Static(self.hint, classes="wf-hint", markup=False)
        control_id = self.control.id or "field"
        yield Static("", classes="wf-error -empty", id=f"{control_id}-error", markup=False)

    def set_label(self, label: str) -> None:
        self.label = label
        if self.is_mounted:
            self.query_one(".wf-label", Static).update(label)

    def set_hint(self, hint: str) -> None:
        self.hint = hint
        if self.is_mounted:
            for widget in self.query(".wf-hint").results(Static):
                widget.update(hint)
                widget.set_class(not hint, "-empty")

    def on_mount(self) -> None:
        self.query_one(".wf-hint", Static).set_class(not self.hint, "-empty")

    def mine(self, problems: Sequence[Problem]) -> list[Problem]:
        return [p for p in problems if any(field_matches(p.field, f) for f in self.fields)]

    def show(self, problems: Sequence[Problem]) -> list[Problem]:
        """Show this field's problems (returns them)."""
        mine = self.mine(problems)
        if mine == self.problems and self._shown:
            return mine  # unchanged: no repaint
        self.problems, self._shown = mine, True
        error = self.query_one(".wf-error", Static)
        error.update(problems_content(self.problems) if self.problems else Content(""))
        error.set_class(not self.problems, "-empty")
        self.control.set_class(bool(self.problems), "-invalid")
        return self.problems

"""The wizard's "staged rollout" option (schedule step): the wave plan's fields, read and
checked as the ``[rollout]`` table of a rollout file is, and the plan shown in review."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Checkbox, Input

from fota_tui.providers.rules import Problem, problem
from fota_tui.services.rollouts.engine import RolloutPlan
from fota_tui.services.rollouts.plan import (
    DEFAULT_FAILURE,
    DEFAULT_SUCCESS,
    WavePlan,
    duration_text,
    parse_plan,
)
from fota_tui.text import devices_text
from fota_tui.tui.screens.wizard_review import preview_content
from fota_tui.tui.text import literal
from fota_tui.tui.widgets.wizard_field import WizardField

STAGED = "sc-staged"
# control id → (key of the [rollout] table, label, default)
FIELDS = {
    "ro-waves": ("waves", "Waves (cumulative: shares or counts)", "1%, 10%, 50%, 100%"),
    "ro-success": ("success", "Success % before the next wave", f"{DEFAULT_SUCCESS:g}"),
    "ro-failure": ("failure", "Failed % that halts", f"{DEFAULT_FAILURE:g}"),
    "ro-soak": ("soak", "Soak after success", "1h"),
    "ro-timeout": ("wave_timeout", "Wave time-out", "1d"),
}
MUTED = "$text-muted"


def compose_staged() -> Iterator[Widget]:
    yield Checkbox(
        "Staged rollout: send in waves, each started only when the one before succeeded",
        id=STAGED,
    )
    with Vertical(id="sc-waves", classes="kind"):
        key, label, default = FIELDS["ro-waves"]
        yield WizardField(label, Input(value=default, id="ro-waves"), (f"rollout.{key}",))
        with Horizontal(classes="row"):
            for control_id in ("ro-success", "ro-failure", "ro-soak", "ro-timeout"):
                key, label, default = FIELDS[control_id]
                yield WizardField(label, Input(value=default, id=control_id), (f"rollout.{key}",))


def _number(text: str) -> Any:
    if text.isdigit():
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def read_plan(value: Callable[[str], str]) -> tuple[WavePlan | None, list[Problem]]:
    """The plan typed into the fields (``value(control_id)``), or its problems."""
    table: dict[str, Any] = {}
    for control_id, (key, _, _) in FIELDS.items():
        text = value(control_id).strip()
        if key == "waves":
            table[key] = [w if w.endswith("%") else _count(w) for w in _items(text)]
        elif key in ("success", "failure"):
            table[key] = _number(text)
        else:
            table[key] = text
    plan, found = parse_plan(table)
    problems = [problem(key, "rollout.plan", text) for key, text in found]
    return plan, problems


def _items(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _count(text: str) -> Any:
    return int(text) if text.isdigit() else text


def plan_content(planned: RolloutPlan) -> Content:
    """The rollout's dry run: its waves, then wave 1's campaign as a campaign's is shown."""
    plan = planned.plan
    lines = [
        Content.styled(f"Staged rollout of {sum(len(w) for w in planned.waves)} devices", "bold"),
        Content.styled(
            f"the next wave starts at ≥ {plan.success:g} % success after a soak of"
            f" {duration_text(plan.soak)}; it halts at > {plan.failure:g} % failed or after"
            f" {duration_text(plan.wave_timeout)} short of success",
            MUTED,
        ),
    ]
    reached = 0
    for index, members in enumerate(planned.waves, 1):
        reached += len(members)
        lines.append(Content(f"  wave {index}: {devices_text(len(members))} (reaches {reached})"))
    for item in planned.problems:
        lines.append(literal(item.message).stylize("$text-error"))
    if planned.first is not None:
        lines += [Content(""), Content.styled("Wave 1, sent when you submit:", "bold")]
        lines.append(preview_content(planned.first))
    return Content("\n").join(lines)

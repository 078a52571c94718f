"""The campaign wizard's form: what the operator typed, turned into a ``CampaignSpec``.

No Textual here. ``WizardForm`` holds the raw field values of every step; ``build``
parses them (times, hour windows, ids, a CSV file) and runs the platform's rules
(``CampaignService.check``), so each step can show every problem next to its field and
keep Next disabled while a problem of that step (or an earlier one) remains.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fota_tui.models import CampaignSpec, Firmware, ProviderKind
from fota_tui.providers.platform import FormField
from fota_tui.providers.registry import PLATFORMS
from fota_tui.providers.rules import too_many_targets
from fota_tui.services.campaigns.problems import Problem, problem
from fota_tui.services.campaigns.specfile import parse_time, read_id_file

STEPS = ("provider", "firmware", "targets", "schedule", "review", "confirm")
STEP_TITLES = {
    "provider": "Provider",
    "firmware": "Firmware",
    "targets": "Targets",
    "schedule": "Schedule & policy",
    "review": "Review (dry run)",
    "confirm": "Confirm",
}
# The spec fields each editable step owns (a problem of ``devices[3]`` belongs to
# ``devices``): the shared ones, and every platform's declared fields.
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "provider": ("provider",),
    "firmware": ("firmware", "firmware_to", "firmware_from"),
    "targets": ("devices", "device_groups", "devices_file"),
    "schedule": ("name",),
}
for _platform in PLATFORMS.values():
    for _item in _platform.fields:
        STEP_FIELDS[_item.step] += (_item.target, *_item.also)
    for _target, _step in _platform.derived_steps:
        STEP_FIELDS[_step] += (_target,)
ID_SPLIT = re.compile(r"[\s,;]+")
WINDOW_RE = re.compile(r"^(\d{1,2})\s*-\s*(\d{1,2})$")


def field_matches(problem_field: str, name: str) -> bool:
    """Whether ``problem_field`` is ``name`` or one of its items/keys."""
    return problem_field == name or problem_field.startswith((f"{name}[", f"{name}."))


def step_of(problem_field: str) -> str:
    """The step whose fields include ``problem_field`` (``review`` when none does)."""
    for step, names in STEP_FIELDS.items():
        if any(field_matches(problem_field, n) for n in names):
            return step
    return "review"


def split_ids(text: str) -> list[str]:
    """Ids pasted one per line or separated by commas, semicolons or spaces."""
    return [part for part in ID_SPLIT.split(text.strip()) if part]


def parse_windows(text: str) -> tuple[list[tuple[int, int]], str]:
    """``0-6, 20-24`` → ``[(0, 6), (20, 24)]``, or ``([], why not)``."""
    out = []
    text = re.sub(r"\s*-\s*", "-", text.strip())
    for part in (p for p in re.split(r"[,;\s]+", text) if p):
        match = WINDOW_RE.match(part)
        if not match:
            return [], (
                f"write UTC hour windows as start-end, separated by commas "
                f"(e.g. 0-6, 20-24); got {part.strip()!r}"
            )
        out.append((int(match[1]), int(match[2])))
    return out, ""


def parse_when(text: str, now: datetime) -> tuple[datetime | None, str]:
    """A time typed into a field labelled UTC: a date (midnight), ``today``, a time with
    or without an offset (none means UTC), ``now`` or ``+30m`` / ``+2h`` / ``+7d``."""
    text = text.strip()
    if text.lower() == "today":
        text = now.astimezone(UTC).date().isoformat()
    naive = _naive(text)
    if naive is not None:
        return naive.replace(tzinfo=UTC), ""
    value, error = parse_time(text, lambda: now)
    if error:
        error = error.replace(
            "expected a time with an offset (2026-11-23T00:00:00Z)",
            "expected a UTC time (2026-11-23 08:00)",
        )
    return value, error


def resolved_label(value: datetime, local: tuple[int, str] | None = None) -> str:
    """``→ 2026-11-29 08:00 UTC`` and, where the platform keeps its own zone, the same
    moment there (``· 16:00 Beijing, UTC+08:00``)."""
    utc = value.astimezone(UTC)
    label = f"→ {utc:%Y-%m-%d %H:%M} UTC"
    if local is not None and local[0]:
        minutes, name = local
        there = utc.astimezone(timezone(timedelta(minutes=minutes)))
        sign = "+" if minutes >= 0 else "-"
        offset = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        day = "" if there.date() == utc.date() else f"{there:%Y-%m-%d} "
        label += f" · {day}{there:%H:%M} {name}, {offset}"
    return label


def _naive(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is None else None


def format_windows(windows: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in windows)


def firmware_fit(firmware: Firmware, models: Sequence[str]) -> int:
    """How many of ``models`` (the chosen devices' models) ``firmware`` is built for."""
    if not firmware.model:
        return len(models)
    wanted = firmware.model.casefold()
    return sum(1 for m in models if m and m.casefold() == wanted)


@dataclass
class Targets:
    """The merged target list and where it came from."""

    ids: list[str]
    from_table: int = 0
    pasted: int = 0
    from_file: int = 0
    duplicates: int = 0
    groups: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Built:
    """The spec the form describes (None when it cannot be built) and every problem."""

    spec: CampaignSpec | None
    problems: list[Problem]
    targets: Targets
    times: dict[str, datetime | None] = field(default_factory=dict)

    def for_step(self, step: str) -> list[Problem]:
        return [p for p in self.problems if step_of(p.field) == step]

    def blocking(self, step: str) -> list[Problem]:
        """Problems of ``step`` and of every step before it (they all block its Next)."""
        upto = STEPS[: STEPS.index(step) + 1] if step in STEPS else STEPS
        return [p for p in self.problems if step_of(p.field) in upto]


Checker = Callable[[CampaignSpec], list[Problem]]
TIMES = ("time", "date")
_UNSET = object()  # a field left empty: the spec does not say it


@dataclass
class WizardForm:
    """Raw values of every field: the shared ones as attributes, the platform's declared
    fields (``Platform.fields``) in ``values`` by key."""

    provider: str = ""
    kind: ProviderKind | None = None
    name: str = ""
    firmware: str = ""  # the catalogue's choice, or the URI typed in the platform's field
    values: dict[str, Any] = field(default_factory=dict)
    # targets
    use_table: bool = True
    table_ids: tuple[str, ...] = ()
    pasted: str = ""
    csv_path: str = ""
    groups: str = ""
    split: bool = False

    def copy(self, **changes: Any) -> WizardForm:
        return replace(self, values=dict(self.values), **changes)

    # -- the platform's fields -------------------------------------------------------
    @property
    def fields(self) -> tuple[FormField, ...]:
        return PLATFORMS[self.kind].fields if self.kind is not None else ()

    def declared(self, key: str) -> FormField | None:
        return next((f for f in self.fields if f.key == key), None)

    def __getitem__(self, key: str) -> Any:
        found = self.declared(key)
        if found is not None and found.target == "firmware":
            return self.firmware
        if key in self.values:
            return self.values[key]
        if found is not None and found.kind not in TIMES and not callable(found.default):
            return found.default
        return ""

    def __setitem__(self, key: str, value: Any) -> None:
        found = self.declared(key)
        if found is not None and found.target == "firmware":
            self.firmware = value
        else:
            self.values[key] = value

    def applies(self, item: FormField) -> bool:
        """Whether a field counts under the current choices (``when``)."""
        return item.when is None or self[item.when[0]] == item.when[1]

    # -- defaults ------------------------------------------------------------------
    def set_schedule_defaults(self, now: datetime) -> None:
        """Sensible, valid starting values for the chosen platform's times."""
        utc = now.astimezone(UTC)
        for item in self.fields:
            if item.kind in TIMES and not self.values.get(item.key):
                self.values[item.key] = item.initial(utc)

    # -- targets -------------------------------------------------------------------
    def targets(self, cwd: Path | None = None) -> Targets:
        sources: list[tuple[str, list[str]]] = []
        problems: list[Problem] = []
        if self.use_table:
            sources.append(("table", list(self.table_ids)))
        sources.append(("pasted", split_ids(self.pasted)))
        if self.csv_path.strip():
            ids, error = read_id_file(self.csv_path, cwd)
            if error:
                problems.append(problem("devices_file", "wizard.devices_file", error))
            sources.append(("file", ids))
        merged: dict[str, None] = {}
        total = 0
        for _, ids in sources:
            total += len(ids)
            merged.update(dict.fromkeys(ids))
        counts = {name: len(ids) for name, ids in sources}
        groups = split_ids(self.groups.replace("\n", ",")) if self.groups.strip() else []
        return Targets(
            ids=list(merged),
            from_table=counts.get("table", 0),
            pasted=counts.get("pasted", 0),
            from_file=counts.get("file", 0),
            duplicates=total - len(merged),
            groups=groups,
            problems=problems,
        )

    # -- building --------------------------------------------------------------------
    def _parse(
        self, item: FormField, now: datetime, problems: list[Problem], times: dict[str, Any]
    ) -> Any:
        """The field's value for the spec, ``_UNSET`` when empty; a problem when unreadable."""
        raw = self[item.key]
        text = raw.strip() if isinstance(raw, str) else raw
        if item.kind == "check":
            return bool(raw)
        if text in ("", None):
            return _UNSET
        if item.kind == "int":
            try:
                return int(text)
            except (TypeError, ValueError):
                problems.append(
                    problem(item.target, "wizard.number", f"a whole number (got {text!r})")
                )
                return _UNSET
        if item.kind in TIMES:
            value, error = parse_when(str(text), now)
            if error:
                problems.append(problem(item.target, "wizard.time", error))
            times[item.target] = value
            return _UNSET if value is None else value
        if item.kind == "windows":
            windows, error = parse_windows(str(text))
            if error:
                problems.append(problem(item.target, "wizard.windows", error))
            return windows
        return text

    def build(
        self,
        now: datetime,
        check: Checker,
        *,
        catalogue: Sequence[Firmware] | None = None,
        cwd: Path | None = None,
    ) -> Built:
        """Parse every field and run the platform's rules on the resulting spec."""
        problems: list[Problem] = []
        targets = self.targets(cwd)
        problems += targets.problems
        values: dict[str, Any] = {
            "provider": self.provider,
            "firmware": self.firmware.strip(),
            "devices": targets.ids,
        }
        if self.name.strip():
            values["name"] = self.name.strip()
        if targets.groups:
            values["device_groups"] = targets.groups
        options: dict[str, Any] = {}
        times: dict[str, datetime | None] = {}
        for item in self.fields:
            if item.target == "firmware" or not self.applies(item):
                continue
            value = self._parse(item, now, problems, times)
            if value is _UNSET:
                continue
            if item.target.startswith("options."):
                options[item.target.removeprefix("options.")] = value
            else:
                values[item.target] = value
        platform = PLATFORMS[self.kind] if self.kind is not None else None
        if platform is not None and platform.complete is not None:
            platform.complete(values, options, catalogue)
        values["options"] = {k: v for k, v in options.items() if v is not None}
        try:
            spec = CampaignSpec.model_validate(values)
        except ValidationError as exc:
            for detail in exc.errors():
                where = ".".join(str(p) for p in detail["loc"]) or "spec"
                problems.append(problem(where, "wizard.invalid", detail["msg"]))
            return Built(None, problems, targets, times)
        rule_problems = check(spec)
        if self.split:
            rule_problems = [p for p in rule_problems if not too_many_targets(p)]
        # A field that did not parse already has its problem; the rule's "missing" adds nothing.
        parsed_bad = {p.field for p in problems}
        problems += [p for p in rule_problems if p.field not in parsed_bad]
        return Built(spec, problems, targets, times)


def form_from_spec(spec: CampaignSpec, kind: ProviderKind) -> WizardForm:
    """A form pre-filled from ``spec`` (retry failed): the ids are pasted, not from the table."""
    form = WizardForm(
        provider=spec.provider,
        kind=kind,
        name=spec.name or "",
        firmware=spec.firmware,
        use_table=False,
        pasted="\n".join(spec.devices),
        groups=", ".join(spec.device_groups),
    )
    for item in form.fields:
        if item.target == "firmware":
            continue
        if item.target.startswith("options."):
            value = spec.options.get(item.target.removeprefix("options."))
        else:
            value = getattr(spec, item.target, None)
        raw = _raw(item, value)
        if raw is not None:
            form.values[item.key] = raw
    return form


def _raw(item: FormField, value: Any) -> Any:
    """A spec value as its field shows it (None: leave the field's default)."""
    if value is None:
        return None
    if isinstance(value, Enum):
        value = value.value
    if item.kind == "date":
        return value.date().isoformat()
    if item.kind == "time":
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if item.kind == "windows":
        return format_windows(value)
    if item.kind == "check":
        return bool(value)
    if item.kind == "choice":
        return value if any(value == v for _, v in item.choices) else None
    return str(value)

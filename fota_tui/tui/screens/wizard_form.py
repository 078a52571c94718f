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
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fota_tui.models import CampaignSpec, ExecuteType, Firmware, ProviderKind
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
# The spec fields each editable step owns (a problem of ``devices[3]`` belongs to ``devices``).
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "provider": ("provider",),
    "firmware": (
        "firmware",
        "firmware_to",
        "firmware_from",
        "options.file_type",
        "options.type",
        "options.mode",
        "options.protocol",
        "options.version",
    ),
    "targets": (
        "devices",
        "device_groups",
        "devices_file",
        "options.device_type",
        "options.model",
        "options.manufacturer",
    ),
    "schedule": (
        "name",
        "start_at",
        "end_at",
        "windows",
        "execute_type",
        "retry_times",
        "options.retry",
        "options.timeout",
        "options.trigger_msg",
        "options.api",
        "options.auto_assign_license",
        "options.auto_add_devices",
    ),
}
ID_SPLIT = re.compile(r"[\s,;]+")
WINDOW_RE = re.compile(r"^(\d{1,2})\s*-\s*(\d{1,2})$")
AOVX_PROTOCOLS = {"FTP": 0, "HTTP": 1, "HTTPS": 1}
AOVX_TYPES = {"app": 0, "core": 1}


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


def _int_or_raw(text: str) -> int | str:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


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


@dataclass
class WizardForm:
    """Raw values of every field, as typed (strings) or toggled (bools)."""

    provider: str = ""
    kind: ProviderKind | None = None
    name: str = ""
    # firmware / package
    firmware: str = ""  # ThingSpace firmwareName, OceanConnect fileId, OneNET URI, AOVX URL
    firmware_to: str = ""  # OneNET version label (optional)
    file_type: str = "firmware"  # OceanConnect software/firmware upgrade
    aovx_type: int = 0
    aovx_mode: int = 0
    aovx_protocol: int = 1
    aovx_version: str = ""
    # targets
    use_table: bool = True
    table_ids: tuple[str, ...] = ()
    pasted: str = ""
    csv_path: str = ""
    groups: str = ""
    split: bool = False
    # schedule and policy
    api: str = "v3"
    start: str = ""
    end: str = ""
    windows: str = ""
    license: bool = False
    auto_add: bool = False
    execute_type: str = ExecuteType.NOW.value
    retry_times: str = ""  # OceanConnect 1..5, empty = no retry
    onenet_retry: str = "3"
    onenet_timeout: str = "25"
    onenet_trigger: int = 7

    def copy(self, **changes: Any) -> WizardForm:
        return replace(self, **changes)

    # -- defaults ------------------------------------------------------------------
    def set_schedule_defaults(self, now: datetime) -> None:
        """Sensible, valid starting values for the chosen platform's schedule."""
        today = now.astimezone(UTC).date()
        if self.kind is ProviderKind.THINGSPACE:
            self.start = self.start or today.isoformat()
            self.end = self.end or (today + timedelta(days=7)).isoformat()
        elif self.kind is ProviderKind.OCEANCONNECT:
            self.start = self.start or "+10m"
            self.end = self.end or "+1d"
        elif self.kind is ProviderKind.ONENET:
            self.end = self.end or "+1d"

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
    def _time(
        self, name: str, text: str, now: datetime, problems: list[Problem]
    ) -> datetime | None:
        if not text.strip():
            return None
        value, error = parse_when(text, now)
        if error:
            problems.append(problem(name, "wizard.time", error))
        return value

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
        kind = self.kind
        values: dict[str, Any] = {
            "provider": self.provider,
            "firmware": self.firmware.strip(),
            "devices": targets.ids,
        }
        if self.name.strip():
            values["name"] = self.name.strip()
        options: dict[str, Any] = {}
        times: dict[str, datetime | None] = {}
        if kind is ProviderKind.THINGSPACE:
            options["api"] = self.api
            if self.api == "v3":
                options["auto_assign_license"] = self.license
                options["auto_add_devices"] = self.auto_add
                windows, error = parse_windows(self.windows)
                if error:
                    problems.append(problem("windows", "wizard.windows", error))
                values["windows"] = windows
            times["start_at"] = self._time("start_at", self.start, now, problems)
            times["end_at"] = self._time("end_at", self.end, now, problems)
        elif kind is ProviderKind.OCEANCONNECT:
            options["file_type"] = self.file_type
            values["execute_type"] = self.execute_type
            if self.execute_type == ExecuteType.CUSTOM.value:
                times["start_at"] = self._time("start_at", self.start, now, problems)
                times["end_at"] = self._time("end_at", self.end, now, problems)
            if self.retry_times.strip():
                retry = _int_or_raw(self.retry_times)
                if isinstance(retry, int):
                    values["retry_times"] = retry
                    options["retry"] = True
                else:
                    problems.append(
                        problem(
                            "retry_times",
                            "oceanconnect.retry_times",
                            f"OceanConnect retryTimes is a whole number 1..5 (got {retry!r})",
                        )
                    )
            if targets.groups:
                values["device_groups"] = targets.groups
                entry = next((f for f in catalogue or () if f.firmware_id == self.firmware), None)
                if entry is not None:  # a group task names the package's device kind
                    options["device_type"] = entry.device_type
                    options["model"] = entry.model
                    options["manufacturer"] = entry.make
        elif kind is ProviderKind.ONENET:
            if self.firmware_to.strip():
                values["firmware_to"] = self.firmware_to.strip()
            times["start_at"] = self._time("start_at", self.start, now, problems)
            times["end_at"] = self._time("end_at", self.end, now, problems)
            options["retry"] = _int_or_raw(self.onenet_retry)
            options["timeout"] = _int_or_raw(self.onenet_timeout)
            options["trigger_msg"] = self.onenet_trigger
        elif kind is ProviderKind.AOVX:
            options.update(type=self.aovx_type, mode=self.aovx_mode, protocol=self.aovx_protocol)
            if self.aovx_version.strip():
                options["version"] = self.aovx_version.strip()
        values.update({k: v for k, v in times.items() if v is not None})
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
    opts = spec.options
    form = WizardForm(
        provider=spec.provider,
        kind=kind,
        name=spec.name or "",
        firmware=spec.firmware,
        firmware_to=spec.firmware_to or "",
        use_table=False,
        pasted="\n".join(spec.devices),
        groups=", ".join(spec.device_groups),
        windows=format_windows(spec.windows),
        execute_type=spec.execute_type.value,
        start=_time_text(spec.start_at, kind),
        end=_time_text(spec.end_at, kind),
    )
    if kind is ProviderKind.THINGSPACE:
        form.api = str(opts.get("api", "v3"))
        form.license = bool(opts.get("auto_assign_license", False))
        form.auto_add = bool(opts.get("auto_add_devices", False))
    elif kind is ProviderKind.OCEANCONNECT:
        form.file_type = str(opts.get("file_type", "firmware"))
        if spec.retry_times is not None:
            form.retry_times = str(spec.retry_times)
    elif kind is ProviderKind.ONENET:
        form.onenet_retry = str(opts.get("retry", form.onenet_retry))
        form.onenet_timeout = str(opts.get("timeout", form.onenet_timeout))
        trigger = opts.get("trigger_msg", 7)
        form.onenet_trigger = trigger if isinstance(trigger, int) else 7
    elif kind is ProviderKind.AOVX:
        for key, attr in (
            ("type", "aovx_type"),
            ("mode", "aovx_mode"),
            ("protocol", "aovx_protocol"),
        ):
            if isinstance(opts.get(key), int):
                setattr(form, attr, opts[key])
        form.aovx_version = str(opts.get("version", spec.firmware_to or ""))
    return form


def _time_text(value: datetime | None, kind: ProviderKind) -> str:
    if value is None:
        return ""
    if kind is ProviderKind.THINGSPACE:
        return value.date().isoformat()
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")

"""A platform's campaign rules are pure functions: spec + context → problems.

This module holds what they share: the ``Problem`` a rule reports, the context a rule
may consult, and checks every platform uses. Each platform's rules live in its own
package (``providers/<platform>/rules.py``) and are its only validator."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fota_tui.models import CampaignSpec, Firmware


@dataclass(frozen=True)
class Problem:
    """One reason a spec cannot be sent as it is.

    ``field`` is the spec's dotted field (``devices[3]``, ``windows[0]``, ``options.retry``),
    ``message`` names that field and the platform's rule, ``rule`` is a stable id
    (``oceanconnect.max_targets``) the UI can key on.
    """

    field: str
    message: str
    rule: str

    def __str__(self) -> str:
        return self.message


def problem(field: str, rule: str, text: str) -> Problem:
    """A ``Problem`` whose message starts with the field: ``windows[0]: …``."""
    return Problem(field=field, message=f"{field}: {text}", rule=rule)


@dataclass(frozen=True)
class RuleContext:
    """What the rules may look at besides the spec: the platform's clock and catalogue.

    ``firmware`` is ``None`` when the catalogue could not be read (catalogue checks are
    then skipped and the preview says so).
    """

    now: datetime
    firmware: Sequence[Firmware] | None = None
    label: str = "the platform"
    extra: dict[str, Any] = field(default_factory=dict)


Rule = Callable[[CampaignSpec, RuleContext], list[Problem]]


def too_many_targets(item: Problem) -> bool:
    """A problem that splitting the device list into several jobs solves
    (``<platform>.max_targets``)."""
    return item.rule.endswith(".max_targets")


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_targets(spec: CampaignSpec, label: str, *, what: str = "device id") -> list[Problem]:
    """No blank ids and no duplicates in ``devices``."""
    out = []
    seen: dict[str, int] = {}
    for index, device in enumerate(spec.devices):
        where = f"devices[{index}]"
        if not device.strip():
            out.append(
                problem(where, "common.blank_target", f"empty {what}; {label} needs an id here")
            )
        elif device != device.strip():
            out.append(
                problem(
                    where,
                    "common.blank_target",
                    f"{what} {device!r} has surrounding spaces; {label} ids have none",
                )
            )
        elif device in seen:
            out.append(
                problem(
                    where,
                    "common.duplicate_target",
                    f"{what} {device} is listed twice (also target #{seen[device] + 1}); "
                    f"{label} takes each device once",
                )
            )
        else:
            seen[device] = index
    return out


def luhn_ok(digits: str) -> bool:
    """The Luhn check an IMEI's last digit satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def require_devices(spec: CampaignSpec, label: str, what: str = "device") -> list[Problem]:
    if spec.devices:
        return []
    return [problem("devices", "common.no_targets", f"{label} needs at least one {what}")]


def unsupported(spec: CampaignSpec, label: str, names: Iterable[str]) -> list[Problem]:
    """Problems for spec fields this platform has no use for."""
    texts = {
        "device_groups": "has no device groups; list the devices instead",
        "windows": "has no time windows",
        "retry_times": "has no retry count here",
        "start_at": "has no start time; the command is sent at once",
        "end_at": "has no end time",
        "firmware_from": "does not take a from-version",
    }
    out = []
    for name in names:
        value = getattr(spec, name)
        if value not in (None, [], ""):
            out.append(problem(name, f"common.unsupported_{name}", f"{label} {texts[name]}"))
    return out


def unknown_options(spec: CampaignSpec, label: str, allowed: Iterable[str]) -> list[Problem]:
    allowed = list(allowed)
    return [
        problem(
            f"options.{key}",
            "common.unknown_option",
            f"not an option for {label}; expected one of: {', '.join(allowed)}",
        )
        for key in spec.options
        if key not in allowed
    ]


def int_range(
    spec: CampaignSpec, key: str, lo: int, hi: int, label: str, rule: str, meaning: str = ""
) -> list[Problem]:
    """``options.<key>`` (when present) must be an integer in [lo, hi]."""
    if key not in spec.options:
        return []
    value = spec.options[key]
    if is_int(value) and lo <= value <= hi:
        return []
    what = f" ({meaning})" if meaning else ""
    return [
        problem(
            f"options.{key}",
            rule,
            f"{label} accepts an integer from {lo} to {hi}{what} (got {value!r})",
        )
    ]


def bool_option(spec: CampaignSpec, key: str, label: str, rule: str) -> list[Problem]:
    if key in spec.options and not is_bool(spec.options[key]):
        return [
            problem(
                f"options.{key}",
                rule,
                f"{label} expects true or false (got {spec.options[key]!r})",
            )
        ]
    return []


def choice_option(
    spec: CampaignSpec, key: str, choices: Sequence[Any], label: str, rule: str
) -> list[Problem]:
    if key not in spec.options:
        return []
    value = spec.options[key]
    if any(value == c and type(value) is type(c) for c in choices):
        return []
    shown = ", ".join(repr(c) for c in choices)
    return [problem(f"options.{key}", rule, f"{label} accepts one of {shown} (got {value!r})")]


def find_firmware(catalogue: Sequence[Firmware] | None, handle: str) -> Firmware | None:
    """The catalogue entry whose id (or, failing that, name or URL) is ``handle``."""
    if not catalogue:
        return None
    for attr in ("firmware_id", "name", "url"):
        for item in catalogue:
            if getattr(item, attr) == handle:
                return item
    return None


def catalogue_names(catalogue: Sequence[Firmware], limit: int = 5) -> str:
    names = [f.firmware_id for f in catalogue[:limit]]
    more = f" … ({len(catalogue)} in all)" if len(catalogue) > limit else ""
    return ", ".join(names) + more

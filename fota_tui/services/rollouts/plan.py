"""A wave plan: how a rollout's devices are split into waves and what gates each wave.

``waves`` are cumulative: ``["1%", "10%", "50%", "100%"]`` reaches 1 % of the devices,
then 10 %, then half, then all; counts (``[10, 100, "100%"]``) work the same way. The
last wave must reach every device. A wave starts only when the one before reached
``success`` % succeeded and then soaked for ``soak``; ``failure`` % failed halts the
rollout, and so does a wave still short of ``success`` after ``wave_timeout``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

DEFAULT_WAVES: tuple[str | int, ...] = ("1%", "10%", "50%", "100%")
DEFAULT_SUCCESS = 95.0
DEFAULT_FAILURE = 5.0
DEFAULT_SOAK = 3600.0
DEFAULT_WAVE_TIMEOUT = 86_400.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|min|m|s)", re.IGNORECASE)
_SECONDS = {"d": 86_400.0, "h": 3600.0, "min": 60.0, "m": 60.0, "s": 1.0}
Problems = list[tuple[str, str]]  # (key, what is wrong)


class WavePlan(BaseModel):
    """The ``[rollout]`` table of a rollout file (times in seconds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    waves: tuple[str | int, ...] = DEFAULT_WAVES
    success: float = DEFAULT_SUCCESS  # % of a wave succeeded before the next starts
    failure: float = DEFAULT_FAILURE  # % of a wave failed that halts the rollout
    soak_seconds: float = DEFAULT_SOAK
    wave_timeout_seconds: float = DEFAULT_WAVE_TIMEOUT
    windows: tuple[tuple[int, int], ...] = ()  # UTC hours [start, end) in which waves start
    canary: tuple[str, ...] = ()  # devices of the first wave(s), in this order

    @property
    def soak(self) -> timedelta:
        return timedelta(seconds=self.soak_seconds)

    @property
    def wave_timeout(self) -> timedelta:
        return timedelta(seconds=self.wave_timeout_seconds)

    def summary(self) -> str:
        """One line: ``waves 1% → 10% → 100%; next at ≥ 95 % success, …``."""
        waves = " → ".join(str(w) for w in self.waves)
        windows = (
            "; waves start " + ", ".join(f"{a:02d}-{b:02d}h UTC" for a, b in self.windows)
            if self.windows
            else ""
        )
        return (
            f"waves {waves}; the next starts at ≥ {self.success:g} % success after a soak of"
            f" {duration_text(self.soak)}; halts at > {self.failure:g} % failed or after"
            f" {duration_text(self.wave_timeout)} short of success{windows}"
        )


def parse_duration(value: Any) -> float | None:
    """``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``, ``"1h30m"`` or a number of seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "")
    total, at = 0.0, 0
    for match in _DURATION.finditer(text):
        if match.start() != at:
            return None
        total += float(match[1]) * _SECONDS[match[2].lower()]
        at = match.end()
    return total if at == len(text) and at else None


def duration_text(value: timedelta | float) -> str:
    """``2 h``, ``1 h 30 min``, ``45 s``."""
    seconds = int(value.total_seconds() if isinstance(value, timedelta) else value)
    if seconds < 60:
        return f"{seconds} s"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
    parts.append(f"{minutes} min" if minutes else "")
    return " ".join(p for p in parts if p)


def parse_plan(table: Any) -> tuple[WavePlan | None, Problems]:
    """The ``[rollout]`` table as a plan, or every problem with its key."""
    if table is None:
        return WavePlan(), []
    if not isinstance(table, dict):
        return None, [("rollout", "expected a table ([rollout]) of wave plan keys")]
    allowed = ("waves", "success", "failure", "soak", "wave_timeout", "windows", "canary")
    problems: Problems = [
        (f"rollout.{key}", f"unknown key; expected one of: {', '.join(allowed)}")
        for key in table
        if key not in allowed
    ]
    fields: dict[str, Any] = {}
    waves = table.get("waves", list(DEFAULT_WAVES))
    if not isinstance(waves, list) or not waves:
        problems.append(("rollout.waves", 'expected a list such as ["1%", "10%", "100%"]'))
    else:
        for index, wave in enumerate(waves):
            if _share(wave) is None and _count(wave) is None:
                problems.append(
                    (
                        f"rollout.waves[{index}]",
                        f'expected a share ("10%", above 0 and at most 100) or a device count'
                        f" (a whole number from 1) (got {wave!r})",
                    )
                )
        fields["waves"] = tuple(waves)
    for key in ("success", "failure"):
        value = table.get(key, DEFAULT_SUCCESS if key == "success" else DEFAULT_FAILURE)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
            problems.append(
                (f"rollout.{key}", f"expected a percentage from 0 to 100 (got {value!r})")
            )
        else:
            fields[key] = float(value)
    for key, default in (("soak", DEFAULT_SOAK), ("wave_timeout", DEFAULT_WAVE_TIMEOUT)):
        seconds = parse_duration(table.get(key, default))
        if seconds is None or (key == "wave_timeout" and seconds <= 0):
            problems.append(
                (
                    f"rollout.{key}",
                    f'expected a duration such as "90s", "30m", "2h", "1d" or "1h30m"'
                    f" (got {table.get(key)!r})",
                )
            )
        else:
            fields[f"{key}_seconds"] = seconds
    windows = table.get("windows", [])
    if not isinstance(windows, list):
        problems.append(("rollout.windows", "expected a list of [start, end] UTC hour pairs"))
    else:
        for index, pair in enumerate(windows):
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(h, int) and not isinstance(h, bool) for h in pair)
                or not all(0 <= h <= 24 for h in pair)
                or pair[0] == pair[1]
            ):
                problems.append(
                    (
                        f"rollout.windows[{index}]",
                        f"expected [start, end], two different whole UTC hours 0-24 (got {pair!r})",
                    )
                )
        fields["windows"] = tuple(tuple(p) for p in windows if isinstance(p, list))
    canary = table.get("canary", [])
    if not isinstance(canary, list) or not all(isinstance(c, str) and c for c in canary):
        problems.append(("rollout.canary", "expected a list of device ids"))
    else:
        fields["canary"] = tuple(canary)
    if problems:
        return None, problems
    return WavePlan(**fields), []


def _share(wave: Any) -> float | None:
    if not isinstance(wave, str) or not wave.strip().endswith("%"):
        return None
    try:
        value = float(wave.strip()[:-1])
    except ValueError:
        return None
    return value if 0 < value <= 100 else None


def _count(wave: Any) -> int | None:
    return wave if isinstance(wave, int) and not isinstance(wave, bool) and wave >= 1 else None


def wave_sizes(waves: Sequence[str | int], total: int) -> tuple[list[int], Problems]:
    """How many devices each wave adds (cumulative plan → sizes), or the problems."""
    reach: list[int] = []
    for wave in waves:
        share = _share(wave)
        count = _count(wave)
        reach.append(
            math.ceil(total * share / 100) if share is not None else min(count or 0, total)
        )
    problems: Problems = []
    for index in range(1, len(reach)):
        if reach[index] <= reach[index - 1]:
            problems.append(
                (
                    f"rollout.waves[{index}]",
                    f"wave {index + 1} adds no device: {waves[index - 1]!s} and {waves[index]!s}"
                    f" of {total} devices both reach {reach[index - 1]}; waves must grow",
                )
            )
    if reach and reach[-1] < total:
        problems.append(
            (
                f"rollout.waves[{len(reach) - 1}]",
                f"the last wave reaches {reach[-1]} of the {total} devices; end with"
                f' "100%" so that every device is reached',
            )
        )
    sizes = [b - a for a, b in zip([0, *reach], reach, strict=False)]
    return sizes, problems


def order_devices(devices: Sequence[str], online: set[str], canary: Sequence[str]) -> list[str]:
    """The deterministic wave order: canary devices as listed, then online devices, then
    the rest, each spread by a stable hash of the id (not by id order, which clusters
    devices of one batch or site)."""
    chosen = [c for c in dict.fromkeys(canary) if c in set(devices)]
    rest = [d for d in dict.fromkeys(devices) if d not in set(chosen)]

    def spread(device: str) -> str:
        return hashlib.sha256(device.encode("utf-8", "surrogatepass")).hexdigest()

    rest.sort(key=lambda d: (d not in online, spread(d)))
    return [*chosen, *rest]


def plan_warnings(
    plan: WavePlan, ordered: Sequence[str], sizes: Sequence[int], eligible: Collection[str]
) -> list[str]:
    """What a plan does that its file may not say outright."""
    out = []
    total = len(ordered)
    for wave in plan.waves:
        count = _count(wave)
        if count is not None and count > total:
            out.append(f"waves: {count} is more than the {total} devices; that wave reaches all")
    canary = [c for c in plan.canary if c in eligible]
    for device in plan.canary:
        if device not in eligible:
            out.append(f"canary {device} is not eligible (left out), so it is in no wave")
    if sizes and len(canary) > sizes[0]:
        out.append(
            f"{len(canary)} canary devices but wave 1 has {sizes[0]}: the rest start in wave 2"
        )
    if plan.success + plan.failure > 100:
        out.append(
            f"success {plan.success:g} % and failure {plan.failure:g} % add up to more than"
            " 100 %: a wave halts before it can fail that much"
        )
    return out


def split_waves(ordered: Sequence[str], sizes: Sequence[int]) -> list[list[str]]:
    out, at = [], 0
    for size in sizes:
        out.append(list(ordered[at : at + size]))
        at += size
    return out


def check_schedule(
    plan: WavePlan, start_at: datetime | None, end_at: datetime | None, now: datetime
) -> Problems:
    """Waves need ``len - 1`` soaks after the first starts; all must fit before the end."""
    if end_at is None or len(plan.waves) < 2:
        return []
    start = max(start_at or now, now)
    needed = plan.soak * (len(plan.waves) - 1)
    if start + needed < end_at:
        return []
    return [
        (
            "rollout.soak",
            f"{len(plan.waves)} waves need at least {len(plan.waves) - 1} soaks of"
            f" {duration_text(plan.soak)} after the first starts ({start:%Y-%m-%d %H:%M}Z),"
            f" but the campaign ends at {end_at:%Y-%m-%d %H:%M}Z (end_at); shorten the soak"
            " or move end_at",
        )
    ]


def in_window(when: datetime, windows: Sequence[tuple[int, int]]) -> bool:
    if not windows:
        return True
    hour = when.hour
    return any((a <= hour < b) if a < b else (hour >= a or hour < b) for a, b in windows)


def next_window(when: datetime, windows: Sequence[tuple[int, int]]) -> datetime:
    """The first moment at or after ``when`` inside one of ``windows``."""
    at = when
    for _ in range(25):
        if in_window(at, windows):
            return at
        at = (at + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return at

"""Fault injection, per platform, switchable at start and at run time.

Spec syntax (CLI ``--faults``): comma-separated ``PLATFORM:FAULT=VALUE`` items, where
PLATFORM is a platform kind or ``*`` for all, FAULT one of ``FAULTS`` and VALUE a
probability in [0, 1]; the ``SETTINGS`` take other values (below). Example:
``oceanconnect:throttle=0.2,aovx:malformed=0.05,thingspace:latency=1.5,*:chaos=0.2``.

The real world, beyond errors (each defended against in the product):

- ``late_listing=SECONDS``: created objects appear in listings only that long after their
  creation (eventual consistency); reads by id see them at once.
- ``skew=SECONDS``: the platforms' clock runs that far ahead (negative: behind) of ours;
  every platform timestamp and ``Date`` header carries it (one fleet, so the largest
  value given wins).
- ``hostile=1``: every text field the platform controls holds markup, escape sequences,
  controls, bidi overrides, a lone surrogate or a 10 KB string (``sim/hostile.py``).
- ``endless=P``: a listing page claims more pages for ever (fresh cursors, a total of
  10^15) and serves the first page again.
- ``slow_body=P``: the answer trickles in a few bytes at a time (``SLOW_BODY_SECONDS``).
- ``bomb=P``: a small gzip answer that inflates to ``BOMB_BYTES``.
- ``gap=P``: a listing answer leaves out its first item (a replica that lags): what a
  client knows from an earlier read must not vanish on the strength of one answer.
- ``fail=P``: upgrades sent from now on fail on share P of the devices that take them
  (instead of the fleet's own mix, about 16 %): ``fail=0`` is a good firmware,
  ``fail=0.3`` a bad one a staged rollout must halt on.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field

from fota_tui.errors import UsageError
from fota_tui.models import ProviderKind
from fota_tui.sim.http import SimRequest

# Faults drawn per request; ``chaos`` picks one of them at random.
FAULTS = (
    "latency",
    "error",
    "throttle",
    "malformed",
    "truncated",
    "reset",
    "token_expiry",
    "endless",
    "slow_body",
    "bomb",
    "gap",
    "chaos",
)
# Not drawn per request: values that shape the platform (seconds, or 0/1).
SETTINGS = ("latency", "late_listing", "skew", "hostile", "fail")
NAMES = (*FAULTS, *SETTINGS[1:])
DAY = 86_400.0
SECONDS = {"latency": (0.0, 60.0), "late_listing": (0.0, DAY), "skew": (-DAY, DAY)}
_CHAOS = ("error", "throttle", "malformed", "truncated", "reset", "token_expiry", "slow")


@dataclass
class ScriptedFault:
    """A fault that hits matching requests ``times`` times (tests)."""

    kind: ProviderKind
    fault: str  # one of FAULTS (not chaos) or "reset_after": answer is lost after handling
    method: str | None = None
    path_contains: str | None = None
    times: int = 1

    def matches(self, kind: ProviderKind, request: SimRequest) -> bool:
        return (
            kind is self.kind
            and (self.method is None or request.method.upper() == self.method.upper())
            and (self.path_contains is None or self.path_contains in request.path)
        )


@dataclass(frozen=True)
class Decision:
    latency: float = 0.0
    fault: str | None = None  # what to do instead of / after answering


@dataclass
class FaultInjector:
    seed: int = 0
    rates: dict[ProviderKind, dict[str, float]] = field(default_factory=dict)
    scripted: list[ScriptedFault] = field(default_factory=list)
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"faults:{self.seed}")
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: str | None, seed: int = 0) -> FaultInjector:
        injector = cls(seed=seed)
        injector.apply_spec(spec or "")
        return injector

    def apply_spec(self, spec: str) -> None:
        for kind, fault, value in parse_spec(spec):
            kinds = list(ProviderKind) if kind is None else [kind]
            for k in kinds:
                self.set(k, **{fault: value})

    def set(self, kind: ProviderKind, **rates: float) -> None:
        for fault, value in rates.items():
            if fault not in NAMES:
                raise UsageError(f"unknown fault {fault!r}; expected one of {', '.join(NAMES)}")
            self.rates.setdefault(kind, {})[fault] = value

    def setting(self, name: str) -> dict[ProviderKind, float]:
        """The platforms for which a setting (``SETTINGS``) is on, with its value."""
        return {k: rates[name] for k, rates in self.rates.items() if rates.get(name)}

    def clear(self, kind: ProviderKind | None = None) -> None:
        if kind is None:
            self.rates.clear()
            self.scripted.clear()
        else:
            self.rates.pop(kind, None)
            self.scripted = [s for s in self.scripted if s.kind is not kind]

    def script(
        self,
        kind: ProviderKind,
        fault: str,
        *,
        method: str | None = None,
        path_contains: str | None = None,
        times: int = 1,
    ) -> None:
        self.scripted.append(ScriptedFault(kind, fault, method, path_contains, times))

    def decide(self, kind: ProviderKind, request: SimRequest) -> Decision:
        with self._lock:
            for scripted in self.scripted:
                if scripted.times > 0 and scripted.matches(kind, request):
                    scripted.times -= 1
                    return self._count(Decision(fault=scripted.fault))
            rates = self.rates.get(kind)
            if not rates:
                return Decision()
            latency = rates.get("latency", 0.0)
            for fault in FAULTS[1:]:  # the per-request ones
                p = rates.get(fault, 0.0)
                if p and self._rng.random() < p:
                    if fault == "chaos":
                        fault = self._rng.choice(_CHAOS)
                        if fault == "slow":
                            return self._count(Decision(latency + self._rng.uniform(0.5, 2.0)))
                    return self._count(Decision(latency, fault))
            return Decision(latency)

    def _count(self, decision: Decision) -> Decision:
        key = decision.fault or "slow"
        self.injected[key] = self.injected.get(key, 0) + 1
        return decision


def parse_spec(spec: str) -> list[tuple[ProviderKind | None, str, float]]:
    """Parse ``--faults``; raises ``UsageError`` naming the bad item."""
    items = []
    for raw in filter(None, (part.strip() for part in spec.split(","))):
        try:
            target, rest = raw.split(":", 1)
            fault, value_text = rest.split("=", 1)
        except ValueError:
            raise UsageError(
                f"--faults: {raw!r} is not PLATFORM:FAULT=VALUE (e.g. aovx:malformed=0.05)"
            ) from None
        target, fault = target.strip(), fault.strip()
        try:
            kind = None if target == "*" else ProviderKind(target)
        except ValueError:
            names = ", ".join(k.value for k in ProviderKind)
            raise UsageError(
                f"--faults: unknown platform {target!r}; expected {names} or *"
            ) from None
        if fault not in NAMES:
            raise UsageError(
                f"--faults: unknown fault {fault!r}; expected one of {', '.join(NAMES)}"
            )
        try:
            value = float(value_text)
        except ValueError:
            raise UsageError(f"--faults: {raw!r}: {value_text!r} is not a number") from None
        if not math.isfinite(value):
            raise UsageError(f"--faults: {raw!r}: {value_text!r} is not a finite number")
        if fault not in SETTINGS and not 0 <= value <= 1:
            raise UsageError(f"--faults: {raw!r}: a probability must be between 0 and 1")
        if fault == "fail" and not 0 <= value <= 1:
            raise UsageError(f"--faults: {raw!r}: fail is a share between 0 and 1")
        if fault == "hostile" and value not in (0, 1):
            raise UsageError(f"--faults: {raw!r}: hostile is 0 (off) or 1 (on)")
        low, high = SECONDS.get(fault, (0.0, 1.0))
        if fault in SECONDS and not low <= value <= high:
            raise UsageError(
                f"--faults: {raw!r}: {fault} must be between {low:g} and {high:g} seconds"
            )
        items.append((kind, fault, value))
    return items

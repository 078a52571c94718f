"""Filter and order campaigns the way the device table filters and orders rows (headless).

A filter is space-separated terms, all of which must match: ``state:partial,failed``
(campaign states, or ``active``, ``terminal``, ``attention``), ``provider:NAME``,
``kind:onenet``; a leading ``-`` negates; other words match the id, name, provider and
firmware, case-insensitively.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from fota_tui.models import Campaign, CampaignState, ProviderKind, UpgradeState
from fota_tui.services.query import QueryError

CAMPAIGN_SORTS = ("attention", "provider", "name", "state", "progress", "failed", "schedule")
"""Orders campaigns can be listed in; ``attention`` first (the default)."""

_KEYS = ("state", "provider", "kind")
_BAD = (UpgradeState.FAILED, UpgradeState.EXPIRED)
_OLDEST = datetime.min.replace(tzinfo=UTC)


def failed_count(c: Campaign) -> int:
    """Devices that failed or expired in the campaign."""
    return sum(c.counts.get(s, 0) for s in _BAD)


def needs_attention(c: Campaign) -> bool:
    return failed_count(c) > 0 or c.state in (CampaignState.FAILED, CampaignState.EXPIRED)


def _state_words(word: str) -> frozenset[CampaignState]:
    if word == "active":
        return frozenset(s for s in CampaignState if not s.terminal)
    if word == "terminal":
        return frozenset(s for s in CampaignState if s.terminal)
    if word == "attention":
        return frozenset({CampaignState.FAILED, CampaignState.EXPIRED, CampaignState.PARTIAL})
    try:
        return frozenset({CampaignState(word)})
    except ValueError:
        words = ", ".join([*(s.value for s in CampaignState), "active", "terminal", "attention"])
        raise QueryError(f"unknown campaign state {word!r}; valid: {words}", key="state") from None


@dataclass(frozen=True)
class CampaignFilter:
    text: str
    tests: tuple[tuple[bool, Callable[[Campaign], bool]], ...] = ()  # (negate, test)

    def __bool__(self) -> bool:
        return bool(self.tests)

    def matches(self, c: Campaign) -> bool:
        return all(test(c) != negate for negate, test in self.tests)

    def filter(self, campaigns: Iterable[Campaign]) -> list[Campaign]:
        return [c for c in campaigns if self.matches(c)]


def parse_campaign_filter(text: str) -> CampaignFilter:
    """Raises ``QueryError`` naming the key or value that is wrong."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise QueryError(f"unbalanced quotes in {text!r}") from exc
    tests: list[tuple[bool, Callable[[Campaign], bool]]] = []
    for word in words:
        negate = word.startswith("-") and len(word) > 1
        body = word[1:] if negate else word
        key, sep, value = body.partition(":")
        if sep and key.lower() in _KEYS:
            values = [v.strip().lower() for v in value.split(",") if v.strip()]
            if not values:
                raise QueryError(f"'{key}:' needs a value", key=key)
            tests.append((negate, _field_test(key.lower(), values)))
        elif sep and key.isalpha() and key.lower() not in _KEYS:
            raise QueryError(f"unknown filter key {key!r}; valid keys: {', '.join(_KEYS)}", key=key)
        else:
            tests.append((negate, _text_test(body.lower())))
    return CampaignFilter(text, tuple(tests))


def _text_test(needle: str) -> Callable[[Campaign], bool]:
    return lambda c: needle in _search_text(c)


def _field_test(key: str, values: list[str]) -> Callable[[Campaign], bool]:
    if key == "state":
        states = frozenset().union(*(_state_words(v) for v in values))
        if "attention" in values:
            return lambda c: c.state in states or needs_attention(c)
        return lambda c: c.state in states
    if key == "provider":
        names = frozenset(values)
        return lambda c: c.provider.lower() in names
    kinds = set()
    for value in values:
        try:
            kinds.add(ProviderKind(value))
        except ValueError:
            valid = ", ".join(k.value for k in ProviderKind)
            raise QueryError(f"unknown kind {value!r}; valid: {valid}", key="kind") from None
    return lambda c: c.kind in kinds


def _search_text(c: Campaign) -> str:
    parts = (c.campaign_id, c.name, c.provider, c.firmware_name, c.firmware_from, c.firmware_to)
    return "\x00".join(p or "" for p in parts).lower()


def _newest(c: Campaign) -> datetime:
    return c.start_at or c.created_at or _OLDEST


def _done_share(c: Campaign) -> float:
    total = c.total or sum(c.counts.values())
    done = sum(n for s, n in c.counts.items() if s.terminal)
    return done / total if total else 0.0


def sort_campaigns(
    campaigns: Iterable[Campaign], order: str, reverse: bool = False
) -> list[Campaign]:
    """Campaigns in ``order`` (ties: provider, then id, so the list never shuffles)."""
    if order not in CAMPAIGN_SORTS:
        raise QueryError(f"unknown campaign order {order!r}; valid: {', '.join(CAMPAIGN_SORTS)}")
    ties = sorted(campaigns, key=lambda c: (c.provider, c.campaign_id))
    if order == "attention":  # with failures first (most first), then active, newest first
        ties.sort(key=_newest, reverse=True)
        ties.sort(key=lambda c: (not needs_attention(c), -failed_count(c), not c.active))
    elif order == "schedule":
        ties.sort(key=_newest, reverse=True)
    elif order == "failed":
        ties.sort(key=failed_count, reverse=True)
    elif order == "progress":
        ties.sort(key=_done_share)
    elif order == "state":
        rank = {s: i for i, s in enumerate(CampaignState)}
        ties.sort(key=lambda c: rank[c.state])
    elif order == "name":
        ties.sort(key=lambda c: (c.name is None, (c.name or "").lower()))
    else:
        ties.sort(key=lambda c: c.provider)
    return ties[::-1] if reverse else ties

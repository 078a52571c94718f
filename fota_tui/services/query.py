"""The ``/`` filter language and the sort order of fleet rows (headless).

A query is space-separated terms, all of which must match::

    state:failed,expired  provider:ts-prod  kind:onenet  fw:2.1  campaign:c-17
    model:x100  online:no  -state:succeeded  "free text"  timeout

``key:a,b`` matches any of the values; a leading ``-`` negates a term; a term
without a known ``key:`` prefix is free text, matched case-insensitively against
id, IMEI, name, model, firmware (current and target), reason and campaign.
Double quotes keep spaces (and colons) in a term: ``"rate limit"``, ``model:"X 100"``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import compress, islice, repeat
from operator import attrgetter, indexOf, is_not, not_
from typing import Any

from fota_tui.errors import UsageError
from fota_tui.models import ProviderKind, UpgradeState
from fota_tui.services.fleet import FleetRow

VALID_KEYS = ("state", "provider", "kind", "fw", "campaign", "model", "online")
"""Filter keys, in the order error messages list them."""

SORT_COLUMNS = (
    "attention",
    "provider",
    "device",
    "model",
    "firmware",
    "state",
    "campaign",
    "reason",
    "updated",
)
"""Orders rows can be sorted in: ``attention`` (what needs a look first), then the device
table's column names."""

STATE_ORDER: tuple[UpgradeState, ...] = tuple(UpgradeState)
"""Lifecycle order: pending → … → in_progress → succeeded/failed/cancelled/expired → unknown."""

# Enum members hash in Python (slow per row); they are singletons, so key by id().
_STATE_RANK_BY_ID = {id(state): rank for rank, state in enumerate(STATE_ORDER)}
_STATE_RANK_BY_ID[id(None)] = len(STATE_ORDER)
_STATE_WORDS = ", ".join(s.value for s in STATE_ORDER)
_STATE_GROUPS: dict[str, frozenset[UpgradeState | None]] = {
    "active": frozenset(s for s in UpgradeState if s.active),
    "terminal": frozenset(s for s in UpgradeState if s.terminal),
    "none": frozenset({None}),
    "attention": frozenset({UpgradeState.FAILED, UpgradeState.EXPIRED, UpgradeState.UNKNOWN}),
}
_ENUM_ATTRS: dict[str, tuple[Any, ...]] = {
    "state": (*UpgradeState, None),
    "kind": (*ProviderKind, None),
    "online": (True, False, None),
}
_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}


class QueryError(UsageError):
    """A filter that cannot be parsed; ``key`` names the offending key, if any."""

    title = "Invalid filter"

    def __init__(self, message: str, *, key: str | None = None, term: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.term = term


ValueTest = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class Term:
    """One parsed term. ``key`` is None for free text; ``values`` are lower-cased."""

    key: str | None
    values: tuple[str, ...]
    negate: bool = False

    def __str__(self) -> str:
        body = ",".join(self.values)
        if " " in body or (self.key is None and ":" in body):
            body = f'"{body}"'
        return ("-" if self.negate else "") + (f"{self.key}:" if self.key else "") + body


class Query:
    """A compiled filter. An empty query matches every row."""

    __slots__ = ("_compiled", "terms", "text")

    def __init__(self, terms: Sequence[Term] = (), text: str = "") -> None:
        self.terms: tuple[Term, ...] = tuple(terms)
        self.text = text
        # per term: the row attributes it looks at and a test on one attribute value
        self._compiled: list[tuple[tuple[str, ...], ValueTest]] = [
            _compile(term) for term in self.terms
        ]

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and other.terms == self.terms

    def __hash__(self) -> int:
        return hash(self.terms)

    def __repr__(self) -> str:
        return f"Query({self.text!r})"

    def matches(self, row: FleetRow) -> bool:
        for term, (attrs, test) in zip(self.terms, self._compiled, strict=True):
            hit = any(test(getattr(row, attr)) for attr in attrs)
            if hit == term.negate:
                return False
        return True

    def refines(self, other: Query) -> bool:
        """True when every row this query matches also matches ``other`` (so the
        result of ``other`` can be filtered instead of every row): the same terms,
        maybe more, and the last of ``other``'s terms may be a longer free text."""
        mine, theirs = self.terms, other.terms
        if len(mine) < len(theirs):
            return False
        for index, (a, b) in enumerate(zip(mine, theirs, strict=False)):
            if a == b:
                continue
            last = index == len(theirs) - 1
            if not (last and a.key is None and b.key is None and not a.negate and not b.negate):
                return False
            if b.values[0] not in a.values[0]:
                return False
        return True

    def filter(
        self, rows: Iterable[FleetRow], texts: Sequence[str] | None = None
    ) -> list[FleetRow]:
        """The matching rows, in their given order (one pass per term).

        ``texts`` may give each row's ``search_text`` in a list aligned with ``rows``:
        scanning that list is faster than reaching into every row. Field terms test
        each distinct value once (memoized) inside one list comprehension per term.
        """
        out = rows if isinstance(rows, list) else list(rows)
        if texts is not None and len(texts) != len(out):
            texts = None
        order = sorted(range(len(self.terms)), key=lambda i: self.terms[i].key is not None)
        for position, index in enumerate(order):
            if not out:
                break
            term = self.terms[index]
            neg = term.negate
            if term.key is None:
                needle = term.values[0]
                if texts is None:
                    if neg:
                        out = [r for r in out if needle not in r.search_text]
                    else:
                        out = [r for r in out if needle in r.search_text]
                    continue
                if neg:
                    hits = [i for i, t in enumerate(texts) if needle not in t]
                else:
                    hits = [i for i, t in enumerate(texts) if needle in t]
                out = [out[i] for i in hits]
                more_text = (
                    position + 1 < len(order) and self.terms[order[position + 1]].key is None
                )
                texts = [texts[i] for i in hits] if more_text else None
                continue
            texts = None
            attrs, test = self._compiled[index]
            if term.key in ("state", "kind"):  # enums hash in Python: compare by identity
                values = tuple(v for v in _ENUM_ATTRS[attrs[0]] if test(v))
                out = (_DROP if neg else _KEEP)[term.key](out, values)
            else:
                out = (_DROP if neg else _KEEP)[term.key](out, _Memo(test))
        return out


class _Memo(dict[Any, bool]):
    """A value's test result, computed once per distinct value."""

    __slots__ = ("test",)

    def __init__(self, test: ValueTest) -> None:
        super().__init__()
        self.test = test

    def __missing__(self, value: Any) -> bool:
        hit = self[value] = bool(self.test(value))
        return hit


# Per-key row passes with the attribute spelled out: a list comprehension with a
# literal attribute is the fastest per-row loop CPython 3.11 offers.
_KEEP: dict[str, Callable[[list[FleetRow], Any], list[FleetRow]]] = {
    "state": lambda rows, ok: [r for r in rows if r.state in ok],
    "kind": lambda rows, ok: [r for r in rows if r.kind in ok],
    "provider": lambda rows, ok: [r for r in rows if ok[r.provider]],
    "online": lambda rows, ok: [r for r in rows if ok[r.online]],
    "fw": lambda rows, ok: [r for r in rows if ok[r.firmware] or ok[r.firmware_to]],
    "campaign": lambda rows, ok: [r for r in rows if ok[r.campaign_id]],
    "model": lambda rows, ok: [r for r in rows if ok[r.model]],
}
_DROP: dict[str, Callable[[list[FleetRow], Any], list[FleetRow]]] = {
    "state": lambda rows, ok: [r for r in rows if r.state not in ok],
    "kind": lambda rows, ok: [r for r in rows if r.kind not in ok],
    "provider": lambda rows, ok: [r for r in rows if not ok[r.provider]],
    "online": lambda rows, ok: [r for r in rows if not ok[r.online]],
    "fw": lambda rows, ok: [r for r in rows if not (ok[r.firmware] or ok[r.firmware_to])],
    "campaign": lambda rows, ok: [r for r in rows if not ok[r.campaign_id]],
    "model": lambda rows, ok: [r for r in rows if not ok[r.model]],
}


def parse_query(text: str) -> Query:
    """Parse filter text; raises ``QueryError`` with a message fit to show inline."""
    return Query([_make_term(key, value, negate) for key, value, negate in _tokens(text)], text)


# -- tokenizing ----------------------------------------------------------------


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """Read a double-quoted string starting at ``text[i] == '"'``; unterminated runs to the end."""
    end = text.find('"', i + 1)
    if end < 0:
        return text[i + 1 :], len(text)
    return text[i + 1 : end], end + 1


def _tokens(text: str) -> Iterable[tuple[str | None, str, bool]]:
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negate = text[i] == "-" and i + 1 < n and not text[i + 1].isspace()
        if negate:
            i += 1
        if text[i] == '"':
            value, i = _read_quoted(text, i)
            yield None, value, negate
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != ":" and text[i] != '"':
            i += 1
        if i < n and text[i] == ":" and i > start and text[start:i].replace("_", "").isalpha():
            key = text[start:i].lower()
            i += 1
            if i < n and text[i] == '"':
                value, i = _read_quoted(text, i)
            else:
                vstart = i
                while i < n and not text[i].isspace():
                    i += 1
                value = text[vstart:i]
            yield key, value, negate
            continue
        while i < n and not text[i].isspace():
            i += 1
        yield None, text[start:i], negate


def _make_term(key: str | None, value: str, negate: bool) -> Term:
    if key is None:
        return Term(None, (value.lower(),), negate)
    if key not in VALID_KEYS:
        raise QueryError(
            f"unknown filter key '{key}:'; valid keys are "
            + ", ".join(f"{k}:" for k in VALID_KEYS)
            + ' (quote a term to search for it as text, e.g. "a:b")',
            key=key,
            term=f"{key}:{value}",
        )
    values = tuple(v.strip().lower() for v in value.split(",") if v.strip())
    if not values:
        raise QueryError(
            f"'{key}:' needs a value, e.g. {_EXAMPLES[key]}", key=key, term=f"{key}:{value}"
        )
    if key == "state":
        for v in values:
            if _state_set(v) is None:
                raise QueryError(
                    f"unknown state '{v}' in 'state:'; valid states are {_STATE_WORDS}, "
                    "or active, terminal, attention, none",
                    key=key,
                    term=f"{key}:{value}",
                )
    elif key == "kind":
        valid = [k.value for k in ProviderKind]
        for v in values:
            if v not in valid:
                raise QueryError(
                    f"unknown provider kind '{v}' in 'kind:'; valid kinds are {', '.join(valid)}",
                    key=key,
                    term=f"{key}:{value}",
                )
    elif key == "online":
        for v in values:
            if v not in _YES and v not in _NO:
                raise QueryError(
                    f"'online:' takes yes or no, not '{v}'", key=key, term=f"{key}:{value}"
                )
    return Term(key, values, negate)


_EXAMPLES = {
    "state": "state:failed or state:failed,expired",
    "provider": "provider:ts-prod",
    "kind": "kind:thingspace",
    "fw": "fw:2.1.0",
    "campaign": "campaign:c-42",
    "model": "model:x100",
    "online": "online:yes",
}


def _state_set(word: str) -> frozenset[UpgradeState | None] | None:
    group = _STATE_GROUPS.get(word)
    if group is not None:
        return group
    try:
        return frozenset({UpgradeState(word.replace("-", "_"))})
    except ValueError:
        return None


def parse_states(text: str) -> frozenset[UpgradeState]:
    """``failed,expired``, ``active``, ``terminal``, ``attention``: the console's state
    words, comma-separated, as upgrade states. Raises ``QueryError`` naming a bad word."""
    found: set[UpgradeState] = set()
    for word in (w.strip().lower() for w in text.split(",")):
        states = _state_set(word) if word else None
        if states is None or states == _STATE_GROUPS["none"]:
            raise QueryError(
                f"unknown state {word!r}; valid: {_STATE_WORDS}, active, terminal, attention",
                key="state",
            )
        found |= {s for s in states if s is not None}
    return frozenset(found)


# -- compiling -----------------------------------------------------------------


def _contains_any(needles: tuple[str, ...]) -> ValueTest:
    if len(needles) == 1:
        needle = needles[0]
        return lambda v: v is not None and needle in v.lower()
    return lambda v: v is not None and any(n in v.lower() for n in needles)


def _compile(term: Term) -> tuple[tuple[str, ...], ValueTest]:
    key, values = term.key, term.values
    if key is None:
        needle = values[0]
        return ("search_text",), lambda v: needle in v
    if key == "state":
        states: frozenset[UpgradeState | None] = frozenset().union(
            *(_state_set(v) or () for v in values)
        )
        return ("state",), states.__contains__
    if key == "provider":
        names = frozenset(values)
        return ("provider",), lambda v: v.lower() in names
    if key == "kind":
        kinds = frozenset(ProviderKind(v) for v in values)
        return ("kind",), kinds.__contains__
    if key == "online":
        wanted = frozenset(v in _YES for v in values)
        return ("online",), lambda v: v is not None and v in wanted
    test = _contains_any(values)
    if key == "fw":
        return ("firmware", "firmware_to"), test
    if key == "campaign":
        return ("campaign_id",), test
    if key == "model":
        return ("model",), test
    raise AssertionError(key)  # pragma: no cover - guarded by _make_term


# -- sorting -------------------------------------------------------------------

_COLUMN_ATTR = {
    "provider": "provider",
    "device": "device_id",
    "model": "model",
    "firmware": "firmware",
    "state": "state",
    "campaign": "campaign_id",
    "reason": "reason",
    "updated": "updated_at",
    "attention": "state",
}
_OLDEST = datetime.min.replace(tzinfo=UTC)
_NEVER_NONE = frozenset({"attention", "provider", "device"})

# The attention order: failed, then expired, each newest first; then upgrades in flight,
# the longest without progress first (the stuck ones); then unknown, then the rest.
_ATTENTION: tuple[tuple[tuple[UpgradeState | None, ...], bool], ...] = (
    ((UpgradeState.FAILED,), True),  # (states, newest first)
    ((UpgradeState.EXPIRED,), True),
    (tuple(s for s in STATE_ORDER if s.active), False),
    ((UpgradeState.UNKNOWN,), True),
    (
        tuple(
            s
            for s in STATE_ORDER
            if s.terminal and s not in (UpgradeState.FAILED, UpgradeState.EXPIRED)
        ),
        True,
    ),
    ((None,), True),
)
_ATTENTION_RANK = {
    id(state): (rank, newest)
    for rank, (states, newest) in enumerate(_ATTENTION)
    for state in states
}
assert len(_ATTENTION_RANK) == len(STATE_ORDER) + 1


def attention_key(row: FleetRow) -> tuple[int, float, str, str]:
    """Ascending means more urgent: (group, time), rows without a time last; then
    provider and device id, so the order is total and never depends on which listing
    arrived first."""
    rank, newest = _ATTENTION_RANK[id(row.state)]
    when = row.updated_at
    if when is None:
        return rank, float("inf"), row.provider, row.device_id
    stamp = when.timestamp()
    return rank, -stamp if newest else stamp, row.provider, row.device_id


def _check_column(column: str) -> str:
    if column not in _COLUMN_ATTR:
        raise ValueError(
            f"unknown sort column {column!r}; valid columns: {', '.join(SORT_COLUMNS)}"
        )
    return _COLUMN_ATTR[column]


def sort_value(column: str) -> Callable[[FleetRow], Any]:
    """The raw value a column sorts by (None when the row has none)."""
    attr = _check_column(column)
    return attention_key if column == "attention" else attrgetter(attr)


def sort_key(column: str) -> Callable[[FleetRow], tuple[bool, Any]]:
    """A ``sorted()`` key for ascending order: None last, states in lifecycle order.

    ``sort_rows`` gives the same order faster and keeps None last when reversed too.
    """
    get = attrgetter(_check_column(column))
    if column == "attention":
        return lambda r: (False, attention_key(r))
    if column == "state":
        rank = _STATE_RANK_BY_ID
        return lambda r: (r.state is None, rank[id(r.state)])
    if column == "updated":
        return lambda r: (r.updated_at is None, r.updated_at or _OLDEST)
    return lambda r: ((v := get(r)) is None, "" if v is None else v)


def sort_rows(rows: Iterable[FleetRow], column: str, reverse: bool = False) -> list[FleetRow]:
    """Rows sorted by ``column`` (stable: ties keep their given order), None always last."""
    attr = _check_column(column)
    rows = rows if isinstance(rows, list) else list(rows)
    get = attrgetter(attr)
    if column == "state":
        buckets: dict[int, list[FleetRow]] = {id(s): [] for s in (*STATE_ORDER, None)}
        for row in rows:
            buckets[id(row.state)].append(row)
        order = reversed(STATE_ORDER) if reverse else STATE_ORDER
        out: list[FleetRow] = []
        for state in order:
            out += buckets[id(state)]
        out += buckets[id(None)]
        return out
    if column == "attention":
        return sorted(rows, key=attention_key, reverse=reverse)
    if column in _NEVER_NONE or None not in map(get, rows):
        return sorted(rows, key=get, reverse=reverse)
    # partition with C-level iterators (a Python loop costs more than the sort here)
    mask = list(map(is_not, map(get, rows), repeat(None)))
    present = list(compress(rows, mask))
    present.sort(key=get, reverse=reverse)
    if len(present) < len(rows):
        present += compress(rows, map(not_, mask))
    return present


_NOTHING = object()


class _Desc:
    """Inverts comparisons, for binary search in a descending list."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]


def _order_key(column: str, reverse: bool) -> Callable[[FleetRow], Any]:
    """A key that increases along a list ordered by ``sort_rows(..., column, reverse)``."""
    ascending = sort_key(column)
    if not reverse:
        return ascending

    def key(row: FleetRow) -> tuple[bool, _Desc]:
        missing, value = ascending(row)
        return missing, _Desc(value)

    return key


def locate_sorted(rows: list[FleetRow], row: FleetRow, column: str, reverse: bool = False) -> int:
    """Index of ``row`` (by identity) in ``rows`` ordered by ``column``; -1 if absent.
    Binary search to the run of equal values, then an identity scan in C."""
    key = _order_key(column, reverse)
    wanted = key(row)
    lo = bisect_left(rows, wanted, key=key)
    hi = bisect_right(rows, wanted, lo=lo, key=key)
    try:
        return lo + indexOf(map(id, islice(rows, lo, hi)), id(row))
    except ValueError:
        return -1


def insert_sorted(
    rows: list[FleetRow],
    new_rows: Iterable[FleetRow],
    column: str,
    reverse: bool = False,
    *,
    presorted: bool = False,
) -> list[FleetRow]:
    """A new list: ``rows`` (already ordered as ``sort_rows`` orders them) with
    ``new_rows`` placed after their equals. Costs O(k log n) comparisons plus one copy,
    instead of re-sorting n rows."""
    key = _order_key(column, reverse)
    out: list[FleetRow] = []
    start = 0
    ordered = new_rows if presorted else sort_rows(new_rows, column, reverse)
    previous: Any = _NOTHING
    for row in ordered:
        wanted = key(row)
        if wanted != previous:  # equal keys share one position (few-valued columns)
            at = bisect_right(rows, wanted, lo=start, key=key)
            out += rows[start:at]
            start = at
            previous = wanted
        out.append(row)
    out += rows[start:]
    return out


def valued_count(rows: list[FleetRow], column: str) -> int:
    """How many rows of a list ordered by ``column`` have a value (rows without one
    form a suffix); a binary search."""
    get = sort_value(column)
    lo, hi = 0, len(rows)
    while lo < hi:
        mid = (lo + hi) // 2
        if get(rows[mid]) is None:
            hi = mid
        else:
            lo = mid + 1
    return lo


def reverse_sorted(rows: list[FleetRow], column: str) -> list[FleetRow]:
    """Flip a list ordered by ``column`` (either way) to the other direction, keeping
    rows without a value last. O(n) in C, no comparisons of values."""
    present = valued_count(rows, column)
    return rows[present - 1 :: -1] + rows[present:] if present else list(rows)

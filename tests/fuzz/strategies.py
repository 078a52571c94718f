"""Hypothesis strategies for hostile platform JSON (for ``test_fuzz.py``, ``platforms/``).

- ``atoms``/``json_values``: random JSON with wrong types, nulls, huge numbers (10**400,
  1e308), NaN/Infinity, odd time and number strings, control characters, lone surrogates and
  very long strings; dict keys come from the platform's own field names so fields get hit.
- ``mutated``: a real payload with a few edits (drop a key, change a type, swap values, null,
  wrap, empty, deep nesting, huge numbers).
- ``bodies``: raw HTTP bodies: rendered JSON (NaN/Infinity tokens), truncated real bodies,
  non-JSON bytes, 500-level and pathological nesting, number tokens JSON cannot hold.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps caches in ./.hypothesis by default; tests must not write into the repo.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "fota-tui-hypothesis")

# One profile for every fuzz test: deterministic (CI), no example database (nothing is
# written into the repo), no deadline (the first example pays for imports).
FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)

# FUZZ_SCALE=20 runs twenty times the examples (a deeper local hunt; CI keeps 1).
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def examples(count: int) -> settings:
    """``FUZZ_SETTINGS`` with ``count`` examples (times ``FUZZ_SCALE``)."""
    return settings(FUZZ_SETTINGS, max_examples=max(1, round(count * SCALE)))


DEEP = 500  # nesting that JSON parsers must survive
PATHOLOGICAL_DEPTH = 100_000  # "[[[[…": 200 KB of brackets

BIG_INTS = (10**400, -(10**400), 2**63, 2**63 - 1, -(2**63) - 1, 2**64, 10**20, 10**4000)
SPECIAL_FLOATS = (
    1e308,
    -1e308,
    5e-324,
    float("nan"),
    float("inf"),
    float("-inf"),
    -0.0,
    0.5,
    3.0,
)
TIME_STRINGS = (
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59.999999-12:00",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01 00:00:00",
    "0001-01-01 07:59:59",
    "9999-12-31 23:59:59",
    "99991231T235959-08:00",
    "00010101T000000+08:00",
    "20151212T121212Z",
    "2021-06-03 00:03:56.079 +0000 UTC",
    "9999-12-31 23:59:59.000 -0100 UTC",
    "2021-01-02 09:02:24:185",
    "2024-02-30T00:00:00Z",
    "2024-01-01T25:00:00Z",
    "20241301T000000Z",
    "20240101T000000+24:00",
    "2024-01-01T00:00:00+23:59",
    "2024-01-01",
    "T",
    "Z",
    "",
    "   ",
)
NUMBER_STRINGS = (
    "0",
    "-1",
    "007",
    "3",
    " 3 ",
    "3.0",
    "1e400",
    "NaN",
    "Infinity",
    "-",
    "--5",
    "0x10",
    "²",
    "١٢٣",
    "9" * 40,
    "1" * 5000,
)
HOSTILE_STRINGS = (
    "\x00",
    "\ud800",
    "a\udfffb",
    "\u202eevil",
    "[b]markup[/b]",
    "\x1b[31mred\x1b]0;title\x07",
    "line\nbreak\r\n",
    "http://[abc/x.bin",
    "ftp://host/pkg.bin",
    '{"VERSION": "1", "URL": "http://[::1/x"}',
    "{not json",
    "CampaignEnded",
    "UpgradeSuccess",
    "SUCCESS",
    "processing",
    "a" * 100_000,
    "界" * 3000,
)


def atoms() -> st.SearchStrategy[Any]:
    """A JSON scalar, biased towards the values that break parsers."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**40), max_value=2**40),
        st.sampled_from(BIG_INTS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(SPECIAL_FLOATS),
        st.text(max_size=12),
        st.sampled_from(TIME_STRINGS),
        st.sampled_from(NUMBER_STRINGS),
        st.sampled_from(HOSTILE_STRINGS),
    )


def deep_value(depth: int = DEEP, as_dict: bool = False) -> Any:
    """``depth`` levels of nesting, built without recursion."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value} if as_dict else [value]
    return value


@functools.cache
def _json_values(keys: tuple[str, ...], max_leaves: int) -> st.SearchStrategy[Any]:
    key = st.sampled_from(list(keys)) | st.text(max_size=6) if keys else st.text(max_size=6)
    return st.recursive(
        atoms(),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(key, children, max_size=6)
        ),
        max_leaves=max_leaves,
    )


def json_values(keys: Sequence[str] = (), max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON document; object keys are mostly the platform's own field names."""
    return _json_values(tuple(keys), max_leaves)


# -- mutations of real payloads ---------------------------------------------------------
NodePath = tuple[str | int, ...]


def _paths(value: Any, limit: int = 400) -> list[NodePath]:
    """Paths of every node (root first), breadth-first, at most ``limit``."""
    out: list[NodePath] = []
    queue: list[tuple[NodePath, Any]] = [((), value)]
    while queue and len(out) < limit:
        path, node = queue.pop(0)
        out.append(path)
        if isinstance(node, dict):
            queue.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            queue.extend(((*path, i), v) for i, v in enumerate(node))
    return out


def _get(value: Any, path: NodePath) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(root: Any, path: NodePath, new: Any) -> Any:
    if not path:
        return new
    _get(root, path[:-1])[path[-1]] = new
    return root


def _drop(root: Any, path: NodePath) -> Any:
    if not path:
        return None
    parent = _get(root, path[:-1])
    del parent[path[-1]]
    return root


def _retyped(node: Any) -> list[Any]:
    """Plausible wrong-type stand-ins for ``node``."""
    if isinstance(node, bool):
        return [str(node).lower(), int(node), None]
    if isinstance(node, int | float):
        return [str(node), [node], bool(node), {"value": node}]
    if isinstance(node, str):
        text = node.strip()
        digits = text.isascii() and text.isdigit() and len(text) < 4000
        return [int(text) if digits else len(node), [node], {"value": node}, node.upper()]
    if isinstance(node, list):
        return [{str(i): v for i, v in enumerate(node)}, node[:1], node[0] if node else None]
    if isinstance(node, dict):
        return [list(node.values()), list(node), json.dumps(node, allow_nan=True)]
    return [0, "", [], {}]


OPS = (
    "drop",
    "null",
    "retype",
    "swap",
    "wrap",
    "empty",
    "replace",
    "hostile",
    "poison",
    "add",
    "dup",
    "deep",
)
ODD_STRINGS = TIME_STRINGS + NUMBER_STRINGS + HOSTILE_STRINGS


def _poison(value: Any, key: str, new: Any) -> None:
    """Set every ``key`` in the document to ``new`` (a field that is always odd)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if key in node:
                node[key] = copy.deepcopy(new)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _keys_in(value: Any) -> list[str]:
    found: dict[str, None] = {}
    stack = [value]
    while stack and len(found) < 200:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(dict.fromkeys(node))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return sorted(found)


@st.composite
def mutated(draw: st.DrawFn, base: Any, keys: Sequence[str] = (), max_ops: int = 4) -> Any:
    """``base`` (left untouched) with 1..``max_ops`` random edits at random places."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_ops))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        node = _get(value, path)
        op = draw(st.sampled_from(OPS))
        if op == "drop" and path:
            value = _drop(value, path)
        elif op == "null":
            value = _set(value, path, None)
        elif op == "retype":
            value = _set(value, path, draw(st.sampled_from(_retyped(node))))
        elif op == "swap" and len(paths) > 1:
            other = draw(st.sampled_from(paths))
            if other[: len(path)] != path and path[: len(other)] != other:  # not nested
                other_node = _get(value, other)
                value = _set(value, path, copy.deepcopy(other_node))
                value = _set(value, other, node)
        elif op == "wrap":
            value = _set(value, path, draw(st.sampled_from([[node], {"data": node}])))
        elif op == "empty":
            value = _set(value, path, draw(st.sampled_from([[], {}, "", 0])))
        elif op == "replace":
            value = _set(value, path, draw(atoms()))
        elif op == "hostile":
            value = _set(value, path, draw(st.sampled_from(ODD_STRINGS)))
        elif op == "poison" and (present := _keys_in(value)):
            odd = st.sampled_from(ODD_STRINGS) | atoms()
            _poison(value, draw(st.sampled_from(present)), draw(odd))
        elif op == "add" and isinstance(node, dict):
            key = draw(st.sampled_from(list(keys)) if keys else st.text(max_size=6))
            node[key] = draw(json_values(keys, max_leaves=4))
        elif op == "dup" and path and isinstance(_get(value, path[:-1]), list):
            _get(value, path[:-1]).append(copy.deepcopy(node))
        elif op == "deep":
            value = _set(value, path, deep_value(DEEP, draw(st.booleans())))
    return value


# Values that break ids, cursors, times and counters; keys that look like those get them
# first (a field that is odd in every record, as a platform bug would make it).
POISON: tuple[Any, ...] = (
    "\ud800",
    "",
    " ",
    "../x?y#z",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01 00:00:00",
    "00010101T000000+08:00",
    "²",
    "1" * 5000,
    10**400,
    -1,
    1e308,
    float("nan"),
    None,
    [],
    {},
)
_HOT_KEY = re.compile(
    r"(id|uuid|imei|cursor|lastseen|time|date|total|count|status|code|errno)$", re.I
)


@st.composite
def poisoned(draw: st.DrawFn, base: Any) -> Any:
    """``base`` with one key set to one poison value everywhere it occurs."""
    value = copy.deepcopy(base)
    present = _keys_in(value)
    if not present:
        return value
    hot = [k for k in present if _HOT_KEY.search(k)]
    keys = st.sampled_from(hot) | st.sampled_from(present) if hot else st.sampled_from(present)
    _poison(value, draw(keys), draw(st.sampled_from(POISON)))
    return value


# -- raw bodies --------------------------------------------------------------------------
def render(value: Any) -> bytes:
    """JSON text as a platform might send it: NaN/Infinity tokens, ASCII escapes."""
    return json.dumps(value, allow_nan=True).encode()


NON_JSON = (
    b"",
    b"   \n",
    b"<html><body>502 Bad Gateway</body></html>",
    b'{"data": [<html>Bad Gateway',
    b"\xff\xfe\x00garbage\x80",
    b"\xef\xbb\xbf{}",
    b"null",
    b"{}",
    b"[]",
    b'"just a string"',
    b"NaN",
    b"-Infinity",
    b'{"a": 1} trailing',
    b"{'single': 'quotes'}",
    b'{"a": 1,}',
    b"\x00\x00\x00",
    "{}".encode("utf-16"),
)


def raw_number_bodies(keys: Sequence[str]) -> st.SearchStrategy[bytes]:
    """Numbers JSON can spell but Python cannot hold as-is (or only as inf)."""
    token = st.sampled_from(["1e400", "-1e400", "9" * 5000, "1" + "0" * 400, "-0", "1E+2"])
    key = st.sampled_from(list(keys)) if keys else st.just("total")
    return st.builds(lambda k, t: f'{{"{k}": {t}}}'.encode(), key, token)


def deep_bodies() -> st.SearchStrategy[bytes]:
    depth = st.sampled_from([DEEP, 5_000, PATHOLOGICAL_DEPTH])
    return st.one_of(
        depth.map(lambda d: b"[" * d + b"]" * d),
        depth.map(lambda d: b'{"a":' * d + b"1" + b"}" * d),
        depth.map(lambda d: b"[" * d),  # never closed
    )


@st.composite
def truncated(draw: st.DrawFn, body: bytes) -> bytes:
    if len(body) < 2:
        return body[:0]
    return body[: draw(st.integers(0, len(body) - 1))]


def bodies(base: bytes | None = None, keys: Sequence[str] = ()) -> st.SearchStrategy[bytes]:
    """An HTTP body: mostly a mutated ``base`` (a real JSON body), else anything hostile."""
    return _bodies(base, tuple(keys))


@functools.cache
def _bodies(base: bytes | None, keys: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    options: list[st.SearchStrategy[bytes]] = [
        json_values(keys).map(render),
        st.sampled_from(NON_JSON),
        st.binary(max_size=64),
        raw_number_bodies(keys),
        deep_bodies(),
    ]
    if base is not None:
        try:
            real = json.loads(base)
        except ValueError:
            return st.one_of(truncated(base), *options)
        mutations = mutated(real, keys).map(render)
        poisons = poisoned(real).map(render)
        options = [mutations, mutations, mutations, poisons, poisons, truncated(base), *options]
    return st.one_of(*options)


def payloads(base: Any | None = None, keys: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    """A decoded JSON value (what a wire model sees): mostly a mutated ``base``."""
    options: list[st.SearchStrategy[Any]] = [
        json_values(keys),
        st.builds(deep_value, st.just(DEEP), st.booleans()),
    ]
    if base is not None:
        mutations, poisons = mutated(base, keys), poisoned(base)
        options = [mutations, mutations, mutations, poisons, poisons, *options]
    return st.one_of(*options)


HEADER_VALUES = (
    "0",
    "-5",
    "1e400",
    "nan",
    "inf",
    "99999999999999999999",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Fri, 31 Dec 9999 23:59:59 -0800",
    "Mon, 01 Jan 0001 00:00:00 +0100",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "not a date",
    "",
)


def header_values() -> st.SearchStrategy[str]:
    return st.sampled_from(HEADER_VALUES) | st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30
    )

"""Wire fuzzing of every adapter, each test parametrized by platform: wire models and
normalizers, the status/time/package helpers, ``_decode``, every paged read against fuzzed
answers, the error-envelope taxonomy and the adapter bugs fuzzing found. What each platform
fuzzes, and its oracles, is in ``platforms/<platform>.py``; the machinery in
``fuzz_harness``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import pytest
from fuzz_harness import (
    Exchange,
    FuzzTransport,
    KnownBug,
    Shape,
    allowed,
    check_error_status,
    check_records,
    fuzz_decode,
    fuzz_pager,
    fuzz_shape,
    json_or_none,
    known_bug_tests,
    record,
    run_op,
    shape_payloads,
)
from hypothesis import given
from hypothesis import strategies as st
from platforms import PLATFORMS
from strategies import bodies, examples, header_values

from fota_tui.errors import ProviderError, ProviderProtocolError


def name(platform: ModuleType) -> str:
    return str(platform.KIND.value)


def by_platform(platforms: Iterable[ModuleType] = PLATFORMS) -> list[Any]:
    return [pytest.param(p, id=name(p)) for p in platforms]


SHAPES = [pytest.param(p, s, id=f"{name(p)}-{s.name}") for p in PLATFORMS for s in p.SHAPES]
PAGERS = [
    pytest.param(p, target, op, id=f"{name(p)}-{target}-{op}")
    for p in PLATFORMS
    for target, op in p.PAGERS
]
FIXED_BUGS = [pytest.param(b, id=f"{name(p)}-{b.id}") for p in PLATFORMS for b in p.FIXED_BUGS]
OPEN_BUG_PLATFORM = {b.id: name(p) for p in PLATFORMS for b in p.KNOWN_BUGS}
HEADERS = st.dictionaries(
    st.sampled_from(["retry-after", "date", "content-type"]), header_values(), max_size=2
)


def unwrap(body: bytes) -> Any:
    return json_or_none(body)[1]


# -- wire models and normalizers ---------------------------------------------------------------
@pytest.mark.parametrize(("platform", "shape"), SHAPES)
@examples(25)
@given(data=st.data())
def test_wire_models_and_normalizers(
    platform: ModuleType, shape: Shape, data: st.DataObject
) -> None:
    payload = data.draw(shape_payloads(platform.PLATFORM, shape, unwrap, platform.KEYS))
    fuzz_shape(shape, payload, platform.KIND, platform.KNOWN_BUGS)


@pytest.mark.parametrize("platform", by_platform())
@examples(100)
@given(data=st.data())
def test_status_time_and_package_functions(platform: ModuleType, data: st.DataObject) -> None:
    drawn = {key: data.draw(values, label=key) for key, values in platform.FUNCTION_VALUES.items()}
    platform.check_functions(**drawn)


# -- the envelope ----------------------------------------------------------------------------------
@pytest.mark.parametrize("platform", by_platform())
def test_decode_envelope(platform: ModuleType) -> None:
    """``_decode`` of fuzzed answers: the status taxonomy, then the platform's 2xx oracle.
    The ``@given`` is per platform: the statuses and example counts differ."""

    @examples(platform.DECODE_EXAMPLES)
    @given(data=st.data(), status=platform.STATUSES, headers=HEADERS)
    def decode(data: st.DataObject, status: int, headers: Any) -> None:
        traffic = record(platform.PLATFORM)
        real = data.draw(st.sampled_from(traffic.exchanges)).body
        body = data.draw(bodies(real, platform.KEYS))
        client = platform.make(platform.OPTIONS, traffic.credentials)
        outcome, value = fuzz_decode(client, status, body, headers, platform.KNOWN_BUGS)
        check_error_status(status, outcome, value, body)
        if status < 400 and outcome != "known":
            platform.check_decode(body, outcome, value)

    decode()


@pytest.mark.parametrize("platform", by_platform(p for p in PLATFORMS if p.TAXONOMY))
def test_error_envelope_maps_to_the_taxonomy(platform: ModuleType) -> None:
    """Well-formed error envelopes (HTTP 200) give the documented errors, not protocol ones."""
    for body, error in platform.TAXONOMY.items():
        with pytest.raises(error):
            platform.decode(200, body)
    for body in platform.NOT_ENVELOPES:
        with pytest.raises(ProviderProtocolError):
            platform.decode(200, body)


# -- paged reads against fuzzed answers ---------------------------------------------------------------
@pytest.mark.parametrize(("platform", "target", "op"), PAGERS)
@examples(15)
@given(data=st.data())
def test_reads_with_fuzzed_answers(
    platform: ModuleType, target: str, op: str, data: st.DataObject
) -> None:
    def draw_body(recorded: Exchange | None) -> bytes:
        return data.draw(bodies(recorded.body if recorded else None, platform.KEYS))

    rounds = data.draw(st.integers(1, 2))
    fuzz_pager(
        platform.PLATFORM,
        target,
        op,
        draw_body,
        rounds,
        platform.KNOWN_BUGS,
        error_envelope=platform.error_envelope,
    )


def replay(recorded: Exchange | None) -> tuple[int, dict[str, str], bytes]:
    assert recorded is not None
    return recorded.status, dict(recorded.headers), recorded.body


@pytest.mark.parametrize("platform", by_platform())
def test_real_traffic_passes_the_oracle(platform: ModuleType) -> None:
    """The recording itself: real answers give records (the oracle is not vacuous)."""
    traffic = record(platform.PLATFORM)
    assert traffic.ids.campaign_id and traffic.ids.device_id
    for target, op in platform.PAGERS:
        transport = FuzzTransport(
            platform.PLATFORM, traffic, target, replay, rounds=1000, quiet=False
        )
        records = asyncio.run(run_op(platform.PLATFORM, traffic, transport, op))
        assert transport.served, (target, op)
        assert op in platform.NO_RECORDS or check_records(records, platform.KIND) >= 1, (target, op)


# -- adapter bugs found by fuzzing ------------------------------------------------------------------
@pytest.mark.parametrize("bug", FIXED_BUGS)
def test_fixed_bug_stays_fixed(bug: KnownBug) -> None:
    """The exact input of a fixed bug: records or a ProviderError (an error status in the
    reproducer maps to its error), never another exception."""
    outcome, _ = allowed(bug.reproduce, also=(ProviderError,))
    assert outcome in ("ok", "protocol", "error")


# Only while there are open bugs (None otherwise: no test that can never run).
test_known_bug_reproducer = known_bug_tests(
    [b for p in PLATFORMS for b in p.KNOWN_BUGS], ids=lambda b: f"{OPEN_BUG_PLATFORM[b.id]}-{b.id}"
)

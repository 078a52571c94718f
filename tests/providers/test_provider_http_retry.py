"""Which body failures reads retry: a body that cannot be decoded (malformed, cut short)
is retried like a transient error; a deterministic one is not; writes never are."""

from __future__ import annotations

import json

import httpx
import pytest

from fota_tui.errors import ProviderBadBody, ProviderProtocolError
from fota_tui.providers.http import RetryPolicy, parse_json, with_retries

BODY = json.dumps({"errno": 0, "data": {"devices": list(range(20))}}).encode()


def response(content: bytes) -> httpx.Response:
    return httpx.Response(200, content=content)


@pytest.mark.parametrize(
    "content", [b'{"data": [<html>Bad Gateway', BODY[: len(BODY) // 2], b"\xff\xfe{}"]
)
def test_an_undecodable_body_is_a_retryable_protocol_error(content: bytes) -> None:
    with pytest.raises(ProviderBadBody) as caught:
        parse_json("p", response(content))
    assert isinstance(caught.value, ProviderProtocolError) and caught.value.retryable
    assert caught.value.title == "Unexpected response" and "not valid JSON" in str(caught.value)


def test_a_body_nested_too_deeply_is_not_retried() -> None:
    with pytest.raises(ProviderProtocolError) as caught:
        parse_json("p", response(b"[" * 100_000 + b"]" * 100_000))
    assert not isinstance(caught.value, ProviderBadBody) and not caught.value.retryable


async def test_with_retries_retries_bad_bodies_up_to_the_policy() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    bodies = [b"{trunc", b'{"data": [<html>', BODY]

    async def read() -> object:
        return parse_json("p", response(bodies.pop(0)))

    assert await with_retries("p", read, policy=RetryPolicy(), sleep=sleep) == json.loads(BODY)
    assert sleeps == [0.5, 1.0]

    bodies[:] = [b"{", b"{", b"{", BODY]
    with pytest.raises(ProviderBadBody):
        await with_retries("p", read, policy=RetryPolicy(attempts=3), sleep=sleep)
    assert bodies == [BODY]  # three tries, then the error

    calls = 0

    async def wrong_shape() -> object:
        nonlocal calls
        calls += 1
        raise ProviderProtocolError("p", "data: expected dict, got list")

    with pytest.raises(ProviderProtocolError):
        await with_retries("p", wrong_shape, policy=RetryPolicy(), sleep=sleep)
    assert calls == 1

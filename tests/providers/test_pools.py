"""Requests over the network go through several small connection pools
(``providers/pools.py``): each to the least busy pool, and each pool's place is freed
when its answer is closed, whatever happened to it."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from fota_tui.models import ProviderKind
from fota_tui.providers.pools import POOL_SIZE, PooledTransport
from fota_tui.sim.clock import ManualClock
from fota_tui.sim.server import Simulator

KIND = ProviderKind.AOVX


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    sim = Simulator.build(clock=ManualClock(), devices=20, kinds=[KIND])
    served = sim.serve()
    yield served
    served.close()


@pytest.mark.loopback
async def test_requests_spread_over_small_pools_and_every_place_is_freed(server) -> None:
    transport = PooledTransport(2 * POOL_SIZE)
    assert len(transport.pools) == 2
    used: Counter[int] = Counter()
    for index, pool in enumerate(transport.pools):
        handle = pool.handle_async_request

        async def counted(request, index=index, handle=handle):  # type: ignore[no-untyped-def]
            used[index] += 1
            return await handle(request)

        pool.handle_async_request = counted  # type: ignore[method-assign]
    base = server.base_urls()[KIND]
    async with httpx.AsyncClient(transport=transport, base_url=base) as client:
        answers = await asyncio.gather(*(client.get("/no/such/path") for _ in range(24)))
        assert all(a.status_code == 404 for a in answers)
        assert transport.busy == [0, 0]  # every answer was read and closed
        assert used[0] >= 6 and used[1] >= 6, used  # both pools carried requests
        async with client.stream("GET", "/no/such/path") as streamed:
            assert sum(transport.busy) == 1  # held while its body is open
            await streamed.aread()
        assert transport.busy == [0, 0]


@pytest.mark.loopback
async def test_a_failed_request_frees_its_place() -> None:
    transport = PooledTransport(POOL_SIZE)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9") as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/")  # nothing listens on the discard port
    assert transport.busy == [0]

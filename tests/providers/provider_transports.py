"""httpx transports the provider tests wrap around the simulator's."""

from __future__ import annotations

import asyncio

import httpx


class Overlap(httpx.AsyncBaseTransport):
    """Yields to the loop inside each request and records how many overlap."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.active, self.peak = inner, 0, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            return await self.inner.handle_async_request(request)
        finally:
            self.active -= 1

"""Requests spread over several small connection pools instead of one large one.

httpcore's pool does its bookkeeping on every pool event by walking all its connections
(and polling each idle socket), so its CPU per request grows with the pool. Measured in
``benchmarks/README.md`` ("Client CPU per request"): OneNET's 24 requests in flight over
one pool of 24 connections cost about twice the client CPU of the same requests over four
pools of six. Each request goes to the pool with the fewest requests in flight; a pool
counts a request until its answer is closed.
"""

from __future__ import annotations

import asyncio
import functools
import math
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx

POOL_SIZE = 6  # connections per pool


@functools.cache
def tls_context(verify: Any = True, cert: Any = None) -> ssl.SSLContext:
    """One TLS context per setting for the whole process: loading the CA store takes tens
    of milliseconds (``warm_up`` does it off the event loop)."""
    return httpx.create_ssl_context(verify=verify, cert=cert)


async def warm_up() -> None:
    """Load the default TLS context in a thread (the load releases the GIL)."""
    await asyncio.to_thread(tls_context)


class PooledTransport(httpx.AsyncBaseTransport):
    def __init__(self, connections: int, *, verify: Any = True, cert: Any = None) -> None:
        count = max(1, math.ceil(connections / POOL_SIZE))
        size = max(1, math.ceil(connections / count))
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        tls = tls_context(verify, cert)
        self.pools = [httpx.AsyncHTTPTransport(limits=limits, verify=tls) for _ in range(count)]
        self.busy = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self.pools)), key=self.busy.__getitem__)
        self.busy[index] += 1
        try:
            response = await self.pools[index].handle_async_request(request)
        except BaseException:
            self.busy[index] -= 1
            raise
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _Released(stream, lambda: self._release(index))
        return response

    def _release(self, index: int) -> None:
        self.busy[index] -= 1

    async def aclose(self) -> None:
        for pool in self.pools:
            await pool.aclose()


class _Released(httpx.AsyncByteStream):
    """The answer's body; closing it frees its pool's place (once)."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Any) -> None:
        self._inner = inner
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self._inner.aclose()
        finally:
            if release is not None:
                release()

"""Faults on the wire that any platform can show: endless pages, gaps, trickled and
inflating bodies. Dialect-neutral: they rewrite requests and answers by their paging field names."""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from fota_tui.sim.http import SimRequest, SimResponse

SLOW_BODY_SECONDS = 30.0  # a trickled answer takes this long to arrive
BOMB_BYTES = 64 * 1024 * 1024  # what a gzip bomb inflates to
_CURSORS = ("lastSeenCampaignId", "lastSeenDeviceId", "lastSeenUpgradeId", "lastSeenUpgrdadeId")
_MORE = ("hasMoreData", "hasMoreFlag")
_TOTALS = ("total_count", "totalCount")
_FIRST = {"page": "1", "pageNo": "0"}
_INDEX = re.compile(r"/index/[^/]+$")


def first_page(request: SimRequest) -> SimRequest:
    """The same request asking for the first page (whatever page or cursor it named)."""
    query = {k: _FIRST.get(k, v) for k, v in request.query.items() if k not in _CURSORS}
    body = request.body
    if body[:1] == b"{":
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and "pageNum" in payload:
            body = json.dumps({**payload, "pageNum": 1}).encode()
    return replace(request, path=_INDEX.sub("/index/0", request.path), query=query, body=body)


def _payload(response: SimResponse) -> Any:
    """A successful JSON answer's body, decoded; None for anything else."""
    if response.status != 200 or not response.body.startswith((b"{", b"[")):
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def endless_page(response: SimResponse) -> SimResponse:
    """The answer, claiming more pages for ever: fresh cursors, a total of 10^15."""
    payload = _payload(response)
    if payload is None:
        return response
    return SimResponse(response.status, json.dumps(_more(payload)).encode(), response.headers)


def _more(value: Any) -> Any:
    if isinstance(value, list):
        return [_more(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _more(v) for k, v in value.items()}
    for key in out:
        if key in _MORE:
            out[key] = True
        elif key in _CURSORS:
            out[key] = str(uuid.uuid4())
        elif key in _TOTALS:
            out[key] = 10**15
    if isinstance(out.get("data"), list) and "total" in out:  # AOVX: total rows, size pages
        out["total"], out["size"] = 10**15, 10**9
    return out


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b'{"data": "' + b" " * BOMB_BYTES + b'"}', compresslevel=9)


def gzip_bomb() -> SimResponse:
    """A small gzip answer that inflates to ``BOMB_BYTES``."""
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    return SimResponse(200, _bomb(), headers)


async def trickle(body: bytes, seconds: float) -> AsyncIterator[bytes]:
    """``body`` a few bytes at a time, spread over ``seconds``."""
    step = max(1, len(body) // 100)
    pause = seconds / max(1, -(-len(body) // step))
    for start in range(0, len(body), step):
        await asyncio.sleep(pause)
        yield body[start : start + step]


def drop_first(response: SimResponse) -> SimResponse:
    """The answer without the first item of its first non-empty list of objects (its
    totals unchanged): a gap in a listing."""
    payload = _payload(response)
    if payload is None or not _drop(payload):
        return response
    return SimResponse(response.status, json.dumps(payload).encode(), response.headers)


def _drop(value: Any) -> bool:
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            del value[0]
            return True
        return any(_drop(v) for v in value)
    if isinstance(value, dict):
        return any(_drop(v) for v in value.values())
    return False

"""Plain request → response plumbing shared by every dialect and both servers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class SimRequest:
    method: str
    path: str  # below the platform prefix, e.g. "/api/fota/v1/upgrades"
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # path parameters

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The JSON body; raises ``BadBody`` when it is not JSON."""
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadBody(str(exc)) from None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


class BadBody(Exception):
    """The request body could not be parsed; dialects answer in their own envelope."""


@dataclass
class SimResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds the body takes to arrive (fault ``slow_body``)

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> SimResponse:
        try:
            body = json.dumps(payload, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate: JSON's own escape carries it
            body = json.dumps(payload).encode()
        return cls(status, body, {"content-type": "application/json", **(headers or {})})


Handler = Callable[[SimRequest], SimResponse]


class Router:
    """Method + path-template routing: ``/campaigns/{account}/{campaign_id}``."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template.rstrip("/") or "/")
        self._routes.append((method.upper(), re.compile(f"^{pattern}/?$"), handler))

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.add(method, template, handler)
            return handler

        return decorate

    def match(self, request: SimRequest) -> tuple[Handler | None, bool]:
        """The handler for a request, and whether the path exists with another method."""
        path_known = False
        for method, pattern, handler in self._routes:
            m = pattern.match(request.path)
            if m is None:
                continue
            path_known = True
            if method == request.method.upper():
                request.params = {k: v for k, v in m.groupdict().items()}
                return handler, True
        return None, path_known

"""Request parsing for the server: configuration from query strings and size-limited JSON bodies."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request

from simtom.errors import ConfigError, SimtomError

#: Query parameters that steer the response rather than configure the scenario.
RESERVED = ("format", "last_event_id", "lastEventId")


class BodyTooLarge(ConfigError):
    """A request body over the server's limit."""

    status = 413


class ClientGone(SimtomError):
    """The client hung up while its request was being read: nobody is left to answer (logged
    at info, answered 499 like nginx's "client closed request")."""

    status = 499


def _value(raw: str) -> Any:
    """A query value: JSON when it parses (numbers, true/false, null, lists), else the string;
    ``12,19`` is the list [12, 19]."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    if "," in raw:
        return [_value(part) for part in raw.split(",")]
    return raw


def query_config(params: QueryParams) -> dict[str, Any]:
    """Configuration options given in the query string (``GET /stream/bnpl?seed=42``).

    A repeated name is a list (``peak_hours=12&peak_hours=19``).
    """
    config: dict[str, Any] = {}
    for key in params:
        if key in RESERVED or key in config:
            continue
        values = params.getlist(key)
        config[key] = _value(values[0]) if len(values) == 1 else [_value(v) for v in values]
    return config


async def read_json_body(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object (an empty body is ``{}``), refusing bodies over ``limit``."""
    allowed = f"a JSON object of at most {limit} bytes"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge("body", f"{declared} bytes", allowed)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge("body", f"more than {limit} bytes", allowed)
            chunks.append(chunk)
    except ClientDisconnect:
        msg = f"body: the client disconnected after {size} bytes of its request body"
        raise ClientGone(msg) from None
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        shown = raw[:60].decode("utf-8", "replace")
        raise ConfigError("body", shown, f"valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise ConfigError("body", body if len(raw) <= 60 else type(body).__name__,
                          "a JSON object of configuration options")
    return body

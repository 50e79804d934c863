"""Small helpers for the pure ASGI middleware (request guard, idempotency)."""

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (`name` lower-case bytes), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value, "latin-1")
    return None


async def read_body(receive: Callable[[], Awaitable[Any]]) -> bytes:
    """The whole request body; stops early when the client disconnects."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)

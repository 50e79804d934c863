"""The edge checks every request passes before any work is done on it (pure ASGI):

* the body is capped — `Content-Length` first, then counted while it streams (chunked bodies
  too) — 413 `request_too_large`; multipart uploads get the upload cap (plus the JSON cap for
  their framing; the files routes apply their own, tighter `file_too_large` rule inside it);
* the path, the query string and urlencoded form fields carry only text the database can store
  (`app.core.schemas.text_problem`, the rule request bodies follow) — else 422
  `validation_failed` naming the parameter.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.core.asgi import header, read_body
from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    problem_response,
    problem_responses,
    validation_failed,
)
from app.core.schemas import text_problem

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MULTIPART_MEDIA_TYPE = "multipart/form-data"

REQUEST_TOO_LARGE_RESPONSES = problem_responses(413)
"""The shared OpenAPI `responses=` entry of every operation that takes a body."""


class _TooLarge(Exception):
    """The body went past the cap while it streamed in."""


def body_cap(content_type: str) -> int:
    """The byte cap of a request body with this Content-Type."""
    settings = get_settings()
    if content_type.lower().startswith(MULTIPART_MEDIA_TYPE):
        return settings.max_upload_bytes + settings.max_body_bytes
    return settings.max_body_bytes


def _too_large(scope: Scope, cap: int) -> JSONResponse:
    return problem_response(
        413,
        "request_too_large",
        f"The request body is larger than the {cap} bytes accepted here.",
        instance=scope.get("path"),
        max_bytes=cap,
    )


def _invalid(scope: Scope, loc: tuple[str | int, ...], msg: str) -> JSONResponse:
    problem = validation_failed("The request is not valid; see errors.", loc=loc, msg=msg)
    return problem_response(
        problem.status, problem.code, problem.detail, instance=scope.get("path"), **problem.extra
    )


def _path_problem(scope: Scope) -> tuple[tuple[str | int, ...], str] | None:
    path = scope.get("path", "")
    problem = text_problem(path)
    if problem is None:
        return None
    # Name the path parameter by the route templates (only on this error path: cheap enough).
    for route in iter_route_contexts(getattr(scope.get("app"), "routes", [])):
        template = route.path_format
        if not template or "{" not in template:
            continue
        found = compile_path(template)[0].match(path)
        for name, value in (found.groupdict() if found else {}).items():
            if text_problem(value):
                return ("path", name), problem
    return ("path",), problem


def _pairs_problem(pairs: list[tuple[str, str]], where: str) -> tuple[tuple[str, str], str] | None:
    for name, value in pairs:
        problem = text_problem(name) or text_problem(value)
        if problem is not None:
            return (where, name), problem
    return None


class RequestGuardMiddleware:
    """Body cap and storable-text check of path, query and form, outside everything that reads
    the body (idempotency hashing, form and JSON parsing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        found = _path_problem(scope)
        query = scope.get("query_string", b"")
        if found is None and query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            found = _pairs_problem(pairs, "query")
        if found is not None:
            await _invalid(scope, *found)(scope, receive, send)
            return

        content_type = header(scope, b"content-type") or ""
        cap = body_cap(content_type)
        declared = header(scope, b"content-length") or ""
        if declared.isdigit() and int(declared) > cap:
            await _too_large(scope, cap)(scope, receive, send)
            return

        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                # The app rendered the error receive() raised (e.g. as a 400): answer 413.
                raise _TooLarge
            started = True
            await send(message)

        app_receive: Callable[[], Any] = counted_receive
        try:
            if content_type.lower().startswith(FORM_MEDIA_TYPE):
                body = await read_body(counted_receive)
                form = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
                if found := _pairs_problem(form, "body"):
                    await _invalid(scope, *found)(scope, receive, send)
                    return
                app_receive = _replay(body, receive)
            await self.app(scope, app_receive, guarded_send)
        except _TooLarge:
            if started:
                raise
            await _too_large(scope, cap)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Callable[[], Any]:
    """A receive() that hands the app the body already read, then waits on the client."""
    pending: bytes | None = body

    async def replay() -> Message:
        nonlocal pending
        if pending is None:
            return await receive()
        chunk, pending = pending, None
        return {"type": "http.request", "body": chunk, "more_body": False}

    return replay


def document_body_limit(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the 413 `request_too_large` response to every operation of an OpenAPI document that
    takes a request body (in place, idempotent; returns the document)."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "413" in responses:
                continue
            responses["413"] = {
                "description": f"{REQUEST_TOO_LARGE_RESPONSES[413]['description']}"
                " — `code` is one of: `request_too_large`.",
                "content": {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
            operation["responses"] = dict(sorted(responses.items()))
    return schema


def install_request_guard(app: FastAPI) -> None:
    """Add the middleware (after the idempotency middleware, so that it runs before it) and
    document its 413 on the operations that take a body (wrapping whatever `app.openapi` is)."""
    app.add_middleware(RequestGuardMiddleware)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return document_body_limit(generate())

    app.openapi = openapi  # type: ignore[method-assign]

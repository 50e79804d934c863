"""Idempotency-Key for unsafe methods: one stored response per (company, user, method, path, key).

Same key + same body → the stored response is replayed; same key + other body → 422;
a duplicate arriving while the first is still running → 409. Validation failures, auth
failures, rate limits and server errors are not stored, so the client can retry them.

A duplicate is answered only after the caller's token passed the same check a route makes
(signed out, password changed, deactivated → the route's 401, never the stored response).
The response is stored before it leaves: it is held back until its last byte, the record
is written, and then it is sent, so a client retrying the moment it has the answer gets the
replay, not a 409. A response larger than `MAX_HELD_BODY` is streamed on once past that
size and stored when it ends, as before.
"""

import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.core.asgi import header, read_body
from app.core.clock import now
from app.core.errors import ProblemError, field_issue, problem_response
from app.core.idempotency_models import IdempotencyRecord
from app.db import session_factory

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NOT_STORED_STATUSES = {401, 408, 422, 428, 429}
MAX_KEY_LENGTH = 255
# Token endpoints are excluded: their responses are credentials and must not be stored.
EXCLUDED_PREFIXES = ("/v1/auth/",)
REPLAY_HEADER = "idempotent-replayed"
# Responses up to this size are held back until stored; larger ones stream on (see above).
MAX_HELD_BODY = 1024 * 1024

log = logging.getLogger("outfield.idempotency")


# The caller's 'company:user' from a bearer token, or None when the token is invalid. Given
# by the app (auth decodes tokens; core knows no domain package).
TokenScope = Callable[[str], str | None]
# The full check a route makes of a bearer token (revoked, signed out, deactivated), raising
# the route's ProblemError; also given by the app.
CallerCheck = Callable[[str], Awaitable[None]]


def _bearer_token(scope: Scope) -> str | None:
    """The bearer token, "" without an Authorization header, None for another scheme."""
    authorization = header(scope, b"authorization")
    if not authorization:
        return ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _caller_scope(token: str | None, token_scope: TokenScope) -> str | None:
    """'company:user' from a valid bearer token, 'anonymous' without one, None if invalid."""
    if token is None:
        return None
    if not token:
        return "anonymous"
    return token_scope(token)


class IdempotencyMiddleware:
    """Pure ASGI middleware so it sees the exact bytes of request and response."""

    def __init__(self, app: ASGIApp, token_scope: TokenScope, caller_check: CallerCheck) -> None:
        self.app = app
        self.token_scope = token_scope
        self.caller_check = caller_check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            return await self.app(scope, receive, send)
        key = header(scope, b"idempotency-key")
        path: str = scope["path"]
        if key is None or path.startswith(EXCLUDED_PREFIXES):
            return await self.app(scope, receive, send)
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            response = problem_response(
                422,
                "invalid_idempotency_key",
                f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} characters.",
                errors=[field_issue(("header", "Idempotency-Key"), "bad length")],
            )
            return await response(scope, receive, send)
        token = _bearer_token(scope)
        caller = _caller_scope(token, self.token_scope)
        if caller is None:
            return await self.app(scope, receive, send)

        body = await read_body(receive)
        digest = hashlib.sha256()
        for part in (
            scope["method"],
            path,
            scope.get("query_string", b"").decode(),
            header(scope, b"content-type") or "",
        ):
            digest.update(part.encode() + b"\0")
        digest.update(body)
        request_hash = digest.hexdigest()
        record_scope = f"{caller}|{scope['method']}|{path}|{key}"

        claimed, existing = await _claim(record_scope, request_hash)
        if not claimed:
            assert existing is not None
            if token:
                try:
                    await self.caller_check(token)
                except ProblemError as exc:
                    response = problem_response(
                        exc.status,
                        exc.code,
                        exc.detail,
                        title=exc.title,
                        instance=path,
                        headers=exc.headers,
                        **exc.extra,
                    )
                    return await response(scope, receive, send)
            return await _answer_duplicate(existing, request_hash, scope, receive, send)

        async def replay_receive() -> Message:
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        held = _HeldResponse(record_scope, send)
        try:
            await self.app(scope, replay_receive, held.send)
        except BaseException:
            if not held.recorded:
                await _forget(record_scope)
            raise
        if not held.recorded:
            # Streamed on past MAX_HELD_BODY (stored now that it ended), or never completed.
            await held.record(complete=held.complete)


class _HeldResponse:
    """The `send` of a first request: holds the response back until its last body message,
    records it (stored, or forgotten when it is not to be kept), then sends it."""

    def __init__(self, record_scope: str, send: Send) -> None:
        self.record_scope = record_scope
        self.downstream = send
        self.status = 500
        self.headers: Iterable[tuple[bytes, bytes]] = []
        self.start: Message | None = None
        self.body = bytearray()
        self.streaming = False
        self.complete = False
        self.recorded = False

    async def record(self, *, complete: bool) -> None:
        self.recorded = True
        if not complete or self.status >= 500 or self.status in NOT_STORED_STATUSES:
            await _forget(self.record_scope)
        else:
            await _store(self.record_scope, self.status, self.headers, bytes(self.body))

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.start = message
            self.status = message["status"]
            self.headers = message.get("headers", [])
            return
        if kind != "http.response.body" or self.start is None:
            return await self.downstream(message)
        self.body.extend(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if self.streaming:
            self.complete = not more
            return await self.downstream(message)
        if more and len(self.body) <= MAX_HELD_BODY:
            return  # keep holding
        if more:
            # Too large to hold: from here on it streams, and is stored when it ends.
            self.streaming = True
            await self.downstream(self.start)
            await self.downstream(
                {"type": "http.response.body", "body": bytes(self.body), "more_body": True}
            )
            return
        self.complete = True
        try:
            await self.record(complete=True)
        except Exception:  # noqa: BLE001 - the work is done and committed: answer anyway
            log.exception("could not store the response of %s", self.record_scope)
            with contextlib.suppress(Exception):
                await _forget(self.record_scope)  # else retries would see 409 until expiry
        await self.downstream(self.start)
        await self.downstream({"type": "http.response.body", "body": bytes(self.body)})


async def _claim(record_scope: str, request_hash: str) -> tuple[bool, IdempotencyRecord | None]:
    """Insert an in-progress record; return (True, None) or (False, the existing record)."""
    at = now()
    ttl = timedelta(seconds=get_settings().idempotency_ttl_s)
    async with session_factory()() as session:
        for _ in range(2):
            inserted = await session.scalar(
                insert(IdempotencyRecord)
                .values(
                    scope=record_scope,
                    request_hash=request_hash,
                    state="in_progress",
                    created_at=at,
                    expires_at=at + ttl,
                )
                .on_conflict_do_nothing(index_elements=["scope"])
                .returning(IdempotencyRecord.scope)
            )
            if inserted is not None:
                await session.commit()
                return True, None
            existing = await session.scalar(
                select(IdempotencyRecord).where(IdempotencyRecord.scope == record_scope)
            )
            if existing is not None and existing.expires_at > at:
                await session.commit()
                return False, existing
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.scope == record_scope, IdempotencyRecord.expires_at <= at
                )
            )
        await session.commit()
    # An expired record was racing with a fresh one: treat as in progress.
    return False, IdempotencyRecord(
        scope=record_scope, request_hash=request_hash, state="in_progress"
    )


async def _answer_duplicate(
    existing: IdempotencyRecord, request_hash: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if existing.request_hash != request_hash:
        response = problem_response(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request.",
            errors=[field_issue(("header", "Idempotency-Key"), "key reused")],
        )
        return await response(scope, receive, send)
    if existing.state != "done":
        response = problem_response(
            409,
            "idempotency_request_in_progress",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
        )
        return await response(scope, receive, send)
    headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in (existing.response_headers or {}).items()
    ]
    headers.append((REPLAY_HEADER.encode(), b"true"))
    await send(
        {"type": "http.response.start", "status": existing.response_status, "headers": headers}
    )
    await send({"type": "http.response.body", "body": existing.response_body or b""})


async def _store(
    record_scope: str, status: int, headers: Iterable[tuple[bytes, bytes]], body: bytes
) -> None:
    kept: dict[str, str] = {}
    for name, value in headers:
        decoded = name.decode("latin-1").lower()
        if decoded in {"content-type", "etag", "location"}:
            kept[decoded] = value.decode("latin-1")
    async with session_factory()() as session:
        record = await session.get(IdempotencyRecord, record_scope)
        if record is not None:
            record.state = "done"
            record.response_status = status
            record.response_headers = kept
            record.response_body = body
            await session.commit()


async def _forget(record_scope: str) -> None:
    async with session_factory()() as session:
        await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.scope == record_scope)
        )
        await session.commit()

"""Idempotency-Key for unsafe methods: one stored response per (company, user, method, path, key).

Same key + same body → the stored response is replayed; same key + other body → 422;
a duplicate arriving while the first is still running → 409. Validation failures, auth
failures, rate limits and server errors are not stored, so the client can retry them.
"""

import hashlib
from collections.abc import Callable, Iterable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.core.clock import now
from app.core.errors import field_issue, problem_response
from app.core.idempotency_models import IdempotencyRecord
from app.db import session_factory

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NOT_STORED_STATUSES = {401, 408, 422, 428, 429}
MAX_KEY_LENGTH = 255
# Token endpoints are excluded: their responses are credentials and must not be stored.
EXCLUDED_PREFIXES = ("/v1/auth/",)
REPLAY_HEADER = "idempotent-replayed"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value, "latin-1")
    return None


# The caller's 'company:user' from a bearer token, or None when the token is invalid. Given
# by the app (auth decodes tokens; core knows no domain package).
TokenScope = Callable[[str], str | None]


def _caller_scope(scope: Scope, token_scope: TokenScope) -> str | None:
    """'company:user' from a valid bearer token, 'anonymous' without one, None if invalid."""
    authorization = _header(scope, b"authorization")
    if not authorization:
        return "anonymous"
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token_scope(token.strip())


class IdempotencyMiddleware:
    """Pure ASGI middleware so it sees the exact bytes of request and response."""

    def __init__(self, app: ASGIApp, token_scope: TokenScope) -> None:
        self.app = app
        self.token_scope = token_scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            return await self.app(scope, receive, send)
        key = _header(scope, b"idempotency-key")
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
        caller = _caller_scope(scope, self.token_scope)
        if caller is None:
            return await self.app(scope, receive, send)

        body = await _read_body(receive)
        digest = hashlib.sha256()
        for part in (
            scope["method"],
            path,
            scope.get("query_string", b"").decode(),
            _header(scope, b"content-type") or "",
        ):
            digest.update(part.encode() + b"\0")
        digest.update(body)
        request_hash = digest.hexdigest()
        record_scope = f"{caller}|{scope['method']}|{path}|{key}"

        claimed, existing = await _claim(record_scope, request_hash)
        if not claimed:
            assert existing is not None
            return await _answer_duplicate(existing, request_hash, scope, receive, send)

        status = 500
        headers: Iterable[tuple[bytes, bytes]] = []
        response_body = bytearray()

        async def replay_receive() -> Message:
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        async def capture_send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
            elif message["type"] == "http.response.body":
                response_body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        except BaseException:
            await _forget(record_scope)
            raise
        if status >= 500 or status in NOT_STORED_STATUSES:
            await _forget(record_scope)
        else:
            await _store(record_scope, status, headers, bytes(response_body))


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


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

import asyncio
import uuid

import httpx
from starlette.types import Message, Receive, Scope, Send

from app.main import app
from tests.helpers import PASSWORD, bearer, client, login, signup


async def test_same_key_same_body_replays_the_stored_response():
    async with client() as http:
        company = await signup(http)
        headers = company.admin | {"Idempotency-Key": "k-1"}
        first = await http.post("/v1/departments", json={"name": "East"}, headers=headers)
        again = await http.post("/v1/departments", json={"name": "East"}, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        listed = (await http.get("/v1/departments", headers=company.admin)).json()["items"]
        assert [d["name"] for d in listed].count("East") == 1


async def test_same_key_different_body_is_422():
    async with client() as http:
        company = await signup(http)
        headers = company.admin | {"Idempotency-Key": "k-2"}
        await http.post("/v1/departments", json={"name": "East"}, headers=headers)
        response = await http.post("/v1/departments", json={"name": "West"}, headers=headers)
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"


async def test_validation_failures_are_not_stored():
    async with client() as http:
        company = await signup(http)
        headers = company.admin | {"Idempotency-Key": "k-3"}
        bad = await http.post("/v1/departments", json={"name": ""}, headers=headers)
        assert bad.status_code == 422
        # The same key with the corrected body is a new request, not a reuse.
        good = await http.post("/v1/departments", json={"name": "Fixed"}, headers=headers)
        assert good.status_code == 201


async def test_keys_are_scoped_per_user():
    async with client() as http:
        company = await signup(http)
        _, other_admin = await company.user("admin")
        first = await http.post(
            "/v1/departments",
            json={"name": "A"},
            headers=company.admin | {"Idempotency-Key": "shared"},
        )
        second = await http.post(
            "/v1/departments",
            json={"name": "A"},
            headers=other_admin | {"Idempotency-Key": "shared"},
        )
        assert first.status_code == second.status_code == 201
        assert first.json()["id"] != second.json()["id"]
        assert "idempotent-replayed" not in second.headers


async def test_concurrent_duplicate_gets_409_and_only_one_record_is_made():
    async with client() as http:
        company = await signup(http)
        headers = company.admin | {"Idempotency-Key": f"c-{uuid.uuid4()}"}
        # Signup-level work (argon2) makes user creation slow enough for the requests to overlap.
        body = {"email": "twin@example.test", "name": "Twin", "password": PASSWORD}
        responses = await asyncio.gather(
            *[http.post("/v1/users", json=body, headers=headers) for _ in range(4)]
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(201) >= 1
        assert set(statuses) <= {201, 409}
        conflicts = [r for r in responses if r.status_code == 409]
        assert all(r.json()["code"] == "idempotency_request_in_progress" for r in conflicts)
        users = (await http.get("/v1/users", params={"limit": 100}, headers=company.admin)).json()[
            "items"
        ]
        assert [u["email"] for u in users].count("twin@example.test") == 1


async def test_overlong_key_is_422():
    async with client() as http:
        company = await signup(http)
        response = await http.post(
            "/v1/departments",
            json={"name": "X"},
            headers=company.admin | {"Idempotency-Key": "k" * 300},
        )
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_idempotency_key"


async def _replay(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await http.post("/v1/departments", json={"name": "East"}, headers=headers)


async def test_no_replay_after_a_password_change():
    async with client() as http:
        company = await signup(http)
        headers = company.admin | {"Idempotency-Key": "k-pw"}
        assert (await _replay(http, headers)).status_code == 201
        changed = await http.post(
            "/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "a-new-password-123"},
            headers=company.admin,
        )
        assert changed.status_code == 204
        again = await _replay(http, headers)
        assert again.status_code == 401
        assert again.json()["code"] == "token_revoked"
        assert again.headers["www-authenticate"] == "Bearer"
        assert "idempotent-replayed" not in again.headers
        # Nor any other answer from the stored record (here: the key reused with another body).
        other = await http.post("/v1/departments", json={"name": "West"}, headers=headers)
        assert other.json()["code"] == "token_revoked"


async def test_no_replay_after_deactivation():
    async with client() as http:
        company = await signup(http)
        admin_id, other_admin = await company.user("admin")
        headers = other_admin | {"Idempotency-Key": "k-deact"}
        assert (await _replay(http, headers)).status_code == 201
        deactivated = await http.post(f"/v1/users/{admin_id}/deactivate", headers=company.admin)
        assert deactivated.status_code == 200
        again = await _replay(http, headers)
        assert again.status_code == 401
        assert again.json()["code"] == "user_deactivated"


async def test_no_replay_after_logout():
    async with client() as http:
        company = await signup(http)
        pair = await login(http, company.admin_email)
        headers = bearer(pair["access_token"]) | {"Idempotency-Key": "k-logout"}
        assert (await _replay(http, headers)).status_code == 201
        assert (await _replay(http, headers)).headers["idempotent-replayed"] == "true"
        await http.post("/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
        again = await _replay(http, headers)
        assert again.status_code == 401
        assert again.json()["code"] == "token_revoked"
        # The same user signed in again still gets the stored response.
        fresh = await login(http, company.admin_email)
        replayed = await _replay(
            http, bearer(fresh["access_token"]) | {"Idempotency-Key": "k-logout"}
        )
        assert replayed.status_code == 201
        assert replayed.headers["idempotent-replayed"] == "true"


async def test_a_retry_the_moment_the_answer_arrives_is_a_replay_not_a_409():
    async with client() as http:
        company = await signup(http)
        headers = company.admin | {"Idempotency-Key": "k-early"}
        retries: list[httpx.Response] = []

        async def retry_on_first_byte(scope: Scope, receive: Receive, send: Send) -> None:
            """The app, with a client that retries as soon as the response starts arriving."""

            async def watching_send(message: Message) -> None:
                if message["type"] == "http.response.start" and not retries:
                    retries.append(await _replay(http, headers))
                await send(message)

            await app(scope, receive, watching_send)

        transport = httpx.ASGITransport(app=retry_on_first_byte)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as first:
            original = await _replay(first, headers)
        assert original.status_code == 201
        [retry] = retries
        assert retry.status_code == 201, retry.text
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.json() == original.json()


def _streaming_app(chunks: list[bytes]):
    """A tiny ASGI app answering 201 in several body messages (as a streaming response does)."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 201, "headers": []})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return asgi


async def _call(asgi, key: str) -> list[Message]:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/stream",
        "query_string": b"",
        "headers": [(b"idempotency-key", key.encode())],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asgi(scope, receive, send)
    return sent


async def _no_check(token: str) -> None:
    raise AssertionError("no bearer token here")


async def test_a_response_in_parts_is_held_whole_but_a_large_one_streams_and_is_stored(
    monkeypatch,
):
    from app.core import idempotency

    monkeypatch.setattr(idempotency, "MAX_HELD_BODY", 10)
    parts = [b"aaaa", b"bbbb", b"cccc", b"dddd"]
    middleware = idempotency.IdempotencyMiddleware(
        _streaming_app(parts), token_scope=lambda token: None, caller_check=_no_check
    )
    small = idempotency.IdempotencyMiddleware(
        _streaming_app(parts[:2]), token_scope=lambda token: None, caller_check=_no_check
    )
    # Under the limit: held, stored, then sent in one piece.
    held = await _call(small, "k-small")
    assert [m["type"] for m in held] == ["http.response.start", "http.response.body"]
    assert held[1]["body"] == b"aaaabbbb"
    # Over it: passed on as it comes (not held whole), and stored when it ended.
    streamed = await _call(middleware, "k-big")
    bodies = [m for m in streamed if m["type"] == "http.response.body"]
    assert len(bodies) > 1
    assert b"".join(m["body"] for m in bodies) == b"".join(parts)
    replay = await _call(middleware, "k-big")
    assert replay[0]["status"] == 201
    assert (b"idempotent-replayed", b"true") in replay[0]["headers"]
    assert replay[1]["body"] == b"".join(parts)

import asyncio
import uuid

from tests.helpers import client, signup


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
        body = {"email": "twin@example.test", "name": "Twin", "password": "password-123"}
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

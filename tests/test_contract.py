"""The served OpenAPI document is the contract: schemathesis generates requests for every
operation (as a rep, a manager and an admin of a seeded company) and checks that the server
never answers 5xx, answers only documented statuses and content types with bodies that match
the schema, and that every 4xx is problem+json with a `code`.

Requests reach the app in-process through schemathesis's ASGI transport, which runs the app on
its own event loop thread: this module therefore swaps the shared engine and Redis client over
to that loop (and back afterwards) instead of using the per-test truncation of conftest.py —
the seeded company stays for the whole module.
"""

import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core.redis import close_redis
from app.db import dispose_engine
from app.main import app
from tests.helpers import PASSWORD

MAX_EXAMPLES = 5
ROLES = ("rep", "manager", "admin")

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# Loading the schema ran a request on schemathesis's loop, which may have made the shared Redis
# client there; the app's lifespan shutdown closes it (and the engine) on that loop, so the
# suite's other tests, on pytest's loop, start with fresh ones. Requests start it again.
asgi.shutdown_lifespans()

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    """Replaces conftest's per-test truncation: the seeded company lives for the module."""
    yield


@pytest.fixture(scope="module")
async def _app_loop() -> Any:
    """The engine and Redis client are re-created on schemathesis's loop, and closed there
    after the module (its lifespan shutdown), so later tests get fresh ones on theirs."""
    await dispose_engine()
    await close_redis()
    yield
    asgi.shutdown_lifespans()


def _ok(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json() if response.content else {}


def _login(http: Any, email: str) -> str:
    body = _ok(http.post("/v1/auth/token", data={"username": email, "password": PASSWORD}))
    return str(body["access_token"])


@pytest.fixture(scope="module")
def seeded(_app_loop: Any) -> dict[str, Any]:
    """A company with a rep, a manager and an admin, and one record of each kind, made through
    the API; returns their tokens and the ids path parameters may take."""
    email = f"admin-{uuid.uuid4().hex[:10]}@example.test"
    with asgi.get_client(app) as http:
        company = _ok(
            http.post(
                "/v1/signup",
                json={
                    "company_name": "Contract",
                    "time_zone": "Asia/Shanghai",
                    "admin_name": "Admin",
                    "email": email,
                    "password": PASSWORD,
                },
            )
        )
        root = company["user"]["department_id"]
        tokens = {"admin": _login(http, email)}
        as_admin = {"Authorization": f"Bearer {tokens['admin']}"}
        ids: dict[str, str] = {"department_id": root}
        for role in ("rep", "manager", "spare"):
            user_email = f"{role}-{uuid.uuid4().hex[:10]}@example.test"
            user = _ok(
                http.post(
                    "/v1/users",
                    json={
                        "email": user_email,
                        "name": role.title(),
                        "role": "rep" if role == "spare" else role,
                        "department_id": root,
                        "password": PASSWORD,
                    },
                    headers=as_admin,
                )
            )
            if role == "spare":  # the one user path parameters name (deactivating it is fine)
                ids["user_id"] = user["id"]
            else:
                tokens[role] = _login(http, user_email)
        as_rep = {"Authorization": f"Bearer {tokens['rep']}"}
        customer = _ok(http.post("/v1/customers", json={"name": "Contract Co"}, headers=as_rep))
        ids["customer_id"] = customer["id"]
        made = [
            ("contact_id", f"/v1/customers/{customer['id']}/contacts", {"name": "Li"}, as_rep),
            (
                "followup_id",
                "/v1/followups",
                {"customer_id": customer["id"], "kind": "call", "text": "Called."},
                as_rep,
            ),
            ("log_id", "/v1/logs", {"text": "A day of visits."}, as_rep),
            (
                "checkin_id",
                "/v1/checkins",
                {
                    "customer_id": customer["id"],
                    "location": {"lat": 31.23, "lng": 121.47},
                    "client_recorded_at": "2026-11-30T09:00:00Z",
                },
                as_rep,
            ),
            (
                "webhook_id",
                "/v1/webhooks",
                {"url": "https://example.com/hooks", "event_types": ["followup.created"]},
                as_admin,
            ),
            ("device_id", "/v1/devices", {"platform": "fcm", "token": "t" * 32}, as_rep),
        ]
        for key, path, body, headers in made:
            response = http.post(path, json=body, headers=headers)
            if response.status_code in (200, 201):
                ids[key] = response.json()["id"]
        pools = _ok(http.get("/v1/pools", headers=as_admin))
        items = pools if isinstance(pools, list) else pools.get("items", [])
        if items:
            ids["pool_id"] = items[0]["id"]
        feed = _ok(http.get("/v1/feed", headers=as_rep))
        if feed.get("items"):
            ids["item_id"] = feed["items"][0]["id"]
            comment = http.post(
                f"/v1/feed/{ids['item_id']}/comments", json={"body": "Nice."}, headers=as_rep
            )
            if comment.status_code in (200, 201):
                ids["comment_id"] = comment.json()["id"]
    return {"tokens": tokens, "ids": ids}


def _with_seeded_ids(case: Any, ids: dict[str, str]) -> None:
    """Most generated path ids become seeded ones (the rest stay random: the 404 paths)."""
    for name, value in list((case.path_parameters or {}).items()):
        # crc32, not hash(): str hashes change per process, and the run must be repeatable.
        if name in ids and zlib.crc32(str(value).encode()) % 4:
            case.path_parameters[name] = ids[name]


def _assert_problem(response: Any) -> None:
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith("application/problem+json"), response.text
        assert response.json().get("code"), response.text


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    # Generated examples only: the explicit/coverage phase adds an unbounded number per
    # operation, and shrinking a failure can take minutes (the CLI run does both).
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case: Any, role: str, seeded: dict[str, Any]) -> None:
    _with_seeded_ids(case, seeded["ids"])
    headers = {"Authorization": f"Bearer {seeded['tokens'][role]}"}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    _assert_problem(response)

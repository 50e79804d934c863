"""Strict types at the edge: no lax coercion of booleans, numbers and times (issue 12)."""

import uuid

import pytest

from tests.helpers import client, signup

CUSTOMER = str(uuid.uuid4())
NOW = "2026-11-30T09:00:00Z"


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        # a boolean is not an integer
        (
            "/v1/visit-plans",
            {"customer_id": CUSTOMER, "plan_date": "2026-12-01", "sequence": False},
            ["body", "sequence"],
        ),
        # a number is not a date, nor a time of day
        ("/v1/visit-plans", {"customer_id": CUSTOMER, "plan_date": 0}, ["body", "plan_date"]),
        (
            "/v1/visit-plans",
            {"customer_id": CUSTOMER, "plan_date": "2026-12-01", "planned_time": 3600},
            ["body", "planned_time"],
        ),
        # `true` is not a latitude, "1" is not a number, 0.5 is not a time
        (
            "/v1/checkins",
            {
                "customer_id": CUSTOMER,
                "location": {"lat": True, "lng": 121.4},
                "client_recorded_at": NOW,
            },
            ["body", "location", "lat"],
        ),
        (
            "/v1/checkins",
            {
                "customer_id": CUSTOMER,
                "location": {"lat": 31.2, "lng": "121.4"},
                "client_recorded_at": NOW,
            },
            ["body", "location", "lng"],
        ),
        (
            "/v1/checkins",
            {
                "customer_id": CUSTOMER,
                "location": {"lat": 31.2, "lng": 121.4},
                "client_recorded_at": 0.5,
            },
            ["body", "client_recorded_at"],
        ),
        # a string is not a boolean
        (
            "/v1/checkins",
            {
                "customer_id": CUSTOMER,
                "location": {"lat": 31.2, "lng": 121.4},
                "client_recorded_at": NOW,
                "offline": "true",
            },
            ["body", "offline"],
        ),
    ],
)
async def test_lax_json_values_are_422(path, body, loc):
    async with client() as http:
        company = await signup(http)
        response = await http.post(path, json=body, headers=company.admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert loc in [error["loc"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/v1/checkins", {"to": "0.5"}, "to"),
        ("/v1/checkins", {"from": "1700000000"}, "from"),
        ("/v1/checkins", {"flagged": "1"}, "flagged"),
        ("/v1/followups", {"from": "20240101"}, "from"),
        ("/v1/logs", {"from": "0"}, "from"),
        ("/v1/users", {"active": "yes"}, "active"),
        ("/v1/customers", {"owner": "someone"}, "owner"),
        ("/v1/customers", {"near": "1e1,2"}, "near"),
        ("/v1/customers", {"cf": "no-separator"}, "cf"),
    ],
)
async def test_lax_query_values_are_422(path, params, name):
    async with client() as http:
        company = await signup(http)
        response = await http.get(path, params=params, headers=company.admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:2] == ["query", name]


async def test_the_declared_forms_still_parse():
    async with client() as http:
        company = await signup(http)
        for path, params in [
            ("/v1/checkins", {"from": "2026-01-01T00:00:00Z", "to": NOW, "flagged": "false"}),
            ("/v1/followups", {"from": "2026-01-01T08:00:00+08:00"}),
            ("/v1/logs", {"from": "2026-01-01", "to": "2026-12-31"}),
            ("/v1/users", {"active": "true"}),
            ("/v1/customers", {"owner": "me", "near": "31.2,121.4", "cf": "grade:A"}),
        ]:
            response = await http.get(path, params=params, headers=company.admin)
            assert response.status_code == 200, (path, response.text)


async def test_a_body_of_the_body_base_is_strict_too():
    async with client() as http:
        company = await signup(http)
        response = await http.put(
            "/v1/notifications/preferences",
            json={"muted_kinds": [], "quiet_start": "22:00", "quiet_end": 0},
            headers=company.admin,
        )
    assert response.status_code == 422, response.text
    assert ["body", "quiet_end"] in [error["loc"] for error in response.json()["errors"]]

"""Visit suggestions: held customers due a visit by their tier's frequency, most overdue first."""

from datetime import UTC, datetime

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup

# Monday 2026-11-23 09:00 in Shanghai.
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
AT = {"lat": 31.2, "lng": 121.4}
URL = "/v1/visit-plans/suggestions"


async def visit(http, rep, customer_id, when: str, **extra):
    body = {
        "customer_id": customer_id,
        "location": AT | {"accuracy_m": 10},
        "client_recorded_at": when,
        "offline": True,
    } | extra
    response = await http.post("/v1/checkins", json=body, headers=rep)
    assert response.status_code == 201, response.text


async def test_due_customers_by_tier_most_overdue_first_planned_ones_left_out():
    clock.freeze(NOW)
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        _, peer = await company.user("rep")
        # A: every 7.5 days (4 a month); B: every 15 days; C: every 90 days (1 a quarter).
        a_late = await create_customer(http, rep, "A late", tier="A", location=AT)
        a_fresh = await create_customer(http, rep, "A fresh", tier="A", location=AT)
        b_late = await create_customer(http, rep, "B late", tier="B", location=AT)
        c_never = await create_customer(http, rep, "C never", tier="C")
        assert c_never["tier"] == "C"
        c_fresh = await create_customer(http, rep, "C fresh", tier="C", location=AT)
        await create_customer(http, rep, "Untiered never")  # 0 visits: never due
        a_planned = await create_customer(http, rep, "A planned", tier="A", location=AT)
        await create_customer(http, peer, "Peer's A", tier="A")  # not the caller's
        # Local midnight of the 23rd is 2026-11-22T16:00Z.
        await visit(http, rep, a_late["id"], "2026-11-12T16:00:00Z")  # 10 days: 2.5 overdue
        await visit(http, rep, a_fresh["id"], "2026-11-19T16:00:00Z")  # 3 days: not due
        await visit(http, rep, b_late["id"], "2026-11-02T16:00:00Z")  # 20 days: 5 overdue
        await visit(http, rep, c_fresh["id"], "2026-10-01T16:00:00Z")  # 52 days: not due
        await visit(http, rep, a_planned["id"], "2026-11-01T16:00:00Z")
        # A mocked check-in is no visit: "A late" is still 10 days since.
        await visit(http, rep, a_late["id"], "2026-11-22T00:00:00Z", mock_location=True)
        made = await http.post(
            "/v1/visit-plans",
            json={"customer_id": a_planned["id"], "plan_date": "2026-11-23"},
            headers=rep,
        )
        assert made.status_code == 201
        response = await http.get(URL, params={"date": "2026-11-23"}, headers=rep)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [i["customer_name"] for i in items] == ["C never", "B late", "A late"]
        never, b, a = items
        assert never["last_visit_at"] is None and never["days_overdue"] is None
        assert never["tier"] == "C" and never["interval_days"] == 90
        assert b["days_overdue"] == 5.0 and b["interval_days"] == 15
        assert a["days_overdue"] == 2.5 and a["last_visit_at"] == "2026-11-12T16:00:00Z"
        assert a["customer_id"] == a_late["id"] and a["purposes"] == ["new_business"]
        assert a["distance_m"] is None and a["location"]["lat"] == AT["lat"]
        # Another day: on the 26th "A fresh" is 6 days since (not due), "A planned" is due.
        later = (await http.get(URL, params={"date": "2026-11-26"}, headers=rep)).json()
        assert [i["customer_name"] for i in later["items"]] == [
            "C never",
            "A planned",
            "B late",
            "A late",
        ]
        # near: distances; limit.
        near = await http.get(
            URL, params={"date": "2026-11-23", "near": "31.2,121.41", "limit": 2}, headers=rep
        )
        found = near.json()["items"]
        assert len(found) == 2 and found[0]["distance_m"] is None
        assert 940 < found[1]["distance_m"] < 960  # 0.01° of longitude at 31.2°N
        # The peer sees only their own.
        theirs = (await http.get(URL, params={"date": "2026-11-23"}, headers=peer)).json()
        assert [i["customer_name"] for i in theirs["items"]] == ["Peer's A"]
        assert rep_id


async def test_near_must_be_lat_lng():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        for bad in ("31.2", "a,b", "91,0", "31,121,5"):
            response = await http.get(URL, params={"near": bad}, headers=rep)
            assert response.status_code == 422, bad
            assert response.json()["errors"][0]["loc"] == ["query", "near"]

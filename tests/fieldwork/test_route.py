"""Today's route: OR-Tools reorders a day's plans (straight lines × detour), keeps planned
times in their windows, saves the order under the day's ETag."""

import random
import time
from datetime import UTC, datetime

from app.core import clock
from app.fieldwork.plans import route
from tests.customers.helpers import create_customer
from tests.helpers import client, signup

# Monday 2026-11-23 07:00 in Shanghai (before the 09:00 workday start).
EARLY = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
DAY = "2026-11-23"
LAT = 31.2
START = {"lat": LAT, "lng": 121.40}
OPTIMIZE = "/v1/visit-plans/optimize"


def on_line(k: int) -> dict:
    """Stop k of the line: k km east of START (0.01° of longitude ≈ 0.95 km at 31.2°N)."""
    return {"lat": LAT, "lng": round(121.40 + 0.01 * k, 5)}


async def plan(http, headers, customer_id, sequence, **extra) -> dict:
    body = {"customer_id": customer_id, "plan_date": DAY, "sequence": sequence} | extra
    made = await http.post("/v1/visit-plans", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


async def day_etag(http, headers, **params) -> str:
    response = await http.get("/v1/visit-plans", params={"date": DAY} | params, headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def line_of_six(http, rep) -> dict[int, str]:
    """Six customers 1..6 km east of START, planned in a shuffled order; plan id by km."""
    plans = {}
    for sequence, k in enumerate([4, 1, 6, 2, 5, 3]):
        customer = await create_customer(http, rep, f"Stop {k}", location=on_line(k), tier="C")
        plans[k] = (await plan(http, rep, customer["id"], sequence))["id"]
    return plans


async def test_six_points_on_a_line_are_visited_in_order_and_the_order_is_saved():
    clock.freeze(EARLY)
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        plans = await line_of_six(http, rep)
        etag = await day_etag(http, rep)
        response = await http.post(
            OPTIMIZE, params={"date": DAY}, json={"start": START}, headers=rep | {"If-Match": etag}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert [item["id"] for item in body["items"]] == [plans[k] for k in range(1, 7)]
        assert [item["sequence"] for item in body["items"]] == [1, 2, 3, 4, 5, 6]
        assert body["distance_model"] == "straight_line" and body["detour_factor"] == 1.3
        assert body["improved"] is True and body["saved"] is True
        # Before: 0→4→1→6→2→5→3 = 4+3+5+4+3+2 = 21 legs of 0.01°; after: 0→…→6 = 6.
        leg = route.Model().leg_m(route.Point(LAT, 121.40), route.Point(LAT, 121.41))
        assert abs(body["distance_m_before"] - 21 * leg) < 2
        assert abs(body["distance_m_after"] - 6 * leg) < 1
        # C customers: 20 minutes a visit (default policy), 30 km/h; leaving at 09:00.
        assert body["depart_at"] == "2026-11-23T09:00:00+08:00"
        travel = 6 * leg / (30 / 3.6)
        assert abs(body["duration_s_after"] - (travel + 6 * 1200)) <= 2
        assert body["duration_s_before"] > body["duration_s_after"]
        first = body["items"][0]
        assert first["routed"] is True and abs(first["leg_distance_m"] - leg) < 1
        assert first["arrival_at"].startswith("2026-11-23T09:02")  # 1.24 km at 30 km/h
        assert first["late_s"] is None  # no planned time
        # Saved: the day route reads in the new order, under the ETag the answer gave.
        again = await http.get("/v1/visit-plans", params={"date": DAY}, headers=rep)
        assert [p["id"] for p in again.json()["items"]] == [plans[k] for k in range(1, 7)]
        assert again.headers["etag"] == response.headers["etag"] != etag
        # Only the plans whose sequence changed have a new version (plan 1 had sequence 1).
        versions = {p["id"]: p["version"] for p in again.json()["items"]}
        assert versions == {plans[k]: 1 if k == 1 else 2 for k in range(1, 7)}


async def test_a_fixed_time_stop_stays_in_its_window_and_if_match_is_required():
    clock.freeze(EARLY)
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customers = {}
        for k in range(1, 7):
            customers[k] = await create_customer(
                http, rep, f"Stop {k}", location=on_line(k), tier="C"
            )
        plans = {}
        for sequence, k in enumerate([4, 1, 6, 2, 5, 3]):
            # The farthest stop (6 km) is booked at 09:00: it must come first, 09:00 ± 30 min.
            extra = {"planned_time": "09:00"} if k == 6 else {}
            plans[k] = (await plan(http, rep, customers[k]["id"], sequence, **extra))["id"]
        body = {"start": START}
        assert (await http.post(OPTIMIZE, params={"date": DAY}, json=body, headers=rep)).json()[
            "code"
        ] == "if_match_required"
        stale = await http.post(
            OPTIMIZE, params={"date": DAY}, json=body, headers=rep | {"If-Match": '"1"'}
        )
        assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
        etag = await day_etag(http, rep)
        response = await http.post(
            OPTIMIZE, params={"date": DAY}, json=body, headers=rep | {"If-Match": etag}
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert items[0]["id"] == plans[6]
        assert items[0]["late_s"] == 0
        arrival = datetime.fromisoformat(items[0]["arrival_at"])
        assert datetime(2026, 11, 23, 0, 30, tzinfo=UTC) <= arrival
        assert arrival <= datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
        # Then back west along the line: 5, 4, 3, 2, 1.
        assert [item["id"] for item in items[1:]] == [plans[k] for k in (5, 4, 3, 2, 1)]
        # The ETag of the day moved: the old one is stale now.
        replay = await http.post(
            OPTIMIZE, params={"date": DAY}, json=body, headers=rep | {"If-Match": etag}
        )
        assert replay.status_code == 412


async def test_a_window_later_in_the_day_makes_the_route_wait_not_skip_it():
    clock.freeze(EARLY)
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        plans = {}
        for sequence, k in enumerate([1, 2, 3]):
            customer = await create_customer(http, rep, f"Stop {k}", location=on_line(k), tier="C")
            # The nearest stop is booked at 14:00: visit 2 and 3 first, then come back.
            extra = {"planned_time": "14:00"} if k == 1 else {}
            plans[k] = (await plan(http, rep, customer["id"], sequence, **extra))["id"]
        response = await http.post(
            OPTIMIZE, params={"date": DAY}, json={"start": START, "save": False}, headers=rep
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["saved"] is False
        # 0→2→3→1 or 0→3→2→1: the same length, and neither waits before 13:30.
        assert {item["id"] for item in body["items"][:2]} == {plans[2], plans[3]}
        assert body["items"][2]["id"] == plans[1]
        last = body["items"][-1]
        assert last["arrival_at"] == "2026-11-23T13:30:00+08:00" and last["late_s"] == 0
        # Not saved: the day is as it was.
        route_now = (await http.get("/v1/visit-plans", params={"date": DAY}, headers=rep)).json()
        assert [p["id"] for p in route_now["items"]] == [plans[1], plans[2], plans[3]]


async def test_visited_plans_stay_first_unlocated_go_last_and_an_end_point_counts():
    clock.freeze(EARLY)
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        nowhere = await create_customer(http, rep, "Nowhere", tier="C")
        far = await create_customer(http, rep, "Far", location=on_line(5), tier="C")
        near = await create_customer(http, rep, "Near", location=on_line(1), tier="C")
        visited = await create_customer(http, rep, "Visited", location=on_line(3), tier="C")
        p_nowhere = (await plan(http, rep, nowhere["id"], 0))["id"]
        p_far = (await plan(http, rep, far["id"], 1))["id"]
        p_near = (await plan(http, rep, near["id"], 2))["id"]
        p_visited = (await plan(http, rep, visited["id"], 3))["id"]
        checkin = await http.post(
            "/v1/checkins",
            json={
                "customer_id": visited["id"],
                "location": on_line(3) | {"accuracy_m": 10},
                "client_recorded_at": "2026-11-22T23:00:00Z",
            },
            headers=rep,
        )
        assert checkin.status_code == 201, checkin.text
        etag = await day_etag(http, rep)
        # Ending far east: near first, then far.
        response = await http.post(
            OPTIMIZE,
            params={"date": DAY},
            json={"start": START, "end": on_line(8)},
            headers=rep | {"If-Match": etag},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert [i["id"] for i in body["items"]] == [p_visited, p_near, p_far, p_nowhere]
        assert [i["routed"] for i in body["items"]] == [False, True, True, False]
        assert body["unlocated_plan_ids"] == [p_nowhere]
        leg = route.Model().leg_m(route.Point(LAT, 121.40), route.Point(LAT, 121.41))
        assert abs(body["distance_m_after"] - 8 * leg) < 1


async def test_managers_route_their_reps_and_nobody_else_does():
    clock.freeze(EARLY)
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        other = await company.department("Other")
        rep_id, rep = await company.user("rep", team)
        _, peer = await company.user("rep", team)
        _, manager = await company.user("manager", team)
        _, other_manager = await company.user("manager", other)
        await line_of_six(http, rep)
        params = {"date": DAY, "user": rep_id}
        body = {"start": START, "save": False}
        ok = await http.post(OPTIMIZE, params=params, json=body, headers=manager)
        assert ok.status_code == 200 and len(ok.json()["items"]) == 6
        assert ok.json()["user_id"] == rep_id
        assert (
            await http.post(OPTIMIZE, params=params, json=body, headers=peer)
        ).status_code == 403
        outside = await http.post(OPTIMIZE, params=params, json=body, headers=other_manager)
        assert outside.status_code == 404
        stranger = await signup(http, "Other Co")
        elsewhere = await http.post(OPTIMIZE, params=params, json=body, headers=stranger.admin)
        assert elsewhere.status_code == 404
        # A manager's If-Match is the rep's day ETag (GET with ?user=).
        etag = await day_etag(http, manager, user=rep_id)
        saved = await http.post(
            OPTIMIZE,
            params=params,
            json={"start": START},
            headers=manager | {"If-Match": etag},
        )
        assert saved.status_code == 200 and saved.json()["saved"] is True
        bad = await http.post(OPTIMIZE, params=params, json={"start": {"lat": 91, "lng": 0}})
        assert bad.status_code == 401


def test_thirty_stops_are_solved_within_two_seconds_and_beat_the_given_order():
    random.seed(30)
    start = route.Point(31.2, 121.4)
    stops = [
        route.Stop(route.Point(31.2 + random.random() * 0.2, 121.4 + random.random() * 0.2), 1200)
        for _ in range(30)
    ]
    model = route.Model()
    # Stop 7 is due on arrival, straight from the start (plus five minutes).
    direct = model.travel_s(model.leg_m(start, stops[7].point))
    stops[7] = route.Stop(stops[7].point, 1200, (0, round(direct) + 300))
    began = time.perf_counter()
    before, after = route.optimize(model, start, None, stops)
    assert time.perf_counter() - began < 2.0
    assert sorted(after.order) == list(range(30))
    assert after.distance_m < before.distance_m * 0.6
    assert after.late_s == 0
    assert after.order[0] == 7 and before.late_s > 0

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from app.core import clock
from app.core.geo import wgs84_to_bd09, wgs84_to_gcj02
from tests.customers.helpers import create_customer
from tests.helpers import client, signup

CUSTOMER_AT = {"lat": 39.9087, "lng": 116.3975}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def checkin_body(customer_id: str, lat: float, lng: float, crs: str = "wgs84", **extra) -> dict:
    return {
        "customer_id": customer_id,
        "location": {"lat": lat, "lng": lng, "accuracy_m": 15, "crs": crs},
        "client_recorded_at": iso(clock.now()),
        "purpose": "拜访 visit",
    } | extra


async def test_check_in_records_distance_flags_and_moves_the_follow_up_clock():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        before = customer["recycle_at"]
        clock.advance(timedelta(days=3))
        rep = await company.relogin(next(iter(company.emails)))
        response = await http.post(
            "/v1/checkins", json=checkin_body(customer["id"], 39.9090, 116.3975), headers=rep
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert 30 < body["distance_m"] < 40 and body["flags"] == [] and body["counts_as_followup"]
        after = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).json()
        assert after["recycle_at"] > before and after["last_followup_at"] is not None


async def test_same_physical_point_in_three_crs_gives_the_same_distance():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        wgs = (39.9120, 116.4010)
        gcj = wgs84_to_gcj02(*wgs)
        bd = wgs84_to_bd09(*wgs)
        distances = []
        for (lat, lng), crs in ((wgs, "wgs84"), (gcj, "gcj02"), (bd, "bd09")):
            response = await http.post(
                "/v1/checkins", json=checkin_body(customer["id"], lat, lng, crs), headers=rep
            )
            assert response.status_code == 201
            assert response.json()["submitted_crs"] == crs
            distances.append(response.json()["distance_m"])
        assert max(distances) - min(distances) < 5


async def test_far_and_mocked_check_ins_are_kept_flagged_and_do_not_move_the_clock():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        before = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).json()[
            "recycle_at"
        ]
        far = await http.post(
            "/v1/checkins",
            json=checkin_body(customer["id"], 39.95, 116.3975, mock_location=True),
            headers=rep,
        )
        assert far.status_code == 201
        codes = {flag["code"] for flag in far.json()["flags"]}
        assert codes == {"far_from_customer", "mock_location"}
        assert far.json()["counts_as_followup"] is False
        after = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).json()[
            "recycle_at"
        ]
        assert after == before
        flagged = (
            await http.get("/v1/checkins", params={"flagged": "true"}, headers=company.admin)
        ).json()["items"]
        assert [c["id"] for c in flagged] == [far.json()["id"]]


async def test_impossible_speed_and_duplicate_position_against_earlier_check_ins():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        beijing = await create_customer(http, rep, "Beijing Co", location=CUSTOMER_AT)
        shanghai = await create_customer(
            http, rep, "Shanghai Co", location={"lat": 31.2304, "lng": 121.4737}
        )
        first = await http.post(
            "/v1/checkins", json=checkin_body(beijing["id"], 39.9087, 116.3975), headers=rep
        )
        assert first.json()["flags"] == []
        jump = await http.post(
            "/v1/checkins", json=checkin_body(shanghai["id"], 31.2304, 121.4737), headers=rep
        )
        speed = next(f for f in jump.json()["flags"] if f["code"] == "impossible_speed")
        assert speed["distance_m"] > 1_000_000
        clock.advance(timedelta(days=1))
        rep = await company.relogin(next(iter(company.emails)))
        replayed = await http.post(
            "/v1/checkins", json=checkin_body(beijing["id"], 39.9087, 116.3975), headers=rep
        )
        assert "duplicate_position" in {f["code"] for f in replayed.json()["flags"]}


async def test_clock_skew_online_but_not_for_late_offline_submissions():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        late = iso(clock.now() - timedelta(hours=3))
        online = await http.post(
            "/v1/checkins",
            json=checkin_body(customer["id"], 39.9087, 116.3975, client_recorded_at=late),
            headers=rep,
        )
        skew = next(f for f in online.json()["flags"] if f["code"] == "clock_skew")
        assert skew["skew_s"] < -10000
        offline = await http.post(
            "/v1/checkins",
            json=checkin_body(
                customer["id"], 39.90871, 116.39751, client_recorded_at=late, offline=True
            ),
            headers=rep,
        )
        assert "clock_skew" not in {f["code"] for f in offline.json()["flags"]}


async def test_retry_with_the_same_id_returns_the_same_check_in():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        body = checkin_body(customer["id"], 39.9087, 116.3975, id=str(uuid.uuid4()))
        first = await http.post("/v1/checkins", json=body, headers=rep)
        again = await http.post("/v1/checkins", json=body, headers=rep)
        assert first.status_code == 201 and again.status_code == 200
        assert again.json() == first.json()
        other = await http.post("/v1/checkins", json=body | {"note": "changed"}, headers=rep)
        assert other.status_code == 409
        listed = (await http.get("/v1/checkins", headers=rep)).json()["items"]
        assert len(listed) == 1


async def test_checkout_records_the_duration_once():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        checkin = (
            await http.post(
                "/v1/checkins", json=checkin_body(customer["id"], 39.9087, 116.3975), headers=rep
            )
        ).json()
        leave = iso(
            datetime.fromisoformat(checkin["client_recorded_at"].replace("Z", "+00:00"))
            + timedelta(minutes=45)
        )
        out = await http.post(
            f"/v1/checkins/{checkin['id']}/checkout",
            json={"client_recorded_at": leave},
            headers=rep,
        )
        assert out.status_code == 200 and out.json()["duration_s"] == 2700
        again = await http.post(f"/v1/checkins/{checkin['id']}/checkout", json={}, headers=rep)
        assert again.json()["duration_s"] == 2700
        not_mine = await http.post(f"/v1/checkins/{checkin['id']}/checkout", headers=company.admin)
        assert not_mine.status_code == 403


async def test_concurrent_check_outs_are_decided_once_and_all_answer_the_stored_visit():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        checkin = (
            await http.post(
                "/v1/checkins", json=checkin_body(customer["id"], 39.9087, 116.3975), headers=rep
            )
        ).json()
    start = datetime.fromisoformat(checkin["client_recorded_at"].replace("Z", "+00:00"))
    # Eight check-outs at once, each through its own client (its own request and session),
    # each with another time: one is stored, and every answer is that one.
    clients = [client() for _ in range(8)]
    try:
        answers = await asyncio.gather(
            *(
                each.post(
                    f"/v1/checkins/{checkin['id']}/checkout",
                    json={"client_recorded_at": iso(start + timedelta(minutes=10 + n))},
                    headers=rep,
                )
                for n, each in enumerate(clients)
            )
        )
    finally:
        for each in clients:
            await each.aclose()
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    async with client() as http:
        stored = (await http.get(f"/v1/checkins/{checkin['id']}", headers=rep)).json()
    assert stored["checked_out_at"] is not None
    assert {(a.json()["checked_out_at"], a.json()["duration_s"]) for a in answers} == {
        (stored["checked_out_at"], stored["duration_s"])
    }


async def test_check_in_visibility_for_rep_collaborator_manager_and_other_company():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        west = await company.department("West")
        _, rep = await company.user("rep", east)
        collaborator_id, collaborator = await company.user("rep", west)
        _, stranger = await company.user("rep", west)
        _, east_manager = await company.user("manager", east)
        _, west_manager = await company.user("manager", west)
        other = await signup(http, "Other")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": collaborator_id, "role": "technical"},
            headers=rep,
        )
        checkin = (
            await http.post(
                "/v1/checkins", json=checkin_body(customer["id"], 39.9087, 116.3975), headers=rep
            )
        ).json()
        url = f"/v1/checkins/{checkin['id']}"
        expected = {
            "rep": 200,
            "collaborator": 200,
            "east_manager": 200,
            "stranger": 404,
            "west_manager": 404,
        }
        people = {
            "rep": rep,
            "collaborator": collaborator,
            "east_manager": east_manager,
            "stranger": stranger,
            "west_manager": west_manager,
        }
        for who, status in expected.items():
            assert (await http.get(url, headers=people[who])).status_code == status, who
            listed = (await http.get("/v1/checkins", headers=people[who])).json()["items"]
            assert (checkin["id"] in {c["id"] for c in listed}) == (status == 200), who
        assert (await http.get(url, headers=other.admin)).status_code == 404
        assert (await http.get("/v1/checkins", headers=other.admin)).json()["items"] == []


async def test_check_in_at_an_invisible_customer_is_404():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        _, other_rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        response = await http.post(
            "/v1/checkins", json=checkin_body(customer["id"], 39.9087, 116.3975), headers=other_rep
        )
        assert response.status_code == 404


async def test_nearby_lists_visible_customers_nearest_first_with_pool_marked():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        _, other_rep = await company.user("rep")
        near = await create_customer(http, rep, "Near", location={"lat": 39.9090, "lng": 116.3975})
        pooled = await create_customer(
            http, company.admin, "Pooled", in_pool=True, location={"lat": 39.9100, "lng": 116.3975}
        )
        await create_customer(http, other_rep, "Hidden", location={"lat": 39.9088, "lng": 116.3975})
        await create_customer(http, rep, "Far", location={"lat": 31.2304, "lng": 121.4737})
        response = await http.get(
            "/v1/customers/nearby", params={"lat": 39.9087, "lng": 116.3975}, headers=rep
        )
        assert response.status_code == 200
        items = response.json()["items"]
        assert [i["id"] for i in items] == [near["id"], pooled["id"]]
        assert items[0]["distance_m"] < items[1]["distance_m"] and items[1]["in_pool"] is True
        gcj = wgs84_to_gcj02(39.9087, 116.3975)
        same = await http.get(
            "/v1/customers/nearby",
            params={"lat": gcj[0], "lng": gcj[1], "crs": "gcj02"},
            headers=rep,
        )
        assert abs(same.json()["items"][0]["distance_m"] - items[0]["distance_m"]) < 1
        too_far = await http.get(
            "/v1/customers/nearby",
            params={"lat": 39.9, "lng": 116.4, "radius_m": 100_000},
            headers=rep,
        )
        assert too_far.status_code == 422
        too_many = await http.get(
            "/v1/customers/nearby", params={"lat": 39.9, "lng": 116.4, "limit": 500}, headers=rep
        )
        assert too_many.status_code == 422


async def test_who_may_check_in_at_a_customer_follows_the_customer_visibility_rule():
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        west = await company.department("West")
        _, rep = await company.user("rep", east)
        _, stranger = await company.user("rep", west)
        _, east_manager = await company.user("manager", east)
        _, west_manager = await company.user("manager", west)
        other = await signup(http, "Other")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        expected = {
            "rep": (rep, 201),
            "east_manager": (east_manager, 201),  # owner in the subtree
            "west_manager": (west_manager, 404),
            "stranger": (stranger, 404),
            "admin": (company.admin, 201),
            "other company": (other.admin, 404),
        }
        for who, (headers, status) in expected.items():
            response = await http.post(
                "/v1/checkins",
                json=checkin_body(customer["id"], 39.9087, 116.3975),
                headers=headers,
            )
            assert response.status_code == status, (who, response.text)


async def test_a_retry_is_answered_even_after_the_customer_moved_out_of_sight():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        successor_id, _ = await company.user("rep")
        customer = await create_customer(http, rep, "Acme", location=CUSTOMER_AT)
        body = checkin_body(customer["id"], 39.9087, 116.3975, id=str(uuid.uuid4()))
        first = await http.post("/v1/checkins", json=body, headers=rep)
        assert first.status_code == 201, first.text
        moved = await http.post(
            f"/v1/customers/{customer['id']}/transfer",
            json={"to_user_id": successor_id, "reason": "territory"},
            headers=company.admin,
        )
        assert moved.status_code == 200, moved.text
        assert (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).status_code == 404
        again = await http.post("/v1/checkins", json=body, headers=rep)
        assert again.status_code == 200 and again.json() == first.json()
        new = await http.post("/v1/checkins", json=body | {"id": str(uuid.uuid4())}, headers=rep)
        assert new.status_code == 404

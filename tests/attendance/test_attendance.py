"""Attendance: clocking in and out (flags with figures), work sites, the monthly sheet, scope."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

from app.core import clock
from app.core.geo import haversine_m
from tests.customers.helpers import create_customer
from tests.helpers import client, signup

SHANGHAI = timezone(timedelta(hours=8))
OFFICE = {"lat": 39.9087, "lng": 116.3975}


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment of 2027 in Asia/Shanghai (March 2027 starts on a Monday)."""
    return datetime(2027, month, day, hour, minute, tzinfo=SHANGHAI)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body(at: datetime, where: dict | None = None, **extra) -> dict:
    return {
        "location": {**(where or OFFICE), "accuracy_m": 10},
        "client_recorded_at": iso(at),
        "offline": True,  # sent later: only a future phone time is clock skew
    } | extra


async def clock_record(http, headers: dict, kind: str, at: datetime, **extra) -> dict:  # noqa: ANN001
    response = await http.post(
        f"/v1/attendance/clock-{kind}", json=body(at, **extra), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def codes(record: dict) -> list[str]:
    return [flag["code"] for flag in record["flags"]]


async def test_statuses_across_the_day_boundary_and_the_monthly_sheet():
    clock.freeze(local(20, 10, month=2))  # people exist before March
    async with client() as http:
        company = await signup(http)
        rep_id, _ = await company.user("rep", name="Li")
        clock.freeze(local(9, 12))
        rep = await company.relogin(rep_id)
        customer = await create_customer(http, rep, "Acme", location=OFFICE)
        admin = await company.relogin_admin()

        # 00:30 on Monday 1 March in Shanghai is still 28 February in UTC: it counts for 1 March.
        midnight = await clock_record(http, rep, "in", local(1, 0, 30))
        assert midnight["work_date"] == "2027-03-01" and midnight["flags"] == []
        late = await clock_record(http, rep, "in", local(2, 9, 20))
        assert late["work_date"] == "2027-03-02"
        assert late["flags"] == [{"code": "late", "minutes": 20, "workday_start": "09:00"}]
        early = await clock_record(http, rep, "out", local(2, 17, 0))
        assert early["flags"] == [{"code": "left_early", "minutes": 60, "workday_end": "18:00"}]
        on_time = await clock_record(http, rep, "in", local(3, 8, 55))
        assert on_time["flags"] == []
        # Out after midnight: closes Wednesday's clock-in, not left early.
        night = await clock_record(http, rep, "out", local(4, 0, 30))
        assert night["work_date"] == "2027-03-03" and night["flags"] == []
        forgot = await clock_record(http, rep, "out", local(5, 18, 30))
        assert forgot["work_date"] == "2027-03-05" and codes(forgot) == ["no_clock_in"]
        await clock_record(http, rep, "in", local(8, 8, 0))
        # A second clock-in the same day is not late.
        again = await clock_record(http, rep, "in", local(8, 13, 0))
        assert again["flags"] == []
        before = await http.post("/v1/attendance/clock-out", json=body(local(8, 7, 0)), headers=rep)
        assert before.status_code == 422 and before.json()["code"] == "clock_out_before_clock_in"

        sheet = await http.get(
            "/v1/reports/attendance", params={"month": "2027-03", "user": rep_id}, headers=admin
        )
        assert sheet.status_code == 200, sheet.text
        [row] = sheet.json()["rows"]
        # Past working days: 1–5 and 8 March; 4 March has nothing (its 00:30 clock-out is the
        # 3rd's). Hours: 2nd 09:20–17:00 (7h40), 3rd 08:55–00:30 (15h35) = 23h15.
        assert {k: row[k] for k in row if k not in {"id", "parent_id", "name"}} == {
            "kind": "user",
            "level": 0,
            "people": 1,
            "working_days": 23,
            "days_worked": 5,
            "late": 1,
            "left_early": 1,
            "absent": 1,
            "hours": "23.25",
            "flagged": 3,
        }
        assert sheet.json()["since"] == "2027-03-01" and sheet.json()["until"] == "2027-03-31"

        # With check-ins counting as attendance, Thursday's visit makes the day worked.
        visit = await http.post(
            "/v1/checkins",
            json={
                "customer_id": customer["id"],
                "location": OFFICE,
                "client_recorded_at": iso(local(4, 10)),
                "offline": True,
            },
            headers=rep,
        )
        assert visit.status_code == 201, visit.text
        settings = await http.get("/v1/company/settings", headers=admin)
        patched = await http.patch(
            "/v1/company/settings",
            json={"checkins_count_as_attendance": True},
            headers=admin | {"If-Match": settings.headers["etag"]},
        )
        assert patched.status_code == 200 and patched.json()["checkins_count_as_attendance"]
        csv = await http.get(
            "/v1/reports/attendance",
            params={"month": "2027-03", "user": rep_id, "format": "csv"},
            headers=admin,
        )
        assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
        header, line = csv.content.decode("utf-8-sig").splitlines()
        assert header == (
            "kind,id,name,parent_id,level,people,working_days,days_worked,late,left_early,"
            "absent,hours,flagged"
        )
        assert line == f"user,{rep_id},Li,,0,1,23,6,1,1,0,23.25,3"


async def test_mocked_far_and_impossible_clock_ins_are_kept_with_their_figures():
    clock.freeze(local(2, 8, 30))
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        site = await http.post(
            "/v1/attendance/sites",
            json={"name": "Beijing office", "location": OFFICE, "radius_m": 200},
            headers=company.admin,
        )
        assert site.status_code == 201, site.text
        record_id = str(uuid.uuid4())
        first = await http.post(
            "/v1/attendance/clock-in",
            json=body(local(2, 8, 30), id=record_id, offline=False),
            headers=rep,
        )
        assert first.status_code == 201, first.text
        assert first.json()["flags"] == [] and first.json()["site_id"] == site.json()["id"]
        assert first.json()["site_distance_m"] == 0.0
        replay = await http.post(
            "/v1/attendance/clock-in",
            json=body(local(2, 8, 30), id=record_id, offline=False),
            headers=rep,
        )
        assert replay.status_code == 200 and replay.json() == first.json()
        clash = await http.post(
            "/v1/attendance/clock-out", json=body(local(2, 8, 31), id=record_id), headers=rep
        )
        assert clash.status_code == 409 and clash.json()["code"] == "id_conflict"

        # 1.1 km north, mocked, poor accuracy, the phone clock 20 minutes fast.
        clock.freeze(local(2, 8, 40))
        far = {"lat": 39.9187, "lng": 116.3975}
        moved = await http.post(
            "/v1/attendance/clock-out",
            json={
                "location": {**far, "accuracy_m": 150},
                "client_recorded_at": iso(local(2, 9, 0)),
                "mock_location": True,
            },
            headers=rep,
        )
        assert moved.status_code == 201, moved.text
        metres = round(haversine_m(far["lat"], far["lng"], OFFICE["lat"], OFFICE["lng"]), 1)
        flags = {flag.pop("code"): flag for flag in moved.json()["flags"]}
        assert flags == {
            "low_accuracy": {"accuracy_m": 150.0, "threshold_m": 100.0},
            "clock_skew": {"skew_s": 1200.0, "offline": False, "threshold_s": 600.0},
            "mock_location": {},
            "outside_site": {
                "site_id": site.json()["id"],
                "site_name": "Beijing office",
                "distance_m": metres,
                "radius_m": 200,
            },
            "left_early": {"minutes": 540, "workday_end": "18:00"},
        }
        assert moved.json()["site_distance_m"] == metres and 1100 < metres < 1125

        # Shanghai a minute later: impossible speed from the previous clock record.
        clock.freeze(local(2, 9, 1))
        rep = await company.relogin(rep_id)
        jump = await http.post(
            "/v1/attendance/clock-in",
            json=body(local(2, 9, 1), where={"lat": 31.2304, "lng": 121.4737}, offline=False),
            headers=rep,
        )
        assert jump.status_code == 201, jump.text
        speed = next(f for f in jump.json()["flags"] if f["code"] == "impossible_speed")
        assert speed["seconds"] == 60.0 and speed["distance_m"] > 1_000_000
        flagged = await http.get("/v1/attendance", params={"flagged": "true"}, headers=rep)
        assert [r["id"] for r in flagged.json()["items"]] == [
            jump.json()["id"],
            moved.json()["id"],
        ]


async def test_sites_are_admin_edited_under_if_match():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        new = {"name": "Depot", "location": OFFICE, "radius_m": 100}
        refused = await http.post("/v1/attendance/sites", json=new, headers=rep)
        assert refused.status_code == 403
        site = (await http.post("/v1/attendance/sites", json=new, headers=company.admin)).json()
        url = f"/v1/attendance/sites/{site['id']}"
        listed = await http.get("/v1/attendance/sites", headers=rep)
        assert [s["id"] for s in listed.json()["items"]] == [site["id"]]
        missing = await http.patch(url, json={"radius_m": 500}, headers=company.admin)
        assert missing.status_code == 428
        got = await http.get(url, headers=company.admin)
        edited = await http.patch(
            url, json={"radius_m": 500}, headers=company.admin | {"If-Match": got.headers["etag"]}
        )
        assert edited.status_code == 200 and edited.json()["radius_m"] == 500
        assert edited.headers["etag"] == '"2"'
        stale = await http.patch(
            url, json={"radius_m": 50}, headers=company.admin | {"If-Match": got.headers["etag"]}
        )
        assert stale.status_code == 412
        assert (await http.delete(url, headers=company.admin)).status_code == 204
        assert (await http.get(url, headers=company.admin)).status_code == 404
        record = await clock_record(
            http, rep, "in", datetime.now(UTC), where={"lat": 40.5, "lng": 116.3975}
        )
        assert record["site_id"] is None and "outside_site" not in codes(record)


async def test_reps_see_themselves_managers_their_subtree_admins_the_company():
    clock.freeze(local(20, 10, month=2))
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        west = await company.department("West")
        manager_id, _ = await company.user("manager", east, name="Manager East")
        east_rep_id, _ = await company.user("rep", east, name="Rep East")
        west_rep_id, _ = await company.user("rep", west, name="Rep West")
        other = await signup(http, "Other Co")
        clock.freeze(local(3, 12))
        manager = await company.relogin(manager_id)
        east_rep = await company.relogin(east_rep_id)
        west_rep = await company.relogin(west_rep_id)
        admin = await company.relogin_admin()
        outsider = await other.relogin_admin()
        mine = await clock_record(http, east_rep, "in", local(1, 9, 30))
        theirs = await clock_record(http, west_rep, "in", local(1, 9, 45))

        def ids(response) -> list[str]:  # noqa: ANN001
            assert response.status_code == 200, response.text
            return [r["id"] for r in response.json()["items"]]

        assert ids(await http.get("/v1/attendance", headers=east_rep)) == [mine["id"]]
        peer = await http.get("/v1/attendance", params={"user": west_rep_id}, headers=east_rep)
        assert peer.status_code == 404
        assert ids(await http.get("/v1/attendance", headers=manager)) == [mine["id"]]
        assert (
            await http.get("/v1/attendance", params={"department": west}, headers=manager)
        ).status_code == 404
        assert ids(await http.get("/v1/attendance", headers=admin)) == [theirs["id"], mine["id"]]
        assert ids(
            await http.get(
                "/v1/attendance",
                params={"department": west, "from": "2027-03-01", "to": "2027-03-01"},
                headers=admin,
            )
        ) == [theirs["id"]]
        assert ids(await http.get("/v1/attendance", headers=outsider)) == []

        month = {"month": "2027-03"}
        for params in ({"user": west_rep_id}, {"department": east}):
            refused = await http.get(
                "/v1/reports/attendance", params=month | params, headers=east_rep
            )
            assert refused.status_code == 404
        own = (await http.get("/v1/reports/attendance", params=month, headers=east_rep)).json()
        assert [(r["kind"], r["name"], r["late"]) for r in own["rows"]] == [("user", "Rep East", 1)]
        managed = (await http.get("/v1/reports/attendance", params=month, headers=manager)).json()
        # 1 and 2 March are past working days: the manager was absent on both, Rep East on 2nd.
        assert [(r["name"], r["level"], r["late"], r["absent"]) for r in managed["rows"]] == [
            ("East", 0, 1, 3),
            ("Manager East", 1, 0, 2),
            ("Rep East", 1, 1, 1),
        ]
        whole = (await http.get("/v1/reports/attendance", params=month, headers=admin)).json()
        top = whole["rows"][0]
        assert (top["kind"], top["level"], top["people"], top["late"]) == ("company", 0, 4, 2)
        assert [r["name"] for r in whole["rows"] if r["kind"] == "department"][1:] == [
            "East",
            "West",
        ]
        foreign = await http.get(
            "/v1/reports/attendance", params=month | {"user": east_rep_id}, headers=outsider
        )
        assert foreign.status_code == 404
        bad = await http.get("/v1/reports/attendance", params={"month": "2027-13"}, headers=admin)
        assert bad.status_code == 422

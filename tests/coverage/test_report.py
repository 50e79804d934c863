"""The coverage report: the source's 2,222-hour example exactly, visits that count, tiers of
other frequencies scaled to the period, the under-covered order, hours available from the
company's settings, and who sees what."""

import uuid
from datetime import UTC, datetime

from app.core import clock
from tests.coverage.coverage_rows import checkin, customer, customers
from tests.helpers import client, signup
from tests.pipeline.opportunity_helpers import execute, open_opportunity

URL = "/v1/reports/coverage"
MID_MARCH = datetime(2027, 3, 10, 2, 0, tzinfo=UTC)


def tier(report: dict, name: str) -> dict:
    return next(t for t in report["tiers"] if t["tier"] == name)


async def test_the_sources_example_comes_out_at_2222_hours_a_month():
    clock.freeze(MID_MARCH)
    async with client() as http:
        company = await signup(http)
        rep_id, _ = await company.user("rep")
        await customers(company.id, rep_id, "A", 80, "A-")
        await customers(company.id, rep_id, "B", 520, "B-")
        await customers(company.id, rep_id, "C", 2000, "C-")
        response = await http.get(URL, headers=company.admin)  # default: this month
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["period"] == "2027-03"
        assert (report["starts_on"], report["ends_on"]) == ("2027-03-01", "2027-03-31")
        assert [(t["tier"], t["customers"], t["hours_needed"]) for t in report["tiers"]] == [
            ("A", 80, "960.00"),
            ("B", 520, "1040.00"),
            ("C", 2000, "222.22"),
            ("untiered", 0, "0.00"),
        ]
        assert tier(report, "C")["required_per_customer"] == "0.3333"
        assert tier(report, "C")["required_visits"] == "666.67"
        assert tier(report, "A")["required_visits"] == "320.00"
        assert report["hours_needed"] == "2222.22" and report["customers"] == 2600
        # One rep (the admin holds nothing and is no rep) × 23 weekdays in March 2027 × 8 h.
        assert report["people"] == 1 and report["working_days"] == 23
        assert report["hours_available"] == "184.00"
        assert report["load"] == "12.0773"  # 2222.22… ÷ 184
        assert report["covered"] == 0 and report["under_covered_total"] == 2600
        assert len(report["under_covered"]) == 100
        # Most behind first: the 80 A (4 visits short each), then B (2 short).
        assert [u["tier"] for u in report["under_covered"]] == ["A"] * 80 + ["B"] * 20
        # A quarter the same customers need three times the visits and the hours.
        quarter = (await http.get(f"{URL}?period=2027-Q1", headers=company.admin)).json()
        assert tier(quarter, "C")["required_per_customer"] == "1.0000"
        assert quarter["hours_needed"] == "6666.67"


async def test_visits_that_count_coverage_order_and_hours_available():
    clock.freeze(MID_MARCH)
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        a1 = await customer(company.id, rep_id, "A", "A1")
        await customer(company.id, rep_id, "A", "A2")
        b1 = await customer(company.id, rep_id, "B", "B1")
        c1 = await customer(company.id, rep_id, "C", "C1")
        c2 = await customer(company.id, rep_id, "C", "C2")
        day = datetime(2027, 3, 3, 2, 0, tzinfo=UTC)
        # A1: two counting visits of an hour; one flagged far and one mocked do not count.
        await checkin(company.id, rep_id, a1, day, duration_s=3600)
        await checkin(company.id, rep_id, a1, day.replace(day=4), duration_s=3600)
        far = [{"code": "far_from_customer", "distance_m": 900.0, "threshold_m": 300}]
        await checkin(company.id, rep_id, a1, day.replace(day=5), flags=far, duration_s=7200)
        mocked = [{"code": "mock_location"}]
        await checkin(
            company.id, rep_id, a1, day.replace(day=6), flags=mocked, mock=True, duration_s=7200
        )
        # C1: one visit covers a month's ⅓; one in February is not this month's.
        await checkin(company.id, rep_id, c1, day, duration_s=1800)
        await checkin(company.id, rep_id, c2, datetime(2027, 2, 20, 2, 0, tzinfo=UTC))
        # B1: only a follow-up this month (contacted, not visited).
        followup = await http.post(
            "/v1/followups", json={"customer_id": b1, "kind": "call", "text": "hi"}, headers=rep
        )
        assert followup.status_code == 201, followup.text

        report = (await http.get(f"{URL}?period=2027-03", headers=company.admin)).json()
        a, b, c = tier(report, "A"), tier(report, "B"), tier(report, "C")
        assert (a["customers"], a["visits"], a["covered"], a["coverage"]) == (2, 2, 0, "0.0000")
        assert (c["customers"], c["visits"], c["covered"], c["coverage"]) == (2, 1, 1, "0.5000")
        assert c["required_visits"] == "0.67" and c["hours_needed"] == "0.22"
        assert (b["visits"], b["covered"]) == (0, 0)
        assert b["lost_sales"]["contacted_no_opportunity"] == 1
        assert a["lost_sales"]["not_contacted"] == 1  # A2; A1 was visited
        assert a["lost_sales"]["contacted_no_opportunity_share"] == "0.5000"
        assert c["lost_sales"]["not_contacted"] == 1 and c["lost_sales"]["won"] == 0
        # Most behind first: A2 (4 short), B1 (2 short, none done), A1 (2 short, half), C2 (⅓).
        under = report["under_covered"]
        assert [u["name"] for u in under] == ["A2", "B1", "A1", "C2"]
        assert report["under_covered_total"] == 4
        assert under[2]["visits"] == 2 and under[2]["required"] == "4.0000"
        assert under[2]["last_visit_at"].startswith("2027-03-04T02:00:00")  # not the flagged
        assert under[3]["required"] == "0.3333"
        assert under[3]["last_visit_at"].startswith("2027-02-20")
        assert under[0]["owner_id"] == rep_id and under[0]["last_visit_at"] is None
        # Face to face: the counting visits' 2.5 h of the 184 h available.
        assert report["face_to_face_hours"] == "2.50"
        assert report["face_to_face_share"] == "0.0136"

        # Working hours are the company's: six days of six hours.
        etag = (await http.get("/v1/company/settings", headers=company.admin)).headers["etag"]
        changed = await http.patch(
            "/v1/company/settings",
            json={"working_days": [1, 2, 3, 4, 5, 6], "working_hours_per_day": "6"},
            headers=company.admin | {"If-Match": etag},
        )
        assert changed.status_code == 200, changed.text
        report = (await http.get(f"{URL}?period=2027-03", headers=company.admin)).json()
        assert report["working_days"] == 27 and report["hours_available"] == "162.00"

        # The policy is the company's: C at 1 a month now needs a whole visit a month.
        policy = (await http.get("/v1/coverage-policy", headers=company.admin)).json()
        body = {t: policy[t] for t in ("A", "B", "C", "untiered")}
        body["C"] = {"visits": 1, "per": "month", "minutes_per_visit": 20}
        put = await http.put(
            "/v1/coverage-policy", json=body, headers=company.admin | {"If-Match": '"1"'}
        )
        assert put.status_code == 200
        report = (await http.get(f"{URL}?period=2027-03", headers=company.admin)).json()
        assert tier(report, "C")["required_visits"] == "2.00"
        assert tier(report, "C")["covered"] == 1

        csv = await http.get(f"{URL}?period=2027-03&format=csv", headers=company.admin)
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        lines = csv.content.decode("utf-8").splitlines()
        assert lines[0].startswith("\ufefftier,customers,required_per_customer")
        assert lines[1].startswith("A,2,4.0000,8.00,2,0,0.0000,")
        assert lines[-1].startswith("total,5,,")


async def test_visibility_and_period_errors():
    clock.freeze(MID_MARCH)
    async with client() as http:
        company = await signup(http)
        other = await signup(http, "Other")
        team = await company.department("Team")
        elsewhere = await company.department("Elsewhere")
        manager_id, manager = await company.user("manager", team)
        rep_id, rep = await company.user("rep", team)
        peer_id, _ = await company.user("rep", team)
        far_id, _ = await company.user("rep", elsewhere)
        for owner in (rep_id, peer_id, far_id):
            await customer(company.id, owner, "A", f"Customer of {owner[:8]}")
        other_rep, _ = await other.user("rep")
        await customer(other.id, other_rep, "A", "Not ours")

        async def figures(headers: dict, query: str = "") -> tuple[int, int]:
            response = await http.get(f"{URL}?period=2027-03{query}", headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            return body["customers"], body["people"]

        assert await figures(company.admin) == (3, 3)
        assert await figures(manager) == (2, 2)  # the team's two reps, not elsewhere
        assert await figures(rep) == (1, 1)  # themselves
        assert await figures(manager, f"&user={rep_id}") == (1, 1)
        assert await figures(company.admin, f"&department={elsewhere}") == (1, 1)
        for headers, query in (
            (rep, f"&user={peer_id}"),  # a rep cannot see a peer's figures
            (rep, f"&department={team}"),  # nor their department's
            (manager, f"&user={far_id}"),  # nor a manager outside their subtree
            (manager, f"&department={elsewhere}"),
            (company.admin, f"&department={other.root_department_id}"),  # another company's
            (company.admin, f"&user={other_rep}"),
        ):
            response = await http.get(f"{URL}?period=2027-03{query}", headers=headers)
            assert response.status_code == 404, (query, response.text)
        bad = await http.get(f"{URL}?period=2027-02-30", headers=company.admin)
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_period"
        assert (await http.get(f"{URL}?period=March", headers=company.admin)).status_code == 422
        both = await http.get(
            f"{URL}?period=2027-03&user={rep_id}&department={team}", headers=company.admin
        )
        assert both.status_code == 422 and both.json()["code"] == "validation_failed"
        assert manager_id


async def test_the_holders_work_counts_and_ties_go_by_id():
    """Visits, follow-ups and opportunities are the holder's (a peer's visit or opportunity at
    the customer does not count); equally far behind, the customer's id decides."""
    clock.freeze(MID_MARCH)
    async with client() as http:
        company = await signup(http)
        team = await company.department("Team")
        _, manager = await company.user("manager", team)
        rep_id, rep = await company.user("rep", team)
        peer_id, _ = await company.user("rep", team)
        # Three unvisited A customers whose names run against their ids.
        ids = sorted(str(uuid.uuid4()) for _ in range(3))
        for cid, name in zip(ids, ("Zeta", "Mu", "Alpha"), strict=True):
            await customer(company.id, rep_id, "A", name, cid=cid)
        visited = await customer(company.id, rep_id, "A", "Visited")
        bee = await customer(company.id, rep_id, "B", "Bee")
        won = await customer(company.id, rep_id, "B", "Won")
        day = datetime(2027, 3, 3, 2, 0, tzinfo=UTC)
        await checkin(company.id, rep_id, visited, day)
        await checkin(company.id, rep_id, visited, day.replace(day=4))
        await checkin(company.id, peer_id, visited, day.replace(day=5))  # not the holder's
        await checkin(company.id, peer_id, ids[0], day.replace(day=5))  # nor this one
        await open_opportunity(http, rep, bee, name="Open")
        deal = await open_opportunity(http, rep, won, name="Won")
        await execute(
            "UPDATE opportunities SET status = 'won', closed_at = :at WHERE id = :id",
            at=day,
            id=deal["id"],
        )
        # A peer's open opportunity at the rep's customer is not the holder's sales path.
        peers = await open_opportunity(http, manager, ids[1], name="Peer's", owner_id=peer_id)
        assert peers["owner_id"] == peer_id

        for headers in (manager, company.admin):
            report = (await http.get(f"{URL}?period=2027-03", headers=headers)).json()
            a, b = tier(report, "A"), tier(report, "B")
            assert (a["customers"], a["visits"], a["covered"]) == (4, 2, 0)
            assert a["lost_sales"]["not_contacted"] == 3
            assert a["lost_sales"]["contacted_no_opportunity"] == 1
            assert a["lost_sales"]["opportunity_open"] == 0
            assert (b["lost_sales"]["opportunity_open"], b["lost_sales"]["won"]) == (1, 1)
            assert b["lost_sales"]["not_contacted"] == 0
            under = report["under_covered"]
            # 4 short each, in id order (not name order); then B (2 short, none done) by id;
            # then Visited (2 short, half done).
            assert [u["customer_id"] for u in under[:3]] == ids
            assert [u["name"] for u in under[:3]] == ["Zeta", "Mu", "Alpha"]
            assert [u["name"] for u in under[3:5]] == [
                name for _, name in sorted(((bee, "Bee"), (won, "Won")))
            ]
            assert under[5]["name"] == "Visited" and under[5]["visits"] == 2
            assert under[0]["last_visit_at"].startswith("2027-03-05")  # the last visit, anyone's
            assert report["under_covered_total"] == 6

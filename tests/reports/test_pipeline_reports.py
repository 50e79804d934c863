"""The funnel and the forecast on small known data sets (opportunities and history by SQL)."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from app.core import clock
from app.reports import pipeline as report
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.pipeline.pipeline_sql import default_pipeline, insert_move, insert_opportunity

# 2027-03-01 01:00 in Shanghai is still February in UTC: the window is in company time.
T0 = datetime(2027, 2, 28, 17, 0, tzinfo=UTC)
DAY = 86400


def test_pure_figures():
    assert report.ratio(2, 20) == "0.1000" and report.ratio(2, 6) == "0.3333"
    assert report.ratio(1, 0) is None and report.ratio(2, 3) == "0.6667"
    assert report.prospects_needed(1, 2, 20) == 10 and report.prospects_needed(6, 2, 20) == 60
    assert report.prospects_needed(1, 1, 3) == 3 and report.prospects_needed(1, 2, 3) == 2
    assert report.prospects_needed(1, 0, 20) is None
    assert report.days(Decimal(DAY * 24) / 14) == "1.71" and report.days(None) is None
    assert report.weighted(Decimal("30000.30")) == Decimal("300.00")
    assert report.weighted(Decimal("4.50")) == Decimal("0.05")  # half-up, not half-even
    assert report.parse_month("2027-03", "from") == date(2027, 3, 1)
    months = report.months_between(date(2027, 11, 1), date(2028, 2, 1))
    assert [report.month_label(m) for m in months] == ["2027-11", "2027-12", "2028-01", "2028-02"]


async def _team(http):
    """Two sibling departments: A (manager, reps r1 and r2), B (manager, rep r3)."""
    company = await signup(http)
    dept_a = await company.department("A")
    dept_b = await company.department("B")
    people = {}
    for key, role, dept in (
        ("manager_a", "manager", dept_a),
        ("r1", "rep", dept_a),
        ("r2", "rep", dept_a),
        ("manager_b", "manager", dept_b),
        ("r3", "rep", dept_b),
    ):
        people[key] = await company.user(role, dept)
    return company, dept_a, dept_b, people


async def _seed_funnel(http, company, people):
    """The seeds' example for r1: 20 enter the first stage, 10 reach the second, 5 the third,
    3 the fourth, 2 are won; 4 are lost from the first. r2 and r3 one opportunity each."""
    pipeline = await default_pipeline(http, company.admin)
    s1, s2, s3, s4, won, lost = pipeline["stages"]
    pid = pipeline["id"]
    customers = {
        key: (await create_customer(http, people[key][1], f"Customer of {key}"))["id"]
        for key in ("r1", "r2", "r3")
    }

    async def opportunity(owner, path, amount="1000.00"):
        status = {"won": "won", "lost": "lost"}.get(path[-1]["kind"], "open")
        oid = await insert_opportunity(
            company.id,
            customers[owner],
            pid,
            path[-1]["id"],
            people[owner][0],
            amount=amount,
            status=status,
            created_at=T0,
        )
        await insert_move(company.id, oid, None, path[0], T0)
        at, offsets = T0, {s2["id"]: 2, s3["id"]: 3, s4["id"]: 1, won["id"]: 2, lost["id"]: 1}
        for before, after in zip(path, path[1:], strict=False):
            spent = offsets[after["id"]]
            at += timedelta(days=spent)
            await insert_move(company.id, oid, before, after, at, spent * DAY)

    paths = (
        [[s1, s2, s3, s4, won]] * 2
        + [[s1, s2, s3, s4]]
        + [[s1, s2, s3]] * 2
        + [[s1, s2]] * 5
        + [[s1, lost]] * 4
        + [[s1]] * 6
    )
    for path in paths:
        await opportunity("r1", path)
    await opportunity("r2", [s1], "500.00")
    await opportunity("r3", [s1, s2], "700.00")
    return pipeline


async def test_funnel_figures_on_the_seeds_example():
    async with client() as http:
        clock.freeze(datetime(2027, 3, 20, 4, 0, tzinfo=UTC))
        company, dept_a, _, people = await _team(http)
        pipeline = await _seed_funnel(http, company, people)
        r1_id, r1 = people["r1"]
        url = "/v1/reports/funnel?from=2027-03-01&to=2027-03-31&target_deals="
        mine = await http.get(url + "1", headers=r1)
        assert mine.status_code == 200, mine.text
        body = mine.json()
        assert body["pipeline_id"] == pipeline["id"]
        assert (body["entered"], body["won"], body["lost"]) == (20, 2, 4)
        assert body["win_rate"] == "0.1000" and body["close_rate"] == "0.3333"
        assert body["prospects_needed"] == 10 and body["target_deals"] == 1
        six = (await http.get(url + "6", headers=r1)).json()
        assert six["prospects_needed"] == 60
        figures = [
            (
                s["name"],
                s["entered"],
                s["reached_next"],
                s["conversion"],
                s["current_count"],
                s["current_amount"],
                s["avg_days_in_stage"],
            )
            for s in body["stages"]
        ]
        assert figures == [
            ("第一次接触", 20, 10, "0.5000", 6, "6000.00", "1.71"),
            ("找准需求", 10, 5, "0.5000", 5, "5000.00", "3.00"),
            ("提供方案", 5, 3, "0.6000", 2, "2000.00", "1.00"),
            ("商务谈判", 3, 2, "0.6667", 1, "1000.00", "2.00"),
            ("赢单", 2, 0, "0.0000", 2, "2000.00", None),
            ("输单", 4, 0, "0.0000", 4, "4000.00", None),
        ]
        assert [s["position"] for s in body["stages"]] == [1, 2, 3, 4, 5, 6]
        assert body["stages"][0]["probability"] == 10 and body["stages"][4]["kind"] == "won"
        # The same figures for the admin narrowed to r1.
        admin_r1 = (await http.get(url + "1" + f"&user={r1_id}", headers=company.admin)).json()
        assert admin_r1["entered"] == 20 and admin_r1["stages"] == body["stages"]
        # The window is in company time: 01:00 on 1 March in Shanghai is in March, not February.
        february = (await http.get("/v1/reports/funnel?to=2027-02-28", headers=r1)).json()
        assert february["entered"] == 0 and february["win_rate"] is None
        assert february["stages"][0]["current_count"] == 6  # "now" ignores the window
        later = (
            await http.get("/v1/reports/funnel?from=2027-03-02&target_deals=3", headers=r1)
        ).json()
        assert later["entered"] == 0 and later["stages"][1]["entered"] == 10
        assert later["prospects_needed"] is None and later["won"] == 2
        assert later["close_rate"] == "0.3333"
        everything = (await http.get("/v1/reports/funnel", headers=r1)).json()
        assert everything["entered"] == 20


async def test_funnel_visibility_and_scopes():
    async with client() as http:
        clock.freeze(datetime(2027, 3, 20, 4, 0, tzinfo=UTC))
        company, dept_a, dept_b, people = await _team(http)
        await _seed_funnel(http, company, people)

        async def entered(headers, query=""):
            response = await http.get(f"/v1/reports/funnel?{query}", headers=headers)
            assert response.status_code == 200, response.text
            return response.json()["entered"]

        assert await entered(company.admin) == 22
        assert await entered(people["r1"][1]) == 20
        assert await entered(people["r2"][1]) == 1  # only their own customer's
        assert await entered(people["r3"][1]) == 1
        assert await entered(people["manager_a"][1]) == 21  # the subtree
        assert await entered(people["manager_b"][1]) == 1  # not the sibling's
        assert await entered(company.admin, f"department={dept_a}") == 21
        assert await entered(company.admin, f"department={dept_b}") == 1
        assert await entered(people["manager_a"][1], f"user={people['r2'][0]}") == 1
        # A user or department the caller may not see: 404.
        for headers, query in (
            (people["manager_b"][1], f"user={people['r1'][0]}"),
            (people["manager_b"][1], f"department={dept_a}"),
            (people["r3"][1], f"department={dept_a}"),
        ):
            response = await http.get(f"/v1/reports/funnel?{query}", headers=headers)
            assert response.status_code == 404, query
        bad = await http.get(
            "/v1/reports/funnel?from=2027-03-02&to=2027-03-01", headers=company.admin
        )
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_range"
        zero = await http.get("/v1/reports/funnel?target_deals=0", headers=company.admin)
        assert zero.status_code == 422


async def test_funnel_and_forecast_csv():
    async with client() as http:
        clock.freeze(datetime(2027, 3, 20, 4, 0, tzinfo=UTC))
        company, _, _, people = await _team(http)
        await _seed_funnel(http, company, people)
        response = await http.get(
            "/v1/reports/funnel?format=csv&target_deals=6", headers=people["r1"][1]
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert table[0][:3] == ["position", "stage_id", "name"]
        assert table[1][2] == "第一次接触" and table[1][6] == "20" and table[1][8] == "6000.00"
        assert table[1][10] == "0.5000" and table[5][11] == ""
        summary = {row[0]: row[1] for row in table[8:] if row}
        assert summary["win_rate"] == "0.1000" and summary["prospects_needed"] == "60"
        forecast = await http.get(
            "/v1/reports/forecast?from=2027-03&to=2027-04&format=csv", headers=people["r1"][1]
        )
        assert forecast.status_code == 200 and forecast.content.startswith("\ufeff".encode())
        lines = list(csv.reader(io.StringIO(forecast.content.decode("utf-8-sig"))))
        assert lines[0] == [
            "month",
            "count",
            "amount",
            "weighted_amount",
            "won_count",
            "won_amount",
        ]
        assert [line[0] for line in lines[1:]] == ["2027-03", "2027-04"]


async def test_forecast_by_month_weighted_exact_stale_and_won():
    async with client() as http:
        now = datetime(2027, 3, 15, 4, 0, tzinfo=UTC)
        clock.freeze(now)
        company, _, _, people = await _team(http)
        r1_id, r1 = people["r1"]
        r2_id, r2 = people["r2"]
        pipeline = await default_pipeline(http, company.admin)
        pid = pipeline["id"]
        s1, s2, s3, s4, won, lost = pipeline["stages"]
        mine = (await create_customer(http, r1, "Mine"))["id"]
        theirs = (await create_customer(http, r2, "Theirs"))["id"]
        fresh = now - timedelta(days=1)

        async def add(stage, amount, close=None, **kwargs):
            kwargs.setdefault("created_at", fresh)
            kwargs.setdefault("owner", r1_id)
            owner = kwargs.pop("owner")
            customer = mine if owner == r1_id else theirs
            return await insert_opportunity(
                company.id,
                customer,
                kwargs.pop("pipeline", pid),
                stage["id"],
                owner,
                amount=amount,
                expected_close_date=close,
                **kwargs,
            )

        await add(s1, "1000.05", date(2027, 3, 10))  # 10 %: 100.005
        await add(s3, "333.33", date(2027, 3, 31))  # 60 %: 199.998
        await add(s1, None, date(2027, 3, 12))  # no amount: counted, nothing to add
        await add(s4, "5000.00", date(2027, 3, 20), created_at=now - timedelta(days=50))  # stale
        await add(s2, "0.15", date(2027, 4, 2))  # 30 %: 0.045 → 0.05 (half-up)
        await add(s1, "999.00", None)  # no expected close: in no month
        await add(s1, "50.00", date(2027, 3, 3), deleted=True)
        await add(lost, "70.00", date(2027, 3, 3), status="lost")
        await add(
            won,
            "8000.00",
            date(2027, 3, 30),
            status="won",
            closed_at=datetime(2027, 3, 31, 17, 0, tzinfo=UTC),  # 1 April in Shanghai
        )
        await add(won, "1200.00", None, status="won", closed_at=datetime(2027, 3, 5, tzinfo=UTC))
        await add(s1, "10.00", date(2027, 3, 9), owner=r2_id)  # r1 does not see it

        url = "/v1/reports/forecast?from=2027-03&to=2027-05"
        response = await http.get(url, headers=r1)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["since"], body["until"], body["include_stale"]) == (
            "2027-03",
            "2027-05",
            False,
        )
        assert body["items"] == [
            {
                "month": "2027-03",
                "count": 3,
                "amount": "1333.38",
                "weighted_amount": "300.00",  # rounded once: not 100.01 + 200.00
                "won_count": 1,
                "won_amount": "1200.00",
            },
            {
                "month": "2027-04",
                "count": 1,
                "amount": "0.15",
                "weighted_amount": "0.05",
                "won_count": 1,
                "won_amount": "8000.00",
            },
            {
                "month": "2027-05",
                "count": 0,
                "amount": "0.00",
                "weighted_amount": "0.00",
                "won_count": 0,
                "won_amount": "0.00",
            },
        ]
        stale = (await http.get(url + "&include_stale=true", headers=r1)).json()["items"][0]
        assert (stale["count"], stale["amount"], stale["weighted_amount"]) == (
            4,
            "6333.38",
            "4300.00",
        )
        admin = (await http.get(url, headers=company.admin)).json()["items"][0]
        assert admin["count"] == 4 and admin["amount"] == "1343.38"
        manager = (await http.get(url, headers=people["manager_a"][1])).json()["items"][0]
        assert manager["count"] == 4
        sibling = (await http.get(url, headers=people["manager_b"][1])).json()["items"]
        assert sum(item["count"] + item["won_count"] for item in sibling) == 0
        only_r2 = (await http.get(url + f"&user={r2_id}", headers=company.admin)).json()
        assert only_r2["items"][0]["count"] == 1 and only_r2["items"][1]["won_count"] == 0
        # A pipeline narrows it; a pipeline's own stale_after_days decides what is stale.
        other = await http.post(
            "/v1/pipelines",
            json={"name": "Short cycle", "copy_from": pid, "stale_after_days": 1},
            headers=company.admin,
        )
        assert other.status_code == 201, other.text
        short_stage = other.json()["stages"][0]
        await add(short_stage, "40.00", date(2027, 3, 8), pipeline=other.json()["id"])
        await add(
            short_stage,
            "60.00",
            date(2027, 3, 8),
            pipeline=other.json()["id"],
            created_at=now - timedelta(days=2),
        )
        narrowed = (await http.get(url + f"&pipeline_id={other.json()['id']}", headers=r1)).json()
        assert narrowed["pipeline_id"] == other.json()["id"]
        assert (narrowed["items"][0]["count"], narrowed["items"][0]["amount"]) == (1, "40.00")
        everything = (await http.get(url, headers=r1)).json()["items"][0]
        assert everything["count"] == 4 and everything["amount"] == "1373.38"


async def test_forecast_ranges():
    async with client() as http:
        clock.freeze(datetime(2027, 3, 31, 17, 0, tzinfo=UTC))  # 1 April in Shanghai
        company = await signup(http)
        default = (await http.get("/v1/reports/forecast", headers=company.admin)).json()
        assert default["since"] == "2027-04" and default["until"] == "2028-03"
        assert len(default["items"]) == 12 and default["pipeline_id"] is None
        for query, code in (
            ("from=2027-05&to=2027-04", "invalid_range"),
            ("from=2027-01&to=2030-01", "invalid_range"),
            ("from=2027-13", "validation_failed"),
            ("from=27-01", "validation_failed"),
            ("to=2301-01", "validation_failed"),
            ("from=2027-01-01", "validation_failed"),
        ):
            response = await http.get(f"/v1/reports/forecast?{query}", headers=company.admin)
            assert response.status_code == 422 and response.json()["code"] == code, query
        longest = await http.get(
            "/v1/reports/forecast?from=2027-01&to=2029-12", headers=company.admin
        )
        assert len(longest.json()["items"]) == 36
        other = await signup(http, "Other")
        theirs = await default_pipeline(http, other.admin)
        foreign = await http.get(
            f"/v1/reports/forecast?pipeline_id={theirs['id']}", headers=company.admin
        )
        assert foreign.status_code == 404

"""The sales report's drill-down (业绩对比, company → department → rep): `department=` and
`user=` narrow the figures and their growth to a subtree or one owner; 404 when invisible."""

from tests.helpers import client, signup
from tests.reports.test_sales_report import report, world

MARCH = {"group": "month", "from": "2027-03-01", "to": "2027-03-31"}
URL = "/v1/reports/sales"


async def test_department_and_user_drill_down_with_growth():
    async with client() as http:
        company, _, reps, (team1, team2) = await world(http)
        [whole] = (await report(http, company.admin, **MARCH))["items"]
        assert (whole["contracted"], whole["received"]) == ("1500.00", "800.00")
        # 一组 (王一): March 1000 vs February 800 and March 2026 400; received 500 vs 400, 100.
        [one] = (await report(http, company.admin, department=team1, **MARCH))["items"]
        assert (one["contracts"], one["contracted"], one["received"]) == (1, "1000.00", "500.00")
        assert (one["contracted_prev"], one["contracted_yoy"]) == ("800.00", "400.00")
        assert (one["growth_prev"], one["growth_yoy"]) == ("0.2500", "1.5000")
        assert (one["received_growth_prev"], one["received_growth_yoy"]) == ("0.2500", "4.0000")
        # 二组 (李二): 500 signed, 300 received net of a reversed 50; nothing before.
        [two] = (await report(http, company.admin, department=team2, **MARCH))["items"]
        assert (two["contracted"], two["received"], two["contracted_prev"]) == (
            "500.00",
            "300.00",
            "0.00",
        )
        assert two["growth_prev"] is None and two["growth_yoy"] is None
        # The rep level, with the other groupings too.
        body = await report(http, company.admin, user=reps["b"], **(MARCH | {"group": "user"}))
        assert [(i["key"], i["contracted"]) for i in body["items"]] == [(reps["b"], "500.00")]
        assert body["total"]["contracted"] == "500.00"
        body = await report(http, company.admin, **(MARCH | {"group": "quarter"}), user=reps["a"])
        [q1] = body["items"]
        assert (q1["contracted"], q1["growth_yoy"]) == ("1800.00", "3.5000")  # 1800 vs 400
        body = await report(
            http, company.admin, **(MARCH | {"group": "department"}), department=team1
        )
        assert [i["key"] for i in body["items"]] == [team1]


async def test_drill_down_visibility():
    async with client() as http:
        company, people, reps, (team1, team2) = await world(http)

        async def status(headers, **params):
            response = await http.get(URL, params={**MARCH, **params}, headers=headers)
            return response.status_code

        [mine] = (await report(http, people["manager"], department=team1, **MARCH))["items"]
        assert mine["contracted"] == "1000.00"
        assert await status(people["manager"], department=team2) == 404
        assert await status(people["manager"], user=reps["b"]) == 404
        assert await status(people["a"], user=reps["b"]) == 404  # another department's rep
        assert await status(people["a"], department=team2) == 404
        [own] = (await report(http, people["a"], user=reps["a"], **MARCH))["items"]
        assert own["contracted"] == "1000.00"
        other = await signup(http, "Other Co")
        assert await status(other.admin, department=team1) == 404
        assert await status(other.admin, user=reps["a"]) == 404

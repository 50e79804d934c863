"""Splits add up to the fen: even, weights, last year; by period and by subject; again only
with replace; a child that exists already; editing a child leaves the parent."""

from datetime import date
from decimal import Decimal

from app.targets.split import shares
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.reports.money_rows import contract
from tests.targets.helpers import create_target, execute, get, listed, split


def test_shares_floor_to_the_unit_with_the_remainder_last():
    cent, one = Decimal("0.01"), Decimal("1")
    twelve = shares(Decimal("100000.00"), [one] * 12, cent)
    assert twelve == [Decimal("8333.33")] * 11 + [Decimal("8333.37")]
    assert shares(Decimal("100"), [one] * 3, one) == [33, 33, 34]
    assert shares(Decimal("10.00"), [one, one, Decimal(0)], cent) == [
        Decimal("5.00"),
        Decimal("5.00"),
        Decimal("0.00"),
    ]
    odd = shares(Decimal("0.05"), [Decimal(7)] * 6, cent)
    assert sum(odd) == Decimal("0.05") and odd[-1] == Decimal("0.05")


async def test_a_year_into_twelve_months_then_a_child_edited_then_replaced():
    async with client() as http:
        company = await signup(http)
        admin = company.admin
        parent = await create_target(
            http, admin, subject="company", measure="contract_amount", period="2027", value="100000"
        )
        months = await split(http, admin, parent["id"], by="period", method="even")
        assert [m["period"] for m in months] == [f"2027-{n:02d}" for n in range(1, 13)]
        assert [m["value"] for m in months] == ["8333.33"] * 11 + ["8333.37"]
        assert all(m["parent_id"] == parent["id"] for m in months)
        assert sum(Decimal(m["value"]) for m in months) == Decimal("100000.00")
        read = await get(http, admin, parent["id"])
        assert (read["split_by"], read["split_method"], read["unallocated"]) == (
            "period",
            "even",
            "0.00",
        )
        march = months[2]
        edited = await http.patch(
            f"/v1/targets/{march['id']}",
            json={"value": "8433.33"},
            headers=admin | {"If-Match": '"1"'},
        )
        assert edited.status_code == 200
        read = await get(http, admin, parent["id"])
        assert (read["value"], read["unallocated"]) == ("100000.00", "-100.00")
        again = await http.post(
            f"/v1/targets/{parent['id']}/split", json={"by": "period"}, headers=admin
        )
        assert again.status_code == 409 and again.json()["code"] == "already_split"
        quarters = await split(http, admin, parent["id"], by="period", into="quarter", replace=True)
        assert [q["value"] for q in quarters] == ["25000.00"] * 4
        assert {t["id"] for t in await listed(http, admin, parent_id=parent["id"])} == {
            q["id"] for q in quarters
        }
        assert (await http.get(f"/v1/targets/{march['id']}", headers=admin)).status_code == 404
        assert (await get(http, admin, parent["id"]))["unallocated"] == "0.00"


async def test_counts_weights_weeks_and_working_days():
    async with client() as http:
        company = await signup(http)
        admin = company.admin
        quarter = await create_target(
            http, admin, subject="company", measure="visits", period="2027-Q1", value="100"
        )
        months = await split(http, admin, quarter["id"], by="period")
        assert [m["value"] for m in months] == ["33", "33", "34"]
        year = await create_target(
            http, admin, subject="company", measure="won_opportunities", period="2027", value="10"
        )
        weights = {"2027-Q1": 1, "2027-Q2": "2", "2027-Q3": 3.0, "2027-Q4": 4}
        shares = await split(
            http, admin, year["id"], by="period", into="quarter", method="weights", weights=weights
        )
        assert [s["value"] for s in shares] == ["1", "2", "3", "4"]

        async def refused(target_id, code, **body):
            response = await http.post(f"/v1/targets/{target_id}/split", json=body, headers=admin)
            assert response.status_code == 422, response.text
            assert response.json()["code"] == code

        money = await create_target(
            http, admin, subject="company", measure="payment_amount", period="2027", value="1000"
        )
        q = ("2027-Q1", "2027-Q2", "2027-Q3")
        await refused(
            money["id"],
            "invalid_weights",
            by="period",
            into="quarter",
            method="weights",
            weights=dict.fromkeys(q, 1),
        )
        await refused(
            money["id"],
            "invalid_weights",
            by="period",
            into="quarter",
            method="weights",
            weights={**dict.fromkeys(q, 1), "2027-Q4": -1},
        )
        await refused(
            money["id"],
            "invalid_weights",
            by="period",
            into="quarter",
            method="weights",
            weights=dict.fromkeys((*q, "2027-Q4"), 0),
        )
        await refused(
            money["id"],
            "invalid_weights",
            by="period",
            into="quarter",
            method="weights",
            weights={**dict.fromkeys(q, 1), "2027-Q5": 1},
        )
        await refused(money["id"], "invalid_split", by="period", into="week")
        await refused(money["id"], "invalid_split", by="subject", into="month")
        day = await create_target(
            http, admin, subject="company", measure="visits", period="2027-03-15", value="3"
        )
        await refused(day["id"], "invalid_split", by="period")
        # A month into ISO weeks: those whose Thursday is in March (W13's is 1 April).
        march = await create_target(
            http, admin, subject="company", measure="followups", period="2027-03", value="401"
        )
        weeks = await split(http, admin, march["id"], by="period", into="week")
        assert [(w["period"], w["value"]) for w in weeks] == [
            ("2027-W09", "100"),
            ("2027-W10", "100"),
            ("2027-W11", "100"),
            ("2027-W12", "101"),
        ]
        # Working days only: March 2027 has 23 (Mon–Fri), the weekends get no child.
        await execute(
            "UPDATE companies SET settings = settings || '{\"split_working_days_only\": true}'"
            " WHERE id = :c",
            c=company.id,
        )
        money_march = await create_target(
            http,
            admin,
            subject="company",
            measure="contract_amount",
            period="2027-03",
            value="2300",
        )
        days = await split(http, admin, money_march["id"], by="period", into="day")
        assert len(days) == 23 and {d["value"] for d in days} == {"100.00"}
        assert all(date.fromisoformat(d["period"]).isoweekday() <= 5 for d in days)
        assert "2027-03-06" not in {d["period"] for d in days}


async def test_by_subject_departments_and_members_and_an_existing_child():
    async with client() as http:
        company = await signup(http)
        admin = company.admin
        east = await company.department("东区")
        team_1 = await company.department("A 组", east)
        team_2 = await company.department("B 组", east)
        lead_id, _ = await company.user("manager", east, name="张经理")
        parent = await create_target(
            http,
            admin,
            subject="department",
            subject_id=east,
            measure="contract_amount",
            period="2027-03",
            value="1000",
        )
        children = await split(http, admin, parent["id"], by="subject")
        assert [(c["subject"], c["subject_id"], c["value"]) for c in children] == [
            ("department", team_1, "333.33"),
            ("department", team_2, "333.33"),
            ("user", lead_id, "333.34"),
        ]
        weighted = await split(
            http,
            admin,
            parent["id"],
            by="subject",
            method="weights",
            replace=True,
            weights={team_1: 1, team_2: 1, lead_id: 2},
        )
        assert [c["value"] for c in weighted] == ["250.00", "250.00", "500.00"]
        whole = await create_target(
            http,
            admin,
            subject="company",
            measure="contract_amount",
            period="2027-03",
            value="5000",
        )
        [root] = await split(http, admin, whole["id"], by="subject")
        assert (root["subject_id"], root["value"]) == (company.root_department_id, "5000.00")
        # A child that is a target already: 409 naming it.
        user_q = await create_target(
            http,
            admin,
            subject="user",
            subject_id=lead_id,
            measure="visits",
            period="2027-Q1",
            value="30",
        )
        february = await create_target(
            http,
            admin,
            subject="user",
            subject_id=lead_id,
            measure="visits",
            period="2027-02",
            value="9",
        )
        clash = await http.post(
            f"/v1/targets/{user_q['id']}/split", json={"by": "period"}, headers=admin
        )
        assert clash.status_code == 409 and clash.json()["code"] == "target_exists"
        assert clash.json()["existing_id"] == february["id"]
        by_subject = await http.post(
            f"/v1/targets/{user_q['id']}/split", json={"by": "subject"}, headers=admin
        )
        assert by_subject.status_code == 422


async def test_last_year_weights_by_period_and_by_subject():
    async with client() as http:
        company = await signup(http)
        admin = company.admin
        team = await company.department("一组")
        rep_a, a = await company.user("rep", team, name="A")
        rep_b, _ = await company.user("rep", team, name="B")
        customer = (await create_customer(http, a, "甲公司"))["id"]
        cid = company.id
        await contract(cid, customer, rep_a, "100.00", signed_on=date(2026, 1, 20))
        await contract(cid, customer, rep_a, "300.00", signed_on=date(2026, 2, 3))
        await contract(cid, customer, rep_b, "100.00", signed_on=date(2026, 2, 28))
        await contract(cid, customer, rep_a, "999.00", signed_on=date(2027, 1, 5))  # this year
        quarter = await create_target(
            http,
            admin,
            subject="user",
            subject_id=rep_a,
            measure="contract_amount",
            period="2027-Q1",
            value="1000",
        )
        months = await split(http, admin, quarter["id"], by="period", method="last_year")
        assert [m["value"] for m in months] == ["250.00", "750.00", "0.00"]
        assert months[0]["actual"] == "999.00"
        cascade = {"cascade": "true"}
        gone = await http.delete(f"/v1/targets/{quarter['id']}", params=cascade, headers=admin)
        assert gone.status_code == 204
        team_feb = await create_target(
            http,
            admin,
            subject="department",
            subject_id=team,
            measure="contract_amount",
            period="2027-02",
            value="1000",
        )
        people = await split(http, admin, team_feb["id"], by="subject", method="last_year")
        assert [(p["subject_id"], p["value"]) for p in people] == [
            (rep_a, "750.00"),
            (rep_b, "250.00"),
        ]
        empty = await create_target(
            http,
            admin,
            subject="user",
            subject_id=rep_b,
            measure="visits",
            period="2027-03",
            value="20",
        )
        response = await http.post(
            f"/v1/targets/{empty['id']}/split",
            json={"by": "period", "method": "last_year"},
            headers=admin,
        )
        assert response.status_code == 422 and response.json()["code"] == "no_history"

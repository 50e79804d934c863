"""The suggestion: base = the last 3 complete months' average × 0.7 (× 3 a quarter, × 12 a
year), increment = target − base, expected = customers × average order value, gap."""

from datetime import UTC, date, datetime

from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.reports.money_rows import contract
from tests.targets.helpers import create_target, execute


async def suggestion(http, headers, **params):
    response = await http.get("/v1/targets/suggest", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_base_increment_expected_and_gap():
    clock.freeze(datetime(2027, 4, 10, 2, 0, tzinfo=UTC))  # 10 April, 10:00 in Shanghai
    async with client() as http:
        company = await signup(http)
        team = await company.department("一组")
        rep_id, rep = await company.user("rep", team)
        peer_id, _ = await company.user("rep", team)
        a = (await create_customer(http, rep, "甲公司"))["id"]
        b = (await create_customer(http, rep, "乙公司"))["id"]
        await create_customer(http, rep, "丙公司")  # held, no contract
        lost = (await create_customer(http, rep, "丁公司"))["id"]
        cid = company.id
        await contract(cid, a, rep_id, "90000.00", signed_on=date(2027, 1, 31))
        await contract(cid, a, rep_id, "120000.00", signed_on=date(2027, 2, 1))
        await contract(cid, b, rep_id, "90000.00", signed_on=date(2027, 3, 15))
        await contract(cid, b, rep_id, "1.00", status="draft", signed_on=date(2027, 3, 15))
        await contract(cid, b, rep_id, "777.00", signed_on=date(2026, 12, 31))  # before the 3
        await contract(cid, b, rep_id, "5000.00", signed_on=date(2026, 4, 10))  # > 12 months
        await execute("UPDATE customers SET status = 'lost' WHERE id = :c", c=lost)
        params = {"subject": "user", "subject_id": rep_id, "measure": "contract_amount"}
        april = await suggestion(http, company.admin, period="2027-04", **params)
        assert april["base"] == "70000.00"
        assert [(m["period"], m["actual"]) for m in april["inputs"]["months"]] == [
            ("2027-01", "90000.00"),
            ("2027-02", "120000.00"),
            ("2027-03", "90000.00"),
        ]
        assert april["inputs"]["factor"] == "0.7" and april["inputs"]["scale"] == "1"
        assert (april["increment"], april["gap"], april["inputs"]["target"]) == (None,) * 3
        # 3 customers held (not the lost one); Σ 300,777.00 over the 2 that bought = 150,388.50.
        assert april["inputs"]["customers"] == 3
        assert april["inputs"]["average_order_value"] == "150388.50"
        assert april["expected"] == "451165.50"
        await create_target(http, company.admin, period="2027-04", value="80000", **params)
        april = await suggestion(http, company.admin, period="2027-04", **params)
        assert (april["increment"], april["gap"]) == ("10000.00", "-371165.50")
        quarter = await suggestion(http, company.admin, period="2027-Q2", **params)
        assert quarter["base"] == "210000.00" and quarter["inputs"]["scale"] == "3"
        year = await suggestion(http, company.admin, period="2027", **params)
        # A year starting before the months: the 3 before January 2027 (only 777.00).
        assert [m["period"] for m in year["inputs"]["months"]] == ["2026-10", "2026-11", "2026-12"]
        assert year["base"] == "2175.60"  # 777 / 3 × 0.7 × 12
        # A month still ahead: the last three complete ones (before April), not May's.
        june = await suggestion(http, company.admin, period="2027-06", **params)
        assert june["base"] == "70000.00"
        team_params = {"subject": "department", "subject_id": team, "measure": "contract_amount"}
        assert (await suggestion(http, company.admin, period="2027-04", **team_params))[
            "base"
        ] == "70000.00"
        # Counts: two places, no expected.
        visits = await suggestion(
            http,
            company.admin,
            subject="user",
            subject_id=rep_id,
            measure="visits",
            period="2027-04",
        )
        assert visits["base"] == "0.00" and visits["expected"] is None
        assert visits["inputs"]["customers"] is None
        # Who may ask: a rep for themselves, not for a peer (404) nor the company (403).
        assert (await suggestion(http, rep, period="2027-04", **params))["base"] == "70000.00"
        peer = await http.get(
            "/v1/targets/suggest",
            params={**params, "subject_id": peer_id, "period": "2027-04"},
            headers=rep,
        )
        assert peer.status_code == 404
        whole = await http.get(
            "/v1/targets/suggest",
            params={"subject": "company", "measure": "visits", "period": "2027-04"},
            headers=rep,
        )
        assert whole.status_code == 403
        other = await signup(http, name="Globex")
        foreign = await http.get(
            "/v1/targets/suggest", params={**params, "period": "2027-04"}, headers=other.admin
        )
        assert foreign.status_code == 404

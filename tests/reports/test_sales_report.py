"""The sales report on a small known data set: contracted and received per month, quarter,
product line, product, owner and department; growth vs the previous period and a year before;
CSV; visibility (like the contracts' customers)."""

from datetime import date
from decimal import Decimal

from app.reports.sales import add_months, growth, year_before
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.reports.money_rows import contract, payment, product, reverse


def test_pure_figures():
    assert growth(Decimal("1500.00"), Decimal("800.00")) == "0.8750"
    assert growth(Decimal("600.00"), Decimal("800.00")) == "-0.2500"
    assert growth(Decimal("1.00"), Decimal("3.00")) == "-0.6667"
    assert growth(Decimal("5.00"), Decimal("0.00")) is None
    assert add_months(date(2027, 1, 31), -1) == date(2026, 12, 1)
    assert add_months(date(2027, 11, 5), 3) == date(2028, 2, 1)
    assert year_before(date(2028, 2, 29)) == date(2027, 2, 28)


async def world(http):
    company = await signup(http)
    team1 = await company.department("一组")
    team2 = await company.department("二组")
    rep_a, a = await company.user("rep", team1, name="王一")
    rep_b, b = await company.user("rep", team2, name="李二")
    _, manager = await company.user("manager", team1, name="张经理")
    cust_a = (await create_customer(http, a, "甲公司"))["id"]
    cust_b = (await create_customer(http, b, "乙公司"))["id"]
    cid = company.id
    hardware = await product(cid, "服务器", "硬件")
    software = await product(cid, "软件许可", "软件")
    c1 = await contract(
        cid,
        cust_a,
        rep_a,
        signed_on=date(2027, 3, 10),
        lines=[(hardware, "600.00"), (software, "400.00")],
    )
    c2 = await contract(
        cid, cust_b, rep_b, "500.00", status="completed", signed_on=date(2027, 3, 20)
    )
    c3 = await contract(
        cid, cust_a, rep_a, signed_on=date(2027, 2, 15), lines=[(hardware, "800.00")]
    )
    c4 = await contract(
        cid, cust_a, rep_a, signed_on=date(2026, 3, 5), lines=[(software, "400.00")]
    )
    await contract(cid, cust_a, rep_a, "9999.00", status="draft", signed_on=date(2027, 3, 1))
    await payment(cid, c1, rep_a, "500.00", date(2027, 3, 15))
    await payment(cid, c1, rep_a, "100.00", date(2027, 3, 16), confirmed=False)
    await payment(cid, c2, rep_b, "300.00", date(2027, 3, 25))
    wrong = await payment(cid, c2, rep_b, "50.00", date(2027, 3, 26))
    await reverse(cid, wrong, rep_b, date(2027, 3, 27))
    await payment(cid, c3, rep_a, "400.00", date(2027, 2, 20))
    await payment(cid, c4, rep_a, "100.00", date(2026, 3, 10))
    return company, {"a": a, "b": b, "manager": manager}, {"a": rep_a, "b": rep_b}, (team1, team2)


async def report(http, headers, **params):
    response = await http.get("/v1/reports/sales", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_by_month_and_quarter_with_growth():
    async with client() as http:
        company, _, _, _ = await world(http)
        body = await report(
            http, company.admin, group="month", **{"from": "2027-03-05", "to": "2027-03-31"}
        )
        assert (body["since"], body["until"]) == ("2027-03-01", "2027-03-31")  # whole months
        [march] = body["items"]
        assert march["key"] == "2027-03" and march["contracts"] == 2
        assert (march["contracted"], march["received"]) == ("1500.00", "800.00")
        assert (march["contracted_prev"], march["contracted_yoy"]) == ("800.00", "400.00")
        assert (march["received_prev"], march["received_yoy"]) == ("400.00", "100.00")
        assert (march["growth_prev"], march["growth_yoy"]) == ("0.8750", "2.7500")
        assert (march["received_growth_prev"], march["received_growth_yoy"]) == ("1.0000", "7.0000")
        assert body["total"]["contracted"] == "1500.00" and body["total"]["growth_prev"] == "0.8750"

        body = await report(
            http, company.admin, group="month", **{"from": "2027-01-01", "to": "2027-03-31"}
        )
        assert [i["key"] for i in body["items"]] == ["2027-01", "2027-02", "2027-03"]
        assert [i["contracted"] for i in body["items"]] == ["0.00", "800.00", "1500.00"]
        assert body["items"][1]["growth_prev"] is None  # January had nothing
        total = body["total"]
        assert (total["contracts"], total["contracted"], total["received"]) == (
            3,
            "2300.00",
            "1200.00",
        )
        assert (body["previous_since"], body["previous_until"]) == ("2026-10-01", "2026-12-31")
        assert (total["contracted_yoy"], total["growth_yoy"]) == ("400.00", "4.7500")

        body = await report(
            http, company.admin, group="quarter", **{"from": "2027-02-01", "to": "2027-03-01"}
        )
        [q1] = body["items"]
        assert (q1["key"], q1["since"], q1["until"]) == ("2027-Q1", "2027-01-01", "2027-03-31")
        assert (q1["contracts"], q1["contracted"], q1["received"]) == (3, "2300.00", "1200.00")
        assert q1["growth_prev"] is None and q1["growth_yoy"] == "4.7500"
        assert q1["received_growth_yoy"] == "11.0000"


async def test_by_product_line_product_user_department():
    async with client() as http:
        company, _, reps, teams = await world(http)
        march = {"from": "2027-03-01", "to": "2027-03-31"}
        body = await report(http, company.admin, group="product_line", **march)
        assert (body["previous_since"], body["previous_until"]) == ("2027-01-29", "2027-02-28")
        lines = {i["key"]: i for i in body["items"]}
        assert set(lines) == {"硬件", "软件", None}
        assert (lines["硬件"]["contracted"], lines["硬件"]["received"]) == ("600.00", "300.00")
        assert lines["硬件"]["growth_prev"] == "-0.2500" and lines["硬件"]["growth_yoy"] is None
        assert (lines["软件"]["contracted"], lines["软件"]["received"]) == ("400.00", "200.00")
        assert lines["软件"]["growth_yoy"] == "0.0000"
        assert lines["软件"]["received_growth_yoy"] == "1.0000"
        assert (lines[None]["contracted"], lines[None]["received"]) == ("500.00", "300.00")
        # The total counts each contract once, though C1 is in two lines.
        assert body["total"]["contracts"] == 2 and body["total"]["contracted"] == "1500.00"
        assert body["total"]["received"] == "800.00"

        body = await report(http, company.admin, group="product", **march)
        assert sorted((i["label"], i["contracted"]) for i in body["items"] if i["key"]) == [
            ("服务器", "600.00"),
            ("软件许可", "400.00"),
        ]

        body = await report(http, company.admin, group="user", **march)
        users = {i["key"]: i for i in body["items"]}
        assert users[reps["a"]]["label"] == "王一" and users[reps["a"]]["contracted"] == "1000.00"
        assert users[reps["a"]]["received"] == "500.00" and users[reps["b"]]["received"] == "300.00"
        assert [i["key"] for i in body["items"]] == [reps["a"], reps["b"]]  # by amount

        body = await report(http, company.admin, group="department", **march)
        departments = {i["key"]: (i["label"], i["contracted"]) for i in body["items"]}
        assert departments == {teams[0]: ("一组", "1000.00"), teams[1]: ("二组", "500.00")}


async def test_a_payment_is_shared_by_the_lines_to_the_fen():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        customer = (await create_customer(http, rep, "丙公司"))["id"]
        cid = company.id
        one = await product(cid, "A", "甲线")
        two = await product(cid, "B", "乙线")
        three = await product(cid, "C", "丙线")
        deal = await contract(
            cid,
            customer,
            rep_id,
            signed_on=date(2027, 5, 1),
            lines=[(one, "100.00"), (two, "100.00"), (three, "100.00")],
        )
        await payment(cid, deal, rep_id, "100.00", date(2027, 5, 2))
        body = await report(
            http, rep, group="product_line", **{"from": "2027-05-01", "to": "2027-05-31"}
        )
        assert sorted(i["received"] for i in body["items"]) == ["33.33", "33.33", "33.33"]
        assert body["total"]["received"] == "100.00"


async def test_csv():
    async with client() as http:
        company, _, _, _ = await world(http)
        response = await http.get(
            "/v1/reports/sales",
            params={
                "group": "product_line",
                "from": "2027-03-01",
                "to": "2027-03-31",
                "format": "csv",
            },
            headers=company.admin,
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeffkey,label,since,until,contracts,contracted,received,")
        lines = text.strip().split("\r\n")
        assert lines[1].startswith(
            "硬件,硬件,2027-03-01,2027-03-31,1,600.00,300.00,800.00,0.00,-0.2500,"
        )
        assert lines[-1].startswith("total,,2027-03-01,2027-03-31,2,1500.00,800.00,")


async def test_visibility_and_bad_ranges():
    async with client() as http:
        company, people, _, _ = await world(http)
        march = {"group": "month", "from": "2027-03-01", "to": "2027-03-31"}
        [b] = (await report(http, people["b"], **march))["items"]
        assert (b["contracts"], b["contracted"], b["received"]) == (1, "500.00", "300.00")
        assert b["contracted_yoy"] == "0.00" and b["growth_yoy"] is None
        [m] = (await report(http, people["manager"], **march))["items"]
        assert (m["contracted"], m["received"], m["contracted_prev"]) == (
            "1000.00",
            "500.00",
            "800.00",
        )
        other = await signup(http, "Other Co")
        [o] = (await report(http, other.admin, **march))["items"]
        assert (o["contracts"], o["contracted"], o["received"]) == (0, "0.00", "0.00")
        bad = await http.get(
            "/v1/reports/sales",
            params={"from": "2027-03-02", "to": "2027-03-01"},
            headers=company.admin,
        )
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_range"
        bad = await http.get("/v1/reports/sales", params={"group": "week"}, headers=company.admin)
        assert bad.status_code == 422
        assert (await http.get("/v1/reports/sales")).status_code == 401

"""Receivables ageing on a known data set: buckets by days past due of each instalment's
unpaid part, unscheduled, as of a day, per customer / user / department; scope; CSV."""

import csv
import io
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from app.core import clock
from app.main import app
from app.reports.receivables import bucket
from tests.customers.helpers import create_customer
from tests.helpers import signup
from tests.money.payment_helpers import insert_contract

SHANGHAI = ZoneInfo("Asia/Shanghai")
URL = "/v1/reports/receivables"


def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def test_buckets():
    assert [bucket(d) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "not_due",
        "not_due",
        "d1_30",
        "d1_30",
        "d31_60",
        "d31_60",
        "d61_90",
        "d61_90",
        "over_90",
        "over_90",
    ]


async def _plan(http, headers, contract_id, due, amount):
    response = await http.post(
        f"/v1/contracts/{contract_id}/payment-plans",
        json={"due_date": due, "amount": amount},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _pay(http, headers, admin, contract_id, amount, received_on, *, confirm=True, **extra):
    response = await http.post(
        "/v1/payments",
        json={
            "contract_id": contract_id,
            "amount": amount,
            "received_on": received_on,
            "method": "bank_transfer",
            **extra,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    if confirm:
        confirmed = await http.post(f"/v1/payments/{response.json()['id']}/confirm", headers=admin)
        assert confirmed.status_code == 200, confirmed.text


async def data_set(http):
    """As of 2027-06-30 (the clock: 10 July 2027 in Shanghai).

    A (rep1, customer X) 10000: P1 30 Jun 3000, P2 15 Jun 2000, P3 1 May 2000, P4 1 Apr 1000,
      P5 1 Mar 1000 (Σ 9000: 1000 unscheduled); 1500 confirmed on 1 Jun naming P4 (P4 paid,
      P5 500); 500 only recorded (P5 committed, not paid); 1000 confirmed on 5 Jul (P3, after
      30 Jun).
    C (rep1, customer X) 3000: 1000 confirmed on 1 Jun before any plan, then Q1 1 Jun 2000 and
      Q2 1 Aug 1000 (the unallocated 1000 pays Q1 first).
    B (rep2, customer Y) 5000, no plan: 1000 confirmed on 10 Jun (4000 unscheduled).
    Not counted: a draft, and an active contract paid in full.
    """
    clock.freeze(datetime(2027, 7, 10, 10, 0, tzinfo=SHANGHAI))
    company = await signup(http)
    east = await company.department("East")
    east_team = await company.department("East Team", east)
    west = await company.department("West")
    rep1_id, rep1 = await company.user("rep", east_team, name="Rep One")
    rep2_id, rep2 = await company.user("rep", west, name="Rep Two")
    _, east_manager = await company.user("manager", east)
    _, west_manager = await company.user("manager", west)
    admin = company.admin
    x = (await create_customer(http, rep1, "Customer X"))["id"]
    y = (await create_customer(http, rep2, "Customer Y"))["id"]

    a = await insert_contract(company.id, x, rep1_id, "10000.00")
    await _plan(http, rep1, a, "2027-06-30", "3000.00")
    await _plan(http, rep1, a, "2027-06-15", "2000.00")
    await _plan(http, rep1, a, "2027-05-01", "2000.00")
    p4 = await _plan(http, rep1, a, "2027-04-01", "1000.00")
    await _plan(http, rep1, a, "2027-03-01", "1000.00")
    await _pay(http, rep1, admin, a, "1500.00", "2027-06-01", plan_id=p4)
    await _pay(http, rep1, admin, a, "500.00", "2027-06-20", confirm=False)
    await _pay(http, rep1, admin, a, "1000.00", "2027-07-05")

    c = await insert_contract(company.id, x, rep1_id, "3000.00")
    await _pay(http, rep1, admin, c, "1000.00", "2027-06-01")
    await _plan(http, rep1, c, "2027-06-01", "2000.00")
    await _plan(http, rep1, c, "2027-08-01", "1000.00")

    b = await insert_contract(company.id, y, rep2_id, "5000.00")
    await _pay(http, rep2, admin, b, "1000.00", "2027-06-10")

    await insert_contract(company.id, x, rep1_id, "800.00", status="draft")
    full = await insert_contract(company.id, y, rep2_id, "100.00")
    await _pay(http, rep2, admin, full, "100.00", "2027-06-01")

    other = await signup(http, "Other Co")
    return {
        "company": company,
        "admin": admin,
        "rep1": rep1,
        "rep1_id": rep1_id,
        "rep2": rep2,
        "east_manager": east_manager,
        "west_manager": west_manager,
        "outsider": other.admin,
        "x": x,
        "y": y,
        "east": east,
        "east_team": east_team,
        "west": west,
    }


X_JUNE = {
    "contracts": 2,
    "not_due": "4000.00",  # A.P1 3000 (due that day) + C.Q2 1000
    "d1_30": "3000.00",  # A.P2 2000 (15 days) + C.Q1 1000 (29 days, after the credit)
    "d31_60": "2000.00",  # A.P3 (60 days; paid only on 5 July)
    "d61_90": "0.00",  # A.P4 paid
    "over_90": "500.00",  # A.P5 (121 days): 500 of it paid, 500 only recorded
    "unscheduled": "1000.00",
    "total": "10500.00",  # 13000 − 2500 received by 30 June
}
Y_JUNE = {
    "contracts": 1,
    "not_due": "0.00",
    "d1_30": "0.00",
    "d31_60": "0.00",
    "d61_90": "0.00",
    "over_90": "0.00",
    "unscheduled": "4000.00",
    "total": "4000.00",
}


def _figures(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k not in ("id", "name")}


async def test_ageing_per_customer_user_and_department():
    async with client() as http:
        d = await data_set(http)
        report = await http.get(URL, params={"as_of": "2027-06-30"}, headers=d["admin"])
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["as_of"] == "2027-06-30"
        assert body["group"] == "customer"
        assert [i["name"] for i in body["items"]] == ["Customer X", "Customer Y"]
        assert [i["id"] for i in body["items"]] == [d["x"], d["y"]]
        assert _figures(body["items"][0]) == X_JUNE
        assert _figures(body["items"][1]) == Y_JUNE
        assert body["totals"] == {
            "contracts": 3,
            "not_due": "4000.00",
            "d1_30": "3000.00",
            "d31_60": "2000.00",
            "d61_90": "0.00",
            "over_90": "500.00",
            "unscheduled": "5000.00",
            "total": "14500.00",
        }
        by_user = (
            await http.get(URL, params={"as_of": "2027-06-30", "group": "user"}, headers=d["admin"])
        ).json()
        assert [(i["id"], i["name"]) for i in by_user["items"]][0] == (d["rep1_id"], "Rep One")
        assert [_figures(i) for i in by_user["items"]] == [X_JUNE, Y_JUNE]
        by_department = (
            await http.get(
                URL, params={"as_of": "2027-06-30", "group": "department"}, headers=d["admin"]
            )
        ).json()
        assert [(i["id"], i["name"]) for i in by_department["items"]] == [
            (d["east_team"], "East Team"),
            (d["west"], "West"),
        ]


async def test_as_of_today_counts_later_payments():
    async with client() as http:
        d = await data_set(http)
        body = (await http.get(URL, headers=d["admin"])).json()
        assert body["as_of"] == "2027-07-10"
        x = _figures(body["items"][0])
        assert x == {
            "contracts": 2,
            "not_due": "1000.00",  # C.Q2
            "d1_30": "5000.00",  # A.P1 (10 days) 3000 + A.P2 (25 days) 2000
            "d31_60": "1000.00",  # C.Q1 (39 days)
            "d61_90": "1000.00",  # A.P3 (70 days): 1000 of 2000 paid on 5 July
            "over_90": "500.00",
            "unscheduled": "1000.00",
            "total": "9500.00",
        }


async def test_scope_follows_the_caller_and_the_filters():
    async with client() as http:
        d = await data_set(http)
        params = {"as_of": "2027-06-30"}

        async def names(headers, **extra):
            response = await http.get(URL, params=params | extra, headers=headers)
            assert response.status_code == 200, response.text
            return [i["name"] for i in response.json()["items"]]

        assert await names(d["rep1"]) == ["Customer X"]
        assert await names(d["rep2"]) == ["Customer Y"]
        assert await names(d["east_manager"]) == ["Customer X"]
        assert await names(d["west_manager"]) == ["Customer Y"]
        assert await names(d["outsider"]) == []
        assert await names(d["admin"], department=d["west"]) == ["Customer Y"]
        assert await names(d["admin"], user=d["rep1_id"]) == ["Customer X"]
        for who in ("west_manager", "outsider"):
            hidden = await http.get(URL, params=params | {"user": d["rep1_id"]}, headers=d[who])
            assert hidden.status_code == 404, who
        unknown = await http.get(URL, params={"department": str(uuid.uuid4())}, headers=d["admin"])
        assert unknown.status_code == 404
        bad = await http.get(URL, params={"group": "month"}, headers=d["admin"])
        assert bad.status_code == 422


async def test_csv():
    async with client() as http:
        d = await data_set(http)
        response = await http.get(
            URL, params={"as_of": "2027-06-30", "format": "csv"}, headers=d["admin"]
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == [
            "group",
            "id",
            "name",
            "contracts",
            "not_due",
            "d1_30",
            "d31_60",
            "d61_90",
            "over_90",
            "unscheduled",
            "total",
        ]
        assert rows[1][2:] == ["Customer X", "2", *list(X_JUNE.values())[1:]]
        assert rows[-1] == [
            "total",
            "",
            "",
            "3",
            "4000.00",
            "3000.00",
            "2000.00",
            "0.00",
            "500.00",
            "5000.00",
            "14500.00",
        ]

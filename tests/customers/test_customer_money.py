"""The customer's `money` summary on GET /v1/customers/{id}."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.core import clock
from tests.helpers import client
from tests.money.payment_helpers import execute, world
from tests.money.test_plans import add_plan

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _money(http, headers, customer_id: str) -> dict:
    response = await http.get(f"/v1/customers/{customer_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["money"]


async def test_a_customer_without_contracts_owes_nothing():
    async with client() as http:
        w = await world(http)
        assert await _money(http, w.owner, w.customer_id) == {
            "contracts": 0,
            "contracted": "0.00",
            "received": "0.00",
            "outstanding": "0.00",
            "overdue": "0.00",
        }
        listed = (await http.get("/v1/customers", headers=w.owner)).json()["items"]
        assert "money" not in listed[0]  # the get only: lists stay lean


async def test_signed_contracts_received_outstanding_and_overdue():
    async with client() as http:
        clock.freeze(datetime(2027, 3, 2, 23, 0, tzinfo=SHANGHAI))
        w = await world(http)
        active = await w.contract("1000.00")
        await add_plan(http, w.owner, active, "2027-03-02", "600.00")  # due today
        await add_plan(http, w.owner, active, "2027-06-01", "400.00")
        paid = await http.post(
            "/v1/payments",
            json={
                "contract_id": active,
                "amount": "200.00",
                "received_on": "2027-03-02",
                "method": "cash",
            },
            headers=w.owner,
        )
        assert paid.status_code == 201
        assert (
            await http.post(f"/v1/payments/{paid.json()['id']}/confirm", headers=w.admin)
        ).status_code == 200
        recorded = await http.post(
            "/v1/payments",
            json={
                "contract_id": active,
                "amount": "100.00",
                "received_on": "2027-03-02",
                "method": "cash",
            },
            headers=w.owner,
        )
        assert recorded.status_code == 201  # recorded only: not received
        completed = await w.contract("500.00")
        await execute(
            "UPDATE contracts SET status = 'completed', committed = 500, received = 500"
            " WHERE id = :id",
            id=completed,
        )
        await w.contract("999.00", status="draft")
        await w.contract("777.00", status="terminated")
        money = await _money(http, w.owner, w.customer_id)
        assert money == {
            "contracts": 2,
            "contracted": "1500.00",
            "received": "700.00",
            "outstanding": "800.00",
            "overdue": "0.00",  # the first instalment is due today, not yet late
        }
        clock.advance(timedelta(hours=1))  # 00:00 on 3 March in Shanghai (16:00 UTC on 2 March)
        owner = await w.company.relogin(w.owner_id)
        money = await _money(http, owner, w.customer_id)
        assert money["overdue"] == "400.00"  # 600 due, 200 of it confirmed
        assert money["outstanding"] == "800.00"


async def test_seen_exactly_like_the_customer():
    async with client() as http:
        w = await world(http)
        await w.contract("300.00")
        for who in ("owner", "collaborator", "east_manager", "admin"):
            assert (await _money(http, getattr(w, who), w.customer_id))["contracted"] == "300.00"
        for who in ("bystander", "west_manager", "outsider"):
            response = await http.get(f"/v1/customers/{w.customer_id}", headers=getattr(w, who))
            assert response.status_code == 404, who

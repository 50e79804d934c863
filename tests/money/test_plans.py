"""Payment plans (instalments): create, list with derived status, edit, delete, who may."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.core import clock
from tests.helpers import client
from tests.money.payment_helpers import execute, world

SHANGHAI = ZoneInfo("Asia/Shanghai")


def plans_url(contract_id: str) -> str:
    return f"/v1/contracts/{contract_id}/payment-plans"


async def add_plan(http, headers, contract_id, due: str, amount: str, **extra):
    response = await http.post(
        plans_url(contract_id), json={"due_date": due, "amount": amount, **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_instalments_add_up_to_at_most_the_contract():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        first = await add_plan(http, w.owner, contract, "2030-03-01", "600.00", note="首付")
        assert first["amount"] == "600.00"
        assert first["paid"] == "0.00"
        assert first["outstanding"] == "600.00"
        assert first["status"] == "pending"
        assert first["note"] == "首付"
        too_much = await http.post(
            plans_url(contract),
            json={"due_date": "2030-06-01", "amount": "400.01"},
            headers=w.owner,
        )
        assert too_much.status_code == 422
        assert too_much.json()["code"] == "plans_exceed_contract"
        assert too_much.json()["plans_total"] == "1000.01"
        assert too_much.json()["contract_amount"] == "1000.00"
        await add_plan(http, w.owner, contract, "2030-01-01", "400.00")
        listed = (await http.get(plans_url(contract), headers=w.owner)).json()
        assert [p["due_date"] for p in listed["items"]] == ["2030-01-01", "2030-03-01"]
        assert listed["total"] == "1000.00"
        assert listed["unscheduled"] == "0.00"
        assert listed["contract_amount"] == "1000.00"


async def test_amounts_are_validated():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        for amount in ("0", "0.00", "-1.00", 12.5, "1.234", "abc"):
            response = await http.post(
                plans_url(contract),
                json={"due_date": "2030-01-01", "amount": amount},
                headers=w.owner,
            )
            assert response.status_code == 422, amount
        extra = await http.post(
            plans_url(contract),
            json={"due_date": "2030-01-01", "amount": "1.00", "paid": "1.00"},
            headers=w.owner,
        )
        assert extra.status_code == 422


async def test_client_id_replay_and_conflict():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        plan_id = str(uuid.uuid4())
        body = {"id": plan_id, "due_date": "2030-01-01", "amount": "100.00"}
        first = await http.post(plans_url(contract), json=body, headers=w.owner)
        assert first.status_code == 201
        again = await http.post(plans_url(contract), json=body, headers=w.owner)
        assert again.status_code == 200
        assert again.json()["id"] == plan_id
        other = await http.post(
            plans_url(contract), json={**body, "amount": "200.00"}, headers=w.owner
        )
        assert other.status_code == 409
        assert other.json()["code"] == "id_conflict"
        listed = (await http.get(plans_url(contract), headers=w.owner)).json()
        assert len(listed["items"]) == 1


async def test_patch_needs_if_match_and_respects_the_total():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        plan = await add_plan(http, w.owner, contract, "2030-01-01", "500.00")
        await add_plan(http, w.owner, contract, "2030-02-01", "300.00")
        url = f"{plans_url(contract)}/{plan['id']}"
        missing = await http.patch(url, json={"amount": "600.00"}, headers=w.owner)
        assert missing.status_code == 428
        stale = await http.patch(
            url, json={"amount": "600.00"}, headers=w.owner | {"If-Match": '"7"'}
        )
        assert stale.status_code == 412
        over = await http.patch(
            url, json={"amount": "700.01"}, headers=w.owner | {"If-Match": '"1"'}
        )
        assert over.status_code == 422
        assert over.json()["code"] == "plans_exceed_contract"
        done = await http.patch(
            url,
            json={"amount": "700.00", "due_date": "2030-03-01", "note": "改期"},
            headers=w.owner | {"If-Match": '"1"'},
        )
        assert done.status_code == 200, done.text
        assert done.headers["etag"] == '"2"'
        assert done.json()["amount"] == "700.00"
        assert done.json()["due_date"] == "2030-03-01"
        assert done.json()["note"] == "改期"


async def test_an_instalment_with_payments_cannot_shrink_below_them_nor_be_deleted():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        plan = await add_plan(http, w.owner, contract, "2030-01-01", "500.00")
        spare = await add_plan(http, w.owner, contract, "2030-02-01", "100.00")
        paid = await http.post(
            "/v1/payments",
            json={
                "contract_id": contract,
                "amount": "300.00",
                "received_on": "2020-01-01",
                "method": "cash",
            },
            headers=w.owner,
        )
        assert paid.status_code == 201, paid.text
        url = f"{plans_url(contract)}/{plan['id']}"
        below = await http.patch(
            url, json={"amount": "299.99"}, headers=w.owner | {"If-Match": '"1"'}
        )
        assert below.status_code == 422
        assert below.json()["code"] == "plan_below_allocated"
        assert below.json()["allocated"] == "300.00"
        exact = await http.patch(
            url, json={"amount": "300.00"}, headers=w.owner | {"If-Match": '"1"'}
        )
        assert exact.status_code == 200
        assert exact.json()["committed"] == "300.00"
        assert exact.json()["paid"] == "0.00"  # recorded, not yet confirmed
        refused = await http.delete(url, headers=w.owner)
        assert refused.status_code == 409
        assert refused.json()["code"] == "plan_has_payments"
        gone = await http.delete(f"{plans_url(contract)}/{spare['id']}", headers=w.owner)
        assert gone.status_code == 204
        listed = (await http.get(plans_url(contract), headers=w.owner)).json()
        assert [p["id"] for p in listed["items"]] == [plan["id"]]
        again = await http.delete(f"{plans_url(contract)}/{spare['id']}", headers=w.owner)
        assert again.status_code == 404


async def test_locked_and_closed_contracts():
    async with client() as http:
        w = await world(http)
        waiting = await w.contract("1000.00", status="pending_approval")
        response = await http.post(
            plans_url(waiting), json={"due_date": "2030-01-01", "amount": "1.00"}, headers=w.owner
        )
        assert response.status_code == 409
        assert response.json()["code"] == "record_locked_for_approval"
        for status in ("completed", "terminated"):
            closed = await w.contract("1000.00", status=status)
            response = await http.post(
                plans_url(closed),
                json={"due_date": "2030-01-01", "amount": "1.00"},
                headers=w.owner,
            )
            assert response.status_code == 409
            assert response.json()["code"] == "contract_locked"
        draft = await w.contract("1000.00", status="draft")
        await add_plan(http, w.owner, draft, "2030-01-01", "1.00")


async def test_who_sees_and_who_edits_the_plan():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        plan = await add_plan(http, w.owner, contract, "2030-01-01", "100.00")
        url = f"{plans_url(contract)}/{plan['id']}"
        for who in ("owner", "collaborator", "east_manager", "admin"):
            headers = getattr(w, who)
            assert (await http.get(plans_url(contract), headers=headers)).status_code == 200, who
            created = await http.post(
                plans_url(contract),
                json={"due_date": "2030-05-01", "amount": "1.00"},
                headers=headers,
            )
            assert created.status_code == 201, who
        for who in ("bystander", "west_manager", "outsider"):
            headers = getattr(w, who)
            assert (await http.get(plans_url(contract), headers=headers)).status_code == 404, who
            created = await http.post(
                plans_url(contract),
                json={"due_date": "2030-05-01", "amount": "1.00"},
                headers=headers,
            )
            assert created.status_code == 404, who
            patched = await http.patch(
                url, json={"note": "x"}, headers=headers | {"If-Match": '"1"'}
            )
            assert patched.status_code == 404, who
            assert (await http.delete(url, headers=headers)).status_code == 404, who
        unknown = await http.get(plans_url(str(uuid.uuid4())), headers=w.owner)
        assert unknown.status_code == 404
        # A plan of another contract under this contract's path is not found.
        other = await w.contract("50.00")
        wrong = await http.patch(
            f"{plans_url(other)}/{plan['id']}",
            json={"note": "x"},
            headers=w.owner | {"If-Match": '"1"'},
        )
        assert wrong.status_code == 404


async def test_a_pool_customers_contract_is_seen_but_not_edited_by_a_rep():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        await execute("UPDATE customers SET owner_id = NULL WHERE id = :id", id=w.customer_id)
        await execute(
            "UPDATE contracts SET owner_id = :o WHERE id = :id", o=w.company.admin_id, id=contract
        )
        seen = await http.get(plans_url(contract), headers=w.bystander)
        assert seen.status_code == 200
        refused = await http.post(
            plans_url(contract),
            json={"due_date": "2030-01-01", "amount": "1.00"},
            headers=w.bystander,
        )
        assert refused.status_code == 403


async def test_status_follows_confirmed_payments_and_the_shanghai_day():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        # 23:30 in Shanghai on 2 March (15:30 UTC): the instalment due 2 March is not late yet.
        clock.freeze(datetime(2027, 3, 2, 23, 30, tzinfo=SHANGHAI))
        owner = await w.company.relogin(w.owner_id)
        admin = await w.company.relogin_admin()
        plan = await add_plan(http, owner, contract, "2027-03-02", "400.00")
        await add_plan(http, owner, contract, "2027-04-01", "600.00")
        assert (await http.get(plans_url(contract), headers=owner)).json()["items"][0][
            "status"
        ] == "pending"
        clock.advance(timedelta(minutes=31))  # 00:01 on 3 March in Shanghai, still 2 March UTC
        assert clock.now().astimezone(ZoneInfo("UTC")).date() == date(2027, 3, 2)
        owner = await w.company.relogin(w.owner_id)  # access tokens are short-lived
        admin = await w.company.relogin_admin()
        items = (await http.get(plans_url(contract), headers=owner)).json()["items"]
        assert [p["status"] for p in items] == ["overdue", "pending"]
        recorded = await http.post(
            "/v1/payments",
            json={
                "contract_id": contract,
                "amount": "500.00",
                "received_on": "2027-03-03",  # today in Shanghai, tomorrow in UTC
                "method": "bank_transfer",
            },
            headers=owner,
        )
        assert recorded.status_code == 201, recorded.text
        items = (await http.get(plans_url(contract), headers=owner)).json()["items"]
        assert [p["status"] for p in items] == ["overdue", "pending"]  # recorded is not paid
        assert [p["committed"] for p in items] == ["400.00", "100.00"]
        confirmed = await http.post(f"/v1/payments/{recorded.json()['id']}/confirm", headers=admin)
        assert confirmed.status_code == 200, confirmed.text
        items = (await http.get(plans_url(contract), headers=owner)).json()["items"]
        assert [p["status"] for p in items] == ["paid", "partial"]
        assert [p["paid"] for p in items] == ["400.00", "100.00"]
        assert [p["outstanding"] for p in items] == ["0.00", "500.00"]
        assert items[0]["id"] == plan["id"]

"""Payments: recording and allocation, over-collection (also concurrent), confirm (with and
without a payment flow), reverse, client ids, visibility."""

import asyncio
import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from app import composition
from app.core import clock
from app.money.payments.service import approval_outcome
from tests.fieldwork.media_samples import mp3
from tests.helpers import client
from tests.money.payment_helpers import execute, one, totals, world
from tests.money.test_plans import add_plan

D = Decimal


def pay_body(contract_id: str, amount: str, **extra) -> dict:
    return {
        "contract_id": contract_id,
        "amount": amount,
        "received_on": clock.now().date().isoformat(),
        "method": "bank_transfer",
        **extra,
    }


async def pay(http, headers, contract_id: str, amount: str, **extra) -> dict:
    response = await http.post(
        "/v1/payments", json=pay_body(contract_id, amount, **extra), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def subscribe(company_id: str, *event_types: str) -> None:
    await execute(
        "INSERT INTO webhooks (id, company_id, url, event_types, secret, active, version, "
        "created_at, updated_at) VALUES (gen_random_uuid(), :c, 'https://hooks.example.test/x', "
        ":types, 's3cret', true, 1, now(), now())",
        c=company_id,
        types=list(event_types),
    )


async def deliveries(company_id: str, event_type: str) -> list[dict]:
    async def fetch():
        from sqlalchemy import text

        from app.db import session_factory

        async with session_factory()() as session:
            result = await session.execute(
                text(
                    "SELECT payload FROM webhook_deliveries WHERE company_id = :c "
                    "AND event_type = :t ORDER BY created_at"
                ),
                {"c": company_id, "t": event_type},
            )
            return [r.payload for r in result]

    return [json.loads(p) if isinstance(p, str) else p for p in await fetch()]


async def test_allocation_goes_to_the_oldest_instalment_then_the_next():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        later = await add_plan(http, w.owner, contract, "2030-03-01", "300.00")
        first = await add_plan(http, w.owner, contract, "2030-01-01", "300.00")
        second = await add_plan(http, w.owner, contract, "2030-02-01", "300.00")
        a = await pay(http, w.owner, contract, "450.00", note="首笔")
        assert a["status"] == "recorded"
        assert a["received"] is False
        assert a["amount"] == "450.00"
        assert a["customer_id"] == w.customer_id
        assert a["allocations"] == [
            {"plan_id": first["id"], "amount": "300.00"},
            {"plan_id": second["id"], "amount": "150.00"},
        ]
        b = await pay(http, w.owner, contract, "250.00")
        assert b["allocations"] == [
            {"plan_id": second["id"], "amount": "150.00"},
            {"plan_id": later["id"], "amount": "100.00"},
        ]
        # Beyond every instalment: the rest stays unallocated (100 of the contract is unscheduled).
        c = await pay(http, w.owner, contract, "280.00")
        assert c["allocations"] == [{"plan_id": later["id"], "amount": "200.00"}]
        assert await totals(contract) == (D("980.00"), D("0.00"))
        got = await http.get(f"/v1/payments/{a['id']}", headers=w.owner)
        assert got.status_code == 200
        assert got.headers["etag"] == '"1"'
        assert got.json()["allocations"] == a["allocations"]


async def test_the_named_instalment_is_paid_first():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        first = await add_plan(http, w.owner, contract, "2030-01-01", "300.00")
        last = await add_plan(http, w.owner, contract, "2030-06-01", "300.00")
        paid = await pay(http, w.owner, contract, "400.00", plan_id=last["id"])
        assert paid["plan_id"] == last["id"]
        assert paid["allocations"] == [
            {"plan_id": first["id"], "amount": "100.00"},
            {"plan_id": last["id"], "amount": "300.00"},
        ]  # listed by due date; the named one took its whole 300 first
        other = await w.contract("10.00")
        foreign = await add_plan(http, w.owner, other, "2030-01-01", "10.00")
        wrong = await http.post(
            "/v1/payments", json=pay_body(contract, "1.00", plan_id=foreign["id"]), headers=w.owner
        )
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["loc"] == ["body", "plan_id"]


async def test_over_collection_is_refused_with_what_is_left():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        await pay(http, w.owner, contract, "700.00")
        refused = await http.post(
            "/v1/payments", json=pay_body(contract, "300.01"), headers=w.owner
        )
        assert refused.status_code == 422
        assert refused.json()["code"] == "payment_exceeds_outstanding"
        assert refused.json()["outstanding"] == "300.00"
        await pay(http, w.owner, contract, "300.00")
        assert await totals(contract) == (D("1000.00"), D("0.00"))
        none_left = await http.post(
            "/v1/payments", json=pay_body(contract, "0.01"), headers=w.owner
        )
        assert none_left.status_code == 422
        assert none_left.json()["outstanding"] == "0.00"


async def test_concurrent_payments_never_over_collect():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        await add_plan(http, w.owner, contract, "2030-01-01", "1000.00")
        responses = await asyncio.gather(
            *(
                http.post("/v1/payments", json=pay_body(contract, "150.00"), headers=w.owner)
                for _ in range(10)
            )
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 6 + [422] * 4, [r.text for r in responses if r.status_code >= 500]
        committed, _ = await totals(contract)
        assert committed == D("900.00")
        allocated = await one(
            "SELECT sum(amount) AS total FROM payment_allocations a WHERE a.company_id = :c",
            c=w.company.id,
        )
        assert allocated.total == D("900.00")


async def test_payments_need_an_active_contract_and_a_past_day():
    async with client() as http:
        w = await world(http)
        for status in ("draft", "pending_approval", "completed", "terminated"):
            contract = await w.contract("100.00", status=status)
            response = await http.post(
                "/v1/payments", json=pay_body(contract, "1.00"), headers=w.owner
            )
            assert response.status_code == 409, status
            assert response.json()["code"] == "contract_not_payable"
            assert response.json()["contract_status"] == status
        contract = await w.contract("100.00")
        tomorrow = (clock.now() + timedelta(days=2)).date().isoformat()
        future = await http.post(
            "/v1/payments", json=pay_body(contract, "1.00", received_on=tomorrow), headers=w.owner
        )
        assert future.status_code == 422
        assert future.json()["errors"][0]["loc"] == ["body", "received_on"]
        for bad in (
            {"amount": "0.00"},
            {"amount": 5},
            {"method": "bitcoin"},
            {"status": "confirmed"},
        ):
            response = await http.post(
                "/v1/payments", json=pay_body(contract, "1.00") | bad, headers=w.owner
            )
            assert response.status_code == 422, bad


async def test_client_ids_replay_and_conflict():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("100.00")
        body = pay_body(contract, "10.00", id=str(uuid.uuid4()))
        first = await http.post("/v1/payments", json=body, headers=w.owner)
        assert first.status_code == 201
        again = await http.post("/v1/payments", json=body, headers=w.owner)
        assert again.status_code == 200
        assert again.json()["id"] == body["id"]
        assert await totals(contract) == (D("10.00"), D("0.00"))  # counted once
        other = await http.post("/v1/payments", json=body | {"amount": "11.00"}, headers=w.owner)
        assert other.status_code == 409
        assert other.json()["code"] == "id_conflict"
        by_someone_else = await http.post("/v1/payments", json=body, headers=w.collaborator)
        assert by_someone_else.status_code == 409


async def test_confirm_without_a_flow_is_for_admins():
    async with client() as http:
        w = await world(http)
        await subscribe(w.company.id, "payment.recorded", "payment.confirmed", "payment.reversed")
        contract = await w.contract("1000.00")
        plan = await add_plan(http, w.owner, contract, "2030-01-01", "1000.00")
        payment = await pay(http, w.owner, contract, "400.00")
        url = f"/v1/payments/{payment['id']}/confirm"
        for who in ("owner", "east_manager"):
            refused = await http.post(url, headers=getattr(w, who))
            assert refused.status_code == 403, who
        confirmed = await http.post(url, headers=w.admin)
        assert confirmed.status_code == 200, confirmed.text
        body = confirmed.json()
        assert body["status"] == "confirmed"
        assert body["received"] is True
        assert body["confirmed_by"] == w.company.admin_id
        assert body["confirmed_at"] is not None
        assert confirmed.headers["etag"] == '"2"'
        assert await totals(contract) == (D("400.00"), D("400.00"))
        again = await http.post(url, headers=w.admin)
        assert again.status_code == 409
        assert again.json()["code"] == "payment_not_confirmable"
        plans = (await http.get(f"/v1/contracts/{contract}/payment-plans", headers=w.owner)).json()
        assert plans["items"][0]["id"] == plan["id"]
        assert plans["items"][0]["paid"] == "400.00"
        assert plans["items"][0]["status"] == "partial"
        recorded = await deliveries(w.company.id, "payment.recorded")
        confirmed_events = await deliveries(w.company.id, "payment.confirmed")
        assert len(recorded) == 1 and len(confirmed_events) == 1
        data = confirmed_events[0].get("data", confirmed_events[0])
        assert data["id"] == payment["id"]
        assert data["amount"] == "400.00"


async def test_the_owner_hears_of_a_payment_someone_else_recorded():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        await pay(http, w.owner, contract, "1.00")
        await pay(http, w.collaborator, contract, "2.00")
        inbox = (await http.get("/v1/notifications", headers=w.owner)).json()["items"]
        kinds = [n["kind"] for n in inbox]
        assert kinds.count("payment_recorded") == 1
        assert "2.00" in next(n for n in inbox if n["kind"] == "payment_recorded")["body"]


async def test_reverse_a_confirmed_payment_once():
    async with client() as http:
        w = await world(http)
        await subscribe(w.company.id, "payment.reversed")
        contract = await w.contract("1000.00")
        plan = await add_plan(http, w.owner, contract, "2030-01-01", "600.00")
        payment = await pay(http, w.owner, contract, "500.00")
        assert (
            await http.post(f"/v1/payments/{payment['id']}/confirm", headers=w.admin)
        ).status_code == 200
        url = f"/v1/payments/{payment['id']}/reverse"
        by_recorder = await http.post(url, json={"reason": "错账"}, headers=w.owner)
        assert by_recorder.status_code == 403  # confirmed: admins only
        no_reason = await http.post(url, json={}, headers=w.admin)
        assert no_reason.status_code == 422
        reversal = await http.post(url, json={"reason": "错账"}, headers=w.admin)
        assert reversal.status_code == 201, reversal.text
        body = reversal.json()
        assert body["reverses_id"] == payment["id"]
        assert body["amount"] == "-500.00"
        assert body["status"] == "confirmed"
        assert body["received"] is True
        assert body["reverse_reason"] == "错账"
        assert body["allocations"] == [{"plan_id": plan["id"], "amount": "-500.00"}]
        original = (await http.get(f"/v1/payments/{payment['id']}", headers=w.owner)).json()
        assert original["status"] == "reversed"
        assert original["received"] is True  # confirmed, and stays so: the reversal offsets it
        assert original["reversed_by"] == w.company.admin_id
        assert original["amount"] == "500.00"  # never edited
        assert await totals(contract) == (D("0.00"), D("0.00"))
        plans = (await http.get(f"/v1/contracts/{contract}/payment-plans", headers=w.owner)).json()
        assert plans["items"][0]["paid"] == "0.00"
        assert plans["items"][0]["committed"] == "0.00"
        twice = await http.post(url, json={"reason": "again"}, headers=w.admin)
        assert twice.status_code == 409
        assert twice.json()["code"] == "payment_already_reversed"
        of_reversal = await http.post(
            f"/v1/payments/{body['id']}/reverse", json={"reason": "x"}, headers=w.admin
        )
        assert of_reversal.status_code == 409
        confirm_reversal = await http.post(f"/v1/payments/{body['id']}/confirm", headers=w.admin)
        assert confirm_reversal.status_code == 409
        events = await deliveries(w.company.id, "payment.reversed")
        assert len(events) == 1
        # The money is free again.
        await pay(http, w.owner, contract, "1000.00")


async def test_the_recorder_reverses_an_unconfirmed_payment():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        payment = await pay(http, w.owner, contract, "300.00")
        other = await http.post(
            f"/v1/payments/{payment['id']}/reverse", json={"reason": "x"}, headers=w.collaborator
        )
        assert other.status_code == 403
        reversal = await http.post(
            f"/v1/payments/{payment['id']}/reverse", json={"reason": "填错"}, headers=w.owner
        )
        assert reversal.status_code == 201
        assert reversal.json()["status"] == "recorded"
        assert reversal.json()["received"] is False
        assert await totals(contract) == (D("0.00"), D("0.00"))
        listed = (
            await http.get("/v1/payments", params={"contract_id": contract}, headers=w.owner)
        ).json()["items"]
        assert [p["amount"] for p in listed] == ["-300.00", "300.00"]
        assert [p["status"] for p in listed] == ["recorded", "reversed"]
        not_confirmable = await http.post(f"/v1/payments/{payment['id']}/confirm", headers=w.admin)
        assert not_confirmable.status_code == 409


@pytest.fixture
def payment_outcome(monkeypatch: pytest.MonkeyPatch):
    """The lead wires APPROVAL_OUTCOMES in app/composition.py; until then the tests do."""
    monkeypatch.setitem(composition.APPROVAL_OUTCOMES, "payment", approval_outcome)


async def _payment_flow(company_id: str, steps: list) -> None:
    await execute(
        "INSERT INTO approval_flows (id, company_id, kind, name, steps, active, version,"
        " created_at, updated_at) VALUES (gen_random_uuid(), :c, 'payment', '回款审批',"
        " CAST(:s AS jsonb), true, 1, now(), now())",
        c=company_id,
        s=json.dumps(steps),
    )


@pytest.mark.usefixtures("payment_outcome")
async def test_with_a_payment_flow_the_approval_confirms_it():
    async with client() as http:
        w = await world(http)
        await _payment_flow(
            w.company.id, [{"approvers": {"type": "role", "role": "admin"}, "mode": "any"}]
        )
        contract = await w.contract("1000.00")
        payment = await pay(http, w.owner, contract, "200.00")
        outsider = await http.post(f"/v1/payments/{payment['id']}/confirm", headers=w.outsider)
        assert outsider.status_code == 404
        submitted = await http.post(f"/v1/payments/{payment['id']}/confirm", headers=w.owner)
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] == "pending_approval"
        assert await totals(contract) == (D("200.00"), D("0.00"))
        locked = await http.post(
            f"/v1/payments/{payment['id']}/reverse", json={"reason": "x"}, headers=w.admin
        )
        assert locked.status_code == 409
        assert locked.json()["code"] == "record_locked_for_approval"
        again = await http.post(f"/v1/payments/{payment['id']}/confirm", headers=w.owner)
        assert again.status_code == 409
        approval_id = locked.json()["approval_id"]
        approved = await http.post(f"/v1/approvals/{approval_id}/approve", json={}, headers=w.admin)
        assert approved.status_code == 200, approved.text
        got = (await http.get(f"/v1/payments/{payment['id']}", headers=w.owner)).json()
        assert got["status"] == "confirmed"
        assert got["confirmed_by"] == w.company.admin_id
        assert await totals(contract) == (D("200.00"), D("200.00"))


@pytest.mark.usefixtures("payment_outcome")
async def test_a_rejected_or_withdrawn_payment_goes_back_to_recorded():
    async with client() as http:
        w = await world(http)
        await _payment_flow(
            w.company.id, [{"approvers": {"type": "role", "role": "admin"}, "mode": "any"}]
        )
        contract = await w.contract("1000.00")
        payment = await pay(http, w.owner, contract, "200.00")
        await http.post(f"/v1/payments/{payment['id']}/confirm", headers=w.owner)
        approval = await one(
            "SELECT id FROM approvals WHERE record_id = :r AND status = 'pending'", r=payment["id"]
        )
        rejected = await http.post(
            f"/v1/approvals/{approval.id}/reject", json={"reason": "未到账"}, headers=w.admin
        )
        assert rejected.status_code == 200, rejected.text
        got = (await http.get(f"/v1/payments/{payment['id']}", headers=w.owner)).json()
        assert got["status"] == "recorded"
        resubmitted = await http.post(f"/v1/payments/{payment['id']}/confirm", headers=w.owner)
        assert resubmitted.json()["status"] == "pending_approval"
        approval = await one(
            "SELECT id FROM approvals WHERE record_id = :r AND status = 'pending'", r=payment["id"]
        )
        withdrawn = await http.post(
            f"/v1/approvals/{approval.id}/withdraw", json={}, headers=w.owner
        )
        assert withdrawn.status_code == 200, withdrawn.text
        got = (await http.get(f"/v1/payments/{payment['id']}", headers=w.owner)).json()
        assert got["status"] == "recorded"
        assert await totals(contract) == (D("200.00"), D("0.00"))


@pytest.mark.usefixtures("payment_outcome")
async def test_a_flow_whose_every_step_is_skipped_confirms_at_once():
    async with client() as http:
        w = await world(http)
        # The only approver is the submitter: the step is skipped, the approval ends approved.
        await _payment_flow(
            w.company.id,
            [{"approvers": {"type": "users", "user_ids": [w.owner_id]}, "mode": "any"}],
        )
        contract = await w.contract("1000.00")
        payment = await pay(http, w.owner, contract, "200.00")
        done = await http.post(f"/v1/payments/{payment['id']}/confirm", headers=w.owner)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "confirmed"
        assert await totals(contract) == (D("200.00"), D("200.00"))


async def test_who_sees_and_records_payments():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        payment = await pay(http, w.owner, contract, "10.00")
        for who in ("owner", "collaborator", "east_manager", "admin"):
            headers = getattr(w, who)
            got = await http.get(f"/v1/payments/{payment['id']}", headers=headers)
            assert got.status_code == 200, who
            listed = (await http.get("/v1/payments", headers=headers)).json()["items"]
            assert payment["id"] in [p["id"] for p in listed], who
            await pay(http, headers, contract, "1.00")
        for who in ("bystander", "west_manager", "outsider"):
            headers = getattr(w, who)
            assert (
                await http.get(f"/v1/payments/{payment['id']}", headers=headers)
            ).status_code == 404, who
            listed = (await http.get("/v1/payments", headers=headers)).json()["items"]
            assert listed == [], who
            recorded = await http.post(
                "/v1/payments", json=pay_body(contract, "1.00"), headers=headers
            )
            assert recorded.status_code == 404, who
            for action, body in (("confirm", None), ("reverse", {"reason": "x"})):
                response = await http.post(
                    f"/v1/payments/{payment['id']}/{action}", json=body, headers=headers
                )
                assert response.status_code == 404, (who, action)
        assert (await http.get(f"/v1/payments/{uuid.uuid4()}", headers=w.admin)).status_code == 404


async def test_list_filters_and_pages():
    async with client() as http:
        w = await world(http)
        first = await w.contract("1000.00")
        second = await w.contract("1000.00")
        ids = [(await pay(http, w.owner, first, f"{n}.00"))["id"] for n in range(1, 4)]
        old = await pay(http, w.owner, second, "9.00", received_on="2020-05-01")
        by_contract = await http.get("/v1/payments", params={"contract_id": first}, headers=w.owner)
        assert [p["id"] for p in by_contract.json()["items"]] == ids[::-1]
        by_customer = await http.get(
            "/v1/payments", params={"customer_id": w.customer_id}, headers=w.owner
        )
        assert len(by_customer.json()["items"]) == 4
        window = await http.get(
            "/v1/payments",
            params={"received_from": "2020-01-01", "received_to": "2020-12-31"},
            headers=w.owner,
        )
        assert [p["id"] for p in window.json()["items"]] == [old["id"]]
        page = await http.get("/v1/payments", params={"limit": 2}, headers=w.owner)
        assert len(page.json()["items"]) == 2
        rest = await http.get(
            "/v1/payments",
            params={"limit": 2, "cursor": page.json()["next_cursor"]},
            headers=w.owner,
        )
        assert len(rest.json()["items"]) == 2
        assert rest.json()["next_cursor"] is None
        recorded = await http.get("/v1/payments", params={"status": "confirmed"}, headers=w.owner)
        assert recorded.json()["items"] == []


async def test_receipts_are_attached_and_seen_like_the_payment():
    async with client() as http:
        w = await world(http)
        contract = await w.contract("1000.00")
        uploaded = await http.post(
            "/v1/files",
            files={"file": ("receipt.mp3", mp3(), "application/octet-stream")},
            headers=w.owner,
        )
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
        payment = await pay(http, w.owner, contract, "5.00", attachment_ids=[file_id])
        assert payment["attachment_ids"] == [file_id]
        assert (await http.get(f"/v1/files/{file_id}", headers=w.east_manager)).status_code == 200
        assert (await http.get(f"/v1/files/{file_id}", headers=w.west_manager)).status_code == 404
        unknown = await http.post(
            "/v1/payments",
            json=pay_body(contract, "1.00", attachment_ids=[str(uuid.uuid4())]),
            headers=w.owner,
        )
        assert unknown.status_code == 422

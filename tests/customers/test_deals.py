"""A recorded deal restarts the no-deal clock and tells the owner's managers, the
collaborators and the company's integrations."""

import json
import uuid
from datetime import datetime, timedelta

import pytest

from app.config import get_settings
from app.core import clock
from tests.customers.helpers import create_customer, set_rules
from tests.helpers import client, signup
from tests.notifications.webhook_helpers import Receiver, create_webhook, deliver


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def local_dev_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS", "true")
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_deal_moves_the_no_deal_clock_and_tells_managers_collaborators_and_webhooks(
    receiver,
):
    async with client() as http:
        company = await signup(http)
        east = await company.department("East")
        team = await company.department("East Team", east)
        west = await company.department("West")
        await create_webhook(http, company, f"{receiver.base}/hook", ["customer.deal_recorded"])
        manager_id, _ = await company.user("manager", east, name="East manager")
        other_manager_id, _ = await company.user("manager", west, name="West manager")
        rep_id, rep = await company.user("rep", team, name="Rep")
        helper_id, _ = await company.user("rep", team, name="Helper")
        await set_rules(http, company.admin, won_exempt=False)  # else a won customer never recycles
        start = clock.now()
        clock.freeze(start)
        customer = await create_customer(http, rep, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/collaborators",
            json={"user_id": helper_id, "role": "technical"},
            headers=rep,
        )
        for _ in range(2):  # follow-ups keep the follow-up clock alive; the deal clock runs
            clock.advance(timedelta(days=10))
            rep = await company.relogin(rep_id)
            response = await http.post(
                "/v1/followups",
                json={"customer_id": customer["id"], "kind": "call", "text": "x"},
                headers=rep,
            )
            assert response.status_code == 201, response.text
        before = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).json()
        assert before["recycle_reason"] == "no_deal"
        assert _at(before["recycle_at"]) == start + timedelta(days=30)

        deal_id = str(uuid.uuid4())
        body = {"id": deal_id, "amount": "12345.67", "note": "first order"}
        response = await http.post(f"/v1/customers/{customer['id']}/deals", json=body, headers=rep)
        assert response.status_code == 201, response.text
        deal = response.json()
        assert deal["amount"] == "12345.67" and _at(deal["closed_at"]) == clock.now()
        after = (await http.get(f"/v1/customers/{customer['id']}", headers=rep)).json()
        assert _at(after["last_deal_at"]) == clock.now() and after["status"] == "won"
        # The deal clock now runs to +50 days; the follow-up clock (+35) comes first.
        assert after["recycle_reason"] == "no_followup"
        assert _at(after["recycle_at"]) == start + timedelta(days=35)

        # A retry (same id, same body) answers the same deal and tells nobody again.
        again = await http.post(f"/v1/customers/{customer['id']}/deals", json=body, headers=rep)
        assert again.status_code == 201 and again.json()["id"] == deal_id
        changed = await http.post(
            f"/v1/customers/{customer['id']}/deals", json={**body, "amount": "1"}, headers=rep
        )
        assert changed.status_code == 409

        for user_id, expected in (
            (manager_id, 1),
            (helper_id, 1),
            (other_manager_id, 0),
            (rep_id, 0),  # the one who recorded it
        ):
            inbox = (
                await http.get("/v1/notifications", headers=await company.relogin(user_id))
            ).json()["items"]
            won = [n for n in inbox if n["kind"] == "deal_won"]
            assert len(won) == expected, (user_id, won)
            if won:
                assert "Acme" in won[0]["body"] and "12345.67" in won[0]["body"]

        assert (await deliver())["delivered"] == 1
        [request] = receiver.at("/hook")
        payload = json.loads(request["body"])
        assert payload["type"] == "customer.deal_recorded"
        data = dict(payload["data"])
        assert _at(data.pop("closed_at")) == clock.now()
        assert data == {
            "id": deal_id,
            "customer_id": customer["id"],
            "user_id": rep_id,
            "amount": "12345.67",
            "note": "first order",
        }


@pytest.mark.parametrize(
    "amount", [12.5, "", " 1", "1e2", "1_000", "12.345", "-1", "1234567890123"]
)
async def test_a_deal_amount_is_a_decimal_string_with_two_places_or_422(amount):
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Money Ltd")
        response = await http.post(
            f"/v1/customers/{customer['id']}/deals", json={"amount": amount}, headers=rep
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "amount"]
        ok = await http.post(
            f"/v1/customers/{customer['id']}/deals", json={"amount": "1234.5"}, headers=rep
        )
        assert ok.status_code == 201 and ok.json()["amount"] == "1234.50"

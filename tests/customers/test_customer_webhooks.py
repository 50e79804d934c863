"""`customer.created` and `customer.updated` webhooks (what an ERP mirrors): the customer's
public fields, written in the change's transaction — a refused change sends nothing."""

import pytest

from app.config import get_settings
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.notifications.webhook_helpers import create_webhook, deliveries_of


@pytest.fixture(autouse=True)
def local_receivers(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS", "true")
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_created_and_updated_carry_the_public_fields():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        webhook = await create_webhook(
            http,
            company,
            "http://127.0.0.1:9/hook",
            event_types=["customer.created", "customer.updated"],
        )
        customer = await create_customer(
            http,
            rep,
            "Acme 贸易",
            industry="制造",
            phone="138 0000 1111",
            tags=["vip"],
            location={"lat": 39.9087, "lng": 116.3975},
        )
        [created] = await deliveries_of(webhook["id"])
        assert created.event_type == "customer.created"
        data = created.payload["data"]
        assert data["id"] == customer["id"] and data["name"] == "Acme 贸易"
        assert data["industry"] == "制造" and data["phone"] == "138 0000 1111"
        assert data["tags"] == ["vip"] and data["owner_id"] == rep_id
        assert data["location"] == {"lat": 39.9087, "lng": 116.3975}
        assert data["actor_id"] == rep_id and data["version"] == 1
        assert "recycle_at" not in data and "create_request_hash" not in data
        edited = await http.patch(
            f"/v1/customers/{customer['id']}",
            json={"name": "Acme 国际", "tier": "A"},
            headers=rep | {"If-Match": f'"{customer["version"]}"'},
        )
        assert edited.status_code == 200, edited.text
        refused = await http.patch(
            f"/v1/customers/{customer['id']}",
            json={"name": "x"},
            headers=rep | {"If-Match": '"1"'},
        )
        assert refused.status_code == 412
        deliveries = await deliveries_of(webhook["id"])
        assert [d.event_type for d in deliveries] == ["customer.created", "customer.updated"]
        updated = deliveries[1].payload["data"]
        assert updated["name"] == "Acme 国际" and updated["tier"] == "A"
        assert updated["changed"] == ["name", "tier"]
        assert updated["version"] == edited.json()["version"]


async def test_no_subscription_no_delivery_and_other_companies_hear_nothing():
    async with client() as http:
        company = await signup(http)
        other = await signup(http, name="Globex")
        theirs = await create_webhook(
            http, other, "http://127.0.0.1:9/hook", event_types=["customer.created"]
        )
        await create_customer(http, company.admin, "Acme")
        assert await deliveries_of(theirs["id"]) == []

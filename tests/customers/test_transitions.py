"""Every owner change, whatever path triggers it, records and tells the same things: the
ownership event, the feed item, the notification and the webhook a real receiver gets."""

import json
import pathlib
import re
from datetime import timedelta

import pytest

from app.config import get_settings
from app.core import clock
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.notifications.webhook_helpers import Receiver, create_webhook, deliver
from workers.jobs.recycle import recycle

CUSTOMER_EVENTS = [
    "customer.claimed",
    "customer.released",
    "customer.recycled",
    "customer.transferred",
    "customer.assigned",
    "customer.deal_recorded",
]
FEED_KEYS = {"change", "from_user_id", "to_user_id", "reason"}  # author, customer: refs
WEBHOOK_KEYS = {"customer_id", "from_user_id", "to_user_id", "reason", "actor_id"}


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


async def _scene(http, receiver):
    """A company with a webhook on every customer event, an owner A with a collaborator C,
    a colleague B, and a customer "Acme" owned by A."""
    company = await signup(http)
    await create_webhook(http, company, f"{receiver.base}/hook", CUSTOMER_EVENTS)
    a_id, a = await company.user("rep", name="Rep A")
    b_id, b = await company.user("rep", name="Rep B")
    c_id, _ = await company.user("rep", name="Rep C")
    customer = await create_customer(http, a, "Acme")
    added = await http.post(
        f"/v1/customers/{customer['id']}/collaborators",
        json={"user_id": c_id, "role": "technical"},
        headers=a,
    )
    assert added.status_code == 200, added.text
    return company, customer, {"A": (a_id, a), "B": (b_id, b), "C": (c_id, None)}


async def _trigger(http, path, company, customer, people):
    """Make the change; returns (kind, from, to, actor, reason, who is told, what they hear)."""
    a_id, a = people["A"]
    b_id, b = people["B"]
    c_id = people["C"][0]
    admin = company.admin
    url = f"/v1/customers/{customer['id']}"
    if path == "claim (API)":
        released = await http.post(f"{url}/release", json={"reason": "later"}, headers=a)
        assert released.status_code == 200, released.text
        await deliver()
        response = await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=b)
        assert response.status_code == 200, response.text
        return "claimed", None, b_id, b_id, None, a_id, "customer_claimed"
    if path == "release (API)":
        response = await http.post(f"{url}/release", json={"reason": "too far"}, headers=a)
        assert response.status_code == 200, response.text
        return "released", a_id, None, a_id, "too far", c_id, "customer_released"
    if path == "release (hand-off to the pool)":
        response = await http.post(f"/v1/users/{a_id}/deactivate", headers=admin)
        assert response.status_code == 200, response.text
        reason = "owner deactivated"
        return "released", a_id, None, company.admin_id, reason, c_id, "customer_released"
    if path == "transfer (API)":
        response = await http.post(
            f"{url}/transfer", json={"to_user_id": b_id, "reason": "cover"}, headers=admin
        )
        assert response.status_code == 200, response.text
        return (
            "transferred",
            a_id,
            b_id,
            company.admin_id,
            "cover",
            b_id,
            "customer_transferred_to_you",
        )
    if path == "transfer (hand-off to a successor)":
        response = await http.post(
            f"/v1/users/{a_id}/deactivate", json={"successor_id": b_id}, headers=admin
        )
        assert response.status_code == 200, response.text
        reason = "owner deactivated"
        return "transferred", a_id, b_id, company.admin_id, reason, b_id, "customers_handed_over"
    if path == "assign (API)":
        released = await http.post(f"{url}/release", json={"reason": "later"}, headers=a)
        assert released.status_code == 200, released.text
        await deliver()
        response = await http.post(f"{url}/transfer", json={"to_user_id": b_id}, headers=admin)
        assert response.status_code == 200, response.text
        return "assigned", None, b_id, company.admin_id, None, b_id, "customer_transferred_to_you"
    assert path == "recycle (job)"
    clock.advance(timedelta(days=15, hours=1))
    await recycle({})
    return "recycled", a_id, None, None, "no_followup", a_id, "customer_recycled"


PATHS = [
    "claim (API)",
    "release (API)",
    "release (hand-off to the pool)",
    "transfer (API)",
    "transfer (hand-off to a successor)",
    "assign (API)",
    "recycle (job)",
]


@pytest.mark.parametrize("path", PATHS)
async def test_every_owner_change_records_and_tells_the_same_things(path, receiver):
    async with client() as http:
        company, customer, people = await _scene(http, receiver)
        await deliver()
        receiver.requests.clear()
        kind, from_user, to_user, actor, reason, told, notice = await _trigger(
            http, path, company, customer, people
        )
        admin = await company.relogin_admin()
        history = (
            await http.get(f"/v1/customers/{customer['id']}/ownership", headers=admin)
        ).json()["items"]
        event = history[0]
        assert (event["kind"], event["from_user_id"], event["to_user_id"]) == (
            kind,
            from_user,
            to_user,
        )
        assert (event["actor_id"], event["reason"]) == (actor, reason)
        # The feed item: one per event, the same keys on every path.
        feed = (await http.get("/v1/feed", params={"kind": "ownership"}, headers=admin)).json()
        [item] = [i for i in feed["items"] if i["subject_id"] == event["id"]]
        summary = item["summary"]
        assert set(summary) == FEED_KEYS
        assert summary["change"] == kind and summary["reason"] == reason
        assert (summary["from_user_id"], summary["to_user_id"]) == (from_user, to_user)
        assert (item["customer"]["id"], item["customer"]["name"]) == (customer["id"], "Acme")
        names = {people["A"][0]: "Rep A", people["B"][0]: "Rep B", company.admin_id: "Admin"}
        author = item["author"] or {"id": None, "name": "Outfield"}
        assert (author["id"], author["name"]) == (actor, names.get(actor, "Outfield"))
        # The webhook, as a real receiver gets it.
        assert (await deliver())["delivered"] >= 1
        bodies = [json.loads(r["body"]) for r in receiver.at("/hook")]
        [payload] = [p for p in bodies if p["type"] == f"customer.{kind}"]
        assert payload["id"] == event["id"] and payload["company_id"] == company.id
        assert set(payload["data"]) == WEBHOOK_KEYS
        assert payload["data"] == {
            "customer_id": customer["id"],
            "from_user_id": from_user,
            "to_user_id": to_user,
            "reason": reason,
            "actor_id": actor,
        }
        # The person concerned hears of it (once), in their inbox.
        heard = await company.relogin(told)
        inbox = (await http.get("/v1/notifications", headers=heard)).json()["items"]
        kinds = [n["kind"] for n in inbox]
        assert kinds.count(notice) == 1, kinds
        if path == "transfer (hand-off to a successor)":
            assert "customer_transferred_to_you" not in kinds  # one notice for the book


ROOT = pathlib.Path(__file__).resolve().parents[2]
TRANSITIONS = ROOT / "app" / "customers" / "transitions.py"
WRITES_OWNERSHIP = re.compile(
    r"(?<!class )OwnershipEvent\(|insert\(\s*OwnershipEvent|INSERT\s+INTO\s+ownership_events"
    r"|enqueue_events?\([^)]*[\"']customer\.(claimed|released|recycled|transferred|assigned)"
    r"|kind=[\"']ownership[\"']",
    re.IGNORECASE | re.DOTALL,
)


def test_only_the_transitions_module_writes_ownership_events_feed_items_and_webhooks():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("app", "workers", "scripts")
        for path in (ROOT / folder).rglob("*.py")
        if path != TRANSITIONS and WRITES_OWNERSHIP.search(path.read_text())
    ]
    assert offenders == []
    assert WRITES_OWNERSHIP.search(TRANSITIONS.read_text())  # the pattern does find writers

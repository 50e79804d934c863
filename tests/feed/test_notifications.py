import uuid
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.core import clock
from app.db import session_factory
from app.notifications.models import Notification
from tests.customers.helpers import create_customer
from tests.helpers import client, signup


async def test_inbox_unread_count_mark_one_and_all():
    async with client() as http:
        company = await signup(http)
        owner_id, owner = await company.user("rep")
        customer = await create_customer(http, owner, "Acme")
        for text in ("a", "b", "c"):
            await http.post(
                "/v1/followups",
                json={"customer_id": customer["id"], "kind": "call", "text": text},
                headers=company.admin,
            )
        assert (await http.get("/v1/notifications/unread-count", headers=owner)).json() == {
            "unread": 3
        }
        inbox = (await http.get("/v1/notifications", headers=owner)).json()["items"]
        assert inbox[0]["deep_link"].startswith("outfield://followups/")
        read = await http.post(f"/v1/notifications/{inbox[0]['id']}/read", headers=owner)
        assert read.json()["read"] is True
        assert (
            len(
                (
                    await http.get(
                        "/v1/notifications", params={"unread_only": "true"}, headers=owner
                    )
                ).json()["items"]
            )
            == 2
        )
        assert (
            await http.post(f"/v1/notifications/{inbox[0]['id']}/read", headers=company.admin)
        ).status_code == 404
        assert (await http.post("/v1/notifications/read-all", headers=owner)).json() == {
            "marked_read": 2
        }
        assert (await http.get("/v1/notifications/unread-count", headers=owner)).json() == {
            "unread": 0
        }
        assert owner_id


async def test_a_retried_request_never_notifies_twice():
    async with client() as http:
        company = await signup(http)
        _, owner = await company.user("rep")
        customer = await create_customer(http, owner, "Acme")
        body = {"id": str(uuid.uuid4()), "customer_id": customer["id"], "kind": "call", "text": "x"}
        await http.post("/v1/followups", json=body, headers=company.admin)
        await http.post("/v1/followups", json=body, headers=company.admin)
        assert (await http.get("/v1/notifications/unread-count", headers=owner)).json() == {
            "unread": 1
        }


async def test_templates_follow_the_recipients_locale():
    async with client() as http:
        company = await signup(http)
        english_id, english = await company.user("rep", name="Eve")
        english_etag = (await http.get(f"/v1/users/{english_id}", headers=company.admin)).headers[
            "etag"
        ]
        localised = await http.patch(
            f"/v1/users/{english_id}",
            json={"locale": "en"},
            headers=company.admin | {"If-Match": english_etag},
        )
        assert localised.status_code == 200, localised.text
        chinese_id, chinese = await company.user("rep", name="王五")
        for owner in (english, chinese):
            customer = await create_customer(http, owner, f"Acme {uuid.uuid4().hex[:6]}")
            await http.post(
                "/v1/followups",
                json={"customer_id": customer["id"], "kind": "call", "text": "x"},
                headers=company.admin,
            )
        english_inbox = (await http.get("/v1/notifications", headers=english)).json()["items"]
        chinese_inbox = (await http.get("/v1/notifications", headers=chinese)).json()["items"]
        assert (
            english_inbox[0]["title"] == "Activity on your customer"
            and "added a follow-up" in english_inbox[0]["body"]
        )
        assert (
            chinese_inbox[0]["title"] == "客户有新动态" and "跟进记录" in chinese_inbox[0]["body"]
        )
        assert chinese_id


async def test_muted_kinds_fill_the_inbox_without_push_and_quiet_hours_defer_it():
    async with client() as http:
        company = await signup(http)
        owner_id, owner = await company.user("rep")
        muted = await http.put(
            "/v1/notifications/preferences",
            json={"muted_kinds": ["record_on_your_customer"]},
            headers=owner,
        )
        assert muted.status_code == 200
        customer = await create_customer(http, owner, "Acme")
        await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "call", "text": "x"},
            headers=company.admin,
        )
        # Quiet all day long: every hour is inside 00:00–23:59.
        await http.put(
            "/v1/notifications/preferences",
            json={"quiet_start": "00:00", "quiet_end": "23:59:59"},
            headers=owner,
        )
        await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "visit", "text": "y"},
            headers=company.admin,
        )
        assert (await http.get("/v1/notifications/unread-count", headers=owner)).json() == {
            "unread": 2
        }
        async with session_factory()() as session:
            rows = (
                await session.execute(
                    select(Notification.push_state, Notification.push_after, Notification.body)
                    .where(Notification.user_id == uuid.UUID(owner_id))
                    .order_by(Notification.created_at)
                )
            ).all()
        # Muted: never pushed. Quiet hours: pushed when they end (23:59:59 company time).
        assert [r.push_state for r in rows] == ["suppressed", "pending"]
        local = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))  # signup's time zone
        ends = datetime.combine(local.date(), time(23, 59, 59), tzinfo=local.tzinfo)
        assert rows[1].push_after == ends.astimezone(UTC)


async def test_ownership_changes_notify_the_people_concerned():
    async with client() as http:
        company = await signup(http)
        _, manager = await company.user("manager")
        first_id, first = await company.user("rep")
        second_id, second = await company.user("rep")
        customer = await create_customer(http, first, "Acme")
        await http.post(
            f"/v1/customers/{customer['id']}/release", json={"reason": "no budget"}, headers=first
        )
        await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=second)
        kinds = [
            n["kind"] for n in (await http.get("/v1/notifications", headers=first)).json()["items"]
        ]
        assert kinds == ["customer_claimed"]
        await http.post(
            f"/v1/customers/{customer['id']}/transfer",
            json={"to_user_id": first_id},
            headers=manager,
        )
        kinds = [
            n["kind"] for n in (await http.get("/v1/notifications", headers=first)).json()["items"]
        ]
        assert kinds[0] == "customer_transferred_to_you"
        feed = (await http.get("/v1/feed", params={"kind": "ownership"}, headers=manager)).json()[
            "items"
        ]
        assert [i["summary"]["change"] for i in feed][:3] == ["transferred", "claimed", "released"]
        assert second_id


async def test_a_notice_never_reaches_a_user_of_another_company():
    from app.notifications.inbox.service import notify

    async with client() as http:
        company = await signup(http)
        other = await signup(http, "Other Co")
        outsider_id, outsider = await other.user("rep")
        own_id, _ = await company.user("rep")
        async with session_factory()() as session:
            made = await notify(
                session,
                company_id=uuid.UUID(company.id),
                user_ids=[uuid.UUID(outsider_id), uuid.UUID(own_id)],
                kind="customer_recycled",
                params={"customer": "Acme", "reason": "no_followup"},
                dedupe_key="tenancy-test",
            )
            await session.commit()
        assert made == 1  # only the company's own rep
        inbox = (await http.get("/v1/notifications", headers=outsider)).json()["items"]
        assert inbox == []

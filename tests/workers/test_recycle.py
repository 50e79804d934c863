import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core import clock
from app.customers.clock import refresh_recycle_clock
from app.db import session_factory
from app.notifications.models import Notification
from app.ops.service import record_run
from tests.customers.helpers import create_customer, default_pool, set_rules, win_customer
from tests.helpers import client, signup
from workers.jobs.recycle import recycle


async def run_recycle(**kwargs) -> dict:
    counts: dict = {}
    await recycle(counts, **kwargs)
    return counts


async def test_recycled_after_15_days_without_follow_up_with_history_notification_and_feed():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        clock.advance(timedelta(days=14, hours=23))
        assert (await run_recycle())["recycled"] == 0
        clock.advance(timedelta(hours=2))
        assert (await run_recycle())["recycled"] == 1
        admin = await company.relogin_admin()
        after = (await http.get(f"/v1/customers/{customer['id']}", headers=admin)).json()
        assert (
            after["in_pool"]
            and after["pool_entry_kind"] == "recycled"
            and after["pool_reason"] == "no_followup"
        )
        assert after["previous_owner_id"] == rep_id
        history = (
            await http.get(f"/v1/customers/{customer['id']}/ownership", headers=admin)
        ).json()["items"]
        assert history[0]["kind"] == "recycled" and history[0]["actor_id"] is None
        assert history[0]["reason"] == "no_followup"
        rep = await company.relogin(rep_id)
        inbox = (await http.get("/v1/notifications", headers=rep)).json()["items"]
        assert [n["kind"] for n in inbox] == ["customer_recycled", "recycle_warning"]
        assert "Acme" in inbox[0]["body"]
        feed = (await http.get("/v1/feed", params={"kind": "ownership"}, headers=admin)).json()[
            "items"
        ]
        assert feed[0]["summary"]["change"] == "recycled"
        # The cooldown applies to a recycled customer too.
        refused = await http.post(f"/v1/pool/customers/{customer['id']}/claim", headers=rep)
        assert refused.json()["code"] == "reclaim_cooldown"


async def test_recycled_after_30_days_without_a_deal_despite_follow_ups():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        for _ in range(3):
            clock.advance(timedelta(days=10))
            rep = await company.relogin(rep_id)
            await http.post(
                "/v1/followups",
                json={"customer_id": customer["id"], "kind": "call", "text": "x"},
                headers=rep,
            )
        clock.advance(timedelta(hours=1))
        assert (await run_recycle())["recycled"] == 1
        admin = await company.relogin_admin()
        after = (await http.get(f"/v1/customers/{customer['id']}", headers=admin)).json()
        assert after["pool_reason"] == "no_deal"


async def test_won_customers_are_exempt_unless_the_company_says_otherwise():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        await win_customer(http, rep, customer["id"])
        clock.advance(timedelta(days=40))
        assert (await run_recycle())["recycled"] == 0
        admin = await company.relogin_admin()
        await set_rules(http, admin, won_exempt=False)
        assert (await run_recycle())["recycled"] == 1
        assert customer


async def test_warning_goes_out_once_per_cycle_three_days_before():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        await create_customer(http, rep, "Acme")
        clock.advance(timedelta(days=11, hours=23))
        assert (await run_recycle())["warned"] == 0
        clock.advance(timedelta(hours=2))
        assert (await run_recycle())["warned"] == 1
        assert (await run_recycle())["warned"] == 0
        async with session_factory()() as session:
            warnings = await session.scalar(
                select(func.count()).where(Notification.kind == "recycle_warning")
            )
        assert warnings == 1
        rep = await company.relogin(rep_id)
        body = (await http.get("/v1/notifications", headers=rep)).json()["items"][0]["body"]
        assert "Acme" in body


async def test_a_follow_up_racing_the_job_wins():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        clock.advance(timedelta(days=16))
        # A follow-up is mid-transaction (row locked) when the job runs: the job skips it…
        async with session_factory()() as followup_session:
            import uuid

            await refresh_recycle_clock(
                followup_session, uuid.UUID(customer["id"]), followup_at=clock.now()
            )
            counts = await run_recycle()
            assert counts["recycled"] == 0
            await followup_session.commit()
        # …and after the follow-up committed the customer is no longer due.
        assert (await run_recycle())["recycled"] == 0
        admin = await company.relogin_admin()
        assert (await http.get(f"/v1/customers/{customer['id']}", headers=admin)).json()[
            "in_pool"
        ] is False


async def test_two_concurrent_runs_recycle_each_customer_once_and_notify_once():
    async with client() as http:
        company = await signup(http)
        reps = [await company.user("rep") for _ in range(3)]
        pool = await default_pool(http, company.admin)
        edited = await http.patch(
            f"/v1/pools/{pool['id']}",
            json={"warning_days": 0},
            headers=company.admin | {"If-Match": f'"{pool["version"]}"'},
        )
        assert edited.status_code == 200, edited.text
        for index in range(30):
            await create_customer(http, reps[index % 3][1], f"Customer {index}")
        clock.advance(timedelta(days=16))
        first, second = await asyncio.gather(run_recycle(batch=4), run_recycle(batch=4))
        assert first["recycled"] + second["recycled"] == 30
        async with session_factory()() as session:
            notified = await session.scalar(
                select(func.count()).where(Notification.kind == "customer_recycled")
            )
        assert notified == 30


async def test_a_run_killed_between_batches_resumes_without_loss_or_doubles():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        for index in range(10):
            await create_customer(http, rep, f"Customer {index}")
        clock.advance(timedelta(days=16))

        async def die_after_first(moved: int) -> None:
            raise RuntimeError("worker killed")

        with pytest.raises(RuntimeError):
            await run_recycle(batch=3, after_batch=die_after_first)
        resumed = await run_recycle(batch=3)
        assert resumed["recycled"] == 7
        async with session_factory()() as session:
            notified = await session.scalar(
                select(func.count()).where(Notification.kind == "customer_recycled")
            )
        assert notified == 10


async def test_run_is_recorded_with_counts():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        await create_customer(http, rep, "Acme")
        clock.advance(timedelta(days=16))
        run = await record_run("recycle", recycle, trigger="cli")
        assert run.outcome == "succeeded" and run.counts["recycled"] == 1
        admin = await company.relogin_admin()
        runs = (await http.get("/v1/admin/jobs", params={"job": "recycle"}, headers=admin)).json()
        assert runs["runs"][0]["counts"]["recycled"] == 1
        assert {job["name"] for job in runs["schedule"]} >= {
            "recycle",
            "reminders",
            "push",
            "webhooks",
        }


async def test_a_recycled_webhook_event_has_the_keys_of_every_other_ownership_event(
    monkeypatch: pytest.MonkeyPatch,
):
    from app.config import get_settings
    from tests.notifications.webhook_helpers import create_webhook, deliveries_of

    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_INSECURE_URLS", "true")
    monkeypatch.setenv("OUTFIELD_WEBHOOK_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    get_settings.cache_clear()
    try:
        async with client() as http:
            company = await signup(http)
            _, rep = await company.user("rep")
            hook = await create_webhook(
                http,
                company,
                "http://127.0.0.1:9/hook",
                event_types=("customer.released", "customer.recycled"),
            )
            released = await create_customer(http, rep, "Released")
            await create_customer(http, rep, "Recycled")
            response = await http.post(
                f"/v1/customers/{released['id']}/release", json={"reason": "x"}, headers=rep
            )
            assert response.status_code == 200
            clock.advance(timedelta(days=16))
            assert (await run_recycle())["recycled"] == 1
            data = {d.event_type: d.payload["data"] for d in await deliveries_of(hook["id"])}
    finally:
        get_settings.cache_clear()
    assert set(data) == {"customer.released", "customer.recycled"}
    assert set(data["customer.recycled"]) == set(data["customer.released"])
    assert data["customer.recycled"]["reason"] == "no_followup"

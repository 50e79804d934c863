"""The stale reminder: the owner is told once per opportunity, young and closed ones never,
in batches, and a rerun tells nobody twice."""

from datetime import timedelta

from app.core import clock
from app.ops.service import record_run
from tests.customers.helpers import create_customer
from tests.helpers import client, signup
from tests.pipeline.opportunity_helpers import (
    advance,
    default_pipeline,
    open_opportunity,
    scalar,
    set_pipeline,
)
from workers.jobs.pipeline import pipeline as stale_job


async def stale_notices(user_id: str) -> list[str]:
    count = await scalar(
        "SELECT count(*) FROM notifications WHERE user_id = :u AND kind = 'opportunity_stale'",
        u=user_id,
    )
    return count


async def test_the_owner_is_told_once_and_only_about_open_old_ones():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        manager_id, manager = await company.user("manager")
        customer = await create_customer(http, rep, "Acme")
        stages = (await default_pipeline(company.id))["stages"]
        old = [await open_opportunity(http, rep, customer["id"], name=f"Old {i}") for i in range(3)]
        lost = await open_opportunity(http, rep, customer["id"], name="Lost")
        moved = await advance(http, rep, lost["id"], stages[5]["id"], lost_reason="价格 price")
        assert moved.status_code == 200
        by_manager = await open_opportunity(http, manager, customer["id"], owner_id=manager_id)
        clock.advance(timedelta(days=30))
        rep = await company.relogin(rep_id)
        young = await open_opportunity(http, rep, customer["id"], name="Young")
        clock.advance(timedelta(days=13))
        counts: dict[str, int] = {}
        await stale_job(counts, batch=2)  # several batches
        assert counts["examined"] == 4 and counts["notified"] == 4 and counts["batches"] == 3
        assert await stale_notices(rep_id) == 3
        assert await stale_notices(manager_id) == 1
        body = await scalar(
            "SELECT body FROM notifications WHERE user_id = :u AND kind = 'opportunity_stale' "
            "ORDER BY created_at LIMIT 1",
            u=rep_id,
        )
        assert "Acme" in body and "43" in body
        again: dict[str, int] = {}
        await stale_job(again)
        assert again["examined"] == 0 and await stale_notices(rep_id) == 3
        assert young and by_manager and old
        # The young one goes stale later and is told then, once.
        clock.advance(timedelta(days=30))
        run = await record_run("pipeline", stale_job, trigger="cli")
        assert run.outcome == "succeeded" and run.counts["notified"] == 1
        assert await stale_notices(rep_id) == 4


async def test_the_pipelines_stale_after_days_decides():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        customer = await create_customer(http, rep, "Acme")
        pipeline = await default_pipeline(company.id)
        await set_pipeline(pipeline["id"], stale_after_days=7)
        await open_opportunity(http, rep, customer["id"])
        clock.advance(timedelta(days=6))
        counts: dict[str, int] = {}
        await stale_job(counts)
        assert counts["notified"] == 0
        clock.advance(timedelta(days=2))
        await stale_job(counts)
        assert counts["notified"] == 1 and await stale_notices(rep_id) == 1

"""The follow-up clock update is a HOT update, and the recycle job still finds every customer
in time through `recycle_check_at` (when to look), rescheduling those that moved on."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import text

from app.core import clock
from app.customers.clock import refresh_recycle_clock
from app.db import session_factory
from tests.customers.helpers import create_customer, set_rules
from tests.helpers import client, signup
from workers.jobs.recycle import recycle

HOT_COUNTS = text(
    "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'customers'"
)


async def test_follow_ups_and_check_ins_update_the_customer_in_place_hot():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer_id = uuid.UUID((await create_customer(http, rep, "Acme"))["id"])
        async with session_factory()() as session:
            for minutes in range(1, 6):
                at = clock.now() + timedelta(minutes=minutes)
                await refresh_recycle_clock(session, customer_id, followup_at=at)
            await refresh_recycle_clock(
                session, customer_id, followup_at=clock.now(), next_followup_at=clock.now()
            )
            # This transaction's own counts: every clock update was HOT (no indexed column
            # changed and the page had room) — an index on a column it writes breaks this.
            updates, hot = (await session.execute(HOT_COUNTS)).one()
            await session.rollback()
        assert (updates, hot) == (6, 6)


async def _state(customer_id: str) -> tuple[datetime | None, datetime | None, str | None]:
    async with session_factory()() as session:
        row = (
            await session.execute(
                text(
                    "SELECT recycle_at, recycle_check_at, owner_id::text FROM customers"
                    " WHERE id = :id"
                ),
                {"id": uuid.UUID(customer_id)},
            )
        ).one()
    return row.recycle_at, row.recycle_check_at, row.owner_id


async def test_a_customer_followed_up_after_its_check_time_is_rescheduled_warned_recycled():
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        start = clock.now()
        clock.freeze(start)
        customer = await create_customer(http, rep, "Acme")
        recycle_at, check_at, _ = await _state(customer["id"])
        assert recycle_at == start + timedelta(days=15)
        assert check_at == start + timedelta(days=12)  # the default pool warns 3 days before
        clock.advance(timedelta(days=11))
        rep = await company.relogin(rep_id)
        response = await http.post(
            "/v1/followups",
            json={"customer_id": customer["id"], "kind": "visit", "text": "x"},
            headers=rep,
        )
        assert response.status_code == 201, response.text
        recycle_at, check_at, _ = await _state(customer["id"])
        assert recycle_at == start + timedelta(days=26)  # moved on; the check time did not
        assert check_at == start + timedelta(days=12)

        clock.advance(timedelta(days=1, hours=1))  # day 12: looked at, nothing to do yet
        counts: dict = {}
        await recycle(counts)
        assert (counts["examined"], counts["recycled"], counts["warned"]) == (1, 0, 0)
        assert (await _state(customer["id"]))[1] == start + timedelta(days=23)
        again: dict = {}
        await recycle(again)  # a re-run changes nothing
        assert (again["examined"], again["recycled"], again["warned"]) == (0, 0, 0)

        clock.advance(timedelta(days=11))  # day 23 + 1 h: the warning, once
        counts = {}
        await recycle(counts)
        assert (counts["recycled"], counts["warned"]) == (0, 1)
        assert (await _state(customer["id"]))[1] == start + timedelta(days=26)

        clock.advance(timedelta(days=3))  # day 26 + 1 h: recycled
        counts = {}
        await recycle(counts)
        assert (counts["recycled"], counts["warned"]) == (1, 0)
        assert await _state(customer["id"]) == (None, None, None)
        rep = await company.relogin(rep_id)
        inbox = (await http.get("/v1/notifications", headers=rep)).json()["items"]
        assert [n["kind"] for n in inbox] == ["customer_recycled", "recycle_warning"]


async def test_every_clock_write_sets_the_check_time_by_the_same_rule():
    """Python (create), `clock.check_expression` (deal, transfer) and the job's RESCHEDULE
    write the same moment: the pool's warning days before recycle_at."""
    async with client() as http:
        company = await signup(http)
        rep_id, rep = await company.user("rep")
        other_id, _ = await company.user("rep")
        await set_rules(http, company.admin, won_exempt=False)  # a deal makes it won
        customer = await create_customer(http, rep, "Acme")
        recycle_at, check_at, _ = await _state(customer["id"])
        assert check_at == recycle_at - timedelta(days=3)  # created (Python rule)
        clock.advance(timedelta(days=5))
        rep = await company.relogin(rep_id)
        deal = await http.post(f"/v1/customers/{customer['id']}/deals", json={}, headers=rep)
        assert deal.status_code == 201, deal.text
        recycle_at, check_at, _ = await _state(customer["id"])
        assert check_at == recycle_at - timedelta(days=3)  # a deal (SQL rule)
        admin = await company.relogin_admin()
        moved = await http.post(
            f"/v1/customers/{customer['id']}/transfer", json={"to_user_id": other_id}, headers=admin
        )
        assert moved.status_code == 200, moved.text
        recycle_at, check_at, owner = await _state(customer["id"])
        assert owner == other_id and check_at == recycle_at - timedelta(days=3)  # a transfer

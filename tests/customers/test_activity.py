"""`refresh_recycle_clock` (one UPDATE) moves the clock exactly as `rules.recycle_clock` says."""

import itertools
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from app.core import clock
from app.customers.clock import refresh_recycle_clock
from app.customers.models import Customer, Pool
from app.customers.rules import RecycleRules, recycle_clock
from app.db import session_factory
from tests.customers.helpers import create_customer, default_pool, set_rules
from tests.helpers import client, signup


async def test_one_statement_clock_matches_recycle_clock_over_rules_statuses_and_dates():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        pool = await default_pool(http, company.admin)
        customer_id = uuid.UUID((await create_customer(http, rep, "Acme"))["id"])
        start = clock.now()
        checked = 0
        grid = itertools.product(
            ((15, 30), (10, None), (None, 20), (None, None)),  # pool: days (None = off)
            (True, False),  # won exempt
            ("active", "won"),
            (None, -40, -3),  # last deal, days from start
            (None, -20, +2),  # last follow-up before the call, days from start (+2: later)
        )
        for (followup_days, deal_days), exempt, status, deal, previous in grid:
            await set_rules(http, company.admin, won_exempt=exempt)
            async with session_factory()() as session:
                await session.execute(
                    update(Pool)
                    .where(Pool.id == uuid.UUID(pool["id"]))
                    .values(no_followup_days=followup_days, no_deal_days=deal_days)
                )
                await session.execute(
                    update(Customer)
                    .where(Customer.id == customer_id)
                    .values(
                        status=status,
                        claimed_at=start - timedelta(days=50),
                        last_deal_at=None if deal is None else start + timedelta(days=deal),
                        last_followup_at=(
                            None if previous is None else start + timedelta(days=previous)
                        ),
                    )
                )
                await session.commit()
            async with session_factory()() as session:
                before = await session.get(Customer, customer_id)
                version, previous_followup = before.version, before.last_followup_at
                at = start - timedelta(hours=1)
                await refresh_recycle_clock(session, customer_id, followup_at=at)
                await session.commit()
                after = (
                    await session.execute(
                        select(Customer).where(Customer.id == customer_id),
                        execution_options={"populate_existing": True},
                    )
                ).scalar_one()
            expected_followup = at if previous is None or previous < 0 else previous_followup
            expected = recycle_clock(
                owned=True,
                status=status,
                claimed_at=after.claimed_at,
                last_followup_at=expected_followup,
                last_deal_at=after.last_deal_at,
                rules=RecycleRules(followup_days, deal_days, exempt),
            )
            case = (followup_days, deal_days, exempt, status, deal, previous)
            assert after.last_followup_at == expected_followup, case
            assert (after.recycle_at, after.recycle_reason) == (
                expected.recycle_at,
                expected.recycle_reason,
            ), case
            assert after.version == version + 1, case
            checked += 1
        assert checked == 4 * 2 * 2 * 3 * 3


async def test_next_followup_is_set_only_when_asked():
    async with client() as http:
        company = await signup(http)
        _, rep = await company.user("rep")
        customer_id = uuid.UUID((await create_customer(http, rep, "Acme"))["id"])
        later = clock.now() + timedelta(days=3)
        async with session_factory()() as session:
            await refresh_recycle_clock(
                session, customer_id, followup_at=clock.now(), next_followup_at=later
            )
            await session.commit()
            await refresh_recycle_clock(session, customer_id, followup_at=clock.now())
            await session.commit()
            row = await session.get(Customer, customer_id, populate_existing=True)
        assert row.next_followup_at == later

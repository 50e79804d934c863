"""`recycle_sql` renders the same rule as `recycle_clock`: checked row by row on a grid."""

import itertools
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    literal,
    select,
    text,
)

from app.customers.rules import RecycleRules, recycle_clock, recycle_sql
from app.db import get_engine

GRID = Table(
    "recycle_rules_grid",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("owner_id", Uuid, nullable=True),
    Column("status", String(16), nullable=False),
    Column("claimed_at", DateTime(timezone=True)),
    Column("last_followup_at", DateTime(timezone=True)),
    Column("last_deal_at", DateTime(timezone=True)),
)
CREATE_GRID = text(
    "CREATE TEMP TABLE recycle_rules_grid ("
    " id integer PRIMARY KEY, owner_id uuid, status varchar(16) NOT NULL,"
    " claimed_at timestamptz, last_followup_at timestamptz, last_deal_at timestamptz"
    ") ON COMMIT DROP"
)


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# Same dates as the pure grid: follow-up wins, deal wins and ties all occur with both rules on.
CLAIMED_AT = at(2026, 1, 1)
FOLLOWUPS = (None, at(2025, 12, 20), at(2026, 1, 20))
DEALS = (None, at(2025, 11, 1), at(2026, 1, 5))
STATUSES = ("prospect", "active", "won", "lost")


def grid_rows(claimed_at: datetime = CLAIMED_AT, followups=FOLLOWUPS, deals=DEALS) -> list[dict]:
    """Every owned/unowned × status × follow-up × deal combination as a row."""
    return [
        {
            "id": i,
            "owner_id": uuid.uuid4() if owned else None,
            "status": status,
            "claimed_at": claimed_at,
            "last_followup_at": followup,
            "last_deal_at": deal,
        }
        for i, (owned, status, followup, deal) in enumerate(
            itertools.product((True, False), STATUSES, followups, deals)
        )
    ]


async def sql_and_python(
    rows: list[dict], rules: RecycleRules, time_zone: str | None = None
) -> tuple[list, list]:
    """(recycle_at, reason) per row from the database and from the Python function."""
    recycle_at, reason = recycle_sql(
        GRID,
        literal(rules.no_followup_days, Integer),
        literal(rules.no_deal_days, Integer),
        rules.won_exempt,
    )
    async with get_engine().begin() as connection:
        if time_zone is not None:
            await connection.execute(text(f"SET LOCAL TimeZone = '{time_zone}'"))
        await connection.execute(CREATE_GRID)
        await connection.execute(GRID.insert(), rows)
        result = await connection.execute(
            select(GRID.c.id, recycle_at.label("recycle_at"), reason.label("reason")).order_by(
                GRID.c.id
            )
        )
        from_sql = [(row.id, row.recycle_at, row.reason) for row in result]
    from_python = []
    for row in rows:
        clock = recycle_clock(
            owned=row["owner_id"] is not None,
            status=row["status"],
            claimed_at=row["claimed_at"],
            last_followup_at=row["last_followup_at"],
            last_deal_at=row["last_deal_at"],
            rules=rules,
        )
        from_python.append((row["id"], clock.recycle_at, clock.recycle_reason))
    return from_sql, from_python


RULE_GRID = [
    pytest.param(
        RecycleRules(no_followup_days=nf, no_deal_days=nd, won_exempt=won_exempt),
        id=f"followup_days={nf}-deal_days={nd}-{'won_exempt' if won_exempt else 'won_not_exempt'}",
    )
    for won_exempt, nf, nd in itertools.product((True, False), (15, None), (30, None))
]


@pytest.mark.parametrize("rules", RULE_GRID)
async def test_recycle_sql_agrees_with_recycle_clock_on_every_combination(rules):
    rows = grid_rows()
    from_sql, from_python = await sql_and_python(rows, rules)
    assert len(from_sql) == len(rows) == 2 * 4 * 3 * 3
    mismatches = [
        (rows[i], sql, python)
        for i, (sql, python) in enumerate(zip(from_sql, from_python, strict=True))
        if sql != python
    ]
    assert mismatches == []


async def test_the_grid_exercises_both_reasons_and_no_clock_in_sql():
    from_sql, _ = await sql_and_python(grid_rows(), RecycleRules(15, 30, won_exempt=True))
    assert {reason for _, _, reason in from_sql} == {None, "no_followup", "no_deal"}


@pytest.mark.parametrize("days", [0, None])
async def test_zero_or_null_days_disable_a_rule_in_sql_as_in_python(days):
    rules = RecycleRules(no_followup_days=days, no_deal_days=30, won_exempt=False)
    from_sql, from_python = await sql_and_python(grid_rows(), rules)
    assert from_sql == from_python


async def test_recycle_sql_agrees_with_recycle_clock_in_a_session_time_zone_with_dst():
    # Claimed just before the 2026-03-08 US spring-forward; both clocks cross it.
    rows = grid_rows(
        claimed_at=at(2026, 3, 1),
        followups=(None, at(2026, 3, 5)),
        deals=(None, at(2026, 2, 20)),
    )
    rules = RecycleRules(no_followup_days=15, no_deal_days=30, won_exempt=True)
    from_sql, from_python = await sql_and_python(rows, rules, time_zone="America/New_York")
    assert from_sql == from_python

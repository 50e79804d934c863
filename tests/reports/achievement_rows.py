"""Rows for the achievement and ranking tests, written straight in SQL (targets as the
`targets` table holds them, follow-ups as counted facts), so the tests need no other package's
API."""

import uuid
from datetime import datetime
from decimal import Decimal

from app.targets import periods
from tests.reports.money_rows import execute


async def target(
    company: str,
    subject: str,
    subject_id: str | None,
    measure: str,
    period: str,
    value: str,
    *,
    deleted: bool = False,
) -> str:
    """A target row of exactly (subject, measure, period) (calendar fiscal year)."""
    tid = str(uuid.uuid4())
    span = periods.parse(period)
    await execute(
        "INSERT INTO targets (id, company_id, subject, subject_id, measure, period, period_kind,"
        " starts_on, ends_on, value, created_at, updated_at, deleted_at) VALUES (:id, :c, :s,"
        " :sid, :m, :p, :k, :a, :b, :v, now(), now(), CASE WHEN :d THEN now() END)",
        id=tid,
        c=company,
        s=subject,
        sid=subject_id,
        m=measure,
        p=period,
        k=span.kind,
        a=span.start,
        b=span.end,
        v=Decimal(value),
        d=deleted,
    )
    return tid


async def followup(company: str, user: str, customer: str, at: datetime) -> None:
    """A follow-up by `user` on `customer`, made at `at`."""
    await execute(
        "INSERT INTO followups (id, company_id, user_id, customer_id, kind, text, request_hash,"
        " version, created_at, updated_at) VALUES (:id, :c, :u, :cu, 'call', '电话', 'x', 1,"
        " :at, :at)",
        id=str(uuid.uuid4()),
        c=company,
        u=user,
        cu=customer,
        at=at,
    )

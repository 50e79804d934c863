"""Rows for the coverage tests written straight in SQL: many customers at once, check-ins with
the flags and durations a test needs."""

import json
import uuid
from datetime import datetime
from typing import Any

from tests.reports.money_rows import execute, scalar


async def pool_of(company: str) -> str:
    return str(await scalar("SELECT id FROM pools WHERE company_id = :c LIMIT 1", c=company))


async def customers(company: str, owner: str, tier: str | None, count: int, prefix: str) -> None:
    """`count` customers of the tier held by `owner`."""
    await execute(
        "INSERT INTO customers (id, company_id, name, name_normalized, tier, owner_id, pool_id,"
        " status, claimed_at, created_at, updated_at)"
        " SELECT gen_random_uuid(), :c, CAST(:p AS text) || n, lower(CAST(:p AS text) || n), :t,"
        " :o, :pool, 'active',"
        " now(), now(), now() FROM generate_series(1, :k) AS n",
        c=company,
        p=prefix,
        t=tier,
        o=owner,
        pool=await pool_of(company),
        k=count,
    )


async def customer(
    company: str, owner: str, tier: str | None, name: str, *, cid: str | None = None
) -> str:
    cid = cid or str(uuid.uuid4())
    await execute(
        "INSERT INTO customers (id, company_id, name, name_normalized, tier, owner_id, pool_id,"
        " status, claimed_at, created_at, updated_at)"
        " VALUES (:id, :c, CAST(:n AS text), lower(CAST(:n AS text)), :t, :o, :pool, 'active',"
        " now(), now(), now())",
        id=cid,
        c=company,
        n=name,
        t=tier,
        o=owner,
        pool=await pool_of(company),
    )
    return cid


async def checkin(  # noqa: PLR0913
    company: str,
    user: str,
    customer_id: str,
    at: datetime,
    *,
    flags: list[dict[str, Any]] | None = None,
    mock: bool = False,
    duration_s: int | None = None,
) -> str:
    cid = str(uuid.uuid4())
    await execute(
        "INSERT INTO checkins (id, company_id, user_id, customer_id, latitude, longitude,"
        " position_key, submitted_crs, client_recorded_at, received_at, flags, mock_location,"
        " duration_s, checked_out_at, request_hash, created_at)"
        " VALUES (:id, :c, :u, :cu, 39.9, 116.4, :key, 'wgs84', :at, :at, CAST(:f AS jsonb), :m,"
        " CAST(:d AS integer),"
        " CAST(:at AS timestamptz) + make_interval(secs => coalesce(CAST(:d AS integer), 0)),"
        " 'x', :at)",
        id=cid,
        c=company,
        u=user,
        cu=customer_id,
        key=cid[:30],
        at=at,
        f=json.dumps(flags or []),
        m=mock,
        d=duration_s,
    )
    return cid

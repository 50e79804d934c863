"""The priority view's size line (大单 or 小单): the company's `quadrant_amount_line` setting when
set (`PATCH /v1/company/settings`), else the median amount of the company's open opportunities
(`SIZE_LINE`, exact NUMERIC arithmetic). Computing the median reads every open opportunity of
the company, so it is kept in Redis for `CACHE_TTL_S` and dropped whenever a write may move it
(create, PATCH of the amount, a move that closes or reopens, delete): lists and gets pay one
Redis GET, not the scan. The set line costs one company row read.
"""

import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.redis import get_redis
from app.org.settings import company_settings

CACHE_TTL_S = 300
_NONE = "-"

# The exact median: the mean of the middle one or two amounts (rules.median in SQL).
SIZE_LINE = text("""
SELECT avg(amount) FROM (
    SELECT amount, row_number() OVER (ORDER BY amount) AS n, count(*) OVER () AS total
    FROM opportunities
    WHERE company_id = :company_id AND status = 'open' AND deleted_at IS NULL
      AND amount IS NOT NULL
) AS ranked
WHERE n IN ((total + 1) / 2, (total + 2) / 2)
""")


def _key(company_id: uuid.UUID) -> str:
    return f"pipeline:size_line:{company_id}"


async def median_open_amount(session: AsyncSession, company_id: uuid.UUID) -> Decimal | None:
    """The median amount of the company's open opportunities (None when none has one)."""
    value = await session.scalar(SIZE_LINE, {"company_id": company_id})
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


async def size_line(session: AsyncSession, company_id: uuid.UUID) -> Decimal | None:
    """The amount from which an open opportunity counts as large: the company's
    `quadrant_amount_line` when set (its settings), else the median open amount."""
    line = (await company_settings(session, company_id)).quadrant_amount_line
    if line is not None:
        return line
    redis = get_redis()
    cached = await redis.get(_key(company_id))
    if cached is not None:
        return None if cached == _NONE else Decimal(cached)
    line = await median_open_amount(session, company_id)
    await redis.set(_key(company_id), _NONE if line is None else str(line), ex=CACHE_TTL_S)
    return line


async def forget_size_line(company_id: uuid.UUID) -> None:
    """Drop the cached line after a write that may move it."""
    await get_redis().delete(_key(company_id))

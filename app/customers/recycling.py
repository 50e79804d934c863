"""Recycling (回收): customers whose recycle_at has passed go back to the pool.

Set-based, in bounded batches, one short transaction per batch: pick due ids with
FOR UPDATE SKIP LOCKED (rows an API request is changing are left for the next run), then the
`recycled` transition's UPDATE … RETURNING re-checks `recycle_at <= now` and the owner, so a
follow-up that committed first wins; `transitions.publish` writes the batch's ownership
events, feed items, notifications and webhook deliveries in the same transaction, exactly as
it does for a release through the API. A second worker, a retried run, or a run killed
between batches recycles each customer once and notifies once.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Integer, and_, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.customers import transitions
from app.customers.models import Customer
from app.db import session_factory
from app.notifications.service import notify_many

BATCH = 1000
_C = Customer.__table__.c
_AT = bindparam("at", type_=DateTime(timezone=True))
_DUE = (
    select(_C.id)
    .where(_C.recycle_at <= _AT, _C.owner_id.is_not(None), _C.deleted_at.is_(None))
    .order_by(_C.recycle_at)
    .limit(bindparam("batch", type_=Integer()))
    .with_for_update(skip_locked=True)
    .cte("due")
)
# Built once: the due batch, re-checked row by row under the lock.
MOVE_DUE = transitions.statement(
    "recycled", and_(_C.id == _DUE.c.id, _C.recycle_at <= _AT, _C.owner_id.is_not(None))
)

WARN_DUE = text("""
WITH candidates AS (
    SELECT c.id FROM customers c JOIN pools p ON p.id = c.pool_id
    WHERE c.owner_id IS NOT NULL AND c.deleted_at IS NULL
      AND c.recycle_at > :now AND c.recycle_at <= :horizon
      AND p.warning_days > 0
      AND c.recycle_at - make_interval(hours => p.warning_days * 24) <= :now
      AND c.recycle_warning_for IS DISTINCT FROM c.recycle_at
    LIMIT :batch
    FOR UPDATE OF c SKIP LOCKED
)
UPDATE customers AS c SET recycle_warning_for = c.recycle_at
FROM candidates, companies AS co
WHERE c.id = candidates.id AND co.id = c.company_id
RETURNING c.id, c.company_id, c.name, c.owner_id, c.recycle_at, c.recycle_reason, co.time_zone
""")

BatchHook = Callable[[int], Awaitable[None]]


async def recycle_batch(session: AsyncSession, at: datetime, batch: int = BATCH) -> int:
    """Move one batch of due customers to the pool and tell their previous owners; commits."""
    moved = (await session.execute(MOVE_DUE, {"at": at, "batch": batch})).all()
    await transitions.publish(session, "recycled", moved, at=at, actor_id=None)
    await session.commit()
    return len(moved)


async def warn_batch(session: AsyncSession, at: datetime, batch: int = BATCH) -> int:
    """Warn owners N days (the pool's warning days) before recycle_at, once per cycle; commits."""
    longest = await session.scalar(text("SELECT coalesce(max(warning_days), 0) FROM pools"))
    horizon = at + timedelta(days=longest)
    params = {"now": at, "horizon": horizon, "batch": batch}
    warned = (await session.execute(WARN_DUE, params)).all()
    notices = []
    for row in warned:
        due_local = row.recycle_at.astimezone(ZoneInfo(row.time_zone)).strftime("%Y-%m-%d %H:%M")
        notices.append(
            {
                "company_id": row.company_id,
                "user_id": row.owner_id,
                "kind": "recycle_warning",
                "params": {
                    "customer": row.name,
                    "reason": row.recycle_reason,
                    "due_local": due_local,
                    "recycle_at": row.recycle_at,
                },
                "dedupe_key": f"recycle_warning:{row.id}:{row.recycle_at.isoformat()}",
                "subject_type": "customer",
                "subject_id": row.id,
                "customer_id": row.id,
                "deep_link": f"outfield://customers/{row.id}",
            }
        )
    await notify_many(session, notices)
    await session.commit()
    return len(warned)


async def recycle(
    counts: dict[str, int], *, batch: int = BATCH, after_batch: BatchHook | None = None
) -> None:
    """The recycle job: recycle due customers, then warn those about to be; batch by batch."""
    at = now()
    counts.update(recycled=0, warned=0, batches=0)
    async with session_factory()() as session:
        while True:
            moved = await recycle_batch(session, at, batch)
            counts["recycled"] += moved
            counts["batches"] += 1
            if after_batch is not None:
                await after_batch(moved)
            if moved < batch:
                break
        while True:
            warned = await warn_batch(session, at, batch)
            counts["warned"] += warned
            if warned < batch:
                break
    counts["examined"] = counts["recycled"] + counts["warned"]
    counts["notified"] = counts["recycled"] + counts["warned"]

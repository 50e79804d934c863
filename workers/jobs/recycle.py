"""Recycling (回收): customers whose recycle_at has passed go back to the pool.

Set-based, in bounded batches, one short transaction per batch:
  pick due ids with FOR UPDATE SKIP LOCKED (rows an API request is changing are left for the
  next run), then UPDATE … RETURNING that re-checks `recycle_at <= now` and the owner, so a
  follow-up that committed first wins. The ownership events, notifications, feed items and
  webhook deliveries of the batch are written in the same transaction. A second worker, a
  retried run, or a run killed between batches recycles each customer once and notifies once.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.db import session_factory
from app.notifications.service import notify_many

BATCH = 1000

MOVE_DUE = text("""
WITH due AS (
    SELECT id FROM customers
    WHERE recycle_at <= :now AND owner_id IS NOT NULL AND deleted_at IS NULL
    ORDER BY recycle_at
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE customers AS c
    SET owner_id = NULL, previous_owner_id = c.owner_id, claimed_at = NULL,
        recycle_at = NULL, recycle_reason = NULL, recycle_warning_for = NULL,
        pooled_at = :now, pool_entry_kind = 'recycled', pool_reason = c.recycle_reason,
        updated_at = :now, version = c.version + 1
    FROM due
    WHERE c.id = due.id AND c.recycle_at <= :now AND c.owner_id IS NOT NULL AND c.deleted_at IS NULL
    RETURNING c.id, c.company_id, c.name, c.pool_id, c.previous_owner_id AS owner_id,
              c.pool_reason AS reason
), events AS (
    INSERT INTO ownership_events (id, company_id, customer_id, kind, from_user_id, to_user_id,
                                  actor_id, pool_id, reason, created_at)
    SELECT gen_random_uuid(), company_id, id, 'recycled', owner_id, NULL, NULL, pool_id, reason, :now
    FROM moved
    RETURNING id AS event_id, customer_id
), feed AS (
    INSERT INTO feed_items (id, company_id, kind, subject_type, subject_id, customer_id, author_id,
                            summary, like_count, comment_count, created_at)
    SELECT gen_random_uuid(), m.company_id, 'ownership', 'ownership', e.event_id, m.id, NULL,
           jsonb_build_object('author', jsonb_build_object('id', NULL, 'name', 'Outfield'),
                              'customer', jsonb_build_object('id', m.id, 'name', m.name),
                              'change', 'recycled', 'from_user_id', m.owner_id, 'to_user_id', NULL,
                              'reason', m.reason),
           0, 0, :now
    FROM moved m JOIN events e ON e.customer_id = m.id
    ON CONFLICT DO NOTHING
), hooks AS (
    INSERT INTO webhook_deliveries (id, company_id, webhook_id, event_id, event_type, payload, status,
                                    attempts, next_attempt_at, created_at)
    SELECT gen_random_uuid(), m.company_id, w.id, e.event_id, 'customer.recycled',
           jsonb_build_object('id', e.event_id, 'type', 'customer.recycled',
                              'occurred_at', to_char(:now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                              'company_id', m.company_id,
                              -- the keys of publish.ownership_changed's customer.* events
                              'data', jsonb_build_object('customer_id', m.id, 'from_user_id', m.owner_id,
                                                         'to_user_id', NULL, 'reason', m.reason,
                                                         'actor_id', NULL)),
           'pending', 0, :now, :now
    FROM moved m JOIN events e ON e.customer_id = m.id
    JOIN webhooks w ON w.company_id = m.company_id AND w.active AND w.deleted_at IS NULL
                   AND 'customer.recycled' = ANY(w.event_types)
    ON CONFLICT DO NOTHING
)
SELECT m.id, m.company_id, m.name, m.owner_id, m.reason, e.event_id
FROM moved m JOIN events e ON e.customer_id = m.id
""")

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
    moved = (await session.execute(MOVE_DUE, {"now": at, "batch": batch})).all()
    await notify_many(
        session,
        [
            {
                "company_id": row.company_id,
                "user_id": row.owner_id,
                "kind": "customer_recycled",
                "params": {"customer": row.name, "reason": row.reason},
                "dedupe_key": f"recycled:{row.event_id}",
                "subject_type": "customer",
                "subject_id": row.id,
                "customer_id": row.id,
                "deep_link": f"outfield://customers/{row.id}",
            }
            for row in moved
        ],
    )
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
    """The cron job: recycle due customers, then warn those about to be; batch by batch."""
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

"""Lead recycling (线索回收): an owned open lead (not converted, not disqualified) of a pool
with `recycle_after_days` that nobody followed up for that many days since
max(claimed_at, last_followup_at) goes back to its pool.

Set-based, like the customers' job: each batch is one `WITH due AS (SELECT … FOR UPDATE
SKIP LOCKED LIMIT n) UPDATE … RETURNING` (the row lock re-checks the condition against a
follow-up that committed first), one INSERT of the `recycled` lead events and one INSERT of
the old owners' `lead_recycled` notifications, committed together. A recycled lead is
unowned, so a second run (or a retried one) finds nothing to do twice.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.db import session_factory
from app.notifications.inbox.service import notify_many

BATCH = 1000
REASON = "no_followup"

_MOVE_DUE = text("""
WITH due AS (
    SELECT l.id, l.owner_id, p.recycle_after_days
    FROM leads AS l
    JOIN lead_pools AS p ON p.id = l.pool_id AND p.company_id = l.company_id
    WHERE l.owner_id IS NOT NULL AND l.deleted_at IS NULL
      AND l.status NOT IN ('converted', 'disqualified')
      AND p.recycle_after_days IS NOT NULL
      AND greatest(coalesce(l.claimed_at, l.created_at), l.last_followup_at)
          <= :at - make_interval(days => p.recycle_after_days)
    ORDER BY l.id
    LIMIT :batch
    FOR UPDATE OF l SKIP LOCKED
)
UPDATE leads AS l
SET owner_id = NULL, claimed_at = NULL, version = l.version + 1, updated_at = :at
FROM due
WHERE l.id = due.id
RETURNING l.id, l.company_id, l.pool_id, l.name, l.company_name, due.owner_id AS old_owner_id,
          due.recycle_after_days
""").bindparams(bindparam("at", type_=DateTime(timezone=True)), bindparam("batch", type_=Integer()))

_EVENTS = text("""
INSERT INTO lead_events (id, company_id, lead_id, pool_id, kind, user_id, actor_id, reason, at)
SELECT gen_random_uuid(), e.company_id, e.lead_id, e.pool_id, 'recycled', NULL, NULL,
       :reason, :at
FROM unnest(CAST(:company_ids AS uuid[]), CAST(:lead_ids AS uuid[]),
            CAST(:pool_ids AS uuid[])) AS e(company_id, lead_id, pool_id)
""").bindparams(bindparam("at", type_=DateTime(timezone=True)))


def _notice(row: Any, at: datetime) -> dict[str, Any]:
    return {
        "company_id": row.company_id,
        "user_id": row.old_owner_id,
        "kind": "lead_recycled",
        "params": {
            "lead": row.name,
            "company_name": row.company_name,
            "days": row.recycle_after_days,
            "lead_id": row.id,
        },
        "dedupe_key": f"lead_recycled:{row.id}:{at.isoformat()}",
        "subject_type": "lead",
        "subject_id": row.id,
        "deep_link": f"outfield://leads/{row.id}",
    }


async def recycle_lead_batch(session: AsyncSession, at: datetime, batch: int = BATCH) -> int:
    """Recycle one batch of due leads; commits. Returns how many went back."""
    rows = (await session.execute(_MOVE_DUE, {"at": at, "batch": batch})).all()
    if rows:
        await session.execute(
            _EVENTS,
            {
                "at": at,
                "reason": REASON,
                "company_ids": [row.company_id for row in rows],
                "lead_ids": [row.id for row in rows],
                "pool_ids": [row.pool_id for row in rows],
            },
        )
        await notify_many(session, [_notice(row, at) for row in rows])
    await session.commit()
    return len(rows)


async def recycle_leads(counts: dict[str, int], *, batch: int = BATCH) -> None:
    """The lead part of the recycle job: every due lead, batch by batch."""
    at = now()
    counts.update(leads_recycled=0, lead_batches=0)
    async with session_factory()() as session:
        while True:
            moved = await recycle_lead_batch(session, at, batch)
            counts["leads_recycled"] += moved
            counts["lead_batches"] += 1
            if moved < batch:
                break

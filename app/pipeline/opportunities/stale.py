"""The stale reminder (商机停滞): an open opportunity older than its pipeline's
`stale_after_days` tells its owner once (`opportunity_stale`).

Set-based, in bounded batches, each one short transaction: pick the due opportunities not yet
reminded (FOR UPDATE SKIP LOCKED: rows an API request holds wait for the next run), mark them
(`stale_notified_at`) and notify their owners in the same transaction. A marked opportunity
is never picked again and the dedupe key is per opportunity, so a second worker, a retried
run or a run killed between batches tells nobody twice. `stale` itself is computed on read.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.db import AnyRow, session_factory
from app.notifications.inbox.service import notify_many

BATCH = 1000
# stale_after_days is at least 1 (the pipelines' check): nothing younger can be due, and the
# partial index on created_at (ix_opportunities_stale_due) starts there.
MIN_STALE_AFTER = timedelta(days=1)

CANDIDATES = text("""
SELECT o.id FROM opportunities AS o
JOIN pipelines AS p ON p.id = o.pipeline_id AND p.company_id = o.company_id
WHERE o.status = 'open' AND o.stale_notified_at IS NULL AND o.deleted_at IS NULL
  AND o.created_at < :youngest
  AND o.created_at < CAST(:at AS timestamptz) - make_interval(days => p.stale_after_days)
ORDER BY o.created_at
LIMIT :batch
FOR UPDATE OF o SKIP LOCKED
""").bindparams(bindparam("batch", type_=Integer()))
MARK = text("""
UPDATE opportunities AS o SET stale_notified_at = CAST(:at AS timestamptz)
FROM customers AS c
WHERE o.id = ANY(CAST(:ids AS uuid[])) AND o.stale_notified_at IS NULL
  AND c.id = o.customer_id AND c.company_id = o.company_id
RETURNING o.id, o.company_id, o.owner_id, o.customer_id, o.name, o.created_at,
          c.name AS customer_name
""")


def _notice(row: AnyRow, at: datetime) -> dict[str, Any]:
    return {
        "company_id": row.company_id,
        "user_id": row.owner_id,
        "kind": "opportunity_stale",
        "params": {
            "opportunity": row.name,
            "customer": row.customer_name,
            "days": (at - row.created_at).days,
        },
        "dedupe_key": f"opportunity_stale:{row.id}",
        "subject_type": "opportunity",
        "subject_id": row.id,
        "customer_id": row.customer_id,
        "deep_link": f"outfield://opportunities/{row.id}",
    }


async def stale_batch(session: AsyncSession, at: datetime, batch: int = BATCH) -> tuple[int, int]:
    """Mark and remind one batch; commits. Returns (looked at, owners told)."""
    ids = list(
        (
            await session.execute(
                CANDIDATES, {"at": at, "youngest": at - MIN_STALE_AFTER, "batch": batch}
            )
        ).scalars()
    )
    if not ids:
        await session.commit()
        return 0, 0
    marked = (await session.execute(MARK, {"at": at, "ids": ids})).all()
    told = await notify_many(session, [_notice(row, at) for row in marked])
    await session.commit()
    return len(ids), told


async def stale_opportunities(counts: dict[str, int], *, batch: int = BATCH) -> None:
    """The job body: every due opportunity, batch by batch."""
    at = now()
    counts.update(examined=0, notified=0, batches=0)
    async with session_factory()() as session:
        while True:
            examined, told = await stale_batch(session, at, batch)
            counts["examined"] += examined
            counts["notified"] += told
            counts["batches"] += 1
            if examined < batch:
                break

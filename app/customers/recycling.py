"""Recycling (回收): customers whose recycle_at has passed go back to the pool; owners are
warned the pool's warning days before.

The job finds its work through `recycle_check_at` (when to look at a customer next), not
through recycle_at: a follow-up or check-in moves recycle_at later on every call and, to stay
a cheap HOT update, leaves `recycle_check_at` where it was (`clock.check_expression`). So a
customer the job looks at is in one of three states, and each batch, in one short
transaction, settles all of them:

* due (recycle_at has passed): the `recycled` transition (its UPDATE … RETURNING re-checks
  `recycle_at <= now` and the owner under the lock, so a follow-up that committed first
  wins) and `transitions.publish` — the same rows a release through the API writes;
* in its warning window and not yet warned for this recycle_at: warned once, and looked at
  again at recycle_at;
* moved on by follow-ups since: looked at again at its new warning moment (or recycle_at).

Candidates are picked with FOR UPDATE SKIP LOCKED (rows an API request is changing are left
for the next run). Every candidate leaves the batch with `recycle_check_at` cleared or in
the future, so a second worker, a retried run or a run killed between batches changes
nothing twice and tells nobody twice.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Integer, Uuid, and_, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.customers import transitions
from app.customers.models import Customer
from app.db import AnyRow, session_factory, table_of
from app.notifications.inbox.service import notify_many

BATCH = 1000
_C = table_of(Customer).c
_AT = bindparam("at", type_=DateTime(timezone=True))
_IDS = bindparam("ids", type_=ARRAY(Uuid()))

# Built once. The batch: customers whose time to be looked at has come, oldest first.
CANDIDATES = (
    select(_C.id)
    .where(_C.recycle_check_at <= _AT, _C.deleted_at.is_(None))
    .order_by(_C.recycle_check_at)
    .limit(bindparam("batch", type_=Integer()))
    .with_for_update(skip_locked=True)
)
# Those of the batch that are due, re-checked row by row under the lock.
MOVE_DUE = transitions.statement(
    "recycled", and_(_C.id == any_(_IDS), _C.recycle_at <= _AT, _C.owner_id.is_not(None))
)
# The rest of the batch: warn the ones in their window, and say when to look again.
RESCHEDULE = text("""
UPDATE customers AS c
SET recycle_warning_for = CASE WHEN w.warn THEN c.recycle_at ELSE c.recycle_warning_for END,
    recycle_check_at = CASE
        WHEN c.owner_id IS NULL OR c.recycle_at IS NULL THEN NULL
        WHEN w.warn THEN c.recycle_at
        WHEN w.warn_at > :at THEN w.warn_at
        ELSE c.recycle_at END
FROM (
    SELECT k.id,
           k.recycle_at - make_interval(hours => p.warning_days * 24) AS warn_at,
           coalesce(p.warning_days > 0 AND k.owner_id IS NOT NULL AND k.recycle_at > :at
                    AND k.recycle_at - make_interval(hours => p.warning_days * 24) <= :at
                    AND k.recycle_warning_for IS DISTINCT FROM k.recycle_at, false) AS warn
    FROM customers AS k JOIN pools AS p ON p.id = k.pool_id
    WHERE k.id = ANY(:ids) AND k.recycle_check_at IS NOT NULL
) AS w, companies AS co
WHERE c.id = w.id AND co.id = c.company_id
RETURNING c.id, c.company_id, c.name, c.owner_id, c.recycle_at, c.recycle_reason,
          co.time_zone, w.warn
""").bindparams(bindparam("ids", type_=ARRAY(Uuid())), _AT)

BatchHook = Callable[[int], Awaitable[None]]


def _warning(row: AnyRow) -> dict[str, Any]:
    """The advance warning of a RESCHEDULE row."""
    due_local = row.recycle_at.astimezone(ZoneInfo(row.time_zone)).strftime("%Y-%m-%d %H:%M")
    return {
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


async def recycle_batch(
    session: AsyncSession, at: datetime, batch: int = BATCH
) -> tuple[int, int, int]:
    """Settle one batch (recycle the due, warn, reschedule the rest); commits.
    Returns (customers looked at, recycled, warned)."""
    ids = list((await session.execute(CANDIDATES, {"at": at, "batch": batch})).scalars())
    if not ids:
        await session.commit()
        return 0, 0, 0
    moved = (await session.execute(MOVE_DUE, {"at": at, "ids": ids})).all()
    await transitions.publish(session, "recycled", moved, at=at, actor_id=None)
    rescheduled = (await session.execute(RESCHEDULE, {"at": at, "ids": ids})).all()
    warned = [row for row in rescheduled if row.warn]
    await notify_many(session, [_warning(row) for row in warned])
    await session.commit()
    return len(ids), len(moved), len(warned)


async def recycle(
    counts: dict[str, int], *, batch: int = BATCH, after_batch: BatchHook | None = None
) -> None:
    """The recycle job: every customer whose time to be looked at has come, batch by batch
    (`after_batch` gets each batch's number of recycled customers)."""
    at = now()
    counts.update(recycled=0, warned=0, batches=0, examined=0)
    async with session_factory()() as session:
        while True:
            examined, moved, warned = await recycle_batch(session, at, batch)
            counts["examined"] += examined
            counts["recycled"] += moved
            counts["warned"] += warned
            counts["batches"] += 1
            if after_batch is not None:
                await after_batch(moved)
            if examined < batch:
                break
    counts["notified"] = counts["recycled"] + counts["warned"]

"""Automatic assignment (自动分配) of a pool's new leads, and the rows every change of a
lead's owner writes.

Eligible: active users with role rep or manager who are members of the pool (as a user, or
through a member department at or above their own) and hold fewer open leads than the
pool's `holding_cap`. A rep's load is the open leads (not converted, not disqualified, not
deleted) they own in the company, whichever pool they came from: the cap says how many a rep
can work at once.

* `round_robin`: members in a fixed order (by id); the batch starts after `rr_cursor` (the
  member who got the last lead, across calls, restarts and imports) and deals one lead at a
  time to the next member with room; the member who got the batch's last lead becomes the
  cursor. The pool row is locked (FOR UPDATE) so two batches never start from one cursor.
* `least_loaded`: each lead to the member with the fewest open leads at that moment
  (counting what the batch already gave them), ties by the same fixed order.

Either way a batch of N leads over k members with equal room is spread N // k or N // k + 1
each. Leads no member has room for stay in the pool. Everything is written with a few
fixed-shape statements over arrays, whatever the batch size.
"""

import heapq
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, DateTime, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.core.clock import now
from app.leads.models import Lead, LeadPool
from app.notifications.inbox.service import notify_many
from app.notifications.webhooks.service import enqueue_events

_UUIDS = ARRAY(Uuid())
_AT = bindparam("at", type_=DateTime(timezone=True))

# The eligible members of a pool with their load (open leads held in the company).
MEMBERS = text("""
SELECT u.id,
       (SELECT count(*) FROM leads AS l
        WHERE l.company_id = u.company_id AND l.owner_id = u.id AND l.deleted_at IS NULL
          AND l.status NOT IN ('converted', 'disqualified')) AS load
FROM users AS u
LEFT JOIN departments AS d ON d.id = u.department_id AND d.company_id = u.company_id
WHERE u.company_id = :company_id AND u.is_active AND u.role IN ('rep', 'manager')
  AND EXISTS (
      SELECT 1 FROM lead_pool_members AS m
      LEFT JOIN departments AS md ON md.id = m.department_id AND md.company_id = m.company_id
      WHERE m.company_id = u.company_id AND m.pool_id = :pool_id
        AND (m.user_id = u.id OR (d.path IS NOT NULL AND starts_with(d.path, md.path))))
ORDER BY u.id
""").bindparams(bindparam("company_id", type_=Uuid()), bindparam("pool_id", type_=Uuid()))

_LOCK_POOL = text(
    "SELECT rr_cursor FROM lead_pools WHERE id = :pool_id AND company_id = :company_id FOR UPDATE"
).bindparams(bindparam("company_id", type_=Uuid()), bindparam("pool_id", type_=Uuid()))

_SET_CURSOR = text(
    "UPDATE lead_pools SET rr_cursor = :cursor WHERE id = :pool_id AND company_id = :company_id"
).bindparams(
    bindparam("company_id", type_=Uuid()),
    bindparam("pool_id", type_=Uuid()),
    bindparam("cursor", type_=Uuid()),
)

# The given leads still unowned in the pool, locked, in the order given.
_UNOWNED = text("""
SELECT l.id FROM leads AS l
JOIN unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS g(id, n) ON g.id = l.id
WHERE l.company_id = :company_id AND l.pool_id = :pool_id AND l.owner_id IS NULL
  AND l.deleted_at IS NULL AND l.status NOT IN ('converted', 'disqualified')
ORDER BY g.n
FOR UPDATE OF l
""").bindparams(bindparam("company_id", type_=Uuid()), bindparam("pool_id", type_=Uuid()))

# Hand the leads to their owners (only those still unowned: a claim that got there first wins).
_ASSIGN = text("""
UPDATE leads AS l
SET owner_id = a.owner_id, claimed_at = :at, updated_at = :at, version = l.version + 1
FROM unnest(CAST(:lead_ids AS uuid[]), CAST(:owner_ids AS uuid[])) AS a(lead_id, owner_id)
WHERE l.id = a.lead_id AND l.company_id = :company_id AND l.owner_id IS NULL
  AND l.deleted_at IS NULL
RETURNING l.id, l.owner_id, l.pool_id, l.name, l.company_name, l.version
""").bindparams(bindparam("company_id", type_=Uuid()), _AT)

# One lead event per lead (the rows of an owner change).
_EVENTS = text("""
INSERT INTO lead_events (id, company_id, lead_id, pool_id, kind, user_id, actor_id, reason, at)
SELECT gen_random_uuid(), :company_id, e.lead_id, e.pool_id, :kind, e.user_id, :actor_id,
       :reason, :at
FROM unnest(CAST(:lead_ids AS uuid[]), CAST(:pool_ids AS uuid[]), CAST(:user_ids AS uuid[]))
     AS e(lead_id, pool_id, user_id)
""").bindparams(bindparam("company_id", type_=Uuid()), bindparam("actor_id", type_=Uuid()), _AT)

_ACTOR_NAME = text("SELECT name FROM users WHERE id = :id").bindparams(
    bindparam("id", type_=Uuid())
)


def distribute(
    members: Sequence[tuple[uuid.UUID, int]],
    count: int,
    *,
    strategy: str,
    cap: int | None,
    cursor: uuid.UUID | None,
) -> list[uuid.UUID]:
    """The owner of each of `count` leads in turn (fewer when the members run out of room).

    `members`: (user id, open leads held), in the fixed order (by id)."""
    room = {uid: (None if cap is None else max(cap - load, 0)) for uid, load in members}
    owners: list[uuid.UUID] = []
    if strategy == "least_loaded":
        order = {uid: n for n, (uid, _) in enumerate(members)}
        heap = [(load, order[uid], uid) for uid, load in members if room[uid] != 0]
        heapq.heapify(heap)
        while heap and len(owners) < count:
            load, n, uid = heapq.heappop(heap)
            owners.append(uid)
            left = room[uid]
            if left is not None:
                room[uid] = left - 1
            if room[uid] != 0:
                heapq.heappush(heap, (load + 1, n, uid))
        return owners
    ids = [uid for uid, _ in members]
    if not ids:
        return owners
    start = 0
    if cursor is not None:
        # After the cursor: the first member whose id sorts after it (the cursor may have
        # left the pool since).
        start = next((n for n, uid in enumerate(ids) if uid > cursor), 0)
    position = start
    idle = 0  # members passed in a row without room
    while len(owners) < count and idle < len(ids):
        uid = ids[position % len(ids)]
        position += 1
        left = room[uid]
        if left == 0:
            idle += 1
            continue
        idle = 0
        owners.append(uid)
        if left is not None:
            room[uid] = left - 1
    return owners


async def actor_name(session: AsyncSession, actor_id: uuid.UUID | None) -> str | None:
    if actor_id is None:
        return None
    name = await session.scalar(_ACTOR_NAME, {"id": actor_id})
    return str(name) if name is not None else None


async def record_owner_changes(
    session: AsyncSession,
    company_id: uuid.UUID,
    kind: str,
    rows: Sequence[Any],
    *,
    actor_id: uuid.UUID | None,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Lead events for rows with `id`, `pool_id` and `owner_id` (the owner after the change;
    None: back in the pool)."""
    if not rows:
        return
    await session.execute(
        _EVENTS,
        {
            "company_id": company_id,
            "kind": kind,
            "actor_id": actor_id,
            "reason": reason,
            "at": at,
            "lead_ids": [row.id for row in rows],
            "pool_ids": [row.pool_id for row in rows],
            "user_ids": [row.owner_id for row in rows],
        },
    )


async def announce_assignments(
    session: AsyncSession,
    company_id: uuid.UUID,
    rows: Sequence[Any],
    *,
    actor_id: uuid.UUID | None,
    at: datetime,
) -> None:
    """For assigned rows (`id`, `owner_id`, `pool_id`, `name`, `company_name`): one
    notification per receiving user (`lead_assigned` for one lead, `leads_assigned` for
    several; never to the actor) and a `lead.assigned` webhook per lead."""
    if not rows:
        return
    actor = await actor_name(session, actor_id)
    by_owner: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        by_owner[row.owner_id].append(row)
    batch = uuid.uuid4()
    notices: list[dict[str, Any]] = []
    for owner_id, owned in by_owner.items():
        if owner_id == actor_id:
            continue
        if len(owned) == 1:
            lead = owned[0]
            notices.append(
                {
                    "company_id": company_id,
                    "user_id": owner_id,
                    "kind": "lead_assigned",
                    "params": {
                        "actor": actor,
                        "lead": lead.name,
                        "company_name": lead.company_name,
                        "lead_id": lead.id,
                    },
                    "dedupe_key": f"lead_assigned:{lead.id}:{batch}",
                    "subject_type": "lead",
                    "subject_id": lead.id,
                    "actor_id": actor_id,
                    "deep_link": f"outfield://leads/{lead.id}",
                }
            )
        else:
            notices.append(
                {
                    "company_id": company_id,
                    "user_id": owner_id,
                    "kind": "leads_assigned",
                    "params": {"actor": actor, "count": len(owned)},
                    "dedupe_key": f"leads_assigned:{batch}",
                    "actor_id": actor_id,
                    "deep_link": "outfield://leads?owner=me",
                }
            )
    await notify_many(session, notices)
    await enqueue_events(
        session,
        "lead.assigned",
        [
            (
                company_id,
                uuid.uuid4(),
                {
                    "lead_id": row.id,
                    "owner_id": row.owner_id,
                    "pool_id": row.pool_id,
                    "assigned_by": actor_id,
                },
            )
            for row in rows
        ],
        at,
    )


async def eligible_members(
    session: AsyncSession, company_id: uuid.UUID, pool_id: uuid.UUID
) -> list[tuple[uuid.UUID, int]]:
    """(user id, open leads held) of the pool's active rep and manager members, by id."""
    result = await session.execute(MEMBERS, {"company_id": company_id, "pool_id": pool_id})
    return [(row.id, int(row.load)) for row in result.all()]


async def assign_new_leads(
    session: AsyncSession, actor_id: uuid.UUID | None, pool: LeadPool, lead_ids: list[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Hand the given unowned leads of the pool out by its `assignment` (nothing for a
    manual pool); returns lead → user for those assigned."""
    if pool.assignment not in ("round_robin", "least_loaded") or not lead_ids:
        return {}
    await session.flush()  # leads created in this session are rows before we look
    keys = {"company_id": pool.company_id, "pool_id": pool.id}
    cursor = (await session.execute(_LOCK_POOL, keys)).scalar_one_or_none()
    unowned = list((await session.execute(_UNOWNED, {**keys, "ids": lead_ids})).scalars())
    if not unowned:
        return {}
    members = await eligible_members(session, pool.company_id, pool.id)
    owners = distribute(
        members,
        len(unowned),
        strategy=pool.assignment,
        cap=pool.holding_cap,
        cursor=cursor,
    )
    if not owners:
        return {}
    at = now()
    chosen = unowned[: len(owners)]
    rows = (
        await session.execute(
            _ASSIGN,
            {
                "company_id": pool.company_id,
                "at": at,
                "lead_ids": chosen,
                "owner_ids": owners,
            },
        )
    ).all()
    if pool.assignment == "round_robin":
        await session.execute(_SET_CURSOR, {**keys, "cursor": owners[-1]})
        set_committed_value(pool, "rr_cursor", owners[-1])
    await record_owner_changes(session, pool.company_id, "assigned", rows, actor_id=actor_id, at=at)
    await announce_assignments(session, pool.company_id, rows, actor_id=actor_id, at=at)
    sync_owner_changes(session, rows, at)
    return {row.id: row.owner_id for row in rows}


def sync_owner_changes(session: AsyncSession, rows: Sequence[Any], at: datetime | None) -> None:
    """Leads of the session's identity map changed by a Core UPDATE (rows with `id`,
    `owner_id`, `version`): set as if loaded (a later flush writes nothing for them)."""
    identity_map = session.sync_session.identity_map
    for row in rows:
        lead = identity_map.get(identity_key(Lead, row.id))
        if isinstance(lead, Lead):
            set_committed_value(lead, "owner_id", row.owner_id)
            set_committed_value(lead, "claimed_at", at)
            set_committed_value(lead, "version", row.version)

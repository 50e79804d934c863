"""A deactivated user's open leads: to the named successor (no cap: an admin's call), else back
to their pools — one set-based UPDATE, with the lead events and (to a successor) the
assignment notice and `lead.assigned` webhooks of any other assignment."""

import uuid

from sqlalchemy import DateTime, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.leads.pools.assignment import announce_assignments, record_owner_changes
from app.org.models import User

REASON = "owner_deactivated"

_HAND_OVER = text("""
UPDATE leads
SET owner_id = :to_user_id,
    claimed_at = CASE WHEN CAST(:to_user_id AS uuid) IS NULL THEN NULL ELSE :at END,
    version = version + 1,
    updated_at = :at
WHERE company_id = :company_id AND owner_id = :from_user_id AND deleted_at IS NULL
  AND status NOT IN ('converted', 'disqualified')
RETURNING id, pool_id, owner_id, name, company_name
""").bindparams(
    bindparam("to_user_id", type_=Uuid()),
    bindparam("from_user_id", type_=Uuid()),
    bindparam("company_id", type_=Uuid()),
    bindparam("at", type_=DateTime(timezone=True)),
)


async def on_user_deactivated(
    session: AsyncSession, principal: Principal, user: User, successor_id: uuid.UUID | None
) -> None:
    """Hand the user's open leads on (caller commits)."""
    at = now()
    rows = (
        await session.execute(
            _HAND_OVER,
            {
                "to_user_id": successor_id,
                "from_user_id": user.id,
                "company_id": user.company_id,
                "at": at,
            },
        )
    ).all()
    kind = "released" if successor_id is None else "assigned"
    await record_owner_changes(
        session, user.company_id, kind, rows, actor_id=principal.user_id, at=at, reason=REASON
    )
    if successor_id is not None:
        await announce_assignments(
            session, user.company_id, rows, actor_id=principal.user_id, at=at
        )

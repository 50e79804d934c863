"""Who may give work to whom (tasks and tickets): a rep only themselves, a manager the people
of their department subtree (and themselves), an admin anyone of the company."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.org.models import Department, User
from app.tasks import errors


async def check_assignees(
    session: AsyncSession,
    principal: Principal,
    user_ids: Sequence[uuid.UUID],
    *,
    field: str = "assignee_ids",
    single: bool = False,
) -> list[uuid.UUID]:
    """The distinct assignees in order, each an active user of the company (else 422
    `unknown_assignee` at body.<field>[.index]) within the caller's reach (else 403
    `assignee_not_allowed`)."""
    ordered = list(dict.fromkeys(user_ids))
    if not ordered:
        return []
    rows = {
        row.id: row.path
        for row in (
            await session.execute(
                select(User.id, Department.path)
                .outerjoin(Department, Department.id == User.department_id)
                .where(
                    User.company_id == principal.company_id,
                    User.id.in_(ordered),
                    User.is_active.is_(True),
                )
            )
        ).all()
    }
    missing = [
        (None if single else index, user_id)
        for index, user_id in enumerate(user_ids)
        if user_id not in rows
    ]
    if missing:
        raise errors.unknown_assignee(field, missing)
    if principal.is_admin:
        return ordered
    for user_id in ordered:
        if user_id == principal.user_id:
            continue
        path = rows[user_id]
        prefix = principal.department_path
        if not (principal.is_manager and prefix and path and path.startswith(prefix)):
            raise errors.assignee_not_allowed()
    return ordered

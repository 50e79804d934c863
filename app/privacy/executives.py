"""Executive mode: an executive's own phone and e-mail are hidden from the people below them.

"Below" is a caller who is not an admin and whose department lies in the executive's
department subtree (the executive's own department included), the executive excepted. Users
outside the tree, admins, and people in other branches see the executive as anyone else.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.org.models import Department, User


async def hidden_contacts(
    session: AsyncSession, principal: Principal, users: Sequence[User]
) -> frozenset[uuid.UUID]:
    """The ids among `users` whose phone and e-mail the caller may not see."""
    if principal.is_admin or not principal.department_path:
        return frozenset()
    executives = [u.id for u in users if u.is_executive and u.id != principal.user_id]
    if not executives:
        return frozenset()
    rows = await session.execute(
        select(User.id, Department.path)
        .join(Department, Department.id == User.department_id)
        .where(User.company_id == principal.company_id, User.id.in_(executives))
    )
    caller_path = principal.department_path
    return frozenset(row.id for row in rows if caller_path.startswith(row.path))

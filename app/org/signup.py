"""Signup: a new company with its root department and first admin."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import check_password_policy_async, hash_password_async
from app.config import get_settings
from app.org import errors
from app.org.models import Company, Department, User
from app.org.schemas import SignupIn
from app.org.settings import initial_settings
from app.org.users import OrgReactions, unique_user


async def signup(
    session: AsyncSession, data: SignupIn, reactions: OrgReactions
) -> tuple[Company, User]:
    """A new company with its root department and first admin."""
    if not get_settings().signup_enabled:
        raise errors.signup_disabled()
    await check_password_policy_async(
        data.password,
        loc=("body", "password"),
        user_inputs=(data.email, data.admin_name, data.company_name),
    )
    company = Company(
        id=uuid.uuid4(),
        name=data.company_name,
        time_zone=data.time_zone,
        settings=initial_settings(),  # every setting fixed now, the environment's defaults too
    )
    root = Department(
        id=uuid.uuid4(), company_id=company.id, parent_id=None, name=data.company_name
    )
    root.path = f"/{root.id}/"
    admin = User(
        id=uuid.uuid4(),
        company_id=company.id,
        department_id=root.id,
        email=data.email.lower(),
        name=data.admin_name,
        role="admin",
        locale=data.locale,
        password_hash=await hash_password_async(data.password),
        token_version=1,
        is_active=True,
        version=1,
    )
    session.add(company)
    await session.flush()
    session.add(root)
    await session.flush()
    async with unique_user(session):
        session.add(admin)
    for hook in reactions.on_signup:
        await hook(session, company, admin)
    await session.flush()
    return company, admin

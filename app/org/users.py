"""Users and the caller's own account: the use cases, with permission checks and transactions."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import (
    check_password_policy_async,
    hash_password_async,
    verify_password_async,
)
from app.auth.principal import Principal
from app.auth.service import revoke_user_tokens
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import savepoint
from app.org import errors
from app.org.departments import company_department
from app.org.models import Company, Department, User
from app.org.schemas import UserCreate, UserUpdate

DeactivationHook = Callable[[AsyncSession, Principal, User, uuid.UUID | None], Awaitable[None]]
SignupHook = Callable[[AsyncSession, Company, User], Awaitable[None]]


@dataclass(frozen=True)
class OrgReactions:
    """What other packages do when a company signs up or a user is deactivated (the
    composition, `app.composition.ORG_REACTIONS`, says who)."""

    on_signup: tuple[SignupHook, ...] = ()
    on_deactivated: tuple[DeactivationHook, ...] = ()


def user_visibility(principal: Principal) -> ColumnElement[bool]:
    """The one visibility rule for users: admin all, manager the subtree, rep their department."""
    same_company = User.company_id == principal.company_id
    if principal.is_admin:
        return same_company
    if principal.is_manager and principal.department_path:
        in_subtree = select(Department.id).where(
            Department.company_id == principal.company_id,
            Department.path.startswith(principal.department_path, autoescape=True),
        )
        return same_company & (User.department_id.in_(in_subtree) | (User.id == principal.user_id))
    if principal.department_id is not None:
        return same_company & (
            (User.department_id == principal.department_id) | (User.id == principal.user_id)
        )
    return same_company & (User.id == principal.user_id)


# ---------- me ----------


async def get_me(
    session: AsyncSession, principal: Principal
) -> tuple[User, Company, Department | None]:
    """The caller's user, company and department."""
    user = await session.get(User, principal.user_id)
    company = await session.get(Company, principal.company_id)
    if user is None or company is None:
        raise not_found("user")
    department = await session.get(Department, user.department_id) if user.department_id else None
    return user, company, department


async def change_password(
    session: AsyncSession, principal: Principal, current_password: str, new_password: str
) -> None:
    """Change the caller's password; every outstanding token stops working."""
    user = await session.get(User, principal.user_id)
    if user is None or not await verify_password_async(user.password_hash, current_password):
        raise errors.wrong_password()
    await check_password_policy_async(
        new_password, loc=("body", "new_password"), user_inputs=(user.email, user.name)
    )
    user.password_hash = await hash_password_async(new_password)
    user.token_version += 1
    user.version += 1
    await revoke_user_tokens(session, user.id)
    await session.flush()


# ---------- users ----------


async def list_users(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    department_id: uuid.UUID | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> tuple[list[User], str | None]:
    """Users the caller may see, newest first, optionally filtered."""
    stmt = select(User).where(user_visibility(principal))
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    rows = list((await session.execute(paginate(stmt, User.created_at, User.id, params))).scalars())
    return make_page(rows, params)


async def get_user(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    """One visible user, or 404."""
    user = (
        await session.execute(select(User).where(User.id == user_id, user_visibility(principal)))
    ).scalar_one_or_none()
    if user is None:
        raise not_found("user")
    return user


@asynccontextmanager
async def unique_user(session: AsyncSession) -> AsyncIterator[None]:
    """The user added in the block, flushed in a savepoint; a taken e-mail or id is a 409."""
    try:
        async with savepoint(session):
            yield
    except IntegrityError as exc:
        if "email" in str(exc.orig):
            raise errors.email_taken() from exc
        raise client_ids.id_conflict() from exc


# Create fields a user row does not hold as sent (the password is compared with its hash).
_NOT_STORED = frozenset({"password"})


async def create_user(
    session: AsyncSession, principal: Principal, data: UserCreate
) -> tuple[User, bool]:
    """Admin: a new user of the caller's company; returns (user, created). The same client id
    and body (password included) again answer the user made (`created` False); an id taken
    otherwise (another body, another company) is 409 `id_conflict`."""
    existing = await client_ids.existing_create(
        session,
        User,
        data.id,
        principal.company_id,
        lambda user: user.is_active and client_ids.holds(user, data, exclude=_NOT_STORED),
    )
    if existing is not None:
        if not await verify_password_async(existing.password_hash, data.password):
            raise client_ids.id_conflict()
        return existing, False
    await check_password_policy_async(
        data.password, loc=("body", "password"), user_inputs=(data.email, data.name)
    )
    if data.department_id is not None:
        await company_department(session, principal.company_id, data.department_id)
    user = User(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        department_id=data.department_id,
        email=data.email.lower(),
        name=data.name,
        role=data.role,
        locale=data.locale,
        phone=data.phone,
        password_hash=await hash_password_async(data.password),
        token_version=1,
        is_active=True,
        version=1,
    )
    async with unique_user(session):
        session.add(user)
    return user, True


async def update_user(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    data: UserUpdate,
    if_match: str | None,
) -> User:
    """Admin: rename, change role or locale, move to another department."""
    user = await get_user(session, principal, user_id)
    check_if_match(if_match, user.version)
    fields = data.model_fields_set
    if "department_id" in fields and data.department_id is not None:
        await company_department(session, principal.company_id, data.department_id)
        user.department_id = data.department_id
    for field in ("name", "role", "locale", "phone", "is_executive"):
        if field in fields and (getattr(data, field) is not None or field == "phone"):
            setattr(user, field, getattr(data, field))
    if user.id == principal.user_id and user.role != "admin":
        raise errors.cannot_demote_self()
    user.version += 1
    await session.flush()
    return user


async def deactivate_user(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    successor_id: uuid.UUID | None,
    reactions: OrgReactions,
) -> User:
    """Admin: deactivate a user, revoke their tokens, hand their customers on."""
    user = await get_user(session, principal, user_id)
    if user.id == principal.user_id:
        raise errors.cannot_deactivate_self()
    if successor_id is not None:
        successor = await get_user(session, principal, successor_id)
        if not successor.is_active or successor.id == user.id:
            raise errors.invalid_successor()
    if user.is_active:
        user.is_active = False
        user.deactivated_at = now()
        user.token_version += 1
        user.version += 1
        await revoke_user_tokens(session, user.id)
        for hook in reactions.on_deactivated:
            await hook(session, principal, user, successor_id)
        await session.flush()
    return user

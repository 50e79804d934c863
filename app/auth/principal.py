"""The caller: who they are, which company, which role, which part of the tree."""

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import denylist, errors
from app.auth.tokens import decode_access_token
from app.core.clock import now
from app.core.errors import forbidden
from app.db import SESSION, AnyRow, session_factory
from app.org.models import Department, User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. `department_path` is None for users outside the tree."""

    user_id: uuid.UUID
    company_id: uuid.UUID
    role: str
    department_id: uuid.UUID | None
    department_path: str | None
    locale: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


# The caller lookup runs on every request: columns, not the User entity, built once.
_CALLER = (
    select(
        User.id,
        User.company_id,
        User.role,
        User.department_id,
        Department.path,
        User.locale,
        User.is_active,
        User.token_version,
    )
    .outerjoin(Department, Department.id == User.department_id)
    .where(
        User.id == bindparam("user_id", type_=Uuid()),
        User.company_id == bindparam("company_id", type_=Uuid()),
    )
)


async def verify_access_token(session: AsyncSession, token: str) -> AnyRow:
    """The one check of an access token, for every request: signature, algorithm, expiry,
    issuer and audience; not signed out (the deny-list, one Redis EXISTS); the user exists,
    is active and has not revoked their tokens since (`token_version`, the caller lookup's
    one query). Returns the caller row; raises the 401 problem otherwise."""
    try:
        claims = decode_access_token(token, now())
    except jwt.ExpiredSignatureError as exc:
        raise errors.token_expired() from exc
    except jwt.InvalidTokenError as exc:
        raise errors.invalid_token() from exc
    if await denylist.is_denied(claims.jti):
        raise errors.token_revoked()
    user = (
        await session.execute(_CALLER, {"user_id": claims.user_id, "company_id": claims.company_id})
    ).first()
    if user is None:
        raise errors.invalid_token()
    if not user.is_active:
        raise errors.user_deactivated()
    if user.token_version != claims.token_version:
        raise errors.token_revoked()
    return user


async def check_bearer(token: str) -> None:
    """`verify_access_token` outside a route, in a session of its own: the idempotency
    middleware runs it before it answers a repeated request from what it stored."""
    async with session_factory()() as session:
        await verify_access_token(session, token)


async def current_principal(
    request: Request,
    token: str | None = Depends(oauth2_scheme),
    session: AsyncSession = SESSION,  # the route's own session (the same dependency)
) -> Principal:
    """Dependency: a valid access token of an active user, or 401 problem+json."""
    if not token:
        raise errors.not_authenticated()
    user = await verify_access_token(session, token)
    principal = Principal(
        user.id, user.company_id, user.role, user.department_id, user.path, user.locale
    )
    request.state.principal = principal
    return principal


def require_roles(*roles: str) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """Dependency factory: the caller must hold one of `roles`, else 403."""

    async def _check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise forbidden("Your role may not do this.")
        return principal

    return _check


require_admin = require_roles("admin")
require_manager = require_roles("manager", "admin")

"""Login, refresh-token rotation with reuse detection and a grace window, logout."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import errors
from app.auth.models import RefreshToken
from app.auth.passwords import hash_password_async, needs_rehash, verify_password_async
from app.auth.schemas import TokenPair
from app.auth.tokens import encode_access_token, encode_refresh_token, parse_refresh_token
from app.config import get_settings
from app.core.clock import now
from app.core.redis import get_redis
from app.org.models import User


async def check_login_rate(client_ip: str, username: str) -> None:
    """At most N login attempts per (client, username) per window; else 429 with Retry-After."""
    settings = get_settings()
    key = f"outfield:login:{client_ip}:{username.strip().lower()}"
    redis = get_redis()
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, settings.login_rate_window_s, nx=True)
        pipe.ttl(key)
        attempts, _, ttl = await pipe.execute()
    if attempts > settings.login_rate_limit:
        retry_after = max(int(ttl), 1)
        raise errors.login_rate_limited(retry_after)


def _pair(user: User, row: RefreshToken) -> TokenPair:
    settings = get_settings()
    access = encode_access_token(
        user.id, user.company_id, user.token_version, row.issued_at, row.access_jti
    )
    return TokenPair(
        access_token=access,
        expires_in=settings.access_token_ttl_s,
        refresh_token=encode_refresh_token(row.id),
        refresh_expires_in=max(int((row.expires_at - row.issued_at).total_seconds()), 0),
    )


def _new_refresh_row(
    user: User, family_id: uuid.UUID, parent_id: uuid.UUID | None, at: datetime
) -> RefreshToken:
    # Whole seconds, so the access token re-encoded on a grace retry is byte-identical.
    issued = at.replace(microsecond=0)
    return RefreshToken(
        id=uuid.uuid4(),
        family_id=family_id,
        company_id=user.company_id,
        user_id=user.id,
        parent_id=parent_id,
        access_jti=uuid.uuid4(),
        issued_at=issued,
        expires_at=issued + timedelta(seconds=get_settings().refresh_token_ttl_s),
    )


async def login(session: AsyncSession, email: str, password: str) -> TokenPair:
    """Password flow: a new token family for an active user with the right password."""
    user = (
        await session.execute(select(User).where(User.email == email.strip().lower()))
    ).scalar_one_or_none()
    if (
        not await verify_password_async(user.password_hash if user else None, password)
        or user is None
    ):
        raise errors.invalid_credentials()
    if not user.is_active:
        raise errors.user_deactivated()
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password_async(password)
    row = _new_refresh_row(user, uuid.uuid4(), None, now())
    session.add(row)
    await session.flush()
    return _pair(user, row)


async def refresh(session: AsyncSession, token: str) -> TokenPair:
    """Rotate a refresh token; a reused old one revokes its family, unless it is a grace retry."""
    token_id = parse_refresh_token(token)
    if token_id is None:
        raise errors.invalid_refresh_token()
    at = now()
    row = (
        await session.execute(
            select(RefreshToken).where(RefreshToken.id == token_id).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= at:
        raise errors.invalid_refresh_token()
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise errors.user_deactivated()
    if row.used_at is None:
        child = _new_refresh_row(user, row.family_id, row.id, at)
        session.add(child)
        row.used_at = at
        row.replaced_by_id = child.id
        await session.flush()
        return _pair(user, child)
    issued = await session.get(RefreshToken, row.replaced_by_id) if row.replaced_by_id else None
    grace = timedelta(seconds=get_settings().refresh_grace_s)
    if (
        issued is not None
        and issued.used_at is None
        and issued.revoked_at is None
        and at - row.used_at <= grace
    ):
        # The client lost our previous answer: give it the very same pair again.
        return _pair(user, issued)
    await _revoke(session, RefreshToken.family_id == row.family_id, at)
    # Committed here, not at the edge: the request answers 401, and the edge rolls back what
    # a failed request wrote, but the revocation of the stolen sign-in must hold.
    await session.commit()
    raise errors.refresh_token_reused()


async def logout(session: AsyncSession, token: str) -> None:
    """Revoke the whole family of a refresh token; unknown tokens are ignored (idempotent)."""
    token_id = parse_refresh_token(token)
    if token_id is None:
        return
    row = await session.get(RefreshToken, token_id)
    if row is not None:
        await _revoke(session, RefreshToken.family_id == row.family_id, now())


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revoke every refresh token of a user (caller commits)."""
    await _revoke(session, RefreshToken.user_id == user_id, now())


async def _revoke(session: AsyncSession, condition: ColumnElement[bool], at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(condition, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )

"""Login, refresh-token rotation with reuse detection and a grace window, logout."""

import ipaddress
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import denylist, errors
from app.auth.models import RefreshToken
from app.auth.passwords import hash_password_async, needs_rehash, verify_password_async
from app.auth.schemas import TokenPair
from app.auth.tokens import encode_access_token, encode_refresh_token, parse_refresh_token
from app.config import get_settings
from app.core.clock import now
from app.core.redis import get_redis
from app.org.models import User


def _client_key(client_ip: str) -> str:
    """The address a limit counts: an IPv6 client by its /64 (one subscriber's whole block)."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _login_keys(client_ip: str, username: str) -> tuple[str, str, str]:
    """(client and e-mail, client, e-mail) rate-limit keys of a sign-in."""
    client = _client_key(client_ip)
    account = username.strip().lower()
    return (
        f"outfield:login:{client}:{account}",
        f"outfield:login-client:{client}",
        f"outfield:login-account:{account}",
    )


async def check_login_rate(client_ip: str, username: str) -> None:
    """Count a sign-in attempt against three limits, each per window; 429 with Retry-After
    when one is exceeded: attempts per (client, e-mail), and failed attempts per client (any
    e-mail: one password sprayed over many accounts) and per e-mail (any client: one account
    guessed from many addresses). Every attempt counts up front, atomically (concurrent
    guesses cannot slip through), and a successful one is taken back off the failure counts
    (`forgive_login`). `client_ip` is the client as `OUTFIELD_TRUSTED_PROXIES` says."""
    settings = get_settings()
    window = settings.login_rate_window_s
    keys = _login_keys(client_ip, username)
    limits = (
        settings.login_rate_limit,
        settings.login_client_failure_limit,
        settings.login_account_failure_limit,
    )
    async with get_redis().pipeline(transaction=True) as pipe:
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
            pipe.ttl(key)
        results = await pipe.execute()
    exceeded = [
        max(int(ttl), 1)
        for (count, _, ttl), limit in zip(
            (results[i : i + 3] for i in range(0, len(results), 3)), limits, strict=True
        )
        if count > limit
    ]
    if exceeded:
        raise errors.login_rate_limited(max(exceeded))


async def forgive_login(client_ip: str, username: str) -> None:
    """A sign-in succeeded: it is no failure of its client or account (see check_login_rate)."""
    _, client_key, account_key = _login_keys(client_ip, username)
    redis = get_redis()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.decr(client_key)
        pipe.decr(account_key)
        counts = await pipe.execute()
    # A key that expired in between was re-created by DECR, without a TTL: drop it.
    stale = [key for key, count in zip((client_key, account_key), counts, strict=True) if count < 0]
    if stale:
        await redis.delete(*stale)


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


async def sign_in(session: AsyncSession, client_ip: str, email: str, password: str) -> TokenPair:
    """The token endpoint: the rate limits, then the password flow."""
    await check_login_rate(client_ip, email)
    pair = await login(session, email, password)
    await forgive_login(client_ip, email)
    return pair


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
    await _deny_live_access_tokens(session, row.family_id, at)
    # Committed here, not at the edge: the request answers 401, and the edge rolls back what
    # a failed request wrote, but the revocation of the stolen sign-in must hold.
    await session.commit()
    raise errors.refresh_token_reused()


async def logout(session: AsyncSession, token: str) -> None:
    """Revoke the whole family of a refresh token and the access tokens issued with it that
    are still alive; unknown tokens are ignored (idempotent)."""
    token_id = parse_refresh_token(token)
    if token_id is None:
        return
    row = await session.get(RefreshToken, token_id)
    if row is not None:
        at = now()
        await _revoke(session, RefreshToken.family_id == row.family_id, at)
        await _deny_live_access_tokens(session, row.family_id, at)


async def _deny_live_access_tokens(
    session: AsyncSession, family_id: uuid.UUID, at: datetime
) -> None:
    """Put every access token of a sign-in that has not expired yet on the deny-list (each
    refresh-token row remembers the `jti` of the access token issued with it)."""
    lifetime = timedelta(seconds=get_settings().access_token_ttl_s)
    rows = await session.execute(
        select(RefreshToken.access_jti, RefreshToken.issued_at).where(
            RefreshToken.family_id == family_id, RefreshToken.issued_at > at - lifetime
        )
    )
    await denylist.deny(((jti, issued_at + lifetime) for jti, issued_at in rows), at)


async def revoke_user_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Revoke every refresh token of a user (caller commits)."""
    await _revoke(session, RefreshToken.user_id == user_id, now())


async def _revoke(session: AsyncSession, condition: ColumnElement[bool], at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(condition, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )

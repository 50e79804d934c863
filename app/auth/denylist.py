"""Access tokens revoked before they expire (sign-out, a stolen sign-in): a deny-list in Redis.

One key per token id (`jti`), living exactly as long as the token would: after that the token
is refused as expired anyway. Password change and deactivation need no entry here: they bump
the user's `token_version`, which the caller lookup already compares.
"""

import math
import uuid
from collections.abc import Iterable
from datetime import datetime

from app.core.redis import get_redis

_PREFIX = "outfield:revoked-access:"


def _key(jti: uuid.UUID) -> str:
    return _PREFIX + jti.hex


async def deny(tokens: Iterable[tuple[uuid.UUID, datetime]], at: datetime) -> None:
    """Deny each (jti, expires_at) until it expires; tokens already expired are skipped."""
    entries = [(jti, math.ceil((expires_at - at).total_seconds())) for jti, expires_at in tokens]
    entries = [(jti, ttl) for jti, ttl in entries if ttl > 0]
    if not entries:
        return
    async with get_redis().pipeline(transaction=False) as pipe:
        for jti, ttl in entries:
            pipe.set(_key(jti), "1", ex=ttl)
        await pipe.execute()


async def is_denied(jti: uuid.UUID) -> bool:
    """True when the access token with this id was revoked (one Redis EXISTS)."""
    return bool(await get_redis().exists(_key(jti)))

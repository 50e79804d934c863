"""Housekeeping: heartbeat, purge expired idempotency records and dead refresh tokens."""

from datetime import timedelta

from sqlalchemy import delete, or_

from app.auth.models import RefreshToken
from app.core.clock import now
from app.core.idempotency_models import IdempotencyRecord
from app.db import rowcount, session_factory, table_of
from app.ops.service import write_heartbeat

# Revoked or used tokens are kept a while so reuse is still detected, then purged.
DEAD_TOKEN_RETENTION = timedelta(days=7)
BATCH = 5000


async def housekeeping(counts: dict[str, int]) -> None:
    """One run: heartbeat, then bounded-batch deletes until nothing is left to purge."""
    at = now()
    await write_heartbeat(at)
    counts.update(idempotency_purged=0, refresh_tokens_purged=0)
    async with session_factory()() as session:
        while True:
            expired = delete(IdempotencyRecord).where(
                IdempotencyRecord.scope.in_(
                    table_of(IdempotencyRecord)
                    .select()
                    .with_only_columns(IdempotencyRecord.scope)
                    .where(IdempotencyRecord.expires_at <= at)
                    .limit(BATCH)
                    .scalar_subquery()
                )
            )
            purged = rowcount(await session.execute(expired))
            await session.commit()
            counts["idempotency_purged"] += purged
            if purged < BATCH:
                break
        cutoff = at - DEAD_TOKEN_RETENTION
        while True:
            dead = delete(RefreshToken).where(
                RefreshToken.id.in_(
                    table_of(RefreshToken)
                    .select()
                    .with_only_columns(RefreshToken.id)
                    .where(or_(RefreshToken.expires_at <= at, RefreshToken.revoked_at <= cutoff))
                    .limit(BATCH)
                    .scalar_subquery()
                )
            )
            purged = rowcount(await session.execute(dead))
            await session.commit()
            counts["refresh_tokens_purged"] += purged
            if purged < BATCH:
                break
    counts["examined"] = counts["idempotency_purged"] + counts["refresh_tokens_purged"]

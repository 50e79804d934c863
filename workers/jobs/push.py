"""Push delivery: claim due notifications, send to each active device, record every attempt.

`push_state` of a notification: pending → sending (claimed by one worker; `push_after` is
then the claim's lease) → sent | no_devices | failed | dead, or back to pending with
`push_after` = the next try (exponential backoff with jitter, at least the provider's
Retry-After). A `sending` row whose lease ran out (its worker died) is due again.
"""

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.core.clock import now
from app.db import session_factory
from app.notifications.models import Device, Notification, PushAttempt
from app.notifications.push import Connection, Providers, providers
from app.notifications.push.common import PushMessage, PushResult, PushTarget
from app.notifications.push.rules import backoff_seconds, notification_outcome
from app.org.models import User

BATCH = 100
# Bounds one run well inside arq's 10-minute job timeout; the next run picks up the rest.
MAX_BATCHES_PER_RUN = 50
RUN_BUDGET_S = 300.0
# Longer than a batch can take (100 notifications, 20 sends at a time, 10 s timeouts).
CLAIM_LEASE = timedelta(minutes=10)
SEND_CONCURRENCY = 20
COUNTS = ("examined", "attempts", "sent", "retried", "dead", "failed", "no_devices", "deactivated")


@dataclass(frozen=True)
class Claimed:
    """A notification this run owns until `lease_until`, and its try number."""

    id: uuid.UUID
    company_id: uuid.UUID
    user_id: uuid.UUID
    message: PushMessage
    attempt: int
    skip_devices: frozenset[uuid.UUID]


async def _reclaim_expired(session: AsyncSession, at: datetime) -> None:
    """Claims whose worker died before finishing become due again."""
    await session.execute(
        update(Notification)
        .where(Notification.push_state == "sending", Notification.push_after <= at)
        .values(push_state="pending")
        .execution_options(synchronize_session=False)
    )


async def _claim(session: AsyncSession, at: datetime, lease_until: datetime) -> list[Any]:
    """Take up to BATCH due notifications; rows another worker holds are skipped, not waited on."""
    due = (
        select(Notification.id)
        .where(
            Notification.push_state == "pending",
            or_(Notification.push_after.is_(None), Notification.push_after <= at),
        )
        .order_by(Notification.created_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(Notification)
        .where(Notification.id.in_(due.scalar_subquery()))
        .values(push_state="sending", push_after=lease_until)
        .returning(
            Notification.id,
            Notification.company_id,
            Notification.user_id,
            Notification.kind,
            Notification.title,
            Notification.body,
            Notification.deep_link,
            Notification.data,
        )
        .execution_options(synchronize_session=False)
    )
    return list(await session.execute(claim))


async def _with_history(session: AsyncSession, rows: Sequence[Any]) -> list[Claimed]:
    """Attach each claimed row's try number and the devices that already failed for good."""
    history = await session.execute(
        select(
            PushAttempt.notification_id,
            func.max(PushAttempt.attempt),
            func.array_agg(PushAttempt.device_id).filter(PushAttempt.outcome == "failed"),
        )
        .where(PushAttempt.notification_id.in_([row.id for row in rows]))
        .group_by(PushAttempt.notification_id)
    )
    previous = {row[0]: (row[1], frozenset(row[2] or ())) for row in history}
    claimed = []
    for row in rows:
        tries, failed = previous.get(row.id, (0, frozenset()))
        message = PushMessage.of(row.id, row.kind, row.title, row.body, row.deep_link, row.data)
        claimed.append(Claimed(row.id, row.company_id, row.user_id, message, tries + 1, failed))
    return claimed


async def _active_devices(
    session: AsyncSession, claimed: Sequence[Claimed]
) -> dict[uuid.UUID, list[PushTarget]]:
    """The active devices of each claimed notification's (still active) user."""
    owners = {(item.user_id, item.company_id) for item in claimed}
    rows = await session.execute(
        select(Device.id, Device.user_id, Device.platform, Device.token, Device.keys)
        .join(User, User.id == Device.user_id)
        .where(
            Device.active,
            User.is_active,
            tuple_(Device.user_id, Device.company_id).in_(list(owners)),
        )
        .order_by(Device.created_at)
    )
    devices: dict[uuid.UUID, list[PushTarget]] = {}
    for row in rows:
        target = PushTarget(row.id, row.platform, row.token, row.keys or {})
        devices.setdefault(row.user_id, []).append(target)
    return devices


async def _send(
    push: Providers, connection: Connection, work: list[tuple[Claimed, PushTarget]]
) -> list[PushResult]:
    """Every (notification, device) send of a batch, at most SEND_CONCURRENCY at a time."""
    gate = asyncio.Semaphore(SEND_CONCURRENCY)

    async def one(item: Claimed, target: PushTarget) -> PushResult:
        async with gate:
            return await push.send(connection, target, item.message)

    return list(await asyncio.gather(*(one(item, target) for item, target in work)))


async def _deactivate(
    session: AsyncSession, invalid: dict[uuid.UUID, str], claimed_at: datetime
) -> int:
    """Deactivate devices whose token the provider rejected (unless re-registered meanwhile)."""
    deactivated = 0
    for device_id, reason in invalid.items():  # rare: one statement each is fine
        result = await session.execute(
            update(Device)
            .where(Device.id == device_id, Device.active, Device.updated_at <= claimed_at)
            .values(active=False, deactivated_reason=reason[:200])
            .execution_options(synchronize_session=False)
        )
        deactivated += result.rowcount
    return deactivated


async def _record(
    session: AsyncSession,
    claimed: list[Claimed],
    work: list[tuple[Claimed, PushTarget]],
    results: list[PushResult],
    claimed_at: datetime,
    lease_until: datetime,
    counts: dict[str, int],
) -> None:
    """Write the attempts, deactivate dead tokens and settle each notification's state."""
    at = now()
    settings = get_settings()
    if work:
        await session.execute(
            insert(PushAttempt),
            [
                {
                    "id": uuid.uuid4(),
                    "notification_id": item.id,
                    "device_id": target.device_id,
                    "attempt": item.attempt,
                    "status_code": result.status_code,
                    "outcome": result.outcome,
                    "error": result.error,
                    "created_at": at,
                }
                for (item, target), result in zip(work, results, strict=True)
            ],
        )
    invalid = {
        target.device_id: f"{target.platform} rejected the token: {result.error or 'invalid'}"
        for (_, target), result in zip(work, results, strict=True)
        if result.outcome == "invalid_token"
    }
    counts["deactivated"] += await _deactivate(session, invalid, claimed_at)
    by_notification: dict[uuid.UUID, list[PushResult]] = {item.id: [] for item in claimed}
    for (item, _), result in zip(work, results, strict=True):
        by_notification[item.id].append(result)
    settled = []
    for item in claimed:
        outcomes = by_notification[item.id]
        state = notification_outcome(
            (r.outcome for r in outcomes), item.attempt, settings.push_max_attempts
        )
        push_after = None
        if state == "pending":
            waits = [r.retry_after_s for r in outcomes if r.retry_after_s is not None]
            delay = backoff_seconds(
                item.attempt, settings.push_backoff_base_s, max(waits) if waits else None
            )
            push_after = at + timedelta(seconds=delay)
        counts[{"pending": "retried"}.get(state, state)] += 1
        settled.append(
            {
                "notification_id": item.id,
                "state": state,
                "after": push_after,
                "pushed": at if state == "sent" else None,
            }
        )
    table = Notification.__table__
    await session.execute(
        table.update()
        .where(
            table.c.id == bindparam("notification_id"),
            table.c.push_state == "sending",
            table.c.push_after == lease_until,
        )
        .values(
            push_state=bindparam("state"),
            push_after=bindparam("after"),
            pushed_at=bindparam("pushed"),
        ),
        settled,
    )


async def deliver_pending_pushes(counts: dict[str, int]) -> None:
    """One run: claim due notifications batch by batch, push each to its user's devices."""
    for key in COUNTS:
        counts.setdefault(key, 0)
    push = providers(get_settings())
    async with push.connect() as connection, session_factory()() as session:
        await _reclaim_expired(session, now())
        await session.commit()
        started = time.monotonic()
        for _ in range(MAX_BATCHES_PER_RUN):
            if time.monotonic() - started > RUN_BUDGET_S:
                break
            claimed_at = now()
            lease_until = claimed_at + CLAIM_LEASE
            rows = await _claim(session, claimed_at, lease_until)
            await session.commit()
            if not rows:
                break
            counts["examined"] += len(rows)
            claimed = await _with_history(session, rows)
            devices = await _active_devices(session, claimed)
            await session.commit()
            work = [
                (item, target)
                for item in claimed
                for target in devices.get(item.user_id, [])
                if target.device_id not in item.skip_devices
            ]
            results = await _send(push, connection, work)
            counts["attempts"] += len(work)
            await _record(session, claimed, work, results, claimed_at, lease_until, counts)
            await session.commit()
            if len(rows) < BATCH:
                break

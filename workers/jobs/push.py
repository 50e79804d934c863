"""Push delivery: the push channel of the outbox runner (app/notifications/delivery.py).

The runner claims, leases, sends and settles; this module says what is particular to push:
a notification goes to each active device of its (still active) user, every attempt is
recorded, tokens the provider rejects are deactivated, and the devices' outcomes decide the
notification's `push_state`: pending → sending (leased; `push_after` is then the lease
expiry) → sent | no_devices | failed | dead, or back to pending with `push_after` = the next
try (doubling from OUTFIELD_PUSH_BACKOFF_BASE_S, jittered, at least the provider's
Retry-After). A `sending` row whose lease ran out (its worker died) is due again.
"""

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings, get_settings
from app.db import rowcount, table_of
from app.notifications import delivery
from app.notifications.delivery import Lease, Limits, Settlement, Settling
from app.notifications.models import Device, Notification, PushAttempt
from app.notifications.push import Connection, providers
from app.notifications.push.common import PushMessage, PushResult, PushTarget
from app.notifications.push.rules import backoff_rule, notification_outcome
from app.org.models import User

BATCH = 100
# Bounds one run well inside arq's 10-minute job timeout; the next run picks up the rest.
MAX_BATCHES_PER_RUN = 50
RUN_BUDGET_S = 300.0
# Longer than a batch can take (100 notifications, 20 sends at a time, 10 s timeouts).
CLAIM_LEASE = timedelta(minutes=10)
SEND_CONCURRENCY = 20
COUNTS = ("examined", "attempts", "sent", "retried", "dead", "failed", "no_devices", "deactivated")

_table = table_of(Notification)


@dataclass(frozen=True)
class Claimed:
    """A notification this run holds the lease of, its try number and where it goes."""

    id: uuid.UUID
    company_id: uuid.UUID
    user_id: uuid.UUID
    message: PushMessage
    attempt: int
    skip_devices: frozenset[uuid.UUID]
    devices: tuple[PushTarget, ...] = ()


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
        deactivated += rowcount(result)
    return deactivated


class PushChannel(delivery.Channel[Claimed, PushResult]):
    """Notifications to their users' devices through FCM, APNs and Web Push."""

    name = "push"
    table = _table
    state_column = _table.c.push_state
    due_column = _table.c.push_after
    leased_state = "sending"
    counts = COUNTS

    def __init__(self, settings: Settings, limits: Limits) -> None:
        super().__init__(limits, backoff_rule(settings.push_backoff_base_s))
        self.max_attempts = settings.push_max_attempts
        self.push = providers(settings)

    def waiting_due(self, at: datetime) -> ColumnElement[bool]:
        """A notification without a `push_after` goes at once."""
        return or_(self.due_column.is_(None), self.due_column <= at)

    def claim_order(self) -> Sequence[ColumnElement[Any]]:
        """Oldest notifications first."""
        return (_table.c.created_at,)

    def claim_returning(self) -> Sequence[Any]:
        """What a push carries, and whose devices it goes to."""
        c = _table.c
        return (c.id, c.company_id, c.user_id, c.kind, c.title, c.body, c.deep_link, c.data)

    def connect(self) -> AbstractAsyncContextManager[Connection]:
        """The run's HTTP clients (a general one, an HTTP/2-only one for APNs)."""
        return self.push.connect()

    async def prepare(
        self, session: AsyncSession, rows: Sequence[Row[Any]], lease: Lease
    ) -> list[Claimed]:
        """Each notification's try number and its user's active devices not failed for good."""
        claimed = await _with_history(session, rows)
        devices = await _active_devices(session, claimed)
        return [
            replace(
                item,
                devices=tuple(
                    target
                    for target in devices.get(item.user_id, [])
                    if target.device_id not in item.skip_devices
                ),
            )
            for item in claimed
        ]

    def targets(self, item: Claimed) -> Sequence[PushTarget]:
        """The devices to push to."""
        return item.devices

    async def send(self, connection: Connection, item: Claimed, target: PushTarget) -> PushResult:
        """One attempt at one device."""
        return await self.push.send(connection, target, item.message)

    async def record(
        self,
        session: AsyncSession,
        sent: Sequence[tuple[Claimed, PushTarget, PushResult]],
        lease: Lease,
        at: datetime,
        counts: dict[str, int],
    ) -> None:
        """Write every attempt and deactivate the tokens the providers rejected."""
        counts["attempts"] += len(sent)
        if sent:
            await session.execute(
                insert(PushAttempt),
                [
                    {
                        "id": uuid.uuid4(),
                        "company_id": item.company_id,
                        "notification_id": item.id,
                        "device_id": target.device_id,
                        "attempt": item.attempt,
                        "status_code": result.status_code,
                        "outcome": result.outcome,
                        "error": result.error,
                        "created_at": at,
                    }
                    for item, target, result in sent
                ],
            )
        invalid = {
            target.device_id: f"{target.platform} rejected the token: {result.error or 'invalid'}"
            for _, target, result in sent
            if result.outcome == "invalid_token"
        }
        counts["deactivated"] += await _deactivate(session, invalid, lease.taken_at)

    def settle(self, item: Claimed, results: list[PushResult], settling: Settling) -> Settlement:
        """The notification's push_state from its devices' outcomes; a retry after a backoff."""
        state = notification_outcome((r.outcome for r in results), item.attempt, self.max_attempts)
        push_after = None
        if state == "pending":
            waits = [r.retry_after_s for r in results if r.retry_after_s is not None]
            push_after = settling.retry_at(item.attempt, max(waits) if waits else None)
        values = {
            "push_state": state,
            "push_after": push_after,
            "pushed_at": settling.at if state == "sent" else None,
        }
        return Settlement({"pending": "retried"}.get(state, state), values)


def channel() -> PushChannel:
    """The push channel with this module's limits and the current settings."""
    limits = Limits(
        batch=BATCH,
        concurrency=SEND_CONCURRENCY,
        lease=CLAIM_LEASE,
        budget_s=RUN_BUDGET_S,
        max_batches=MAX_BATCHES_PER_RUN,
    )
    return PushChannel(get_settings(), limits)


async def deliver_pending_pushes(counts: dict[str, int]) -> None:
    """One run: claim due notifications batch by batch, push each to its user's devices."""
    await delivery.run(channel(), counts)

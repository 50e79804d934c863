"""One delivery runner for every outbox: push notifications and webhook deliveries.

Why one: both outboxes need the same delicate parts — claim rows so that two workers never
take the same one, get a dead worker's rows back, never let a late result overwrite a newer
one, retry with backoff, and stay inside the job's time budget. They are written once here;
a `Channel` says only what is particular to its outbox: which table and rows, how to send one
item, what a result settles to, and the parameters of its retry schedule.

The lease is encoded the same way for every channel, with the columns the outboxes already
have (no lease column, so no migration): the claim sets the row's due-time column
(`push_after`, `next_attempt_at`) to the lease expiry and its state column to the channel's
leased state (push: `sending`; a webhook delivery has no such state in its API and stays
`pending` — a pending row due only at the expiry is not due before it). The expiry is also the
lease token: a result is settled by `UPDATE … WHERE id = :id AND state = <leased> AND due =
<our expiry>`. Another worker can claim the row only once that expiry has passed, and its own
expiry is later still, so two claims of a row never share a token: once the row is claimed
again, the first worker's late result matches nothing and is dropped.
"""

import asyncio
import itertools
import logging
import random
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import Column, ColumnElement, Row, Table, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.db import rowcount, session_factory

log = logging.getLogger("outfield.delivery")

# 2.0 ** 1000 is still a float; every schedule's longest delay is reached far sooner.
MAX_DOUBLINGS = 1000


@dataclass(frozen=True)
class Backoff:
    """A retry schedule: `first_s` doubling per try up to `longest_s`, times a random factor
    in [`jitter_low`, `jitter_high`), and at least a Retry-After up to `max_retry_after_s`
    (0: Retry-After is not honoured)."""

    first_s: float
    longest_s: float
    jitter_low: float
    jitter_high: float
    max_retry_after_s: float = 0.0


def backoff_delay(
    tries: int,
    rule: Backoff,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after `tries` tries, by the one backoff rule with `rule`'s parameters."""
    doublings = min(max(tries, 1) - 1, MAX_DOUBLINGS)
    ceiling = min(rule.first_s * 2.0**doublings, rule.longest_s)
    spread = rule.jitter_high - rule.jitter_low
    delay = ceiling * (rule.jitter_low + spread * (rng or random).random())
    if retry_after_s is not None and rule.max_retry_after_s > 0:
        delay = max(delay, min(retry_after_s, rule.max_retry_after_s))
    return delay


@dataclass(frozen=True)
class Limits:
    """How much one run takes on: rows per claim, sends at a time, lease length, time budget."""

    batch: int
    concurrency: int
    lease: timedelta
    budget_s: float
    max_batches: int | None = None  # None: claim until there is no work or no time


@dataclass(frozen=True)
class Lease:
    """One claimed batch: when it was taken, and until when it is ours (also its token)."""

    taken_at: datetime
    until: datetime


@dataclass(frozen=True)
class Settlement:
    """What one row's try came to: the `counts` key to bump and the columns to write."""

    count: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Settling:
    """The moment a batch's results are settled, with the channel's retry schedule."""

    at: datetime
    backoff: Backoff

    def retry_at(self, tries: int, retry_after_s: float | None = None) -> datetime:
        """When to try again after `tries` tries (at least `retry_after_s` from now)."""
        return self.at + timedelta(seconds=backoff_delay(tries, self.backoff, retry_after_s))


class Item(Protocol):
    """A claimed row as its channel prepared it; the runner only needs its id."""

    @property
    def id(self) -> uuid.UUID: ...


ItemT = TypeVar("ItemT", bound=Item)
ResultT = TypeVar("ResultT")


class Channel(ABC, Generic[ItemT, ResultT]):
    """One outbox as the runner sees it; everything channel-specific lives in a subclass.

    A row is waiting in `ready_state` until `due` says so, leased in `leased_state` with the
    lease expiry in `due_column`, and settled by the columns `settle` returns. Each claimed
    row becomes an item (`prepare`), sent once per target (`targets`, `send`).
    """

    name: ClassVar[str]
    table: ClassVar[Table]
    state_column: ClassVar[Column[Any]]
    due_column: ClassVar[Column[Any]]
    leased_state: ClassVar[str]
    ready_state: ClassVar[str] = "pending"
    # Keys of `counts` this channel reports; "examined" (rows claimed) is the runner's.
    counts: ClassVar[tuple[str, ...]]

    def __init__(self, limits: Limits, backoff: Backoff) -> None:
        self.limits = limits
        self.backoff = backoff

    def waiting_due(self, at: datetime) -> ColumnElement[bool]:
        """Whether a row in `ready_state` is due at `at` (default: its due time has come)."""
        return self.due_column <= at

    @abstractmethod
    def claim_order(self) -> Sequence[ColumnElement[Any]]:
        """The order due rows are claimed in."""

    def claim_joins(self) -> Sequence[ColumnElement[bool]]:
        """Join conditions of other tables the claim returns columns of (UPDATE … FROM)."""
        return ()

    @abstractmethod
    def claim_returning(self) -> Sequence[Any]:
        """The columns the claim returns for each row (the table's `id` first)."""

    @abstractmethod
    def connect(self) -> AbstractAsyncContextManager[Any]:
        """Open what a run sends with (HTTP clients); it is passed to every `send`."""

    @abstractmethod
    async def prepare(
        self, session: AsyncSession, rows: Sequence[Row[Any]], lease: Lease
    ) -> list[ItemT]:
        """The items of a claimed batch, one per row, in order (may read more from the database)."""

    @abstractmethod
    def targets(self, item: ItemT) -> Sequence[Any]:
        """Where one item goes: one send per target (none: nothing to send)."""

    @abstractmethod
    async def send(self, connection: Any, item: ItemT, target: Any) -> ResultT:
        """One send of an item to one target; never raises (a failure is a result)."""

    async def record(
        self,
        session: AsyncSession,
        sent: Sequence[tuple[ItemT, Any, ResultT]],
        lease: Lease,
        at: datetime,
        counts: dict[str, int],
    ) -> None:
        """Write what the sends did besides settling the rows (history); default: nothing."""

    @abstractmethod
    def settle(self, item: ItemT, results: list[ResultT], settling: Settling) -> Settlement:
        """What the item's row becomes after this try, from the results of its sends."""


def _due(channel: Channel[Any, Any], at: datetime) -> ColumnElement[bool]:
    """Rows to claim: waiting ones that are due, and leased ones whose lease has run out."""
    state, due = channel.state_column, channel.due_column
    waiting = and_(state == channel.ready_state, channel.waiting_due(at))
    if channel.leased_state == channel.ready_state:
        return waiting  # a lease is a due time in the future: it runs out by becoming due
    return or_(waiting, and_(state == channel.leased_state, due <= at))


def _held(channel: Channel[Any, Any], lease: Lease) -> ColumnElement[bool]:
    """Rows still leased with this lease (the fence of every settle)."""
    return and_(channel.state_column == channel.leased_state, channel.due_column == lease.until)


async def _claim(session: AsyncSession, channel: Channel[Any, Any], lease: Lease) -> list[Row[Any]]:
    """Lease up to a batch of due rows; rows another worker holds are skipped, not waited on."""
    table = channel.table
    due = (
        select(table.c.id)
        .where(_due(channel, lease.taken_at))
        .order_by(*channel.claim_order())
        .limit(channel.limits.batch)
        .with_for_update(skip_locked=True)
    )
    leased: dict[str, Any] = {channel.due_column.key: lease.until}
    if channel.leased_state != channel.ready_state:
        leased[channel.state_column.key] = channel.leased_state
    claim = (
        table.update()
        .where(table.c.id.in_(due.scalar_subquery()), *channel.claim_joins())
        .values(leased)
        .returning(*channel.claim_returning())
    )
    return list(await session.execute(claim))


async def _send_all(
    channel: Channel[ItemT, ResultT], connection: Any, items: Sequence[ItemT]
) -> list[list[tuple[Any, ResultT]]]:
    """Every send of a batch, at most `concurrency` at a time; (target, result)s per item."""
    gate = asyncio.Semaphore(channel.limits.concurrency)
    work = [(index, target) for index, item in enumerate(items) for target in channel.targets(item)]

    async def one(item: ItemT, target: Any) -> ResultT:
        async with gate:
            return await channel.send(connection, item, target)

    results = await asyncio.gather(*(one(items[index], target) for index, target in work))
    sent: list[list[tuple[Any, ResultT]]] = [[] for _ in items]
    for (index, target), result in zip(work, results, strict=True):
        sent[index].append((target, result))
    return sent


async def _settle(
    session: AsyncSession,
    channel: Channel[ItemT, ResultT],
    items: Sequence[ItemT],
    sent: Sequence[list[tuple[Any, ResultT]]],
    lease: Lease,
    counts: dict[str, int],
) -> int:
    """Record the sends and settle each row while the lease is ours; the number it was not."""
    settling = Settling(now(), channel.backoff)
    history = [
        (item, target, result)
        for item, pairs in zip(items, sent, strict=True)
        for target, result in pairs
    ]
    await channel.record(session, history, lease, settling.at, counts)
    table, lost = channel.table, 0
    for item, pairs in zip(items, sent, strict=True):
        settlement = channel.settle(item, [result for _, result in pairs], settling)
        applied = await session.execute(
            table.update()
            .where(table.c.id == item.id, _held(channel, lease))
            .values(settlement.values)
        )
        lost += 1 - rowcount(applied)
        counts[settlement.count] += 1
    if lost:
        log.warning(
            "%s: %d result(s) dropped, their lease had run out and another worker took them",
            channel.name,
            lost,
        )
    return lost


@dataclass
class RunSummary:
    """What one run did: batches and rows claimed, and results dropped for a lost lease."""

    batches: int = 0
    claimed: int = 0
    lost: int = 0


async def run(channel: Channel[Any, Any], counts: dict[str, int]) -> RunSummary:
    """One run of a channel: claim, send and settle batch by batch until no work or no time."""
    for key in ("examined", *channel.counts):
        counts.setdefault(key, 0)
    limits, summary = channel.limits, RunSummary()
    batches = itertools.count() if limits.max_batches is None else range(limits.max_batches)
    started = time.monotonic()
    async with channel.connect() as connection, session_factory()() as session:
        for _ in batches:
            if time.monotonic() - started >= limits.budget_s:
                break
            taken_at = now()
            lease = Lease(taken_at, taken_at + limits.lease)
            rows = await _claim(session, channel, lease)
            await session.commit()  # the lease holds before anything is sent
            if not rows:
                break
            counts["examined"] += len(rows)
            summary.batches += 1
            summary.claimed += len(rows)
            items = await channel.prepare(session, rows, lease)
            await session.commit()  # no transaction stays open while sending
            sent = await _send_all(channel, connection, items)
            summary.lost += await _settle(session, channel, items, sent, lease, counts)
            await session.commit()
            if len(rows) < limits.batch:
                break
    return summary

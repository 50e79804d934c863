"""Every change of a customer's owner: what each kind writes, and the one publisher.

A transition is one `UPDATE customers … RETURNING` over a set of customers (a claim is a set
of one, the recycle job and a deactivation hand-off are sets of thousands) followed by
`publish`, which writes for every changed customer, in the same transaction: the ownership
event, the feed item, the notifications and the `customer.<kind>` webhook deliveries — each
rendered here, once, whatever path triggered the change. Nothing else writes
`ownership_events`, ownership feed items or `customer.*` ownership webhooks (a test checks).
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    Update,
    Uuid,
    bindparam,
    func,
    null,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.customers.clock import check_expression, clock_expressions
from app.customers.models import Collaborator, Customer
from app.db import table_of
from app.feed.publish import actor_name, publish_items
from app.notifications.inbox import service as notifications
from app.notifications.webhooks.service import enqueue_events

CUSTOMERS = table_of(Customer)
AWARE = DateTime(timezone=True)


@dataclass(frozen=True)
class Transition:
    """One kind of owner change."""

    kind: str
    owned: bool  # the customer has an owner afterwards
    notice: str | None  # the notification kind, if the people concerned are told
    webhook: bool  # a `customer.<kind>` webhook event


TRANSITIONS = {
    t.kind: t
    for t in (
        Transition("created", owned=True, notice=None, webhook=False),
        Transition("claimed", owned=True, notice="customer_claimed", webhook=True),
        Transition("assigned", owned=True, notice="customer_transferred_to_you", webhook=True),
        Transition("transferred", owned=True, notice="customer_transferred_to_you", webhook=True),
        Transition("released", owned=False, notice="customer_released", webhook=True),
        Transition("recycled", owned=False, notice="customer_recycled", webhook=True),
    )
}


def _values(transition: Transition) -> dict[str, Any]:
    """The columns a transition sets. Parameters: `at`; an owned kind `to_user_id`; a
    release `pool_id` and `reason` (a recycle keeps the pool and gives the clock's reason)."""
    c = CUSTOMERS.c
    at = bindparam("at", type_=AWARE)
    common: dict[str, Any] = {
        "recycle_warning_for": null(),
        "updated_at": at,
        "version": c.version + 1,
    }
    if transition.owned:
        to_user = bindparam("to_user_id", type_=Uuid())
        recycle_at, reason = clock_expressions(owner_id=to_user, claimed_at=at)
        values = {
            "owner_id": to_user,
            "claimed_at": at,
            "recycle_at": recycle_at,
            "recycle_reason": reason,
            "recycle_check_at": check_expression(recycle_at),
            "pooled_at": null(),
            "pool_entry_kind": null(),
            "pool_reason": null(),
        }
        # A claim keeps the name of who had it last: they are the one told it was claimed.
        if transition.kind != "claimed":
            values["previous_owner_id"] = c.owner_id
        return {**common, **values}
    if transition.kind == "released":
        # No pool named: the customer stays with the pool that governs it.
        pool_id: ColumnElement[uuid.UUID] = func.coalesce(
            bindparam("to_pool_id", type_=Uuid()), c.pool_id
        )
        reason = bindparam("reason", type_=String())
    else:
        pool_id, reason = c.pool_id, c.recycle_reason
    return {
        **common,
        "owner_id": null(),
        "previous_owner_id": c.owner_id,
        "pool_id": pool_id,
        "claimed_at": null(),
        "recycle_at": null(),
        "recycle_reason": null(),
        "recycle_check_at": null(),
        "pooled_at": at,
        "pool_entry_kind": transition.kind,
        "pool_reason": reason,
    }


def statement(kind: str, where: ColumnElement[bool]) -> Update:
    """The UPDATE of a transition over the customers `where` selects (live ones only), with
    the RETURNING that `publish` reads. Build it once per shape; bind values per call (a
    condition on another table or CTE makes it an UPDATE … FROM)."""
    c = CUSTOMERS.c
    return (
        update(CUSTOMERS)
        .where(where, c.deleted_at.is_(None))
        .values(_values(TRANSITIONS[kind]))
        .returning(
            c.id, c.company_id, c.name, c.pool_id, c.owner_id, c.previous_owner_id, c.pool_reason
        )
    )


@dataclass(frozen=True)
class Changed:
    """A customer just changed (a RETURNING row of `statement`, or a new customer)."""

    id: uuid.UUID
    company_id: uuid.UUID
    name: str
    pool_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    previous_owner_id: uuid.UUID | None
    pool_reason: str | None

    @classmethod
    def of(cls, customer: Customer) -> "Changed":
        """A customer row already written (a new customer)."""
        return cls(
            customer.id,
            customer.company_id,
            customer.name,
            customer.pool_id,
            customer.owner_id,
            customer.previous_owner_id,
            customer.pool_reason,
        )


@dataclass(frozen=True)
class Published:
    """What `publish` recorded for one customer."""

    customer_id: uuid.UUID
    event_id: uuid.UUID
    from_user_id: uuid.UUID | None
    to_user_id: uuid.UUID | None
    reason: str | None  # the actor's (owned kinds) or the pool entry's (pooled kinds)


_INSERT_EVENTS = text("""
INSERT INTO ownership_events (id, company_id, customer_id, kind, from_user_id, to_user_id,
                              actor_id, pool_id, reason, created_at)
SELECT e.id, e.company_id, e.customer_id, :kind, e.from_user_id, e.to_user_id, :actor_id,
       e.pool_id, e.reason, :at
FROM unnest(CAST(:ids AS uuid[]), CAST(:company_ids AS uuid[]), CAST(:customer_ids AS uuid[]),
            CAST(:from_user_ids AS uuid[]), CAST(:to_user_ids AS uuid[]),
            CAST(:pool_ids AS uuid[]), CAST(:reasons AS text[]))
     AS e(id, company_id, customer_id, from_user_id, to_user_id, pool_id, reason)
""")


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


async def _collaborators(
    session: AsyncSession, customer_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(
        select(Collaborator.customer_id, Collaborator.user_id).where(
            Collaborator.customer_id.in_(customer_ids)
        )
    )
    people: dict[uuid.UUID, list[uuid.UUID]] = {}
    for customer_id, user_id in rows:
        people.setdefault(customer_id, []).append(user_id)
    return people


def _recipients(
    kind: str, row: Changed, from_user: uuid.UUID | None, collaborators: list[uuid.UUID]
) -> Iterable[uuid.UUID | None]:
    """Who hears of a change: the one who lost it to a claim, the new owner of a transfer,
    the old owner (and, on a release, everyone still working the customer)."""
    if kind == "claimed":
        return [row.previous_owner_id]
    if kind in ("transferred", "assigned"):
        return [row.owner_id]
    if kind == "released":
        return [from_user, *collaborators]
    return [from_user]


async def publish(
    session: AsyncSession,
    kind: str,
    rows: Sequence[Any],
    *,
    at: datetime,
    actor_id: uuid.UUID | None,
    reason: str | None = None,
    notify: bool = True,
) -> list[Published]:
    """Record a set of owner changes of one kind: ownership events, feed items, notifications
    and webhook deliveries, each rendered from the definitions below (caller commits).

    `rows` are `statement`'s RETURNING rows (or `Changed`); `reason` is the actor's reason of
    an owned kind (a pooled kind's reason is the row's `pool_reason`). `notify=False` leaves
    the per-customer notifications out (a hand-off tells the successor once, for the set).
    """
    transition = TRANSITIONS[kind]
    changed = [Changed(*row) if not isinstance(row, Changed) else row for row in rows]
    if not changed:
        return []
    published: list[Published] = []
    events: dict[str, list[Any]] = {
        name: []
        for name in (
            "ids",
            "company_ids",
            "customer_ids",
            "from_user_ids",
            "to_user_ids",
            "pool_ids",
            "reasons",
        )
    }
    for row in changed:
        event_id = uuid.uuid4()
        from_user = None if kind in ("created", "claimed") else row.previous_owner_id
        to_user = row.owner_id
        # The pool it comes from or goes to; none for a change between two people.
        in_pool = row.owner_id is None or kind in ("claimed", "assigned")
        change = Published(
            row.id, event_id, from_user, to_user, reason if transition.owned else row.pool_reason
        )
        for name, value in (
            ("ids", event_id),
            ("company_ids", row.company_id),
            ("customer_ids", row.id),
            ("from_user_ids", from_user),
            ("to_user_ids", to_user),
            ("pool_ids", row.pool_id if in_pool else None),
            ("reasons", change.reason),
        ):
            events[name].append(value)
        published.append(change)
    await session.execute(_INSERT_EVENTS, {"kind": kind, "actor_id": actor_id, "at": at, **events})
    if kind == "created":
        return published
    actor_label = await actor_name(session, actor_id)
    by_id = {row.id: row for row in changed}
    await publish_items(
        session,
        kind="ownership",
        subject_type="ownership",
        author_id=actor_id,
        created_at=at,
        items=[
            (
                by_id[p.customer_id].company_id,
                p.event_id,
                p.customer_id,
                feed_summary(kind, by_id[p.customer_id], p, actor_id, actor_label),
            )
            for p in published
        ],
    )
    if transition.webhook:
        await enqueue_events(
            session,
            f"customer.{kind}",
            [
                (
                    by_id[p.customer_id].company_id,
                    p.event_id,
                    webhook_data(p, actor_id),
                )
                for p in published
            ],
            at,
        )
    if notify and transition.notice is not None:
        collaborators = await _collaborators(session, list(by_id)) if kind == "released" else {}
        notices = []
        for p in published:
            row = by_id[p.customer_id]
            params = notice_params(kind, row, p.reason, actor_label)
            for user_id in dict.fromkeys(
                _recipients(kind, row, p.from_user_id, collaborators.get(row.id, []))
            ):
                if user_id is None or user_id == actor_id:
                    continue
                notices.append(
                    {
                        "company_id": row.company_id,
                        "user_id": user_id,
                        "kind": transition.notice,
                        "params": params,
                        "dedupe_key": f"{_dedupe_prefix(kind)}:{p.event_id}",
                        "subject_type": "customer",
                        "subject_id": row.id,
                        "customer_id": row.id,
                        "actor_id": actor_id,
                        "deep_link": f"outfield://customers/{row.id}",
                    }
                )
        await notifications.notify_many(session, notices)
    return published


# ---------- the payloads, defined once ----------


def feed_summary(
    kind: str,
    row: Changed,
    change: Published,
    actor_id: uuid.UUID | None,
    actor_name: str,
) -> dict[str, Any]:
    """The feed item's summary of an owner change."""
    return {
        "author": {"id": _text(actor_id), "name": actor_name},
        "customer": {"id": str(row.id), "name": row.name},
        "change": kind,
        "from_user_id": _text(change.from_user_id),
        "to_user_id": _text(change.to_user_id),
        "reason": change.reason,
    }


def webhook_data(change: Published, actor_id: uuid.UUID | None) -> dict[str, str | None]:
    """The `data` of a `customer.<kind>` webhook event."""
    return {
        "customer_id": str(change.customer_id),
        "from_user_id": _text(change.from_user_id),
        "to_user_id": _text(change.to_user_id),
        "reason": change.reason,
        "actor_id": _text(actor_id),
    }


def notice_params(
    kind: str, row: Changed, reason: str | None, actor_name: str
) -> dict[str, str | None]:
    """The template parameters of an owner-change notification."""
    if kind == "recycled":
        return {"customer": row.name, "reason": reason}
    return {"actor": actor_name, "customer": row.name, "reason": reason or ""}


def _dedupe_prefix(kind: str) -> str:
    return "transferred" if kind == "assigned" else kind

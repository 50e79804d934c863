"""The outbox: what others hear about a business change, written in the change's transaction.

Each publisher adds the feed item, the notifications and the webhook deliveries of one
change. The caller commits; delivery (push, webhooks) happens after commit, in the worker.
"""

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.customers.models import Collaborator, Customer
from app.db import rowcount, table_of
from app.feed.models import FeedComment, FeedItem
from app.notifications.inbox import service as notifications
from app.notifications.webhooks.service import enqueue_event
from app.org.models import User

EXCERPT = 120


def excerpt(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


# Built once (on every record's path); the values come as parameters.
_INSERT_ITEM = (
    insert(table_of(FeedItem))
    .on_conflict_do_nothing(index_elements=["subject_type", "subject_id", "company_id"])
    .returning(table_of(FeedItem).c.id)
)


async def publish_item(
    session: AsyncSession,
    *,
    company_id: uuid.UUID,
    kind: str,
    subject_type: str,
    subject_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    author_id: uuid.UUID | None,
    summary: dict[str, Any],
    created_at: datetime | None = None,
) -> uuid.UUID | None:
    """Add the feed item of a record, once; returns its id when new."""
    item_id: uuid.UUID | None = await session.scalar(
        _INSERT_ITEM,
        {
            "id": uuid.uuid4(),
            "company_id": company_id,
            "kind": kind,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "customer_id": customer_id,
            "author_id": author_id,
            "summary": summary,
            "like_count": 0,
            "comment_count": 0,
            "created_at": created_at or now(),
        },
    )
    return item_id


# Many items of one kind at once (a set of ownership changes): fixed shape over arrays.
_INSERT_ITEMS = text("""
INSERT INTO feed_items (id, company_id, kind, subject_type, subject_id, customer_id, author_id,
                        summary, like_count, comment_count, created_at)
SELECT gen_random_uuid(), i.company_id, :kind, :subject_type, i.subject_id, i.customer_id,
       :author_id, i.summary::jsonb, 0, 0, :created_at
FROM unnest(CAST(:company_ids AS uuid[]), CAST(:subject_ids AS uuid[]),
            CAST(:customer_ids AS uuid[]), CAST(:summaries AS text[]))
     AS i(company_id, subject_id, customer_id, summary)
ON CONFLICT (subject_type, subject_id, company_id) DO NOTHING
""")


async def publish_items(
    session: AsyncSession,
    *,
    kind: str,
    subject_type: str,
    author_id: uuid.UUID | None,
    created_at: datetime,
    items: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None, dict[str, Any]]],
) -> int:
    """Feed items of many records of one kind, once each: (company_id, subject_id,
    customer_id, summary) per item."""
    if not items:
        return 0
    result = await session.execute(
        _INSERT_ITEMS,
        {
            "kind": kind,
            "subject_type": subject_type,
            "author_id": author_id,
            "created_at": created_at,
            "company_ids": [company_id for company_id, _, _, _ in items],
            "subject_ids": [subject_id for _, subject_id, _, _ in items],
            "customer_ids": [customer_id for _, _, customer_id, _ in items],
            "summaries": [json.dumps(summary, ensure_ascii=False) for _, _, _, summary in items],
        },
    )
    return rowcount(result)


SYSTEM_NAME = "Outfield"  # the author of what the system does (recycling, jobs)


async def actor_name(session: AsyncSession, user_id: uuid.UUID | None) -> str:
    """The name a feed item or notification gives its actor (the system when None)."""
    if user_id is None:
        return SYSTEM_NAME
    return await session.scalar(select(User.name).where(User.id == user_id)) or "?"


async def _people_around(
    session: AsyncSession, customer_id: uuid.UUID
) -> tuple[Customer, list[uuid.UUID]]:
    """The customer and everyone working it: owner and collaborators."""
    customer = await session.get_one(Customer, customer_id)
    collaborators = list(
        (
            await session.execute(
                select(Collaborator.user_id).where(Collaborator.customer_id == customer_id)
            )
        ).scalars()
    )
    return customer, [uid for uid in [customer.owner_id, *collaborators] if uid is not None]


@dataclass(frozen=True)
class Around:
    """What a publisher may already know about a record's customer (saves the lookups)."""

    customer_name: str
    people: list[uuid.UUID]  # owner and collaborators
    actor_name: str


async def record_added(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: str,
    record_id: uuid.UUID,
    customer_id: uuid.UUID,
    summary: dict[str, Any],
    event_type: str,
    created_at: datetime,
    known: Around | None = None,
) -> None:
    """A follow-up or check-in: feed item, alert to the customer's people, webhook event."""
    if known is None:
        customer, people = await _people_around(session, customer_id)
        known = Around(customer.name, people, await actor_name(session, principal.user_id))
    actor, people = known.actor_name, known.people
    full = {
        "author": {"id": str(principal.user_id), "name": actor},
        "customer": {"id": str(customer_id), "name": known.customer_name},
        **summary,
    }
    await publish_item(
        session,
        company_id=principal.company_id,
        kind=kind,
        subject_type=kind,
        subject_id=record_id,
        customer_id=customer_id,
        author_id=principal.user_id,
        summary=full,
        created_at=created_at,
    )
    await notifications.notify(
        session,
        company_id=principal.company_id,
        user_ids=people,
        kind="record_on_your_customer",
        params={"actor": actor, "customer": known.customer_name, "record": kind},
        dedupe_key=f"record:{kind}:{record_id}",
        subject_type=kind,
        subject_id=record_id,
        customer_id=customer_id,
        actor_id=principal.user_id,
        deep_link=f"outfield://{kind}s/{record_id}",
    )
    await enqueue_event(
        session,
        principal.company_id,
        event_type,
        {
            "id": str(record_id),
            "customer_id": str(customer_id),
            "user_id": str(principal.user_id),
            **summary,
        },
    )


async def log_added(
    session: AsyncSession,
    principal: Principal,
    log_id: uuid.UUID,
    period: str,
    text: str,
    created_at: datetime,
) -> None:
    """A work log: feed item and webhook event."""
    actor = await actor_name(session, principal.user_id)
    summary = {
        "author": {"id": str(principal.user_id), "name": actor},
        "period": period,
        "text": excerpt(text),
    }
    await publish_item(
        session,
        company_id=principal.company_id,
        kind="log",
        subject_type="log",
        subject_id=log_id,
        customer_id=None,
        author_id=principal.user_id,
        summary=summary,
        created_at=created_at,
    )
    await enqueue_event(
        session,
        principal.company_id,
        "log.created",
        {"id": str(log_id), "user_id": str(principal.user_id), "period": period},
    )


async def collaborator_added(
    session: AsyncSession,
    principal: Principal,
    customer_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
) -> None:
    """A colleague joined the customer: webhook event (the colleague sees it in the customer)."""
    await enqueue_event(
        session,
        principal.company_id,
        "collaborator.added",
        {
            "customer_id": str(customer_id),
            "user_id": str(user_id),
            "role": role,
            "actor_id": str(principal.user_id),
        },
    )


async def comment_created(
    session: AsyncSession,
    principal: Principal,
    item: FeedItem,
    comment: FeedComment,
    parent: FeedComment | None,
) -> None:
    """Notify the item's author, the replied-to author, the mentioned, the customer's people."""
    actor = await actor_name(session, principal.user_id)
    params = {"actor": actor, "subject": item.kind, "excerpt": excerpt(comment.body)}
    common = {
        "company_id": item.company_id,
        "subject_type": "feed_item",
        "subject_id": item.id,
        "customer_id": item.customer_id,
        "actor_id": principal.user_id,
        "deep_link": f"outfield://feed/{item.id}?comment={comment.id}",
    }
    # One notification per person, the most specific that applies: the replied-to author,
    # then the mentioned, then the item's author, then the customer's owner/collaborators.
    chosen: dict[uuid.UUID | None, str] = {}  # a deleted author is None, skipped below
    for kind, user_ids in (
        ("reply", [parent.author_id] if parent is not None else []),
        ("mention", comment.mentions or []),
        ("comment", [item.author_id]),
    ):
        for uid in user_ids:
            chosen.setdefault(uid, kind)
    customer_name = None
    if item.customer_id is not None:
        customer, people = await _people_around(session, item.customer_id)
        customer_name = customer.name
        for uid in people:
            chosen.setdefault(uid, "record_on_your_customer")
    notices = []
    for uid, kind in chosen.items():
        if uid is None or uid == principal.user_id:
            continue
        if kind == "record_on_your_customer":
            notice_params: Mapping[str, str | None] = {
                "actor": actor,
                "customer": customer_name,
                "record": "comment",
            }
            key = f"record:comment:{comment.id}"
        else:
            notice_params, key = params, f"{kind}:{comment.id}"
        notices.append(
            {**common, "user_id": uid, "kind": kind, "params": notice_params, "dedupe_key": key}
        )
    await notifications.notify_many(session, notices)
    await enqueue_event(
        session,
        item.company_id,
        "comment.created",
        {
            "id": str(comment.id),
            "item_id": str(item.id),
            "author_id": str(principal.user_id),
            "parent_id": str(comment.parent_id) if comment.parent_id else None,
        },
    )

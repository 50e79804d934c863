"""The feed: publishing items, reading a page in a fixed number of queries, likes, comments."""

import uuid
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.feed import errors, publish
from app.feed.models import FeedComment, FeedItem, FeedLike
from app.feed.schemas import CommentCreate
from app.feed.visibility import feed_visibility
from app.notifications.inbox import service as notifications
from app.notifications.webhooks.service import enqueue_event
from app.org.models import Department, User

FIRST_COMMENTS = 3


async def visible_item(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, *, lock: bool = False
) -> FeedItem:
    """One visible feed item, or 404."""
    stmt = select(FeedItem).where(FeedItem.id == item_id, feed_visibility(principal))
    if lock:
        stmt = stmt.with_for_update(of=FeedItem)
    item = await session.scalar(stmt)
    if item is None:
        raise not_found("feed item")
    return item


async def list_feed(
    session: AsyncSession, principal: Principal, params: PageParams, filters: dict[str, Any]
) -> tuple[list[FeedItem], str | None, set[uuid.UUID], dict[uuid.UUID, list[Any]]]:
    """A page of the feed: items, which the caller liked, their first comments — 3 queries."""
    stmt = select(FeedItem).where(feed_visibility(principal))
    if filters.get("user_id"):
        stmt = stmt.where(FeedItem.author_id == filters["user_id"])
    if filters.get("customer_id"):
        stmt = stmt.where(FeedItem.customer_id == filters["customer_id"])
    if filters.get("kind"):
        stmt = stmt.where(FeedItem.kind == filters["kind"])
    if filters.get("department_id"):
        prefix = (
            select(Department.path)
            .where(
                Department.id == filters["department_id"],
                Department.company_id == principal.company_id,
            )
            .scalar_subquery()
        )
        in_department = (
            select(User.id)
            .join(Department, Department.id == User.department_id)
            .where(User.company_id == principal.company_id, Department.path.startswith(prefix))
        )
        stmt = stmt.where(FeedItem.author_id.in_(in_department))
    rows = list(
        (await session.execute(paginate(stmt, FeedItem.created_at, FeedItem.id, params))).scalars()
    )
    items, next_cursor = make_page(rows, params)
    ids = [item.id for item in items]
    if not ids:
        return items, next_cursor, set(), {}
    liked = set(
        (
            await session.execute(
                select(FeedLike.item_id).where(
                    FeedLike.item_id.in_(ids), FeedLike.user_id == principal.user_id
                )
            )
        ).scalars()
    )
    return items, next_cursor, liked, await first_comments(session, ids)


async def first_comments(
    session: AsyncSession, item_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    """The oldest few comments of each item with author names, in one query."""
    position = (
        func.row_number()
        .over(partition_by=FeedComment.item_id, order_by=(FeedComment.created_at, FeedComment.id))
        .label("position")
    )
    ranked = (
        select(FeedComment, User.name.label("author_name"), position)
        .join(User, User.id == FeedComment.author_id)
        .where(FeedComment.item_id.in_(item_ids))
        .subquery()
    )
    rows = (
        await session.execute(
            select(ranked)
            .where(ranked.c.position <= FIRST_COMMENTS)
            .order_by(ranked.c.created_at, ranked.c.id)
        )
    ).all()
    grouped: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.item_id, []).append(row)
    return grouped


async def like(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> FeedItem:
    """Like an item (idempotent); the author hears about it in one batched notification."""
    item = await visible_item(session, principal, item_id)
    added = await session.scalar(
        insert(FeedLike)
        .values(
            item_id=item.id,
            user_id=principal.user_id,
            company_id=principal.company_id,
            created_at=now(),
        )
        .on_conflict_do_nothing()
        .returning(FeedLike.user_id)
    )
    if added is not None:
        count = (
            await session.execute(
                update(FeedItem)
                .where(FeedItem.id == item.id)
                .values(like_count=FeedItem.like_count + 1)
                .returning(FeedItem.like_count)
            )
        ).scalar_one()
        likers = list(
            (
                await session.execute(
                    select(User.name)
                    .join(FeedLike, FeedLike.user_id == User.id)
                    .where(FeedLike.item_id == item.id)
                    .order_by(FeedLike.created_at.desc())
                    .limit(3)
                )
            ).scalars()
        )
        await notifications.notify_like(
            session,
            company_id=item.company_id,
            author_id=item.author_id,
            item_id=item.id,
            subject=item.kind,
            likers=likers,
            like_count=count,
            actor_id=principal.user_id,
        )
        await enqueue_event(
            session,
            item.company_id,
            "like.created",
            {"item_id": str(item.id), "user_id": str(principal.user_id), "like_count": count},
        )
    await session.flush()
    await session.refresh(item)
    return item


async def unlike(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> FeedItem:
    """Take a like back (idempotent)."""
    item = await visible_item(session, principal, item_id)
    removed = await session.scalar(
        delete(FeedLike)
        .where(FeedLike.item_id == item.id, FeedLike.user_id == principal.user_id)
        .returning(FeedLike.user_id)
    )
    if removed is not None:
        await session.execute(
            update(FeedItem)
            .where(FeedItem.id == item.id)
            .values(like_count=func.greatest(FeedItem.like_count - 1, 0))
        )
    await session.flush()
    await session.refresh(item)
    return item


# ---------- comments ----------


async def _check_mentions(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, mentions: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Only people who can see the item may be mentioned (two queries, whatever the count)."""
    unique = list(dict.fromkeys(mentions))
    people = {
        row.id: Principal(row.id, row.company_id, row.role, row.department_id, row.path, row.locale)
        for row in (
            await session.execute(
                select(
                    User.id,
                    User.company_id,
                    User.role,
                    User.department_id,
                    Department.path,
                    User.locale,
                )
                .outerjoin(Department, Department.id == User.department_id)
                .where(
                    User.id.in_(unique),
                    User.company_id == principal.company_id,
                    User.is_active.is_(True),
                )
            )
        ).all()
    }
    known = [uid for uid in unique if uid in people]
    sees = {}
    if known:
        row = (
            await session.execute(
                select(
                    *(
                        exists()
                        .where(FeedItem.id == item_id, feed_visibility(people[uid]))
                        .label(f"m{n}")
                        for n, uid in enumerate(known)
                    )
                )
            )
        ).one()
        sees = dict(zip(known, row, strict=True))
    bad = [index for index, uid in enumerate(unique) if not sees.get(uid)]
    if bad:
        raise errors.mention_not_allowed(bad)
    return unique


async def create_comment(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, data: CommentCreate
) -> tuple[FeedComment, bool]:
    """Comment or reply (one level), with @mentions; notifies author, parent author, mentioned."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session, FeedComment, data.id, request_hash, lambda c: c.author_id == principal.user_id
    )
    if existing is not None:
        return existing, False
    item = await visible_item(session, principal, item_id, lock=True)
    parent = None
    if data.parent_id is not None:
        parent = await session.scalar(
            select(FeedComment).where(
                FeedComment.id == data.parent_id, FeedComment.item_id == item.id
            )
        )
        if parent is None or parent.parent_id is not None:
            raise errors.invalid_parent()
    mentions = await _check_mentions(session, principal, item.id, data.mentions)
    at = now()
    comment = FeedComment(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        item_id=item.id,
        author_id=principal.user_id,
        parent_id=data.parent_id,
        mentions=mentions,
        body=data.body,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    session.add(comment)
    await session.execute(
        update(FeedItem)
        .where(FeedItem.id == item.id)
        .values(comment_count=FeedItem.comment_count + 1)
    )
    await session.flush()
    await publish.comment_created(session, principal, item, comment, parent)
    await session.flush()
    return comment, True


async def list_comments(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, params: PageParams
) -> tuple[list[Any], str | None]:
    """Comments of a visible item, newest first, with author names."""
    await visible_item(session, principal, item_id)
    stmt = (
        select(FeedComment, User.name.label("author_name"))
        .join(User, User.id == FeedComment.author_id)
        .where(FeedComment.item_id == item_id)
    )
    rows = list(
        (
            await session.execute(paginate(stmt, FeedComment.created_at, FeedComment.id, params))
        ).all()
    )
    return make_page(rows, params, key=lambda row: (row[0].created_at, row[0].id))


async def _own_comment(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    comment_id: uuid.UUID,
    if_match: str | None = None,
    *,
    edit: bool = False,
) -> FeedComment:
    """The caller's own comment: 404, 403, then (an edit) the If-Match precondition — 428 or
    412 before the state of the record, like every PATCH — then 409 when it is deleted."""
    await visible_item(session, principal, item_id)
    comment = await session.scalar(
        select(FeedComment).where(FeedComment.id == comment_id, FeedComment.item_id == item_id)
    )
    if comment is None:
        raise not_found("comment")
    if comment.author_id != principal.user_id:
        raise forbidden("Only the author may change a comment.")
    if edit:
        check_if_match(if_match, comment.version)
    if comment.deleted_at is not None:
        raise errors.comment_deleted()
    return comment


async def update_comment(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    comment_id: uuid.UUID,
    body: str,
    if_match: str | None,
) -> FeedComment:
    """The author edits the text (If-Match required)."""
    comment = await _own_comment(session, principal, item_id, comment_id, if_match, edit=True)
    comment.body = body
    comment.version += 1
    comment.updated_at = now()
    await session.flush()
    return comment


async def delete_comment(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, comment_id: uuid.UUID
) -> None:
    """The author deletes it; it keeps its place as 'deleted' (replies stay attached)."""
    comment = await _own_comment(session, principal, item_id, comment_id)
    comment.deleted_at = now()
    comment.version += 1
    await session.flush()


async def user_name(session: AsyncSession, user_id: uuid.UUID) -> str:
    """A user's display name."""
    return await session.scalar(select(User.name).where(User.id == user_id)) or ""

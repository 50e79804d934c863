"""HTTP: the feed, likes and comments."""

import uuid
from typing import Any

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page
from app.deps import Caller, Paging, Session
from app.feed import service
from app.feed.models import FeedItem
from app.feed.schemas import (
    CommentCreate,
    CommentOut,
    CommentUpdate,
    FeedItemOut,
    FeedKind,
    LikeOut,
    Ref,
)

router = APIRouter(tags=["feed"])


def _ref(value: dict[str, Any] | None) -> Ref | None:
    if not value or not value.get("id"):
        return None
    return Ref(id=uuid.UUID(value["id"]), name=value.get("name") or "")


def comment_out(comment: Any, author_name: str) -> CommentOut:
    deleted = comment.deleted_at is not None
    return CommentOut(
        id=comment.id,
        item_id=comment.item_id,
        author=Ref(id=comment.author_id, name=author_name),
        parent_id=comment.parent_id,
        body=None if deleted else comment.body,
        deleted=deleted,
        mentions=[] if deleted else list(comment.mentions or []),
        version=comment.version,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
    )


def item_out(item: FeedItem, liked: bool, comments: list[Any]) -> FeedItemOut:
    return FeedItemOut(
        id=item.id,
        kind=item.kind,
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        author=_ref(item.summary.get("author")),
        customer=_ref(item.summary.get("customer")),
        summary={k: v for k, v in item.summary.items() if k not in ("author", "customer")},
        like_count=item.like_count,
        comment_count=item.comment_count,
        liked_by_me=liked,
        first_comments=[comment_out(c, c.author_name) for c in comments],
        created_at=item.created_at,
    )


@router.get(
    "/v1/feed",
    operation_id="listFeedItems",
    response_model=Page[FeedItemOut],
    summary="The activity feed",
    responses=problem_responses(401, 422),
)
async def feed(
    *,
    params: Paging,
    department: uuid.UUID | None = Query(None, description="Authors in this department's subtree."),
    user: uuid.UUID | None = Query(None),
    customer: uuid.UUID | None = Query(None),
    kind: FeedKind | None = Query(None),
    principal: Caller,
    session: Session,
) -> Page[FeedItemOut]:
    """Newest first; each item with its subject, counts, `liked_by_me` and first comments.
    A page costs a fixed number of queries whatever its size."""
    filters = {"department_id": department, "user_id": user, "customer_id": customer, "kind": kind}
    items, next_cursor, liked, comments = await service.list_feed(
        session, principal, params, filters
    )
    return Page[FeedItemOut](
        items=[item_out(i, i.id in liked, comments.get(i.id, [])) for i in items],
        next_cursor=next_cursor,
    )


@router.put(
    "/v1/feed/{item_id}/like",
    operation_id="likeFeedItem",
    response_model=LikeOut,
    summary="Like",
    responses=problem_responses(401, 404, 422),
)
async def like(
    item_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> LikeOut:
    """Idempotent: one like per person."""
    item = await service.like(session, principal, item_id)
    return LikeOut(item_id=item.id, liked=True, like_count=item.like_count)


@router.delete(
    "/v1/feed/{item_id}/like",
    operation_id="unlikeFeedItem",
    response_model=LikeOut,
    summary="Unlike",
    responses=problem_responses(401, 404, 422),
)
async def unlike(
    item_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> LikeOut:
    """Idempotent."""
    item = await service.unlike(session, principal, item_id)
    return LikeOut(item_id=item.id, liked=False, like_count=item.like_count)


@router.get(
    "/v1/feed/{item_id}/comments",
    operation_id="listComments",
    response_model=Page[CommentOut],
    summary="Comments of an item",
    responses=problem_responses(401, 404, 422),
)
async def comments(
    item_id: uuid.UUID,
    params: Paging,
    principal: Caller,
    session: Session,
) -> Page[CommentOut]:
    """Newest first; deleted comments keep their place with `deleted: true`."""
    rows, next_cursor = await service.list_comments(session, principal, item_id, params)
    return Page[CommentOut](
        items=[comment_out(c, name) for c, name in rows], next_cursor=next_cursor
    )


@router.post(
    "/v1/feed/{item_id}/comments",
    operation_id="createComment",
    status_code=201,
    response_model=CommentOut,
    summary="Comment or reply",
    responses={
        200: {"model": CommentOut, "description": "Retry with the same id and body"},
        **problem_responses(401, 404, 409, 422),
    },
)
async def comment(
    item_id: uuid.UUID,
    body: CommentCreate,
    response: Response,
    principal: Caller,
    session: Session,
) -> CommentOut:
    """`parent_id` replies to a top-level comment; `mentions` must be able to see the item."""
    created, is_new = await service.create_comment(session, principal, item_id, body)
    if not is_new:
        response.status_code = 200
    response.headers["ETag"] = etag_for(created.version)
    return comment_out(created, await service.user_name(session, created.author_id))


@router.patch(
    "/v1/feed/{item_id}/comments/{comment_id}",
    operation_id="updateComment",
    response_model=CommentOut,
    summary="Edit a comment",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def edit_comment(
    *,
    item_id: uuid.UUID,
    comment_id: uuid.UUID,
    body: CommentUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> CommentOut:
    """The author only; `If-Match` required (428 without, 412 when stale)."""
    updated = await service.update_comment(
        session, principal, item_id, comment_id, body.body, if_match
    )
    response.headers["ETag"] = etag_for(updated.version)
    return comment_out(updated, await service.user_name(session, updated.author_id))


@router.delete(
    "/v1/feed/{item_id}/comments/{comment_id}",
    status_code=204,
    summary="Delete a comment",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_comment(
    item_id: uuid.UUID,
    comment_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> Response:
    """The author only; it stays in place as deleted."""
    await service.delete_comment(session, principal, item_id, comment_id)
    return Response(status_code=204)

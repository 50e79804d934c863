"""HTTP: the notification inbox and preferences."""

import uuid

from fastapi import APIRouter, Query

from app.core.errors import problem_responses
from app.core.pagination import Page
from app.core.strict import QueryBool
from app.deps import Caller, Paging, Session
from app.notifications.inbox import service
from app.notifications.inbox.schemas import (
    NotificationOut,
    Preferences,
    ReadAll,
    UnreadCount,
    notification_out,
)

router = APIRouter(tags=["notifications"])


@router.get(
    "/v1/notifications",
    operation_id="listNotifications",
    response_model=Page[NotificationOut],
    summary="My notifications",
    responses=problem_responses(401, 422),
)
async def inbox(
    *,
    params: Paging,
    unread_only: QueryBool = Query(False),
    principal: Caller,
    session: Session,
) -> Page[NotificationOut]:
    """Newest first."""
    rows, next_cursor = await service.list_inbox(session, principal, params, unread_only)
    return Page[NotificationOut](items=[notification_out(n) for n in rows], next_cursor=next_cursor)


@router.get(
    "/v1/notifications/unread-count",
    operation_id="getUnreadCount",
    response_model=UnreadCount,
    summary="How many are unread",
    responses=problem_responses(401),
)
async def unread(principal: Caller, session: Session) -> UnreadCount:
    """For the app's badge."""
    return UnreadCount(unread=await service.unread_count(session, principal))


@router.post(
    "/v1/notifications/read-all",
    operation_id="markAllNotificationsRead",
    response_model=ReadAll,
    summary="Mark all read",
    responses=problem_responses(401),
)
async def read_all(principal: Caller, session: Session) -> ReadAll:
    """Idempotent."""
    return ReadAll(marked_read=await service.mark_all_read(session, principal))


@router.post(
    "/v1/notifications/{notification_id}/read",
    operation_id="markNotificationRead",
    response_model=NotificationOut,
    summary="Mark read",
    responses=problem_responses(401, 404, 422),
)
async def read_one(
    notification_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> NotificationOut:
    """Idempotent; another user's notification is 404."""
    return notification_out(await service.mark_read(session, principal, notification_id))


@router.get(
    "/v1/notifications/preferences",
    operation_id="getNotificationPreferences",
    response_model=Preferences,
    summary="My notification preferences",
    responses=problem_responses(401),
)
async def get_preferences(principal: Caller, session: Session) -> Preferences:
    """Muted kinds and quiet hours."""
    preference = await service.get_preferences(session, principal)
    return Preferences(
        muted_kinds=preference.muted_kinds or [],
        quiet_start=preference.quiet_start,
        quiet_end=preference.quiet_end,
    )


@router.put(
    "/v1/notifications/preferences",
    operation_id="putNotificationPreferences",
    response_model=Preferences,
    summary="Set notification preferences",
    responses=problem_responses(401, 422),
)
async def put_preferences(
    body: Preferences,
    principal: Caller,
    session: Session,
) -> Preferences:
    """Muted kinds are never pushed; during quiet hours pushes wait until they end. The inbox
    always fills."""
    preference = await service.put_preferences(
        session, principal, body.muted_kinds, body.quiet_start, body.quiet_end
    )
    return Preferences(
        muted_kinds=preference.muted_kinds or [],
        quiet_start=preference.quiet_start,
        quiet_end=preference.quiet_end,
    )

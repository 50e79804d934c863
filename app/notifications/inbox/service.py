"""The one notification service: inbox rows (with the push outbox state), read state, preferences.

Every reminder and alert goes through `notify`, inside the caller's transaction: a change
that rolls back notifies nobody, and `dedupe_key` (unique per recipient) makes a retried
job notify nobody twice.
"""

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, Uuid, any_, bindparam, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import now
from app.core.errors import not_found
from app.core.pagination import PageParams, make_page, paginate
from app.db import rowcount, table_of
from app.notifications.inbox.templates import render
from app.notifications.models import Notification, NotificationPreference
from app.org.models import Company, User

# A like on an item already pushed within this window updates the inbox but is not pushed again.
LIKE_PUSH_WINDOW = timedelta(minutes=10)


def in_quiet_hours(at: datetime, time_zone: str, start: time | None, end: time | None) -> bool:
    """True when `at` falls in the quiet window (which may cross midnight) in company time."""
    if start is None or end is None or start == end:
        return False
    local = at.astimezone(ZoneInfo(time_zone)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(
    at: datetime, time_zone: str, start: time | None, end: time | None
) -> datetime | None:
    """When the quiet window that `at` falls in ends (UTC); None outside quiet hours.

    A push is deferred to then, not dropped: quiet hours are "do not disturb", the reminder
    still matters in the morning."""
    if not in_quiet_hours(at, time_zone, start, end):
        return None
    assert end is not None
    zone = ZoneInfo(time_zone)
    local = at.astimezone(zone)
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    if ends <= local:
        ends = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=zone)
    return ends.astimezone(UTC)


async def notify(
    session: AsyncSession,
    *,
    company_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID | None],
    kind: str,
    params: dict[str, Any],
    dedupe_key: str,
    subject_type: str | None = None,
    subject_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    deep_link: str | None = None,
) -> int:
    """Notify each user once per `dedupe_key` (never the actor); returns how many were new."""
    common = {
        "company_id": company_id,
        "kind": kind,
        "params": params,
        "dedupe_key": dedupe_key,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "customer_id": customer_id,
        "actor_id": actor_id,
        "deep_link": deep_link,
    }
    return await notify_many(
        session,
        [
            {**common, "user_id": uid}
            for uid in dict.fromkeys(user_ids)
            if uid is not None and uid != actor_id
        ],
    )


_MANY_COLUMNS = (
    ("company_id", "uuid"),
    ("user_id", "uuid"),
    ("kind", "text"),
    ("title", "text"),
    ("body", "text"),
    ("subject_type", "text"),
    ("subject_id", "uuid"),
    ("customer_id", "uuid"),
    ("actor_id", "uuid"),
    ("deep_link", "text"),
    ("dedupe_key", "text"),
    ("data", "text"),
    ("push_state", "text"),
    ("push_after", "timestamptz"),
)
_INSERT_MANY = text(
    "INSERT INTO notifications (id, "
    + ", ".join(name for name, _ in _MANY_COLUMNS)
    + ", created_at, updated_at)\n"
    + "SELECT gen_random_uuid(), "
    + ", ".join(f"u.{name}::jsonb" if name == "data" else f"u.{name}" for name, _ in _MANY_COLUMNS)
    + ", :at, :at\nFROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _MANY_COLUMNS)
    + ") AS u("
    + ", ".join(name for name, _ in _MANY_COLUMNS)
    + ")\nON CONFLICT (user_id, dedupe_key, company_id) DO NOTHING\nRETURNING id"
)


# Built once: who receives, in which language, muted kinds and quiet hours.
_RECIPIENTS = (
    select(
        User.id,
        User.company_id,
        User.locale,
        NotificationPreference.muted_kinds,
        NotificationPreference.quiet_start,
        NotificationPreference.quiet_end,
        Company.time_zone,
    )
    .join(Company, Company.id == User.company_id)
    .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
    .where(User.id == any_(bindparam("user_ids", type_=ARRAY(Uuid()))), User.is_active.is_(True))
)


def _push_plan(kind: str, recipient: Any, at: datetime) -> tuple[str, datetime]:
    """(push_state, push_after) of a new notification for a `_RECIPIENTS` row: a muted kind
    is never pushed; in quiet hours the push waits for their end."""
    if kind in (recipient.muted_kinds or []):
        return "suppressed", at
    quiet = quiet_until(at, recipient.time_zone, recipient.quiet_start, recipient.quiet_end)
    return "pending", quiet or at


async def notify_many(session: AsyncSession, notices: list[dict[str, Any]]) -> int:
    """Many notifications in one INSERT (jobs); each dict: company_id, user_id, kind, params,
    dedupe_key and optionally subject_type, subject_id, customer_id, actor_id, deep_link."""
    if not notices:
        return 0
    user_ids = {n["user_id"] for n in notices}
    recipients = {
        r.id: r for r in (await session.execute(_RECIPIENTS, {"user_ids": list(user_ids)})).all()
    }
    at = now()
    columns: dict[str, list[Any]] = {name: [] for name, _ in _MANY_COLUMNS}
    for notice in notices:
        recipient = recipients.get(notice["user_id"])
        if recipient is None or recipient.company_id != notice["company_id"]:
            continue  # inactive, unknown, or of another company: nobody to tell
        title, body = render(notice["kind"], recipient.locale, notice["params"])
        push_state, push_after = _push_plan(notice["kind"], recipient, at)
        for name, value in (
            ("company_id", notice["company_id"]),
            ("user_id", recipient.id),
            ("kind", notice["kind"]),
            ("title", title),
            ("body", body),
            ("subject_type", notice.get("subject_type")),
            ("subject_id", notice.get("subject_id")),
            ("customer_id", notice.get("customer_id")),
            ("actor_id", notice.get("actor_id")),
            ("deep_link", notice.get("deep_link")),
            ("dedupe_key", notice["dedupe_key"]),
            ("data", json.dumps(_jsonable(notice["params"]), ensure_ascii=False)),
            ("push_state", push_state),
            ("push_after", push_after),
        ):
            columns[name].append(value)
    if not columns["user_id"]:
        return 0
    # One statement of a fixed shape whatever the batch size (columns as arrays, unnest):
    # prepared once per connection, where a multi-row VALUES would be compiled per call.
    inserted = await session.execute(_INSERT_MANY, {**columns, "at": at})
    return len(inserted.all())


async def notify_like(
    session: AsyncSession,
    *,
    company_id: uuid.UUID,
    author_id: uuid.UUID | None,
    item_id: uuid.UUID,
    subject: str,
    likers: list[str],
    like_count: int,
    actor_id: uuid.UUID,
) -> None:
    """One batched notification per liked item: '3 people liked your check-in', not three pushes."""
    if author_id is None or author_id == actor_id or like_count <= 0:
        return
    recipient = (await session.execute(_RECIPIENTS, {"user_ids": [author_id]})).first()
    if recipient is None or recipient.company_id != company_id:
        return
    params = {"subject": subject, "likers": likers, "like_count": like_count}
    title, body = render("like", recipient.locale, params)
    at = now()
    state, push_after = _push_plan("like", recipient, at)
    statement = insert(Notification).values(
        id=uuid.uuid4(),
        company_id=company_id,
        user_id=author_id,
        kind="like",
        title=title,
        body=body,
        subject_type="feed_item",
        subject_id=item_id,
        actor_id=actor_id,
        deep_link=f"outfield://feed/{item_id}",
        dedupe_key=f"like:{item_id}",
        data=_jsonable(params),
        push_state=state,
        push_after=push_after,
        created_at=at,
        updated_at=at,
    )
    existing = table_of(Notification).c
    push_again = existing.pushed_at.is_(None) | (existing.pushed_at < at - LIKE_PUSH_WINDOW)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "dedupe_key", "company_id"],
            set_={
                "title": title,
                "body": body,
                "data": statement.excluded.data,
                "read_at": None,
                "updated_at": at,
                "actor_id": actor_id,
                "push_state": _like_push(existing, push_again, existing.push_state, state),
                "push_after": _like_push(existing, push_again, existing.push_after, push_after),
            },
        )
    )


def _like_push(existing: Any, push_again: Any, current: Any, new: Any) -> Any:
    """push_state / push_after of a like notification that is liked again. Not yet pushed
    (pending): left as it is, the push will carry the new count. Being pushed (sending, a
    worker holds the lease): left alone too, or the worker's result would not apply and the
    next run would push it again. Pushed long enough ago: a new push."""
    return case(
        (existing.push_state.in_(("pending", "sending")), current),
        (push_again, new),
        else_=current,
    )


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, uuid.UUID | datetime) else v) for k, v in params.items()}


# ---------- inbox ----------


async def list_inbox(
    session: AsyncSession, principal: Principal, params: PageParams, unread_only: bool
) -> tuple[list[Notification], str | None]:
    """The caller's notifications, newest first."""
    stmt = select(Notification).where(Notification.user_id == principal.user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = list(
        (
            await session.execute(paginate(stmt, Notification.created_at, Notification.id, params))
        ).scalars()
    )
    return make_page(rows, params)


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    """How many of the caller's notifications are unread."""
    counted = await session.execute(
        select(func.count()).where(
            Notification.user_id == principal.user_id, Notification.read_at.is_(None)
        )
    )
    return counted.scalar_one()


async def mark_read(
    session: AsyncSession, principal: Principal, notification_id: uuid.UUID
) -> Notification:
    """Mark one of the caller's notifications read (idempotent)."""
    notification = await session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == principal.user_id
        )
    )
    if notification is None:
        raise not_found("notification")
    if notification.read_at is None:
        notification.read_at = now()
        await session.flush()
    return notification


async def mark_all_read(session: AsyncSession, principal: Principal) -> int:
    """Mark every unread notification of the caller read; returns how many changed."""
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == principal.user_id, Notification.read_at.is_(None))
        .values(read_at=now())
    )
    return rowcount(result)


async def get_preferences(session: AsyncSession, principal: Principal) -> NotificationPreference:
    """The caller's preferences (defaults when never set)."""
    preference = await session.get(NotificationPreference, principal.user_id)
    return preference or NotificationPreference(
        user_id=principal.user_id,
        company_id=principal.company_id,
        muted_kinds=[],
        quiet_start=None,
        quiet_end=None,
    )


async def put_preferences(
    session: AsyncSession,
    principal: Principal,
    muted_kinds: list[str],
    quiet_start: time | None,
    quiet_end: time | None,
) -> NotificationPreference:
    """Replace the caller's preferences."""
    statement = insert(NotificationPreference).values(
        user_id=principal.user_id,
        company_id=principal.company_id,
        muted_kinds=muted_kinds,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        updated_at=now(),
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "company_id"],
            set_={
                "muted_kinds": muted_kinds,
                "quiet_start": quiet_start,
                "quiet_end": quiet_end,
                "updated_at": now(),
            },
        )
    )
    return await get_preferences(session, principal)

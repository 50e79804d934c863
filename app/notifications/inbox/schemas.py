"""Inbox and preference bodies."""

import uuid
from datetime import datetime, time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.core import limits
from app.core.schemas import Body

KINDS = (
    "comment",
    "reply",
    "mention",
    "like",
    "record_on_your_customer",
    "customer_claimed",
    "customer_transferred_to_you",
    "customer_released",
)


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    kind: str
    title: str
    body: str
    subject_type: str | None
    subject_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    deep_link: str | None = Field(description="Where the app opens it.")
    dedupe_key: str
    data: dict[str, Any]
    read: bool
    read_at: datetime | None
    created_at: datetime
    updated_at: datetime


class UnreadCount(BaseModel):
    unread: int


class ReadAll(BaseModel):
    marked_read: int


class Preferences(Body):
    model_config = ConfigDict(extra="forbid")
    muted_kinds: list[Annotated[str, Field(max_length=limits.KIND_MAX)]] = Field(
        default_factory=list,
        max_length=50,
        description="Kinds that still fill the inbox but are never pushed.",
    )
    quiet_start: time | None = Field(
        None, description="No push from this time (company time zone)…"
    )
    quiet_end: time | None = Field(None, description="…until this time, e.g. 22:00–08:00.")


def notification_out(row: Any) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        customer_id=row.customer_id,
        actor_id=row.actor_id,
        deep_link=row.deep_link,
        dedupe_key=row.dedupe_key,
        data=row.data or {},
        read=row.read_at is not None,
        read_at=row.read_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )

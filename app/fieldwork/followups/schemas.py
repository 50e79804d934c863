"""Request and response bodies for follow-ups."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from app.core.schemas import Strict

FollowupKind = Literal["call", "visit", "message", "meeting", "other"]


class FollowupCreate(Strict):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    kind: FollowupKind
    text: str = Field(min_length=1, max_length=10_000)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    next_followup_at: AwareDatetime | None = None
    checkin_id: uuid.UUID | None = None


class FollowupUpdate(Strict):
    text: str | None = Field(None, min_length=1, max_length=10_000)
    kind: FollowupKind | None = None
    next_followup_at: AwareDatetime | None = None


class FollowupOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    customer_id: uuid.UUID
    kind: FollowupKind
    text: str
    attachment_ids: list[uuid.UUID]
    next_followup_at: datetime | None
    checkin_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime

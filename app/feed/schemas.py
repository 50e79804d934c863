"""Feed bodies."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.core import limits
from app.core.schemas import Strict

FeedKind = Literal["followup", "checkin", "log", "ownership", "opportunity"]
COMMENT_MAX = limits.NOTE_MAX


class Ref(BaseModel):
    id: uuid.UUID
    name: str


class CommentOut(BaseModel):
    id: uuid.UUID
    item_id: uuid.UUID
    author: Ref
    parent_id: uuid.UUID | None
    body: str | None = Field(description="Null when deleted (the comment keeps its place).")
    deleted: bool
    mentions: list[uuid.UUID]
    version: int
    created_at: datetime
    updated_at: datetime


class FeedItemOut(BaseModel):
    id: uuid.UUID
    kind: FeedKind
    subject_type: str
    subject_id: uuid.UUID
    author: Ref | None
    customer: Ref | None
    summary: dict[str, Any]
    like_count: int
    comment_count: int
    liked_by_me: bool
    first_comments: list[CommentOut]
    created_at: datetime


class LikeOut(BaseModel):
    item_id: uuid.UUID
    liked: bool
    like_count: int


class CommentCreate(Strict):
    id: uuid.UUID | None = None
    body: str = Field(min_length=1, max_length=COMMENT_MAX)
    parent_id: uuid.UUID | None = Field(None, description="Reply to this top-level comment.")
    mentions: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class CommentUpdate(Strict):
    body: str = Field(min_length=1, max_length=COMMENT_MAX)

"""Request and response bodies for follow-ups."""

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.core import limits
from app.core.schemas import Strict
from app.core.types import Timestamp

FollowupKind = Literal["call", "visit", "message", "meeting", "other"]


class FollowupCreate(Strict):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = Field(None, description="Exactly one of customer_id, lead_id.")
    lead_id: uuid.UUID | None = Field(None, description="A lead you own (or manage the owner of).")
    kind: FollowupKind
    text: str = Field(min_length=1, max_length=limits.FOLLOWUP_TEXT_MAX)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    next_followup_at: Timestamp | None = None
    checkin_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _customer_or_lead(self) -> Self:
        if (self.customer_id is None) == (self.lead_id is None):
            raise ValueError("give exactly one of customer_id and lead_id")
        return self


class FollowupUpdate(Strict):
    text: str | None = Field(None, min_length=1, max_length=limits.FOLLOWUP_TEXT_MAX)
    kind: FollowupKind | None = None
    next_followup_at: Timestamp | None = None


class FollowupOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    customer_id: uuid.UUID | None = Field(
        description="Null for a follow-up on a lead (until the lead is converted)."
    )
    lead_id: uuid.UUID | None
    kind: FollowupKind
    text: str
    attachment_ids: list[uuid.UUID]
    next_followup_at: datetime | None
    checkin_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime

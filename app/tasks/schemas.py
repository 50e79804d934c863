"""Request and response bodies of tasks (日程/待办)."""

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.core import limits
from app.core.schemas import Strict
from app.core.types import Timestamp

TaskKind = Literal["task", "followup"]
DueFilter = Literal["today", "overdue", "week"]
REMIND_MAX = 7 * 24 * 60  # a week, in minutes
ASSIGNEES_MAX = 20


class TaskCreate(Strict):
    id: uuid.UUID | None = None
    title: str = Field(min_length=1, max_length=limits.NAME_MAX)
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    due_at: Timestamp
    customer_id: uuid.UUID | None = Field(None, description="At most one of the three links.")
    opportunity_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    assignee_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=ASSIGNEES_MAX,
        description="Default: the caller. Reps: only themselves; managers: their subtree.",
    )
    remind_before_min: int | None = Field(
        None, ge=0, le=REMIND_MAX, description="`task_due` this many minutes before (null: none)."
    )

    @model_validator(mode="after")
    def _one_link(self) -> Self:
        links = (self.customer_id, self.opportunity_id, self.lead_id)
        if sum(link is not None for link in links) > 1:
            raise ValueError("give at most one of customer_id, opportunity_id and lead_id")
        return self


class TaskUpdate(Strict):
    title: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    due_at: Timestamp | None = None
    assignee_ids: list[uuid.UUID] | None = Field(None, min_length=1, max_length=ASSIGNEES_MAX)
    remind_before_min: int | None = Field(None, ge=0, le=REMIND_MAX)
    done: bool | None = Field(None, description="true: done (now, by you); false: undone.")


class TaskOut(BaseModel):
    id: uuid.UUID = Field(description="The task; for a `followup` item, its customer.")
    kind: TaskKind = Field(
        description="`task`; `followup`: a customer's planned next follow-up (read-only, done "
        "by recording the follow-up)."
    )
    read_only: bool
    title: str
    note: str | None
    due_at: datetime
    customer_id: uuid.UUID | None
    opportunity_id: uuid.UUID | None
    lead_id: uuid.UUID | None
    assignee_ids: list[uuid.UUID]
    remind_before_min: int | None
    reminded_at: datetime | None
    done: bool
    done_at: datetime | None
    done_by: uuid.UUID | None
    overdue: bool = Field(description="Not done and past its due time.")
    created_by: uuid.UUID | None
    version: int | None = Field(description="The ETag's version; null for `followup` items.")
    created_at: datetime | None
    updated_at: datetime | None

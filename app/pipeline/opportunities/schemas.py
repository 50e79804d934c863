"""Request and response bodies for opportunities and their moves."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from app.core import limits
from app.core.schemas import Strict
from app.core.types import BusinessDate, Money, MoneyOut, Name
from app.pipeline.opportunities.rules import Quadrant

OpportunityStatus = Literal["open", "won", "lost"]
Competitor = Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX)]
FeedbackKey = Annotated[str, Field(min_length=1, max_length=64)]
FeedbackValue = Annotated[str, Field(max_length=limits.NOTE_MAX)] | int | float | bool | None
DESCRIPTION_MAX = limits.FOLLOWUP_TEXT_MAX
CONTACTS_MAX = 50
COMPETITORS_MAX = 30
FEEDBACK_MAX = 50

# Fields an opportunity has but PATCH may not set: they change only through advance (or
# never). Accepted by the schema (hidden from it) so the answer is 422 `field_not_patchable`
# naming the field, not a generic unknown-field error.
NOT_PATCHABLE = (
    "stage_id",
    "status",
    "lost_reason",
    "closed_at",
    "pipeline_id",
    "customer_id",
    "stage_entered_at",
    "lead_id",
    "stale",
    "version",
)


class OpportunityCreate(Strict):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    pipeline_id: uuid.UUID | None = Field(None, description="Default: the company's default.")
    stage_id: uuid.UUID | None = Field(None, description="Default: the first open stage.")
    name: Name
    amount: Money | None = None
    expected_close_date: BusinessDate | None = None
    contact_ids: list[uuid.UUID] = Field(default_factory=list, max_length=CONTACTS_MAX)
    competitors: list[Competitor] = Field(default_factory=list, max_length=COMPETITORS_MAX)
    source: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)
    owner_id: uuid.UUID | None = Field(None, description="Default: the customer's owner.")


class OpportunityUpdate(Strict):
    name: Name | None = None
    amount: Money | None = None
    expected_close_date: BusinessDate | None = None
    contact_ids: list[uuid.UUID] | None = Field(None, max_length=CONTACTS_MAX)
    competitors: list[Competitor] | None = Field(None, max_length=COMPETITORS_MAX)
    source: str | None = Field(None, max_length=limits.SHORT_TEXT_MAX)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)
    owner_id: uuid.UUID | None = None
    stage_id: SkipJsonSchema[Any] = None
    status: SkipJsonSchema[Any] = None
    lost_reason: SkipJsonSchema[Any] = None
    closed_at: SkipJsonSchema[Any] = None
    pipeline_id: SkipJsonSchema[Any] = None
    customer_id: SkipJsonSchema[Any] = None
    stage_entered_at: SkipJsonSchema[Any] = None
    lead_id: SkipJsonSchema[Any] = None
    stale: SkipJsonSchema[Any] = None
    version: SkipJsonSchema[Any] = None


class AdvanceIn(Strict):
    to_stage_id: uuid.UUID
    feedback: dict[FeedbackKey, FeedbackValue] = Field(
        default_factory=dict,
        max_length=FEEDBACK_MAX,
        description="Answers to the current stage's questions, by key (file: a file id).",
    )
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    lost_reason: str | None = Field(
        None, max_length=limits.NAME_MAX, description="Required when moving to a lost stage."
    )
    attachment_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=20,
        description="Files you uploaded to attach to the opportunity (the `file` evidence).",
    )


class OpportunityOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    stage_name: str
    probability: int
    name: str
    amount: MoneyOut | None
    expected_close_date: date | None
    contact_ids: list[uuid.UUID]
    competitors: list[str]
    source: str | None
    description: str | None
    lead_id: uuid.UUID | None
    owner_id: uuid.UUID
    status: OpportunityStatus
    lost_reason: str | None
    stage_entered_at: datetime
    days_in_stage: int
    rotting_days: int
    stale: bool
    quadrant: Quadrant | None
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class StageChangeOut(BaseModel):
    id: uuid.UUID
    from_stage_id: uuid.UUID | None
    from_stage_name: str | None
    to_stage_id: uuid.UUID
    to_stage_name: str
    actor_id: uuid.UUID | None
    at: datetime
    seconds_in_previous: int | None
    seconds_in_stage: int | None = Field(
        description="Time spent in to_stage: until the next move (or until now while there)."
    )
    feedback: dict[str, Any]
    note: str | None

"""Bodies for pipelines, their stages and the lost reasons."""

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.core import limits
from app.core.schemas import Strict
from app.core.types import Name
from app.pipeline.pipelines.rules import MAX_FEEDBACK_QUESTIONS, MAX_STAGES

PipelineKind = Literal["pre_sale", "after_sale"]
StageKind = Literal["open", "won", "lost"]
FeedbackType = Literal["text", "number", "date", "choice", "file"]
EvidenceKind = Literal["checkin_at_customer", "followup", "file"]
# The opportunity fields a stage may require: rules.OPPORTUNITY_FIELDS (a test keeps them equal).
RequiredField = Literal[
    "amount", "expected_close_date", "contact_ids", "competitors", "source", "description"
]
FeedbackKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="A slug: lower-case letters, digits and `_`, starting with a letter.",
    ),
]
Option = Annotated[str, Field(min_length=1, max_length=limits.SHORT_TEXT_MAX)]
StageText = Annotated[str, Field(max_length=limits.NOTE_MAX)]
StaleDays = Annotated[int, Field(ge=1, le=3650)]
MaxDays = Annotated[int, Field(ge=1, le=3650)]
Probability = Annotated[int, Field(ge=0, le=100, description="Percent, 0–100.")]


class FeedbackQuestion(Strict):
    """A question the rep answers when leaving the stage."""

    key: FeedbackKey
    label: Name
    type: FeedbackType
    options: list[Option] | None = Field(
        None, max_length=50, description="The choices (required for, and only for, `choice`)."
    )

    @model_validator(mode="after")
    def _options_for_choice(self) -> Self:
        if self.type == "choice":
            if not self.options:
                raise ValueError("a choice question needs options")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options must be unique")
        elif self.options is not None:
            raise ValueError("only a choice question has options")
        return self


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must be unique")


class StageRequirements(Strict):
    """What a stage says and asks before an opportunity may leave it (all optional)."""

    guidance: StageText | None = Field(None, description="What to do in this stage.")
    cautions: StageText | None = Field(None, description="What to watch in this stage.")
    max_days: MaxDays | None = Field(None, description="Days in stage before it is rotting.")
    required_fields: list[RequiredField] | None = Field(
        None, description="Opportunity fields that must be filled to leave the stage."
    )
    required_feedback: list[FeedbackQuestion] | None = Field(
        None, max_length=MAX_FEEDBACK_QUESTIONS, description="Questions answered when leaving."
    )
    required_evidence: list[EvidenceKind] | None = Field(
        None, description="Evidence since entering the stage."
    )

    @model_validator(mode="after")
    def _unique_requirements(self) -> Self:
        _unique(list(self.required_fields or []), "required_fields")
        _unique([q.key for q in self.required_feedback or []], "required_feedback keys")
        _unique(list(self.required_evidence or []), "required_evidence")
        return self


class StageSpec(StageRequirements):
    """A stage of a new pipeline (its position is its place in the list)."""

    name: Name
    probability: Probability
    kind: StageKind = "open"


class StageCreate(StageSpec):
    position: int | None = Field(
        None,
        ge=1,
        le=MAX_STAGES,
        description="Where to insert it (1 = first; the stages from there on move down). "
        "Default: last.",
    )


class StageUpdate(StageRequirements):
    name: Name | None = None
    probability: Probability | None = None
    kind: StageKind | None = None
    position: int | None = Field(
        None, ge=1, le=MAX_STAGES, description="Move it here; the others are renumbered densely."
    )


class PipelineCreate(Strict):
    id: uuid.UUID | None = None
    name: Name
    kind: PipelineKind = "pre_sale"
    allow_skip: bool = False
    allow_backward: bool = False
    stale_after_days: StaleDays = 42
    is_default: bool = Field(False, description="Make it the default (the old one stops being).")
    stages: list[StageSpec] | None = Field(
        None, max_length=MAX_STAGES, description="The stages, in order."
    )
    copy_from: uuid.UUID | None = Field(
        None, description="Copy the active stages of this pipeline (instead of `stages`)."
    )

    @model_validator(mode="after")
    def _one_source_of_stages(self) -> Self:
        if self.stages is not None and self.copy_from is not None:
            raise ValueError("give stages or copy_from, not both")
        return self


class PipelineUpdate(Strict):
    name: Name | None = None
    kind: PipelineKind | None = None
    allow_skip: bool | None = None
    allow_backward: bool | None = None
    stale_after_days: StaleDays | None = None
    is_default: bool | None = None


class FeedbackQuestionOut(BaseModel):
    key: str
    label: str
    type: FeedbackType
    options: list[str] | None = None


class StageOut(BaseModel):
    id: uuid.UUID
    pipeline_id: uuid.UUID
    name: str
    position: int
    probability: int
    kind: StageKind
    guidance: str | None
    cautions: str | None
    max_days: int | None
    required_fields: list[str]
    required_feedback: list[FeedbackQuestionOut]
    required_evidence: list[str]
    retired: bool = Field(description="Retired stages only keep history.")
    retired_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class PipelineOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: PipelineKind
    is_default: bool
    allow_skip: bool
    allow_backward: bool
    stale_after_days: int
    version: int
    created_at: datetime
    updated_at: datetime


class PipelineDetail(PipelineOut):
    stages: list[StageOut] = Field(description="By position; retired ones included, flagged.")


class LostReasonCreate(Strict):
    id: uuid.UUID | None = None
    label: Name


class LostReasonOut(BaseModel):
    id: uuid.UUID
    label: str
    position: int
    created_at: datetime

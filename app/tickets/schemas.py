"""Request and response bodies of service tickets (客户投诉/建议/服务)."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.core import limits
from app.core.schemas import Strict

TicketKind = Literal["complaint", "suggestion", "service"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["open", "in_progress", "resolved", "closed"]
# What PATCH may set (`resolved` only through POST /v1/tickets/{id}/resolve).
PatchStatus = Literal["open", "in_progress", "closed", "resolved"]
TEXT_MAX = limits.FOLLOWUP_TEXT_MAX


class TicketCreate(Strict):
    id: uuid.UUID | None = None
    customer_id: uuid.UUID
    kind: TicketKind
    priority: Priority = "normal"
    description: str = Field(min_length=1, max_length=TEXT_MAX)
    assignee_id: uuid.UUID | None = Field(None, description="Default: the caller.")
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class TicketUpdate(Strict):
    priority: Priority | None = Field(None, description="Moves the due time (from opening).")
    description: str | None = Field(None, min_length=1, max_length=TEXT_MAX)
    assignee_id: uuid.UUID | None = None
    status: PatchStatus | None = Field(
        None,
        description="open → in_progress; resolved → closed; resolved or closed → open "
        "(reopened). `resolved`: use POST …/resolve.",
    )


class TicketResolve(Strict):
    resolution: str = Field(min_length=1, max_length=TEXT_MAX)
    satisfaction: int | None = Field(None, ge=1, le=5, description="The customer's rating.")
    comment: str | None = Field(None, max_length=limits.NOTE_MAX)

    @model_validator(mode="after")
    def _comment_with_rating(self) -> Self:
        if self.comment is not None and self.satisfaction is None:
            raise ValueError("a comment goes with a satisfaction rating")
        return self


class SatisfactionOut(BaseModel):
    score: int
    comment: str | None
    user_id: uuid.UUID = Field(description="The rep credited: the assignee when resolved.")
    created_at: datetime


class TicketOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    kind: TicketKind
    priority: Priority
    description: str
    attachment_ids: list[uuid.UUID]
    assignee_id: uuid.UUID | None
    status: Status
    due_at: datetime = Field(description="Opened + the company's hours for the priority.")
    overdue: bool = Field(description="Open or in progress past its due time.")
    resolution: str | None
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    closed_at: datetime | None
    satisfaction: SatisfactionOut | None = Field(description="The latest rating, if any.")
    created_by: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime


class TicketFigures(BaseModel):
    created: int = Field(description="Tickets opened in the range.")
    open: int = Field(description="Of those, open or in progress now.")
    overdue: int = Field(description="Of those, open or in progress past their due time now.")
    resolved: int = Field(description="Tickets resolved in the range.")
    median_hours_to_resolve: Decimal | None = Field(
        description="Median hours from opening to resolution of those (two places)."
    )
    ratings: int = Field(description="Satisfaction ratings given in the range.")
    average_satisfaction: Decimal | None = Field(description="Their average (two places).")


class TicketReportRow(TicketFigures):
    id: uuid.UUID
    name: str


class TicketReport(BaseModel):
    """Tickets by assignee (the rep) and by department (rolled up the tree), company time."""

    total: TicketFigures
    users: list[TicketReportRow]
    departments: list[TicketReportRow]

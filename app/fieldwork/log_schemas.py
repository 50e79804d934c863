"""Bodies for work logs, visit plans and visit statistics."""

import uuid
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Period = Literal["daily", "weekly", "monthly"]
PlanStatus = Literal["planned", "done", "missed"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LogCreate(Strict):
    id: uuid.UUID | None = None
    period: Period = "daily"
    day: date | None = Field(
        None, description="Any day of the period; default today (company time)."
    )
    text: str = Field(min_length=1, max_length=20_000)
    customer_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class LogUpdate(Strict):
    text: str | None = Field(None, min_length=1, max_length=20_000)
    customer_ids: list[uuid.UUID] | None = Field(None, max_length=100)


class LogFigures(BaseModel):
    new_customers: int
    followups: int
    followups_by_kind: dict[str, int]
    checkins: int
    customers_visited: int
    claims: int
    releases: int


class LogOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    period: Period
    period_start: date
    text: str
    customer_ids: list[uuid.UUID]
    attachment_ids: list[uuid.UUID]
    figures: LogFigures = Field(
        description="Collected automatically for the period (company time zone)."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class PlanCreate(Strict):
    id: uuid.UUID | None = None
    user_id: uuid.UUID | None = Field(None, description="Whose plan; managers plan for their reps.")
    customer_id: uuid.UUID
    plan_date: date
    planned_time: time | None = None
    sequence: int = Field(0, ge=0, le=1000, description="Order in the day's route.")
    purpose: str | None = Field(None, max_length=200)


class PlanUpdate(Strict):
    plan_date: date | None = None
    planned_time: time | None = None
    sequence: int | None = Field(None, ge=0, le=1000)
    purpose: str | None = Field(None, max_length=200)


class PlanOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    plan_date: date
    planned_time: time | None
    sequence: int
    purpose: str | None
    status: PlanStatus = Field(
        description="done: a check-in there that day; missed: the day ended without."
    )
    checkin_id: uuid.UUID | None
    created_by: uuid.UUID
    version: int
    created_at: datetime


class DayRoute(BaseModel):
    date: date
    user_id: uuid.UUID
    items: list[PlanOut]


class VisitStats(BaseModel):
    visits: int
    customers_visited: int
    visits_per_customer: float | None
    average_duration_s: float | None
    flagged_share: float | None
    plans_done: int
    plans_missed: int


class UserVisitStats(VisitStats):
    user_id: uuid.UUID
    name: str
    department_id: uuid.UUID | None


class DepartmentVisitStats(VisitStats):
    department_id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None


class VisitReport(BaseModel):
    since: date
    until: date
    users: list[UserVisitStats]
    departments: list[DepartmentVisitStats] = Field(description="Each rolls up its whole subtree.")
    total: VisitStats

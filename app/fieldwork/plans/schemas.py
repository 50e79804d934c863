"""Bodies for visit plans."""

import typing
import uuid
from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from app.core import limits
from app.core.schemas import Strict
from app.core.types import BusinessDate

PlanStatus = Literal["planned", "done", "missed"]
# 开发新客户, 信息收集, 收款, 服务, 问题处理, 订货, 其他
VisitPurpose = Literal[
    "new_business", "information", "collection", "service", "problem", "order", "other"
]
VISIT_PURPOSES: tuple[str, ...] = typing.get_args(VisitPurpose)


def _once_each(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Purposes = Annotated[
    list[VisitPurpose],
    Field(max_length=len(VISIT_PURPOSES), description="What the visit is for (each once)."),
    AfterValidator(_once_each),
]


class PlanCreate(Strict):
    id: uuid.UUID | None = None
    user_id: uuid.UUID | None = Field(None, description="Whose plan; managers plan for their reps.")
    customer_id: uuid.UUID
    plan_date: BusinessDate
    planned_time: time | None = None
    sequence: int = Field(0, ge=0, le=1000, description="Order in the day's route.")
    purpose: str | None = Field(None, max_length=limits.PURPOSE_MAX)
    purposes: Purposes = Field(default_factory=list)


class PlanUpdate(Strict):
    plan_date: BusinessDate | None = None
    planned_time: time | None = None
    sequence: int | None = Field(None, ge=0, le=1000)
    purpose: str | None = Field(None, max_length=limits.PURPOSE_MAX)
    purposes: Purposes | None = Field(None, description="The new list (null or [] clears it).")


class PlanOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    plan_date: date
    planned_time: time | None
    sequence: int
    purpose: str | None
    purposes: list[VisitPurpose]
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

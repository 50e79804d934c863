"""Bodies for the visit statistics."""

import uuid
from datetime import date

from pydantic import BaseModel, Field


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

"""Bodies for work logs."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from app.core import limits
from app.core.schemas import Strict
from app.core.types import BusinessDate, MoneyOut

Period = Literal["daily", "weekly", "monthly"]


class LogCreate(Strict):
    id: uuid.UUID | None = None
    period: Period = "daily"
    day: BusinessDate | None = Field(
        None, description="Any day of the period; default today (company time)."
    )
    text: str = Field(min_length=1, max_length=limits.LOG_TEXT_MAX)
    customer_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class LogUpdate(Strict):
    text: str | None = Field(None, min_length=1, max_length=limits.LOG_TEXT_MAX)
    customer_ids: list[uuid.UUID] | None = Field(None, max_length=100)


class LogOpportunities(BaseModel):
    new: int = Field(0, description="Opportunities created (by the author, else owned).")
    advanced: int = Field(0, description="Moves to a later stage that is not lost.")
    won: int = Field(0, description="Won (measure `won_opportunities`).")


class LogTarget(BaseModel):
    target_id: uuid.UUID
    measure: str
    period: str = Field(description="The target's period key: the log's day, ISO week or month.")
    value: str | int = Field(description="Money measures a decimal string; counts an integer.")
    actual: str | int
    rate: str | None = Field(description="actual ÷ value, four places; null when value is 0.")


class LogFigures(BaseModel):
    new_customers: int
    followups: int
    followups_by_kind: dict[str, int]
    checkins: int
    customers_visited: int
    claims: int
    releases: int
    # Figures added later: logs written before read as none.
    opportunities: LogOpportunities = Field(default_factory=LogOpportunities)
    contracted: MoneyOut = Field(
        Decimal("0"), description="Contracts signed (measure `contract_amount`)."
    )
    received: MoneyOut = Field(
        Decimal("0"), description="Payments received, net of reversals (`payment_amount`)."
    )
    targets: list[LogTarget] = Field(
        default_factory=list,
        description="The author's user targets of exactly the log's period (a daily log: the "
        "day's; weekly: the ISO week's; monthly: the month's), with actual and rate.",
    )


class LogOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    period: Period
    period_start: date
    text: str
    customer_ids: list[uuid.UUID]
    attachment_ids: list[uuid.UUID]
    figures: LogFigures = Field(
        description="Collected automatically for the period (company time zone) when the log "
        "is written or edited: new customers, follow-ups by kind, check-ins, customers "
        "visited, claims, releases, opportunities (new, advanced, won), contracted and "
        "received amounts, and the author's targets of the period with actual and rate."
    )
    version: int
    created_at: datetime
    updated_at: datetime

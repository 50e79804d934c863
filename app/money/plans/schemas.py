"""Request and response bodies for payment plans (instalments)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from app.core import limits
from app.core.schemas import Strict
from app.core.types import BusinessDate, Money, MoneyOut
from app.money.ledger import InstalmentStatus


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("the amount must be more than 0")
    return value


PositiveMoney = Annotated[Money, AfterValidator(_positive)]
"""Money more than zero."""


class PlanCreate(Strict):
    id: uuid.UUID | None = None
    due_date: BusinessDate
    amount: PositiveMoney
    note: str | None = Field(None, max_length=limits.REASON_MAX)


class PlanUpdate(Strict):
    due_date: BusinessDate | None = None
    amount: PositiveMoney | None = None
    note: str | None = Field(None, max_length=limits.REASON_MAX)


class PlanOut(BaseModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    due_date: date
    amount: MoneyOut
    paid: MoneyOut = Field(description="Confirmed payments allocated to it, net of reversals.")
    committed: MoneyOut = Field(
        description="All payments allocated to it that are not reversed (recorded, in "
        "approval, confirmed): it cannot be made smaller than this."
    )
    outstanding: MoneyOut = Field(description="amount − paid (never below 0).")
    status: InstalmentStatus = Field(
        description="Derived, never set: paid ≥ amount → paid; past its due date in company "
        "time → overdue; some paid → partial; else pending."
    )
    note: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class PlanList(BaseModel):
    items: list[PlanOut]
    total: MoneyOut = Field(description="Σ of the instalments' amounts.")
    contract_amount: MoneyOut
    unscheduled: MoneyOut = Field(description="contract amount − Σ instalments.")

"""Request and response bodies for payments (回款)."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.core import limits
from app.core.schemas import Strict
from app.core.types import BusinessDate, MoneyOut
from app.money.plans.schemas import PositiveMoney

PaymentMethod = Literal["bank_transfer", "cash", "cheque", "online", "other"]
PaymentStatus = Literal["recorded", "pending_approval", "confirmed", "reversed"]


class PaymentCreate(Strict):
    id: uuid.UUID | None = None
    contract_id: uuid.UUID
    plan_id: uuid.UUID | None = Field(
        None, description="The instalment it pays first (else the oldest open ones)."
    )
    amount: PositiveMoney
    received_on: BusinessDate = Field(description="Not after today in the company's time zone.")
    method: PaymentMethod
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class ReverseIn(Strict):
    reason: str = Field(min_length=1, max_length=limits.REASON_MAX)


class AllocationOut(BaseModel):
    plan_id: uuid.UUID
    amount: MoneyOut


class PaymentOut(BaseModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    customer_id: uuid.UUID
    contract_number: str
    plan_id: uuid.UUID | None
    reverses_id: uuid.UUID | None = Field(
        description="Set on a reversal: the payment it reverses (its amount is negative)."
    )
    amount: MoneyOut
    received_on: date
    method: PaymentMethod
    note: str | None
    attachment_ids: list[uuid.UUID]
    status: PaymentStatus = Field(
        description="recorded → (pending_approval →) confirmed; reversed once a reversal row "
        "exists. A reversal row is `confirmed` when it reverses a confirmed payment, else "
        "`recorded`; it is never confirmed or reversed itself."
    )
    received: bool = Field(description="Counts as money received (confirmed_at is set).")
    recorded_by: uuid.UUID
    confirmed_by: uuid.UUID | None
    confirmed_at: datetime | None
    reversed_by: uuid.UUID | None
    reversed_at: datetime | None
    reverse_reason: str | None
    allocations: list[AllocationOut]
    version: int
    created_at: datetime
    updated_at: datetime

"""Bodies of the receivables (ageing) report."""

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.core.types import MoneyOut


class AgeingFigures(BaseModel):
    contracts: int = Field(description="Active contracts with something outstanding.")
    not_due: MoneyOut = Field(description="Unpaid instalments not yet due (as of the day).")
    d1_30: MoneyOut = Field(description="Unpaid, 1–30 days past due.")
    d31_60: MoneyOut
    d61_90: MoneyOut
    over_90: MoneyOut = Field(description="Unpaid, more than 90 days past due.")
    unscheduled: MoneyOut = Field(description="Outstanding that no instalment covers.")
    total: MoneyOut = Field(
        description="Outstanding: amount − received = the buckets + unscheduled."
    )


class AgeingGroup(AgeingFigures):
    id: uuid.UUID | None = Field(description="The customer, user or department.")
    name: str | None


class ReceivablesReport(BaseModel):
    as_of: date
    group: Literal["customer", "user", "department"]
    items: list[AgeingGroup]
    totals: AgeingFigures

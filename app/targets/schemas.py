"""Request and response bodies of targets (目标)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from app.core.schemas import Strict
from app.core.types import Money
from app.targets.periods import PERIOD_PATTERN

Subject = Literal["company", "department", "user"]
Measure = Literal[
    "contract_amount",
    "payment_amount",
    "new_customers",
    "won_opportunities",
    "visits",
    "followups",
    "new_leads",
    "converted_leads",
]
SplitBy = Literal["period", "subject"]
SplitMethod = Literal["even", "weights", "last_year"]
ChildKind = Literal["quarter", "month", "week", "day"]

FIGURE_PATTERN = r"^-?[0-9]+(\.[0-9]{2})?$"
RATE_PATTERN = r"^-?[0-9]+\.[0-9]{4}$"
NOTE_MAX = 500  # the column

Figure = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": FIGURE_PATTERN,
            "description": 'An exact decimal string: money with two places (`"8333.33"`), '
            'counts whole (`"33"`).',
            "examples": ["8333.33", "33"],
        },
        mode="serialization",
    ),
]
"""A target figure in a response: money two places, counts whole, always a string."""
Rate = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": RATE_PATTERN,
            "description": 'actual ÷ target, four places half-up (`"0.3000"` = 30 %).',
            "examples": ["0.3000"],
        },
        mode="serialization",
    ),
]
Number = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["0.7"]},
        mode="serialization",
    ),
]
"""A plain exact decimal string (a factor, a scale)."""
PeriodKey = Annotated[
    str,
    Field(
        max_length=16,
        pattern=PERIOD_PATTERN,
        description="`2027` (fiscal year), `2027-Q1`, `2027-03`, `2027-W09` (ISO week) or "
        "`2027-03-15`.",
        examples=["2027-03"],
    ),
]
# ≥ 0 and Σ > 0 are checked by the split (422 `invalid_weights`, not `validation_failed`).
Weight = Annotated[Decimal, Field(le=Decimal("1e12"), allow_inf_nan=False)]


class TargetCreate(Strict):
    id: uuid.UUID | None = None
    subject: Subject
    subject_id: uuid.UUID | None = Field(
        None, description="The department or user; omitted for the company."
    )
    measure: Measure
    period: PeriodKey
    value: Money = Field(
        description='Money measures: up to two places. Counts: a whole number (`"120"`; '
        "else 422 `whole_number_required`)."
    )
    note: str | None = Field(None, max_length=NOTE_MAX)


class TargetUpdate(Strict):
    value: Money | None = None
    note: str | None = Field(None, max_length=NOTE_MAX)


class SplitIn(Strict):
    by: SplitBy
    method: SplitMethod = "even"
    weights: dict[Annotated[str, Field(max_length=64)], Weight] | None = Field(
        None,
        max_length=1000,
        description="method=weights: one weight (≥ 0, Σ > 0) per child — keyed by the child's "
        "period key (by=period) or subject id (by=subject).",
    )
    into: ChildKind | None = Field(
        None,
        description="by=period only: a year into quarter|month, a quarter into month, a month "
        "into week|day, a week into day (default: month, month, day, day).",
    )
    replace: bool = Field(False, description="Replace the live children (soft-deleted).")


class TargetOut(BaseModel):
    id: uuid.UUID
    subject: Subject
    subject_id: uuid.UUID | None
    measure: Measure
    period: str
    period_kind: Literal["year", "quarter", "month", "week", "day"]
    starts_on: date = Field(description="The period's first day (company date, inclusive).")
    ends_on: date = Field(
        description="The day after the period's last day (exclusive): the period is "
        "[starts_on, ends_on)."
    )
    last_day: date = Field(description="The period's last day (inclusive).")
    value: Figure
    unallocated: Figure | None = Field(
        description="value − Σ live children's values (negative when they add up to more); "
        "null when the target has no children."
    )
    parent_id: uuid.UUID | None
    split_by: SplitBy | None
    split_method: SplitMethod | None
    note: str | None
    actual: Figure = Field(description="The live actual of the subject in the period, now.")
    rate: Rate | None = Field(description="actual ÷ value now; null when the value is 0.")
    snapshot_actual: Figure | None = Field(
        description="The actual written once when the period ended (null until then)."
    )
    snapshot_rate: Rate | None
    snapshot_at: datetime | None
    created_by: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class SplitOut(BaseModel):
    items: list[TargetOut]


class MonthActual(BaseModel):
    period: str
    actual: Figure


class SuggestionInputs(BaseModel):
    months: list[MonthActual] = Field(
        description="The last three complete calendar months before the period starts (and "
        "before this month), with the subject's actuals."
    )
    factor: Number = Field(description="The share of the average taken as base: 0.7.")
    scale: Number = Field(
        description="The base's multiple of the monthly average: 1 for a month, 3 a quarter, "
        "12 a year; a week or a day: its days × the average per day of the three months."
    )
    customers: int | None = Field(
        description="Customers the subject holds now (not lost); null for count measures."
    )
    average_order_value: Figure | None = Field(
        description="Σ amount of their active/completed contracts signed in the last 12 "
        "months ÷ the customers that have one; null when none has or for count measures."
    )
    target: Figure | None = Field(description="The target set for this subject/measure/period.")


class SuggestionOut(BaseModel):
    subject: Subject
    subject_id: uuid.UUID | None
    measure: Measure
    period: str
    base: Figure = Field(
        description="Average monthly actual of the three months × 0.7 × scale (money to the "
        "fen, counts to two places, half-up)."
    )
    increment: Figure | None = Field(description="target − base; null without a target.")
    expected: Figure | None = Field(
        description="customers × average order value (money measures only)."
    )
    gap: Figure | None = Field(description="target − expected; null when either is null.")
    inputs: SuggestionInputs

"""Bodies of the funnel and forecast reports."""

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core.types import MoneyOut

Ratio = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+\.[0-9]{4}$",
        description="An exact ratio, four places (null when its denominator is 0).",
        examples=["0.1000"],
    ),
]
Days = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["3.50"])]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}$", examples=["2027-03"])]


class FunnelStage(BaseModel):
    stage_id: uuid.UUID
    name: str
    kind: Literal["open", "won", "lost"]
    position: int
    probability: int
    retired: bool
    entered: int = Field(description="Distinct opportunities that entered it in the window.")
    current_count: int = Field(
        description="In it now (open ones in an open stage; won/lost ones in a won/lost stage)."
    )
    current_amount: MoneyOut
    reached_next: int = Field(
        description="Of those entered, how many later entered a later stage that is not lost."
    )
    conversion: Ratio | None = Field(description="reached_next ÷ entered.")
    avg_days_in_stage: Days | None = Field(
        description="Mean time spent in it by the moves out of it in the window, in days."
    )


class FunnelReport(BaseModel):
    pipeline_id: uuid.UUID
    since: date | None
    until: date | None
    entered: int = Field(description="Entered the first stage in the window.")
    won: int = Field(description="Won in the window (entered a won stage).")
    lost: int = Field(description="Lost in the window (entered a lost stage, still lost).")
    win_rate: Ratio | None = Field(description="won ÷ entered.")
    close_rate: Ratio | None = Field(description="won ÷ (won + lost).")
    target_deals: int | None
    prospects_needed: int | None = Field(
        description="⌈target_deals ÷ win_rate⌉ (exact), with `target_deals`; null without a "
        "win rate."
    )
    stages: list[FunnelStage] = Field(description="By position, retired stages flagged.")


class ForecastMonth(BaseModel):
    month: Month
    count: int = Field(description="Open opportunities expected to close in the month.")
    amount: MoneyOut
    weighted_amount: MoneyOut = Field(
        description="Σ amount × stage probability ÷ 100, rounded half-up to the fen once."
    )
    won_count: int = Field(description="Opportunities won (closed) in the month.")
    won_amount: MoneyOut


class ForecastReport(BaseModel):
    since: Month
    until: Month
    pipeline_id: uuid.UUID | None
    include_stale: bool
    items: list[ForecastMonth] = Field(description="One per month, empty months included.")

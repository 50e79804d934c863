"""Bodies of the coverage policy and the coverage report."""

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core.schemas import Strict
from app.reports.pipeline_schemas import Ratio

Per = Literal["week", "month", "quarter", "year"]
Tier = Literal["A", "B", "C", "untiered"]
Decimal2 = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+\.[0-9]{2}$",
        description="An exact figure rounded half up to two places.",
        examples=["222.22"],
    ),
]
Decimal4 = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+\.[0-9]{4}$",
        description="An exact figure rounded half up to four places.",
        examples=["0.3333"],
    ),
]


class TierRule(Strict):
    visits: int = Field(ge=0, le=1000, description="Visits a customer of the tier needs …")
    per: Per = Field(description="… per this period.")
    minutes_per_visit: int = Field(ge=0, le=1440, description="How long one visit takes.")


class CoveragePolicyIn(Strict):
    """Every tier's rule (all four: the policy is replaced whole)."""

    A: TierRule
    B: TierRule
    C: TierRule
    untiered: TierRule = Field(description="Customers without a tier.")


class TierRuleOut(BaseModel):
    visits: int
    per: Per
    minutes_per_visit: int


class CoveragePolicyOut(BaseModel):
    A: TierRuleOut
    B: TierRuleOut
    C: TierRuleOut
    untiered: TierRuleOut
    version: int = Field(description="The ETag: 1 while the company has the defaults.")


class LostSales(BaseModel):
    """Where the tier's customers stand in the period, each customer once, in this order:
    won, else an opportunity open, else contacted, else not contacted."""

    not_contacted: int = Field(description="No counting visit and no follow-up in the period.")
    contacted_no_opportunity: int = Field(description="Contacted, no open opportunity.")
    opportunity_open: int = Field(description="An opportunity open, none won in the period.")
    won: int = Field(description="An opportunity won in the period.")
    not_contacted_share: Ratio | None
    contacted_no_opportunity_share: Ratio | None
    opportunity_open_share: Ratio | None
    won_share: Ratio | None


class TierCoverage(BaseModel):
    tier: Tier
    rule: TierRuleOut
    customers: int = Field(description="Customers held by the users in scope (not deleted).")
    required_per_customer: Decimal4 = Field(
        description="The rule's visits scaled to the period (C at 1 a quarter: ⅓ in a month)."
    )
    required_visits: Decimal2 = Field(description="customers × required per customer.")
    visits: int = Field(
        description="Check-ins at these customers that count as visits (not flagged far or "
        "mocked), made by the customer's holder."
    )
    covered: int = Field(description="Customers visited at least as often as required.")
    coverage: Ratio | None = Field(description="covered ÷ customers.")
    hours_needed: Decimal2 = Field(description="required visits × hours per visit.")
    lost_sales: LostSales


class UnderCovered(BaseModel):
    customer_id: uuid.UUID
    name: str
    tier: Tier
    owner_id: uuid.UUID
    owner_name: str
    visits: int = Field(description="Counting visits in the period by the holder.")
    required: Decimal4 = Field(description="Visits the period requires.")
    last_visit_at: datetime | None = Field(description="The last counting visit, ever.")


class CoverageReport(BaseModel):
    period: str
    starts_on: date
    ends_on: date = Field(description="The last day of the period.")
    tiers: list[TierCoverage]
    customers: int
    required_visits: Decimal2
    visits: int
    covered: int
    coverage: Ratio | None
    hours_needed: Decimal2 = Field(description="Σ tiers: the visiting time the policy needs.")
    people: int = Field(description="Active reps in scope (the user, for one user's report).")
    working_days: int = Field(description="The company's working days in the period.")
    hours_available: Decimal2 = Field(
        description="people × working days × the company's working hours per day."
    )
    load: Ratio | None = Field(description="hours needed ÷ hours available.")
    face_to_face_hours: Decimal2 = Field(
        description="Σ durations (check-in → check-out) of those people's counting visits."
    )
    face_to_face_share: Ratio | None = Field(description="face-to-face hours ÷ hours available.")
    under_covered: list[UnderCovered] = Field(
        description="Customers visited less than required, most behind first (capped)."
    )
    under_covered_total: int

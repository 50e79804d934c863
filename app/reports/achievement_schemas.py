"""Bodies of the achievement (目标达成) and ranking (排行) reports.

Every figure is a **decimal string**, never a JSON number: money with two places (`"90000.00"`),
counts (visits, new customers, …) as whole numbers (`"12"`) for `target`, `actual`,
`remaining` and the thirds; `expected`, `daily_needed` and `ahead` always with two places (a
linear share of a count is fractional); `rate` and `pace` with four (`"0.3000"`).
"""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

# The measures of `app.targets.models.MEASURES`, in order (tests check they agree).
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
Subject = Literal["company", "department", "user"]
Third = Literal["early", "middle", "late"]

Figure = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?[0-9]+(\.[0-9]{2})?$",
            "description": "A decimal string: money with two places, counts whole.",
            "examples": ["90000.00", "12"],
        },
        mode="serialization",
    ),
]
Ratio = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^-?[0-9]+\.[0-9]{4}$",
            "description": "A ratio, four places half-up.",
            "examples": ["0.3000", "1.0250"],
        },
        mode="serialization",
    ),
]


class PeriodInfo(BaseModel):
    period: str = Field(description="The period key (`2027`, `2027-Q1`, `2027-03`, …).")
    period_kind: Literal["year", "quarter", "month", "week", "day"]
    since: date = Field(description="Its first day (company time).")
    until: date = Field(description="Its last day, inclusive.")
    today: date = Field(description="Today in company time: figures are by the end of it.")
    days: int = Field(description="Days in the period.")
    days_elapsed: int = Field(description="Days done, today included (0 before it starts).")
    days_left: int = Field(description="Days after today (all before it starts, 0 after it).")


class ThirdActual(BaseModel):
    third: Third = Field(description="上旬 (days 1–10), 中旬 (11–20), 下旬 (21–end).")
    since: date
    until: date = Field(description="Inclusive.")
    actual: Figure


class AchievementRow(BaseModel):
    subject: Subject
    subject_id: uuid.UUID | None = Field(description="The department or user; null: company.")
    name: str
    parent_id: uuid.UUID | None = Field(
        description="Drill-down: a department's parent department, a user's (current) "
        "department; null for the company and top departments' parent."
    )
    level: int = Field(
        description="Depth in the tree: company 0, a department its depth (the root 1), a user "
        "their department's depth + 1."
    )
    measure: Measure
    unit: Literal["money", "count"]
    target_id: uuid.UUID | None = Field(description="The target row; null when none is set.")
    target: Figure | None = Field(
        description="The target of exactly this subject, measure and period; null when none."
    )
    actual: Figure = Field(
        description="A user: everything credited to them; a department: the facts made while "
        "their user was in its subtree (a mover counts where they were); the company: all."
    )
    rate: Ratio | None = Field(description="actual ÷ target; null without target or when 0.")
    remaining: Figure | None = Field(description="target − actual, never below 0.")
    daily_needed: Figure | None = Field(
        description="remaining ÷ days left (null without target or when no day is left)."
    )
    expected: Figure | None = Field(description="target × days elapsed ÷ days (linear).")
    pace: Ratio | None = Field(description="actual ÷ expected (null when expected is 0).")
    ahead: Figure | None = Field(description="actual − expected (negative: behind).")
    thirds: list[ThirdActual] | None = Field(
        description="For a month: the actual of each third (上旬/中旬/下旬); else null."
    )


class AchievementReport(PeriodInfo):
    measures: list[Measure] = Field(
        description="The measures reported: the one asked, or every one with a target in scope."
    )
    items: list[AchievementRow] = Field(
        description="Subject × measure: the company (admins), the departments of the scope by "
        "path, then the users by name; per subject the measures in `measures` order."
    )


class RankEntry(BaseModel):
    rank: int = Field(description="1 = first; equal figures share a rank (1, 2, 2, 4).")
    subject: Literal["department", "user"]
    subject_id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None = Field(
        description="A user's (current) department; a department's parent."
    )
    target: Figure | None = Field(description="Null: no target (ranked by actual after rates).")
    actual: Figure
    rate: Ratio | None


class RankingReport(PeriodInfo):
    measure: Measure
    unit: Literal["money", "count"]
    by: Literal["rate", "actual"]
    level: Literal["user", "department"]
    department_id: uuid.UUID | None = Field(
        description="The department whose members (level user) or sub-departments (level "
        "department) are ranked; null: the whole company."
    )
    total: int = Field(description="Entries ranked in all (the page is `items`).")
    items: list[RankEntry]
    me: RankEntry | None = Field(
        description="The caller's own entry (level department: the ranked department holding "
        "the caller), wherever it is on the pages; null when the caller has no place in it "
        "(an admin without a target of their own)."
    )
    next_offset: int | None = Field(description="`offset` of the next page; null on the last.")

"""Bodies of the caller's dashboard (the app's first screen)."""

import uuid
from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, Field

from app.core.types import MoneyOut
from app.customers.schemas import RecycleReason
from app.fieldwork.plans.schemas import PlanStatus
from app.money.ledger import InstalmentStatus
from app.targets.models import MEASURES

Figure = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+(\.[0-9]{2})?$",
        description="A target figure: money measures (`contract_amount`, `payment_amount`) a "
        "decimal string with two places, the other measures a whole number as a string.",
        examples=["90000.00", "12"],
    ),
]
Ratio = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+\.[0-9]{4}$",
        description="An exact ratio, four places (null when its denominator is 0).",
        examples=["0.3000"],
    ),
]
Expected = Annotated[
    str,
    Field(
        pattern=r"^-?[0-9]+\.[0-9]{2}$",
        description="Where the figure should be by the end of today on a straight line: "
        "target × elapsed days ÷ the month's days (today counts as done), two places.",
        examples=["3.23"],
    ),
]
MEASURE_DESCRIPTION = f"One of {', '.join(MEASURES)} (`app.targets.measures`)."


class TargetProgress(BaseModel):
    target_id: uuid.UUID
    measure: str = Field(description=MEASURE_DESCRIPTION)
    value: Figure = Field(description="The target.")
    actual: Figure
    rate: Ratio | None = Field(description="actual ÷ target.")
    expected: Expected
    pace: Ratio | None = Field(description="actual ÷ expected; below 1 is behind.")
    days_left: int


class MyTarget(TargetProgress):
    rank: int | None = Field(
        description="Among the users of the caller's department with a target of this measure "
        "this month, by rate then actual (equal figures share a rank)."
    )
    ranked: int = Field(description="How many users that rank holds.")


class DepartmentTarget(TargetProgress):
    department_id: uuid.UUID | None = Field(description="Null for the company's target.")
    name: str


class BehindPace(BaseModel):
    user_id: uuid.UUID
    name: str
    target_id: uuid.UUID
    measure: str = Field(description=MEASURE_DESCRIPTION)
    value: Figure
    actual: Figure
    expected: Expected
    pace: Ratio


class Team(BaseModel):
    targets: list[DepartmentTarget] = Field(
        description="The month's department targets of the caller's subtree (admins: the "
        "company's and every department's), by department then measure; at most 100. A "
        "department's actual counts what was made while its maker was in its subtree."
    )
    behind_pace: list[BehindPace] = Field(
        description="The team's user targets of the month most behind pace (lowest pace "
        "first), the caller's own left out; at most 5."
    )


class RecyclingCustomer(BaseModel):
    customer_id: uuid.UUID
    name: str
    recycle_at: datetime
    recycle_reason: RecycleReason | None


class RecyclingSoon(BaseModel):
    count: int = Field(
        description="Held customers whose `recycle_at` falls within their pool's warning days "
        "(or has passed: the job takes them next)."
    )
    items: list[RecyclingCustomer] = Field(description="The first 5, soonest first.")


class OverdueCustomer(BaseModel):
    customer_id: uuid.UUID
    name: str
    next_followup_at: datetime


class OverdueFollowups(BaseModel):
    count: int = Field(description="Held customers whose `next_followup_at` has passed.")
    items: list[OverdueCustomer] = Field(description="The first 5, longest overdue first.")


class DashboardTask(BaseModel):
    task_id: uuid.UUID
    title: str
    due_at: datetime
    customer_id: uuid.UUID | None


class DashboardTasks(BaseModel):
    count: int = Field(description="Open tasks the caller is assigned to, in this window.")
    items: list[DashboardTask] = Field(description="The first 5, soonest due first.")


class TodayPlan(BaseModel):
    plan_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    planned_time: time | None
    sequence: int
    purpose: str | None
    status: PlanStatus
    checkin_id: uuid.UUID | None


class ClosingThisMonth(BaseModel):
    count: int = Field(description="Open opportunities expected to close this month.")
    amount: MoneyOut
    weighted_amount: MoneyOut = Field(
        description="Σ amount × stage probability ÷ 100, rounded half-up to the fen once."
    )


class DueInstalment(BaseModel):
    plan_id: uuid.UUID
    contract_id: uuid.UUID
    contract_number: str
    customer_id: uuid.UUID
    customer_name: str
    due_date: date
    amount: MoneyOut
    paid: MoneyOut
    outstanding: MoneyOut
    status: InstalmentStatus


class PaymentsDue(BaseModel):
    count: int = Field(
        description="Instalments of the caller's active or completed contracts, not fully "
        "paid, due within the company's `payment_due_days` or overdue."
    )
    outstanding: MoneyOut = Field(description="Σ of their unpaid parts.")
    items: list[DueInstalment] = Field(description="The first 5, earliest due first.")


class Birthday(BaseModel):
    contact_id: uuid.UUID
    name: str
    customer_id: uuid.UUID
    customer_name: str


class Birthdays(BaseModel):
    count: int = Field(
        description="Contacts of held customers born on today's date (company time); on 28 "
        "February of a common year those born on 29 February too."
    )
    items: list[Birthday] = Field(description="The first 10, by customer then contact name.")


class Dashboard(BaseModel):
    today: date = Field(description="Today in the company's time zone.")
    month: str = Field(description="This month's period key, e.g. `2027-03`.")
    targets: list[MyTarget] = Field(
        description="The caller's own user targets of this month, by measure."
    )
    department_targets: list[DepartmentTarget] = Field(
        description="The caller's department's targets of this month, by measure."
    )
    customers_held: int
    holding_cap: int = Field(
        description="The caller's cap: the nearest department up the tree with an override, "
        "else the company's (pool rules)."
    )
    recycling_soon: RecyclingSoon
    today_plans: list[TodayPlan] = Field(
        description="Today's visit plans in route order, with status; at most 50."
    )
    overdue_followups: OverdueFollowups
    closing_this_month: ClosingThisMonth
    payments_due: PaymentsDue
    birthdays: Birthdays
    tasks_today: DashboardTasks = Field(
        description="Open tasks due from now until midnight (company time)."
    )
    tasks_overdue: DashboardTasks = Field(description="Open tasks whose due time has passed.")
    unread_notifications: int
    team: Team | None = Field(
        description="Managers: their subtree; admins: the company; null for reps."
    )

"""Bodies of the company's settings (`GET/PATCH /v1/company/settings`)."""

from datetime import datetime, time
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from app.core import limits
from app.core.schemas import Strict
from app.core.types import Money, MoneyOut
from app.fieldwork.checkins.rules import CheckinThresholds
from app.org.schemas import Locale

HOURS_PATTERN = r"^[0-9]{1,2}(\.[0-9]{1,2})?$"

HoursOut = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value.quantize(Decimal('0.01'))}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": HOURS_PATTERN, "examples": ["8.00"]}),
]
Weekday = Annotated[int, Field(ge=1, le=7, description="ISO weekday: 1 Monday … 7 Sunday.")]


class CheckinThresholdsOut(BaseModel):
    far_from_customer_m: float = Field(description="A check-in farther than this is flagged.")
    low_accuracy_m: float = Field(description="A GPS accuracy worse than this is flagged.")
    max_speed_kmh: float = Field(description="Faster than this since the last check-in: flagged.")
    clock_skew_s: float = Field(description="Device clock off by more than this: flagged.")
    photo_far_m: float = Field(description="A photo taken farther than this away: flagged.")
    photo_stale_s: float = Field(description="A photo older than this: flagged.")
    count_far_as_followup: bool = Field(
        description="Whether a check-in flagged far still moves the follow-up clock and counts "
        "as a contact."
    )
    count_mock_as_followup: bool = Field(
        description="Whether a mocked-location check-in still moves the follow-up clock."
    )


class CompanySettingsOut(BaseModel):
    """Everything the jobs and reports of the company read (ETag: the company's version)."""

    time_zone: str = Field(description="IANA name: company dates, days and reminder hours.")
    locale: str
    currency: str = Field(description="ISO 4217 code of the company's money.")
    fiscal_year_start_month: int = Field(description="1–12: the month a target year starts.")
    week_start: int = Field(description="ISO weekday the company's week starts on.")
    working_days: list[int] = Field(description="ISO weekdays worked (1 Monday … 7 Sunday).")
    working_hours_per_day: HoursOut = Field(
        description="Working hours of a day: the coverage report's hours available."
    )
    workday_start: time
    workday_end: time
    split_working_days_only: bool = Field(
        description="Splitting a target into days gives non-working days nothing."
    )
    checkins: CheckinThresholdsOut
    reminder_hour: int = Field(description="Local hour (0–23) the daily reminders go out.")
    forgotten_after_days: int = Field(
        description="A held customer with no contact for this many days is a reminder."
    )
    contract_expiring_days: int = Field(description="Days before a contract ends: reminder.")
    payment_due_days: int = Field(description="Days before an instalment is due: reminder.")
    plan_reminder_minutes: int = Field(description="Minutes before a planned visit: reminder.")
    quadrant_amount_line: MoneyOut | None = Field(
        description="The opportunity quadrant's size line; null: the median open amount."
    )
    mask_phones: bool = Field(
        description="Customer and contact phones are masked (138****5678) for everyone but the "
        "owner, collaborators, the managers above the owner and admins; pool customers until "
        "claimed."
    )
    restore_days: int = Field(
        description="Days a deleted customer, follow-up, log, opportunity or draft contract "
        "may be restored; purged after."
    )
    checkins_count_as_attendance: bool = Field(
        description="A day with a check-in that counts as a visit is a day of field "
        "attendance (worked, not absent), no clock-in or site needed."
    )
    ticket_hours_urgent: int = Field(description="Hours to handle an urgent ticket (due time).")
    ticket_hours_high: int = Field(description="Hours to handle a high-priority ticket.")
    ticket_hours_normal: int = Field(description="Hours to handle a normal ticket.")
    ticket_hours_low: int = Field(description="Hours to handle a low-priority ticket.")
    version: int
    updated_at: datetime


class CheckinThresholdsPatch(Strict):
    far_from_customer_m: float | None = Field(None, gt=0, le=100_000)
    low_accuracy_m: float | None = Field(None, gt=0, le=100_000)
    max_speed_kmh: float | None = Field(None, gt=0, le=2_000)
    clock_skew_s: float | None = Field(None, gt=0, le=86_400)
    photo_far_m: float | None = Field(None, gt=0, le=100_000)
    photo_stale_s: float | None = Field(None, gt=0, le=604_800)
    count_far_as_followup: bool | None = None
    count_mock_as_followup: bool | None = None


class CompanySettingsPatch(Strict):
    """A partial update: only the fields sent change (the thresholds too, key by key); unknown
    fields are refused. Null is only meaningful for `quadrant_amount_line` (back to the
    median)."""

    time_zone: str | None = Field(None, min_length=1, max_length=limits.TIME_ZONE_MAX)
    locale: Locale | None = None
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    fiscal_year_start_month: int | None = Field(None, ge=1, le=12)
    week_start: Weekday | None = None
    working_days: list[Weekday] | None = Field(None, min_length=1, max_length=7)
    working_hours_per_day: Decimal | None = Field(None, gt=0, le=24, max_digits=4, decimal_places=2)
    workday_start: time | None = None
    workday_end: time | None = None
    split_working_days_only: bool | None = None
    checkins: CheckinThresholdsPatch | None = None
    reminder_hour: int | None = Field(None, ge=0, le=23)
    forgotten_after_days: int | None = Field(None, gt=0, le=3650)
    contract_expiring_days: int | None = Field(None, gt=0, le=365)
    payment_due_days: int | None = Field(None, ge=0, le=365)
    plan_reminder_minutes: int | None = Field(None, ge=0, le=1440)
    quadrant_amount_line: Money | None = None
    mask_phones: bool | None = None
    restore_days: int | None = Field(None, ge=1, le=3650)
    ticket_hours_urgent: int | None = Field(None, gt=0, le=8760)
    ticket_hours_high: int | None = Field(None, gt=0, le=8760)
    ticket_hours_normal: int | None = Field(None, gt=0, le=8760)
    ticket_hours_low: int | None = Field(None, gt=0, le=8760)
    checkins_count_as_attendance: bool | None = None


def thresholds_out(limits_: CheckinThresholds) -> CheckinThresholdsOut:
    return CheckinThresholdsOut.model_validate(limits_.model_dump())

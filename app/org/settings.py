"""A company's settings, read in one place.

Stored as `companies.time_zone` (a column: every report and job reads it) and the
`companies.settings` JSON (everything else). What is absent in the JSON takes the default below;
the defaults that come from the environment (`OUTFIELD_REMINDER_HOUR`,
`OUTFIELD_FORGOTTEN_AFTER_DAYS`) are written into the JSON of a company when it signs up, so an
environment change affects new companies only (`initial_settings`).

Every job and report reads a company's settings through `company_settings` (one row) or
`CompanySettings.of(time_zone, json)` (when it already selected the columns).
"""

import uuid
from datetime import time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.org.models import Company

WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: 1 = Monday … 7 = Sunday


class CheckinSettings(BaseModel):
    """Thresholds of the check-in plausibility flags (`app.fieldwork.checkins.rules`)."""

    model_config = ConfigDict(extra="ignore")

    far_from_customer_m: float = Field(300, gt=0, le=100_000)
    low_accuracy_m: float = Field(100, gt=0, le=100_000)
    max_speed_kmh: float = Field(150, gt=0, le=2_000)
    clock_skew_s: float = Field(600, gt=0, le=86_400)
    photo_far_m: float = Field(500, gt=0, le=100_000)
    photo_stale_s: float = Field(3600, gt=0, le=604_800)
    count_far_as_followup: bool = False
    count_mock_as_followup: bool = False


class CompanySettings(BaseModel):
    """The values every job and report uses; defaults for what a company has not set."""

    model_config = ConfigDict(extra="ignore")

    time_zone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    week_start: int = Field(1, ge=1, le=7, description="ISO weekday the week starts on.")
    working_days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    working_hours_per_day: Decimal = Field(Decimal("8"), gt=0, le=24)
    workday_start: time = time(9, 0)
    workday_end: time = time(18, 0)
    # Splitting a month into days gives non-working days nothing (else every day a share).
    split_working_days_only: bool = False
    checkins: CheckinSettings = Field(default_factory=CheckinSettings)
    reminder_hour: int = Field(9, ge=0, le=23)
    forgotten_after_days: int = Field(150, gt=0, le=3650)
    contract_expiring_days: int = Field(30, gt=0, le=365)
    payment_due_days: int = Field(3, ge=0, le=365)
    plan_reminder_minutes: int = Field(30, ge=0, le=1440)
    # The opportunity quadrant's size line (None: the median open amount).
    quadrant_amount_line: Decimal | None = None
    mask_phones: bool = False

    @classmethod
    def of(cls, time_zone: str | None, stored: dict[str, Any] | None) -> "CompanySettings":
        """From the stored column and JSON; a stored value that no longer validates falls back
        to the default instead of failing a job."""
        values = dict(stored or {})
        values["time_zone"] = time_zone or "Asia/Shanghai"
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
            return cls.model_validate({k: v for k, v in values.items() if k not in bad})

    def is_working_day(self, iso_weekday: int) -> bool:
        return iso_weekday in self.working_days


def initial_settings() -> dict[str, Any]:
    """The JSON a new company starts with: the environment's defaults, fixed at signup."""
    env = get_settings()
    return {
        "reminder_hour": env.reminder_hour,
        "forgotten_after_days": env.forgotten_after_days,
    }


async def company_settings(session: AsyncSession, company_id: uuid.UUID) -> CompanySettings:
    """One company's settings (one row)."""
    row = (
        await session.execute(
            select(Company.time_zone, Company.settings).where(Company.id == company_id)
        )
    ).one()
    return CompanySettings.of(row.time_zone, row.settings)

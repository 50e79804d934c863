"""A company's settings, read in one place.

Stored as `companies.time_zone` (a column: every report and job reads it) and the
`companies.settings` JSON (everything else), edited with `PATCH /v1/company/settings`
(`app.org.settings_router`; each change bumps `companies.version`, the ETag). What is absent in
the JSON takes the default below. A new company gets every setting written into its JSON at
signup (`initial_settings`), those that come from the environment (`OUTFIELD_REMINDER_HOUR`,
`OUTFIELD_FORGOTTEN_AFTER_DAYS`) as the environment says then — so an environment change
affects new companies only; migration 0013 wrote the same into the companies that existed.

Every job and report reads a company's settings through `company_settings` (one row) or
`CompanySettings.of(time_zone, json)` (when it already selected the columns).
"""

import uuid
from datetime import time
from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.core.concurrency import check_if_match
from app.core.errors import validation_failed
from app.fieldwork.checkins.rules import CheckinThresholds
from app.org import errors
from app.org.models import Company

WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: 1 = Monday … 7 = Sunday


# The check-in thresholds: one definition, the check-in rules' own model.
CheckinSettings = CheckinThresholds


class CompanySettings(BaseModel):
    """The values every job and report uses; defaults for what a company has not set."""

    # Counts are strict: a stored "5" or true is not a count (read as the default).
    model_config = ConfigDict(extra="ignore")

    time_zone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    fiscal_year_start_month: int = Field(1, ge=1, le=12, strict=True)
    week_start: int = Field(1, ge=1, le=7, strict=True)
    working_days: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    working_hours_per_day: Decimal = Field(Decimal("8"), gt=0, le=24)
    workday_start: time = time(9, 0)
    workday_end: time = time(18, 0)
    # Splitting a month into days gives non-working days nothing (else every day a share).
    split_working_days_only: bool = False
    checkins: CheckinSettings = Field(default_factory=CheckinSettings)
    reminder_hour: int = Field(9, ge=0, le=23, strict=True)
    forgotten_after_days: int = Field(150, gt=0, le=3650, strict=True)
    contract_expiring_days: int = Field(30, gt=0, le=365, strict=True)
    payment_due_days: int = Field(3, ge=0, le=365, strict=True)
    plan_reminder_minutes: int = Field(30, ge=0, le=1440, strict=True)
    # Today's route (`POST /v1/visit-plans/optimize`, no road network): straight lines × the
    # detour factor, driven at the average speed; a planned time is kept within ± the window.
    route_detour_factor: float = Field(1.3, ge=1, le=3)
    route_speed_kmh: float = Field(30, gt=0, le=200)
    route_window_minutes: int = Field(30, ge=0, le=240, strict=True)
    # The opportunity quadrant's size line (None: the median open amount).
    quadrant_amount_line: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    # Customer and contact phones masked (138****5678) for all but the owner, collaborators,
    # the managers above the owner and admins (`app.privacy.masking`).
    mask_phones: bool = False
    # Soft-deleted records may be restored for this many days; the `purge` job removes them
    # after that (`app.retention`).
    restore_days: int = Field(30, ge=1, le=3650, strict=True)
    # A ticket's due time: hours after it is opened, by priority (tickets' `overdue`).
    ticket_hours_urgent: int = Field(4, gt=0, le=8760, strict=True)
    ticket_hours_high: int = Field(24, gt=0, le=8760, strict=True)
    ticket_hours_normal: int = Field(72, gt=0, le=8760, strict=True)
    ticket_hours_low: int = Field(168, gt=0, le=8760, strict=True)
    # Attendance (`app.attendance`): a day with a check-in that counts as a visit is a day of
    # field attendance (worked, not absent) even without a clock-in.
    checkins_count_as_attendance: bool = False

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(day not in WEEKDAYS for day in value):
            raise ValueError("ISO weekdays 1 (Monday) … 7 (Sunday), at least one")
        if len(set(value)) != len(value):
            raise ValueError("each weekday once")
        return sorted(value)

    @model_validator(mode="after")
    def _workday(self) -> "CompanySettings":
        if self.workday_end <= self.workday_start:
            raise ValueError("workday_end must be after workday_start")
        return self

    @classmethod
    def of(cls, time_zone: str | None, stored: dict[str, Any] | None) -> "CompanySettings":
        """From the stored column and JSON; a stored value that no longer validates falls back
        to the default instead of failing a job."""
        values = dict(stored or {})
        values["time_zone"] = time_zone or "Asia/Shanghai"
        values["checkins"] = CheckinThresholds.from_settings(stored)
        for _ in range(3):
            try:
                return cls.model_validate(values)
            except ValidationError as error:
                bad = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
                # A rule across fields (the workday) names none: drop the fields it reads.
                bad = bad or {"workday_start", "workday_end"}
                values = {k: v for k, v in values.items() if k not in bad}
        return cls(time_zone=values["time_zone"])

    def stored(self) -> dict[str, Any]:
        """The `companies.settings` JSON of these settings (the time zone is a column)."""
        return self.model_dump(mode="json", exclude={"time_zone"})

    def is_working_day(self, iso_weekday: int) -> bool:
        return iso_weekday in self.working_days


def initial_settings() -> dict[str, Any]:
    """The JSON a new company starts with: every setting at its default, the environment's
    (`OUTFIELD_REMINDER_HOUR`, `OUTFIELD_FORGOTTEN_AFTER_DAYS`) fixed at signup."""
    env = get_settings()
    return CompanySettings(
        reminder_hour=env.reminder_hour, forgotten_after_days=env.forgotten_after_days
    ).stored()


async def company_settings(session: AsyncSession, company_id: uuid.UUID) -> CompanySettings:
    """One company's settings (one row)."""
    row = (
        await session.execute(
            select(Company.time_zone, Company.settings).where(Company.id == company_id)
        )
    ).one()
    return CompanySettings.of(row.time_zone, row.settings)


# ---------- reading and editing (`GET/PATCH /v1/company/settings`) ----------

_ZONES = available_timezones()
_NULLABLE = {"quadrant_amount_line"}


async def _known_zone(session: AsyncSession, name: str) -> bool:
    """An IANA name Python knows and PostgreSQL too (every report converts in SQL)."""
    if name not in _ZONES:
        return False
    try:
        async with session.begin_nested():
            await session.execute(text("SELECT now() AT TIME ZONE :zone"), {"zone": name})
    except DBAPIError:
        return False
    return True


async def read_settings(
    session: AsyncSession, company_id: uuid.UUID, *, lock: bool = False
) -> tuple[Company, CompanySettings]:
    """The company row (locked when `lock`) and its settings."""
    company = await session.get_one(Company, company_id, with_for_update=lock or None)
    return company, CompanySettings.of(company.time_zone, company.settings)


def _refuse_nulls(values: dict[str, Any], where: tuple[str, ...]) -> None:
    for name, value in values.items():
        if value is None and name not in _NULLABLE:
            raise validation_failed(
                f"`{name}` cannot be null: send a value or leave it out.",
                loc=(*where, name),
                msg="a value is required",
            )


async def update_settings(
    session: AsyncSession, company_id: uuid.UUID, patch: BaseModel, if_match: str | None
) -> tuple[Company, CompanySettings]:
    """A partial update under If-Match on `companies.version` (428/412), validated as a whole
    (422 `invalid_time_zone`, `validation_failed`); bumps the version."""
    company, current = await read_settings(session, company_id, lock=True)
    check_if_match(if_match, company.version)
    sent = patch.model_dump(exclude_unset=True)
    _refuse_nulls(sent, ("body",))
    merged = current.model_dump()
    for name, value in sent.items():
        if name == "checkins":
            _refuse_nulls(value, ("body", "checkins"))
            merged["checkins"] = {**merged["checkins"], **value}
        else:
            merged[name] = value
    if "time_zone" in sent and not await _known_zone(session, sent["time_zone"]):
        raise errors.invalid_time_zone(sent["time_zone"])
    try:
        settings = CompanySettings.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        loc = ("body", *(str(part) for part in first["loc"]))
        raise validation_failed(first["msg"], loc=loc) from None
    company.time_zone = settings.time_zone
    company.settings = settings.stored()
    company.version += 1
    await session.flush()
    await session.refresh(company)
    return company, settings

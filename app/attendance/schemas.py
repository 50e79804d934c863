"""Request and response bodies of attendance: clock-in/out, work sites, the monthly sheet."""

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.core import limits
from app.core.location import LocationIn, LocationOut
from app.core.schemas import Strict
from app.core.types import Name, Timestamp
from app.fieldwork.checkins.schemas import Flag

AttendanceKind = Literal["in", "out"]
Hours = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+\.[0-9]{2}$",
        description="Hours, exact, rounded half up to two places.",
        examples=["176.50"],
    ),
]


class ClockIn(Strict):
    """A clock-in or clock-out from the phone."""

    id: uuid.UUID | None = Field(None, description="Client-generated id: retries are safe.")
    location: LocationIn
    client_recorded_at: Timestamp = Field(description="When the phone recorded it.")
    offline: bool = Field(False, description="Recorded offline and sent later.")
    mock_location: bool = Field(False, description="As reported by the phone OS.")
    photo_ids: list[uuid.UUID] = Field(default_factory=list, max_length=9)
    note: str | None = Field(None, max_length=limits.NOTE_MAX)
    device_id: str | None = Field(None, max_length=limits.PURPOSE_MAX)


class AttendanceOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    kind: AttendanceKind
    work_date: date = Field(
        description="The company-local day it counts for (a clock-out: its clock-in's day)."
    )
    location: LocationOut
    accuracy_m: float | None
    submitted_crs: str
    client_recorded_at: datetime
    received_at: datetime
    offline: bool
    mock_location: bool
    photo_ids: list[uuid.UUID]
    note: str | None
    device_id: str | None
    site_id: uuid.UUID | None = Field(description="The nearest work site (null: no sites).")
    site_distance_m: float | None = Field(description="Metres to that site.")
    flags: list[Flag] = Field(
        description="Each with its figures: the check-in ones (`low_accuracy`, "
        "`impossible_speed`, `clock_skew`, `mock_location`, `photo_far`, `photo_stale`) and "
        "`outside_site`, `late`, `left_early`, `no_clock_in`. Flags never reject a record."
    )
    created_at: datetime


class SiteCreate(Strict):
    id: uuid.UUID | None = Field(None, description="Client-generated id: retries are safe.")
    name: Name
    location: LocationIn
    radius_m: int = Field(300, gt=0, le=100_000, description="Clocking in farther is flagged.")


class SiteUpdate(Strict):
    name: Name | None = None
    location: LocationIn | None = None
    radius_m: int | None = Field(None, gt=0, le=100_000)


class SiteOut(BaseModel):
    id: uuid.UUID
    name: str
    location: LocationOut
    radius_m: int
    version: int
    created_at: datetime
    updated_at: datetime


class SheetRow(BaseModel):
    kind: Literal["company", "department", "user"]
    id: uuid.UUID = Field(description="The company's, the department's or the user's id.")
    name: str
    parent_id: uuid.UUID | None = Field(
        description="The row above (a department's parent, a rep's department; the company "
        "for the top departments); null for the top row."
    )
    level: int = Field(description="0 for the top row, one more per step down.")
    people: int = Field(description="People summed in the row (1 for a user).")
    working_days: int = Field(description="The month's working days (company settings), each.")
    days_worked: int = Field(
        description="Days with a clock-in (or, with `checkins_count_as_attendance`, a check-in "
        "that counts as a visit), working days or not."
    )
    late: int = Field(description="Working days whose first clock-in was after the start.")
    left_early: int = Field(description="Working days whose last clock-out was before the end.")
    absent: int = Field(
        description="Past working days (before today, from the day the user was added, until "
        "deactivated) with no attendance."
    )
    hours: Hours = Field(description="Per day worked: last clock-out − first clock-in, summed.")
    flagged: int = Field(description="Records with any flag (plausibility, site, time).")


class AttendanceSheet(BaseModel):
    month: str = Field(description="`YYYY-MM`.")
    since: date
    until: date
    rows: list[SheetRow] = Field(
        description="Depth first: the company (admins, whole company), each department with "
        "its people then its sub-departments; a department sums the people now in its subtree."
    )

"""Attendance (外勤考勤): clock-in / clock-out records and the company's work sites."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk

KINDS = ("in", "out")


class AttendanceSite(Base):
    """A place the company expects people to clock in at (office, warehouse, a key account);
    an optional list: without sites no clock-in is `outside_site`. Soft-deleted, so records
    keep pointing at the site they were judged against."""

    __tablename__ = "attendance_sites"
    __table_args__ = (
        CheckConstraint("radius_m > 0 AND radius_m <= 100000", name="radius"),
        Index("ix_attendance_sites_company", "company_id", "created_at", "id"),
        tenant_key("attendance_sites"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int] = mapped_column(Integer)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class AttendanceRecord(Base):
    """One clock-in or clock-out from the phone, with the plausibility flags of check-ins and
    the attendance ones (`outside_site`, `late`, `left_early`, `no_clock_in`), each with its
    figures. `work_date` is the company-local day it counts for: a clock-in's own day; a
    clock-out's the day of the clock-in it closes (within 24 hours), so a night shift's
    clock-out after midnight still closes the day before."""

    __tablename__ = "attendance_records"
    __table_args__ = (
        CheckConstraint("kind IN ('in', 'out')", name="kind"),
        Index("ix_attendance_records_user_recorded", "company_id", "user_id", "client_recorded_at"),
        Index("ix_attendance_records_company_day", "company_id", "work_date", "user_id"),
        # The sheet for a department: its people's days (the day-first index made the planner
        # scan a month of the company with the ids as a filter — bench/README.md).
        Index("ix_attendance_records_user_day", "company_id", "user_id", "work_date"),
        tenant_key("attendance_records"),
        tenant_fk("attendance_records", "user_id", "users"),
        tenant_fk("attendance_records", "site_id", "attendance_sites"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(4))
    work_date: Mapped[date]
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    submitted_crs: Mapped[str] = mapped_column(String(8))
    client_recorded_at: Mapped[datetime]
    received_at: Mapped[datetime]
    offline: Mapped[bool] = mapped_column(server_default=text("false"))
    mock_location: Mapped[bool] = mapped_column(server_default=text("false"))
    device_id: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # The nearest active site when it was recorded, and how far it was (None: no sites).
    site_id: Mapped[uuid.UUID | None]
    site_distance_m: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()

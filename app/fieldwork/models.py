"""Field work: files, check-ins, follow-ups (and their attachments)."""

import uuid
from datetime import date, datetime, time
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk
from app.fieldwork.files.schemas import FileKind
from app.fieldwork.followups.schemas import FollowupKind
from app.fieldwork.logs.schemas import Period

FOLLOWUP_KINDS = ("call", "visit", "message", "meeting", "other")
POINT_FROM_COLUMNS = "(ST_SetSRID(ST_MakePoint(longitude, latitude), 4326))::geography"


class StoredFile(Base):
    """An uploaded photo or voice note of one uploader; identical bytes are stored once per
    company (`storage_key`), each uploader having a record of their own."""

    __tablename__ = "files"
    __table_args__ = (
        # One record per uploader of some bytes (the bytes themselves are stored once).
        Index(
            "uq_files_company_sha256_uploader", "company_id", "sha256", "uploaded_by", unique=True
        ),
        CheckConstraint("kind IN ('photo', 'voice')", name="kind"),
        tenant_key("files"),
        tenant_fk("files", "uploaded_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    uploaded_by: Mapped[uuid.UUID]
    kind: Mapped[FileKind] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str | None] = mapped_column(String(255))
    # EXIF metadata read before it was stripped from the stored copy (photos only).
    taken_at: Mapped[datetime | None]
    taken_latitude: Mapped[float | None] = mapped_column(Float)
    taken_longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = created_at_column()


class Attachment(Base):
    """A file attached to a record (check-in, follow-up, work log)."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_record", "record_type", "record_id"),
        tenant_fk("attachments", "file_id", "files", ondelete="CASCADE"),
    )

    file_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, server_default="0")

    # The key ends in company_id (the tenancy rule); the columns before it already name the
    # row, so they stay the identity the ORM gets and updates by.
    __mapper_args__ = {"primary_key": [file_id, record_type, record_id]}


class Checkin(Base):
    """A GPS check-in at a customer's site, with plausibility flags."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_company_created", "company_id", "created_at", "id"),
        Index("ix_checkins_user_recorded", "user_id", "client_recorded_at"),
        # The measures' company-wide month (`app.targets.measures`, visits by recorded time).
        Index("ix_checkins_company_recorded", "company_id", "client_recorded_at"),
        # Visits (`app.targets.measures.counts_as_visit`, the same predicate, constants inline)
        # of the users of a department, index-only: the measures, the customers visited (work
        # report), the time on site (coverage).
        Index(
            "ix_checkins_user_visits",
            "company_id",
            "user_id",
            "client_recorded_at",
            postgresql_include=["customer_id", "duration_s"],
            postgresql_where=text(
                "mock_location IS false"
                """ AND NOT (flags @> '[{"code": "far_from_customer"}]'::jsonb)"""
                """ AND NOT (flags @> '[{"code": "mock_location"}]'::jsonb)"""
            ),
        ),
        Index("ix_checkins_customer_created", "customer_id", "created_at"),
        Index("ix_checkins_location", "location", postgresql_using="gist"),
        Index("ix_checkins_position", "company_id", "position_key"),
        Index(
            "ix_checkins_flagged",
            "company_id",
            "created_at",
            postgresql_where=text("jsonb_array_length(flags) > 0"),
        ),
        tenant_key("checkins"),
        tenant_fk("checkins", "user_id", "users"),
        tenant_fk("checkins", "customer_id", "customers"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    location: Mapped[Any] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False),
        Computed(POINT_FROM_COLUMNS, persisted=True),
        deferred=True,
    )
    position_key: Mapped[str] = mapped_column(String(32))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    submitted_crs: Mapped[str] = mapped_column(String(8))
    client_recorded_at: Mapped[datetime]
    received_at: Mapped[datetime]
    offline: Mapped[bool] = mapped_column(server_default=text("false"))
    purpose: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    mock_location: Mapped[bool] = mapped_column(server_default=text("false"))
    device_id: Mapped[str | None] = mapped_column(String(200))
    distance_m: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    counts_as_followup: Mapped[bool] = mapped_column(server_default=text("true"))
    checked_out_at: Mapped[datetime | None]
    duration_s: Mapped[int | None] = mapped_column(Integer)
    # The structured visit summary given at check-out (outcome, next step, competitors, order or
    # payment collected); None until then.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()


class Followup(Base):
    """A follow-up record (跟进记录) on a customer: call, visit, message, meeting, other."""

    __tablename__ = "followups"
    __table_args__ = (
        CheckConstraint("kind IN ('call', 'visit', 'message', 'meeting', 'other')", name="kind"),
        Index("ix_followups_company_created", "company_id", "created_at", "id"),
        Index("ix_followups_customer_created", "customer_id", "created_at", "id"),
        Index("ix_followups_user_created", "user_id", "created_at"),
        tenant_key("followups"),
        tenant_fk("followups", "user_id", "users"),
        tenant_fk("followups", "customer_id", "customers"),
        tenant_fk("followups", "checkin_id", "checkins"),
        tenant_fk("followups", "lead_id", "leads"),
        # On a customer, or on a lead (which, once converted, also names its customer).
        CheckConstraint("customer_id IS NOT NULL OR lead_id IS NOT NULL", name="customer_or_lead"),
        Index(
            "ix_followups_lead_created",
            "company_id",
            "lead_id",
            "created_at",
            postgresql_where=text("lead_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID | None]
    lead_id: Mapped[uuid.UUID | None]
    kind: Mapped[FollowupKind] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    next_followup_at: Mapped[datetime | None]
    checkin_id: Mapped[uuid.UUID | None]
    request_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class WorkLog(Base):
    """A daily, weekly or monthly review (日报/周报/月报) with the figures of its period."""

    __tablename__ = "work_logs"
    __table_args__ = (
        CheckConstraint("period IN ('daily', 'weekly', 'monthly')", name="period"),
        Index(
            "uq_work_logs_user_period",
            "user_id",
            "period",
            "period_start",
            "company_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_work_logs_company_created", "company_id", "created_at", "id"),
        tenant_key("work_logs"),
        tenant_fk("work_logs", "user_id", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    period: Mapped[Period] = mapped_column(String(8))
    period_start: Mapped[date]
    # Defined before `text`, whose name shadows sqlalchemy.text inside this class body.
    figures: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    text: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class WorkLogCustomer(Base):
    __tablename__ = "work_log_customers"
    __table_args__ = (
        Index("ix_work_log_customers_customer", "customer_id"),
        tenant_fk("work_log_customers", "log_id", "work_logs", ondelete="CASCADE"),
        tenant_fk("work_log_customers", "customer_id", "customers"),
    )

    log_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )

    # The key ends in company_id (the tenancy rule); the columns before it already name the
    # row, so they stay the identity the ORM gets and updates by.
    __mapper_args__ = {"primary_key": [log_id, customer_id]}


class VisitPlan(Base):
    """A planned visit (拜访计划) of a user to a customer on a day."""

    __tablename__ = "visit_plans"
    __table_args__ = (
        Index("ix_visit_plans_user_date", "user_id", "plan_date", "sequence"),
        Index("ix_visit_plans_company_created", "company_id", "created_at", "id"),
        # The plan reminder's way in: timed plans not yet reminded.
        Index(
            "ix_visit_plans_to_remind",
            "plan_date",
            postgresql_where=text(
                "planned_time IS NOT NULL AND reminded_at IS NULL AND deleted_at IS NULL"
            ),
        ),
        tenant_key("visit_plans"),
        tenant_fk("visit_plans", "user_id", "users"),
        tenant_fk("visit_plans", "customer_id", "customers"),
        tenant_fk("visit_plans", "created_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    plan_date: Mapped[date]
    planned_time: Mapped[time | None]
    sequence: Mapped[int] = mapped_column(Integer, server_default="0")
    purpose: Mapped[str | None] = mapped_column(String(200))
    # From VISIT_PURPOSES (new_business, information, collection, service, problem, order, other).
    purposes: Mapped[list[str]] = mapped_column(ARRAY(String(16)), server_default=text("'{}'"))
    reminded_at: Mapped[datetime | None]  # when `plan_reminder` was sent (once)
    created_by: Mapped[uuid.UUID]
    request_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]

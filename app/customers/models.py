"""Customers, contacts, collaborators, ownership history, pools and pool settings."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import (
    CheckConstraint,
    Computed,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.customers.schemas import RecycleReason, Status, Tier
from app.db import Base, created_at_column, updated_at_column, uuid_pk

STATUSES = ("prospect", "active", "won", "lost")
OWNERSHIP_KINDS = ("created", "claimed", "released", "recycled", "transferred", "assigned")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("status IN ('prospect', 'active', 'won', 'lost')", name="status"),
        CheckConstraint("tier IS NULL OR tier IN ('A', 'B', 'C')", name="tier"),
        # Duplicate check (查重) is enforced here, so concurrent creates cannot both win.
        Index(
            "uq_customers_company_name",
            "company_id",
            "name_normalized",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "uq_customers_company_phone",
            "company_id",
            "phone_normalized",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND phone_normalized IS NOT NULL"),
        ),
        Index(
            "ix_customers_owner",
            "company_id",
            "owner_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        # The coverage report (`app.coverage.report`), index-only: a person's held customers in
        # id order (merged with their open opportunities), and per tier in id order (the page).
        Index(
            "ix_customers_owner_held",
            "company_id",
            "owner_id",
            "id",
            postgresql_include=["tier"],
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_customers_owner_tier",
            "company_id",
            "owner_id",
            "tier",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_customers_pool",
            "company_id",
            "pool_id",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL AND owner_id IS NULL"),
        ),
        # The recycle job's way in. Not recycle_at: that moves on every follow-up and
        # check-in, and an indexed column changing makes each of those updates non-HOT.
        Index(
            "ix_customers_recycle_check",
            "recycle_check_at",
            postgresql_where=text("recycle_check_at IS NOT NULL AND deleted_at IS NULL"),
        ),
        Index("ix_customers_company_created", "company_id", "created_at", "id"),
        # Filtered lists (industry, and name search) must not walk the whole company: bench/.
        Index(
            "ix_customers_industry",
            "company_id",
            "industry",
            "created_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index(
            "ix_customers_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_customers_location", "location", postgresql_using="gist"),
        # The customer map (`app.reports.customer_map`): a box read from the index alone — the
        # bounds, the Mercator y (`mercator_y()`, the same expression), who may see it, groups.
        Index(
            "ix_customers_map",
            "company_id",
            "longitude",
            "latitude",
            text("asinh(tan(radians(latitude)))"),
            postgresql_include=["owner_id", "id", "tier", "industry", "pool_id"],
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_customers_custom_fields", "custom_fields", postgresql_using="gin"),
        tenant_key("customers"),
        tenant_fk("customers", "owner_id", "users"),
        tenant_fk("customers", "pool_id", "pools"),
        tenant_fk("customers", "previous_owner_id", "users"),
        tenant_fk("customers", "created_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    name_normalized: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[str | None] = mapped_column(String(50))
    tier: Mapped[Tier | None] = mapped_column(String(1))
    source: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(500))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Derived from latitude/longitude by PostgreSQL, so the two can never disagree.
    location: Mapped[Any] = mapped_column(
        Geography(geometry_type="POINT", srid=4326, spatial_index=False),
        Computed(
            "(ST_SetSRID(ST_MakePoint(longitude, latitude), 4326))::geography",
            persisted=True,
        ),
        nullable=True,
        # Never read in Python (lat/lng are): not loading it saves parsing WKB per row.
        deferred=True,
    )
    phone: Mapped[str | None] = mapped_column(String(50))
    phone_normalized: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[Status] = mapped_column(String(16), server_default="prospect")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default=text("'{}'"))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    owner_id: Mapped[uuid.UUID | None]
    # The pool whose rules govern the customer (and that it sits in while unowned).
    pool_id: Mapped[uuid.UUID]
    claimed_at: Mapped[datetime | None]
    last_followup_at: Mapped[datetime | None]
    next_followup_at: Mapped[datetime | None]
    last_deal_at: Mapped[datetime | None]
    recycle_at: Mapped[datetime | None]
    recycle_reason: Mapped[RecycleReason | None] = mapped_column(String(16))
    # The recycle_at the owner was last warned about: one warning per recycle cycle.
    recycle_warning_for: Mapped[datetime | None]
    # When the recycle job looks at the customer next: its advance warning, or recycle_at.
    # Written wherever recycle_at may move earlier (`clock.check_expression`); a follow-up or
    # check-in only moves recycle_at later and leaves it (the job reschedules it lazily).
    recycle_check_at: Mapped[datetime | None]
    pooled_at: Mapped[datetime | None]
    pool_reason: Mapped[str | None] = mapped_column(String(500))
    pool_entry_kind: Mapped[str | None] = mapped_column(String(16))
    previous_owner_id: Mapped[uuid.UUID | None]
    created_by: Mapped[uuid.UUID | None]
    create_request_hash: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class Contact(Base):
    __tablename__ = "customer_contacts"
    __table_args__ = (
        Index("ix_customer_contacts_customer", "customer_id", "created_at", "id"),
        # The work report's way in: contacts added in a period.
        Index("ix_customer_contacts_company_created", "company_id", "created_at"),
        tenant_key("customer_contacts"),
        tenant_fk("customer_contacts", "customer_id", "customers", ondelete="CASCADE"),
        tenant_fk("customer_contacts", "created_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    phones: Mapped[list[str]] = mapped_column(ARRAY(String(50)), server_default=text("'{}'"))
    email: Mapped[str | None] = mapped_column(String(320))
    birthday: Mapped[date | None]
    is_primary: Mapped[bool] = mapped_column(server_default=text("false"))
    # Who added it (the work report credits them); None on contacts older than migration 0013.
    created_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class Collaborator(Base):
    __tablename__ = "customer_collaborators"
    __table_args__ = (
        Index("ix_customer_collaborators_user", "user_id", "customer_id"),
        tenant_fk("customer_collaborators", "customer_id", "customers", ondelete="CASCADE"),
        tenant_fk("customer_collaborators", "user_id", "users"),
        tenant_fk("customer_collaborators", "added_by", "users"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(50))
    added_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()

    # The key ends in company_id (the tenancy rule); the columns before it already name the
    # row, so they stay the identity the ORM gets and updates by.
    __mapper_args__ = {"primary_key": [customer_id, user_id]}


class OwnershipEvent(Base):
    """Every change of owner, with actor (null = system) and reason."""

    __tablename__ = "ownership_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('created', 'claimed', 'released', 'recycled', 'transferred', 'assigned')",
            name="kind",
        ),
        Index("ix_ownership_events_customer", "customer_id", "created_at", "id"),
        Index("ix_ownership_events_claims", "company_id", "to_user_id", "kind", "created_at"),
        # New customers of a company's month (`app.targets.measures`, without a user list).
        Index(
            "ix_ownership_events_company_gained",
            "company_id",
            "created_at",
            postgresql_where=text("kind IN ('created', 'assigned')"),
        ),
        Index("ix_ownership_events_losses", "customer_id", "from_user_id", "created_at"),
        tenant_key("ownership_events"),
        tenant_fk("ownership_events", "customer_id", "customers", ondelete="CASCADE"),
        tenant_fk("ownership_events", "from_user_id", "users"),
        tenant_fk("ownership_events", "to_user_id", "users"),
        tenant_fk("ownership_events", "actor_id", "users"),
        tenant_fk("ownership_events", "pool_id", "pools"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    from_user_id: Mapped[uuid.UUID | None]
    to_user_id: Mapped[uuid.UUID | None]
    actor_id: Mapped[uuid.UUID | None]
    pool_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()


class Deal(Base):
    """A closed deal on a customer: moves the no-deal clock."""

    __tablename__ = "customer_deals"
    __table_args__ = (
        Index("ix_customer_deals_customer", "customer_id", "created_at", "id"),
        tenant_key("customer_deals"),
        tenant_fk("customer_deals", "customer_id", "customers", ondelete="CASCADE"),
        tenant_fk("customer_deals", "user_id", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()


class Pool(Base):
    """A public pool (公海) with its own recycle and claim rules."""

    __tablename__ = "pools"
    __table_args__ = (
        Index(
            "uq_pools_company_default",
            "company_id",
            unique=True,
            postgresql_where=text("is_default AND deleted_at IS NULL"),
        ),
        CheckConstraint(
            "no_followup_days IS NULL OR no_followup_days > 0", name="no_followup_days"
        ),
        CheckConstraint("no_deal_days IS NULL OR no_deal_days > 0", name="no_deal_days"),
        tenant_key("pools"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(server_default=text("false"))
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default=text("'{}'"))
    industries: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default=text("'{}'"))
    no_followup_days: Mapped[int | None] = mapped_column(Integer)
    no_deal_days: Mapped[int | None] = mapped_column(Integer)
    warning_days: Mapped[int] = mapped_column(Integer)
    reclaim_cooldown_days: Mapped[int] = mapped_column(Integer)
    daily_claim_limit: Mapped[int] = mapped_column(Integer)
    claim_department_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid()),
        server_default=text("'{}'"),
    )
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class PoolSettings(Base):
    """Company-wide pool rules: holding cap (with per-department overrides), won exemption."""

    __tablename__ = "pool_settings"

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    holding_cap: Mapped[int] = mapped_column(Integer, server_default="20")
    won_exempt: Mapped[bool] = mapped_column(server_default=text("true"))
    # {"<department id>": cap}; the nearest ancestor with an entry wins.
    department_caps: Mapped[dict[str, int]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime] = updated_at_column()

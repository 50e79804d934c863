"""Companies (tenants), the department tree, and users."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk

ROLES = ("rep", "manager", "admin")


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), server_default="Asia/Shanghai")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Department(Base):
    """A node of the tree; `path` is '/<root id>/…/<own id>/' so a subtree is a prefix match."""

    __tablename__ = "departments"
    __table_args__ = (
        Index(
            "ix_departments_company_path",
            "company_id",
            "path",
            postgresql_ops={"path": "text_pattern_ops"},
        ),
        tenant_key("departments"),
        tenant_fk("departments", "parent_id", "departments"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None]
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(4000))
    deactivated_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('rep', 'manager', 'admin')", name="role"),
        Index("ix_users_company_department", "company_id", "department_id"),
        tenant_key("users"),
        tenant_fk("users", "department_id", "departments"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    department_id: Mapped[uuid.UUID | None]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16), server_default="zh-CN")
    phone: Mapped[str | None] = mapped_column(String(32))
    # Executive mode: their phone and e-mail are hidden from the people below them.
    is_executive: Mapped[bool] = mapped_column(server_default=text("false"))
    password_hash: Mapped[str] = mapped_column(String(256))
    # Bumped on deactivation and password change: outstanding access tokens stop working.
    token_version: Mapped[int] = mapped_column(Integer, server_default="1")
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    deactivated_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

"""Rotating refresh tokens, one row per issued token, grouped in families (one per login)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, uuid_pk


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("ix_refresh_tokens_family", "family_id"),
        Index("ix_refresh_tokens_user", "user_id"),
        Index("ix_refresh_tokens_expires_at", "expires_at"),
        tenant_key("refresh_tokens"),
        tenant_fk("refresh_tokens", "user_id", "users", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    family_id: Mapped[uuid.UUID]
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    parent_id: Mapped[uuid.UUID | None]
    # The access token issued with this refresh token, so a grace retry re-issues it exactly.
    access_jti: Mapped[uuid.UUID]
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    replaced_by_id: Mapped[uuid.UUID | None]
    revoked_at: Mapped[datetime | None]

"""The activity feed: items, likes and comments."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk
from app.feed.schemas import FeedKind


class FeedItem(Base):
    """One thing that happened (follow-up, check-in, log, ownership change), for the feed."""

    __tablename__ = "feed_items"
    __table_args__ = (
        Index("ix_feed_items_company_created", "company_id", "created_at", "id"),
        Index("ix_feed_items_author_created", "author_id", "created_at"),
        Index("ix_feed_items_customer_created", "customer_id", "created_at"),
        Index("uq_feed_items_subject", "subject_type", "subject_id", "company_id", unique=True),
        tenant_key("feed_items"),
        tenant_fk("feed_items", "customer_id", "customers"),
        tenant_fk("feed_items", "author_id", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    kind: Mapped[FeedKind] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID | None]
    author_id: Mapped[uuid.UUID | None]
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    like_count: Mapped[int] = mapped_column(Integer, server_default="0")
    comment_count: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = created_at_column()


class FeedLike(Base):
    __tablename__ = "feed_likes"
    __table_args__ = (
        tenant_fk("feed_likes", "item_id", "feed_items", ondelete="CASCADE"),
        tenant_fk("feed_likes", "user_id", "users"),
    )

    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = created_at_column()

    # The key ends in company_id (the tenancy rule); the columns before it already name the
    # row, so they stay the identity the ORM gets and updates by.
    __mapper_args__ = {"primary_key": [item_id, user_id]}


class FeedComment(Base):
    """A comment on a feed item; replies point at a top-level comment (one level)."""

    __tablename__ = "feed_comments"
    __table_args__ = (
        Index("ix_feed_comments_item_created", "item_id", "created_at", "id"),
        tenant_key("feed_comments"),
        tenant_fk("feed_comments", "item_id", "feed_items", ondelete="CASCADE"),
        tenant_fk("feed_comments", "author_id", "users"),
        tenant_fk("feed_comments", "parent_id", "feed_comments"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    item_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    parent_id: Mapped[uuid.UUID | None]
    mentions: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()), server_default=text("'{}'"))
    body: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]

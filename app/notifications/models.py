"""Notifications (inbox + push), preferences, devices, push attempts, webhooks and deliveries."""

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk


class Notification(Base):
    """One inbox entry for one user; `push_state` is the outbox for the push job."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("uq_notifications_user_dedupe", "user_id", "dedupe_key", "company_id", unique=True),
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
        ),
        Index(
            "ix_notifications_push_due",
            "push_after",
            postgresql_where=text("push_state = 'pending'"),
        ),
        # Claims of a worker that died are taken back when their lease (push_after) expires.
        Index(
            "ix_notifications_push_leased",
            "push_after",
            postgresql_where=text("push_state = 'sending'"),
        ),
        tenant_key("notifications"),
        tenant_fk("notifications", "user_id", "users", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None]
    customer_id: Mapped[uuid.UUID | None]
    actor_id: Mapped[uuid.UUID | None]
    deep_link: Mapped[str | None] = mapped_column(String(300))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    read_at: Mapped[datetime | None]
    # pending → sending (leased by a worker) → sent | no_devices | failed | dead, or back to
    # pending with a later push_after (also: created in quiet hours → their end); suppressed
    # (a muted kind) is never pushed.
    push_state: Mapped[str] = mapped_column(String(16), server_default="pending")
    push_after: Mapped[datetime | None]
    pushed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (
        tenant_fk("notification_preferences", "user_id", "users", ondelete="CASCADE"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    muted_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default=text("'{}'"))
    quiet_start: Mapped[time | None]
    quiet_end: Mapped[time | None]
    updated_at: Mapped[datetime] = updated_at_column()

    # The key ends in company_id (the tenancy rule); the columns before it already name the
    # row, so they stay the identity the ORM gets and updates by.
    __mapper_args__ = {"primary_key": [user_id]}


class Device(Base):
    """A push token of one of the user's devices."""

    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint("platform IN ('fcm', 'apns', 'webpush')", name="platform"),
        Index("uq_devices_platform_token", "platform", "token", unique=True),
        Index("ix_devices_user", "user_id"),
        tenant_key("devices"),
        tenant_fk("devices", "user_id", "users", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    platform: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(String(2000))  # FCM/APNs token, or the Web Push endpoint
    keys: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    device_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    deactivated_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class PushAttempt(Base):
    __tablename__ = "push_attempts"
    __table_args__ = (
        Index("ix_push_attempts_notification", "notification_id"),
        tenant_key("push_attempts"),
        tenant_fk("push_attempts", "notification_id", "notifications", ondelete="CASCADE"),
        tenant_fk("push_attempts", "device_id", "devices", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # Copied from the notification (0009), so the attempt is keyed by its company like the rest.
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    notification_id: Mapped[uuid.UUID]
    device_id: Mapped[uuid.UUID]
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # sent | retry | invalid_token | failed
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = created_at_column()


class Webhook(Base):
    __tablename__ = "webhooks"
    __table_args__ = (
        Index("ix_webhooks_company", "company_id"),
        tenant_key("webhooks"),
        tenant_fk("webhooks", "created_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    created_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """The outbox row of one event for one webhook; the worker delivers and retries it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("uq_webhook_deliveries_event", "webhook_id", "event_id", "company_id", unique=True),
        Index("ix_webhook_deliveries_webhook_created", "webhook_id", "created_at", "id"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        tenant_key("webhook_deliveries"),
        tenant_fk("webhook_deliveries", "webhook_id", "webhooks", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    webhook_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(
        String(16), server_default="pending"
    )  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    last_duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

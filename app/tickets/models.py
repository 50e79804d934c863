"""Service tickets (客户投诉/建议/服务): the ticket, its events (the customer's timeline) and
the satisfaction given when it is resolved."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk

TICKET_KINDS = ("complaint", "suggestion", "service")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "in_progress", "resolved", "closed")


class Ticket(Base):
    """A complaint, suggestion or service request on a customer."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("kind IN ('complaint', 'suggestion', 'service')", name="kind"),
        CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name="priority"),
        CheckConstraint("status IN ('open', 'in_progress', 'resolved', 'closed')", name="status"),
        Index("ix_tickets_company_created", "company_id", "created_at", "id"),
        Index("ix_tickets_customer_created", "customer_id", "created_at"),
        Index("ix_tickets_assignee", "company_id", "assignee_id", "status"),
        # The overdue job's way in: open tickets not yet notified.
        Index(
            "ix_tickets_to_notify",
            "due_at",
            postgresql_where=text(
                "status IN ('open', 'in_progress') AND overdue_notified_at IS NULL"
            ),
        ),
        tenant_key("tickets"),
        tenant_fk("tickets", "customer_id", "customers"),
        tenant_fk("tickets", "assignee_id", "users"),
        tenant_fk("tickets", "created_by", "users"),
        tenant_fk("tickets", "resolved_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text)
    assignee_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    # From the company's hours for the priority, counted from creation (or the last reopening).
    due_at: Mapped[datetime]
    overdue_notified_at: Mapped[datetime | None]  # `ticket_overdue` sent (once per due time)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[uuid.UUID | None]
    closed_at: Mapped[datetime | None]
    opened_at: Mapped[datetime]  # creation, or the last reopening
    created_by: Mapped[uuid.UUID]
    request_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class TicketEvent(Base):
    """Something that happened to a ticket: created, a status move, a new assignee, edited."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket", "ticket_id", "created_at"),
        Index("ix_ticket_events_customer", "customer_id", "created_at"),
        tenant_key("ticket_events"),
        tenant_fk("ticket_events", "ticket_id", "tickets", ondelete="CASCADE"),
        tenant_fk("ticket_events", "customer_id", "customers"),
        tenant_fk("ticket_events", "actor_id", "users"),
        tenant_fk("ticket_events", "assignee_id", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    ticket_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    # created, in_progress, resolved, closed, reopened, assigned, edited
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID]
    assignee_id: Mapped[uuid.UUID | None]
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class TicketRating(Base):
    """The customer's satisfaction (1–5, a comment) given when a ticket is resolved, credited to
    the ticket's assignee then (the resolver when it had none)."""

    __tablename__ = "ticket_ratings"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
        Index("ix_ticket_ratings_company_created", "company_id", "created_at"),
        Index("ix_ticket_ratings_ticket", "ticket_id"),
        tenant_key("ticket_ratings"),
        tenant_fk("ticket_ratings", "ticket_id", "tickets", ondelete="CASCADE"),
        tenant_fk("ticket_ratings", "user_id", "users"),
        tenant_fk("ticket_ratings", "recorded_by", "users"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    ticket_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    recorded_by: Mapped[uuid.UUID]
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

"""Tasks (日程/待办): a title, a due time, optional links, one or more assignees."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tenancy import tenant_fk, tenant_key
from app.db import Base, created_at_column, updated_at_column, uuid_pk


class Task(Base):
    """A to-do with a due time, on a customer, an opportunity or a lead (at most one)."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_company_due", "company_id", "due_at", "id"),
        # The task reminder's way in: reminders not yet sent of open tasks.
        Index(
            "ix_tasks_to_remind",
            "due_at",
            postgresql_where=text(
                "remind_before_min IS NOT NULL AND reminded_at IS NULL AND done_at IS NULL "
                "AND deleted_at IS NULL"
            ),
        ),
        CheckConstraint("num_nonnulls(customer_id, opportunity_id, lead_id) <= 1", name="one_link"),
        CheckConstraint("remind_before_min >= 0", name="remind_before_min"),
        tenant_key("tasks"),
        tenant_fk("tasks", "created_by", "users"),
        tenant_fk("tasks", "done_by", "users"),
        tenant_fk("tasks", "customer_id", "customers"),
        tenant_fk("tasks", "opportunity_id", "opportunities"),
        tenant_fk("tasks", "lead_id", "leads"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime]
    customer_id: Mapped[uuid.UUID | None]
    opportunity_id: Mapped[uuid.UUID | None]
    lead_id: Mapped[uuid.UUID | None]
    # Minutes before `due_at` that `task_due` goes to every assignee (None: no reminder).
    remind_before_min: Mapped[int | None] = mapped_column(Integer)
    reminded_at: Mapped[datetime | None]  # when `task_due` was sent (once; moving clears it)
    done_at: Mapped[datetime | None]
    done_by: Mapped[uuid.UUID | None]
    request_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    deleted_at: Mapped[datetime | None]


class TaskAssignee(Base):
    """One assignee of a task."""

    __tablename__ = "task_assignees"
    __table_args__ = (
        Index("ix_task_assignees_user", "user_id", "task_id"),
        tenant_fk("task_assignees", "task_id", "tasks", ondelete="CASCADE"),
        tenant_fk("task_assignees", "user_id", "users"),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )

    # The key ends in company_id (the tenancy rule); the columns before it already name the
    # row, so they stay the identity the ORM gets and updates by.
    __mapper_args__ = {"primary_key": [task_id, user_id]}

"""tasks_and_tickets: tasks with assignees and reminders, service tickets with satisfaction (issue 17)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("opportunity_id", sa.Uuid(), nullable=True),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("remind_before_min", sa.Integer(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "num_nonnulls(customer_id, opportunity_id, lead_id) <= 1",
            name=op.f("ck_tasks_one_link"),
        ),
        sa.CheckConstraint("remind_before_min >= 0", name=op.f("ck_tasks_remind_before_min")),
        sa.ForeignKeyConstraint(
            ["company_id", "created_by"],
            ["users.company_id", "users.id"],
            name="fk_tasks_created_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "customer_id"],
            ["customers.company_id", "customers.id"],
            name="fk_tasks_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "done_by"],
            ["users.company_id", "users.id"],
            name="fk_tasks_done_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "lead_id"],
            ["leads.company_id", "leads.id"],
            name="fk_tasks_lead_id_leads",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "opportunity_id"],
            ["opportunities.company_id", "opportunities.id"],
            name="fk_tasks_opportunity_id_opportunities",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_tasks_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("company_id", "id", name="uq_tasks_company_id_id"),
    )
    op.create_index("ix_tasks_company_due", "tasks", ["company_id", "due_at", "id"], unique=False)
    op.create_index(
        "ix_tasks_to_remind",
        "tasks",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text(
            "remind_before_min IS NOT NULL AND reminded_at IS NULL AND done_at IS NULL AND deleted_at IS NULL"
        ),
    )
    op.create_table(
        "task_assignees",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id", "task_id"],
            ["tasks.company_id", "tasks.id"],
            name="fk_task_assignees_task_id_tasks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "user_id"],
            ["users.company_id", "users.id"],
            name="fk_task_assignees_user_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_task_assignees_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "user_id", "company_id", name=op.f("pk_task_assignees")),
    )
    op.create_index(
        "ix_task_assignees_user", "task_assignees", ["user_id", "task_id"], unique=False
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('complaint', 'suggestion', 'service')", name=op.f("ck_tickets_kind")
        ),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_tickets_priority")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'resolved', 'closed')",
            name=op.f("ck_tickets_status"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "assignee_id"],
            ["users.company_id", "users.id"],
            name="fk_tickets_assignee_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "created_by"],
            ["users.company_id", "users.id"],
            name="fk_tickets_created_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "customer_id"],
            ["customers.company_id", "customers.id"],
            name="fk_tickets_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "resolved_by"],
            ["users.company_id", "users.id"],
            name="fk_tickets_resolved_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_tickets_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("company_id", "id", name="uq_tickets_company_id_id"),
    )
    op.create_index(
        "ix_tickets_assignee", "tickets", ["company_id", "assignee_id", "status"], unique=False
    )
    op.create_index(
        "ix_tickets_company_created", "tickets", ["company_id", "created_at", "id"], unique=False
    )
    op.create_index(
        "ix_tickets_customer_created", "tickets", ["customer_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_tickets_to_notify",
        "tickets",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text(
            "status IN ('open', 'in_progress') AND overdue_notified_at IS NULL"
        ),
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id", "actor_id"],
            ["users.company_id", "users.id"],
            name="fk_ticket_events_actor_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "assignee_id"],
            ["users.company_id", "users.id"],
            name="fk_ticket_events_assignee_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "customer_id"],
            ["customers.company_id", "customers.id"],
            name="fk_ticket_events_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "ticket_id"],
            ["tickets.company_id", "tickets.id"],
            name="fk_ticket_events_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_ticket_events_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.UniqueConstraint("company_id", "id", name="uq_ticket_events_company_id_id"),
    )
    op.create_index(
        "ix_ticket_events_customer", "ticket_events", ["customer_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_ticket_events_ticket", "ticket_events", ["ticket_id", "created_at"], unique=False
    )
    op.create_table(
        "ticket_ratings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_ticket_ratings_score")),
        sa.ForeignKeyConstraint(
            ["company_id", "recorded_by"],
            ["users.company_id", "users.id"],
            name="fk_ticket_ratings_recorded_by_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "ticket_id"],
            ["tickets.company_id", "tickets.id"],
            name="fk_ticket_ratings_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id", "user_id"],
            ["users.company_id", "users.id"],
            name="fk_ticket_ratings_user_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_ticket_ratings_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_ratings")),
        sa.UniqueConstraint("company_id", "id", name="uq_ticket_ratings_company_id_id"),
    )
    op.create_index(
        "ix_ticket_ratings_company_created",
        "ticket_ratings",
        ["company_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_ticket_ratings_ticket", "ticket_ratings", ["ticket_id"], unique=False)


def downgrade() -> None:
    for table in ("ticket_ratings", "ticket_events", "tickets", "task_assignees", "tasks"):
        op.drop_table(table)

"""tenant_keys: company_id in every key and foreign key of tenant tables (issue 18)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:10:00

Foreign keys were on `id` alone, so the database accepted a check-in of one company pointing
at a customer of another. Now (app/core/tenancy.py):

* every tenant table with an `id` key gets the unique key (company_id, id); the primary key
  stays `id` (UUIDs are unique on their own, lookups and the ORM keep using it);
* the other primary keys, and every unique index, gain company_id (appended, so the queries
  that use their leading columns keep doing so);
* every foreign key between tenant tables becomes (company_id, x_id) → (company_id, id), under
  the name of the key it replaces; none of them is ON DELETE SET NULL (that would need the
  PostgreSQL 15 column list, `SET NULL (x_id)`, to leave company_id alone);
* push_attempts, the one table with tenant foreign keys but no company_id, gets it from its
  notification.

Speed on large tables: each unique index is built once (CREATE UNIQUE INDEX, then the
constraint takes it over: `USING INDEX`); the new foreign keys are added NOT VALID and
validated afterwards, each validation one anti-join instead of a check per row; the old foreign
keys are dropped in the same ALTER TABLE that adds the new. Nothing is deleted or rewritten
except push_attempts (one UPDATE to fill company_id). A cross-company reference already in the
data makes VALIDATE fail and the whole migration roll back: fix the rows, run it again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tenant tables with an `id` primary key: each gets UNIQUE (company_id, id).
KEYED = (
    "departments",
    "users",
    "refresh_tokens",
    "pools",
    "customers",
    "customer_contacts",
    "customer_deals",
    "ownership_events",
    "files",
    "checkins",
    "followups",
    "work_logs",
    "visit_plans",
    "notifications",
    "devices",
    "push_attempts",
    "webhooks",
    "webhook_deliveries",
    "feed_items",
    "feed_comments",
)

# Primary keys that are not `id`: (table, columns before) — company_id is appended.
PRIMARY_KEYS = (
    ("customer_collaborators", ("customer_id", "user_id")),
    ("feed_likes", ("item_id", "user_id")),
    ("attachments", ("file_id", "record_type", "record_id")),
    ("work_log_customers", ("log_id", "customer_id")),
    ("notification_preferences", ("user_id",)),
)

# Unique indexes without company_id: (name, table, columns before, WHERE) — it is appended.
UNIQUE_INDEXES = (
    ("uq_feed_items_subject", "feed_items", ("subject_type", "subject_id"), None),
    ("uq_notifications_user_dedupe", "notifications", ("user_id", "dedupe_key"), None),
    (
        "uq_work_logs_user_period",
        "work_logs",
        ("user_id", "period", "period_start"),
        "deleted_at IS NULL",
    ),
    ("uq_webhook_deliveries_event", "webhook_deliveries", ("webhook_id", "event_id"), None),
)

# Foreign keys between tenant tables: (table, column, target, ON DELETE).
FOREIGN_KEYS = (
    ("departments", "parent_id", "departments", None),
    ("users", "department_id", "departments", None),
    ("refresh_tokens", "user_id", "users", "CASCADE"),
    ("customers", "owner_id", "users", None),
    ("customers", "pool_id", "pools", None),
    ("customers", "previous_owner_id", "users", None),
    ("customers", "created_by", "users", None),
    ("customer_contacts", "customer_id", "customers", "CASCADE"),
    ("customer_collaborators", "customer_id", "customers", "CASCADE"),
    ("customer_collaborators", "user_id", "users", None),
    ("customer_collaborators", "added_by", "users", None),
    ("ownership_events", "customer_id", "customers", "CASCADE"),
    ("ownership_events", "from_user_id", "users", None),
    ("ownership_events", "to_user_id", "users", None),
    ("ownership_events", "actor_id", "users", None),
    ("ownership_events", "pool_id", "pools", None),
    ("customer_deals", "customer_id", "customers", "CASCADE"),
    ("customer_deals", "user_id", "users", None),
    ("files", "uploaded_by", "users", None),
    ("attachments", "file_id", "files", "CASCADE"),
    ("checkins", "user_id", "users", None),
    ("checkins", "customer_id", "customers", None),
    ("followups", "user_id", "users", None),
    ("followups", "customer_id", "customers", None),
    ("followups", "checkin_id", "checkins", None),
    ("work_logs", "user_id", "users", None),
    ("work_log_customers", "log_id", "work_logs", "CASCADE"),
    ("work_log_customers", "customer_id", "customers", None),
    ("visit_plans", "user_id", "users", None),
    ("visit_plans", "customer_id", "customers", None),
    ("visit_plans", "created_by", "users", None),
    ("notifications", "user_id", "users", "CASCADE"),
    ("notification_preferences", "user_id", "users", "CASCADE"),
    ("devices", "user_id", "users", "CASCADE"),
    ("push_attempts", "notification_id", "notifications", "CASCADE"),
    ("push_attempts", "device_id", "devices", "CASCADE"),
    ("webhooks", "created_by", "users", None),
    ("webhook_deliveries", "webhook_id", "webhooks", "CASCADE"),
    ("feed_items", "customer_id", "customers", None),
    ("feed_items", "author_id", "users", None),
    ("feed_comments", "item_id", "feed_items", "CASCADE"),
    ("feed_comments", "author_id", "users", None),
    ("feed_comments", "parent_id", "feed_comments", None),
    ("feed_likes", "item_id", "feed_items", "CASCADE"),
    ("feed_likes", "user_id", "users", None),
)


def _fk_name(table: str, column: str, target: str) -> str:
    return f"fk_{table}_{column}_{target}"


def _on_delete(action: str | None) -> str:
    return f" ON DELETE {action}" if action else ""


def _by_table() -> dict[str, list[tuple[str, str, str | None]]]:
    tables: dict[str, list[tuple[str, str, str | None]]] = {}
    for table, column, target, action in FOREIGN_KEYS:
        tables.setdefault(table, []).append((column, target, action))
    return tables


def _swap_unique_indexes(with_company: bool) -> None:
    for name, table, columns, where in UNIQUE_INDEXES:
        keys = ", ".join((*columns, "company_id") if with_company else columns)
        predicate = f" WHERE {where}" if where else ""
        op.execute(f"CREATE UNIQUE INDEX {name}_new ON {table} ({keys}){predicate}")
        op.execute(f"DROP INDEX {name}")
        op.execute(f"ALTER INDEX {name}_new RENAME TO {name}")


def _swap_primary_keys(with_company: bool) -> None:
    for table, columns in PRIMARY_KEYS:
        keys = ", ".join((*columns, "company_id") if with_company else columns)
        op.execute(f"CREATE UNIQUE INDEX pk_{table}_new ON {table} ({keys})")
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT pk_{table},"
            f" ADD CONSTRAINT pk_{table} PRIMARY KEY USING INDEX pk_{table}_new"
        )


def upgrade() -> None:
    # Index builds and validations of the big tables are sorts and hash joins.
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute("SET LOCAL work_mem = '64MB'")

    # push_attempts: the company of its notification.
    op.execute("ALTER TABLE push_attempts ADD COLUMN company_id uuid")
    op.execute(
        "UPDATE push_attempts AS a SET company_id = n.company_id"
        " FROM notifications AS n WHERE n.id = a.notification_id"
    )
    op.execute("ALTER TABLE push_attempts ALTER COLUMN company_id SET NOT NULL")
    op.execute(
        "ALTER TABLE push_attempts ADD CONSTRAINT fk_push_attempts_company_id_companies"
        " FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE NOT VALID"
    )

    for table in KEYED:
        name = f"uq_{table}_company_id_id"
        op.execute(f"CREATE UNIQUE INDEX {name} ON {table} (company_id, id)")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}")
    _swap_primary_keys(with_company=True)
    _swap_unique_indexes(with_company=True)

    for table, keys in _by_table().items():
        changes = []
        for column, target, action in keys:
            name = _fk_name(table, column, target)
            changes.append(f"DROP CONSTRAINT {name}")
            changes.append(
                f"ADD CONSTRAINT {name} FOREIGN KEY (company_id, {column})"
                f" REFERENCES {target} (company_id, id){_on_delete(action)} NOT VALID"
            )
        op.execute(f"ALTER TABLE {table} " + ", ".join(changes))

    op.execute(
        "ALTER TABLE push_attempts VALIDATE CONSTRAINT fk_push_attempts_company_id_companies"
    )
    for table, column, target, _ in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {_fk_name(table, column, target)}")


def downgrade() -> None:
    for table, keys in _by_table().items():
        changes = []
        for column, target, action in keys:
            name = _fk_name(table, column, target)
            changes.append(f"DROP CONSTRAINT {name}")
            changes.append(
                f"ADD CONSTRAINT {name} FOREIGN KEY ({column})"
                f" REFERENCES {target} (id){_on_delete(action)} NOT VALID"
            )
        op.execute(f"ALTER TABLE {table} " + ", ".join(changes))
    for table, column, target, _ in FOREIGN_KEYS:
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {_fk_name(table, column, target)}")

    _swap_unique_indexes(with_company=False)
    _swap_primary_keys(with_company=False)
    for table in KEYED:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT uq_{table}_company_id_id")
    op.execute("ALTER TABLE push_attempts DROP COLUMN company_id")

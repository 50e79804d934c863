"""The tenancy rule of the schema: company_id is in every key and foreign key of a tenant table.

Every table is a tenant table (it has a NOT NULL `company_id`) unless it is listed in
`GLOBAL_TABLES`. On a tenant table:

* a table with an `id` primary key also has the unique key (company_id, id), the target of
  every foreign key that points at it; every other primary key includes company_id;
* every foreign key to another tenant table is (company_id, x_id) → (company_id, id), so a
  row can only point at rows of its own company;
* every unique constraint or index includes company_id, except those in
  `GLOBAL_UNIQUE_KEYS` (things that exist once in the world, not once per company).

tests/test_tenant_keys.py enforces it on the migrated database and on the models; docs/design.md
(data rules) and docs/scaling.md explain it.
"""

from sqlalchemy import ForeignKeyConstraint, UniqueConstraint

TENANT_COLUMN = "company_id"

# Tables that belong to no company (each with why).
GLOBAL_TABLES: dict[str, str] = {
    "companies": "the tenants themselves",
    "idempotency_keys": (
        "keyed by a scope string that already names the company (or an anonymous caller's IP, "
        "before sign-up); a short-lived cache of responses, never joined to tenant rows"
    ),
    "job_runs": "the worker's bookkeeping of set-based jobs that run over all companies",
    "alembic_version": "Alembic's revision stamp",
    "spatial_ref_sys": "PostGIS's catalogue of coordinate systems",
}

# Unique keys on tenant tables that are deliberately global (each with why).
GLOBAL_UNIQUE_KEYS: dict[str, str] = {
    "uq_users_email": "sign-in is by e-mail alone, so an address names one user in the world",
    "uq_devices_platform_token": (
        "a push token is one physical device; registering it again moves it (to another user "
        "or company), so it can never receive two companies' pushes"
    ),
}


def tenant_key(table: str) -> UniqueConstraint:
    """The unique key (company_id, id) that tenant foreign keys point at."""
    return UniqueConstraint(TENANT_COLUMN, "id", name=f"uq_{table}_company_id_id")


def tenant_fk(
    table: str,
    column: str,
    target: str,
    *,
    ondelete: str | None = None,
    use_alter: bool = False,
) -> ForeignKeyConstraint:
    """(company_id, column) → target (company_id, id): a reference within one company.

    Named as the single-column key it replaces. With MATCH SIMPLE (the default) a NULL in
    `column` skips the check. ON DELETE SET NULL must name the column — `SET NULL (owner_id)`
    (PostgreSQL 15) — so company_id is never nulled with it. `use_alter` for one of two
    tables that point at each other (the key is added after both exist).
    """
    return ForeignKeyConstraint(
        [TENANT_COLUMN, column],
        [f"{target}.{TENANT_COLUMN}", f"{target}.id"],
        name=f"fk_{table}_{column}_{target}",
        ondelete=ondelete,
        use_alter=use_alter,
    )

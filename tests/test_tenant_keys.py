"""The tenancy rule of the schema (app/core/tenancy.py), on the migrated database and the models.

Every table but the global ones has a NOT NULL company_id; every foreign key between tenant
tables carries company_id on both sides; every unique key of a tenant table includes it (the
primary key `id` stands beside its (company_id, id) twin). A future table that breaks the rule
fails here, and so does a model the migrations do not match.
"""

import re
from dataclasses import dataclass

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Index, Table, UniqueConstraint, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.tenancy import GLOBAL_TABLES, GLOBAL_UNIQUE_KEYS, TENANT_COLUMN
from app.db import get_engine
from app.models import Base

POSTGIS_TABLES = {"spatial_ref_sys", "layer", "topology"}


@dataclass(frozen=True)
class Key:
    """A foreign key: `columns` of `table` → `target_columns` of `target`."""

    table: str
    name: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]
    on_delete: str  # NO ACTION, CASCADE, SET NULL, ...
    set_columns: tuple[str, ...]  # ON DELETE SET NULL (these); empty = all of `columns`


@dataclass(frozen=True)
class Unique:
    """A primary key, unique constraint or unique index; None in `columns` is an expression."""

    table: str
    name: str
    columns: tuple[str | None, ...]
    partial: bool
    primary: bool


@dataclass(frozen=True)
class Schema:
    columns: dict[str, dict[str, bool]]  # table → column → NOT NULL
    keys: tuple[Key, ...]
    uniques: tuple[Unique, ...]


def violations(schema: Schema) -> list[str]:
    """Every breach of the tenancy rule, one sentence each."""
    found: list[str] = []
    tenant = {name for name in schema.columns if name not in GLOBAL_TABLES}
    for table in sorted(tenant):
        if not schema.columns[table].get(TENANT_COLUMN, False):
            found.append(f"{table}: no NOT NULL {TENANT_COLUMN} (or list it in GLOBAL_TABLES)")
    by_table: dict[str, list[Unique]] = {}
    for unique in schema.uniques:
        by_table.setdefault(unique.table, []).append(unique)
    for table in sorted(tenant):
        uniques = by_table.get(table, [])
        primary = next((u for u in uniques if u.primary), None)
        twin = any(
            u.columns == (TENANT_COLUMN, "id") and not u.partial and not u.primary for u in uniques
        )
        if primary is not None and primary.columns == ("id",) and not twin:
            found.append(f"{table}: primary key id without the unique key ({TENANT_COLUMN}, id)")
        for unique in uniques:
            if TENANT_COLUMN in unique.columns or unique.name in GLOBAL_UNIQUE_KEYS:
                continue
            if unique.primary and unique.columns == ("id",):
                continue
            found.append(f"{table}: unique {unique.name} {unique.columns} omits {TENANT_COLUMN}")
    for key in schema.keys:
        source_tenant, target_tenant = key.table in tenant, key.target in tenant
        if source_tenant and not target_tenant:
            if key.target != "companies" or key.columns != (TENANT_COLUMN,):
                found.append(f"{key.table}: {key.name} points at global table {key.target}")
        elif not source_tenant and target_tenant:
            found.append(f"{key.table}: {key.name} (global) points at tenant table {key.target}")
        elif source_tenant and target_tenant:
            pairs = dict(zip(key.columns, key.target_columns, strict=True))
            if pairs.get(TENANT_COLUMN) != TENANT_COLUMN:
                found.append(
                    f"{key.table}: {key.name} {key.columns} → {key.target}"
                    f"{key.target_columns} does not pair {TENANT_COLUMN} with {TENANT_COLUMN}"
                )
            if key.on_delete in ("SET NULL", "SET DEFAULT") and (
                not key.set_columns or TENANT_COLUMN in key.set_columns
            ):
                found.append(
                    f"{key.table}: {key.name} ON DELETE {key.on_delete} would change "
                    f"{TENANT_COLUMN}: name the column, e.g. SET NULL ({key.columns[-1]})"
                )
    return found


_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


async def catalogue(connection: AsyncConnection) -> Schema:
    """The rule's view of the public schema, read from pg_catalog."""
    tables = await connection.execute(
        text("""
        SELECT c.relname, a.attname, a.attnotnull
        FROM pg_class AS c
        JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        """)
    )
    columns: dict[str, dict[str, bool]] = {}
    for table, column, not_null in tables:
        columns.setdefault(table, {})[column] = not_null
    names = """
        ARRAY(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY AS u(attnum, n)
              JOIN pg_attribute AS a ON a.attrelid = {rel} AND a.attnum = u.attnum
              ORDER BY u.n)
    """
    keys = await connection.execute(
        text(f"""
        SELECT s.relname, k.conname, {names.format(keys="k.conkey", rel="k.conrelid")},
               t.relname, {names.format(keys="k.confkey", rel="k.confrelid")}, k.confdeltype::text,
               {names.format(keys="coalesce(k.confdelsetcols, '{}')", rel="k.conrelid")}
        FROM pg_constraint AS k
        JOIN pg_class AS s ON s.oid = k.conrelid
        JOIN pg_class AS t ON t.oid = k.confrelid
        WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace
        """)
    )
    uniques = await connection.execute(
        text("""
        SELECT t.relname, i.relname,
               ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY
                            AS k(attnum, n)
                     LEFT JOIN pg_attribute AS a ON a.attrelid = x.indrelid
                                                AND a.attnum = k.attnum
                     WHERE k.n <= x.indnkeyatts ORDER BY k.n),
               x.indpred IS NOT NULL, x.indisprimary
        FROM pg_index AS x
        JOIN pg_class AS i ON i.oid = x.indexrelid
        JOIN pg_class AS t ON t.oid = x.indrelid
        WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace
        """)
    )
    return Schema(
        columns=columns,
        keys=tuple(
            Key(s, name, tuple(cols), t, tuple(target_cols), _ACTIONS[action], tuple(set_cols))
            for s, name, cols, t, target_cols, action, set_cols in keys
        ),
        uniques=tuple(
            Unique(t, name, tuple(cols), partial, primary)
            for t, name, cols, partial, primary in uniques
        ),
    )


def _index_columns(index: Index | UniqueConstraint) -> tuple[str | None, ...]:
    if isinstance(index, UniqueConstraint):
        return tuple(column.name for column in index.columns)
    return tuple(e.name if isinstance(e, Column) else None for e in index.expressions)


def models() -> Schema:
    """The rule's view of the SQLAlchemy models."""
    tables = [t for t in Base.metadata.sorted_tables if isinstance(t, Table)]
    keys: list[Key] = []
    uniques: list[Unique] = []
    for table in tables:
        for fk in table.foreign_key_constraints:
            action = (fk.ondelete or "NO ACTION").upper()
            listed = re.fullmatch(r"(SET NULL|SET DEFAULT)\s*\((.*)\)", action)
            set_columns = (
                tuple(c.strip().lower() for c in listed.group(2).split(",")) if listed else ()
            )
            keys.append(
                Key(
                    table.name,
                    str(fk.name),
                    tuple(fk.column_keys),
                    fk.referred_table.name,
                    tuple(element.column.name for element in fk.elements),
                    listed.group(1) if listed else action,
                    set_columns,
                )
            )
        pk = table.primary_key
        uniques.append(
            Unique(table.name, str(pk.name), tuple(c.name for c in pk.columns), False, True)
        )
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                uniques.append(
                    Unique(
                        table.name, str(constraint.name), _index_columns(constraint), False, False
                    )
                )
        for index in table.indexes:
            if index.unique:
                partial = index.dialect_options["postgresql"].get("where") is not None
                uniques.append(
                    Unique(table.name, str(index.name), _index_columns(index), partial, False)
                )
    return Schema(
        columns={t.name: {c.name: not c.nullable for c in t.columns} for t in tables},
        keys=tuple(keys),
        uniques=tuple(uniques),
    )


async def test_the_migrated_database_keeps_company_id_in_every_key():
    async with get_engine().connect() as connection:
        schema = await catalogue(connection)
    assert violations(schema) == []


def test_the_models_keep_company_id_in_every_key():
    assert violations(models()) == []


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "table" and name in POSTGIS_TABLES)


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"include_object": _include, "compare_type": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_the_models_and_the_migrations_agree():
    """Autogenerate finds nothing to do, and the primary keys (which it skips) are the same."""
    async with get_engine().connect() as connection:
        differences = await connection.run_sync(_differences)
        schema = await catalogue(connection)
    assert differences == []
    migrated = {(u.table, u.columns) for u in schema.uniques if u.primary}
    declared = {(u.table, u.columns) for u in models().uniques if u.primary}
    assert migrated - {(t, c) for t, c in migrated if t in GLOBAL_TABLES} == declared - {
        (t, c) for t, c in declared if t in GLOBAL_TABLES
    }


async def test_the_global_lists_name_what_exists():
    async with get_engine().connect() as connection:
        schema = await catalogue(connection)
    assert set(GLOBAL_TABLES) <= set(schema.columns)
    assert set(GLOBAL_UNIQUE_KEYS) <= {unique.name for unique in schema.uniques}


# Two tables that break the rule and one that follows it (SET NULL naming its column).
NEW_TABLES = (
    """CREATE TABLE h5_orphans (id uuid PRIMARY KEY, customer_id uuid REFERENCES customers (id))""",
    """CREATE TABLE h5_notes (
        id uuid PRIMARY KEY,
        company_id uuid NOT NULL REFERENCES companies (id),
        customer_id uuid REFERENCES customers (id),
        owner_id uuid,
        code text UNIQUE,
        UNIQUE (company_id, id),
        FOREIGN KEY (company_id, owner_id) REFERENCES users (company_id, id) ON DELETE SET NULL
    )""",
    """CREATE TABLE h5_good (
        id uuid PRIMARY KEY,
        company_id uuid NOT NULL REFERENCES companies (id),
        owner_id uuid,
        code text,
        UNIQUE (company_id, id),
        UNIQUE (code, company_id),
        FOREIGN KEY (company_id, owner_id) REFERENCES users (company_id, id)
            ON DELETE SET NULL (owner_id)
    )""",
)


async def test_a_table_that_breaks_the_rule_is_caught():
    """The check itself: a new table without company_id, or keyed without it, is reported."""
    async with get_engine().connect() as connection:
        transaction = await connection.begin()
        try:
            for statement in NEW_TABLES:
                await connection.execute(text(statement))
            schema = await catalogue(connection)
        finally:
            await transaction.rollback()
    found = [line for line in violations(schema) if line.startswith("h5_")]
    assert sorted(found) == [
        "h5_notes: h5_notes_company_id_owner_id_fkey ON DELETE SET NULL would change company_id:"
        " name the column, e.g. SET NULL (owner_id)",
        "h5_notes: h5_notes_customer_id_fkey ('customer_id',) → customers('id',) does not pair"
        " company_id with company_id",
        "h5_notes: unique h5_notes_code_key ('code',) omits company_id",
        "h5_orphans: h5_orphans_customer_id_fkey ('customer_id',) → customers('id',) does not"
        " pair company_id with company_id",
        "h5_orphans: no NOT NULL company_id (or list it in GLOBAL_TABLES)",
        "h5_orphans: primary key id without the unique key (company_id, id)",
    ]

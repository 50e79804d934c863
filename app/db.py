"""Engine, the one session factory, and the request's session: one transaction per request,
ended at the edge (`get_session`), never inside a service."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import Depends, Request
from sqlalchemy import CursorResult, DateTime, MetaData, Result, Row, Select, Table, Uuid
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.config import get_settings
from app.core.clock import now

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; constraint names are deterministic for migrations."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), uuid.UUID: Uuid()}


# A SELECT, and a row, of any columns: SQLAlchemy 2.1 types both by the tuple of their column
# types, and `Select[Any]` would mean one column.
AnySelect = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]


def table_of(model: type[Base]) -> Table:
    """The `Table` a model is declared on.

    `__table__` is typed `FromClause` because a mapping may sit on any selectable; every model
    here is declared on a table, and Core statements (`insert`, `update`, `.c` columns) want it
    as one.
    """
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a Table")
    return table


def rowcount(result: Result[Any]) -> int:
    """The rows an INSERT/UPDATE/DELETE matched.

    `Session.execute` is typed to return `Result`; a statement that returns no rows runs on a
    cursor and its result is a `CursorResult`, the one that carries `rowcount`.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"no rowcount on {type(result).__name__}")
    return result.rowcount


def uuid_pk() -> Mapped[uuid.UUID]:
    """A UUID primary key the client may supply."""
    return mapped_column(primary_key=True, default=uuid.uuid4)


def created_at_column() -> Mapped[datetime]:
    """`created_at` from the one clock."""
    return mapped_column(default=now, nullable=False)


def updated_at_column() -> Mapped[datetime]:
    """`updated_at` from the one clock, refreshed on every ORM update."""
    return mapped_column(default=now, onupdate=now, nullable=False)


_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def get_engine() -> AsyncEngine:
    """The process-wide engine (created on first use)."""
    global _engine, _sessionmaker
    if _engine is None:
        settings = get_settings()
        _engine = create_async_engine(
            settings.async_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            # No pre-ping: it is one more round trip on every checkout (~0.15 ms a request).
            # A connection found dead fails its statement, and SQLAlchemy then invalidates the
            # whole pool, so after a database restart only the requests in flight fail;
            # recycling bounds how long an idle connection can go stale.
            pool_pre_ping=False,
            pool_recycle=1800,
            echo=settings.db_echo,
            # No JIT: the planner turns it on for the big report statements, where compiling
            # costs more than it saves (forecast over 1M opportunities: 2.16 s with, 0.70 s
            # without; bench/README.md, "pipeline"). Short OLTP statements never reach it.
            connect_args={"server_settings": {"jit": "off"}},
        )
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False)
    return _engine


def session_factory() -> async_sessionmaker[AsyncSession]:
    """The one session factory."""
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


async def dispose_engine() -> None:
    """Close every pooled connection (shutdown, tests)."""
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine = None
    _sessionmaker = None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's one session and transaction, ended here — the edge.

    Services only `flush()`; this commits when the path operation returned and rolls back when
    it raised (the exception goes on to the handlers). Safe methods always roll back, so a GET
    can never write. Used as `SESSION` (scope "function"), so the end runs after the path
    operation and BEFORE the response is sent: a failed commit is a 500, never a 2xx.
    """
    async with session_factory()() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if request.method in SAFE_METHODS:
            await session.rollback()
        else:
            await session.commit()


# The one way to ask for the request's session (`app.deps.Session`, `current_principal`):
# the same callable and scope everywhere, so FastAPI's per-request cache hands every
# dependency of a request the same session — and the same transaction.
SESSION = Depends(get_session, scope="function")


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """The writes made in the block, flushed inside a SAVEPOINT: when a constraint rejects them
    (IntegrityError, re-raised) only they are undone and the request's transaction goes on, so
    the caller can still query and answer the right problem.

    Add new objects and make changes inside the block: `begin_nested()` first flushes what is
    already pending, outside the savepoint.
    """
    async with session.begin_nested():
        yield
        await session.flush()

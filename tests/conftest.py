"""Test set-up: a fresh database (migrated with Alembic) per run, truncated per test; real Redis."""

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://outfield@127.0.0.1:5432/outfield")
BASE_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_DB_NAME = os.environ.get("OUTFIELD_TEST_DB", "outfield_test")
TEST_REDIS_DB = os.environ.get("OUTFIELD_TEST_REDIS_DB", "15")


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(_plain(url))
    return urlunsplit(parts._replace(path="/" + name))


TEST_DATABASE_URL = _with_database(BASE_DATABASE_URL, TEST_DB_NAME)
TEST_REDIS_URL = urlunsplit(urlsplit(BASE_REDIS_URL)._replace(path="/" + TEST_REDIS_DB))

os.environ.update(
    DATABASE_URL=TEST_DATABASE_URL,
    REDIS_URL=TEST_REDIS_URL,
    OUTFIELD_ENV="test",
    OUTFIELD_LOG_LEVEL="WARNING",
    OUTFIELD_SIGNUP_ENABLED="true",
    # Uploaded files of the test run go to a throw-away folder, never the project's var/.
    OUTFIELD_FILES_DIR=tempfile.mkdtemp(prefix="outfield-test-files-"),
)


async def _recreate_database() -> None:
    admin = await asyncpg.connect(
        _with_database(
            BASE_DATABASE_URL, urlsplit(_plain(BASE_DATABASE_URL)).path.lstrip("/") or "postgres"
        )
    )
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            TEST_DB_NAME,
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEST_DB_NAME}"')
        await admin.execute(f'CREATE DATABASE "{TEST_DB_NAME}"')
    finally:
        await admin.close()


def pytest_sessionstart(session: pytest.Session) -> None:
    asyncio.run(_recreate_database())
    migrated = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        env={**os.environ, "DATABASE_URL": TEST_DATABASE_URL},
        capture_output=True,
        text=True,
    )
    if migrated.returncode != 0:
        raise pytest.UsageError(f"alembic upgrade head failed:\n{migrated.stderr}")


_TABLES: list[str] = []


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    """Every test starts with empty tables, an empty Redis db and the real clock."""
    from sqlalchemy import text

    from app.core import clock
    from app.core.redis import get_redis
    from app.db import get_engine

    engine = get_engine()
    async with engine.begin() as connection:
        if not _TABLES:
            rows = await connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename NOT IN ('alembic_version', 'spatial_ref_sys')"
                )
            )
            _TABLES.extend(f'"{row[0]}"' for row in rows)
        await connection.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
    await get_redis().flushdb()
    clock.reset()
    yield
    clock.reset()

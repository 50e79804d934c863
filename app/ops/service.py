"""Readiness checks, job-run bookkeeping and manual job triggers."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from arq.connections import RedisSettings, create_pool
from prometheus_client import Counter, Histogram
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.core.clock import now
from app.core.errors import not_found
from app.core.pagination import PageParams, make_page, paginate
from app.core.redis import get_redis
from app.db import session_factory
from app.ops import errors
from app.ops.models import JobRun
from app.ops.schedule import job_names

log = logging.getLogger("outfield.jobs")
JOB_DURATION = Histogram(
    "outfield_job_duration_seconds",
    "Worker job run time",
    ["job", "outcome"],
    buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
JOB_ITEMS = Counter(
    "outfield_job_items_total", "What worker jobs did (recycled, warned, sent…)", ["job", "count"]
)
HEARTBEAT_KEY = "outfield:worker:heartbeat"
JOB_QUEUE = "arq:queue"


@lru_cache
def migration_head() -> str | None:
    """The newest Alembic revision shipped with this code."""
    return ScriptDirectory.from_config(Config("alembic.ini")).get_current_head()


async def readiness(session: AsyncSession) -> tuple[bool, dict[str, str], float | None]:
    """Database reachable and at head, Redis reachable; plus the worker heartbeat age."""
    checks: dict[str, str] = {}
    try:
        current = await session.scalar(text("SELECT version_num FROM alembic_version"))
        checks["database"] = "ok"
        checks["migrations"] = (
            "ok" if current == migration_head() else f"at {current}, head is {migration_head()}"
        )
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["migrations"] = "unknown"
    heartbeat_age = None
    try:
        redis = get_redis()
        await redis.ping()
        checks["redis"] = "ok"
        beat = await redis.get(HEARTBEAT_KEY)
        if beat is not None:
            heartbeat_age = max(now().timestamp() - float(beat), 0.0)
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return ready, checks, heartbeat_age


async def list_runs(
    session: AsyncSession, params: PageParams, job: str | None
) -> tuple[list[JobRun], str | None]:
    """Recent job runs, newest first."""
    stmt = select(JobRun)
    if job:
        stmt = stmt.where(JobRun.job == job)
    rows = list(
        (await session.execute(paginate(stmt, JobRun.started_at, JobRun.id, params))).scalars()
    )
    return make_page(rows, params, key=lambda run: (run.started_at, run.id))


async def enqueue_job(name: str) -> str:
    """Queue a run of a named job for the worker now; returns arq's job id."""
    if name not in job_names():
        raise not_found("job")
    pool = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    try:
        job = await pool.enqueue_job("run_job_now", name, _job_id=f"manual:{name}:{uuid.uuid4()}")
    finally:
        await pool.aclose()
    if job is None:
        raise errors.job_already_queued()
    return job.job_id


JobBody = Callable[[dict[str, int]], Awaitable[None]]


async def record_run(job: str, body: JobBody, trigger: str = "schedule") -> JobRun:
    """Run `body(counts)` and record the run (start, finish, outcome, counts) in job_runs."""
    counts: dict[str, int] = {}
    factory = session_factory()
    async with factory() as session:
        run = JobRun(
            id=uuid.uuid4(),
            job=job,
            started_at=now(),
            outcome="running",
            trigger=trigger,
            counts={},
        )
        session.add(run)
        await session.commit()
    outcome, error = "succeeded", None
    try:
        await body(counts)
    except Exception as exc:
        outcome, error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        log.exception("job %s failed", job)
    finished: dict[str, Any] = {
        "finished_at": now(),
        "outcome": outcome,
        "counts": counts,
        "error": error,
    }
    async with factory() as session:
        await session.execute(update(JobRun).where(JobRun.id == run.id).values(**finished))
        await session.commit()
    for key, value in finished.items():
        setattr(run, key, value)
    JOB_DURATION.labels(job, outcome).observe(
        (finished["finished_at"] - run.started_at).total_seconds()
    )
    for name, value in counts.items():
        if isinstance(value, int):
            JOB_ITEMS.labels(job, name).inc(value)
    return run


async def write_heartbeat(at: datetime) -> None:
    """Tell the API the worker is alive."""
    await get_redis().set(HEARTBEAT_KEY, str(at.timestamp()), ex=3600)

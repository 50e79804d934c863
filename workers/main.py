"""arq WorkerSettings: the cron schedule, manual runs, startup and shutdown.

Start with `arq workers.main.WorkerSettings` (the Makefile and compose do).
"""

import logging
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.typing import WorkerCoroutine
from prometheus_client import start_http_server

from app.config import get_settings
from app.core.observability import configure_logging
from app.core.redis import close_redis
from app.db import dispose_engine, get_engine
from app.ops.schedule import scheduled_jobs
from app.ops.service import record_run
from workers.registry import JOB_BODIES

log = logging.getLogger("outfield.worker")


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    if settings.worker_metrics_port:
        # Job durations and counts for Prometheus (the API's /metrics serves the API's own).
        try:
            start_http_server(settings.worker_metrics_port, addr="127.0.0.1")
        except OSError as exc:  # a second worker on the machine: run without its own endpoint
            log.warning("worker metrics port unavailable", extra={"error": str(exc)})
    get_engine()
    log.info("worker started", extra={"jobs": sorted(JOB_BODIES)})


async def shutdown(ctx: dict[str, Any]) -> None:
    await dispose_engine()
    await close_redis()
    log.info("worker stopped")


def _cron_task(name: str) -> WorkerCoroutine:
    # The shape arq declares for every job; a cron job is called with `ctx` alone.
    async def task(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> None:
        await record_run(name, JOB_BODIES[name], trigger="schedule")

    task.__name__ = f"cron_{name}"
    return task


async def run_job_now(ctx: dict[str, Any], name: str) -> str:
    """Queued by `POST /v1/admin/jobs/{name}/run`."""
    run = await record_run(name, JOB_BODIES[name], trigger="manual")
    return run.outcome


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(get_settings().redis_url)
    functions = [run_job_now]
    cron_jobs = [
        cron(
            _cron_task(job.name),
            name=f"cron:{job.name}",
            minute=job.cron_minutes,
            run_at_startup=True,
            unique=True,
        )
        for job in scheduled_jobs()
    ]
    on_startup = startup
    on_shutdown = shutdown
    max_jobs = 10
    job_timeout = 600
    # SIGTERM: arq cancels running jobs after this grace; job bodies commit batch by batch.
    graceful_shutdown_timeout = 30

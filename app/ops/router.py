"""HTTP: health, readiness, metrics, worker jobs."""

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.config import get_settings
from app.core.clock import now
from app.core.errors import problem_response, problem_responses
from app.deps import AdminCaller, Paging, Session
from app.ops import service
from app.ops.schedule import scheduled_jobs
from app.ops.schemas import Health, JobEnqueued, JobRunOut, JobsOut, Readiness, ScheduledJobOut

router = APIRouter(tags=["ops"])


@router.get("/healthz", operation_id="getHealth", response_model=Health, summary="Process is up")
async def healthz() -> Health:
    """Answers 200 while the process runs; checks nothing else."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="getReadiness",
    response_model=Readiness,
    summary="Ready to serve",
    responses=problem_responses(503),
)
async def readyz(session: Session) -> Readiness | JSONResponse:
    """Database reachable and migrated to head, Redis reachable; 503 problem+json otherwise."""
    ready, checks, heartbeat_age = await service.readiness(session)
    settings = get_settings()
    if heartbeat_age is None or heartbeat_age > settings.worker_stale_after_s:
        checks["worker"] = "stale" if heartbeat_age is not None else "no heartbeat yet"
        if settings.require_worker_for_ready:
            ready = False
    else:
        checks["worker"] = "ok"
    if not ready:
        return problem_response(
            503,
            "not_ready",
            "A dependency is not ready.",
            checks=checks,
            worker_heartbeat_age_s=heartbeat_age,
        )
    return Readiness(status="ok", checks=checks, worker_heartbeat_age_s=heartbeat_age)


@router.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}
    },
)
async def metrics() -> Response:
    """Request counts and latencies by route template, job durations and counts."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/v1/admin/jobs",
    response_model=JobsOut,
    summary="Worker schedule and recent runs",
    responses=problem_responses(401, 403, 422),
)
async def list_jobs(
    *,
    params: Paging,
    job: str | None = Query(None, max_length=64),
    principal: AdminCaller,
    session: Session,
) -> JobsOut:
    """Admin only. Runs are newest first and paginated."""
    runs, next_cursor = await service.list_runs(session, params, job)
    at = now()
    schedule = [
        ScheduledJobOut(
            name=j.name,
            every_minutes=j.every_minutes,
            description=j.description,
            next_run_at=j.next_run_after(at),
        )
        for j in scheduled_jobs()
    ]
    return JobsOut(
        schedule=schedule, runs=[JobRunOut.model_validate(r) for r in runs], next_cursor=next_cursor
    )


@router.post(
    "/v1/admin/jobs/{name}/run",
    status_code=202,
    response_model=JobEnqueued,
    summary="Run a worker job now",
    responses=problem_responses(401, 403, 404, 409),
)
async def run_job(name: str, principal: AdminCaller) -> JobEnqueued:
    """Admin only. Queues the job for the worker; its run appears in `GET /v1/admin/jobs`."""
    return JobEnqueued(job=name, queued_job_id=await service.enqueue_job(name))

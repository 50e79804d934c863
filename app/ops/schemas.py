"""Ops bodies: readiness and job runs."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    worker_heartbeat_age_s: float | None = None


class JobRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    job: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    error: str | None


class ScheduledJobOut(BaseModel):
    name: str
    every_minutes: int
    description: str
    next_run_at: datetime


class JobsOut(BaseModel):
    schedule: list[ScheduledJobOut]
    runs: list[JobRunOut]
    next_cursor: str | None


class JobEnqueued(BaseModel):
    job: str
    queued_job_id: str

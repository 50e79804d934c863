"""Job name → body; the cron schedule lives in app.ops.schedule."""

from app.ops.service import JobBody
from workers.jobs.housekeeping import housekeeping
from workers.jobs.imports import run_pending_imports
from workers.jobs.money import money
from workers.jobs.pipeline import pipeline
from workers.jobs.purge import purge
from workers.jobs.push import deliver_pending_pushes
from workers.jobs.recycle import recycle
from workers.jobs.reminders import reminders
from workers.jobs.targets import targets
from workers.jobs.webhooks import deliver_pending_webhooks

JOB_BODIES: dict[str, JobBody] = {
    "housekeeping": housekeeping,
    "recycle": recycle,
    "reminders": reminders,
    "pipeline": pipeline,
    "money": money,
    "targets": targets,
    "imports": run_pending_imports,
    "purge": purge,
    "push": deliver_pending_pushes,
    "webhooks": deliver_pending_webhooks,
}

"""Job name → body; the cron schedule lives in app.ops.schedule."""

from app.ops.service import JobBody
from workers.jobs.housekeeping import housekeeping

JOB_BODIES: dict[str, JobBody] = {
    "housekeeping": housekeeping,
}

"""The worker's periodic jobs and when they run; shared by the worker and the API."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.config import get_settings


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every_minutes: int
    description: str

    def next_run_after(self, at: datetime) -> datetime:
        """The next wall-clock minute divisible by `every_minutes` after `at`."""
        base = at.replace(second=0, microsecond=0)
        minutes = base.hour * 60 + base.minute
        step = self.every_minutes
        next_minutes = (minutes // step + 1) * step
        return base.replace(hour=0, minute=0) + timedelta(minutes=next_minutes)

    @property
    def cron_minutes(self) -> set[int]:
        """Minutes of the hour at which arq's cron fires it."""
        return {m for m in range(60) if m % self.every_minutes == 0}


def scheduled_jobs() -> list[ScheduledJob]:
    """Every periodic job of the worker."""
    settings = get_settings()
    return [
        ScheduledJob(
            "housekeeping",
            settings.heartbeat_cron_minutes,
            "Worker heartbeat; purges expired idempotency records and dead refresh tokens.",
        ),
        ScheduledJob(
            "recycle",
            settings.recycle_cron_minutes,
            "Recycles customers whose recycle_at has passed; warns owners before it happens.",
        ),
        ScheduledJob(
            "reminders",
            settings.reminders_cron_minutes,
            "Daily reminders at the reminder hour in each company's time zone, manager digest.",
        ),
        ScheduledJob(
            "pipeline",
            settings.pipeline_cron_minutes,
            "Tells owners once when an open opportunity goes stale (stale_after_days).",
        ),
        ScheduledJob(
            "money",
            settings.money_cron_minutes,
            "Money reminders in company time: contracts expiring, instalments due, overdue weekly.",
        ),
        ScheduledJob(
            "targets",
            settings.targets_cron_minutes,
            "Period close: snapshots the actual and rate of targets whose period has ended.",
        ),
        ScheduledJob(
            "purge",
            settings.purge_cron_minutes,
            "Removes soft-deleted records past their company's restore_days, in batches.",
        ),
        ScheduledJob(
            "imports",
            settings.imports_cron_minutes,
            "Runs queued lead imports (and resumes stalled ones) batch by batch.",
        ),
        ScheduledJob(
            "push",
            settings.delivery_cron_minutes,
            "Delivers due notifications to devices (FCM, APNs, Web Push), with retries.",
        ),
        ScheduledJob(
            "webhooks",
            settings.delivery_cron_minutes,
            "Delivers due webhook events, signed, with retries for ~24 h.",
        ),
    ]


def job_names() -> set[str]:
    return {job.name for job in scheduled_jobs()}

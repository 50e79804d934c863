"""The reminders job's shell: at each company's reminder hour (its settings; 09:00 unless set)
in its own time zone.

Every run picks the companies whose local clock has passed their hour and that have not had
today's reminders, claims the day in `reminder_runs`, and sends (deduplicated per day) what
the owning packages say: the customers' reminders (`app.customers.reminders`: overdue
follow-ups, forgotten customers, contact birthdays) and the managers' digest of
yesterday (`app.fieldwork.digest`).
"""

import json
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import now
from app.customers.reminders import customer_reminders
from app.db import session_factory
from app.fieldwork.digest import manager_digests
from app.fieldwork.plans.reminders import plan_reminders
from app.notifications.inbox.service import notify_many
from app.org.settings import CompanySettings, company_settings
from app.tasks.reminders import task_reminders
from app.tickets.reminders import ticket_overdue

# A claim older than this whose run never finished (a killed worker) is taken over.
STALE_CLAIM = timedelta(minutes=30)

# Not yet done today; whether the company's reminder hour has passed is its settings' call.
DUE_COMPANIES = text("""
SELECT c.id, c.time_zone, c.settings FROM companies c
WHERE NOT EXISTS (
      SELECT 1 FROM reminder_runs r
      WHERE r.company_id = c.id AND r.day = (:now AT TIME ZONE c.time_zone)::date
        AND (r.finished_at IS NOT NULL OR r.started_at > :stale)
  )
""")
CLAIM_DAY = text("""
INSERT INTO reminder_runs (company_id, day, started_at) VALUES (:company, :day, :now)
ON CONFLICT (company_id, day) DO UPDATE SET started_at = :now
    WHERE reminder_runs.finished_at IS NULL AND reminder_runs.started_at <= :stale
RETURNING company_id
""")
FINISH = text(
    "UPDATE reminder_runs SET finished_at = :now, counts = CAST(:counts AS jsonb) "
    "WHERE company_id = :company AND day = :day"
)


async def company_reminders(
    session: AsyncSession, company: uuid.UUID, time_zone: str, day: date, at: datetime
) -> dict[str, int]:
    """Today's reminders of one company (dedupe keys make a rerun harmless)."""
    zone = ZoneInfo(time_zone)
    settings = await company_settings(session, company)
    notices = await customer_reminders(
        session, company, zone, day, at, settings.forgotten_after_days
    )
    notices += await manager_digests(session, company, zone, day)
    sent = await notify_many(session, notices)
    counts: dict[str, int] = {"notified": sent}
    for notice in notices:
        counts[notice["kind"]] = counts.get(notice["kind"], 0) + 1
    return counts


async def reminders(counts: dict[str, int]) -> None:
    """The cron job: every company past its reminder hour today gets its reminders once."""
    at = now()
    stale = at - STALE_CLAIM
    counts.update(companies=0, notified=0, examined=0)
    async with session_factory()() as session:
        # Every run, not once a day: the plans starting within their company's lead time.
        counts["plan_reminders"] = await plan_reminders(session, at)
        await session.commit()
        # Likewise the tasks whose reminder time has come, and tickets just gone overdue.
        counts["task_reminders"] = await task_reminders(session, at)
        counts["tickets_overdue"] = await ticket_overdue(session, at)
        await session.commit()
        due = (await session.execute(DUE_COMPANIES, {"now": at, "stale": stale})).all()
        await session.commit()
        for company, time_zone, stored in due:
            local = at.astimezone(ZoneInfo(time_zone))
            if local.time() < time(CompanySettings.of(time_zone, stored).reminder_hour):
                continue
            day = local.date()
            claimed = await session.scalar(
                CLAIM_DAY, {"company": company, "day": day, "now": at, "stale": stale}
            )
            await session.commit()
            if claimed is None:
                continue  # another worker has it
            result = await company_reminders(session, company, time_zone, day, at)
            await session.execute(
                FINISH, {"now": now(), "counts": json.dumps(result), "company": company, "day": day}
            )
            await session.commit()
            counts["companies"] += 1
            counts["notified"] += result["notified"]
            counts["examined"] += sum(v for k, v in result.items() if k != "notified")

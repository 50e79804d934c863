"""Daily reminders at the reminder hour (09:00) in each company's own time zone.

Every run picks the companies whose local clock has passed the hour and that have not had
today's reminders, claims the day in `reminder_runs`, and sends (deduplicated per day):
followup_overdue, customer_forgotten, contact_birthday and the managers' digest of yesterday.
"""

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.core.clock import now
from app.db import session_factory
from app.notifications.service import notify_many

# A claim older than this whose run never finished (a killed worker) is taken over.
STALE_CLAIM = timedelta(minutes=30)
OVERDUE_WINDOW = timedelta(days=30)

DUE_COMPANIES = text("""
SELECT c.id, c.time_zone FROM companies c
WHERE (:now AT TIME ZONE c.time_zone)::time >= :hour
  AND NOT EXISTS (
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
OVERDUE = text("""
SELECT id, name, owner_id, next_followup_at FROM customers
WHERE company_id = :company AND owner_id IS NOT NULL AND deleted_at IS NULL
  AND next_followup_at < :now AND next_followup_at >= :since
""")
FORGOTTEN = text("""
SELECT id, name, owner_id, greatest(last_followup_at, claimed_at) AS last_touch FROM customers
WHERE company_id = :company AND owner_id IS NOT NULL AND deleted_at IS NULL AND status = 'won'
  AND coalesce(greatest(last_followup_at, claimed_at), created_at) < :cutoff
""")
BIRTHDAYS = text("""
SELECT ct.id, ct.name AS contact, cu.id AS customer_id, cu.name AS customer, cu.owner_id
FROM customer_contacts ct JOIN customers cu ON cu.id = ct.customer_id
WHERE ct.company_id = :company AND ct.deleted_at IS NULL AND cu.deleted_at IS NULL
  AND cu.owner_id IS NOT NULL AND ct.birthday IS NOT NULL
  AND extract(month FROM ct.birthday) = :month AND extract(day FROM ct.birthday) = :day
""")
DIGEST = text("""
SELECT m.id AS manager_id,
       (SELECT count(*) FROM checkins ch JOIN users u ON u.id = ch.user_id
          JOIN departments d ON d.id = u.department_id
        WHERE d.path LIKE md.path || '%' AND ch.client_recorded_at >= :start AND ch.client_recorded_at < :end)
         AS visits,
       (SELECT count(*) FROM checkins ch JOIN users u ON u.id = ch.user_id
          JOIN departments d ON d.id = u.department_id
        WHERE d.path LIKE md.path || '%' AND ch.client_recorded_at >= :start AND ch.client_recorded_at < :end
          AND jsonb_array_length(ch.flags) > 0) AS flagged,
       (SELECT count(*) FROM followups f JOIN users u ON u.id = f.user_id
          JOIN departments d ON d.id = u.department_id
        WHERE d.path LIKE md.path || '%' AND f.created_at >= :start AND f.created_at < :end
          AND f.deleted_at IS NULL) AS followups
FROM users m JOIN departments md ON md.id = m.department_id
WHERE m.company_id = :company AND m.role = 'manager' AND m.is_active
""")
FINISH = text(
    "UPDATE reminder_runs SET finished_at = :now, counts = CAST(:counts AS jsonb) "
    "WHERE company_id = :company AND day = :day"
)


def _notice(
    company: uuid.UUID,
    user: uuid.UUID,
    kind: str,
    key: str,
    params: dict[str, Any],
    customer: uuid.UUID | None,
) -> dict[str, Any]:
    return {
        "company_id": company,
        "user_id": user,
        "kind": kind,
        "params": params,
        "dedupe_key": key,
        "subject_type": "customer" if customer else None,
        "subject_id": customer,
        "customer_id": customer,
        "deep_link": f"outfield://customers/{customer}"
        if customer
        else "outfield://reports/visits",
    }


async def company_reminders(
    session: AsyncSession, company: uuid.UUID, time_zone: str, day: date, at: datetime
) -> dict[str, int]:
    """Today's reminders of one company (dedupe keys make a rerun harmless)."""
    zone = ZoneInfo(time_zone)
    settings = get_settings()
    notices: list[dict[str, Any]] = []
    for row in (
        await session.execute(
            OVERDUE, {"company": company, "now": at, "since": at - OVERDUE_WINDOW}
        )
    ).all():
        due_local = row.next_followup_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        notices.append(
            _notice(
                company,
                row.owner_id,
                "followup_overdue",
                f"followup_overdue:{row.id}:{day}",
                {"customer": row.name, "due_local": due_local},
                row.id,
            )
        )
    cutoff = at - timedelta(days=settings.forgotten_after_days)
    for row in (await session.execute(FORGOTTEN, {"company": company, "cutoff": cutoff})).all():
        days = (at - row.last_touch).days if row.last_touch else settings.forgotten_after_days
        notices.append(
            _notice(
                company,
                row.owner_id,
                "customer_forgotten",
                f"forgotten:{row.id}:{day}",
                {"customer": row.name, "days": days},
                row.id,
            )
        )
    for row in (
        await session.execute(BIRTHDAYS, {"company": company, "month": day.month, "day": day.day})
    ).all():
        notices.append(
            _notice(
                company,
                row.owner_id,
                "contact_birthday",
                f"birthday:{row.id}:{day}",
                {"customer": row.customer, "contact": row.contact},
                row.customer_id,
            )
        )
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=zone)
    end = datetime.combine(day, time(0), tzinfo=zone)
    for row in (
        await session.execute(DIGEST, {"company": company, "start": start, "end": end})
    ).all():
        notices.append(
            _notice(
                company,
                row.manager_id,
                "manager_digest",
                f"digest:{row.manager_id}:{day}",
                {"visits": row.visits, "followups": row.followups, "flagged": row.flagged},
                None,
            )
        )
    sent = await notify_many(session, notices)
    counts: dict[str, int] = {"notified": sent}
    for notice in notices:
        counts[notice["kind"]] = counts.get(notice["kind"], 0) + 1
    return counts


async def reminders(counts: dict[str, int]) -> None:
    """The cron job: every company past its reminder hour today gets its reminders once."""
    at = now()
    hour = time(get_settings().reminder_hour)
    stale = at - STALE_CLAIM
    counts.update(companies=0, notified=0, examined=0)
    async with session_factory()() as session:
        due = (
            await session.execute(DUE_COMPANIES, {"now": at, "hour": hour, "stale": stale})
        ).all()
        await session.commit()
        for company, time_zone in due:
            day = at.astimezone(ZoneInfo(time_zone)).date()
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

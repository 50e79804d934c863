"""Demo attendance (外勤考勤): the head office as a work site and the last four weeks of
clock-ins and clock-outs of the ten demo reps — on time mostly, rep01 late on three days, rep02
absent one day, rep03 once with a mocked location — so the monthly sheet shows real figures.

Recorded through the service the API uses (so every flag is the real one), as sent offline.
The demo people are dated as having joined before the first seeded day (else those days could
not be absent). Called by scripts.seed_demo; idempotent (skips when the company has records).
"""

import random
import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.attendance import service as attendance
from app.attendance.models import AttendanceRecord, AttendanceSite
from app.attendance.schemas import ClockIn
from app.core.clock import now
from app.fieldwork.periods import local_date
from app.org.models import User
from app.org.settings import company_settings
from scripts.seed_pipeline import principal_of

DemoId = Callable[[str], uuid.UUID]
OFFICE = (39.9087, 116.3975)
DAYS = 28
REPS = [f"rep{n:02d}" for n in range(1, 11)]


async def seed_attendance(session: AsyncSession, company_id: uuid.UUID, demo_id: DemoId) -> int:
    """Insert the demo attendance once (commits); returns the records made."""
    taken = await session.scalar(
        select(AttendanceRecord.id).where(AttendanceRecord.company_id == company_id).limit(1)
    )
    if taken is not None:
        return 0
    settings = await company_settings(session, company_id)
    zone = ZoneInfo(settings.time_zone)
    today = local_date(now(), settings.time_zone)
    first = today - timedelta(days=DAYS)
    session.add(
        AttendanceSite(
            id=demo_id("attendance-site:head"),
            company_id=company_id,
            name="总部 Head office",
            latitude=OFFICE[0],
            longitude=OFFICE[1],
            radius_m=500,
            version=1,
        )
    )
    await session.execute(
        update(User)
        .where(
            User.id.in_([demo_id(f"user:{key}") for key in REPS]),
            User.created_at > datetime.combine(first, time(0), tzinfo=zone),
        )
        .values(created_at=datetime.combine(first, time(0), tzinfo=zone))
    )
    await session.flush()
    rng = random.Random(17)
    working = [
        first + timedelta(days=n)
        for n in range(DAYS)
        if settings.is_working_day((first + timedelta(days=n)).isoweekday())
    ]
    late_days = set(working[2:9:3])  # rep01: three late days
    absent_day = working[len(working) // 2]  # rep02: one day without attendance
    mocked_day = working[-2]  # rep03: a mocked location once
    made = 0
    for key in REPS:
        principal = await principal_of(session, demo_id(f"user:{key}"))
        for day in working:
            if key == "rep02" and day == absent_day:
                continue
            start = 9 * 60 + (rng.randint(5, 40) if key == "rep01" and day in late_days else 0)
            clock_in = start - rng.randint(3, 25)
            clock_out = 18 * 60 + rng.randint(2, 45)
            for kind, minute in (("in", clock_in), ("out", clock_out)):
                at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
                body = ClockIn.model_validate(
                    {
                        "id": str(uuid.uuid5(demo_id("attendance"), f"{key}:{day}:{kind}")),
                        "location": {
                            "lat": OFFICE[0] + rng.uniform(-0.0008, 0.0008),
                            "lng": OFFICE[1] + rng.uniform(-0.0008, 0.0008),
                            "accuracy_m": rng.choice([8, 12, 20, 35]),
                        },
                        "client_recorded_at": at.isoformat(),
                        "offline": True,
                        "mock_location": key == "rep03" and day == mocked_day and kind == "in",
                    }
                )
                await attendance.clock(session, principal, body, kind)
                made += 1
    await session.commit()
    return made

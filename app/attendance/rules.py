"""Pure decisions of attendance: the work site, late and left-early, each flag with its figures.

The plausibility flags themselves are the check-ins' (`app.fieldwork.checkins.rules`): the
same thresholds, the same figures; a clock-in has no customer (so never `far_from_customer`)
and is not judged for a duplicate position (the same office every day is the point).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from app.core.geo import haversine_m

OUTSIDE_SITE = "outside_site"
LATE = "late"
LEFT_EARLY = "left_early"
NO_CLOCK_IN = "no_clock_in"


@dataclass(frozen=True)
class Site:
    id: Any
    name: str
    latitude: float
    longitude: float
    radius_m: int


def nearest_site(
    latitude: float, longitude: float, sites: Sequence[Site]
) -> tuple[Site, float] | None:
    """The nearest site and the metres to it (None without sites)."""
    best: tuple[Site, float] | None = None
    for site in sites:
        metres = haversine_m(latitude, longitude, site.latitude, site.longitude)
        if best is None or metres < best[1]:
            best = (site, metres)
    return best


def site_flag(nearest: tuple[Site, float] | None) -> dict[str, Any] | None:
    """`outside_site` when the nearest site is farther than its radius."""
    if nearest is None:
        return None
    site, metres = nearest
    if metres <= site.radius_m:
        return None
    return {
        "code": OUTSIDE_SITE,
        "site_id": str(site.id),
        "site_name": site.name,
        "distance_m": round(metres, 1),
        "radius_m": site.radius_m,
    }


def at_local(day: date, moment: time, time_zone: str) -> datetime:
    """`moment` on `day` in the time zone, as an aware datetime."""
    return datetime.combine(day, moment, tzinfo=ZoneInfo(time_zone))


def _minutes(seconds: float) -> int:
    """Whole minutes, rounded up: 30 seconds late is a minute late."""
    return math.ceil(seconds / 60)


def late_flag(at: datetime, day: date, start: time, time_zone: str) -> dict[str, Any] | None:
    """`late`: the day's first clock-in after the workday's start."""
    seconds = (at - at_local(day, start, time_zone)).total_seconds()
    if seconds <= 0:
        return None
    return {"code": LATE, "minutes": _minutes(seconds), "workday_start": start.isoformat("minutes")}


def left_early_flag(at: datetime, day: date, end: time, time_zone: str) -> dict[str, Any] | None:
    """`left_early`: a clock-out before the workday's end of its day."""
    seconds = (at_local(day, end, time_zone) - at).total_seconds()
    if seconds <= 0:
        return None
    return {
        "code": LEFT_EARLY,
        "minutes": _minutes(seconds),
        "workday_end": end.isoformat("minutes"),
    }

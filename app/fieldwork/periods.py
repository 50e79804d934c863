"""Days, weeks and months in a company's time zone, as UTC ranges (pure)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PERIODS = ("daily", "weekly", "monthly")


def period_start(period: str, day: date) -> date:
    """First day of the period containing `day` (weeks start on Monday)."""
    if period == "daily":
        return day
    if period == "weekly":
        return day - timedelta(days=day.weekday())
    if period == "monthly":
        return day.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def period_end(period: str, start: date) -> date:
    """The day after the period starting at `start`."""
    if period == "daily":
        return start + timedelta(days=1)
    if period == "weekly":
        return start + timedelta(days=7)
    if period == "monthly":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def local_midnight(day: date, time_zone: str) -> datetime:
    """Midnight starting `day` in the time zone, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(time_zone))


def utc_range(period: str, day: date, time_zone: str) -> tuple[date, datetime, datetime]:
    """(period start date, start instant, end instant) of the period containing `day`."""
    start = period_start(period, day)
    return (
        start,
        local_midnight(start, time_zone),
        local_midnight(period_end(period, start), time_zone),
    )


def local_date(moment: datetime, time_zone: str) -> date:
    """The calendar date of `moment` in the time zone."""
    return moment.astimezone(ZoneInfo(time_zone)).date()

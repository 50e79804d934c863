"""Target periods (pure): `2027`, `2027-Q1`, `2027-03`, `2027-W09`, `2027-03-15`.

* A year is the company's **fiscal** year, named by the calendar year it starts in: with the
  fiscal year starting in April, `2027` is 1 April 2027 – 31 March 2028. With January (the
  default) it is the calendar year.
* A quarter is a quarter of that fiscal year: `2027-Q1` is its first three months.
* A month is the calendar month, a week the ISO week (Monday–Sunday, ISO week-numbering year),
  a day the calendar day — all in company dates.
* A month splits into the ISO weeks whose Thursday falls in it (the ISO rule that gives every
  week exactly one month), so a month's weeks may start in the month before or end in the
  next; the values still add up exactly to the month's.

`end` is always the day after the last day, so a period is the half-open range [start, end).
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

KINDS = ("year", "quarter", "month", "week", "day")
# What each kind may be split into, by period.
CHILD_KINDS: dict[str, tuple[str, ...]] = {
    "year": ("quarter", "month"),
    "quarter": ("month",),
    "month": ("week", "day"),
    "week": ("day",),
    "day": (),
}
DEFAULT_CHILD = {"year": "month", "quarter": "month", "month": "day", "week": "day"}
_PATTERNS = (
    ("year", re.compile(r"^(\d{4})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("month", re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")),
    ("week", re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")),
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
)
PERIOD_PATTERN = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2])(-\d{2})?|-W(0[1-9]|[1-4]\d|5[0-3]))?$"


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # exclusive
    kind: str
    key: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month(year: int, month: int) -> Period:
    start = date(year, month, 1)
    return Period(start, add_months(start, 1), "month", f"{year:04d}-{month:02d}")


def _week(year: int, week: int) -> Period:
    start = date.fromisocalendar(year, week, 1)
    return Period(start, start + timedelta(days=7), "week", f"{year:04d}-W{week:02d}")


def _day(day: date) -> Period:
    return Period(day, day + timedelta(days=1), "day", day.isoformat())


def _fiscal_year(year: int, fiscal_start: int) -> Period:
    start = date(year, fiscal_start, 1)
    return Period(start, add_months(start, 12), "year", f"{year:04d}")


def _quarter(year: int, quarter: int, fiscal_start: int) -> Period:
    start = add_months(date(year, fiscal_start, 1), 3 * (quarter - 1))
    return Period(start, add_months(start, 3), "quarter", f"{year:04d}-Q{quarter}")


def parse(key: str, fiscal_start: int = 1) -> Period:
    """The period a key names; ValueError when it names none (e.g. `2027-W53` in a 52-week
    year, `2027-02-30`)."""
    for kind, pattern in _PATTERNS:
        match = pattern.match(key)
        if not match:
            continue
        numbers = [int(g) for g in match.groups()]
        if kind == "year":
            return _fiscal_year(numbers[0], fiscal_start)
        if kind == "quarter":
            return _quarter(numbers[0], numbers[1], fiscal_start)
        if kind == "month":
            return _month(numbers[0], numbers[1])
        if kind == "week":
            return _week(numbers[0], numbers[1])  # ValueError for a week the year lacks
        return _day(date(numbers[0], numbers[1], numbers[2]))
    raise ValueError(f"not a period: {key!r}")


def containing(kind: str, day: date, fiscal_start: int = 1) -> Period:
    """The period of `kind` that holds `day`."""
    if kind == "day":
        return _day(day)
    if kind == "week":
        iso = day.isocalendar()
        return _week(iso.year, iso.week)
    if kind == "month":
        return _month(day.year, day.month)
    fiscal_year = day.year if day.month >= fiscal_start else day.year - 1
    year = _fiscal_year(fiscal_year, fiscal_start)
    if kind == "year":
        return year
    if kind == "quarter":
        months = (day.year - year.start.year) * 12 + day.month - year.start.month
        return _quarter(fiscal_year, months // 3 + 1, fiscal_start)
    raise ValueError(f"unknown period kind {kind!r}")


def children(period: Period, kind: str, fiscal_start: int = 1) -> list[Period]:
    """The periods of `kind` a period splits into, in order; ValueError when it cannot."""
    if kind not in CHILD_KINDS[period.kind]:
        raise ValueError(f"a {period.kind} does not split into {kind}s")
    if kind == "day":
        return [_day(period.start + timedelta(days=i)) for i in range(period.days)]
    if kind == "month":
        months = []
        first = period.start
        while first < period.end:
            months.append(_month(first.year, first.month))
            first = add_months(first, 1)
        return months
    if kind == "quarter":
        fiscal_year = int(period.key)
        return [_quarter(fiscal_year, q, fiscal_start) for q in (1, 2, 3, 4)]
    # Weeks of a month: those whose Thursday falls in it.
    first = period.start - timedelta(days=period.start.weekday())
    weeks = []
    monday = first
    while monday < period.end:
        if period.contains(monday + timedelta(days=3)):
            iso = monday.isocalendar()
            weeks.append(_week(iso.year, iso.week))
        monday += timedelta(days=7)
    return weeks


def shift(period: Period, steps: int, fiscal_start: int = 1) -> Period:
    """The period `steps` of the same kind after (negative: before) this one."""
    if period.kind == "day":
        return _day(period.start + timedelta(days=steps))
    if period.kind == "week":
        return containing("week", period.start + timedelta(days=7 * steps))
    months = {"month": 1, "quarter": 3, "year": 12}[period.kind]
    return containing(period.kind, add_months(period.start, months * steps), fiscal_start)


def year_before(period: Period, fiscal_start: int = 1) -> Period:
    """The same period a year earlier (a week: the ISO week of the same number, or the year's
    last when it has no week 53; a day: 29 February → 28 February)."""
    if period.kind == "day":
        day = period.start
        try:
            return _day(day.replace(year=day.year - 1))
        except ValueError:
            return _day(day.replace(year=day.year - 1, day=28))
    if period.kind == "week":
        year, week = int(period.key[:4]) - 1, int(period.key[-2:])
        try:
            return _week(year, week)
        except ValueError:
            return _week(year, 52)
    return shift(period, {"month": -12, "quarter": -4, "year": -1}[period.kind], fiscal_start)


def elapsed_days(period: Period, today: date) -> int:
    """Days of the period done by the end of `today` (0 before it starts, all after it ends)."""
    if today < period.start:
        return 0
    return min((today - period.start).days + 1, period.days)

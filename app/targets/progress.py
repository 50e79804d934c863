"""How far a target is (pure): rate, remaining, days left, the daily run rate needed, pace
against a linear expectation, the month's thirds, and ranks. Used by the achievement and
ranking reports, the dashboard and the period close — one definition of each figure.

* `rate` = actual ÷ target, four places half-up; None when the target is 0.
* `remaining` = target − actual, never below 0.
* `days_left` = the period's days after today (today counts as done: figures are "by the end
  of today"); all of them before the period starts, 0 after it ends.
* `daily_needed` = remaining ÷ days_left, to two places half-up (None when no day is left).
* `expected` = target × elapsed days ÷ days (linear), two places; `pace` = actual ÷ expected,
  four places (None when expected is 0); `ahead` = actual − expected.
* The thirds of a month (上旬 1–10, 中旬 11–20, 下旬 21–end): `thirds(period)` gives their date
  ranges, each summed by the caller from day facts.
* Ranks: by rate (None last) then actual, both descending; equal figures share a rank (1, 2,
  2, 4) and are listed by name, then id — stable across calls.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.targets.periods import Period, elapsed_days

RATE = Decimal("0.0001")
CENT = Decimal("0.01")
ZERO = Decimal("0")
THIRDS = ("early", "middle", "late")  # 上旬, 中旬, 下旬


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (numerator / denominator).quantize(RATE, ROUND_HALF_UP)


@dataclass(frozen=True)
class Progress:
    target: Decimal
    actual: Decimal
    rate: Decimal | None
    remaining: Decimal
    days: int
    days_elapsed: int
    days_left: int
    daily_needed: Decimal | None
    expected: Decimal
    pace: Decimal | None
    ahead: Decimal


def progress(target: Decimal, actual: Decimal, period: Period, today: date) -> Progress:
    """The figures of one target on `today` (company date)."""
    done = elapsed_days(period, today)
    left = period.days - done
    remaining = max(target - actual, ZERO)
    expected = (target * done / period.days).quantize(CENT, ROUND_HALF_UP)
    return Progress(
        target=target,
        actual=actual,
        rate=ratio(actual, target),
        remaining=remaining,
        days=period.days,
        days_elapsed=done,
        days_left=left,
        daily_needed=(remaining / left).quantize(CENT, ROUND_HALF_UP) if left else None,
        expected=expected,
        pace=ratio(actual, expected),
        ahead=actual - expected,
    )


def thirds(period: Period) -> list[tuple[str, date, date]]:
    """(name, first day, day after the last) of a month's 上旬 / 中旬 / 下旬."""
    first = period.start
    return [
        ("early", first, first + timedelta(days=10)),
        ("middle", first + timedelta(days=10), first + timedelta(days=20)),
        ("late", first + timedelta(days=20), period.end),
    ]


@dataclass(frozen=True)
class Ranked:
    key: uuid.UUID
    name: str
    rate: Decimal | None
    actual: Decimal
    rank: int


def rank(
    entries: Sequence[tuple[uuid.UUID, str, Decimal | None, Decimal]], by: str = "rate"
) -> list[Ranked]:
    """Entries (key, name, rate, actual) in rank order. `by`: "rate" (then actual) or
    "actual" (then rate). Equal figures share a rank; ties listed by name, then key."""

    def figures(
        entry: tuple[uuid.UUID, str, Decimal | None, Decimal],
    ) -> tuple[int, Decimal, int, Decimal]:
        _, _, rate, actual = entry
        has_rate = 0 if rate is not None else 1
        rate_value = -(rate or ZERO)
        if by == "actual":
            return (0, -actual, has_rate, rate_value)
        return (has_rate, rate_value, 0, -actual)

    ordered = sorted(entries, key=lambda e: (figures(e), e[1], str(e[0])))
    ranked: list[Ranked] = []
    previous: tuple[int, Decimal, int, Decimal] | None = None
    for position, entry in enumerate(ordered, start=1):
        current = figures(entry)
        number = ranked[-1].rank if previous == current and ranked else position
        ranked.append(Ranked(entry[0], entry[1], entry[2], entry[3], number))
        previous = current
    return ranked

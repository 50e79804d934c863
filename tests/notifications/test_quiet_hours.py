"""Quiet hours defer a push to the end of the window (company time), across midnight too.
(The push job honouring the deferral end to end: tests/notifications/test_push.py.)"""

from datetime import UTC, datetime, time

import pytest

from app.notifications.inbox.service import quiet_until

SHANGHAI = "Asia/Shanghai"  # UTC+8, no daylight saving


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "start", "end", "expected"),
    [
        # 23:30 local in 22:00–08:00 → 08:00 local the next morning = 00:00 UTC.
        (utc(2026, 3, 1, 15, 30), time(22), time(8), utc(2026, 3, 2, 0, 0)),
        # 07:00 local in 22:00–08:00 → 08:00 the same morning.
        (utc(2026, 3, 1, 23, 0), time(22), time(8), utc(2026, 3, 2, 0, 0)),
        # 13:30 local in 13:00–14:00 → 14:00 local = 06:00 UTC.
        (utc(2026, 3, 1, 5, 30), time(13), time(14), utc(2026, 3, 1, 6, 0)),
        # Outside the window, no window, an empty window: no deferral.
        (utc(2026, 3, 1, 4, 0), time(22), time(8), None),
        (utc(2026, 3, 1, 15, 30), None, None, None),
        (utc(2026, 3, 1, 15, 30), time(9), time(9), None),
    ],
)
def test_quiet_until(at: datetime, start: time, end: time, expected: datetime | None) -> None:
    assert quiet_until(at, SHANGHAI, start, end) == expected


def test_quiet_until_follows_the_local_clock_across_daylight_saving() -> None:
    # Berlin, the night clocks go forward (29 March 2026, 02:00 → 03:00), quiet 23:00–07:00:
    # 00:30 CET → 07:00 CEST, which is 05:00 UTC (not 06:00).
    at = utc(2026, 3, 28, 23, 30)
    assert quiet_until(at, "Europe/Berlin", time(23), time(7)) == utc(2026, 3, 29, 5, 0)

from datetime import UTC, datetime, timedelta

import pytest

from app.core import clock


def test_clock_moves_and_freezes_for_tests():
    before = clock.now()
    clock.advance(timedelta(days=15))
    assert clock.now() - before >= timedelta(days=15)
    clock.freeze(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2026, 1, 1, 1, tzinfo=UTC)
    clock.reset()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_freezing_needs_an_aware_datetime():
    with pytest.raises(ValueError):
        clock.freeze(datetime(2026, 1, 1))  # noqa: DTZ001

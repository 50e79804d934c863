"""The one clock. Everything that needs the time calls `now()`; tests move it."""

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC, shifted or frozen by tests."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def advance(delta: timedelta) -> None:
    """Move the clock forward (or back) by `delta`."""
    global _offset, _frozen
    if _frozen is not None:
        _frozen = _frozen + delta
    else:
        _offset += delta


def freeze(at: datetime) -> None:
    """Stop the clock at `at` (must be timezone-aware)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    _frozen = at.astimezone(UTC)


def reset() -> None:
    """Back to real time."""
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None

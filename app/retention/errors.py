"""The problem codes of restoring deleted records and deleting files, one constructor each."""

from datetime import datetime

from app.core.errors import ProblemError


def record_not_deleted(detail: str = "This record is not deleted.") -> ProblemError:
    """409: restoring a record that is live."""
    return ProblemError(409, "record_not_deleted", detail)


def restore_window_passed(deleted_at: datetime, days: int) -> ProblemError:
    """409: deleted longer ago than the company's `restore_days`."""
    return ProblemError(
        409,
        "restore_window_passed",
        f"Deleted on {deleted_at:%Y-%m-%d}: records may be restored within {days} days.",
        deleted_at=deleted_at.isoformat(),
        restore_days=days,
    )


def customer_deleted(
    detail: str = "Its customer is deleted: restore the customer first.",
) -> ProblemError:
    """409: restoring a record whose customer is deleted."""
    return ProblemError(409, "customer_deleted", detail)


def restore_conflict(
    detail: str = "A live record now takes its place (e.g. a log of the same period).",
) -> ProblemError:
    """409: restoring would break a uniqueness rule other than the customers' duplicates."""
    return ProblemError(409, "restore_conflict", detail)


def file_in_use(detail: str = "The file is attached to a record: detach it first.") -> ProblemError:
    """409: deleting a file a record points at."""
    return ProblemError(409, "file_in_use", detail)

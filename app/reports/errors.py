"""The problem codes of reports, one constructor each."""

from app.core.errors import ProblemError, field_error


def invalid_range(max_days: int = 0, unit: str = "days") -> ProblemError:
    """422: a report range that is reversed or longer than `max_days` days (or `unit`s)."""
    return field_error(
        422,
        "invalid_range",
        f"`to` must be on or after `from`, within {max_days} {unit}.",
        loc=("query", "to"),
        msg="bad range",
    )

"""The problem codes of attendance, one constructor each."""

from app.core.errors import ProblemError, field_error


def clock_out_before_clock_in(
    detail: str = "The clock-out is earlier than the day's clock-in.",
) -> ProblemError:
    """422: a clock-out recorded before the clock-in of its day (and none earlier to close)."""
    return field_error(
        422,
        "clock_out_before_clock_in",
        detail,
        loc=("body", "client_recorded_at"),
        msg="before the clock-in",
    )


def invalid_month(month: str = "") -> ProblemError:
    """422: a month outside the years the service handles."""
    return field_error(
        422,
        "invalid_month",
        f"{month!r} is not a month the service handles.",
        loc=("query", "month"),
        msg="a month YYYY-MM within the supported years",
    )

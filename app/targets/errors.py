"""The problem codes of targets, one constructor each."""

from app.core.errors import ProblemError, field_error


def invalid_period(value: str, loc: tuple[str, ...] = ("body", "period")) -> ProblemError:
    """422: a period key that names no period (`2027-W53` in a 52-week year, `2027-02-30`)."""
    return field_error(
        422,
        "invalid_period",
        f"{value!r} is not a period: use 2027, 2027-Q1, 2027-03, 2027-W09 or 2027-03-15.",
        loc=loc,
        msg="not a period",
    )

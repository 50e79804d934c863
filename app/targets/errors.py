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


def target_exists(existing_id: str | None = None, period: str | None = None) -> ProblemError:
    """409: a live target of that subject, measure and period exists (`existing_id` names it)."""
    where = f" for {period}" if period else ""
    return ProblemError(
        409,
        "target_exists",
        f"A target of this subject and measure{where} exists already.",
        existing_id=existing_id,
        period=period,
    )


def target_has_children(children: int = 1) -> ProblemError:
    """409: deleting a target that has live children (send `?cascade=true` to delete them)."""
    return ProblemError(
        409,
        "target_has_children",
        "The target is split into others; delete with cascade=true to delete them too.",
        children=children,
    )


def already_split() -> ProblemError:
    """409: the target has live children; send `replace: true` to replace them."""
    return ProblemError(
        409,
        "already_split",
        "The target is split already; send replace: true to replace its children.",
    )


def whole_number_required(loc: tuple[str, ...] = ("body", "value")) -> ProblemError:
    """422: a count measure's value with decimal places."""
    return field_error(
        422,
        "whole_number_required",
        "This measure counts things: its value is a whole number.",
        loc=loc,
        msg="a whole number is required",
    )


def invalid_weights(detail: str = "The weights do not fit the children.") -> ProblemError:
    """422: weights that miss a child, name another, are negative or add up to 0."""
    return field_error(
        422, "invalid_weights", detail, loc=("body", "weights"), msg="invalid weights"
    )


def no_history(period: str | None = None) -> ProblemError:
    """422: `last_year` found nothing a year earlier to weigh the children by (no fallback)."""
    where = f" ({period})" if period else ""
    return ProblemError(
        422,
        "no_history",
        f"Nothing was recorded a year earlier{where} to weigh the split by; use `even` or "
        "`weights`.",
    )


def invalid_split(detail: str = "The target cannot be split this way.") -> ProblemError:
    """422: a split the target's period or subject does not allow (a day into anything, a
    month into quarters, a user by subject, `into` with by=subject)."""
    return ProblemError(422, "invalid_split", detail)


def subject_id_required(loc: tuple[str, ...] = ("body", "subject_id")) -> ProblemError:
    """422: a department or user subject without `subject_id`, or a company one with it."""
    return field_error(
        422,
        "subject_id_required",
        "A department or user subject names its subject_id; the company names none.",
        loc=loc,
        msg="subject_id must be given for department and user subjects, omitted for company",
    )

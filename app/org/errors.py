"""The problem codes of companies, departments and users, one constructor each."""

from app.core.errors import ProblemError, field_error


def signup_disabled(detail: str = "Self-service signup is turned off here.") -> ProblemError:
    """403: this deployment does not let strangers create companies."""
    return ProblemError(403, "signup_disabled", detail)


def wrong_password(detail: str = "The current password is wrong.") -> ProblemError:
    """403: a password change whose current password does not match."""
    return ProblemError(403, "wrong_password", detail)


def unknown_department(
    field: str = "department_id",
    detail: str = "No active department with that id in your company.",
) -> ProblemError:
    """422: a department id (at body.<field>) that is not an active one of the company."""
    return field_error(
        422, "unknown_department", detail, loc=("body", field), msg="unknown department"
    )


def department_cycle(detail: str = "A department cannot move under itself.") -> ProblemError:
    """409: a move that would put a department under its own subtree."""
    return ProblemError(409, "department_cycle", detail)


def department_not_empty(
    active_users: int | None = 0,
    active_subdepartments: int | None = 0,
    detail: str = "Move its active users and sub-departments elsewhere first.",
) -> ProblemError:
    """409: deactivating a department that still has members or children."""
    return ProblemError(
        409,
        "department_not_empty",
        detail,
        active_users=active_users,
        active_subdepartments=active_subdepartments,
    )


def email_taken(detail: str = "A user with this e-mail already exists.") -> ProblemError:
    """409: the e-mail belongs to another user already."""
    return ProblemError(409, "email_taken", detail)


def cannot_demote_self(
    detail: str = "An admin cannot take away their own admin role.",
) -> ProblemError:
    """409: an admin removing their own admin role."""
    return ProblemError(409, "cannot_demote_self", detail)


def cannot_deactivate_self(detail: str = "You cannot deactivate yourself.") -> ProblemError:
    """409: a user deactivating their own account."""
    return ProblemError(409, "cannot_deactivate_self", detail)


def invalid_successor(detail: str = "The successor must be another active user.") -> ProblemError:
    """422: the hand-off target is inactive or the user being deactivated."""
    return field_error(
        422, "invalid_successor", detail, loc=("body", "successor_id"), msg="invalid successor"
    )


def invalid_time_zone(value: str, field: str = "time_zone") -> ProblemError:
    """422: a time zone that is not an IANA name both Python and PostgreSQL know."""
    return field_error(
        422,
        "invalid_time_zone",
        f"{value!r} is not an IANA time zone name (e.g. Asia/Shanghai).",
        loc=("body", field),
        msg="unknown IANA time zone",
    )

"""The problem codes of service tickets, one constructor each."""

from app.core.errors import ProblemError


def invalid_transition(
    from_status: str = "open", to_status: str = "resolved", detail: str | None = None
) -> ProblemError:
    """409: a status move the ticket machine does not allow (open → in_progress → resolved →
    closed; resolved or closed → open; `resolved` only by POST …/resolve)."""
    return ProblemError(
        409,
        "invalid_transition",
        detail or f"A ticket cannot move from {from_status} to {to_status}.",
        from_status=from_status,
        to_status=to_status,
    )

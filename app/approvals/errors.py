"""The problem codes of approval flows and approvals, one constructor each."""

from app.core.errors import ProblemError


def record_locked_for_approval(approval_id: str) -> ProblemError:
    """409: changing a record while it waits in an approval."""
    return ProblemError(
        409,
        "record_locked_for_approval",
        "The record is waiting for approval: withdraw it first.",
        approval_id=approval_id,
    )

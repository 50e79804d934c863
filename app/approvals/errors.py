"""The problem codes of approval flows and approvals, one constructor each."""

from typing import Any

from app.core.errors import ProblemError, field_errors


def record_locked_for_approval(approval_id: str) -> ProblemError:
    """409: changing a record while it waits in an approval."""
    return ProblemError(
        409,
        "record_locked_for_approval",
        "The record is waiting for approval: withdraw it first.",
        approval_id=approval_id,
    )


def unknown_approver(issues: list[dict[str, Any]]) -> ProblemError:
    """422: a flow names users who are not active users of the company (one issue each)."""
    return field_errors(
        422,
        "unknown_approver",
        "Every approver must be an active user of your company.",
        issues,
    )


def approval_not_pending(status: str) -> ProblemError:
    """409: deciding or withdrawing an approval that has already ended."""
    return ProblemError(
        409,
        "approval_not_pending",
        f"The approval is already {status}.",
        approval_status=status,
    )


def approval_changed() -> ProblemError:
    """409: another decision on the same step won (or the approval moved on meanwhile)."""
    return ProblemError(
        409,
        "approval_changed",
        "The approval was decided by someone else meanwhile; fetch it again.",
    )


def approval_already_decided() -> ProblemError:
    """409: the caller has already decided this step."""
    return ProblemError(409, "approval_already_decided", "You have already decided this step.")

"""The problem codes of tasks (and of assigning people to work), one constructor each."""

import uuid
from collections.abc import Sequence

from app.core.errors import ProblemError, field_errors, field_issue


def assignee_not_allowed(
    detail: str = "Reps assign only themselves; managers the people of their subtree.",
) -> ProblemError:
    """403: an assignee outside the caller's reach (a rep: anyone else; a manager: outside
    their department subtree)."""
    return ProblemError(403, "assignee_not_allowed", detail)


def unknown_assignee(
    field: str = "assignee_ids", missing: Sequence[tuple[int | None, uuid.UUID]] = ()
) -> ProblemError:
    """422: an assignee who is not an active user of the company (one error per id)."""
    issues = [
        field_issue(("body", field) if index is None else ("body", field, index), "unknown user")
        for index, _ in missing
    ] or [field_issue(("body", field), "unknown user")]
    return field_errors(
        422, "unknown_assignee", "No active user of the company has this id.", issues
    )

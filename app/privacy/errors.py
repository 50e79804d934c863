"""The problem codes of phone privacy, one constructor each."""

from app.core.errors import ProblemError


def phone_reveal_not_allowed(
    detail: str = "Only the customer's owner, collaborators, the managers above the owner "
    "and admins may reveal its numbers; claim a pool customer to call it.",
) -> ProblemError:
    """403: a visible customer whose numbers the caller may not reveal."""
    return ProblemError(403, "phone_reveal_not_allowed", detail)

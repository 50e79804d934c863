"""The problem codes of the activity feed, one constructor each."""

from collections.abc import Iterable

from app.core.errors import ProblemError, field_error, field_errors, field_issue


def mention_not_allowed(indexes: Iterable[int] = ()) -> ProblemError:
    """422: mentioned users who cannot see the item, one error at body.mentions.<i> each."""
    return field_errors(
        422,
        "mention_not_allowed",
        "You can only mention people who can see this item.",
        (field_issue(("body", "mentions", i), "cannot see the item") for i in indexes),
    )


def invalid_parent(detail: str = "Reply to a top-level comment of this item.") -> ProblemError:
    """422: a reply to a reply, or to a comment of another item."""
    return field_error(
        422, "invalid_parent", detail, loc=("body", "parent_id"), msg="invalid parent"
    )


def comment_deleted(detail: str = "This comment was deleted.") -> ProblemError:
    """409: changing a deleted comment."""
    return ProblemError(409, "comment_deleted", detail)

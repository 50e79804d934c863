"""Optimistic concurrency: `version` ⇄ ETag / If-Match.

Every record people edit carries `version`. Each response carrying such a record sends
`ETag: "<version>"` (`etag_for`), and every PATCH or PUT of one must send the ETag it read as
`If-Match` (`IfMatch` in the route, `check_if_match` in the service, before anything
changes): missing → 428 `if_match_required`, another version → 412 `version_mismatch`.
"""

from typing import Annotated

from fastapi import Header

from app.core.errors import ProblemError

# The route parameter: `if_match: IfMatch = None` (None reaches `check_if_match`, which
# answers 428; a required Header would answer 422 instead).
IfMatch = Annotated[
    str | None,
    Header(description="The record's ETag as you read it (required: 428 without, 412 stale)."),
]


def etag_for(version: int) -> str:
    """The (weak-free, quoted) ETag of a record version."""
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int) -> None:
    """412 when If-Match names another version; 428 when it is missing."""
    if if_match is None or not if_match.strip():
        raise ProblemError(428, "if_match_required", "Send If-Match with the record's ETag.")
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in candidates or etag_for(version) in candidates:
        return
    raise ProblemError(
        412,
        "version_mismatch",
        "The record changed since you read it; fetch it again.",
        current_version=version,
    )

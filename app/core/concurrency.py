"""Optimistic concurrency: `version` ⇄ ETag / If-Match."""

from app.core.errors import ProblemError


def etag_for(version: int) -> str:
    """The (weak-free, quoted) ETag of a record version."""
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int, *, required: bool) -> None:
    """412 when If-Match names another version; 428 when it is required but missing."""
    if if_match is None:
        if required:
            raise ProblemError(428, "if_match_required", "Send If-Match with the record's ETag.")
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" in candidates or etag_for(version) in candidates:
        return
    raise ProblemError(
        412,
        "version_mismatch",
        "The record changed since you read it; fetch it again.",
        current_version=version,
    )

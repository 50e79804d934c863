"""The problem codes of operations (scheduled jobs), one constructor each."""

from app.core.errors import ProblemError


def job_already_queued(detail: str = "That run is already queued.") -> ProblemError:
    """409: asking for a job run while one is still queued."""
    return ProblemError(409, "job_already_queued", detail)

"""The problem codes of the coverage policy, report and map, one constructor each."""

from app.core.errors import ProblemError


def bbox_too_large(max_km2: int) -> ProblemError:
    """422: a map bounding box larger than the cap."""
    return ProblemError(
        422, "bbox_too_large", f"The box must cover at most {max_km2} km².", max_km2=max_km2
    )

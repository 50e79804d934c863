"""Pure decisions about pipelines and their stages (no database)."""

from collections.abc import Iterable, Sequence
from typing import Literal, TypeVar

from app.pipeline.models import STAGE_KINDS

T = TypeVar("T")

MAX_STAGES = 50
"""Stages of one pipeline, retired ones included."""
MAX_FEEDBACK_QUESTIONS = 20
"""Questions one stage asks when leaving it."""
OPPORTUNITY_FIELDS = (
    "amount",
    "expected_close_date",
    "contact_ids",
    "competitors",
    "source",
    "description",
)
"""The opportunity fields a stage may require to be filled."""

StageFate = Literal["delete", "retire", "move", "refuse"]


def missing_kinds(active_kinds: Iterable[str]) -> list[str]:
    """The stage kinds a pipeline's active stages lack (it needs an open, a won, a lost one)."""
    present = set(active_kinds)
    return [kind for kind in STAGE_KINDS if kind not in present]


def insert_at(order: Sequence[T], item: T, position: int | None) -> list[T]:
    """`order` with `item` inserted at 1-based `position` (None or past the end: last)."""
    result = list(order)
    index = len(result) if position is None else min(max(position, 1) - 1, len(result))
    result.insert(index, item)
    return result


def move_to(order: Sequence[T], item: T, position: int) -> list[T]:
    """`order` with `item` moved to 1-based `position` (past the end: last)."""
    rest = [other for other in order if other is not item]
    return insert_at(rest, item, position)


def stage_fate(in_stage: int, used: bool, move_requested: bool) -> StageFate:
    """What DELETE does to a stage: never used (no opportunity, no history) → delete; used
    but empty → retire; opportunities in it → move them (when asked) and retire, else refuse."""
    if in_stage > 0:
        return "move" if move_requested else "refuse"
    return "retire" if used else "delete"

"""Pure decisions about opportunities (no database): which moves a pipeline allows, what a stage
asks before it may be left, whether an answer is valid for its question, staleness, rotting
and the priority quadrant. The service gathers the facts and calls these."""

import math
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

# Fields of an opportunity a stage may require (`required_fields`), with their labels.
FIELD_LABELS: dict[str, str] = {
    "name": "名称 name",
    "amount": "金额 amount",
    "expected_close_date": "预计成交日期 expected close date",
    "contact_ids": "联系人 contacts",
    "competitors": "竞争对手 competitors",
    "source": "来源 source",
    "description": "描述 description",
}
EVIDENCE_LABELS: dict[str, str] = {
    "checkin_at_customer": "在客户处签到 a check-in at the customer",
    "followup": "跟进记录 a follow-up on the customer",
    "file": "附件 a file on the opportunity",
}
# What a won stage asks whatever the stage says: the deal needs an amount and a date.
WON_FIELDS = ("amount", "expected_close_date")
# Stage probability from which an opportunity counts as likely (the quadrant's chance line).
LIKELY_FROM = 50
# Check-in flags that keep a check-in from counting as evidence of a visit.
DISQUALIFYING_FLAGS = ("far_from_customer", "mock_location")

Quadrant = Literal["act_now", "plan", "opportunistic", "park"]
QUADRANTS: tuple[Quadrant, ...] = ("act_now", "plan", "opportunistic", "park")
Move = Literal["forward", "backward", "lost", "reopen"]


@dataclass(frozen=True)
class StageFacts:
    """What the rules need of a stage."""

    id: uuid.UUID
    name: str
    position: int
    kind: str  # open | won | lost
    active: bool = True  # not retired
    required_fields: Sequence[str] = ()
    required_feedback: Sequence[Mapping[str, Any]] = ()
    required_evidence: Sequence[str] = ()


@dataclass(frozen=True)
class Refusal:
    """A move the pipeline does not allow: `closed` (a won opportunity: 409
    `opportunity_closed`), `unknown` (not an active stage of the pipeline: 422
    `unknown_stage`) or `not_allowed` (409 `stage_transition_not_allowed`)."""

    kind: Literal["closed", "unknown", "not_allowed"]
    detail: str


@dataclass(frozen=True)
class Decision:
    move: Move | None = None
    refusal: Refusal | None = None
    checks_requirements: bool = field(default=False)


def next_stage(stages: Sequence[StageFacts], current: StageFacts) -> StageFacts | None:
    """The next active open or won stage after `current` by position (one step forward)."""
    later = [
        s
        for s in stages
        if s.active and s.kind in ("open", "won") and s.position > current.position
    ]
    return min(later, key=lambda s: s.position) if later else None


def first_open_stage(stages: Sequence[StageFacts]) -> StageFacts | None:
    """Where a new opportunity starts: the first active open stage by position."""
    opens = [s for s in stages if s.active and s.kind == "open"]
    return min(opens, key=lambda s: s.position) if opens else None


def decide_move(
    stages: Sequence[StageFacts],
    current: StageFacts,
    target_id: uuid.UUID,
    *,
    status: str,
    allow_skip: bool,
    allow_backward: bool,
) -> Decision:
    """Whether the pipeline allows moving from `current` to `target_id`, and whether the
    current stage's exit requirements apply (forward moves only: not to lost, not back)."""
    if status == "won":
        return Decision(refusal=Refusal("closed", "A won opportunity is closed for good."))
    target = next((s for s in stages if s.id == target_id), None)
    if target is None or not target.active:
        return Decision(refusal=Refusal("unknown", "Not an active stage of this pipeline."))
    if target.id == current.id:
        return Decision(refusal=Refusal("not_allowed", "The opportunity is in that stage."))
    if status == "lost":
        if target.kind == "open" and allow_backward:
            return Decision(move="reopen")
        return Decision(
            refusal=Refusal(
                "not_allowed",
                "A lost opportunity reopens only into an open stage of a pipeline that "
                "allows moving backward.",
            )
        )
    if target.kind == "lost":
        return Decision(move="lost")
    if target.position > current.position:
        following = next_stage(stages, current)
        if following is not None and following.id == target.id:
            return Decision(move="forward", checks_requirements=True)
        if allow_skip:
            return Decision(move="forward", checks_requirements=True)
        expected = following.name if following is not None else "none"
        return Decision(
            refusal=Refusal(
                "not_allowed",
                f"This pipeline moves one stage at a time: the next stage is {expected}.",
            )
        )
    if target.kind == "won":  # a won stage placed before the current one: still forward
        return Decision(move="forward", checks_requirements=True)
    if allow_backward:
        return Decision(move="backward")
    return Decision(refusal=Refusal("not_allowed", "This pipeline does not allow moving back."))


def is_filled(value: Any) -> bool:
    """Whether an opportunity field counts as filled (None, blank text, empty lists do not)."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | set | frozenset | dict):
        return bool(value)
    return True


def valid_answer(
    question: Mapping[str, Any], answer: Any, uploaded_file_ids: Collection[uuid.UUID] = ()
) -> bool:
    """Whether `answer` answers a feedback question of its type: text → non-blank text;
    number → a JSON number; date → an ISO date (YYYY-MM-DD); choice → one of `options`;
    file → the id of a file the caller uploaded (`uploaded_file_ids`)."""
    kind = question.get("type", "text")
    if answer is None:
        return False
    if kind == "number":
        return (
            isinstance(answer, int | float)
            and not isinstance(answer, bool)
            and math.isfinite(answer)
        )
    if kind == "date":
        return isinstance(answer, str) and parse_iso_date(answer) is not None
    if kind == "choice":
        options = question.get("options") or []
        return isinstance(answer, str) and answer in options
    if kind == "file":
        return file_answer(answer) in set(uploaded_file_ids)
    return isinstance(answer, str) and bool(answer.strip())


def parse_iso_date(value: str) -> date | None:
    """An ISO calendar date in the extended form only (2027-03-01), else None."""
    if len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def file_answer(answer: Any) -> uuid.UUID | None:
    """The file id a `file` answer names, or None when it names none."""
    if not isinstance(answer, str):
        return None
    try:
        return uuid.UUID(answer)
    except ValueError:
        return None


def missing_requirements(
    stage: StageFacts,
    values: Mapping[str, Any],
    feedback: Mapping[str, Any],
    evidence: Collection[str],
    *,
    to_won: bool,
    uploaded_file_ids: Collection[uuid.UUID] = (),
) -> list[dict[str, str]]:
    """Everything the current stage still asks before it may be left, at once, in order:
    fields (with amount and expected close date when the target is won), feedback, evidence.
    `values` are the opportunity's fields, `evidence` the kinds found since the stage was
    entered."""
    missing: list[dict[str, str]] = []
    fields = list(dict.fromkeys([*stage.required_fields, *(WON_FIELDS if to_won else ())]))
    for name in fields:
        if not is_filled(values.get(name)):
            missing.append({"kind": "field", "key": name, "label": FIELD_LABELS.get(name, name)})
    for question in stage.required_feedback:
        key = str(question.get("key", ""))
        if not valid_answer(question, feedback.get(key), uploaded_file_ids):
            label = str(question.get("label") or key)
            missing.append({"kind": "feedback", "key": key, "label": label})
    for kind in dict.fromkeys(stage.required_evidence):
        if kind not in evidence:
            missing.append(
                {"kind": "evidence", "key": kind, "label": EVIDENCE_LABELS.get(kind, kind)}
            )
    return missing


def checkin_counts(flags: Sequence[Mapping[str, Any]], mock_location: bool) -> bool:
    """Whether a check-in counts as evidence of a visit: not mocked, not far from the customer
    (the SQL form is in the service's evidence query)."""
    if mock_location:
        return False
    return not any(flag.get("code") in DISQUALIFYING_FLAGS for flag in flags)


def is_stale(status: str, created_at: datetime, stale_after_days: int, at: datetime) -> bool:
    """An open opportunity older than its pipeline's `stale_after_days`."""
    return status == "open" and created_at < at - timedelta(days=stale_after_days)


def days_in_stage(stage_entered_at: datetime, at: datetime) -> int:
    """Whole days since the opportunity entered its stage."""
    return max((at - stage_entered_at).days, 0)


def rotting_days(status: str, days: int, max_days: int | None) -> int:
    """Days in stage beyond the stage's `max_days` (open opportunities only), else 0."""
    if status != "open" or max_days is None:
        return 0
    return max(days - max_days, 0)


def quadrant(
    status: str, amount: Decimal | None, probability: int, size_line: Decimal | None
) -> Quadrant | None:
    """The priority quadrant of an open opportunity (None once closed): large = an amount at
    or above the size line (no amount is small), likely = stage probability ≥ 50 %."""
    if status != "open":
        return None
    large = amount is not None and size_line is not None and amount >= size_line
    likely = probability >= LIKELY_FROM
    if large:
        return "act_now" if likely else "plan"
    return "opportunistic" if likely else "park"


def median(amounts: Sequence[Decimal]) -> Decimal | None:
    """The exact median of some amounts (the mean of the two middle ones for an even count);
    the service computes the same in SQL (`quadrant.SIZE_LINE`)."""
    ordered = sorted(amounts)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2

"""The pure gating rules: moves, requirements, answers by type, stale, rotting, quadrant."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.pipeline.opportunities import rules
from app.pipeline.opportunities.rules import StageFacts


def pipeline() -> list[StageFacts]:
    names = [("a", "open"), ("b", "open"), ("c", "open"), ("won", "won"), ("lost", "lost")]
    return [
        StageFacts(id=uuid.uuid4(), name=name, position=i, kind=kind)
        for i, (name, kind) in enumerate(names, start=1)
    ]


def move(stages, current, target, status="open", skip=False, back=False) -> rules.Decision:
    return rules.decide_move(
        stages, current, target.id, status=status, allow_skip=skip, allow_backward=back
    )


def test_one_step_forward_checks_requirements_and_skipping_needs_allow_skip():
    a, b, c, won, lost = pipeline()
    stages = [a, b, c, won, lost]
    assert move(stages, a, b) == rules.Decision(move="forward", checks_requirements=True)
    assert move(stages, a, c).refusal.kind == "not_allowed"
    assert move(stages, a, won).refusal.kind == "not_allowed"
    assert move(stages, a, c, skip=True).move == "forward"
    assert move(stages, c, won).checks_requirements


def test_backward_needs_allow_backward_and_checks_nothing():
    a, b, c, won, lost = stages = pipeline()
    assert move(stages, c, a).refusal.kind == "not_allowed"
    assert move(stages, c, a, back=True) == rules.Decision(move="backward")


def test_lost_from_any_open_stage_without_requirements_and_reopen_only_backward():
    a, b, c, won, lost = stages = pipeline()
    for current in (a, b, c):
        assert move(stages, current, lost) == rules.Decision(move="lost")
    assert move(stages, lost, a, status="lost").refusal.kind == "not_allowed"
    assert move(stages, lost, a, status="lost", back=True).move == "reopen"
    assert move(stages, lost, won, status="lost", back=True).refusal.kind == "not_allowed"


def test_won_is_closed_for_good_and_unknown_or_retired_targets_are_unknown():
    a, b, c, won, lost = stages = pipeline()
    assert move(stages, won, a, status="won", back=True).refusal.kind == "closed"
    assert move(stages, won, lost, status="won").refusal.kind == "closed"
    stranger = StageFacts(id=uuid.uuid4(), name="x", position=9, kind="open")
    assert move(stages, a, stranger).refusal.kind == "unknown"
    retired = StageFacts(id=b.id, name="b", position=2, kind="open", active=False)
    assert move([a, retired, c, won, lost], a, b).refusal.kind == "unknown"
    # The one step skips a retired stage.
    assert rules.next_stage([a, retired, c, won, lost], a) == c
    assert move([a, retired, c, won, lost], a, c).move == "forward"
    assert move(stages, a, a).refusal.kind == "not_allowed"


def test_first_open_stage():
    a, b, c, won, lost = pipeline()
    assert rules.first_open_stage([won, c, b, a, lost]) == a
    assert rules.first_open_stage([won, lost]) is None


@pytest.mark.parametrize(
    ("question", "good", "bad"),
    [
        ({"type": "text"}, ["yes"], ["", "  ", 3, None]),
        ({"type": "number"}, [3, 2.5, 0], ["3", True, None, float("nan")]),
        ({"type": "date"}, ["2027-03-01"], ["2027-3-1", "01/03/2027", "2027-02-30", 20270301]),
        ({"type": "choice", "options": ["高", "低"]}, ["高"], ["中", "", 1]),
    ],
)
def test_answers_are_valid_by_type(question, good, bad):
    for answer in good:
        assert rules.valid_answer(question, answer), answer
    for answer in bad:
        assert not rules.valid_answer(question, answer), answer


def test_a_file_answer_is_a_file_the_caller_uploaded():
    mine = uuid.uuid4()
    assert rules.valid_answer({"type": "file"}, str(mine), {mine})
    assert not rules.valid_answer({"type": "file"}, str(uuid.uuid4()), {mine})
    assert not rules.valid_answer({"type": "file"}, "not-a-uuid", {mine})


def test_everything_missing_at_once_in_order_and_won_adds_amount_and_date():
    stage = StageFacts(
        id=uuid.uuid4(),
        name="a",
        position=1,
        kind="open",
        required_fields=["source", "amount"],
        required_feedback=[{"key": "k", "label": "问题", "type": "text"}],
        required_evidence=["followup", "checkin_at_customer"],
    )
    values = {"source": "", "amount": None, "expected_close_date": None}
    missing = rules.missing_requirements(stage, values, {}, {"followup"}, to_won=True)
    assert [(m["kind"], m["key"]) for m in missing] == [
        ("field", "source"),
        ("field", "amount"),
        ("field", "expected_close_date"),
        ("feedback", "k"),
        ("evidence", "checkin_at_customer"),
    ]
    assert missing[3]["label"] == "问题"
    filled = {"source": "展会", "amount": Decimal("1"), "expected_close_date": "2027-01-01"}
    assert (
        rules.missing_requirements(
            stage, filled, {"k": "答"}, {"followup", "checkin_at_customer"}, to_won=True
        )
        == []
    )


def test_far_or_mocked_check_ins_do_not_count():
    assert rules.checkin_counts([], mock_location=False)
    assert rules.checkin_counts([{"code": "low_accuracy"}], mock_location=False)
    assert not rules.checkin_counts([{"code": "far_from_customer"}], mock_location=False)
    assert not rules.checkin_counts([{"code": "mock_location"}], mock_location=False)
    assert not rules.checkin_counts([], mock_location=True)


def test_stale_and_rotting():
    at = datetime(2027, 3, 1, tzinfo=UTC)
    assert rules.is_stale("open", at - timedelta(days=43), 42, at)
    assert not rules.is_stale("open", at - timedelta(days=41), 42, at)
    assert not rules.is_stale("won", at - timedelta(days=100), 42, at)
    assert rules.rotting_days("open", 10, 7) == 3
    assert rules.rotting_days("open", 5, 7) == 0
    assert rules.rotting_days("open", 10, None) == 0
    assert rules.rotting_days("lost", 10, 7) == 0
    assert rules.days_in_stage(at - timedelta(days=2, hours=23), at) == 2


def test_quadrants_and_the_median_line():
    line = rules.median([Decimal("100"), Decimal("900"), Decimal("300"), Decimal("500")])
    assert line == Decimal("400")
    assert rules.median([Decimal("1"), Decimal("5"), Decimal("3")]) == Decimal("3")
    assert rules.median([]) is None
    assert rules.quadrant("open", Decimal("400"), 60, line) == "act_now"
    assert rules.quadrant("open", Decimal("900"), 30, line) == "plan"
    assert rules.quadrant("open", Decimal("100"), 50, line) == "opportunistic"
    assert rules.quadrant("open", Decimal("100"), 49, line) == "park"
    assert rules.quadrant("open", None, 80, line) == "opportunistic"
    assert rules.quadrant("open", Decimal("5"), 80, None) == "opportunistic"
    assert rules.quadrant("won", Decimal("900"), 100, line) is None

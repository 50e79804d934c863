"""The engine's pure decisions: approver resolution, skips, any/all."""

import uuid
from dataclasses import replace
from typing import Any

import pytest

from app.approvals import rules
from app.approvals.service import department_chain

ROOT, SALES, EAST, TEAM = (uuid.uuid4() for _ in range(4))
CHAIN = (TEAM, EAST, SALES, ROOT)  # own department first
M_EAST, M_SALES, M_SALES_2, M_ROOT, ADMIN, REP, OTHER = (uuid.uuid4() for _ in range(7))


def facts(submitter: uuid.UUID = REP, **changes: Any) -> rules.Facts:
    base = rules.Facts(
        submitter_id=submitter,
        chain=CHAIN,
        managers={EAST: [M_EAST], SALES: [M_SALES, M_SALES_2], ROOT: [M_ROOT]},
        admins=[ADMIN],
        active_users=frozenset({OTHER, REP}),
    )
    return replace(base, **changes)


def test_level_one_is_the_nearest_department_with_managers():
    # TEAM has no managers: level 1 is EAST's, level 2 SALES', level 3 the root's.
    assert rules.manager_levels(facts()) == [(M_EAST,), (M_SALES, M_SALES_2), (M_ROOT,)]


def test_own_department_managers_are_level_one():
    with_team = facts(managers={TEAM: [OTHER], EAST: [M_EAST]})
    assert rules.manager_levels(with_team) == [(OTHER,), (M_EAST,)]


def test_a_manager_starts_one_department_higher():
    # M_EAST submits from EAST: level 1 is SALES (the nearest department above with managers).
    manager_facts = facts(M_EAST, chain=(EAST, SALES, ROOT))
    assert rules.manager_levels(manager_facts) == [(M_SALES, M_SALES_2), (M_ROOT,)]


def test_a_level_beyond_the_chain_has_nobody():
    steps = rules.resolve_steps([{"approvers": {"type": "manager", "levels": 4}}], facts())
    assert steps[0].approver_ids == ()
    assert steps[0].skip_reason == rules.SKIP_NO_APPROVER


def test_no_department_no_managers():
    steps = rules.resolve_steps(
        [{"approvers": {"type": "manager", "levels": 1}, "mode": "any"}], facts(chain=())
    )
    assert steps[0].skip_reason == rules.SKIP_NO_APPROVER


def test_role_and_users_approvers():
    resolved = rules.resolve_steps(
        [
            {"approvers": {"type": "role", "role": "admin"}, "mode": "any"},
            {"approvers": {"type": "users", "user_ids": [str(OTHER), str(uuid.uuid4())]}},
        ],
        facts(),
    )
    assert resolved[0].approver_ids == (ADMIN,)
    assert resolved[1].approver_ids == (OTHER,)  # an inactive / unknown user is dropped
    assert resolved[1].mode == "any"
    assert [step.skipped for step in resolved] == [False, False]


def test_a_step_the_submitter_would_decide_is_skipped():
    resolved = rules.resolve_steps(
        [{"approvers": {"type": "users", "user_ids": [str(OTHER), str(REP)]}, "mode": "all"}],
        facts(),
    )
    assert resolved[0].skip_reason == rules.SKIP_SELF_APPROVAL
    assert resolved[0].as_json() == {
        "mode": "all",
        "approvers": {"type": "users", "user_ids": [str(OTHER), str(REP)]},
        "approver_ids": [str(OTHER), str(REP)],
        "skipped": True,
        "skip_reason": "self_approval",
    }


def test_next_live_step_skips_skipped_steps():
    steps = [{"skipped": True}, {"skipped": False}, {"skipped": True}, {"skipped": False}]
    assert rules.next_live_step(steps, None) == 1
    assert rules.next_live_step(steps, 1) == 3
    assert rules.next_live_step(steps, 3) is None
    assert rules.next_live_step([{"skipped": True}], None) is None


@pytest.mark.parametrize(
    ("mode", "decisions", "state"),
    [
        ("any", [None, None], "open"),
        ("any", ["approved", None], "approved"),
        ("any", [None, "rejected"], "rejected"),
        ("all", ["approved", None], "open"),
        ("all", ["approved", "approved"], "approved"),
        ("all", ["approved", "rejected"], "rejected"),
        ("all", [], "open"),
    ],
)
def test_step_state(mode: str, decisions: list[str | None], state: str):
    assert rules.step_state(mode, decisions) == state


def test_department_chain_from_a_path():
    assert department_chain(f"/{ROOT}/{SALES}/{EAST}/") == [EAST, SALES, ROOT]
    assert department_chain(None) == []

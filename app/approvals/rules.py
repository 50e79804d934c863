"""The approval engine's pure decisions: who approves a step (resolved once, at submission),
which steps are skipped and why, and when a step is decided (`any` / `all`).

The service reads the facts (the submitter's department chain, the active managers of those
departments, the active admins, the listed users that are active) and these functions decide;
tests call them without a database."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["any", "all"]
Decision = Literal["approved", "rejected"]
StepState = Literal["open", "approved", "rejected"]

SKIP_NO_APPROVER = "no_approver"
SKIP_SELF_APPROVAL = "self_approval"


@dataclass(frozen=True)
class Facts:
    """What resolving a flow's approvers needs to know about the submitter and the company.

    `chain`: the submitter's department and those above it, nearest first (own department
    first, the root last; empty for a user outside the tree); `managers`: department id →
    its active managers; `admins`: the company's active admins; `active_users`: the users
    named by `users` steps that are active users of the company."""

    submitter_id: uuid.UUID
    chain: Sequence[uuid.UUID]
    managers: Mapping[uuid.UUID, Sequence[uuid.UUID]]
    admins: Sequence[uuid.UUID]
    active_users: frozenset[uuid.UUID]


@dataclass(frozen=True)
class ResolvedStep:
    """A step as an approval keeps it: who decides, in which mode, or why it is skipped."""

    mode: Mode
    approvers: dict[str, Any]
    approver_ids: tuple[uuid.UUID, ...]
    skip_reason: str | None

    @property
    def skipped(self) -> bool:
        return self.skip_reason is not None

    def as_json(self) -> dict[str, Any]:
        """The step in `approvals.steps`."""
        return {
            "mode": self.mode,
            "approvers": self.approvers,
            "approver_ids": [str(user_id) for user_id in self.approver_ids],
            "skipped": self.skipped,
            "skip_reason": self.skip_reason,
        }


def manager_levels(facts: Facts) -> list[tuple[uuid.UUID, ...]]:
    """The submitter's manager levels, nearest first: level 1 is the active managers of the
    submitter's own department or, when it has none, of the nearest department above that
    has some; a submitter who is one of those managers starts one department higher; each
    next level is the next department above that has managers."""
    levels: list[tuple[uuid.UUID, ...]] = []
    for department_id in facts.chain:
        managers = tuple(dict.fromkeys(facts.managers.get(department_id, ())))
        if not managers:
            continue
        if not levels and facts.submitter_id in managers:
            continue  # a manager of the department starts one department higher
        levels.append(managers)
    return levels


def step_approvers(spec: Mapping[str, Any], facts: Facts) -> tuple[uuid.UUID, ...]:
    """Who may decide a step of this `approvers` spec (in a stable order, no duplicates)."""
    kind = spec["type"]
    if kind == "manager":
        levels = manager_levels(facts)
        level = int(spec["levels"])
        return levels[level - 1] if level <= len(levels) else ()
    if kind == "role":
        return tuple(dict.fromkeys(facts.admins)) if spec["role"] == "admin" else ()
    if kind == "users":
        named = (uuid.UUID(str(user_id)) for user_id in spec["user_ids"])
        return tuple(dict.fromkeys(u for u in named if u in facts.active_users))
    raise ValueError(f"unknown approver type {kind!r}")


def resolve_steps(steps: Sequence[Mapping[str, Any]], facts: Facts) -> list[ResolvedStep]:
    """Each flow step with its approvers now; a step nobody can decide is skipped
    (`no_approver`), and so is one the submitter would decide (`self_approval`): nobody
    approves their own record."""
    resolved = []
    for step in steps:
        approver_ids = step_approvers(step["approvers"], facts)
        reason = None
        if not approver_ids:
            reason = SKIP_NO_APPROVER
        elif facts.submitter_id in approver_ids:
            reason = SKIP_SELF_APPROVAL
        resolved.append(
            ResolvedStep(
                mode=step.get("mode", "any"),
                approvers=dict(step["approvers"]),
                approver_ids=approver_ids,
                skip_reason=reason,
            )
        )
    return resolved


def next_live_step(steps: Sequence[Mapping[str, Any]], after: int | None) -> int | None:
    """The index of the first step after `after` (from the start when None) that is not
    skipped; None when there is none (the approval is then approved)."""
    start = 0 if after is None else after + 1
    for index in range(start, len(steps)):
        if not steps[index].get("skipped"):
            return index
    return None


def step_state(mode: str, decisions: Sequence[str | None]) -> StepState:
    """A step's state from its approvers' decisions (None = not yet): a rejection ends it at
    once; `any` is approved by the first approval, `all` when every approver approved."""
    if "rejected" in decisions:
        return "rejected"
    approved = [d == "approved" for d in decisions]
    if mode == "any":
        return "approved" if any(approved) else "open"
    return "approved" if approved and all(approved) else "open"

"""What happens to a record when its approval ends: each record type's package gives one
`ApprovalOutcome` (looked up by `record_type` in `app.composition.APPROVAL_OUTCOMES`), and the
engine calls it in the same transaction as the deciding action (the caller commits)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.approvals.models import Approval
from app.auth.principal import Principal

OutcomeHandler = Callable[[AsyncSession, Principal, Approval], Awaitable[None]]


@dataclass(frozen=True)
class ApprovalOutcome:
    """`approved`: the last step was approved (or every step was skipped at submission);
    `rejected`: an approver rejected it (the record returns to draft); `withdrawn`: the
    submitter took it back. Each flushes, never commits."""

    approved: OutcomeHandler
    rejected: OutcomeHandler
    withdrawn: OutcomeHandler

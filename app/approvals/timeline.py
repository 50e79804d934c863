"""Approvals as a source of the customer timeline: every step of every approval of a record
on the customer — its submission, each skipped, approved or rejected step, its withdrawal.

One row per approval action: kind `approval.submit`, `approval.skip`, `approval.approve`,
`approval.reject` or `approval.withdraw`, the actor, "<title>" or "<title>: <comment, reason
or why skipped>" as text, and the approval's amount. Whoever sees the customer sees its
approvals (`service.approval_visibility`), so no further rule applies.
"""

import uuid

from sqlalchemy import Uuid, cast, func, literal, null, select

from app.approvals.models import Approval, ApprovalAction
from app.auth.principal import Principal
from app.db import AnySelect


def approval_steps(customer_id: uuid.UUID, principal: Principal) -> AnySelect:
    """The customer's approvals' actions as timeline rows."""
    text = func.concat(Approval.title, func.coalesce(literal(": ") + ApprovalAction.reason, ""))
    return (
        select(
            ApprovalAction.id,
            ApprovalAction.at,
            literal("approval.") + ApprovalAction.action,
            ApprovalAction.actor_id,
            cast(null(), Uuid()),
            cast(null(), Uuid()),
            text,
            Approval.amount,
        )
        .join(
            Approval,
            (Approval.company_id == ApprovalAction.company_id)
            & (Approval.id == ApprovalAction.approval_id),
        )
        .where(
            Approval.company_id == principal.company_id,
            Approval.customer_id == customer_id,
        )
    )

"""Contracts as a source of the customer timeline: each contract's creation, activation,
completion and termination.

Rows: kind `contract.created`, `contract.activated`, `contract.completed` or
`contract.terminated`; the actor where it is known (the creator), "<number> <title>" as text
(with the reason of a termination) and the amount. The row of a creation has the contract's
id; the others an id derived from it (md5 of id and kind), so each row's (at, id) is unique
for the timeline's keyset. Whoever sees the customer sees its contracts
(`money.visibility.contract_visibility`), so no further rule applies.
"""

import uuid
from typing import Any

from sqlalchemy import String, Uuid, cast, func, literal, null, select, union_all

from app.auth.principal import Principal
from app.db import AnySelect
from app.money.models import Contract


def _derived_id(kind: str) -> Any:
    return cast(func.md5(func.concat(cast(Contract.id, String()), ":", kind)), Uuid())


def contract_events(customer_id: uuid.UUID, principal: Principal) -> AnySelect:
    """The customer's contracts' milestones as timeline rows."""
    base = (
        Contract.company_id == principal.company_id,
        Contract.customer_id == customer_id,
        Contract.deleted_at.is_(None),
    )
    text = func.concat(Contract.number, " ", Contract.title)
    created = select(
        Contract.id,
        Contract.created_at,
        literal("contract.created"),
        Contract.created_by,
        cast(null(), Uuid()),
        cast(null(), Uuid()),
        text,
        Contract.amount,
    ).where(*base)
    milestones = [
        select(
            _derived_id(kind),
            column,
            literal(f"contract.{kind}"),
            cast(null(), Uuid()),
            cast(null(), Uuid()),
            cast(null(), Uuid()),
            func.concat(text, ": ", Contract.terminated_reason) if kind == "terminated" else text,
            Contract.amount,
        ).where(*base, column.is_not(None))
        for kind, column in (
            ("activated", Contract.activated_at),
            ("completed", Contract.completed_at),
            ("terminated", Contract.terminated_at),
        )
    ]
    return union_all(created, *milestones).subquery().select()

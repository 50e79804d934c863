"""Opportunities as a source of the customer timeline: their creation and every move.

One row per stage-history row (creation is the move from nowhere): kind
`opportunity.created`, `opportunity.won`, `opportunity.lost` or `opportunity.stage_changed`,
the actor, "<name>: <from> → <to>" as text (names as they were) and the amount. Whoever sees
the customer sees its opportunities (`pipeline.visibility`), so no further rule applies.
"""

import uuid

from sqlalchemy import Uuid, case, cast, func, literal, null, select

from app.auth.principal import Principal
from app.db import AnySelect
from app.pipeline.models import Opportunity, Stage, StageChange


def opportunity_moves(customer_id: uuid.UUID, principal: Principal) -> AnySelect:
    """The customer's opportunities' creation and stage changes as timeline rows."""
    kind = case(
        (StageChange.from_stage_id.is_(None), literal("opportunity.created")),
        (Stage.kind == "won", literal("opportunity.won")),
        (Stage.kind == "lost", literal("opportunity.lost")),
        else_=literal("opportunity.stage_changed"),
    )
    text = func.concat(
        Opportunity.name,
        ": ",
        func.coalesce(StageChange.from_stage_name + " → ", ""),
        StageChange.to_stage_name,
    )
    return (
        select(
            StageChange.id,
            StageChange.at,
            kind,
            StageChange.actor_id,
            cast(null(), Uuid()),
            cast(null(), Uuid()),
            text,
            Opportunity.amount,
        )
        .join(Opportunity, Opportunity.id == StageChange.opportunity_id)
        .join(Stage, Stage.id == StageChange.to_stage_id)
        .where(
            Opportunity.company_id == principal.company_id,
            Opportunity.customer_id == customer_id,
            Opportunity.deleted_at.is_(None),
        )
    )

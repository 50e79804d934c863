"""Follow-ups and check-ins as sources of the customer timeline."""

import uuid

from sqlalchemy import Numeric, Uuid, cast, func, literal, null, select

from app.auth.principal import Principal
from app.db import AnySelect
from app.fieldwork.models import Checkin, Followup, WorkLog, WorkLogCustomer
from app.fieldwork.visibility import log_visibility


def followups_on(customer_id: uuid.UUID, principal: Principal) -> AnySelect:
    """Follow-ups on the customer as timeline rows (whoever sees the customer sees them)."""
    return select(
        Followup.id,
        Followup.created_at,
        literal("followup.") + Followup.kind,
        Followup.user_id,
        cast(null(), Uuid()),
        cast(null(), Uuid()),
        Followup.text,
        cast(null(), Numeric(14, 2)),
    ).where(Followup.customer_id == customer_id, Followup.deleted_at.is_(None))


def checkins_at(customer_id: uuid.UUID, principal: Principal) -> AnySelect:
    """Check-ins at the customer as timeline rows (whoever sees the customer sees them)."""
    summary = func.concat_ws(" · ", Checkin.purpose, Checkin.note)
    return select(
        Checkin.id,
        Checkin.created_at,
        literal("checkin"),
        Checkin.user_id,
        cast(null(), Uuid()),
        cast(null(), Uuid()),
        summary,
        cast(null(), Numeric(14, 2)),
    ).where(Checkin.customer_id == customer_id)


def logs_about(customer_id: uuid.UUID, principal: Principal) -> AnySelect:
    """Work logs linked to the customer as timeline rows: only those the caller may read (a
    log is the author's review, for them and the managers above them, not for everyone who
    can see the customer)."""
    return (
        select(
            WorkLog.id,
            WorkLog.created_at,
            literal("log.") + WorkLog.period,
            WorkLog.user_id,
            cast(null(), Uuid()),
            cast(null(), Uuid()),
            WorkLog.text,
            cast(null(), Numeric(14, 2)),
        )
        .join(WorkLogCustomer, WorkLogCustomer.log_id == WorkLog.id)
        .where(
            WorkLogCustomer.customer_id == customer_id,
            WorkLog.deleted_at.is_(None),
            log_visibility(principal),
        )
    )

"""HTTP: reports (read-only aggregates)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.errors import problem_responses
from app.core.types import BusinessDate
from app.deps import Caller, Session
from app.reports.schemas import VisitReport
from app.reports.visits import visit_report

router = APIRouter(tags=["reports"])


@router.get(
    "/v1/reports/visits",
    operation_id="getVisitReport",
    response_model=VisitReport,
    summary="Visit statistics",
    responses=problem_responses(401, 404, 422),
)
async def visits(
    *,
    # Inside Annotated: a `= Query()` default would drop BusinessDate's bound.
    since: Annotated[BusinessDate, Query(alias="from")],
    until: Annotated[BusinessDate, Query(alias="to")],
    user: uuid.UUID | None = Query(None),
    department: uuid.UUID | None = Query(None),
    principal: Caller,
    session: Session,
) -> VisitReport:
    """Per user and rolled up the department tree, in the company's time zone. Default scope:
    reps themselves, managers their subtree, admins the company."""
    return VisitReport(**await visit_report(session, principal, since, until, user, department))

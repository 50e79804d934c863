"""HTTP: the work-done and visited-customers reports."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.core.errors import problem_responses
from app.core.types import BusinessDate
from app.deps import Caller, Session
from app.fieldwork.models import FOLLOWUP_KINDS
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.reports.work import FIGURES, VisitedQuery, visited_customers, work_report
from app.reports.work_schemas import VisitedCustomersReport, WorkReport

router = APIRouter(tags=["reports"])

WORK_COLUMNS = ("kind", "id", "name", "parent_id", "level", *FIGURES)
VISITED_COLUMNS = (
    "customer_id",
    "name",
    "tier",
    "owner_id",
    "owner_name",
    "visits",
    "last_visit_at",
    "visitors",
)
TierFilter = Literal["A", "B", "C", "untiered"]


@router.get(
    "/v1/reports/work",
    operation_id="getWorkReport",
    response_model=WorkReport,
    summary="Work done per rep and department",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def get_work_report(
    *,
    since: Annotated[BusinessDate, Query(alias="from", description="First day (company time).")],
    until: Annotated[
        BusinessDate, Query(alias="to", description="Last day, inclusive (at most 366 days).")
    ],
    user: uuid.UUID | None = Query(None, description="Only this user (a rep: only themselves)."),
    department: uuid.UUID | None = Query(
        None, description="Only this department's subtree (managers and admins)."
    ),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> WorkReport | Response:
    """What was done in the range, per rep and rolled up the department tree (drill-down
    company → department → rep: rows with `parent_id` and `level`): new customers, contacts
    added, follow-ups (by kind), visits (check-ins that count) and distinct customers visited,
    leads created and converted, opportunities created, advanced (to a later stage, not lost)
    and won, work logs written. Scope: reps themselves, managers their subtree, admins the
    company (with a company row); `department` / `user` narrow it (404 when not visible).
    A department counts what was made while its maker was in it; 422 `invalid_range`."""
    report = WorkReport(**await work_report(session, principal, since, until, user, department))
    if format == "csv":
        rows = []
        for row in report.rows:
            figures = row.model_dump()
            kinds = figures.pop("followups_by_kind")
            figures.update({f"followups_{kind}": kinds[kind] for kind in FOLLOWUP_KINDS})
            rows.append([figures[column] for column in WORK_COLUMNS])
        return csv_response(
            f"work-{report.since.isoformat()}-{report.until.isoformat()}.csv", WORK_COLUMNS, rows
        )
    return report


@router.get(
    "/v1/reports/visited-customers",
    operation_id="getVisitedCustomersReport",
    response_model=VisitedCustomersReport,
    summary="Customers visited",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def get_visited_customers_report(
    *,
    since: Annotated[BusinessDate, Query(alias="from", description="First day (company time).")],
    until: Annotated[
        BusinessDate, Query(alias="to", description="Last day, inclusive (at most 366 days).")
    ],
    user: uuid.UUID | None = Query(None, description="Visits of this user (a rep: themselves)."),
    department: uuid.UUID | None = Query(
        None, description="Visits of this department subtree's users (managers and admins)."
    ),
    tier: TierFilter | None = Query(None, description="Only customers of this tier."),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> VisitedCustomersReport | Response:
    """Per customer the caller may see that the report's users visited in the range (check-ins
    that count): visits, last visit, the distinct visitors, tier, owner — by visits desc, then
    last visit desc, at most 500 rows with the `total` (not paginated: `truncated` says when
    rows were left off; narrow the range or the scope). Scope as the work report."""
    report = VisitedCustomersReport(
        **await visited_customers(
            session, principal, VisitedQuery(since, until, user, department, tier)
        )
    )
    if format == "csv":
        rows = [
            [
                item.customer_id,
                item.name,
                item.tier,
                item.owner_id,
                item.owner_name,
                item.visits,
                item.last_visit_at,
                "、".join(item.visitors),
            ]
            for item in report.items
        ]
        return csv_response(
            f"visited-customers-{report.since.isoformat()}-{report.until.isoformat()}.csv",
            VISITED_COLUMNS,
            rows,
        )
    return report

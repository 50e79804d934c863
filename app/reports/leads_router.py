"""HTTP: the lead report."""

from fastapi import APIRouter, Query, Response

from app.core.errors import problem_responses
from app.core.types import BusinessDate
from app.deps import Caller, Session
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.reports.leads import COLUMNS, LeadReportQuery, lead_report
from app.reports.leads_schemas import LeadGroup, LeadReport

router = APIRouter(tags=["reports"])


@router.get(
    "/v1/reports/leads",
    operation_id="getLeadReport",
    response_model=LeadReport,
    summary="Lead conversion report",
    responses={**CSV_RESPONSE, **problem_responses(401, 422)},
)
async def leads_report(
    *,
    group: LeadGroup = Query("source", description="Per source, campaign or owner."),
    since: BusinessDate | None = Query(
        None, alias="from", description="First day (company time) leads were created."
    ),
    until: BusinessDate | None = Query(None, alias="to", description="Last day, inclusive."),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> LeadReport | Response:
    """Of the leads the caller may see (a rep: their own and their pools'; a manager: their
    subtree's too; an admin: the company's), created in the range: per group leads,
    contacted (≥ 1 follow-up), converted, conversion (four places), median hours to the first
    follow-up, follow-ups per lead, the campaign's cost and cost per conversion
    (group=campaign) and the amount won on opportunities opened from those leads."""
    report = LeadReport(
        **await lead_report(session, principal, LeadReportQuery(group, since, until))
    )
    if format == "csv":
        rows: list[list[object]] = [
            [getattr(item, column) for column in COLUMNS] for item in report.items
        ]
        rows.append(["total", None, *[getattr(report.total, c) for c in COLUMNS[2:]]])
        return csv_response(f"leads-by-{group}.csv", COLUMNS, rows)
    return report

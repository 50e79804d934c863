"""HTTP: the receivables (ageing) report."""

import uuid

from fastapi import APIRouter, Query, Response

from app.core.errors import problem_responses
from app.core.types import BusinessDate
from app.deps import Caller, Session
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.reports.receivables import FIGURES, Group, ReceivablesQuery, receivables
from app.reports.receivables_schemas import AgeingFigures, ReceivablesReport

router = APIRouter(tags=["reports"])

CSV_COLUMNS = ("group", "id", "name", "contracts", *FIGURES)


def _money(figures: AgeingFigures) -> list[str]:
    return [f"{getattr(figures, name):.2f}" for name in FIGURES]


@router.get(
    "/v1/reports/receivables",
    operation_id="getReceivablesReport",
    response_model=ReceivablesReport,
    summary="Receivables ageing",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def receivables_report(
    *,
    as_of: BusinessDate | None = Query(None, description="The day aged at. Default: today."),
    group: Group = Query("customer", description="Rows per customer, user (owner) or department."),
    user: uuid.UUID | None = Query(None, description="Only contracts this user owns."),
    department: uuid.UUID | None = Query(
        None, description="Only contracts owned in this department's subtree."
    ),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> ReceivablesReport | Response:
    """What is owed on the active contracts the caller may see (reps: their own; managers:
    their subtree; admins: the company), by days past due of each instalment's unpaid part as
    of `as_of` (company time): `not_due`, `d1_30`, `d31_60`, `d61_90`, `over_90`, plus
    `unscheduled` (owed, in no instalment); per group and in total. Exact decimals."""
    report = ReceivablesReport(
        **await receivables(session, principal, ReceivablesQuery(as_of, group, user, department))
    )
    if format == "csv":
        rows: list[list[object]] = [
            [report.group, item.id, item.name, item.contracts, *_money(item)]
            for item in report.items
        ]
        rows.append(["total", None, None, report.totals.contracts, *_money(report.totals)])
        return csv_response(f"receivables-{report.as_of.isoformat()}.csv", CSV_COLUMNS, rows)
    return report

"""HTTP: the sales report."""

import uuid
from decimal import Decimal

from fastapi import APIRouter, Query, Response

from app.core.errors import problem_responses
from app.core.types import BusinessDate
from app.deps import Caller, Session
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.reports.sales import COLUMNS as SALES_COLUMNS
from app.reports.sales import SalesQuery, sales_report
from app.reports.sales_schemas import SalesGroup, SalesReport

router = APIRouter()
_GROWTH = {c for c in SALES_COLUMNS if "growth" in c}


def _cell(column: str, value: object) -> object:
    """A growth figure is a number in the CSV (not text that the formula guard would quote)."""
    if column in _GROWTH and isinstance(value, str):
        return Decimal(value)
    return value


@router.get(
    "/v1/reports/sales",
    operation_id="getSalesReport",
    tags=["reports"],
    response_model=SalesReport,
    summary="Sales report: contracted and received, with growth",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def get_sales_report(
    *,
    group: SalesGroup = Query(
        "month", description="Per month, quarter, product line, product, owner or department."
    ),
    since: BusinessDate | None = Query(
        None, alias="from", description="First day (company time). Default: 1 January of `to`."
    ),
    until: BusinessDate | None = Query(
        None, alias="to", description="Last day, inclusive (at most ~5 years). Default: today."
    ),
    user: uuid.UUID | None = Query(None, description="Only contracts this user owns."),
    department: uuid.UUID | None = Query(
        None, description="Only contracts owned by the users in this department's subtree."
    ),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> SalesReport | Response:
    """Of the contracts the caller may see (like their customer): per group the contracts
    signed (active or completed, by `signed_on`), their amount, the payments received (by
    `received_on`, net of reversals), and growth of both vs the previous period of the same
    length and vs the same period a year before (four-place decimal strings, null when the base
    is 0). Months and quarters follow the calendar (the range is widened to whole ones); by
    product or product line contracts and payments are split by the lines' amounts.
    `department` / `user` drill down (company → department → rep; 404 when the caller may not
    see it)."""
    report = SalesReport(
        **await sales_report(session, principal, SalesQuery(group, since, until, user, department))
    )
    if format == "csv":
        rows: list[list[object]] = [
            [_cell(column, getattr(item, column)) for column in SALES_COLUMNS]
            for item in report.items
        ]
        rows.append(
            ["total", None, report.since, report.until]
            + [_cell(column, getattr(report.total, column)) for column in SALES_COLUMNS[4:]]
        )
        return csv_response(f"sales-by-{group}.csv", SALES_COLUMNS, rows)
    return report

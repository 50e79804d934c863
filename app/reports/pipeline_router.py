"""HTTP: the funnel and forecast reports."""

import uuid

from fastapi import APIRouter, Query, Response

from app.core.errors import problem_responses
from app.core.types import BusinessDate
from app.deps import Caller, Session
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.reports.pipeline import ForecastQuery, FunnelQuery, forecast, funnel
from app.reports.pipeline_schemas import ForecastReport, FunnelReport

router = APIRouter(tags=["reports"])

FUNNEL_COLUMNS = (
    "position",
    "stage_id",
    "name",
    "kind",
    "probability",
    "retired",
    "entered",
    "current_count",
    "current_amount",
    "reached_next",
    "conversion",
    "avg_days_in_stage",
)
FORECAST_COLUMNS = ("month", "count", "amount", "weighted_amount", "won_count", "won_amount")
SUMMARY = ("entered", "won", "lost", "win_rate", "close_rate", "target_deals", "prospects_needed")


@router.get(
    "/v1/reports/funnel",
    operation_id="getFunnelReport",
    response_model=FunnelReport,
    summary="Sales funnel",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def funnel_report(
    *,
    pipeline_id: uuid.UUID | None = Query(None, description="Default: the company's default."),
    since: BusinessDate | None = Query(
        None, alias="from", description="First day (company time) of entries counted."
    ),
    until: BusinessDate | None = Query(None, alias="to", description="Last day, inclusive."),
    target_deals: int | None = Query(
        None, ge=1, le=1_000_000, description="Deals wanted: answers prospects_needed."
    ),
    user: uuid.UUID | None = Query(None, description="Only opportunities this user owns."),
    department: uuid.UUID | None = Query(
        None, description="Only opportunities owned in this department's subtree."
    ),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> FunnelReport | Response:
    """Of the opportunities the caller may see, per stage by position: entered in the window,
    in it now (count, amount), reached a later stage that is not lost, conversion, mean days in
    it; and win rate (won ÷ entered the first stage), close rate (won ÷ closed) and, with
    `target_deals`, the prospects needed (⌈N ÷ win rate⌉). Ratios: four-place strings."""
    report = FunnelReport(
        **await funnel(
            session,
            principal,
            FunnelQuery(pipeline_id, since, until, target_deals, user, department),
        )
    )
    if format == "csv":
        rows: list[list[object]] = [
            [getattr(stage, column) for column in FUNNEL_COLUMNS] for stage in report.stages
        ]
        rows.append([])
        rows.extend([name, getattr(report, name)] for name in SUMMARY)
        return csv_response("funnel.csv", FUNNEL_COLUMNS, rows)
    return report


@router.get(
    "/v1/reports/forecast",
    operation_id="getForecastReport",
    response_model=ForecastReport,
    summary="Sales forecast by month",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def forecast_report(
    *,
    since: str | None = Query(
        None, alias="from", max_length=7, description="First month, YYYY-MM. Default: this one."
    ),
    until: str | None = Query(
        None,
        alias="to",
        max_length=7,
        description="Last month, YYYY-MM, inclusive (at most 36 months). Default: a year.",
    ),
    include_stale: bool = Query(False, description="Count stale open opportunities too."),
    pipeline_id: uuid.UUID | None = Query(None, description="Default: every pipeline."),
    user: uuid.UUID | None = Query(None, description="Only opportunities this user owns."),
    department: uuid.UUID | None = Query(
        None, description="Only opportunities owned in this department's subtree."
    ),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> ForecastReport | Response:
    """Per month (every month, empty ones too): open opportunities expected to close in it
    (count, amount, amount × stage probability), and those won in it (company time)."""
    report = ForecastReport(
        **await forecast(
            session,
            principal,
            ForecastQuery(since, until, include_stale, pipeline_id, user, department),
        )
    )
    if format == "csv":
        return csv_response(
            "forecast.csv",
            FORECAST_COLUMNS,
            ([getattr(item, column) for column in FORECAST_COLUMNS] for item in report.items),
        )
    return report

"""HTTP: the achievement and ranking reports."""

import uuid
from typing import Literal

from fastapi import APIRouter, Query, Response

from app.core.errors import problem_responses
from app.core.pagination import json_response
from app.deps import Caller, Session
from app.reports.achievement import CSV_COLUMNS, achievement_report
from app.reports.achievement_schemas import AchievementReport, Measure, RankingReport
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.reports.ranking import ranking_report
from app.targets.periods import PERIOD_PATTERN

router = APIRouter(tags=["reports"])

PERIOD_QUERY = Query(
    None,
    max_length=10,
    pattern=PERIOD_PATTERN,
    description="`2027` (fiscal year), `2027-Q1`, `2027-03`, `2027-W09` or `2027-03-15`. "
    "Default: this month (company time).",
)
RANK_COLUMNS = ("rank", "subject", "subject_id", "name", "parent_id", "target", "actual", "rate")


@router.get(
    "/v1/reports/achievement",
    operation_id="getAchievementReport",
    response_model=AchievementReport,
    summary="Target achievement: target, actual, rate and pace per subject",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def get_achievement_report(
    *,
    period: str | None = PERIOD_QUERY,
    measure: Measure | None = Query(
        None, description="One measure. Default: every measure with a target in scope."
    ),
    department: uuid.UUID | None = Query(
        None, description="Only this department's subtree (404 when the caller may not see it)."
    ),
    user: uuid.UUID | None = Query(
        None, description="Only this user (404 when the caller may not see them)."
    ),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> AchievementReport | Response:
    """Per subject the caller may see — the company (admins), each department of the subtree
    (rolled up: the facts made while their user was in it), each user (reps: themselves;
    managers: their subtree) — and per measure: the target of exactly that subject, measure
    and period (null when none), the actual, rate, remaining, days left, daily run rate needed,
    linear expected, pace and ahead; for a month the actual of each third (上旬/中旬/下旬).
    Figures are decimal strings: money two places, counts whole. `parent_id` and `level` give
    the drill-down company → department → rep. CSV: one row per subject × measure."""
    report = AchievementReport(
        **await achievement_report(session, principal, period, measure, user, department)
    )
    if format == "csv":
        rows: list[list[object]] = []
        for item in report.items:
            values = {
                **item.model_dump(),
                "period": report.period,
                "days_left": report.days_left,
            }
            values.update({t.third: t.actual for t in item.thirds or []})
            rows.append([values.get(column) for column in CSV_COLUMNS])
        return csv_response(f"achievement-{report.period}.csv", CSV_COLUMNS, rows)
    return json_response(report)


@router.get(
    "/v1/reports/ranking",
    operation_id="getRankingReport",
    response_model=RankingReport,
    summary="Ranking of users or departments by rate or actual",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def get_ranking_report(
    *,
    period: str | None = PERIOD_QUERY,
    measure: Measure = Query("contract_amount", description="The measure ranked."),
    by: Literal["rate", "actual"] = Query(
        "rate", description="By rate (then actual; no target: after, by actual) or by actual."
    ),
    level: Literal["user", "department"] = Query(
        "user", description="Rank users, or the sub-departments of `department`."
    ),
    department: uuid.UUID | None = Query(
        None, description="Only this department's part (404 when the caller may not see it)."
    ),
    limit: int = Query(100, ge=1, le=1000, description="Entries per page (1–1000)."),
    offset: int = Query(0, ge=0, le=1_000_000, description="Entries to skip (`next_offset`)."),
    format: ReportFormat = FORMAT_QUERY,
    principal: Caller,
    session: Session,
) -> RankingReport | Response:
    """Users of the caller's view — admins: the company; managers: their subtree; reps: their
    own department, peers' actual and rate included (a rep sees their rank and what is above
    it) — ranked on one measure and period by rate or actual: equal figures share a rank (1, 2,
    2, 4), ties are listed by name; users without a target rank after those with one, by
    actual, rate null. `level=department` ranks the sub-departments of `department` (default:
    the caller's own; admins: those under the top department) on their rolled-up figures. `me`
    is the caller's entry wherever it falls (null when they have no place, e.g. an admin
    without a target). CSV: every entry, all pages."""
    report = RankingReport(
        **await ranking_report(
            session,
            principal,
            period,
            measure,
            by,
            level,
            department,
            1_000_000 if format == "csv" else limit,
            0 if format == "csv" else offset,
        )
    )
    if format == "csv":
        return csv_response(
            f"ranking-{report.period}-{report.measure}-by-{report.by}.csv",
            RANK_COLUMNS,
            ([getattr(e, c) for c in RANK_COLUMNS] for e in report.items),
        )
    return json_response(report)

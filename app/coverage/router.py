"""HTTP: the coverage policy and the coverage report."""

import uuid

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.coverage.policy import CoverageRule, load_policy, policy_version, replace_policy
from app.coverage.report import coverage_report
from app.coverage.schemas import CoveragePolicyIn, CoveragePolicyOut, CoverageReport, TierRuleOut
from app.deps import AdminCaller, Caller, Session
from app.reports.export import CSV_RESPONSE, FORMAT_QUERY, ReportFormat, csv_response
from app.targets.periods import PERIOD_PATTERN

router = APIRouter()

CSV_COLUMNS = (
    "tier",
    "customers",
    "required_per_customer",
    "required_visits",
    "visits",
    "covered",
    "coverage",
    "hours_needed",
    "not_contacted",
    "contacted_no_opportunity",
    "opportunity_open",
    "won",
)


def policy_out(
    rules: dict[str, CoverageRule], version: int, response: Response
) -> CoveragePolicyOut:
    response.headers["ETag"] = etag_for(version)
    return CoveragePolicyOut(
        **{tier: TierRuleOut.model_validate(vars(rule)) for tier, rule in rules.items()},
        version=version,
    )


@router.get(
    "/v1/coverage-policy",
    operation_id="getCoveragePolicy",
    response_model=CoveragePolicyOut,
    tags=["coverage"],
    summary="Get the coverage policy",
    responses=problem_responses(401),
)
async def get_coverage_policy(
    response: Response, principal: Caller, session: Session
) -> CoveragePolicyOut:
    """Every member reads it: per tier (A, B, C, `untiered`), the visits a customer needs per
    week, month, quarter or year and the minutes one visit takes. Until an admin sets it, the
    defaults: A 4 a month × 180 min, B 2 a month × 60 min, C 1 a quarter × 20 min, untiered
    none (version 1)."""
    rules = await load_policy(session, principal.company_id)
    return policy_out(rules, await policy_version(session, principal.company_id), response)


@router.put(
    "/v1/coverage-policy",
    operation_id="replaceCoveragePolicy",
    response_model=CoveragePolicyOut,
    tags=["coverage"],
    summary="Replace the coverage policy",
    responses=problem_responses(401, 403, 412, 422, 428),
)
async def replace_coverage_policy(
    *,
    body: CoveragePolicyIn,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> CoveragePolicyOut:
    """Admin only; `If-Match` required (428 without, 412 when stale). All four tiers at once;
    the coverage report uses the new rules from the next request."""
    rules = {
        tier: CoverageRule(rule.visits, rule.per, rule.minutes_per_visit)
        for tier, rule in (("A", body.A), ("B", body.B), ("C", body.C), ("untiered", body.untiered))
    }
    stored, version = await replace_policy(session, principal.company_id, rules, if_match)
    return policy_out(stored, version, response)


@router.get(
    "/v1/reports/coverage",
    operation_id="getCoverageReport",
    response_model=CoverageReport,
    tags=["reports"],
    summary="Coverage: the policy's visits and hours against what was done and who can do it",
    responses={**CSV_RESPONSE, **problem_responses(401, 404, 422)},
)
async def get_coverage_report(
    *,
    period: str | None = Query(
        None,
        max_length=10,
        pattern=PERIOD_PATTERN,
        description="`2027` (fiscal year), `2027-Q1`, `2027-03`, `2027-W09` or `2027-03-15`. "
        "Default: this month (company time).",
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
) -> CoverageReport | Response:
    """For the customers held by the users in scope (reps: themselves; managers: their subtree;
    admins: the company), per tier: customers, the visits the period requires (the policy's
    frequency scaled to the period, exact: C at 1 a quarter needs ⅓ visit a month), the visits
    that count (check-ins by the customer's holder not flagged far or mocked), customers
    covered and coverage, hours needed, and where the customers stand by the holder's own
    work (not contacted, contacted without an open opportunity, opportunity open, won in the
    period). Against that: hours available (active
    reps in scope × the company's working days in the period × its working hours per day), the
    load (needed ÷ available) and the face-to-face share (visit durations ÷ available); and the
    under-covered customers, most behind first (at most 100, with their total). Exact figures
    rounded once, half up: visits and hours to two places, ratios to four."""
    report = CoverageReport.model_validate(
        await coverage_report(session, principal, period, user, department)
    )
    if format == "csv":
        rows: list[list[object]] = [
            [
                t.tier,
                t.customers,
                t.required_per_customer,
                t.required_visits,
                t.visits,
                t.covered,
                t.coverage,
                t.hours_needed,
                t.lost_sales.not_contacted,
                t.lost_sales.contacted_no_opportunity,
                t.lost_sales.opportunity_open,
                t.lost_sales.won,
            ]
            for t in report.tiers
        ]
        rows.append(
            [
                "total",
                report.customers,
                None,
                report.required_visits,
                report.visits,
                report.covered,
                report.coverage,
                report.hours_needed,
                *(sum(getattr(t.lost_sales, k) for t in report.tiers) for k in CSV_COLUMNS[8:]),
            ]
        )
        return csv_response(f"coverage-{report.period}.csv", CSV_COLUMNS, rows)
    return report

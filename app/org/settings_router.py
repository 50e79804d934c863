"""HTTP: the company's settings."""

from fastapi import APIRouter, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.deps import AdminCaller, Caller, Session
from app.org.models import Company
from app.org.settings import CompanySettings, read_settings, update_settings
from app.org.settings_schemas import CompanySettingsOut, CompanySettingsPatch, thresholds_out

router = APIRouter(tags=["org"])


def settings_out(
    company: Company, settings: CompanySettings, response: Response
) -> CompanySettingsOut:
    response.headers["ETag"] = etag_for(company.version)
    values = settings.model_dump(exclude={"checkins"})
    return CompanySettingsOut(
        **values,
        checkins=thresholds_out(settings.checkins),
        version=company.version,
        updated_at=company.updated_at,
    )


@router.get(
    "/v1/company/settings",
    operation_id="getCompanySettings",
    response_model=CompanySettingsOut,
    summary="Get the company's settings",
    responses=problem_responses(401),
)
async def get_company_settings(
    response: Response, principal: Caller, session: Session
) -> CompanySettingsOut:
    """Every member of the company reads them (the apps need the time zone, working days and
    hours, currency, thresholds; none of them is secret); the ETag is the company's version."""
    company, settings = await read_settings(session, principal.company_id)
    return settings_out(company, settings, response)


@router.patch(
    "/v1/company/settings",
    operation_id="updateCompanySettings",
    response_model=CompanySettingsOut,
    summary="Change the company's settings",
    responses=problem_responses(401, 403, 412, 422, 428),
)
async def update_company_settings(
    *,
    body: CompanySettingsPatch,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> CompanySettingsOut:
    """Admin only; `If-Match` required (428 without, 412 when stale). A partial update: only
    what is sent changes (the check-in thresholds key by key); unknown fields, a bad time zone
    (`invalid_time_zone`) or a workday that ends before it starts are 422. Every job and report
    reads the new values from their next run: the time zone moves company days (reports' day
    boundaries, reminder hours), working days and hours the coverage report's hours available,
    the thresholds the flags of the next check-ins (earlier ones keep theirs), the reminder
    hour, forgotten-after, contract-expiring and payment-due days the reminders,
    `quadrant_amount_line` the opportunity quadrant's size line (null: the median open amount).
    `mask_phones` masks customer and contact numbers at once; `restore_days` is the restore
    window (and when the `purge` job removes deleted records)."""
    company, settings = await update_settings(session, principal.company_id, body, if_match)
    return settings_out(company, settings, response)

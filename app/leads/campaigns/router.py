"""HTTP: campaigns and the company's lead conversion settings (included by the conversion
router, which the app mounts)."""

import uuid

from fastapi import APIRouter, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.core.pagination import Page, json_response
from app.deps import Caller, Paging, Session
from app.leads import settings as lead_settings
from app.leads.campaigns import service as campaigns
from app.leads.campaigns.schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    LeadSettingsOut,
    LeadSettingsUpdate,
)
from app.leads.models import Campaign

router = APIRouter(tags=["leads"])


def campaign_out(campaign: Campaign, response: Response | None = None) -> CampaignOut:
    if response is not None:
        response.headers["ETag"] = etag_for(campaign.version)
    return CampaignOut.model_validate(campaign, from_attributes=True)


@router.post(
    "/v1/lead-campaigns",
    operation_id="createLeadCampaign",
    status_code=201,
    response_model=CampaignOut,
    summary="Create a campaign",
    responses={
        200: {"model": CampaignOut, "description": "Retry with the same id and body."},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_campaign(
    body: CampaignCreate, response: Response, principal: Caller, session: Session
) -> CampaignOut:
    """Admins. A campaign leads name in `campaign`; its `cost` gives the lead report's cost
    per conversion. A name in use → 409 `duplicate_campaign`."""
    campaign, created = await campaigns.create_campaign(session, principal, body)
    if not created:
        response.status_code = 200
    return campaign_out(campaign, response)


@router.get(
    "/v1/lead-campaigns",
    operation_id="listLeadCampaigns",
    response_model=Page[CampaignOut],
    summary="List campaigns",
    responses=problem_responses(401, 422),
)
async def list_campaigns(params: Paging, principal: Caller, session: Session) -> Response:
    """Everyone in the company, newest first."""
    rows, next_cursor = await campaigns.list_campaigns(session, principal, params)
    return json_response(
        Page[CampaignOut](items=[campaign_out(c) for c in rows], next_cursor=next_cursor)
    )


@router.get(
    "/v1/lead-campaigns/{campaign_id}",
    operation_id="getLeadCampaign",
    response_model=CampaignOut,
    summary="Get a campaign",
    responses=problem_responses(401, 404, 422),
)
async def get_campaign(
    campaign_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> CampaignOut:
    """Everyone in the company."""
    return campaign_out(await campaigns.get_campaign(session, principal, campaign_id), response)


@router.patch(
    "/v1/lead-campaigns/{campaign_id}",
    operation_id="updateLeadCampaign",
    response_model=CampaignOut,
    summary="Change a campaign",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_campaign(
    *,
    campaign_id: uuid.UUID,
    body: CampaignUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> CampaignOut:
    """Admins; `If-Match` required."""
    campaign = await campaigns.update_campaign(session, principal, campaign_id, body, if_match)
    return campaign_out(campaign, response)


@router.delete(
    "/v1/lead-campaigns/{campaign_id}",
    operation_id="deleteLeadCampaign",
    status_code=204,
    summary="Delete a campaign",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_campaign(campaign_id: uuid.UUID, principal: Caller, session: Session) -> Response:
    """Admins. Leads keep the campaign's name; the report no longer shows its cost."""
    await campaigns.delete_campaign(session, principal, campaign_id)
    return Response(status_code=204)


def settings_out(found: dict[str, object], response: Response) -> LeadSettingsOut:
    out = LeadSettingsOut.model_validate(found)
    response.headers["ETag"] = etag_for(out.version)
    return out


@router.get(
    "/v1/lead-settings",
    operation_id="getLeadSettings",
    response_model=LeadSettingsOut,
    summary="Lead conversion settings",
    responses=problem_responses(401),
)
async def get_lead_settings(
    response: Response, principal: Caller, session: Session
) -> LeadSettingsOut:
    """Everyone may read them (a client shows whether a lead may convert yet)."""
    return settings_out(await lead_settings.get_settings(session, principal.company_id), response)


@router.patch(
    "/v1/lead-settings",
    operation_id="updateLeadSettings",
    response_model=LeadSettingsOut,
    summary="Change the lead conversion settings",
    responses=problem_responses(401, 403, 412, 422, 428),
)
async def update_lead_settings(
    *,
    body: LeadSettingsUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: Caller,
    session: Session,
) -> LeadSettingsOut:
    """Admins; `If-Match` required. `field_mapping` replaces the whole mapping (lead field →
    customer field or `custom_fields.<key>`); `convert_requires_status` null: any status but
    disqualified converts."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if "field_mapping" in changes and changes["field_mapping"] is None:
        changes.pop("field_mapping")
    found = await lead_settings.update_settings(session, principal, changes, if_match)
    return settings_out(found, response)

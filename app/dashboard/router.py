"""HTTP: the caller's dashboard."""

from fastapi import APIRouter, Response

from app.core.errors import problem_responses
from app.core.pagination import json_response
from app.dashboard.schemas import Dashboard
from app.dashboard.service import dashboard
from app.deps import Caller, Session

router = APIRouter(tags=["dashboard"])


@router.get(
    "/v1/me/dashboard",
    operation_id="getMyDashboard",
    response_model=Dashboard,
    summary="The caller's dashboard",
    responses=problem_responses(401),
)
async def get_my_dashboard(principal: Caller, session: Session) -> Response:
    """The app's first screen in one request, in company time: this month's targets (the
    caller's own with actual, rate, pace and rank in their department; their department's),
    customers held and the holding cap, customers recycling soon, today's visit plans,
    overdue follow-ups, open opportunities closing this month (amount and weighted amount),
    instalments due or overdue on their contracts, contacts' birthdays today, unread
    notifications. Managers also get `team` (their subtree's department targets and who is
    most behind pace); admins the company's. Lists are capped (see each field)."""
    # Validated once here and serialised by pydantic-core (`json_response`): not again
    # against `response_model`, which documents it.
    return json_response(Dashboard.model_validate(await dashboard(session, principal)))

"""HTTP: register, list and unregister push devices."""

import uuid

from fastapi import APIRouter, Response

from app.core.errors import problem_responses
from app.core.pagination import Page
from app.deps import Caller, Paging, Session
from app.notifications.devices import service as devices
from app.notifications.devices.schemas import DeviceIn, DeviceOut

router = APIRouter(tags=["devices"])


@router.post(
    "/v1/devices",
    status_code=201,
    response_model=DeviceOut,
    summary="Register a push token",
    responses={
        200: {"model": DeviceOut, "description": "The caller's own token again (reactivated)."},
        **problem_responses(401, 422),
    },
)
async def register_device(
    body: DeviceIn,
    response: Response,
    principal: Caller,
    session: Session,
) -> DeviceOut:
    """201 for a token new to the caller — including one another user had, which moves to the
    caller; 200 with the same device when the caller registers its token again (reactivated).
    A bad token for the platform → 422 `invalid_push_token`; missing or malformed webpush keys
    → 422 `invalid_push_keys`."""
    device, created = await devices.register_device(session, principal, body)
    if not created:
        response.status_code = 200
    return DeviceOut.model_validate(device)


@router.get(
    "/v1/devices",
    response_model=Page[DeviceOut],
    summary="List my push devices",
    responses=problem_responses(401, 422),
)
async def list_devices(
    params: Paging,
    principal: Caller,
    session: Session,
) -> Page[DeviceOut]:
    """The caller's devices, newest first; `active` is false once a provider rejected a token."""
    rows, next_cursor = await devices.list_devices(session, principal, params)
    return Page[DeviceOut](
        items=[DeviceOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.delete(
    "/v1/devices/{device_id}",
    status_code=204,
    response_class=Response,
    summary="Unregister a push device",
    responses=problem_responses(401, 404, 422),
)
async def delete_device(
    device_id: uuid.UUID,
    principal: Caller,
    session: Session,
) -> Response:
    """Only the caller's own devices; anyone else's is 404 `not_found`."""
    await devices.delete_device(session, principal, device_id)
    return Response(status_code=204)

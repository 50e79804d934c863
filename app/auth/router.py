"""HTTP: sign in, refresh, sign out, change password."""

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.schemas import PasswordChange, RefreshRequest, TokenPair
from app.core.errors import problem_responses
from app.deps import Caller, Session
from app.org import users as org_users

router = APIRouter(tags=["auth"])


@router.post(
    "/v1/auth/token",
    operation_id="createToken",
    response_model=TokenPair,
    summary="Sign in (OAuth2 password flow)",
    responses=problem_responses(401, 422, 429),
)
async def token(
    *,
    request: Request,
    form: OAuth2PasswordRequestForm = Depends(),
    session: Session,
) -> TokenPair:
    """`username` is the e-mail. Returns a short access token and a rotating refresh token."""
    # The socket peer, or the client named by a trusted proxy (OUTFIELD_TRUSTED_PROXIES).
    client_ip = request.client.host if request.client else "unknown"
    return await service.sign_in(session, client_ip, form.username, form.password)


@router.post(
    "/v1/auth/refresh",
    operation_id="refreshToken",
    response_model=TokenPair,
    summary="Rotate a refresh token",
    responses=problem_responses(401, 422),
)
async def refresh(body: RefreshRequest, session: Session) -> TokenPair:
    """Each refresh token works once; retrying the previous one within the grace window
    returns the same new pair; any other reuse revokes the whole sign-in."""
    return await service.refresh(session, body.refresh_token)


@router.post(
    "/v1/auth/logout",
    operation_id="revokeRefreshToken",
    status_code=204,
    summary="Sign out (revoke the refresh token's sign-in)",
    responses=problem_responses(422),
)
async def logout(body: RefreshRequest, session: Session) -> Response:
    """Idempotent: an unknown or already revoked token also answers 204. The access tokens
    of the sign-in stop working at once too (`token_revoked`)."""
    await service.logout(session, body.refresh_token)
    return Response(status_code=204)


@router.post(
    "/v1/me/password",
    status_code=204,
    summary="Change my password",
    responses=problem_responses(401, 403, 422),
)
async def change_password(
    body: PasswordChange,
    principal: Caller,
    session: Session,
) -> Response:
    """Every outstanding access and refresh token of the caller stops working."""
    await org_users.change_password(session, principal, body.current_password, body.new_password)
    return Response(status_code=204)

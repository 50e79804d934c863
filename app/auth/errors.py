"""The problem codes of sign-in and tokens, one constructor each.

Every 401 carries `WWW-Authenticate: Bearer`, the challenge OAuth2 clients expect.
"""

from app.core.errors import Loc, ProblemError, field_error


def _bearer() -> dict[str, str]:
    return {"WWW-Authenticate": "Bearer"}


def not_authenticated(
    detail: str = "Send an access token: Authorization: Bearer <token>.",
) -> ProblemError:
    """401: no access token at all."""
    return ProblemError(401, "not_authenticated", detail, headers=_bearer())


def token_expired(detail: str = "The access token has expired; refresh it.") -> ProblemError:
    """401: an access token past its expiry."""
    return ProblemError(401, "token_expired", detail, headers=_bearer())


def invalid_token(detail: str = "The access token is not valid.") -> ProblemError:
    """401: an access token that does not verify or names no user."""
    return ProblemError(401, "invalid_token", detail, headers=_bearer())


def user_deactivated(detail: str = "This account has been deactivated.") -> ProblemError:
    """401: the account behind the credentials is deactivated."""
    return ProblemError(401, "user_deactivated", detail, headers=_bearer())


def token_revoked(detail: str = "This token was revoked; sign in again.") -> ProblemError:
    """401: an access token issued before the user's tokens were revoked."""
    return ProblemError(401, "token_revoked", detail, headers=_bearer())


def invalid_credentials(detail: str = "Wrong e-mail or password.") -> ProblemError:
    """401: sign-in with a wrong e-mail or password."""
    return ProblemError(401, "invalid_credentials", detail, headers=_bearer())


def invalid_refresh_token(detail: str = "The refresh token is not valid.") -> ProblemError:
    """401: a refresh token that is unknown, expired or revoked."""
    return ProblemError(401, "invalid_refresh_token", detail, headers=_bearer())


def refresh_token_reused(
    detail: str = "This refresh token was already used; sign in again.",
) -> ProblemError:
    """401: a used refresh token presented again (its whole family is revoked)."""
    return ProblemError(401, "refresh_token_reused", detail, headers=_bearer())


def login_rate_limited(retry_after: int = 1) -> ProblemError:
    """429: too many sign-in attempts; try again in `retry_after` seconds."""
    return ProblemError(
        429,
        "login_rate_limited",
        f"Too many sign-in attempts; try again in {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )


def weak_password(
    loc: Loc,
    *,
    score: int,
    warning: str,
    suggestions: list[str],
    detail: str = "This password is too easy to guess; choose a longer, less common one.",
) -> ProblemError:
    """422: a new password (at `loc`) that zxcvbn scores too low; `feedback` says why."""
    return field_error(
        422,
        "weak_password",
        detail,
        loc=loc,
        msg=warning or "too easy to guess",
        type_="weak_password",
        score=score,
        feedback={"warning": warning, "suggestions": suggestions},
    )

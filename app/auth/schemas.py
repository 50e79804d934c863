"""Auth request and response bodies."""

from pydantic import BaseModel, ConfigDict, Field

from app.core import limits
from app.core.schemas import Body


class TokenPair(BaseModel):
    """OAuth2 token response with a rotating refresh token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str
    refresh_expires_in: int


class RefreshRequest(Body):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=10, max_length=200)


class PasswordChange(Body):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=limits.PASSWORD_MAX)
    new_password: str = Field(min_length=8, max_length=limits.PASSWORD_MAX)

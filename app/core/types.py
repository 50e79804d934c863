"""Shared field types for request bodies."""

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field


def _normalise_email(value: str) -> str:
    # test_environment=True accepts the reserved `.test` domain (the demo logins use it).
    try:
        result = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from exc
    return result.normalized.lower()


Email = Annotated[str, Field(max_length=320), AfterValidator(_normalise_email)]

"""Shared field types for request bodies and query filters."""

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from app.core import clock, limits
from app.core.limits import EARLIEST_DATE, LATEST_DATE, MAX_YEAR, MIN_YEAR
from app.core.strict import ISO_DATE, ISO_DATE_TIME


def _normalise_email(value: str) -> str:
    # test_environment=True accepts the reserved `.test` domain (the demo logins use it).
    try:
        result = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from exc
    return result.normalized.lower()


Email = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(_normalise_email),
]

_RANGE = f"between {MIN_YEAR} and {MAX_YEAR}"


def _bounded_date(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"the date must be {_RANGE}")
    return value


def _bounded_timestamp(value: datetime) -> datetime:
    # By calendar year, as written: the offset cannot carry it out of PostgreSQL's range.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the timestamp must be {_RANGE}")
    return value


def _past_birthday(value: date) -> date:
    # A day of slack: "today" in the company's zone may be tomorrow in UTC.
    if not EARLIEST_DATE <= value <= clock.now().date() + timedelta(days=1):
        raise ValueError(f"a birthday is between {MIN_YEAR} and today")
    return value


BusinessDate = Annotated[date, ISO_DATE, AfterValidator(_bounded_date)]
"""A calendar day the app files things under (plans, logs, report ranges)."""
Timestamp = Annotated[AwareDatetime, AfterValidator(_bounded_timestamp)]
"""A moment with its UTC offset, within the years the app handles."""
FilterTimestamp = Annotated[datetime, ISO_DATE_TIME, AfterValidator(_bounded_timestamp)]
"""A moment in a query filter (offset optional, as before), within the same years."""
Birthday = Annotated[
    date,
    Field(
        description=f"A day of birth, from {MIN_YEAR} to today (the schema can only say "
        f"{MIN_YEAR}–{MAX_YEAR}; a later day is 422)."
    ),
    AfterValidator(_past_birthday),
]
"""A day of birth: from 1900 to today (the one date rule the OpenAPI schema cannot state)."""


# Free-form text, capped (app/core/limits.py holds the numbers).
Name = Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX)]
Tag = Annotated[str, Field(min_length=1, max_length=limits.TAG_MAX)]
Phone = Annotated[str, Field(min_length=1, max_length=limits.PHONE_MAX)]
ScopeValue = Annotated[str, Field(min_length=1, max_length=limits.SHORT_TEXT_MAX)]
"""One region or industry a pool covers."""

CustomFieldKey = Annotated[str, Field(min_length=1, max_length=limits.CUSTOM_FIELD_KEY_MAX)]
CustomFieldValue = (
    Annotated[str, Field(max_length=limits.CUSTOM_FIELD_VALUE_MAX)]
    | bool
    | int
    | Annotated[float, Field(allow_inf_nan=False)]
    | None
)


def _custom_fields_size(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
        if size > limits.CUSTOM_FIELDS_BYTES_MAX:
            raise ValueError(
                f"custom fields are at most {limits.CUSTOM_FIELDS_BYTES_MAX} bytes as JSON"
            )
    return value


CustomFields = Annotated[
    dict[CustomFieldKey, CustomFieldValue],
    Field(
        max_length=limits.CUSTOM_FIELDS_MAX,
        description=f"A flat object of strings, numbers, booleans or null: at most "
        f"{limits.CUSTOM_FIELDS_MAX} keys, {limits.CUSTOM_FIELDS_BYTES_MAX} bytes as JSON.",
    ),
    AfterValidator(_custom_fields_size),
]


# Money (API contract: a decimal string with up to two places; NUMERIC(14, 2) in the database):
# a JSON string only — never a number, which a client may have rounded through a float.
MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
_MONEY = re.compile(MONEY_PATTERN)


def _money_string(value: Any) -> Any:
    if isinstance(value, Decimal):  # already parsed (built in code, not from a request)
        return value
    if not isinstance(value, str) or not _MONEY.match(value):
        raise ValueError(
            "money is a decimal string with up to 12 digits and 2 decimal places, e.g. '1234.50'"
        )
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_money_string),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_PATTERN,
            "description": "A decimal string with up to two places (exact money).",
            "examples": ["12345.67"],
        },
        mode="validation",
    ),
]


def _two_places(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


MoneyOut = Annotated[
    Decimal,
    PlainSerializer(_two_places, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": MONEY_PATTERN, "examples": ["12345.67"]},
        mode="serialization",
    ),
]
"""Money in a response: always two places (`"1234.50"`)."""

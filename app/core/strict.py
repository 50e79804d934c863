"""Strict types at the edge: what the OpenAPI document says a value is, the server takes, and
nothing it would coerce in pydantic's lax mode (a boolean is not an integer, a number is not a
time, `true` is not a latitude).

Bodies: FastAPI validates the parsed JSON in pydantic's *python* mode, where `strict=True`
would also refuse the strings JSON carries for times, ids and enums; `StrictScalars` instead
refuses, per field, the JSON values strict JSON mode refuses for its scalar type. Query strings
are always strings: `QueryBool`, and dates and times annotated with `ISO_DATE` /
`ISO_DATE_TIME` (app/core/types.py), take only the forms the schema declares (`true`/`false`,
ISO 8601 dates and date-times, never a bare number).
"""

import re
import types
import typing
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    FutureDate,
    FutureDatetime,
    NaiveDatetime,
    PastDate,
    PastDatetime,
    ValidationInfo,
    field_validator,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})?$"
)
TIME_OF_DAY_PATTERN = (
    r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
"""A time of day as the API takes and gives it: `hh:mm[:ss[.ffffff]]`, offset optional."""
_TIME = re.compile(TIME_OF_DAY_PATTERN)
_SCALARS: tuple[type, ...] = (bool, int, float, Decimal, datetime, date, time)
_ALIASES: dict[Any, type] = {
    AwareDatetime: datetime,
    NaiveDatetime: datetime,
    PastDatetime: datetime,
    FutureDatetime: datetime,
    PastDate: date,
    FutureDate: date,
}


_FORMS: dict[type, tuple[re.Pattern[str], str]] = {
    datetime: (_DATE_TIME, "date-time (YYYY-MM-DDThh:mm[:ss][Z|±hh:mm])"),
    date: (_DATE, "date (YYYY-MM-DD)"),
    time: (_TIME, "time (hh:mm[:ss])"),
}


def _scalar_of(annotation: Any) -> type | None:
    """The scalar type a field holds (through Optional and Annotated), None when another."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _scalar_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_scalar_of(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    annotation = _ALIASES.get(annotation, annotation)
    return annotation if annotation in _SCALARS else None


def _refused(kind: type, value: Any) -> str | None:
    """Why strict JSON refuses `value` for `kind`, or None."""
    if value is None:
        return None
    if kind is bool:
        return None if isinstance(value, bool) else "a boolean is required"
    if kind is int:
        # JSON Schema counts 1.0 as an integer; a boolean or a string is not one.
        integral = isinstance(value, float) and value.is_integer()
        ok = (isinstance(value, int) and not isinstance(value, bool)) or integral
        return None if ok else "an integer is required"
    if kind in (float, Decimal):
        ok = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
        if kind is Decimal and isinstance(value, str):
            ok = True  # money travels as a decimal string
        return None if ok else "a number is required"
    if isinstance(value, datetime | date | time):
        return None
    pattern, form = _FORMS[kind]
    if isinstance(value, str) and pattern.match(value):
        return None
    return f"an ISO 8601 {form} is required"


class StrictScalars(BaseModel):
    """Mix into a request body: its boolean, number and time fields take only JSON values of
    that type (422 otherwise), as the OpenAPI schema declares them."""

    @field_validator("*", mode="before")
    @classmethod
    def _strict_scalar(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return value
        kind = _field_kind(cls, info.field_name)
        if kind is not None and (problem := _refused(kind, value)) is not None:
            raise ValueError(problem)
        return value


@cache
def _field_kind(model: type[BaseModel], name: str) -> type | None:
    field = model.model_fields.get(name)
    return None if field is None else _scalar_of(field.annotation)


def _iso_only(kind: type) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, str) and (problem := _refused(kind, value)) is not None:
            raise ValueError(problem)
        return value

    return BeforeValidator(check)


def _query_bool(value: Any) -> Any:
    if isinstance(value, str) and value not in ("true", "false"):
        raise ValueError("`true` or `false` is required")
    return value


ISO_DATE = _iso_only(date)
"""Annotate a date with this: a string must be `YYYY-MM-DD` (not a bare number)."""
ISO_DATE_TIME = _iso_only(datetime)
"""Annotate a date-time with this: a string must be ISO 8601 (not a bare number)."""
QueryBool = Annotated[bool, BeforeValidator(_query_bool)]
"""A query-string boolean: `true` or `false` only."""

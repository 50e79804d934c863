"""The base of every request body, and the text rule every string of a request obeys."""

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from app.core.strict import StrictScalars

# What PostgreSQL text (and jsonb) cannot store — NUL, lone surrogates — and the other control
# characters (C0 but tab, newline and carriage return; DEL; C1): no field of this API means them.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` may not be stored as text, or None when it may."""
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    return f"contains a character that is not allowed (U+{ord(found.group()):04X})"


def _first_problem(value: Any, where: str) -> str | None:
    """The first string inside `value` (lists, dict keys and values, plain models) that may not
    be stored, as a message naming where inside the field it is."""
    if isinstance(value, str):
        problem = text_problem(value)
        return None if problem is None else problem + (f" at {where}" if where else "")
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _first_problem(key, f"{where} key".strip()) if isinstance(key, str) else None
            problem = problem or _first_problem(item, f"{where}[{key!r}]")
            if problem:
                return problem
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            if problem := _first_problem(item, f"{where}[{index}]"):
                return problem
    elif isinstance(value, BaseModel) and not isinstance(value, Body):
        for name in type(value).model_fields:
            if problem := _first_problem(getattr(value, name), f"{where}.{name}"):
                return problem
    return None


class Body(StrictScalars):
    """A request body: every string in it (nested ones too) is text PostgreSQL can store and
    has no control characters but tab, newline and carriage return — else 422 on that field;
    booleans, numbers and times are only JSON values of that type (`StrictScalars`)."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        problem = _first_problem(value, "")
        if problem is not None:
            raise ValueError(problem)
        return value


class Strict(Body):
    """Request bodies refuse unknown fields (422: no mass assignment of owner, clocks or
    history) and strip surrounding whitespace from strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

"""Client-generated ids (offline creation): the same id and body again returns the same record."""

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ProblemError

T = TypeVar("T")


def request_hash(body: BaseModel) -> str:
    """A stable hash of a create request, without its `id`."""
    payload = body.model_dump(mode="json", exclude={"id"})
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def id_conflict() -> ProblemError:
    """409 for an id that is taken by a different record."""
    return ProblemError(409, "id_conflict", "A different record with this id already exists.")


async def replayed(
    session: AsyncSession,
    model: type[T],
    record_id: uuid.UUID | None,
    digest: str,
    same_author: Callable[[Any], bool],
) -> T | None:
    """The record a retried create already made (same author, same body), None when the id is
    new; 409 `id_conflict` when the id belongs to something else."""
    if record_id is None:
        return None
    existing = await session.get(model, record_id)
    if existing is None:
        return None
    if same_author(existing) and getattr(existing, "request_hash", None) == digest:
        return existing
    raise id_conflict()


def holds(record: Any, body: BaseModel, *, exclude: frozenset[str] = frozenset()) -> bool:
    """Whether a stored record holds what a create body asked for, field by field (for records
    that keep no request hash); `id` and the `exclude`d fields are not compared."""
    values = body.model_dump(exclude={"id", *exclude})
    return all(getattr(record, name, None) == value for name, value in values.items())


async def existing_create(
    session: AsyncSession,
    model: Any,
    record_id: uuid.UUID | None,
    company_id: uuid.UUID,
    same_body: Callable[[Any], bool],
) -> Any:
    """The record a retried create already made in this company with the same body, None when
    the id is new; 409 `id_conflict` when the id is taken otherwise — by another company's
    record too, and the answer says nothing about it."""
    if record_id is None:
        return None
    existing = await session.scalar(select(model).where(model.id == record_id))
    if existing is None:
        return None
    if existing.company_id == company_id and same_body(existing):
        return existing
    raise id_conflict()

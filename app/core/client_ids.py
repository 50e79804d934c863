"""Client-generated ids (offline creation): the same id and body again returns the same record."""

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
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

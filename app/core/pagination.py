"""The one paginator: an opaque keyset cursor over (created_at, id), newest first."""

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, TypeVarTuple

from fastapi import Query, Response
from pydantic import BaseModel
from sqlalchemy import Select, tuple_

from app.core.errors import field_error

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    """A page of a list: items and the cursor of the next page (null on the last)."""

    items: list[T]
    next_cursor: str | None


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """The model as JSON, serialised once by pydantic-core.

    An endpoint that returns a Response is not validated again against its `response_model`
    (which still documents it): for list endpoints that second pass and the dict → json.dumps
    that follows it cost as much as building the page.
    """
    return Response(model.model_dump_json(), status_code, media_type="application/json")


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: tuple[datetime, uuid.UUID] | None


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    """An opaque cursor pointing just past (created_at, id)."""
    raw = json.dumps([created_at.isoformat(), str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Inverse of encode_cursor; a malformed cursor is a 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_raw, id_raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        created_at = datetime.fromisoformat(created_raw)
        if created_at.tzinfo is None:
            raise ValueError("naive")
        return created_at, uuid.UUID(id_raw)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise field_error(
            422,
            "invalid_cursor",
            "The cursor is not one this API issued.",
            loc=("query", "cursor"),
            msg="invalid cursor",
        ) from exc


async def page_params(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size (1–100)."),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page."),
) -> PageParams:
    """FastAPI dependency: validated limit and decoded cursor (async: a sync dependency
    would be run in the thread pool on every request)."""
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


def paginate(
    stmt: Select[*Ts], created_column: Any, id_column: Any, params: PageParams
) -> Select[*Ts]:
    """Order newest first, start after the cursor, fetch one extra row to know if more exist."""
    if params.after is not None:
        created_at, row_id = params.after
        # A row comparison lets PostgreSQL start the index scan at the cursor (an OR cannot).
        stmt = stmt.where(tuple_(created_column, id_column) < tuple_(created_at, row_id))
    return stmt.order_by(created_column.desc(), id_column.desc()).limit(params.limit + 1)


def _created_at_and_id(row: Any) -> tuple[datetime, uuid.UUID]:
    """The keyset of a row or model with `created_at` and `id`."""
    return row.created_at, row.id


def make_page(
    rows: list[T],
    params: PageParams,
    key: Callable[[T], tuple[datetime, uuid.UUID]] = _created_at_and_id,
) -> tuple[list[T], str | None]:
    """Cut the extra row and compute next_cursor; `key(row)` gives (created_at, id)."""
    has_more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor(*key(rows[-1])) if has_more and rows else None
    return rows, next_cursor

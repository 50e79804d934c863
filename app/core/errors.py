"""RFC 9457 problem+json: the one error type and the handlers that render every error as one."""

import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("outfield.errors")

PROBLEM_TYPE_BASE = "https://outfield.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One invalid field of a request."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document with a stable machine `code`."""

    type: str
    title: str
    status: int
    detail: str | None = None
    code: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="Field errors (422 only)")


class ProblemError(Exception):
    """Raise this from services: status, stable code, human detail, optional extra members."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers or {}
        self.extra = extra


def not_found(what: str = "resource") -> ProblemError:
    """The 404 for a missing id — and for an id the caller may not see."""
    return ProblemError(404, "not_found", f"The {what} does not exist.")


def forbidden(detail: str = "Your role may not do this.") -> ProblemError:
    """The 403 for a caller who may see the thing but not act on it this way."""
    return ProblemError(403, "forbidden", detail)


Loc = tuple[str | int, ...]


def field_issue(loc: Loc, msg: str, type_: str = "value_error") -> dict[str, Any]:
    """One entry of a problem's `errors[]` (keys in the order clients see: loc, msg, type)."""
    return {"loc": list(loc), "msg": msg, "type": type_}


def field_errors(
    status: int, code: str, detail: str, issues: Iterable[dict[str, Any]], **extra: Any
) -> ProblemError:
    """A problem listing several invalid fields (build each with `field_issue`)."""
    return ProblemError(status, code, detail, errors=list(issues), **extra)


def field_error(
    status: int,
    code: str,
    detail: str,
    *,
    loc: Loc,
    msg: str,
    type_: str = "value_error",
    **extra: Any,
) -> ProblemError:
    """A problem about one invalid field: `errors=[{"loc": [...], "msg": ..., "type": ...}]`."""
    return field_errors(status, code, detail, [field_issue(loc, msg, type_)], **extra)


def validation_failed(detail: str, *, loc: Loc, msg: str | None = None) -> ProblemError:
    """422 `validation_failed` for one field checked by hand (e.g. a parsed query string)."""
    return field_error(
        422, "validation_failed", detail, loc=loc, msg=detail if msg is None else msg
    )


def problem_response(
    status: int,
    code: str,
    detail: str | None = None,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Render a problem document."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "precondition_required",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


def code_for_status(status: int) -> str:
    """A stable default code for a bare HTTP status."""
    return _STATUS_CODES.get(status, f"http_{status}")


def _clean_loc(loc: tuple[Any, ...]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as the API's `errors[]` (no input echo: it may hold passwords)."""
    return [
        {
            "loc": _clean_loc(err.get("loc", ())),
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app can produce becomes problem+json with a `code`."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.code,
            exc.detail,
            title=exc.title,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            422,
            "validation_failed",
            "The request is not valid; see errors.",
            instance=request.url.path,
            errors=validation_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = code_for_status(exc.status_code)
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such route."
        return problem_response(
            exc.status_code,
            code,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500,
            "internal_error",
            "Something went wrong on our side; it has been logged.",
            instance=request.url.path,
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem+json errors of a route."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }

"""HTTP: upload, describe and download files (photos, voice notes)."""

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    File,
    Form,
    Header,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.routing import APIRoute
from starlette.types import Message

from app.config import get_settings
from app.core.errors import problem_responses, validation_failed
from app.core.geo import CRS
from app.core.location import location_out
from app.core.schemas import text_problem
from app.deps import Caller, Session
from app.fieldwork import errors
from app.fieldwork.files import service as files
from app.fieldwork.files.schemas import FileOut
from app.fieldwork.models import StoredFile
from app.retention import files as file_deletes
from app.retention.schemas import FileBatchDelete, FileBatchDeleted

# Room for the multipart framing (boundaries, part headers, the `id` field) around the file.
MULTIPART_ALLOWANCE_BYTES = 64 * 1024
OCTET_STREAM = "application/octet-stream"
CONTENT_TYPES = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "audio/mpeg",
    "audio/aac",
    "audio/mp4",
    "audio/3gpp",
    "audio/amr",
    "audio/amr-wb",
)


class UploadLimitRoute(APIRoute):
    """Refuses a request body past the upload cap while it streams in, not after spooling it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            cap = get_settings().max_upload_bytes
            limit = cap + MULTIPART_ALLOWANCE_BYTES
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise errors.file_too_large(cap)
            received = 0

            async def receive() -> Message:
                nonlocal received
                message = await request.receive()
                received += len(message.get("body", b""))
                if received > limit:
                    raise errors.file_too_large(cap)
                return message

            try:
                return await handler(Request(request.scope, receive))
            except Exception:
                # The form parser wraps errors from receive() in a 400; the cause was the size.
                if received > limit:
                    raise errors.file_too_large(cap) from None
                raise

        return limited


router = APIRouter(tags=["files"], route_class=UploadLimitRoute)


def file_out(stored: StoredFile, crs: CRS = CRS.WGS84) -> FileOut:
    return FileOut(
        id=stored.id,
        kind=stored.kind,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        taken_at=stored.taken_at,
        taken_location=location_out(stored.taken_latitude, stored.taken_longitude, crs),
        download_url=f"/v1/files/{stored.id}/content",
        created_at=stored.created_at,
    )


@router.post(
    "/v1/files",
    status_code=201,
    response_model=FileOut,
    summary="Upload a photo or voice note",
    responses={
        200: {"model": FileOut, "description": "The caller uploaded these bytes before (a retry)."},
        **problem_responses(401, 409, 413, 415, 422),
    },
)
async def upload_file(
    *,
    response: Response,
    file: UploadFile = File(
        description="JPEG, PNG, WebP or HEIC photo; AAC/M4A, AMR or MP3 voice note. "
        "The type is judged from the bytes, not the name."
    ),
    file_id: uuid.UUID | None = Form(
        None, alias="id", description="Client-generated id (for uploads queued offline)."
    ),
    principal: Caller,
    session: Session,
) -> FileOut:
    """201 with a new file of the caller's; 200 with the caller's existing file when they
    uploaded these bytes before (a retry). Bytes a colleague uploaded are stored once but
    still make a new file of the caller's (201): never the colleague's file. Too large → 413
    `file_too_large`; not an accepted type → 415 `unsupported_file_type`. Photo EXIF time
    and GPS are kept as metadata and removed from the stored copy (orientation applied)."""
    if file.filename and (problem := text_problem(file.filename)):
        raise validation_failed(f"The file name {problem}.", loc=("body", "file", "filename"))
    stored, created = await files.upload_file(session, principal, file.read, file.filename, file_id)
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/files/{stored.id}"
    return file_out(stored)


@router.get(
    "/v1/files/{file_id}",
    response_model=FileOut,
    summary="Get a file's details",
    responses=problem_responses(401, 404, 422),
)
async def get_file(
    *,
    file_id: uuid.UUID,
    crs: CRS = Query(CRS.WGS84, description="CRS of the returned location."),
    principal: Caller,
    session: Session,
) -> FileOut:
    """Visible to the uploader, to whoever can see a record it is attached to, and admins."""
    return file_out(await files.get_file(session, principal, file_id), crs)


@router.get(
    "/v1/files/{file_id}/content",
    response_class=Response,
    summary="Download a file",
    responses={
        200: {
            "description": "The stored bytes.",
            "content": {content_type: {} for content_type in (*CONTENT_TYPES, OCTET_STREAM)},
        },
        304: {"description": "Not modified (`If-None-Match` matched the ETag)."},
        **problem_responses(401, 404, 422),
    },
)
async def download_file(
    *,
    file_id: uuid.UUID,
    if_none_match: str | None = Header(None),
    accept: str | None = Header(None),
    principal: Caller,
    session: Session,
) -> Response:
    """Same visibility as the file. `ETag` is the sha256; the bytes under an id never change.
    Answered as the file's own type, or as `application/octet-stream` when `Accept` asks for
    that and not for the file's type (generic clients that only read octet streams)."""
    stored = await files.get_file(session, principal, file_id)
    etag = f'"{stored.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match is not None:
        candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        if etag in candidates or "*" in candidates:
            return Response(status_code=304, headers=headers)
    content = await files.open_file(stored)
    return Response(
        content, media_type=_answered_type(stored.content_type, accept), headers=headers
    )


def _answered_type(content_type: str, accept: str | None) -> str:
    """The file's type, unless `Accept` names octet streams and neither the type, its family
    (`image/*`) nor `*/*`."""
    if not accept:
        return content_type
    asked = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    family = content_type.split("/")[0] + "/*"
    if OCTET_STREAM in asked and not asked & {content_type, family, "*/*"}:
        return OCTET_STREAM
    return content_type


@router.post(
    "/v1/files/batch-delete",
    operation_id="deleteFiles",
    response_model=FileBatchDeleted,
    summary="Delete several of one's own files",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_files(
    body: FileBatchDelete, principal: Caller, session: Session, background: BackgroundTasks
) -> FileBatchDeleted:
    """All or none: each must be the caller's own (403), visible (404) and attached to no record
    (409 `file_in_use`). The bytes go after the commit."""
    deleted, orphaned = await file_deletes.delete_files(session, principal, body.file_ids)
    background.add_task(file_deletes.remove_orphaned_bytes, principal.company_id, orphaned)
    return FileBatchDeleted(deleted=deleted)


@router.delete(
    "/v1/files/{file_id}",
    status_code=204,
    operation_id="deleteFile",
    summary="Delete one's own file",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_file(
    file_id: uuid.UUID, principal: Caller, session: Session, background: BackgroundTasks
) -> Response:
    """The uploader's own file, attached to no record (409 `file_in_use`; a deleted record still
    holds its files, it may be restored). The bytes go with the last file sharing them, after
    the commit."""
    _, orphaned = await file_deletes.delete_files(session, principal, [file_id])
    background.add_task(file_deletes.remove_orphaned_bytes, principal.company_id, orphaned)
    return Response(status_code=204)

"""HTTP: lead imports and their progress."""

import uuid

from fastapi import APIRouter, BackgroundTasks, File, Form, Response, UploadFile

from app.core.errors import problem_responses, validation_failed
from app.core.limits import IMPORT_BYTES_MAX, IMPORT_ROWS_MAX
from app.core.pagination import Page, json_response
from app.core.schemas import text_problem
from app.deps import Caller, Paging, Session
from app.leads.imports import service as imports
from app.leads.imports.schemas import ImportOut, ImportSummary

router = APIRouter(tags=["leads"])


@router.post(
    "/v1/leads/import",
    operation_id="importLeads",
    status_code=202,
    response_model=ImportOut,
    summary="Import leads from a CSV file",
    responses={
        200: {
            "model": ImportOut,
            "description": "You posted this file before and it is still queued or running.",
        },
        **problem_responses(401, 403, 404, 413, 422),
    },
)
async def import_leads(
    *,
    file: UploadFile = File(
        description=f"CSV in UTF-8 (with or without BOM) or GBK/GB18030, at most "
        f"{IMPORT_ROWS_MAX} data rows and {IMPORT_BYTES_MAX} bytes. Header row: name/姓名 "
        "(required), company/公司, phone/电话, mobile/手机, email/邮箱, source/来源, "
        "campaign/活动, region/地区, industry/行业, title/职位, address/地址, note/备注."
    ),
    pool_id: uuid.UUID | None = Form(
        None, description="The lead pool (default: the company's first)."
    ),
    background: BackgroundTasks,
    response: Response,
    principal: Caller,
    session: Session,
) -> ImportOut:
    """Admins and managers. 202 with the queued import; the worker imports the rows and
    `GET /v1/imports/{id}` shows progress and per-row errors. The same file posted again by
    you while it is queued or running → 200 with that import. More rows than allowed → 413
    `import_too_large`; a larger file → 413 `import_file_too_large`; not CSV in UTF-8 or
    GBK, or no name column → 422 `import_unreadable`."""
    if file.filename and (problem := text_problem(file.filename)):
        raise validation_failed(f"The file name {problem}.", loc=("body", "file", "filename"))
    content = await file.read(IMPORT_BYTES_MAX + 1)
    found, created = await imports.create_import(
        session, principal, content, file.filename, pool_id
    )
    response.headers["Location"] = f"/v1/imports/{found['id']}"
    if created:
        # Runs after the response, i.e. after the commit: the worker finds the row.
        background.add_task(imports.enqueue, found["id"])
    else:
        response.status_code = 200
    return ImportOut(**found)


@router.get(
    "/v1/imports/{import_id}",
    operation_id="getImport",
    response_model=ImportOut,
    summary="An import's progress and row errors",
    responses=problem_responses(401, 404, 422),
)
async def get_import(import_id: uuid.UUID, principal: Caller, session: Session) -> ImportOut:
    """Its creator and admins: status, `done_rows` of `total_rows`, imported and failed
    counts, and the first 1,000 row errors `{line, field, code, detail}`."""
    return ImportOut(**await imports.get_import(session, principal, import_id))


@router.get(
    "/v1/imports",
    operation_id="listImports",
    response_model=Page[ImportSummary],
    summary="List imports",
    responses=problem_responses(401, 422),
)
async def list_imports(params: Paging, principal: Caller, session: Session) -> Response:
    """Your imports (admins: the company's), newest first."""
    rows, next_cursor = await imports.list_imports(session, principal, params)
    items = [ImportSummary.model_validate(dict(row._mapping)) for row in rows]
    return json_response(Page[ImportSummary](items=items, next_cursor=next_cursor))

"""HTTP: pipelines, their stages and the lost reasons."""

import uuid
from typing import cast

from fastapi import APIRouter, Query, Response

from app.core.concurrency import IfMatch, etag_for
from app.core.errors import problem_responses
from app.deps import AdminCaller, Caller, Session
from app.pipeline.models import Pipeline, Stage
from app.pipeline.pipelines import service
from app.pipeline.pipelines.schemas import (
    FeedbackQuestionOut,
    LostReasonCreate,
    LostReasonOut,
    PipelineCreate,
    PipelineDetail,
    PipelineOut,
    PipelineUpdate,
    StageCreate,
    StageKind,
    StageOut,
    StageUpdate,
)

router = APIRouter(tags=["pipelines"])
RETRY = "Retry with the same id and body: the record already made"


def stage_out(stage: Stage) -> StageOut:
    return StageOut(
        id=stage.id,
        pipeline_id=stage.pipeline_id,
        name=stage.name,
        position=stage.position,
        probability=stage.probability,
        kind=cast(StageKind, stage.kind),  # the column's CHECK holds it to these
        guidance=stage.guidance,
        cautions=stage.cautions,
        max_days=stage.max_days,
        required_fields=list(stage.required_fields),
        required_feedback=[FeedbackQuestionOut(**q) for q in stage.required_feedback],
        required_evidence=list(stage.required_evidence),
        retired=stage.retired_at is not None,
        retired_at=stage.retired_at,
        version=stage.version,
        created_at=stage.created_at,
        updated_at=stage.updated_at,
    )


def pipeline_out(pipeline: Pipeline) -> PipelineOut:
    return PipelineOut.model_validate(pipeline, from_attributes=True)


async def pipeline_detail(session: Session, pipeline: Pipeline) -> PipelineDetail:
    stages = await service.stages_of(session, pipeline)
    return PipelineDetail(
        **pipeline_out(pipeline).model_dump(), stages=[stage_out(s) for s in stages]
    )


@router.get(
    "/v1/pipelines",
    operation_id="listPipelines",
    response_model=list[PipelineOut],
    summary="List pipelines",
    responses=problem_responses(401),
)
async def list_pipelines(principal: Caller, session: Session) -> list[PipelineOut]:
    """Every pipeline of the company, the default first (a company has a handful)."""
    return [pipeline_out(p) for p in await service.list_pipelines(session, principal)]


@router.post(
    "/v1/pipelines",
    operation_id="createPipeline",
    status_code=201,
    response_model=PipelineDetail,
    summary="Create a pipeline",
    responses={
        200: {"model": PipelineDetail, "description": RETRY},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_pipeline(
    body: PipelineCreate, response: Response, principal: AdminCaller, session: Session
) -> PipelineDetail:
    """Admin only. With its `stages` in order, or `copy_from` another pipeline (its active
    stages and their requirements are copied). It needs an open, a won and a lost stage
    (422 `stage_kinds_required`). `is_default` makes it the default in the same transaction."""
    pipeline, created = await service.create_pipeline(session, principal, body)
    if not created:
        response.status_code = 200
    response.headers["ETag"] = etag_for(pipeline.version)
    return await pipeline_detail(session, pipeline)


@router.get(
    "/v1/pipelines/{pipeline_id}",
    operation_id="getPipeline",
    response_model=PipelineDetail,
    summary="Get a pipeline with its stages",
    responses=problem_responses(401, 404, 422),
)
async def get_pipeline(
    pipeline_id: uuid.UUID, response: Response, principal: Caller, session: Session
) -> PipelineDetail:
    """Its stages by position; retired stages are included (`retired`, `retired_at`)."""
    pipeline = await service.get_pipeline(session, principal, pipeline_id)
    response.headers["ETag"] = etag_for(pipeline.version)
    return await pipeline_detail(session, pipeline)


@router.patch(
    "/v1/pipelines/{pipeline_id}",
    operation_id="updatePipeline",
    response_model=PipelineDetail,
    summary="Change a pipeline",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_pipeline(
    *,
    pipeline_id: uuid.UUID,
    body: PipelineUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> PipelineDetail:
    """Admin only; `If-Match` required. `is_default: true` un-defaults the other pipeline;
    the default cannot be un-defaulted directly (409 `default_pipeline_required`)."""
    pipeline = await service.update_pipeline(session, principal, pipeline_id, body, if_match)
    response.headers["ETag"] = etag_for(pipeline.version)
    return await pipeline_detail(session, pipeline)


@router.delete(
    "/v1/pipelines/{pipeline_id}",
    operation_id="deletePipeline",
    status_code=204,
    summary="Delete a pipeline",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_pipeline(
    pipeline_id: uuid.UUID, principal: AdminCaller, session: Session
) -> Response:
    """Admin only; soft. Not the default (409 `default_pipeline_required`), not one open
    opportunities use (409 `pipeline_in_use`)."""
    await service.delete_pipeline(session, principal, pipeline_id)
    return Response(status_code=204)


# ---------- stages ----------


@router.post(
    "/v1/pipelines/{pipeline_id}/stages",
    operation_id="createStage",
    status_code=201,
    response_model=StageOut,
    summary="Add a stage",
    responses=problem_responses(401, 403, 404, 422),
)
async def create_stage(
    pipeline_id: uuid.UUID,
    body: StageCreate,
    response: Response,
    principal: AdminCaller,
    session: Session,
) -> StageOut:
    """Admin only. Inserted at `position` (default: last); the stages from there move down."""
    stage = await service.create_stage(session, principal, pipeline_id, body)
    response.headers["ETag"] = etag_for(stage.version)
    return stage_out(stage)


@router.patch(
    "/v1/pipelines/{pipeline_id}/stages/{stage_id}",
    operation_id="updateStage",
    response_model=StageOut,
    summary="Change a stage",
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_stage(
    *,
    pipeline_id: uuid.UUID,
    stage_id: uuid.UUID,
    body: StageUpdate,
    response: Response,
    if_match: IfMatch = None,
    principal: AdminCaller,
    session: Session,
) -> StageOut:
    """Admin only; `If-Match` on the stage's version. Rename (history keeps the old names),
    move to `position` (the rest renumbered densely), change probability, kind (not while
    opportunities are in it: 409 `stage_in_use`) or the exit requirements."""
    stage = await service.update_stage(session, principal, pipeline_id, stage_id, body, if_match)
    response.headers["ETag"] = etag_for(stage.version)
    return stage_out(stage)


@router.delete(
    "/v1/pipelines/{pipeline_id}/stages/{stage_id}",
    operation_id="deleteStage",
    status_code=204,
    summary="Delete or retire a stage",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_stage(
    pipeline_id: uuid.UUID,
    stage_id: uuid.UUID,
    principal: AdminCaller,
    session: Session,
    move_to_stage_id: uuid.UUID | None = Query(
        None, description="An active stage of the same kind to move its opportunities to."
    ),
) -> Response:
    """Admin only. Never used: deleted. Used by history only: retired. Opportunities in it:
    409 `stage_in_use`, unless `move_to_stage_id` — they move there (a history row each) and
    the stage is retired."""
    await service.delete_stage(session, principal, pipeline_id, stage_id, move_to_stage_id)
    return Response(status_code=204)


# ---------- lost reasons ----------


@router.get(
    "/v1/lost-reasons",
    operation_id="listLostReasons",
    response_model=list[LostReasonOut],
    summary="List lost reasons",
    responses=problem_responses(401),
)
async def list_lost_reasons(principal: Caller, session: Session) -> list[LostReasonOut]:
    """The company's list, in order: what `lost_reason` of an opportunity may be."""
    rows = await service.list_lost_reasons(session, principal)
    return [LostReasonOut.model_validate(r, from_attributes=True) for r in rows]


@router.post(
    "/v1/lost-reasons",
    operation_id="createLostReason",
    status_code=201,
    response_model=LostReasonOut,
    summary="Add a lost reason",
    responses={
        200: {"model": LostReasonOut, "description": RETRY},
        **problem_responses(401, 403, 409, 422),
    },
)
async def create_lost_reason(
    body: LostReasonCreate, response: Response, principal: AdminCaller, session: Session
) -> LostReasonOut:
    """Admin only; added at the end of the list (409 `lost_reason_taken` for a label it has)."""
    reason, created = await service.create_lost_reason(session, principal, body)
    if not created:
        response.status_code = 200
    return LostReasonOut.model_validate(reason, from_attributes=True)


@router.delete(
    "/v1/lost-reasons/{reason_id}",
    operation_id="deleteLostReason",
    status_code=204,
    summary="Remove a lost reason",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_lost_reason(
    reason_id: uuid.UUID, principal: AdminCaller, session: Session
) -> Response:
    """Admin only; soft (opportunities lost for it keep their label)."""
    await service.delete_lost_reason(session, principal, reason_id)
    return Response(status_code=204)

"""Pipelines (销售流程) as admins shape them: stages added, renamed, reordered, retired; the
default switched; lost reasons kept. Everyone reads them."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import not_found
from app.db import savepoint
from app.pipeline import errors
from app.pipeline.models import LostReason, Opportunity, Pipeline, Stage, StageChange
from app.pipeline.pipelines import rules
from app.pipeline.pipelines.schemas import (
    LostReasonCreate,
    PipelineCreate,
    PipelineUpdate,
    StageCreate,
    StageRequirements,
    StageSpec,
    StageUpdate,
)

# ---------- pipelines ----------


async def list_pipelines(session: AsyncSession, principal: Principal) -> list[Pipeline]:
    """The company's pipelines, the default first, then by creation."""
    stmt = (
        select(Pipeline)
        .where(Pipeline.company_id == principal.company_id, Pipeline.deleted_at.is_(None))
        .order_by(Pipeline.is_default.desc(), Pipeline.created_at, Pipeline.id)
    )
    return list((await session.execute(stmt)).scalars())


async def get_pipeline(
    session: AsyncSession, principal: Principal, pipeline_id: uuid.UUID, *, lock: bool = False
) -> Pipeline:
    """One pipeline of the caller's company, or 404 (another company's too)."""
    stmt = select(Pipeline).where(
        Pipeline.id == pipeline_id,
        Pipeline.company_id == principal.company_id,
        Pipeline.deleted_at.is_(None),
    )
    if lock:
        stmt = stmt.with_for_update()
    pipeline = await session.scalar(stmt)
    if pipeline is None:
        raise not_found("pipeline")
    return pipeline


async def default_pipeline(session: AsyncSession, company_id: uuid.UUID) -> Pipeline | None:
    """The company's default pipeline."""
    return await session.scalar(
        select(Pipeline).where(
            Pipeline.company_id == company_id,
            Pipeline.is_default,
            Pipeline.deleted_at.is_(None),
        )
    )


async def stages_of(session: AsyncSession, pipeline: Pipeline) -> list[Stage]:
    """Every stage of the pipeline (retired ones too), by position."""
    stmt = (
        select(Stage)
        .where(Stage.company_id == pipeline.company_id, Stage.pipeline_id == pipeline.id)
        .order_by(Stage.position, Stage.created_at, Stage.id)
    )
    return list((await session.execute(stmt)).scalars())


def _check_kinds(stages: list[Stage]) -> None:
    missing = rules.missing_kinds(s.kind for s in stages if s.retired_at is None)
    if missing:
        raise errors.stage_kinds_required(missing)


def _requirements(data: StageRequirements) -> dict[str, Any]:
    return {
        "guidance": data.guidance,
        "cautions": data.cautions,
        "max_days": data.max_days,
        "required_fields": list(data.required_fields or []),
        "required_feedback": [
            q.model_dump(exclude_none=True) for q in data.required_feedback or []
        ],
        "required_evidence": list(data.required_evidence or []),
    }


def _new_stage(pipeline: Pipeline, spec: StageSpec, position: int, at: datetime) -> Stage:
    return Stage(
        id=uuid.uuid4(),
        company_id=pipeline.company_id,
        pipeline_id=pipeline.id,
        name=spec.name,
        position=position,
        probability=spec.probability,
        kind=spec.kind,
        version=1,
        created_at=at,
        updated_at=at,
        **_requirements(spec),
    )


def _copy_stage(pipeline: Pipeline, source: Stage, position: int, at: datetime) -> Stage:
    return Stage(
        id=uuid.uuid4(),
        company_id=pipeline.company_id,
        pipeline_id=pipeline.id,
        name=source.name,
        position=position,
        probability=source.probability,
        kind=source.kind,
        guidance=source.guidance,
        cautions=source.cautions,
        max_days=source.max_days,
        required_fields=list(source.required_fields),
        required_feedback=[dict(q) for q in source.required_feedback],
        required_evidence=list(source.required_evidence),
        version=1,
        created_at=at,
        updated_at=at,
    )


async def _lock_company_pipelines(session: AsyncSession, company_id: uuid.UUID) -> None:
    """Serialise default switches of one company: lock its pipelines (a handful of rows), so a
    concurrent switch waits and then sees the new default."""
    await session.execute(
        select(Pipeline.id)
        .where(Pipeline.company_id == company_id, Pipeline.deleted_at.is_(None))
        .with_for_update()
    )


async def _undefault_others(session: AsyncSession, company_id: uuid.UUID, keep: uuid.UUID) -> None:
    await session.execute(
        update(Pipeline)
        .where(
            Pipeline.company_id == company_id,
            Pipeline.is_default,
            Pipeline.id != keep,
            Pipeline.deleted_at.is_(None),
        )
        .values(is_default=False, version=Pipeline.version + 1, updated_at=now())
    )


async def create_pipeline(
    session: AsyncSession, principal: Principal, data: PipelineCreate
) -> tuple[Pipeline, bool]:
    """Admin: a pipeline with its stages (given, or copied from another pipeline); returns
    (pipeline, created). The same client id and body again answer the pipeline made."""
    digest = client_ids.request_hash(data)
    existing = await client_ids.existing_create(
        session,
        Pipeline,
        data.id,
        principal.company_id,
        lambda p: p.deleted_at is None and p.request_hash == digest,
    )
    if existing is not None:
        return existing, False
    at = now()
    pipeline = Pipeline(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        name=data.name,
        kind=data.kind,
        is_default=False,
        allow_skip=data.allow_skip,
        allow_backward=data.allow_backward,
        stale_after_days=data.stale_after_days,
        request_hash=digest,
        version=1,
        created_at=at,
        updated_at=at,
    )
    if data.copy_from is not None:
        source = await session.scalar(
            select(Pipeline).where(
                Pipeline.id == data.copy_from,
                Pipeline.company_id == principal.company_id,
                Pipeline.deleted_at.is_(None),
            )
        )
        if source is None:
            raise errors.unknown_pipeline("copy_from")
        active = [s for s in await stages_of(session, source) if s.retired_at is None]
        stages = [_copy_stage(pipeline, s, i, at) for i, s in enumerate(active, start=1)]
    else:
        stages = [_new_stage(pipeline, s, i, at) for i, s in enumerate(data.stages or [], 1)]
    _check_kinds(stages)
    if data.is_default:
        await _lock_company_pipelines(session, principal.company_id)
        await _undefault_others(session, principal.company_id, pipeline.id)
        pipeline.is_default = True
    try:
        async with savepoint(session):
            session.add(pipeline)
    except IntegrityError as exc:
        if "uq_pipelines_company_name" in str(exc.orig):
            raise errors.pipeline_name_taken() from exc
        raise client_ids.id_conflict() from exc  # a concurrent create with the same id
    session.add_all(stages)
    await session.flush()
    return pipeline, True


async def update_pipeline(
    session: AsyncSession,
    principal: Principal,
    pipeline_id: uuid.UUID,
    data: PipelineUpdate,
    if_match: str | None,
) -> Pipeline:
    """Admin: rename, change the flags; making it the default un-defaults the other one in the
    same transaction (the default itself cannot be un-defaulted: make another one default)."""
    pipeline = await get_pipeline(session, principal, pipeline_id, lock=True)
    check_if_match(if_match, pipeline.version)
    fields = {f: getattr(data, f) for f in data.model_fields_set if getattr(data, f) is not None}
    if fields.get("is_default") is False and pipeline.is_default:
        raise errors.default_pipeline_required()
    if fields.get("is_default") and not pipeline.is_default:
        await _lock_company_pipelines(session, principal.company_id)
        await _undefault_others(session, principal.company_id, pipeline.id)
    try:
        async with savepoint(session):  # a taken name is refused by the unique index
            for field, value in fields.items():
                setattr(pipeline, field, value)
            pipeline.version += 1
    except IntegrityError as exc:
        raise errors.pipeline_name_taken() from exc
    return pipeline


async def delete_pipeline(
    session: AsyncSession, principal: Principal, pipeline_id: uuid.UUID
) -> None:
    """Admin: soft delete; not the default, not one with open opportunities."""
    pipeline = await get_pipeline(session, principal, pipeline_id, lock=True)
    if pipeline.is_default:
        raise errors.default_pipeline_required()
    open_count = await session.scalar(
        select(func.count()).where(
            Opportunity.company_id == principal.company_id,
            Opportunity.pipeline_id == pipeline.id,
            Opportunity.status == "open",
            Opportunity.deleted_at.is_(None),
        )
    )
    if open_count:
        raise errors.pipeline_in_use(open_count)
    pipeline.deleted_at = now()
    pipeline.version += 1
    await session.flush()


# ---------- stages ----------


def _stage(stages: list[Stage], stage_id: uuid.UUID) -> Stage:
    for stage in stages:
        if stage.id == stage_id:
            return stage
    raise not_found("stage")


def _renumber(order: list[Stage]) -> None:
    """Dense positions 1..n in list order (only rows whose position changes are written)."""
    for position, stage in enumerate(order, start=1):
        if stage.position != position:
            stage.position = position


async def create_stage(
    session: AsyncSession, principal: Principal, pipeline_id: uuid.UUID, data: StageCreate
) -> Stage:
    """Admin: a new stage at `position` (the stages from there on move down)."""
    pipeline = await get_pipeline(session, principal, pipeline_id, lock=True)
    stages = await stages_of(session, pipeline)
    if len(stages) >= rules.MAX_STAGES:
        raise errors.too_many_stages(rules.MAX_STAGES)
    stage = _new_stage(pipeline, data, len(stages) + 1, now())
    order = rules.insert_at(stages, stage, data.position)
    _renumber(order)
    session.add(stage)
    await session.flush()
    return stage


async def get_stage(
    session: AsyncSession, principal: Principal, pipeline_id: uuid.UUID, stage_id: uuid.UUID
) -> Stage:
    """One stage of a visible pipeline, or 404."""
    pipeline = await get_pipeline(session, principal, pipeline_id)
    return _stage(await stages_of(session, pipeline), stage_id)


async def _opportunities_in(session: AsyncSession, stage: Stage) -> int:
    """Opportunities (not deleted) in the stage now."""
    count = await session.scalar(
        select(func.count()).where(
            Opportunity.company_id == stage.company_id,
            Opportunity.stage_id == stage.id,
            Opportunity.deleted_at.is_(None),
        )
    )
    return int(count or 0)


async def update_stage(
    session: AsyncSession,
    principal: Principal,
    pipeline_id: uuid.UUID,
    stage_id: uuid.UUID,
    data: StageUpdate,
    if_match: str | None,
) -> Stage:
    """Admin: rename, move to another position (the rest renumbered densely), change the
    probability, kind or exit requirements. History keeps the names it was written with."""
    pipeline = await get_pipeline(session, principal, pipeline_id, lock=True)
    stages = await stages_of(session, pipeline)
    stage = _stage(stages, stage_id)
    check_if_match(if_match, stage.version)
    if stage.retired_at is not None:
        raise errors.stage_retired()
    fields = data.model_fields_set
    nullable = {"guidance", "cautions", "max_days"}
    if data.kind is not None and data.kind != stage.kind:
        in_stage = await _opportunities_in(session, stage)
        if in_stage:  # their status follows the stage's kind
            raise errors.stage_in_use(in_stage)
    for field in fields - {"position"}:
        value = getattr(data, field)
        if field in nullable:
            setattr(stage, field, value)
        elif field == "required_feedback" and value is not None:
            stage.required_feedback = _requirements(data)["required_feedback"]
        elif value is not None:
            setattr(stage, field, list(value) if isinstance(value, list) else value)
    _check_kinds(stages)
    if data.position is not None:
        _renumber(rules.move_to(stages, stage, data.position))
    stage.version += 1
    await session.flush()
    return stage


# Opportunities of a stage being deleted move to another one, each with its history row
# (names as they are now; the time spent in the stage left), in one statement.
_MOVE = text(
    """
    WITH old AS (
        SELECT id, stage_entered_at FROM opportunities
        WHERE company_id = :company_id AND stage_id = :from_id AND deleted_at IS NULL
        FOR UPDATE
    ), moved AS (
        UPDATE opportunities o
        SET stage_id = :to_id, stage_entered_at = :at, version = o.version + 1, updated_at = :at
        FROM old
        WHERE o.company_id = :company_id AND o.id = old.id
        RETURNING o.id, old.stage_entered_at
    )
    INSERT INTO stage_history (id, company_id, opportunity_id, from_stage_id, to_stage_id,
        from_stage_name, to_stage_name, actor_id, at, seconds_in_previous, feedback, note)
    SELECT gen_random_uuid(), CAST(:company_id AS uuid), moved.id, CAST(:from_id AS uuid),
        CAST(:to_id AS uuid), CAST(:from_name AS text), CAST(:to_name AS text),
        CAST(:actor_id AS uuid), CAST(:at AS timestamptz),
        GREATEST(0, floor(extract(epoch FROM CAST(:at AS timestamptz) - moved.stage_entered_at))),
        '{}'::jsonb, CAST(:note AS text)
    FROM moved
    """
).bindparams(
    bindparam("company_id", type_=Uuid()),
    bindparam("from_id", type_=Uuid()),
    bindparam("to_id", type_=Uuid()),
    bindparam("actor_id", type_=Uuid()),
)


@dataclass(frozen=True)
class StageRemoval:
    fate: rules.StageFate
    moved: int


async def delete_stage(
    session: AsyncSession,
    principal: Principal,
    pipeline_id: uuid.UUID,
    stage_id: uuid.UUID,
    move_to_stage_id: uuid.UUID | None,
) -> StageRemoval:
    """Admin: a stage never used is deleted; one history names is retired; one opportunities
    are in is 409 `stage_in_use` unless `move_to_stage_id` (an active stage of the same kind
    in this pipeline) takes them — then they move (a history row each) and it is retired."""
    pipeline = await get_pipeline(session, principal, pipeline_id, lock=True)
    stages = await stages_of(session, pipeline)
    stage = _stage(stages, stage_id)
    if stage.retired_at is not None:
        raise errors.stage_retired()
    target = None
    if move_to_stage_id is not None:
        target = next(
            (s for s in stages if s.id == move_to_stage_id and s.retired_at is None), None
        )
        if target is None or target.id == stage.id:
            raise errors.unknown_stage("move_to_stage_id", "query")
        if target.kind != stage.kind:
            raise errors.stage_kind_mismatch()
    remaining = [s for s in stages if s is not stage]
    _check_kinds(remaining)
    in_stage = await _opportunities_in(session, stage)
    used = in_stage > 0 or bool(
        await session.scalar(
            select(
                or_(
                    exists().where(
                        Opportunity.company_id == stage.company_id,
                        Opportunity.stage_id == stage.id,
                    ),
                    exists().where(
                        StageChange.company_id == stage.company_id,
                        StageChange.to_stage_id == stage.id,
                    ),
                    exists().where(
                        StageChange.company_id == stage.company_id,
                        StageChange.from_stage_id == stage.id,
                    ),
                )
            )
        )
    )
    fate = rules.stage_fate(in_stage, used, target is not None)
    if fate == "refuse":
        raise errors.stage_in_use(in_stage)
    at = now()
    moved = 0
    if fate == "move" and target is not None:
        result = await session.execute(
            _MOVE,
            {
                "company_id": stage.company_id,
                "from_id": stage.id,
                "to_id": target.id,
                "from_name": stage.name,
                "to_name": target.name,
                "actor_id": principal.user_id,
                "at": at,
                "note": f"Stage {stage.name} removed",
            },
        )
        moved = int(getattr(result, "rowcount", 0) or 0)
    if fate == "delete":
        await session.delete(stage)
        _renumber(remaining)
    else:
        stage.retired_at = at
        stage.version += 1
    await session.flush()
    return StageRemoval(fate=fate, moved=moved)


# ---------- lost reasons ----------


async def list_lost_reasons(session: AsyncSession, principal: Principal) -> list[LostReason]:
    """The company's active lost reasons, in list order."""
    stmt = (
        select(LostReason)
        .where(LostReason.company_id == principal.company_id, LostReason.deleted_at.is_(None))
        .order_by(LostReason.position, LostReason.created_at, LostReason.id)
    )
    return list((await session.execute(stmt)).scalars())


async def create_lost_reason(
    session: AsyncSession, principal: Principal, data: LostReasonCreate
) -> tuple[LostReason, bool]:
    """Admin: a lost reason at the end of the list; returns (reason, created)."""
    existing = await client_ids.existing_create(
        session,
        LostReason,
        data.id,
        principal.company_id,
        lambda r: r.deleted_at is None and client_ids.holds(r, data),
    )
    if existing is not None:
        return existing, False
    last = await session.scalar(
        select(func.coalesce(func.max(LostReason.position), 0)).where(
            LostReason.company_id == principal.company_id
        )
    )
    reason = LostReason(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        label=data.label,
        position=int(last or 0) + 1,
        created_at=now(),
    )
    try:
        async with savepoint(session):
            session.add(reason)
    except IntegrityError as exc:
        if "uq_lost_reasons_company_label" in str(exc.orig):
            raise errors.lost_reason_taken() from exc
        raise client_ids.id_conflict() from exc
    return reason, True


async def delete_lost_reason(
    session: AsyncSession, principal: Principal, reason_id: uuid.UUID
) -> None:
    """Admin: soft delete (opportunities lost for it keep the label)."""
    reason = await session.scalar(
        select(LostReason).where(
            LostReason.id == reason_id,
            LostReason.company_id == principal.company_id,
            LostReason.deleted_at.is_(None),
        )
    )
    if reason is None:
        raise not_found("lost reason")
    reason.deleted_at = now()
    await session.flush()

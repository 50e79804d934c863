"""Opportunities (商机): create, read, edit, soft-delete, and advance through the stages.

Visibility is exactly the customer's (`app.pipeline.visibility.opportunity_visibility`).
Stage, status and the won/lost fields change only through `advance`, whose write is one
conditional UPDATE (`WHERE id, version, stage_id`): of two concurrent moves exactly one wins.
A move writes the stage-history row, the feed item, the notifications and the webhook events
in the caller's transaction; a won move records the deal through `customers.deals.close_deal`.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Uuid,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    not_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import ProblemError, forbidden, not_found
from app.core.pagination import PageParams, make_page, paginate
from app.customers import errors as customer_errors
from app.customers.access import Access, load_customer, record_access
from app.customers.deals import close_deal
from app.customers.models import Collaborator, Contact, Customer
from app.db import AnyRow, AnySelect, savepoint, table_of
from app.feed.publish import actor_name, publish_item
from app.fieldwork import errors as fieldwork_errors
from app.fieldwork.models import Attachment, Checkin, Followup, StoredFile
from app.notifications.inbox import service as notifications
from app.notifications.webhooks.service import enqueue_event
from app.org.models import User
from app.pipeline import errors
from app.pipeline.models import LostReason, Opportunity, Pipeline, Stage, StageChange
from app.pipeline.opportunities import rules
from app.pipeline.opportunities.quadrant import forget_size_line
from app.pipeline.opportunities.schemas import (
    NOT_PATCHABLE,
    AdvanceIn,
    OpportunityCreate,
    OpportunityUpdate,
)
from app.pipeline.visibility import opportunity_visibility

RECORD_TYPE = "opportunity"  # attachments.record_type of files attached to an opportunity
_O = table_of(Opportunity).c

# What every read answers with: the opportunity's columns, its stage's name, probability and
# max_days, its pipeline's stale_after_days. Joined by primary key; lists add the filters.
COLUMNS = (
    Opportunity.id,
    Opportunity.company_id,
    Opportunity.customer_id,
    Opportunity.pipeline_id,
    Opportunity.stage_id,
    Opportunity.name,
    Opportunity.amount,
    Opportunity.expected_close_date,
    Opportunity.contact_ids,
    Opportunity.competitors,
    Opportunity.source,
    Opportunity.description,
    Opportunity.lead_id,
    Opportunity.owner_id,
    Opportunity.status,
    Opportunity.lost_reason,
    Opportunity.stage_entered_at,
    Opportunity.closed_at,
    Opportunity.version,
    Opportunity.created_at,
    Opportunity.updated_at,
    Stage.name.label("stage_name"),
    Stage.probability,
    Stage.max_days,
    Pipeline.stale_after_days,
)
READ_BASE = (
    select(*COLUMNS)
    .join(Stage, Stage.id == Opportunity.stage_id)
    .join(Pipeline, Pipeline.id == Opportunity.pipeline_id)
)

# The move, decided in the database: only if nobody moved or edited it since it was read.
_MOVE = (
    update(table_of(Opportunity))
    .where(
        _O.id == bindparam("opportunity_id", type_=Uuid()),
        _O.company_id == bindparam("company", type_=Uuid()),
        _O.version == bindparam("read_version", type_=Integer()),
        _O.stage_id == bindparam("read_stage_id", type_=Uuid()),
        _O.deleted_at.is_(None),
    )
    .values(
        stage_id=bindparam("new_stage_id", type_=Uuid()),
        status=bindparam("new_status", type_=String()),
        lost_reason=bindparam("new_lost_reason", type_=String()),
        closed_at=bindparam("new_closed_at", type_=DateTime(timezone=True)),
        stage_entered_at=bindparam("moved_at", type_=DateTime(timezone=True)),
        updated_at=bindparam("moved_at", type_=DateTime(timezone=True)),
        version=_O.version + 1,
    )
    .returning(_O.id)
)

# Evidence since the opportunity entered its stage, in one round trip.
_SINCE = bindparam("since", type_=DateTime(timezone=True))
_CUSTOMER = bindparam("customer_id", type_=Uuid())
_COMPANY = bindparam("company", type_=Uuid())
_EVIDENCE = select(
    exists()
    .where(
        Checkin.company_id == _COMPANY,
        Checkin.customer_id == _CUSTOMER,
        Checkin.created_at >= _SINCE,
        Checkin.mock_location.is_(False),
        *(
            not_(Checkin.flags.contains(literal([{"code": code}], JSONB)))
            for code in rules.DISQUALIFYING_FLAGS
        ),
    )
    .label("checkin_at_customer"),
    exists()
    .where(
        Followup.company_id == _COMPANY,
        Followup.customer_id == _CUSTOMER,
        Followup.deleted_at.is_(None),
        Followup.created_at >= _SINCE,
    )
    .label("followup"),
    exists()
    .where(
        Attachment.company_id == _COMPANY,
        Attachment.record_type == RECORD_TYPE,
        Attachment.record_id == bindparam("opportunity_id", type_=Uuid()),
        StoredFile.id == Attachment.file_id,
        StoredFile.created_at >= _SINCE,
    )
    .label("file"),
)


@dataclass(frozen=True)
class OpportunityFilters:
    owner: Literal["me"] | uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    status: str | None = None
    stale: bool | None = None
    quadrant: rules.Quadrant | None = None
    q: str | None = None


# --- reads ---------------------------------------------------------------------------------


def _stale_condition(at: datetime) -> Any:
    return and_(
        Opportunity.status == "open",
        Opportunity.created_at
        < literal(at, DateTime(timezone=True))
        - func.make_interval(0, 0, 0, Pipeline.stale_after_days),
    )


def _quadrant_condition(quadrant: rules.Quadrant, line: Any) -> Any:
    """The SQL form of `rules.quadrant` for one quadrant."""
    large: Any = false() if line is None else Opportunity.amount >= line
    likely = Stage.probability >= rules.LIKELY_FROM
    wanted_large = quadrant in ("act_now", "plan")
    wanted_likely = quadrant in ("act_now", "opportunistic")
    size = large if wanted_large else not_(func.coalesce(large, False))
    chance = likely if wanted_likely else not_(likely)
    return and_(Opportunity.status == "open", size, chance)


def filtered(
    stmt: AnySelect,
    principal: Principal,
    filters: OpportunityFilters,
    at: datetime,
    line: Any = None,
) -> AnySelect:
    """The list filters on a READ_BASE statement."""
    if filters.owner is not None:
        owner = principal.user_id if filters.owner == "me" else filters.owner
        stmt = stmt.where(Opportunity.owner_id == owner)
    for name in ("customer_id", "pipeline_id", "stage_id", "status"):
        value = getattr(filters, name)
        if value is not None:
            stmt = stmt.where(getattr(Opportunity, name) == value)
    if filters.stale is not None:
        stale = _stale_condition(at)
        stmt = stmt.where(stale if filters.stale else not_(stale))
    if filters.quadrant is not None:
        stmt = stmt.where(_quadrant_condition(filters.quadrant, line))
    if filters.q:
        pattern = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Opportunity.name.ilike(f"%{pattern}%"))
    return stmt


async def list_opportunities(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    filters: OpportunityFilters,
    line: Any = None,
) -> tuple[list[AnyRow], str | None]:
    """Visible opportunities, newest first, in one query (keyset on created_at, id)."""
    stmt = filtered(
        READ_BASE.where(opportunity_visibility(principal)), principal, filters, now(), line
    )
    rows = list(
        (
            await session.execute(paginate(stmt, Opportunity.created_at, Opportunity.id, params))
        ).all()
    )
    return make_page(rows, params)


async def get_row(session: AsyncSession, principal: Principal, opportunity_id: uuid.UUID) -> AnyRow:
    """One visible opportunity as a read row (COLUMNS), or 404."""
    row = (
        await session.execute(
            READ_BASE.where(Opportunity.id == opportunity_id, opportunity_visibility(principal))
        )
    ).first()
    if row is None:
        raise not_found("opportunity")
    return row


async def get_opportunity(
    session: AsyncSession, principal: Principal, opportunity_id: uuid.UUID
) -> Opportunity:
    """One visible opportunity (the entity), or 404."""
    opportunity = await session.scalar(
        select(Opportunity).where(
            Opportunity.id == opportunity_id, opportunity_visibility(principal)
        )
    )
    if opportunity is None:
        raise not_found("opportunity")
    return opportunity


async def stage_history(
    session: AsyncSession, principal: Principal, opportunity_id: uuid.UUID
) -> tuple[Opportunity, list[StageChange]]:
    """The moves of a visible opportunity, oldest first, names as they were."""
    opportunity = await get_opportunity(session, principal, opportunity_id)
    rows = list(
        (
            await session.execute(
                select(StageChange)
                .where(
                    StageChange.company_id == opportunity.company_id,
                    StageChange.opportunity_id == opportunity.id,
                )
                .order_by(StageChange.at, StageChange.id)
            )
        ).scalars()
    )
    return opportunity, rows


# --- writes --------------------------------------------------------------------------------


async def _may_work(
    session: AsyncSession, principal: Principal, opportunity: Opportunity
) -> Access:
    return await record_access(
        session, principal, opportunity.customer_id, opportunity.owner_id, "opportunity"
    )


async def _check_contacts(
    session: AsyncSession,
    company_id: uuid.UUID,
    customer_id: uuid.UUID,
    contact_ids: list[uuid.UUID],
) -> list[uuid.UUID]:
    ordered = list(dict.fromkeys(contact_ids))
    if not ordered:
        return []
    found = set(
        await session.scalars(
            select(Contact.id).where(
                Contact.company_id == company_id,
                Contact.customer_id == customer_id,
                Contact.id.in_(ordered),
                Contact.deleted_at.is_(None),
            )
        )
    )
    if len(found) != len(ordered):
        raise errors.unknown_contact()
    return ordered


async def _check_owner(session: AsyncSession, company_id: uuid.UUID, owner_id: uuid.UUID) -> None:
    active = await session.scalar(
        select(User.id).where(
            User.id == owner_id, User.company_id == company_id, User.is_active.is_(True)
        )
    )
    if active is None:
        raise errors.unknown_owner()


async def _pipeline_and_stage(
    session: AsyncSession,
    company_id: uuid.UUID,
    pipeline_id: uuid.UUID | None,
    stage_id: uuid.UUID | None,
) -> tuple[Pipeline, Stage]:
    """The pipeline named (or the company's default) and the stage named (or its first open)."""
    condition = (
        Pipeline.id == pipeline_id if pipeline_id is not None else Pipeline.is_default.is_(True)
    )
    pipeline = await session.scalar(
        select(Pipeline).where(
            Pipeline.company_id == company_id, Pipeline.deleted_at.is_(None), condition
        )
    )
    if pipeline is None:
        raise errors.unknown_pipeline()
    stages = await _stages(session, pipeline)
    if stage_id is None:
        first = rules.first_open_stage([_facts(s) for s in stages])
        stage = next((s for s in stages if first is not None and s.id == first.id), None)
    else:
        stage = next(
            (s for s in stages if s.id == stage_id and s.retired_at is None and s.kind == "open"),
            None,
        )
    if stage is None:
        raise errors.unknown_stage()
    return pipeline, stage


async def _stages(session: AsyncSession, pipeline: Pipeline) -> list[Stage]:
    return list(
        (
            await session.execute(
                select(Stage)
                .where(Stage.company_id == pipeline.company_id, Stage.pipeline_id == pipeline.id)
                .order_by(Stage.position, Stage.id)
            )
        ).scalars()
    )


def _facts(stage: Stage) -> rules.StageFacts:
    return rules.StageFacts(
        id=stage.id,
        name=stage.name,
        position=stage.position,
        kind=stage.kind,
        active=stage.retired_at is None,
        required_fields=tuple(stage.required_fields or ()),
        required_feedback=tuple(stage.required_feedback or ()),
        required_evidence=tuple(stage.required_evidence or ()),
    )


def _subject(opportunity: Opportunity) -> dict[str, Any]:
    """An opportunity in webhook payloads."""
    return {
        "id": str(opportunity.id),
        "customer_id": str(opportunity.customer_id),
        "pipeline_id": str(opportunity.pipeline_id),
        "stage_id": str(opportunity.stage_id),
        "name": opportunity.name,
        "amount": str(opportunity.amount) if opportunity.amount is not None else None,
        "expected_close_date": opportunity.expected_close_date,
        "owner_id": str(opportunity.owner_id),
        "status": opportunity.status,
        "lost_reason": opportunity.lost_reason,
        "lead_id": str(opportunity.lead_id) if opportunity.lead_id else None,
        "stage_entered_at": opportunity.stage_entered_at,
        "closed_at": opportunity.closed_at,
        "version": opportunity.version,
    }


async def create_opportunity(
    session: AsyncSession,
    principal: Principal,
    data: OpportunityCreate,
    *,
    lead_id: uuid.UUID | None = None,
) -> tuple[Opportunity, bool]:
    """An opportunity on a visible customer: (the opportunity, created). The caller commits.

    A rep opens one only on a customer they own or collaborate on (a pool customer or
    another's: 409 `customer_not_owned`); managers and admins on any visible customer that
    has an owner. Writes the history row from nowhere into the first stage, the feed item and
    the `opportunity.created` webhook. Works on a customer made earlier in the transaction
    (lead conversion passes `lead_id`). A retry with the same id and body answers the same
    opportunity (False); another use of the id is 409 `id_conflict`."""
    request_hash = client_ids.request_hash(data)
    existing = await client_ids.replayed(
        session,
        Opportunity,
        data.id,
        request_hash,
        lambda row: row.company_id == principal.company_id and row.created_by == principal.user_id,
    )
    if existing is not None:
        return existing, False
    access = await load_customer(session, principal, data.customer_id)
    customer = access.customer
    if customer.owner_id is None:
        raise customer_errors.customer_not_owned("This customer is in the pool: claim it first.")
    if not (principal.is_admin or principal.is_manager) and not (
        access.is_owner or access.is_collaborator
    ):
        raise customer_errors.customer_not_owned(
            "Only the customer's owner and collaborators open opportunities on it."
        )
    pipeline, stage = await _pipeline_and_stage(
        session, principal.company_id, data.pipeline_id, data.stage_id
    )
    contact_ids = await _check_contacts(
        session, principal.company_id, customer.id, data.contact_ids
    )
    owner_id = data.owner_id or customer.owner_id
    if data.owner_id is not None and data.owner_id != customer.owner_id:
        await _check_owner(session, principal.company_id, data.owner_id)
    at = now()
    opportunity = Opportunity(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        customer_id=customer.id,
        pipeline_id=pipeline.id,
        stage_id=stage.id,
        name=data.name,
        amount=data.amount,
        expected_close_date=data.expected_close_date,
        contact_ids=contact_ids,
        competitors=list(data.competitors),
        source=data.source,
        description=data.description,
        lead_id=lead_id,
        owner_id=owner_id,
        status="open",
        stage_entered_at=at,
        created_by=principal.user_id,
        request_hash=request_hash,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(opportunity)
    except IntegrityError as exc:
        raise client_ids.id_conflict() from exc
    session.add(
        StageChange(
            id=uuid.uuid4(),
            company_id=principal.company_id,
            opportunity_id=opportunity.id,
            from_stage_id=None,
            to_stage_id=stage.id,
            from_stage_name=None,
            to_stage_name=stage.name,
            actor_id=principal.user_id,
            at=at,
            seconds_in_previous=None,
            feedback={},
        )
    )
    name = await actor_name(session, principal.user_id)
    await publish_item(
        session,
        company_id=principal.company_id,
        kind="opportunity",
        subject_type="opportunity",
        subject_id=opportunity.id,
        customer_id=customer.id,
        author_id=principal.user_id,
        summary={
            "author": {"id": str(principal.user_id), "name": name},
            "customer": {"id": str(customer.id), "name": customer.name},
            "event": "created",
            "opportunity": {"id": str(opportunity.id), "name": opportunity.name},
            "stage": stage.name,
            "amount": str(data.amount) if data.amount is not None else None,
        },
        created_at=at,
    )
    await enqueue_event(
        session, principal.company_id, "opportunity.created", _subject(opportunity), occurred_at=at
    )
    await session.flush()
    await forget_size_line(principal.company_id)
    return opportunity, True


async def update_opportunity(
    session: AsyncSession,
    principal: Principal,
    opportunity_id: uuid.UUID,
    data: OpportunityUpdate,
    if_match: str | None,
) -> Opportunity:
    """Edit the descriptive fields (If-Match required); stage, status, won/lost fields,
    pipeline and customer: 422 `field_not_patchable`; a won opportunity: 409."""
    fields = data.model_fields_set
    for name in NOT_PATCHABLE:
        if name in fields:
            raise errors.field_not_patchable(name)
    opportunity = await get_opportunity(session, principal, opportunity_id)
    await _may_work(session, principal, opportunity)
    if opportunity.status == "won":
        raise errors.opportunity_closed("won")
    check_if_match(if_match, opportunity.version)
    if "name" in fields and data.name:
        opportunity.name = data.name
    for name in ("amount", "expected_close_date", "source", "description"):
        if name in fields:
            setattr(opportunity, name, getattr(data, name))
    if "competitors" in fields:
        opportunity.competitors = list(data.competitors or [])
    if "contact_ids" in fields:
        opportunity.contact_ids = await _check_contacts(
            session, opportunity.company_id, opportunity.customer_id, data.contact_ids or []
        )
    if "owner_id" in fields and data.owner_id is not None:
        if data.owner_id != opportunity.owner_id:
            await _check_owner(session, opportunity.company_id, data.owner_id)
        opportunity.owner_id = data.owner_id
    opportunity.version += 1
    opportunity.updated_at = now()
    await session.flush()
    if "amount" in fields:
        await forget_size_line(opportunity.company_id)
    return opportunity


async def delete_opportunity(
    session: AsyncSession, principal: Principal, opportunity_id: uuid.UUID
) -> None:
    """Soft delete by its owner, the customer's owner or a manager above them."""
    opportunity = await get_opportunity(session, principal, opportunity_id)
    access = await load_customer(session, principal, opportunity.customer_id)
    if not (access.can_direct or opportunity.owner_id == principal.user_id):
        raise forbidden("Only the owner or a manager above them may delete an opportunity.")
    opportunity.deleted_at = now()
    opportunity.version += 1
    await session.flush()
    await forget_size_line(opportunity.company_id)


# --- advance -------------------------------------------------------------------------------


async def _uploaded_by_caller(
    session: AsyncSession, principal: Principal, file_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    if not file_ids:
        return set()
    return set(
        await session.scalars(
            select(StoredFile.id).where(
                StoredFile.company_id == principal.company_id,
                StoredFile.uploaded_by == principal.user_id,
                StoredFile.id.in_(file_ids),
            )
        )
    )


async def _attach(
    session: AsyncSession,
    principal: Principal,
    opportunity_id: uuid.UUID,
    file_ids: list[uuid.UUID],
) -> None:
    """Attach files to the opportunity (record_type "opportunity"; idempotent)."""
    ordered = list(dict.fromkeys(file_ids))
    if not ordered:
        return
    start = (
        await session.scalar(
            select(func.count()).where(
                Attachment.company_id == principal.company_id,
                Attachment.record_type == RECORD_TYPE,
                Attachment.record_id == opportunity_id,
            )
        )
        or 0
    )
    await session.execute(
        insert(table_of(Attachment))
        .values(
            [
                {
                    "file_id": file_id,
                    "record_type": RECORD_TYPE,
                    "record_id": opportunity_id,
                    "company_id": principal.company_id,
                    "position": start + position,
                }
                for position, file_id in enumerate(ordered)
            ]
        )
        .on_conflict_do_nothing()
    )


async def _evidence(
    session: AsyncSession, opportunity: Opportunity, kinds: tuple[str, ...]
) -> set[str]:
    """The evidence kinds found since the opportunity entered its stage."""
    if not kinds:
        return set()
    row = (
        await session.execute(
            _EVIDENCE,
            {
                "company": opportunity.company_id,
                "customer_id": opportunity.customer_id,
                "opportunity_id": opportunity.id,
                "since": opportunity.stage_entered_at,
            },
        )
    ).one()
    return {kind for kind in rules.EVIDENCE_LABELS if getattr(row, kind)}


async def _check_lost_reason(
    session: AsyncSession, company_id: uuid.UUID, reason: str | None
) -> str:
    if not reason:
        raise errors.lost_reason_required()
    label = await session.scalar(
        select(LostReason.label).where(
            LostReason.company_id == company_id,
            LostReason.label == reason,
            LostReason.deleted_at.is_(None),
        )
    )
    if label is None:
        raise errors.unknown_lost_reason(reason)
    return label


def _refused(refusal: rules.Refusal) -> ProblemError:
    if refusal.kind == "closed":
        return errors.opportunity_closed("won")
    if refusal.kind == "unknown":
        return errors.unknown_stage("to_stage_id")
    return errors.stage_transition_not_allowed(refusal.detail)


async def advance(
    session: AsyncSession,
    principal: Principal,
    opportunity_id: uuid.UUID,
    data: AdvanceIn,
    if_match: str | None,
) -> Opportunity:
    """Move the opportunity to `to_stage_id` under the pipeline's rules and the current
    stage's exit requirements (everything missing at once: 422 `stage_requirements_missing`).
    Of concurrent moves one wins; the others get 409 `opportunity_changed` (412 when they
    sent If-Match)."""
    opportunity = await get_opportunity(session, principal, opportunity_id)
    access = await _may_work(session, principal, opportunity)
    if if_match is not None:
        check_if_match(if_match, opportunity.version)
    pipeline = await session.get_one(Pipeline, opportunity.pipeline_id)
    stages = await _stages(session, pipeline)
    facts = [_facts(s) for s in stages]
    current = next(f for f in facts if f.id == opportunity.stage_id)
    decision = rules.decide_move(
        facts,
        current,
        data.to_stage_id,
        status=opportunity.status,
        allow_skip=pipeline.allow_skip,
        allow_backward=pipeline.allow_backward,
    )
    if decision.refusal is not None:
        raise _refused(decision.refusal)
    target = next(s for s in stages if s.id == data.to_stage_id)
    lost_reason = None
    if target.kind == "lost":
        lost_reason = await _check_lost_reason(session, opportunity.company_id, data.lost_reason)
    file_answers = [
        file_id
        for question in current.required_feedback
        if question.get("type") == "file"
        and (file_id := rules.file_answer(data.feedback.get(str(question.get("key"))))) is not None
    ]
    uploaded = await _uploaded_by_caller(
        session, principal, list(dict.fromkeys([*file_answers, *data.attachment_ids]))
    )
    strays = [(i, f) for i, f in enumerate(data.attachment_ids) if f not in uploaded]
    if strays:
        raise fieldwork_errors.unknown_file("attachment_ids", strays)
    # Attached before the evidence is looked for (a file given now is evidence); a refusal
    # below rolls them back with the rest.
    await _attach(
        session,
        principal,
        opportunity.id,
        [*data.attachment_ids, *(f for f in file_answers if f in uploaded)],
    )
    if decision.checks_requirements:
        await session.flush()
        evidence = await _evidence(session, opportunity, tuple(current.required_evidence))
        values = {name: getattr(opportunity, name, None) for name in rules.FIELD_LABELS}
        missing = rules.missing_requirements(
            current,
            values,
            data.feedback,
            evidence,
            to_won=target.kind == "won",
            uploaded_file_ids=uploaded,
        )
        if missing:
            raise errors.stage_requirements_missing(missing)
    at = now()
    status = {"won": "won", "lost": "lost"}.get(target.kind, "open")
    previous_stage_name = next(s.name for s in stages if s.id == opportunity.stage_id)
    seconds = max(int((at - opportunity.stage_entered_at).total_seconds()), 0)
    moved = await session.scalar(
        _MOVE,
        {
            "opportunity_id": opportunity.id,
            "company": opportunity.company_id,
            "read_version": opportunity.version,
            "read_stage_id": opportunity.stage_id,
            "new_stage_id": target.id,
            "new_status": status,
            "new_lost_reason": lost_reason,
            "new_closed_at": at if status != "open" else None,
            "moved_at": at,
        },
    )
    if moved is None:
        if if_match is not None:
            current_version = await session.scalar(
                select(Opportunity.version).where(Opportunity.id == opportunity.id)
            )
            check_if_match(if_match, current_version or 0)
        raise errors.opportunity_changed()
    from_stage_id = opportunity.stage_id
    await session.refresh(opportunity)
    change = StageChange(
        id=uuid.uuid4(),
        company_id=opportunity.company_id,
        opportunity_id=opportunity.id,
        from_stage_id=from_stage_id,
        to_stage_id=target.id,
        from_stage_name=previous_stage_name,
        to_stage_name=target.name,
        actor_id=principal.user_id,
        at=at,
        seconds_in_previous=seconds,
        feedback=dict(data.feedback),
        note=data.note,
    )
    session.add(change)
    customer = access.customer
    if status == "won":
        await close_deal(
            session,
            principal,
            customer,
            deal_id=uuid.uuid4(),
            amount=opportunity.amount,
            note=opportunity.name,
            at=at,
        )
    await _publish_move(
        session, principal, opportunity, customer, change, status, previous_stage_name
    )
    await session.flush()
    if status != "open" or decision.move == "reopen":
        await forget_size_line(opportunity.company_id)
    return opportunity


async def _publish_move(
    session: AsyncSession,
    principal: Principal,
    opportunity: Opportunity,
    customer: Customer,
    change: StageChange,
    status: str,
    from_name: str,
) -> None:
    """The feed item, the notifications (owner, customer's owner and collaborators, never the
    actor) and the webhook events of one move."""
    actor = await actor_name(session, principal.user_id)
    event = {"won": "won", "lost": "lost"}.get(status, "stage_changed")
    await publish_item(
        session,
        company_id=opportunity.company_id,
        kind="opportunity",
        subject_type="stage_change",
        subject_id=change.id,
        customer_id=customer.id,
        author_id=principal.user_id,
        summary={
            "author": {"id": str(principal.user_id), "name": actor},
            "customer": {"id": str(customer.id), "name": customer.name},
            "event": event,
            "opportunity": {"id": str(opportunity.id), "name": opportunity.name},
            "from_stage": from_name,
            "to_stage": change.to_stage_name,
            "lost_reason": opportunity.lost_reason,
        },
        created_at=change.at,
    )
    collaborators = list(
        (
            await session.execute(
                select(Collaborator.user_id).where(Collaborator.customer_id == customer.id)
            )
        ).scalars()
    )
    await notifications.notify(
        session,
        company_id=opportunity.company_id,
        user_ids=[opportunity.owner_id, customer.owner_id, *collaborators],
        kind="opportunity_stage_changed",
        params={
            "actor": actor,
            "opportunity": opportunity.name,
            "from_stage": from_name,
            "to_stage": change.to_stage_name,
        },
        dedupe_key=f"stage_change:{change.id}",
        subject_type="opportunity",
        subject_id=opportunity.id,
        customer_id=customer.id,
        actor_id=principal.user_id,
        deep_link=f"outfield://opportunities/{opportunity.id}",
    )
    subject = {
        **_subject(opportunity),
        "from_stage_id": str(change.from_stage_id) if change.from_stage_id else None,
        "from_stage_name": from_name,
        "to_stage_name": change.to_stage_name,
        "actor_id": str(principal.user_id),
        "feedback": change.feedback,
        "note": change.note,
    }
    await enqueue_event(
        session, opportunity.company_id, "opportunity.stage_changed", subject, occurred_at=change.at
    )
    if status in ("won", "lost"):
        await enqueue_event(
            session,
            opportunity.company_id,
            f"opportunity.{status}",
            _subject(opportunity),
            occurred_at=change.at,
        )


async def win_by_contract(
    session: AsyncSession, actor: Principal, opportunity_id: uuid.UUID, at: datetime
) -> None:
    """A signed (activated) contract wins its open opportunity: the move to the pipeline's
    first active won stage, without the exit requirements (the contract is the evidence), with
    the history row, the feed item, the notifications and the `opportunity.won` webhook. Not
    the deal: the contract records it through `close_deal` itself. An opportunity that is not
    open (won, lost, deleted) is left as it is. The caller commits."""
    opportunity = await session.scalar(
        select(Opportunity)
        .where(
            Opportunity.id == opportunity_id,
            Opportunity.company_id == actor.company_id,
            Opportunity.deleted_at.is_(None),
        )
        .with_for_update()
    )
    if opportunity is None or opportunity.status != "open":
        return
    stages = await _stages(session, await session.get_one(Pipeline, opportunity.pipeline_id))
    target = next((s for s in stages if s.kind == "won" and s.retired_at is None), None)
    if target is None:
        return
    previous_stage_name = next(s.name for s in stages if s.id == opportunity.stage_id)
    seconds = max(int((at - opportunity.stage_entered_at).total_seconds()), 0)
    from_stage_id = opportunity.stage_id
    moved = await session.scalar(
        _MOVE,
        {
            "opportunity_id": opportunity.id,
            "company": opportunity.company_id,
            "read_version": opportunity.version,
            "read_stage_id": opportunity.stage_id,
            "new_stage_id": target.id,
            "new_status": "won",
            "new_lost_reason": None,
            "new_closed_at": at,
            "moved_at": at,
        },
    )
    if moved is None:  # not possible under the row lock; kept for safety
        raise errors.opportunity_changed()
    await session.refresh(opportunity)
    change = StageChange(
        id=uuid.uuid4(),
        company_id=opportunity.company_id,
        opportunity_id=opportunity.id,
        from_stage_id=from_stage_id,
        to_stage_id=target.id,
        from_stage_name=previous_stage_name,
        to_stage_name=target.name,
        actor_id=actor.user_id,
        at=at,
        seconds_in_previous=seconds,
        feedback={},
        note="won by contract",
    )
    session.add(change)
    customer = await session.get_one(Customer, opportunity.customer_id)
    await _publish_move(session, actor, opportunity, customer, change, "won", previous_stage_name)
    await session.flush()
    await forget_size_line(opportunity.company_id)

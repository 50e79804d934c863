"""Targets (目标): create, read, list, edit, delete and split, with the visibility rule, the
write rule and the live figures.

Who reads: admins every target of the company; managers the targets of the departments of
their subtree and of the users in it, and of the departments above them (the goals their
team is part of); reps their own user targets and those of the departments they are in
(their department and the ones above it). The company's own targets: admins.

Who writes: admins anything; managers a department of their subtree or a user in it (a
department or user outside it is 404 on create — they cannot see it — and 403 on an existing
target they can read, e.g. their parent department's); reps nothing (403).

Figures (`TargetView`): the live actual (`measures.actuals`, one call per period for a list)
and rate (`progress.progress`), `unallocated` = value − Σ live children (None without
children), beside the snapshot written when the period closed (`app.targets.close`).
"""

import contextlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core import client_ids
from app.core.clock import now
from app.core.concurrency import check_if_match
from app.core.errors import forbidden, not_found
from app.core.limits import MAX_YEAR, MIN_YEAR
from app.core.pagination import PageParams, make_page, paginate
from app.db import savepoint
from app.fieldwork.periods import local_date
from app.org.models import Department, User
from app.org.settings import CompanySettings, company_settings
from app.targets import errors, measures, periods, split
from app.targets.models import MONEY_MEASURES, Target
from app.targets.periods import Period
from app.targets.progress import progress
from app.targets.schemas import SplitIn, TargetCreate, TargetUpdate

ZERO = Decimal("0")


@dataclass(frozen=True)
class TargetFilters:
    period: str | None = None
    measure: str | None = None
    subject: str | None = None
    subject_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None


@dataclass(frozen=True)
class TargetView:
    """A target with its figures of now."""

    target: Target
    actual: Decimal
    rate: Decimal | None
    unallocated: Decimal | None


def figure(measure: str, value: Decimal) -> Decimal:
    """A value as the API shows it: money two places, counts whole."""
    if measure in MONEY_MEASURES:
        return value.quantize(split.CENT)
    return value.quantize(split.UNIT)


def period_of(target: Target) -> Period:
    return Period(target.starts_on, target.ends_on, target.period_kind, target.period)


def parse_period(key: str, settings: CompanySettings, loc: tuple[str, ...]) -> Period:
    """The period a key names in the company's fiscal calendar; 422 `invalid_period`."""
    try:
        found = periods.parse(key, settings.fiscal_year_start_month)
    except (ValueError, OverflowError) as exc:
        raise errors.invalid_period(key, loc) from exc
    if found.start.year < MIN_YEAR or found.end.year > MAX_YEAR:
        raise errors.invalid_period(key, loc)
    return found


def check_whole(measure: str, value: Decimal, loc: tuple[str, ...] = ("body", "value")) -> None:
    if measure not in MONEY_MEASURES and value != value.to_integral_value():
        raise errors.whole_number_required(loc)


# ---------- who may read and write ----------


def ancestor_ids(path: str | None) -> list[uuid.UUID]:
    """The departments on a path, the root first and the department itself last."""
    return [uuid.UUID(part) for part in (path or "").strip("/").split("/") if part]


def target_visibility(principal: Principal) -> ColumnElement[bool]:
    """The one read rule for targets (see the module docstring); live ones only."""
    live = (Target.company_id == principal.company_id) & Target.deleted_at.is_(None)
    if principal.is_admin:
        return live
    parts: list[ColumnElement[bool]] = [
        (Target.subject == "user") & (Target.subject_id == principal.user_id)
    ]
    if ancestors := ancestor_ids(principal.department_path):
        parts.append((Target.subject == "department") & Target.subject_id.in_(ancestors))
    if principal.is_manager and principal.department_path:
        subtree = (
            select(Department.id)
            .where(
                Department.company_id == principal.company_id,
                Department.path.startswith(principal.department_path, autoescape=True),
            )
            .subquery()
        )
        users = select(User.id).where(
            User.company_id == principal.company_id,
            User.department_id.in_(select(subtree.c.id)),
        )
        parts.append((Target.subject == "department") & Target.subject_id.in_(select(subtree.c.id)))
        parts.append((Target.subject == "user") & Target.subject_id.in_(users))
    return live & or_(*parts)


@dataclass(frozen=True)
class SubjectInfo:
    subject: str
    subject_id: uuid.UUID | None
    path: str | None  # a department's path; a user's current department path


async def _load_subject(
    session: AsyncSession,
    company_id: uuid.UUID,
    subject: str,
    subject_id: uuid.UUID | None,
    *,
    active_only: bool,
) -> SubjectInfo:
    """The subject in the company (404 as if absent when it is another company's)."""
    if subject == "company":
        return SubjectInfo(subject, None, None)
    if subject == "department":
        department = await session.scalar(
            select(Department).where(
                Department.id == subject_id, Department.company_id == company_id
            )
        )
        if department is None or (active_only and department.deactivated_at is not None):
            raise not_found("department")
        return SubjectInfo(subject, department.id, department.path)
    row = (
        await session.execute(
            select(User.id, User.is_active, Department.path)
            .outerjoin(
                Department,
                (Department.company_id == User.company_id) & (Department.id == User.department_id),
            )
            .where(User.id == subject_id, User.company_id == company_id)
        )
    ).first()
    if row is None or (active_only and not row.is_active):
        raise not_found("user")
    return SubjectInfo(subject, row.id, row.path)


def _within(principal: Principal, info: SubjectInfo) -> bool:
    """Whether the subject is in the manager's subtree (a user: by their department now)."""
    prefix = principal.department_path
    if info.subject == "user" and info.subject_id == principal.user_id:
        return True
    return bool(prefix and info.path and info.path.startswith(prefix))


async def writable_subject(
    session: AsyncSession,
    principal: Principal,
    subject: str,
    subject_id: uuid.UUID | None,
    *,
    existing: bool = False,
) -> SubjectInfo:
    """The subject if the caller may set its targets: reps 403; managers the company 403, a
    department or user outside their subtree 404 (403 for a target they can already read)."""
    if not (principal.is_admin or principal.is_manager):
        raise forbidden("Reps read targets; managers and admins set them.")
    if subject == "company" and not principal.is_admin:
        raise forbidden("Only admins set the company's targets.")
    info = await _load_subject(
        session, principal.company_id, subject, subject_id, active_only=not existing
    )
    if principal.is_admin or subject == "company" or _within(principal, info):
        return info
    if existing:
        raise forbidden("The target is outside your part of the tree.")
    raise not_found(subject)


async def readable_subject(
    session: AsyncSession, principal: Principal, subject: str, subject_id: uuid.UUID | None
) -> SubjectInfo:
    """The subject if the caller may read its figures (the read rule of targets): 404 when
    not, 403 for the company to non-admins."""
    if subject == "company":
        if not principal.is_admin:
            raise forbidden("Only admins read the company's figures.")
        return SubjectInfo(subject, None, None)
    info = await _load_subject(
        session, principal.company_id, subject, subject_id, active_only=False
    )
    if principal.is_admin:
        return info
    if subject == "department" and info.subject_id in ancestor_ids(principal.department_path):
        return info
    if principal.is_manager and _within(principal, info):
        return info
    if subject == "user" and info.subject_id == principal.user_id:
        return info
    raise not_found(subject)


# ---------- figures ----------


def subject_actual(
    facts: measures.Actuals,
    subject: str,
    subject_id: uuid.UUID | None,
    measure: str,
    paths: dict[uuid.UUID, str],
    day_from: date | None = None,
    day_to: date | None = None,
) -> Decimal:
    """The subject's actual: a user's own, a department's subtree (where the facts' users were
    when they were made), the company's all."""
    if subject == "user" and subject_id is not None:
        return facts.user(measure, subject_id, day_from, day_to)
    if subject == "department" and subject_id is not None:
        path = paths.get(subject_id)
        return facts.department(measure, path, day_from, day_to) if path else ZERO
    return facts.company(measure, day_from, day_to)


async def subject_users(
    session: AsyncSession,
    company_id: uuid.UUID,
    subjects: Iterable[tuple[str, uuid.UUID | None]],
    paths: dict[uuid.UUID, str],
    start: date,
    end: date,
    time_zone: str,
) -> list[uuid.UUID] | None:
    """The users whose facts the subjects' figures in [start, end) may hold (None: all)."""
    users: set[uuid.UUID] = set()
    for subject, subject_id in set(subjects):
        if subject == "company" or subject_id is None:
            return None
        if subject == "user":
            users.add(subject_id)
        elif path := paths.get(subject_id):
            users.update(
                await measures.members_during(session, company_id, path, start, end, time_zone)
            )
    return sorted(users)


async def views(
    session: AsyncSession, company_id: uuid.UUID, targets: Sequence[Target]
) -> list[TargetView]:
    """The targets with their live figures: one `actuals` call per period, one query for the
    children's sums."""
    if not targets:
        return []
    settings = await company_settings(session, company_id)
    zone = settings.time_zone
    today = local_date(now(), zone)
    paths = (
        await measures.department_paths(session, company_id)
        if any(t.subject == "department" for t in targets)
        else {}
    )
    by_period: dict[tuple[date, date], list[Target]] = defaultdict(list)
    for target in targets:
        by_period[(target.starts_on, target.ends_on)].append(target)
    actual: dict[uuid.UUID, Decimal] = {}
    for (start, end), group in by_period.items():
        user_ids = await subject_users(
            session, company_id, [(t.subject, t.subject_id) for t in group], paths, start, end, zone
        )
        facts = measures.Actuals(
            await measures.actuals(
                session, company_id, {t.measure for t in group}, start, end, zone, user_ids=user_ids
            ),
            paths,
        )
        for target in group:
            actual[target.id] = subject_actual(
                facts, target.subject, target.subject_id, target.measure, paths
            )
    allocated = await _children_sums(session, company_id, [t.id for t in targets])
    result = []
    for target in targets:
        value = figure(target.measure, target.value)
        done = figure(target.measure, actual[target.id])
        children = allocated.get(target.id)
        result.append(
            TargetView(
                target=target,
                actual=done,
                rate=progress(value, done, period_of(target), today).rate,
                unallocated=None if children is None else figure(target.measure, value - children),
            )
        )
    return result


async def _children_sums(
    session: AsyncSession, company_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Decimal]:
    rows = await session.execute(
        select(Target.parent_id, func.sum(Target.value))
        .where(
            Target.company_id == company_id,
            Target.parent_id.in_(list(ids)),
            Target.deleted_at.is_(None),
        )
        .group_by(Target.parent_id)
    )
    return {row[0]: row[1] for row in rows.all() if row[0] is not None}


async def view(session: AsyncSession, target: Target) -> TargetView:
    return (await views(session, target.company_id, [target]))[0]


# ---------- CRUD ----------


async def get_target(
    session: AsyncSession, principal: Principal, target_id: uuid.UUID, *, lock: bool = False
) -> Target:
    """One visible live target, or 404."""
    stmt = select(Target).where(Target.id == target_id, target_visibility(principal))
    if lock:
        stmt = stmt.with_for_update(of=Target)
    target = await session.scalar(stmt)
    if target is None:
        raise not_found("target")
    return target


async def list_targets(
    session: AsyncSession, principal: Principal, params: PageParams, filters: TargetFilters
) -> tuple[list[TargetView], str | None]:
    """Visible targets, newest first, with their figures."""
    stmt = select(Target).where(target_visibility(principal))
    if filters.period is not None:
        stmt = stmt.where(Target.period == filters.period)
    if filters.measure is not None:
        stmt = stmt.where(Target.measure == filters.measure)
    if filters.subject is not None:
        stmt = stmt.where(Target.subject == filters.subject)
    if filters.subject_id is not None:
        stmt = stmt.where(Target.subject_id == filters.subject_id)
    if filters.parent_id is not None:
        stmt = stmt.where(Target.parent_id == filters.parent_id)
    rows = list(
        (await session.execute(paginate(stmt, Target.created_at, Target.id, params))).scalars()
    )
    page, next_cursor = make_page(rows, params)
    return await views(session, principal.company_id, page), next_cursor


async def _taken(
    session: AsyncSession,
    company_id: uuid.UUID,
    measure: str,
    keys: Sequence[tuple[str, uuid.UUID | None, str]],
) -> Target | None:
    """A live target of one of the (subject, subject_id, period) with this measure."""
    nil = uuid.UUID(int=0)
    stmt = select(Target).where(
        Target.company_id == company_id,
        Target.measure == measure,
        Target.deleted_at.is_(None),
        tuple_(Target.subject, func.coalesce(Target.subject_id, nil), Target.period).in_(
            [(s, sid or nil, p) for s, sid, p in keys]
        ),
    )
    return await session.scalar(stmt.order_by(Target.starts_on).limit(1))


def consistent_subject(subject: str, subject_id: uuid.UUID | None) -> None:
    if (subject == "company") != (subject_id is None):
        raise errors.subject_id_required()


async def create_target(
    session: AsyncSession, principal: Principal, data: TargetCreate
) -> tuple[TargetView, bool]:
    """A new target: (view, created). A retry with the same id and body answers the target
    already made; another live one of that subject/measure/period is 409 `target_exists`."""
    if not (principal.is_admin or principal.is_manager):
        raise forbidden("Reps read targets; managers and admins set them.")
    consistent_subject(data.subject, data.subject_id)
    settings = await company_settings(session, principal.company_id)
    period = parse_period(data.period, settings, ("body", "period"))
    check_whole(data.measure, data.value)
    digest = client_ids.request_hash(data)
    replay = await client_ids.replayed(
        session,
        Target,
        data.id,
        digest,
        lambda row: row.company_id == principal.company_id and row.created_by == principal.user_id,
    )
    if replay is not None and replay.deleted_at is None:
        return await view(session, replay), False
    if replay is not None:
        raise client_ids.id_conflict()
    await writable_subject(session, principal, data.subject, data.subject_id)
    key = [(data.subject, data.subject_id, period.key)]
    if (taken := await _taken(session, principal.company_id, data.measure, key)) is not None:
        raise errors.target_exists(str(taken.id), taken.period)
    at = now()
    target = Target(
        id=data.id or uuid.uuid4(),
        company_id=principal.company_id,
        subject=data.subject,
        subject_id=data.subject_id,
        measure=data.measure,
        period=period.key,
        period_kind=period.kind,
        starts_on=period.start,
        ends_on=period.end,
        value=data.value,
        note=data.note,
        created_by=principal.user_id,
        request_hash=digest,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        async with savepoint(session):
            session.add(target)
    except IntegrityError as exc:
        # The partial unique index is the real check: a concurrent create took the period.
        if (taken := await _taken(session, principal.company_id, data.measure, key)) is not None:
            raise errors.target_exists(str(taken.id), taken.period) from exc
        raise client_ids.id_conflict() from exc
    return await view(session, target), True


async def update_target(
    session: AsyncSession,
    principal: Principal,
    target_id: uuid.UUID,
    data: TargetUpdate,
    if_match: str | None,
) -> TargetView:
    """Edit the value or note (If-Match required). A split parent keeps its value when a child
    changes: its `unallocated` shows the difference."""
    target = await get_target(session, principal, target_id, lock=True)
    await writable_subject(session, principal, target.subject, target.subject_id, existing=True)
    check_if_match(if_match, target.version)
    fields = data.model_fields_set
    if "value" in fields and data.value is not None:
        check_whole(target.measure, data.value)
        target.value = data.value
    if "note" in fields:
        target.note = data.note
    target.version += 1
    target.updated_at = now()
    await session.flush()
    return await view(session, target)


DESCENDANTS = text("""
WITH RECURSIVE tree(id) AS (
    SELECT id FROM targets
     WHERE company_id = :company AND parent_id = :parent AND deleted_at IS NULL
    UNION
    SELECT t.id FROM targets AS t JOIN tree ON t.parent_id = tree.id
     WHERE t.company_id = :company AND t.deleted_at IS NULL
)
UPDATE targets SET deleted_at = :at, updated_at = :at, version = version + 1
 WHERE company_id = :company AND id IN (SELECT id FROM tree)
""")


async def _live_children(session: AsyncSession, target: Target) -> int:
    count = await session.scalar(
        select(func.count()).where(
            Target.company_id == target.company_id,
            Target.parent_id == target.id,
            Target.deleted_at.is_(None),
        )
    )
    return int(count or 0)


async def _delete_descendants(session: AsyncSession, target: Target) -> None:
    await session.execute(
        DESCENDANTS, {"company": target.company_id, "parent": target.id, "at": now()}
    )


async def delete_target(
    session: AsyncSession, principal: Principal, target_id: uuid.UUID, *, cascade: bool
) -> None:
    """Soft delete; a target with live children is 409 `target_has_children` unless
    `cascade` (then its children, theirs and so on go too)."""
    target = await get_target(session, principal, target_id, lock=True)
    await writable_subject(session, principal, target.subject, target.subject_id, existing=True)
    children = await _live_children(session, target)
    if children and not cascade:
        raise errors.target_has_children(children)
    if children:
        await _delete_descendants(session, target)
    target.deleted_at = now()
    target.updated_at = target.deleted_at
    target.version += 1
    await session.flush()


# ---------- split ----------


@dataclass(frozen=True)
class Child:
    key: str  # what `weights` are keyed by: the period key or the subject id
    subject: str
    subject_id: uuid.UUID | None
    period: Period


async def _period_children(parent: Target, data: SplitIn, settings: CompanySettings) -> list[Child]:
    kind = data.into or periods.DEFAULT_CHILD.get(parent.period_kind)
    if kind is None:
        raise errors.invalid_split("A day is not split by period.")
    try:
        found = periods.children(period_of(parent), kind, settings.fiscal_year_start_month)
    except ValueError as exc:
        raise errors.invalid_split(f"A {parent.period_kind} does not split into {kind}s.") from exc
    if kind == "day" and settings.split_working_days_only:
        # Non-working days are left out: they get no child (and nothing).
        found = [p for p in found if settings.is_working_day(p.start.isoweekday())]
        if not found:
            raise errors.invalid_split("The period has no working day.")
    return [Child(p.key, parent.subject, parent.subject_id, p) for p in found]


async def _subject_children(session: AsyncSession, parent: Target) -> list[Child]:
    period = period_of(parent)
    if parent.subject == "user":
        raise errors.invalid_split("A user's target splits by period only.")
    departments = select(Department.id).where(
        Department.company_id == parent.company_id, Department.deactivated_at.is_(None)
    )
    if parent.subject == "company":
        departments = departments.where(Department.parent_id.is_(None))
    else:
        departments = departments.where(Department.parent_id == parent.subject_id)
    children = [
        Child(str(did), "department", did, period)
        for did in (await session.scalars(departments.order_by(Department.name, Department.id)))
    ]
    if parent.subject == "department":
        users = select(User.id).where(
            User.company_id == parent.company_id,
            User.department_id == parent.subject_id,
            User.is_active.is_(True),
        )
        children += [
            Child(str(uid), "user", uid, period)
            for uid in (await session.scalars(users.order_by(User.name, User.id)))
        ]
    if not children:
        raise errors.invalid_split("There are no departments or members to split into.")
    return children


async def _last_year(
    session: AsyncSession,
    parent: Target,
    children: Sequence[Child],
    by: str,
    settings: CompanySettings,
) -> list[Decimal]:
    """Each child's actual a year earlier: by period the subject's own in each child period
    a year before; by subject each child's in the parent's period a year before."""
    fiscal, zone = settings.fiscal_year_start_month, settings.time_zone
    paths = await measures.department_paths(session, parent.company_id)
    if by == "period":
        before = [periods.year_before(c.period, fiscal) for c in children]
        start, end = min(p.start for p in before), max(p.end for p in before)
        users = await subject_users(
            session,
            parent.company_id,
            [(parent.subject, parent.subject_id)],
            paths,
            start,
            end,
            zone,
        )
        facts = measures.Actuals(
            await measures.actuals(
                session,
                parent.company_id,
                [parent.measure],
                start,
                end,
                zone,
                user_ids=users,
                by_day=True,
            ),
            paths,
        )
        return [
            subject_actual(
                facts, parent.subject, parent.subject_id, parent.measure, paths, p.start, p.end
            )
            for p in before
        ]
    year = periods.year_before(period_of(parent), fiscal)
    users = await subject_users(
        session,
        parent.company_id,
        [(parent.subject, parent.subject_id)],
        paths,
        year.start,
        year.end,
        zone,
    )
    facts = measures.Actuals(
        await measures.actuals(
            session, parent.company_id, [parent.measure], year.start, year.end, zone, user_ids=users
        ),
        paths,
    )
    return [subject_actual(facts, c.subject, c.subject_id, parent.measure, paths) for c in children]


def _given_weights(data: SplitIn, children: Sequence[Child]) -> list[Decimal]:
    if data.weights is None:
        raise errors.invalid_weights("method=weights needs `weights`, one per child.")
    given: dict[str, Decimal] = {}
    for key, weight in data.weights.items():
        if data.by == "subject":
            with contextlib.suppress(ValueError):
                key = str(uuid.UUID(key))
        given[key] = weight
    try:
        return split.keyed_weights([c.key for c in children], given)
    except split.WeightsError as exc:
        raise errors.invalid_weights(f"The weights do not fit the children: {exc}.") from exc


async def split_target(
    session: AsyncSession, principal: Principal, target_id: uuid.UUID, data: SplitIn
) -> list[TargetView]:
    """Split a target into children whose values add up exactly to it (see app.targets.split);
    returns the children."""
    parent = await get_target(session, principal, target_id, lock=True)
    await writable_subject(session, principal, parent.subject, parent.subject_id, existing=True)
    settings = await company_settings(session, parent.company_id)
    if data.by == "period":
        children = await _period_children(parent, data, settings)
    else:
        if data.into is not None:
            raise errors.invalid_split("`into` is for by=period only.")
        children = await _subject_children(session, parent)
    if data.method != "weights" and data.weights is not None:
        raise errors.invalid_weights("`weights` are for method=weights only.")
    if data.method == "even":
        weights = split.even(len(children))
    elif data.method == "weights":
        weights = _given_weights(data, children)
    else:
        weights = await _last_year(session, parent, children, data.by, settings)
        if not any(weights):
            raise errors.no_history(parent.period)
    try:
        values = split.shares(
            parent.value, weights, split.unit_of(parent.measure in MONEY_MEASURES)
        )
    except split.WeightsError as exc:
        raise errors.invalid_weights(f"The weights do not fit the children: {exc}.") from exc
    if await _live_children(session, parent):
        if not data.replace:
            raise errors.already_split()
        await _delete_descendants(session, parent)
    keys = [(c.subject, c.subject_id, c.period.key) for c in children]
    if (taken := await _taken(session, parent.company_id, parent.measure, keys)) is not None:
        raise errors.target_exists(str(taken.id), taken.period)
    at = now()
    made = [
        Target(
            id=uuid.uuid4(),
            company_id=parent.company_id,
            subject=child.subject,
            subject_id=child.subject_id,
            measure=parent.measure,
            period=child.period.key,
            period_kind=child.period.kind,
            starts_on=child.period.start,
            ends_on=child.period.end,
            value=value,
            parent_id=parent.id,
            created_by=principal.user_id,
            version=1,
            created_at=at,
            updated_at=at,
        )
        for child, value in zip(children, values, strict=True)
    ]
    try:
        async with savepoint(session):
            session.add_all(made)
    except IntegrityError as exc:
        taken = await _taken(session, parent.company_id, parent.measure, keys)
        raise errors.target_exists(str(taken.id) if taken else None) from exc
    parent.split_by = data.by
    parent.split_method = data.method
    parent.version += 1
    parent.updated_at = at
    await session.flush()
    return await views(session, parent.company_id, made)

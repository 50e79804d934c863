"""The one visibility rule for leads.

A rep sees the leads they own and the unowned leads of the pools they are a member of (a
member user, or a member department of their own or above it). A manager also sees every
lead owned in their department subtree and the unowned leads of every pool a member of
their subtree may pull from. An admin sees the company. Deleted leads are invisible.
"""

import uuid

from sqlalchemy import ColumnElement, CompoundSelect, Select, literal, or_, select

from app.auth.principal import Principal
from app.customers.access import subtree_user_ids
from app.leads.models import Lead, LeadPool, LeadPoolMember
from app.org.models import Department


def member_pool_ids(principal: Principal) -> Select[uuid.UUID]:
    """The ids of the lead pools the caller is a member of (a subquery)."""
    own_departments = select(Department.id).where(
        Department.company_id == principal.company_id,
        # The caller's department or one above it: its path is a prefix of the caller's.
        literal(principal.department_path or "").startswith(Department.path),
    )
    return select(LeadPoolMember.pool_id).where(
        LeadPoolMember.company_id == principal.company_id,
        or_(
            LeadPoolMember.user_id == principal.user_id,
            LeadPoolMember.department_id.in_(own_departments),
        ),
    )


def subtree_pool_ids(principal: Principal) -> CompoundSelect[uuid.UUID]:
    """Pools a member of the manager's subtree may pull from (including the manager's own)."""
    subtree_departments = select(Department.id).where(
        Department.company_id == principal.company_id,
        Department.path.startswith(principal.department_path or "", autoescape=True),
    )
    return (
        select(LeadPoolMember.pool_id)
        .where(
            LeadPoolMember.company_id == principal.company_id,
            or_(
                LeadPoolMember.user_id.in_(subtree_user_ids(principal)),
                LeadPoolMember.department_id.in_(subtree_departments),
            ),
        )
        .union(member_pool_ids(principal))
    )


def lead_visibility(principal: Principal) -> ColumnElement[bool]:
    """Visible, not deleted leads of the caller's company."""
    base = (Lead.company_id == principal.company_id) & Lead.deleted_at.is_(None)
    if principal.is_admin:
        return base
    owned: ColumnElement[bool]
    pools: Select[uuid.UUID] | CompoundSelect[uuid.UUID]
    if principal.is_manager and principal.department_path:
        owned = (Lead.owner_id == principal.user_id) | Lead.owner_id.in_(
            subtree_user_ids(principal)
        )
        pools = subtree_pool_ids(principal)
    else:
        owned = Lead.owner_id == principal.user_id
        pools = member_pool_ids(principal)
    in_pool = Lead.owner_id.is_(None) & Lead.pool_id.in_(pools)
    return base & (owned | in_pool)


def pool_visibility(principal: Principal) -> ColumnElement[bool]:
    """Lead pools the caller may see: admins all, others the pools they (or, for a manager,
    their subtree) may pull from."""
    base = (LeadPool.company_id == principal.company_id) & LeadPool.deleted_at.is_(None)
    if principal.is_admin:
        return base
    pools: Select[uuid.UUID] | CompoundSelect[uuid.UUID] = (
        subtree_pool_ids(principal)
        if principal.is_manager and principal.department_path
        else member_pool_ids(principal)
    )
    return base & LeadPool.id.in_(pools)

"""The one visibility rule for feed items.

Visible to the author, the author's managers up the tree, colleagues in the author's
department, the customer's owner and collaborators — and to admins.
"""

from sqlalchemy import ColumnElement, exists, select

from app.auth.principal import Principal
from app.customers.access import subtree_user_ids
from app.customers.models import Collaborator, Customer
from app.feed.models import FeedItem
from app.org.models import User


def feed_visibility(principal: Principal) -> ColumnElement[bool]:
    """SQL condition on FeedItem for what the caller may see."""
    same_company = FeedItem.company_id == principal.company_id
    if principal.is_admin:
        return same_company
    visible = FeedItem.author_id == principal.user_id
    if principal.department_id is not None:
        colleagues = select(User.id).where(
            User.company_id == principal.company_id, User.department_id == principal.department_id
        )
        visible = visible | FeedItem.author_id.in_(colleagues)
    if principal.is_manager and principal.department_path:
        visible = visible | FeedItem.author_id.in_(subtree_user_ids(principal))
    # Scoped like ix_customers_owner (company, owner, … WHERE deleted_at IS NULL): without the
    # scope the planner built the caller's owned-customer list from a full scan (bench/feed.py).
    owns_customer = exists().where(
        Customer.id == FeedItem.customer_id,
        Customer.company_id == principal.company_id,
        Customer.owner_id == principal.user_id,
        Customer.deleted_at.is_(None),
    )
    collaborates = exists().where(
        Collaborator.customer_id == FeedItem.customer_id, Collaborator.user_id == principal.user_id
    )
    return same_company & (visible | owns_customer | collaborates)

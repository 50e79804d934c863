"""Phone privacy (company setting `mask_phones`): who sees a customer's numbers in full.

With the setting on, a customer's phone and its contacts' phones are shown in full only to the
customer's owner, its collaborators, the managers above the owner (their department subtree
holds the owner) and admins; everyone else — a rep or manager looking at a pool customer, which
has no owner until claimed — gets `138****5678`. `PhoneView.phone` / `.phones` is the one place
a customer or contact number is written into a response (get, list, pool, nearby, contacts,
release, transfer, claim); `POST /v1/customers/{id}/phone-reveal` hands one customer's numbers
to the people allowed, audited.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ARRAY, ColumnElement, Uuid, any_, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.customers.access import subtree_user_ids
from app.customers.models import Collaborator, Customer
from app.customers.rules import normalise_phone
from app.org.settings import company_settings

MASK = "*"
FULL_DIGITS = 11  # a mainland mobile (or a landline with its area code)
KEPT_HEAD, KEPT_TAIL = 3, 4


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`: the digits of the number (separators dropped, a +86
    prefix of a mobile too), the first 3 and the last 4 kept when there are 11 or more;
    a shorter number keeps only its last 4 (`62345678` → `****5678`), and one of 4 digits or
    fewer shows none of them. A number without digits is all masked."""
    digits = normalise_phone(phone) or ""
    if len(digits) >= FULL_DIGITS:
        hidden = len(digits) - KEPT_HEAD - KEPT_TAIL
        return digits[:KEPT_HEAD] + MASK * hidden + digits[-KEPT_TAIL:]
    if len(digits) > KEPT_TAIL:
        return MASK * (len(digits) - KEPT_TAIL) + digits[-KEPT_TAIL:]
    return MASK * max(len(digits), KEPT_TAIL)


@dataclass(frozen=True)
class PhoneView:
    """For one response: whether numbers are masked, and the customers shown in full."""

    masking: bool
    shown: frozenset[uuid.UUID] = frozenset()

    def sees(self, customer_id: uuid.UUID) -> bool:
        return not self.masking or customer_id in self.shown

    def phone(self, customer_id: uuid.UUID, phone: str | None) -> str | None:
        if phone is None or self.sees(customer_id):
            return phone
        return mask_phone(phone)

    def phones(self, customer_id: uuid.UUID, phones: Sequence[str]) -> list[str]:
        if self.sees(customer_id):
            return list(phones)
        return [mask_phone(p) for p in phones]


UNMASKED = PhoneView(masking=False)


def sees_in_full(principal: Principal) -> ColumnElement[bool]:
    """SQL: the caller sees this customer's numbers in full (owned, and the caller is the
    owner, a collaborator or a manager above the owner; admins are not asked)."""
    collaborating = exists().where(
        Collaborator.customer_id == Customer.id, Collaborator.user_id == principal.user_id
    )
    allowed = (Customer.owner_id == principal.user_id) | collaborating
    if principal.is_manager and principal.department_path:
        allowed = allowed | Customer.owner_id.in_(subtree_user_ids(principal))
    return Customer.owner_id.is_not(None) & allowed


async def masking_on(session: AsyncSession, principal: Principal) -> bool:
    """The company masks phones, and the caller is not an admin (admins see every number)."""
    if principal.is_admin:
        return False
    return (await company_settings(session, principal.company_id)).mask_phones


async def phone_view(
    session: AsyncSession,
    principal: Principal,
    customer_ids: Iterable[uuid.UUID],
    *,
    owned: Iterable[uuid.UUID] = (),
) -> PhoneView:
    """The view of these customers' numbers for the caller (one query for the settings, one
    for the customers when masking is on). `owned`: those of them the caller is known to own
    (from rows already loaded) — shown in full without asking; only the others are looked up,
    as one array parameter (measured: an `owner=me` page paid ~2 ms building an IN list)."""
    if not await masking_on(session, principal):
        return UNMASKED
    mine = frozenset(owned)
    ids = [i for i in dict.fromkeys(customer_ids) if i not in mine]
    if not ids:
        return PhoneView(masking=True, shown=mine)
    shown = await session.scalars(
        select(Customer.id).where(
            Customer.company_id == principal.company_id,
            Customer.id == any_(literal(ids, ARRAY(Uuid()))),
            sees_in_full(principal),
        )
    )
    return PhoneView(masking=True, shown=mine | frozenset(shown))
